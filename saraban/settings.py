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
