"""The clerk's side of sending letters: the letter page's section (send to recipients,
tracking, remind, revoke a link), the dashboard's circulars awaiting replies, and the
address book and holiday calendar pages (administrators). Thin: each view calls
``saraban.usecases.sending`` or ``recipients``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from saraban.archive import circulars
from saraban.errors import BadRequest, SarabanError
from saraban.service import _web
from saraban.service.jobs import table_file
from saraban.settings import Settings
from saraban.usecases import recipients, sending

bp = Blueprint("circulars", __name__)
# The letter page's tracking table shows this many recipients at a time (a letter to every
# district of the country has 878: all of them would be 400 KB of HTML and most of the
# page's time), under the counts, with views of those who have not replied and the late.
TRACKING_ROWS = 100
TRACKING_VIEWS = {"all": "ทั้งหมด", "waiting": "ยังไม่ตอบ", "late": "ล่าช้า", "replied": "ตอบแล้ว"}


def _settings() -> Settings:
    settings: Settings = current_app.extensions["saraban_settings"]
    return settings


def _poke_mail() -> None:
    current_app.extensions["saraban_mail"].poke()


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"circular_panel": circular_panel, "awaiting_replies": awaiting_replies}


def circular_panel(record: Any) -> dict[str, Any] | None:
    """What the letter page's section shows: the tracking of a sent letter (the counts,
    and one page of one view of its recipients: ``?show=waiting&page=2``), and what the
    send form offers (groups, recipients, forms). Only for issued letters the user sees
    (the page checked that already)."""
    if record.status != "issued":
        return None
    user = _web.user()
    archive = _web.archive()
    found = sending.tracking(archive, record.id, clearance=user.clearance)
    from saraban.templates.forms import list_forms

    counts = found.counts()
    view = request.args.get("show", "all")
    if view not in TRACKING_VIEWS:
        view = "all"
    shown = _in_view(found, view)
    pages = max(1, -(-len(shown) // TRACKING_ROWS))
    page = min(_web.page_number(), pages)
    first = (page - 1) * TRACKING_ROWS
    sizes = {
        "all": counts["recipients"],
        "waiting": counts["recipients"] - counts["replied"],
        "late": counts["late"],
        "replied": counts["replied"],
    }
    return {
        "tracking": found,
        "counts": counts,
        "rows": shown[first : first + TRACKING_ROWS],
        "first": first,
        "shown": len(shown),
        "view": view,
        "views": [(key, name, sizes[key]) for key, name in TRACKING_VIEWS.items()],
        "page": page,
        "pages": pages,
        "groups": circulars.groups(archive),
        "forms": list_forms(),
        "status_names": circulars.STATUS_NAMES,
        "be_moment": sending.be_moment,
        "handle": delivery_handle,
        "secret": bool(record.secrecy),
        "mail_waits": not _settings().smtp_host,
    }


def _in_view(found: sending.Tracking, view: str) -> list[circulars.DeliveryInfo]:
    if view == "waiting":
        return [d for d in found.deliveries if d.replied_at is None]
    if view == "late":
        return [d for d in found.deliveries if d.id in found.late_ids]
    if view == "replied":
        return [d for d in found.deliveries if d.replied_at is not None]
    return found.deliveries


def awaiting_replies() -> list[circulars.AwaitingCircular]:
    user = _web.current_user()
    if user is None:
        return []
    return sending.awaiting(_web.archive(), user.clearance)


def delivery_handle(delivery_id: int) -> str:
    """What the page names a delivery by: its row number counts every letter's deliveries,
    secret circulars' too (two secret circulars to two units made ``1, 2`` into ``1, 4``)."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, f"delivery {delivery_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _back(letter_id: int) -> Any:
    return redirect(url_for("letters.letter", letter_id=letter_id) + "#circular")


@bp.post("/letters/<letter:letter_id>/send")
@_web.login_required
def send(letter_id: int) -> Any:
    user = _web.user()
    form = request.form
    to = [name.strip() for name in form.getlist("to") if name.strip()]
    working = (form.get("working_days") or "").strip()
    try:
        if working and not working.isdecimal():
            raise BadRequest("working_days: ต้องเป็นจำนวนวัน / must be a number of days")
        sent = sending.send(
            _web.archive(),
            _settings(),
            letter_id,
            to,
            actor=user.name,
            clearance=user.clearance,
            due=sending.parse_due(form.get("due")),
            working_days=int(working) if working else None,
            form=(form.get("form") or "").strip() or None,
        )
    except SarabanError as exc:
        if exc.status == 404 and "to:" not in exc.message:
            raise
        problems = getattr(exc, "problems", None)
        flash(f"ส่งไม่ได้: {problems[0].th if problems else exc.message}", "error")
        return _back(letter_id)
    _poke_mail()
    emails = sum(1 for d in sent.deliveries if d.email)
    flash(f"ส่งหนังสือถึง {len(sent.deliveries)} ราย (อีเมล {emails} ฉบับ)", "success")
    return _back(letter_id)


@bp.post("/letters/<letter:letter_id>/remind")
@_web.login_required
def remind(letter_id: int) -> Any:
    user = _web.user()
    sent = sending.remind(
        _web.archive(), _settings(), letter_id, actor=user.name, clearance=user.clearance
    )
    _poke_mail()
    names = ", ".join(d.name for d, _link in sent[:10]) + (" ..." if len(sent) > 10 else "")
    flash(f"ส่งอีเมลทวงถาม {len(sent)} ราย: {names}" if sent else "ไม่มีผู้รับที่ต้องทวงถาม", "success")
    return _back(letter_id)


@bp.post("/letters/<letter:letter_id>/revoke")
@_web.login_required
def revoke(letter_id: int) -> Any:
    """Revoke one recipient's link (the tracking table's buttons: ``delivery``)."""
    user = _web.user()
    _web.visible_letter(letter_id)
    given = request.form.get("delivery") or ""
    found = [
        d.id
        for d in circulars.deliveries(_web.archive(), letter_id)
        if hmac.compare_digest(delivery_handle(d.id), given)
    ]
    if not found:
        raise SarabanError("ไม่พบการส่งรายการนี้ / no such delivery", status=404)
    circulars.revoke(_web.archive(), found[0], actor=user.name)
    flash("ยกเลิกลิงก์ของผู้รับรายนี้แล้ว", "success")
    return _back(letter_id)


@bp.get("/letters/<letter:letter_id>/consolidated.<any(xlsx, csv, docx, pdf):fmt>")
@_web.login_required
def consolidated(letter_id: int, fmt: str) -> Any:
    """The merged replies as a download (a DOCX or PDF of many rows made in the background:
    ``jobs.table_file``)."""
    from saraban.usecases import consolidating

    found = consolidating.consolidate(_web.archive(), letter_id, clearance=_web.user().clearance)
    rows = consolidating.checked_rows(found, fmt)
    return table_file(
        consolidating.write,
        (found, fmt),
        fmt=fmt,
        rows=rows,
        download=(
            consolidating.MEDIA_TYPES[fmt],
            f"สรุปผลการรายงาน {found.ref_no or letter_id}.{fmt}",
            f"consolidated-{letter_id}.{fmt}",
        ),
        shown_at=lambda job: url_for("letters.letter", letter_id=letter_id, job=job) + "#circular",
    )


# ---- the address book and the holiday calendar (administrators) ------------------------------


def _be_year(value: str | None) -> int:
    today = dt.date.today()
    try:
        year = int(value or 0)
    except ValueError:
        year = 0
    return year - 543 if 2400 < year < 2700 else today.year


@bp.get("/admin/recipients")
@_web.admin_required
def address_book() -> Any:
    archive = _web.archive()
    year = _be_year(request.args.get("year"))
    return render_template(
        "recipients.html",
        recipients=recipients.listing(archive, request.args.get("group") or None),
        groups=circulars.groups(archive),
        group=request.args.get("group") or "",
        holidays=circulars.holidays(archive, year),
        year=year,
    )


def _done(message: str, anchor: str = "") -> Any:
    flash(message, "success")
    return redirect(url_for("circulars.address_book") + anchor)


def _failed(exc: SarabanError, anchor: str = "") -> Any:
    flash(exc.message, "error")
    return redirect(url_for("circulars.address_book") + anchor)


@bp.post("/admin/recipients")
@_web.admin_required
def add_recipient() -> Any:
    """Add a recipient, or change one of the same name: a field left empty keeps its
    value."""
    form = request.form
    groups = [g for g in (form.get("groups") or "").replace("\n", ";").split(";") if g.strip()]
    try:
        found = circulars.save_recipient(
            _web.archive(),
            form.get("name") or "",
            actor=_web.user().name,
            addressee=form.get("addressee") or None,
            email=form.get("email") or None,
            groups=groups or None,
            unit=(form.get("unit") or "").strip() or None,
            replace=True,
        )
    except SarabanError as exc:
        return _failed(exc)
    return _done(f"บันทึก {found.name} แล้ว")


@bp.post("/admin/recipients/import")
@_web.admin_required
def import_recipients() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _failed(BadRequest("เลือกไฟล์ CSV / choose a CSV file"))
    try:
        saved = recipients.import_csv(
            _web.archive(),
            upload.stream.read(recipients.MAX_CSV_BYTES + 1),
            actor=_web.user().name,
        )
    except SarabanError as exc:
        return _failed(exc)
    return _done(f"บันทึกผู้รับจาก CSV {len(saved)} ราย")


@bp.post("/admin/recipients/seed")
@_web.admin_required
def seed() -> Any:
    try:
        result = recipients.seed_province(
            _web.archive(), request.form.get("province") or "", actor=_web.user().name
        )
    except SarabanError as exc:
        return _failed(exc)
    return _done(f"เพิ่มอำเภอ {len(result.added)} แห่ง (มีอยู่แล้ว {len(result.kept)})")


@bp.post("/admin/recipients/<int:recipient_id>/delete")
@_web.admin_required
def delete_recipient(recipient_id: int) -> Any:
    try:
        circulars.delete_recipient(_web.archive(), recipient_id, actor=_web.user().name)
    except SarabanError as exc:
        return _failed(exc)
    return _done("ลบผู้รับแล้ว")


@bp.post("/admin/holidays")
@_web.admin_required
def set_holiday() -> Any:
    try:
        day = sending.parse_due(request.form.get("date"))
        if day is None:
            raise BadRequest("date: ต้องระบุวันที่ / a date is required")
        if request.form.get("remove"):
            circulars.remove_holiday(_web.archive(), day, actor=_web.user().name)
        else:
            circulars.set_holiday(
                _web.archive(), day, request.form.get("name") or "", actor=_web.user().name
            )
    except SarabanError as exc:
        problems = getattr(exc, "problems", None)
        flash(problems[0].th if problems else exc.message, "error")
        return redirect(url_for("circulars.address_book") + "#holidays")
    return redirect(url_for("circulars.address_book", year=day.year + 543) + "#holidays")
