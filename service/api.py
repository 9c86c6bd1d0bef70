"""The JSON API, ``/api/v1``: letters and drafts, search, import, registers, forms, and a
few administrator routes. Described by ``/api/v1/openapi.json`` (the one route without a
token).

Every other route needs ``Authorization: Bearer <token>`` (``saraban token create NAME``);
a missing or wrong token is 401, a clerk on an administrator's route 403, a letter the
token's user is not cleared for 404 (the same answer as a letter that does not exist).
Errors have one shape: ``{"ok": false, "error": "...", "status": N}`` (``problems`` added
for a letter or form that breaks its format). Lists are paged: ``page`` (from 1) and
``per_page`` (1-100), answered with ``total`` and ``pages``. Dates are ISO (``YYYY-MM-DD``,
Christian era), as in the letter document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, request, url_for

from saraban.archive import SHOWN_STATUSES
from saraban.errors import BadRequest, NotFound, SarabanError
from saraban.letter import KINDS
from saraban.service import _web
from saraban.service._clerk_text import row_number
from saraban.service._letter_links import public_id, remember_public_ids
from saraban.service._openapi import openapi_document
from saraban.service.letters import send_enclosed_file, send_letter_file
from saraban.service.search import parse_search
from saraban.usecases import cancelling, drafting, importing, issuing, receiving, registers

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_IMPORT_FILES = 20


# ---- request helpers -------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    """The JSON object sent, or 400 naming what is wrong with it (:func:`_web.json_body`)."""
    return _web.json_body()


def _page(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {
        "ok": True,
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
    }


def _iso_date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field}: ต้องเป็นข้อความวันที่ YYYY-MM-DD / must be a YYYY-MM-DD string")
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"{field}: '{value}' ไม่ใช่วันที่แบบ YYYY-MM-DD (ปี ค.ศ.) / not a YYYY-MM-DD date"
        ) from None
    if date.year > 2400:
        raise BadRequest(
            f"{field}: ปี {date.year} เป็นปี พ.ศ. แต่ API ใช้ปี ค.ศ. ({date.year - 543}) / year "
            f"{date.year} looks like BE; the API takes CE dates ({date.year - 543})"
        )
    return date


def _letter_json(record: Any, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    data = record.as_dict()
    data["id"] = data.pop("public_id")  # the row number counts letters: never shown
    data["links"] = {
        "self": url_for("api.get_letter", letter_id=record),
        **(
            {
                "docx": url_for("api.letter_file", letter_id=record, kind="docx"),
                "pdf": url_for("api.letter_file", letter_id=record, kind="pdf"),
            }
            if record.pdf_sha256
            else {}
        ),
        **(
            {"original": url_for("api.letter_file", letter_id=record, kind="original")}
            if record.original_sha256
            else {}
        ),
    }
    if doc is not None:
        data["letter"] = doc
    return data


def _enclosed_json(letter_id: int) -> list[dict[str, Any]]:
    """The files that came with a kept letter (its public id remembered for the links)."""
    return [
        {
            "name": f.name,
            "type": f.media_type,
            "url": url_for("api.enclosed_file", letter_id=letter_id, number=n),
        }
        for n, f in enumerate(_web.archive().enclosed_files(letter_id), start=1)
    ]


def _draft_dict(draft: Any) -> dict[str, Any]:
    """The draft, its issued letter named by public id (the row number counts letters)."""
    data = draft.as_dict()
    data["letter_id"] = public_id(draft.letter_id) if draft.letter_id else None
    return data


def _draft_json(draft: Any) -> dict[str, Any]:
    errors, warnings = drafting.findings(draft.doc, draft.date_text)
    return {
        **_draft_dict(draft),
        "errors": [p.as_dict() for p in errors],
        "warnings": [p.as_dict() for p in warnings],
        "links": {
            "self": url_for("api.get_draft", draft_id=draft),
            "preview": url_for("api.preview_draft", draft_id=draft),
            "issue": url_for("api.issue_draft", draft_id=draft),
        },
    }


# ---- the document -----------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Any:
    return _web.json_ok(openapi_document())


@bp.get("/me")
@_web.login_required
def me() -> Any:
    return _web.json_ok({"ok": True, "user": _web.user().as_dict()})


# ---- letters ----------------------------------------------------------------------------------


@bp.get("/letters")
@_web.login_required
def list_letters() -> Any:
    """Letters the user may see, newest first; ``ref_no`` (typed any way), ``year`` (BE),
    ``status`` (issued, cancelled, stored), ``unit`` filter them."""
    page, per_page = _web.api_paging()
    statuses: tuple[str, ...] = SHOWN_STATUSES
    status = request.args.get("status")
    if status:
        if status not in SHOWN_STATUSES:
            raise BadRequest(
                f"status: ต้องเป็น {', '.join(SHOWN_STATUSES)} / must be one of "
                f"{', '.join(SHOWN_STATUSES)}"
            )
        statuses = (status,)
    year = request.args.get("year")
    if year is not None and (not year.isdecimal() or not 2400 <= int(year) <= 2800):
        raise BadRequest("year: ต้องเป็นปี พ.ศ. เช่น 2568 / year must be a BE year such as 2568")
    total, rows = _web.archive().recent(
        _web.clearance(),
        limit=per_page,
        offset=(page - 1) * per_page,
        statuses=statuses,
        year=int(year) if year else None,
        ref_no=request.args.get("ref_no") or None,
        unit=request.args.get("unit") or None,
    )
    return _web.json_ok(_page([_letter_json(r) for r in rows], total, page, per_page))


@bp.get("/letters/<letter:letter_id>")
@_web.login_required
def get_letter(letter_id: int) -> Any:
    archive = _web.archive()
    record = _web.visible_letter(letter_id)
    try:
        doc = archive.letter_document(letter_id)
    except NotFound:
        doc = None
    answered_by = archive.received_answering(letter_id, clearance=_web.clearance())
    return _web.json_ok(
        {
            "ok": True,
            "letter": {**_letter_json(record, doc), "enclosed": _enclosed_json(letter_id)},
            "answered_by": [
                {
                    "id": r.public_id,
                    "number": r.number,
                    "sender": r.sender,
                    "subject": r.subject,
                }
                for r in answered_by
            ],
        }
    )


@bp.get("/letters/<letter:letter_id>/<any(docx, pdf, original):kind>")
@_web.login_required
def letter_file(letter_id: int, kind: str) -> Any:
    return send_letter_file(letter_id, kind)


@bp.get("/letters/<letter:letter_id>/files/<int:number>")
@_web.login_required
def enclosed_file(letter_id: int, number: int) -> Any:
    return send_enclosed_file(letter_id, number)


@bp.get("/letters/<letter:letter_id>/history")
@_web.login_required
def letter_history(letter_id: int) -> Any:
    _web.visible_letter(letter_id)
    # No ``seq``: the audit chain numbers every event, hidden letters' too.
    events = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "detail": {k: v for k, v in e.detail.items() if not row_number(k, v)},
        }
        for e in _web.archive().history(letter_id)
    ]
    return _web.json_ok({"ok": True, "events": events})


@bp.post("/letters/<letter:letter_id>/cancel")
@_web.login_required
def cancel_letter(letter_id: int) -> Any:
    user = _web.user()
    _web.visible_letter(letter_id)  # 404 before the body is looked at
    reason = _body().get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("reason: ต้องระบุเหตุผลที่ยกเลิก / a reason is required")
    record = cancelling.cancel(
        _web.archive(), letter_id, reason, actor=user.name, clearance=user.clearance
    )
    return _web.json_ok({"ok": True, "letter": _letter_json(record)})


@bp.post("/letters/<letter:letter_id>/review")
@_web.login_required
def review_letter(letter_id: int) -> Any:
    """Correct an imported letter (``changes``: document keys) and, with ``confirm``,
    clear its review marks."""
    user = _web.user()
    _web.visible_letter(letter_id)  # 404 before the body is looked at
    body = _body()
    unknown = sorted(set(body) - {"changes", "confirm"})
    if unknown:
        raise BadRequest(
            f"{unknown[0]}: รับเฉพาะ changes และ confirm / only changes and confirm are taken"
        )
    changes = body.get("changes", {})
    if not isinstance(changes, dict):
        raise BadRequest("changes: ต้องเป็นออบเจกต์ / must be an object")
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):
        raise BadRequest("confirm: ต้องเป็น true หรือ false / must be true or false")
    archive = _web.archive()
    record = importing.review(archive, letter_id, changes, actor=user.name, confirm=confirm)
    return _web.json_ok(
        {
            "ok": True,
            "letter": _letter_json(record, archive.letter_document(letter_id)),
            "needs_review": archive.needs_review(letter_id),
        }
    )


# ---- drafts -----------------------------------------------------------------------------------


@bp.get("/drafts")
@_web.login_required
def list_drafts() -> Any:
    page, per_page = _web.api_paging()
    store, user = _web.store(), _web.user()
    shown = store.drafts(user.id, limit=per_page, offset=(page - 1) * per_page)
    total = store.count_drafts(user.id)
    remember_public_ids(d.letter_id for d in shown if d.letter_id)
    return _web.json_ok(_page([_draft_dict(d) for d in shown], total, page, per_page))


def _letter_argument(body: dict[str, Any]) -> dict[str, Any] | None:
    letter = body.get("letter")
    if letter is not None and not isinstance(letter, dict):
        raise BadRequest("letter: ต้องเป็นออบเจกต์ JSON ของหนังสือ / must be a letter document object")
    return letter


@bp.post("/drafts")
@_web.login_required
def create_draft() -> Any:
    """A new draft: ``{"kind", "circular", "unit"}`` to start from the unit's defaults, or
    ``{"letter": {...}, "unit"}`` with a whole letter document (its ``ref_no`` dropped)."""
    body = _body()
    letter = _letter_argument(body)
    kind = body.get("kind") or (letter or {}).get("kind") or "external"
    if kind not in KINDS:
        raise BadRequest(f"kind: ต้องเป็น {', '.join(KINDS)} / must be one of {', '.join(KINDS)}")
    unit = body.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise BadRequest("unit: ต้องเป็นเลขประจำส่วนราชการ เช่น นค ๐๐๑๙.๓ / a unit prefix")
    draft = drafting.create(
        _web.archive(),
        _web.store(),
        _web.user().id,
        kind,
        circular=bool(body.get("circular")),
        unit=unit,
        letter=letter,
    )
    return _web.json_ok({"ok": True, "draft": _draft_json(draft)}, 201)


@bp.get("/drafts/<draft:draft_id>")
@_web.login_required
def get_draft(draft_id: int) -> Any:
    draft = drafting.draft_for(_web.store(), draft_id, _web.user().id)
    return _web.json_ok({"ok": True, "draft": _draft_json(draft)})


@bp.put("/drafts/<draft:draft_id>")
@_web.login_required
def update_draft(draft_id: int) -> Any:
    """Replace the draft's letter document (and its unit, if given)."""
    body = _body()
    draft = drafting.draft_for(_web.store(), draft_id, _web.user().id)
    letter = _letter_argument(body)
    if letter is None:
        raise BadRequest("letter: ต้องส่งหนังสือทั้งฉบับ / the whole letter document is required")
    if letter.get("kind", "external") not in KINDS:
        raise BadRequest(
            f"letter.kind: ต้องเป็น {', '.join(KINDS)} / must be one of {', '.join(KINDS)}"
        )
    unit = body["unit"] if "unit" in body else draft.unit
    if unit is not None and not isinstance(unit, str):
        raise BadRequest("unit: ต้องเป็นเลขประจำส่วนราชการ / a unit prefix")
    saved = drafting.save(_web.archive(), _web.store(), draft, letter, unit=unit or None)
    return _web.json_ok({"ok": True, "draft": _draft_json(saved)})


@bp.delete("/drafts/<draft:draft_id>")
@_web.login_required
def delete_draft(draft_id: int) -> Any:
    draft = drafting.draft_for(_web.store(), draft_id, _web.user().id)
    drafting.delete(_web.store(), draft)
    return _web.json_ok({"ok": True})


@bp.get("/drafts/<draft:draft_id>/preview")
@_web.login_required
def preview_draft(draft_id: int) -> Any:
    draft = drafting.draft_for(_web.store(), draft_id, _web.user().id)
    pdf = drafting.preview_pdf(_web.archive(), draft, _web.previews())
    return Response(pdf, mimetype="application/pdf")


@bp.post("/drafts/<draft:draft_id>/issue")
@_web.login_required
def issue_draft(draft_id: int) -> Any:
    """Issue the draft: the register gives the number, the letter is dated (its own date or
    today), rendered, stored and audited."""
    user = _web.user()
    draft = drafting.draft_for(_web.store(), draft_id, user.id)
    issued = issuing.issue_draft(
        _web.archive(), _web.store(), draft, actor=user.name, clearance=user.clearance
    )
    record = _web.archive().get(issued.id)
    return _web.json_ok({"ok": True, "letter": _letter_json(record, issued.letter)}, 201)


# ---- search -----------------------------------------------------------------------------------


@bp.get("/search")
@_web.login_required
def search() -> Any:
    """``q`` and the filters of the search page (``date_from``/``date_to`` typed in BE or as
    Thai dates, ``fiscal_year`` BE, ``kind``, ``unit``, ``urgency``, ``direction``),
    ``sort`` (relevance, date), paged."""
    page, per_page = _web.api_paging()
    query, filters, sort, errors = parse_search(request.args)
    if errors:
        raise BadRequest(
            "; ".join(v if v.startswith(f"{k}:") else f"{k}: {v}" for k, v in errors.items())
        )
    if not query and not filters:
        raise BadRequest("q: ต้องระบุคำค้นหรือตัวกรอง / give a query or a filter")
    result = _web.search_service().search(
        query,
        clearance=_web.clearance(),
        filters=filters,
        sort=sort,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    return _web.json_ok(
        {
            "ok": True,
            "total": result.total,
            "hits": _hits_json(result.hits),
            "facets": result.facets,
            "some_words": result.some_words,
            "numbers_not_found": result.numbers_not_found,
            "estimated": result.estimated,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-result.total // per_page)),
        }
    )


def _hits_json(hits: list[Any]) -> list[dict[str, Any]]:
    remember_public_ids(h.id for h in hits)
    return [h.as_dict() | {"id": public_id(h.id)} for h in hits]


# ---- import -----------------------------------------------------------------------------------


@bp.post("/imports")
@_web.login_required
def import_files() -> Any:
    """Import letters (multipart field ``files``, at most 20 a request): each is read and
    stored at once; each answer says what to review. One bad file does not stop the rest."""
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        raise BadRequest(
            "files: ต้องแนบไฟล์ในช่อง files (multipart/form-data) / attach files as 'files'"
        )
    if len(files) > MAX_IMPORT_FILES:
        raise BadRequest(
            f"files: ครั้งละไม่เกิน {MAX_IMPORT_FILES} ไฟล์ / at most {MAX_IMPORT_FILES} files a request"
        )
    user = _web.user()
    results = []
    for number, upload in enumerate(files, start=1):
        name = importing.upload_name(upload.filename or "", number)
        try:
            imported = importing.import_upload(
                _web.archive(), upload.read(), name, actor=user.name, clearance=user.clearance
            )
        except importing.AlreadyImported as exc:
            results.append(
                {
                    "file": name,
                    "ok": False,
                    "status": exc.status,
                    "error": exc.message,
                    "duplicate_of": exc.earlier_json()
                    | {"links": {"self": url_for("api.get_letter", letter_id=exc.earlier)}},
                }
            )
            continue
        except SarabanError as exc:
            if exc.status >= 500:
                raise
            results.append({"file": name, "ok": False, "status": exc.status, "error": exc.message})
            continue
        results.append(
            {
                "file": name,
                "ok": True,
                "id": imported.record.public_id,
                "ref_no": imported.record.ref_no,
                "needs_review": imported.needs_review,
                "notes": imported.notes,
            }
        )
    if not any(r["ok"] for r in results):
        # Nothing imported: an error, so in the error shape (with each file's reason).
        error = "files: นำเข้าไม่ได้สักไฟล์ (ดู results) / no file was imported (see results)"
        return _web.json_ok({"ok": False, "error": error, "status": 400, "results": results}, 400)
    return _web.json_ok({"ok": all(r["ok"] for r in results), "results": results}, 201)


# ---- registers --------------------------------------------------------------------------------


@bp.get("/registers")
@_web.login_required
def list_registers() -> Any:
    archive = _web.archive()
    return _web.json_ok(
        {
            "ok": True,
            "registers": [
                {
                    "name": r.name,
                    "circular_series": r.circular_series,
                    "number_format": r.number_format,
                    "units": r.units,
                }
                for r in archive.registers()
            ],
            "units": [
                {"prefix": u.prefix, "name": u.name, "register": u.register, "address": u.address}
                for u in archive.units()
            ],
        }
    )


def _period() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    date_from = _iso_date(request.args.get("from"), "from") or dt.date(today.year, 1, 1)
    date_to = _iso_date(request.args.get("to"), "to") or today
    if date_to < date_from:
        raise BadRequest("to: วันสิ้นสุดอยู่ก่อนวันเริ่ม / the end date is before the start")
    return date_from, date_to


@bp.get("/registers/<any(sent, received):kind>")
@_web.login_required
def register_rows(kind: str) -> Any:
    """The register between ``from`` and ``to`` (ISO dates; default: this year), as JSON rows
    (paged) or, with ``format`` csv/docx/pdf, the official table as a file."""
    from saraban.service.registers import export_response

    date_from, date_to = _period()
    register = request.args.get("register") or None
    fmt = request.args.get("format", "json")
    archive, clearance = _web.archive(), _web.clearance()
    if fmt != "json":
        table = registers.register_table(
            archive, kind, date_from, date_to, register, clearance, fmt=fmt
        )
        return export_response(table, fmt, kind, date_from, date_to)
    page, per_page = _web.api_paging()
    total, found = registers.register_page(
        archive,
        kind,
        date_from,
        date_to,
        register=register,
        clearance=clearance,
        page=page,
        per_page=per_page,
        newest_first=False,
    )
    remember_public_ids(n for r in found if (n := getattr(r, "letter_id", None)))
    return _web.json_ok(_page([_row_json(r) for r in found], total, page, per_page))


def _row_json(row: Any) -> dict[str, Any]:
    """A register row with public ids in place of the archive's row numbers; the letter it
    answers only when the user may see it (a row number counts letters, and a secret
    letter's id says it exists)."""
    data = row.as_dict()
    data["id"] = data.pop("public_id")
    if data.get("letter_id"):
        data["letter_id"] = public_id(data["letter_id"])
    if data.get("answers_id"):
        try:
            data["answers_id"] = public_id(_web.visible_letter(data["answers_id"]))
        except NotFound:
            data["answers_id"] = None
    return data


@bp.post("/registers/received")
@_web.login_required
def receive() -> Any:
    """Enter a received letter: ``{register, sender, recipient, subject, ref_no?,
    letter_date? (ISO), action?, note?, secrecy?}``; answers with its เลขรับ. A secret one
    (``secrecy``: ลับ, ลับมาก, ลับที่สุด) is shown only to users cleared for it."""
    body = _body()
    fields = ("register", "sender", "recipient", "subject", "ref_no", "action", "note", "secrecy")
    for name in fields:
        if body.get(name) is not None and not isinstance(body.get(name), str):
            raise BadRequest(f"{name}: ต้องเป็นข้อความ / must be text")
    record = receiving.receive(
        _web.archive(),
        body.get("register") or "",
        sender=body.get("sender") or "",
        recipient=body.get("recipient") or "",
        subject=body.get("subject") or "",
        ref_no=body.get("ref_no"),
        letter_date=_iso_date(body.get("letter_date"), "letter_date"),
        action=body.get("action"),
        note=body.get("note"),
        secrecy=body.get("secrecy"),
        actor=_web.user().name,
        clearance=_web.user().clearance,
    )
    return _web.json_ok({"ok": True, "received": _row_json(record)}, 201)


# ---- received letters taken in from files ----------------------------------------------------


def _received_json(record: Any) -> dict[str, Any]:
    """A received letter with public ids (its own, its kept letter's, what it answers)."""
    data = _row_json(record)
    for name in ("pdfa_sha256", "stamped_sha256"):
        data.pop(name, None)
    data["files"] = {
        kind: url_for("api.received_file", received_id=record, kind=kind)
        for kind, there in (
            ("original", record.letter_id is not None),
            ("pdfa", bool(record.pdfa_sha256)),
            ("stamped", bool(record.stamped_sha256)),
        )
        if there
    }
    data["confirmed"] = record.confirmed_at is not None
    return data


@bp.post("/received")
@_web.login_required
def receive_file() -> Any:
    """Take a received letter in from a file (multipart: ``file``, ``register``, and
    ``secrecy``, ``answers`` (the public id of our letter it answers), ``enclosures`` (files
    kept with the letter, repeated) if any). Reading a
    scan takes seconds a page, so the answer is a job (202) to poll at ``progress``; its
    ``result`` names the received letter (``received``) or the earlier one it repeats
    (``duplicate``), which is then not kept twice."""
    from saraban.service.received import start_intake, uploaded_enclosures

    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest(
            "file: ต้องแนบไฟล์ในช่อง file (multipart/form-data) / attach the file as 'file'"
        )
    form = request.form
    answers_id = None
    if form.get("answers"):
        answers = _web.archive().letter_id_for(form["answers"])
        try:
            answers_id = _web.visible_letter(answers or 0).id
        except NotFound:  # the same words whether it does not exist or is hidden
            raise NotFound("answers: ไม่พบหนังสือที่ตอบ / no such letter") from None
    job = start_intake(
        upload.read(),
        upload.filename,
        register=form.get("register") or "",
        secrecy=form.get("secrecy") or None,
        answers_id=answers_id,
        enclosures=uploaded_enclosures(),
    )
    return _web.json_ok(
        {"ok": True, "job": job.as_dict(), "progress": url_for("api.job", job_id=job.id)}, 202
    )


@bp.get("/received/<received:received_id>")
@_web.login_required
def received_letter(received_id: int) -> Any:
    """A received letter: its เลขรับ, the fields read from the file, its files."""
    from saraban.service.received import visible_received

    record = visible_received(received_id)
    if record.answers_id:
        remember_public_ids([record.answers_id])
    if record.letter_id:
        remember_public_ids([record.letter_id])
    answered_by = _web.archive().answers_to_received(record.id, clearance=_web.clearance())
    return _web.json_ok(
        {
            "ok": True,
            "received": {
                **_received_json(record),
                "enclosed": _enclosed_json(record.letter_id) if record.letter_id else [],
            },
            "answered_by": [
                {"id": a.public_id, "ref_no": a.ref_no, "subject": a.subject} for a in answered_by
            ],
        }
    )


@bp.post("/received/<received:received_id>/stamp")
@_web.login_required
def stamp_received(received_id: int) -> Any:
    """Move the receipt stamp: ``{left_mm, top_mm}`` from page one's top left; a new
    stamped copy is made (audited with the place), the received file never changes."""
    from saraban.service.received import visible_received
    from saraban.usecases import intake

    record = visible_received(received_id)
    body = _body()
    if "left_mm" not in body or "top_mm" not in body:
        raise BadRequest("ต้องระบุ left_mm และ top_mm (มม.) / give left_mm and top_mm")
    for name in ("left_mm", "top_mm"):
        if isinstance(body[name], bool) or not isinstance(body[name], int | float):
            raise BadRequest(f"{name}: ต้องเป็นตัวเลข (มม.) / must be a number of mm")
    stamped = intake.stamp_received(
        _web.archive(),
        record,
        actor=_web.user().name,
        left_mm=body["left_mm"],
        top_mm=body["top_mm"],
    )
    return _web.json_ok({"ok": True, "received": _received_json(stamped)})


@bp.get("/received/<received:received_id>/<any(original, pdfa, stamped):kind>")
@_web.login_required
def received_file(received_id: int, kind: str) -> Any:
    from saraban.service.received import send_received_file, visible_received

    return send_received_file(visible_received(received_id), kind)


def _routing_json(routing: Any, received: Any) -> dict[str, Any]:
    """A routing named by its received letter's public id (never a row number)."""
    data = routing.as_dict()
    data.pop("id")
    data["received_id"] = received.public_id
    return data


def _text_field(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name}: ต้องเป็นข้อความ / must be text")
    return value or None


@bp.post("/received/<received:received_id>/route")
@_web.login_required
def route_received(received_id: int) -> Any:
    """เกษียน: ``{to: [user, ...], note?, due? (ISO)}``; each user must be cleared for the
    letter's secrecy."""
    from saraban.service.received import clearance_of, visible_received
    from saraban.usecases import routing

    record = visible_received(received_id)  # 404 before anything is said about the body
    body = _body()
    to, units = body.get("to", []), body.get("units", [])
    if isinstance(to, str):
        to = [to]
    if isinstance(units, str):
        units = [units]
    if not isinstance(to, list) or not all(isinstance(n, str) for n in to):
        raise BadRequest("to: ต้องเป็นรายชื่อผู้ใช้ / must be a list of user names")
    if not isinstance(units, list) or not all(isinstance(n, str) for n in units):
        raise BadRequest("units: ต้องเป็นรายชื่อส่วนราชการ / must be a list of unit prefixes")
    if not to and not units:
        raise BadRequest("to: ต้องระบุผู้รับหรือส่วนราชการ / name people (to) or units")
    if len(to) + len(units) > 100:
        raise BadRequest("to: ครั้งละไม่เกิน ๑๐๐ ราย / at most 100 at once")
    user = _web.user()
    routed = routing.route(
        _web.archive(),
        received_id,
        to,
        actor=user.name,
        clearance=user.clearance,
        clearance_of=clearance_of,
        note=_text_field(body, "note"),
        due=_iso_date(body.get("due"), "due"),
        units=units,
    )
    return _web.json_ok({"ok": True, "routings": [_routing_json(r, record) for r in routed]}, 201)


@bp.post("/received/<received:received_id>/order")
@_web.login_required
def order_received(received_id: int) -> Any:
    """สั่งการ: ``{order}``, printed as a เกษียน block on a new stamped copy."""
    from saraban.service.received import visible_received
    from saraban.usecases import routing

    record = visible_received(received_id)
    body = _body()
    text = _text_field(body, "order")
    if not text or not text.strip():
        raise BadRequest("order: ต้องกรอกคำสั่งการ / the order is empty")
    user = _web.user()
    order = routing.write_order(
        _web.archive(), record.id, text, actor=user.name, clearance=user.clearance
    )
    return _web.json_ok(
        {
            "ok": True,
            "order": {
                "text": order.text,
                "written_by": order.written_by,
                "written_at": order.written_at.isoformat(),
            },
        },
        201,
    )


@bp.post("/received/<received:received_id>/done")
@_web.login_required
def done_received(received_id: int) -> Any:
    """ดำเนินการแล้ว ``{note?}``: the user's own routing, or that of whom they act for."""
    from saraban.service.received import visible_received
    from saraban.usecases import routing

    record = visible_received(received_id)
    body = _body()
    user = _web.user()
    marked = routing.done(
        _web.archive(),
        received_id,
        actor=user.name,
        clearance=user.clearance,
        note=_text_field(body, "note"),
    )
    return _web.json_ok({"ok": True, "routing": _routing_json(marked, record)})


@bp.get("/inbox")
@_web.login_required
def inbox() -> Any:
    """Received letters waiting for the user and for whom they act today, due first
    (``done=1``: the finished ones too), paged."""
    from saraban.usecases import routing

    page, per_page = _web.api_paging()
    user = _web.user()
    today = dt.date.today()
    box = routing.inbox(
        _web.archive(),
        user.name,
        clearance=user.clearance,
        include_done=request.args.get("done") == "1",
        page=page,
        per_page=per_page,
    )
    items = [
        {
            **_routing_json(i.routing, i.received),
            "late": i.routing.late(today),
            "received": {
                "id": i.received.public_id,
                "number": i.received.number,
                "serial": i.received.serial,
                "year": i.received.year,
                "sender": i.received.sender,
                "subject": i.received.subject,
                "secrecy": i.received.secrecy,
            },
        }
        for i in box.items
    ]
    body = _page(items, box.total, page, per_page)
    return _web.json_ok({**body, "acting_for": box.acting_for, "units": box.units})


# ---- acting for (รักษาการแทน) --------------------------------------------------------------------


@bp.get("/delegations")
@_web.login_required
def list_delegations() -> Any:
    """The delegations the user gave or holds, newest first (an administrator with
    ``all=1``: everyone's), paged."""
    from saraban.usecases import routing

    page, per_page = _web.api_paging()
    user = _web.user()
    everyone = request.args.get("all") == "1" and user.is_admin
    found = routing.delegations(_web.archive(), user.name, everyone=everyone)
    items = [d.as_dict() for d in found[(page - 1) * per_page : page * per_page]]
    return _web.json_ok(_page(items, len(found), page, per_page))


@bp.post("/delegations")
@_web.login_required
def add_delegation() -> Any:
    """รักษาการแทน: ``{delegate, from, to}`` (ISO dates, both days included); an
    administrator may name another ``delegator`` than themselves."""
    from saraban.service.received import clearance_of
    from saraban.usecases import routing

    user = _web.user()
    body = _body()
    delegator = _text_field(body, "delegator") or user.name
    if delegator != user.name and not user.is_admin:
        raise _web.Forbidden("มอบหมายได้เฉพาะงานของตนเอง / you can only hand over your own inbox")
    start, end = _iso_date(body.get("from"), "from"), _iso_date(body.get("to"), "to")
    delegate = _text_field(body, "delegate")
    if start is None or end is None or not delegate:
        raise BadRequest("ต้องระบุ delegate, from และ to / give delegate, from and to")
    made = routing.delegate(
        _web.archive(),
        delegator,
        delegate,
        start,
        end,
        actor=user.name,
        clearance_of=clearance_of,
    )
    return _web.json_ok({"ok": True, "delegation": made.as_dict()}, 201)


@bp.post("/delegations/<int:delegation_id>/revoke")
@_web.login_required
def revoke_delegation(delegation_id: int) -> Any:
    """End a delegation now: whoever gave it, holds it or made it, or an administrator."""
    from saraban.usecases import routing

    user = _web.user()
    revoked = routing.revoke_delegation(
        _web.archive(), delegation_id, actor=user.name, is_admin=user.is_admin
    )
    return _web.json_ok({"ok": True, "delegation": revoked.as_dict()})


# ---- forms ------------------------------------------------------------------------------------


@bp.get("/forms")
@_web.login_required
def list_forms() -> Any:
    from saraban.templates.forms import list_forms as forms

    return _web.json_ok({"ok": True, "forms": [f.as_dict() for f in forms()]})


@bp.get("/forms/<name>")
@_web.login_required
def form_schema(name: str) -> Any:
    from saraban.templates.forms import form_schema as schema

    return _web.json_ok({"ok": True, "form": schema(name)})


@bp.post("/forms/<name>/<any(docx, pdf):fmt>")
@_web.login_required
def fill_form(name: str, fmt: str) -> Any:
    """The form filled with ``{"data": {...}}`` as DOCX or PDF; bad data is 400 with every
    problem and its field path."""
    from saraban.templates.forms import fill_docx, fill_pdf

    body = _body()
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadRequest("data: ต้องเป็นออบเจกต์ JSON ของข้อมูลแบบฟอร์ม / must be an object")
    content = fill_pdf(name, data) if fmt == "pdf" else fill_docx(name, data)
    from saraban.service.forms import _attachment

    return _attachment(content, name, fmt)


# ---- administration ---------------------------------------------------------------------------


@bp.get("/users")
@_web.admin_required
def list_users() -> Any:
    return _web.json_ok({"ok": True, "users": [u.as_dict() for u in _web.store().users()]})


@bp.post("/users")
@_web.admin_required
def add_user() -> Any:
    body = _body()
    for name in ("name", "password", "role", "clearance", "display_name"):
        if body.get(name) is not None and not isinstance(body.get(name), str):
            raise BadRequest(f"{name}: ต้องเป็นข้อความ / must be text")
    _web.check_clearance_grant(body.get("clearance"))
    added = _web.store().add_user(
        body.get("name") or "",
        body.get("password") or "",
        role=body.get("role") or "clerk",
        clearance=body.get("clearance"),
        display_name=body.get("display_name"),
    )
    _web.archive().audit(
        "user.add",
        {"user": added.name, "role": added.role, "clearance": added.clearance},
        actor=_web.user().name,
    )
    return _web.json_ok({"ok": True, "user": added.as_dict()}, 201)


@bp.post("/units")
@_web.admin_required
def add_unit() -> Any:
    body = _body()
    address = body.get("address") or []
    if not isinstance(address, list) or not all(isinstance(a, str) for a in address):
        raise BadRequest("address: ต้องเป็นรายการบรรทัดข้อความ / must be a list of lines")
    signer = body.get("signer")
    if signer is not None and not isinstance(signer, dict):
        raise BadRequest("signer: ต้องเป็นออบเจกต์ {name, position} / must be {name, position}")
    for name in ("prefix", "name", "register", "phone", "fax", "email", "footer"):
        if body.get(name) is not None and not isinstance(body.get(name), str):
            raise BadRequest(f"{name}: ต้องเป็นข้อความ / must be text")
    unit = _web.archive().add_unit(
        body.get("prefix") or "",
        body.get("name") or "",
        register=body.get("register"),
        address=address,
        phone=body.get("phone"),
        fax=body.get("fax"),
        email=body.get("email"),
        footer=body.get("footer"),
        signer=signer,
        number_format=body.get("number_format") or "plain",
        circular_series=body.get("circular_series") or "separate",
        actor=_web.user().name,
    )
    return _web.json_ok(
        {"ok": True, "unit": {"prefix": unit.prefix, "name": unit.name, "register": unit.register}},
        201,
    )


@bp.post("/registers")
@_web.admin_required
def add_register() -> Any:
    body = _body()
    if not isinstance(body.get("name"), str):
        raise BadRequest("name: ต้องระบุชื่อทะเบียน / the register's name is required")
    register = _web.archive().add_register(
        body["name"],
        number_format=body.get("number_format") or "plain",
        circular_series=body.get("circular_series") or "separate",
        actor=_web.user().name,
    )
    return _web.json_ok({"ok": True, "register": {"name": register.name}}, 201)


@bp.post("/reindex")
@_web.admin_required
def reindex() -> Any:
    from saraban.service.admin import start_reindex

    job = start_reindex(_web.user().id, _web.clearance())
    _web.archive().audit("search.reindex", actor=_web.user().name)
    return _web.json_ok(
        {"ok": True, "job": job.as_dict(), "progress": url_for("api.job", job_id=job.id)}, 202
    )


@bp.get("/jobs/<job_id>")
@_web.login_required
def job(job_id: str) -> Any:
    user = _web.user()
    found = _web.jobs().get(job_id)
    if found is None or (found.owner_id != user.id and not user.is_admin):
        raise NotFound(f"ไม่พบงานรายการ {job_id} / no job {job_id}")
    return _web.json_ok({"ok": True, "job": found.as_dict()})
