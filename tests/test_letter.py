"""The letter document: validation errors, lint warnings, normalisation and loading.

The five seed letters are the ground truth: each validates with no error and produces
exactly the warnings it deserves (see "Seed anomalies" in the reference), nothing more.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saraban.errors import InvalidLetter, NotFound, Problem
from saraban.letter import (
    KINDS,
    MAX_BODY_BLOCKS,
    MAX_ENCLOSURES,
    MAX_FILE_BYTES,
    MAX_REFERENCE_CHARS,
    MAX_REFERENCES,
    MAX_SUBJECT_CHARS,
    SECRECIES,
    URGENCIES,
    check,
    format_problems,
    lint,
    load_letter,
    new_letter,
    validate,
)

SEED_DIR = Path(__file__).parent / "data" / "seeds"
TODAY = dt.date(2025, 6, 1)  # after every seed, so "dated in the future" stays quiet
THAI = re.compile(r"[\u0e00-\u0e7f]")
DELETE = object()

# What each seed deserves, as (field, code).
SEED_WARNINGS = {
    "000": [
        ("circular", "circular_expected"),  # to ทุกอำเภอ, numbered without ว
        ("ref_no", "nonstandard_ref_no"),  # …/๖๑๙/๒๕๖๕
        ("sender.address.0", "postcode_province"),  # นค ๕๓๐๐๐: 53000 is Uttaradit
        ("subject", "fiscal_year"),  # dated FY 2566, about FY 2565
    ],
    "001": [("circular", "circular_expected")],
    "002": [
        ("date", "weekend_date"),  # 13 Feb 2564 was a Saturday (misread date)
        ("references.1", "cited_after_date"),  # cites a letter of 16 Feb 2564
        ("body.2.items.0", "mixed_digits"),  # โคโรนา 2019 in a letter of Thai digits
    ],
    "003": [
        ("sender", "missing_part"),  # first-page header lost in extraction
        ("circular", "circular_expected"),
    ],
    "004": [("circular", "circular_expected")],
}


def _seed_path(number: str) -> Path:
    (path,) = SEED_DIR.glob(f"{number}_*.letter.json")
    return path


def _set(doc: dict, path: str, value: object) -> None:
    """Set (or with ``DELETE`` remove) the value at a dotted path of keys and list indexes."""
    *parents, last = path.split(".")
    target: object = doc
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is DELETE:
        del target[last]
    else:
        target[last] = value


def _letter(kind: str = "external", /, **changes: object) -> dict:
    """A complete, valid letter of ``kind`` that lints clean, with dotted-path ``changes``."""
    fields: dict = {
        "ref_no": "นค ๐๐๑๙.๓/๑๒๓",
        "sender": {"name": "ศาลากลางจังหวัดหนองคาย", "address": ["ถนนมิตรภาพ นค ๔๓๐๐๐"]},
        "date": "2024-11-21",  # a Thursday
        "subject": "การประชุมคณะกรรมการพัฒนาชุมชน",
        "salutation": "เรียน",
        "addressee": "นายอำเภอเมืองหนองคาย",
        "body": [
            "ด้วยจังหวัดหนองคายจะจัดประชุมคณะกรรมการพัฒนาชุมชน",
            {"items": ["แจ้งผู้เกี่ยวข้อง", "รายงานผลให้จังหวัดทราบ"]},
        ],
        "closing": "จึงเรียนมาเพื่อโปรดพิจารณา",
        "complimentary_close": "ขอแสดงความนับถือ",
        "signer": {"name": "นายสมชาย ใจดี", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
        "owner_unit": ["สำนักงานพัฒนาชุมชนจังหวัด"],
        "contact": {"phone": "๐ ๔๒๔๑ ๑๑๘๒"},
    }
    if kind == "memo":
        fields["sender"] = {"name": None, "address": []}
        fields["complimentary_close"] = None
    elif kind in ("order", "announcement"):
        fields.update(ref_no="๑๒/๒๕๖๗", salutation=None, addressee=None, closing=None)
        fields["complimentary_close"] = None
    elif kind == "stamped":
        fields.update(salutation=None, complimentary_close=None, closing=None)
        fields["signer"] = {"name": None, "position": []}
    doc = new_letter(kind, **fields)
    for path, value in changes.items():
        _set(doc, path.replace("__", "."), value)
    return doc


def _pairs(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in problems]


def _assert_bilingual(problem: Problem) -> None:
    assert problem.field and problem.code
    assert re.search(r"[A-Za-z]{3}", problem.en), problem
    assert THAI.search(problem.th), problem
    assert problem.en != problem.th


# --------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("number", sorted(SEED_WARNINGS))
def test_seed_validates_and_lints_exactly(number: str) -> None:
    doc = load_letter(_seed_path(number))
    assert validate(doc) == []
    warnings = lint(doc, today=TODAY)
    assert sorted(_pairs(warnings)) == sorted(SEED_WARNINGS[number])
    for warning in warnings:
        _assert_bilingual(warning)


@pytest.mark.parametrize("number", sorted(SEED_WARNINGS))
def test_seed_is_already_normal(number: str) -> None:
    """Seeds carry every key, so check() returns them unchanged (same keys, same order)."""
    raw = json.loads(_seed_path(number).read_text(encoding="utf-8"))
    checked = check(raw)
    assert checked == raw
    assert list(checked) == list(raw)


def test_seed_000_messages_name_the_facts() -> None:
    warnings = {p.code: p for p in lint(load_letter(_seed_path("000")), today=TODAY)}
    assert "Uttaradit" in warnings["postcode_province"].en
    assert "หนองคาย" in warnings["postcode_province"].th
    assert "2566" in warnings["fiscal_year"].en
    assert "นค ๐๐๑๙.๓/๖๑๙" in warnings["nonstandard_ref_no"].en


# --------------------------------------------------------------------------- errors

BAD_DOCUMENTS = [
    # header
    ({"format": DELETE}, "format", "required"),
    ({"format": 2}, "format", "unknown_format"),
    ({"format": "1"}, "format", "wrong_type"),
    ({"format": True}, "format", "wrong_type"),
    ({"format": 1.0}, "format", "wrong_type"),
    ({"kind": DELETE}, "kind", "required"),
    ({"kind": "letter"}, "kind", "unknown_kind"),
    ({"kind": ["external"]}, "kind", "wrong_type"),
    ({"circular": "yes"}, "circular", "wrong_type"),
    ({"circular": None}, "circular", "wrong_type"),
    ({"urgency": "ด่วนพิเศษ"}, "urgency", "unknown_urgency"),
    ({"urgency": 1}, "urgency", "wrong_type"),
    ({"secrecy": "ปกปิด"}, "secrecy", "unknown_secrecy"),
    # date
    ({"date": "2565-02-30"}, "date", "invalid_date"),
    ({"date": "2022-13-01"}, "date", "invalid_date"),
    ({"date": "2023-02-29"}, "date", "invalid_date"),
    ({"date": "0000-01-01"}, "date", "invalid_date"),
    ({"date": "2565-12-15"}, "date", "be_year"),
    ({"date": "15/12/2022"}, "date", "malformed_date"),
    ({"date": "๒๐๒๒-๑๒-๑๕"}, "date", "malformed_date"),
    ({"date": "2022-12-15T10:00"}, "date", "malformed_date"),
    ({"date": ""}, "date", "malformed_date"),
    ({"date": 20221215}, "date", "wrong_type"),
    # ref_no and circular
    ({"ref_no": "abc"}, "ref_no", "bad_ref_no"),
    ({"ref_no": "ที่ นค ๐๐๑๙.๓/๑๒๓"}, "ref_no", "bad_ref_no"),
    ({"ref_no": "๑๒/๒๕๖๗"}, "ref_no", "bad_ref_no"),
    ({"ref_no": "นค ๐๐๑๙.๓/๑๒๓/2022"}, "ref_no", "bad_ref_no"),
    ({"ref_no": ""}, "ref_no", "empty"),
    ({"ref_no": 123}, "ref_no", "wrong_type"),
    ({"circular": True}, "circular", "circular_mismatch"),
    ({"ref_no": "นค ๐๐๑๙.๓/ว ๑๒๓"}, "circular", "circular_mismatch"),
    # required parts
    ({"signer__name": DELETE}, "signer.name", "required"),
    ({"signer__name": "   "}, "signer.name", "required"),
    ({"signer__position": []}, "signer.position", "required"),
    ({"subject": None}, "subject", "required"),
    ({"salutation": ""}, "salutation", "required"),
    ({"addressee": DELETE}, "addressee", "required"),
    ({"closing": None}, "closing", "required"),
    ({"complimentary_close": None}, "complimentary_close", "required"),
    ({"owner_unit": []}, "owner_unit", "required"),
    ({"body": []}, "body", "required"),
    # body blocks
    ({"body": [42]}, "body.0", "bad_block"),
    ({"body": [["a paragraph"]]}, "body.0", "bad_block"),
    ({"body": [{"list": ["a"]}]}, "body.0", "bad_block"),
    ({"body": [""]}, "body.0", "empty"),
    ({"body": ["ok", {"items": "ข้อ"}]}, "body.1.items", "wrong_type"),
    ({"body": [{"items": []}]}, "body.0.items", "empty"),
    ({"body": [{"items": ["ข้อ ๑", 3]}]}, "body.0.items.1", "wrong_type"),
    ({"body": [{"items": ["ข้อ ๑", " "]}]}, "body.0.items.1", "empty"),
    ({"body": ["ย่อหน้า"] * (MAX_BODY_BLOCKS + 1)}, "body", "too_many"),
    ({"body": "ย่อหน้าเดียว"}, "body", "wrong_type"),
    # text
    ({"subject": "ก" * (MAX_SUBJECT_CHARS + 1)}, "subject", "too_long"),
    ({"subject": "เรื่อง\x07ทดสอบ"}, "subject", "control_char"),
    ({"closing": "จึงเรียนมา\r\nเพื่อทราบ"}, "closing", "control_char"),
    ({"body__0": "ย่อหน้า\x00"}, "body.0", "control_char"),
    ({"subject": "เรื่อง\ud800"}, "subject", "bad_character"),
    ({"attachments_text": "ก" * 2_000_001}, "attachments_text", "too_long"),
    # sizes matched to rendering costs (benchmarks/letter_size.py, docs/security.md)
    ({"body": ["ก" * 10_000] * 11}, "(document)", "too_long"),
    ({"references": ["หนังสือ"] * (MAX_REFERENCES + 1)}, "references", "too_many"),
    ({"references": ["ก" * (MAX_REFERENCE_CHARS + 1)]}, "references.0", "too_long"),
    ({"enclosures": [{"title": "แบบ"}] * (MAX_ENCLOSURES + 1)}, "enclosures", "too_many"),
    ({"enclosures": [{"title": "ก" * 1_001}]}, "enclosures.0.title", "too_long"),
    ({"copies_to": ["นายอำเภอ"] * 21}, "copies_to", "too_many"),
    ({"copies_to": ["ก" * 201]}, "copies_to.0", "too_long"),
    ({"subject": ["เรื่อง"]}, "subject", "wrong_type"),
    # lists and objects
    ({"references": "หนังสือจังหวัด"}, "references", "wrong_type"),
    ({"references": None}, "references", "wrong_type"),
    ({"references": ["หนังสือจังหวัด", None]}, "references.1", "wrong_type"),
    ({"enclosures": ["แนวทาง"]}, "enclosures.0", "wrong_type"),
    ({"enclosures": [{"quantity": "๑ ชุด"}]}, "enclosures.0.title", "required"),
    ({"enclosures": [{"title": "แนวทาง", "quantity": 1}]}, "enclosures.0.quantity", "wrong_type"),
    ({"sender": "ศาลากลางจังหวัด"}, "sender", "wrong_type"),
    ({"sender__address": "ถนนมิตรภาพ"}, "sender.address", "wrong_type"),
    ({"sender__address": ["ถนน"] * 21}, "sender.address", "too_many"),
    ({"contact": None}, "contact", "wrong_type"),
    ({"contact__email": "not an e-mail"}, "contact.email", "invalid_email"),
    ({"contact__email": "saraban@"}, "contact.email", "invalid_email"),
    ({"copies_to": [1]}, "copies_to.0", "wrong_type"),
    # keys the format does not know must still be JSON
    ({"custom": {1, 2}}, "custom", "not_json"),
    ({"custom": {"inner": float("nan")}}, "custom.inner", "not_json"),
    ({"sender__custom": b"bytes"}, "sender.custom", "not_json"),
    # royal forms are refused
    ({"salutation": "ขอพระราชทานกราบบังคมทูลทราบฝ่าละอองธุลีพระบาท"}, "salutation", "royal_form"),
    (
        {"complimentary_close": "ควรมิควรแล้วแต่จะโปรดเกล้าโปรดกระหม่อม"},
        "complimentary_close",
        "royal_form",
    ),
]


@pytest.mark.parametrize(("changes", "field", "code"), BAD_DOCUMENTS)
def test_bad_document(changes: dict, field: str, code: str) -> None:
    doc = _letter(**changes)
    problems = validate(doc)
    assert (field, code) in _pairs(problems)
    for problem in problems:
        _assert_bilingual(problem)
    with pytest.raises(InvalidLetter) as caught:
        check(doc)
    assert (field, code) in _pairs(caught.value.problems)


def test_check_lists_every_error() -> None:
    doc = _letter(format=2, signer__name=None, date="2022-13-01", body=[42])
    with pytest.raises(InvalidLetter) as caught:
        check(doc)
    assert sorted(_pairs(caught.value.problems)) == [
        ("body.0", "bad_block"),
        ("date", "invalid_date"),
        ("format", "unknown_format"),
        ("signer.name", "required"),
    ]
    assert caught.value.status == 400
    assert "signer.name" in caught.value.message


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("2565-12-15", ["2565 → 2022", "พ.ศ.", "ค.ศ."]),
        ("2565-02-30", ["no day 30", "2022"]),
        ("2022-13-01", ["no month 13"]),
    ],
)
def test_date_messages_say_what_to_do(date: str, words: list[str]) -> None:
    (problem,) = validate(_letter(date=date))
    for word in words:
        assert word in problem.en + problem.th


def test_unknown_choices_list_the_allowed_values() -> None:
    problems = {p.field: p for p in validate(_letter(kind="letter", urgency="x", secrecy="y"))}
    for kind in KINDS:
        assert kind in problems["kind"].en
    assert all(u in problems["urgency"].en for u in URGENCIES)
    assert all(s in problems["secrecy"].th for s in SECRECIES)


def test_limits_are_named_in_the_message() -> None:
    (problem,) = validate(_letter(subject="ก" * (MAX_SUBJECT_CHARS + 5)))
    assert f"{MAX_SUBJECT_CHARS:,}" in problem.en and f"{MAX_SUBJECT_CHARS:,}" in problem.th


def test_control_character_position_is_reported() -> None:
    (problem,) = validate(_letter(subject="เรื่อง\x1bทดสอบ"))
    assert "U+001B" in problem.en and "character 7" in problem.en


# --------------------------------------------------------------------------- per kind


@pytest.mark.parametrize("kind", KINDS)
def test_complete_letter_of_each_kind_is_clean(kind: str) -> None:
    doc = _letter(kind)
    assert validate(doc) == []
    assert lint(doc, today=TODAY) == []


@pytest.mark.parametrize(
    ("kind", "path", "code"),
    [
        ("memo", "complimentary_close", "not_printed"),
        ("memo", "sender.address", "not_printed"),
        ("order", "addressee", "not_printed"),
        ("announcement", "salutation", "not_printed"),
        ("stamped", "signer.name", "not_printed"),
    ],
)
def test_parts_a_kind_does_not_print_are_flagged(kind: str, path: str, code: str) -> None:
    value = ["ถนนมิตรภาพ นค ๔๓๐๐๐"] if path == "sender.address" else "ข้อความ"
    doc = _letter(kind, **{path.replace(".", "__"): value})
    assert validate(doc) == []
    assert _pairs(lint(doc, today=TODAY)) == [(path, code)]


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("memo", "owner_unit"),
        ("memo", "salutation"),
        ("order", "sender.name"),
        ("order", "signer.position"),
        ("announcement", "subject"),
        ("stamped", "sender.name"),
        ("stamped", "addressee"),
    ],
)
def test_required_per_kind(kind: str, path: str) -> None:
    blank = [] if path in ("owner_unit", "signer.position") else None
    doc = _letter(kind, **{path.replace(".", "__"): blank})
    (problem,) = validate(doc)
    assert (problem.field, problem.code) == (path, "required")


def test_drafts_may_leave_number_and_date_null() -> None:
    doc = _letter(ref_no=None, date=None)
    assert validate(doc) == []
    assert lint(doc, today=TODAY) == []


def test_order_number_form() -> None:
    assert validate(_letter("order", ref_no="๑๒/๒๕๖๗")) == []
    assert _pairs(validate(_letter("order", ref_no="นค ๐๐๑๙.๓/๑๒"))) == [("ref_no", "bad_ref_no")]
    assert _pairs(lint(_letter("order", ref_no="๑๒/๒๕๖๖"), today=TODAY)) == [("ref_no", "ref_year")]
    assert validate(_letter("announcement", ref_no="นค ๐๐๑๙.๓/๑๒")) == []


# --------------------------------------------------------------------------- lint rules

SALUTATION_PAIRS = [
    ("เรียน", "ขอแสดงความนับถือ", []),
    ("กราบเรียน", "ขอแสดงความนับถืออย่างยิ่ง", []),
    ("กราบเรียน", "ขอแสดงความนับถือ", ["salutation_pair"]),
    ("เรียน", "ขอแสดงความนับถืออย่างยิ่ง", ["salutation_pair"]),
    ("นมัสการ", "ขอนมัสการด้วยความเคารพอย่างยิ่ง", []),
    ("นมัสการ", "ขอนมัสการด้วยความเคารพอย่างสูง", []),
    ("นมัสการ", "ขอนมัสการด้วยความเคารพ", []),
    ("นมัสการ", "ขอแสดงความนับถือ", ["salutation_pair"]),
    ("ขอประทานกราบทูล", "ควรมิควรแล้วแต่จะโปรด", []),
    ("ขอประทานกราบทูล", "ขอแสดงความนับถืออย่างยิ่ง", ["salutation_pair"]),
    ("สวัสดี", "ขอแสดงความนับถือ", ["unknown_salutation"]),
]


@pytest.mark.parametrize(("salutation", "close", "codes"), SALUTATION_PAIRS)
def test_salutation_and_closing_pair(salutation: str, close: str, codes: list[str]) -> None:
    doc = _letter(salutation=salutation, complimentary_close=close)
    assert validate(doc) == []
    assert [p.code for p in lint(doc, today=TODAY)] == codes


def test_weekday_that_does_not_match_its_date() -> None:
    assert lint(_letter(body=["ภายในวันพฤหัสบดีที่ ๒๖ ธันวาคม ๒๕๖๗"]), today=TODAY) == []
    doc = _letter(body=["ให้รายงานภายในวันพุธที่ ๒๖ ธันวาคม ๒๕๖๗"])
    (warning,) = lint(doc, today=TODAY)
    assert (warning.field, warning.code) == ("body.0", "weekday_mismatch")
    assert "Thursday" in warning.en
    # 26 Feb 2564 is a Friday, not a Thursday.
    doc = _letter(
        date="2021-02-18",
        subject="ประชุมวันพฤหัสบดีที่ ๒๖ กุมภาพันธ์ ๒๕๖๔",
        references=["หนังสือจังหวัด ที่ นค ๐๐๑๙.๓/๑ ลงวันพฤหัสบดีที่ ๒๖ กุมภาพันธ์ ๒๕๖๔"],
    )
    found = _pairs(lint(doc, today=TODAY))
    assert ("subject", "weekday_mismatch") in found
    assert ("references.0", "weekday_mismatch") in found
    warning = next(p for p in lint(doc, today=TODAY) if p.field == "subject")
    assert "Friday" in warning.en and "ศุกร์" in warning.th


def test_text_dates_in_ce_or_impossible() -> None:
    doc = _letter(body=["ภายในวันที่ ๑ มกราคม 2025", "ภายในวันที่ ๓๐ กุมภาพันธ์ ๒๕๖๘"])
    assert _pairs(lint(doc, today=TODAY)) == [
        ("body.0", "text_ce_year"),
        ("body.1", "text_impossible_date"),
        ("body.0", "mixed_digits"),  # ๑ มกราคม 2025
    ]


def test_deadline_before_the_letter() -> None:
    doc = _letter(body=["ให้รายงานภายในวันที่ ๑ พฤศจิกายน ๒๕๖๗", "เมื่อวันที่ ๑ พฤศจิกายน ๒๕๖๗"])
    assert _pairs(lint(doc, today=TODAY)) == [("body.0", "deadline_passed")]


def test_cited_letter_newer_than_this_one() -> None:
    doc = _letter(references=["หนังสือจังหวัดหนองคาย ที่ นค ๐๐๑๙.๓/๙ ลงวันที่ ๒๒ พฤศจิกายน ๒๕๖๗"])
    assert _pairs(lint(doc, today=TODAY)) == [("references.0", "cited_after_date")]
    doc = _letter(references=["หนังสือจังหวัดหนองคาย ที่ นค ๐๐๑๙.๓/๑๒๓ ลงวันที่ ๑ พฤศจิกายน ๒๕๖๗"])
    assert _pairs(lint(doc, today=TODAY)) == [("references.0", "cites_itself")]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ถนนมิตรภาพ นค ๔๓๐๐๐", []),
        ("ถนนมิตรภาพ นค ๕๓๐๐๐", ["postcode_province"]),
        ("ถนนมิตรภาพ นค 53000", ["postcode_province", "mixed_digits"]),
        ("ถนนมิตรภาพ ๕๓๐๐๐", ["postcode_province"]),  # the ref_no's code (นค) decides
        ("ถนนราชดำเนินนอก กทม. ๑๐๒๐๐", []),
        ("ถนนราชดำเนินนอก กทม. ๔๓๐๐๐", ["postcode_province"]),
        ("ถนนมิตรภาพ นค ๙๙๙๙๙", ["unknown_postcode"]),
    ],
)
def test_postcode_belongs_to_the_province(address: str, expected: list[str]) -> None:
    doc = _letter(sender__address=[address])
    assert [p.code for p in lint(doc, today=TODAY)] == expected


def test_dates_of_the_letter() -> None:
    assert lint(_letter(date="2565-12-15"), today=TODAY) == []  # an error, not a future date
    assert _pairs(lint(_letter(date="2025-06-02"), today=TODAY)) == [("date", "future_date")]
    assert _pairs(lint(_letter(date="1940-03-01"), today=TODAY)) == [("date", "before_1941")]
    assert _pairs(lint(_letter(date="2024-11-23"), today=TODAY)) == [("date", "weekend_date")]


@pytest.mark.parametrize(
    ("date", "subject", "expected"),
    [
        ("2022-12-15", "แผนงาน ประจำปีงบประมาณ พ.ศ.๒๕๖๕", ["fiscal_year"]),  # FY 2566
        ("2022-12-15", "แผนงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๖", []),
        ("2022-08-15", "แผนงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๖", []),  # planning the next year
        ("2022-08-15", "แผนงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๘", ["fiscal_year"]),
        ("2022-12-15", "แผนงาน ประจำปี ๒๕๖๕", []),  # not a fiscal year
    ],
)
def test_fiscal_year_far_from_the_date(date: str, subject: str, expected: list[str]) -> None:
    doc = _letter(date=date, subject=subject)
    assert [p.code for p in lint(doc, today=TODAY)] == expected


def test_fiscal_year_in_body_when_the_subject_has_none() -> None:
    doc = _letter(date="2022-12-15", body=["ตามแผนปีงบประมาณ ๒๕๖๔ และปีงบประมาณ ๒๕๖๕"])
    assert _pairs(lint(doc, today=TODAY)) == [("body.0", "fiscal_year")]


def test_body_names_references_and_enclosures_that_are_not_listed() -> None:
    doc = _letter(body=["ตามหนังสือที่อ้างถึง จังหวัดได้ส่งแนวทาง รายละเอียดตามสิ่งที่ส่งมาด้วย"])
    assert _pairs(lint(doc, today=TODAY)) == [
        ("references", "reference_missing"),
        ("enclosures", "enclosure_missing"),
    ]
    doc = _letter(
        references=["หนังสือจังหวัดหนองคาย ที่ นค ๐๐๑๙.๓/๙ ลงวันที่ ๑ พฤศจิกายน ๒๕๖๗"],
        enclosures=[{"title": "แนวทาง", "quantity": "๑ ชุด"}],
        body=["ตามหนังสือที่อ้างถึง ๒", "รายละเอียดตามสิ่งที่ส่งมาด้วย ๑-๓"],
    )
    assert _pairs(lint(doc, today=TODAY)) == [
        ("body.0", "reference_number"),
        ("body.1", "enclosure_number"),
    ]


def test_circular_expected_when_sent_to_all() -> None:
    assert _pairs(lint(_letter(addressee="นายอำเภอ ทุกอำเภอ"), today=TODAY)) == [
        ("circular", "circular_expected")
    ]
    circular = _letter(addressee="นายอำเภอ ทุกอำเภอ", circular=True, ref_no="นค ๐๐๑๙.๓/ว ๑")
    assert lint(circular, today=TODAY) == []


def test_announcement_carries_no_urgency_or_secrecy() -> None:
    doc = _letter("announcement", urgency="ด่วน", secrecy="ลับ")
    assert validate(doc) == []
    assert _pairs(lint(doc, today=TODAY)) == [
        ("urgency", "marking_on_kind"),
        ("secrecy", "marking_on_kind"),
    ]
    assert lint(_letter(urgency="ด่วนที่สุด", secrecy="ลับมาก"), today=TODAY) == []


def test_acting_line_needs_the_position_acted_for() -> None:
    doc = _letter(signer__position=["พัฒนาการจังหวัดหนองคาย ปฏิบัติราชการแทน"])
    assert _pairs(lint(doc, today=TODAY)) == [("signer.position.0", "acting_line")]


def test_polite_words_toward_subordinates_are_not_flagged() -> None:
    doc = _letter(closing="จึงเรียนมาเพื่อโปรดพิจารณาดำเนินการ", addressee="นายอำเภอเมืองหนองคาย")
    assert lint(doc, today=TODAY) == []


# --------------------------------------------------------------------------- text robustness


@pytest.mark.parametrize(
    "text",
    [
        "<b>เรื่อง</b> & \"คำพูด\" 'quote' > <",
        "“อัญประกาศ” – ๕๐% ฿๑,๐๐๐ ° ± × ÷ © § ½ € …",
        "COVID-19 ๒๐๒๔ mixed ไทย English ๑๒๓ A4",  # Latin words keep their digits
        "zero\u200bwidth between Latin letters",
        "แท็บ\tและ\nขึ้นบรรทัดใหม่",
        "ข",
    ],
)
def test_special_characters_pass(text: str) -> None:
    doc = _letter(subject=text, body=[text, {"items": [text]}], closing=text)
    assert validate(doc) == []
    assert lint(doc, today=TODAY) == []
    assert check(doc)["subject"] == text


def test_characters_the_letter_font_lacks_are_a_warning_naming_them() -> None:
    doc = _letter(subject="รายงานผล 📄✅ ภายใน 🙏", body=["ย่อหน้า", "ภาษาจีน 中文 ในเนื้อความ"])
    assert validate(doc) == []
    warnings = lint(doc, today=TODAY)
    assert _pairs(warnings) == [("subject", "unprintable"), ("body.1", "unprintable")]
    assert "📄 (U+1F4C4) ✅ (U+2705) 🙏 (U+1F64F)" in warnings[0].en
    assert "中 (U+4E2D) 文 (U+6587)" in warnings[1].th


def test_zero_width_inside_a_thai_word_is_a_warning() -> None:
    doc = _letter(subject="การประ\u200bชุม", body=["ย่อหน้า\ufeffแรก", "ไทย \u200b ช่องว่าง"])
    assert validate(doc) == []
    warnings = lint(doc, today=TODAY)
    assert _pairs(warnings) == [("subject", "zero_width"), ("body.0", "zero_width")]
    assert "U+200B" in warnings[0].en and "character 7" in warnings[0].en


# --------------------------------------------------------------------------- check()


def test_check_fills_defaults_keeps_unknown_keys_and_does_not_mutate() -> None:
    doc = _letter()
    for key in ("references", "enclosures", "copies_to", "footer", "urgency", "circular"):
        del doc[key]
    del doc["contact"]["fax"]
    doc["contact"]["extension"] = "๑๒๓"
    doc["register"] = {"office": "สพจ.นค", "tags": ["ประชุม", 1, None, 2.5]}
    doc["enclosures"] = [{"title": "แนวทาง", "note": "ส่งทางไปรษณีย์"}]
    before = copy.deepcopy(doc)

    checked = check(doc)

    assert doc == before
    assert checked["references"] == [] and checked["copies_to"] == []
    assert checked["footer"] is None and checked["urgency"] is None
    assert checked["circular"] is False
    assert checked["contact"] == {
        "phone": "๐ ๔๒๔๑ ๑๑๘๒",
        "fax": None,
        "email": None,
        "extension": "๑๒๓",
    }
    assert checked["enclosures"] == [{"title": "แนวทาง", "quantity": None, "note": "ส่งทางไปรษณีย์"}]
    assert checked["register"] == before["register"]
    assert list(checked)[-1] == "register"
    checked["register"]["tags"].append("x")
    checked["body"][1]["items"].append("x")
    assert doc == before  # a deep copy


@pytest.mark.parametrize(
    "junk",
    [
        None,
        [],
        [{"format": 1}],
        "letter",
        b"{}",
        42,
        3.5,
        True,
        {},
        {"format": 1},
        {"format": None, "kind": None},
        {"format": 1, "kind": "external", "sender": [], "signer": 7, "contact": "x"},
        {"format": 1, "kind": "memo", "body": {"items": 1}, "enclosures": [None, 1, []]},
        {"format": 1, "kind": "order", "ref_no": ["x"], "date": {"y": 1}, "references": {}},
        {1: "int key", "format": 1, "kind": "stamped"},
    ],
)
def test_junk_never_raises_anything_but_invalid_letter(junk: object) -> None:
    problems = validate(junk)
    assert problems
    for problem in problems:
        _assert_bilingual(problem)
    lint(junk, today=TODAY)
    with pytest.raises(InvalidLetter):
        check(junk)


def test_deeply_nested_and_cyclic_values_are_refused() -> None:
    deep: list = []
    inner = deep
    for _ in range(10_000):
        inner.append([])
        inner = inner[0]
    doc = _letter(custom=deep)
    assert ("custom" + ".0" * 33, "too_deep") in _pairs(validate(doc))
    cyclic: dict = {}
    cyclic["self"] = cyclic
    with pytest.raises(InvalidLetter):
        check(_letter(custom=cyclic))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = list(new_letter())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from([*_KEYS, "title", "items", "name"]) | st.text(max_size=5),
        _JSON,
        max_size=12,
    )
)
def test_any_json_never_crashes(doc: dict) -> None:
    problems = validate(doc)
    lint(doc, today=TODAY)
    try:
        checked = check(doc)
    except InvalidLetter as exc:
        assert exc.problems == problems
    else:
        assert problems == []
        assert set(_KEYS) <= set(checked)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_KEYS + ["sender.name", "signer.position", "body.0", "contact.email"]), _JSON
)
def test_any_value_in_any_field_never_crashes(path: str, value: object) -> None:
    doc = _letter()
    _set(doc, path.replace("__", "."), value)
    validate(doc)
    lint(doc, today=TODAY)


# --------------------------------------------------------------------------- new_letter


def test_new_letter_is_a_complete_draft() -> None:
    draft = new_letter()
    assert draft["format"] == 1 and draft["kind"] == "external"
    assert draft["references"] == [] and draft["body"] == [] and draft["ref_no"] is None
    assert draft["contact"] == {"phone": None, "fax": None, "email": None}
    assert {p.field for p in validate(draft)} == {
        "subject",
        "salutation",
        "addressee",
        "body",
        "closing",
        "complimentary_close",
        "signer.name",
        "signer.position",
        "owner_unit",
    }
    assert check(_letter()) == _letter()


def test_new_letter_merges_objects_and_copies_its_arguments() -> None:
    position = ["ผู้ว่าราชการจังหวัดหนองคาย"]
    draft = new_letter("memo", signer={"position": position}, custom=1)
    assert draft["signer"] == {"name": None, "position": position}
    assert draft["kind"] == "memo" and draft["custom"] == 1
    position.append("changed")
    assert draft["signer"]["position"] == ["ผู้ว่าราชการจังหวัดหนองคาย"]
    with pytest.raises(InvalidLetter) as caught:
        new_letter("letter")
    assert _pairs(caught.value.problems) == [("kind", "unknown_kind")]


# --------------------------------------------------------------------------- load_letter


def test_load_letter_tolerates_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.letter.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_letter(), ensure_ascii=False).encode())
    assert load_letter(path) == _letter()


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b'{\n  "format": 1,\n  "kind": "external",\n}', "malformed_json", ["line 4", "column 1"]),
        (b"", "malformed_json", ["line 1"]),
        (b'{"format": 1, "format": 1}', "duplicate_key", ["'format'"]),
        (b'{"format": NaN}', "not_json", ["NaN"]),
        ('{"subject": "เรื่อง"}'.encode("cp874"), "encoding", ["UTF-8"]),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep", ["deep"]),
    ],
)
def test_load_letter_reports_bad_files(
    tmp_path: Path, content: bytes, code: str, words: list[str]
) -> None:
    path = tmp_path / "bad.letter.json"
    path.write_bytes(content)
    with pytest.raises(InvalidLetter) as caught:
        load_letter(path)
    (problem,) = caught.value.problems
    assert (problem.field, problem.code) == ("(file)", code)
    _assert_bilingual(problem)
    for word in words:
        assert word in problem.en


def test_load_letter_refuses_huge_and_unreadable_files(tmp_path: Path) -> None:
    huge = tmp_path / "huge.letter.json"
    with huge.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no 16 MB written
    with pytest.raises(InvalidLetter) as caught:
        load_letter(huge)
    assert _pairs(caught.value.problems) == [("(file)", "too_large")]
    with pytest.raises(InvalidLetter) as caught:
        load_letter(tmp_path)
    assert _pairs(caught.value.problems) == [("(file)", "unreadable")]


def test_load_letter_checks_the_document(tmp_path: Path) -> None:
    path = tmp_path / "list.letter.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InvalidLetter) as caught:
        load_letter(path)
    assert _pairs(caught.value.problems) == [("(document)", "wrong_type")]
    with pytest.raises(NotFound):
        load_letter(tmp_path / "missing.letter.json")


# --------------------------------------------------------------------------- format_problems


def test_format_problems_one_line_each_field_first() -> None:
    problems = validate(_letter(signer__name=None, date="2565-12-15"))
    thai = format_problems(problems).splitlines()
    english = format_problems(problems, lang="en").splitlines()
    assert len(thai) == len(english) == 2
    assert thai[0].startswith("date: ปี 2565") and thai[0].endswith("[be_year]")
    assert english[1] == "signer.name: required for an external letter [required]"
    assert format_problems([]) == ""
    problems = validate(_letter(ref_no="นค\n๐๐๑๙", kind="x" * 10_000))
    assert len(format_problems(problems, lang="en").splitlines()) == len(problems) == 2
    assert all(len(p.en) < 300 and len(p.th) < 300 for p in problems)
    with pytest.raises(ValueError, match="'fr'"):
        format_problems(problems, lang="fr")


@pytest.mark.parametrize(
    ("fields", "digits", "expected"),
    [
        # the example: a reference typed in Arabic digits, Thai elsewhere
        (
            {"references": ["หนังสือจังหวัดหนองคาย ที่ นค 0019.3/ว 1 ลงวันที่ 3 ธันวาคม 2567"]},
            "thai",
            [("references.0", "mixed_digits")],
        ),
        ({"body": ["ประชุมวันที่ ๓ เวลา 10.00 น."]}, "thai", [("body.0", "mixed_digits")]),
        ({"body": ["รายงาน COVID-19 ทาง www.cdd.go.th/2567 หรือ a2567@cdd.go.th"]}, "thai", []),
    ],
)
def test_typed_text_mixing_arabic_and_thai_digits_is_a_warning(fields, digits, expected):
    warnings = [
        p for p in lint(_letter(**fields), today=TODAY, digits=digits) if p.code == "mixed_digits"
    ]
    assert _pairs(warnings) == expected
    for warning in warnings:
        _assert_bilingual(warning)


def test_an_office_printing_arabic_digits_is_told_about_the_thai_ones():
    doc = _letter(body=["ประชุมวันที่ ๓ เวลา 10.00 น."])
    warnings = [p for p in lint(doc, today=TODAY, digits="arabic") if p.code == "mixed_digits"]
    fields = [p.field for p in warnings]
    assert "body.0" in fields and "ref_no" in fields  # every field with Thai digits
    assert all("Arabic digits throughout" in p.en for p in warnings)


def test_one_kind_of_digits_is_no_warning():
    doc = _letter(body=["ประชุมวันที่ ๓ เวลา ๑๐.๐๐ น."])
    assert [p for p in lint(doc, today=TODAY) if p.code == "mixed_digits"] == []


def test_a_text_direction_control_is_a_warning():
    doc = _letter(subject="ราคา \u202e๐๐๐,๑ บาท")
    (warning,) = [p for p in lint(doc, today=TODAY) if p.code == "bidi_control"]
    assert warning.field == "subject" and "U+202E" in warning.en and "6" in warning.en
    _assert_bilingual(warning)
