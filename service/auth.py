"""Signing in and out, and one's own account (password, sessions, API tokens).

Sessions live on the server (:meth:`Store.start_session`): logging out ends the session, so
a copy of the cookie taken before is worth nothing after; changing one's password ends
every other session of the account.

Failed logins are throttled per client address as well as per name, so that nobody can lock
another person out by typing their name (OWASP's "device cookie" scheme):

- a browser that signed in as a name before carries a signed device cookie for it; its
  attempts at that name count against that device only (:data:`MAX_FAILURES` a window);
- any other attempt counts against the name *from that address* (:data:`MAX_FAILURES`),
  against the address whatever the name (:data:`MAX_ADDRESS_FAILURES`), and against the
  name from everywhere but known devices (:data:`MAX_NAME_FAILURES`, a guessing campaign
  from many addresses), so the owner still signs in from their own browser.

The failures are counted in the service's database (``login_failures``, keys kept as their
SHA-256), so every worker of ``saraban serve --workers N`` and every host over one
PostgreSQL counts the same tries; rows older than the window are deleted as new ones come,
and the table is capped (``MAX_LOGIN_FAILURES``).

Logins and logouts go to the archive's audit chain (``user.login``, ``user.logout``,
``user.login_failed``). Failed logins are listed one by one up to a bound each window (per
name and in all); the rest are counted, and one summary event a window says how many, for
which names and from which addresses (:class:`FailedLoginAudit`), so invented names cannot
add audit rows without end.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer

from saraban.archive import Archive
from saraban.errors import BadRequest, NotFound
from saraban.service import _passwords, _web
from saraban.service._store import Store, attempt_key

bp = Blueprint("auth", __name__)

WINDOW_SECONDS = 15 * 60
WINDOW = dt.timedelta(seconds=WINDOW_SECONDS)
MAX_FAILURES = 10  # one name from one address, or from one known device
MAX_ADDRESS_FAILURES = 30  # one address, any names
MAX_NAME_FAILURES = 100  # one name from addresses other than its known devices
AUDIT_LISTED = 30  # failed logins listed one by one each window, in all
AUDIT_LISTED_PER_NAME = 5
AUDIT_SUMMARY_TOP = 20  # names and addresses the summary names (with their counts)
DEVICE_COOKIE = "saraban_device"
DEVICE_DAYS = 365
MAX_NEXT_LENGTH = 2000
_WAIT = "กรุณารอ ๑๕ นาทีแล้วลองใหม่"


class LoginThrottle:
    """Failed logins per key (a name from an address, an address, a name, a device) within
    the window, kept in the service's database (:meth:`Store.take_attempt`), so every
    process of ``saraban serve --workers N`` counts the same tries; bounded there (expired
    rows deleted, at most ``MAX_LOGIN_FAILURES`` kept)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def attempt(
        self, limits: list[tuple[tuple[str, ...], int]]
    ) -> tuple[tuple[str, ...] | None, list[int]]:
        """(the first key that reached its limit, []), or (None, the attempt counted as a
        failure until :meth:`succeeded` takes it back): counted before the password is
        checked, so that guesses sent at once cannot all pass the count."""
        hashed = [(attempt_key(*key), limit) for key, limit in limits]
        position, rows = self._store.take_attempt(hashed, WINDOW)
        return (None if position is None else limits[position][0]), rows

    def succeeded(self, rows: list[int]) -> None:
        self._store.forget_attempt(rows)

    def clear(self, key: tuple[str, ...]) -> None:
        self._store.clear_failures(attempt_key(*key))


class FailedLoginAudit:
    """Failed logins in the audit chain, bounded: each window lists at most
    :data:`AUDIT_LISTED` (and :data:`AUDIT_LISTED_PER_NAME` a name) as ``user.login_failed``;
    past that, one ``user.login_failed_more`` says counting began, and when the window ends
    one ``user.login_failed_summary`` gives the count and the names and addresses most
    tried. Whether a name has an account plays no part (no timing tells it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset(time.time())

    def _reset(self, now: float) -> None:
        self._started = now
        self._listed = 0
        self._listed_per_name: Counter[str] = Counter()
        self._counted = 0
        self._names: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()

    def _summary(self, now: float) -> dict[str, Any] | None:
        if not self._counted:
            return None

        def when(t: float) -> str:
            return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")

        return {
            "from": when(self._started),
            "to": when(min(now, self._started + WINDOW_SECONDS)),
            "count": self._counted,
            "names": dict(self._names.most_common(AUDIT_SUMMARY_TOP)),
            "addresses": dict(self._addresses.most_common(AUDIT_SUMMARY_TOP)),
        }

    def flush(self, archive: Archive, *, force: bool = False) -> None:
        """Write the summary of a window that has ended (or of this one, ``force``)."""
        now = time.time()
        with self._lock:
            if not force and now - self._started < WINDOW_SECONDS:
                return
            summary = self._summary(now)
            self._reset(now)
        if summary:
            archive.audit("user.login_failed_summary", summary, actor="(ระบบ)")

    def failed(self, archive: Archive, name: str, address: str, *, refused: bool) -> None:
        self.flush(archive)
        with self._lock:
            listed = (
                not refused
                and self._listed < AUDIT_LISTED
                and self._listed_per_name[name] < AUDIT_LISTED_PER_NAME
            )
            if listed:
                self._listed += 1
                self._listed_per_name[name] += 1
            else:
                self._counted += 1
                first = self._counted == 1
                for tally, key in ((self._names, name), (self._addresses, address)):
                    if key in tally or len(tally) < 1000:
                        tally[key] += 1
        if listed:
            archive.audit("user.login_failed", {"ip": address}, actor=name or "(ไม่ระบุ)")
        elif first:
            archive.audit(
                "user.login_failed_more",
                {"note": "more failed logins this window are counted, not listed"},
                actor="(ระบบ)",
            )


def _throttle() -> LoginThrottle:
    return LoginThrottle(_web.store())


def login_audit(app: Any) -> FailedLoginAudit:
    return app.extensions.setdefault("saraban_login_audit", FailedLoginAudit())


@bp.app_context_processor
def _password_rules() -> dict[str, Any]:
    return {"min_password": _passwords.MIN_LENGTH}


# ---- where to go after signing in -------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in, or the dashboard.

    Read the way browsers read a URL (WHATWG): they drop tabs and newlines anywhere and
    C0 controls and spaces around it, and take ``\\`` for ``/``; so ``/\\t/evil.com`` and
    ``/\\\\evil.com`` are ``//evil.com``, another site. Any control character refuses the
    target; what is left must be a path (``/`` then not ``/``), with no scheme or host, and
    goes out percent-encoded so the header holds only ASCII."""
    fallback = url_for("letters.dashboard")
    if not target or len(target) > MAX_NEXT_LENGTH:
        return fallback
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return fallback
    target = target.strip(" ")
    if not target.startswith("/") or target[1:2] in ("/", "\\") or "\\" in target:
        return fallback
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    quoted = urllib.parse.quote(target, safe="/?&=%#:@!$'()*+,;~-._")
    return quoted if quoted.startswith("/") and not quoted.startswith("//") else fallback


# ---- known devices -----------------------------------------------------------------------------


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="saraban-device")


def _known_device(name: str) -> str | None:
    """The id of this browser's device cookie, if it signed in as ``name`` before."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 500:
        return None
    try:
        value = _device_serializer().loads(raw)
    except BadSignature:
        return None
    if isinstance(value, dict) and value.get("n") == name.casefold():
        device = value.get("d")
        return device if isinstance(device, str) else None
    return None


def _remember_device(response: Any, name: str) -> None:
    value = _device_serializer().dumps({"n": name.casefold(), "d": secrets.token_urlsafe(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_DAYS * 86400,
        path=url_for("auth.login"),
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Strict",
    )


def _limits(name: str, address: str) -> list[tuple[tuple[str, ...], int]]:
    folded = name.casefold()
    device = _known_device(name)
    if device is not None:
        return [(("device", device), MAX_FAILURES)]
    return [
        (("name-address", folded, address), MAX_FAILURES),
        (("address", address), MAX_ADDRESS_FAILURES),
        (("name", folded), MAX_NAME_FAILURES),
    ]


_BLOCKED_MESSAGES = {
    "device": (
        f"ลองเข้าสู่ระบบด้วยชื่อนี้ผิดหลายครั้งเกินไป {_WAIT}",
        "too many failed attempts for this name: wait 15 minutes",
    ),
    "name-address": (
        f"ลองเข้าสู่ระบบด้วยชื่อนี้จากเครื่องนี้ผิดหลายครั้งเกินไป {_WAIT} (ผู้ใช้ที่เข้าจากเครื่องของตนเองยังเข้าได้ตามปกติ)",
        "too many failed attempts for this name from this address: wait 15 minutes",
    ),
    "address": (
        f"มีการลองเข้าสู่ระบบผิดจากเครื่องนี้หลายครั้งเกินไป {_WAIT}",
        "too many failed logins from this address: wait 15 minutes",
    ),
    "name": (
        "ชื่อผู้ใช้นี้ถูกลองรหัสผ่านผิดจากหลายเครื่องเกินไป ตอนนี้เข้าได้เฉพาะจากเบราว์เซอร์ที่เคย"
        f"เข้าสู่ระบบด้วยชื่อนี้สำเร็จ หรือ{_WAIT}",
        "too many failed attempts for this name from many addresses: sign in from a browser "
        "you signed in with before, or wait 15 minutes",
    ),
}


# ---- the pages ---------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if _web.current_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        _web.csrf_token()
        return render_template("login.html", next=request.args.get("next", "")[:MAX_NEXT_LENGTH])
    name = (request.form.get("name") or "").strip()[:64]
    password = request.form.get("password") or ""
    address = (request.remote_addr or "-")[:64]
    archive = _web.archive()
    limits = _limits(name, address)
    blocked, attempt = _throttle().attempt(limits)
    if blocked is not None:
        login_audit(current_app).failed(archive, name, address, refused=True)
        th, en = _BLOCKED_MESSAGES[blocked[0]]
        if _web.wants_json():
            raise _web.TooManyAttempts(f"{th} / {en}")
        return (
            render_template(
                "login.html",
                next=request.form.get("next", "")[:MAX_NEXT_LENGTH],
                name=name,
                error=f"{th} / {en}",
            ),
            429,
        )
    user = _web.store().authenticate(name, password) if name else None
    if user is None:
        login_audit(current_app).failed(archive, name, address, refused=False)
        return (
            render_template(
                "login.html",
                next=request.form.get("next", "")[:MAX_NEXT_LENGTH],
                name=name,
                error="ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง / wrong user name or password",
            ),
            401,
        )
    _throttle().succeeded(attempt)
    _throttle().clear(limits[0][0])
    _web.start_session(user)
    _web.csrf_token()
    login_audit(current_app).flush(archive)
    archive.audit("user.login", {"ip": address}, actor=user.name)
    response = redirect(safe_next(request.form.get("next")))
    _remember_device(response, user.name)
    return response


@bp.post("/logout")
def logout() -> Any:
    user = _web.current_user()
    if user is not None:
        _web.archive().audit("user.logout", actor=user.name)
    _web.end_session()
    flash("ออกจากระบบแล้ว", "info")
    return redirect(url_for("auth.login"))


def _confirm_password(user: Any, field: str = "current_password") -> None:
    """The signed-in user's password typed again (a session left open must not be enough
    to change it or to make a token), throttled like a login."""
    limits: list[tuple[tuple[str, ...], int]] = [(("confirm", str(user.id)), MAX_FAILURES)]
    blocked, attempt = _throttle().attempt(limits)
    if blocked is not None:
        th, en = _BLOCKED_MESSAGES["device"]
        raise _web.TooManyAttempts(f"{th} / {en}")
    if _web.store().authenticate(user.name, request.form.get(field) or "") is None:
        raise BadRequest(f"{field}: รหัสผ่านเดิมไม่ถูกต้อง / wrong current password")
    _throttle().succeeded(attempt)


@bp.route("/account", methods=["GET", "POST"])
@_web.login_required
def account() -> Any:
    user = _web.user()
    error = None
    if request.method == "POST":
        new = request.form.get("new_password") or ""
        repeat = request.form.get("repeat_password") or ""
        try:
            _confirm_password(user)
            if new != repeat:
                raise BadRequest(
                    "repeat_password: รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน / the new passwords differ"
                )
            _web.store().set_password(user.id, new, keep_session=_web.session_token())
        except BadRequest as exc:
            error = exc.message
        else:
            _web.archive().audit("user.password", actor=user.name)
            flash(
                "เปลี่ยนรหัสผ่านแล้ว การเข้าสู่ระบบจากเครื่องอื่นทั้งหมดสิ้นสุดลง ต้องเข้าสู่ระบบใหม่",
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(user, error)


def _account_page(user: Any, error: str | None, **extra: Any) -> Any:
    store = _web.store()
    return render_template(
        "account.html",
        tokens=store.tokens(user.id),
        sessions=store.sessions(user.id),
        error=error,
        **extra,
    ), (400 if error else 200)


@bp.post("/account/sessions/end")
@_web.login_required
def end_other_sessions() -> Any:
    user = _web.user()
    ended = _web.store().end_sessions(user.id, keep=_web.session_token())
    _web.archive().audit("user.sessions_ended", {"ended": ended}, actor=user.name)
    flash(f"ออกจากระบบบนเครื่องอื่นแล้ว {ended} รายการ", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens")
@_web.login_required
def create_own_token() -> Any:
    """A new API token for oneself, after typing one's password again. Nobody makes a token
    for another account here (an administrator neither): a token acts as its user."""
    user = _web.user()
    try:
        _confirm_password(user, "password")
        token, info = _web.store().create_token(user.id, request.form.get("label") or None)
    except BadRequest as exc:
        return _account_page(user, exc.message)
    _web.archive().audit(
        "token.create",
        {"user": info.user, "token_id": info.id, "label": info.label},
        actor=user.name,
    )
    # Shown once, on this response only: the token is not kept anywhere but its hash.
    return render_template("token_created.html", token=token, info=info)


@bp.post("/account/tokens/<int:token_id>/revoke")
@_web.login_required
def revoke_own_token(token_id: int) -> Any:
    user = _web.user()
    if token_id not in {t.id for t in _web.store().tokens(user.id)}:
        raise NotFound(f"ไม่พบโทเค็นรายการ {token_id} / no token {token_id}")
    _web.store().revoke_token(token_id)
    _web.archive().audit("token.revoke", {"token_id": token_id}, actor=user.name)
    flash("เพิกถอนโทเค็นแล้ว", "success")
    return redirect(url_for("auth.account"))
