"""The public verification page of signed letters (no login, Thai, fits a phone).

``/v/<token>`` is what a signed letter's QR code opens: it says whether this archive issued
that letter (reference number, date, issuing unit, who signed it and when), never anything
of its content. Uploading the file there (or to ``/v``) says whether it is exactly the file
the archive signed and whether its signature holds. JSON twins for systems:
``GET /v/<token>.json``, ``POST /v.json`` and ``POST /v/<token>.json`` (multipart ``file``,
or the PDF itself as the body with ``Content-Type: application/pdf``).

The pages change nothing and need no session, so they take no CSRF token (the app's
hook skips this blueprint); what they accept is bounded (one file of at most 20 MB).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from saraban.archive import FileCheck, PublicLetter, letter_for_token
from saraban.archive._signing import MAX_CHECK_BYTES
from saraban.errors import BadRequest, NotFound, SarabanError, TooLarge
from saraban.service._web import (
    TooManyAttempts,
    archive,
    json_ok,
    public_json_errors,
    within_limit,
)

bp = Blueprint("verify", __name__)
_PDF_TYPES = ("application/pdf", "application/octet-stream")
_MB = MAX_CHECK_BYTES // (1024 * 1024)


@bp.before_request
def _bounded() -> None:
    # The whole request, not only the file: Werkzeug refuses a longer body before reading it.
    request.max_content_length = MAX_CHECK_BYTES + 64 * 1024


@bp.after_request
def _not_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # a letter may be cancelled tomorrow
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response


_json_errors = public_json_errors(_MB)
CHECKS_PER_10_MINUTES = 30  # files one address may have checked


def check_file(data: bytes, token: str | None = None) -> FileCheck:
    """The upload checked in the checking process (:mod:`saraban.usecases.verifying`), at
    most :data:`CHECKS_PER_10_MINUTES` from one address."""
    if not within_limit("v.check", CHECKS_PER_10_MINUTES, dt.timedelta(minutes=10)):
        raise TooManyAttempts(
            "ตรวจสอบไฟล์บ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่ / too many files checked: wait a while"
        )
    return current_app.extensions["saraban_checker"].check(data, token)


def _uploaded() -> bytes:
    """The file to check: the form's ``file``, or a PDF sent as the body itself."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_CHECK_BYTES + 1)
    elif request.mimetype in _PDF_TYPES:
        data = request.get_data(cache=False)
    else:
        raise BadRequest("file: เลือกไฟล์ PDF ที่จะตรวจสอบ / choose the PDF file to check")
    if len(data) > MAX_CHECK_BYTES:
        raise TooLarge(f"file: ไฟล์ใหญ่เกิน {_MB} MB / the file is larger than {_MB} MB")
    return data


def _page(
    *,
    token: str | None,
    letter: PublicLetter | None,
    result: FileCheck | None = None,
    error: SarabanError | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template("verify.html", token=token, letter=letter, result=result, error=error),
        status,
    )


@bp.get("/v")
def verify_form() -> Any:
    return _page(token=None, letter=None)


@bp.post("/v")
def verify_upload() -> Any:
    try:
        result = check_file(_uploaded())
    except SarabanError as error:
        return _page(token=None, letter=None, error=error, status=error.status)
    return _page(token=None, letter=result.letter, result=result)


@bp.get("/v/<token>")
def letter(token: str) -> Any:
    try:
        found = letter_for_token(archive(), token)
    except NotFound as error:
        return _page(token=None, letter=None, error=error, status=404)
    return _page(token=token, letter=found)


@bp.post("/v/<token>")
def letter_upload(token: str) -> Any:
    try:
        found = letter_for_token(archive(), token)
    except NotFound as error:
        return _page(token=None, letter=None, error=error, status=404)
    try:
        result = check_file(_uploaded(), token)
    except SarabanError as error:
        return _page(token=token, letter=found, error=error, status=error.status)
    return _page(token=token, letter=found, result=result)


@bp.get("/v/<token>.json")
@_json_errors
def letter_json(token: str) -> Response:
    return json_ok({"ok": True, "letter": letter_for_token(archive(), token).as_dict()})


@bp.post("/v.json")
@_json_errors
def check_json() -> Response:
    return json_ok({"ok": True, **check_file(_uploaded()).as_dict()})


@bp.post("/v/<token>.json")
@_json_errors
def letter_check_json(token: str) -> Response:
    return json_ok({"ok": True, **check_file(_uploaded(), token).as_dict()})
