"""Form schemas: the fields of a form, their types and limits, and the check of form data.

One description serves three readers: the web form is built from :meth:`FormSchema.as_dict`
(a JSON-serialisable dict), the API checks incoming data with :meth:`FormSchema.check`
(every problem at once, each tied to a dotted path such as ``committee.3.name``, 0-based as
in letter documents), and the renderers get the normalised data (every field present, a
missing value as ``None``, preset table values filled in).

Nothing is silently fixed: text is kept exactly as typed (no trimming, no digit change),
a wrong type or an unknown field is reported, never dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from saraban.errors import Problem
from saraban.letter import json_type_name
from saraban.thai import to_arabic_digits, to_thai_digits
from saraban.vocabulary import cut

#: Field types, with what each accepts in JSON and how the form prints it.
TYPES = {
    "text": "one line of text, printed as typed",
    "textarea": "text that may hold line breaks, printed as typed",
    "integer": "a whole number (JSON number, or a string of Arabic or Thai digits), "
    "printed in Thai digits",
    "date": "an ISO date YYYY-MM-DD with the CE year, printed as a Thai date (BE year)",
    "year": "a Buddhist-era year such as 2568, printed in Thai digits",
    "month": "a month number 1-12, printed as the Thai month name",
}

# Control characters other than tab and line feed, and what XML 1.0 has no place for (lone
# surrogates, U+FFFE, U+FFFF), cannot be stored in a .docx or an .xlsx (a reply's value made
# the province's summary fail); control characters turn into page or paragraph breaks in
# docxtpl. They are refused, not stripped.
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# What prints as nothing: spaces of every kind and the invisible joiners and break hints.
# A required value made only of these is missing (it would print an empty line).
_BLANK = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]*")
_DIGITS = re.compile(r"[0-9๐-๙]+")
MAX_TEXT = 300
UNKNOWN_NAMED = 10  # unknown keys of one object named in the problems
LARGEST_INTEGER = 2**53 - 1  # what every JSON reader holds exactly (I-JSON), as the API
MAX_TEXTAREA = 3000


@dataclass(frozen=True)
class Field:
    """One value of a form (or one column of a repeating table)."""

    name: str
    type: str
    th: str  # label in Thai, as printed on the form where it has a label
    en: str
    required: bool = False
    max_length: int | None = None  # text and textarea; default MAX_TEXT / MAX_TEXTAREA
    minimum: int | None = None  # integer and year
    maximum: int | None = None
    help: str = ""  # a hint for the web form, Thai

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"field {self.name!r}: unknown type {self.type!r}")

    @property
    def limit(self) -> int:
        if self.max_length is not None:
            return self.max_length
        return MAX_TEXTAREA if self.type == "textarea" else MAX_TEXT

    def as_dict(self) -> dict:
        out: dict = {
            "name": self.name,
            "kind": "field",
            "type": self.type,
            "label": {"th": self.th, "en": self.en},
            "required": self.required,
        }
        if self.type in ("text", "textarea"):
            out["max_length"] = self.limit
        bounds = self._bounds()
        if bounds[0] is not None:
            out["minimum"] = bounds[0]
        if bounds[1] is not None:
            out["maximum"] = bounds[1]
        if self.help:
            out["help"] = self.help
        return out

    def _bounds(self) -> tuple[int | None, int | None]:
        if self.type == "year":
            return (self.minimum or 2400, self.maximum or 2700)
        if self.type == "month":
            return (1, 12)
        return (self.minimum, self.maximum)

    def check(self, value: object, path: str, problems: list[Problem]) -> object:
        """The normalised value (``None`` when absent), appending any problem found. A
        required value must print something: spaces or invisible characters alone are
        missing too."""
        blank = isinstance(value, str) and _BLANK.fullmatch(value) is not None
        if value is None or value == "" or (blank and self.required):
            if self.required:
                problems.append(
                    Problem(path, "required", f"{self.en} is required", f"ต้องกรอก{self.th}")
                )
            return None
        if self.type in ("text", "textarea"):
            return self._check_text(value, path, problems)
        if self.type == "date":
            return self._check_date(value, path, problems)
        return self._check_number(value, path, problems)

    def _check_text(self, value: object, path: str, problems: list[Problem]) -> str | None:
        if not isinstance(value, str):
            problems.append(
                Problem(
                    path,
                    "type",
                    f"{self.en} must be text, not {json_type_name(value)[0]}",
                    f"{self.th} ต้องเป็นข้อความ",
                )
            )
            return None
        if self.type == "text" and "\n" in value:
            problems.append(
                Problem(
                    path,
                    "line_break",
                    f"{self.en} must be one line",
                    f"{self.th} ต้องเป็นข้อความบรรทัดเดียว",
                )
            )
        if UNPRINTABLE.search(value):
            problems.append(
                Problem(
                    path,
                    "control_character",
                    f"{self.en} holds a control character that cannot be printed",
                    f"{self.th} มีอักขระควบคุมที่พิมพ์ไม่ได้",
                )
            )
        if len(value) > self.limit:
            problems.append(
                Problem(
                    path,
                    "too_long",
                    f"{self.en} is {len(value)} characters long; at most {self.limit}",
                    f"{self.th} ยาว {len(value)} ตัวอักษร เกินกว่า {self.limit} ตัวอักษร",
                )
            )
        return value

    def _check_date(self, value: object, path: str, problems: list[Problem]) -> dt.date | None:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            day = value
        elif isinstance(value, str):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                problems.append(
                    Problem(
                        path,
                        "date",
                        f"{self.en}: {value!r} is not an ISO date YYYY-MM-DD",
                        f"{self.th}: {value!r} ไม่ใช่วันที่แบบ ค.ศ. ปปปป-ดด-วว",
                    )
                )
                return None
        else:
            problems.append(
                Problem(
                    path,
                    "type",
                    f"{self.en} must be a date string, not {json_type_name(value)[0]}",
                    f"{self.th} ต้องเป็นวันที่",
                )
            )
            return None
        if day.year > 2400:
            problems.append(
                Problem(
                    path,
                    "be_year",
                    f"{self.en}: {day.year} looks like a Buddhist-era year; ISO dates use "
                    f"the CE year ({day.year - 543})",
                    f"{self.th}: ปี {day.year} เป็นปี พ.ศ. วันที่แบบ ISO ใช้ปี ค.ศ. ({day.year - 543})",
                )
            )
            return None
        return day

    def _check_number(self, value: object, path: str, problems: list[Problem]) -> int | None:
        number: int | None = None
        shown = ""
        if isinstance(value, int) and not isinstance(value, bool):
            number, shown = value, str(value)
        elif isinstance(value, str) and _DIGITS.fullmatch(value):
            digits = to_arabic_digits(value).lstrip("0") or "0"
            # Longer than the largest: out of range unread (int() refuses thousands of digits).
            number = int(digits) if len(digits) <= len(str(LARGEST_INTEGER)) else None
            shown = digits if number is not None else f"{digits[:20]}…"
            number = LARGEST_INTEGER + 1 if number is None else number
        if number is None:
            problems.append(
                Problem(
                    path,
                    "type",
                    f"{self.en} must be a whole number, not {json_type_name(value)[0]} "
                    f"{str(value)[:40]!r}",
                    f"{self.th} ต้องเป็นจำนวนเต็ม",
                )
            )
            return None
        low, high = self._bounds()
        high = LARGEST_INTEGER if high is None else high
        if (low is not None and number < low) or number > high:
            span = f"{'' if low is None else low}..{high}"
            problems.append(
                Problem(
                    path,
                    "range",
                    f"{self.en}: {shown} is outside {span}",
                    f"{self.th}: {to_thai_digits(shown)} อยู่นอกช่วง {to_thai_digits(span)}",
                )
            )
        return number


@dataclass(frozen=True)
class Table:
    """A repeating group of rows (a table of the form, or a numbered list).

    ``presets``: fixed values of the first rows (the committee's roles, the advisers'
    kinds); a row may override them. A blank form prints ``blank_rows`` empty rows, or one
    row per preset. ``columns`` may hold a nested :class:`Table` (an activity's steps).
    """

    name: str
    th: str
    en: str
    columns: tuple[Field | Table, ...]
    max_rows: int
    min_rows: int = 0
    presets: tuple[dict, ...] = ()
    blank_rows: int = 3

    @property
    def required(self) -> bool:
        return self.min_rows > 0

    def as_dict(self) -> dict:
        out = {
            "name": self.name,
            "kind": "table",
            "label": {"th": self.th, "en": self.en},
            "required": self.required,
            "min_rows": self.min_rows,
            "max_rows": self.max_rows,
            "columns": [c.as_dict() for c in self.columns],
        }
        if self.presets:
            out["presets"] = [dict(p) for p in self.presets]
        return out

    def check(self, value: object, path: str, problems: list[Problem]) -> list[dict]:
        if value is None:
            value = []
        if not isinstance(value, list):
            problems.append(
                Problem(
                    path,
                    "type",
                    f"{self.en} must be a list of rows, not {json_type_name(value)[0]}",
                    f"{self.th} ต้องเป็นรายการแถว",
                )
            )
            return []
        if len(value) > self.max_rows:
            problems.append(
                Problem(
                    path,
                    "too_many_rows",
                    f"{self.en} has {len(value)} rows; at most {self.max_rows}",
                    f"{self.th} มี {to_thai_digits(str(len(value)))} แถว "
                    f"เกินกว่า {to_thai_digits(str(self.max_rows))} แถว",
                )
            )
            value = value[: self.max_rows]
        if len(value) < self.min_rows:
            problems.append(
                Problem(
                    path,
                    "too_few_rows",
                    f"{self.en} needs at least {self.min_rows} row(s)",
                    f"{self.th} ต้องมีอย่างน้อย {to_thai_digits(str(self.min_rows))} แถว",
                )
            )
        rows = []
        for index, row in enumerate(value):
            preset = self.presets[index] if index < len(self.presets) else {}
            rows.append(_check_group(self.columns, row, f"{path}.{index}", problems, preset))
        return rows

    def blank(self) -> list[dict]:
        count = len(self.presets) or self.blank_rows
        rows = []
        for index in range(count):
            preset = self.presets[index] if index < len(self.presets) else {}
            rows.append(_blank_group(self.columns, preset))
        return rows


@dataclass(frozen=True)
class Photos:
    """Photographs pasted into the form (JPEG or PNG, see :mod:`templates.forms._photos`):
    a list of at most ``max_count``, each sent as bytes (a web upload) or base64 text (the
    API), checked by content and re-encoded; the renderers get :class:`Photo` objects."""

    name: str
    th: str
    en: str
    max_count: int

    required = False

    def as_dict(self) -> dict:
        from saraban.templates.forms._photos import MAX_BYTES, MAX_PIXELS

        return {
            "name": self.name,
            "kind": "photos",
            "label": {"th": self.th, "en": self.en},
            "required": False,
            "max_count": self.max_count,
            "max_bytes": MAX_BYTES,
            "max_pixels": MAX_PIXELS,
            "types": ["image/jpeg", "image/png"],
        }

    def check(self, value: object, path: str, problems: list[Problem]) -> list:
        from saraban.templates.forms._photos import Photo, PhotoError, clean_photo, decode_upload

        if value is None:
            return []
        if not isinstance(value, list):
            problems.append(
                Problem(
                    path,
                    "type",
                    f"{self.en} must be a list of photos, not {json_type_name(value)[0]}",
                    f"{self.th} ต้องเป็นรายการภาพ",
                )
            )
            return []
        if len(value) > self.max_count:
            problems.append(
                Problem(
                    path,
                    "too_many_photos",
                    f"{self.en}: {len(value)} photos; at most {self.max_count}",
                    f"{self.th} มี {to_thai_digits(str(len(value)))} ภาพ "
                    f"เกินกว่า {to_thai_digits(str(self.max_count))} ภาพ",
                )
            )
            value = value[: self.max_count]
        photos = []
        for index, item in enumerate(value):
            if isinstance(item, Photo):  # cleaned already (only Python callers make these)
                photos.append(item)
                continue
            try:
                photos.append(clean_photo(decode_upload(item)))
            except PhotoError as exc:
                number = to_thai_digits(str(index + 1))
                problems.append(
                    Problem(
                        f"{path}.{index}",
                        exc.code,
                        f"photo {index + 1}: {exc.en}",
                        f"ภาพที่ {number}: {exc.th}",
                    )
                )
        return photos

    def blank(self) -> list:
        return []


@dataclass(frozen=True)
class FormSchema:
    """The fields and tables of one form, in the order they are printed."""

    items: tuple[Field | Table | Photos, ...]

    def as_dict(self) -> dict:
        return {"items": [item.as_dict() for item in self.items]}

    def check(self, data: object) -> tuple[dict, list[Problem]]:
        """Normalised data and every problem found (an empty list: the data is good)."""
        problems: list[Problem] = []
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    "",
                    "type",
                    f"form data must be a JSON object, not {json_type_name(data)[0]}",
                    "ข้อมูลแบบฟอร์มต้องเป็นออบเจกต์ JSON",
                )
            )
            return self.blank(), problems
        return _check_group(self.items, data, "", problems, {}), problems

    def blank(self) -> dict:
        """The data of a blank form: no values, tables with their blank rows."""
        out: dict = {}
        for item in self.items:
            out[item.name] = item.blank() if isinstance(item, Table | Photos) else None
        return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_group(
    items: tuple[Field | Table | Photos, ...],
    data: object,
    path: str,
    problems: list[Problem],
    preset: dict,
) -> dict:
    if not isinstance(data, dict):
        problems.append(
            Problem(
                path,
                "type",
                f"a row must be a JSON object, not {json_type_name(data)[0]}",
                "แต่ละแถวต้องเป็นออบเจกต์ JSON",
            )
        )
        return _blank_group(items, preset)
    known = {item.name for item in items}
    unknown = [key for key in data if key not in known]
    listed = ", ".join(sorted(known))
    for key in unknown[:UNKNOWN_NAMED]:  # the rest counted: 100,000 named made a 62 MB answer
        shown = cut(str(key))
        problems.append(
            Problem(
                _join(path, shown),
                "unknown_field",
                f"unknown field {shown!r}; known: {listed}",
                f"ไม่มีช่อง {shown!r} ในแบบฟอร์มนี้",
            )
        )
    if len(unknown) > UNKNOWN_NAMED:
        more = len(unknown) - UNKNOWN_NAMED
        problems.append(
            Problem(
                path,
                "unknown_field",
                f"and {more:,} more unknown fields",
                f"และช่องที่ไม่มีในแบบฟอร์มอีก {more:,} ช่อง",
            )
        )
    out: dict = {}
    for item in items:
        value = data.get(item.name)
        if (value is None or value == "") and item.name in preset:
            value = preset[item.name]
        out[item.name] = item.check(value, _join(path, item.name), problems)
    return out


def _blank_group(items: tuple[Field | Table | Photos, ...], preset: dict) -> dict:
    out: dict = {}
    for item in items:
        if isinstance(item, Table | Photos):
            out[item.name] = item.blank()
        else:
            out[item.name] = preset.get(item.name)
    return out
