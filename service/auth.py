"""Signing in and out, and one's own account (password).

Logins and logouts go to the archive's audit chain (``user.login``, ``user.login_failed``,
``user.logout``). After ten failed attempts for one name within fifteen minutes, that name
is refused for the rest of the window (429), whatever the password.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from saraban.errors import BadRequest
from saraban.service import _web

bp = Blueprint("auth", __name__)

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    """Failed logins per name within the window, kept by each app (per process)."""

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, name: str) -> bool:
        now = time.monotonic()
        with self._lock:
            kept = [t for t in self._failures.get(name, []) if now - t < WINDOW_SECONDS]
            self._failures[name] = kept
            return len(kept) >= MAX_FAILURES

    def fail(self, name: str) -> None:
        with self._lock:
            self._failures.setdefault(name, []).append(time.monotonic())

    def clear(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)


def _throttle() -> LoginThrottle:
    return current_app.extensions.setdefault("saraban_login_throttle", LoginThrottle())


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//evil`` or ``https://...``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("letters.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if _web.current_user() is not None:
            return redirect(_safe_next(request.args.get("next")))
        _web.csrf_token()
        return render_template("login.html", next=request.args.get("next", ""))
    name = (request.form.get("name") or "").strip()[:64]
    password = request.form.get("password") or ""
    if _throttle().blocked(name):
        raise _web.TooManyAttempts(
            "ลองเข้าสู่ระบบผิดหลายครั้งเกินไป กรุณารอ ๑๕ นาทีแล้วลองใหม่ / too many failed "
            "attempts for this name: wait 15 minutes"
        )
    user = _web.store().authenticate(name, password) if name else None
    if user is None:
        _throttle().fail(name)
        _web.archive().audit(
            "user.login_failed", {"ip": request.remote_addr}, actor=name or "(ไม่ระบุ)"
        )
        return (
            render_template(
                "login.html",
                next=request.form.get("next", ""),
                name=name,
                error="ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง / wrong user name or password",
            ),
            401,
        )
    _throttle().clear(name)
    session.clear()  # a new session on login: nothing carried over from before
    session.permanent = True
    session["uid"] = user.id
    _web.csrf_token()
    _web.archive().audit("user.login", {"ip": request.remote_addr}, actor=user.name)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    user = _web.current_user()
    if user is not None:
        _web.archive().audit("user.logout", actor=user.name)
    session.clear()
    flash("ออกจากระบบแล้ว", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@_web.login_required
def account() -> Any:
    user = _web.user()
    error = None
    if request.method == "POST":
        current = request.form.get("current_password") or ""
        new = request.form.get("new_password") or ""
        repeat = request.form.get("repeat_password") or ""
        try:
            if _web.store().authenticate(user.name, current) is None:
                raise BadRequest("current_password: รหัสผ่านเดิมไม่ถูกต้อง / wrong current password")
            if new != repeat:
                raise BadRequest(
                    "repeat_password: รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน / the new passwords differ"
                )
            _web.store().set_password(user.id, new)
        except BadRequest as exc:
            error = exc.message
        else:
            _web.archive().audit("user.password", actor=user.name)
            flash("เปลี่ยนรหัสผ่านแล้ว", "success")
            return redirect(url_for("auth.account"))
    tokens = _web.store().tokens(user.id)
    return render_template("account.html", tokens=tokens, error=error), (400 if error else 200)
