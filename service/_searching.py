"""The search index as the web service uses it: opened once per app, kept in step with the
archive without ever holding up an issue.

The archive tells the service when a commit queued letters for the index (its outbox,
:meth:`archive.Archive.on_change`); :meth:`SearchService.poke` then has a short-lived
background thread drain the queue (``indexer.sync``). No page, route or command pokes it.
A search first makes sure the queue is empty (usually one cheap query), so a letter issued
a moment ago is found.
One lock keeps two syncs of this process from running at once; the indexer itself keeps
other processes safe.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from saraban.archive import Archive
from saraban.errors import SarabanError
from saraban.service._letter_links import known_public_ids
from saraban.usecases import searching

logger = logging.getLogger("saraban.service.search")
CHECK_SECONDS = 2.0


class SearchUnavailable(SarabanError):
    status = 503

    def __init__(self, why: str) -> None:
        super().__init__(f"ระบบค้นหายังไม่พร้อมใช้งาน / search is not available: {why}")


class SearchService:
    def __init__(
        self,
        archive: Archive,
        home: Path,
        *,
        backend: str | None = None,
        database_url: str | None = None,
        engine: str | None = None,
    ) -> None:
        self.archive = archive
        self.index: Any = None
        self.why_unavailable = ""
        self._sync_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._dirty = True  # something may wait in the queue: look before the next search
        self._checked_at = 0.0
        try:
            from saraban import indexer

            self._indexer = indexer
            self.index = indexer.open_index(
                home,
                backend=backend or None,
                database_url=database_url or None,
                engine=engine or None,
            )
        except (ImportError, AttributeError) as exc:
            self.why_unavailable = f"indexer: {exc}"
            logger.warning("search index not available: %s", exc)
        else:
            archive.on_change(self.poke)

    @property
    def available(self) -> bool:
        return self.index is not None

    def require(self) -> Any:
        if self.index is None:
            raise SearchUnavailable(self.why_unavailable)
        return self.index

    def close(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        close = getattr(self.index, "close", None)
        if callable(close):
            close()

    # ---- keeping in step --------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.index is None:
            return
        with self._sync_lock:
            self._indexer.sync(self.archive, self.index)

    def ensure_synced(self) -> None:
        """Drain the queue if anything waits in it (a search must find the newest letter).

        The queue is looked at when this process changed the archive since the last look,
        and otherwise at most every ``CHECK_SECONDS`` (for what other processes change): a
        search must not pay a database round trip to learn that nothing is waiting. An index
        that several processes share (PostgreSQL: two machines over one database) is looked
        at before every search, in the database the search reads anyway: a letter issued
        through the other machine a moment ago is found at once.
        """
        if self.index is None:
            return
        now = time.monotonic()
        shared = getattr(self.index, "shared", False)
        if not self._dirty and not shared and now - self._checked_at < CHECK_SECONDS:
            return
        self._dirty = False
        self._checked_at = now
        if getattr(self.index, "needs_rebuild", False) or self.archive.index_jobs(limit=1):
            self.sync_now()

    def poke(self) -> None:
        """Sync in the background soon; never blocks the caller."""
        if self.index is None:
            return
        self._dirty = True
        with self._state_lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._again = False
            self._thread = threading.Thread(target=self._drain, daemon=True, name="saraban-sync")
            self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                self.sync_now()
            except Exception:  # noqa: BLE001 - logged; the next poke or search tries again
                logger.exception("syncing the search index failed")
            with self._state_lock:
                if not self._again:
                    return
                self._again = False

    # ---- searching --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        clearance: str | None,
        filters: dict[str, Any] | None = None,
        sort: str = "relevance",
        limit: int = 10,
        offset: int = 0,
    ) -> Any:
        index = self.require()
        self.ensure_synced()
        result = searching.search(
            index,
            query,
            clearance=clearance,
            filters=filters,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        return self._known_only(result)

    def _known_only(self, result: Any) -> Any:
        """The hits without those the archive does not hold (an index kept from another
        archive, or restored beside an older backup): a page could not link them. Said in
        the log, with the cure."""
        ids = [hit.id for hit in result.hits]
        known = known_public_ids(ids)  # the page's links need them too: one query for both
        if len(known) == len(set(ids)):
            return result
        logger.warning(
            "the search index holds letters the archive does not (ids %s): run "
            "`saraban reindex` to rebuild it from the archive",
            sorted(set(ids) - set(known))[:10],
        )
        hits = [hit for hit in result.hits if hit.id in known]
        return dataclasses.replace(
            result, hits=hits, total=max(len(hits), result.total - (len(ids) - len(hits)))
        )

    def reindex(self, progress: Callable[..., Any] | None = None) -> Any:
        index = self.require()
        with self._sync_lock:
            return self._indexer.reindex(self.archive, index, progress=progress)
