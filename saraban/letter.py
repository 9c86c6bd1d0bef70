"""The letter document (format 1): build a draft, validate it, lint it, load it from a file.

The document is the contract between the clerk's form, the importer, the renderers and the
archive (``letter-format.md``). This module is the one place that decides what a
well-formed document is, so every entry point (web form, CLI, importer) reports the same
problems in the same words.

Two levels of findings, both :class:`saraban.errors.Problem` (field path, stable code, English
and Thai message):

- :func:`validate` returns *errors*: the document breaks the format and must not be rendered
  or issued (wrong type, required part missing for the kind, impossible date, a ``ref_no``
  that does not parse, control characters, ...). It never raises, whatever it is given.
- :func:`lint` returns *warnings*: the document is well-formed but a careful clerk would look
  again (salutation and closing that do not pair, a weekday that does not match its date, a
  cited letter newer than this one, a postcode of another province, ...).

Royal forms of address (``กราบบังคมทูล``, ``ทูล`` ...) are an *error*: they need ราชาศัพท์
wording and layout that this service does not generate, so it refuses rather than produce
a wrong letter to the palace.

:func:`check` validates and returns a normalised deep copy (missing optional keys filled with
their defaults, unknown keys kept: the format says "add keys freely"), or raises
:class:`saraban.errors.InvalidLetter` listing every error.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import json
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from saraban.digits import digit_kinds, printed_digits
from saraban.errors import InvalidLetter, NotFound, Problem
from saraban.thai import (
    THAI_MONTHS,
    THAI_WEEKDAYS,
    RefNo,
    RefNoError,
    ThaiDateError,
    ThaiDateMatch,
    find_ref_nos,
    find_thai_dates,
    fiscal_year,
    parse_ref_no,
    parse_thai_date,
    province_for_code,
    thai_date,
    to_arabic_digits,
    to_thai_digits,
)
from saraban.vocabulary import (
    KINDS,
    LETTER_KINDS,
    MAX_LINE_CHARS,
    SECRECIES,
    URGENCIES,
    can_see,
    visible_levels,
)

__all__ = [
    "FORMAT",
    "KINDS",
    "LETTER_KINDS",
    "CheckedLetter",
    "SECRECIES",
    "URGENCIES",
    "can_see",
    "check",
    "checked",
    "format_problems",
    "letter_characters",
    "lint",
    "load_letter",
    "new_letter",
    "validate",
    "visible_levels",
]

FORMAT = 1


# Sane limits: far above any real letter, low enough that a runaway paste or a hostile
# request is refused with a clear message instead of a 300-page PDF. Each is matched to a
# measured cost (benchmarks/letter_size.py; figures in docs/security.md): the largest letter
# they accept renders its PDF in under 10 s and 500 MB on a 2-core server.
MAX_SUBJECT_CHARS = 1_000
MAX_PARAGRAPH_CHARS = 10_000  # one body paragraph or item, the closing, the footer
MAX_LETTER_CHARS = 100_000  # everything a letter prints, together (about 55 A4 pages)
MAX_ATTACHMENTS_TEXT_CHARS = 2_000_000  # searched, never rendered
MAX_BODY_BLOCKS = 200
MAX_LIST_ENTRIES = 200  # items of a body block
# What references, enclosures and สำเนาส่ง lines cost the renderer grows faster than their
# number (20 enclosures of 500 characters took 4 s, 50 took 34 s); real letters have a few.
MAX_REFERENCES = 10
MAX_REFERENCE_CHARS = 500
MAX_ENCLOSURES = 10
MAX_ENCLOSURE_TITLE_CHARS = 1_000
MAX_COPIES_TO = 20
MAX_COPY_TO_CHARS = 200
MAX_LINES = 20  # address, position and owner-unit lines
MAX_EXTRA_DEPTH = 32  # nesting of values under keys the format does not know
MAX_FILE_BYTES = 16 * 1024 * 1024


def _defaults() -> dict[str, Any]:
    """Every key of format 1 with its empty value, in the order of the contract."""
    return {
        "format": FORMAT,
        "kind": "external",
        "circular": False,
        "urgency": None,
        "secrecy": None,
        "ref_no": None,
        "sender": {"name": None, "address": []},
        "date": None,
        "subject": None,
        "salutation": None,
        "addressee": None,
        "references": [],
        "enclosures": [],
        "body": [],
        "closing": None,
        "complimentary_close": None,
        "signer": {"name": None, "position": []},
        "owner_unit": [],
        "contact": {"phone": None, "fax": None, "email": None},
        "footer": None,
        "copies_to": [],
        "attachments_text": None,
    }


_OBJECT_KEYS = {"sender", "signer", "contact"}
_ENCLOSURE_DEFAULTS = {"title": None, "quantity": None}


# --------------------------------------------------------------------------- building


def new_letter(kind: str = "external", **fields: Any) -> dict:
    """A complete draft of ``kind``: every key present, lists empty, the rest null.

    ``fields`` override the defaults; ``sender``, ``signer`` and ``contact`` given as partial
    objects are merged over their defaults, so ``new_letter(signer={"name": ...})`` still has
    ``signer.position``. Keys the format does not know are kept. The draft is not validated
    (it is meant to be incomplete) but an unknown ``kind`` is refused at once.
    """
    if kind not in KINDS:
        raise InvalidLetter([_unknown_choice("kind", kind, KINDS)])
    doc = _defaults()
    doc["kind"] = kind
    for key, value in fields.items():
        value = copy.deepcopy(value)
        if key in _OBJECT_KEYS and isinstance(value, dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return doc


# --------------------------------------------------------------------------- messages

_JSON_TYPE_NAMES = {  # name -> (English, Thai)
    "null": ("null", "null"),
    "boolean": ("true/false", "ค่าจริง/เท็จ (true/false)"),
    "integer": ("an integer", "จำนวนเต็ม"),
    "number": ("a number", "ตัวเลข"),
    "string": ("a string", "ข้อความ"),
    "list": ("a list", "รายการ (list)"),
    "object": ("an object", "ออบเจกต์ (object)"),
}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def json_type_name(value: object) -> tuple[str, str]:
    """What a JSON value is, for a message: (English, Thai), e.g. ("a string", "ข้อความ")."""
    got = _json_type(value)
    return _JSON_TYPE_NAMES.get(got, (f"a Python {got}", f"ชนิด {got} ของ Python"))


def _shown(value: object, limit: int = 80) -> str:
    """``repr`` of a value echoed in a message, cut short: a message must stay one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrong_type(field: str, expected: Sequence[str], value: object) -> Problem:
    got_en, got_th = json_type_name(value)
    want_en = " or ".join(_JSON_TYPE_NAMES[t][0] for t in expected)
    want_th = " หรือ ".join(_JSON_TYPE_NAMES[t][1] for t in expected)
    return Problem(
        field,
        "wrong_type",
        f"must be {want_en}, not {got_en}",
        f"ต้องเป็น{want_th} ไม่ใช่{got_th}",
    )


def _unknown_choice(field: str, value: object, allowed: Sequence[str]) -> Problem:
    names = {
        "kind": ("kind", "ชนิดหนังสือ"),
        "urgency": ("urgency", "ชั้นความเร็ว"),
        "secrecy": ("secrecy", "ชั้นความลับ"),
    }[field]
    if field == "kind":
        listed_en = ", ".join(allowed)
        listed_th = ", ".join(f"{k} ({LETTER_KINDS[k].thai})" for k in allowed)
    else:
        listed_en = listed_th = ", ".join(allowed)
    null_en, null_th = ("", "") if field == "kind" else (", or null", " หรือ null")
    return Problem(
        field,
        f"unknown_{field}",
        f"unknown {names[0]} {_shown(value)}: use one of {listed_en}{null_en}",
        f"ไม่รู้จัก{names[1]} {_shown(value)} ต้องเป็นหนึ่งใน {listed_th}{null_th}",
    )


def _required(field: str, kind: str | None) -> Problem:
    if kind is None:
        return Problem(field, "required", "required", "ต้องระบุ")
    kind_en, kind_th = LETTER_KINDS[kind].english, LETTER_KINDS[kind].thai
    return Problem(
        field,
        "required",
        f"required for {kind_en}",
        f"ต้องระบุสำหรับ{kind_th}",
    )


def _empty(field: str) -> Problem:
    return Problem(field, "empty", "must not be empty", "ต้องไม่เป็นค่าว่าง")


def format_problems(problems: Sequence[Problem], lang: str = "th") -> str:
    """One line per problem, field first, for a terminal or a log.

    ``signer.name: ต้องระบุสำหรับหนังสือภายนอก [required]``; the code in brackets is stable,
    so a clerk can quote it and a script can grep it.
    """
    if lang not in ("th", "en"):
        raise ValueError(f"unknown language {lang!r}: use 'th' or 'en'")
    lines = []
    for problem in problems:
        message = problem.th if lang == "th" else problem.en
        lines.append(f"{problem.field}: {' '.join(message.splitlines())} [{problem.code}]")
    return "\n".join(lines)


def _too_long(field: str, length: int, limit: int) -> Problem:
    return Problem(
        field,
        "too_long",
        f"too long: {length:,} characters, the limit is {limit:,}",
        f"ยาวเกินไป: {length:,} อักขระ (ไม่เกิน {limit:,} อักขระ)",
    )


def _too_many(field: str, count: int, limit: int) -> Problem:
    return Problem(
        field,
        "too_many",
        f"too many entries: {count:,}, the limit is {limit:,}",
        f"มากเกินไป: {count:,} รายการ (ไม่เกิน {limit:,} รายการ)",
    )


# --------------------------------------------------------------------------- validation

_MISSING = object()
# C0 and C1 control characters except tab and newline; carriage returns included.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_THAI_DIGIT_RE = re.compile(r"[๐-๙]")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Forms of address for the King, the Queen and the royal family (ราชาศัพท์). Salutations for
# the Supreme Patriarch (ขอประทานกราบทูล) are in the appendix table and stay allowed.
_ROYAL_SALUTATION_RE = re.compile(r"\s*(ขอพระราชทาน|กราบบังคมทูล|ขอเดชะ|กราบทูล|ทูล)")
_ROYAL_CLOSE_RE = re.compile(r"โปรดเกล้าโปรดกระหม่อม|ด้วยเกล้าด้วยกระหม่อม")


def _get(doc: dict, path: str) -> object:
    """The value at a dotted path of known object keys, or ``_MISSING``."""
    value: object = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _is_blank(value: object) -> bool:
    if value is _MISSING or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not value
    return False


class _Validator:
    """Collects every error of one document; each check tolerates any value it is given."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    # -- value shapes

    def text(self, field: str, value: object, limit: int) -> str | None:
        """A string or null; returns the string when it is one."""
        if value is None or value is _MISSING:
            return None
        if not isinstance(value, str):
            self.add(_wrong_type(field, ("string", "null"), value))
            return None
        self.characters(field, value, limit)
        return value

    def characters(self, field: str, value: str, limit: int) -> None:
        if len(value) > limit:
            self.add(_too_long(field, len(value), limit))
        if match := _CONTROL_RE.search(value):
            code_point = f"U+{ord(match.group()):04X}"
            where = match.start() + 1
            self.add(
                Problem(
                    field,
                    "control_char",
                    f"control character {code_point} at character {where}"
                    " (only tab and newline are allowed)",
                    f"มีอักขระควบคุม {code_point} ที่อักขระตัวที่ {where} (ใช้ได้เฉพาะแท็บและการขึ้นบรรทัดใหม่)",
                )
            )
        if match := _SURROGATE_RE.search(value):
            code_point = f"U+{ord(match.group()):04X}"
            where = match.start() + 1
            self.add(
                Problem(
                    field,
                    "bad_character",
                    f"unpaired surrogate {code_point} at character {where} is not valid text",
                    f"อักขระ {code_point} ที่อักขระตัวที่ {where} ไม่ใช่ข้อความ Unicode ที่ถูกต้อง",
                )
            )

    def lines(self, field: str, value: object, limit: int, max_entries: int) -> list[str]:
        """A list of non-empty strings; returns the strings among them."""
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.add(_wrong_type(field, ("list",), value))
            return []
        if len(value) > max_entries:
            self.add(_too_many(field, len(value), max_entries))
        strings = []
        for index, entry in enumerate(value[:max_entries]):
            entry_field = f"{field}.{index}"
            if not isinstance(entry, str):
                self.add(_wrong_type(entry_field, ("string",), entry))
                continue
            self.characters(entry_field, entry, limit)
            if not entry.strip():
                self.add(_empty(entry_field))
            strings.append(entry)
        return strings

    def obj(self, field: str, value: object, known: Sequence[str]) -> dict:
        """An object; returns it (or ``{}``) and checks keys the format does not know."""
        if value is _MISSING:
            return {}
        if not isinstance(value, dict):
            self.add(_wrong_type(field, ("object",), value))
            return {}
        for key, extra in value.items():
            if key not in known:
                self.extra(f"{field}.{key}", key, extra, 0)
        return value

    def extra(self, field: str, key: object, value: object, depth: int) -> None:
        """A value under a key the format does not know: kept as is, but it must be JSON."""
        if not isinstance(key, str):
            self.add(_not_json(field, f"a {type(key).__name__} key"))
            return
        if depth > MAX_EXTRA_DEPTH:
            self.add(
                Problem(
                    field,
                    "too_deep",
                    f"nested more than {MAX_EXTRA_DEPTH} levels deep",
                    f"ซ้อนกันลึกเกิน {MAX_EXTRA_DEPTH} ชั้น",
                )
            )
            return
        if value is None or isinstance(value, (bool, int, str)):
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                self.add(_not_json(field, repr(value)))
            return
        if isinstance(value, list):
            for index, entry in enumerate(value):
                self.extra(f"{field}.{index}", str(index), entry, depth + 1)
            return
        if isinstance(value, dict):
            for sub_key, entry in value.items():
                self.extra(f"{field}.{sub_key}", sub_key, entry, depth + 1)
            return
        self.add(_not_json(field, f"a Python {type(value).__name__}"))

    # -- the document

    def document(self, doc: object) -> None:
        if not isinstance(doc, dict):
            got_en, got_th = json_type_name(doc)
            self.add(
                Problem(
                    "(document)",
                    "wrong_type",
                    f"a letter document must be a JSON object, not {got_en}",
                    f"เอกสารหนังสือต้องเป็นออบเจกต์ JSON ไม่ใช่{got_th}",
                )
            )
            return
        kind = self.header(doc)
        self.parts(doc)
        known = _defaults()
        for key, value in doc.items():
            if key not in known:
                self.extra(str(key), key, value, 0)
        if kind is not None:
            self.required(doc, kind)
        self.ref_no(doc, kind)
        self.royal_forms(doc)

    def header(self, doc: dict) -> str | None:
        """``format``, ``kind``, ``circular``, ``urgency``, ``secrecy``; returns a valid kind."""
        fmt = doc.get("format", _MISSING)
        if fmt is _MISSING or fmt is None:
            self.add(_required("format", None))
        elif isinstance(fmt, bool) or not isinstance(fmt, int):
            self.add(_wrong_type("format", ("integer",), fmt))
        elif fmt != FORMAT:
            self.add(
                Problem(
                    "format",
                    "unknown_format",
                    f"unknown format {fmt}: only format {FORMAT} is supported",
                    f"ไม่รู้จักรูปแบบเอกสาร {fmt} รองรับเฉพาะรูปแบบ {FORMAT}",
                )
            )
        kind = doc.get("kind", _MISSING)
        valid_kind = None
        if kind is _MISSING or kind is None:
            self.add(_required("kind", None))
        elif not isinstance(kind, str):
            self.add(_wrong_type("kind", ("string",), kind))
        elif kind not in KINDS:
            self.add(_unknown_choice("kind", kind, KINDS))
        else:
            valid_kind = kind
        circular = doc.get("circular", False)
        if not isinstance(circular, bool):
            self.add(_wrong_type("circular", ("boolean",), circular))
        for field, allowed in (("urgency", URGENCIES), ("secrecy", SECRECIES)):
            value = doc.get(field)
            if value is None:
                continue
            if not isinstance(value, str):
                self.add(_wrong_type(field, ("string", "null"), value))
            elif value not in allowed:
                self.add(_unknown_choice(field, value, allowed))
        return valid_kind

    def parts(self, doc: dict) -> None:
        """Type, size and character checks of every other key of the contract."""
        self.text("ref_no", doc.get("ref_no"), MAX_LINE_CHARS)
        sender = self.obj("sender", doc.get("sender", _MISSING), ("name", "address"))
        self.text("sender.name", sender.get("name"), MAX_LINE_CHARS)
        self.lines("sender.address", sender.get("address", _MISSING), MAX_LINE_CHARS, MAX_LINES)
        self.date(doc.get("date"))
        self.text("subject", doc.get("subject"), MAX_SUBJECT_CHARS)
        self.text("salutation", doc.get("salutation"), MAX_LINE_CHARS)
        self.text("addressee", doc.get("addressee"), MAX_LINE_CHARS)
        self.lines(
            "references", doc.get("references", _MISSING), MAX_REFERENCE_CHARS, MAX_REFERENCES
        )
        self.enclosures(doc.get("enclosures", _MISSING))
        self.body(doc.get("body", _MISSING))
        self.text("closing", doc.get("closing"), MAX_PARAGRAPH_CHARS)
        self.text("complimentary_close", doc.get("complimentary_close"), MAX_LINE_CHARS)
        signer = self.obj("signer", doc.get("signer", _MISSING), ("name", "position"))
        self.text("signer.name", signer.get("name"), MAX_LINE_CHARS)
        self.lines("signer.position", signer.get("position", _MISSING), MAX_LINE_CHARS, MAX_LINES)
        self.lines("owner_unit", doc.get("owner_unit", _MISSING), MAX_LINE_CHARS, MAX_LINES)
        contact = self.obj("contact", doc.get("contact", _MISSING), ("phone", "fax", "email"))
        self.text("contact.phone", contact.get("phone"), MAX_LINE_CHARS)
        self.text("contact.fax", contact.get("fax"), MAX_LINE_CHARS)
        email = self.text("contact.email", contact.get("email"), MAX_LINE_CHARS)
        if email is not None and email.strip() and not _EMAIL_RE.fullmatch(email.strip()):
            self.add(
                Problem(
                    "contact.email",
                    "invalid_email",
                    f"{_shown(email)} is not an e-mail address (name@example.go.th)",
                    f"{_shown(email)} ไม่ใช่ที่อยู่ไปรษณีย์อิเล็กทรอนิกส์ (เช่น name@example.go.th)",
                )
            )
        self.text("footer", doc.get("footer"), MAX_PARAGRAPH_CHARS)
        self.lines("copies_to", doc.get("copies_to", _MISSING), MAX_COPY_TO_CHARS, MAX_COPIES_TO)
        # Not in the contract, but printed: the issuer of an order or announcement
        # (คำสั่ง<issuer>), when it is not the sender's name.
        self.text("issuer", doc.get("issuer"), MAX_LINE_CHARS)
        self.text("attachments_text", doc.get("attachments_text"), MAX_ATTACHMENTS_TEXT_CHARS)
        total = letter_characters(doc)
        if total > MAX_LETTER_CHARS:
            self.add(
                Problem(
                    "(document)",
                    "too_long",
                    f"the letter prints {total:,} characters in all; the limit is "
                    f"{MAX_LETTER_CHARS:,} (about 55 pages): split it, or send the rest as an "
                    "enclosure",
                    f"หนังสือทั้งฉบับยาว {total:,} อักขระ เกินกำหนด {MAX_LETTER_CHARS:,} อักขระ "
                    "(ประมาณ ๕๕ หน้า) กรุณาแบ่งเป็นหลายฉบับ หรือส่งส่วนที่เหลือเป็นสิ่งที่ส่งมาด้วย",
                )
            )

    def date(self, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(_wrong_type("date", ("string", "null"), value))
            return
        match = _ISO_DATE_RE.fullmatch(value)
        if match is None:
            hint_en = hint_th = ""
            if _THAI_DIGIT_RE.search(value):
                hint_en = " with Arabic digits"
                hint_th = " ด้วยเลขอารบิก"
            self.add(
                Problem(
                    "date",
                    "malformed_date",
                    f"{_shown(value)} is not an ISO date: write YYYY-MM-DD{hint_en}"
                    " in ค.ศ. (Gregorian), e.g. 2022-12-15",
                    f"{_shown(value)} ไม่ใช่วันที่แบบ ISO ต้องเขียนเป็น YYYY-MM-DD{hint_th}"
                    " ปี ค.ศ. เช่น 2022-12-15",
                )
            )
            return
        year, month, day = (int(part) for part in match.groups())
        looks_be = year > 2400
        ce_year = year - 543 if looks_be else year
        be_en = be_th = ""
        if looks_be:
            be_en = f"; also, year {year} looks like พ.ศ. (ค.ศ. {ce_year})"
            be_th = f" และปี {year} น่าจะเป็น พ.ศ. (ค.ศ. {ce_year})"
        try:
            dt.date(ce_year, month, day)
        except ValueError:
            if not 1 <= month <= 12:
                why_en, why_th = f"there is no month {month}", f"ไม่มีเดือนที่ {month}"
            elif ce_year < 1:
                why_en, why_th = f"there is no year {year}", f"ไม่มีปี {year}"
            else:
                why_en = f"{_ENGLISH_MONTHS[month - 1]} {year} has no day {day}"
                why_th = f"เดือน{THAI_MONTHS[month - 1]} ปี {year} ไม่มีวันที่ {day}"
            self.add(
                Problem(
                    "date",
                    "invalid_date",
                    f"{_shown(value)} is not a real date: {why_en}{be_en}",
                    f"{_shown(value)} ไม่ใช่วันที่ที่มีจริง: {why_th}{be_th}",
                )
            )
            return
        if looks_be:
            self.add(
                Problem(
                    "date",
                    "be_year",
                    f"year {year} looks like พ.ศ.; the document wants ค.ศ. in `date`:"
                    f" {year} → {ce_year}",
                    f"ปี {year} น่าจะเป็น พ.ศ. แต่ `date` ต้องเป็นปี ค.ศ.: {year} → {ce_year}",
                )
            )

    def enclosures(self, value: object) -> None:
        if value is _MISSING:
            return
        if not isinstance(value, list):
            self.add(_wrong_type("enclosures", ("list",), value))
            return
        if len(value) > MAX_ENCLOSURES:
            self.add(_too_many("enclosures", len(value), MAX_ENCLOSURES))
        for index, entry in enumerate(value[:MAX_ENCLOSURES]):
            field = f"enclosures.{index}"
            if not isinstance(entry, dict):
                self.add(_wrong_type(field, ("object",), entry))
                continue
            self.obj(field, entry, ("title", "quantity"))
            title = self.text(f"{field}.title", entry.get("title"), MAX_ENCLOSURE_TITLE_CHARS)
            if entry.get("title") is None or (title is not None and not title.strip()):
                self.add(_required(f"{field}.title", None))
            self.text(f"{field}.quantity", entry.get("quantity"), MAX_LINE_CHARS)

    def body(self, value: object) -> None:
        if value is _MISSING:
            return
        if not isinstance(value, list):
            self.add(_wrong_type("body", ("list",), value))
            return
        if len(value) > MAX_BODY_BLOCKS:
            self.add(_too_many("body", len(value), MAX_BODY_BLOCKS))
        for index, block in enumerate(value[:MAX_BODY_BLOCKS]):
            field = f"body.{index}"
            if isinstance(block, str):
                self.characters(field, block, MAX_PARAGRAPH_CHARS)
                if not block.strip():
                    self.add(_empty(field))
            elif isinstance(block, dict) and "items" in block:
                self.obj(field, block, ("items",))
                items = block["items"]
                self.lines(f"{field}.items", items, MAX_PARAGRAPH_CHARS, MAX_LIST_ENTRIES)
                if items == []:
                    self.add(_empty(f"{field}.items"))
            else:
                self.add(
                    Problem(
                        field,
                        "bad_block",
                        'a body block is a paragraph (a string) or {"items": [strings]},'
                        f" not {_JSON_TYPE_NAMES.get(_json_type(block), (_json_type(block),))[0]}",
                        'ย่อหน้าของเนื้อหาต้องเป็นข้อความ หรือ {"items": [ข้อความ, ...]}'
                        " สำหรับรายการข้อ ๑. ๒. ๓.",
                    )
                )

    def required(self, doc: dict, kind: str) -> None:
        for path in LETTER_KINDS[kind].required:
            if _is_blank(_get(doc, path)):
                self.add(_required(path, kind))

    def ref_no(self, doc: dict, kind: str | None) -> None:
        """``ref_no`` reads in the kind's form (either if unknown) and agrees with ``circular``."""
        text = doc.get("ref_no")
        if not isinstance(text, str):
            return
        if len(text) > MAX_LINE_CHARS:
            return  # reported as too_long; not worth reading
        if not text.strip():
            self.add(
                Problem(
                    "ref_no",
                    "empty",
                    "empty; use null for a letter not yet numbered",
                    "เป็นค่าว่าง ถ้ายังไม่ได้ออกเลขให้ใช้ null",
                )
            )
            return
        if text.strip().startswith("ที่"):
            self.add(
                Problem(
                    "ref_no",
                    "bad_ref_no",
                    f"{_shown(text)}: write the number without the word ที่ (it is printed anyway)",
                    f"{_shown(text)}: ให้ระบุเฉพาะเลขที่ ไม่ต้องมีคำว่า ที่ (ระบบพิมพ์ให้เอง)",
                )
            )
            return
        try:
            ref = parse_ref_no(text)
        except RefNoError as exc:
            self.add(Problem("ref_no", "bad_ref_no", exc.en, exc.th))
            return
        if kind == "order" and ref.code:
            self.add(
                Problem(
                    "ref_no",
                    "bad_ref_no",
                    f"{_shown(text)} is a letter number; an order is numbered <n>/<พ.ศ. year>,"
                    " e.g. ๑๒/๒๕๖๘",
                    f"{_shown(text)} เป็นเลขที่หนังสือ คำสั่งใช้เลขที่แบบ <ลำดับ>/<ปี พ.ศ.> เช่น ๑๒/๒๕๖๘",
                )
            )
            return
        if not ref.code:
            if kind is not None and kind not in ("order", "announcement"):
                kind_en, kind_th = LETTER_KINDS[kind].english, LETTER_KINDS[kind].thai
                self.add(
                    Problem(
                        "ref_no",
                        "bad_ref_no",
                        f"{_shown(text)} is an order number (<n>/<year>); {kind_en} is numbered"
                        " <code> <unit>/<serial>, e.g. นค ๐๐๑๙.๓/๒๕๖๔",
                        f"{_shown(text)} เป็นเลขที่แบบคำสั่ง {kind_th}ใช้เลขที่แบบ"
                        " <รหัส> <เลขหน่วยงาน>/<เลขทะเบียนส่ง> เช่น นค ๐๐๑๙.๓/๒๕๖๔",
                    )
                )
            return
        circular = doc.get("circular", False)
        if not isinstance(circular, bool) or circular == ref.circular:
            return
        if circular:
            self.add(
                Problem(
                    "circular",
                    "circular_mismatch",
                    f"circular is true but ref_no {_shown(text)} has no ว before the serial",
                    f"ระบุเป็นหนังสือเวียน แต่เลขที่ {_shown(text)} ไม่มี ว หน้าเลขทะเบียนส่ง",
                )
            )
        else:
            self.add(
                Problem(
                    "circular",
                    "circular_mismatch",
                    f"ref_no {_shown(text)} has ว (a circular) but circular is false",
                    f"เลขที่ {_shown(text)} มี ว (หนังสือเวียน) แต่ไม่ได้ระบุเป็นหนังสือเวียน",
                )
            )

    def royal_forms(self, doc: dict) -> None:
        salutation = doc.get("salutation")
        close = doc.get("complimentary_close")
        royal_field = None
        if isinstance(salutation, str) and _ROYAL_SALUTATION_RE.match(salutation):
            if not salutation.strip().startswith("ขอประทานกราบทูล"):
                royal_field = "salutation"
        if royal_field is None and isinstance(close, str) and _ROYAL_CLOSE_RE.search(close):
            royal_field = "complimentary_close"
        if royal_field is not None:
            self.add(
                Problem(
                    royal_field,
                    "royal_form",
                    "letters to the King, the Queen or the royal family use ราชาศัพท์ forms"
                    " this service does not generate; draft them by hand",
                    "หนังสือกราบบังคมทูลหรือถึงพระบรมวงศานุวงศ์ใช้ราชาศัพท์ ซึ่งระบบนี้ไม่จัดทำให้ โปรดร่างด้วยตนเอง",
                )
            )


def _not_json(field: str, what: str) -> Problem:
    return Problem(
        field,
        "not_json",
        f"not a JSON value ({what})",
        f"ไม่ใช่ค่าแบบ JSON ({what})",
    )


def validate(doc: object) -> list[Problem]:
    """Every error of ``doc`` (empty when it is a well-formed letter). Never raises.

    Codes: ``required``, ``empty``, ``wrong_type``, ``unknown_format``, ``unknown_kind``,
    ``unknown_urgency``, ``unknown_secrecy``, ``malformed_date``, ``invalid_date``,
    ``be_year``, ``bad_ref_no``, ``circular_mismatch``, ``bad_block``, ``control_char``,
    ``bad_character``, ``too_long``, ``too_many``, ``invalid_email``, ``royal_form``, and for
    keys the format does not know (kept as they are, body blocks included) ``not_json`` and
    ``too_deep``. ``< & > " '``, emoji and zero-width characters are valid text.
    """
    validator = _Validator()
    validator.document(doc)
    return validator.problems


class CheckedLetter(dict[str, Any]):
    """A letter document that :func:`check` found valid, normalised (every key of the
    format present): below the edge where a document comes in, this type says the letter
    is valid, and nothing validates it again.

    Only :func:`check` makes one, and its fields cannot be replaced afterwards (a replaced
    field would not have been checked): :meth:`replace` checks the changed letter. It is a
    ``dict`` for every reader (renderers, JSON, the database); a copy is a plain ``dict``.
    """

    __slots__ = ()

    def __init__(self, doc: dict[str, Any], *, _checked: object = None) -> None:
        if _checked is not _CHECKED:
            raise TypeError("a CheckedLetter comes from saraban.letter.check()")
        super().__init__(doc)

    def replace(self, **fields: Any) -> CheckedLetter:
        """The letter with these fields changed, checked (e.g. the number a register gives)."""
        return check({**self, **fields})

    def _unchangeable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a checked letter does not change: use replace(), or check() a copy")

    __setitem__ = _unchangeable
    __delitem__ = _unchangeable
    __ior__ = _unchangeable
    update = _unchangeable
    pop = _unchangeable
    popitem = _unchangeable
    setdefault = _unchangeable
    clear = _unchangeable

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self), memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rechecked, (dict(self),))


_CHECKED = object()


def _rechecked(doc: dict[str, Any]) -> CheckedLetter:
    """A checked letter back from a pickle (it was checked before it was pickled)."""
    return CheckedLetter(doc, _checked=_CHECKED)


def check(doc: object) -> CheckedLetter:
    """A normalised deep copy of a valid ``doc``; raises :class:`InvalidLetter` otherwise.

    Missing optional keys get their defaults (so renderers never test for presence), keys the
    format does not know are kept, in their place after the known ones. ``doc`` itself is
    not changed.
    """
    problems = validate(doc)
    if problems:
        raise InvalidLetter(problems)
    assert isinstance(doc, dict)  # validate() said so
    return CheckedLetter(_normalised(copy.deepcopy(doc)), _checked=_CHECKED)


def checked(doc: object) -> CheckedLetter:
    """``doc`` if it is checked already, else :func:`check` it: for code that takes a
    letter from either side of the edge (the renderers)."""
    return doc if isinstance(doc, CheckedLetter) else check(doc)


def _normalised(doc: dict) -> dict:
    out = _defaults()
    for key, default in out.items():
        if key not in doc:
            continue
        value = doc[key]
        if key in _OBJECT_KEYS:
            value = {**default, **value}
        elif key == "enclosures":
            value = [{**_ENCLOSURE_DEFAULTS, **entry} for entry in value]
        out[key] = value
    for key, value in doc.items():
        if key not in out:
            out[key] = value
    return out


# --------------------------------------------------------------------------- lint

_BIDI_CONTROL_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH_RE = re.compile(
    r"(?<=[\u0e00-\u0e7f])[\u200b\u200c\u200d\u2060\ufeff\u00ad]+(?=[\u0e00-\u0e7f])"
)


@functools.cache
def _printable() -> frozenset[int]:
    """The characters the bundled letter font (Sarabun) draws; WeasyPrint takes others from
    whatever system font has them, or prints a box."""
    from fontTools.ttLib import TTFont

    from saraban.fonts import SARABUN_DIR

    font = SARABUN_DIR / "Sarabun-Regular.ttf"
    with TTFont(font, lazy=True) as opened:
        return frozenset(opened.getBestCmap())


def _unprintable(text: str) -> list[str]:
    """Characters of ``text`` the letter font has no glyph for, in order, each once
    (spacing, control and invisible format characters are other rules' business)."""
    printable = _printable()
    found = dict.fromkeys(
        c
        for c in text
        if ord(c) not in printable
        and not c.isspace()
        and unicodedata.category(c) not in ("Cc", "Cf", "Mn")
    )
    return list(found)


_FISCAL_YEAR_RE = re.compile(r"ปีงบประมาณ\s*(?:พ\s*\.?\s*ศ\s*\.?)?\s*([0-9๐-๙]{4})(?![0-9๐-๙])")
_POSTCODE_RE = re.compile(
    r"(?:(?P<code>[ก-ฮ]{2})\.?|(?P<bangkok>กทม\.?))?\s*(?<![0-9๐-๙])(?P<postcode>[0-9๐-๙]{5})(?![0-9๐-๙])"
)
_ENCLOSURE_NO_RE = re.compile(r"สิ่งที่ส่งมาด้วย\s*([0-9๐-๙]+)(?:\s*[-–]\s*([0-9๐-๙]+))?")
_REFERENCE_NO_RE = re.compile(r"ที่อ้างถึง\s*([0-9๐-๙]+)")
_ALL_RECIPIENTS_RE = re.compile(r"ทุก[\u0e00-\u0e7f]+")
_ACTING_RE = re.compile(r"(ปฏิบัติราชการแทน|รักษาราชการแทน)\s*$")
_BE_CALENDAR_CHANGE_YEAR = 1941  # the Thai year began on 1 April until 1940

# Appendix 2: closing by salutation. Each row: salutation prefix, accepted closings, whether a
# closing may continue after the listed words (the Supreme Patriarch's "ควรมิควรแล้วแต่จะโปรด…").
_SALUTATION_PAIRS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("ขอประทานกราบทูล", ("ควรมิควรแล้วแต่จะโปรด",), True),
    ("กราบเรียน", ("ขอแสดงความนับถืออย่างยิ่ง",), False),
    (
        "นมัสการ",
        (
            "ขอนมัสการด้วยความเคารพอย่างยิ่ง",
            "ขอนมัสการด้วยความเคารพอย่างสูง",
            "ขอนมัสการด้วยความเคารพ",
        ),
        False,
    ),
    ("เรียน", ("ขอแสดงความนับถือ",), False),
)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _strings(value: object) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, entry) for i, entry in enumerate(value) if isinstance(entry, str)]


def _body_texts(doc: dict) -> Iterator[tuple[str, str]]:
    """(field, text) of every body paragraph and item."""
    body = doc.get("body")
    if not isinstance(body, list):
        return
    for index, block in enumerate(body):
        if isinstance(block, str):
            yield f"body.{index}", block
        elif isinstance(block, dict):
            for item_index, item in _strings(block.get("items")):
                yield f"body.{index}.items.{item_index}", item


def _prose(doc: dict) -> Iterator[tuple[str, str]]:
    """(field, text) of the parts where a clerk writes dates: subject, references, body, closing."""
    if subject := _text(doc.get("subject")):
        yield "subject", subject
    for index, reference in _strings(doc.get("references")):
        yield f"references.{index}", reference
    yield from _body_texts(doc)
    if closing := _text(doc.get("closing")):
        yield "closing", closing


def letter_characters(doc: object) -> int:
    """How many characters a letter prints: every printed text of the contract, the unit's
    furniture included, ``attachments_text`` not (it is searched, never rendered)."""
    return sum(len(text) for _, text in _all_texts(doc)) if isinstance(doc, dict) else 0


def _all_texts(doc: dict) -> Iterator[tuple[str, str]]:
    """(field, text) of every printed text of the contract (not ``attachments_text``)."""
    for key in ("ref_no", "subject", "salutation", "addressee", "closing"):
        if text := _text(doc.get(key)):
            yield key, text
    for key in ("complimentary_close", "footer", "issuer"):
        if text := _text(doc.get(key)):
            yield key, text
    for key, inner in (("sender", "name"), ("signer", "name")):
        part = doc.get(key)
        if isinstance(part, dict) and (text := _text(part.get(inner))):
            yield f"{key}.{inner}", text
    for key, inner in (("sender", "address"), ("signer", "position")):
        part = doc.get(key)
        if isinstance(part, dict):
            for index, text in _strings(part.get(inner)):
                yield f"{key}.{inner}.{index}", text
    for key in ("references", "owner_unit", "copies_to"):
        for index, text in _strings(doc.get(key)):
            yield f"{key}.{index}", text
    enclosures = doc.get("enclosures")
    if isinstance(enclosures, list):
        for index, entry in enumerate(enclosures):
            if isinstance(entry, dict):
                for inner in ("title", "quantity"):
                    if text := _text(entry.get(inner)):
                        yield f"enclosures.{index}.{inner}", text
    yield from _body_texts(doc)
    contact = doc.get("contact")
    if isinstance(contact, dict):
        for inner in ("phone", "fax", "email"):
            if text := _text(contact.get(inner)):
                yield f"contact.{inner}", text


def _letter_date(doc: dict) -> dt.date | None:
    value = doc.get("date")
    if not isinstance(value, str) or not _ISO_DATE_RE.fullmatch(value):
        return None
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return d if d.year <= 2400 else None  # a BE year is an error, not a date to lint


def _ref(doc: dict) -> RefNo | None:
    """The parsed ``ref_no``, or None."""
    text = doc.get("ref_no")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return parse_ref_no(text)
    except RefNoError:
        return None


def _number(text: str) -> int:
    return int(to_arabic_digits(text))


class _Linter:
    """The warnings of one document; every rule tolerates wrong types (it may not validate)."""

    def __init__(self, doc: dict, today: dt.date, digits: str = "thai") -> None:
        self.doc = doc
        self.today = today
        self.digits = digits
        kind = doc.get("kind")
        self.kind = kind if isinstance(kind, str) and kind in KINDS else None
        self.date = _letter_date(doc)
        self.ref = _ref(doc)
        self.problems: list[Problem] = []

    def add(self, field: str, code: str, en: str, th: str) -> None:
        self.problems.append(Problem(field, code, en, th))

    def run(self) -> list[Problem]:
        if self.kind is not None:
            self.parts_of_kind()
            self.salutation_pair()
            self.markings()
            self.circular_expected()
        self.letter_date()
        self.ref_no()
        self.postcode()
        self.dates_in_text()
        self.cited_letters()
        self.fiscal_year()
        self.references_and_enclosures()
        self.acting_line()
        self.zero_width()
        self.unprintable()
        self.mixed_digits()
        self.bidi_controls()
        return self.problems

    # -- parts

    def parts_of_kind(self) -> None:
        assert self.kind is not None
        kind_en, kind_th = LETTER_KINDS[self.kind].english, LETTER_KINDS[self.kind].thai
        if self.kind == "external":
            sender = self.doc.get("sender")
            sender = sender if isinstance(sender, dict) else {}
            missing = [p for p in ("name", "address") if _is_blank(sender.get(p, _MISSING))]
            if missing:
                field = "sender" if len(missing) == 2 else f"sender.{missing[0]}"
                self.add(
                    field,
                    "missing_part",
                    "an external letter prints the sending office and its address beside"
                    " the number; they are missing",
                    "หนังสือภายนอกต้องมีชื่อส่วนราชการเจ้าของหนังสือและที่ตั้ง แต่ยังไม่ได้ระบุ",
                )
        for path in LETTER_KINDS[self.kind].not_printed:
            if not _is_blank(_get(self.doc, path)):
                self.add(
                    path,
                    "not_printed",
                    f"{kind_en} has no such part: this text will not be printed",
                    f"{kind_th}ไม่มีส่วนนี้ ข้อความนี้จะไม่ถูกพิมพ์",
                )

    def salutation_pair(self) -> None:
        if self.kind not in ("external", "memo"):
            return
        salutation = _text(self.doc.get("salutation"))
        if salutation is None:
            return
        salutation = salutation.strip()
        row = next((r for r in _SALUTATION_PAIRS if salutation.startswith(r[0])), None)
        if row is None:
            if not _ROYAL_SALUTATION_RE.match(salutation):
                listed = ", ".join(row[0] for row in _SALUTATION_PAIRS)
                self.add(
                    "salutation",
                    "unknown_salutation",
                    f"{_shown(salutation)} is not a salutation of the official table ({listed})",
                    f"{_shown(salutation)} ไม่ใช่คำขึ้นต้นตามตารางในระเบียบ ({listed})",
                )
            return
        prefix, closings, open_ended = row
        close = _text(self.doc.get("complimentary_close"))
        if self.kind != "external" or close is None:
            return
        close = " ".join(close.split())
        fits = close in closings or (open_ended and close.startswith(closings))
        if not fits:
            wanted = " / ".join(closings)
            self.add(
                "complimentary_close",
                "salutation_pair",
                f"{_shown(close)} does not go with the salutation {prefix!r}: use {wanted!r}",
                f"คำลงท้าย {_shown(close)} ไม่คู่กับคำขึ้นต้น {prefix!r} ควรใช้ {wanted!r}",
            )

    def markings(self) -> None:
        if self.kind != "announcement":
            return
        for field, en, th in (
            ("urgency", "urgency", "ชั้นความเร็ว"),
            ("secrecy", "secrecy", "ชั้นความลับ"),
        ):
            value = _text(self.doc.get(field))
            if value is not None:
                self.add(
                    field,
                    "marking_on_kind",
                    f"an announcement is a public notice; it does not carry a {en} mark ({value})",
                    f"ประกาศเป็นหนังสือเผยแพร่ต่อสาธารณะ ไม่ใช้{th} ({value})",
                )

    def circular_expected(self) -> None:
        if (
            self.kind not in ("external", "memo", "stamped")
            or self.doc.get("circular") is not False
        ):
            return
        addressee = _text(self.doc.get("addressee"))
        match = _ALL_RECIPIENTS_RE.search(addressee or "")
        if match is None:
            return
        self.add(
            "circular",
            "circular_expected",
            f"addressed to {match.group()!r} (all of them) but not marked circular: a letter"
            " with the same text to many recipients is a หนังสือเวียน, numbered with ว",
            f"ส่งถึง{match.group()} แต่ไม่ได้ระบุเป็นหนังสือเวียน หนังสือที่มีข้อความเดียวกัน"
            "ถึงผู้รับหลายรายเป็นหนังสือเวียน ใช้ ว หน้าเลขทะเบียนส่ง",
        )

    # -- dates and numbers

    def letter_date(self) -> None:
        d = self.date
        if d is None:
            return
        if d > self.today:
            self.add(
                "date",
                "future_date",
                f"dated {d.isoformat()}, after today ({self.today.isoformat()})",
                f"ลงวันที่ {thai_date(d)} ซึ่งยังมาไม่ถึง (วันนี้ {thai_date(self.today)})",
            )
        if d.year < _BE_CALENDAR_CHANGE_YEAR:
            self.add(
                "date",
                "before_1941",
                f"dated {d.isoformat()}, before 1941: the Thai year then began on 1 April, so"
                " BE = CE + 543 may not hold for the printed date",
                "ลงวันที่ก่อน ค.ศ. 1941 (พ.ศ. ๒๔๘๔) ซึ่งปีไทยยังขึ้นปีใหม่วันที่ ๑ เมษายน"
                " ปี พ.ศ. ที่พิมพ์อาจไม่เท่ากับ ค.ศ. + ๕๔๓",
            )
        elif d.weekday() >= 5:
            weekday_th = THAI_WEEKDAYS[d.weekday()]
            self.add(
                "date",
                "weekend_date",
                f"dated {d.isoformat()}, a {d:%A} (วัน{weekday_th}): offices rarely date"
                " letters on a weekend; check the date",
                f"ลงวันที่ {thai_date(d)} ตรงกับวัน{weekday_th} ซึ่งไม่ใช่วันทำการ โปรดตรวจสอบวันที่",
            )

    def ref_no(self) -> None:
        ref = self.ref
        if ref is None:
            return
        text = self.doc.get("ref_no")
        if ref.code and not ref.standard:
            plain = dataclasses.replace(ref, year=None).format()
            self.add(
                "ref_no",
                "nonstandard_ref_no",
                f"{_shown(text)}: a letter number ends with the register serial; the '/year' tail"
                f" mimics an order number (n/year). The standard form is {plain!r}",
                f"{_shown(text)}: เลขที่หนังสือลงท้ายด้วยเลขทะเบียนส่ง การต่อท้ายด้วย /ปี เป็นแบบ"
                f"เลขที่คำสั่ง รูปแบบมาตรฐานคือ {plain!r}",
            )
        if not ref.code and ref.year is not None and self.date is not None:
            year = self.date.year + 543
            if ref.year != year:
                self.add(
                    "ref_no",
                    "ref_year",
                    f"{_shown(text)} is numbered in the year {ref.year} but dated in {year} (พ.ศ.)",
                    f"{_shown(text)} เป็นเลขที่ของปี {to_thai_digits(str(ref.year))}"
                    f" แต่ลงวันที่ในปี พ.ศ. {to_thai_digits(str(year))}",
                )

    def postcode(self) -> None:
        sender = self.doc.get("sender")
        if not isinstance(sender, dict):
            return
        ref_province = province_for_code(self.ref.code) if self.ref and self.ref.code else None
        for index, line in _strings(sender.get("address")):
            for match in _POSTCODE_RE.finditer(line):
                self.check_postcode(f"sender.address.{index}", match, ref_province)

    def check_postcode(self, field: str, match: re.Match[str], ref_province: str | None) -> None:
        import geothai  # 30 ms to import; most who import this module check no postcode

        postcode = to_arabic_digits(match["postcode"])
        provinces = {}
        for subdistrict in geothai.by_postal_code(postcode):
            province = geothai.province(subdistrict.province_code)
            if province is not None:
                provinces[province.name_th] = province.name_en
        if not provinces:
            self.add(
                field,
                "unknown_postcode",
                f"{match['postcode']} is not a Thai postcode",
                f"{match['postcode']} ไม่ใช่รหัสไปรษณีย์ของไทย",
            )
            return
        if match["bangkok"]:
            expected, source = "กรุงเทพมหานคร", "กทม."
        elif match["code"] and (by_code := province_for_code(match["code"])):
            expected, source = by_code, match["code"]
        elif ref_province is not None and self.ref is not None:
            expected, source = ref_province, self.ref.code
        else:
            return
        if expected in provinces:
            return
        where_th = " / ".join(provinces)
        where_en = " / ".join(f"{th} ({en})" for th, en in provinces.items())
        self.add(
            field,
            "postcode_province",
            f"postcode {match['postcode']} belongs to {where_en}, not to {expected}"
            f" (the province of code {source})",
            f"รหัสไปรษณีย์ {match['postcode']} เป็นของจังหวัด{where_th}"
            f" ไม่ใช่จังหวัด{expected} (ตามรหัส {source})",
        )

    def dates_in_text(self) -> None:
        """Weekdays that do not match, CE years, impossible dates, deadlines already past."""
        for field, text in _prose(self.doc):
            for match in find_thai_dates(text):
                if match.error_code is not None:
                    self.text_date_error(field, match)
                elif (
                    self.date is not None
                    and match.date is not None
                    and match.date < self.date
                    and text[: match.start].rstrip().endswith("ภายใน")
                ):
                    self.add(
                        field,
                        "deadline_passed",
                        f"the deadline {match.text!r} ({match.date.isoformat()}) is before the"
                        f" letter's date {self.date.isoformat()}",
                        f"กำหนดภายใน {match.text} ก่อนวันที่ของหนังสือ ({thai_date(self.date)})",
                    )

    def text_date_error(self, field: str, match: ThaiDateMatch) -> None:
        try:
            parse_thai_date(match.text)
        except ThaiDateError as exc:
            en, th = exc.en, exc.th
        else:  # pragma: no cover - find_thai_dates and parse_thai_date agree
            en = th = match.error or ""
        code = {
            "weekday_mismatch": "weekday_mismatch",
            "ce_year": "text_ce_year",
        }.get(match.error_code or "", "text_impossible_date")
        self.add(field, code, f"{match.text!r}: {en}", f"{match.text!r}: {th}")

    def cited_letters(self) -> None:
        own_key = self.ref.key if self.ref is not None else None
        for index, reference in _strings(self.doc.get("references")):
            field = f"references.{index}"
            if own_key is not None and any(r.key == own_key for _, _, r in find_ref_nos(reference)):
                self.add(
                    field,
                    "cites_itself",
                    "cites this letter's own number",
                    "อ้างถึงเลขที่ของหนังสือฉบับนี้เอง",
                )
            if self.date is None:
                continue
            dates = [m for m in find_thai_dates(reference) if m.date is not None]
            dated = [m for m in dates if m.text.startswith("ลงวันที่")] or dates
            for match in dated:
                if match.date is not None and match.date > self.date:
                    self.add(
                        field,
                        "cited_after_date",
                        f"cites a letter dated {match.date.isoformat()} ({match.text}), after"
                        f" this letter's date {self.date.isoformat()}: a letter cannot cite"
                        " a newer one; check both dates",
                        f"อ้างถึงหนังสือ{match.text} ซึ่งหลังวันที่ของหนังสือฉบับนี้"
                        f" ({thai_date(self.date)}) หนังสือไม่อาจอ้างถึงหนังสือที่ออกภายหลัง"
                        " โปรดตรวจสอบวันที่",
                    )

    def fiscal_year(self) -> None:
        """The newest ปีงบประมาณ the letter is about should be its own (or the next one)."""
        if self.date is None:
            return
        subject = _text(self.doc.get("subject")) or ""
        mentions = [("subject", _number(y)) for y in _FISCAL_YEAR_RE.findall(subject)]
        if not mentions:
            for field, text in _body_texts(self.doc):
                mentions.extend((field, _number(y)) for y in _FISCAL_YEAR_RE.findall(text))
        if not mentions:
            return
        field, newest = max(mentions, key=lambda mention: mention[1])
        own = fiscal_year(self.date)
        if own <= newest <= own + 1:
            return
        self.add(
            field,
            "fiscal_year",
            f"about fiscal year {newest} (ปีงบประมาณ พ.ศ. {newest}) but dated"
            f" {self.date.isoformat()}, in fiscal year {own}: check the date or the year",
            f"เป็นเรื่องของปีงบประมาณ พ.ศ. {to_thai_digits(str(newest))}"
            f" แต่ลงวันที่ {thai_date(self.date)} ซึ่งอยู่ในปีงบประมาณ"
            f" พ.ศ. {to_thai_digits(str(own))} โปรดตรวจสอบวันที่หรือปี",
        )

    def references_and_enclosures(self) -> None:
        """อ้างถึง / สิ่งที่ส่งมาด้วย named in the body must be listed (external letters)."""
        if self.kind != "external":
            return
        references = self.doc.get("references")
        enclosures = self.doc.get("enclosures")
        n_references = len(references) if isinstance(references, list) else 0
        n_enclosures = len(enclosures) if isinstance(enclosures, list) else 0
        texts = list(_body_texts(self.doc))
        if closing := _text(self.doc.get("closing")):
            texts.append(("closing", closing))
        said_reference = said_enclosure = False
        for field, text in texts:
            said_reference = said_reference or "ที่อ้างถึง" in text
            said_enclosure = said_enclosure or "สิ่งที่ส่งมาด้วย" in text
            for match in _ENCLOSURE_NO_RE.finditer(text):
                highest = _number(match[2] or match[1])
                if n_enclosures and highest > n_enclosures:
                    self.add(
                        field,
                        "enclosure_number",
                        f"mentions {match.group()!r} but {n_enclosures} enclosure(s) are listed",
                        f"กล่าวถึง {match.group()} แต่มีสิ่งที่ส่งมาด้วย {n_enclosures} รายการ",
                    )
            for match in _REFERENCE_NO_RE.finditer(text):
                if n_references and _number(match[1]) > n_references:
                    self.add(
                        field,
                        "reference_number",
                        f"mentions {match.group()!r} but {n_references} reference(s) are listed",
                        f"กล่าวถึง {match.group()} แต่มีหนังสือที่อ้างถึง {n_references} รายการ",
                    )
        if said_reference and not n_references:
            self.add(
                "references",
                "reference_missing",
                "the body says ที่อ้างถึง but no reference (อ้างถึง) is listed",
                "เนื้อหากล่าวถึงหนังสือที่อ้างถึง แต่ไม่ได้ระบุ อ้างถึง",
            )
        if said_enclosure and not n_enclosures:
            self.add(
                "enclosures",
                "enclosure_missing",
                "the body says สิ่งที่ส่งมาด้วย but no enclosure is listed",
                "เนื้อหากล่าวถึงสิ่งที่ส่งมาด้วย แต่ไม่ได้ระบุรายการสิ่งที่ส่งมาด้วย",
            )

    def acting_line(self) -> None:
        signer = self.doc.get("signer")
        if not isinstance(signer, dict):
            return
        lines = _strings(signer.get("position"))
        if lines and _ACTING_RE.search(lines[-1][1]):
            index, line = lines[-1]
            self.add(
                f"signer.position.{index}",
                "acting_line",
                f"{_shown(line)} acts for someone: the next line must name the position acted for"
                " (e.g. ผู้ว่าราชการจังหวัด...)",
                f"{_shown(line)} เป็นการปฏิบัติหรือรักษาราชการแทน บรรทัดถัดไปต้องระบุตำแหน่งที่แทน"
                " (เช่น ผู้ว่าราชการจังหวัด...)",
            )

    def zero_width(self) -> None:
        for field, text in _all_texts(self.doc):
            found = list(_ZERO_WIDTH_RE.finditer(text))
            if not found:
                continue
            first = found[0]
            where = first.start() + 1
            code_point = f"U+{ord(first.group()[0]):04X}"
            count = sum(len(m.group()) for m in found)
            self.add(
                field,
                "zero_width",
                f"invisible character {code_point} inside a Thai word at character {where}"
                f" ({count} in this text): it breaks search and line breaking",
                f"มีอักขระที่มองไม่เห็น {code_point} อยู่กลางคำภาษาไทยที่อักขระตัวที่ {where}"
                f" (ทั้งหมด {count} ตัว) ทำให้การค้นหาและการตัดบรรทัดผิดพลาด",
            )

    def unprintable(self) -> None:
        for field, text in _all_texts(self.doc):
            missing = _unprintable(text)
            if not missing:
                continue
            shown = " ".join(f"{c} (U+{ord(c):04X})" for c in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            more_th = f" และอีก {len(missing) - 5} ตัว" if len(missing) > 5 else ""
            self.add(
                field,
                "unprintable",
                f"the letter font (Sarabun) has no glyph for {shown}{more}: it prints in another "
                "font, or as a box where the machine has none",
                f"แบบอักษรของหนังสือ (Sarabun) ไม่มีตัวอักษร {shown}{more_th} จะพิมพ์ด้วยแบบอักษรอื่น "
                "หรือเป็นกล่องสี่เหลี่ยมถ้าเครื่องไม่มีแบบอักษรนั้น",
            )

    def mixed_digits(self) -> None:
        """Fields typed with the other kind of digits than the rest of the letter (or than
        the rest of the field): the printed letter converts them to the office's kind."""
        kinds = {field: digit_kinds(text) for field, text in _all_texts(self.doc)}
        arabic = [field for field, (a, _) in kinds.items() if a is not None]
        thai = [field for field, (_, t) in kinds.items() if t is not None]
        if not arabic or not thai:
            return
        office = self.digits
        converted = arabic if office == "thai" else thai
        for field in converted:
            first_arabic, first_thai = kinds[field]
            where = (first_arabic if office == "thai" else first_thai) or 0
            text = dict(_all_texts(self.doc))[field]
            sample = re.search(r"[0-9๐-๙](?:[0-9๐-๙,./]*[0-9๐-๙])?", text[where:])
            shown = sample.group() if sample else text[where]
            printed = printed_digits(shown, office)
            other = "Thai" if office == "thai" else "Arabic"
            other_th = "ไทย" if office == "thai" else "อารบิก"
            mine = "Arabic" if office == "thai" else "Thai"
            mine_th = "อารบิก" if office == "thai" else "ไทย"
            self.add(
                field,
                "mixed_digits",
                f"{mine} digits ({shown!r} at character {where + 1}) in a letter that also has"
                f" {other} digits: the printed letter uses {other} digits throughout ({printed})",
                f"ใช้เลข{mine_th} ({shown} ที่อักขระตัวที่ {where + 1}) ปนกับเลข{other_th}ในหนังสือฉบับเดียวกัน"
                f" หนังสือที่พิมพ์จะใช้เลข{other_th}ทั้งฉบับ ({printed})",
            )

    def bidi_controls(self) -> None:
        for field, text in _all_texts(self.doc):
            match = _BIDI_CONTROL_RE.search(text)
            if match is None:
                continue
            code_point = f"U+{ord(match.group()):04X}"
            where = match.start() + 1
            self.add(
                field,
                "bidi_control",
                f"text-direction control {code_point} at character {where}: it could make the"
                " text print in another order than it reads; it is left out of the printed letter",
                f"มีอักขระควบคุมทิศทางข้อความ {code_point} ที่อักขระตัวที่ {where} ซึ่งอาจทำให้ข้อความ"
                "พิมพ์ออกมาเรียงต่างจากที่พิมพ์ไว้ จะไม่ถูกพิมพ์ลงในหนังสือ",
            )


def lint(doc: object, *, today: dt.date | None = None, digits: str = "thai") -> list[Problem]:
    """Warnings a careful clerk would want about a letter that validates. Never raises.

    Codes: parts (``missing_part`` sender block of an external letter, ``not_printed`` a part
    the kind does not print, ``acting_line``), forms of address (``salutation_pair``,
    ``unknown_salutation``), the letter's date (``future_date``, ``before_1941``,
    ``weekend_date``, ``fiscal_year`` when the newest ปีงบประมาณ named in the subject, or
    else the body, is before the letter's own or after the next), dates in the text
    (``weekday_mismatch``, ``text_ce_year``, ``text_impossible_date``, ``deadline_passed``),
    numbers (``nonstandard_ref_no`` a "/year" tail, ``ref_year`` of an order,
    ``circular_expected`` when the addressee is "ทุก…" without ว, ``cites_itself``,
    ``cited_after_date``), ``postcode_province`` / ``unknown_postcode`` (geothai), the body
    against the lists (``reference_missing``, ``enclosure_missing``, ``reference_number``,
    ``enclosure_number``), ``marking_on_kind`` (urgency or secrecy on a public announcement)
    ``zero_width`` (an invisible character inside a Thai word), ``unprintable`` (a
    character the letter font does not draw: emoji, Chinese), ``mixed_digits`` (a field
    typed in Arabic digits in a letter that also has Thai ones, or the other way round: the
    printed letter converts them to the office's kind) and ``bidi_control`` (a
    text-direction control such as U+202E, left out of the printed letter). ``โปรด`` toward
    a subordinate is convention only and not flagged.

    ``today`` (default: the system date) is only for the "dated in the future" rule;
    ``digits`` (the office's SARABAN_LETTER_DIGITS) only for ``mixed_digits``.
    """
    if not isinstance(doc, dict):
        return []
    return _Linter(doc, today or dt.date.today(), digits).run()


# --------------------------------------------------------------------------- files


def _file_problem(code: str, en: str, th: str) -> InvalidLetter:
    return InvalidLetter([Problem("(file)", code, en, th)])


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _file_problem(
                "duplicate_key",
                f"key {_shown(key)} appears twice in one object; JSON keeps only the last",
                f"คีย์ {_shown(key)} ซ้ำกันในออบเจกต์เดียว (JSON จะเก็บไว้เฉพาะค่าสุดท้าย)",
            )
        seen[key] = value
    return seen


def _reject_constant(name: str) -> Any:
    raise _file_problem(
        "not_json",
        f"{name} is not a JSON value",
        f"{name} ไม่ใช่ค่าแบบ JSON",
    )


def load_letter(path: Path) -> CheckedLetter:
    """Read a letter document (UTF-8 JSON, a BOM tolerated) and :func:`check` it.

    Malformed JSON, bad UTF-8 and duplicate keys raise :class:`InvalidLetter` with a
    ``Problem`` whose field is ``"(file)"`` and whose message names the line and column; a
    missing file raises :class:`NotFound`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _file_problem(
                "too_large",
                f"{path.name} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}",
                f"{path.name} มีขนาด {size:,} ไบต์ (ไม่เกิน {MAX_FILE_BYTES:,} ไบต์)",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"ไม่พบไฟล์ / no such file: {path}") from None
    except OSError as exc:
        raise _file_problem(
            "unreadable",
            f"cannot read {path}: {exc.strerror or exc}",
            f"อ่านไฟล์ {path} ไม่ได้: {exc.strerror or exc}",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_problem(
            "encoding",
            f"{path.name} is not UTF-8: bad byte at offset {exc.start}",
            f"{path.name} ไม่ได้เข้ารหัสแบบ UTF-8: ไบต์ที่ตำแหน่ง {exc.start} ไม่ถูกต้อง",
        ) from None
    try:
        doc = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise _file_problem(
            "malformed_json",
            f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            f"{path.name} ไม่ใช่ JSON ที่ถูกต้อง: {exc.msg} ที่บรรทัด {exc.lineno} คอลัมน์ {exc.colno}",
        ) from None
    except RecursionError:
        raise _file_problem(
            "too_deep",
            f"{path.name} is nested too deeply to read",
            f"{path.name} ซ้อนกันลึกเกินกว่าจะอ่านได้",
        ) from None
    return check(doc)
