"""The archive: registers and units, issuing letters under gap-free numbers, the incoming
register, references, and the checks that prove nothing was lost or changed.

How issuing keeps every number accounted for, even through a crash (kill -9) at any point:

1. One short write transaction takes the next serial of the series (the counter row is
   updated with ``UPDATE ... RETURNING``: the write lock on SQLite, a row lock on
   PostgreSQL) and writes the register row as ``pending``, with the letter document already
   carrying its number and date. Counter and row commit together or not at all.
2. Outside any lock, the DOCX and the PDF/A are rendered; their SHA-256s are written to the
   pending row, then the files are stored (content-addressed, atomically renamed).
3. One short write transaction records the files, turns the row ``issued``, appends the
   audit event, queues the letter for the search index and links its references.

If rendering fails, the number is recorded ``unused`` with the reason. If the process dies
between 1 and 3, the row stays ``pending`` under the dead worker's name, and the next
:func:`open_archive` (or :meth:`Archive.repair`) finishes it: it keeps the files already
stored, renders what is missing, and issues the letter; only if the letter cannot be
rendered any more is the number recorded ``unused`` with the reason. A number is never
silently reused.
"""

from __future__ import annotations

import copy
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Engine,
    Update,
    case,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from saraban.archive import _audit, _db, _references
from saraban.archive._files import FileStore
from saraban.archive._models import (
    CANCELLED,
    CIRCULAR,
    INCOMING,
    ISSUED,
    NORMAL,
    PENDING,
    RESERVED,
    SHOWN_STATUSES,
    STORED,
    UNUSED,
    AuditEvent,
    Counter,
    IndexJob,
    Letter,
    Received,
    Register,
    StoredFile,
    Unit,
    utcnow,
)
from saraban.archive._process import crashpoint, pid_alive, worker_alive, worker_token
from saraban.errors import BadRequest, Conflict, InvalidLetter, NotFound, Problem, SarabanError
from saraban.settings import Settings
from saraban.thai import RefNo, RefNoError, be_year, parse_ref_no

if TYPE_CHECKING:  # saraban.letter is slow to import; not every use of the archive needs it
    from saraban.letter import CheckedLetter

logger = logging.getLogger("saraban.archive")
DEFAULT_RETENTION_YEARS = 10
_CHANGED = "saraban.index_queued"  # session.info key: this transaction queued index jobs
NUMBER_FORMATS = ("plain", "year")
CIRCULAR_SERIES = ("separate", "shared")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
_UNSET: Any = object()


class Renderer(Protocol):
    """What issuing needs from ``templates``: the letter as DOCX bytes and as PDF/A bytes."""

    def render_docx(self, letter: dict) -> bytes: ...

    def render_pdf(self, letter: dict, *, pdfa: bool = False) -> bytes: ...


class TemplatesRenderer:
    """The real renderers, imported on first use (WeasyPrint is slow to import), printing
    ``emblem`` (the setting SARABAN_GARUDA_IMAGE; None: the placeholder)."""

    def __init__(self, emblem: Path | None = None) -> None:
        self.emblem = emblem

    def render_docx(self, letter: dict) -> bytes:
        from saraban.templates import render_docx

        return render_docx(letter, emblem=self.emblem)

    def render_pdf(self, letter: dict, *, pdfa: bool = False) -> bytes:
        from saraban.templates import render_pdf

        return render_pdf(letter, pdfa=pdfa, emblem=self.emblem)


class IssueFailed(SarabanError):
    """Rendering failed after the number was taken; the number is recorded unused."""

    def __init__(self, message: str, *, letter_id: int, ref_no: str) -> None:
        super().__init__(message)
        self.letter_id = letter_id
        self.ref_no = ref_no


# ---- records returned to callers -------------------------------------------------------------


@dataclass(frozen=True)
class UnitInfo:
    id: int
    prefix: str
    name: str
    register: str
    address: list[str]
    phone: str | None
    fax: str | None
    email: str | None
    footer: str | None
    signer: dict[str, Any] | None


@dataclass(frozen=True)
class RegisterInfo:
    id: int
    name: str
    circular_series: str
    number_format: str
    units: list[str]


@dataclass(frozen=True)
class LetterRecord:
    """One register row (or imported letter) as a plain value."""

    id: int
    status: str
    ref_no: str | None
    date: dt.date | None
    subject: str | None
    sender: str | None
    addressee: str | None
    register: str | None
    unit: str | None
    year: int | None
    serial: int | None
    circular: bool
    secrecy: str | None
    retention_years: int | None
    docx_sha256: str | None
    pdf_sha256: str | None
    original_sha256: str | None
    reason: str | None
    note: str | None
    created_at: dt.datetime
    created_by: str
    issued_at: dt.datetime | None
    closed_at: dt.datetime | None

    @property
    def keep_until(self) -> int | None:
        """BE year to the end of which the letter is kept (None: ห้ามทำลาย, or no date)."""
        if self.retention_years is None or self.date is None:
            return None
        return be_year(self.date.year) + self.retention_years

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self)) | {"keep_until": self.keep_until}


@dataclass(frozen=True)
class IssuedLetter:
    id: int
    ref_no: str
    date: dt.date
    register: str
    serial: int
    year: int
    circular: bool
    docx_path: Path
    pdf_path: Path
    docx_sha256: str
    pdf_sha256: str
    letter: dict[str, Any] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Reservation:
    id: int
    ref_no: str
    register: str
    serial: int
    year: int
    circular: bool
    date: dt.date


@dataclass(frozen=True)
class ReceivedRecord:
    id: int
    register: str
    year: int
    serial: int
    received_at: dt.datetime
    ref_no: str | None
    letter_date: dt.date | None
    sender: str
    recipient: str
    subject: str
    action: str | None
    note: str | None
    letter_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Thread:
    """Letters linked by อ้างถึง, oldest first; ``links`` are (citing id, cited id)."""

    letters: list[LetterRecord]
    links: list[tuple[int, int]]


@dataclass(frozen=True)
class StoredOriginal:
    """The file an imported letter came from, as uploaded."""

    sha256: str
    name: str
    media_type: str


@dataclass(frozen=True)
class AuditEntry:
    """One event of the audit chain, its detail decoded."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class IndexableLetter:
    """What the search index keeps of a letter; ``received``: entered in an incoming
    register."""

    id: int
    status: str
    doc: dict[str, Any]
    ref_no: str | None
    date: dt.date | None
    secrecy: str | None
    subject: str | None
    unit: str | None
    received: bool


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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def _check_form_enclosures(doc: dict[str, Any]) -> None:
    """An enclosure may carry a filled form: ``{"form": {"name": ..., "data": {...}}}``.
    Check it against the form's schema before any number is taken."""
    from saraban.errors import InvalidLetter as _Invalid
    from saraban.templates.forms import validate_form_data

    problems: list[Problem] = []
    for i, enclosure in enumerate(doc.get("enclosures") or []):
        form = enclosure.get("form") if isinstance(enclosure, dict) else None
        if form is None:
            continue
        where = f"enclosures.{i}.form"
        if not isinstance(form, dict) or not isinstance(form.get("name"), str):
            problems.append(
                Problem(
                    where,
                    "form_shape",
                    'a form is {"name": ..., "data": {...}}',
                    'แบบฟอร์มต้องอยู่ในรูป {"name": ..., "data": {...}}',
                )
            )
            continue
        try:
            found = validate_form_data(form["name"], form.get("data") or {})
        except SarabanError as exc:  # an unknown form
            problems.append(Problem(f"{where}.name", "unknown_form", exc.message, exc.message))
            continue
        problems += [Problem(f"{where}.data.{p.field}", p.code, p.en, p.th) for p in found]
    if problems:
        raise _Invalid(problems)


def _form_enclosure_files(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, sha256) of every filled form a letter document encloses."""
    found = []
    for enclosure in doc.get("enclosures") or []:
        if isinstance(enclosure, dict) and isinstance(enclosure.get("files"), dict):
            found += [(kind, sha) for kind, sha in enclosure["files"].items() if sha]
    return found


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


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


def _clean_text(value: Any, field_name: str, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"{field_name}: ต้องระบุ / required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field_name}: ต้องเป็นข้อความ / must be text")
    return value.strip()


def _check_reason(reason: Any) -> str:
    text = _clean_text(reason, "reason", required=False)
    if text is None:
        raise BadRequest("reason: ต้องระบุเหตุผล / a reason is required")
    return text


def _letter_problem(field_name: str, code: str, en: str, th: str) -> InvalidLetter:
    return InvalidLetter([Problem(field_name, code, en, th)])


def _ref_key(ref_no: str | None) -> str | None:
    """The number's key for matching however it was typed; None for a number off the
    grammar (another office's odd number is kept as printed)."""
    if not ref_no:
        return None
    try:
        return parse_ref_no(ref_no).key
    except RefNoError:
        return None


def _close(s: Session, row: Letter, status: str, reason: str, *, actor: str, action: str) -> None:
    """End a row's life as cancelled or unused, with the reason, in the audit chain."""
    row.status = status
    row.reason = reason
    row.closed_at = utcnow()
    row.closed_by = actor
    s.flush()
    _audit.append(
        s,
        actor=actor,
        action=action,
        letter_id=row.id,
        detail={"ref_no": row.ref_no, "reason": reason},
    )


def _rows_updated(s: Session, statement: Update) -> int:
    """How many rows an UPDATE changed. ``Session.execute`` is typed to return a plain
    ``Result``; for an UPDATE it is a ``CursorResult``, which holds the count."""
    return cast(CursorResult[Any], s.execute(statement)).rowcount


def _taken_over(letter_id: int) -> Conflict:
    return Conflict(
        f"letter {letter_id}: ถูกดำเนินการโดยกระบวนการอื่นแล้ว / another process took over "
        "this pending letter"
    )


class Archive:
    """An open archive: a database (SQLite or PostgreSQL) and the stored files.

    Create it with :func:`open_archive`. Safe to use from several processes at once, and
    from several threads: every call opens its own database session.
    """

    def __init__(self, home: Path, url: str, *, renderer: Renderer | None = None) -> None:
        self.home = home
        self.url = url
        self.files = FileStore(home / "files")
        self._database = _db.Database(url)
        self._lock_path = _db.sqlite_lock_path(url)
        self.renderer: Renderer = renderer or TemplatesRenderer()
        self._listeners: list[Callable[[], None]] = []

    # ---- plumbing -----------------------------------------------------------------------------

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Archive:
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

    # ---- the outbox: what changed, for the search index -------------------------------------

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
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _insert(self, model: type) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(model)

    # ---- organisation -------------------------------------------------------------------------

    def add_register(
        self,
        name: str,
        *,
        circular_series: str = "separate",
        number_format: str = "plain",
        actor: str,
    ) -> RegisterInfo:
        """A new numbering book. ``circular_series``: "separate" (ว letters have their own
        series) or "shared" (one counter for both); ``number_format``: "plain"
        (``/๒๗๕๒๘``) or "year" (``/๖๑๙/๒๕๖๕``)."""
        name = _clean_text(name, "name") or ""
        if circular_series not in CIRCULAR_SERIES:
            raise BadRequest(
                f"circular_series: ต้องเป็น separate หรือ shared / must be one of "
                f"{', '.join(CIRCULAR_SERIES)}, not {circular_series!r}"
            )
        if number_format not in NUMBER_FORMATS:
            raise BadRequest(
                f"number_format: ต้องเป็น plain หรือ year / must be one of "
                f"{', '.join(NUMBER_FORMATS)}, not {number_format!r}"
            )
        with self._write() as s:
            if s.scalar(select(Register.id).where(Register.name == name)) is not None:
                raise Conflict(f"มีทะเบียนชื่อ {name!r} แล้ว / register {name!r} already exists")
            register = Register(
                name=name,
                circular_series=circular_series,
                number_format=number_format,
                created_at=utcnow(),
            )
            s.add(register)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="register.add",
                detail={
                    "register": name,
                    "circular_series": circular_series,
                    "number_format": number_format,
                },
            )
            return RegisterInfo(register.id, name, circular_series, number_format, [])

    def add_unit(
        self,
        prefix: str,
        name: str,
        *,
        register: str | None = None,
        address: list[str] | tuple[str, ...] = (),
        phone: str | None = None,
        fax: str | None = None,
        email: str | None = None,
        footer: str | None = None,
        signer: Mapping[str, Any] | None = None,
        circular_series: str = "separate",
        number_format: str = "plain",
        actor: str,
    ) -> UnitInfo:
        """A unit issuing under ``prefix`` (e.g. ``นค ๐๐๑๙.๓``) into ``register`` (a register
        name: shared with the units already in it). Without ``register`` a new register
        named after the prefix is made with ``circular_series`` and ``number_format``."""
        prefix = " ".join((_clean_text(prefix, "prefix") or "").split())
        key = _prefix_key(prefix)
        name = _clean_text(name, "name") or ""
        address = [line.strip() for line in address if line and line.strip()]
        if signer is not None:
            if not isinstance(signer.get("name"), str) or not isinstance(
                signer.get("position"), list
            ):
                raise BadRequest(
                    "signer: ต้องมี name และ position (รายการบรรทัด) / needs name and a list "
                    "of position lines"
                )
            signer = {"name": signer["name"], "position": list(signer["position"])}
        if register is None:
            with self._read() as s:
                exists = s.scalar(select(Register.id).where(Register.name == prefix))
            if exists is None:
                self.add_register(
                    prefix,
                    circular_series=circular_series,
                    number_format=number_format,
                    actor=actor,
                )
            register = prefix
        with self._write() as s:
            reg = s.scalar(select(Register).where(Register.name == register))
            if reg is None:
                raise NotFound(f"ไม่พบทะเบียน {register!r} / no register named {register!r}")
            if s.scalar(select(Unit.id).where(Unit.prefix_key == key)) is not None:
                raise Conflict(
                    f"มีส่วนราชการเลข {prefix} แล้ว / a unit with prefix {prefix} exists already"
                )
            unit = Unit(
                prefix=prefix,
                prefix_key=key,
                name=name,
                address=address,
                phone=_clean_text(phone, "phone", required=False),
                fax=_clean_text(fax, "fax", required=False),
                email=_clean_text(email, "email", required=False),
                footer=_clean_text(footer, "footer", required=False),
                signer=dict(signer) if signer else None,
                register_id=reg.id,
                created_at=utcnow(),
            )
            s.add(unit)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="unit.add",
                detail={"prefix": prefix, "name": name, "register": reg.name},
            )
            return self._unit_info(unit, reg)

    @staticmethod
    def _unit_info(unit: Unit, register: Register) -> UnitInfo:
        return UnitInfo(
            unit.id,
            unit.prefix,
            unit.name,
            register.name,
            list(unit.address),
            unit.phone,
            unit.fax,
            unit.email,
            unit.footer,
            unit.signer,
        )

    def units(self) -> list[UnitInfo]:
        with self._read() as s:
            rows = s.execute(select(Unit, Register).join(Register).order_by(Unit.prefix_key)).all()
            return [self._unit_info(u, r) for u, r in rows]

    def registers(self) -> list[RegisterInfo]:
        with self._read() as s:
            result = []
            for reg in s.scalars(select(Register).order_by(Register.name)):
                prefixes = s.scalars(
                    select(Unit.prefix).where(Unit.register_id == reg.id).order_by(Unit.prefix)
                ).all()
                result.append(
                    RegisterInfo(
                        reg.id, reg.name, reg.circular_series, reg.number_format, list(prefixes)
                    )
                )
            return result

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

    # ---- numbering ----------------------------------------------------------------------------

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

    @staticmethod
    def _series(register: Register, circular: bool) -> str:
        return CIRCULAR if circular and register.circular_series == "separate" else NORMAL

    @staticmethod
    def _ref_no(register: Register, unit: Unit, circular: bool, serial: int, year: int) -> str:
        code, unit_digits = unit.prefix_key[:2], unit.prefix_key[2:]
        shown_year = year if register.number_format == "year" else None
        return RefNo(code, unit_digits, circular, serial, shown_year).format("thai")

    # ---- issuing ------------------------------------------------------------------------------

    def _prepare(
        self,
        letter: Mapping[str, Any],
        unit: Unit | None,
        date: dt.date | None,
        retention_years: Any,
    ) -> tuple[CheckedLetter, dt.date, int | None]:
        """The letter ready to number, checked once: unit defaults filled in, date set;
        with the years it is kept."""
        from saraban.letter import check

        if not isinstance(letter, Mapping):
            raise BadRequest("letter: ต้องเป็นออบเจกต์ JSON / the letter must be a JSON object")
        if letter.get("ref_no"):
            raise _letter_problem(
                "ref_no",
                "already_numbered",
                f"the letter already has a number ({letter['ref_no']}); the register assigns "
                "it when the letter is issued: leave ref_no null",
                f"หนังสือมีเลขที่แล้ว ({letter['ref_no']}) ทะเบียนจะออกเลขให้เมื่อออกหนังสือ: "
                "ให้เว้น ref_no ว่างไว้",
            )
        doc = with_unit_defaults(letter, unit)  # a new dict: the caller's letter is untouched
        keep = self._retention(doc, retention_years)
        doc.pop("retention_years", None)
        given = doc.get("date")
        if given and date is not None and given != date.isoformat():
            raise _letter_problem(
                "date",
                "date_conflict",
                f"the letter is dated {given} but {date.isoformat()} was asked for",
                f"หนังสือลงวันที่ {given} แต่สั่งให้ลงวันที่ {date.isoformat()}",
            )
        if date is None and given:
            try:
                date = dt.date.fromisoformat(given)
            except (TypeError, ValueError):
                date = None  # check() names the bad date below
        if date is None and not given:
            date = dt.date.today()
        if date is not None:
            doc["date"] = date.isoformat()
        checked = check(doc)
        _check_form_enclosures(checked)
        assert date is not None
        return checked, date, keep

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

    def issue(
        self,
        letter: Mapping[str, Any],
        register: str,
        *,
        actor: str,
        date: dt.date | None = None,
        reservation: int | None = None,
        retention_years: int | None = _UNSET,
    ) -> IssuedLetter:
        """Number, date, render and store a letter; return what was issued.

        ``register`` is a unit prefix (``นค ๐๐๑๙.๓``) or the name of a register with one unit.
        The letter's ``circular`` picks the ว series. ``date`` (or the letter's own) defaults
        to today. ``reservation`` is the id of a number reserved earlier (จองเลข) in the same
        register, series and year. ``retention_years`` (default: the letter's
        ``retention_years`` or 10; None: never destroy) is how long it is kept.
        Bad input raises before any number is taken.
        """
        with self._read() as s:
            reg, unit = self._resolve(s, register)
        if unit is None:
            raise BadRequest(
                f"register: ทะเบียน {reg.name!r} ใช้ร่วมกันหลายส่วนราชการ ให้ระบุเลขประจำ"
                f"ส่วนราชการ / register {reg.name!r} is shared by several units: give the "
                "unit's prefix"
            )
        doc, date, keep = self._prepare(letter, unit, date, retention_years)
        circular = bool(doc.get("circular"))
        year = be_year(date.year)
        series = self._series(reg, circular)
        worker = worker_token()
        now = utcnow()
        with self._write() as s:
            if reservation is not None:
                row = self._take_reservation(s, reservation, reg, series, year, circular)
            else:
                serial = self._next_serial(s, reg.id, series, year)
                row = Letter(
                    register_id=reg.id,
                    series=series,
                    year=year,
                    serial=serial,
                    created_at=now,
                    created_by=actor,
                )
                s.add(row)
            assert row.serial is not None
            ref_no = self._ref_no(reg, unit, circular, row.serial, year)
            # The number checked with the letter, before it is committed: a letter that
            # cannot carry it (an order is numbered n/year) takes no number.
            doc = doc.replace(ref_no=ref_no)
            row.status = PENDING
            row.unit_id = unit.id
            row.circular = circular
            row.ref_no = ref_no
            row.ref_key = parse_ref_no(ref_no).key
            row.date = date
            row.subject = doc.get("subject")
            row.sender = (doc.get("sender") or {}).get("name")
            row.addressee = doc.get("addressee")
            row.secrecy = doc.get("secrecy")
            row.doc = doc
            row.retention_years = keep
            row.worker = worker
            s.flush()
            letter_id = row.id
            crashpoint("allocating")
        crashpoint("allocated")
        return self._complete(letter_id, doc, actor=actor, worker=worker, register=reg.name)

    def _take_reservation(
        self,
        s: Session,
        reservation: int,
        reg: Register,
        series: str,
        year: int,
        circular: bool,
    ) -> Letter:
        row = s.get(Letter, reservation, with_for_update=True)
        if row is None or row.status != RESERVED:
            raise Conflict(
                f"reservation: ไม่มีเลขจองรายการ {reservation} ที่ยังไม่ได้ใช้ / no unused "
                f"reservation {reservation}"
            )
        if row.register_id != reg.id or row.series != series or row.year != year:
            raise Conflict(
                f"reservation: เลขจอง {row.ref_no} เป็นของทะเบียน ชุดเลข หรือปีอื่น / the "
                f"reserved number {row.ref_no} belongs to another register, series "
                f"({row.series}) or year ({row.year}); this letter needs {series} {year}"
            )
        if row.circular != circular:
            raise Conflict(
                f"reservation: เลขจอง {row.ref_no} จองไว้สำหรับหนังสือ"
                f"{'เวียน' if row.circular else 'ที่ไม่ใช่หนังสือเวียน'} / the reserved number "
                f"{row.ref_no} was reserved for a {'circular' if row.circular else 'normal'} "
                "letter"
            )
        return row

    def _render(self, doc: dict[str, Any], kind: str) -> bytes:
        if kind == "docx":
            return self.renderer.render_docx(doc)
        return self.renderer.render_pdf(doc, pdfa=True)

    def _complete(
        self,
        letter_id: int,
        doc: dict[str, Any],
        *,
        actor: str,
        worker: str,
        register: str,
        repaired: bool = False,
        known: Mapping[str, str | None] | None = None,
    ) -> IssuedLetter:
        """Render (what is not stored yet), store and finalise a pending row."""
        hashes: dict[str, str] = {}
        blobs: dict[str, bytes] = {}
        try:
            enclosure_blobs = self._fill_form_enclosures(doc)
        except SarabanError as exc:
            reason = f"กรอกแบบฟอร์มที่ส่งมาด้วยไม่สำเร็จ / filling an enclosed form failed: {exc.message}"
            raise self._issue_failed(letter_id, doc, reason, actor=actor, worker=worker) from exc
        for kind in ("docx", "pdf"):
            old = (known or {}).get(kind)
            if old and self.files.check(old) is None:
                hashes[kind] = old
                continue
            try:
                blobs[kind] = self._render(doc, kind)
            except Exception as exc:  # noqa: BLE001 - any failure leaves the number unused
                reason = (
                    f"สร้างไฟล์ {kind.upper()} ไม่สำเร็จ / rendering the {kind.upper()} failed: "
                    f"{getattr(exc, 'message', None) or exc!r}"
                )
                raise self._issue_failed(
                    letter_id, doc, reason, actor=actor, worker=worker
                ) from exc
            from saraban.archive._files import sha256_bytes

            hashes[kind] = sha256_bytes(blobs[kind])
        crashpoint("rendered")
        if blobs or enclosure_blobs:
            with self._write() as s:
                claimed = _rows_updated(
                    s,
                    update(Letter)
                    .where(
                        Letter.id == letter_id, Letter.status == PENDING, Letter.worker == worker
                    )
                    # The enclosures' hashes live in the document: record them before the
                    # files are stored, so a repair finds them instead of strays.
                    .values(docx_sha256=hashes["docx"], pdf_sha256=hashes["pdf"], doc=doc)
                    .execution_options(synchronize_session=False),
                )
            if claimed != 1:
                raise _taken_over(letter_id)
            crashpoint("recorded")
            for data in enclosure_blobs:
                self.files.put(data)
            for kind, data in blobs.items():
                self.files.put(data)
                crashpoint(f"stored_{kind}")
        crashpoint("stored")
        files = {sha: kind for kind, sha in hashes.items()}
        files.update({sha: kind for kind, sha in _form_enclosure_files(doc)})
        now = utcnow()
        with self._write() as s:
            for sha, kind in files.items():
                s.execute(
                    self._insert(StoredFile)
                    .values(
                        sha256=sha,
                        size=self.files.path(sha).stat().st_size,
                        media_type=DOCX_TYPE if kind == "docx" else PDF_TYPE,
                        created_at=now,
                    )
                    .on_conflict_do_nothing()
                )
            row = s.get_one(Letter, letter_id, with_for_update=True)
            if row.status != PENDING or row.worker != worker:
                raise _taken_over(letter_id)
            row.docx_sha256 = hashes["docx"]
            row.pdf_sha256 = hashes["pdf"]
            row.doc = doc
            row.status = ISSUED
            row.worker = None
            row.issued_at = now
            row.issued_by = actor
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="letter.issue",
                letter_id=letter_id,
                detail={
                    "ref_no": row.ref_no,
                    "date": row.date.isoformat() if row.date else None,
                    "register": register,
                    "series": row.series,
                    "year": row.year,
                    "serial": row.serial,
                    "docx_sha256": row.docx_sha256,
                    "pdf_sha256": row.pdf_sha256,
                    "repaired": repaired,
                },
            )
            self._enqueue(s, letter_id, "issued")
            _references.link_letter(s, row)
            crashpoint("finalising")
            result = IssuedLetter(
                id=row.id,
                ref_no=row.ref_no or "",
                date=row.date or dt.date.today(),
                register=register,
                serial=row.serial or 0,
                year=row.year or 0,
                circular=row.circular,
                docx_path=self.files.path(hashes["docx"]),
                pdf_path=self.files.path(hashes["pdf"]),
                docx_sha256=hashes["docx"],
                pdf_sha256=hashes["pdf"],
                letter=dict(doc),  # a plain copy: dataclasses.asdict rebuilds dicts by type
            )
        crashpoint("issued")
        return result

    def _issue_failed(
        self, letter_id: int, doc: dict[str, Any], reason: str, *, actor: str, worker: str
    ) -> IssueFailed:
        """Record the number unused with the reason; the error that says so."""
        self._mark_unused(letter_id, reason, actor=actor, worker=worker)
        ref_no = doc.get("ref_no")
        return IssueFailed(
            f"{reason}; เลข {ref_no} บันทึกว่าไม่ได้ใช้ / the number {ref_no} is recorded as unused",
            letter_id=letter_id,
            ref_no=str(ref_no),
        )

    def _fill_form_enclosures(self, doc: dict[str, Any]) -> list[bytes]:
        """Fill each enclosure that names a form (``{"form": {"name", "data"}}``), put the
        files' hashes in the enclosure (``"files": {"docx", "pdf"}``) and return the files
        not stored yet. A repair reuses the files an earlier attempt stored."""
        from saraban.templates.forms import fill_docx, fill_pdf

        blobs = []
        for enclosure in doc.get("enclosures") or []:
            form = enclosure.get("form") if isinstance(enclosure, dict) else None
            if not form:
                continue
            stored = enclosure.get("files") or {}
            files = {}
            for kind, fill in (("docx", fill_docx), ("pdf", fill_pdf)):
                if stored.get(kind) and self.files.check(stored[kind]) is None:
                    files[kind] = stored[kind]
                    continue
                data = fill(form["name"], form.get("data") or {})
                files[kind] = hashlib.sha256(data).hexdigest()
                blobs.append(data)
            enclosure["files"] = files
        return blobs

    def enclosure_file(self, letter_id: int, index: int, kind: str) -> Path:
        """The filled form enclosed as ``enclosures[index]`` of a letter, as DOCX or PDF."""
        doc = self.letter_document(letter_id)
        enclosures = doc.get("enclosures") or []
        files = enclosures[index].get("files") if 0 <= index < len(enclosures) else None
        if not files or kind not in files:
            raise NotFound(
                f"letter {letter_id}: ไม่มีแบบฟอร์มที่ส่งมาด้วยลำดับ {index + 1} / no filled form "
                f"enclosed as number {index + 1}"
            )
        return self.files.path(files[kind])

    def _mark_unused(self, letter_id: int, reason: str, *, actor: str, worker: str | None) -> None:
        with self._write() as s:
            row = s.get_one(Letter, letter_id, with_for_update=True)
            if row.status not in (PENDING, RESERVED) or (worker and row.worker != worker):
                return
            row.worker = None
            _close(s, row, UNUSED, reason, actor=actor, action="number.unused")

    # ---- reservations and cancelling ----------------------------------------------------------

    def reserve(
        self,
        register: str,
        *,
        actor: str,
        circular: bool = False,
        date: dt.date | None = None,
        note: str | None = None,
    ) -> Reservation:
        """Take the next number now for a letter that is not final yet (จองเลข).

        Use it with ``issue(..., reservation=id)``, or give it up with :meth:`release`; a
        reservation not used by the end of its year is recorded unused by :meth:`repair`.
        """
        date = date or dt.date.today()
        year = be_year(date.year)
        with self._write() as s:
            reg, unit = self._resolve(s, register)
            if unit is None:
                raise BadRequest(
                    f"register: ทะเบียน {reg.name!r} ใช้ร่วมกันหลายส่วนราชการ ให้ระบุเลขประจำ"
                    f"ส่วนราชการ / register {reg.name!r} is shared: give the unit's prefix"
                )
            series = self._series(reg, circular)
            serial = self._next_serial(s, reg.id, series, year)
            ref_no = self._ref_no(reg, unit, circular, serial, year)
            row = Letter(
                status=RESERVED,
                register_id=reg.id,
                unit_id=unit.id,
                series=series,
                year=year,
                serial=serial,
                circular=circular,
                ref_no=ref_no,
                ref_key=parse_ref_no(ref_no).key,
                date=date,
                note=_clean_text(note, "note", required=False),
                created_at=utcnow(),
                created_by=actor,
            )
            s.add(row)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="number.reserve",
                letter_id=row.id,
                detail={"ref_no": ref_no, "register": reg.name, "note": row.note},
            )
            return Reservation(row.id, ref_no, reg.name, serial, year, circular, date)

    def release(self, letter_id: int, reason: str, *, actor: str) -> LetterRecord:
        """Give up a reserved number: it is recorded unused with the reason, never reused."""
        reason = _check_reason(reason)
        with self._read() as s:
            row = s.get(Letter, letter_id)
            if row is None or row.status != RESERVED:
                raise Conflict(f"letter {letter_id}: ไม่ใช่เลขที่จองไว้ / is not a reserved number")
        self._mark_unused(letter_id, reason, actor=actor, worker=None)
        return self.get(letter_id)

    def cancel(self, letter_id: int, reason: str, *, actor: str) -> LetterRecord:
        """Cancel an issued letter (ยกเลิก): it keeps its number and files, with the reason."""
        reason = _check_reason(reason)
        with self._write() as s:
            row = s.get(Letter, letter_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            if row.status != ISSUED:
                raise Conflict(
                    f"letter {letter_id} ({row.ref_no}): ยกเลิกได้เฉพาะหนังสือที่ออกแล้ว สถานะ"
                    f"ตอนนี้คือ {row.status} / only an issued letter can be cancelled; this one "
                    f"is {row.status}"
                )
            _close(s, row, CANCELLED, reason, actor=actor, action="letter.cancel")
            self._enqueue(s, letter_id, "cancelled")
        return self.get(letter_id)

    # ---- reading ------------------------------------------------------------------------------

    def _record(self, s: Session, row: Letter) -> LetterRecord:
        reg = s.get(Register, row.register_id) if row.register_id else None
        unit = s.get(Unit, row.unit_id) if row.unit_id else None
        return LetterRecord(
            id=row.id,
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
        )

    def get(self, letter_id: int) -> LetterRecord:
        with self._read() as s:
            row = s.get(Letter, letter_id)
            if row is None:
                raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            return self._record(s, row)

    def letter_document(self, letter_id: int) -> dict[str, Any]:
        """The letter document as issued (with its ref_no and date)."""
        with self._read() as s:
            row = s.get(Letter, letter_id)
            if row is None or row.doc is None:
                raise NotFound(f"ไม่พบเอกสารของหนังสือ {letter_id} / no document for {letter_id}")
            return copy.deepcopy(row.doc)

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
            query = select(Letter)
            if status is not None:
                query = query.where(Letter.status == status)
            if year is not None:
                query = query.where(Letter.year == year)
            if date_from is not None:
                query = query.where(Letter.date >= date_from)
            if date_to is not None:
                query = query.where(Letter.date <= date_to)
            if register is not None:
                reg, _unit = self._resolve(s, register)
                query = query.where(Letter.register_id == reg.id)
            query = query.order_by(
                Letter.register_id,
                Letter.year,
                case((Letter.series == NORMAL, 0), else_=1),  # the normal series, then ว
                Letter.serial,
                Letter.id,
            )
            if limit is not None:
                query = query.limit(limit)
            return [self._record(s, row) for row in s.scalars(query)]

    def serials(self, register: str, *, year: int, circular: bool = False) -> list[int]:
        """Every number given in one series and BE year, in order (for checks and tests)."""
        with self._read() as s:
            reg, _unit = self._resolve(s, register)
            series = self._series(reg, circular)
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

    def thread(self, letter_id: int) -> Thread:
        """The letters this one cites and is cited by, followed both ways, oldest first."""
        with self._read() as s:
            if s.get(Letter, letter_id) is None:
                raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            ids, links = _references.connected(s, letter_id)
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

    # ---- imported letters ---------------------------------------------------------------------

    def store_imported(
        self,
        letter: Mapping[str, Any],
        *,
        original: bytes,
        original_name: str,
        actor: str,
        needs_review: Mapping[str, Any] | None = None,
        retention_years: int | None = _UNSET,
        clearance: str | None = _UNSET,
    ) -> LetterRecord:
        """Keep an existing letter (e.g. parsed from a PDF) with its original file.

        It is not a number of our register (status ``stored``): its ``ref_no`` is whatever
        the letter carries. Its references are linked like an issued letter's. The same file
        twice is refused, naming the letter it became; a ``clearance`` (the importing user's)
        limits that to the letters it opens, so a file already kept as a secret letter is
        kept again rather than telling an uncleared user that the letter exists.
        """
        if not isinstance(original, bytes) or not original:
            raise BadRequest(f"{original_name}: ไฟล์ว่าง / the file is empty")
        doc = copy.deepcopy(dict(letter))
        keep = self._retention(doc, retention_years)
        doc.pop("retention_years", None)
        ref_no = doc.get("ref_no")
        key = _ref_key(ref_no)
        try:
            date = dt.date.fromisoformat(doc["date"]) if doc.get("date") else None
        except (TypeError, ValueError):
            date = None
        sha = hashlib.sha256(original).hexdigest()
        with self._read() as s:
            same_file = select(Letter.id).where(Letter.original_sha256 == sha)
            if clearance is not _UNSET:
                same_file = same_file.where(_secrecy_clause(clearance))
            earlier = s.scalar(same_file.limit(1))
        if earlier is not None:
            raise Conflict(
                f"{original_name}: นำเข้าแล้วเป็นหนังสือเลขที่ {earlier} / already imported as "
                f"letter {earlier} (same file, SHA-256 {sha[:12]}…)"
            )
        sha = self.files.put(original)
        now = utcnow()
        with self._write() as s:
            s.execute(
                self._insert(StoredFile)
                .values(
                    sha256=sha,
                    size=len(original),
                    media_type=_media_type(original_name),
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
            row = Letter(
                status=STORED,
                circular=bool(doc.get("circular")),
                ref_no=ref_no,
                ref_key=key,
                date=date,
                subject=doc.get("subject"),
                sender=(doc.get("sender") or {}).get("name")
                if isinstance(doc.get("sender"), dict)
                else None,
                addressee=doc.get("addressee"),
                secrecy=doc.get("secrecy"),
                doc=doc,
                retention_years=keep,
                original_sha256=sha,
                original_name=original_name,
                needs_review=dict(needs_review) if needs_review else None,
                created_at=now,
                created_by=actor,
            )
            s.add(row)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="letter.import",
                letter_id=row.id,
                detail={"ref_no": ref_no, "original": original_name, "sha256": sha},
            )
            self._enqueue(s, row.id, "imported")
            _references.link_letter(s, row)
            return self._record(s, row)

    # ---- incoming register --------------------------------------------------------------------

    def receive(
        self,
        register: str,
        *,
        sender: str,
        recipient: str,
        subject: str,
        actor: str,
        ref_no: str | None = None,
        letter_date: dt.date | None = None,
        received_at: dt.datetime | None = None,
        action: str | None = None,
        note: str | None = None,
        letter_id: int | None = None,
    ) -> ReceivedRecord:
        """Enter a received letter in the incoming register under the next เลขรับ (from 1
        each BE year of ``received_at``, which defaults to now)."""
        received_at = received_at or dt.datetime.now().astimezone()
        if received_at.tzinfo is None:
            received_at = received_at.astimezone()
        sender_text = _clean_text(sender, "sender") or ""
        recipient_text = _clean_text(recipient, "recipient") or ""
        subject_text = _clean_text(subject, "subject") or ""
        ref_text = _clean_text(ref_no, "ref_no", required=False)
        key = _ref_key(ref_text)
        year = be_year(received_at.date().year)
        with self._write() as s:
            reg, _unit = self._resolve(s, register)
            if letter_id is not None and s.get(Letter, letter_id) is None:
                raise NotFound(f"letter_id: ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            serial = self._next_serial(s, reg.id, INCOMING, year)
            row = Received(
                register_id=reg.id,
                year=year,
                serial=serial,
                received_at=received_at,
                ref_no=ref_text,
                ref_key=key,
                letter_date=letter_date,
                sender=sender_text,
                recipient=recipient_text,
                subject=subject_text,
                action=_clean_text(action, "action", required=False),
                note=_clean_text(note, "note", required=False),
                letter_id=letter_id,
                created_at=utcnow(),
                created_by=actor,
            )
            s.add(row)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="letter.receive",
                letter_id=letter_id,
                detail={
                    "register": reg.name,
                    "year": year,
                    "serial": serial,
                    "ref_no": ref_text,
                    "from": sender_text,
                    "subject": subject_text,
                },
            )
            return self._received_record(row, reg.name)

    @staticmethod
    def _received_record(row: Received, register: str) -> ReceivedRecord:
        return ReceivedRecord(
            id=row.id,
            register=register,
            year=row.year,
            serial=row.serial,
            received_at=row.received_at,
            ref_no=row.ref_no,
            letter_date=row.letter_date,
            sender=row.sender,
            recipient=row.recipient,
            subject=row.subject,
            action=row.action,
            note=row.note,
            letter_id=row.letter_id,
        )

    def record_action(
        self, received_id: int, action: str, *, actor: str, note: str | None = None
    ) -> ReceivedRecord:
        """Write what was done with a received letter (การปฏิบัติ); the number never changes."""
        action_text = _clean_text(action, "action") or ""
        with self._write() as s:
            row = s.get(Received, received_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            row.action = action_text
            if note is not None:
                row.note = _clean_text(note, "note", required=False)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="received.action",
                letter_id=row.letter_id,
                detail={"received_id": received_id, "action": action_text, "note": row.note},
            )
            return self._received_record(row, s.get_one(Register, row.register_id).name)

    def received(
        self,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        register: str | None = None,
    ) -> list[ReceivedRecord]:
        """The incoming register, in order of เลขรับ; dates bound the (local) day received."""
        with self._read() as s:
            query = select(Received, Register.name).join(Register)
            if register is not None:
                reg, _unit = self._resolve(s, register)
                query = query.where(Received.register_id == reg.id)
            if date_from is not None:
                start = dt.datetime.combine(date_from, dt.time()).astimezone()
                query = query.where(Received.received_at >= start)
            if date_to is not None:
                end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()).astimezone()
                query = query.where(Received.received_at < end)
            query = query.order_by(Received.register_id, Received.year, Received.serial)
            return [self._received_record(row, name) for row, name in s.execute(query)]

    # ---- audit trail --------------------------------------------------------------------------

    def audit(self, action: str, detail: Mapping[str, Any] | None = None, *, actor: str) -> None:
        """Append an event that concerns no letter (a login, a new user) to the audit chain."""
        with self._write() as s:
            _audit.append(s, actor=actor, action=action, detail=dict(detail or {}))

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

    # ---- search index -------------------------------------------------------------------------

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
        answered (no such letter, or not one the index holds) are to be removed from it."""
        wanted = sorted({int(i) for i in ids})
        # Not correlated: the incoming register is read once for the batch (it has no
        # index on letter_id).
        received = Letter.id.in_(select(Received.letter_id).where(Received.letter_id.in_(wanted)))
        with self._read() as s:
            rows = s.execute(
                select(Letter, Unit.prefix, received.label("received"))
                .outerjoin(Unit, Unit.id == Letter.unit_id)
                .where(Letter.id.in_(wanted), Letter.status.in_(SHOWN_STATUSES))
                .order_by(Letter.id)
            ).all()
        return [
            IndexableLetter(
                id=row.id,
                status=row.status,
                doc=dict(row.doc or {}),
                ref_no=row.ref_no,
                date=row.date,
                secrecy=row.secrecy,
                subject=row.subject,
                unit=prefix,
                received=bool(was_received),
            )
            for row, prefix, was_received in rows
        ]

    def index_done(self, job_ids: list[int]) -> None:
        """Drop jobs the indexer has finished."""
        if not job_ids:
            return
        from sqlalchemy import delete

        with self._write() as s:
            s.execute(delete(IndexJob).where(IndexJob.id.in_(job_ids)))

    # ---- repair and verify --------------------------------------------------------------------

    def repair(self, *, actor: str = "saraban-repair") -> list[str]:
        """Finish what a crashed process left: pending numbers (issued, or recorded unused
        if they cannot be rendered), half-written temporary files, and reservations of a
        past year (recorded unused). Returns a line for each thing done."""
        done = [
            f"removed temporary file {p}" for p in self.files.remove_stale_temporaries(pid_alive)
        ]
        now = utcnow()
        with self._read() as s:
            pending = s.execute(
                select(
                    Letter.id,
                    Letter.worker,
                    Letter.created_at,
                    Letter.created_by,
                    Letter.doc,
                    Letter.docx_sha256,
                    Letter.pdf_sha256,
                    Letter.register_id,
                ).where(Letter.status == PENDING)
            ).all()
            names = dict(s.execute(select(Register.id, Register.name)).all())
        me = worker_token()
        for row in pending:
            if worker_alive(row.worker, row.created_at, now):
                continue
            with self._write() as s:
                claimed = _rows_updated(
                    s,
                    update(Letter)
                    .where(
                        Letter.id == row.id, Letter.status == PENDING, Letter.worker == row.worker
                    )
                    .values(worker=me)
                    .execution_options(synchronize_session=False),
                )
            if claimed != 1:
                continue
            try:
                issued = self._complete(
                    row.id,
                    dict(row.doc or {}),
                    actor=row.created_by,
                    worker=me,
                    register=names.get(row.register_id, ""),
                    repaired=True,
                    known={"docx": row.docx_sha256, "pdf": row.pdf_sha256},
                )
            except IssueFailed as exc:
                done.append(f"letter {row.id}: {exc.message}")
            else:
                done.append(f"letter {row.id} ({issued.ref_no}): issue finished after a crash")
        this_year = be_year(dt.date.today().year)
        with self._read() as s:
            stale = s.execute(
                select(Letter.id, Letter.ref_no, Letter.year).where(
                    Letter.status == RESERVED, Letter.year < this_year
                )
            ).all()
        for row in stale:
            reason = (
                f"จองเลขไว้แต่ไม่ได้ใช้ภายในปี พ.ศ. {row.year} / reserved but not used within "
                f"the year {row.year} (BE)"
            )
            self._mark_unused(row.id, reason, actor=actor, worker=None)
            done.append(f"letter {row.id} ({row.ref_no}): {reason}")
        return done

    def verify(self) -> list[str]:
        """Everything wrong with the archive, one sentence each; empty when all is well.

        Re-reads every stored file and checks its SHA-256; checks that every issued letter
        has both its files recorded and present, that no file lies in the store unrecorded,
        that every series of every register runs 1..N with no gap (each number issued,
        cancelled, reserved or recorded unused with a reason), that no pending row has been
        abandoned, and that the audit chain is whole.
        """
        from saraban.archive._verify import verify

        return verify(self)


def _secrecy_clause(clearance: str | None) -> ColumnElement[bool]:
    """saraban.letter.can_see as SQL: the letters a user cleared at ``clearance`` may see."""
    from saraban.letter import SECRECIES, visible_levels  # slow to import; not every use needs it

    if clearance == SECRECIES[-1]:
        return true()
    clauses = [Letter.secrecy.is_(None), Letter.secrecy == ""]
    levels = visible_levels(clearance)
    if levels:
        clauses.append(Letter.secrecy.in_(levels))
    return or_(*clauses)


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
        row.seq, row.at, row.actor, row.action, detail if isinstance(detail, dict) else {}
    )


def _media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {
        ".pdf": PDF_TYPE,
        ".docx": DOCX_TYPE,
        ".txt": "text/plain; charset=utf-8",
        ".json": "application/json",
    }.get(suffix, "application/octet-stream")


def init_app(app: Any, settings: Settings) -> Archive:
    """Open the archive of ``settings`` for a Flask app and keep it in
    ``app.extensions["archive"]``; takes the app as a plain object, so this package never
    imports Flask."""
    opened = open_settings_archive(settings)
    app.extensions["archive"] = opened
    return opened


def open_settings_archive(settings: Settings, *, repair: bool = True) -> Archive:
    """The archive the settings name: instance folder, database, and the emblem the
    renderer prints."""
    return open_archive(
        settings.home,
        settings.database_url,
        repair=repair,
        renderer=TemplatesRenderer(settings.garuda_image),
    )


def open_archive(
    home: Path | str,
    database_url: str | None = None,
    *,
    repair: bool = True,
    renderer: Renderer | None = None,
) -> Archive:
    """Open (creating or upgrading) the archive in the instance folder ``home``.

    ``database_url`` selects PostgreSQL; without one the archive is
    ``<home>/saraban.sqlite3``. Unless ``repair`` is False, whatever a crashed process left
    half-done is finished first (:meth:`Archive.repair`).
    """
    home = Path(home).expanduser()
    try:
        (home / "files").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SarabanError(
            f"SARABAN_HOME: สร้างโฟลเดอร์ {home} ไม่ได้ / cannot create the instance folder "
            f"{home}: {exc.strerror}"
        ) from exc
    url = _db.database_url(home, database_url)
    archive = Archive(home, url, renderer=renderer)
    try:
        archive._database.upgrade()
        if repair:
            archive.repair()
    except BaseException:
        archive.close()
        raise
    return archive
