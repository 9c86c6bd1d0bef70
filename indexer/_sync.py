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

from saraban.indexer._engine import Preparer
from saraban.indexer._model import IndexDoc, SearchIndex

logger = logging.getLogger("saraban.indexer")

_REBUILD_BATCH = 1000


def _direction(status: str, received: bool) -> str:
    if status in ("issued", "cancelled"):
        return "sent"
    return "received" if received else "imported"


def load_docs(archive: Any, ids: Iterable[int]) -> tuple[list[IndexDoc], list[int]]:
    """(letters to index, ids to remove from the index) for the given archive ids, read in
    one query (:meth:`archive.Archive.indexable`)."""
    ids = sorted({int(i) for i in ids})
    docs: list[IndexDoc] = []
    for letter in archive.indexable(ids):
        meta: dict[str, Any] = {
            "status": letter.status,
            "direction": _direction(letter.status, letter.received),
        }
        for name in ("ref_no", "date", "secrecy", "subject", "unit"):
            value = getattr(letter, name)
            if value:
                meta[name] = value
        docs.append(IndexDoc.from_letter(letter.id, letter.doc, **meta))
    found = {doc.id for doc in docs}
    return docs, [letter_id for letter_id in ids if letter_id not in found]


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
    # The queue first: every job in it is then older than the list of letters, so the
    # rebuild covers it (a job queued in between stays for the next sync).
    queued = [job for job, _letter, _reason in archive.index_jobs(None)]
    ids = archive.indexable_ids()
    total = len(ids)
    if progress:
        progress(0, total)
    done = 0
    gone_all: list[int] = []
    with (
        Preparer(
            index.engine, workers=workers, expected=total, render=getattr(index, "render", None)
        ) as preparer,
        index.bulk() as add,
    ):
        # Pipelined: the next batch is analyzed while the index writes this one.
        pending = None
        for start in range(0, total + _REBUILD_BATCH, _REBUILD_BATCH):
            batch = None
            if start < total:
                docs, gone = load_docs(archive, ids[start : start + _REBUILD_BATCH])
                gone_all += gone
                batch = (preparer.submit(docs), min(start + _REBUILD_BATCH, total))
            if pending is not None:
                prepared = pending[0]()
                add(prepared)
                done += len(prepared)
                if progress:
                    progress(pending[1], total)
            pending = batch
    if gone_all:
        index.delete(gone_all)
    stale = index.ids() - set(ids) if hasattr(index, "ids") else set()
    if stale:
        index.delete(stale)
    archive.index_done(queued)
    index.mark_built()
    logger.info("search index rebuilt: %d letters (%s)", done, getattr(index, "backend", "?"))
    return done
