"""Received letters taken in from a file: the upload (read in a worker process through a
background job, with progress; never OCR in a request), and each received letter's own
page: its files (the original, the searchable PDF/A, the stamped copy), the fields read
from the file (editable until confirmed, each correction audited), its เลขรับ and time,
and what it answers.

A received letter is named by its public id (``<received:received_id>``); one the user
is not cleared for answers 404 with the same words as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from saraban.archive import Archive, ReceivedRecord
from saraban.archive.importer._intake import image_kind
from saraban.errors import BadRequest, Conflict, NotFound, SarabanError
from saraban.letter import can_see
from saraban.service import _web
from saraban.service._jobs import Job
from saraban.service._letter_form import parse_be_date, show_be_date
from saraban.templates._stamp import PREVIEW_WIDTH_PX
from saraban.thai import ThaiDateError, to_thai_digits
from saraban.usecases._access import check_may_number
from saraban.vocabulary import SECRECIES

bp = Blueprint("received", __name__)
NOT_FOUND = "ไม่พบหนังสือรับนี้ / no such received letter"
# The fields read from the file that a clerk corrects before confirming (Thai labels).
FIELDS = (
    ("ref_no", "ที่ (เลขที่หนังสือของผู้ส่ง)"),
    ("letter_date", "ลงวันที่ (พ.ศ.)"),
    ("sender", "จาก"),
    ("recipient", "ถึง (เรียน)"),
    ("subject", "เรื่อง"),
)
# The parser's names of what it was unsure of, as the register's fields.
_REVIEW_NAMES = {
    "ref_no": "ref_no",
    "date": "letter_date",
    "sender": "sender",
    "addressee": "recipient",
    "subject": "subject",
}
FILES = {
    "original": "ไฟล์ต้นฉบับ",
    "pdfa": "PDF/A ค้นหาข้อความได้",
    "stamped": "ฉบับประทับตรารับ",
}


# ---- taking a file in ------------------------------------------------------------------------


def _home() -> Path:
    return Path(current_app.config["SARABAN_HOME"])


def check_intake(
    archive: Archive, register: str, secrecy: str | None, clearance: str | None
) -> tuple[str, str | None]:
    """The register and secrecy of an upload, checked before any slow work starts: a
    secrecy above the user's own clearance is refused (:func:`check_may_number`)."""
    level = secrecy or None
    if level is not None and level not in SECRECIES:
        raise BadRequest(
            f"secrecy: ชั้นความลับต้องเป็น {', '.join(SECRECIES)} หรือเว้นว่าง / secrecy must be "
            f"one of {', '.join(SECRECIES)} or empty"
        )
    check_may_number(clearance, level, "ลงรับ")
    return archive.register_name(register or ""), level


def start_intake(
    data: bytes,
    filename: str,
    *,
    register: str,
    secrecy: str | None,
    answers_id: int | None = None,
    enclosures: list[tuple[str, bytes]] | None = None,
) -> Job:
    """Keep the upload in a private folder of the instance and take it in in the
    background: read in a worker process (OCR for a scan or a photo), then numbered and
    stamped. ``enclosures``: (name, bytes) of files handed in with it, kept with the letter.
    The job's result names the received letter, or the earlier one it repeats."""
    from saraban.usecases import intake
    from saraban.usecases.importing import stored_suffix, upload_name

    if not data:
        raise BadRequest("file: ไฟล์ว่าง / the file is empty")
    enclosed = [(upload_name(n, i), d) for i, (n, d) in enumerate(enclosures or [], 1)]
    intake.check_enclosures([n for n, _ in enclosed])
    if any(not d for _, d in enclosed):
        raise BadRequest("enclosures: ไฟล์ว่าง / a file is empty")
    archive, user = _web.archive(), _web.user()
    register, level = check_intake(archive, register, secrecy, user.clearance)
    name = upload_name(filename, 1)
    _clean_intake_folders(_home() / "intake")
    folder = _home() / "intake" / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    path = folder / f"upload{stored_suffix(name)}"
    path.write_bytes(data)
    beside = [
        (enclosed_name, folder / f"enclosure-{n}{stored_suffix(enclosed_name)}")
        for n, (enclosed_name, _) in enumerate(enclosed, 1)
    ]
    for (_, beside_path), (_, content) in zip(beside, enclosed, strict=True):
        beside_path.write_bytes(content)
    max_bytes = current_app.config["MAX_CONTENT_LENGTH"]

    def work(job: Job) -> dict[str, Any]:
        try:
            job.advance(0, 3, f"กำลังอ่าน {name} (ภาพสแกนใช้เวลาหน้าละหลายวินาที)")
            reading = intake.read_in_worker(path, name=name, max_bytes=max_bytes).result()
            if beside:
                job.advance(1, 3, f"กำลังอ่านสิ่งที่ส่งมาด้วย {to_thai_digits(str(len(beside)))} ไฟล์")
            kept = intake.read_enclosures(beside, max_bytes=max_bytes)
            job.advance(2, 3, "กำลังลงรับและประทับตรารับ")
            try:
                taken = intake.store_received(
                    archive,
                    reading,
                    data,
                    register=register,
                    actor=user.name,
                    clearance=user.clearance,
                    secrecy=level,
                    answers_id=answers_id,
                    enclosed=kept,
                )
            except intake.AlreadyReceived as exc:
                earlier = archive.received_one(exc.earlier, clearance=user.clearance)
                job.advance(3, 3, "ลงรับไว้แล้ว")
                return {"duplicate": earlier.public_id, "message": exc.message}
            job.advance(3, 3, "ลงรับแล้ว")
            received = taken.received
            return {
                "received": received.public_id,
                "number": received.number,
                "needs_review": reading.needs_review,
            }
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return _web.jobs().start("receive", user.id, f"ลงรับ {name}", work)


_STALE_INTAKE = 24 * 3600  # seconds: an upload folder this old lost its job (a restart)


def _clean_intake_folders(intake: Path) -> None:
    """Remove the upload folders whose job ended without removing them (the process that
    ran it died): the instance keeps no copy of an upload beyond its job."""
    import time

    if not intake.is_dir():
        return
    now = time.time()
    for folder in intake.iterdir():
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > _STALE_INTAKE:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


@bp.post("/received")
@_web.login_required
def upload() -> Any:
    """The receive form with a file: answered at once with the page that shows progress."""
    from saraban.service.registers import registers_page

    form = request.form
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return registers_page(
            "received", values=form, intake_error="file: ต้องแนบไฟล์ / attach a file"
        )
    try:
        job = start_intake(
            upload.read(),
            upload.filename,
            register=form.get("register") or "",
            secrecy=form.get("secrecy") or None,
            enclosures=uploaded_enclosures(),
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        return registers_page("received", values=form, intake_error=exc.message)
    return redirect(url_for("received.job", job_id=job.id))


def uploaded_enclosures() -> list[tuple[str, bytes]]:
    """The files sent as ``enclosures`` beside the letter's ``file`` (none chosen: none)."""
    return [(f.filename, f.read()) for f in request.files.getlist("enclosures") if f.filename]


@bp.get("/received/jobs/<job_id>")
@_web.login_required
def job(job_id: str) -> Any:
    """Progress of an upload; when done, the received letter (or the earlier one it
    repeats, offered rather than kept twice)."""
    user = _web.user()
    found = _web.jobs().get(job_id)
    if found is None or found.kind != "receive" or (found.owner_id != user.id):
        raise NotFound(f"ไม่พบงานรายการ {job_id} / no job {job_id}")
    result = found.result if isinstance(found.result, dict) else {}
    if found.state == "done" and result.get("received"):
        flash(f"ลงรับแล้ว เลขรับที่ {to_thai_digits(result['number'])} โปรดตรวจข้อมูลแล้วยืนยัน", "success")
        return redirect(url_for("received.received", received_id=result["received"]))
    return render_template("received_job.html", job=found, result=result)


# ---- the received letter's page ----------------------------------------------------------------


def visible_received(received_id: int) -> ReceivedRecord:
    """The received letter, or NotFound in the same words whether it does not exist or is
    secret beyond the user's clearance."""
    try:
        return _web.archive().received_one(received_id, clearance=_web.clearance())
    except NotFound:
        raise NotFound(NOT_FOUND) from None


def _values(record: ReceivedRecord) -> dict[str, str]:
    return {
        "ref_no": record.ref_no or "",
        "letter_date": show_be_date(record.letter_date),
        "sender": record.sender,
        "recipient": record.recipient,
        "subject": record.subject,
    }


def _page(
    record: ReceivedRecord,
    values: Any = None,
    errors: dict[str, str] | None = None,
    *,
    route_error: str | None = None,
    route_values: Any = None,
    stamp_error: str | None = None,
) -> Any:
    archive = _web.archive()
    user = _web.user()
    letter = None
    review: set[str] = set()
    notes: list[str] = []
    if record.letter_id is not None:
        letter = archive.get(record.letter_id)
        kept = archive.needs_review(record.letter_id) or {}
        review = {_REVIEW_NAMES.get(f, f) for f in kept.get("fields") or []}
        notes = list(kept.get("notes") or [])
    answers = None
    if record.answers_id is not None:
        try:
            answers = _web.visible_letter(record.answers_id)
        except NotFound:
            answers = None
    enclosed = archive.enclosed_files(letter.id) if letter else []
    files = {
        "original": bool(letter and letter.original_sha256),
        "pdfa": bool(record.pdfa_sha256),
        "stamped": bool(record.stamped_sha256),
    }
    return render_template(
        "received.html",
        record=record,
        letter=letter,
        answers=answers,
        values=values or _values(record),
        fields=FIELDS,
        review=review if record.confirmed_at is None else set(),
        notes=notes,
        files={k: FILES[k] for k, there in files.items() if there},
        enclosed=enclosed,
        previews=_web.text_previews(enclosed),
        errors=errors or {},
        routings=archive.routings_of(record.id),
        orders=archive.orders_of(record.id),
        users=[
            u for u in _web.store().users() if u.active and can_see(u.clearance, record.secrecy)
        ],
        route_error=route_error,
        route_values=route_values or {},
        chosen=route_values.getlist("to") if hasattr(route_values, "getlist") else [],
        chosen_units=route_values.getlist("units") if hasattr(route_values, "getlist") else [],
        units=[u for u in archive.units() if archive.members(u.prefix)],
        answered_by=archive.answers_to_received(record.id, clearance=user.clearance),
        stamp_position=archive.stamp_position(record.id),
        stamp_error=stamp_error,
        preview_width=PREVIEW_WIDTH_PX,
        today=dt.date.today(),
    ), (400 if errors or route_error or stamp_error else 200)


@bp.get("/received/<received:received_id>")
@_web.login_required
def received(received_id: int) -> Any:
    return _page(visible_received(received_id))


@bp.post("/received/<received:received_id>")
@_web.login_required
def correct(received_id: int) -> Any:
    """Save the clerk's corrections (audited, value before and after); with ``confirm``,
    fix them: from then on the fields never change."""
    record = visible_received(received_id)
    archive, user = _web.archive(), _web.user()
    form = request.form
    if record.confirmed_at is not None:
        raise Conflict("ยืนยันข้อมูลแล้ว แก้ไขไม่ได้ / the fields were confirmed and cannot change")
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, _label in FIELDS:
        text = (form.get(name) or "").strip()
        if name == "letter_date":
            try:
                changes[name] = parse_be_date(text) if text else None
            except ThaiDateError as exc:
                errors[name] = f"{exc.th} / {exc.en}"
        else:
            changes[name] = text or None
    for name in ("sender", "recipient", "subject"):
        if not changes.get(name):
            errors[name] = "ต้องกรอก / required"
    if errors:
        return _page(record, form, errors)
    try:
        record = archive.correct_received(record.id, changes, actor=user.name)
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        return _page(record, form, {"form": exc.message})
    if form.get("confirm"):
        record = archive.confirm_received(record.id, actor=user.name)
        flash("ยืนยันข้อมูลหนังสือรับแล้ว", "success")
    else:
        flash("บันทึกการแก้ไขแล้ว", "success")
    return redirect(url_for("received.received", received_id=record))


@bp.get("/received/<received:received_id>/<any(original, pdfa, stamped):kind>")
@_web.login_required
def received_file(received_id: int, kind: str) -> Any:
    record = visible_received(received_id)
    return send_received_file(record, kind)


def send_received_file(record: ReceivedRecord, kind: str) -> Any:
    """One of a received letter's files, named by its เลขรับ."""
    archive = _web.archive()
    sha = None
    if kind == "original" and record.letter_id is not None:
        sha = archive.get(record.letter_id).original_sha256
    elif kind == "pdfa":
        sha = record.pdfa_sha256
    elif kind == "stamped":
        sha = record.stamped_sha256
    if not sha:
        raise NotFound(f"หนังสือรับนี้ไม่มี{FILES[kind]} / this received letter has no {kind} file")
    data = archive.files.read(sha)
    media, suffix = _media(data)
    # a secret level's series has its own serials: its name keeps the level ("ลับ 5-2569")
    number = record.number.replace("/", "-")
    name = f"หนังสือรับ {to_thai_digits(number)} {FILES[kind]}{suffix}"
    return _web.attachment(data, media, name, f"received-{record.public_id}-{kind}{suffix}")


@bp.get("/received/<received:received_id>/page.png")
@_web.login_required
def page_preview(received_id: int) -> Any:
    """Page one of the stamped copy (or of the file, before any stamp) as a picture: the
    received page shows it, and a click on it moves the stamp."""
    from saraban.templates._stamp import first_page_png
    from saraban.usecases.intake import stampable

    record = visible_received(received_id)
    archive = _web.archive()
    pdf = archive.files.read(record.stamped_sha256) if record.stamped_sha256 else None
    png, _w, _h = first_page_png(pdf or stampable(archive, record))
    response = current_app.response_class(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/received/<received:received_id>/stamp")
@_web.login_required
def move_stamp(received_id: int) -> Any:
    """Put the stamp elsewhere: a click on the page's picture (``at.x``/``at.y``, an image
    button: no JavaScript needed) or the typed ``left_mm``/``top_mm``. A new stamped copy
    is made (audited with the place); the received file never changes."""
    from saraban.usecases import intake

    record = visible_received(received_id)
    form = request.form
    try:
        left, top = stamp_place(_web.archive(), record, form)
        intake.stamp_received(
            _web.archive(), record, actor=_web.user().name, left_mm=left, top_mm=top
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        return _page(record, stamp_error=exc.message)
    flash("ย้ายตรารับแล้ว", "success")
    return redirect(url_for("received.received", received_id=record))


def stamp_place(archive: Archive, record: ReceivedRecord, form: Any) -> tuple[Any, Any]:
    """(left, top) in mm from a stamp form: a click on the picture (CSS pixels of a picture
    ``PREVIEW_WIDTH_PX`` wide, turned into mm of the page), or the two typed numbers."""
    from saraban.templates._stamp import first_page_mm
    from saraban.usecases.intake import stampable

    x, y = form.get("at.x"), form.get("at.y")
    if x is not None and y is not None:
        try:
            px, py = int(x), int(y)
        except ValueError:
            raise BadRequest("ตำแหน่งที่คลิกไม่ถูกต้อง / the click is not a place") from None
        width_mm, _height = first_page_mm(stampable(archive, record))
        per_px = width_mm / PREVIEW_WIDTH_PX
        return round(px * per_px, 1), round(py * per_px, 1)
    left = (form.get("left_mm") or "").strip()
    top = (form.get("top_mm") or "").strip()
    if not left or not top:
        raise BadRequest("ต้องระบุระยะจากซ้ายและจากบน (มม.) / give left_mm and top_mm")
    return left, top


_IMAGE_MEDIA = {
    "png": ("image/png", ".png"),
    "jpeg": ("image/jpeg", ".jpg"),
    "tiff": ("image/tiff", ".tif"),
    "heif": ("image/heic", ".heic"),
}


def _media(data: bytes) -> tuple[str, str]:
    if data.startswith(b"%PDF-"):
        return "application/pdf", ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
        )
    image = _IMAGE_MEDIA.get(image_kind(data[:16]) or "")
    if image is not None:
        return image
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream", ""
    return "text/plain; charset=utf-8", ".txt"


# ---- routing (เกษียน/สั่งการ) and the inbox ------------------------------------------------------


def clearance_of(name: str) -> str | None:
    """A user's clearance by account name, for routing (NotFound: no such active user)."""
    found = _web.store().user_by_name(name)
    if found is None or not found.active:
        raise NotFound(f"no user {name!r}")
    return found.clearance


def _due(text: str | None) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_be_date(text)
    except ThaiDateError as exc:
        raise BadRequest(f"กำหนดเสร็จ: {exc.th} / due: {exc.en}") from None


@bp.post("/received/<received:received_id>/route")
@_web.login_required
def route(received_id: int) -> Any:
    """เกษียน: send the letter to the chosen users with a note and a due date."""
    from saraban.usecases import routing

    user = _web.user()
    form = request.form
    try:
        routed = routing.route(
            _web.archive(),
            received_id,
            form.getlist("to"),
            actor=user.name,
            clearance=user.clearance,
            clearance_of=clearance_of,
            note=form.get("note") or None,
            due=_due(form.get("due")),
            units=form.getlist("units"),
        )
    except SarabanError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return _page(visible_received(received_id), route_error=exc.message, route_values=form)
    flash(f"ส่งถึง {', '.join(r.assignee for r in routed)} แล้ว", "success")
    return redirect(url_for("received.received", received_id=visible_received(received_id)))


@bp.post("/received/<received:received_id>/order")
@_web.login_required
def order(received_id: int) -> Any:
    """สั่งการ: the order is printed as a เกษียน block on a new stamped copy."""
    from saraban.usecases import routing

    user = _web.user()
    record = visible_received(received_id)
    text = (request.form.get("order") or "").strip()
    if not text:
        return _page(record, route_error="คำสั่งการ: ต้องกรอก / the order is empty")
    routing.write_order(_web.archive(), record.id, text, actor=user.name, clearance=user.clearance)
    flash("บันทึกคำสั่งการและพิมพ์ลงฉบับประทับตรารับแล้ว", "success")
    return redirect(url_for("received.received", received_id=record))


@bp.post("/received/<received:received_id>/done")
@_web.login_required
def done(received_id: int) -> Any:
    """ดำเนินการแล้ว: the user's own routing of the letter, or that of whom they act for."""
    from saraban.usecases import routing

    user = _web.user()
    marked = routing.done(
        _web.archive(),
        received_id,
        actor=user.name,
        clearance=user.clearance,
        note=request.form.get("note") or None,
    )
    flash(f"บันทึกว่าดำเนินการแล้ว ({marked.done_by})", "success")
    back = request.form.get("next")
    if back == "inbox":
        return redirect(url_for("received.inbox"))
    return redirect(url_for("received.received", received_id=visible_received(received_id)))


@bp.get("/inbox")
@_web.login_required
def inbox() -> Any:
    """Letters waiting for the user (and for whom they act today), due first, late marked;
    with ``done=1`` the finished ones too."""
    from saraban.usecases import routing

    user = _web.user()
    archive = _web.archive()
    show_done = request.args.get("done") == "1"
    page = _web.page_number()
    box = routing.inbox(
        archive, user.name, clearance=user.clearance, include_done=show_done, page=page
    )
    return render_template(
        "inbox.html",
        box=box,
        page=page,
        pages=max(1, -(-box.total // routing.INBOX_PAGE)),
        today=dt.date.today(),
        show_done=show_done,
        delegations=archive.delegations(user.name),
        users=[u for u in _web.store().users() if u.active and u.name != user.name],
        values={},
        error=None,
    )


@bp.post("/inbox/delegate")
@_web.login_required
def delegate() -> Any:
    """รักษาการแทน: someone acts for the user (an administrator: for anyone) between dates."""
    from saraban.usecases import routing

    user = _web.user()
    form = request.form
    delegator = (form.get("delegator") or "").strip() or user.name
    try:
        if delegator != user.name and not user.is_admin:
            raise BadRequest("มอบหมายได้เฉพาะงานของตนเอง / you can only hand over your own inbox")
        start, end = _due(form.get("from")), _due(form.get("to"))
        if start is None or end is None:
            raise BadRequest("ต้องระบุวันเริ่มและวันสิ้นสุด (พ.ศ.) / give both dates")
        routing.delegate(
            _web.archive(),
            delegator,
            (form.get("delegate") or "").strip(),
            start,
            end,
            actor=user.name,
            clearance_of=clearance_of,
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        flash(f"มอบหมายไม่ได้: {exc.message}", "error")
        return redirect(url_for("received.inbox"))
    flash("บันทึกการมอบหมายรักษาการแทนแล้ว", "success")
    return redirect(url_for("received.inbox"))


@bp.post("/inbox/delegations/<int:delegation_id>/revoke")
@_web.login_required
def revoke_delegation(delegation_id: int) -> Any:
    """End a delegation now (whoever gave it, holds it or made it; an administrator)."""
    from saraban.usecases import routing

    user = _web.user()
    try:
        routing.revoke_delegation(
            _web.archive(), delegation_id, actor=user.name, is_admin=user.is_admin
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        flash(f"ยกเลิกการมอบหมายไม่ได้: {exc.message}", "error")
        return redirect(url_for("received.inbox"))
    flash("ยกเลิกการมอบหมายรักษาการแทนแล้ว", "success")
    return redirect(url_for("received.inbox"))
