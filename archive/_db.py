"""Engines for the two databases the archive runs on, and the schema migrations.

SQLite (the embedded default, ``<home>/saraban.sqlite3``) runs in WAL mode with foreign keys
on, a long busy timeout and ``synchronous=FULL`` (a register is a legal record: a committed
number must survive a power cut, not only a crash). Python's ``sqlite3`` module opens
transactions lazily and in DEFERRED mode, which lets two writers both read a counter and then
fail to upgrade their lock; so the driver's own transaction handling is switched off and every
transaction begins explicitly: ``BEGIN IMMEDIATE`` for the writer engine (it takes the write
lock first and waits for it under the busy timeout), plain ``BEGIN`` for readers (WAL lets them
run beside a writer).

PostgreSQL is chosen by a database URL (``postgresql://...``; the driver is psycopg 3).
Writers serialise on the counter row they update (``UPDATE ... RETURNING`` locks it until
commit) and on a transaction-scoped advisory lock for the audit chain.

Migrations are Alembic scripts shipped in ``archive/migrations`` and run in-process by
:meth:`Database.upgrade`, under a lock, so that several processes opening a new archive at
once do not race to create the same tables. Alembic itself (a second of imports) is loaded
only when a schema is not current: opening a current one reads the revision lines of the
scripts and the version table, so a command starts at once.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from saraban.archive._quick import BUSY_TIMEOUT_SECONDS as BUSY_TIMEOUT_SECONDS
from saraban.archive._quick import MIGRATIONS as _MIGRATIONS
from saraban.archive._quick import SQLITE_FILENAME as SQLITE_FILENAME
from saraban.archive._quick import script_head as script_head
from saraban.errors import BadRequest

if TYPE_CHECKING:
    from alembic.config import Config

# Advisory lock keys (PostgreSQL): any fixed 64-bit numbers, distinct from each other.
MIGRATION_LOCK = 0x5A2ABA01
AUDIT_LOCK = 0x5A2ABA02


def database_url(home: Path, database_url: str | None) -> str:
    """The URL to open: the one given, or the embedded SQLite file in the instance folder."""
    if not database_url:
        return f"sqlite:///{(home / SQLITE_FILENAME).resolve()}"
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        return database_url
    raise BadRequest(
        f"ฐานข้อมูลชนิด {url.drivername!r} ใช้ไม่ได้ (SARABAN_DATABASE_URL) / unsupported "
        f"database {url.drivername!r} in SARABAN_DATABASE_URL: use sqlite:///PATH or "
        "postgresql://USER@HOST/DB"
    )


def create_engines(url: str) -> tuple[Engine, Engine]:
    """(reader, writer) engines. On PostgreSQL both are one engine; on SQLite they differ
    only in how a transaction begins."""
    if not url.startswith("sqlite"):
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=2, max_overflow=4, json_serializer=json_text
        )
        return engine, engine
    return _sqlite_engine(url, immediate=False), _sqlite_engine(url, immediate=True)


def json_text(value: object) -> str:
    """A JSON column's text: Thai as itself, three bytes a character, where
    ``json.dumps``'s ``\\u0e01`` took six (a letter document was twice its size, and a
    rebuild of the index read it twice as slowly); escaped as before only when it holds a
    lone surrogate, which UTF-8 cannot hold. Rows written escaped read the same."""
    shown = json.dumps(value, ensure_ascii=False)
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return shown


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    # NullPool: a connection per transaction costs little for a file database, and a pooled
    # connection must never outlive a fork or keep a read snapshot open between requests.
    engine = create_engine(
        url,
        poolclass=NullPool,
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
        json_serializer=json_text,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def sqlite_lock_path(url: str) -> Path | None:
    """The file writers queue on (beside the database), or None for PostgreSQL/in-memory."""
    path = sqlite_path(url)
    return None if path is None else Path(f"{path}.writelock")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _alembic_config(migrations: Path = _MIGRATIONS) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def stored_revision(engine: Engine, version_table: str) -> str | None:
    """The revision in the version table, read with one plain query; None when there is no
    table or not exactly one row (Alembic then looks itself)."""
    if not re.fullmatch(r"[a-z_]+", version_table):
        raise ValueError(f"not a version table name: {version_table!r}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {version_table}")).all()
    except Exception:  # noqa: BLE001 - no table yet (or unreadable): Alembic decides
        return None
    return rows[0][0] if len(rows) == 1 else None


def current_revision(engine: Engine, version_table: str = "alembic_version") -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table})
        return context.get_current_revision()


class Database:
    """One database (SQLite or PostgreSQL) as the archive opens it: a reader and a writer
    engine, a transaction on either, and Alembic upgrades. The web service keeps its own
    tables in the same database through one of these."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.reader, self.writer = create_engines(url)

    def close(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.reader, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with Session(self.writer, expire_on_commit=False) as session, session.begin():
            yield session

    def upgrade(
        self,
        migrations: Path = _MIGRATIONS,
        *,
        version_table: str = "alembic_version",
        lock: int = MIGRATION_LOCK,
    ) -> None:
        """Bring the schema of one Alembic line (the archive's, or ``migrations`` with its
        own ``version_table`` and advisory ``lock`` key) to its newest revision; a no-op
        when it is there already.

        The whole upgrade runs in one transaction (DDL is transactional on both databases)
        that first takes the write lock (SQLite) or an advisory lock (PostgreSQL); a process
        that waited for it then finds the schema current and does nothing.
        """
        head = script_head(migrations)
        if head is not None and stored_revision(self.writer, version_table) == head:
            return
        from alembic import command
        from alembic.script import ScriptDirectory

        config = _alembic_config(migrations)
        head = ScriptDirectory.from_config(config).get_current_head()
        if current_revision(self.writer, version_table) == head:
            return
        with self.writer.connect() as connection:
            sqlite = not is_postgres(self.writer)
            # SQLite's way to rebuild a table others refer to (0008_harden): foreign keys off,
            # set outside any transaction (on the driver's connection: SQLAlchemy would begin
            # one first); a migration that rebuilds checks them itself (PRAGMA
            # foreign_key_check) before the transaction commits.
            driver = connection.connection.driver_connection if sqlite else None
            if driver is not None:
                driver.execute("PRAGMA foreign_keys = OFF")
            try:
                with connection.begin():
                    if not sqlite:
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock}
                        )
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            finally:
                if driver is not None:
                    driver.execute("PRAGMA foreign_keys = ON")
