"""The recipient's side of a sent letter (no account, Thai, fits a phone): ``/d/<token>``.

The private link is the credential: 128 random bits, kept only as a hash, revocable and
expiring (``archive/_circulars.py``). The page shows the letter's number, date, subject
and sender, and its files to read or download; the recipient acknowledges with their own
เลขรับ (ลงรับ) and replies with a letter file (PDF or DOCX read by the importer, a scan or a
photo read by OCR) and/or the enclosed form filled in online (the forms page's fields and
checks).

JSON twins for systems: ``GET /d/<token>.json``, ``POST /d/<token>/acknowledge``
(``{"receive_no", "by"}``) and ``POST /d/<token>/reply`` (multipart: ``file`` and/or
``data``, the form's JSON).

CSRF: the page's forms post to ``/d/<token>`` and carry the session's CSRF token like
every form of the service. The JSON twins take no cookie-borne credential at all (the
token is in the address, which a page elsewhere cannot know), so a forged cross-site
request has nothing to ride on: they are exempt, as the bearer-token API is. Every
request is bounded (20 MB), rate-limited per client address (a wrong token costs more),
and every step that changes something is audited by the archive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from saraban.archive import circulars
from saraban.errors import BadRequest, NotFound, Problem, SarabanError
from saraban.service import _web
from saraban.service._web import (
    TooManyAttempts,
    archive,
    error_body,
    json_ok,
    public_json_errors,
    within_limit,
)
from saraban.thai import THAI_MONTHS
from saraban.usecases import sending

bp = Blueprint("deliveries", __name__)
MAX_REQUEST = sending.MAX_REPLY_BYTES + 1024 * 1024
_MB = sending.MAX_REPLY_BYTES // (1024 * 1024)


# Per client address, counted in the service's database by every serving process alike
# (_web.within_limit): every request, and besides, each wrong or closed link.
REQUESTS_PER_MINUTE = 120  # a recipient reading, downloading, acknowledging, replying
MISSES_PER_10_MINUTES = 20  # wrong or closed links: someone guessing tokens
_MINUTE = dt.timedelta(minutes=1)
_TEN_MINUTES = dt.timedelta(minutes=10)

_SLOW_DOWN = "มีการเรียกหน้านี้บ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่ / too many requests: wait a while"


# The JSON twins for systems: their errors, the limits' 429 included, are in the one error
# shape whatever the request accepts.
_JSON_VIEWS = ("deliveries.delivery_json", "deliveries.acknowledge_json", "deliveries.reply_json")


@bp.before_request
def _bounded() -> Response | None:
    request.max_content_length = MAX_REQUEST
    if within_limit("d.request", REQUESTS_PER_MINUTE, _MINUTE):
        return None
    if request.endpoint in _JSON_VIEWS:
        return json_ok(error_body(TooManyAttempts(_SLOW_DOWN)), TooManyAttempts.status)
    raise TooManyAttempts(_SLOW_DOWN)


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _counted(error: SarabanError) -> None:
    if error.status in (404, 410) and not within_limit(
        "d.miss", MISSES_PER_10_MINUTES, _TEN_MINUTES
    ):
        raise TooManyAttempts(_SLOW_DOWN) from None


_json_errors = public_json_errors(_MB, on_error=_counted)


def _schema(form: str | None) -> dict[str, Any] | None:
    if not form:
        return None
    from saraban.templates.forms import form_schema

    return form_schema(form)


def _page(
    token: str,
    opened: circulars.OpenedDelivery | None,
    *,
    error: SarabanError | None = None,
    status: int = 200,
    done: str | None = None,
    data: dict[str, Any] | None = None,
    problems: list[Problem] | None = None,
) -> tuple[str, int]:
    from saraban.service.forms import rows_of

    by_field: dict[str, list[str]] = {}
    for problem in problems or []:
        by_field.setdefault(problem.field, []).append(problem.th)
    delivery = opened.delivery if opened else None
    return render_template(
        "delivery.html",
        token=token,
        opened=opened,
        delivery=delivery,
        schema=_schema(delivery.form) if delivery and not delivery.replied_at else None,
        error=error,
        done=done,
        data=data or {},
        problems=by_field,
        all_problems=problems or [],
        months=THAI_MONTHS,
        rows_of=rows_of,
        late=delivery.late() if delivery else False,
        status_names=circulars.STATUS_NAMES,
    ), status


def _closed_page(token: str, error: SarabanError) -> tuple[str, int]:
    _counted(error)
    return _page(token, None, error=error, status=error.status)


@bp.get("/d/<token>")
def delivery(token: str) -> Any:
    try:
        opened = sending.open_delivery(archive(), token)
    except (NotFound, circulars.LinkClosed) as error:
        return _closed_page(token, error)
    return _page(token, opened)


def _form_data(schema: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The form's data from the page's fields; None when none of them was filled."""
    if schema is None:
        return None, []
    from saraban.service.forms import posted_photos, unflatten

    data, problems = unflatten(request.form, schema)
    photos, photo_problems = posted_photos(schema)
    data.update({name: found for name, found in photos.items() if found})
    filled = {k: v for k, v in data.items() if v not in (None, "", [], {})}
    return (filled or None), problems + photo_problems


def _upload() -> tuple[str, bytes] | None:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    content = upload.stream.read(sending.MAX_REPLY_BYTES + 1)
    if len(content) > sending.MAX_REPLY_BYTES:
        raise BadRequest(f"file: ไฟล์ใหญ่เกิน {_MB} MB / the file is larger than {_MB} MB")
    return upload.filename, content


def _enclosures() -> list[tuple[str, bytes]]:
    """The files sent as ``enclosures`` beside the reply, each read to one byte past the
    limit at most (a larger one is refused without reading it all)."""
    found = []
    for upload in request.files.getlist("enclosures")[: sending.MAX_REPLY_ENCLOSURES + 1]:
        if upload.filename:
            content = upload.stream.read(sending.MAX_REPLY_BYTES + 1)
            if len(content) > sending.MAX_REPLY_BYTES:
                raise BadRequest(f"enclosures: ไฟล์ใหญ่เกิน {_MB} MB / a file is larger than {_MB} MB")
            found.append((upload.filename, content))
    return found


@bp.post("/d/<token>")
def act(token: str) -> Any:
    """The page's two forms: ลงรับ (``action=acknowledge``) and ตอบกลับ (``action=reply``)."""
    try:
        opened = sending.open_delivery(archive(), token)
    except (NotFound, circulars.LinkClosed) as error:
        return _closed_page(token, error)
    action = request.form.get("action")
    data: dict[str, Any] | None = None
    try:
        if action == "acknowledge":
            sending.acknowledge(
                archive(), token, request.form.get("receive_no"), request.form.get("by")
            )
            done = "ลงรับเรียบร้อยแล้ว"
        elif action == "reply":
            data, problems = _form_data(_schema(opened.delivery.form))
            if problems:
                reopened = sending.open_delivery(archive(), token)
                return _page(token, reopened, data=data, problems=problems, status=400)
            sending.reply(archive(), token, upload=_upload(), data=data, enclosures=_enclosures())
            done = "ส่งหนังสือตอบกลับเรียบร้อยแล้ว"
        else:
            raise BadRequest("action: ไม่รู้จักคำสั่งนี้ / unknown action")
    except SarabanError as error:
        problems = list(getattr(error, "problems", []) or [])
        reopened = sending.open_delivery(archive(), token)
        return _page(
            token,
            reopened,
            error=None if problems else error,
            data=data or {},
            problems=problems,
            status=error.status,
        )
    return _page(token, sending.open_delivery(archive(), token), done=done)


@bp.get("/d/<token>/files/<int:n>")
def download(token: str, n: int) -> Any:
    try:
        path, name, media_type = sending.delivery_file(archive(), token, n - 1)
    except (NotFound, circulars.LinkClosed) as error:
        return _closed_page(token, error)
    return _web.attachment(path.read_bytes(), media_type, name, f"file-{n}{path.suffix}")


def _delivery_json(token: str, opened: circulars.OpenedDelivery) -> dict[str, Any]:
    d = opened.delivery

    def iso(moment: Any) -> str | None:
        return moment.astimezone().isoformat(timespec="seconds") if moment else None

    return {
        "ok": True,
        "letter": {
            "ref_no": opened.ref_no,
            "date": opened.date.isoformat() if opened.date else None,
            "subject": opened.subject,
            "sender": opened.sender,
        },
        "delivery": {
            "name": d.name,
            "addressee": d.addressee,
            "due": d.due.isoformat() if d.due else None,
            "form": d.form,
            "status": d.status,
            "opened_at": iso(d.opened_at),
            "acknowledged_at": iso(d.acknowledged_at),
            "receive_no": d.receive_no,
            "replied_at": iso(d.replied_at),
            "late": d.late(),
            "expires_at": iso(opened.token_expires_at),
            "reply_being_read": opened.reply_being_read,
        },
        "files": [
            {
                "name": f["name"],
                "media_type": f["media_type"],
                "url": url_for("deliveries.download", token=token, n=n, _external=False),
            }
            for n, f in enumerate(d.enclosures, start=1)
        ],
    }


@bp.get("/d/<token>.json")
@_json_errors
def delivery_json(token: str) -> Response:
    return json_ok(_delivery_json(token, sending.open_delivery(archive(), token)))


@bp.post("/d/<token>/acknowledge")
@_json_errors
def acknowledge_json(token: str) -> Response:
    body = _web.json_body()
    sending.acknowledge(archive(), token, body.get("receive_no"), body.get("by"))
    return json_ok(_delivery_json(token, sending.open_delivery(archive(), token)))


@bp.post("/d/<token>/reply")
@_json_errors
def reply_json(token: str) -> Response:
    raw = request.form.get("data")
    data = _web.json_object(raw, "data") if raw else None
    sending.reply(archive(), token, upload=_upload(), data=data, enclosures=_enclosures())
    return json_ok(_delivery_json(token, sending.open_delivery(archive(), token)))
