"""Reading the parts of a letter from its text, by the rules of the format (section 1 of
the reference): whatever the parser had to guess goes to ``needs_review`` with a note
saying why."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

from saraban.archive.importer._text import (
    COLUMNS_RE,
    DIGIT,
    PAGE_NUMBER_RE,
    SPACES_RE,
    clean,
    flatten,
)
from saraban.letter import lint, new_letter, validate
from saraban.thai import (
    THAI_MONTHS,
    THAI_MONTHS_ABBR,
    DateMention,
    ThaiInputError,
    find_ref_nos,
    find_thai_dates,
    parse_ref_no,
    parse_thai_date,
    read_dates,
    to_arabic_digits,
)

# --------------------------------------------------------------------------- result


@dataclass
class ImportResult:
    """The letter document read from a file, and what a clerk should check.

    ``needs_review`` lists dotted field paths ("date", "signer.name", "references.0") whose
    value the parser guessed or could not find; ``notes`` says why, in Thai and English.
    """

    letter: dict
    needs_review: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Review:
    """Collects needs_review paths (each once, in order) and notes."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.notes: list[str] = []

    def flag(self, path: str, th: str, en: str) -> None:
        if path not in self.fields:
            self.fields.append(path)
        self.note(f"{path}: {th} / {en}")

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


# --------------------------------------------------------------------------- lines


def _am(pattern: str) -> str:
    """Let a keyword match with ``ำ`` and ``า`` read for each other: PDF text layers often
    lose the NIKHAHIT of SARA AM ("จำนวน" extracts as "จานวน"), and a PDF whose one glyph
    draws both may give ``ำ`` for every ``า`` ("โทรสำร"). Only the matching is lenient; text
    is kept. (The pattern must not hold ``ำ`` or ``า`` inside a ``[...]`` class.)"""
    return "".join("[ำา]" if char in "ำา" else char for char in pattern)


# More characters than one printed line of an A4 letter holds (about 70 at 16 pt): such a
# line is a whole paragraph that the extraction (or a DOCX) already joined.
MAX_PRINTED_LINE = 110
# The word(s) that start the next page, printed at the bottom right: "/๔. วิเคราะห์...".
_CONTINUATION_RE = re.compile(r"^/\s*\S.{0,60}?(?:\.{2,}|…)\s*$")
_SEPARATOR_RE = re.compile(r"^[-–—―_=.·*~\s]{3,}$")
_SECRECY_WORDS = ("ลับที่สุด", "ลับมาก", "ลับ")
_URGENCY_WORDS = ("ด่วนที่สุด", "ด่วนมาก", "ด่วน")


# A stamp word read with one letter wrong once the OCR confusions are ignored (tone marks
# lost, ``ี``/``ิ``: a scan's "ดวนทสุด", "ลับมก"; two in the longest: "ด่วนทสด") is still that
# word: the closed vocabulary of urgency and secrecy has no other word so close (a reading
# as close to two of them is neither), and only the longer words are taken so ("ด่วน" and
# "ลับ" are that close to ordinary words: "ด่าน", "ลบ").
_STAMP_WORDS = _URGENCY_WORDS + _SECRECY_WORDS
MIN_TOLERANT_STAMP = 6
LONG_STAMP_KEY = 8  # "ด่วนที่สุด", "ลับที่สุด" (keys ดวนทิสุด, ลับทิสุด): two letters off


def _stamp_word(text: str) -> str | None:
    """The urgency or secrecy word ``text`` is: exactly, or one letter off a long one."""
    from rapidfuzz.distance import Levenshtein

    from saraban.archive.importer._ocr_correct import confusion_key

    if text in _STAMP_WORDS:
        return text
    near = [
        word
        for word in _STAMP_WORDS
        if len(word) >= MIN_TOLERANT_STAMP
        and Levenshtein.distance(confusion_key(text), confusion_key(word))
        <= (2 if len(confusion_key(word)) >= LONG_STAMP_KEY else 1)
    ]
    return near[0] if len(near) == 1 else None


_NAME_LETTERS_RE = re.compile("[ก-ฮ]")
_NOT_IN_A_NAME_RE = re.compile(r"[^\u0e01-\u0e4e\u0e50-\u0e590-9\s.,()/\-]")


def _could_be_a_name(text: str) -> bool:
    """Whether a line could name a government body or its address: four Thai consonants
    or more, and nothing but Thai, digits and the punctuation of addresses."""
    return len(_NAME_LETTERS_RE.findall(text)) >= 4 and not _NOT_IN_A_NAME_RE.search(text)


def _stamp_words(text: str) -> list[str] | None:
    """The stamp words of a line above ``ที่`` ("ด่วนที่สุด", "ด่วนที่สุด ลับ"), or None if the
    line is something else. A space OCR put inside one word ("ด่วน ทสุด") is no gap."""
    if whole := _stamp_word(text.replace(" ", "")):
        return [whole]
    words = [_stamp_word(w) for w in text.split(" ")]
    return [w for w in words if w] if words and all(words) else None


@dataclass
class _Line:
    text: str  # without leading/trailing whitespace; inner layout gaps kept
    indent: int  # leading columns (tabs count as 8)
    gap: int  # blank lines right before it
    page: int
    after_break: bool  # page furniture or a page break came right before it

    @property
    def flat(self) -> str:
        """The text with every run of whitespace as one space."""
        return SPACES_RE.sub(" ", self.text).strip()


def _split_lines(text: str) -> tuple[list[_Line], list[str], list[str]]:
    """Lines with their layout facts; page furniture dropped.

    Returns (lines, secrecy marks found, furniture dropped) so the caller can note them.
    """
    lines: list[_Line] = []
    secrecy: list[str] = []
    dropped: list[str] = []
    for page_no, page in enumerate(clean(text).split("\f")):
        gap = 0
        after_break = page_no > 0
        for raw in page.split("\n"):
            stripped = raw.strip()
            if not stripped:
                gap += 1
                continue
            flat = SPACES_RE.sub(" ", stripped)
            if PAGE_NUMBER_RE.match(flat) or _CONTINUATION_RE.match(flat):
                dropped.append(flat)
                after_break = True
                continue
            if flat in _SECRECY_WORDS:  # printed at the top and bottom of every page
                secrecy.append(flat)
                after_break = after_break or bool(lines)
                continue
            expanded = raw.expandtabs(8)
            indent = len(expanded) - len(expanded.lstrip())
            lines.append(_Line(stripped, indent, gap, page_no, after_break))
            gap = 0
            after_break = False
    return lines, secrecy, dropped


# --------------------------------------------------------------------------- patterns

_ITEM_RE = re.compile(rf"^(?P<num>[{DIGIT}]{{1,3}})\s*\.(?![{DIGIT}])\s*(?P<text>.*)$")
# Other starts of a paragraph: sub-numbers (๑.๑, ๑), (๑)), bullets.
_PARAGRAPH_MARK_RE = re.compile(
    rf"^(?:[{DIGIT}]{{1,3}}\s*\.\s*[{DIGIT}]{{1,3}}|\(?[{DIGIT}]{{1,3}}\)|[-–•*○●▪►✓๏]\s?\S)"
)
# Labels of the parts between เรื่อง and the body; each ends a wrapped part above it.
_LABEL_RE = re.compile(_am(r"^(?:เรื่อง|อ้าง\s*ถึง|สิ่ง\s*ที่\s*ส่ง\s*มา\s*ด้วย|สำเนา\s*ส่ง)"))
_REF_LINE_RE = re.compile(r"^ที่\s*[:：]?\s*(?P<rest>.*)$")
_SUBJECT_RE = re.compile(r"^เรื่อง\s*[:：]?\s*(?P<text>.*)$")
_SALUTATION_RE = re.compile(
    _am(
        r"^(?P<salutation>ขอประทานกราบทูล|กราบบังคมทูล|กราบทูล|กราบเรียน|นมัสการ|เรียน|ทูล|ถึง)"
        r"(?:\s*[:：]\s*|\s+|(?=[ก-ฮ]))(?P<addressee>\S.*)$"
    )
)
_REFERENCES_RE = re.compile(r"^อ้าง\s*ถึง\s*[:：]?\s*(?P<text>.*)$")
_ENCLOSURES_RE = re.compile(_am(r"^สิ่ง\s*ที่\s*ส่ง\s*มา\s*ด้วย\s*[:：]?\s*(?P<text>.*)$"))
_MEMO_TITLE_RE = re.compile(_am(r"^บันทึก\s*ข้อความ$"))
_MEMO_UNIT_RE = re.compile(_am(r"^ส่วน\s*ราชการ\s*[:：]?\s*(?P<text>.*)$"))
_MEMO_REF_DATE_RE = re.compile(r"^ที่\s*(?P<ref>.*?)\s*วันที่\s*(?P<date>.*)$")
_MEMO_DATE_RE = re.compile(r"^วันที่\s*(?P<date>.*)$")
_DIRECTIVE_RE = re.compile(_am(r"^(?P<word>คำสั่ง|ประกาศ)\s*(?P<issuer>\S.*)$"))
_DECREE_DATE_RE = re.compile(_am(r"^(?:สั่ง|ประกาศ|ให้ไว้)\s*ณ\s*(?P<date>วันที่.*)$"))
_CLOSING_START_RE = re.compile(r"^จึง")
_CLOSING_INSIDE_RE = re.compile(_am(r"\s(จึง(?:กราบ)?เรียนมา\S*.*)$"))
_COMPLIMENTARY_RE = re.compile(
    _am(
        r"^(?:ขอแสดงความนับถือ(?:อย่างยิ่ง|อย่างสูง)?|ขอนมัสการด้วยความเคารพ(?:อย่างยิ่ง|อย่างสูง)?"
        r"|ขอแสดงความเคารพ(?:อย่างยิ่ง|อย่างสูง)?|ด้วยความเคารพ(?:อย่างยิ่ง|อย่างสูง)?"
        r"|ด้วยความนับถือ(?:อย่างยิ่ง|อย่างสูง)?|ควรมิควรแล้วแต่จะโปรด\S*)$"
    )
)
_NAME_TITLES = (
    "นาย",
    "นาง",
    "นางสาว",
    "น.ส.",
    "ว่าที่",
    "ดร.",
    "ศ.",
    "รศ.",
    "ผศ.",
    "ศาสตราจารย์",
    "รองศาสตราจารย์",
    "ผู้ช่วยศาสตราจารย์",
    "พล",
    "พัน",
    "ร้อย",
    "จ่า",
    "สิบ",
    "พ.",
    "ร.",
    "จ.",
    "ส.",
    "นพ.",
    "พญ.",
    "ทพ.",
    "ภก.",
    "หม่อม",
    "ม.ร.ว.",
    "ม.ล.",
    "พระ",
)
_PAREN_NAME_RE = re.compile(r"^\(\s*(?P<name>[^()\d๐-๙/]{3,80}?)\s*\)$")
_ACTING_RE = re.compile(_am(r"(?:ปฏิบัติราชการแทน|รักษาราชการแทน|รักษาการแทน|ทำการแทน|ราชการแทน)$"))
_UNIT_START_RE = re.compile(
    _am(
        r"^(?:สำนักงาน|สำนัก|กอง|กลุ่มงาน|กลุ่ม|ฝ่าย|งาน|ส่วน|ศูนย์|กรม|แผนก|หน่วย|ที่ทำการ|โรงเรียน"
        r"|โรงพยาบาล|สถานี|สถาบัน|ภาควิชา|คณะ|ศาลากลาง|เทศบาล|องค์การ|สำนักปลัด|ด่าน|วิทยาลัย)"
    )
)
_CONTACT_LABEL_RE = re.compile(
    _am(
        r"(?P<label>โทร(?:ศัพท์)?\.?\s*[/,]\s*(?:โทรสาร|แฟกซ์|fax\.?)"
        r"|โทรสาร|แฟกซ์|fax\.?|โทร(?:ศัพท์)?(?:มือถือ)?\.?|tel\.?|โทรศัพท์"
        r"|ไปรษณีย์อิเล็กทรอนิกส์|อีเมล์?|e-?mail)\s*[:：]?"
    ),
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_COPIES_RE = re.compile(_am(r"^สำเนา\s*ส่ง\s*[:：]?\s*(?P<text>.*)$"))
# A person to call, printed in the contact block under the unit's numbers ("ผู้ประสานงาน
# นางสาว... โทร. ๐๘ ..."). The format has no field for it: it is noted, and the block reads on.
_COORDINATOR_RE = re.compile(_am(r"^(?:ผู้ประสานงาน|ผู้ประสาน|ผู้รับผิดชอบ|ผู้ติดต่อ|เจ้าหน้าที่ผู้รับผิดชอบ)"))
# The label an enclosure carries at its top ("สิ่งที่ส่งมาด้วย ๑", "(เอกสารแนบ ๒)"): where the
# enclosures' text starts, never a footer slogan.
_ENCLOSURE_MARK_RE = re.compile(
    _am(r"^[(\[]?\s*(?:สิ่ง\s*ที่\s*ส่ง\s*มา\s*ด้วย|เอกสาร\s*แนบ)\s*(?:ที่\s*)?[0-9๐-๙]")
)
_QUANTITY_RE = re.compile(_am(rf"(?:^|\s)จำนวน\s*(?P<q>[{DIGIT}][{DIGIT},.]*\s*\S.*?)\s*$"))
_TAB_QUANTITY_RE = re.compile(
    rf"(?:\t|\s{{2,}})(?P<q>[{DIGIT}]+\s*(?:ชุด|ฉบับ|แผ่น|เล่ม|แฟ้ม|หน้า|รายการ|ไฟล์|ภาพ|แผ่นพับ))\s*$"
)
_LEADERS_RE = re.compile(r"\.{3,}|…+")
# No month name holds ``ำ``; a PDF whose one glyph serves ``า`` and ``ำ`` may give ``ำ`` for
# every ``า`` ("ตุลำคม"), so a month matches with either.
_MONTH_RE = re.compile(
    "|".join(
        [month.replace("า", "[าำ]") for month in THAI_MONTHS]
        + [r"\.?\s?".join(map(re.escape, a.rstrip(".").split("."))) for a in THAI_MONTHS_ABBR]
    )
)
_THAI_COMBINING_RE = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")
_QUOTES = "\"“”'‘’«»"


def _number(text: str) -> int | None:
    digits = to_arabic_digits(text)
    return int(digits) if digits.isdigit() else None


def _width(text: str) -> int:
    """Columns a line takes: Thai vowel and tone marks sit above or below a letter."""
    return len(text) - len(_THAI_COMBINING_RE.findall(text))


def _join(parts: list[str]) -> str:
    """Wrapped lines of one paragraph as one string, one space where a line broke."""
    return flatten(" ".join(parts))


def _is_name_like(text: str) -> bool:
    """A person's name as printed under a signature: a title, 2-5 words, no digits."""
    text = flatten(text)
    if not text or re.search(f"[{DIGIT}/:]", text) or len(text) > 80:
        return False
    if not text.startswith(_NAME_TITLES):
        return False
    return 2 <= len(text.split(" ")) <= 5


def _paren_name(text: str) -> str | None:
    m = _PAREN_NAME_RE.match(flatten(text))
    if m is None:
        return None
    name = flatten(m["name"])
    words = name.split(" ")
    return name if 2 <= len(words) <= 6 else None


def _is_contact(text: str) -> bool:
    m = _CONTACT_LABEL_RE.match(flatten(text))
    return m is not None


def _looks_like_date_line(text: str) -> bool:
    text = flatten(text)
    if len(text) > 45:
        return False
    if _MONTH_RE.search(text) is not None and re.search(f"[{DIGIT}]{{2,4}}", text) is not None:
        return not _LABEL_RE.match(text.replace("วันที่", "", 1) if text.startswith("วันที่") else text)
    # 21/11/2567, 2024-11-21, ... (or the shape of one, so a date that does not exist is
    # flagged as unreadable rather than taken for an address line)
    return _written_date(text) is not None or _NUMERIC_DATE_LINE_RE.fullmatch(text) is not None


_NUMERIC_DATE_LINE_RE = re.compile(
    rf"(?:วันที่\s*)?(?:[{DIGIT}]{{1,2}}\s*([/.-])\s*[{DIGIT}]{{1,2}}\s*\1\s*[{DIGIT}]{{2,4}}"
    rf"|[{DIGIT}]{{4}}-[{DIGIT}]{{1,2}}-[{DIGIT}]{{1,2}})\.?"
)


def _written_date(text: str) -> DateMention | None:
    """The one date a short line holds, in any form :func:`read_dates` reads, when the line
    is that date (with at most "วันที่" and a stop around it)."""
    found = read_dates(text)
    if len(found) != 1:
        return None
    rest = (text[: found[0].start] + text[found[0].end :]).replace("วันที่", "")
    return found[0] if len(rest.strip(" .,")) == 0 else None


def _starts_paragraph(text: str) -> bool:
    return bool(
        _ITEM_RE.match(text)
        or _PARAGRAPH_MARK_RE.match(text)
        or _CLOSING_START_RE.match(text)
        or _COMPLIMENTARY_RE.match(text)
    )


# --------------------------------------------------------------------------- parser


class Parser:
    """One pass over the lines of one letter. Each part reader moves ``self.i`` forward."""

    def __init__(self, text: str) -> None:
        self.review = _Review()
        self.lines, secrecy_marks, self.dropped = _split_lines(text)
        self.i = 0
        self.kind: str | None = None
        self.fields: dict = {}
        self.urgency: str | None = None
        self.secrecy: str | None = secrecy_marks[0] if secrecy_marks else None
        self.found: set[str] = set()  # names of the parts recognised
        ends = [ln.indent + _width(ln.text) for ln in self.lines]
        self.width = max(ends, default=0)
        # Wrapped text (a PDF's lines) has many lines that reach the right margin; text with
        # one line per paragraph (the seeds, a DOCX) has not. Line ends mean something only
        # in the first.
        near_margin = sum(1 for end in ends if end >= 0.8 * self.width)
        self.wrapped = near_margin >= max(4, len(ends) // 5)
        self.page_footer = self.take_page_footer()
        self.tail_block = False  # an owner-unit/contact block follows the signature

    def take_page_footer(self) -> str | None:
        """The slogan at the foot of page one when the letter runs on: the last one or two
        short lines of page one, far below the text above them. Removed from the lines so
        the body reads on across the page break."""
        first_page = [k for k, ln in enumerate(self.lines) if ln.page == 0]
        if not first_page or first_page[-1] == len(self.lines) - 1:
            return None
        top = first_page[-1]
        if self.lines[top].gap < 2 and top - 1 in first_page and self.lines[top - 1].gap >= 2:
            top -= 1
        block = self.lines[top : first_page[-1] + 1]
        if top == 0:
            return None
        text = _join([line.flat for line in block])
        slogan = bool(set(text) & set(_QUOTES)) or ":" in text
        # Set apart from the text above, or marked as a slogan: body text running on to
        # page two is neither. A quotation left open runs on to page two: not a footer.
        if not (block[0].gap >= 2 or slogan) or not _quotes_closed(text):
            return None
        for line in block:
            text = line.flat
            slogan = bool(set(text) & set(_QUOTES)) or ":" in text
            if (
                len(text) > 90
                or _starts_paragraph(text)
                or _is_contact(text)
                or (_UNIT_START_RE.match(text) and not slogan)
                or _paren_name(text)
                or _is_name_like(text)
                or _LABEL_RE.match(text)
            ):
                return None
        del self.lines[top : first_page[-1] + 1]
        self.found.add("footer")
        return _join([line.flat for line in block])

    # -- helpers

    def line(self, index: int | None = None) -> _Line | None:
        index = self.i if index is None else index
        return self.lines[index] if 0 <= index < len(self.lines) else None

    def flag(self, path: str, th: str, en: str) -> None:
        self.review.flag(path, th, en)

    # -- the whole letter

    def parse(self) -> ImportResult:
        self.fields = {
            "sender": {"name": None, "address": []},
            "references": [],
            "enclosures": [],
            "body": [],
            "signer": {"name": None, "position": []},
            "owner_unit": [],
            "contact": {"phone": None, "fax": None, "email": None},
            "copies_to": [],
        }
        self.read_head()
        body_end, tail_start = self.find_tail()
        self.read_body(self.i, body_end)
        end = self.read_tail(tail_start)
        self.read_footer_and_attachments(end)
        return self.result()

    # -- head: stamps, ที่ + sender, date, เรื่อง, salutation, อ้างถึง, สิ่งที่ส่งมาด้วย

    def read_head(self) -> None:
        header: list[tuple[int, _Line]] = []  # unrecognised lines before the subject
        ref_at = date_at = None
        subject_read = salutation_read = False
        scanned = 0
        while (line := self.line()) is not None:
            text = line.flat
            scanned += 1
            started = subject_read or salutation_read
            if not started and scanned > 60:
                break  # no letter head in sight: leave the text to the body
            if not started and self.stamp(text):
                self.i += 1
                continue
            if self.kind is None and not started and _MEMO_TITLE_RE.match(text):
                self.kind = "memo"
                self.found.add("memo")
                self.i += 1
                continue
            if (
                self.kind is None
                and ref_at is None
                and not started
                and (m := _DIRECTIVE_RE.match(text))
                and not _SALUTATION_RE.match(text)
            ):
                self.kind = "order" if m["word"].startswith("ค") else "announcement"  # คำสั่ง
                self.fields["sender"]["name"] = m["issuer"].strip()
                self.found.add(self.kind)
                self.i += 1
                continue
            if not started and (m := _MEMO_UNIT_RE.match(text)):
                parts = [m["text"]]
                self.i += 1
                # A long unit wraps: the part runs on to the next label of the memo form.
                while (nxt := self.line()) is not None and not nxt.gap and not nxt.after_break:
                    if any(
                        label.match(nxt.flat)
                        for label in (_REF_LINE_RE, _MEMO_DATE_RE, _SUBJECT_RE, _SALUTATION_RE)
                    ):
                        break
                    parts.append(nxt.flat)
                    self.i += 1
                self.read_memo_unit(" ".join(parts))
                continue
            if not started and ref_at is None and _REF_LINE_RE.match(text):
                ref_at = self.i
                self.read_ref_line(line)
                self.i += 1
                continue
            if not started and date_at is None and (m := _MEMO_DATE_RE.match(text)):
                date_at = self.i
                self.read_date(m["date"])
                self.i += 1
                continue
            if not started and date_at is None and _looks_like_date_line(text):
                date_at = self.i
                self.read_date(text)
                self.i += 1
                continue
            if not subject_read and (m := _SUBJECT_RE.match(text)):
                subject_read = True
                self.read_subject(m["text"])
                continue
            if (
                not salutation_read
                and (subject_read or ref_at is not None)
                and (m := _SALUTATION_RE.match(text))
            ):
                salutation_read = True
                self.fields["salutation"] = m["salutation"]
                self.read_addressee(m["addressee"])
                self.found.add("salutation")
                continue
            if started and not self.fields["references"] and (m := _REFERENCES_RE.match(text)):
                self.read_references(m["text"])
                continue
            if started and not self.fields["enclosures"] and (m := _ENCLOSURES_RE.match(text)):
                self.read_enclosures(m["text"])
                continue
            if subject_read or salutation_read:
                break  # the body starts here
            header.append((self.i, line))
            self.i += 1
        if not (subject_read or salutation_read):
            # Not a letter head: everything is body, and nothing of the head is known.
            self.i = 0
            self.fields["references"] = []
            self.fields["enclosures"] = []
            return
        self.assign_header_lines(header, ref_at, date_at)
        if self.kind is None and self.fields.get("salutation") == "ถึง":
            self.kind = "stamped"  # ถึง + addressee, no salutation: a หนังสือประทับตรา
            self.fields["salutation"] = None

    def read_addressee(self, first: str) -> None:
        """The addressee after the salutation; in wrapped text a long one runs on below."""
        parts = [first]
        previous = self.line()
        self.i += 1
        while (line := self.line()) is not None and previous is not None:
            text = line.flat
            if (
                line.gap
                or line.after_break
                or not self.wrapped
                or self.ends_short(previous)
                or _LABEL_RE.match(text)
                or _starts_paragraph(text)
            ):
                break
            parts.append(text)
            previous = line
            self.i += 1
        self.fields["addressee"] = _join(parts)

    def stamp(self, text: str) -> bool:
        """Urgency and secrecy stamps above ที่: "ด่วนที่สุด", "ลับ", "ด่วนที่สุด ลับ"."""
        if text.startswith("ด่วนภายใน"):  # a deadline, not one of the three levels
            self.urgency = "ด่วน"
            self.found.add("stamp")
            self.flag(
                "urgency",
                f"ตราความเร็วเป็น '{text}' (กำหนดเวลา) จึงบันทึกเป็น ด่วน",
                f"the urgency mark is '{text}' (a deadline); recorded as ด่วน",
            )
            return True
        words = _stamp_words(text)
        if not words:
            return False
        for word in words:
            if word in _URGENCY_WORDS:
                self.urgency = word
            else:
                self.secrecy = word
        self.found.add("stamp")
        if " ".join(words) != text:
            field = "urgency" if any(w in _URGENCY_WORDS for w in words) else "secrecy"
            self.flag(
                field,
                f"อ่านตรา '{text}' ได้ใกล้เคียง '{' '.join(words)}' ที่สุด จึงบันทึกเป็นคำนั้น โปรดตรวจ",
                f"the stamp '{text}' reads closest to '{' '.join(words)}'; recorded so",
            )
        return True

    def read_memo_unit(self, text: str) -> None:
        """``ส่วนราชการ <unit> โทร. <phone>``: the memo's owning unit and its phone."""
        self.kind = self.kind or "memo"
        self.found.add("memo")
        text = _LEADERS_RE.sub(" ", text)
        m = _CONTACT_LABEL_RE.search(text)
        unit = flatten(text[: m.start()] if m else text).rstrip(",")
        if unit:
            self.fields["owner_unit"] = [unit]
        if m:
            self.read_contact_line(text[m.start() :])

    def read_ref_line(self, line: _Line) -> None:
        """``ที่ <number>``; in layout text the sender's name may share the line, on the right.

        A memo prints ``ที่ ... วันที่ ...`` on one line.
        """
        self.found.add("ref_no")
        text = line.text.strip()
        columns = [c.strip() for c in COLUMNS_RE.split(text) if c.strip()]
        first = flatten(columns[0]) if columns else ""
        rest_columns = columns[1:]
        if m := _MEMO_REF_DATE_RE.match(first):
            first = f"ที่ {m['ref']}"
            self.read_date(m["date"])
        elif rest_columns and (m := _MEMO_DATE_RE.match(flatten(rest_columns[0]))):
            rest_columns = rest_columns[1:]
            self.read_date(m["date"])
        rest = _REF_LINE_RE.match(first)
        number_text = flatten(rest["rest"]) if rest else ""
        number_text = _LEADERS_RE.sub("", number_text).strip()
        if rest_columns:
            self.fields["sender"]["name"] = flatten(rest_columns[0])
            self.fields["sender"]["address"].extend(flatten(c) for c in rest_columns[1:])
        if not number_text:
            self.fields["ref_no"] = None
            self.flag("ref_no", "บรรทัด ที่ ไม่มีเลขที่หนังสือ", "the ที่ line carries no number")
            return
        try:  # the whole text is a number: a letter's, or a คำสั่ง "๑๒๓/๒๕๖๘"
            found = [(0, len(number_text), parse_ref_no(number_text))]
        except ThaiInputError:
            found = find_ref_nos(number_text)
        if found and found[0][0] == 0:
            start, end, ref = found[0]
            self.fields["ref_no"] = number_text[start:end].strip()
            self.fields["circular"] = ref.circular
            tail = number_text[end:].strip()
            if tail:
                self.flag(
                    "ref_no",
                    f"มีข้อความต่อท้ายเลขที่หนังสือ: '{tail}'",
                    f"text after the reference number: '{tail}'",
                )
            if ref.code and ref.year is not None:
                self.flag(
                    "ref_no",
                    "เลขที่หนังสือมี /ปี ต่อท้าย ซึ่งไม่ใช่แบบของหนังสือภายนอก (เป็นแบบเลขคำสั่ง)",
                    "the number has a /year tail, the form of an order number, not of a letter",
                )
            return
        self.fields["ref_no"] = number_text
        self.fields["circular"] = bool(re.search(r"/\s*ว", number_text))
        self.flag(
            "ref_no",
            f"อ่านเลขที่หนังสือ '{number_text}' ตามรูปแบบไม่ได้ เก็บไว้ตามที่พิมพ์",
            f"'{number_text}' does not read as a reference number; kept as printed",
        )

    def read_date(self, text: str) -> None:
        """The date line, as ISO; unreadable or doubtful dates go to needs_review."""
        self.found.add("date")
        printed = flatten(_LEADERS_RE.sub(" ", text))
        try:  # "ตุลำคม": see _MONTH_RE; no month name, digit or "พ.ศ." holds ``ำ``
            day = parse_thai_date(printed.replace("ำ", "า"))
        except ThaiInputError as exc:
            written = _written_date(printed.replace("ำ", "า"))
            if written is None:
                self.fields["date"] = None
                self.flag(
                    "date",
                    f"อ่านวันที่ '{printed}' ไม่ได้: {exc.th}",
                    f"cannot read '{printed}': {exc.en}",
                )
                return
            self.read_written_date(printed, written)
            return
        self.fields["date"] = day.isoformat()
        if not re.search(f"[{DIGIT}]{{4}}", printed):
            self.flag(
                "date",
                f"วันที่ '{printed}' เขียนปีสองหลัก อ่านได้เป็น {day.isoformat()} โปรดตรวจ",
                f"the date '{printed}' has a two-digit year, read as {day.isoformat()}",
            )
        elif re.search(r"[^\sก-๙0-9.]", printed):
            self.flag(
                "date",
                f"บรรทัดวันที่มีอักขระแปลกปลอม ('{printed}') อ่านได้เป็น {day.isoformat()} โปรดตรวจ",
                f"the date line has stray characters ('{printed}'), read as {day.isoformat()}",
            )

    def read_written_date(self, printed: str, written: DateMention) -> None:
        """A date not in the letter's own form (21/11/2567, 21 พ.ย. 67, an ISO or CE date):
        read, and marked for review when its year could be read two ways."""
        self.fields["date"] = written.date.isoformat()
        if written.era == "CE":
            self.flag(
                "date",
                f"วันที่ '{printed}' เขียนเป็นปี ค.ศ. อ่านได้เป็น {written.date.isoformat()} โปรดตรวจ",
                f"the date '{printed}' is written in the Christian era, read as "
                f"{written.date.isoformat()}",
            )
        elif not re.search(f"[{DIGIT}]{{4}}", written.text):
            self.flag(
                "date",
                f"วันที่ '{printed}' เขียนปีสองหลัก อ่านได้เป็น {written.date.isoformat()} โปรดตรวจ",
                f"the date '{printed}' has a two-digit year, read as {written.date.isoformat()}",
            )

    def read_subject(self, first: str) -> None:
        """เรื่อง and its wrapped lines (until a blank line, a label or an indent)."""
        self.found.add("subject")
        start = self.line()
        parts = [first] if first.strip() else []
        self.i += 1
        while (line := self.line()) is not None:
            text = line.flat
            if line.gap or _LABEL_RE.match(text) or _SALUTATION_RE.match(text):
                break
            if _SEPARATOR_RE.match(text):
                self.i += 1
                break
            directive = self.kind in ("order", "announcement")
            above = self.line(self.i - 1)
            if (
                directive
                and parts
                and (
                    self.rule_closes_subject()
                    or (self.wrapped and above and not self.ends_short(above))
                )
            ):
                # A long centred subject wrapped: the rule line comes right under it, or the
                # line above ran to the right margin.
                parts.append(text)
                self.i += 1
                continue
            if directive and start and line.indent > start.indent:
                break
            if not parts:  # "เรื่อง" alone on its line, the text below
                parts.append(text)
                self.i += 1
                continue
            if self.kind in ("order", "announcement"):
                break  # a directive's subject is one centred line; what follows is text
            parts.append(text)
            self.i += 1
        while (line := self.line()) is not None and _SEPARATOR_RE.match(line.flat):
            self.i += 1
        if self.kind == "memo":  # the printed form's dotted leaders under the text
            parts = [_LEADERS_RE.sub(" ", part) for part in parts]
        self.fields["subject"] = _join(parts) or None
        if not parts:
            self.flag("subject", "ไม่พบข้อความของเรื่อง", "the เรื่อง line is empty")

    def rule_closes_subject(self) -> bool:
        """A directive prints a rule under its subject: when one follows within two lines,
        with no blank line before it, the lines up to it are the subject wrapped."""
        for ahead in range(self.i, self.i + 2):
            line = self.line(ahead)
            if line is None or line.gap or _LABEL_RE.match(line.flat):
                return False
            if _SEPARATOR_RE.match(line.flat):
                return ahead > self.i
        return False

    def read_references(self, first: str) -> None:
        """อ้างถึง: one reference, or several numbered ๑. ๒.; wrapped lines joined."""
        self.found.add("references")
        refs: list[list[str]] = []
        numbered = False
        m = _ITEM_RE.match(first)
        if m:
            numbered = True
            refs.append([m["text"]])
        elif first.strip():
            refs.append([first])
        self.i += 1
        while (line := self.line()) is not None:
            text = line.flat
            m = _ITEM_RE.match(text)
            if m and (numbered or not refs) and _number(m["num"]) == len(refs) + 1:
                numbered = True
                refs.append([m["text"]])
                self.i += 1
                continue
            if _LABEL_RE.match(text) or _starts_paragraph(text) or not refs:
                break
            current = " ".join(refs[-1])
            if line.gap or _ends_with_date(current):
                break
            refs[-1].append(text)
            self.i += 1
        self.fields["references"] = [_join(r) for r in refs if _join(r)]
        for index, ref in enumerate(self.fields["references"]):
            if not _ends_with_date(ref) or not find_ref_nos(ref):
                self.flag(
                    f"references.{index}",
                    "การอ้างถึงไม่ได้อยู่ในรูป หนังสือ ... ที่ ... ลงวันที่ ... โปรดตรวจว่าอ่านครบ",
                    "the reference is not of the form หนังสือ ... ที่ ... ลงวันที่ ...; check it",
                )

    def read_enclosures(self, first: str) -> None:
        """สิ่งที่ส่งมาด้วย: numbered titles with ``จำนวน ๑ ชุด``; quantity may be on its own line."""
        self.found.add("enclosures")
        entries: list[dict] = []  # {"parts": [...], "quantity": str|None}
        numbered = False

        def add(text: str, *, gap: int, hanging: bool = False) -> bool:
            """Take one line; False when it is not part of the enclosures. ``hanging``: an
            indented line of wrapped text, under the title above it."""
            nonlocal numbered
            text = flatten(text) if "\t" not in text else text.strip()
            m = _ITEM_RE.match(flatten(text))
            qm = _QUANTITY_RE.search(text) or _TAB_QUANTITY_RE.search(text)
            quantity_only = qm is not None and not text[: qm.start()].strip()
            if qm is not None and quantity_only and entries and entries[-1]["quantity"] is None:
                entries[-1]["quantity"] = flatten(qm["q"])
                return True
            if m and (numbered or not entries) and _number(m["num"]) == len(entries) + 1:
                numbered = True
                title = text[text.index(".") + 1 :] if "." in text else m["text"]
            elif not entries:
                title = text
            elif not numbered and entries[-1]["quantity"] is None and not gap:
                entries[-1]["parts"].append(text)
                return _set_quantity(entries[-1])
            elif numbered and entries[-1]["quantity"] is None and not gap and not m:
                entries[-1]["parts"].append(text)
                return _set_quantity(entries[-1])
            elif hanging and not gap and not m and not qm:
                # the title wrapped below its quantity, which stands at a tab stop
                quantity = entries[-1]["quantity"]
                entries[-1]["parts"].append(text)
                _set_quantity(entries[-1])
                entries[-1]["quantity"] = entries[-1]["quantity"] or quantity
                return True
            else:
                return False
            entries.append({"parts": [title], "quantity": None})
            return _set_quantity(entries[-1])

        def _set_quantity(entry: dict) -> bool:
            whole = "\t".join(entry["parts"])
            qm = _QUANTITY_RE.search(whole) or _TAB_QUANTITY_RE.search(whole)
            if qm:
                entry["quantity"] = flatten(qm["q"])
                entry["parts"] = [whole[: qm.start()]]
            return True

        if first.strip():
            add(first, gap=0)
        self.i += 1
        while (line := self.line()) is not None:
            text = line.text
            flat = line.flat
            if _LABEL_RE.match(flat) or _CLOSING_START_RE.match(flat):
                break
            if not entries:
                add(text, gap=0)
                self.i += 1
                continue
            if not add(text, gap=line.gap, hanging=self.wrapped and line.indent > 0):
                break
            self.i += 1
        self.fields["enclosures"] = [
            {"title": _join(e["parts"]), "quantity": e["quantity"]}
            for e in entries
            if _join(e["parts"])
        ]
        for index, entry in enumerate(self.fields["enclosures"]):
            if entry["quantity"] is None:
                self.flag(
                    f"enclosures.{index}.quantity",
                    "ไม่พบจำนวน (เช่น จำนวน ๑ ชุด) ของสิ่งที่ส่งมาด้วย",
                    "no quantity (such as จำนวน ๑ ชุด) found for this enclosure",
                )

    def assign_header_lines(
        self, header: list[tuple[int, _Line]], ref_at: int | None, date_at: int | None
    ) -> None:
        """Lines between ที่ and the date are the sender block; others are noted.

        Without a ที่ line, the lines above the date are taken (and flagged); when nothing
        stands between ที่ and the date, lines above ที่ are taken (-raw text can put the
        right-half sender block before the left-half number).
        """
        sender = self.fields["sender"]
        between = [
            (index, line)
            for index, line in header
            if (ref_at is None or index > ref_at) and (date_at is None or index < date_at)
        ]
        guessed = None
        if self.kind in ("order", "announcement"):
            between = []
        elif ref_at is None and between:
            # a scrap of a picture read as text (the Garuda of a scan: "เซ๐", "1 : หพ๐ เฉค")
            # is no government body's name
            between = [(i, line) for i, line in between if _could_be_a_name(line.flat)]
            guessed = (
                "ไม่พบบรรทัด ที่ จึงเดาว่าบรรทัดก่อนวันที่เป็นชื่อส่วนราชการ",
                "no ที่ line; the lines above the date were taken as the sender block",
            )
        elif not between and sender["name"] is None and ref_at is not None:
            between = [(index, line) for index, line in header if index < ref_at]
            if between:
                guessed = (
                    "ชื่อส่วนราชการอยู่เหนือบรรทัด ที่ ในข้อความที่แปลงมา",
                    "the sender block stood above the ที่ line in the extracted text",
                )
        taken = {index for index, _ in between}
        previous: _Line | None = None
        for index, line in header:
            if index not in taken:
                self.review.note(f"ข้ามบรรทัดในหัวหนังสือ / skipped a header line: '{line.flat}'")
            elif sender["name"] is None:
                sender["name"] = line.flat
            elif sender["address"] and previous and self.wrapped and not self.ends_short(previous):
                sender["address"][-1] = _join([sender["address"][-1], line.flat])  # wrapped
            else:
                sender["address"].append(line.flat)
            previous = line
        if sender["name"] is not None:
            self.found.add("sender")
        if guessed and between:
            self.flag("sender.name", *guessed)

    # -- tail: closing, complimentary close, signer, owner unit, contact, footer

    def find_tail(self) -> tuple[int, int]:
        """(end of the body incl. closing paragraph, first line of the signature part).

        The complimentary close is the anchor of an external letter; directives end their
        text at ``สั่ง/ประกาศ ณ วันที่``; memos and stamped letters at the signature name.
        """
        start = self.i
        if self.kind == "stamped":
            return self.find_stamped_tail(start)
        directive = self.kind in ("order", "announcement")
        for index in range(start, len(self.lines)):
            text = self.lines[index].flat
            if not directive and _COMPLIMENTARY_RE.match(text):
                self.fields["complimentary_close"] = text
                self.found.add("complimentary_close")
                return index, index + 1
            if directive and (m := _DECREE_DATE_RE.match(text)):
                self.read_date(m["date"])
                return index, index + 1
        # No complimentary close: the first signature name after a "จึง..." paragraph, or
        # the first name in parentheses.
        closing_seen = False
        for index in range(start, len(self.lines)):
            text = self.lines[index].flat
            if _CLOSING_START_RE.match(text):
                closing_seen = True
            if _paren_name(text) or (closing_seen and _is_name_like(text)):
                return index, index
        return len(self.lines), len(self.lines)

    def find_stamped_tail(self, start: int) -> tuple[int, int]:
        """หนังสือประทับตรา: the text ends above the sending office's name, which stands
        over the red stamp and the date line."""
        for index in range(start, len(self.lines)):
            if _looks_like_date_line(self.lines[index].flat):
                top = max(start, index - 1)  # the office's name, right above the date
                while top - 1 > start and not self.lines[top].gap and index - top < 2:
                    top -= 1
                return top, top
        return len(self.lines), len(self.lines)

    def read_body(self, start: int, end: int) -> None:
        """Paragraphs between the head and the tail; numbered ๑. ๒. runs become item lists."""
        paragraphs = self.paragraphs(start, end)
        if paragraphs and self.kind not in ("order", "announcement"):
            last = paragraphs[-1]
            if _CLOSING_START_RE.match(last):
                self.fields["closing"] = paragraphs.pop()
                self.found.add("closing")
            elif m := _CLOSING_INSIDE_RE.search(last):
                paragraphs[-1] = last[: m.start()].strip()
                self.fields["closing"] = m.group(1).strip()
                self.found.add("closing")
                self.flag(
                    "closing",
                    "คำลงท้ายข้อความ (จึงเรียนมา...) อยู่ในย่อหน้าเดียวกับเนื้อความ จึงแยกออก",
                    "the closing sentence was inside the last paragraph and was split off",
                )
            elif self.fields.get("complimentary_close"):
                self.fields["closing"] = paragraphs.pop()
                self.flag(
                    "closing",
                    "ย่อหน้าสุดท้ายไม่ได้ขึ้นต้นด้วย จึง... จึงเดาว่าเป็นภาคสรุป",
                    "the last paragraph does not start with จึง...; taken as the closing",
                )
        self.fields["body"] = _blocks(paragraphs)

    def paragraphs(self, start: int, end: int) -> list[str]:
        """Join wrapped lines into paragraphs; page furniture between them breaks nothing.

        A paragraph starts after a blank line. In wrapped text (a PDF) it also starts after a
        line that stops short of the margin, when the next line is indented, opens a new
        page, or starts with a number, a bullet or จึง; or at an indented number, or at the
        next number of a list (๓. after ๒.). Otherwise a line that a wrap happens to start
        with "๒." continues the full line above it. In text with one
        line per paragraph (the seeds, a DOCX) it starts at a number, a bullet, an indent, or
        after a line too long to be one printed line.
        """
        paragraphs: list[list[str]] = []
        previous: _Line | None = None
        last_item = 0  # the number of the last item seen: its successor starts a paragraph
        for index in range(start, end):
            line = self.lines[index]
            text = line.flat
            item = _ITEM_RE.match(text)
            number = _number(item["num"]) if item else None
            if previous is None or (line.gap and not line.after_break):
                new = True
            elif number is not None and number == last_item + 1 and last_item:
                new = True
            elif self.wrapped:
                mark = _starts_paragraph(text)
                new = (mark and line.indent > previous.indent) or (
                    self.ends_short(previous)
                    and (line.after_break or line.indent > previous.indent + 1 or mark)
                )
            else:
                new = (
                    _starts_paragraph(text)
                    or line.indent > previous.indent
                    or _width(previous.text) > MAX_PRINTED_LINE
                )
            if new or not paragraphs:
                paragraphs.append([text])
                if number is not None and number in (1, last_item + 1):
                    last_item = number
            else:
                paragraphs[-1].append(text)
            previous = line
        return [_join(p) for p in paragraphs]

    def ends_short(self, line: _Line) -> bool:
        """In wrapped text, a line that stops well before the right margin ends its paragraph."""
        return self.wrapped and line.indent + _width(line.text) < 0.75 * self.width

    def read_tail(self, start: int) -> int:
        """Signer name and position, owner unit, contact, copies; returns the next line."""
        if self.kind == "stamped":
            return self.read_stamped_tail(start)
        i = self.read_signer(start)
        contact_at = None
        for index in range(i, min(len(self.lines), i + 12)):
            if _is_contact(self.lines[index].flat):
                contact_at = index
                break
        stop = contact_at if contact_at is not None else min(len(self.lines), i + 6)
        units: list[int] = []
        index = stop - 1
        while index >= i:
            text = self.lines[index].flat
            if _UNIT_START_RE.match(text) and len(text) <= 120:
                units.insert(0, index)
            elif not units and contact_at is not None and len(text) <= 120:
                if self.lines[index].gap < 2 and not _ENCLOSURES_RE.match(text):
                    units.insert(0, index)
                    self.flag(
                        "owner_unit",
                        f"เดาว่า '{text}' เป็นส่วนราชการเจ้าของเรื่อง",
                        f"'{text}' was taken as the owner unit",
                    )
                else:
                    break
            else:
                break
            if units and self.lines[units[0]].gap >= 3:
                break
            index -= 1
        if contact_at is None:
            # Without a contact block only unit-named lines right after the signer count.
            units = []
            for index in range(i, stop):
                if _UNIT_START_RE.match(self.lines[index].flat):
                    units.append(index)
                else:
                    break
        skipped_from = i
        skipped_to = units[0] if units else (contact_at if contact_at is not None else i)
        for index in range(skipped_from, skipped_to):
            self.review.note(
                "ข้ามข้อความระหว่างตำแหน่งผู้ลงนามกับส่วนราชการเจ้าของเรื่อง / skipped text"
                f" between the signer and the owner unit: '{self.lines[index].flat}'"
            )
        self.tail_block = bool(units) or contact_at is not None
        if units:
            self.fields["owner_unit"] = [self.lines[u].flat for u in units]
            self.found.add("owner_unit")
            i = units[-1] + 1
        else:
            i = skipped_to
        if contact_at is not None:
            i = contact_at
        while (line := self.line(i)) is not None and (
            (contact_at is not None and _is_contact(line.flat)) or _COORDINATOR_RE.match(line.flat)
        ):
            if line.gap >= 3:
                break
            if _COORDINATOR_RE.match(line.flat):
                self.tail_block = True
                self.review.note(
                    "บรรทัดผู้ประสานงานในส่วนติดต่อ ไม่มีช่องเก็บในหนังสือ / a coordinator"
                    f" line in the contact block, which the letter has no field for: '{line.flat}'"
                )
            else:
                self.read_contact_line(line.flat)
            i += 1
        if (line := self.line(i)) is not None and (m := _COPIES_RE.match(line.flat)):
            i = self.read_copies(i, m["text"])
        return i

    def read_signer(self, start: int) -> int:
        """Name (in parentheses below the signature) and position lines; scribbles skipped."""
        i = start
        name_at = None
        window = range(start, min(len(self.lines), start + 6))
        for index in window:
            if _paren_name(self.lines[index].flat):
                name_at = index
                self.fields["signer"]["name"] = _paren_name(self.lines[index].flat)
                break
        if name_at is None:
            for index in window:
                text = self.lines[index].flat
                if _is_name_like(text):
                    name_at = index
                    self.fields["signer"]["name"] = text
                    break
                if _is_contact(text) or _UNIT_START_RE.match(text):
                    break
        if name_at is None:
            if self.kind != "stamped":
                self.flag("signer.name", "ไม่พบชื่อผู้ลงนาม", "no signer name found")
            return i
        self.found.add("signer")
        for index in range(start, name_at):
            self.review.note(
                "ข้ามข้อความเหนือชื่อผู้ลงนาม (น่าจะเป็นลายมือชื่อ) / skipped text above the"
                f" signer's name (a signature read as text?): '{self.lines[index].flat}'"
            )
        i = name_at + 1
        positions: list[str] = []
        acting = False
        while (line := self.line(i)) is not None and len(positions) < 4:
            text = line.flat
            if (
                _is_contact(text)
                or _UNIT_START_RE.match(text)
                or _COPIES_RE.match(text)
                or _ENCLOSURES_RE.match(text)
                or (positions and line.gap >= 2)
                or _paren_name(text)
            ):
                break
            if positions and _ACTING_RE.fullmatch(text):
                positions[-1] = f"{positions[-1]} {text}"
                acting = True
                i += 1
                continue
            positions.append(text)
            i += 1
            if acting:
                break  # the represented position closes the block
            if _ACTING_RE.search(text):
                acting = True
        self.fields["signer"]["position"] = positions
        if not positions:
            self.flag("signer.position", "ไม่พบตำแหน่งผู้ลงนาม", "no signer position found")
        elif not acting and len(positions) > 2:
            self.flag(
                "signer.position",
                "ตำแหน่งผู้ลงนามยาวหลายบรรทัด อาจรวมข้อความอื่นมาด้วย",
                "the signer's position runs over several lines; other text may be mixed in",
            )
        return i

    def read_stamped_tail(self, i: int) -> int:
        """หนังสือประทับตรา: sender's name, (stamp), date, owner unit, contact."""
        lines_before_date: list[str] = []
        while (line := self.line(i)) is not None:
            text = line.flat
            if _looks_like_date_line(text):
                self.read_date(text)
                i += 1
                break
            if _is_contact(text) or len(lines_before_date) > 3:
                break
            lines_before_date.append(text)
            i += 1
        if lines_before_date:
            self.fields["sender"]["name"] = _join(lines_before_date)
            self.found.add("sender")
        units = []
        self.tail_block = True
        while (line := self.line(i)) is not None and _UNIT_START_RE.match(line.flat):
            units.append(line.flat)
            i += 1
        self.fields["owner_unit"] = units
        while (line := self.line(i)) is not None and _is_contact(line.flat):
            self.read_contact_line(line.flat)
            i += 1
        return i

    def read_contact_line(self, text: str) -> None:
        """โทร. / โทรสาร / โทร./โทรสาร / ไปรษณีย์อิเล็กทรอนิกส์, several on a line allowed."""
        self.found.add("contact")
        contact = self.fields["contact"]
        matches = list(_CONTACT_LABEL_RE.finditer(text))
        for n, m in enumerate(matches):
            end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
            value = flatten(text[m.end() : end]).strip(" ,;:")
            label = flatten(m["label"]).lower().replace("ำ", "า")  # "โทรสำร": see _am
            if not value:
                continue
            if label.startswith(("ไปรษณีย์", "อีเมล", "e-mail", "email")):
                email = _EMAIL_RE.search(value)
                contact["email"] = email.group() if email else value
                if email is None:
                    self.flag(
                        "contact.email",
                        f"'{value}' ไม่เหมือนที่อยู่อีเมล",
                        f"'{value}' does not look like an e-mail address",
                    )
            elif re.search(r"[/,]", label):
                contact["phone"] = contact["phone"] or value
                contact["fax"] = contact["fax"] or value
            elif label.startswith(("โทรสาร", "แฟกซ์", "fax")):
                contact["fax"] = contact["fax"] or value
            else:
                contact["phone"] = contact["phone"] or value

    def read_copies(self, i: int, first: str) -> int:
        """สำเนาส่ง and the recipient lines under it."""
        copies = [first] if first.strip() else []
        i += 1
        while (line := self.line(i)) is not None:
            if line.gap or line.after_break or _is_contact(line.flat) or len(line.flat) > 150:
                break
            copies.append(line.flat)
            i += 1
        self.fields["copies_to"] = copies
        return i

    def read_footer_and_attachments(self, i: int) -> None:
        """The first short paragraph after the contact block is the footer slogan, unless it
        looks like the title of an enclosure; the rest is ``attachments_text``."""
        if self.page_footer:
            self.fields["footer"] = self.page_footer
        elif (line := self.line(i)) is not None and self.tail_block:
            candidate = [line]
            j = i + 1
            while (  # a slogan runs to two lines at most; one in quotes is complete
                (nxt := self.line(j)) is not None
                and len(candidate) < 2
                and not nxt.gap
                and not nxt.after_break
                and not (
                    (set(line.flat) & set(_QUOTES) and _quotes_closed(line.flat))
                    or ":" in line.flat
                )
                and not self.names_an_enclosure(nxt.flat)
                and not _ENCLOSURE_MARK_RE.match(nxt.flat)
            ):
                candidate.append(nxt)
                j += 1
            text = _join([c.flat for c in candidate])
            if self.is_footer(text, candidate):
                self.fields["footer"] = text
                self.found.add("footer")
                if not (set(text) & set(_QUOTES) or ":" in text):
                    self.flag(
                        "footer",
                        "เดาว่าข้อความนี้เป็นคำขวัญท้ายหน้า (ไม่มีเครื่องหมายคำพูด)",
                        "taken as the footer slogan, though it has no quotation marks",
                    )
                i = j
        rest = self.lines[i:]
        if rest:
            out: list[str] = []
            for line in rest:
                if out and line.gap:
                    out.append("")
                out.append(line.text)
            self.fields["attachments_text"] = "\n".join(out)

    def is_footer(self, text: str, candidate: list[_Line]) -> bool:
        """Short, not numbered, not the title or the label of an enclosure."""
        if len(text) > 160 or _ITEM_RE.match(text) or _starts_paragraph(text):
            return False
        if _LABEL_RE.match(text) or _ENCLOSURE_MARK_RE.match(text):
            return False
        if any(len(c.flat) > 90 for c in candidate):
            return False
        return not self.names_an_enclosure(text)

    def names_an_enclosure(self, text: str) -> bool:
        """A heading that repeats an enclosure's title starts the enclosures' text."""
        plain = text.strip("*# ")
        for enclosure in self.fields["enclosures"]:
            title = (enclosure.get("title") or "").strip()
            if not title:
                continue
            head = title[: min(len(title), 12)]
            if plain.startswith(head) or title.startswith(plain[:12]):
                return True
            if difflib.SequenceMatcher(None, plain[: len(title)], title).ratio() > 0.6:
                return True
        return False
        return True

    # -- result

    def result(self) -> ImportResult:
        f = self.fields
        kind = self.kind
        if kind is None:
            if f.get("salutation") == "ถึง" and not f.get("complimentary_close"):
                kind = "stamped"
            else:
                kind = "external"
        letter = new_letter(
            kind,
            circular=bool(f.get("circular", False)),
            urgency=self.urgency,
            secrecy=self.secrecy,
            ref_no=f.get("ref_no"),
            sender=f["sender"],
            date=f.get("date"),
            subject=f.get("subject"),
            salutation=f.get("salutation"),
            addressee=f.get("addressee"),
            references=f["references"],
            enclosures=f["enclosures"],
            body=f["body"],
            closing=f.get("closing"),
            complimentary_close=f.get("complimentary_close"),
            signer=f["signer"],
            owner_unit=f["owner_unit"],
            contact=f["contact"],
            footer=f.get("footer"),
            copies_to=f["copies_to"],
            attachments_text=f.get("attachments_text"),
        )
        if kind == "external" and "ref_no" not in self.found:
            self.flag(
                "ref_no",
                "ไม่พบบรรทัด ที่ (หัวหนังสือหน้าแรกอาจหายไปตอนแปลงเป็นข้อความ)",
                "no ที่ line found (the first-page header may have been lost in extraction)",
            )
        self.check_dates(letter)
        for problem in validate(letter):
            self.flag(problem.field, problem.th, problem.en)
        for problem in lint(letter):
            self.review.note(f"{problem.field}: {problem.th} / {problem.en} [{problem.code}]")
        if self.dropped:
            self.review.note(
                f"ตัดเลขหน้าและคำต่อหน้าออก {len(self.dropped)} บรรทัด / dropped"
                f" {len(self.dropped)} page-number or continuation line(s)"
            )
        return ImportResult(letter, self.review.fields, self.review.notes)

    def check_dates(self, letter: dict) -> None:
        """A letter cannot be older than a letter it cites: then its date is misread."""
        if not letter["date"]:
            return
        own = dt.date.fromisoformat(letter["date"])
        for index, ref in enumerate(letter["references"]):
            for found in find_thai_dates(ref):
                if found.date is not None and found.date > own:
                    self.flag(
                        "date",
                        f"วันที่หนังสือ ({letter['date']}) เก่ากว่าหนังสือที่อ้างถึงข้อ {index + 1}"
                        f" ({found.date.isoformat()}) วันที่อาจอ่านผิด",
                        f"the letter's date ({letter['date']}) is older than the letter it cites"
                        f" in references.{index} ({found.date.isoformat()}); it may be misread",
                    )


def _quotes_closed(text: str) -> bool:
    return text.count("“") == text.count("”") and text.count('"') % 2 == 0


def _ends_with_date(text: str) -> bool:
    found = find_thai_dates(text)
    return bool(found) and len(text[found[-1].end :].strip(" .)")) <= 2


def _blocks(paragraphs: list[str]) -> list:
    """Paragraphs -> body blocks. A run ``๑. ๒. ...`` is one ``{"items": [...]}`` block; text
    between two items belongs to the item above it (the renderer numbers the list again,
    so an item must not be split); after the last item, its own sub-items (``๓.๑``, ``๓.๒``
    under ``๓.``) still belong to it; other text after it is a paragraph again."""
    blocks: list = []
    index = 0
    while index < len(paragraphs):
        m = _ITEM_RE.match(paragraphs[index])
        if not (m and _number(m["num"]) == 1):
            blocks.append(paragraphs[index])
            index += 1
            continue
        items = [m["text"]]
        positions = [index]
        expected = 2
        look = index + 1
        while look < len(paragraphs):
            nm = _ITEM_RE.match(paragraphs[look])
            if nm and _number(nm["num"]) == expected:
                positions.append(look)
                items.append(nm["text"])
                expected += 1
            elif nm and _number(nm["num"]) == 1:
                break
            look += 1
        # Rebuild the items with the paragraphs between them.
        last = positions[-1]
        upto = last + 1
        while upto < len(paragraphs) and _is_sub_item_of(paragraphs[upto], expected - 1):
            upto += 1
        positions.append(upto)  # the end of the last item
        merged = []
        for n, pos in enumerate(positions[:-1]):
            parts = [items[n], *paragraphs[pos + 1 : positions[n + 1]]]
            merged.append(flatten(" ".join(parts)))
        blocks.append({"items": merged})
        index = positions[-1]
    return blocks


def _is_sub_item_of(paragraph: str, number: int) -> bool:
    """``๓.๑ ...`` or ``๓.๑.๒ ...`` under item ``๓.``."""
    m = re.match(rf"^([{DIGIT}]{{1,3}})\s*\.\s*[{DIGIT}]", paragraph)
    return m is not None and _number(m[1]) == number


def parse_letter_text(text: str) -> ImportResult:
    """Parse the plain text of a letter (as ``pdftotext`` gives it) into a letter document.

    Never raises on any text: what it cannot find is left empty and listed in
    ``needs_review``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return Parser(text).parse()
