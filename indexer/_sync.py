"""Keeping the index in step with the archive: the queue after each issue or import, and
full rebuilds.

The index is derived data. The archive queues a job in the same transaction that issues,
imports or cancels a letter; :func:`sync` drains the queue (never inside an issue, so an
issue never waits for the index). :func:`reindex` rebuilds from the archive: every letter
is added again (replacing its old entry) and entries of letters no longer shown are
removed, so searches keep working while it runs.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from saraban.indexer._engine import Prepared, Preparer
from saraban.indexer._model import IndexDoc, SearchIndex

logger = logging.getLogger("saraban.indexer")

_REBUILD_BATCH = 1000
_BATCHES_AHEAD = 2  # batches analyzed while one is written


def _direction(status: str, received: bool) -> str:
    if status in ("issued", "cancelled"):
        return "sent"
    return "received" if received else "imported"


def index_doc(letter: Sequence[Any]) -> IndexDoc:
    """A letter of the archive as the index sees it: an :class:`archive.IndexableLetter`, or
    its values as a plain tuple (what a rebuild sends to its worker processes, so that they
    need not import the archive; they parse the letter's document here)."""
    letter_id, status, doc_json, ref_no, date, secrecy, subject, unit, received = letter
    meta: dict[str, Any] = {"status": status, "direction": _direction(status, received)}
    values = {"ref_no": ref_no, "date": date, "secrecy": secrecy, "subject": subject, "unit": unit}
    meta |= {name: value for name, value in values.items() if value}
    doc = json.loads(doc_json) if doc_json else None
    return IndexDoc.from_letter(letter_id, doc if isinstance(doc, dict) else {}, **meta)


def _read(archive: Any, ids: Iterable[int]) -> tuple[list[Any], list[int]]:
    """(the letters to index, ids to remove from the index) for the given archive ids, read
    in one query (:meth:`archive.Archive.indexable`)."""
    ids = sorted({int(i) for i in ids})
    letters = archive.indexable(ids)
    found = {letter.id for letter in letters}
    return letters, [letter_id for letter_id in ids if letter_id not in found]


def load_docs(archive: Any, ids: Iterable[int]) -> tuple[list[IndexDoc], list[int]]:
    """(letters to index, ids to remove from the index) for the given archive ids, read in
    one query."""
    letters, gone = _read(archive, ids)
    return [index_doc(letter) for letter in letters], gone


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
            index.engine,
            workers=workers,
            expected=total,
            render=getattr(index, "render", None),
            read=index_doc,
        ) as preparer,
        index.bulk() as add,
    ):
        # Pipelined: the workers analyze the next batches while the index writes this one.
        pending: deque[tuple[Callable[[], list[Prepared]], int]] = deque()
        for start in range(0, total, _REBUILD_BATCH):
            letters, gone = _read(archive, ids[start : start + _REBUILD_BATCH])
            gone_all += gone
            rows = [tuple(letter) for letter in letters]
            pending.append((preparer.submit(rows), min(start + _REBUILD_BATCH, total)))
            while len(pending) > _BATCHES_AHEAD or (pending and start + _REBUILD_BATCH >= total):
                prepared_batch, upto = pending.popleft()
                prepared = prepared_batch()
                add(prepared)
                done += len(prepared)
                if progress:
                    progress(upto, total)
    if gone_all:
        index.delete(gone_all)
    stale = index.ids() - set(ids) if hasattr(index, "ids") else set()
    if stale:
        index.delete(stale)
    archive.index_done(queued)
    index.mark_built()
    logger.info("search index rebuilt: %d letters (%s)", done, getattr(index, "backend", "?"))
    return done
