"""Keeping the index in step with the archive: the queue after each issue or import, and
full rebuilds.

The index is derived data. The archive queues a job in the same transaction that issues,
imports or cancels a letter; :func:`sync` drains the queue (never inside an issue, so an
issue never waits for the index). :func:`reindex` rebuilds from the archive: every letter
is added again (replacing its old entry) and entries of letters no longer shown are
removed, so searches keep working while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer._engine import Preparer
from indexer._model import IndexDoc, SearchIndex

logger = logging.getLogger("saraban.indexer")

# What a clerk calls a letter: issued, cancelled, or kept from outside. Reserved, pending
# and unused numbers are not letters and are never indexed.
INDEXED_STATUSES = ("issued", "cancelled", "stored")
_REBUILD_BATCH = 1000


def _direction(status: str, received: bool) -> str:
    if status in ("issued", "cancelled"):
        return "sent"
    return "received" if received else "imported"


def load_docs(archive: Any, ids: Iterable[int]) -> tuple[list[IndexDoc], list[int]]:
    """(letters to index, ids to remove from the index) for the given archive ids.

    Reads the rows in one query per batch (the archive's tables through its engine): a
    rebuild of 100,000 letters must not make 200,000 round trips.
    """
    from archive._models import Letter, Received, Unit

    ids = sorted(set(int(i) for i in ids))
    docs: list[IndexDoc] = []
    gone: list[int] = []
    with Session(archive.engine) as session:
        rows = {
            row.Letter.id: row
            for row in session.execute(
                select(Letter, Unit.prefix)
                .outerjoin(Unit, Unit.id == Letter.unit_id)
                .where(Letter.id.in_(ids))
            )
        }
        received = set(
            session.scalars(select(Received.letter_id).where(Received.letter_id.in_(ids)))
        )
    for letter_id in ids:
        row = rows.get(letter_id)
        if row is None or row.Letter.status not in INDEXED_STATUSES:
            gone.append(letter_id)
            continue
        letter = row.Letter
        meta: dict[str, Any] = {
            "status": letter.status,
            "direction": _direction(letter.status, letter_id in received),
        }
        for name in ("ref_no", "date", "secrecy", "subject"):
            value = getattr(letter, name)
            if value:
                meta[name] = value
        if row.prefix:
            meta["unit"] = row.prefix
        docs.append(IndexDoc.from_letter(letter_id, dict(letter.doc or {}), **meta))
    return docs, gone


def sync(archive: Any, index: SearchIndex, *, batch: int = 500) -> int:
    """Drain the archive's index queue into the index; returns how many letters were
    indexed or removed. An index that needs a rebuild (new, or of another schema or
    tokenizer) is rebuilt from the archive first."""
    if getattr(index, "needs_rebuild", False):
        return reindex(archive, index)
    done = 0
    while True:
        jobs = archive.index_jobs(batch)
        if not jobs:
            return done
        docs, gone = load_docs(archive, {letter_id for _job, letter_id, _reason in jobs})
        if gone:
            index.delete(gone)
        if docs:
            index.add(docs)
        archive.index_done([job for job, _letter, _reason in jobs])
        done += len(docs) + len(gone)


def reindex(
    archive: Any,
    index: SearchIndex,
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> int:
    """Rebuild the index from the archive; ``progress(done, total)`` after each batch.
    Returns the number of letters indexed. ``workers``: processes that analyze the text
    (default: one per core for 2,000 letters or more; 0 or 1: in this process)."""
    from archive._models import IndexJob, Letter

    with Session(archive.engine) as session:
        ids = list(
            session.scalars(
                select(Letter.id).where(Letter.status.in_(INDEXED_STATUSES)).order_by(Letter.id)
            )
        )
        queued = list(session.scalars(select(IndexJob.id)))
    total = len(ids)
    if progress:
        progress(0, total)
    done = 0
    with Preparer(index.engine, workers=workers, expected=total) as preparer:
        # Pipelined: the next batch is analyzed while the index writes this one.
        pending = None
        for start in range(0, total + _REBUILD_BATCH, _REBUILD_BATCH):
            batch = None
            if start < total:
                docs, gone = load_docs(archive, ids[start : start + _REBUILD_BATCH])
                if gone:
                    index.delete(gone)
                batch = (preparer.submit(docs), min(start + _REBUILD_BATCH, total))
            if pending is not None:
                prepared = pending[0]()
                index.add_prepared(prepared)  # type: ignore[attr-defined]
                done += len(prepared)
                if progress:
                    progress(pending[1], total)
            pending = batch
    stale = index.ids() - set(ids) if hasattr(index, "ids") else set()
    if stale:
        index.delete(stale)
    archive.index_done(queued)
    index.mark_built()
    logger.info("search index rebuilt: %d letters (%s)", done, getattr(index, "backend", "?"))
    return done
