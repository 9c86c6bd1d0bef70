"""Thai search over the archive: find any letter by topic, reference number, person or date.

>>> from saraban.indexer import open_index, sync
>>> index = open_index("instance")                  # tantivy, in instance/index/tantivy
>>> sync(archive, index)                           # drain the archive's queue
>>> result = index.search("ศูนย์ผู้นำจิตอาสา", filters=SearchFilters(fiscal_year=2566))
>>> result.total, result.hits[0].snippet, result.facets["year"]

One analyzer (:func:`analyze`) serves documents and queries; backends are chosen by name
(``SARABAN_SEARCH_BACKEND``) and imported only when used. See ``docs/search.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from saraban.indexer._model import Hit, IndexDoc, SearchFilters, SearchIndex, SearchResult
from saraban.indexer._sync import reindex, sync
from saraban.indexer._thai import analyze
from saraban.settings import Settings

BACKENDS = ("tantivy", "whoosh", "postgres")
DEFAULT_BACKEND = "tantivy"


def open_index(
    home: Path | str,
    *,
    backend: str | None = None,
    database_url: str | None = None,
    engine: str | None = None,
) -> SearchIndex:
    """Open (creating) the search index of the instance folder ``home``.

    ``backend``: "tantivy" (default, files in ``<home>/index/tantivy``), "whoosh" (files in
    ``<home>/index/whoosh``) or "postgres" (tables in the archive's PostgreSQL database,
    ``database_url``). ``engine``: the Thai segmentation engine (the setting
    ``SARABAN_TOKENIZER``; default nlpo3). The caller passes the settings down
    (:class:`saraban.settings.Settings`); nothing here reads the environment. An index
    that is new or of another schema or engine comes back with ``needs_rebuild`` set;
    :func:`sync` then rebuilds it from the archive.
    """
    name = backend or DEFAULT_BACKEND
    home = Path(home).expanduser()
    if name == "tantivy":
        from saraban.indexer._tantivy import TantivyIndex

        return TantivyIndex(home, engine=engine)
    if name == "whoosh":
        from saraban.indexer._whoosh import WhooshIndex

        return WhooshIndex(home, engine=engine)
    if name == "postgres":
        from saraban.indexer._postgres import PostgresIndex

        if not database_url:
            raise ValueError(
                "SARABAN_SEARCH_BACKEND: the postgres backend needs the archive's PostgreSQL "
                "database (SARABAN_DATABASE_URL)"
            )
        return PostgresIndex(home, database_url, engine=engine)
    raise ValueError(
        f"SARABAN_SEARCH_BACKEND: unknown search backend {name!r}; "
        f"choose one of {', '.join(BACKENDS)}"
    )


def init_app(app: Any, settings: Settings) -> SearchIndex:
    """Open the index of ``settings`` for a Flask app (``app.extensions["index"]``); takes
    the app as a plain object so this package never imports Flask."""
    index = open_index(
        settings.home,
        backend=settings.search_backend,
        database_url=settings.database_url,
        engine=settings.tokenizer,
    )
    app.extensions["index"] = index
    return index


__all__ = [
    "BACKENDS",
    "Hit",
    "IndexDoc",
    "SearchFilters",
    "SearchIndex",
    "SearchResult",
    "analyze",
    "init_app",
    "open_index",
    "reindex",
    "sync",
]
