"""Thai conventions (saraban.thai): digits, dates, fiscal years, baht text, reference numbers.

The seeds are the ground truth: every reference number and date printed in them must be read,
and every amount printed with its words must be written back the same way.
"""

import datetime
import json
import re
from decimal import Decimal

import pytest
from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st
from pythainlp.util import bahttext, thai_strptime

from saraban.errors import BadRequest
from saraban.thai import (
    THAI_MONTHS,
    THAI_MONTHS_ABBR,
    THAI_WEEKDAYS,
    AmountError,
    RefNo,
    RefNoError,
    ThaiDateError,
    baht_text,
    be_year,
    ce_year,
    find_ref_nos,
    find_thai_dates,
    fiscal_quarter,
    fiscal_year,
    fiscal_year_range,
    format_baht,
    parse_ref_no,
    parse_thai_date,
    province_for_code,
    ref_key,
    thai_date,
    to_arabic_digits,
    to_thai_digits,
)

D = datetime.date
ZWSP = "\u200b"
hypothesis_settings = settings(deadline=None)

SEED_LETTERS = {p.name.removesuffix(".letter.json"): p for p in sorted(SEEDS.glob("*.letter.json"))}


def seed_json(name: str) -> dict:
    return json.loads(SEED_LETTERS[name].read_text(encoding="utf-8"))


def seed_txt(name: str) -> str:
    return (SEEDS / f"{name}.txt").read_text(encoding="utf-8")


# ---- names and digits ------------------------------------------------------------------------


def test_month_and_weekday_names():
    assert len(THAI_MONTHS) == len(THAI_MONTHS_ABBR) == 12
    assert (THAI_MONTHS[0], THAI_MONTHS[-1]) == ("มกราคม", "ธันวาคม")
    assert (THAI_MONTHS_ABBR[0], THAI_MONTHS_ABBR[-1]) == ("ม.ค.", "ธ.ค.")
    assert THAI_WEEKDAYS == ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")
    assert THAI_WEEKDAYS[D(2021, 2, 25).weekday()] == "พฤหัสบดี"


@hypothesis_settings
@given(st.text(alphabet=st.sampled_from("0123456789๐๑๒๓๔๕๖๗๘๙ ก.,a")) | st.text())
def test_names_and_digits_are_pythainlps(text):
    """Written here so that importing this module does not import PyThaiNLP (0.1 s at every
    command's start): they must stay what PyThaiNLP says."""
    from pythainlp.util import arabic_digit_to_thai_digit, thai_digit_to_arabic_digit
    from pythainlp.util.date import thai_abbr_months, thai_full_months, thai_full_weekdays

    assert THAI_MONTHS == tuple(thai_full_months)
    assert THAI_MONTHS_ABBR == tuple(thai_abbr_months)
    assert THAI_WEEKDAYS == tuple(w.removeprefix("วัน") for w in thai_full_weekdays)
    assert to_thai_digits(text) == arabic_digit_to_thai_digit(text)
    assert to_arabic_digits(text) == thai_digit_to_arabic_digit(text)


@pytest.mark.parametrize(
    ("arabic", "thai"),
    [
        ("", ""),
        ("2564", "๒๕๖๔"),
        ("0123456789", "๐๑๒๓๔๕๖๗๘๙"),
        ("โควิด COVID-19 ปี 2564", "โควิด COVID-๑๙ ปี ๒๕๖๔"),
        (f"1{ZWSP}2", f"๑{ZWSP}๒"),  # nothing but digits changes
        (" 12,345.21 ", " ๑๒,๓๔๕.๒๑ "),
    ],
)
def test_digits_both_ways(arabic, thai):
    assert to_thai_digits(arabic) == thai
    assert to_arabic_digits(thai) == arabic


def test_digits_leave_other_scripts_alone():
    assert to_thai_digits("๑ and 1") == "๑ and ๑"
    assert to_arabic_digits("๑ and 1") == "1 and 1"


@pytest.mark.parametrize("convert", [to_thai_digits, to_arabic_digits])
def test_digits_need_text(convert):
    with pytest.raises(TypeError):
        convert(2564)


@hypothesis_settings
@given(st.text())
def test_digit_round_trip(text):
    assert to_arabic_digits(to_thai_digits(text)) == to_arabic_digits(text)
    assert to_thai_digits(to_arabic_digits(text)) == to_thai_digits(text)
    assert len(to_thai_digits(text)) == len(text)


@hypothesis_settings
@given(st.integers(min_value=1, max_value=9999))
def test_be_ce_years(year):
    assert ce_year(be_year(year)) == year
    assert be_year(2022) == 2565 and ce_year(2565) == 2022


# ---- thai_date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "style", "printed"),
    [
        (D(2022, 12, 15), "letter", "๑๕ ธันวาคม ๒๕๖๕"),
        (D(2021, 2, 5), "letter", "๕ กุมภาพันธ์ ๒๕๖๔"),  # no leading zero
        (D(2024, 12, 31), "letter", "๓๑ ธันวาคม ๒๕๖๗"),
        (D(2025, 1, 1), "letter", "๑ มกราคม ๒๕๖๘"),
        (D(2024, 2, 29), "letter", "๒๙ กุมภาพันธ์ ๒๕๖๗"),
        (D(2021, 2, 25), "weekday", "วันพฤหัสบดีที่ ๒๕ กุมภาพันธ์ ๒๕๖๔"),
        (D(2022, 12, 15), "short", "๑๕ ธ.ค. ๖๕"),
        (D(2020, 1, 31), "short", "๓๑ ม.ค. ๖๓"),
        (D(2025, 1, 1), "decree", "๑ มกราคม พ.ศ. ๒๕๖๘"),
        (datetime.datetime(2022, 12, 15, 9, 30), "letter", "๑๕ ธันวาคม ๒๕๖๕"),
    ],
)
def test_thai_date_styles(day, style, printed):
    assert thai_date(day, style) == printed


def test_thai_date_default_style_is_the_letter_date_line():
    assert thai_date(D(2022, 12, 15)) == "๑๕ ธันวาคม ๒๕๖๕"


def test_thai_date_unknown_style_names_it():
    with pytest.raises(ValueError, match="'iso'"):
        thai_date(D(2022, 12, 15), "iso")


def test_thai_date_needs_a_date():
    with pytest.raises(TypeError):
        thai_date("2022-12-15")


# ---- parse_thai_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("๑๕ ธันวาคม ๒๕๖๕", D(2022, 12, 15)),
        ("15 ธันวาคม 2565", D(2022, 12, 15)),
        ("15 ธันวาคม ๒๕๖๕", D(2022, 12, 15)),  # mixed digits
        ("๑๕ ธ.ค. ๖๕", D(2022, 12, 15)),
        ("๑๕ ธ.ค.๖๕", D(2022, 12, 15)),
        ("๑๕ ธค ๖๕", D(2022, 12, 15)),
        ("๑๕ ธ. ค. ๒๕๖๕", D(2022, 12, 15)),
        ("๑๓/ กุมภาพันธ์ ๒๕๖๔", D(2021, 2, 13)),  # seed 002 extraction noise
        ("  ๑๕ ธันวาคม ๒๕๖๕\n", D(2022, 12, 15)),
        (f"๑{ZWSP}๕ ธันวาคม ๒๕{ZWSP}๖๕", D(2022, 12, 15)),
        ("\ufeff๑๕ ธันวาคม ๒๕๖๕", D(2022, 12, 15)),
        ("๑๕\u00a0ธันวาคม\u00a0๒๕๖๕", D(2022, 12, 15)),
        ("๐๕ มกราคม ๒๕๖๘", D(2025, 1, 5)),
        ("วันที่ ๑๕ ธันวาคม ๒๕๖๕", D(2022, 12, 15)),
        ("ลงวันที่ ๒๑ ธันวาคม ๒๕๖๖", D(2023, 12, 21)),
        ("วันพฤหัสบดีที่ ๒๕ กุมภาพันธ์ ๒๕๖๔", D(2021, 2, 25)),
        ("วันพฤหัสที่ ๒๕ ก.พ. ๖๔", D(2021, 2, 25)),
        ("๑ มกราคม พ.ศ. ๒๕๖๘", D(2025, 1, 1)),
        ("๑ มกราคม พ.ศ.๒๕๖๘", D(2025, 1, 1)),
        ("ณ วันที่ ๑ มกราคม พ.ศ. ๒๕๖๘", D(2025, 1, 1)),
        ("๒๙ กุมภาพันธ์ ๒๕๖๗", D(2024, 2, 29)),  # leap year
        ("๒๙ ก.พ. ๔๓", D(2000, 2, 29)),  # 2000 is a leap year (divisible by 400)
        ("๓๑ ธันวาคม ๒๕๖๗", D(2024, 12, 31)),
        ("๑ ม.ค. ๖๘", D(2025, 1, 1)),
        ("๑ ม.ค. ๐๐", D(1957, 1, 1)),  # 2-digit years are 25xx
        ("๓๑ ธ.ค. ๙๙", D(2056, 12, 31)),
    ],
)
def test_parse_thai_date(text, expected):
    assert parse_thai_date(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (ZWSP, "empty"),
        ("15 ธันวาคม 2022", "ce_year"),
        ("๑๕ ธันวาคม ๒๐๒๒", "ce_year"),
        ("๑๕ ธันวาคม ค.ศ. ๒๐๒๒", "ce_year"),
        ("๑๕ ธ.ค. ๒๓๙๙", "ce_year"),
        ("๒๙ กุมภาพันธ์ ๒๕๖๖", "impossible_date"),  # 2023: not a leap year
        ("๒๙ ก.พ. ๒๔๔๓", "impossible_date"),  # 1900: not a leap year
        ("๓๑ กุมภาพันธ์ ๒๕๖๔", "impossible_date"),
        ("๓๑ เมษายน ๒๕๖๘", "impossible_date"),
        ("๐ มกราคม ๒๕๖๘", "impossible_date"),
        ("วันศุกร์ที่ ๒๕ กุมภาพันธ์ ๒๕๖๔", "weekday_mismatch"),
        ("๑๕ ธันวา ๒๕๖๕", "unreadable"),
        ("2022-12-15", "unreadable"),
        ("๑๕ ธันวาคม", "unreadable"),
        ("๑๕ ธันวาคม ๒๕๖", "unreadable"),
        ("๑๕ ธันวาคม ๒๕๖๕ ครับ", "unreadable"),
        ("๑๕ December ๒๕๖๕", "unreadable"),
    ],
)
def test_parse_thai_date_refuses(text, code):
    with pytest.raises(ThaiDateError) as caught:
        parse_thai_date(text)
    assert caught.value.code == code
    assert caught.value.th and caught.value.en and " / " in str(caught.value)


def test_ce_year_error_gives_the_be_year_it_probably_means():
    with pytest.raises(ThaiDateError) as caught:
        parse_thai_date("๑๕ ธันวาคม ๒๐๒๒")
    assert "2565" in caught.value.en and "๒๕๖๕" in caught.value.th
    assert "ค.ศ." in caught.value.th


def test_thai_date_error_is_a_400_value_error():
    with pytest.raises(ThaiDateError) as caught:
        parse_thai_date("๓๑ กุมภาพันธ์ ๒๕๖๔")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, BadRequest)
    assert caught.value.status == 400


def test_weekday_error_names_the_real_weekday():
    with pytest.raises(ThaiDateError, match="พฤหัสบดี"):
        parse_thai_date("วันศุกร์ที่ ๒๕ กุมภาพันธ์ ๒๕๖๔")


def test_pythainlp_strptime_fails_on_thai_digits():
    """Why parse_thai_date reads dates itself: PyThaiNLP 5.4 cannot, for the commonest form."""
    assert thai_strptime("15 ธันวาคม 2565", "%d %B %Y").date() == D(2022, 12, 15)
    with pytest.raises(IndexError):
        thai_strptime("๑๕ ธันวาคม ๒๕๖๕", "%d %B %Y")
    with pytest.raises(IndexError):
        thai_strptime("15 ธ.ค. 65", "%d %b %y")


@hypothesis_settings
@given(st.dates(D(1950, 1, 1), D(2100, 12, 31)), st.sampled_from(["letter", "weekday", "decree"]))
def test_date_round_trip(day, style):
    assert parse_thai_date(thai_date(day, style)) == day


@hypothesis_settings
@given(st.dates(D(1957, 1, 1), D(2056, 12, 31)))
def test_short_date_round_trip_within_its_century(day):
    assert parse_thai_date(thai_date(day, "short")) == day


# ---- find_thai_dates -------------------------------------------------------------------------


def test_finds_a_deadline_with_its_weekday():
    text = "ส่งให้จังหวัด ภายในวันพฤหัสบดีที่ ๒๕ กุมภาพันธ์ ๒๕๖๔ พร้อมรายงาน"
    [found] = find_thai_dates(text)
    assert found.text == "วันพฤหัสบดีที่ ๒๕ กุมภาพันธ์ ๒๕๖๔"
    assert text[found.start : found.end] == found.text
    assert (found.date, found.weekday, found.error) == (D(2021, 2, 25), "พฤหัสบดี", None)


def test_finds_the_date_of_a_cited_letter():
    text = "หนังสือจังหวัดลำปาง ที่ ลป ๐๐๑๙.๓/ว ๒๙๐๕๖ ลงวันที่ ๒๑ ธันวาคม ๒๕๖๖"
    [found] = find_thai_dates(text)
    assert found.text == "ลงวันที่ ๒๑ ธันวาคม ๒๕๖๖"
    assert found.end == len(text) and found.date == D(2023, 12, 21)


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("", []),
        ("ระหว่างวันที่ ๑๕ พฤศจิกายน ๒๕๖๗ - ๑๕ กันยายน ๒๕๖๘", [D(2024, 11, 15), D(2025, 9, 15)]),
        ("๑๗ - ๒๕ กุมภาพันธ์ ๒๕๖๔", [D(2021, 2, 25)]),
        ("deadline 25 ก.พ. 64 (Thursday)", [D(2021, 2, 25)]),
        ("วันที่ ๒๘ กรกฎาคม และ", []),  # no year: not a date
        ("ภายในวันที่ ๑๕ ของทุกไตรมาส", []),
        ("ถนนมิตรภาพ นค ๔๓๐๐๐", []),
        ("๑๕ ธันวาคม ๒๕๖๕๑", []),
        ("เวลา ๑ มกราคม 15.30 น.", []),
    ],
)
def test_find_thai_dates(text, dates):
    assert [m.date for m in find_thai_dates(text)] == dates


def test_find_reports_spans_in_the_original_text_with_zero_width_characters():
    text = f"ภายใน ๒๕{ZWSP} กุมภาพันธ์ ๒๕{ZWSP}๖๔ ครับ"
    [found] = find_thai_dates(text)
    assert found.text == f"๒๕{ZWSP} กุมภาพันธ์ ๒๕{ZWSP}๖๔"
    assert found.date == D(2021, 2, 25)


@pytest.mark.parametrize(
    ("text", "date", "code"),
    [
        ("ภายในวันศุกร์ที่ ๒๕ กุมภาพันธ์ ๒๕๖๔", D(2021, 2, 25), "weekday_mismatch"),
        ("ลงวันที่ ๑๕ ธันวาคม 2022", None, "ce_year"),
        ("ภายในวันที่ ๓๑ กุมภาพันธ์ ๒๕๖๔", None, "impossible_date"),
    ],
)
def test_find_thai_dates_reports_errors_instead_of_raising(text, date, code):
    [found] = find_thai_dates(text)
    assert (found.date, found.error_code) == (date, code)
    assert " / " in found.error


# ---- seed letters ----------------------------------------------------------------------------


def date_line(txt: str) -> str:
    """The date line of a letter: the first header line (before เรื่อง) that reads as a date."""
    for line in txt[: txt.index("เรื่อง")].splitlines():
        try:
            parse_thai_date(line)
        except ThaiDateError:
            continue
        return line.strip()
    raise AssertionError("no date line")


# Extraction noise in the seed texts; ground truth (the json date) prints without it.
PRINTED_DATE_NOISE = {"002_b86b2e7e88d9451c": ("๑๓/ กุมภาพันธ์ ๒๕๖๔", "๑๓ กุมภาพันธ์ ๒๕๖๔")}


@pytest.mark.parametrize("seed", SEED_LETTERS)
def test_seed_date_round_trips(seed):
    letter, line = seed_json(seed), date_line(seed_txt(seed))
    day = D.fromisoformat(letter["date"])
    assert parse_thai_date(line) == day
    canonical = PRINTED_DATE_NOISE.get(seed, (line, line))
    assert line == canonical[0]
    assert thai_date(parse_thai_date(line)) == canonical[1] == thai_date(day)


@pytest.mark.parametrize("seed", SEED_LETTERS)
def test_every_date_in_a_seed_reads_back(seed):
    letter = seed_json(seed)
    texts = [seed_txt(seed), json.dumps(letter, ensure_ascii=False)]
    found = [m for text in texts for m in find_thai_dates(text)]
    assert found
    for match in found:
        assert match.error is None, match
        assert parse_thai_date(match.text) == match.date


def test_seed_002_is_dated_before_a_letter_it_cites():
    """The lint's check: a letter cannot be older than what it cites (reference anomaly)."""
    letter = seed_json("002_b86b2e7e88d9451c")
    cited = [m.date for line in letter["references"] for m in find_thai_dates(line)]
    assert cited == [D(2021, 2, 11), D(2021, 2, 16)]
    assert max(cited) > D.fromisoformat(letter["date"])


@pytest.mark.parametrize("seed", SEED_LETTERS)
def test_every_seed_reference_number_parses(seed):
    letter, txt = seed_json(seed), seed_txt(seed)
    printed = [line.removeprefix("ที่ ") for line in txt.splitlines() if line.startswith("ที่ ")]
    expected = set()
    if letter["ref_no"] is not None:
        [line] = printed
        assert ref_key(letter["ref_no"]) == ref_key(line) == ref_key(f"ที่ {line}")
        assert province_for_code(parse_ref_no(line).code) is not None
        expected.add(ref_key(line))
    for reference in letter["references"]:
        [(start, end, ref)] = find_ref_nos(reference)
        assert parse_ref_no(reference[start:end]) == ref
        expected.add(ref.key)
    assert {ref.key for _, _, ref in find_ref_nos(txt)} == expected


@pytest.mark.parametrize("seed", SEED_LETTERS)
def test_seed_amounts_are_written_as_printed(seed):
    for text in (seed_txt(seed), json.dumps(seed_json(seed), ensure_ascii=False)):
        for m in re.finditer(r"[๐-๙][๐-๙,.]* บาท \([^)]*\)", text):
            assert format_baht(m.group().split(" ")[0]) == m.group()


# ---- fiscal year -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "year", "quarter"),
    [
        (D(2024, 9, 30), 2567, 4),
        (D(2024, 10, 1), 2568, 1),
        (D(2024, 12, 15), 2568, 1),
        (D(2024, 12, 31), 2568, 1),
        (D(2025, 1, 1), 2568, 2),
        (D(2025, 3, 31), 2568, 2),
        (D(2025, 4, 1), 2568, 3),
        (D(2025, 6, 30), 2568, 3),
        (D(2025, 7, 1), 2568, 4),
        (D(2025, 9, 30), 2568, 4),
        (D(2025, 10, 1), 2569, 1),
    ],
)
def test_fiscal_year_and_quarter(day, year, quarter):
    assert (fiscal_year(day), fiscal_quarter(day)) == (year, quarter)


def test_fiscal_year_range():
    assert fiscal_year_range(2568) == (D(2024, 10, 1), D(2025, 9, 30))


def test_fiscal_year_range_refuses_a_ce_year():
    with pytest.raises(ThaiDateError, match="CE"):
        fiscal_year_range(2025)


@hypothesis_settings
@given(st.dates(D(1950, 1, 1), D(2100, 12, 31)))
def test_fiscal_year_contains_its_dates(day):
    start, end = fiscal_year_range(fiscal_year(day))
    assert start <= day <= end
    months_in = (day.year - start.year) * 12 + day.month - start.month
    assert fiscal_quarter(day) == months_in // 3 + 1


# ---- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "ศูนย์บาทถ้วน"),
        (Decimal("-0"), "ศูนย์บาทถ้วน"),
        (1, "หนึ่งบาทถ้วน"),
        (10, "สิบบาทถ้วน"),  # not หนึ่งสิบ
        (11, "สิบเอ็ดบาทถ้วน"),
        (20, "ยี่สิบบาทถ้วน"),
        (21, "ยี่สิบเอ็ดบาทถ้วน"),
        (101, "หนึ่งร้อยเอ็ดบาทถ้วน"),
        (110, "หนึ่งร้อยสิบบาทถ้วน"),
        (269000, "สองแสนหกหมื่นเก้าพันบาทถ้วน"),
        ("1,000,000", "หนึ่งล้านบาทถ้วน"),
        (1_000_001, "หนึ่งล้านเอ็ดบาทถ้วน"),
        ("21,000,000", "ยี่สิบเอ็ดล้านบาทถ้วน"),
        (10**12, "หนึ่งล้านล้านบาทถ้วน"),
        (10**12 + 1, "หนึ่งล้านล้านเอ็ดบาทถ้วน"),
        ("12345.21", "หนึ่งหมื่นสองพันสามร้อยสี่สิบห้าบาทยี่สิบเอ็ดสตางค์"),
        (Decimal("0.25"), "ยี่สิบห้าสตางค์"),
        ("0.50", "ห้าสิบสตางค์"),
        ("0.01", "หนึ่งสตางค์"),
        ("1.01", "หนึ่งบาทหนึ่งสตางค์"),
        ("1.11", "หนึ่งบาทสิบเอ็ดสตางค์"),
        ("100.10", "หนึ่งร้อยบาทสิบสตางค์"),
        ("๒๖๙,๐๐๐.๕๐", "สองแสนหกหมื่นเก้าพันบาทห้าสิบสตางค์"),
        (" 269,000 ", "สองแสนหกหมื่นเก้าพันบาทถ้วน"),
        (f"269{ZWSP}000", "สองแสนหกหมื่นเก้าพันบาทถ้วน"),
        (Decimal("1.000"), "หนึ่งบาทถ้วน"),  # zeros past the satang are no rounding
        (Decimal("1E+3"), "หนึ่งพันบาทถ้วน"),
        (2**53 + 1, "เก้าพันเจ็ดล้านหนึ่งแสนเก้าหมื่นเก้าพันสองร้อยห้าสิบสี่ล้านเจ็ดแสนสี่หมื่นเก้าร้อยเก้าสิบสามบาทถ้วน"),
    ],
)
def test_baht_text(amount, words):
    assert baht_text(amount) == words


@pytest.mark.parametrize("amount", [0.25, 269000.0, True, None, [1]])
def test_baht_text_refuses_floats_and_non_numbers(amount):
    with pytest.raises(TypeError):
        baht_text(amount)


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1.005", "satang_precision"),
        (Decimal("0.001"), "satang_precision"),
        (-1, "negative"),
        ("-5", "negative"),
        (Decimal("-0.01"), "negative"),
        (Decimal("NaN"), "unreadable"),
        (Decimal("Infinity"), "unreadable"),
        ("", "unreadable"),
        ("abc", "unreadable"),
        ("1,00", "unreadable"),
        ("12,3456", "unreadable"),
        ("1e3", "unreadable"),
        ("๑๒๓ บาท", "unreadable"),
    ],
)
def test_baht_text_refuses_amounts_it_would_have_to_guess(amount, code):
    with pytest.raises(AmountError) as caught:
        baht_text(amount)
    assert caught.value.code == code and isinstance(caught.value, ValueError)


def test_pythainlp_bahttext_quirks():
    """What baht_text works around: floats only, float rounding, and "ศูนย์บาท" for satang."""
    with pytest.raises(TypeError):
        bahttext(Decimal("0.25"))
    with pytest.raises(TypeError):
        bahttext("12")
    assert bahttext(0.25) == "ศูนย์บาทยี่สิบห้าสตางค์"
    assert bahttext(1.005) == "หนึ่งบาทถ้วน"  # rounded silently
    assert bahttext(2**53 + 1) != baht_text(2**53 + 1)  # goes through a float


@hypothesis_settings
@given(st.integers(min_value=100, max_value=10**11))
def test_baht_text_agrees_with_pythainlp_where_it_is_right(satang):
    amount = Decimal(satang).scaleb(-2)
    assert baht_text(amount) == bahttext(float(amount))


@pytest.mark.parametrize(
    ("amount", "printed"),
    [
        (269000, "๒๖๙,๐๐๐ บาท (สองแสนหกหมื่นเก้าพันบาทถ้วน)"),
        ("12345.21", "๑๒,๓๔๕.๒๑ บาท (หนึ่งหมื่นสองพันสามร้อยสี่สิบห้าบาทยี่สิบเอ็ดสตางค์)"),
        ("100.50", "๑๐๐.๕๐ บาท (หนึ่งร้อยบาทห้าสิบสตางค์)"),
        (Decimal("0.25"), "๐.๒๕ บาท (ยี่สิบห้าสตางค์)"),
        (Decimal("1500.00"), "๑,๕๐๐ บาท (หนึ่งพันห้าร้อยบาทถ้วน)"),
        (0, "๐ บาท (ศูนย์บาทถ้วน)"),
    ],
)
def test_format_baht(amount, printed):
    assert format_baht(amount) == printed


# ---- reference numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "ref", "canonical", "standard"),
    [
        ("นค ๐๐๑๙.๓/ว ๒๕๖๔", RefNo("นค", "0019.3", True, 2564), "นค ๐๐๑๙.๓/ว ๒๕๖๔", True),
        ("ลป ๐๐๑๙.๓/๒๗๕๒๘", RefNo("ลป", "0019.3", False, 27528), "ลป ๐๐๑๙.๓/๒๗๕๒๘", True),
        ("บก ๐๐๑๙.๓ / ๑๕๕๐๐", RefNo("บก", "0019.3", False, 15500), "บก ๐๐๑๙.๓/๑๕๕๐๐", True),
        (
            "นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕",
            RefNo("นค", "0019.3", False, 619, 2565),
            "นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕",
            False,
        ),
        ("ที่ ๑๒/๒๕๖๘", RefNo("", "", False, 12, 2568), "๑๒/๒๕๖๘", True),
        ("ชร ๐๐๒๓.๓/ว ๑๒", RefNo("ชร", "0023.3", True, 12), "ชร ๐๐๒๓.๓/ว ๑๒", True),
        ("มท ๐๒๒๘.๐๗.๒/๑", RefNo("มท", "0228.07.2", False, 1), "มท ๐๒๒๘.๐๗.๒/๑", True),
        ("ศธ 04002/ว123", RefNo("ศธ", "04002", True, 123), "ศธ ๐๔๐๐๒/ว ๑๒๓", True),
        ("ที่นค ๐๐๑๙ . ๓/ว. ๒๕๖๔", RefNo("นค", "0019.3", True, 2564), "นค ๐๐๑๙.๓/ว ๒๕๖๔", True),
    ],
)
def test_parse_ref_no(printed, ref, canonical, standard):
    assert parse_ref_no(printed) == ref
    assert ref.format() == canonical
    assert ref.standard is standard


@pytest.mark.parametrize(
    "printed",
    [
        "นค 0019.3/ว2564",
        "นค ๐๐๑๙.๓/ว ๒๕๖๔",
        "นค ๐๐๑๙.๓ / ว ๒๕๖๔",
        "ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔",
        "  ที่นค0019.3/ว ๒๕๖๔\n",
        f"นค ๐๐๑๙.๓/ว ๒๕{ZWSP}๖๔",
        "นค\u00a0๐๐๑๙.๓/ว\u00a0๒๕๖๔",
        "นค 0019.3/ว ๒๕๖๔",  # mixed digits
    ],
)
def test_ref_key_ignores_spacing_and_digits(printed):
    assert ref_key(printed) == "นค0019.3/ว2564"


def test_ref_no_format_in_arabic_digits():
    ref = RefNo("นค", "0019.3", True, 2564)
    assert ref.format("arabic") == "นค 0019.3/ว 2564"
    with pytest.raises(ValueError, match="'roman'"):
        ref.format("roman")


@pytest.mark.parametrize(
    "printed",
    [
        "",
        "ที่",
        "นค",
        "นค ๐๐๑๙.๓",
        "นค ๐๐๑๙.๓/",
        "นค ๐๐๑๙.๓/ว",
        "มท. 0309/1",  # codes are written without a full stop
        "นคร 0019.3/1",
        "นค ๐๐๑๙..๓/๑",
        "12",
        "ว ๑๒/๒๕๖๘",
        "12/2025",  # CE year
        "นค 0019.3/1/2025",
        "นค 0019.3/0",
    ],
)
def test_parse_ref_no_refuses(printed):
    with pytest.raises(RefNoError) as caught:
        parse_ref_no(printed)
    assert caught.value.status == 400 and " / " in str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        ("นค", "๐๐๑๙.๓", False, 1, None),  # unit in Thai digits
        ("นค.", "0019.3", False, 1, None),
        ("", "", False, 12, None),  # an order number needs its year
        ("", "", True, 12, 2568),
        ("นค", "0019.3", False, 0, None),
        ("นค", "0019.3", False, True, None),
        ("นค", "0019.3", False, 1, 2025),
    ],
)
def test_ref_no_checks_its_fields(fields):
    with pytest.raises(RefNoError):
        RefNo(*fields)


ref_nos = st.one_of(
    st.builds(
        RefNo,
        code=st.sampled_from(["นค", "ลป", "บก", "มท", "ศธ", "กท"]),
        unit=st.from_regex(r"[0-9]{1,5}(\.[0-9]{1,2}){0,2}", fullmatch=True),
        circular=st.booleans(),
        serial=st.integers(min_value=1, max_value=10**6),
        year=st.none() | st.integers(min_value=2400, max_value=2700),
    ),
    st.builds(
        RefNo,
        code=st.just(""),
        unit=st.just(""),
        circular=st.just(False),
        serial=st.integers(min_value=1, max_value=9999),
        year=st.integers(min_value=2400, max_value=2700),
    ),
)


@hypothesis_settings
@given(ref_nos, st.sampled_from(["thai", "arabic"]), st.sampled_from(["", "ที่ ", "ที่"]))
def test_ref_no_round_trip(ref, digits, prefix):
    assert parse_ref_no(prefix + ref.format(digits)) == ref
    assert ref_key(ref.format(digits)) == ref.key


def test_finds_reference_numbers_in_a_citation():
    text = "หนังสือจังหวัดหนองคาย ด่วนที่สุด ที่ นค ๐๐๑๙.๓/ว ๒๕๖๓ ลงวันที่ ๑๑ กุมภาพันธ์ ๒๕๖๔ และที่ นค ๐๐๑๙.๒/ว ๒๖๓๘"
    found = find_ref_nos(text)
    assert [text[s:e] for s, e, _ in found] == ["นค ๐๐๑๙.๓/ว ๒๕๖๓", "นค ๐๐๑๙.๒/ว ๒๖๓๘"]
    assert [ref.serial for _, _, ref in found] == [2563, 2638]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("", []),
        ("ถนนมิตรภาพ นค ๔๓๐๐๐", []),
        ("การประชุมครั้งที่ ๑/๒๕๖๘", []),
        ("ตำบล ๑/๒ หมู่ที่ ๕/๑", []),
        ("ปีงบประมาณ 2564/65", []),
        ("คำสั่งจังหวัดหนองคาย ที่ ๑๒/๒๕๖๘ ลงวันที่ ๒ มกราคม ๒๕๖๘", ["๑๒/๒๕๖๘"]),
        ("ตามคำสั่งที่ ๑๒/๒๕๖๘", ["๑๒/๒๕๖๘"]),
        ("ที่นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕", ["นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕"]),
        (f"ที่ นค ๐๐๑๙.๓/ว {ZWSP}๒๕๖๔ ลงวันที่", [f"นค ๐๐๑๙.๓/ว {ZWSP}๒๕๖๔"]),
        ("ref: MOI นค 0019.3/ว2564.", ["นค 0019.3/ว2564"]),
    ],
)
def test_find_ref_nos(text, found):
    assert [text[s:e] for s, e, _ in find_ref_nos(text)] == found


# ---- province codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "province"),
    [
        ("นค", "หนองคาย"),
        ("บก", "บึงกาฬ"),
        ("กท", "กรุงเทพมหานคร"),
        (" ลป ", "ลำปาง"),
        ("มท", None),
        ("", None),
    ],
)
def test_province_for_code(code, province):
    assert province_for_code(code) == province


def test_province_codes_ship_with_the_package():
    from importlib import resources

    shipped = resources.files("saraban") / "data" / "province-codes.csv"
    rows = shipped.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "province_th,code_th"
    codes = {row.split(",")[1] for row in rows[1:]}
    assert len(rows) - 1 == len(codes) == 77  # 76 provinces and Bangkok, each code once


NOISY_THAI = st.lists(
    st.sampled_from([*"๐๑๒๓๔๕๖๗๘๙0123456789 /.,-", *THAI_WEEKDAYS, *THAI_MONTHS_ABBR,
                     "ที่", "วัน", "ลง", "พ.ศ.", "ธันวาคม", "นค", "ว", ZWSP]),
    max_size=20,
).map("".join)  # fmt: skip


@hypothesis_settings
@given(NOISY_THAI)
def test_readers_fail_only_with_their_own_errors(text):
    """Whatever the clerk types, the readers answer or raise a 400 error that says what is wrong."""
    for read in (parse_thai_date, parse_ref_no, baht_text):
        try:
            read(text)
        except (ThaiDateError, RefNoError, AmountError):
            pass
    for match in find_thai_dates(text):
        assert text[match.start : match.end] == match.text
    for start, end, ref in find_ref_nos(text):
        assert parse_ref_no(text[start:end]) == ref


# ---- dates in every form (read_dates) -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "era"),
    [
        ("ลงวันที่ ๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗", "2024-11-21", "BE"),
        ("๒๑ พฤศจิกายน ๒๕๖๗", "2024-11-21", "BE"),
        ("21 พ.ย. 67", "2024-11-21", "BE"),
        ("๒๑ พ.ย.๖๗", "2024-11-21", "BE"),
        ("21/11/2567", "2024-11-21", "BE"),
        ("๒๑/๑๑/๖๗", "2024-11-21", "BE"),
        ("21.11.2567", "2024-11-21", "BE"),
        ("21-11-2567", "2024-11-21", "BE"),
        ("2๑/1๑/25๖7", "2024-11-21", "BE"),  # Thai and Arabic digits in one number
        ("2024-11-21", "2024-11-21", "CE"),  # ISO
        ("2567-11-21", "2024-11-21", "BE"),
        ("21/11/2024", "2024-11-21", "CE"),
        ("21 พฤศจิกายน 2024", "2024-11-21", "CE"),
        ("21 พ.ย. ค.ศ. 2024", "2024-11-21", "CE"),
        ("21 พ.ย. ค.ศ. 24", "2024-11-21", "CE"),
        ("ระหว่างวันที่ 1-15 ธันวาคม 2565", "2022-12-15", "BE"),
    ],
)
def test_read_dates_reads_every_form(text, expected, era):
    from saraban.thai import read_dates

    (found,) = read_dates(text)
    assert (found.date.isoformat(), found.era) == (expected, era)
    assert text[found.start : found.end] == found.text


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2567",  # no such day
        "นค 0019.3/12/2567",  # a reference number with a year tail
        "ที่ 12/2567",  # an order number
        "เวลา 10.30 น.",
        "1.2.3",
        "123 ธันวาคม 2565",
        "12024-11-21",
        "ธันวาคม 2565",  # no day
    ],
)
def test_read_dates_leaves_out_what_is_no_date(text):
    from saraban.thai import read_dates

    assert read_dates(text) == []


def test_read_dates_spans_count_zero_width_characters():
    from saraban.thai import read_dates

    text = "ประชุม\u200b วันที่ ๒๑/๑๑/๒๕๖๗ เวลา"
    (found,) = read_dates(text)
    assert found.text == "๒๑/๑๑/๒๕๖๗" and text[found.start : found.end] == found.text


def test_a_letter_date_may_say_เดือน():
    assert parse_thai_date("๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗") == datetime.date(2024, 11, 21)
    assert parse_thai_date("วันที่ ๒๑ เดือนพฤศจิกายน ๒๕๖๗") == datetime.date(2024, 11, 21)


def test_reference_numbers_are_found_as_a_full_scan_finds_them():
    """find_ref_nos looks only around each "/"; it must find exactly what the pattern finds
    tried at every character, spans and all."""
    from conftest import DATA

    from saraban.thai import _REF_FIND_RE, _normalise, _ref_matches

    texts = [p.read_text("utf-8") for p in sorted(DATA.rglob("*.txt"))]
    texts += [
        "ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔ และ นค 0019.3/619/2565 คำสั่งที่ 12/2568 ครั้งที่ 1/2568 "
        + "ก" * 60
        + " มท 0210.4/ว 123 / // x/y นค 1/2/3/4 นค"
        + " " * 50
        + "0019/1",
    ]
    for text in texts:
        normal = _normalise(text)[0]
        expected = [m.span() for m in _REF_FIND_RE.finditer(normal)]
        assert [m.span() for m in _ref_matches(normal)] == expected
