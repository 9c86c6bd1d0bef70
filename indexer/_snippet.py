"""Highlighted snippets: a short window of a letter's own text around what the query found.

The index holds syllables; a snippet shows the letter as written. So the query's phrases
are turned back into patterns over the text (a syllable run matches with or without spaces
between its syllables, Thai or Arabic digits alike, ``ำ`` or ``า``), a reference number or a
date into a pattern of every way it may be written, and the best window is cut from the
stored text. A match counts only where it begins and ends on a syllable's edge: a query's
``ว`` marks the word ``ว``, never the first letter of ``วัน``. The window is cut between
syllables (never inside one, which would start a line with a bare vowel or tone mark).
Everything is HTML-escaped; only ``<mark>`` and ``</mark>`` are added.

Text imported from HTML or word processors may hold markup (``</p> <p>``, ``&nbsp;``):
:func:`strip_markup` takes it out before the letter is analyzed and its text is stored.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from bisect import bisect_right
from collections.abc import Sequence

from saraban.indexer._thai import (
    _INVISIBLE,
    _PUA_THAI,
    _THAI_LETTERS,
    NEEDS_CLEANING,
    check_engine,
    repair,
    syllable_edges,
)
from saraban.thai import THAI_MONTHS, THAI_MONTHS_ABBR, RefNo, be_year

WIDTH = 220
SCAN = 8000
_MAX_SPANS = 16
_BEFORE = 60
_DISPLAY = str.maketrans({**_PUA_THAI, **_INVISIBLE})
_SEPARATOR = r"[\s.\-/]*"
_DIGITS = {str(i): f"[{i}{chr(0x0E50 + i)}]" for i in range(10)}
_THAI_RUN = re.compile(f"[{_THAI_LETTERS}]+")

# ---- markup --------------------------------------------------------------------------------

_BLOCK_TAGS = "p|br|div|li|ul|ol|tr|table|thead|tbody|h[1-6]|hr|blockquote|pre|center"
_INLINE_TAGS = "span|b|i|u|s|strong|em|font|a|img|sup|sub|small|big|strike|td|th|o:p|w:\\w+"
_BLOCK_RE = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^<>]*>", re.IGNORECASE)
_TAG_RE = re.compile(rf"</?(?:{_BLOCK_TAGS}|{_INLINE_TAGS})\b[^<>]*>", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:nbsp|amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-f]{1,6});", re.I)


def strip_markup(text: str) -> str:
    """Text without the HTML that imported text may carry: block tags become line breaks,
    inline tags go (``ศูนย์<b>ผู้นำ</b>`` stays one word), entities become characters.
    Text without tags or entities is returned as it is: ``a < b`` stays."""
    if "<" not in text and "&" not in text:
        return text
    tagged = bool(_TAG_RE.search(text))
    if not tagged and not _ENTITY_RE.search(text):
        return text
    if tagged:
        text = _TAG_RE.sub("", _BLOCK_RE.sub("\n", text))
    return html.unescape(text).replace("\xa0", " ")


def display_text(text: str) -> str:
    """The text as shown: invisible characters and PDF glyph artefacts cleaned, digits and
    letters kept as the letter has them."""
    return repair(text, _DISPLAY, NEEDS_CLEANING)


# ---- patterns ------------------------------------------------------------------------------


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


def _digits(number: int | str, *, zeros: bool = False) -> str:
    """Digits in Thai or Arabic, each; ``zeros``: leading zeros allowed."""
    return ("[0๐]*" if zeros else "") + "".join(_DIGITS[d] for d in str(number))


def ref_pattern(ref: RefNo) -> str:
    """Every way a number may be written: Thai or Arabic digits, any spacing, ว with or
    without its dot (or left out), with or without the year tail."""
    serial = _digits(ref.serial, zeros=True)
    year = rf"(?:\s*/\s*{_digits(ref.year)})" if ref.year else r"(?:\s*/\s*[0-9๐-๙]{4})?"
    if not ref.code:
        return rf"(?<![0-9๐-๙]){serial}\s*/\s*{_digits(ref.year or '')}(?![0-9๐-๙])"
    code = r"\.?\s*".join(map(re.escape, ref.code))
    unit = r"\s*\.\s*".join(_digits(part) for part in ref.unit.split("."))
    return rf"{code}\.?\s*{unit}\s*/\s*(?:ว\.?\s*)?{serial}{year}(?![0-9๐-๙])"


def date_pattern(date: dt.date) -> str:
    """Every way :func:`saraban.thai.read_dates` reads ``date`` written."""
    day, month = _digits(date.day, zeros=True), _digits(date.month, zeros=True)
    be, ce = be_year(date.year), date.year
    year = f"(?:{_digits(be)}|{_digits(ce)}|{_digits(be % 100)}(?![0-9๐-๙]))"
    named = [THAI_MONTHS[date.month - 1], THAI_MONTHS_ABBR[date.month - 1]]
    months = "|".join(r"\.?\s?".join(map(re.escape, n.rstrip(".").split("."))) for n in named)
    era = r"(?:(?:พ|ค)\s?\.?\s?ศ\.?\s*)?"
    return (
        rf"(?<![0-9๐-๙]){day}\s*/?\s*(?:เดือน\s*)?(?:{months})\.?\s*{era}{year}"
        rf"|(?<![0-9๐-๙]){day}\s?([/.-])\s?{month}\s?\1\s?{year}"
        rf"|{_digits(ce)}-{month}-{day}(?![0-9๐-๙])"
    )


_ANY_SYLLABLE = r"[^\s]{1,6}?"


def pattern(
    phrases: Sequence[Sequence[str | None]],
    refs: Sequence[RefNo] = (),
    dates: Sequence[dt.date] = (),
) -> re.Pattern | None:
    """One pattern matching any of the phrases (token sequences; None stands for any one
    syllable), numbers or dates."""
    alternatives = [
        _SEPARATOR.join(_ANY_SYLLABLE if t is None else _token_pattern(t) for t in phrase)
        for phrase in phrases
        if phrase
    ]
    alternatives.sort(key=len, reverse=True)
    # Numbers and dates first: a number is marked whole, not as the words of its parts.
    alternatives[:0] = [ref_pattern(ref) for ref in refs] + [date_pattern(d) for d in dates]
    if not alternatives:
        return None
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


# ---- cutting --------------------------------------------------------------------------------


class _Edges:
    """Syllable edges of a text: every position outside its Thai runs, and inside each run
    the edges of its syllables, segmented when first asked for."""

    def __init__(self, text: str, engine: str) -> None:
        self.text, self.engine = text, engine
        self._runs: list[tuple[int, int]] | None = None
        self._starts: list[int] = []
        self._cut: dict[int, set[int]] = {}

    def __contains__(self, i: int) -> bool:
        """Whether a syllable may begin or end at ``i``."""
        if self._runs is None:
            self._runs = [m.span() for m in _THAI_RUN.finditer(self.text)]
            self._starts = [start for start, _end in self._runs]
        k = bisect_right(self._starts, i) - 1
        if k < 0:
            return True
        start, end = self._runs[k]
        if not start < i < end:
            return True
        if k not in self._cut:
            edges = syllable_edges(self.text[start:end], self.engine)
            self._cut[k] = {start + edge for edge in edges}
        return i in self._cut[k]

    def before(self, i: int, floor: int = 0) -> int:
        """The nearest edge at or before ``i`` (not before ``floor``)."""
        while i > floor and i not in self:
            i -= 1
        return i


def _window(text: str, spans: list[tuple[int, int]], edges: _Edges) -> tuple[int, int, int]:
    """(score, start, end) of the best window: the most distinct matches in WIDTH chars,
    starting and ending between syllables (at a space when one is near)."""
    best = (0, 0, min(len(text), WIDTH))
    for i, (start, _end) in enumerate(spans):
        inside = {text[s:e].casefold() for s, e in spans[i:] if e <= start + WIDTH}
        score = len(inside) * 10 + sum(1 for s, e in spans[i:] if e <= start + WIDTH)
        if score > best[0]:
            begin = max(0, start - _BEFORE)
            space = text.rfind(" ", begin - 20, begin + 1) if begin else -1
            begin = space + 1 if space > 0 else edges.before(begin, max(0, begin - 30))
            best = (score, begin, min(len(text), begin + WIDTH))
    score, begin, end = best
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space > begin else max(edges.before(end, end - 30), begin + 1)
    return score, begin, end


def make_snippet(
    texts: Sequence[str], compiled: re.Pattern | None, *, engine: str | None = None
) -> str:
    """HTML: a window of the first of ``texts`` (in order of preference) where the query
    matches, matches marked; the start of the first text when nothing matches.

    Only the first :data:`SCAN` characters of each text are read: a snippet needs one good
    window, and reading whole enclosures for ten hits would cost more than the search.
    """
    present = [t for t in texts if t and t.strip()]
    if not present:
        return ""
    engine = check_engine(engine)
    chosen: tuple[str, int, int, list[tuple[int, int]]] | None = None
    if compiled is not None:
        for raw in present:
            text = display_text(raw[:SCAN])
            edges = _Edges(text, engine)
            spans = []
            for m in compiled.finditer(text):
                if m.end() > m.start() and m.start() in edges and m.end() in edges:
                    spans.append(m.span())
                    if len(spans) == _MAX_SPANS:
                        break
            if spans:
                _score, start, end = _window(text, spans, edges)
                chosen = (text, start, end, spans)
                break
    if chosen is None:
        text = display_text(present[0][: WIDTH * 2])
        _score, start, end = _window(text, [], _Edges(text, engine))
        chosen = (text, 0, end, [])
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
