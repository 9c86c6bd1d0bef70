"""The replies of a circular merged into one table (``saraban consolidate``): a row per
recipient that replied with the enclosed form, the form's fields as columns, totals of the
number columns, then the recipients that replied by letter and those that have not replied.
Written as XLSX (openpyxl), CSV, or DOCX/PDF in the registers' official table style
(``archive/_registers.py``), ready to enclose in the province's own report.

Reply values are text typed by people outside the office: no cell may become a formula.
In XLSX every text cell is stored as a string (never a formula, whatever it starts with);
in CSV a text starting with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed with ``'``
(the usual defence, since a CSV cell has no type).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from saraban.archive import Archive, Table, circulars
from saraban.archive._registers import check_rows, to_csv, to_docx
from saraban.errors import BadRequest
from saraban.thai import thai_date, to_thai_digits
from saraban.usecases._access import visible_letter

FORMATS = ("xlsx", "csv", "docx", "pdf")
NUMBER_TYPES = ("integer", "number", "decimal", "money", "year")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {
    "xlsx": XLSX_TYPE,
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool
    rows_of_table: bool = False  # a table of the form: its number of rows


@dataclass(frozen=True)
class Consolidated:
    letter_id: int
    ref_no: str | None
    subject: str | None
    form: str | None
    columns: list[Column]
    rows: list[tuple[str, list[Any]]]  # (recipient, values in column order)
    totals: list[Any | None]
    by_letter: list[str]  # replied with a letter file only
    missing: list[str]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def consolidate(archive: Archive, letter_id: int, *, clearance: str | None) -> Consolidated:
    record = visible_letter(archive, letter_id, clearance)
    deliveries = circulars.deliveries(archive, letter_id, with_data=True)
    form = next((d.form for d in deliveries if d.form), None)
    columns: list[Column] = []
    if form:
        from saraban.templates.forms import form_schema

        for item in form_schema(form)["items"]:
            label = item["label"]["th"]
            if item["kind"] == "field":
                numeric = item.get("type") in NUMBER_TYPES
                columns.append(Column(item["name"], label, numeric))
            elif item["kind"] == "table":
                columns.append(Column(item["name"], f"{label} (จำนวนแถว)", True, True))
    rows: list[tuple[str, list[Any]]] = []
    by_letter, missing = [], []
    for d in deliveries:
        if d.reply_data:
            values: list[Any] = []
            for column in columns:
                value = d.reply_data.get(column.key)
                if column.rows_of_table:
                    value = len(value) if isinstance(value, list) else 0
                elif column.numeric:
                    value = _number(value) if value not in (None, "") else None
                else:
                    value = "" if value is None else str(value)
                values.append(value)
            rows.append((d.name, values))
        elif d.replied_at:
            by_letter.append(d.name)
        else:
            missing.append(d.name)
    totals: list[Any | None] = []
    for n, column in enumerate(columns):
        if column.numeric:
            totals.append(sum((Decimal(v[n]) for _name, v in rows if v[n] is not None), Decimal(0)))
        else:
            totals.append(None)
    return Consolidated(
        letter_id, record.ref_no, record.subject, form, columns, rows, totals, by_letter, missing
    )


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return to_thai_digits(f"{Decimal(value).normalize():f}")
    return str(value)


def as_table(found: Consolidated) -> Table:
    """The official table: what DOCX, PDF and CSV print."""
    columns = ("ลำดับ", "หน่วยงาน", *(c.label for c in found.columns))
    rows = [
        [to_thai_digits(str(n)), name, *(_shown(v) for v in values)]
        for n, (name, values) in enumerate(found.rows, start=1)
    ]
    if any(t is not None for t in found.totals):
        rows.append(["", "รวม", *(_shown(t) for t in found.totals)])
    blank = [""] * len(found.columns)
    if found.by_letter:
        rows.append(["", f"ตอบเป็นหนังสือ ({to_thai_digits(str(len(found.by_letter)))})", *blank])
        rows += [["", name, *blank] for name in found.by_letter]
    if found.missing:
        rows.append(["", f"ยังไม่ตอบ ({to_thai_digits(str(len(found.missing)))})", *blank])
        rows += [["", name, *blank] for name in found.missing]
    subtitle = f"ตามหนังสือที่ {found.ref_no or found.letter_id} เรื่อง {found.subject or ''}"
    return Table(
        title=f"สรุปผลการรายงาน ณ วันที่ {thai_date(dt.date.today())}",
        subtitle=subtitle,
        columns=columns,
        rows=rows,
    )


def to_xlsx(found: Consolidated) -> bytes:
    """The table as one XLSX sheet, written in openpyxl's streaming mode (878 rows in a
    fraction of the time); text cells are typed as strings, so none is a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("สรุปผล")
    sheet.column_dimensions["B"].width = 36
    bold = Font(bold=True)
    table = as_table(found)

    def cell(value: Any, *, strong: bool = False) -> Any:
        made = WriteOnlyCell(sheet)
        if isinstance(value, Decimal):
            made.value = int(value) if value == value.to_integral_value() else float(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            made.value = value
        else:
            made.value = "" if value is None else str(value)
            made.data_type = "s"  # text, never a formula, whatever it starts with
        if strong:
            made.font = bold
        return made

    sheet.append([cell(table.title, strong=True)])
    sheet.append([cell(table.subtitle)])
    sheet.append([cell(c, strong=True) for c in table.columns])
    for n, (name, values) in enumerate(found.rows, start=1):
        sheet.append([cell(v) for v in (n, name, *values)])
    if any(t is not None for t in found.totals):
        sheet.append([cell(v, strong=True) for v in ("", "รวม", *found.totals)])
    for heading, names in (("ตอบเป็นหนังสือ", found.by_letter), ("ยังไม่ตอบ", found.missing)):
        if names:
            sheet.append([])
            sheet.append([cell(""), cell(f"{heading} ({len(names)})", strong=True)])
            for name in names:
                sheet.append([cell(""), cell(name)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The consolidated PDF in the official table style, laid out for a country: a row per
# reply in a table whose columns are as wide as what they hold (the recipient's name wide,
# numbers narrow), then those who replied by letter and those who did not as numbered
# lists in three columns, not as table rows of empty cells. Typeset by Typst
# (``templates/_typeset.py``): WeasyPrint took about a millisecond of CPU a cell, 15 s for
# the country's 878 replies in 18 columns (docs/circulars.md).
WIDE_TABLE = 8  # more form columns than this: the table's text is 10 pt


def to_pdf(found: Consolidated) -> bytes:
    from saraban.templates._typeset import TypesetTable, table_pdf

    rows = [
        [to_thai_digits(str(n)), name, *(_shown(v) for v in values)]
        for n, (name, values) in enumerate(found.rows, start=1)
    ]
    if any(t is not None for t in found.totals):
        rows.append(["", "รวม", *(_shown(t) for t in found.totals)])
    wide = len(found.columns) > WIDE_TABLE
    table = as_table(found)
    return table_pdf(
        TypesetTable(
            title=table.title,
            subtitle=table.subtitle,
            columns=("ลำดับ", "หน่วยงาน", *(c.label for c in found.columns)),
            widths=[0.7, 3.0] + [1.0 if c.numeric else 1.6 for c in found.columns],
            numeric=[False, False] + [c.numeric for c in found.columns],
            rows=rows,
            strong_rows=[len(found.rows)] if len(rows) > len(found.rows) else [],
            lists=[
                (
                    f"{heading} ({to_thai_digits(str(len(names)))})",
                    [f"{to_thai_digits(str(n))}. {name}" for n, name in enumerate(names, 1)],
                )
                for heading, names in (
                    ("ตอบเป็นหนังสือ", found.by_letter),
                    ("ยังไม่ตอบ", found.missing),
                )
                if names
            ],
            size=10.0 if wide else 12.0,
            header_size=9.0 if wide else 12.0,
        )
    )


def write(found: Consolidated, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise BadRequest(
            f"format: ต้องเป็น {', '.join(FORMATS)} / the format must be one of "
            f"{', '.join(FORMATS)}, not {fmt!r}"
        )
    checked_rows(found, fmt)
    if fmt == "xlsx":
        return to_xlsx(found)
    table = as_table(found)
    if fmt == "csv":
        return to_csv(table)
    return to_docx(table) if fmt == "docx" else to_pdf(found)


def checked_rows(found: Consolidated, fmt: str) -> int:
    """The rows of the table (the replies, and the names listed after them), refused (413)
    when too many for ``fmt`` (``check_rows``; an XLSX holds them all), or, for a PDF, when
    they hold more text than one prints (``check_printed_chars``)."""
    rows = len(found.rows) + len(found.by_letter) + len(found.missing)
    if fmt != "xlsx":
        check_rows(rows, fmt)
    if fmt == "pdf":
        from saraban.templates._typeset import check_printed_chars

        check_printed_chars(
            sum(len(_shown(v)) for _name, values in found.rows for v in values)
            + sum(len(n) for n in (*(n for n, _v in found.rows), *found.by_letter, *found.missing))
        )
    return rows


def write_apart(found: Consolidated, fmt: str) -> bytes:
    """:func:`write` in a process of its own (:func:`saraban.pools.run_apart`)."""
    from saraban.pools import run_apart

    return run_apart(write, found, fmt)
