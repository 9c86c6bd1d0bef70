"""Registers and lists out of the archive, in the official column layouts (reference §5):

- ทะเบียนหนังสือส่ง (แบบที่ ๑๔) and ทะเบียนหนังสือรับ (แบบที่ ๑๓): วันที่, เลขทะเบียน,
  ที่, ลงวันที่, จาก, ถึง, เรื่อง, การปฏิบัติ, หมายเหตุ;
- บัญชีหนังสือขอทำลาย (แบบที่ ๒๕): ลำดับที่, รหัสแฟ้ม, ที่, ลงวันที่, เรื่อง, การพิจารณา,
  หมายเหตุ.

Each comes as a :class:`Table` (title, columns, rows of strings) that is written as CSV
(UTF-8 with a byte-order mark, so spreadsheet programs read the Thai), DOCX (python-docx,
A4 landscape) or PDF (Typst with the bundled Sarabun font, ``templates._typeset``). Generated
numbers and dates are in Thai digits with short Thai dates (``๑๕ ธ.ค. ๖๕``); text a clerk
typed is left as typed.
Every number of the outgoing register appears, cancelled and unused ones with their reason,
so the printed register accounts for each number.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from saraban.errors import BadRequest, TooLarge
from saraban.thai import be_year, thai_date, to_thai_digits
from saraban.vocabulary import SECRECIES

if TYPE_CHECKING:
    from docx.text.run import Run

    from saraban.archive._archive import Archive


def _register_columns(number: str) -> tuple[str, ...]:
    """The columns both registers share; ``number`` heads the เลขทะเบียน column."""
    return ("วันที่", number, "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ")


OUTGOING_COLUMNS = _register_columns("เลขทะเบียนส่ง")
INCOMING_COLUMNS = _register_columns("เลขทะเบียนรับ")
DESTRUCTION_COLUMNS = (
    "ลำดับที่",
    "รหัสแฟ้ม",
    "ที่",
    "ลงวันที่",
    "เรื่อง",
    "การพิจารณา",
    "หมายเหตุ",
)
# Relative column widths for the printed tables (the subject gets the room).
_WIDTHS = {
    OUTGOING_COLUMNS: (9, 9, 10, 9, 13, 13, 23, 8, 10),
    INCOMING_COLUMNS: (10, 9, 11, 9, 13, 12, 22, 9, 9),
    DESTRUCTION_COLUMNS: (6, 8, 16, 10, 38, 10, 12),
}
FORMATS = ("csv", "docx", "pdf")
_STATUS_NOTES = {
    "cancelled": "ยกเลิก",
    "unused": "ไม่ได้ใช้เลข",
    "reserved": "จองเลข",
    "pending": "กำลังออกเลข",
}


@dataclass(frozen=True)
class Table:
    title: str
    subtitle: str
    columns: tuple[str, ...]
    rows: list[list[str]]


@functools.lru_cache(maxsize=4096)  # a register's rows share a few hundred days
def _short(d: dt.date | None) -> str:
    return thai_date(d, "short") if d else ""


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone()  # the register shows the office's own clock


def _period(date_from: dt.date, date_to: dt.date) -> str:
    if date_to < date_from:
        raise BadRequest(
            f"--to: วันสิ้นสุด {date_to.isoformat()} อยู่ก่อนวันเริ่ม {date_from.isoformat()} / "
            f"the end date {date_to.isoformat()} is before the start {date_from.isoformat()}"
        )
    return f"ตั้งแต่ {thai_date(date_from)} ถึง {thai_date(date_to)}"


def outgoing_register(
    archive: Archive,
    date_from: dt.date,
    date_to: dt.date,
    *,
    register: str | None = None,
    clearance: str | None = SECRECIES[-1],
) -> Table:
    """ทะเบียนหนังสือส่ง: every number whose letter is dated in the range, in number order;
    only those a user cleared at ``clearance`` may see (default: all)."""
    subtitle = _period(date_from, date_to)
    rows = []
    for letter in archive.sent_register(date_from, date_to, register, clearance):
        notes = []
        if letter.status in _STATUS_NOTES:
            reason = letter.reason or letter.note
            notes.append(_STATUS_NOTES[letter.status] + (f": {reason}" if reason else ""))
        if letter.secrecy:
            notes.append(f"ชั้นความลับ: {letter.secrecy}")
        rows.append(
            [
                _short(_local(letter.created_at).date()),
                letter.serial_label,
                letter.unit or "",
                _short(letter.date),
                letter.sender or "",
                letter.addressee or "",
                letter.subject or "",
                "",
                "; ".join(notes),
            ]
        )
    name = f" ({register})" if register else ""
    return Table(f"ทะเบียนหนังสือส่ง{name}", subtitle, OUTGOING_COLUMNS, rows)


def incoming_register(
    archive: Archive,
    date_from: dt.date,
    date_to: dt.date,
    *,
    register: str | None = None,
    clearance: str | None = SECRECIES[-1],
) -> Table:
    """ทะเบียนหนังสือรับ: every เลขรับ received in the range, in number order; only those a
    user cleared at ``clearance`` may see (default: all)."""
    subtitle = _period(date_from, date_to)
    rows = []
    for item in archive.received_register(date_from, date_to, register, clearance):
        when = _local(item.received_at)
        notes = [item.note] if item.note else []
        if item.secrecy:
            notes.append(f"ชั้นความลับ: {item.secrecy}")
        rows.append(
            [
                f"{_short(when.date())} {to_thai_digits(when.strftime('%H.%M'))} น.",
                item.serial_label,
                item.ref_no or "",
                _short(item.letter_date),
                item.sender,
                item.recipient,
                item.subject,
                item.action or "",
                "; ".join(notes),
            ]
        )
    name = f" ({register})" if register else ""
    return Table(f"ทะเบียนหนังสือรับ{name}", subtitle, INCOMING_COLUMNS, rows)


def retention_due(archive: Archive, year: int) -> Table:
    """บัญชีหนังสือขอทำลาย for BE ``year``: letters whose retention ends with that year
    (letter year + retention years = ``year``). Letters marked never to destroy, unused
    numbers and letters without a date are never listed."""
    if year < 2400:
        raise BadRequest(
            f"YEAR: {year} เป็นปี ค.ศ. ให้ใช้ปี พ.ศ. / {year} looks like a CE year: give the "
            f"BE year (e.g. {be_year(dt.date.today().year)})"
        )
    due = [
        letter
        for letter in archive.letters()
        if letter.status in ("issued", "cancelled", "stored") and letter.keep_until == year
    ]
    due.sort(key=lambda letter: (letter.date or dt.date.max, letter.id))
    rows = []
    for letter in due:
        note = f"เก็บถึง พ.ศ. {to_thai_digits(str(year))}"
        if letter.status == "cancelled":
            note += "; ยกเลิกแล้ว"
        rows.append(
            [
                "",
                to_thai_digits(str(letter.id)),
                letter.ref_no or "",
                _short(letter.date),
                letter.subject or "",
                "",
                note,
            ]
        )
    for n, row in enumerate(rows, 1):
        row[0] = to_thai_digits(str(n))
    return Table(
        "บัญชีหนังสือขอทำลาย",
        f"หนังสือที่ครบกำหนดเก็บใน พ.ศ. {to_thai_digits(str(year))}",
        DESTRUCTION_COLUMNS,
        rows,
    )


# ---- writers ---------------------------------------------------------------------------------


# What a spreadsheet program reads as the start of a formula (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: object) -> object:
    """A CSV cell that no spreadsheet program reads as a formula: text typed by clerks or by
    people outside the office (subjects, senders, replies) keeps a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return f"'{value}"
    return value


def to_csv(table: Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([formula_safe(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_docx(table: Table) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm

    from saraban.templates import set_docx_font

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))

    def style_run(run: Run, size: float, bold: bool = False) -> None:
        set_docx_font(run._element.get_or_add_rPr(), size, bold=bold)

    for text, size in ((table.title, 20), (table.subtitle, 16)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        style_run(paragraph.add_run(text), size, bold=size == 20)
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = _WIDTHS.get(table.columns) or (1,) * len(table.columns)
    usable = 26.7
    for i, column in enumerate(table.columns):
        cell = grid.rows[0].cells[i]
        cell.width = Cm(usable * widths[i] / sum(widths))
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        style_run(paragraph.add_run(column), 14, bold=True)
    header = grid.rows[0]._tr.get_or_add_trPr()
    header.append(header.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
    for row in table.rows:
        cells = grid.add_row().cells
        for i, value in enumerate(row):
            cells[i].width = Cm(usable * widths[i] / sum(widths))
            lines = value.split("\n")
            paragraph = cells[i].paragraphs[0]
            for j, line in enumerate(lines):
                run = paragraph.add_run(line)
                style_run(run, 14)
                if j < len(lines) - 1:
                    run.add_break()
    if not table.rows:
        paragraph = document.add_paragraph()
        style_run(paragraph.add_run("ไม่มีรายการ"), 14)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def to_pdf(table: Table) -> bytes:
    """The register in the official table style, typeset by Typst (``templates/_typeset``)."""
    from saraban.templates._typeset import TypesetTable, table_pdf

    return table_pdf(
        TypesetTable(
            title=table.title,
            subtitle=table.subtitle,
            columns=table.columns,
            widths=_WIDTHS.get(table.columns) or (1,) * len(table.columns),
            numeric=[False] * len(table.columns),
            rows=table.rows,
            empty="ไม่มีรายการ",
            title_size=18.0,
            margin=1.5,
        )
    )


# A printed table costs about 2.5 ms and 0.3 MB a row in PDF (a 5,000-row register: 12 s and
# 1.4 GB, where WeasyPrint took 85 s and 1.1 GB); more rows are a shorter period's, or a
# CSV's. A CSV's rows are read whole too (20,000 in 3 s and 150 MB): past 100,000, a shorter
# period.
PRINTED_ROWS_AT_MOST = 5000
EXPORTED_ROWS_AT_MOST = 100_000


def check_rows(rows: int, fmt: str) -> None:
    """Refuse a format other than :data:`FORMATS` (400, the value not echoed), and a table
    too long for ``fmt`` (413): a DOCX or PDF of more than :data:`PRINTED_ROWS_AT_MOST`
    rows, any file of more than :data:`EXPORTED_ROWS_AT_MOST`."""
    if fmt not in FORMATS:
        raise BadRequest(
            f"format: ต้องเป็น {', '.join(FORMATS)} / the format must be one of {', '.join(FORMATS)}"
        )
    most = PRINTED_ROWS_AT_MOST if fmt in ("docx", "pdf") else EXPORTED_ROWS_AT_MOST
    if rows > most:
        instead = " หรือส่งออกเป็น CSV" if fmt in ("docx", "pdf") else ""
        instead_en = ", or CSV" if instead else ""
        raise TooLarge(
            f"ตารางนี้มี {to_thai_digits(f'{rows:,}')} แถว ส่งออกเป็น {fmt.upper()} ได้ไม่เกิน "
            f"{to_thai_digits(f'{most:,}')} แถว เลือกช่วงวันที่ให้สั้นลง{instead} / the table has "
            f"{rows:,} rows: a {fmt.upper()} holds at most {most:,}; choose a shorter "
            f"period{instead_en}"
        )


def write(table: Table, fmt: str) -> bytes:
    check_rows(len(table.rows), fmt)
    return {"csv": to_csv, "docx": to_docx, "pdf": to_pdf}[fmt](table)
