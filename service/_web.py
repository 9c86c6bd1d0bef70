"""What every blueprint shares: the app's parts (archive, store, search, jobs), the signed-in
user and the letters it may see, the login and role guards, CSRF, and the one error shape.

Errors: every :class:`saraban.errors.SarabanError` (and every HTTP error) is answered by one
handler, as ``{"ok": false, "error": ..., "status": ...}`` (plus ``problems`` for a letter
that breaks the format) for the API and the page's own fetches, or as a Thai error page.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import json
import logging
import re
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
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from saraban.archive import Archive, LetterRecord
from saraban.errors import BadRequest, SarabanError
from saraban.letter import can_see
from saraban.service._jobs import Jobs
from saraban.service._searching import SearchService
from saraban.service._store import Store, UserInfo, attempt_key
from saraban.usecases._access import visible_letter as usecase_visible_letter
from saraban.usecases.previews import Previews
from saraban.vocabulary import scrub_surrogates

logger = logging.getLogger("saraban.service")
F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "sid"  # the login session's token, in the signed cookie
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


def within_limit(kind: str, limit: int, window: dt.timedelta) -> bool:
    """Count one ``kind`` of event (``"d.request"``, ``"d.miss"``, ``"v.check"``) from the
    request's address; False, and nothing counted, when the address had ``limit`` of them
    in the last ``window``. Counted in the service's database as failed logins are
    (:meth:`Store.take_attempt`: one short write), so every process of ``saraban serve
    --workers N`` counts the same events; an address already at its limit is told so from a
    read, without taking the write lock."""
    key = attempt_key(kind, request.remote_addr or "?")
    if store().attempts(key, window) >= limit:
        return False
    return store().take_attempt([(key, limit)], window)[0] is None


# ---- the app's parts ------------------------------------------------------------------------


def archive() -> Archive:
    return cast(Archive, current_app.extensions["archive"])


def store() -> Store:
    return cast(Store, current_app.extensions["saraban_store"])


def search_service() -> SearchService:
    return cast(SearchService, current_app.extensions["saraban_search"])


def jobs() -> Jobs:
    return cast(Jobs, current_app.extensions["saraban_jobs"])


def previews() -> Previews:
    return cast(Previews, current_app.extensions["saraban_previews"])


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


def check_clearance_grant(clearance: str | None, *, current: str | None = None) -> None:
    """An administrator grants at most the clearance they hold themselves (to anyone, to
    themselves too): otherwise an administrator without clearance makes a cleared account
    and reads through it. ``current``: the account's clearance now, which may stay."""
    if clearance and clearance != current and not can_see(user().clearance, clearance):
        raise Forbidden(
            f"clearance: ให้ชั้นความลับ {clearance} สูงกว่าชั้นความลับของตนเองไม่ได้ / you cannot "
            f"grant the clearance {clearance}, above your own"
        )


def check_acts_within_clearance(target: UserInfo) -> None:
    """Setting an account's password is a way to act as it: refused for an account cleared
    for letters the administrator may not see."""
    if not can_see(user().clearance, target.clearance):
        raise Forbidden(
            f"ตั้งรหัสผ่านของ {target.name} ซึ่งมีชั้นความลับสูงกว่าของท่านไม่ได้ / you cannot set "
            f"the password of {target.name}, cleared above you"
        )


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
    cookie = session.get(SESSION_KEY)
    if isinstance(cookie, str):
        found = store().user_for_session(cookie)
        if found is not None:
            g.user = found
        else:  # ended (logout, a password change, a disabled account) or expired
            session.clear()


def start_session(user: UserInfo) -> None:
    """Sign the user in: a new session, server-side, nothing carried over from before (so a
    session id planted before the login is worth nothing after it)."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = store().start_session(
        user.id,
        lifetime=current_app.permanent_session_lifetime,
        address=request.remote_addr,
    )
    g.user = user


def end_session() -> None:
    """Sign out: the session ends on the server, so a copy of the cookie is worth nothing."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        store().end_session(token)
    session.clear()
    g.user = None


def session_token() -> str | None:
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


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


# ---- text at the edge -------------------------------------------------------------------------

# A JSON body the API takes: I-JSON (RFC 7493), so that what is stored is text and numbers
# every reader agrees on. Deeper nesting than any letter needs is refused before it can cost.
MAX_JSON_DEPTH = 64
SAFE_INTEGER = 2**53 - 1  # I-JSON: integers an IEEE double holds exactly
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "frame-src 'self' blob:; object-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'"
)


class _Refused(Exception):
    """What is wrong with a JSON text, named by whoever parsed it (``body``, ``data``)."""

    def __init__(self, th: str, en: str) -> None:
        super().__init__(en)
        self.th, self.en = th, en


def _json_path(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(ทั้งก้อน / the whole body)"


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            shown = repr(key[:40])
            raise _Refused(
                f"มีชื่อช่อง {shown} ซ้ำกันในออบเจกต์เดียว", f"the key {shown} appears twice in one object"
            )
        found[key] = value
    return found


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} ไม่ใช่ตัวเลขใน JSON", f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(
            f"ตัวเลข {text[:40]} ใหญ่เกินกว่าที่เก็บได้", f"the number {text[:40]} is out of range"
        )
    return value


def _safe_int(text: str) -> int:
    if len(text) > 17 or abs(int(text)) > SAFE_INTEGER:
        raise _Refused(
            f"จำนวนเต็ม {text[:40]} ใหญ่เกินไป (ไม่เกิน {SAFE_INTEGER:,})",
            f"the integer {text[:40]} is too large (at most {SAFE_INTEGER:,})",
        )
    return int(text)


def _check_json_value(value: Any) -> None:
    """Refuse what JSON can carry but text cannot: a lone surrogate (``"\\ud800"``) in any
    key or string, and nesting deeper than :data:`MAX_JSON_DEPTH`. Iterative: no recursion
    for a hostile depth to exhaust."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            raise _Refused(
                f"ซ้อนกันลึกเกิน {MAX_JSON_DEPTH} ชั้น", f"nested more than {MAX_JSON_DEPTH} levels deep"
            )
        if isinstance(item, str):
            if match := _SURROGATE_RE.search(item):
                raise _surrogate_error(_json_path(path), match)
        elif isinstance(item, dict):
            for key, inner in item.items():
                if match := _SURROGATE_RE.search(key):
                    raise _surrogate_error(_json_path(path), match)
                stack.append((inner, [*path, key]))
        elif isinstance(item, list):
            stack.extend((inner, [*path, index]) for index, inner in enumerate(item))


def _surrogate_error(where: str, match: re.Match[str]) -> _Refused:
    code_point = f"U+{ord(match.group()):04X}"
    return _Refused(
        f"ช่อง {where} มีอักขระ {code_point} ที่ไม่ใช่ข้อความ Unicode ที่ถูกต้อง (surrogate เดี่ยว)",
        f"{where} holds {code_point}, a lone surrogate, which is not valid text",
    )


API_MAX_PER_PAGE = 100


def api_paging() -> tuple[int, int]:
    """(page, per_page) of an API list from the query string, or 400 naming the bad one."""
    values = {}
    bounds = (("page", 1, 1, 1_000_000), ("per_page", 20, 1, API_MAX_PER_PAGE))
    for name, default, low, high in bounds:
        text = request.args.get(name, str(default))
        if not text.isdecimal() or not low <= int(text) <= high:
            raise BadRequest(
                f"{name}: ต้องเป็นจำนวนเต็ม {low}-{high:,} (ไม่ใช่ {text!r}) / must be a whole "
                f"number {low}-{high:,}, not {text!r}"
            )
        values[name] = int(text)
    return values["page"], values["per_page"]


def json_body() -> dict[str, Any]:
    """The JSON object sent, or 400 (``body: ...``) naming what is wrong, before anything is
    stored: not JSON, not UTF-8, a duplicate key, NaN or a number out of range, a lone
    surrogate, nesting deeper than :data:`MAX_JSON_DEPTH`, or not an object."""
    if not request.is_json:
        raise BadRequest(
            "body: ต้องส่งข้อมูลเป็น JSON (Content-Type: application/json) / "
            "send a JSON body with Content-Type: application/json"
        )
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"body: ไม่ใช่ข้อความ UTF-8 (ไบต์ที่ {exc.start + 1:,}) / "
            f"not UTF-8 text (byte {exc.start + 1:,})"
        ) from None
    return json_object(text, "body")


def json_object(text: str, field: str) -> dict[str, Any]:
    """``text`` read as a JSON object by :func:`json_body`'s rules (a form field that
    carries JSON, such as a reply's ``data``), or 400 ``field: ...``."""
    try:
        try:
            data = json.loads(
                text,
                object_pairs_hook=_no_duplicate_keys,
                parse_constant=_refuse_constant,
                parse_float=_finite_float,
                parse_int=_safe_int,
            )
        except RecursionError:
            raise _Refused(
                f"ซ้อนกันลึกเกิน {MAX_JSON_DEPTH} ชั้น",
                f"nested more than {MAX_JSON_DEPTH} levels deep",
            ) from None
        except json.JSONDecodeError as exc:
            raise _Refused(
                f"ข้อมูล JSON ไม่ถูกต้อง (บรรทัด {exc.lineno} ตำแหน่ง {exc.colno})",
                f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})",
            ) from None
        except ValueError:  # an integer literal longer than Python converts
            raise _Refused("มีตัวเลขยาวเกินไป", "a number is too long") from None
        if not isinstance(data, dict):
            raise _Refused("ต้องเป็นออบเจกต์ JSON", "must be a JSON object")
        _check_json_value(data)
    except _Refused as refused:
        raise BadRequest(f"{field}: {refused.th} / {refused.en}") from None
    return data


def check_text_input() -> None:
    """Refuse a query string or form field that holds a lone surrogate, for every route:
    such text cannot be stored, shown or sent back, so it must never be saved."""
    for source, values in (("query", request.args), ("form", request.form)):
        for key, value in values.items(multi=True):
            for text in (key, value):
                if isinstance(text, str) and (match := _SURROGATE_RE.search(text)):
                    code_point = f"U+{ord(match.group()):04X}"
                    raise BadRequest(
                        f"{key}: มีอักขระ {code_point} ที่ไม่ใช่ข้อความ Unicode ที่ถูกต้อง กรุณาลบแล้ว"
                        f"พิมพ์ใหม่ / the {source} field holds {code_point}, a lone surrogate, "
                        "which is not valid text"
                    )


class _TextSafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but a lone surrogate in a stored value is sent as U+FFFD instead of
    failing the whole answer (a 500 for every list that holds it)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return scrub_surrogates(super().dumps(obj, **kwargs))


def _safe_output(value: Any) -> Any:
    if isinstance(value, Markup):
        return Markup(scrub_surrogates(str(value)))
    if isinstance(value, str):
        return scrub_surrogates(value)
    return value


def install_text_safety(app: Flask) -> None:
    """Pages and JSON answers never fail on text already in the database."""
    provider = _TextSafeJSONProvider(app)
    provider.ensure_ascii = False
    provider.sort_keys = False
    app.json = provider
    app.jinja_env.finalize = _safe_output


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if g.get("user") is not None and not request.path.startswith(("/static/", "/fonts/")):
        headers.setdefault("Cache-Control", "no-store")
    return response


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


_UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def attachment(content: bytes, mimetype: str, name: str, fallback: str) -> Response:
    """A download named as a clerk reads it (``name``, Thai, BE dates), with a plain-ASCII
    ``fallback`` name for old clients (RFC 6266 ``filename*``). Characters no disk takes
    become ``-``."""
    from urllib.parse import quote

    safe = _UNSAFE_IN_FILE_NAMES.sub("-", name).strip(" .-") or fallback
    # Werkzeug adds "; charset=utf-8" to a text type itself: given one, it wrote it twice.
    response = Response(content, mimetype=mimetype.split(";")[0])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"
    )
    return response


_TEXT_PREVIEWS = 5


def text_previews(files: list[Any]) -> dict[int, str]:
    """The opening words of the plain-text files among a letter's files (the e-mail that
    brought it), by their number from 1, for the page to show without a download: a few
    files, each read only as far as the preview goes."""
    from saraban.usecases.intake import MAIL_MESSAGE_CHARS  # an e-mail's words, whole

    store = archive().files
    found: dict[int, str] = {}
    for number, f in enumerate(files, start=1):
        if f.media_type.startswith("text/plain") and len(found) < _TEXT_PREVIEWS:
            try:
                with store.path(f.sha256).open("rb") as opened:
                    head = opened.read(MAIL_MESSAGE_CHARS * 4)  # UTF-8: at most 4 bytes a character
            except OSError:
                continue  # a file gone from the store: its link says so, verify names it
            found[number] = head.decode("utf-8", "replace")[:MAIL_MESSAGE_CHARS]
    return found


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


def public_json_errors(
    largest_mb: int, on_error: Callable[[SarabanError], None] | None = None
) -> Callable[[F], F]:
    """For the public pages' JSON twins (no login): errors in the one error shape, whatever
    the Accept header, a body over ``largest_mb`` or a broken multipart form included.
    ``on_error`` sees each SarabanError first (and may raise another, e.g. to slow down)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except SarabanError as error:
                try:
                    if on_error is not None:
                        on_error(error)
                except SarabanError as instead:  # e.g. too many misses: a 429, as JSON too
                    error = instead
                return json_ok(error_body(error), error.status)
            except HTTPException as error:
                status = error.code or 400
                message = (
                    f"ไฟล์ใหญ่เกิน {largest_mb} MB / the upload is larger than {largest_mb} MB"
                    if status == 413
                    else f"คำขอไม่ถูกต้อง / bad request: {error.description}"
                )
                return json_ok(error_body(SarabanError(message, status=status)), status)

        return cast(F, wrapped)

    return decorate
