"""The registers: ทะเบียนหนังสือส่ง (every number, cancelled and unused ones with their
reason) and ทะเบียนหนังสือรับ (with a form to receive a letter), filtered by BE dates and
register, exported as CSV, DOCX or PDF in the official columns.

A letter the user is not cleared for is left out of the page and of the export alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from saraban.archive import Table, write_table
from saraban.errors import BadRequest, SarabanError
from saraban.service import _web
from saraban.service.jobs import table_bytes, table_file
from saraban.thai import ThaiDateError, parse_be_date, thai_date
from saraban.usecases import receiving
from saraban.usecases import registers as registers_usecase
from saraban.vocabulary import visible_levels

bp = Blueprint("registers", __name__)
PER_PAGE = 50
KINDS = {"sent": "ทะเบียนหนังสือส่ง", "received": "ทะเบียนหนังสือรับ"}
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def parse_period(args: Any) -> tuple[dt.date, dt.date, dict[str, str]]:
    """The BE dates typed in ``from``/``to`` (default: 1 January of this year to today)."""
    today = dt.date.today()
    errors: dict[str, str] = {}
    period = [dt.date(today.year, 1, 1), today]
    for index, name in enumerate(("from", "to")):
        text = (args.get(name) or "").strip()
        if not text:
            continue
        try:
            parsed = parse_be_date(text)
        except ThaiDateError as exc:
            errors[name] = f"{exc.th} / {exc.en}"
        else:
            if parsed is not None:
                period[index] = parsed
    if period[1] < period[0] and not errors:
        errors["to"] = (
            f"วันสิ้นสุด ({thai_date(period[1])}) อยู่ก่อนวันเริ่ม ({thai_date(period[0])}) / the end "
            "date is before the start"
        )
    return period[0], period[1], errors


def export_response(
    table: Table,
    fmt: str,
    kind: str,
    date_from: dt.date,
    date_to: dt.date,
    *,
    shown_at: Callable[[str], str] | None = None,
) -> Response:
    """The register as a file. A DOCX or PDF of many rows is made in a process of its own:
    with ``shown_at`` (the web page) in the background (``jobs.table_file``), else (the API)
    while the request waits."""
    if fmt not in FORMATS:
        raise BadRequest("format: ต้องเป็น csv, docx หรือ pdf / format must be csv, docx or pdf")
    # ทะเบียนหนังสือส่ง ๑ ตุลาคม ๒๕๖๘ ถึง ๓๑ ธันวาคม ๒๕๖๘.pdf; for old clients the same
    # period in BE, ASCII digits: register-sent-2568-10-01-2568-12-31.pdf
    name = f"{KINDS[kind]} {thai_date(date_from)} ถึง {thai_date(date_to)}.{fmt}"
    fallback = f"register-{kind}-{_be_iso(date_from)}-{_be_iso(date_to)}.{fmt}"
    download = (FORMATS[fmt], name, fallback)
    if shown_at is not None:
        return table_file(
            write_table,
            (table, fmt),
            fmt=fmt,
            rows=len(table.rows),
            download=download,
            shown_at=shown_at,
        )
    data = table_bytes(write_table, (table, fmt), fmt=fmt, rows=len(table.rows))
    return _web.attachment(data, *download)


def _be_iso(day: dt.date) -> str:
    return f"{day.year + 543:04d}-{day.month:02d}-{day.day:02d}"


@bp.get("/registers")
@_web.login_required
def registers() -> Any:
    return registers_page(request.args.get("kind", "sent"))


def registers_page(
    kind: str,
    values: Any = None,
    receive_error: str | None = None,
    intake_error: str | None = None,
) -> Any:
    """A register's page; ``values`` and ``receive_error`` (or ``intake_error``, for the
    form that takes a file): a receive form sent back with everything the clerk typed and
    what is wrong with it (400)."""
    user = _web.user()
    if kind not in KINDS:
        kind = "sent"
    date_from, date_to, errors = parse_period(request.args)
    register = (request.args.get("register") or "").strip() or None
    archive = _web.archive()
    rows: list[Any] = []
    page, total = _web.page_number(), 0
    if not errors:  # newest number first on screen
        total, rows = registers_usecase.register_page(
            archive,
            kind,
            date_from,
            date_to,
            register=register,
            clearance=user.clearance,
            page=page,
            per_page=PER_PAGE,
        )
    return render_template(
        "registers.html",
        kind=kind,
        kinds=KINDS,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        date_from=request.args.get("from") or thai_date(date_from),
        date_to=request.args.get("to") or thai_date(date_to),
        register=register or "",
        registers=archive.registers(),
        units=archive.units(),
        secrecies=visible_levels(_web.clearance()),  # what the user may number
        errors=errors,
        values=values or {},
        receive_error=receive_error,
        intake_error=intake_error,
        # the watched folder's intake, in whichever serving process runs it
        inbox_job=_web.jobs().running("inbox") if kind == "received" else None,
        today=thai_date(dt.date.today()),
    ), (400 if errors or receive_error or intake_error else 200)


@bp.get("/registers/export")
@_web.login_required
def export() -> Any:
    kind = request.args.get("kind", "sent")
    if kind not in KINDS:
        raise BadRequest("kind: ต้องเป็น sent หรือ received / kind must be sent or received")
    date_from, date_to, errors = parse_period(request.args)
    if errors:
        raise BadRequest("; ".join(f"{k}: {v}" for k, v in errors.items()))
    register = (request.args.get("register") or "").strip() or None
    fmt = request.args.get("format", "csv")
    table = registers_usecase.register_table(
        _web.archive(), kind, date_from, date_to, register, _web.clearance(), fmt=fmt
    )
    # the page the file is asked from, showing its progress (``from`` is a Python keyword)
    page: dict[str, Any] = {"kind": kind, "register": register or ""}
    page.update({"from": request.args.get("from") or "", "to": request.args.get("to") or ""})

    def shown_at(job: str) -> str:
        return url_for("registers.registers", job=job, **page)

    return export_response(table, fmt, kind, date_from, date_to, shown_at=shown_at)


@bp.post("/registers/receive")
@_web.login_required
def receive() -> Any:
    """ลงทะเบียนรับ: the next เลขรับ of the register for a letter that arrived."""
    user = _web.user()
    form = request.form
    letter_date = None
    text = (form.get("letter_date") or "").strip()
    try:
        letter_date = parse_be_date(text) if text else None
    except ThaiDateError as exc:
        return registers_page("received", values=form, receive_error=f"ลงวันที่: {exc.th} / {exc.en}")
    try:
        record = receiving.receive(
            _web.archive(),
            form.get("register") or "",
            sender=form.get("sender") or "",
            recipient=form.get("recipient") or "",
            subject=form.get("subject") or "",
            ref_no=form.get("ref_no") or None,
            letter_date=letter_date,
            action=form.get("action") or None,
            note=form.get("note") or None,
            secrecy=form.get("secrecy") or None,
            actor=user.name,
            clearance=user.clearance,
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        return registers_page("received", values=form, receive_error=f"ลงรับไม่ได้: {exc.message}")
    flash(f"ลงรับแล้ว เลขรับที่ {record.serial_label}", "success")
    return redirect(url_for("registers.registers", kind="received"))
