"""Issuing: a draft, or a letter document, numbered, dated, rendered and stored by the
archive under its unit's register.

Issuing a draft claims it first, so a double click cannot take two numbers; the claim is
given back if the archive refuses the letter, and the draft is linked to the letter it
became once the archive has issued it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from saraban.archive import Archive, IssuedLetter
from saraban.errors import Conflict, InvalidLetter, Problem
from saraban.letter import load_letter
from saraban.usecases.drafting import Draft, DraftStore, date_problem


class IssuingStore(DraftStore, Protocol):
    """A draft store that can hold a draft while it is being issued."""

    def claim_draft(self, draft_id: int) -> bool: ...

    def release_draft(self, draft_id: int) -> None: ...

    def mark_issued(self, draft_id: int, letter_id: int) -> None: ...


def issue_draft(archive: Archive, store: IssuingStore, draft: Draft, *, actor: str) -> IssuedLetter:
    """Issue the draft under its unit: number, date, DOCX and PDF/A, audit. The archive
    checks the letter (with the unit's defaults filled in) before it takes a number."""
    if draft.letter_id:
        raise Conflict(
            f"ร่างนี้ออกเลขแล้วเป็นหนังสือรายการ {draft.letter_id} / this draft was issued "
            f"already as letter {draft.letter_id}"
        )
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
    if not store.claim_draft(draft.id):
        raise Conflict("ร่างนี้กำลังออกเลขหรือออกเลขไปแล้ว / this draft is being issued or was issued")
    try:
        issued = archive.issue(draft.doc, draft.unit, actor=actor)
    except BaseException:
        store.release_draft(draft.id)
        raise
    store.mark_issued(draft.id, issued.id)
    return issued


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
