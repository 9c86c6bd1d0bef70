"""The web service's configuration: Flask's keys from the one :class:`saraban.settings.Settings`
(defaults, the instance folder's ``config.py``, the environment), the start-up check that the
instance folder can be written, and the session key kept in it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from saraban.archive import keep_private, private_folder
from saraban.settings import ConfigError, Settings

SECRET_KEY_FILE = "secret_key"


def flask_config(settings: Settings) -> dict[str, Any]:
    """The app's configuration from the settings: each ``SARABAN_*`` under its name (typed),
    and Flask's own keys derived from them."""
    return {
        **settings.as_mapping(),
        "SARABAN_HOME": str(settings.home),
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "saraban_session",
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=settings.session_hours),
        "MAX_CONTENT_LENGTH": settings.max_upload_mb * 1024 * 1024,
    }


def check_instance(home: Path) -> None:
    """Refuse to start on an instance folder that cannot be written, naming the variable:
    a service that fails at its first upload is worse than one that does not start."""
    keep_private()
    try:
        private_folder(home)
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
