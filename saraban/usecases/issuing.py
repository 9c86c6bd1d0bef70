"""Issuing: a draft, or a letter document, numbered, dated, rendered and stored by the
archive under its unit's register.

The hand-over from draft to letter is crash-safe. Issuing a draft claims it first (so a
double click cannot take two numbers) with a fresh idempotency key, which the archive
writes in the same transaction as the number. The claim is given back if the archive
refuses the letter, and the draft is linked to the letter once it is issued. If the process
dies in between, :func:`repair_drafts` looks the key up: the draft shows the letter it
became, or, when no letter was issued under it, becomes editable again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from saraban.archive import FOREIGN_LEASE, Archive, IssuedLetter, worker_alive, worker_token
from saraban.errors import Conflict, InvalidLetter, Problem
from saraban.letter import load_letter
from saraban.usecases._access import check_may_number
from saraban.usecases.drafting import Draft, DraftStore, date_problem


class IssuingStore(DraftStore, Protocol):
    """A draft store that can hold a draft while it is being issued."""

    def claim_draft(self, draft_id: int, *, worker: str) -> str | None: ...

    def release_draft(self, draft_id: int, key: str | None = None) -> None: ...

    def mark_issued(self, draft_id: int, letter_id: int, key: str | None = None) -> None: ...

    def claimed_drafts(self) -> list[Any]: ...


def issue_draft(
    archive: Archive, store: IssuingStore, draft: Draft, *, actor: str, clearance: str | None
) -> IssuedLetter:
    """Issue the draft under its unit: number, date, DOCX and PDF/A, audit. The archive
    checks the letter (with the unit's defaults filled in) before it takes a number; a
    letter marked above the user's ``clearance`` is refused (:func:`check_may_number`)."""
    check_may_number(clearance, draft.doc.get("secrecy"), "ออกเลข")
    if draft.letter_id:
        raise Conflict("ร่างนี้ออกเลขเป็นหนังสือแล้ว / this draft was issued already")
    if not draft.unit:
        raise InvalidLetter(
            [
                Problem(
                    "unit",
                    "required",
                    "choose the unit that issues the letter (its register gives the number)",
                    "เลือกส่วนราชการที่ออกหนังสือ (ทะเบียนของส่วนราชการจะออกเลขให้)",
                )
            ]
        )
    problem = date_problem(draft.doc, draft.date_text)
    if problem is not None:
        raise InvalidLetter([problem])
    key = store.claim_draft(draft.id, worker=worker_token())
    if key is None:
        raise Conflict("ร่างนี้กำลังออกเลขหรือออกเลขไปแล้ว / this draft is being issued or was issued")
    try:
        issued = archive.issue(draft.doc, draft.unit, actor=actor, idempotency_key=key)
    except BaseException:
        store.release_draft(draft.id, key)
        raise
    store.mark_issued(draft.id, issued.id, key)
    return issued


def repair_drafts(archive: Archive, store: IssuingStore) -> list[str]:
    """Settle the drafts a crash left claimed (letter id 0): each shows the letter issued
    under its key, or becomes editable again when none was; a draft whose letter is still
    pending, or whose claiming process still runs, is left for later. Returns a line for
    each draft settled. Renders nothing (it runs when the service opens)."""
    done = []
    now = dt.datetime.now(dt.UTC)
    for claim in store.claimed_drafts():
        name = f"draft {claim.draft_id}"
        if claim.key is None:  # claimed before claims had keys: nothing to look up
            if now - claim.since < FOREIGN_LEASE:
                continue
            store.release_draft(claim.draft_id)
            done.append(f"{name}: editable again (claimed without a key before an upgrade)")
            continue
        letter = archive.letter_by_key(claim.key)
        if letter is not None and letter.status in ("issued", "cancelled"):
            store.mark_issued(claim.draft_id, letter.id, claim.key)
            done.append(f"{name}: issued as letter {letter.id} ({letter.ref_no})")
        elif letter is not None and letter.status == "unused":
            store.release_draft(claim.draft_id, claim.key)
            done.append(f"{name}: editable again (letter {letter.id}: {letter.reason})")
        elif letter is None and not worker_alive(claim.worker, claim.since, now):
            store.release_draft(claim.draft_id, claim.key)
            done.append(f"{name}: editable again (no number was taken)")
    return done


def issue_file(
    archive: Archive,
    path: Path,
    register: str,
    *,
    actor: str,
    date: dt.date | None = None,
    reservation: int | None = None,
    **retention: Any,
) -> IssuedLetter:
    """Issue the letter document in ``path`` (JSON, checked as it is read);
    ``retention_years`` as :meth:`~saraban.archive.Archive.issue` takes it."""
    return archive.issue(
        load_letter(path),
        register,
        actor=actor,
        date=date,
        reservation=reservation,
        **retention,
    )
