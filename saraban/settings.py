"""Every setting saraban reads, in one table: name, default, help.

Settings come from the environment (``SARABAN_*``); the web service also accepts them in
its instance config. README.md lists each one (a test checks that it does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
        "Path to the Garuda emblem image (PNG, JPEG or SVG) printed on letters. Empty: a "
        "clearly marked placeholder is printed, since no freely licensed emblem ships.",
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
        "Worker threads of `saraban serve` (waitress).",
    ),
    Setting(
        "SARABAN_SEARCH_BACKEND",
        "tantivy",
        "Search engine: tantivy (embedded, files in SARABAN_HOME/index/tantivy), whoosh (pure "
        "Python, slower) or postgres (full-text tables in the archive's PostgreSQL database).",
    ),
    Setting(
        "SARABAN_TOKENIZER",
        "nlpo3",
        "Thai segmentation engine of the search index: nlpo3 (Rust, fast) or newmm "
        "(PyThaiNLP, pure Python). Changing it rebuilds the index from the archive.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The value of a setting from the environment, or its documented default."""
    return os.environ.get(name, _BY_NAME[name].default)


def get_path(name: str) -> Path | None:
    value = get(name)
    return Path(value).expanduser() if value else None


def home() -> Path:
    return get_path("SARABAN_HOME") or Path("instance")
