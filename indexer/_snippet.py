"""Highlighted snippets: a short window of a letter's own text around what the query found.

The index holds syllables; a snippet shows the letter as written. So the query's phrases
are turned back into patterns over the text (a syllable run matches with or without spaces
between its syllables, Thai or Arabic digits alike, ``ำ`` or ``า``) and the best window is cut
from the stored text. Everything is HTML-escaped; only ``<mark>`` and ``</mark>`` are added.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from saraban.indexer._thai import _INVISIBLE, _PUA_THAI, NEEDS_CLEANING, repair

WIDTH = 220
SCAN = 8000
_MAX_SPANS = 40
_BEFORE = 60
_DISPLAY = str.maketrans({**_PUA_THAI, **_INVISIBLE})
_SEPARATOR = r"[\s.\-/]*"
_DIGITS = {str(i): f"[{i}{chr(0x0E50 + i)}]" for i in range(10)}


def display_text(text: str) -> str:
    """The text as shown: invisible characters and PDF glyph artefacts cleaned, digits and
    letters kept as the letter has them."""
    return repair(text, _DISPLAY, NEEDS_CLEANING)


def _token_pattern(token: str) -> str:
    parts = []
    for ch in token:
        if ch in _DIGITS:
            parts.append(_DIGITS[ch])
        elif ch == "ำ":
            parts.append("[ำา]")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


_ANY_SYLLABLE = r"[^\s]{1,6}?"


def pattern(
    phrases: Sequence[Sequence[str | None]], literals: Sequence[str] = ()
) -> re.Pattern | None:
    """One pattern matching any of the phrases (token sequences; None stands for any one
    syllable) or literal strings."""
    alternatives = [
        _SEPARATOR.join(_ANY_SYLLABLE if t is None else _token_pattern(t) for t in phrase)
        for phrase in phrases
        if phrase
    ]
    alternatives += [r"\s*".join(map(re.escape, lit.split())) for lit in literals if lit.strip()]
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def _window(text: str, spans: list[tuple[int, int]]) -> tuple[int, int, int]:
    """(score, start, end) of the best window: the most distinct matches in WIDTH chars."""
    best = (0, 0, min(len(text), WIDTH))
    for i, (start, _end) in enumerate(spans):
        inside = {text[s:e].casefold() for s, e in spans[i:] if e <= start + WIDTH}
        score = len(inside) * 10 + sum(1 for s, e in spans[i:] if e <= start + WIDTH)
        if score > best[0]:
            begin = max(0, start - _BEFORE)
            space = text.rfind(" ", begin - 20, begin + 1) if begin else -1
            if space > 0:
                begin = space + 1
            best = (score, begin, min(len(text), begin + WIDTH))
    return best


def make_snippet(texts: Sequence[str], compiled: re.Pattern | None) -> str:
    """HTML: a window of the first of ``texts`` (in order of preference) where the query
    matches, matches marked; the start of the first text when nothing matches.

    Only the first :data:`SCAN` characters of each text are read: a snippet needs one good
    window, and reading whole enclosures for ten hits would cost more than the search.
    """
    present = [t for t in texts if t and t.strip()]
    if not present:
        return ""
    chosen: tuple[str, int, int, list[tuple[int, int]]] | None = None
    if compiled is not None:
        for raw in present:
            text = display_text(raw[:SCAN])
            spans = []
            for m in compiled.finditer(text):
                if m.end() > m.start():
                    spans.append(m.span())
                    if len(spans) == _MAX_SPANS:
                        break
            if spans:
                _score, start, end = _window(text, spans)
                chosen = (text, start, end, spans)
                break
    if chosen is None:
        text = display_text(present[0][: WIDTH * 2])
        chosen = (text, 0, min(len(text), WIDTH), [])
    text, start, end, spans = chosen
    parts = ["…" if start > 0 else ""]
    position = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        parts.append(html.escape(text[position:s]))
        parts.append(f"<mark>{html.escape(text[s:e])}</mark>")
        position = e
    parts.append(html.escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    return _squeeze("".join(parts))


def _squeeze(snippet: str) -> str:
    """Line breaks and runs of spaces as single spaces (a snippet is one line)."""
    return re.sub(r"\s+", " ", snippet).strip()
