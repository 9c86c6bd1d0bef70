"""Thai OCR confusions put right before the letter parser reads the text.

What Tesseract gets wrong in Thai letters, and what is done about it:

- **Encoding** of what it read right: ``ํา`` (NIKHAHIT + SARA AA) for ``ำ``, a tone mark
  before its vowel, ``เเ`` for ``แ``: put in standard order (:func:`normalise`).
- **Look-alike letters and marks** (``ำ``/``า``, ``ข``/``ช``, ``ด``/``ต``, ``ี``/``ิ``,
  ``ื``/``ึ``, a tone mark or ``์`` lost) and **spaces inside words**: a stretch of text that
  equals a word of the letter's vocabulary once these confusions are ignored is replaced
  by that word (:func:`correct_text`). The vocabulary is what a letter is made of: the
  parser's labels (``เรื่อง``, ``สิ่งที่ส่งมาด้วย``, ...), the months, the province and district
  names (geothai), and the government terms of the search index
  (``indexer/data/terms.txt``). Words outside it are left as read: a wrong correction is
  worse than none, so only stretches of at least four letters (after the confusions are
  ignored) are replaced, and the parser's short labels only at the start of a line.
- **The era** before a year: ``พศ.``, ``พ.ศ``, ``พ. ศ.`` before four digits are ``พ.ศ.`` (and
  ``ค.ศ.``): a dot is a speck Tesseract drops or reads into the letter beside it.
- **Digits**: Latin ``o``/``O`` amid Thai digits is ``๐``. (The digits themselves are read
  again from the image before this: :mod:`._digits`.)
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.resources import files

__all__ = ["confusion_key", "correct_text", "normalise", "vocabulary"]

# Labels the parser reads at the start of a line (archive/importer/_parsing.py), and words of the
# stamps and closings around them.
LINE_LABELS = (
    "ที่",
    "เรื่อง",
    "เรียน",
    "กราบเรียน",
    "อ้างถึง",
    "สิ่งที่ส่งมาด้วย",
    "สำเนาส่ง",
    "ส่วนราชการ",
    "วันที่",
    "บันทึกข้อความ",
    "ด่วนที่สุด",
    "ด่วนมาก",
    "ด่วน",
    "ลับที่สุด",
    "ลับมาก",
    "ลับ",
    "ขอแสดงความนับถือ",
    "จึงเรียนมาเพื่อโปรดทราบ",
    "จึงเรียนมาเพื่อโปรดพิจารณา",
    "จึงเรียนมาเพื่อทราบ",
    "จึงเรียนมาเพื่อพิจารณา",
    "จึงเรียนมาเพื่อโปรดทราบและพิจารณา",
    "จึงเรียนมาเพื่อพิจารณาดำเนินการ",
    "จึงเรียนมาเพื่อโปรดพิจารณาดำเนินการต่อไป",
    "ปฏิบัติราชการแทน",
    "รักษาราชการแทน",
    "ผู้ว่าราชการจังหวัด",
    "นายอำเภอ",
    "โทรศัพท์",
    "โทรสาร",
    "ไปรษณีย์อิเล็กทรอนิกส์",
)
WORDS = (
    "จังหวัด",
    "อำเภอ",
    "ตำบล",
    "ศาลากลางจังหวัด",
    "ที่ว่าการอำเภอ",
    "ถนน",
    "ประจำปีงบประมาณ",
    "ดำเนินการ",
    "ดำเนินงาน",
    "รายละเอียด",
    "ประชาสัมพันธ์",
    "จำนวน",
    "ฉบับ",
    "ทุกอำเภอ",
    "ผู้ประสานงาน",
    "พัฒนาการจังหวัด",
    "พัฒนาชุมชน",
    "นายก",
    "องค์การบริหารส่วนจังหวัด",
    "องค์การบริหารส่วนตำบล",
    "เทศบาล",
)
MIN_KEY_LETTERS = 4

_TONES = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e47"  # ่ ้ ๊ ๋ ์ ็: thin marks OCR often loses
_KEY_MAP = str.maketrans(
    {
        "ำ": "า",
        "ํ": None,
        "ช": "ข",
        "ต": "ด",
        "ี": "ิ",
        "ื": "ึ",
        **dict.fromkeys(_TONES, None),
        " ": None,
    }
)
_FIXES = (
    (re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32"), "\\1\u0e33"),  # ํ (tone) า -> ำ
    (re.compile("\u0e32([\u0e48-\u0e4b])\u0e4d"), "\\1\u0e33"),
    (re.compile("\u0e40\u0e40"), "\u0e41"),  # เเ -> แ
    (re.compile("([\u0e48-\u0e4c])([\u0e31\u0e34-\u0e3a\u0e47])"), "\\2\\1"),  # tone first
    (re.compile("([\u0e48-\u0e4c])\\1+"), "\\1"),  # a doubled mark
    (re.compile("([\u0e31\u0e34-\u0e3a])\\1+"), "\\1"),
)
_THAI_DIGIT_NEAR_O = re.compile("(?<=[๐-๙])[oO]|[oO](?=[๐-๙])")
# The era before a year, พ.ศ. (or ค.ศ.), with a dot lost or read into the letter beside it
# ("พศ.๒๕๖๘", "พ.ศ ๒๕๖๘"): no Thai word is spelt so before four digits.
_ERA_RE = re.compile(r"(?<![\u0e01-\u0e4e])([พค]) ?\.? ?ศ(?: ?\.)?(?= ?[๐-๙0-9]{4}(?![๐-๙0-9]))")


def normalise(text: str) -> str:
    """Standard Unicode order of what was read (NFC, ``ำ`` whole, marks after vowels)."""
    text = unicodedata.normalize("NFC", text)
    for pattern, replacement in _FIXES:
        text = pattern.sub(replacement, text)
    return text


def confusion_key(text: str) -> str:
    """``text`` with every OCR confusion above made the same: two readings of one printed
    word have one key."""
    return text.translate(_KEY_MAP)


@cache
def vocabulary() -> tuple[dict[str, str], dict[str, str]]:
    """(key -> word) for words found anywhere and for labels found at a line start."""
    import geothai

    words: set[str] = set(WORDS)
    for province in geothai.provinces():
        words.add(province.name_th)
        words.add("จังหวัด" + province.name_th)
        for district in geothai.districts(province.code):
            words.add(district.name_th)
            words.add("อำเภอ" + district.name_th)
    terms = files("saraban.indexer").joinpath("data", "terms.txt").read_text(encoding="utf-8")
    for line in terms.splitlines():
        term = line.strip()
        if term and not term.startswith("#"):
            words.add(term)
    from saraban.thai import THAI_MONTHS

    words.update(THAI_MONTHS)
    words.update(label for label in LINE_LABELS if len(confusion_key(label)) >= 4)
    anywhere: dict[str, str] = {}
    ambiguous: set[str] = set()
    for word in sorted(words):
        key = confusion_key(word)
        if len(key) < MIN_KEY_LETTERS:
            continue
        if key in anywhere and anywhere[key] != word:
            ambiguous.add(key)  # two words that OCR cannot tell apart: correct neither
        anywhere[key] = word
    for key in ambiguous:
        del anywhere[key]
    starts = {confusion_key(label): label for label in LINE_LABELS}
    return anywhere, starts


def _keyed(line: str) -> tuple[str, list[int]]:
    """The key of ``line`` and, for each key character, its index in ``line``."""
    key: list[str] = []
    where: list[int] = []
    for index, char in enumerate(line):
        mapped = char.translate(_KEY_MAP)
        for c in mapped:
            key.append(c)
            where.append(index)
    return "".join(key), where


def _span_end(line: str, index: int) -> int:
    """Past the character at ``index`` and the marks that sit on it."""
    index += 1
    while index < len(line) and line[index] in _TONES + "ํ":
        index += 1
    return index


def _correct_line(line: str, anywhere: dict[str, str], starts: dict[str, str]) -> str:
    key, where = _keyed(line)
    if not key:
        return line
    replacements: list[tuple[int, int, str]] = []
    taken = [False] * len(key)
    # A line-start label (ที่, เรื่อง, เรียน ...): the key of the line's first letters.
    stripped = len(line) - len(line.lstrip())
    for label_key in sorted(starts, key=len, reverse=True):
        if key.startswith(label_key) and (not where or where[0] == stripped):
            end = _span_end(line, where[len(label_key) - 1])
            following = line[end : end + 1]
            # the label must end there: a space, a digit or a letter after a label word
            label = starts[label_key]
            if line[stripped:end] != label and following and not following.isspace():
                # a label run into the next word ("ทีนค"): keep them apart
                replacements.append((stripped, end, label + " "))
            elif line[stripped:end] != label:
                replacements.append((stripped, end, label))
            for i in range(len(label_key)):
                taken[i] = True
            break
    for word_key in sorted(anywhere, key=len, reverse=True):
        start = key.find(word_key)
        while start >= 0:
            stop = start + len(word_key)
            if not any(taken[start:stop]):
                begin = where[start]
                end = _span_end(line, where[stop - 1])
                if line[begin:end] != anywhere[word_key]:
                    replacements.append((begin, end, anywhere[word_key]))
                for i in range(start, stop):
                    taken[i] = True
            start = key.find(word_key, stop)
    for begin, end, word in sorted(replacements, reverse=True):
        line = line[:begin] + word + line[end:]
    return line


def correct_text(text: str) -> str:
    """OCR text with the confusions above put right, line by line (layout kept)."""
    anywhere, starts = vocabulary()
    text = normalise(text)
    text = _THAI_DIGIT_NEAR_O.sub("๐", text)
    text = _ERA_RE.sub(r"\1.ศ.", text)
    return "\n".join(_correct_line(line, anywhere, starts) for line in text.split("\n"))
