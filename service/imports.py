"""Importing existing letters: upload (.txt, .docx, .pdf; size-limited), parsing in the
background with progress, review of what was read beside the original, and confirmation
(one letter at a time with corrections, or all at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from saraban.errors import InvalidLetter, SarabanError
from saraban.letter import KINDS, SECRECIES, URGENCIES
from saraban.service import _web
from saraban.service._letter_form import (
    body_blocks,
    field_label,
    letter_from_form,
    parse_be_date,
    show_be_date,
)
from saraban.service._letter_links import letter_url
from saraban.thai import ThaiDateError
from saraban.usecases import importing

bp = Blueprint("imports", __name__)
_MEDIA = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}
# Fields a clerk may correct on the review page (dotted paths of the letter document).
REVIEW_FIELDS = (
    ("ref_no", "ที่ (เลขที่หนังสือ)"),
    ("date", "ลงวันที่ (พ.ศ.)"),
    ("subject", "เรื่อง"),
    ("sender.name", "ส่วนราชการเจ้าของหนังสือ"),
    ("addressee", "เรียน (ผู้รับ)"),
    ("signer.name", "ผู้ลงนาม"),
)


def _home() -> Path:
    return Path(current_app.config["SARABAN_HOME"])


def start_parsing(batch: importing.Batch) -> Any:
    """The job reading the batch's waiting files: started, or the one already reading them
    (in any serving process)."""
    home, owner = _home(), batch.owner_id

    def work(job: Any) -> Any:
        def progress(done: int, total: int, name: str) -> None:
            job.advance(done, total, f"กำลังอ่าน {name}" if name else "")

        return importing.parse_all(home, batch.id, owner, progress).counts()

    kind = f"import-parse-{batch.id}"
    job, _started = _web.jobs().start_once(kind, owner, "อ่านไฟล์ที่นำเข้า", work)
    return job


@bp.get("/imports")
@_web.login_required
def imports() -> Any:
    user = _web.user()
    return render_template(
        "imports.html",
        batches=importing.recent(_home(), user.id),
        max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    )


@bp.post("/imports")
@_web.login_required
def upload() -> Any:
    user = _web.user()
    files = [
        (f.filename or "", f.read()) for f in request.files.getlist("files") if f and f.filename
    ]
    try:
        batch = importing.create(_home(), user.id, files)
    except SarabanError as exc:
        flash(exc.message, "error")
        return redirect(url_for("imports.imports"))
    job = start_parsing(batch)
    return redirect(url_for("imports.batch", batch_id=batch.id, job=job.id))


@bp.get("/imports/<batch_id>")
@_web.login_required
def batch(batch_id: str) -> Any:
    user = _web.user()
    found = importing.load(_home(), batch_id, user.id)
    job = request.args.get("job")
    if found.counts()["waiting"] and not job:
        # files left unread when the service stopped half-way are read now
        job = start_parsing(found).id
    return render_template(
        "import_batch.html",
        batch=found,
        counts=found.counts(),
        job=job,
    )


@bp.get("/imports/<batch_id>/<int:n>")
@_web.login_required
def review(batch_id: str, n: int) -> Any:
    return _review_page(batch_id, n)


def _batch_item(batch_id: str, n: int) -> tuple[importing.Batch, importing.Item]:
    """The user's own batch (404 for another clerk's) and its file number ``n``."""
    found = importing.load(_home(), batch_id, _web.user().id)
    return found, importing.get_item(found, n)


def _review_page(
    batch_id: str, n: int, error: str | None = None, values: Any = None, status: int = 400
) -> Any:
    found, item = _batch_item(batch_id, n)
    user = _web.user()
    duplicate = importing.item_duplicate(
        _web.archive(), _home(), found, item, clearance=user.clearance
    )
    letter = item.letter or {}
    shown = values or {
        "ref_no": letter.get("ref_no") or "",
        "date": show_be_date(letter.get("date")),
        "subject": letter.get("subject") or "",
        "sender.name": (letter.get("sender") or {}).get("name") or "",
        "addressee": letter.get("addressee") or "",
        "signer.name": (letter.get("signer") or {}).get("name") or "",
        "kind": letter.get("kind") or "external",
        "secrecy": letter.get("secrecy") or "",
        "urgency": letter.get("urgency") or "",
    }
    numbers = [i.n for i in found.items]
    position = numbers.index(n)
    return render_template(
        "import_review.html",
        batch=found,
        item=item,
        values=shown,
        fields=REVIEW_FIELDS,
        review=set(item.needs_review),
        text=importing.original_text(_home(), found, item),
        kinds=KINDS,
        secrecies=SECRECIES,
        urgencies=URGENCIES,
        previous=numbers[position - 1] if position > 0 else None,
        next=numbers[position + 1] if position + 1 < len(numbers) else None,
        error=None if duplicate is not None and error == duplicate.message else error,
        duplicate=duplicate,
    ), (status if error else 200)


@bp.post("/imports/<batch_id>/<int:n>")
@_web.login_required
def confirm(batch_id: str, n: int) -> Any:
    """Store one letter with the clerk's corrections."""
    user = _web.user()
    found, item = _batch_item(batch_id, n)
    letter = dict(item.letter or {})
    form = request.form
    try:
        date_text = (form.get("date") or "").strip()
        date = parse_be_date(date_text)
    except ThaiDateError as exc:
        return _review_page(batch_id, n, f"ลงวันที่: {exc.th} / {exc.en}", form)
    letter["ref_no"] = (form.get("ref_no") or "").strip() or None
    letter["date"] = date.isoformat() if date else None
    letter["subject"] = (form.get("subject") or "").strip() or None
    letter["addressee"] = (form.get("addressee") or "").strip() or None
    letter["sender"] = {
        **(letter.get("sender") or {}),
        "name": (form.get("sender.name") or "").strip() or None,
    }
    letter["signer"] = {
        **(letter.get("signer") or {}),
        "name": (form.get("signer.name") or "").strip() or None,
    }
    kind = form.get("kind")
    letter["kind"] = kind if kind in KINDS else letter.get("kind", "external")
    letter["secrecy"] = form.get("secrecy") if form.get("secrecy") in SECRECIES else None
    letter["urgency"] = form.get("urgency") if form.get("urgency") in URGENCIES else None
    try:
        importing.store_item(
            _web.archive(),
            _home(),
            batch_id,
            user.id,
            n,
            actor=user.name,
            clearance=user.clearance,
            letter=letter,
        )
    except SarabanError as exc:
        if exc.status >= 500:
            raise
        return _review_page(batch_id, n, exc.message, form, exc.status)
    flash(f"เก็บ {item.name} เข้าระบบแล้ว", "success")
    following = [i.n for i in found.items if i.n > n and i.status == "parsed"]
    if following:
        return redirect(url_for("imports.review", batch_id=batch_id, n=following[0]))
    return redirect(url_for("imports.batch", batch_id=batch_id))


@bp.post("/imports/<batch_id>/confirm")
@_web.login_required
def confirm_all(batch_id: str) -> Any:
    """Store every parsed letter of the batch as read, in the background."""
    user = _web.user()
    home = _home()
    importing.load(home, batch_id, user.id)  # 404 for another clerk's batch
    archive = _web.archive()

    def work(job: Any) -> Any:
        def progress(done: int, total: int, _name: str) -> None:
            job.advance(done, total, f"เก็บแล้ว {done} จาก {total}")

        result = importing.store_all(
            archive,
            home,
            batch_id,
            user.id,
            actor=user.name,
            clearance=user.clearance,
            progress=progress,
        )
        return result.counts()

    job = _web.jobs().start("import-store", user.id, "เก็บหนังสือที่นำเข้า", work)
    return redirect(url_for("imports.batch", batch_id=batch_id, job=job.id))


@bp.get("/imports/<batch_id>/<int:n>/original")
@_web.login_required
def original(batch_id: str, n: int) -> Any:
    found, item = _batch_item(batch_id, n)
    return send_file(
        importing.item_path(_home(), found, item),
        mimetype=_MEDIA.get(item.suffix, "application/octet-stream"),
        as_attachment=item.suffix not in (".pdf", ".txt"),
        download_name=item.name,
    )


# ---- a kept letter: correct what was read, then confirm ---------------------------------------

# The fields of a kept letter a clerk corrects on its review page, in the order of the letter:
# (form name: the document's dotted path, how the form holds it: "text", "lines" or "date").
LETTER_FIELDS = (
    ("ref_no", "text"),
    ("date", "date"),
    ("sender.name", "text"),
    ("subject", "text"),
    ("salutation", "text"),
    ("addressee", "text"),
    ("references", "lines"),
    ("closing", "text"),
    ("complimentary_close", "text"),
    ("signer.name", "text"),
    ("signer.position", "lines"),
    ("owner_unit", "lines"),
    ("contact.phone", "text"),
    ("contact.fax", "text"),
    ("contact.email", "text"),
    ("footer", "text"),
    ("copies_to", "lines"),
)


def _at(doc: dict[str, Any], path: str) -> Any:
    key, _, sub = path.partition(".")
    value = doc.get(key)
    if sub:
        return value.get(sub) if isinstance(value, dict) else None
    return value


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    return value in (None, "", [])


def _form_field(path: str) -> str:
    """The review form's field a review mark belongs to ("references.1" -> "references",
    "sender" -> "sender.name")."""
    names = [name for name, _shape in LETTER_FIELDS]
    if path in names:
        return path
    key = path.split(".")[0]
    return key if key in names else f"{key}.name"


def letter_form_values(doc: dict[str, Any]) -> dict[str, str]:
    """The kept letter's fields as the review form shows them (dates in BE)."""
    values: dict[str, str] = {"urgency": doc.get("urgency") or ""}
    for name, shape in LETTER_FIELDS:
        value = _at(doc, name)
        if shape == "date":
            values[name] = show_be_date(value)
        elif shape == "lines":
            values[name] = "\n".join(v for v in value or [] if isinstance(v, str))
        else:
            values[name] = str(value) if value is not None else ""
    return values


def letter_changes(form: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """The document keys the form changes (empty and missing count as the same). A date
    the form cannot read raises :class:`ThaiDateError`."""
    new: dict[str, Any] = {
        "urgency": form.get("urgency") if form.get("urgency") in URGENCIES else None
    }
    for name, shape in LETTER_FIELDS:
        typed = (form.get(name) or "").replace("\r\n", "\n").strip()
        value: Any
        if shape == "lines":
            value = [line.strip() for line in typed.splitlines() if line.strip()]
        elif shape == "date":
            date = parse_be_date(typed)
            value = date.isoformat() if date else None
        else:
            value = typed or None
        key, _, sub = name.partition(".")
        if sub:
            if key not in new:
                new[key] = dict(doc[key]) if isinstance(doc.get(key), dict) else {}
            new[key][sub] = value
        else:
            new[key] = value
    if any(str(name).startswith("body.") for name in form.keys()):
        # the body's blocks as the draft editor posts them, read by the same parser
        new["body"] = letter_from_form(form, base=doc).doc["body"]
    return {
        key: value
        for key, value in new.items()
        if not (_blank(doc.get(key)) and _blank(value)) and doc.get(key) != value
    }


def _letter_review_page(
    letter_id: int, *, values: Any = None, problems: Any = None, error: str | None = None
) -> Any:
    archive = _web.archive()
    record = _web.visible_letter(letter_id)
    doc = archive.letter_document(letter_id)
    review = archive.needs_review(letter_id) if record.status == "stored" else None
    return render_template(
        "import_letter_review.html",
        record=record,
        doc=doc,
        values=values or letter_form_values(doc),
        blocks=body_blocks(doc)
        if values is None
        else body_blocks({"body": letter_from_form(values, base=doc).doc["body"]}),
        fields=LETTER_FIELDS,
        flagged={_form_field(f) for f in (review or {}).get("fields") or []},
        review=review,
        received=record.status == "stored" and archive.is_received(letter_id),
        urgencies=URGENCIES,
        problems=problems or [],
        error=error,
    ), (400 if error or problems else 200)


@bp.get("/letters/<letter:letter_id>/review")
@_web.login_required
def review_letter(letter_id: int) -> Any:
    """A kept (imported) letter's fields beside its original, to correct and confirm."""
    return _letter_review_page(letter_id)


@bp.post("/letters/<letter:letter_id>/review")
@_web.login_required
def correct_letter(letter_id: int) -> Any:
    """Save the clerk's corrections; with ``action=confirm`` (ยืนยัน) clear the marks too."""
    user = _web.user()
    _web.visible_letter(letter_id)  # 404 before the form is looked at
    doc = _web.archive().letter_document(letter_id)
    try:
        changes = letter_changes(request.form, doc)
    except ThaiDateError as exc:
        return _letter_review_page(
            letter_id, values=request.form, error=f"ลงวันที่: {exc.th} / {exc.en}"
        )
    confirm = request.form.get("action") == "confirm"
    try:
        importing.review(_web.archive(), letter_id, changes, actor=user.name, confirm=confirm)
    except InvalidLetter as exc:
        problems = [{"label": field_label(p.field), "message": p.th} for p in exc.problems]
        return _letter_review_page(letter_id, values=request.form, problems=problems)
    flash("ยืนยันข้อมูลหนังสือแล้ว" if confirm else "บันทึกการแก้ไขแล้ว", "success")
    if confirm:
        return redirect(letter_url(letter_id))
    return redirect(url_for("imports.review_letter", letter_id=letter_id))
