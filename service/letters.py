"""Letters: the dashboard, drafting (form, autosave, lint beside each field, live PDF
preview), issuing, the letter page (details, downloads, history, thread, cancel)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from saraban.archive import IssueFailed
from saraban.errors import InvalidLetter, NotFound, SarabanError
from saraban.service import _charts, _web
from saraban.service._letter_form import (
    ParsedForm,
    body_blocks,
    letter_from_form,
    problems_json,
    show_be_date,
)
from saraban.thai import THAI_MONTHS_ABBR, be_year, to_thai_digits
from saraban.usecases import cancelling, drafting, issuing, routing
from saraban.usecases.previews import PreviewFailed, PreviewTooSlow
from saraban.vocabulary import KINDS, LETTER_KINDS, URGENCIES, visible_levels

bp = Blueprint("letters", __name__)
PER_PAGE = 20
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---- dashboard -------------------------------------------------------------------------------


@bp.get("/")
@_web.login_required
def dashboard() -> Any:
    user = _web.user()
    archive = _web.archive()
    _total, recent = archive.recent(user.clearance, limit=10)
    months = archive.counts_by_month(user.clearance)
    month_items = [
        (f"{THAI_MONTHS_ABBR[d.month - 1]} {to_thai_digits(str(be_year(d.year))[-2:])}", n)
        for d, n in months
    ]
    units = archive.counts_by_unit(user.clearance)[:8]
    mine = routing.inbox(archive, user.name, clearance=user.clearance, per_page=0)
    return render_template(
        "dashboard.html",
        received_waiting={
            "mine": mine.total,
            "late": mine.late,
            "office": archive.waiting_count(clearance=user.clearance),
            "unconfirmed": archive.unconfirmed_count(clearance=user.clearance),
        },
        recent=recent,
        drafts=_web.store().drafts(user.id, limit=10),
        month_chart=_charts.bar_chart(month_items, title="หนังสือรายเดือน (๑๒ เดือนล่าสุด)", height=170),
        unit_chart=_charts.bar_chart(
            units,
            title="หนังสือตามส่วนราชการ (ทั้งหมด)",
            horizontal=True,
            height=max(60, 28 * len(units) + 10),
        ),
        search_ready=_web.search_service().available,
    )


@bp.get("/letters")
@_web.login_required
def letters() -> Any:
    """All letters the user may see, newest first, filtered by BE year or number."""
    user = _web.user()
    page = _web.page_number()
    year_text = (request.args.get("year") or "").strip()
    year = None
    error = None
    if year_text:
        from saraban.thai import to_arabic_digits

        digits = to_arabic_digits(year_text)
        if not digits.isdecimal() or not 2400 <= int(digits) <= 2800:
            error = f"ปี พ.ศ. '{year_text}' ไม่ถูกต้อง (เช่น ๒๕๖๘) / give a BE year such as 2568"
        else:
            year = int(digits)
    ref_no = (request.args.get("ref_no") or "").strip() or None
    total, rows = _web.archive().recent(
        user.clearance,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
        year=year,
        ref_no=ref_no,
    )
    return render_template(
        "letters.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        year_text=year_text,
        ref_no=ref_no or "",
        error=error,
    )


# ---- drafting --------------------------------------------------------------------------------


@bp.route("/letters/new", methods=["GET", "POST"])
@_web.login_required
def new_letter() -> Any:
    units = _web.archive().units()
    if request.method == "GET":
        return render_template("new_letter.html", kinds=KINDS, units=units)
    kind = request.form.get("kind", "external")
    circular = request.form.get("circular") in ("1", "on")
    unit = request.form.get("unit") or (units[0].prefix if len(units) == 1 else None)
    draft = drafting.create(
        _web.archive(), _web.store(), _web.user().id, kind, circular=circular, unit=unit
    )
    return redirect(url_for("letters.edit_draft", draft_id=draft))


def _editor(
    draft_id: int, parsed: ParsedForm | None = None, status: int = 200, **extra: Any
) -> Any:
    user = _web.user()
    draft = drafting.draft_for(_web.store(), draft_id, user.id)
    if draft.letter_id is not None:
        return _issued_draft(draft, 200 if status == 200 else 409)
    doc = parsed.doc if parsed else draft.doc
    date_text = parsed.date_text if parsed else draft.date_text
    errors, warnings = drafting.findings(doc, date_text)
    if parsed:  # the form's own problems (the date is already among the findings)
        errors = [e for e in parsed.errors if e.field != "date"] + errors
    store = _web.store()
    units = _web.archive().units()
    addresses = store.addresses()
    signers = [{"name": s.name, "position": s.position} for s in store.signers()]
    for unit_row in units:
        if unit_row.signer and unit_row.signer.get("name") not in {s["name"] for s in signers}:
            signers.append(
                {"name": unit_row.signer["name"], "position": list(unit_row.signer["position"])}
            )
    hide_for = {
        part: " ".join(k.name for k in LETTER_KINDS.values() if not k.prints(part))
        for part in {p for k in LETTER_KINDS.values() for p in k.not_printed}
    }
    return (
        render_template(
            "draft.html",
            draft=draft,
            doc=doc,
            unit=parsed.unit if parsed else draft.unit,
            date_text=date_text if date_text is not None else show_be_date(doc.get("date")),
            blocks=body_blocks(doc),
            units=units,
            units_json={
                u.prefix: {
                    "name": u.name,
                    "address": u.address,
                    "phone": u.phone,
                    "fax": u.fax,
                    "email": u.email,
                    "footer": u.footer,
                    "signer": u.signer,
                }
                for u in units
            },
            addresses=addresses,
            addresses_json={a.addressee: a.salutation for a in addresses},
            signers_json=signers,
            kinds=KINDS,
            hide_for=hide_for,
            urgencies=URGENCIES,
            secrecies=visible_levels(_web.clearance()),  # what the user may number
            problems=problems_json(errors, parsed),
            warnings=problems_json(warnings, parsed),
            **extra,
        ),
        status,
    )


@bp.get("/drafts/<draft:draft_id>")
@_web.login_required
def edit_draft(draft_id: int) -> Any:
    return _editor(draft_id)


@bp.post("/drafts/<draft:draft_id>")
@_web.login_required
def save_draft(draft_id: int) -> Any:
    """Save the form (the page autosaves with the same post). A fetch gets the findings as
    JSON, each with the form field it belongs beside; a plain post gets the page again."""
    user = _web.user()
    draft = drafting.draft_for(_web.store(), draft_id, user.id)
    if draft.letter_id is not None and not _web.wants_json():
        return _issued_draft(draft, 409)
    parsed = letter_from_form(request.form, base=draft.doc)
    saved = drafting.save(
        _web.archive(),
        _web.store(),
        draft,
        parsed.doc,
        unit=parsed.unit,
        date_text=parsed.date_text,
    )
    errors, warnings = drafting.findings(saved.doc, saved.date_text)
    if _web.wants_json():
        return _web.json_ok(
            {
                "ok": True,
                "saved_at": saved.updated_at.isoformat(),
                "errors": problems_json(errors, parsed),
                "warnings": problems_json(warnings, parsed),
                "preview": url_for(
                    "letters.preview", draft_id=draft, v=int(saved.updated_at.timestamp() * 1000)
                ),
            }
        )
    if request.form.get("action") == "issue":
        return _issue(draft_id, parsed)
    flash("บันทึกร่างแล้ว", "success")
    return redirect(url_for("letters.edit_draft", draft_id=draft))


@bp.get("/drafts/<draft:draft_id>/preview.pdf")
@_web.login_required
def preview(draft_id: int) -> Any:
    """The draft as it will print, for the page's preview frame. A draft that cannot be
    rendered yet answers with a short Thai page saying why, shown in the same frame."""
    draft = drafting.draft_for(_web.store(), draft_id, _web.user().id)
    try:
        pdf = drafting.preview_pdf(_web.archive(), draft, _web.previews())
    except InvalidLetter as exc:
        return render_template("preview_problems.html", problems=exc.problems), 200
    except (PreviewTooSlow, PreviewFailed) as exc:
        return render_template("preview_problems.html", message=exc.message), exc.status
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="draft-{draft.public_id}.pdf"'
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _issued_draft(draft: Any, status: int) -> Any:
    """A draft that became a letter (or is becoming one) opens as such: never an editable
    form, and a second issue or save says so in Thai instead of a bare 409."""
    record = None
    if draft.letter_id:
        try:
            record = _web.visible_letter(draft.letter_id)
        except NotFound:
            record = None
    return render_template(
        "draft_issued.html", draft=draft, record=record, again=status != 200
    ), status


def _issue(draft_id: int, parsed: ParsedForm | None = None) -> Any:
    user = _web.user()
    draft = drafting.draft_for(_web.store(), draft_id, user.id)
    if draft.letter_id is not None:
        return _issued_draft(draft, 409)
    try:
        issued = issuing.issue_draft(
            _web.archive(), _web.store(), draft, actor=user.name, clearance=user.clearance
        )
    except InvalidLetter as exc:
        if parsed is not None:
            parsed.errors = []
        return _editor(
            draft_id,
            parsed,
            400,
            issue_problems=problems_json(exc.problems, parsed),
            issue_error="ออกเลขไม่ได้ เพราะหนังสือยังมีข้อผิดพลาด แก้ไขตามที่แจ้งไว้ข้างช่องแล้วลองใหม่",
        )
    except IssueFailed as exc:
        return _editor(draft_id, parsed, 500, issue_error=exc.message)
    flash(f"ออกเลขแล้ว: ที่ {issued.ref_no} ลงวันที่ {show_be_date(issued.date)}", "success")
    return redirect(url_for("letters.letter", letter_id=issued.id))


@bp.post("/drafts/<draft:draft_id>/issue")
@_web.login_required
def issue_draft(draft_id: int) -> Any:
    return _issue(draft_id)


@bp.post("/drafts/<draft:draft_id>/delete")
@_web.login_required
def delete_draft(draft_id: int) -> Any:
    draft = drafting.draft_for(_web.store(), draft_id, _web.user().id)
    drafting.delete(_web.store(), draft)
    flash("ลบร่างแล้ว", "info")
    return redirect(url_for("letters.dashboard"))


# ---- the letter page -------------------------------------------------------------------------


@bp.get("/letters/<letter:letter_id>")
@_web.login_required
def letter(letter_id: int) -> Any:
    user = _web.user()
    archive = _web.archive()
    record = _web.visible_letter(letter_id)
    try:
        doc = archive.letter_document(letter_id)
    except NotFound:
        doc = None
    thread = archive.thread(letter_id, clearance=user.clearance)
    enclosed = archive.enclosed_files(letter_id)
    return render_template(
        "letter.html",
        record=record,
        doc=doc,
        history=archive.history(letter_id),
        thread=thread.letters,
        links=set(thread.links),
        original=archive.original_file(letter_id),
        enclosed=enclosed,
        previews=_web.text_previews(enclosed),
        review=archive.needs_review(letter_id) if record.status == "stored" else None,
        received=record.status == "stored" and archive.is_received(letter_id),
        answered_by=archive.received_answering(letter_id, clearance=user.clearance),
    )


def download_name(record: Any, suffix: str) -> str:
    """A file name from the letter's number ("นค ๐๐๑๙.๓-ว ๑๒.pdf"), safe on any disk."""
    stem = record.ref_no or f"letter-{record.public_id}"
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", stem).strip(" .-") or f"letter-{record.public_id}"
    return f"{stem}{suffix}"


def _attachment(path: Any, mimetype: str, record: Any, suffix: str) -> Any:
    """The file as a download named after the letter's number; the plain-ASCII fallback
    name (for old clients) is ``letter-<public id>``, not the number with its Thai stripped."""
    response = send_file(path, mimetype=mimetype.split(";")[0], as_attachment=True)
    name = download_name(record, suffix)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="letter-{record.public_id}{suffix}"; '
        f"filename*=UTF-8''{url_quote(name, safe='')}"
    )
    return response


def send_letter_file(letter_id: int, kind: str) -> Any:
    """The letter's DOCX, PDF or original file, for a user cleared to see it."""
    archive = _web.archive()
    record = _web.visible_letter(letter_id)
    if kind == "original":
        original = archive.original_file(letter_id)
        if original is None:
            raise NotFound("หนังสือนี้ไม่มีไฟล์ต้นฉบับ / this letter has no original file")
        suffix = "." + original.name.rsplit(".", 1)[-1] if "." in original.name else ""
        return _attachment(archive.files.path(original.sha256), original.media_type, record, suffix)
    sha = record.pdf_sha256 if kind == "pdf" else record.docx_sha256 if kind == "docx" else None
    if sha is None:
        raise NotFound(f"หนังสือนี้ไม่มีไฟล์ {kind.upper()} / this letter has no {kind} file")
    mimetype = "application/pdf" if kind == "pdf" else DOCX_TYPE
    return _attachment(archive.files.path(sha), mimetype, record, f".{kind}")


@bp.get("/letters/<letter:letter_id>/<any(docx, pdf, original):kind>")
@_web.login_required
def download(letter_id: int, kind: str) -> Any:
    return send_letter_file(letter_id, kind)


def send_enclosed_file(letter_id: int, number: int) -> Any:
    """The ``number``-th file (from 1) that came with a kept letter, as it came."""
    record = _web.visible_letter(letter_id)
    archive = _web.archive()
    files = archive.enclosed_files(letter_id)
    if not 1 <= number <= len(files):
        raise NotFound("ไม่มีไฟล์ลำดับนี้ที่มากับหนังสือ / no such file came with this letter")
    found = files[number - 1]
    suffix = re.sub(r"[^A-Za-z0-9.]", "", Path(found.name).suffix)[:10]
    return _web.attachment(
        archive.files.read(found.sha256),
        found.media_type.split(";")[0],
        found.name,
        f"letter-{record.public_id}-file-{number}{suffix}",
    )


@bp.get("/letters/<letter:letter_id>/files/<int:number>")
@_web.login_required
def enclosed_file(letter_id: int, number: int) -> Any:
    return send_enclosed_file(letter_id, number)


@bp.post("/letters/<letter:letter_id>/cancel")
@_web.login_required
def cancel(letter_id: int) -> Any:
    user = _web.user()
    reason = (request.form.get("reason") or "").strip()
    try:
        cancelling.cancel(
            _web.archive(), letter_id, reason, actor=user.name, clearance=user.clearance
        )
    except SarabanError as exc:
        if exc.status != 400:
            raise
        flash(f"ยกเลิกไม่ได้: ต้องระบุเหตุผลที่ยกเลิก / {exc.message}", "error")
        return redirect(url_for("letters.letter", letter_id=letter_id) + "#cancel")
    flash("ยกเลิกหนังสือแล้ว เลขที่เดิมยังอยู่ในทะเบียนพร้อมเหตุผล", "success")
    return redirect(url_for("letters.letter", letter_id=letter_id))


@bp.post("/letters/<letter:letter_id>/copy")
@_web.login_required
def copy_letter(letter_id: int) -> Any:
    """A new draft from a letter (the number and date left for the register)."""
    user = _web.user()
    draft = drafting.copy_letter(_web.archive(), _web.store(), user.id, letter_id, user.clearance)
    flash("สร้างร่างใหม่จากหนังสือนี้แล้ว", "success")
    return redirect(url_for("letters.edit_draft", draft_id=draft))
