"""Secrecy, and the few reads of the archive that its public API does not offer yet.

Secrecy is decided in one place: :func:`can_see` (a record in hand) and
:func:`_secrecy_clause` (the same rule as SQL). A letter marked ลับ, ลับมาก or ลับที่สุด is
seen only by a user cleared at that level or above; an unknown marking counts as the highest.

The queries below (newest letters with a total for paging, counts for the dashboard's chart,
a letter's original file, its history from the audit chain, and appending a login to that
chain) read the archive's tables through the archive's own sessions. They belong in
``archive/`` as public methods (``Archive.recent``, ``Archive.history``, ``Archive.audit``);
until they are there, this module is the only place in ``service/`` that touches the
archive's internals.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true

from archive import Archive, LetterRecord
from archive import _audit as archive_audit
from archive._models import AuditEvent, Letter, StoredFile, Unit
from saraban.errors import NotFound
from saraban.letter import SECRECIES
from saraban.thai import RefNoError, parse_ref_no

# What a clerk calls a letter: issued, cancelled, or kept from outside (not numbers that
# were only reserved, are being issued, or were never used).
SHOWN_STATUSES = ("issued", "cancelled", "stored")


def visible_levels(clearance: str | None) -> tuple[str, ...]:
    """The secrecy levels a clearance opens, lowest first."""
    if clearance not in SECRECIES:
        return ()
    return SECRECIES[: SECRECIES.index(clearance) + 1]


def can_see(clearance: str | None, secrecy: str | None) -> bool:
    if not secrecy:
        return True
    if clearance == SECRECIES[-1]:
        return True
    return secrecy in visible_levels(clearance)


def _secrecy_clause(clearance: str | None) -> ColumnElement[bool]:
    if clearance == SECRECIES[-1]:
        return true()
    levels = visible_levels(clearance)
    clauses = [Letter.secrecy.is_(None), Letter.secrecy == ""]
    if levels:
        clauses.append(Letter.secrecy.in_(levels))
    return or_(*clauses)


def letter_for(archive: Archive, letter_id: int, clearance: str | None) -> LetterRecord:
    """The letter, or NotFound, the same answer whether it does not exist or is secret
    beyond the clearance: nobody learns that a letter they may not see exists."""
    try:
        record = archive.get(letter_id)
    except NotFound:
        record = None
    if record is None or not can_see(clearance, record.secrecy):
        raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
    return record


def ref_key_of(text: str) -> str | None:
    try:
        return parse_ref_no(text).key
    except RefNoError:
        return None


def recent(
    archive: Archive,
    clearance: str | None,
    *,
    limit: int = 20,
    offset: int = 0,
    statuses: tuple[str, ...] = SHOWN_STATUSES,
    year: int | None = None,
    ref_no: str | None = None,
    unit: str | None = None,
) -> tuple[int, list[LetterRecord]]:
    """(total, one page of letters), newest first, only those the clearance opens.

    ``ref_no`` matches the number typed any way (Thai or Arabic digits, any spacing);
    ``year`` is the BE year of the letter's date.
    """
    where: list[ColumnElement[bool]] = [_secrecy_clause(clearance)]
    if statuses:
        where.append(Letter.status.in_(statuses))
    if year is not None:
        where.append(Letter.date >= dt.date(year - 543, 1, 1))
        where.append(Letter.date <= dt.date(year - 543, 12, 31))
    if ref_no:
        key = ref_key_of(ref_no)
        where.append(Letter.ref_key == key if key else Letter.ref_no == ref_no.strip())
    with archive._read() as s:
        if unit:
            unit_id = s.scalar(select(Unit.id).where(Unit.prefix == unit.strip()))
            where.append(Letter.unit_id == unit_id if unit_id is not None else false())
        total = s.scalar(select(func.count()).select_from(Letter).where(*where)) or 0
        rows = s.scalars(
            select(Letter)
            .where(*where)
            .order_by(func.coalesce(Letter.issued_at, Letter.created_at).desc(), Letter.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return total, [archive._record(s, row) for row in rows]


def counts_by_month(
    archive: Archive, clearance: str | None, *, months: int = 12
) -> list[tuple[dt.date, int]]:
    """Letters dated in each of the last ``months`` months (first day of the month, count),
    oldest first, months without letters included."""
    today = dt.date.today()
    firsts = []
    year, month = today.year, today.month
    for _ in range(months):
        firsts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    with archive._read() as s:
        dates = s.execute(
            select(Letter.date, func.count())
            .where(
                _secrecy_clause(clearance),
                Letter.status.in_(SHOWN_STATUSES),
                Letter.date >= firsts[0],
            )
            .group_by(Letter.date)
        ).all()
    counts = dict.fromkeys(firsts, 0)
    for day, count in dates:
        if day is not None:
            key = dt.date(day.year, day.month, 1)
            if key in counts:
                counts[key] += count
    return list(counts.items())


def counts_by_unit(
    archive: Archive, clearance: str | None, *, year: int | None = None
) -> list[tuple[str, int]]:
    """Letters of each unit (prefix, count), most first; letters imported from outside (no
    unit of ours) are counted together as "นำเข้าจากภายนอก"."""
    where = [_secrecy_clause(clearance), Letter.status.in_(SHOWN_STATUSES)]
    if year is not None:
        where += [
            Letter.date >= dt.date(year - 543, 1, 1),
            Letter.date <= dt.date(year - 543, 12, 31),
        ]
    with archive._read() as s:
        rows = s.execute(
            select(Unit.prefix, func.count())
            .select_from(Letter)
            .outerjoin(Unit, Unit.id == Letter.unit_id)
            .where(*where)
            .group_by(Unit.prefix)
        ).all()
    result = [(prefix or "นำเข้าจากภายนอก", count) for prefix, count in rows]
    result.sort(key=lambda item: (-item[1], item[0]))
    return result


@dataclass(frozen=True)
class StoredOriginal:
    sha256: str
    name: str
    media_type: str


def original_file(archive: Archive, letter_id: int) -> StoredOriginal | None:
    """The file an imported letter came from (name and type as uploaded), if any."""
    with archive._read() as s:
        row = s.execute(
            select(Letter.original_sha256, Letter.original_name, StoredFile.media_type)
            .outerjoin(StoredFile, StoredFile.sha256 == Letter.original_sha256)
            .where(Letter.id == letter_id)
        ).first()
    if row is None or not row[0]:
        return None
    return StoredOriginal(
        row[0], row[1] or f"letter-{letter_id}", row[2] or "application/octet-stream"
    )


def needs_review(archive: Archive, letter_id: int) -> dict[str, Any] | None:
    with archive._read() as s:
        return s.scalar(select(Letter.needs_review).where(Letter.id == letter_id))


@dataclass(frozen=True)
class HistoryEvent:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]


def history(archive: Archive, letter_id: int) -> list[HistoryEvent]:
    """What was done with a letter, oldest first, from the audit chain."""
    with archive._read() as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.letter_id == letter_id).order_by(AuditEvent.seq)
        ).all()
    return [HistoryEvent(r.seq, r.at, r.actor, r.action, _loads(r.detail)) for r in rows]


def audit(
    archive: Archive, *, actor: str, action: str, detail: dict[str, Any] | None = None
) -> None:
    """Append an event that concerns no letter (a login, a new user) to the audit chain."""
    with archive._write() as s:
        archive_audit.append(s, actor=actor, action=action, detail=detail or {})


def events(
    archive: Archive, *, limit: int = 50, actions: tuple[str, ...] | None = None
) -> list[HistoryEvent]:
    """The newest events of the audit chain (for the administrator's page)."""
    with archive._read() as s:
        query = select(AuditEvent)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        rows = s.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
    return [HistoryEvent(r.seq, r.at, r.actor, r.action, _loads(r.detail)) for r in rows]


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
