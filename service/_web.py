"""What every blueprint shares: the app's parts (archive, store, search, jobs), the signed-in
user and the letters it may see, the login and role guards, CSRF, and the one error shape.

Errors: every :class:`saraban.errors.SarabanError` (and every HTTP error) is answered by one
handler, as ``{"ok": false, "error": ..., "status": ...}`` (plus ``problems`` for a letter
that breaks the format) for the API and the page's own fetches, or as a Thai error page.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from saraban.archive import Archive, LetterRecord
from saraban.errors import SarabanError
from saraban.service._jobs import Jobs
from saraban.service._searching import SearchService
from saraban.service._store import Store, UserInfo
from saraban.usecases._access import visible_letter as usecase_visible_letter

logger = logging.getLogger("saraban.service")
F = TypeVar("F", bound=Callable[..., Any])

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Thai (and English) words for the HTTP errors Werkzeug raises itself.
_HTTP_MESSAGES = {
    400: "คำขอไม่ถูกต้อง / bad request",
    401: "ต้องเข้าสู่ระบบก่อน / sign in first",
    403: "ไม่มีสิทธิ์ทำรายการนี้ / not allowed",
    404: "ไม่พบหน้าที่ต้องการ / not found",
    405: "ใช้วิธีนี้กับหน้านี้ไม่ได้ / method not allowed",
    413: "ไฟล์หรือข้อมูลที่ส่งมีขนาดใหญ่เกินกำหนด / the upload is too large",
    415: "ชนิดข้อมูลที่ส่งมาไม่รองรับ / unsupported media type",
    429: "ลองเข้าสู่ระบบผิดหลายครั้งเกินไป กรุณารอสักครู่ / too many attempts, wait a while",
}


class Unauthorized(SarabanError):
    status = 401


class Forbidden(SarabanError):
    status = 403


class TooManyAttempts(SarabanError):
    status = 429


# ---- the app's parts ------------------------------------------------------------------------


def archive() -> Archive:
    return cast(Archive, current_app.extensions["archive"])


def store() -> Store:
    return cast(Store, current_app.extensions["saraban_store"])


def search_service() -> SearchService:
    return cast(SearchService, current_app.extensions["saraban_search"])


def jobs() -> Jobs:
    return cast(Jobs, current_app.extensions["saraban_jobs"])


def current_user() -> UserInfo | None:
    return cast(UserInfo | None, g.get("user"))


def user() -> UserInfo:
    found = current_user()
    if found is None:
        raise Unauthorized(_HTTP_MESSAGES[401])
    return found


def clearance() -> str | None:
    found = current_user()
    return found.clearance if found else None


def visible_letter(letter_id: int) -> LetterRecord:
    """The letter, or NotFound, the same answer whether it does not exist or is secret
    beyond the user's clearance: nobody learns that a letter they may not see exists."""
    return usecase_visible_letter(archive(), letter_id, clearance())


# ---- requests --------------------------------------------------------------------------------


def is_api() -> bool:
    return request.path.startswith("/api/")


def wants_json() -> bool:
    """The API, and the page's own fetches (they send ``Accept: application/json``)."""
    if is_api():
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes["application/json"] >= (request.accept_mimetypes["text/html"])
    )


def load_user() -> None:
    """Who is asking: a bearer token for the API, the session cookie for pages."""
    g.user = None
    if is_api():
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            g.user = store().user_for_token(token.strip())
        return
    user_id = session.get("uid")
    if isinstance(user_id, int):
        found = store().user(user_id)
        if found is not None and found.active:
            g.user = found
        else:
            session.clear()


def login_required(view: F) -> F:
    """Pages: redirect to the login page; the API and fetches: 401 in the error shape."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if wants_json():
                raise Unauthorized(
                    "ต้องมีโทเค็นที่ถูกต้อง (Authorization: Bearer ...) / a valid bearer token is required"
                    if is_api()
                    else _HTTP_MESSAGES[401]
                )
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def admin_required(view: F) -> F:
    @functools.wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not user().is_admin:
            raise Forbidden("เฉพาะผู้ดูแลระบบ / administrators only")
        return view(*args, **kwargs)

    return cast(F, wrapped)


# ---- CSRF ------------------------------------------------------------------------------------


def csrf_token() -> str:
    """This session's token, made on first use; every form carries it, every fetch sends it."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing page request without this session's token. The API is
    exempt: it takes no cookies, only a bearer token, so a page elsewhere cannot use it."""
    if request.method not in _UNSAFE_METHODS or is_api():
        return
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected, str(given)):
        raise SarabanError(
            "แบบฟอร์มหมดอายุหรือไม่ได้มาจากหน้านี้ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง / the form "
            "expired or did not come from this site (CSRF): reload the page and try again",
            status=400,
        )


# ---- errors ----------------------------------------------------------------------------------


def error_body(error: SarabanError) -> dict[str, Any]:
    """THE error shape (``SarabanError.as_dict``): ``{ok: false, error, status}``."""
    return error.as_dict()


def _respond(error: SarabanError) -> Response:
    if wants_json():
        response = jsonify(error_body(error))
        response.status_code = error.status
    else:
        response = Response(
            render_template("error.html", error=error), status=error.status, mimetype="text/html"
        )
    if error.status == 401 and is_api():
        response.headers["WWW-Authenticate"] = 'Bearer realm="saraban"'
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SarabanError)
    def saraban_error(error: SarabanError) -> Response:
        if error.status >= 500:
            logger.error("%s %s: %s", request.method, request.path, error.message)
        return _respond(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        message = _HTTP_MESSAGES.get(status, f"HTTP {status}: {error.name}")
        response = _respond(SarabanError(message, status=status))
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return _respond(SarabanError("เกิดข้อผิดพลาดภายในระบบ / internal error (see the server log)"))


def json_ok(payload: dict[str, Any] | list[Any], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    return response


def page_number(name: str = "page") -> int:
    try:
        value = int(request.args.get(name, "1"))
    except ValueError:
        value = 1
    return max(1, min(value, 100_000))
