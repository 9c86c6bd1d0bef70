"""Forms as PDF, read back with pdftotext: every value, in its row and column order, exactly.

Built-in forms go through their HTML twins and WeasyPrint (marker ``pdf``); uploaded
templates through LibreOffice (marker ``soffice``, skipped where it is not installed).
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess

import pytest
from conftest import DATA
from docx import Document

from saraban.templates.forms import (
    PdfUnavailable,
    blank_pdf,
    fill_pdf,
    fill_uploaded_pdf,
)
from saraban.templates.forms._convert import soffice_path

FORMS_DATA = DATA / "forms"
NAMES = ["centre_report", "centre_year_plan", "self_development_plan", "activity_schedule"]
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"


def sample(name: str) -> dict:
    return json.loads((FORMS_DATA / f"{name}.json").read_text("utf-8"))


def pdftotext(pdf: bytes, *args: str) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed: scripts/setup --test installs it")
    done = subprocess.run(
        ["pdftotext", *args, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def squash(text: str) -> str:
    """Without white space: table cells and long lines wrap where the value has none."""
    return re.sub(r"\s+", "", text)


def thai(number: int) -> str:
    return "".join(THAI_DIGITS[int(d)] for d in str(number))


def assert_in_order(text: str, expected: list[str]) -> None:
    """Each expected piece occurs, after the previous one (row by row, cell by cell)."""
    flat = squash(text)
    position = 0
    for piece in expected:
        piece = squash(piece)
        if not piece:
            continue
        found = flat.find(piece, position)
        assert found >= 0, f"{piece!r} missing after position {position}: {flat[position:][:200]!r}"
        position = found + len(piece)


def expected_centre_report(data: dict) -> list[str]:
    out = [
        f"อำเภอ{data['district']}",
        f"จังหวัด{data['province']}",
        f"ศูนย์{data['centre_name']} หมู่ที่ {data['moo']} ตำบล{data['subdistrict']}",
        f"บ้านเลขที่ {data['house_no']} หมู่ที่ {data['moo']} บ้าน{data['village']}",
        data["highlight"],
    ]
    for i, person in enumerate(data["coordinators"], start=1):
        out += [
            f"{thai(i)})",
            person["name"],
            f"ตำแหน่ง {person['position']}",
            f"โทร. {person['phone']}",
        ]
    kinds = ["ส่วนราชการ"] * 4 + ["ผู้ทรงคุณวุฒิ", "พัฒนาการอำเภอ", "เจ้าหน้าที่พัฒนาชุมชนอำเภอ"]
    for i, (adviser, kind) in enumerate(zip(data["advisers"], kinds, strict=True), start=1):
        out += [f"{thai(i)}.", adviser["name"], kind]
    roles = ["ประธาน", "รองประธาน", "รองประธาน", "เลขานุการ", "เหรัญญิก", "ประชาสัมพันธ์", "ปฏิคม"] + [
        "กรรมการ"
    ] * 13
    for i, member in enumerate(data["committee"], start=1):
        out += [f"{thai(i)}.", member["name"], member.get("role", roles[i - 1])]
    for i, base in enumerate(data["bases"], start=1):
        out += [thai(i), base["name"], base["objective"], base["scope"]]
    for i, course in enumerate(data["courses"], start=1):
        out += [
            thai(i),
            course["name"],
            course["objective"],
            course["method"],
            course["target_group"],
            thai(course["group_size"]),
            thai(course["days"]),
            course["fee"],
        ]
    for i, trainer in enumerate(data["trainers"], start=1):
        out += [
            thai(i),
            trainer["name"],
            trainer["expertise"],
            trainer["teaches"],
            trainer["phone"],
        ]
    out.append(data["best_practice"])
    for i, item in enumerate(data["plan"], start=1):
        out += [
            thai(i),
            item["activity"],
            item["target"],
            item["budget"],
            item["period"],
            item["owner"],
            item["note"],
        ]
    return out


def expected_centre_year_plan(data: dict) -> list[str]:
    out = [f"ประจำปี {thai(data['year'])}", "วัน เดือน ปี ที่รายงาน"]
    dates = {
        "2022-01-25": "๒๕ มกราคม ๒๕๖๕",
        "2022-01-31": "๓๑ มกราคม ๒๕๖๕",
        "2022-05-20": "๒๐ พฤษภาคม ๒๕๖๕",
        "2022-05-31": "๓๑ พฤษภาคม ๒๕๖๕",
    }
    for i, row in enumerate(data["targets"], start=1):
        out += [
            thai(i),
            f"- {row['target']}",
            row["quarter"],
            f"- ภายในวันที่ {dates[row['district_due']]}",
            f"- ภายในวันที่ {dates[row['department_due']]}",
            row.get("note", ""),
        ]
    return out


def expected_self_development_plan(data: dict) -> list[str]:
    out = [f"(ชื่อ - สกุล {data['name']})", "ความสามารถในการพัฒนาตนเอง"]
    for i, row in enumerate(data["activities"], start=1):
        out += [
            thai(i),
            row["area"],
            row["activity"],
            row["by_self"],
            row["with_support"],
            row["owner"],
            row["period"],
        ]
    out += [
        "จำนวน ๒ กิจกรรม",
        "จำนวน ๓ กิจกรรม",
        "ตั้งแต่เดือน กรกฎาคม พ.ศ. ๒๕๖๐",
        "ตั้งแต่วันที่ ๑๕ เดือน สิงหาคม พ.ศ. ๒๕๖๐",
    ]
    return out


def expected_activity_schedule(data: dict) -> list[str]:
    out = [
        data["project"],
        f"ประจำปีงบประมาณ {thai(data['fiscal_year'])}",
        f"มีทั้งหมด {thai(len(data['activities']))} กิจกรรม ดังนี้",
    ]
    for i, activity in enumerate(data["activities"], start=1):
        out.append(f"กิจกรรมที่ {thai(i)} {activity['title']}")
        for step in activity["steps"]:
            out += [step["method"], step["when"]]
    return out


EXPECTED = {
    "centre_report": expected_centre_report,
    "centre_year_plan": expected_centre_year_plan,
    "self_development_plan": expected_self_development_plan,
    "activity_schedule": expected_activity_schedule,
}


@pytest.fixture
def no_warnings(caplog):
    """Any WeasyPrint warning (a missing font, a refused URL) fails the test."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    yield
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not warnings, [r.getMessage() for r in warnings]


@pytest.mark.pdf
@pytest.mark.parametrize("name", NAMES)
def test_filled_pdf_holds_every_value_in_order(name, no_warnings):
    data = sample(name)
    pdf = fill_pdf(name, data)
    assert pdf.startswith(b"%PDF-")
    text = pdftotext(pdf, "-raw")
    assert_in_order(text, EXPECTED[name](data))
    assert "....." not in text


@pytest.mark.pdf
def test_pdf_keeps_the_table_columns_in_its_header():
    text = pdftotext(fill_pdf("centre_report", sample("centre_report")), "-raw")
    assert_in_order(
        text,
        [
            "ที่",
            "ชื่อหลักสูตร",
            "วัตถุประสงค์การเรียนรู้",
            "วิธีการเรียนรู้",
            "กลุ่มเป้าหมาย",
            "จำนวนกลุ่มเป้าหมายต่อรุ่น หรือต่อครั้ง",
            "ระยะเวลาการเรียนรู้/ฝึกอบรม (วัน)",
            "ค่าธรรมเนียม (ถ้ามี)",
        ],
    )
    plan = pdftotext(fill_pdf("centre_year_plan", sample("centre_year_plan")), "-raw")
    assert_in_order(
        plan,
        [
            "ที่",
            "จัดตั้งศูนย์ผู้นำจิตอาสาพัฒนาชุมชนระดับอำเภอ/ตำบล",
            "ไตรมาส",
            "วัน เดือน ปี ที่รายงาน",
            "หมายเหตุ",
            "อำเภอรายงานจังหวัด",
            "รายงานกรมฯ",
        ],
    )


@pytest.mark.pdf
def test_a_place_typed_with_its_word_is_printed_once_in_the_pdf(no_warnings):
    data = sample("centre_report")
    data.update(centre_name="ศูนย์ผู้นำจิตอาสาบ้านหาดคำ", village="บ้านหาดคำ", subdistrict="ต.หาดคำ")
    text = pdftotext(fill_pdf("centre_report", data), "-raw")
    assert squash("ศูนย์ผู้นำจิตอาสาบ้านหาดคำ หมู่ที่ ๓ ตำบลหาดคำ") in squash(text)
    assert squash("หมู่ที่ ๓ บ้านหาดคำ ตำบลหาดคำ") in squash(text)
    for doubled in ("ศูนย์ศูนย์", "บ้านบ้าน", "ตำบลต."):
        assert doubled not in text


@pytest.mark.pdf
@pytest.mark.parametrize("name", NAMES)
def test_blank_pdf_keeps_dotted_lines(name, no_warnings):
    text = pdftotext(blank_pdf(name), "-raw")
    assert "....." in text
    assert "{{" not in text


@pytest.mark.pdf
@pytest.mark.parametrize(
    "value",
    ["น้ำ ปั้น ผู้ใหญ่บ้าน กำนัน", "A & B < C > D \" E ' F", "๑๒๓ 123 ไทย English", "ศูนย์ฯ ต่าง ๆ"],
)
def test_pdf_text_layer_is_the_exact_thai_of_the_values(value):
    data = sample("centre_year_plan")
    data["targets"][1]["note"] = value
    data["targets"][0]["target"] = value
    text = pdftotext(fill_pdf("centre_year_plan", data), "-raw")
    assert squash(f"- {value}") in squash(text)
    assert text.count(value.split()[0]) >= 2


@pytest.mark.pdf
def test_a_long_table_repeats_its_header_on_the_next_page():
    data = sample("centre_year_plan")
    data["targets"] = [{"target": f"ระดับตำบล ศูนย์ที่ {i}", "quarter": "๑"} for i in range(20)]
    pdf = fill_pdf("centre_year_plan", data)
    page_two = pdftotext(pdf, "-raw", "-f", "2", "-l", "2")
    assert "วัน เดือน ปี ที่รายงาน" in page_two


# ---- uploaded templates through LibreOffice ---------------------------------------------


def make_template() -> bytes:
    document = Document()
    document.add_paragraph("เรียน {{ addressee }}")
    table = document.add_table(rows=4, cols=2)
    for row, texts in zip(
        table.rows,
        [
            ["ที่", "ชื่อ"],
            ["{%tr for m in members %}", ""],
            ["{{ loop.index|thai_digits }}", "{{ m.name }}"],
            ["{%tr endfor %}", ""],
        ],
        strict=True,
    ):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


VALUES = {
    "addressee": 'นายอำเภอ <ทุกอำเภอ> & "ผู้เกี่ยวข้อง"',
    "members": [{"name": "นายสมพงษ์ ศรีสุข"}, {"name": "นางบุญมี แก้วประเสริฐ"}],
}


@pytest.mark.soffice
@pytest.mark.skipif(soffice_path() is None, reason="LibreOffice (soffice) is not installed")
def test_uploaded_template_to_pdf_with_libreoffice():
    pdf = fill_uploaded_pdf(make_template(), VALUES)
    text = pdftotext(pdf, "-raw")
    assert_in_order(
        text,
        [f"เรียน {VALUES['addressee']}", "ที่", "ชื่อ", "๑", "นายสมพงษ์ ศรีสุข", "๒", "นางบุญมี แก้วประเสริฐ"],
    )


def test_without_libreoffice_pdf_of_an_upload_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PdfUnavailable) as caught:
        fill_uploaded_pdf(make_template(), VALUES)
    assert caught.value.status == 501
    assert "LibreOffice" in caught.value.message and ".docx" in caught.value.message


def test_without_libreoffice_bad_values_are_still_reported_first(monkeypatch, tmp_path):
    from saraban.templates.forms import InvalidFormData

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InvalidFormData):
        fill_uploaded_pdf(make_template(), {})
