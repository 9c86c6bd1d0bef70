"""Every setting saraban reads, in one table (name, default, help), and the one
:class:`Settings` object built from it.

A setting comes from, in order: its documented default, the instance folder's ``config.py``
(``SARABAN_HOME/config.py``, plain Python assignments such as
``SARABAN_GARUDA_IMAGE = "/srv/garuda.png"``), then the environment (``SARABAN_*``). The web
service and every command build one :class:`Settings` at start and pass it down; nothing
below them reads the environment. README.md lists each setting (a test checks that it does).
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from saraban.errors import SarabanError

CONFIG_FILE = "config.py"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SARABAN_HOME",
        "instance",
        "The instance folder: database, stored files and search index all live inside it.",
    ),
    Setting(
        "SARABAN_DATABASE_URL",
        "",
        "Database of the archive. Empty: SQLite in the instance folder (saraban.sqlite3). "
        "A PostgreSQL URL such as postgresql://saraban@localhost/saraban selects PostgreSQL "
        "(driver: psycopg 3).",
    ),
    Setting(
        "SARABAN_GARUDA_IMAGE",
        "",
        "Path to the Garuda emblem image (PNG or JPEG) printed on letters. Empty: a clearly "
        "marked placeholder is printed, since no freely licensed emblem ships.",
    ),
    Setting(
        "SARABAN_LETTER_DIGITS",
        "thai",
        "The one kind of digits a printed letter uses (PDF and DOCX): thai (๐-๙) or arabic "
        "(0-9). Every part is converted, typed or generated (number, dates, items, page "
        "numbers), but e-mail addresses, URLs and Latin words such as COVID-19; the lint "
        "names each field whose typed text mixes the two.",
    ),
    Setting(
        "SARABAN_SECRET_KEY",
        "",
        "Key that signs the web service's session cookies. Empty: a random key is made once "
        "and kept in the instance folder (secret_key, mode 0600).",
    ),
    Setting(
        "SARABAN_SECURE_COOKIES",
        "0",
        "1: session cookies are sent over HTTPS only (set it when a proxy serves HTTPS).",
    ),
    Setting(
        "SARABAN_MAX_UPLOAD_MB",
        "200",
        "Largest request the web service accepts, in MB (an import of many files at once); "
        "each imported file is also limited to 50 MB.",
    ),
    Setting(
        "SARABAN_SESSION_HOURS",
        "12",
        "How long a web login lasts, in hours.",
    ),
    Setting(
        "SARABAN_THREADS",
        "8",
        "Threads of each `saraban serve` process (the requests one process answers at once).",
    ),
    Setting(
        "SARABAN_WORKERS",
        "1",
        "Processes of `saraban serve` (`--workers`): 1 runs waitress; more run gunicorn, one "
        "process each with SARABAN_THREADS threads, so issuing and rendering use every core.",
    ),
    Setting(
        "SARABAN_PREVIEW_SECONDS",
        "10",
        "Longest a draft's preview may take to render, in seconds; a slower one is stopped "
        "and the page says so. Previews render in a process of their own, never in the "
        "threads that answer other requests.",
    ),
    Setting(
        "SARABAN_SEARCH_BACKEND",
        "tantivy",
        "Search engine: tantivy (embedded, files in SARABAN_HOME/index/tantivy), whoosh (pure "
        "Python, slower) or postgres (full-text tables in the archive's PostgreSQL database).",
    ),
    Setting(
        "SARABAN_BASE_URL",
        "http://localhost:8000",
        "Public address of this service, printed in the QR code of every signed letter "
        "(its verification page is BASE_URL/v/TOKEN): set it to the address recipients "
        "reach, such as https://saraban.example.go.th.",
    ),
    Setting(
        "SARABAN_SMTP_HOST",
        "",
        "SMTP server that sends the circulars' e-mail (each recipient's private link). "
        "Empty: nothing is sent; messages wait in the queue (saraban mail list) until a host "
        "is set. `saraban serve` sends the queue in the background; `saraban mail send` by "
        "hand.",
    ),
    Setting("SARABAN_SMTP_PORT", "587", "Port of the SMTP server (587 submission, 465 SSL)."),
    Setting(
        "SARABAN_SMTP_TLS",
        "starttls",
        "How mail is protected on the way to the SMTP server: starttls, ssl (port 465) or none "
        "(only for a server on the same machine).",
    ),
    Setting("SARABAN_SMTP_USER", "", "Login name at the SMTP server; empty: no login."),
    Setting("SARABAN_SMTP_PASSWORD", "", "Password of SARABAN_SMTP_USER."),
    Setting(
        "SARABAN_MAIL_FROM",
        "saraban@localhost",
        "The From address of the circulars' e-mail, such as saraban@nongkhai.go.th.",
    ),
    Setting(
        "SARABAN_LINK_DAYS",
        "120",
        "How many days a recipient's private link (BASE_URL/d/TOKEN) opens the letter sent "
        "to them; a reminder gives a new link for as long again.",
    ),
    Setting(
        "SARABAN_TSA_URL",
        "",
        "Address of an RFC 3161 timestamp authority. Set: every signed letter carries its "
        "timestamp (PAdES B-T), and the authority's certificate is kept as trusted. Empty: "
        "signatures are PAdES B-B, timed by this server's clock.",
    ),
    Setting(
        "SARABAN_TOKENIZER",
        "nlpo3",
        "Thai segmentation engine of the search index: nlpo3 (Rust, fast) or newmm "
        "(PyThaiNLP, pure Python). Changing it rebuilds the index from the archive.",
    ),
    Setting(
        "SARABAN_INBOX_WATCH",
        "30",
        "Seconds between two looks of `saraban serve` at the watched folder "
        "SARABAN_HOME/inbox/ (scans, photos, PDFs and .eml files dropped there are taken in "
        "as received letters, read in worker processes). 0: not watched (use `saraban "
        "consume` instead).",
    ),
    Setting(
        "SARABAN_INBOX_REGISTER",
        "",
        "The incoming register (a unit prefix or register name) that numbers letters taken "
        "in from the watched folder. Empty: the only register, if there is just one.",
    ),
    Setting(
        "SARABAN_IMAP_HOST",
        "",
        "IMAP server of a mailbox kept for incoming letters. Set: each look at the watched "
        "folder (and `saraban consume --imap`) first copies the mailbox's unread e-mails into "
        "SARABAN_HOME/inbox/ as .eml files, then marks them read; each is taken in as a "
        "dropped .eml is (every attachment a received letter). Empty: no mailbox is read.",
    ),
    Setting("SARABAN_IMAP_PORT", "993", "Port of the IMAP server (993 SSL, 143 STARTTLS)."),
    Setting(
        "SARABAN_IMAP_TLS",
        "ssl",
        "How the mailbox is reached: ssl (port 993), starttls (port 143) or none (only for a "
        "server on the same machine). The server's certificate is checked against the "
        "system's trusted ones (or the file SSL_CERT_FILE names).",
    ),
    Setting("SARABAN_IMAP_USER", "", "Login name at the IMAP server."),
    Setting("SARABAN_IMAP_PASSWORD", "", "Password of SARABAN_IMAP_USER."),
    Setting(
        "SARABAN_IMAP_FOLDER",
        "INBOX",
        "The mailbox folder whose unread e-mails are taken in (Thai names work).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


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


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _digit_style(value: Any) -> str:
    style = _text(value).lower() or "thai"
    if style not in ("thai", "arabic"):
        raise ConfigError(
            f"SARABAN_LETTER_DIGITS: ต้องเป็น thai หรือ arabic / must be thai or arabic, not {style!r}"
        )
    return style


def _tls(name: str, value: Any, default: str) -> str:
    mode = _text(value).lower() or default
    if mode not in ("none", "starttls", "ssl"):
        raise ConfigError(
            f"{name}: ต้องเป็น starttls, ssl หรือ none / must be starttls, ssl or none, not {mode!r}"
        )
    return mode


def _one_line(name: str, value: Any) -> str:
    """A value sent to a server as a command's argument: no control characters, so none can
    end the command and start another."""
    text = _text(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConfigError(
            f"{name}: มีอักขระควบคุม (เช่น ขึ้นบรรทัดใหม่) / must not hold control characters "
            "such as a line break"
        )
    return text


def _mail_from(value: Any) -> str:
    address = _text(value) or "saraban@localhost"
    if "@" not in address or any(c in address for c in ' ,;<>\r\n\t"()'):
        raise ConfigError(
            f"SARABAN_MAIL_FROM: ต้องเป็นที่อยู่อีเมลเดียว / must be one e-mail address, not {address!r}"
        )
    return address


def _path(value: Any) -> Path | None:
    text = _text(value)
    return Path(text).expanduser() if text else None


@dataclass(frozen=True)
class Settings:
    """Every setting, typed and checked; one field per row of :data:`SETTINGS`."""

    home: Path
    database_url: str | None
    garuda_image: Path | None
    secret_key: str | None
    secure_cookies: bool
    max_upload_mb: int
    session_hours: int
    threads: int
    workers: int
    preview_seconds: int
    search_backend: str
    tokenizer: str
    base_url: str
    tsa_url: str | None
    letter_digits: str
    inbox_watch: int
    inbox_register: str | None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "saraban@localhost"
    link_days: int = 120
    imap_host: str | None = None
    imap_port: int = 993
    imap_tls: str = "ssl"
    imap_user: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """The settings given by name (``SARABAN_*``), the rest at their defaults; a value
        that cannot be used raises :class:`ConfigError` naming its variable."""
        raw = {s.name: values.get(s.name, s.default) for s in SETTINGS}
        secret = _text(raw["SARABAN_SECRET_KEY"])
        if secret and len(secret) < 16:
            raise ConfigError(
                "SARABAN_SECRET_KEY: สั้นเกินไป ต้องยาวอย่างน้อย ๑๖ ตัวอักษร / too short: use "
                "at least 16 characters"
            )
        return cls(
            home=(_path(raw["SARABAN_HOME"]) or Path("instance")).resolve(),
            database_url=_text(raw["SARABAN_DATABASE_URL"]) or None,
            garuda_image=_path(raw["SARABAN_GARUDA_IMAGE"]),
            secret_key=secret or None,
            secure_cookies=as_bool("SARABAN_SECURE_COOKIES", raw["SARABAN_SECURE_COOKIES"]),
            max_upload_mb=as_int(
                "SARABAN_MAX_UPLOAD_MB",
                raw["SARABAN_MAX_UPLOAD_MB"] or 200,
                minimum=1,
                maximum=10_000,
            ),
            session_hours=as_int(
                "SARABAN_SESSION_HOURS",
                raw["SARABAN_SESSION_HOURS"] or 12,
                minimum=1,
                maximum=24 * 90,
            ),
            threads=as_int("SARABAN_THREADS", raw["SARABAN_THREADS"] or 8, minimum=1, maximum=256),
            workers=as_int("SARABAN_WORKERS", raw["SARABAN_WORKERS"] or 1, minimum=1, maximum=64),
            preview_seconds=as_int(
                "SARABAN_PREVIEW_SECONDS",
                raw["SARABAN_PREVIEW_SECONDS"] or 10,
                minimum=1,
                maximum=600,
            ),
            search_backend=_text(raw["SARABAN_SEARCH_BACKEND"]) or "tantivy",
            tokenizer=_text(raw["SARABAN_TOKENIZER"]) or "nlpo3",
            base_url=_text(raw["SARABAN_BASE_URL"]) or _BY_NAME["SARABAN_BASE_URL"].default,
            tsa_url=_text(raw["SARABAN_TSA_URL"]) or None,
            letter_digits=_digit_style(raw["SARABAN_LETTER_DIGITS"]),
            inbox_watch=as_int(
                "SARABAN_INBOX_WATCH",
                _text(raw["SARABAN_INBOX_WATCH"]) or 0,
                minimum=0,
                maximum=86_400,
            ),
            inbox_register=_text(raw["SARABAN_INBOX_REGISTER"]) or None,
            smtp_host=_text(raw["SARABAN_SMTP_HOST"]) or None,
            smtp_port=as_int(
                "SARABAN_SMTP_PORT", raw["SARABAN_SMTP_PORT"] or 587, minimum=1, maximum=65535
            ),
            smtp_tls=_tls("SARABAN_SMTP_TLS", raw["SARABAN_SMTP_TLS"], "starttls"),
            smtp_user=_text(raw["SARABAN_SMTP_USER"]) or None,
            smtp_password=_text(raw["SARABAN_SMTP_PASSWORD"]) or None,
            mail_from=_mail_from(raw["SARABAN_MAIL_FROM"]),
            link_days=as_int(
                "SARABAN_LINK_DAYS", raw["SARABAN_LINK_DAYS"] or 120, minimum=1, maximum=3650
            ),
            imap_host=_one_line("SARABAN_IMAP_HOST", raw["SARABAN_IMAP_HOST"]) or None,
            imap_port=as_int(
                "SARABAN_IMAP_PORT", raw["SARABAN_IMAP_PORT"] or 993, minimum=1, maximum=65535
            ),
            imap_tls=_tls("SARABAN_IMAP_TLS", raw["SARABAN_IMAP_TLS"], "ssl"),
            imap_user=_one_line("SARABAN_IMAP_USER", raw["SARABAN_IMAP_USER"]) or None,
            imap_password=_one_line("SARABAN_IMAP_PASSWORD", raw["SARABAN_IMAP_PASSWORD"]) or None,
            imap_folder=_one_line("SARABAN_IMAP_FOLDER", raw["SARABAN_IMAP_FOLDER"]) or "INBOX",
        )

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, then the instance folder's ``config.py``, then the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        home = _path(environ.get("SARABAN_HOME")) or Path(_BY_NAME["SARABAN_HOME"].default)
        values.update(instance_config(home))
        values.update({name: environ[name] for name in _BY_NAME if name in environ})
        return cls.from_mapping(values)

    def as_mapping(self) -> dict[str, Any]:
        """Each setting under its variable's name, as typed values."""
        return {s.name: getattr(self, _FIELD[s.name]) for s in SETTINGS}


_FIELD = {f"SARABAN_{f.name.upper()}": f.name for f in fields(Settings)}
assert set(_FIELD) == set(_BY_NAME), "every setting has one field of Settings, and no other"


def instance_config(home: Path) -> dict[str, Any]:
    """The settings (``SARABAN_*``) assigned in ``home/config.py``; nothing if it is
    missing. The file is Python, run as Flask runs an instance config."""
    path = Path(home) / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        namespace = runpy.run_path(str(path))
    except Exception as exc:  # noqa: BLE001 - any fault of the file is a clear config error
        raise ConfigError(
            f"{path}: อ่านไฟล์ตั้งค่าไม่ได้ / cannot read the instance config: {exc}"
        ) from exc
    return {name: value for name, value in namespace.items() if name in _BY_NAME}
