"""The archive as one object: :class:`Archive` is a thin facade over its rooms (issuing and
repair, incoming letters, queries, the organisation), and :func:`open_archive` opens one."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from saraban.archive import _db
from saraban.archive._core import Renderer, TemplatesRenderer
from saraban.archive._incoming import Incoming
from saraban.archive._issuing import Issuing
from saraban.archive._organisation import Organisation
from saraban.archive._private import keep_private, private_file, private_folder
from saraban.archive._queries import Queries
from saraban.archive._routing import Routings
from saraban.errors import SarabanError
from saraban.settings import Settings

_SQLITE_SIDES = ("-wal", "-shm", ".writelock")  # SQLite's journal files, and our write queue


class Archive(Organisation, Issuing, Incoming, Routings, Queries):
    """An open archive: a database (SQLite or PostgreSQL) and the stored files.

    A facade with no code of its own: each room keeps its own steps (``_organisation``:
    units and registers; ``_issuing``: numbers, issuing, cancelling and repair;
    ``_incoming``: imported letters and the incoming register; ``_routing``: เกษียน,
    orders and acting-for; ``_queries``: reading and verifying), over the shared
    ``_core`` (database, files, renderer, outbox).

    Create it with :func:`open_archive`. Safe to use from several processes at once, and
    from several threads: every call opens its own database session.
    """


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def init_app(app: Any, settings: Settings) -> Archive:
    """Open the archive of ``settings`` for a Flask app and keep it in
    ``app.extensions["archive"]``; takes the app as a plain object, so this package never
    imports Flask."""
    opened = open_settings_archive(settings)
    app.extensions["archive"] = opened
    return opened


def open_settings_archive(settings: Settings, *, repair: bool = True) -> Archive:
    """The archive the settings name: instance folder, database, and the emblem the
    renderer prints."""
    return open_archive(
        settings.home,
        settings.database_url,
        repair=repair,
        renderer=TemplatesRenderer(settings.garuda_image, settings.letter_digits),
    )


def open_archive(
    home: Path | str,
    database_url: str | None = None,
    *,
    repair: bool = True,
    renderer: Renderer | None = None,
) -> Archive:
    """Open (creating or upgrading) the archive in the instance folder ``home``.

    ``database_url`` selects PostgreSQL; without one the archive is
    ``<home>/saraban.sqlite3``. Unless ``repair`` is False, whatever a crashed process left
    half-done is finished first, without rendering anything (:meth:`Archive.repair`).

    The instance folder and everything in it is its owner's only (folders 0700, files
    0600), whatever the umask: this process's umask gains 077 (see ``_private``).
    """
    home = Path(home).expanduser()
    keep_private()
    try:
        private_folder(home)
        private_folder(home / "files")
    except OSError as exc:
        raise SarabanError(
            f"SARABAN_HOME: สร้างโฟลเดอร์ {home} ไม่ได้ / cannot create the instance folder "
            f"{home}: {exc.strerror}"
        ) from exc
    url = _db.database_url(home, database_url)
    sqlite_file = _db.sqlite_path(url)
    if sqlite_file is not None:
        private_file(sqlite_file)
        for side in (sqlite_file.with_name(sqlite_file.name + end) for end in _SQLITE_SIDES):
            if side.exists():
                private_file(side)
    archive = Archive(home, url, renderer=renderer)
    try:
        archive._database.upgrade()
        if repair:
            archive.repair()
    except BaseException:
        archive.close()
        raise
    return archive
