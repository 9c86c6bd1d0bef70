"""Issuing letters under gap-free numbers, reservations, cancelling, and the repair of
what a crash left half done.

How issuing keeps every number accounted for, even through a crash (kill -9) at any point:

1. One short write transaction takes the next serial of the series (the counter row is
   updated with ``UPDATE ... RETURNING``: the write lock on SQLite, a row lock on
   PostgreSQL) and writes the register row as ``pending``, with the letter document already
   carrying its number and date, and the caller's idempotency key (a draft's hand-over).
   Counter and row commit together or not at all.
2. Outside any lock, the DOCX and the PDF/A are rendered; their SHA-256s are written to the
   pending row, then the files are stored (content-addressed, atomically renamed).
3. One short write transaction records the files, turns the row ``issued``, appends the
   audit event, queues the letter for the search index and links its references.

If rendering fails, with any exception at all (WeasyPrint's ``FatalURLFetchingError``
derives from ``BaseException``), the number is recorded ``unused`` with the reason and the
caller gets :class:`IssueFailed`. If the process dies between 1 and 3, the row stays
``pending`` under the dead worker's name. Opening the archive never renders: the next
:func:`open_archive` (:meth:`Issuing.repair`) finishes only a row whose files are all
stored; :meth:`Issuing.finish_pending` (``saraban repair``, and ``saraban serve`` in the
background) renders the rest once more, and records the number unused if that fails or
if a letter stopped its process again. A number is never silently reused, and one bad
letter never stops the archive from opening.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    CursorResult,
    Update,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saraban.archive import _audit, _references
from saraban.archive._core import (
    _UNSET,
    DOCX_TYPE,
    PDF_TYPE,
    ArchiveCore,
    _form_enclosure_files,
    _letter_problem,
    with_unit_defaults,
)
from saraban.archive._models import (
    CANCELLED,
    ISSUED,
    PENDING,
    RESERVED,
    UNUSED,
    Letter,
    Register,
    Unit,
    utcnow,
)
from saraban.archive._process import crashpoint, pid_alive, worker_alive, worker_token
from saraban.archive._records import IssuedLetter, LetterRecord, Reservation
from saraban.errors import BadRequest, Conflict, NotFound, Problem, SarabanError
from saraban.thai import be_year, parse_ref_no
from saraban.vocabulary import typed_text

if TYPE_CHECKING:  # saraban.letter is slow to import; not every use of the archive needs it
    from saraban.letter import CheckedLetter


class IssueFailed(SarabanError):
    """Rendering failed after the number was taken; the number is recorded unused."""

    def __init__(self, message: str, *, letter_id: int, ref_no: str) -> None:
        super().__init__(message)
        self.letter_id = letter_id
        self.ref_no = ref_no


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


def _check_reason(reason: Any) -> str:
    text = typed_text(reason, "reason", required=False, lines=True)
    if text is None:
        raise BadRequest("reason: ต้องระบุเหตุผล / a reason is required")
    return text


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


def _why(exc: BaseException) -> str:
    """What went wrong, for the register's reason and the clerk: the error's own message,
    or its type and text."""
    return getattr(exc, "message", None) or repr(exc)


def _key_taken(key: str, reason: str | None = None) -> Conflict:
    why = f": {reason}" if reason else ""
    return Conflict(
        f"การออกหนังสือครั้งนี้ ({key}) จบไปแล้วโดยไม่ได้ออกเลข / this hand-over ({key}) "
        f"ended without an issued letter{why}"
    )


def _taken_over() -> Conflict:
    return Conflict(
        "หนังสือนี้ถูกดำเนินการโดยกระบวนการอื่นแล้ว / another process took over this pending letter"
    )


class Issuing(ArchiveCore):
    """Issuing under gap-free numbers, reservations, cancelling, and the repair of what a
    crash left."""

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

    def issue(
        self,
        letter: Mapping[str, Any],
        register: str,
        *,
        actor: str,
        date: dt.date | None = None,
        reservation: int | None = None,
        retention_years: int | None = _UNSET,
        idempotency_key: str | None = None,
    ) -> IssuedLetter:
        """Number, date, render and store a letter; return what was issued.

        ``register`` is a unit prefix (``นค ๐๐๑๙.๓``) or the name of a register with one unit.
        The letter's ``circular`` picks the ว series. ``date`` (or the letter's own) defaults
        to today. ``reservation`` is the id of a number reserved earlier (จองเลข) in the same
        register, series and year. ``retention_years`` (default: the letter's
        ``retention_years`` or 10; None: never destroy) is how long it is kept.
        ``idempotency_key`` names the hand-over (see :meth:`letter_by_key`): it is written
        with the number, and asking again with the same key answers with the letter issued
        under it instead of taking another number.
        Bad input raises before any number is taken.
        """
        if idempotency_key is not None:
            earlier = self._issued_under(idempotency_key)
            if earlier is not None:
                return earlier
        with self._read() as s:
            reg, unit = self._issuing_unit(s, register)
        doc, date, keep = self._prepare(letter, unit, date, retention_years)
        circular = bool(doc.get("circular"))
        secrecy = doc.get("secrecy")
        year = be_year(date.year)
        series = self._series(reg, circular, secrecy)
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
            ref_no = self._ref_no(reg, unit, circular, row.serial, year, secrecy)
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
            row.idempotency_key = idempotency_key
            try:
                s.flush()
            except IntegrityError:
                if idempotency_key is None:
                    raise
                raise _key_taken(idempotency_key) from None
            letter_id = row.id
            crashpoint("allocating")
        crashpoint("allocated")
        try:
            return self._complete(letter_id, doc, actor=actor, worker=worker, register=reg.name)
        except (IssueFailed, Conflict):
            raise
        except BaseException as exc:
            # Whatever failed after the number was taken (the disk, the database), the
            # number is recorded unused and the caller hears why: never a pending row left
            # behind a live process.
            raise self._issue_failed(
                letter_id,
                doc,
                f"ออกหนังสือไม่สำเร็จ / issuing failed: {_why(exc)}",
                actor=actor,
                worker=worker,
                cause=exc,
            ) from exc

    def _issued_under(self, key: str) -> IssuedLetter | None:
        """The letter issued under an idempotency key, None if the key is new; Conflict
        while it is being issued or if that issue failed."""
        with self._read() as s:
            row = s.scalar(select(Letter).where(Letter.idempotency_key == key))
            if row is None:
                return None
            if row.status in (ISSUED, CANCELLED) and row.docx_sha256 and row.pdf_sha256:
                register = s.get(Register, row.register_id) if row.register_id else None
                return self._issued_letter(row, register.name if register else "")
        if row.status == PENDING:
            raise Conflict(
                f"หนังสือนี้กำลังออกเลขอยู่ (รายการ {row.public_id}) / this letter is being "
                f"issued (letter {row.public_id})"
            )
        raise _key_taken(key, row.reason)

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
        except BaseException as exc:  # noqa: BLE001 - any failure leaves the number unused
            reason = f"กรอกแบบฟอร์มที่ส่งมาด้วยไม่สำเร็จ / filling an enclosed form failed: {_why(exc)}"
            raise self._issue_failed(
                letter_id, doc, reason, actor=actor, worker=worker, cause=exc
            ) from exc
        for kind in ("docx", "pdf"):
            old = (known or {}).get(kind)
            if old and self.files.check(old) is None:
                hashes[kind] = old
                continue
            try:
                blobs[kind] = self._render(doc, kind)
            except BaseException as exc:  # noqa: BLE001 - WeasyPrint raises BaseExceptions too
                reason = (
                    f"สร้างไฟล์ {kind.upper()} ไม่สำเร็จ / rendering the {kind.upper()} failed: "
                    f"{_why(exc)}"
                )
                raise self._issue_failed(
                    letter_id, doc, reason, actor=actor, worker=worker, cause=exc
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
                raise _taken_over()
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
                self._record_file(s, sha, DOCX_TYPE if kind == "docx" else PDF_TYPE)
            row = s.get_one(Letter, letter_id, with_for_update=True)
            if row.status != PENDING or row.worker != worker:
                raise _taken_over()
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
            result = self._issued_letter(row, register)
        crashpoint("issued")
        return result

    def _issued_letter(self, row: Letter, register: str) -> IssuedLetter:
        assert row.docx_sha256 and row.pdf_sha256
        return IssuedLetter(
            id=row.id,
            public_id=row.public_id,
            ref_no=row.ref_no or "",
            date=row.date or dt.date.today(),
            register=register,
            serial=row.serial or 0,
            year=row.year or 0,
            circular=row.circular,
            docx_path=self.files.path(row.docx_sha256),
            pdf_path=self.files.path(row.pdf_sha256),
            docx_sha256=row.docx_sha256,
            pdf_sha256=row.pdf_sha256,
            letter=dict(row.doc or {}),  # a plain copy: dataclasses.asdict rebuilds by type
        )

    def _issue_failed(
        self,
        letter_id: int,
        doc: dict[str, Any],
        reason: str,
        *,
        actor: str,
        worker: str,
        cause: BaseException | None = None,
    ) -> IssueFailed:
        """Record the number unused with the reason; the error that says so. A ``cause``
        that stops the process (Ctrl-C, exit) is raised again once the number is recorded."""
        self._mark_unused(letter_id, reason, actor=actor, worker=worker)
        if isinstance(cause, KeyboardInterrupt | SystemExit):
            raise cause
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
            # Files an attempt stored stay in the store (it never deletes): recorded, so
            # that verify does not take them for strays.
            kept = [("docx", row.docx_sha256), ("pdf", row.pdf_sha256)]
            for kind, sha in [*kept, *_form_enclosure_files(row.doc or {})]:
                if sha and self.files.exists(sha):
                    self._record_file(s, sha, DOCX_TYPE if kind == "docx" else PDF_TYPE)
            _close(s, row, UNUSED, reason, actor=actor, action="number.unused")

    def reserve(
        self,
        register: str,
        *,
        actor: str,
        circular: bool = False,
        date: dt.date | None = None,
        note: str | None = None,
        secrecy: str | None = None,
    ) -> Reservation:
        """Take the next number now for a letter that is not final yet (จองเลข).

        Use it with ``issue(..., reservation=id)``, or give it up with :meth:`release`; a
        reservation not used by the end of its year is recorded unused by :meth:`repair`.
        ``secrecy`` (ลับ, ลับมาก, ลับที่สุด) takes it from that level's own series, for a
        secret letter.
        """
        date = date or dt.date.today()
        year = be_year(date.year)
        with self._write() as s:
            reg, unit = self._issuing_unit(s, register)
            series = self._series(reg, circular, secrecy)
            serial = self._next_serial(s, reg.id, series, year)
            ref_no = self._ref_no(reg, unit, circular, serial, year, secrecy)
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
                secrecy=secrecy if series == secrecy else None,
                note=typed_text(note, "note", required=False, lines=True),
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
                shown = row.public_id if row is not None else letter_id
                raise Conflict(f"letter {shown}: ไม่ใช่เลขที่จองไว้ / is not a reserved number")
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
                    f"letter {row.public_id} ({row.ref_no}): ยกเลิกได้เฉพาะหนังสือที่ออกแล้ว สถานะ"
                    f"ตอนนี้คือ {row.status} / only an issued letter can be cancelled; this one "
                    f"is {row.status}"
                )
            _close(s, row, CANCELLED, reason, actor=actor, action="letter.cancel")
            self._enqueue(s, letter_id, "cancelled")
            _drop_unsent_mail(s, letter_id)
        return self.get(letter_id)

    def repair(self, *, actor: str = "saraban-repair") -> list[str]:
        """Finish what a crashed process left, without rendering anything (this runs at
        every open: one bad letter must never stop the archive from opening): pending
        numbers whose files are all stored are issued, half-written temporary files are
        removed, and reservations of a past year are recorded unused. A pending number
        that still needs rendering is left to :meth:`finish_pending`. Returns a line for
        each thing done."""
        done = [
            f"removed temporary file {p}" for p in self.files.remove_stale_temporaries(pid_alive)
        ]
        for row in self._abandoned():
            if self._needs_rendering(row):
                continue
            done += self._finish(row, attempt=False)
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

    def finish_pending(self) -> list[str]:
        """Render once more, and issue, every pending number whose process died before it
        stored the files. A letter that cannot be rendered, or whose rendering stopped its
        process again, has its number recorded unused with the reason (the draft it came
        from can then be issued again). Returns a line for each letter."""
        done: list[str] = []
        for row in self._abandoned():
            done += self._finish(row, attempt=True)
        return done

    def _abandoned(self) -> list[Any]:
        """Pending rows whose process is gone."""
        now = utcnow()
        with self._read() as s:
            pending = s.execute(
                select(
                    Letter.id,
                    Letter.ref_no,
                    Letter.worker,
                    Letter.created_at,
                    Letter.created_by,
                    Letter.doc,
                    Letter.docx_sha256,
                    Letter.pdf_sha256,
                    Letter.register_id,
                    Letter.attempts,
                ).where(Letter.status == PENDING)
            ).all()
        return [row for row in pending if not worker_alive(row.worker, row.created_at, now)]

    def _needs_rendering(self, row: Any) -> bool:
        """Whether finishing the row would render anything (a file of it is not stored)."""
        wanted = [row.docx_sha256, row.pdf_sha256]
        for enclosure in (row.doc or {}).get("enclosures") or []:
            if isinstance(enclosure, dict) and enclosure.get("form"):
                files = enclosure.get("files") or {}
                wanted += [files.get("docx"), files.get("pdf")]
        return not all(sha and self.files.check(sha) is None for sha in wanted)

    def _finish(self, row: Any, *, attempt: bool) -> list[str]:
        """Take up an abandoned pending row and issue it (``attempt``: rendering again
        what is missing, once)."""
        me = worker_token()
        with self._write() as s:
            claimed = _rows_updated(
                s,
                update(Letter)
                .where(
                    Letter.id == row.id,
                    Letter.status == PENDING,
                    Letter.worker == row.worker,
                    Letter.attempts == row.attempts,
                )
                .values(worker=me, attempts=row.attempts + (1 if attempt else 0))
                .execution_options(synchronize_session=False),
            )
        if claimed != 1:
            return []
        name = f"letter {row.id} ({row.ref_no})"
        if attempt and row.attempts >= 1:
            reason = (
                "การสร้างไฟล์ของหนังสือนี้ทำให้โปรแกรมหยุดทำงานซ้ำ จึงบันทึกว่าไม่ได้ใช้เลข / "
                f"rendering this letter stopped its process again (attempt {row.attempts + 1})"
            )
            self._mark_unused(row.id, reason, actor=row.created_by, worker=me)
            return [f"{name}: {reason}"]
        with self._read() as s:
            register = s.get(Register, row.register_id) if row.register_id else None
        try:
            issued = self._complete(
                row.id,
                dict(row.doc or {}),
                actor=row.created_by,
                worker=me,
                register=register.name if register else "",
                repaired=True,
                known={"docx": row.docx_sha256, "pdf": row.pdf_sha256},
            )
        except IssueFailed as exc:
            return [f"letter {row.id}: {exc.message}"]
        except Conflict:  # another process took it over
            return []
        except BaseException as exc:
            failed = self._issue_failed(
                row.id,
                dict(row.doc or {}),
                f"ออกหนังสือไม่สำเร็จ / issuing failed: {_why(exc)}",
                actor=row.created_by,
                worker=me,
                cause=exc,
            )
            return [f"letter {row.id}: {failed.message}"]
        return [f"letter {row.id} ({issued.ref_no}): issue finished after a crash"]


def _drop_unsent_mail(s: Session, letter_id: int) -> None:
    """The e-mails of a cancelled letter's deliveries not sent yet (the SMTP server was
    away, or the queue behind) are not sent: their link would only say it was cancelled."""
    from saraban.archive._circulars import Delivery
    from saraban.archive._mail import OutgoingMail

    s.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.failed_at.is_(None),
            OutgoingMail.delivery_id.in_(
                select(Delivery.id).where(Delivery.letter_id == letter_id)
            ),
        )
        .values(
            failed_at=utcnow(),
            last_error="หนังสือถูกยกเลิก จึงไม่ส่ง / the letter was cancelled: not sent",
        )
        .execution_options(synchronize_session=False)
    )
