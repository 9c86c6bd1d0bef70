"""After a crash: what a killed process left half done between the archive and the
service's own records is finished, or given back, never done twice.

:func:`on_open` runs whenever the service (or a command) opens its store: it settles
drafts claimed for issuing and batch items stored but not marked, and renders nothing, so
one bad letter can never stop the service from starting. :func:`finish` also renders once
more the letters whose process died before their files were stored (``saraban repair``;
``saraban serve`` runs it in the background at start).
"""

from __future__ import annotations

from saraban.archive import Archive
from saraban.usecases import importing, issuing


def on_open(archive: Archive, store: issuing.IssuingStore) -> list[str]:
    """Settle the hand-overs a crash interrupted; a line for each."""
    return issuing.repair_drafts(archive, store) + importing.repair_batches(archive, archive.home)


def finish(archive: Archive, store: issuing.IssuingStore) -> list[str]:
    """Issue (or record unused) the letters left pending, then settle the hand-overs that
    waited on them; a line for each."""
    return archive.finish_pending() + on_open(archive, store)
