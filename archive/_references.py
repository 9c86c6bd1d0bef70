"""Linking อ้างถึง lines to the letters they name, so a clerk can walk a thread both ways.

A reference is read for its number (``saraban.thai.find_ref_nos``, any spacing, Thai or Arabic
digits, with or without ว) and its date (``find_thai_dates``, full or abbreviated month).
It links to an archived letter with the same number key and, when the reference gives one,
the same date: the serial restarts every year, so a number alone can name several letters,
and then the link is made only if exactly one letter fits. A reference whose letter is not
in the archive yet is kept unlinked and linked when that letter arrives.
"""

from __future__ import annotations

import datetime as dt
from collections import deque

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from saraban.archive._models import CANCELLED, ISSUED, STORED, Letter, Reference
from saraban.thai import find_ref_nos, find_thai_dates
from saraban.vocabulary import SECRECIES, can_see

# Statuses of letters that a reference may point at (a letter that exists on paper).
LINKABLE = (ISSUED, CANCELLED, STORED)


def read_reference(text: str) -> tuple[str | None, dt.date | None]:
    """(number key, date) named by one อ้างถึง line; either is None when not found."""
    refs = find_ref_nos(text)
    dates = [m.date for m in find_thai_dates(text) if m.date is not None and m.error is None]
    return (refs[0][2].key if refs else None), (dates[0] if dates else None)


def _open_to(level: str | None) -> ColumnElement[bool]:
    """Letters at ``level`` or below (not secret, then ลับ, ลับมาก, ลับที่สุด): those every
    reader of a letter at ``level`` may see."""
    below = SECRECIES[: SECRECIES.index(level) + 1] if level in SECRECIES else ()
    return or_(Letter.secrecy.is_(None), Letter.secrecy == "", Letter.secrecy.in_(below))


def _find_target(session: Session, key: str, date: dt.date | None, citing: Letter) -> int | None:
    """The one letter a reference of ``citing`` names. Letters every reader of ``citing``
    may see come first, and only when none fits is a letter of a higher level linked (its
    link is then hidden from whoever may not see it, as if there were none). Counting every
    letter alike, a secret letter of the same number made a reference between two open
    letters ambiguous: the thread a clerk without clearance saw changed."""
    query = select(Letter.id).where(
        Letter.ref_key == key, Letter.status.in_(LINKABLE), Letter.id != citing.id
    )
    if date is not None:
        query = query.where(Letter.date == date)
    for candidates in (query.where(_open_to(citing.secrecy)), query):
        ids = session.scalars(candidates.limit(2)).all()
        if ids:
            return ids[0] if len(ids) == 1 else None
    return None


def link_letter(session: Session, letter: Letter) -> None:
    """Record the letter's references (linked where possible) and link earlier references
    that name this letter. Runs in the transaction that issues or stores the letter."""
    for position, text in enumerate((letter.doc or {}).get("references") or []):
        if not isinstance(text, str):
            continue
        key, date = read_reference(text)
        target = _find_target(session, key, date, letter) if key else None
        session.add(
            Reference(
                letter_id=letter.id,
                position=position,
                text=text,
                ref_key=key,
                ref_date=date,
                target_id=target,
            )
        )
    session.flush()
    if letter.ref_key:
        # Earlier references of this number, unlinked or linked to a letter some of their
        # readers may not see, are looked up again (this letter may be the one that fits).
        cited = aliased(Letter)
        rows = session.execute(
            select(Reference, Letter, cited.secrecy)
            .join(Letter, Letter.id == Reference.letter_id)
            .outerjoin(cited, cited.id == Reference.target_id)
            .where(
                Reference.ref_key == letter.ref_key,
                Reference.letter_id != letter.id,
                or_(Reference.ref_date.is_(None), Reference.ref_date == letter.date),
                or_(Reference.target_id.is_(None), func.coalesce(cited.secrecy, "") != ""),
            )
        ).all()
        for reference, citing, cited_secrecy in rows:
            if reference.target_id is None or not can_see(citing.secrecy, cited_secrecy):
                reference.target_id = _find_target(
                    session, letter.ref_key, reference.ref_date, citing
                )
    session.flush()


def connected(
    session: Session, letter_id: int, visible: ColumnElement[bool] | None = None
) -> tuple[list[int], list[tuple[int, int]]]:
    """Every letter reachable from ``letter_id`` through references, either way, and the
    links among them as (citing, cited) pairs. With ``visible`` (a condition on
    ``Letter``), the walk goes only through letters that meet it: a letter the user may
    not see is neither shown nor walked through, so two visible letters are never linked
    through a hidden one."""
    seen = {letter_id}
    links: set[tuple[int, int]] = set()
    queue = deque([letter_id])
    while queue:
        current = queue.popleft()
        rows = session.execute(
            select(Reference.letter_id, Reference.target_id).where(
                or_(Reference.letter_id == current, Reference.target_id == current),
                Reference.target_id.is_not(None),
            )
        ).all()
        pairs = [(citing, cited) for citing, cited in rows if cited is not None]
        found = {other for pair in pairs for other in pair if other not in seen}
        if visible is not None and found:
            found = set(session.scalars(select(Letter.id).where(Letter.id.in_(found), visible)))
        seen.update(found)
        queue.extend(sorted(found))
        links.update(pair for pair in pairs if pair[0] in seen and pair[1] in seen)
    return sorted(seen), sorted(links)
