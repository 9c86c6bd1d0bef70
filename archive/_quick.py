"""The archive read without SQLAlchemy, for a one-shot command that only reads
(``saraban tracking``): importing SQLAlchemy alone costs a command a quarter of a second,
and its ORM as much again, where the read itself takes milliseconds.

:func:`connect` opens the database with its own driver (``sqlite3`` read-only, or psycopg
for PostgreSQL) only when the schema is the one these queries were written for (the
archive's newest migration, :func:`script_head`, is the one recorded in the database);
otherwise, or when anything is amiss (no database yet, a URL psycopg does not read, a
server that does not answer), it gives None and the caller opens the archive as usual
(:func:`saraban.archive.open_archive`: it creates, upgrades and repairs, and says what is
wrong). Nothing here writes.

What is read this way is tested against the ORM's answer on both databases
(``tests/test_tracking_quick.py``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

SQLITE_FILENAME = "saraban.sqlite3"
BUSY_TIMEOUT_SECONDS = 120
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"

_REVISION_LINE = re.compile(
    r"^(down_revision|revision)\b[^=\n]*=\s*(None|\"[^\"\n]+\"|'[^'\n]+')\s*$", re.MULTILINE
)


def script_head(migrations: Path) -> str | None:
    """The newest revision of a straight line of migration scripts, from the scripts'
    ``revision = "..."`` and ``down_revision = ...`` lines (read, not imported). None when
    the line is not that simple (a merge, a branch, a line not understood): Alembic decides.
    """
    revisions: dict[str, str | None] = {}
    for script in (migrations / "versions").glob("*.py"):
        found = dict(
            (name, None if value == "None" else value[1:-1])
            for name, value in _REVISION_LINE.findall(script.read_text("utf-8"))
        )
        revision = found.get("revision")
        if revision is None or "down_revision" not in found or revision in revisions:
            return None
        revisions[revision] = found["down_revision"]
    heads = set(revisions) - set(revisions.values())
    roots = [r for r, down in revisions.items() if down is None]
    if len(heads) != 1 or len(roots) != 1:
        return None
    return heads.pop()


class Reader:
    """One read transaction on the archive's database, through its own driver: rows are
    tuples, parameters are written ``?`` whatever the database (turned into ``%s`` for
    psycopg)."""

    def __init__(self, connection: Any, *, postgres: bool) -> None:
        self._connection = connection
        self.postgres = postgres

    def rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            query = query.replace("%", "%%").replace("?", "%s")
        return list(self._connection.execute(query, tuple(params)).fetchall())


def _postgres_conninfo(url: str) -> str | None:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (the same but for the driver's name in
    the scheme); None for one that is not a plain PostgreSQL URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        return None
    return f"postgresql://{rest}"


@contextmanager
def connect(home: Path, database_url: str | None = None) -> Iterator[Reader | None]:
    """A :class:`Reader` in one read transaction, or None when the quick read cannot be
    trusted to answer as the archive would (see the module's help): the caller then opens
    the archive."""
    head = script_head(MIGRATIONS)
    if head is None:
        yield None
        return
    if database_url and not database_url.startswith("sqlite"):
        with _postgres(database_url, head) as reader:
            yield reader
        return
    if database_url:
        path = database_url.removeprefix("sqlite:///")
        if path == database_url or not path or path == ":memory:":
            yield None
            return
        file = Path(path)
    else:
        file = Path(home).expanduser() / SQLITE_FILENAME
    with _sqlite(file, head) as reader:
        yield reader


@contextmanager
def _sqlite(file: Path, head: str) -> Iterator[Reader | None]:
    if not file.is_file():
        yield None
        return
    try:
        connection = sqlite3.connect(
            f"{file.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
        )
    except (sqlite3.Error, OSError):
        yield None
        return
    with closing(connection):
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            connection.execute("BEGIN")  # one snapshot for every query (WAL: beside writers)
            current = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        except sqlite3.Error:
            current = []
        if current != [(head,)]:
            yield None
            return
        yield Reader(connection, postgres=False)


@contextmanager
def _postgres(url: str, head: str) -> Iterator[Reader | None]:
    conninfo = _postgres_conninfo(url)
    if conninfo is None:
        yield None
        return
    import psycopg

    try:
        connection = psycopg.connect(conninfo, connect_timeout=10)
    except (psycopg.Error, ValueError):
        yield None
        return
    with connection:
        try:
            connection.read_only = True
            current = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        except psycopg.Error:
            current = []
        if current != [(head,)]:
            yield None
            return
        yield Reader(connection, postgres=True)
        connection.rollback()  # a read: nothing to commit
