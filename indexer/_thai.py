"""The one Thai analyzer: the same function turns letters and queries into index tokens.

Thai is written without spaces between words, so a search engine that splits on spaces
indexes a whole clause as one token and finds almost nothing. Here text is

1. normalised: Unicode NFC; zero-width characters, soft hyphens and BOMs dropped; the
   private-use Thai glyphs some PDF fonts emit mapped back to real characters; the
   nikhahit + sara aa pair that PDF extraction yields (``ํา``) joined into sara am (``ำ``);
   ``เเ`` (two sara e) read as ``แ``; a tone mark typed before an upper/lower vowel put after
   it; Thai digits made Arabic; Latin letters case-folded;
2. split into runs: Thai letters, numbers (``0019.3``, ``269,000`` -> ``269000``), Latin
   words, and dotted Thai abbreviations (``พ.ศ.`` -> ``พศ``); ``ฯ``, ``ๆ`` and punctuation go;
3. Thai runs segmented into **syllables** by the newmm algorithm (PyThaiNLP's ``newmm`` or
   its Rust port ``nlpo3``, the same engine for index and query) over PyThaiNLP's syllable
   dictionary.

Why syllables and not words: a word dictionary holds compounds (``กรมการพัฒนาชุมชน`` is one
word in PyThaiNLP's dictionary), and a compound indexed whole hides its parts, so a search
for ``ชุมชน`` misses it. Syllables are the finest units every word is made of, and their
boundaries hardly depend on context, so any word or part of a compound a clerk types becomes
the same run of syllables in the letter. Queries keep their words as phrases of syllables
(see ``_query.py``), which keeps them precise.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from importlib.resources import as_file, files
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import cast

from saraban.thai import THAI_MONTHS, THAI_MONTHS_ABBR, read_dates

ENGINES = ("nlpo3", "newmm")
DEFAULT_ENGINE = "nlpo3"

# Thai glyph variants that old PDF fonts place in the Private Use Area (shifted tone marks
# and vowels, ฐ/ญ without their lower part); text extraction copies them as they are.
_PUA_THAI = {
    0xF700: "\u0e10", 0xF701: "\u0e34", 0xF702: "\u0e35", 0xF703: "\u0e36", 0xF704: "\u0e37",
    0xF705: "\u0e48", 0xF706: "\u0e49", 0xF707: "\u0e4a", 0xF708: "\u0e4b", 0xF709: "\u0e4c",
    0xF70A: "\u0e48", 0xF70B: "\u0e49", 0xF70C: "\u0e4a", 0xF70D: "\u0e4b", 0xF70E: "\u0e4c",
    0xF70F: "\u0e0d", 0xF710: "\u0e31", 0xF711: "\u0e4d", 0xF712: "\u0e47", 0xF713: "\u0e48",
    0xF714: "\u0e49", 0xF715: "\u0e4a", 0xF716: "\u0e4b", 0xF717: "\u0e4c", 0xF718: "\u0e38",
    0xF719: "\u0e39", 0xF71A: "\u0e3a",
}  # fmt: skip
# Invisible characters: ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_TRANSLATE = str.maketrans({**_PUA_THAI, **_INVISIBLE})

_TONE = "\u0e48-\u0e4b"
_UPPER_LOWER_VOWEL = "\u0e31\u0e34-\u0e3a\u0e47"
_FIXES = (
    (re.compile(f"\u0e4d([{_TONE}]?)\u0e32"), "\\1\u0e33"),  # ํ + (tone) + า -> (tone) + ำ
    (re.compile(f"\u0e32([{_TONE}])\u0e4d"), "\\1\u0e33"),  # า + tone + ํ (seen in extraction)
    (re.compile("\u0e40\u0e40"), "\u0e41"),  # เ + เ -> แ
    (re.compile(f"([{_TONE}\u0e4c])([{_UPPER_LOWER_VOWEL}])"), "\\2\\1"),  # tone before vowel
    (re.compile(f"([{_TONE}])\\1+"), "\\1"),  # a doubled tone mark
)

_THAI_LETTERS = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e"  # no ฯ ๆ ฿ digits
# Tokens: dotted abbreviations, Thai runs, numbers, words of other scripts; what lies
# between (spaces, punctuation, ฯ, ๆ) is dropped.
_TOKEN_RE = re.compile(
    rf"(?P<abbr>(?<![{_THAI_LETTERS}])(?:[ก-ฮ]{{1,3}}\.){{2,}})"
    rf"|(?P<thai>[{_THAI_LETTERS}]+)"
    r"|(?P<number>[0-9]+(?:[.,:][0-9]+)*)"
    r"|(?P<word>[^\W\d_\u0e00-\u0e7f]+)"
)
# The same cut coarser, and several times faster: a Thai run takes the dotted parts that
# follow it (``พ.ศ.``, and ``นายก.ข.``, which :data:`_TOKEN_RE` reads again on its own).
# It reads text before digits are made Arabic and letters case-folded: only pieces not
# seen before are (a Thai run's spelling is fixed inside the run, so its edges stay).
# A date (``saraban.thai.read_dates``' forms) is one piece, so that the same pass finds the
# dates a letter holds: ``๒๑ พ.ย. ๖๗``, ``21/11/2567``, ``2024-11-21``.
_D = "[0-9๐-๙]"
_YEAR = f"(?:{_D}{{4}}|{_D}{{2}})(?!{_D})"
_MONTHS = "|".join(
    [*THAI_MONTHS, *(r"\.?\s?".join(a.rstrip(".").split(".")) + r"\.?" for a in THAI_MONTHS_ABBR)]
)
_DATE_PIECE = (
    rf"{_D}{{1,2}}(?:\s*/?\s*(?:เดือน\s*)?(?:{_MONTHS})\s*(?:[พค]\s?\.?\s?ศ\.?\s*)?{_YEAR}"
    rf"(?!\.{_D})"
    + "".join(rf"|\s?{s}\s?{_D}{{1,2}}\s?{s}\s?{_YEAR}(?![./-]{_D})" for s in ("/", "-", r"\."))
    + rf"|{_D}{{2}}-{_D}{{1,2}}-{_D}{{1,2}}(?!{_D})(?![./-]{_D}))"
)
_PIECE_RE = re.compile(
    rf"{_DATE_PIECE}"
    rf"|[{_THAI_LETTERS}]+(?:\.(?:[ก-ฮ]{{1,3}}\.)+)?"
    rf"|{_D}+(?:[.,:]{_D}+)*"
    r"|[^\W\d_\u0e00-\u0e7f]+"
)
_THAI_RUN_RE = re.compile(f"[{_THAI_LETTERS}]+")
PAIR = "_"  # joins the two tokens of a pair
_DIGIT_CHARS = "0123456789๐๑๒๓๔๕๖๗๘๙"
_ARABIC_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THOUSANDS_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


# Quick checks: most text needs none of the fixes, and finding that out is cheaper than
# running them (ํ and เเ are looked for as plain substrings first).
NEEDS_CLEANING = re.compile("[\uf700-\uf71a\u200b-\u200d\u2060\ufeff\u00ad]")  # no digits
_NEEDS_FIXES = re.compile(f"[{_TONE}\u0e4c][{_UPPER_LOWER_VOWEL}{_TONE}]")
_THAI_DIGITS = tuple((chr(0x0E50 + i), str(i)) for i in range(10))


def repair(
    text: str,
    table: dict[int, str | None],
    needs: re.Pattern[str] = NEEDS_CLEANING,
    *,
    fix: bool = True,
) -> str:
    """NFC, the character table, and (``fix``) the spelling fixes, each only where the text
    needs it."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if needs.search(text):
        text = text.translate(table)
    if not fix:
        return text
    if "\u0e4d" in text or "\u0e40\u0e40" in text or _NEEDS_FIXES.search(text):
        for pattern, replacement in _FIXES:
            text = pattern.sub(replacement, text)
    return text


def normalize(text: str) -> str:
    """Text as the analyzer reads it (see the module docstring); lengths may change."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = repair(text, _TRANSLATE)
    # Thai digits one by one: ``str.translate`` looks every character up in a dict, ten
    # scans for a character are many times faster on a letter.
    for thai, arabic in _THAI_DIGITS:
        if thai in text:
            text = text.replace(thai, arabic)
    return text.casefold()


# ---- segmentation engines ---------------------------------------------------------------------

_SYLLABLES_FILE = "syllables_th.txt"  # PyThaiNLP's syllable list, shipped in pythainlp.corpus
_NLPO3_DICT = "saraban-syllables-1"
_load_lock = threading.Lock()
_keep_files: list = []  # context managers of extracted package files, kept open for nlpo3


def _nlpo3_segmenter() -> Callable[[str], list[str]]:
    """nlpo3 over the syllable dictionary; nlpo3 ignores PyThaiNLP's ``custom_dict`` and
    reads a dictionary only through its own ``load_dict`` (once per process)."""
    import nlpo3

    with _load_lock:
        if not _keep_files:
            context = as_file(files("pythainlp.corpus").joinpath(_SYLLABLES_FILE))
            path = context.__enter__()
            message, ok = nlpo3.load_dict(str(path), _NLPO3_DICT)
            if not ok and "already" not in message:
                raise RuntimeError(f"nlpo3 could not load the syllable dictionary: {message}")
            _keep_files.append(context)

    def segment(run: str) -> list[str]:
        return nlpo3.segment(run, _NLPO3_DICT)

    return segment


def _newmm_segmenter() -> Callable[[str], list[str]]:
    """PyThaiNLP's newmm over the same syllable dictionary (pure Python, ~6x slower)."""
    from pythainlp.corpus import thai_syllables
    from pythainlp.tokenize import word_tokenize
    from pythainlp.util import dict_trie

    trie = dict_trie(thai_syllables())

    def segment(run: str) -> list[str]:
        return word_tokenize(run, custom_dict=trie, engine="newmm", keep_whitespace=False)

    return segment


@cache
def _segmenter(engine: str) -> Callable[[str], list[str]]:
    if engine not in ENGINES:
        raise ValueError(f"unknown tokenizer engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return _nlpo3_segmenter() if engine == "nlpo3" else _newmm_segmenter()


# What a piece of text (a Thai run, a number, a word, a date) becomes: its tokens joined by
# spaces, the pairs of adjacent tokens inside it, its last token, the date it writes
# (yyyymmdd, or ""), and its part of a chain of pairs (:func:`paired`): ``first inside
# last_``, which ends the pair across from the piece before and starts the one to the next.
# A piece without tokens is the empty tuple, so that ``filter(None, ...)`` drops it.
Piece = tuple[str, str, str, str, str]
_TOKENS, _INSIDE, _LAST, _DATE, _LINK = (itemgetter(i) for i in range(5))
_NO_TOKENS: Piece = ()  # type: ignore[assignment]
# The pieces seen, per engine. Letters repeat whole clauses (salutations, closings, unit
# names, addresses), so a real archive finds most of its pieces here.
_CACHE_SIZE = 500_000
_pieces: dict[str, dict[str, Piece]] = {}


def clear_cache() -> None:
    """Forget every segmented piece (for measuring the analysis without its cache)."""
    _pieces.clear()


def _tokens_of(missing: list[str], engine: str) -> list[str]:
    """The tokens of pieces not seen before, each joined by spaces: the pieces normalised
    and read one match at a time, but the Thai runs among them segmented in one call, one
    run a line (a line break is never inside a syllable, so each is cut as if alone)."""
    found: list[str] = []
    runs: list[int] = []
    for piece in missing:
        if piece.isdigit():  # a plain number (most pieces not seen before): its digits
            found.append(piece.translate(_ARABIC_DIGITS))
            continue
        piece = normalize(piece)
        if _THAI_RUN_RE.fullmatch(piece):
            runs.append(len(found))
            found.append(piece)
        else:
            found.append(" ".join(_tokens_one_by_one(piece, engine)))
    if runs:
        segment = _segmenter(engine)
        if engine == "nlpo3":
            cut = " ".join(segment("\n".join(found[i] for i in runs))).split("\n")
        else:
            cut = [" ".join(segment(found[i])) for i in runs]
        if len(cut) != len(runs):  # never seen; cut each run alone rather than guess
            cut = [" ".join(segment(found[i])) for i in runs]
        for i, tokens in zip(runs, cut, strict=True):
            found[i] = " ".join(tokens.split())
    return found


def _tokens_one_by_one(text: str, engine: str) -> list[str]:
    """Tokens of normalised text, one match at a time: the rule :func:`analyzed` keeps to,
    used where its pieces need a closer look."""
    segment = _segmenter(engine)
    tokens: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind == "thai":
            tokens.extend(t for t in segment(value) if t.strip())
        elif kind == "number":
            if "," in value and _THOUSANDS_RE.fullmatch(value):
                value = value.replace(",", "")
            tokens.append(value)
        elif kind == "abbr":
            tokens.append(value.replace(".", ""))
        else:
            tokens.append(value)
    return tokens


def default_engine() -> str:
    """The engine when none is named (the setting SARABAN_TOKENIZER is passed down by the
    callers that read the settings)."""
    return DEFAULT_ENGINE


def check_engine(engine: str | None) -> str:
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValueError(
            f"SARABAN_TOKENIZER: unknown tokenizer engine {engine!r}; "
            f"choose one of {', '.join(ENGINES)}"
        )
    return engine


# ---- the analyzer ------------------------------------------------------------------------------


def analyze(text: str, *, engine: str | None = None) -> list[str]:
    """Index and query tokens of ``text``: normalised, Thai split into syllables.

    >>> analyze("ศูนย์ผู้นำจิตอาสา นค ๐๐๑๙.๓/ว ๒๕๖๔")
    ['ศูนย์', 'ผู้', 'นำ', 'จิต', 'อา', 'สา', 'นค', '0019.3', 'ว', '2564']
    """
    return tokens_text(text, engine=engine).split()


def tokens_text(text: str, *, engine: str | None = None) -> str:
    """:func:`analyze`'s tokens joined by single spaces, the way the index takes them."""
    return joined(analyzed(text, engine=engine))


def _piece(piece: str, tokens: str) -> Piece:
    split = tokens.split()
    if not split:
        return _NO_TOKENS
    inside = " ".join(map(PAIR.join, zip(split, split[1:], strict=False)))
    link = f"{split[0]} {inside} {split[-1]}{PAIR}" if inside else f"{split[0]} {split[-1]}{PAIR}"
    date = ""
    if piece[0] in _DIGIT_CHARS and not piece.isdigit():  # every date has more than digits
        found = read_dates(piece)
        if len(found) == 1 and found[0].text == piece:
            day = found[0].date
            date = f"{day.year:04d}{day.month:02d}{day.day:02d}"
    return tokens, inside, split[-1], date, link


def analyzed(text: str, *, engine: str | None = None) -> list[Piece]:
    """The pieces of ``text`` with their tokens (:data:`Piece`), for :func:`joined` and
    :func:`paired`.

    No Python code runs per token or per piece: one regular expression finds the pieces
    (Thai runs, abbreviations, numbers, words), a cache says what each becomes, and the
    callers join its strings; only pieces never seen before are worked on, the Thai runs
    among them segmented in one call. The tokens are those of reading the text one match
    at a time (:func:`_tokens_one_by_one`, the analyzer before it was batched).
    """
    if not text:
        return []
    engine = check_engine(engine)
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    pieces = _PIECE_RE.findall(repair(text, _TRANSLATE, fix=False))
    cache = _pieces.setdefault(engine, {})
    found = list(map(cache.get, pieces))
    if None not in found:
        return list(filter(None, cast(list[Piece], found)))
    missing = list(set(compress(pieces, map(is_, found, repeat(None)))))
    if len(cache) + len(missing) > _CACHE_SIZE:  # start again, with this text's pieces
        cache.clear()
        missing = list(set(pieces))
    cache.update(zip(missing, map(_piece, missing, _tokens_of(missing, engine)), strict=True))
    return list(filter(None, map(cache.__getitem__, pieces)))


def dates_of(pieces: list[Piece]) -> list[str]:
    """The dates the pieces write (yyyymmdd), each once, in order."""
    return list(dict.fromkeys(filter(None, map(_DATE, pieces))))


def joined(pieces: list[Piece]) -> str:
    """The tokens of :func:`analyzed` pieces, joined by spaces."""
    return " ".join(map(_TOKENS, pieces))


def paired(pieces: list[Piece]) -> str:
    """Every pair of adjacent tokens (``จิต_อา``), joined by spaces: those inside each
    piece and those across two pieces, in one join of cached strings. Each piece's link
    (``first inside last_``) ends the pair begun by the piece before and begins the next;
    the first piece begins with its inside pairs, and the last link's ``last_`` is cut."""
    if len(pieces) < 2:
        return pieces[0][1] if pieces else ""
    first = pieces[0]
    chain = "".join(map(_LINK, pieces[1:]))
    chain = chain[: -len(pieces[-1][2]) - 2]  # the last piece's " last_"
    return f"{first[1]} {first[2]}{PAIR}{chain}" if first[1] else f"{first[2]}{PAIR}{chain}"


def syllable_edges(run: str, engine: str | None = None) -> frozenset[int]:
    """Offsets in a run of Thai letters (as written) where its syllables begin or end, 0
    and ``len(run)`` included: where a highlight or a cut may fall."""
    return _syllable_edges(run, check_engine(engine))


@lru_cache(maxsize=50_000)  # snippets meet the same runs again and again
def _syllable_edges(run: str, engine: str) -> frozenset[int]:
    edges, at = [0], 0
    for syllable in _segmenter(engine)(run):
        at += len(syllable)
        edges.append(at)
    return frozenset(edges)


def words(text: str, *, engine: str | None = None) -> list[str]:
    """Words of a query (PyThaiNLP's word dictionary, same engine): where its phrases end.

    Used only to group a query's syllables into words; documents are never segmented into
    words, so no dictionary compound can hide its parts.
    """
    from pythainlp.tokenize import word_tokenize

    engine = check_engine(engine)
    return [w for w in word_tokenize(text, engine=engine, keep_whitespace=False) if w.strip()]


def key(text: str, *, engine: str | None = None) -> str:
    """Spacing-, dot- and digit-independent form of a term: its tokens joined."""
    return "".join(analyze(text, engine=engine))
