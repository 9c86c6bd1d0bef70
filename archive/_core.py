"""What every room of the archive shares: the database and its write turn, the stored
files, the renderer, the outbox that tells the search index, and the register and number
lookups."""

from __future__ import annotations

import copy
import fcntl
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, Self

from sqlalchemy import (
    ColumnElement,
    Engine,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from saraban.archive import _db
from saraban.archive._files import FileStore
from saraban.archive._models import (
    CIRCULAR,
    NORMAL,
    Counter,
    IndexJob,
    Letter,
    Received,
    Register,
    StoredFile,
    Unit,
    received_series,
    utcnow,
)
from saraban.archive._private import FILE_MODE
from saraban.archive._records import LetterRecord, Paging, UnitInfo
from saraban.errors import BadRequest, InvalidLetter, NotFound, Problem
from saraban.thai import SECRET_SERIES, RefNo, RefNoError, parse_ref_no

logger = logging.getLogger("saraban.archive")

DEFAULT_RETENTION_YEARS = 10
_CHANGED = "saraban.index_queued"  # session.info key: this transaction queued index jobs
_HELD = "saraban.held"  # session.info key: registers and units the records named
NUMBER_FORMATS = ("plain", "year")
CIRCULAR_SERIES = ("separate", "shared")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
_UNSET: Any = object()
READ_BATCH = 500  # rows a long read (a register's export) holds at once


class Renderer(Protocol):
    """What issuing needs from ``templates``: the letter as DOCX bytes and as PDF/A bytes."""

    def render_docx(self, letter: dict) -> bytes: ...

    def render_pdf(self, letter: dict, *, pdfa: bool = False) -> bytes: ...


class TemplatesRenderer:
    """The real renderers, imported on first use (WeasyPrint is slow to import), printing
    ``emblem`` (the setting SARABAN_GARUDA_IMAGE; None: the placeholder) and every digit in
    ``digits`` (SARABAN_LETTER_DIGITS)."""

    def __init__(self, emblem: Path | None = None, digits: str = "thai") -> None:
        self.emblem = emblem
        self.digits = digits

    def render_docx(self, letter: dict) -> bytes:
        from saraban.templates import render_docx

        return render_docx(letter, emblem=self.emblem, digits=self.digits)

    def render_pdf(self, letter: dict, *, pdfa: bool = False) -> bytes:
        from saraban.templates import render_pdf

        return render_pdf(letter, pdfa=pdfa, emblem=self.emblem, digits=self.digits)


def with_unit_defaults(doc: Mapping[str, Any], unit: UnitInfo | Unit | None) -> dict[str, Any]:
    """The letter with what its unit supplies where the clerk left it empty (sender,
    contact, footer, signer): what issuing under the unit fills in, so a preview shows
    what will print."""
    doc = dict(doc)
    if unit is None:
        return doc
    sender = doc.get("sender") or {}
    if isinstance(sender, dict) and not sender.get("name"):
        doc["sender"] = {"name": unit.name, "address": list(unit.address)}
    contact = doc.get("contact") or {}
    if isinstance(contact, dict) and not any(contact.values()):
        doc["contact"] = {"phone": unit.phone, "fax": unit.fax, "email": unit.email}
    if not doc.get("footer") and unit.footer:
        doc["footer"] = unit.footer
    signer = doc.get("signer") or {}
    if isinstance(signer, dict) and not signer.get("name") and unit.signer:
        doc["signer"] = copy.deepcopy(unit.signer)
    return doc


def _form_enclosure_files(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, sha256) of every filled form a letter document encloses."""
    found = []
    for enclosure in doc.get("enclosures") or []:
        if isinstance(enclosure, dict) and isinstance(enclosure.get("files"), dict):
            found += [(kind, sha) for kind, sha in enclosure["files"].items() if sha]
    return found


def _letter_problem(field_name: str, code: str, en: str, th: str) -> InvalidLetter:
    return InvalidLetter([Problem(field_name, code, en, th)])


def _prefix_key(prefix: str) -> str:
    """ "นค ๐๐๑๙.๓" -> "นค0019.3"; raises a clear error for a prefix off the grammar."""
    try:
        ref = parse_ref_no(f"{prefix}/1")
    except RefNoError as exc:
        raise BadRequest(
            f"prefix: เลขประจำส่วนราชการ {prefix!r} ไม่ถูกต้อง (ควรเป็นแบบ นค ๐๐๑๙.๓) / "
            f"bad reference prefix {prefix!r} (expected like นค ๐๐๑๙.๓)"
        ) from exc
    if not ref.code:
        raise BadRequest(
            f"prefix: {prefix!r} ต้องมีรหัสพยัญชนะ ๒ ตัว / a prefix needs its 2-letter code"
        )
    return f"{ref.code}{ref.unit}"


def _ref_key(ref_no: str | None) -> str | None:
    """The number's key for matching however it was typed; None for a number off the
    grammar (another office's odd number is kept as printed)."""
    if not ref_no:
        return None
    try:
        return parse_ref_no(ref_no).key
    except RefNoError:
        return None


def _secrecy_clause(clearance: str | None, column: Any = Letter.secrecy) -> ColumnElement[bool]:
    """saraban.letter.can_see as SQL: the rows (letters, or received letters with
    ``column`` = Received.secrecy) a user cleared at ``clearance`` may see."""
    from saraban.letter import SECRECIES, visible_levels  # slow to import; not every use needs it

    if clearance == SECRECIES[-1]:
        return true()
    clauses = [column.is_(None), column == ""]
    levels = visible_levels(clearance)
    if levels:
        clauses.append(column.in_(levels))
    return or_(*clauses)


def _check_secrecy(value: Any) -> str | None:
    """A secrecy level as given (None or empty: none), or BadRequest naming the levels."""
    from saraban.vocabulary import SECRECIES

    if value is None or value == "":
        return None
    if value not in SECRECIES:
        raise BadRequest(
            f"secrecy: ชั้นความลับต้องเป็น {', '.join(SECRECIES)} หรือเว้นว่าง / secrecy must be "
            f"one of {', '.join(SECRECIES)} or empty, not {value!r}"
        )
    return str(value)


class ArchiveCore:
    """The parts of an open archive every room uses (see :class:`Archive`)."""

    def __init__(self, home: Path, url: str, *, renderer: Renderer | None = None) -> None:
        self.home = home
        self.url = url
        self.files = FileStore(home / "files")
        self._database = _db.Database(url)
        self._lock_path = _db.sqlite_lock_path(url)
        self.renderer: Renderer = renderer or TemplatesRenderer()
        self._listeners: list[Callable[[], None]] = []

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._database.writer

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _read(self) -> AbstractContextManager[Session]:
        return self._database.read()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._writer_turn(), self._database.write() as session:
            yield session
        if session.info.pop(_CHANGED, False):
            self._tell_listeners()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every commit that changed what the search index holds
        (a letter issued, imported or cancelled; the queue, :meth:`index_jobs`, says
        which). It runs in the writer's thread after the commit, so it must only signal
        (start a sync in the background), never wait. The index is told here, once, and
        no caller of the archive has to remember it."""
        self._listeners.append(listener)

    def _enqueue(self, s: Session, letter_id: int, reason: str) -> None:
        """Queue a letter for the search index in the caller's transaction (the outbox)."""
        s.add(IndexJob(letter_id=letter_id, reason=reason, enqueued_at=utcnow()))
        s.info[_CHANGED] = True

    def _tell_listeners(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener's fault must not fail the write
                logger.exception("archive change listener %r failed", listener)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """On SQLite, queue writers on an OS file lock before ``BEGIN IMMEDIATE``.

        SQLite's own busy handler polls with sleeps of up to 100 ms, so under contention the
        write lock often sits free while the next writer sleeps; the kernel wakes a process
        waiting on ``flock`` at once. The lock dies with its process, so a crash never
        leaves it held. PostgreSQL queues writers on its row locks and needs none of this.
        """
        if self._lock_path is None:
            yield
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _insert(self, model: type) -> Any:
        # The dialect's INSERT (for ON CONFLICT), imported when first needed: PostgreSQL's
        # takes a tenth of a second of every command's start, and a SQLite archive never
        # needs it (create_engine loads only the dialect of the URL).
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(model)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(model)

    def _record_file(self, s: Session, sha256: str, media_type: str) -> None:
        """Record a stored file (once) in the caller's transaction."""
        s.execute(
            self._insert(StoredFile)
            .values(
                sha256=sha256,
                size=self.files.path(sha256).stat().st_size,
                media_type=media_type,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )

    def _resolve(self, s: Session, name: str) -> tuple[Register, Unit | None]:
        """A register, and the unit issuing into it, from a unit prefix or a register name."""
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("register: ต้องระบุทะเบียน / a register is required")
        try:
            key = _prefix_key(name.strip())
        except BadRequest:
            key = None
        if key is not None:
            unit = s.scalar(select(Unit).where(Unit.prefix_key == key))
            if unit is not None:
                return s.get_one(Register, unit.register_id), unit
        reg = s.scalar(select(Register).where(Register.name == name.strip()))
        if reg is None:
            raise NotFound(
                f"register: ไม่พบทะเบียนหรือส่วนราชการ {name!r} / no register or unit prefix "
                f"{name!r} (add one with: saraban register add)"
            )
        units = s.scalars(select(Unit).where(Unit.register_id == reg.id)).all()
        return reg, (units[0] if len(units) == 1 else None)

    def _issuing_unit(self, s: Session, name: str) -> tuple[Register, Unit]:
        """The register and the one unit that numbers a letter in it (:meth:`_resolve`);
        a register shared by several units needs the unit's prefix."""
        reg, unit = self._resolve(s, name)
        if unit is None:
            raise BadRequest(
                f"register: ทะเบียน {reg.name!r} ใช้ร่วมกันหลายส่วนราชการ ให้ระบุเลขประจำ"
                f"ส่วนราชการ / register {reg.name!r} is shared by several units: give the "
                "unit's prefix"
            )
        return reg, unit

    def _next_serial(self, s: Session, register_id: int, series: str, year: int) -> int:
        """The next number of a series, under the lock its counter row takes until commit."""
        bump = (
            update(Counter)
            .where(
                Counter.register_id == register_id,
                Counter.series == series,
                Counter.year == year,
            )
            .values(last=Counter.last + 1)
            .returning(Counter.last)
            .execution_options(synchronize_session=False)
        )
        serial = s.execute(bump).scalar()
        if serial is None:
            s.execute(
                self._insert(Counter)
                .values(register_id=register_id, series=series, year=year, last=0)
                .on_conflict_do_nothing()
            )
            serial = s.execute(bump).scalar_one()
        return serial

    def _enter_received(self, s: Session, register_id: int, year: int, **fields: Any) -> Received:
        """A new row of the incoming register under its next เลขรับ (the counters of
        :meth:`_next_serial`; a secret level in its own series, ``received_series``), added
        and flushed. ``fields``: the row's other columns."""
        series = received_series(fields.get("secrecy"))
        serial = self._next_serial(s, register_id, series, year)
        row = Received(register_id=register_id, year=year, series=series, serial=serial, **fields)
        s.add(row)
        s.flush()
        return row

    @staticmethod
    def _series(register: Register, circular: bool, secrecy: str | None = None) -> str:
        """The counter a letter takes its number from. A secret letter is numbered in its
        level's own series (ทะเบียนหนังสือลับ, ระเบียบว่าด้วยการรักษาความลับของทางราชการ
        พ.ศ. ๒๕๔๔), so the register a user may see has no gap where a letter above their
        clearance is: each level its own, as a user cleared for ลับ may not see ลับมาก."""
        if secrecy in SECRET_SERIES:
            return secrecy
        return CIRCULAR if circular and register.circular_series == "separate" else NORMAL

    @staticmethod
    def _ref_no(
        register: Register,
        unit: Unit,
        circular: bool,
        serial: int,
        year: int,
        secrecy: str | None = None,
    ) -> str:
        code, unit_digits = unit.prefix_key[:2], unit.prefix_key[2:]
        shown_year = year if register.number_format == "year" else None
        secret = secrecy if secrecy in SECRET_SERIES else None
        return RefNo(code, unit_digits, circular, serial, shown_year, secret).format("thai")

    @staticmethod
    def _paged(s: Session, query: Any, order: Iterable[Any], paging: Paging) -> tuple[int, Any]:
        """How many rows ``query`` gives, counted in the database, and the query of the
        page ``paging`` asks for, in ``order`` (reversed for newest first)."""
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = [c.desc() if paging.newest_first else c for c in order]
        return total, query.order_by(*order).offset(paging.offset).limit(paging.limit)

    def _record(self, s: Session, row: Letter) -> LetterRecord:
        reg = s.get(Register, row.register_id) if row.register_id else None
        unit = s.get(Unit, row.unit_id) if row.unit_id else None
        # Held while the session lives: its identity map keeps only what is referenced, so
        # each row of a long list asked the database for its register and unit again.
        s.info.setdefault(_HELD, set()).update(x for x in (reg, unit) if x is not None)
        return LetterRecord(
            id=row.id,
            public_id=row.public_id,
            status=row.status,
            ref_no=row.ref_no,
            date=row.date,
            subject=row.subject,
            sender=row.sender,
            addressee=row.addressee,
            register=reg.name if reg else None,
            unit=unit.prefix if unit else None,
            year=row.year,
            serial=row.serial,
            circular=row.circular,
            secrecy=row.secrecy,
            retention_years=row.retention_years,
            docx_sha256=row.docx_sha256,
            pdf_sha256=row.pdf_sha256,
            original_sha256=row.original_sha256,
            reason=row.reason,
            note=row.note,
            created_at=row.created_at,
            created_by=row.created_by,
            issued_at=row.issued_at,
            closed_at=row.closed_at,
            series=row.series,
        )

    @staticmethod
    def _retention(doc: Mapping[str, Any], retention_years: Any) -> int | None:
        value = doc.get("retention_years", DEFAULT_RETENTION_YEARS)
        if retention_years is not _UNSET:
            value = retention_years
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000
        ):
            raise _letter_problem(
                "retention_years",
                "bad_retention",
                f"retention must be a whole number of years (1-1000) or null for "
                f"'never destroy', not {value!r}",
                f"อายุการเก็บต้องเป็นจำนวนปี (๑-๑๐๐๐) หรือ null สำหรับห้ามทำลาย ไม่ใช่ {value!r}",
            )
        return value

    def get(self, letter_id: int) -> LetterRecord:
        with self._read() as s:
            row = s.get(Letter, letter_id)
            if row is None:
                raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            return self._record(s, row)

    def letter_id_for(self, public_id: str) -> int | None:
        """The archive's key of the letter with this public id, None if there is none (the
        caller still checks that the user may see it)."""
        if not isinstance(public_id, str) or len(public_id) > 20:
            return None
        with self._read() as s:
            return s.scalar(select(Letter.id).where(Letter.public_id == public_id))

    def public_ids(
        self, letter_ids: Iterable[int], *, clearance: str | None = _UNSET
    ) -> dict[int, str]:
        """The public ids of these letters (those that exist, and that ``clearance`` opens
        when given), for links in a list."""
        wanted = sorted(set(letter_ids))
        found: dict[int, str] = {}
        with self._read() as s:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = select(Letter.id, Letter.public_id).where(Letter.id.in_(chunk))
                if clearance is not _UNSET:
                    query = query.where(_secrecy_clause(clearance))
                found.update({row_id: public for row_id, public in s.execute(query)})
        return found

    def letter_document(self, letter_id: int) -> dict[str, Any]:
        """The letter document as issued (with its ref_no and date)."""
        with self._read() as s:
            row = s.get(Letter, letter_id)
            if row is None or row.doc is None:
                raise NotFound(f"ไม่พบเอกสารของหนังสือ {letter_id} / no document for {letter_id}")
            return copy.deepcopy(row.doc)

    def letter_by_key(self, key: str) -> LetterRecord | None:
        """The letter written under an idempotency key (a draft's issue, a batch item's
        import), whatever became of it; None if nothing was written under it."""
        with self._read() as s:
            row = s.scalar(select(Letter).where(Letter.idempotency_key == key))
            return self._record(s, row) if row is not None else None
