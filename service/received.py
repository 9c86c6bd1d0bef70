"""Received letters taken in from a file: the upload (read in a worker process through a
background job, with progress; never OCR in a request), and each received letter's own
page: its files (the original, the searchable PDF/A, the stamped copy), the fields read
from the file (editable until confirmed, each correction audited), its เลขรับ and time,
and what it answers.

A received letter is named by its public id (``<received:received_id>``); one the user
is not cleared for answers 404 with the same words as one that does not exist.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from saraban.archive import Archive, ReceivedRecord
from saraban.errors import BadRequest, Conflict, NotFound, SarabanError
from saraban.letter import can_see
from saraban.service import _web
from saraban.service._jobs import Job
from saraban.service._letter_form import parse_be_date, show_be_date
from saraban.thai import ThaiDateError, to_thai_digits
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
    secrecy above the user's own clearance is refused (they could not open the letter)."""
    level = secrecy or None
    if level is not None and level not in SECRECIES:
        raise BadRequest(
            f"secrecy: ชั้นความลับต้องเป็น {', '.join(SECRECIES)} หรือเว้นว่าง / secrecy must be "
            f"one of {', '.join(SECRECIES)} or empty"
        )
    if not can_see(clearance, level):
        raise BadRequest(
            f"secrecy: ลงรับหนังสือชั้น{level} ไม่ได้ เกินชั้นความลับของท่าน / a letter {level} is "
            "above your clearance"
        )
    return archive.register_name(register or ""), level


def start_intake(
    data: bytes, filename: str, *, register: str, secrecy: str | None, answers_id: int | None = None
) -> Job:
    """Keep the upload in a private folder of the instance and take it in in the
    background: read in a worker process (OCR for a scan or a photo), then numbered and
    stamped. The job's result names the received letter, or the earlier one it repeats."""
    from saraban.usecases import intake

    if not data:
        raise BadRequest("file: ไฟล์ว่าง / the file is empty")
    archive, user = _web.archive(), _web.user()
    register, level = check_intake(archive, register, secrecy, user.clearance)
    name = Path(filename.replace("\\", "/")).name.strip() or "received"
    folder = _home() / "intake" / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    path = folder / f"upload{Path(name).suffix.lower()[:10]}"
    path.write_bytes(data)
    max_bytes = current_app.config["MAX_CONTENT_LENGTH"]

    def work(job: Job) -> dict[str, Any]:
        try:
            job.advance(0, 3, f"กำลังอ่าน {name} (ภาพสแกนใช้เวลาหน้าละหลายวินาที)")
            reading = intake.read_in_worker(path, name=name, max_bytes=max_bytes).result()
            job.advance(1, 3, "กำลังลงรับและประทับตรารับ")
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
                )
            except intake.AlreadyReceived as exc:
                earlier = archive.received_one(exc.earlier, clearance=user.clearance)
                job.advance(3, 3, "ลงรับไว้แล้ว")
                return {"duplicate": earlier.public_id, "message": exc.message}
            job.advance(3, 3, "ลงรับแล้ว")
            received = taken.received
            return {
                "received": received.public_id,
                "number": f"{received.serial}/{received.year}",
                "needs_review": reading.needs_review,
            }
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return _web.jobs().start("receive", user.id, f"ลงรับ {name}", work)


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
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        return registers_page("received", values=form, intake_error=exc.message)
    return redirect(url_for("received.job", job_id=job.id))


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


def _page(record: ReceivedRecord, values: Any = None, errors: dict[str, str] | None = None) -> Any:
    archive = _web.archive()
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
        errors=errors or {},
    ), (400 if errors else 200)


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
    number = f"{record.serial}-{record.year}"
    name = f"หนังสือรับ {to_thai_digits(number)} {FILES[kind]}{suffix}"
    return _web.attachment(data, media, name, f"received-{number}-{kind}{suffix}")


def _media(data: bytes) -> tuple[str, str]:
    if data.startswith(b"%PDF-"):
        return "application/pdf", ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
        )
    if data.startswith(b"\x89PNG"):
        return "image/png", ".png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", ".jpg"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff", ".tif"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream", ""
    return "text/plain; charset=utf-8", ".txt"
