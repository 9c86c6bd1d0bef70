"""Thai conventions every package shares: digits, BE dates, fiscal years, baht text, ที่ numbers.

PyThaiNLP does the Thai work wherever it is right (``thai_strftime``, ``num_to_thaiword``).
It is imported when first needed: it takes about 0.1 s of CPU to import, and the commands
and the archive that import this module for its names and digits (``saraban tracking
--json`` prints no Thai date) should not pay that. The month and weekday names and the
digit tables are written here, the same as PyThaiNLP's (``tests/test_thai.py`` compares
them). What is here is what PyThaiNLP does not do for letters:
reading dates as clerks print them (``thai_strptime`` fails on Thai digits and abbreviated
months), refusing a CE year instead of shifting it silently, money through ``Decimal`` only,
and the grammar of reference numbers (section 2 of the reference). Bad input raises an error
whose message is in Thai and English; nothing is fixed silently.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import NoReturn

from saraban.errors import BadRequest

# The same as pythainlp.util.date's thai_full_months, thai_abbr_months, thai_full_weekdays.
THAI_MONTHS: tuple[str, ...] = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
THAI_MONTHS_ABBR: tuple[str, ...] = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
# Monday first, like date.weekday(); without the word "วัน".
THAI_WEEKDAYS: tuple[str, ...] = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")

BE_OFFSET = 543
# A 4-digit year below this is read as CE: BE 2400 is 1857, older than any letter we keep.
MIN_BE_YEAR = 2400

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"  # ZWSP, ZWNJ, ZWJ, word joiner, BOM
_TO_ARABIC = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_TO_THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_ZERO_WIDTH_RE = re.compile(f"[{_ZERO_WIDTH}]")
_DIGIT_PAIRS = tuple(zip("๐๑๒๓๔๕๖๗๘๙", "0123456789", strict=True))
_THAI_CHAR = "\u0e00-\u0e7f"


class ThaiInputError(BadRequest, ValueError):
    """Thai text that cannot be read as asked. ``code``, ``th`` and ``en`` feed a ``Problem``."""

    def __init__(self, code: str, th: str, en: str) -> None:
        self.code, self.th, self.en = code, th, en
        super().__init__(f"{th} / {en}")


class ThaiDateError(ThaiInputError):
    """A Thai date that is unreadable, impossible, in CE, or whose weekday does not match."""


class RefNoError(ThaiInputError):
    """A reference number (ที่) that does not follow the grammar."""


class AmountError(ThaiInputError):
    """A money amount that cannot be written in words without guessing."""


def to_thai_digits(text: str) -> str:
    """Arabic 0-9 -> ๐-๙; nothing else changes. For generated text only, never typed text."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return text.translate(_TO_THAI)


def to_arabic_digits(text: str) -> str:
    """๐-๙ -> 0-9; nothing else changes."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    return text.translate(_TO_ARABIC)


def be_year(ce_year: int) -> int:
    """BE = CE + 543 (true for every date since the Thai year began on 1 January, 1941)."""
    return ce_year + BE_OFFSET


def ce_year(be_year: int) -> int:
    return be_year - BE_OFFSET


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """Drop zero-width characters and turn Thai digits into Arabic ones.

    Returns the new text and, for each of its characters, its index in ``text`` (None when
    nothing was dropped: every index is its own), so that a match found in the new text
    can be reported at its place in the original.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not _ZERO_WIDTH_RE.search(text):
        return _arabic(text), None
    kept = [(i, ch) for i, ch in enumerate(text) if ch not in _ZERO_WIDTH]
    return _arabic("".join(ch for _, ch in kept)), [i for i, _ in kept]


def _arabic(text: str) -> str:
    """Thai digits made Arabic, a digit at a time: ``str.translate`` looks every character
    up in a dict, and ten scans for one character are many times faster on a letter."""
    for thai, arabic in _DIGIT_PAIRS:
        if thai in text:
            text = text.replace(thai, arabic)
    return text


def _span(index: list[int] | None, start: int, end: int) -> tuple[int, int]:
    if index is None:
        return start, end
    return index[start], index[end - 1] + 1


# ---- dates -----------------------------------------------------------------------------------

_STYLES = {
    "letter": "%-d %B %Y",
    "weekday": "%Aที่ %-d %B %Y",
    "short": "%-d %b %y",
    "decree": "%-d %B พ.ศ. %Y",
}


def thai_date(d: datetime.date, style: str = "letter") -> str:
    """A date as printed in Thai documents, always in Thai digits.

    ``letter`` "๑๕ ธันวาคม ๒๕๖๕" (date line of a letter or memo); ``weekday``
    "วันพฤหัสบดีที่ ๒๕ กุมภาพันธ์ ๒๕๖๔" (deadlines in text); ``short`` "๑๕ ธ.ค. ๖๕" (registers,
    tables; the 2-digit year reads back as 25xx); ``decree`` "๑ มกราคม พ.ศ. ๒๕๖๘" (after
    "สั่ง ณ วันที่" / "ประกาศ ณ วันที่").
    """
    if not isinstance(d, datetime.date):
        raise TypeError(f"d must be a datetime.date, not {type(d).__name__}")
    if style not in _STYLES:
        raise ValueError(f"unknown date style {style!r}; choose one of {', '.join(_STYLES)}")
    from pythainlp.util import thai_strftime

    # thai_strftime takes a datetime; the styles print only the date part.
    midnight = datetime.datetime.combine(d, datetime.time())
    return thai_strftime(midnight, _STYLES[style], thaidigit=True)


def _abbr_pattern(abbr: str) -> str:
    return r"\.?\s?".join(re.escape(part) for part in abbr.rstrip(".").split(".")) + r"\.?"


_MONTH_NUMBER = {name: n for n, name in enumerate(THAI_MONTHS, 1)} | {
    abbr.replace(".", ""): n for n, abbr in enumerate(THAI_MONTHS_ABBR, 1)
}
_WEEKDAY_ALIASES = {w: w for w in THAI_WEEKDAYS} | {"พฤหัส": "พฤหัสบดี"}
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DATE_PATTERN = r"""
    (?:(?:ลง|ณ\s*)?วันที่\s*
      |(?:วัน)?(?P<weekday>{weekdays})\s*(?:ที่)?\s*)?
    (?<![0-9.,])(?P<day>[0-9]{{1,2}})\s*/?\s*
    (?:เดือน\s*)?(?P<month>{months})\s*
    (?:(?P<era>พ\s?\.?\s?ศ\.?|ค\s?\.?\s?ศ\.?)\s*)?
    (?P<year>[0-9]{{4}}|[0-9]{{2}})(?![0-9])(?!\.[0-9])
""".format(
    weekdays="|".join(sorted(_WEEKDAY_ALIASES, key=len, reverse=True)),
    months="|".join([*THAI_MONTHS, *map(_abbr_pattern, THAI_MONTHS_ABBR)]),
)
_DATE_RE = re.compile(_DATE_PATTERN, re.VERBOSE)


@dataclass(frozen=True)
class ThaiDateMatch:
    """One date found in free text. ``date`` is None only when the numbers make no date."""

    start: int  # index in the original text, zero-width characters included
    end: int
    text: str  # text[start:end], as printed
    date: datetime.date | None
    weekday: str | None  # as written, normalised to a THAI_WEEKDAYS name
    error: str | None  # Thai / English message; set for a CE year, impossible date, wrong weekday
    error_code: str | None = None  # "ce_year", "impossible_date", "weekday_mismatch"


def _read_date(m: re.Match[str]) -> tuple[datetime.date | None, str | None, ThaiDateError | None]:
    day = int(m["day"])
    month = _MONTH_NUMBER[re.sub(r"[.\s]", "", m["month"])]
    weekday = _WEEKDAY_ALIASES[m["weekday"]] if m["weekday"] else None
    year = int(m["year"])
    shown = f"{day} {THAI_MONTHS[month - 1]} {m['year']}"
    if len(m["year"]) == 2:
        year += 2000 if m["era"] and m["era"][0] == "ค" else 2500
    if (m["era"] and m["era"][0] == "ค") or year < MIN_BE_YEAR:
        be = to_thai_digits(str(year + BE_OFFSET))
        th = (
            f"ปี {to_thai_digits(str(year))} ใน '{to_thai_digits(shown)}' เป็นปี ค.ศ."
            f" หนังสือราชการใช้ปี พ.ศ. (ค.ศ. {to_thai_digits(str(year))} = พ.ศ. {be})"
        )
        en = (
            f"the year {year} in '{shown}' looks like a CE (ค.ศ.) year;"
            f" Thai letters use the BE year: CE {year} is BE {year + BE_OFFSET}"
        )
        return None, weekday, ThaiDateError("ce_year", th, en)
    try:
        d = datetime.date(year - BE_OFFSET, month, day)
    except ValueError:
        th = f"ไม่มีวันที่ {to_thai_digits(shown)} ในปฏิทิน"
        en = f"there is no such date as {shown} (BE)"
        return None, weekday, ThaiDateError("impossible_date", th, en)
    if weekday and THAI_WEEKDAYS[d.weekday()] != weekday:
        actual = THAI_WEEKDAYS[d.weekday()]
        th = f"วันที่ {thai_date(d)} เป็นวัน{actual} ไม่ใช่วัน{weekday}"
        en = f"{shown} ({d.isoformat()}) is a {_EN_WEEKDAYS[d.weekday()]}, not วัน{weekday}"
        return d, weekday, ThaiDateError("weekday_mismatch", th, en)
    return d, weekday, None


def parse_thai_date(text: str) -> datetime.date:
    """Read one date as printed in Thai letters: "๑๕ ธันวาคม ๒๕๖๕", "15 ธ.ค.65", ...

    Accepts Thai or Arabic digits, full or abbreviated months (dots optional), a leading
    "วันที่"/"ลงวันที่"/weekday, "พ.ศ." before the year, 2-digit years (๖๕ = 2565) and
    extraction noise such as "๑๓/ กุมภาพันธ์ ๒๕๖๔". A CE year, an impossible date or a weekday
    that does not match raise :class:`ThaiDateError`: a 543-year shift must never be silent.
    """
    normal = _normalise(text)[0].strip()
    if not normal:
        raise ThaiDateError("empty", "ไม่มีวันที่", "no date given")
    m = _DATE_RE.fullmatch(normal)
    if m is None:
        raise ThaiDateError(
            "unreadable",
            f"อ่านวันที่ไม่ได้: '{text.strip()}' (ควรเป็นแบบ ๑๕ ธันวาคม ๒๕๖๕)",
            f"cannot read '{text.strip()}' as a Thai date (expected like ๑๕ ธันวาคม ๒๕๖๕)",
        )
    d, _, error = _read_date(m)
    if error is not None:
        raise error
    assert d is not None
    return d


_NUMERIC_DATE_RE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_be_date(text: str | None) -> datetime.date | None:
    """A date typed in the Buddhist era: "๑๕ ธันวาคม ๒๕๖๘", "15 ธ.ค. 68" or "15/12/2568".

    Empty means "no date" (issuing dates the letter today). A Christian-era year is refused
    with a message saying what it would be in BE; it is never shifted silently.
    """
    if text is None or not text.strip():
        return None
    plain = to_arabic_digits(text.strip())
    if _ISO_DATE_RE.fullmatch(plain):  # 2568-12-15: read as day/month/year like the rest
        plain = f"{plain[8:10]}/{plain[5:7]}/{plain[:4]}"
    match = _NUMERIC_DATE_RE.fullmatch(plain)
    if match is None:
        return parse_thai_date(text)
    day, month, year = (int(part) for part in match.groups())
    if year < MIN_BE_YEAR:
        be = to_thai_digits(str(year + BE_OFFSET))
        raise ThaiDateError(
            "ce_year",
            f"ปี {to_thai_digits(str(year))} เป็นปี ค.ศ. หนังสือราชการใช้ปี พ.ศ. "
            f"(ค.ศ. {to_thai_digits(str(year))} = พ.ศ. {be}) โปรดพิมพ์ปี พ.ศ.",
            f"the year {year} is a CE year; Thai letters use BE: CE {year} is BE "
            f"{year + BE_OFFSET}",
        )
    try:
        return datetime.date(year - BE_OFFSET, month, day)
    except ValueError:
        shown = to_thai_digits(f"{day}/{month}/{year}")
        raise ThaiDateError(
            "impossible_date",
            f"ไม่มีวันที่ {shown} ในปฏิทิน",
            f"there is no such date as {day}/{month}/{year} (BE)",
        ) from None


@dataclass(frozen=True)
class DateMention:
    """A date written in text, in any form :func:`read_dates` reads."""

    start: int  # index in the original text, zero-width characters included
    end: int
    text: str  # text[start:end], as written
    date: datetime.date
    era: str  # "BE" or "CE": the era the year was written in


# One pattern for every form, starting with the day's digits so that the engine skips the
# rest of the text quickly; what must not stand before a date is checked after a match.
_LOOSE_DATE_RE = re.compile(
    r"""
    (?P<day>[0-9]{{1,2}})(?:
      \s*/?\s*(?:เดือน\s*)?(?P<month>{months})\s*
      (?:(?P<era>พ\s?\.?\s?ศ\.?|ค\s?\.?\s?ศ\.?)\s*)?
      (?P<year>[0-9]{{4}}|[0-9]{{2}})(?![0-9])(?!\.[0-9])
    | (?P<sep>\s?[/.-]\s?)(?P<nmonth>[0-9]{{1,2}})(?P=sep)
      (?P<nyear>[0-9]{{4}}|[0-9]{{2}})(?![0-9])(?![./-][0-9])
    | (?P<iyear>[0-9]{{2}})-(?P<imonth>[0-9]{{1,2}})-(?P<iday>[0-9]{{1,2}})
      (?![0-9])(?![./-][0-9])
    )""".format(months="|".join([*THAI_MONTHS, *map(_abbr_pattern, THAI_MONTHS_ABBR)])),
    re.VERBOSE,
)


def _loose_date(m: re.Match[str], before: str) -> tuple[datetime.date, str] | None:
    """The date and era of a :data:`_LOOSE_DATE_RE` match; None for no date, or a match that
    continues a number (``before``: the character before it)."""
    digits = m["day"]
    if m["month"]:
        if before and before in "0123456789.,":
            return None
        day, month = int(digits), _MONTH_NUMBER[re.sub(r"[.\s]", "", m["month"])]
        written, ce = m["year"], bool(m["era"]) and m["era"][0] == "ค"
    elif before and before in "0123456789./-":
        return None
    elif m["nmonth"]:
        day, month, written, ce = int(digits), int(m["nmonth"]), m["nyear"], False
    else:
        if len(digits) != 2:
            return None
        day, month, written, ce = int(m["iday"]), int(m["imonth"]), digits + m["iyear"], False
    year = int(written)
    if len(written) == 2:  # ๖๗ is 2567; with ค.ศ., 24 is 2024
        year += 2000 if ce else 2500
    ce = ce or year < MIN_BE_YEAR
    try:
        return datetime.date(year if ce else year - BE_OFFSET, month, day), "CE" if ce else "BE"
    except ValueError:
        return None


def read_dates(text: str) -> list[DateMention]:
    """Every date in free text, in every form real letters and clerks write one.

    ``๒๑ พฤศจิกายน ๒๕๖๗``, ``๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗``, ``21 พ.ย. 67``, ``21/11/2567``,
    ``21-11-67``, ``21.11.2567``, ISO ``2024-11-21``; Thai and Arabic digits, mixed even in
    one number. A year below 2400, or marked ค.ศ., is read as CE and converted; a 2-digit
    year is BE (``67`` is 2567), or CE after ค.ศ. Unlike :func:`find_thai_dates`, which
    checks the dates a letter prints and refuses a CE year, this reads what was written,
    for search and for reading other offices' documents; a date that does not exist
    (``31/02/2567``) is left out.
    """
    normal, index = _normalise(text)
    found = []
    for m in _LOOSE_DATE_RE.finditer(normal):
        read = _loose_date(m, normal[m.start() - 1] if m.start() else "")
        if read is not None:
            start, end = _span(index, *m.span())
            found.append(DateMention(start, end, text[start:end], *read))
    return found


def find_thai_dates(text: str) -> list[ThaiDateMatch]:
    """Every day-month-year date in free text, with its weekday and any error, in order.

    A date without a year ("วันที่ ๒๘ กรกฎาคม") is not a date here. Spans point into ``text``.
    """
    normal, index = _normalise(text)
    found = []
    for m in _DATE_RE.finditer(normal):
        start, end = _span(index, *m.span())
        d, weekday, error = _read_date(m)
        found.append(
            ThaiDateMatch(
                start,
                end,
                text[start:end],
                d,
                weekday,
                error.message if error else None,
                error.code if error else None,
            )
        )
    return found


# ---- fiscal year (ปีงบประมาณ) ----------------------------------------------------------------


def fiscal_year(d: datetime.date) -> int:
    """BE fiscal year: 1 Oct - 30 Sep, named by the BE year it ends in (15 Dec 2567 -> 2568)."""
    return be_year(d.year + (d.month >= 10))


def fiscal_quarter(d: datetime.date) -> int:
    """1: Oct-Dec, 2: Jan-Mar, 3: Apr-Jun, 4: Jul-Sep."""
    return (d.month - 10) % 12 // 3 + 1


def fiscal_year_range(be_fiscal_year: int) -> tuple[datetime.date, datetime.date]:
    """First and last day (inclusive) of a BE fiscal year: 2568 -> 2024-10-01 .. 2025-09-30."""
    if be_fiscal_year < MIN_BE_YEAR:
        raise ThaiDateError(
            "ce_year",
            f"ปีงบประมาณ {to_thai_digits(str(be_fiscal_year))} เป็นปี ค.ศ. ให้ใช้ปี พ.ศ.",
            f"fiscal year {be_fiscal_year} looks like a CE year; give the BE year",
        )
    ce = ce_year(be_fiscal_year)
    return datetime.date(ce - 1, 10, 1), datetime.date(ce, 9, 30)


# ---- money -----------------------------------------------------------------------------------

_AMOUNT_RE = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


def _to_satang(amount: Decimal | int | str) -> int:
    """An amount as an exact number of satang. Floats are refused: they have rounded already."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int, str)):
        raise TypeError(
            f"amount must be Decimal, int or str, not {type(amount).__name__}"
            " (floats round money silently; use Decimal)"
        )
    if isinstance(amount, str):
        normal = _normalise(amount)[0].strip()
        if not _AMOUNT_RE.fullmatch(normal):
            raise AmountError(
                "unreadable",
                f"อ่านจำนวนเงินไม่ได้: '{amount}'",
                f"cannot read '{amount}' as an amount of baht",
            )
        amount = Decimal(normal.replace(",", ""))
    amount = Decimal(amount)
    if not amount.is_finite():
        raise AmountError("unreadable", f"จำนวนเงินไม่ใช่ตัวเลข: {amount}", f"not a number: {amount}")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    value = int("".join(map(str, digits)))
    if sign and value:
        raise AmountError(
            "negative", f"จำนวนเงินติดลบ: {amount}", f"negative amount {amount} cannot be written"
        )
    if exponent >= -2:
        return value * 10 ** (exponent + 2)
    below_satang, extra = divmod(value, 10 ** (-exponent - 2))
    if extra:
        raise AmountError(
            "satang_precision",
            f"จำนวนเงิน {amount} มีทศนิยมเกิน ๒ ตำแหน่ง (ไม่ปัดเศษให้)",
            f"amount {amount} has more than 2 decimal places; money is not rounded silently",
        )
    return below_satang


def baht_text(amount: Decimal | int | str) -> str:
    """An amount in words, as in "(สองแสนหกหมื่นเก้าพันบาทถ้วน)".

    ``pythainlp.util.bahttext`` gives the same words but takes floats only (it formats through
    ``f"{number:.2f}"``, so 1.005 becomes 1.00 and integers above 2**53 lose digits) and writes
    "ศูนย์บาทยี่สิบห้าสตางค์" for 0.25; here the same ``num_to_thaiword`` it uses is fed exact
    integers. Negative amounts raise :class:`AmountError`: a letter never states "ลบ" money.
    """
    from pythainlp.util import num_to_thaiword

    baht, satang = divmod(_to_satang(amount), 100)
    if not baht and not satang:
        return "ศูนย์บาทถ้วน"
    words = f"{num_to_thaiword(baht)}บาท" if baht else ""
    return words + (f"{num_to_thaiword(satang)}สตางค์" if satang else "ถ้วน")


def format_baht(amount: Decimal | int | str) -> str:
    """Digits and words: "๒๖๙,๐๐๐ บาท (สองแสนหกหมื่นเก้าพันบาทถ้วน)"; 2 decimals only for satang."""
    baht, satang = divmod(_to_satang(amount), 100)
    digits = f"{baht:,}" + (f".{satang:02d}" if satang else "")
    return f"{to_thai_digits(digits)} บาท ({baht_text(amount)})"


# ---- reference numbers (ที่) -----------------------------------------------------------------

_LETTER_REF = (
    r"(?P<code>[ก-ฮ]{2})\s*(?P<unit>[0-9]+(?:\s*\.\s*[0-9]+)*)\s*/\s*"
    r"(?P<circular>ว\.?\s*)?(?P<secret>ลับ(?:ที่สุด|มาก)?\s*)?"
    r"(?P<serial>[0-9]+)(?:\s*/\s*(?P<year>[0-9]{4}))?(?![0-9])"
)
_ORDER_REF = r"(?P<order_serial>[0-9]+)\s*/\s*(?P<order_year>[0-9]{4})(?![0-9])"
_REF_FULL_RE = re.compile(rf"(?:ที่\s*)?(?:{_LETTER_REF}|{_ORDER_REF})")
# In free text a letter number stands alone (or right after ที่); a code-less order number
# needs "ที่" before it, so "ครั้งที่ ๑/๒๕๖๘" (a meeting) is not read as an order number.
_REF_FIND_RE = re.compile(
    rf"(?:(?<![{_THAI_CHAR}])|(?<=ที่))(?P<letter>{_LETTER_REF})"
    rf"|(?:(?<![{_THAI_CHAR}])|(?<=คำสั่ง))ที่\s*(?P<order>{_ORDER_REF})"
)


# The secrecy levels that number in their own series, as the number prints them.
SECRET_SERIES = ("ลับ", "ลับมาก", "ลับที่สุด")


@dataclass(frozen=True)
class RefNo:
    """The number printed after "ที่": code, owning unit, ว for a circular, register serial."""

    code: str  # two Thai consonants ("นค", "มท"); "" for a คำสั่ง number
    unit: str  # Arabic digits with dots ("0019.3"); "" for a คำสั่ง number
    circular: bool
    serial: int
    year: int | None = None  # BE; normal for คำสั่ง "๑๒/๒๕๖๘", non-standard on a letter
    # ลับ, ลับมาก or ลับที่สุด: a number of that level's own series (ทะเบียนหนังสือลับ), printed
    # before the serial ("นค ๐๐๑๙.๓/ลับ ๕") so it is never taken for the normal series' ๕.
    secret: str | None = None

    def __post_init__(self) -> None:
        if self.code:
            if not re.fullmatch("[ก-ฮ]{2}", self.code):
                _ref_error(self.code, "รหัสต้องเป็นพยัญชนะ ๒ ตัว", "code must be 2 Thai consonants")
            if not re.fullmatch(r"[0-9]+(?:\.[0-9]+)*", self.unit):
                _ref_error(self.unit, "เลขหน่วยงานไม่ถูกต้อง", "unit must be Arabic digits and dots")
        elif self.unit or self.circular or self.secret or self.year is None:
            _ref_error(self, "เลขคำสั่งต้องเป็นแบบ ๑๒/๒๕๖๘", "a code-less number must be serial/year")
        if isinstance(self.serial, bool) or not isinstance(self.serial, int) or self.serial < 1:
            _ref_error(self.serial, "เลขทะเบียนต้องเป็นจำนวนเต็มบวก", "serial must be an int >= 1")
        if self.secret is not None and self.secret not in SECRET_SERIES:
            _ref_error(self.secret, "ชั้นความลับไม่ถูกต้อง", "secret must be ลับ, ลับมาก or ลับที่สุด")
        if self.year is not None and self.year < MIN_BE_YEAR:
            _ref_error(self.year, "ปีเป็น ค.ศ. ให้ใช้ พ.ศ.", "the year looks like CE; use the BE year")

    def format(self, digits: str = "thai") -> str:
        """Canonical form: "นค ๐๐๑๙.๓/ว ๒๕๖๔", "ลป ๐๐๑๙.๓/๒๗๕๒๘", "๑๒/๒๕๖๘"."""
        if digits not in ("thai", "arabic"):
            raise ValueError(f"unknown digits {digits!r}; choose 'thai' or 'arabic'")
        year = f"/{self.year}" if self.year is not None else ""
        if self.code:
            marks = ("ว " if self.circular else "") + (f"{self.secret} " if self.secret else "")
            text = f"{self.code} {self.unit}/{marks}{self.serial}{year}"
        else:
            text = f"{self.serial}{year}"
        return to_thai_digits(text) if digits == "thai" else text

    @property
    def key(self) -> str:
        """Spacing- and digit-independent key for matching: "นค0019.3/ว2564"."""
        return self.format("arabic").replace(" ", "")

    @property
    def standard(self) -> bool:
        """False for a letter number with a "/year" tail: read it, flag it, never generate it."""
        return not (self.code and self.year is not None)


def _ref_error(value: object, th: str, en: str) -> NoReturn:
    raise RefNoError("ref_no", f"เลขที่หนังสือไม่ถูกต้อง ({value}): {th}", f"bad ref_no ({value}): {en}")


def _ref_from_match(m: re.Match[str]) -> RefNo:
    if m["code"]:
        year = int(m["year"]) if m["year"] else None
        unit = re.sub(r"\s", "", m["unit"])
        secret = m["secret"].strip() if m["secret"] else None
        return RefNo(m["code"], unit, bool(m["circular"]), int(m["serial"]), year, secret)
    return RefNo("", "", False, int(m["order_serial"]), int(m["order_year"]))


def parse_ref_no(text: str) -> RefNo:
    """Read a ที่ number: "ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔", "บก 0019.3 / 15500", "๑๒/๒๕๖๘", ...

    Grammar (reference section 2): code [ก-ฮ]{2}, unit digits with dot sub-units, "/",
    optional ว, serial, optional "/BE-year"; or a code-less คำสั่ง number "serial/BE-year".
    """
    normal = _normalise(text)[0].strip()
    m = _REF_FULL_RE.fullmatch(normal)
    if m is None:
        raise RefNoError(
            "ref_no",
            f"อ่านเลขที่หนังสือไม่ได้: '{text.strip()}' (ควรเป็นแบบ นค ๐๐๑๙.๓/ว ๒๕๖๔)",
            f"cannot read '{text.strip()}' as a reference number (like นค ๐๐๑๙.๓/ว ๒๕๖๔)",
        )
    return _ref_from_match(m)


def ref_key(text: str) -> str:
    return parse_ref_no(text).key


def find_ref_nos(text: str) -> list[tuple[int, int, RefNo]]:
    """Every reference number in free text, as (start, end, RefNo); spans exclude "ที่".

    A number that matches the shape but breaks a rule (a CE year tail) is left out.
    """
    if "/" not in text:  # every number has one
        return []
    normal, index = _normalise(text)
    found = []
    for m in _ref_matches(normal):
        try:
            ref = _ref_from_match(m)
        except RefNoError:
            continue
        found.append((*_span(index, *m.span("letter" if m["letter"] else "order")), ref))
    return found


# Around a "/", what a reference number may hold: digits, dots, spaces (and ว after it).
_NUMBER_CHARS_RE = re.compile(r"[0-9.\s]*")
_AFTER_SLASH_RE = re.compile(r"[0-9.\sว/ลับมากทีสุด]*")


def _ref_matches(text: str) -> Iterator[re.Match[str]]:
    """``_REF_FIND_RE.finditer(text)``, looked for only around each "/" (every number has
    one): the pattern tried at every Thai letter of a letter costs far more than this. The
    window reaches back over the digits, dots and spaces before the "/" to the code or
    ที่, and on over what may follow; the engine's look-behind still sees the text before
    the window."""
    taken = 0
    slash = text.find("/")
    while slash >= 0:
        if slash >= taken:
            behind = text[max(taken, slash - 200) : slash][::-1]  # read backwards from "/"
            start = max(taken, slash - _NUMBER_CHARS_RE.match(behind).end() - 6)  # type: ignore[union-attr]
            after = _AFTER_SLASH_RE.match(text, slash)
            end = min(len(text), (after.end() if after else slash) + 1)
            m = _REF_FIND_RE.search(text, start, end)
            if m is not None and m.end() >= end and end < len(text):
                m = _REF_FIND_RE.search(text, m.start())  # it may go on past the window
            if m is not None and m.start() <= slash:
                yield m
                taken = m.end()
        slash = text.find("/", slash + 1)


@cache
def _province_codes() -> dict[str, str]:
    source = resources.files("saraban") / "data" / "province-codes.csv"
    # csv wants newline=""; Traversable.open promises only mode, encoding and errors.
    with io.TextIOWrapper(source.open("rb"), encoding="utf-8", newline="") as f:
        return {row["code_th"]: row["province_th"] for row in csv.DictReader(f)}


def province_for_code(code: str) -> str | None:
    """Province of a code, "นค" -> "หนองคาย"; None for any other code (e.g. a ministry's "มท")."""
    return _province_codes().get(code.strip())
