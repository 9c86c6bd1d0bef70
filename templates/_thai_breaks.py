"""Where a printed Thai line may break, as a Thai typesetter would have it.

Thai is written without spaces between words, so the renderer must be told where words end.
PyThaiNLP's ``newmm`` alone cuts names and terms it does not know (``พระปร|เมนทร``,
``ศรีสิ|นทร``, ``อำเภอท่า|บ่อ``, ``จิต|อาสา``) and misreads others (``แนว|ทางการ``); it also
knows nothing of the things a line must not split: a label and its number (``พ.ศ. ๒๕๖๘``,
``ว ๑๒๓๔``, ``ข้อ ๓``), a person's name, an abbreviation, a date.

:func:`break_classes` gives each place between two characters of a text one of three classes:

- ``FREE``: between two words, or after a space: a line may end here;
- ``LOOSE``: between the parts of a compound (``กรม|การพัฒนาชุมชน``, ``อำเภอ|ท่าบ่อ``,
  ``สองแสน|หกหมื่น``): a line ends here only when it would otherwise be loose;
- ``NEVER``: inside a word, a name, an abbreviation, a date, or between a label and its
  number (a word wider than the whole line still breaks: the renderer's last resort).

The words come from one dictionary: PyThaiNLP's word list, every province, district and
subdistrict of geothai, and ``data/thai_breaks.txt`` (titles and ranks, royal names, agency
words, the fixed parts of a letter, and which of them are compounds). Texts are segmented
with nlpo3, the Rust port of ``newmm``, and again with PyThaiNLP's ``newmm`` (a Trie of the
same dictionary) wherever nlpo3 meets a word it does not know, where the two differ: the
same cuts as ``newmm`` alone, in about a third of its time (``benchmarks/line_breaks.py``
compares them). The dictionary is built once a process; the classes of each text are cached.
"""

from __future__ import annotations

import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from saraban.thai import THAI_MONTHS, THAI_MONTHS_ABBR, find_ref_nos, find_thai_dates

__all__ = ["FREE", "LOOSE", "NEVER", "break_classes", "dictionary_words", "segment"]

NEVER = 0
LOOSE = 1
FREE = 2

_DATA_FILE = "thai_breaks.txt"
_SECTIONS = ("words", "compounds", "titles", "labels", "units", "place-prefixes")

# Thai characters that may not start a line: paiyannoi (ฯ) and mai yamok (ๆ).
_NO_BREAK_BEFORE = frozenset("ฯๆ")
# Nominalising prefixes: การดำเนินงาน, ความเรียบร้อย are one word each.
_PREFIXES = ("การ", "ความ")
_THAI_LETTERS = "\u0e01-\u0e4e"  # letters, vowels and marks; not the digits
_ABBREVIATION_RE = re.compile(rf"(?:[{_THAI_LETTERS}]{{1,4}}\.)+")
_NUMBER_RE = re.compile(r"[0-9๐-๙][0-9๐-๙,.:/-]*")
_MONTHS = frozenset(THAI_MONTHS) | frozenset(THAI_MONTHS_ABBR)
_MONTH_RE = re.compile("|".join(map(re.escape, sorted(_MONTHS, key=len, reverse=True))))
# A name: title, then the given name up to a space, then the surname; bounded, so a run of
# text without spaces after a title is not taken for a name.
_GIVEN_NAME_MAX = 24
_SURNAME_MAX = 28


@dataclass(frozen=True)
class _Rules:
    words: frozenset[str]  # every dictionary word, compounds whole
    compounds: dict[str, tuple[int, ...]]  # compound -> offsets of its inner break places
    title_re: re.Pattern[str]
    labels: frozenset[str]
    units: frozenset[str]
    place_prefixes: tuple[str, ...]
    places: frozenset[str]
    stopwords: frozenset[str]


def _read_sections() -> dict[str, list[str]]:
    text = (resources.files("saraban.templates") / "data" / _DATA_FILE).read_text("utf-8")
    sections: dict[str, list[str]] = {name: [] for name in _SECTIONS}
    current: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            if line[1:-1] not in sections:
                raise ValueError(f"{_DATA_FILE}:{number}: unknown section {line}")
            current = sections[line[1:-1]]
        elif current is None:
            raise ValueError(f"{_DATA_FILE}:{number}: an entry before any section")
        else:
            current.append(line)
    return sections


def _place_names() -> set[str]:
    """Every province, district and subdistrict name, current or abolished."""
    import geothai
    from geothai.abolished import abolished_areas

    names = set()
    for province in geothai.provinces():
        names.add(province.name_th)
        for district in geothai.districts(province.code):
            names.add(district.name_th)
            names.add(district.name_th.removeprefix("เขต"))  # Bangkok: เขตดุสิต, ดุสิต
            names.update(s.name_th for s in geothai.subdistricts(district.code))
    names.update(area.name_th for area in abolished_areas())
    # "ปอภาร (ปอพาน)": the name and its other spelling, each a word.
    return {part for name in names for part in re.findall(rf"[{_THAI_LETTERS}]+", name)}


@cache
def _rules() -> _Rules:
    from pythainlp.corpus.common import thai_stopwords, thai_words

    sections = _read_sections()
    compounds = {}
    for entry in sections["compounds"]:
        parts = entry.split("|")
        offsets, position = [], 0
        for part in parts[:-1]:
            position += len(part)
            offsets.append(position)
        compounds["".join(parts)] = tuple(offsets)
    places = frozenset(_place_names())
    own = {
        word
        for name in ("words", "titles", "labels", "units", "place-prefixes")
        for word in sections[name]
        if " " not in word
    }
    words = frozenset(thai_words() | own | compounds.keys() | places)
    titles = sorted(sections["titles"], key=len, reverse=True)
    # Titles may follow each other (ว่าที่ร้อยตรี ดร.); the name starts after the last one.
    title_re = re.compile(
        "(?:"
        + "|".join(map(re.escape, titles))
        + r")(?: ?(?:"
        + "|".join(re.escape(t) for t in titles if t.endswith("."))
        + "))*"
    )
    return _Rules(
        words=words,
        compounds=compounds,
        title_re=title_re,
        labels=frozenset(sections["labels"]),
        units=frozenset(sections["units"]) | _MONTHS,
        place_prefixes=tuple(sorted(sections["place-prefixes"], key=len, reverse=True)),
        places=places,
        stopwords=frozenset(thai_stopwords()),
    )


def dictionary_words() -> frozenset[str]:
    """The segmentation dictionary: PyThaiNLP's words, place names, and our own data."""
    return _rules().words


# --------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------

_NLPO3_NAME = "saraban-line-breaks-1"
_load_lock = threading.Lock()


@cache
def _segmenter() -> Callable[[str], list[str]]:
    """nlpo3 over the dictionary, loaded once per process from a temporary file."""
    import nlpo3

    with _load_lock, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "words.txt"
        path.write_text("\n".join(sorted(dictionary_words())) + "\n", encoding="utf-8")
        message, ok = nlpo3.load_dict(str(path), _NLPO3_NAME)
        if not ok and "already" not in message:
            raise RuntimeError(f"nlpo3 could not load the line-break dictionary: {message}")

    def segment(text: str) -> list[str]:
        return nlpo3.segment(text, _NLPO3_NAME)

    return segment


@cache
def _newmm() -> Callable[[str], list[str]]:
    """PyThaiNLP's newmm over the same dictionary (its Trie takes about a second to build)."""
    from pythainlp.tokenize import word_tokenize
    from pythainlp.util import Trie

    trie = Trie(dictionary_words())

    def segment(text: str) -> list[str]:
        return word_tokenize(text, custom_dict=trie, engine="newmm", keep_whitespace=True)

    return segment


# What may be a word nlpo3 did not know: two Thai letters or more (not digits, ฯ or ๆ).
_UNKNOWN_RE = re.compile("[ก-ฮะ-ฺเ-ๅ][ก-ฮะ-ฺเ-ๅ็-๎]+$")


def segment(text: str) -> list[str]:
    """The words of ``text`` (spaces are tokens of their own), as the line breaker sees them.

    nlpo3 cuts words it does not know differently from PyThaiNLP's newmm, and worse
    (``นา|งก|รรณ์`` for newmm's ``นาง|กรรณ์``: a title split, the name unprotected), so a
    stretch between spaces where nlpo3 finds anything but dictionary words is cut again
    with newmm (spaces end newmm's words too: the same cuts as newmm over the whole text).
    """
    words = dictionary_words()
    tokens: list[str] = []
    stretch: list[str] = []
    for token in [*_segmenter()(text), " "]:
        if not token.isspace():
            stretch.append(token)
            continue
        if any(_UNKNOWN_RE.match(word) and word not in words for word in stretch):
            stretch = _newmm()("".join(stretch))
        tokens += stretch
        tokens.append(token)
        stretch = []
    tokens.pop()
    if "".join(tokens) != text:  # we rely on every character being kept, in order
        raise ValueError(f"the segmenter did not keep the text intact: {text!r}")
    return tokens


# --------------------------------------------------------------------------------------
# Break classes
# --------------------------------------------------------------------------------------


def _is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f"


@cache
def _is_grapheme_start(char: str) -> bool:
    if char in "\u0e33\u0eb3":  # sara am: a letter, but a "SpacingMark" of the grapheme
        return False
    return unicodedata.category(char) not in ("Mn", "Me", "Mc", "Cf")


def _may_break_between(text: str, position: int) -> bool:
    """Whether the characters around ``position`` allow a break at a word boundary."""
    before, after = text[position - 1], text[position]
    if after.isspace():
        return False  # a line breaks after spaces, never before them
    if after in _NO_BREAK_BEFORE or not _is_grapheme_start(after):
        return False  # ศูนย์ฯ, ต่าง ๆ
    if before.isspace():
        return True
    if before.isdigit():
        return False  # ๑,๐๐๐บาท
    if after.isdigit() and unicodedata.category(before).startswith("P"):
        return False  # พ.ศ.๒๕๖๕, ๑/๒๕๖๕
    if (
        _is_thai(before)
        and text[position + 1 : position + 2] == "."
        and not re.match(rf"[{_THAI_LETTERS}]\.", text[position + 2 : position + 4])
    ):
        return False  # โทร. read as โท + ร.: one word still (but ตาม|พ.ร.บ.)
    return True


class _Classes:
    """The break class before each character of a text, lowered by each rule in turn."""

    def __init__(self, text: str, tokens: list[str]) -> None:
        self.text = text
        self.values = [NEVER] * (len(text) + 1)
        self.tokens: list[tuple[int, int]] = []  # (start, end) of each token
        position = 0
        for token in tokens:
            self.tokens.append((position, position + len(token)))
            position += len(token)
        for start, _ in self.tokens[1:]:
            if _may_break_between(text, start):
                self.values[start] = FREE

    def lower(self, position: int, value: int) -> None:
        if 0 < position < len(self.text):
            self.values[position] = min(self.values[position], value)

    def loose(self, position: int) -> None:
        """Make a word boundary inside a compound a loose-line break (if it is a break)."""
        if 0 < position < len(self.text) and _may_break_between(self.text, position):
            self.values[position] = LOOSE

    def never(self, start: int, end: int) -> None:
        """No break inside ``text[start:end]``."""
        for position in range(max(start + 1, 1), min(end, len(self.text))):
            self.values[position] = NEVER


def break_classes(text: str) -> tuple[int, ...]:
    """The class (``NEVER``, ``LOOSE``, ``FREE``) of a line break before each character.

    ``result[i]`` is the class of a break between ``text[i - 1]`` and ``text[i]``; a break
    at a space is the place after it (``result[0]`` and ``result[len(text)]`` are
    ``NEVER``). Apply to plain text (no break hints); cached, so each clause a letter repeats
    costs once.
    """
    return _break_classes(text)


@lru_cache(maxsize=8192)
def _break_classes(text: str) -> tuple[int, ...]:
    if not text.strip():
        return (NEVER,) * (len(text) + 1)
    rules = _rules()
    classes = _Classes(text, segment(text))
    _compound_breaks(classes, rules)
    _number_words(classes)
    _protect_abbreviations(classes, rules)
    _protect_numbers(classes, rules)
    _protect_dates(classes)
    _protect_references(classes)
    _protect_names(classes, rules)
    return tuple(classes.values)


def _words(classes: _Classes) -> Iterable[tuple[int, int, str, int]]:
    """(start, end, word, index) of each token of the text."""
    text = classes.text
    for index, (start, end) in enumerate(classes.tokens):
        yield start, end, text[start:end], index


def _compound_breaks(classes: _Classes, rules: _Rules) -> None:
    """Breaks between the parts of compounds and between a place and the word before it
    (อำเภอ|ท่าบ่อ): loose lines only. A nominalised verb is one word (การดำเนินงาน); where
    newmm's reading of การ is doubtful, the likelier reading's break is a loose-line one."""
    tokens = classes.tokens
    text = classes.text
    for start, end, word, index in _words(classes):
        following = text[end : tokens[index + 1][1]] if index + 1 < len(tokens) else ""
        previous = text[tokens[index - 1][0] : start] if index else ""
        if word in rules.compounds:
            for offset in rules.compounds[word]:
                classes.loose(start + offset)
        for prefix in _PREFIXES:
            if word == prefix and following and _is_thai(following[0]):
                classes.lower(end, NEVER)  # การ|ดำเนินงาน cut by newmm: one word
            elif not word.startswith(prefix) and word.endswith(prefix):
                if previous + word[: -len(prefix)] in rules.words:
                    # newmm's แนว|ทางการ|ขับเคลื่อน, กิจ|กรรมการ|ขับเคลื่อน read better as
                    # แนวทาง|การขับเคลื่อน, กิจกรรม|การขับเคลื่อน: doubtful, so loose only.
                    classes.lower(start, NEVER)
                    classes.loose(end - len(prefix))
                    classes.lower(end, NEVER)
            elif word.startswith(prefix) and word != prefix:
                if previous + prefix in rules.words and word[len(prefix) :] in rules.words:
                    # newmm's โครง|การพัฒนา, ดำเนิน|การตาม read better as โครงการ|พัฒนา,
                    # ดำเนินการ|ตาม.
                    classes.lower(start, NEVER)
                    classes.loose(start + len(prefix))
        if len(following) >= 3 and following in rules.places and following not in rules.stopwords:
            place_prefix = next(
                (p for p in rules.place_prefixes if word == p or word.endswith(p) and p[-1] != "."),
                None,
            )
            if place_prefix is not None and place_prefix.endswith("."):
                classes.lower(end, NEVER)  # อ.ท่าบ่อ
            elif place_prefix is not None:
                classes.loose(end)  # อำเภอ|ท่าบ่อ


_DIGIT_WORDS = frozenset("หนึ่ง สอง สาม สี่ ห้า หก เจ็ด แปด เก้า ยี่ บาท".split())
_MULTIPLIERS = frozenset("สิบ ร้อย พัน หมื่น แสน ล้าน เอ็ด ถ้วน สตางค์".split())


def _number_words(classes: _Classes) -> None:
    """A number in words (สองแสนหกหมื่นเก้าพันบาทถ้วน) breaks only on a loose line, and
    only after a multiplier: สองแสน|หกหมื่น, never สอง|แสน."""
    text = classes.text
    run: list[tuple[int, int, str]] = []
    for start, end, word, _ in [*_words(classes), (len(text), len(text), "", -1)]:
        if word in _DIGIT_WORDS or word in _MULTIPLIERS:
            if run and run[-1][1] != start:
                run = []
            run.append((start, end, word))
            continue
        if len(run) >= 3 and any(w in _MULTIPLIERS for _, _, w in run):
            for (_, _, before), (inner, _, after) in zip(run, run[1:], strict=False):
                if after in _MULTIPLIERS or before not in _MULTIPLIERS:
                    classes.lower(inner, NEVER)
                else:
                    classes.loose(inner)
        run = []


def _protect_abbreviations(classes: _Classes, rules: _Rules) -> None:
    """Keep ``พ.ร.บ.``, ``ผวจ.``, ``โทร.`` whole, and an abbreviation with the word it is
    glued to when that is a place or a name (``จ.หนองคาย``; names: ``_protect_names``)."""
    text = classes.text
    starts = [start for start, _ in classes.tokens]
    for index, start in enumerate(starts):
        match = _ABBREVIATION_RE.match(text, start)
        if match is None or any(
            text[inner : classes.tokens[later][1]].endswith(".")
            and text[inner : classes.tokens[later][1]] in rules.words
            for later, inner in enumerate(starts[index + 1 :], index + 1)
            if inner < match.end()
        ):
            continue  # ตามพ.ร.บ.: the abbreviation is the dictionary's พ.ร.บ., not ตามพ.ร.บ.
        classes.never(start, match.end())
        after = match.end()
        if after < len(text) and _is_thai(text[after]) and match.group() in rules.place_prefixes:
            classes.lower(after, NEVER)


def _number_end(text: str, end: int) -> int:
    """Skip one space after a number or label, if a word follows it."""
    if text[end : end + 1] == " " and text[end + 1 : end + 2].strip():
        return end + 1
    return end


def _protect_numbers(classes: _Classes, rules: _Rules) -> None:
    """A label stays with its number (ข้อ ๓, พ.ศ. ๒๕๖๘, ว ๑๒๓๔, นค ๕๓๐๐๐); a number with
    its unit (๒๖๙,๐๐๐ บาท, ๗ ภาคส่วน, ๑๕ มีนาคม); digit groups together (๐ ๔๒๔๑ ๑๑๘๒)."""
    text = classes.text
    tokens = classes.tokens
    starts = {start: index for index, (start, _) in enumerate(tokens)}
    for _, end, word, _ in _words(classes):
        after = _number_end(text, end)
        if after == len(text) or not text[after].isdigit():
            continue
        if (
            word in rules.labels
            or word.endswith("ที่")
            or word.endswith(".")
            or _is_code(word)
            or word.isdigit()  # digit groups: a phone number
        ):
            classes.never(end - 1, after + 1)
    for match in _NUMBER_RE.finditer(text):
        after = _number_end(text, match.end())
        index = starts.get(after)
        if index is None:
            continue
        unit = text[tokens[index][0] : tokens[index][1]]
        if unit in rules.units or _MONTH_RE.fullmatch(unit):
            classes.never(match.end() - 1, after + 1)


def _is_code(word: str) -> bool:
    """A Thai code of one to three consonants without vowels: ว, นค, กทม."""
    return 0 < len(word) <= 3 and all("ก" <= char <= "ฮ" for char in word)


def _protect_dates(classes: _Classes) -> None:
    """A date never breaks (ลงวันที่ ๒๑ ธันวาคม ๒๕๖๖), except before its year, on a loose
    line."""
    text = classes.text
    for date in find_thai_dates(text):
        classes.never(date.start, date.end)
        months = list(_MONTH_RE.finditer(text, date.start, date.end))
        if months:
            month = months[-1]
            year = _number_end(text, month.end())
            if year > month.end():
                classes.values[year] = LOOSE


def _protect_references(classes: _Classes) -> None:
    """A reference number never breaks, nor leaves the ที่ before it: ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔."""
    text = classes.text
    for start, end, _ in find_ref_nos(text):
        before = text[:start].rstrip(" ")
        if before.endswith("ที่") and start - len(before) <= 1:
            start = len(before) - 1
        classes.never(start, end)


def _protect_names(classes: _Classes, rules: _Rules) -> None:
    """A person's name after a title never breaks, up to the surname: นายพิชิต แสงมหาชัย."""
    text = classes.text
    token_starts = {start for start, _ in classes.tokens}
    for match in rules.title_re.finditer(text):
        start, end = match.span()
        if start not in token_starts and not (start and not _is_thai(text[start - 1])):
            continue  # inside a word
        if end not in token_starts and text[end - 1] != ".":
            continue  # นายอำเภอ: the "title" is the start of a longer word
        given_start = end + (text[end : end + 1] == " ")
        given = re.match(rf"[{_THAI_LETTERS}]+", text[given_start:])
        if given is None or len(given.group()) > _GIVEN_NAME_MAX or _not_a_name(given.group()):
            continue
        name_end = given_start + given.end()
        surname = re.match(rf" ([{_THAI_LETTERS}]+)", text[name_end:])
        if surname and len(surname.group(1)) <= _SURNAME_MAX and _is_surname(surname.group(1)):
            name_end += surname.end()
        classes.never(start, name_end)


def _not_a_name(word: str) -> bool:
    """Whether what follows a title starts like the sentence going on, not a name
    (ถนนอินทร์นาง อำเภอเมือง: นาง ends a street name here)."""
    rules = _rules()
    first = segment(word)[0]
    return first in rules.stopwords or first in rules.labels or first in rules.place_prefixes


def _is_surname(word: str) -> bool:
    """Whether the word after a given name reads as a surname rather than the sentence
    going on (นายพิชิต เป็นผู้ประสานงาน)."""
    from pythainlp.corpus.common import thai_family_names

    if word in thai_family_names():
        return True
    first = segment(word)[0]
    return first not in _rules().stopwords and first not in _rules().labels
