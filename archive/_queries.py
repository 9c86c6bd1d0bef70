"""Reading the archive: letters and register rows, threads, counts, the audit trail, what
the search index should hold, and verification."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    case,
    cast,
    false,
    func,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from saraban.archive import _references
from saraban.archive._core import _UNSET, READ_BATCH, ArchiveCore, _ref_key, _secrecy_clause
from saraban.archive._models import (
    CIRCULAR,
    NORMAL,
    SHOWN_STATUSES,
    AuditEvent,
    IndexJob,
    Letter,
    Received,
    StoredFile,
    Unit,
)
from saraban.archive._records import (
    AuditEntry,
    IndexableLetter,
    LetterRecord,
    Paging,
    StoredOriginal,
    Thread,
)
from saraban.archive._verify import verify
from saraban.errors import NotFound
from saraban.thai import SECRET_SERIES


def _year_clause(year: int | None) -> list[ColumnElement[bool]]:
    """Letters dated in BE ``year`` (no condition for None)."""
    if year is None:
        return []
    return [Letter.date >= dt.date(year - 543, 1, 1), Letter.date <= dt.date(year - 543, 12, 31)]


def _audit_entry(row: AuditEvent) -> AuditEntry:
    try:
        detail = json.loads(row.detail)
    except ValueError:
        detail = {}
    return AuditEntry(
        row.seq,
        row.at,
        row.actor,
        row.action,
        detail if isinstance(detail, dict) else {},
        row.letter_id,
    )


class Queries(ArchiveCore):
    """Everything that reads the archive."""

    def letters(
        self,
        *,
        status: str | None = None,
        year: int | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        register: str | None = None,
        limit: int | None = None,
    ) -> list[LetterRecord]:
        """Register rows and stored letters, oldest number first (``year`` is BE)."""
        with self._read() as s:
            query = self._letters_query(s, date_from, date_to, register)
            if status is not None:
                query = query.where(Letter.status == status)
            if year is not None:
                query = query.where(Letter.year == year)
            query = query.order_by(*self._register_order())
            if limit is not None:
                query = query.limit(limit)
            return [self._record(s, row) for row in s.scalars(query)]

    def sent_page(
        self, date_from: dt.date, date_to: dt.date, register: str | None, clearance: str | None,
        paging: Paging,
    ) -> tuple[int, list[LetterRecord]]:  # fmt: skip
        """One page of the outgoing register as a user cleared at ``clearance`` sees it,
        and how many rows it has: counted and cut in the database (a busy office's year is
        tens of thousands of rows; reading them all for a page took seconds and most of a
        gigabyte)."""
        with self._read() as s:
            query = self._sent_query(s, date_from, date_to, register, clearance)
            total, page = self._paged(s, query, self._register_order(), paging)
            return total, [self._record(s, row) for row in s.scalars(page)]

    def sent_register(
        self, date_from: dt.date, date_to: dt.date, register: str | None, clearance: str | None
    ) -> Iterator[LetterRecord]:
        """The outgoing register of the period as a user cleared at ``clearance`` sees it,
        oldest number first, read from the database a batch at a time (an export of a
        whole year holds only the rows, never the year's letters all at once)."""
        with self._read() as s:
            query = self._sent_query(s, date_from, date_to, register, clearance)
            query = query.order_by(*self._register_order())
            for row in s.scalars(query.execution_options(yield_per=READ_BATCH)):
                yield self._record(s, row)

    def _sent_query(
        self,
        s: Session,
        date_from: dt.date,
        date_to: dt.date,
        register: str | None,
        clearance: str | None,
    ) -> Select[Letter]:
        return self._letters_query(s, date_from, date_to, register).where(
            Letter.status != "stored", Letter.serial.is_not(None), _secrecy_clause(clearance)
        )

    def _letters_query(
        self,
        s: Session,
        date_from: dt.date | None,
        date_to: dt.date | None,
        register: str | None,
    ) -> Select[Letter]:
        # a record holds no document: decoding every letter's JSON was most of the time
        query = select(Letter).options(defer(Letter.doc), defer(Letter.needs_review))
        if date_from is not None:
            query = query.where(Letter.date >= date_from)
        if date_to is not None:
            query = query.where(Letter.date <= date_to)
        if register is not None:
            reg, _unit = self._resolve(s, register)
            query = query.where(Letter.register_id == reg.id)
        return query

    @staticmethod
    def _register_order() -> list[ColumnElement[Any] | InstrumentedAttribute[Any]]:
        return [
            Letter.register_id,
            Letter.year,
            # the normal series, then ว, then each secret level's own
            case(
                (Letter.series == NORMAL, 0),
                (Letter.series == CIRCULAR, 1),
                *((Letter.series == level, 2 + i) for i, level in enumerate(SECRET_SERIES)),
                else_=9,
            ),
            Letter.serial,
            Letter.id,
        ]

    def serials(
        self, register: str, *, year: int, circular: bool = False, secrecy: str | None = None
    ) -> list[int]:
        """Every number given in one series and BE year, in order (for checks and tests)."""
        with self._read() as s:
            reg, _unit = self._resolve(s, register)
            series = self._series(reg, circular, secrecy)
            return list(
                s.scalars(
                    select(Letter.serial)
                    .where(
                        Letter.register_id == reg.id,
                        Letter.series == series,
                        Letter.year == year,
                    )
                    .order_by(Letter.serial)
                )
            )

    def thread(self, letter_id: int, *, clearance: str | None = _UNSET) -> Thread:
        """The letters this one cites and is cited by, followed both ways, oldest first.
        With a ``clearance``, only through letters a user cleared at it may see (the letter
        itself too: NotFound otherwise); the thread says nothing of the others."""
        visible = None if clearance is _UNSET else _secrecy_clause(clearance)
        with self._read() as s:
            start = s.get(Letter, letter_id)
            if start is None or (
                visible is not None
                and s.scalar(select(Letter.id).where(Letter.id == letter_id, visible)) is None
            ):
                raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            ids, links = _references.connected(s, letter_id, visible)
            rows = s.scalars(select(Letter).where(Letter.id.in_(ids))).all()
            records = [self._record(s, row) for row in rows]
        records.sort(key=lambda r: (r.date or dt.date.max, r.id))
        return Thread(records, links)

    def recent(
        self,
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
        ``year`` is the BE year of the letter's date; ``unit`` a unit prefix.
        """
        where = [_secrecy_clause(clearance), *_year_clause(year)]
        if statuses:
            where.append(Letter.status.in_(statuses))
        if ref_no:
            key = _ref_key(ref_no)
            where.append(Letter.ref_key == key if key else Letter.ref_no == ref_no.strip())
        with self._read() as s:
            if unit:
                unit_id = s.scalar(select(Unit.id).where(Unit.prefix == unit.strip()))
                where.append(Letter.unit_id == unit_id if unit_id is not None else false())
            total = s.scalar(select(func.count()).select_from(Letter).where(*where)) or 0
            rows = s.scalars(
                select(Letter)
                .where(*where)
                .order_by(
                    func.coalesce(Letter.issued_at, Letter.created_at).desc(), Letter.id.desc()
                )
                .limit(limit)
                .offset(offset)
            ).all()
            return total, [self._record(s, row) for row in rows]

    def counts_by_month(
        self, clearance: str | None, *, months: int = 12
    ) -> list[tuple[dt.date, int]]:
        """Letters dated in each of the last ``months`` months (first day of the month,
        count), oldest first, months without letters included; only those the clearance
        opens."""
        today = dt.date.today()
        firsts = []
        year, month = today.year, today.month
        for _ in range(months):
            firsts.append(dt.date(year, month, 1))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        firsts.reverse()
        with self._read() as s:
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
        self, clearance: str | None, *, year: int | None = None
    ) -> list[tuple[str, int]]:
        """Letters of each unit (prefix, count), most first, only those the clearance
        opens; letters imported from outside (no unit of ours) are counted together as
        "นำเข้าจากภายนอก". ``year`` is the BE year of the letter's date."""
        with self._read() as s:
            rows = s.execute(
                select(Unit.prefix, func.count())
                .select_from(Letter)
                .outerjoin(Unit, Unit.id == Letter.unit_id)
                .where(
                    _secrecy_clause(clearance),
                    Letter.status.in_(SHOWN_STATUSES),
                    *_year_clause(year),
                )
                .group_by(Unit.prefix)
            ).all()
        result = [(prefix or "นำเข้าจากภายนอก", count) for prefix, count in rows]
        result.sort(key=lambda item: (-item[1], item[0]))
        return result

    def original_file(self, letter_id: int) -> StoredOriginal | None:
        """The file an imported letter came from (name and type as uploaded), if any."""
        with self._read() as s:
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

    def needs_review(self, letter_id: int) -> dict[str, Any] | None:
        """What the importer could not read for sure in an imported letter, if anything."""
        with self._read() as s:
            return s.scalar(select(Letter.needs_review).where(Letter.id == letter_id))

    def history(self, letter_id: int) -> list[AuditEntry]:
        """What was done with a letter, oldest first, from the audit chain."""
        with self._read() as s:
            rows = s.scalars(
                select(AuditEvent).where(AuditEvent.letter_id == letter_id).order_by(AuditEvent.seq)
            ).all()
        return [_audit_entry(row) for row in rows]

    def events(
        self, *, limit: int = 50, actions: tuple[str, ...] | None = None
    ) -> list[AuditEntry]:
        """The newest events of the audit chain, newest first (``actions``: only these)."""
        query = select(AuditEvent)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        with self._read() as s:
            rows = s.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
        return [_audit_entry(row) for row in rows]

    def index_jobs(self, limit: int | None = 100) -> list[tuple[int, int, str]]:
        """Letters waiting for the search index, oldest first: (job id, letter id, reason);
        ``limit`` None: all of them."""
        with self._read() as s:
            rows = s.execute(
                select(IndexJob.id, IndexJob.letter_id, IndexJob.reason)
                .order_by(IndexJob.id)
                .limit(limit)
            ).all()
            return [(r.id, r.letter_id, r.reason) for r in rows]

    def indexable_ids(self) -> list[int]:
        """The ids of every letter the search index should hold, in order."""
        with self._read() as s:
            return list(
                s.scalars(
                    select(Letter.id).where(Letter.status.in_(SHOWN_STATUSES)).order_by(Letter.id)
                )
            )

    def indexable(self, ids: Iterable[int]) -> list[IndexableLetter]:
        """What the search index keeps of each of these letters that it should hold, in
        one query: a rebuild of 100,000 letters must not make 200,000 round trips. Ids not
        answered (no such letter, or not one the index holds) are to be removed from it.
        Only the columns the index needs are read, as plain values: the letter document
        as the JSON text stored (:attr:`IndexableLetter.doc` parses it), not ORM objects
        with every column decoded, which took most of a rebuild's reading."""
        wanted = sorted({int(i) for i in ids})
        # Not correlated: the incoming register is read once for the batch (it has no
        # index on letter_id).
        received = Letter.id.in_(select(Received.letter_id).where(Received.letter_id.in_(wanted)))
        columns = (
            Letter.id,
            Letter.status,
            cast(Letter.doc, Text),
            Letter.ref_no,
            Letter.date,
            Letter.secrecy,
            Letter.subject,
            Unit.prefix,
            received,
        )
        with self._read() as s:
            rows = s.execute(
                select(*columns)
                .outerjoin(Unit, Unit.id == Letter.unit_id)
                .where(Letter.id.in_(wanted), Letter.status.in_(SHOWN_STATUSES))
                .order_by(Letter.id)
            ).all()
        return [IndexableLetter(*row[:-1], bool(row[-1])) for row in rows]

    def index_done(self, job_ids: list[int]) -> None:
        """Drop jobs the indexer has finished."""
        if not job_ids:
            return
        from sqlalchemy import delete

        with self._write() as s:
            s.execute(delete(IndexJob).where(IndexJob.id.in_(job_ids)))

    def verify(self) -> list[str]:
        """Everything wrong with the archive, one sentence each; empty when all is well.

        Re-reads every stored file and checks its SHA-256; checks that every issued letter
        has both its files recorded and present, that no file lies in the store unrecorded,
        that every series of every register runs 1..N with no gap (each number issued,
        cancelled, reserved or recorded unused with a reason), that no pending row has been
        abandoned, and that the audit chain is whole.
        """
        return verify(self)
