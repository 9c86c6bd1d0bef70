"""The web service's configuration: defaults from the settings table, the instance folder's
``config.py``, then the environment, each read with a typed helper that names the variable
when its value is wrong; and the start-up check that the instance folder can be written.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from saraban import settings
from saraban.errors import SarabanError

# Settings the web service reads (all documented in saraban/settings.py and README.md).
SERVICE_SETTINGS = (
    "SARABAN_HOME",
    "SARABAN_DATABASE_URL",
    "SARABAN_SECRET_KEY",
    "SARABAN_SECURE_COOKIES",
    "SARABAN_MAX_UPLOAD_MB",
    "SARABAN_SESSION_HOURS",
    "SARABAN_THREADS",
    "SARABAN_SEARCH_BACKEND",
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
SECRET_KEY_FILE = "secret_key"


class ConfigError(SarabanError):
    """A setting with a value that cannot be used; the message names the variable."""


def as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(
        f"{name}: ต้องเป็น 1 หรือ 0 (ไม่ใช่ {value!r}) / must be 1 or 0 (true/false), not {value!r}"
    )


def as_int(name: str, value: Any, *, minimum: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{name}: ต้องเป็นจำนวนเต็ม (ไม่ใช่ {value!r}) / must be a whole number, not {value!r}"
        ) from None
    if not minimum <= number <= maximum:
        raise ConfigError(
            f"{name}: ต้องอยู่ระหว่าง {minimum} ถึง {maximum} / must be between {minimum} and "
            f"{maximum}, not {number}"
        )
    return number


def defaults() -> dict[str, Any]:
    """Every service setting at its documented default."""
    known = {s.name: s.default for s in settings.SETTINGS}
    return {name: known.get(name, "") for name in SERVICE_SETTINGS}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in SERVICE_SETTINGS if name in environ}


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """Flask's own keys, derived from the SARABAN_* settings (typed, checked)."""
    home = Path(str(config.get("SARABAN_HOME") or "instance")).expanduser().resolve()
    megabytes = as_int(
        "SARABAN_MAX_UPLOAD_MB",
        config.get("SARABAN_MAX_UPLOAD_MB") or 200,
        minimum=1,
        maximum=10_000,
    )
    hours = as_int(
        "SARABAN_SESSION_HOURS",
        config.get("SARABAN_SESSION_HOURS") or 12,
        minimum=1,
        maximum=24 * 90,
    )
    return {
        "SARABAN_HOME": str(home),
        "SESSION_COOKIE_SECURE": as_bool(
            "SARABAN_SECURE_COOKIES", config.get("SARABAN_SECURE_COOKIES", "0")
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "saraban_session",
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=hours),
        "MAX_CONTENT_LENGTH": megabytes * 1024 * 1024,
        "SARABAN_THREADS": as_int(
            "SARABAN_THREADS", config.get("SARABAN_THREADS") or 8, minimum=1, maximum=256
        ),
    }


def check_instance(home: Path) -> None:
    """Refuse to start on an instance folder that cannot be written, naming the variable:
    a service that fails at its first upload is worse than one that does not start."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / f".write-check-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"SARABAN_HOME: เขียนไฟล์ในโฟลเดอร์ {home} ไม่ได้ ({exc.strerror}) ตั้งค่า "
            f"SARABAN_HOME เป็นโฟลเดอร์ที่เขียนได้ / the instance folder {home} cannot be "
            f"written ({exc.strerror}): set SARABAN_HOME to a writable folder"
        ) from exc


def secret_key(home: Path, configured: str | None) -> str:
    """SARABAN_SECRET_KEY, or a random key made once and kept in the instance folder (mode
    0600), so sessions survive a restart without anyone choosing a key."""
    if configured:
        if len(configured) < 16:
            raise ConfigError(
                "SARABAN_SECRET_KEY: สั้นเกินไป ต้องยาวอย่างน้อย ๑๖ ตัวอักษร / too short: use "
                "at least 16 characters"
            )
        return configured
    path = home / SECRET_KEY_FILE
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_text("ascii").strip()
    try:
        os.write(fd, key.encode("ascii"))
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return key
