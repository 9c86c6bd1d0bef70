"""What comes in from outside: letters kept from files (imports) and the incoming
register (ทะเบียนหนังสือรับ)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from saraban.archive import _audit, _references
from saraban.archive._core import (
    _UNSET,
    DOCX_TYPE,
    PDF_TYPE,
    READ_BATCH,
    ArchiveCore,
    _check_secrecy,
    _ref_key,
    _secrecy_clause,
)
from saraban.archive._models import (
    CANCELLED,
    ISSUED,
    STORED,
    Letter,
    LetterFile,
    Received,
    ReceivedOrder,
    Reference,
    Register,
    StoredFile,
    received_series,
    utcnow,
)
from saraban.archive._records import LetterRecord, Paging, ReceivedRecord, StoredOriginal
from saraban.errors import BadRequest, Conflict, InvalidLetter, NotFound
from saraban.letter import MAX_ATTACHMENTS_TEXT_CHARS, MAX_SUBJECT_CHARS
from saraban.thai import SECRET_SERIES, be_year
from saraban.vocabulary import typed_text

MAX_ENCLOSED = 50  # files kept with one letter
_MEDIA_TYPES = {
    ".pdf": PDF_TYPE,
    ".docx": DOCX_TYPE,
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".csv": "text/csv; charset=utf-8",
}


def _media_type(name: str) -> str:
    return _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def printable_line(text: str) -> str:
    """Text from outside (a header, a file name) as one line of printable characters:
    line breaks, controls and lone surrogates become spaces, runs of spaces one."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _file_name(name: Any, fallback: str) -> str:
    """A file's name as it is kept: its last part, one printable line, at most 200
    characters with its suffix kept (a name is text from outside: an e-mail header, a
    scanner's name that is not UTF-8)."""
    text = printable_line(str(name or "").replace("\\", "/").rsplit("/", 1)[-1])
    if len(text) > 200:
        suffix = Path(text).suffix[:20]
        text = text[: 200 - len(suffix)] + suffix
    return text or fallback


def _imported_already(name: str, earlier: str, sha: str) -> Conflict:
    return Conflict(
        f"{name}: นำเข้าแล้วเป็นหนังสือรายการ {earlier} / already imported as letter {earlier} "
        f"(same file, SHA-256 {sha[:12]}…)"
    )


# Days a period may name: no letter was received before the first or after the last, and
# the clock's zone cannot place the year 1 or 9999 (a period "from 0001-01-01" was a 500).
_FIRST_DAY, _LAST_DAY = dt.date(1800, 1, 1), dt.date(9000, 1, 1)


def _day_start(day: dt.date, *, after: bool = False) -> dt.datetime:
    """The local start of ``day`` (of the day after it), a period's bound."""
    day = min(max(day, _FIRST_DAY), _LAST_DAY)
    return dt.datetime.combine(day + dt.timedelta(days=1 if after else 0), dt.time()).astimezone()


@dataclass(frozen=True)
class StampState:
    """What a stamped copy prints beside the stamp: the orders (their ids) and the place."""

    orders: tuple[int, ...]
    position: tuple[float, float] | None


class StampOutdated(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "มีผู้สั่งการหรือย้ายตราพร้อมกัน ลองอีกครั้ง / an order was written or the stamp moved "
            "meanwhile: try again"
        )


class Incoming(ArchiveCore):
    """Imported letters and the incoming register."""

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
        idempotency_key: str | None = None,
        and_then: Callable[[Session, Letter], None] | None = None,
        enclosed: Sequence[tuple[str, bytes]] = (),
    ) -> LetterRecord:
        """Keep an existing letter (e.g. parsed from a PDF) with its original file.

        It is not a number of our register (status ``stored``): its ``ref_no`` is whatever
        the letter carries. Its references are linked like an issued letter's. The same file
        twice is refused, naming the letter it became; a ``clearance`` (the importing user's)
        limits that to the letters it opens, so a file already kept as a secret letter is
        kept again rather than telling an uncleared user that the letter exists.
        ``idempotency_key`` names the hand-over (a batch item): written with the letter, it
        makes asking again answer with that letter instead of keeping the file twice.
        ``and_then(session, row)`` is run in the same transaction once the letter is
        written (a recipient's reply records itself against its delivery there): if it
        raises, nothing of the letter is kept. ``enclosed``: (name, bytes) of the files
        that came with the letter (the other attachments of its e-mail), kept with it in
        that order (:meth:`enclosed_files`).
        """
        if not isinstance(original, bytes) or not original:
            raise BadRequest(f"{original_name}: ไฟล์ว่าง / the file is empty")
        if len(enclosed) > MAX_ENCLOSED:
            raise BadRequest(
                f"ไฟล์ที่มากับหนังสือเกิน {MAX_ENCLOSED} ไฟล์ / more than {MAX_ENCLOSED} files "
                "came with the letter"
            )
        files = [(_file_name(n, f"file-{i}"), data) for i, (n, data) in enumerate(enclosed, 1)]
        if any(not isinstance(data, bytes) or not data for _, data in files):
            raise BadRequest("ไฟล์ที่มากับหนังสือว่าง / a file that came with the letter is empty")
        if idempotency_key is not None:
            earlier_letter = self.letter_by_key(idempotency_key)
            if earlier_letter is not None:
                return earlier_letter
        original_name = _file_name(original_name, "original")
        doc = copy.deepcopy(dict(letter))
        if isinstance(doc.get("attachments_text"), str):  # searched, never printed: bounded
            doc["attachments_text"] = doc["attachments_text"][:MAX_ATTACHMENTS_TEXT_CHARS]
        keep = self._retention(doc, retention_years)
        doc.pop("retention_years", None)
        ref_no = doc.get("ref_no")
        key = _ref_key(ref_no)
        try:
            date = dt.date.fromisoformat(doc["date"]) if doc.get("date") else None
        except (TypeError, ValueError):
            date = None
        sha = hashlib.sha256(original).hexdigest()
        same_file = select(Letter.public_id).where(Letter.original_sha256 == sha)
        if clearance is not _UNSET:
            same_file = same_file.where(_secrecy_clause(clearance))
        with self._read() as s:
            earlier = s.scalar(same_file.limit(1))
        if earlier is not None:
            raise _imported_already(original_name, earlier, sha)
        sha = self.files.put(original)
        kept = [(name, self.files.put(data)) for name, data in files]
        now = utcnow()
        with self._write() as s:
            # asked again in the write's turn: two clerks confirming one file at the same
            # moment both passed the first look, and the file was kept twice
            _audit.hold(s)
            earlier = s.scalar(same_file.limit(1))
            if earlier is not None:
                raise _imported_already(original_name, earlier, sha)
            self._record_file(s, sha, _media_type(original_name))
            for name, file_sha in kept:
                self._record_file(s, file_sha, _media_type(name))
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
                idempotency_key=idempotency_key,
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
                detail={
                    "ref_no": ref_no,
                    "original": original_name,
                    "sha256": sha,
                    **({"enclosed": [{"name": n, "sha256": h} for n, h in kept]} if kept else {}),
                },
            )
            s.add_all(
                LetterFile(letter_id=row.id, position=n, name=name, sha256=file_sha)
                for n, (name, file_sha) in enumerate(kept, start=1)
            )
            self._enqueue(s, row.id, "imported")
            _references.link_letter(s, row)
            if and_then is not None:
                and_then(s, row)
            return self._record(s, row)

    def enclosed_files(self, letter_id: int) -> list[StoredOriginal]:
        """The files that came with a kept letter, in order (name and type as they came)."""
        with self._read() as s:
            rows = s.execute(
                select(LetterFile.sha256, LetterFile.name, StoredFile.media_type)
                .join(StoredFile, StoredFile.sha256 == LetterFile.sha256)
                .where(LetterFile.letter_id == letter_id)
                .order_by(LetterFile.position)
            ).all()
        return [StoredOriginal(*row) for row in rows]

    # Document keys a clerk may correct in an imported letter before confirming it (what
    # the importer reads); ``secrecy`` is not among them: a letter's tier moves its index.
    CORRECTABLE_IMPORTED = (
        "ref_no",
        "date",
        "subject",
        "sender",
        "addressee",
        "salutation",
        "urgency",
        "references",
        "body",
        "closing",
        "complimentary_close",
        "signer",
        "owner_unit",
        "contact",
        "footer",
        "copies_to",
    )

    def _stored_row(self, s: Any, letter_id: int) -> Letter:
        row = s.get(Letter, letter_id, with_for_update=True)
        if row is None:
            raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
        if row.status != STORED:
            # an issued letter of ours never changes: only kept (imported) letters are corrected
            raise Conflict(
                "หนังสือที่ออกเลขแล้วแก้ไขไม่ได้ แก้ได้เฉพาะหนังสือที่นำเข้า / an issued letter "
                "never changes: only imported letters can be corrected"
            )
        if s.scalar(select(Received.id).where(Received.letter_id == letter_id).limit(1)):
            # the incoming register's row is what a received letter is corrected through
            raise Conflict(
                "หนังสือนี้ลงทะเบียนรับแล้ว ตรวจแก้ที่หน้าหนังสือรับ / a received letter is "
                "corrected on its received page"
            )
        return row

    def is_received(self, letter_id: int) -> bool:
        """Whether a kept letter was entered in the incoming register (corrected there)."""
        with self._read() as s:
            found = s.scalar(select(Received.id).where(Received.letter_id == letter_id).limit(1))
            return found is not None

    def correct_imported(
        self, letter_id: int, changes: Mapping[str, Any], *, actor: str
    ) -> LetterRecord:
        """Correct what the importer read in a kept letter (``CORRECTABLE_IMPORTED`` keys of
        its document). The corrected fields are checked by the letter format's own rules
        (a field the clerk did not touch may stay as the original had it); each correction
        is audited with its value before and after, and the letter is indexed again."""
        from saraban.letter import validate  # slow to import; not every use needs it

        unknown = sorted(set(changes) - set(self.CORRECTABLE_IMPORTED))
        if unknown:
            raise BadRequest(
                f"แก้ไขได้เฉพาะ {', '.join(self.CORRECTABLE_IMPORTED)} / cannot change "
                f"{', '.join(unknown)}"
            )
        with self._write() as s:
            row = self._stored_row(s, letter_id)
            doc = copy.deepcopy(row.doc or {})
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for name, value in changes.items():
                if doc.get(name) != value:
                    before[name], after[name] = doc.get(name), copy.deepcopy(value)
                    doc[name] = copy.deepcopy(value)
            if not after:
                return self._record(s, row)
            problems = [
                p
                for p in validate(doc)
                if p.field.split(".")[0] in after or p.field == "" or p.field == "kind"
            ]
            if problems:
                raise InvalidLetter(problems)
            try:
                date = dt.date.fromisoformat(doc["date"]) if doc.get("date") else None
            except (TypeError, ValueError):
                date = None
            sender = doc.get("sender")
            row.doc = doc
            row.ref_no, row.ref_key = doc.get("ref_no"), _ref_key(doc.get("ref_no"))
            row.date, row.subject, row.addressee = date, doc.get("subject"), doc.get("addressee")
            row.sender = sender.get("name") if isinstance(sender, dict) else None
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="letter.correct",
                letter_id=row.id,
                detail={"before": before, "after": after},
            )
            self._enqueue(s, row.id, "corrected")
            if {"references", "ref_no", "date"} & set(after):
                # the references read again (the corrected lines, and earlier letters'
                # references that name this letter by its corrected number and date)
                s.execute(delete(Reference).where(Reference.letter_id == row.id))
                _references.link_letter(s, row)
            return self._record(s, row)

    def confirm_imported(self, letter_id: int, *, actor: str) -> LetterRecord:
        """The clerk checked what the importer read: the review marks are cleared."""
        with self._write() as s:
            row = self._stored_row(s, letter_id)
            if row.needs_review:
                cleared = row.needs_review
                row.needs_review = None
                s.flush()
                _audit.append(
                    s,
                    actor=actor,
                    action="letter.confirm",
                    letter_id=row.id,
                    detail={"reviewed": list((cleared or {}).get("fields") or [])},
                )
                self._enqueue(s, row.id, "confirmed")
            return self._record(s, row)

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
        secrecy: str | None = None,
        pdfa: bytes | None = None,
        answers_id: int | None = None,
        confirmed: bool = True,
    ) -> ReceivedRecord:
        """Enter a received letter in the incoming register under the next เลขรับ (from 1
        each BE year of ``received_at``, which defaults to now). ``secrecy`` (ลับ, ลับมาก,
        ลับที่สุด) hides the row from users not cleared for it, as a secret letter is
        hidden from the outgoing register.

        Taken in from a file: ``letter_id`` is the letter kept with the original file,
        ``pdfa`` the searchable copy OCR made of it, ``answers_id`` the letter of ours it
        answers; ``confirmed=False`` leaves the fields read from the file open to
        correction (:meth:`correct_received`) until :meth:`confirm_received`."""
        received_at = received_at or dt.datetime.now().astimezone()
        if received_at.tzinfo is None:
            received_at = received_at.astimezone()
        sender_text = typed_text(sender, "sender") or ""
        recipient_text = typed_text(recipient, "recipient") or ""
        subject_text = typed_text(subject, "subject", limit=MAX_SUBJECT_CHARS) or ""
        ref_text = typed_text(ref_no, "ref_no", required=False)
        secrecy_level = _check_secrecy(secrecy)
        key = _ref_key(ref_text)
        year = be_year(received_at.date().year)
        pdfa_sha = self.files.put(pdfa) if pdfa else None
        with self._write() as s:
            reg, _unit = self._resolve(s, register)
            if letter_id is not None and s.get(Letter, letter_id) is None:
                raise NotFound(f"letter_id: ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
            if answers_id is not None and s.get(Letter, answers_id) is None:
                raise NotFound(f"answers_id: ไม่พบหนังสือรายการ {answers_id} / no letter {answers_id}")
            if pdfa_sha is not None:
                self._record_file(s, pdfa_sha, PDF_TYPE)
            now = utcnow()
            row = self._enter_received(
                s,
                reg.id,
                year,
                received_at=received_at,
                ref_no=ref_text,
                ref_key=key,
                letter_date=letter_date,
                sender=sender_text,
                recipient=recipient_text,
                subject=subject_text,
                action=typed_text(action, "action", required=False, lines=True),
                note=typed_text(note, "note", required=False, lines=True),
                letter_id=letter_id,
                secrecy=secrecy_level,
                pdfa_sha256=pdfa_sha,
                answers_id=answers_id,
                confirmed_at=now if confirmed else None,
                confirmed_by=actor if confirmed else None,
                created_at=now,
                created_by=actor,
            )
            if letter_id is not None:  # now a received letter: indexed as one
                self._enqueue(s, letter_id, "received")
            _audit.append(
                s,
                actor=actor,
                action="letter.receive",
                letter_id=letter_id,
                detail={
                    "register": reg.name,
                    "year": year,
                    "serial": row.serial,
                    "ref_no": ref_text,
                    "from": sender_text,
                    "subject": subject_text,
                    "received_id": row.id,
                    **({"secrecy": secrecy_level} if secrecy_level else {}),
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
            series=row.series,
            received_at=row.received_at,
            ref_no=row.ref_no,
            letter_date=row.letter_date,
            sender=row.sender,
            recipient=row.recipient,
            subject=row.subject,
            action=row.action,
            note=row.note,
            letter_id=row.letter_id,
            secrecy=row.secrecy,
            public_id=row.public_id,
            pdfa_sha256=row.pdfa_sha256,
            stamped_sha256=row.stamped_sha256,
            answers_id=row.answers_id,
            confirmed_at=row.confirmed_at,
            confirmed_by=row.confirmed_by,
        )

    # ---- a received letter taken in from a file -----------------------------------------

    def received_one(self, received_id: int, *, clearance: str | None = _UNSET) -> ReceivedRecord:
        """One received letter; a row the ``clearance`` does not open is not found, as one
        that does not exist (nothing tells the two apart)."""
        with self._read() as s:
            query = select(Received, Register.name).join(Register).where(Received.id == received_id)
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            found = s.execute(query).first()
            if found is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            return self._received_record(found[0], found[1])

    def received_id_for(self, public_id: str) -> int | None:
        """The row of the received letter with this public id, None if there is none (the
        caller still checks that the user may see it)."""
        if not isinstance(public_id, str) or len(public_id) > 20:
            return None
        with self._read() as s:
            return s.scalar(select(Received.id).where(Received.public_id == public_id))

    def register_name(self, name: str) -> str:
        """The register a unit prefix or a register name names (BadRequest or NotFound
        otherwise): checked before slow work is started for it."""
        with self._read() as s:
            reg, _unit = self._resolve(s, name)
            return reg.name

    def received_of_letters(
        self, letter_ids: list[int], *, clearance: str | None = _UNSET
    ) -> list[ReceivedRecord]:
        """The received rows entered for the given letters (kept files), or answering them."""
        if not letter_ids:
            return []
        with self._read() as s:
            query = (
                select(Received, Register.name)
                .join(Register)
                .where(Received.letter_id.in_(letter_ids) | Received.answers_id.in_(letter_ids))
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            rows = s.execute(query.order_by(Received.id))
            return [self._received_record(row, name) for row, name in rows]

    def received_like(
        self,
        *,
        sender: str,
        ref_no: str | None,
        letter_date: dt.date | None,
        clearance: str | None = _UNSET,
    ) -> ReceivedRecord | None:
        """An earlier received letter with the same sender, number and date (the same
        letter arriving twice, by post and by e-mail), among those ``clearance`` opens."""
        key = _ref_key(ref_no)
        if not key or letter_date is None:
            return None
        with self._read() as s:
            query = (
                select(Received, Register.name)
                .join(Register)
                .where(
                    Received.ref_key == key,
                    Received.letter_date == letter_date,
                    Received.sender == sender,
                )
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            found = s.execute(query.order_by(Received.id).limit(1)).first()
            return self._received_record(found[0], found[1]) if found else None

    def letters_like(
        self,
        *,
        sender: str,
        ref_no: str | None,
        letter_date: dt.date | None,
        clearance: str | None = _UNSET,
    ) -> LetterRecord | None:
        """An earlier letter (kept from a file, or issued by us) with the same sender,
        number and date, among those ``clearance`` opens: :meth:`received_like` for the
        letters themselves."""
        key = _ref_key(ref_no)
        if not key or letter_date is None or not sender:
            return None
        with self._read() as s:
            query = select(Letter).where(
                Letter.ref_key == key,
                Letter.date == letter_date,
                Letter.sender == sender,
                Letter.status.in_((STORED, ISSUED, CANCELLED)),
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance))
            row = s.scalars(query.order_by(Letter.id).limit(1)).first()
            return self._record(s, row) if row is not None else None

    def issued_with_file(
        self, sha256: str, *, clearance: str | None = _UNSET
    ) -> LetterRecord | None:
        """The letter of ours whose issued PDF or DOCX is exactly this file, among those
        ``clearance`` opens."""
        with self._read() as s:
            query = select(Letter).where(
                (Letter.pdf_sha256 == sha256) | (Letter.docx_sha256 == sha256),
                Letter.status.in_((ISSUED, CANCELLED)),
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance))
            row = s.scalars(query.order_by(Letter.id).limit(1)).first()
            return self._record(s, row) if row is not None else None

    def letters_with_original(self, sha256: str, *, clearance: str | None = _UNSET) -> list[int]:
        """Kept letters whose original file has this SHA-256, among those ``clearance``
        opens."""
        with self._read() as s:
            query = select(Letter.id).where(Letter.original_sha256 == sha256)
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance))
            return list(s.scalars(query.order_by(Letter.id)))

    def attach_stamped(
        self,
        received_id: int,
        stamped: bytes,
        *,
        actor: str,
        position: tuple[float, float] | None = None,
        drawn: StampState | None = None,
    ) -> ReceivedRecord:
        """Keep the stamped copy of page one (stamped again: the newer copy; the original
        and every earlier copy stay in the file store). ``position``: where the clerk put
        the stamp (mm from the top left), kept for the copies made after this one.
        ``drawn``: the orders and place the copy was drawn with (:meth:`stamp_state`); if
        either changed since, :class:`StampOutdated` is raised and nothing is kept (a copy
        drawn before an order was written, kept after it, dropped the order)."""
        sha = self.files.put(stamped)
        with self._write() as s:
            row = s.get(Received, received_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            if drawn is not None:
                now = self._stamp_state(s, row)
                if now.orders != drawn.orders or (
                    position is None and now.position != drawn.position
                ):
                    raise StampOutdated()
            self._record_file(s, sha, PDF_TYPE)
            row.stamped_sha256 = sha
            detail: dict[str, Any] = {"received_id": received_id, "sha256": sha}
            if position is not None:
                row.stamp_left_mm, row.stamp_top_mm = position
                detail.update(left_mm=round(position[0], 1), top_mm=round(position[1], 1))
            s.flush()
            _audit.append(
                s, actor=actor, action="received.stamp", letter_id=row.letter_id, detail=detail
            )
            return self._received_record(row, s.get_one(Register, row.register_id).name)

    def stamp_state(self, received_id: int) -> StampState:
        """What a stamped copy of the letter prints now: its orders and the stamp's place."""
        with self._read() as s:
            row = s.get(Received, received_id)
            if row is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            return self._stamp_state(s, row)

    @staticmethod
    def _stamp_state(s: Any, row: Received) -> StampState:
        orders = tuple(
            s.scalars(
                select(ReceivedOrder.id)
                .where(ReceivedOrder.received_id == row.id)
                .order_by(ReceivedOrder.id)
            )
        )
        position = (
            (row.stamp_left_mm, row.stamp_top_mm)
            if row.stamp_left_mm is not None and row.stamp_top_mm is not None
            else None
        )
        return StampState(orders, position)

    def stamp_position(self, received_id: int) -> tuple[float, float] | None:
        """Where a clerk put the receipt stamp (mm from the top left), or None: the default."""
        with self._read() as s:
            row = s.get(Received, received_id)
            if row is None or row.stamp_left_mm is None or row.stamp_top_mm is None:
                return None
            return (row.stamp_left_mm, row.stamp_top_mm)

    CORRECTABLE = ("sender", "recipient", "subject", "ref_no", "letter_date")

    def correct_received(
        self, received_id: int, changes: Mapping[str, Any], *, actor: str
    ) -> ReceivedRecord:
        """Correct the fields read from the file (``CORRECTABLE``) before they are confirmed;
        each correction is audited with the value before and after."""
        unknown = set(changes) - set(self.CORRECTABLE)
        if unknown:
            raise BadRequest(f"แก้ไขได้เฉพาะ {', '.join(self.CORRECTABLE)} / cannot change {unknown}")
        with self._write() as s:
            row = s.get(Received, received_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            if row.confirmed_at is not None:
                raise Conflict("ยืนยันข้อมูลแล้ว แก้ไขไม่ได้ / the fields were confirmed and cannot change")
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for name, value in changes.items():
                new: dt.date | str | None
                if name == "letter_date":
                    if value is not None and not isinstance(value, dt.date):
                        raise BadRequest("letter_date: ต้องเป็นวันที่ / must be a date")
                    new = value
                elif name == "ref_no":
                    new = typed_text(value, name, required=False)
                else:
                    new = typed_text(
                        value, name, limit=MAX_SUBJECT_CHARS if name == "subject" else None
                    )
                old = getattr(row, name)
                if old != new:
                    before[name], after[name] = old, new
                    setattr(row, name, new)
            if "ref_no" in after:
                row.ref_key = _ref_key(row.ref_no)
            letter = s.get(Letter, row.letter_id) if row.letter_id is not None else None
            if after and letter is not None and letter.status == STORED:
                # the kept letter (what search reads) says what the register says
                doc = copy.deepcopy(letter.doc or {})
                doc["subject"], doc["ref_no"], doc["addressee"] = (
                    row.subject,
                    row.ref_no,
                    row.recipient,
                )
                doc["date"] = row.letter_date.isoformat() if row.letter_date else None
                sender = (
                    dict(doc.get("sender") or {}) if isinstance(doc.get("sender"), dict) else {}
                )
                sender["name"] = row.sender
                doc["sender"] = sender
                letter.doc = doc
                letter.subject, letter.ref_no, letter.ref_key = row.subject, row.ref_no, row.ref_key
                letter.sender, letter.addressee, letter.date = (
                    row.sender,
                    row.recipient,
                    row.letter_date,
                )
                self._enqueue(s, letter.id, "corrected")
            s.flush()
            if after:
                _audit.append(
                    s,
                    actor=actor,
                    action="received.correct",
                    letter_id=row.letter_id,
                    detail={
                        "received_id": received_id,
                        "before": {k: str(v) if v is not None else None for k, v in before.items()},
                        "after": {k: str(v) if v is not None else None for k, v in after.items()},
                    },
                )
            return self._received_record(row, s.get_one(Register, row.register_id).name)

    def confirm_received(self, received_id: int, *, actor: str) -> ReceivedRecord:
        """The clerk checked the fields read from the file: from now on they are fixed."""
        with self._write() as s:
            row = s.get(Received, received_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            if row.confirmed_at is None:
                row.confirmed_at = utcnow()
                row.confirmed_by = actor
                s.flush()
                _audit.append(
                    s,
                    actor=actor,
                    action="received.confirm",
                    letter_id=row.letter_id,
                    detail={"received_id": received_id},
                )
            return self._received_record(row, s.get_one(Register, row.register_id).name)

    def record_action(
        self, received_id: int, action: str, *, actor: str, note: str | None = None
    ) -> ReceivedRecord:
        """Write what was done with a received letter (การปฏิบัติ); the number never changes."""
        action_text = typed_text(action, "action", lines=True) or ""
        with self._write() as s:
            row = s.get(Received, received_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            row.action = action_text
            if note is not None:
                row.note = typed_text(note, "note", required=False, lines=True)
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
        clearance: str | None = _UNSET,
    ) -> list[ReceivedRecord]:
        """The incoming register, in order of เลขรับ; dates bound the (local) day received.
        With a ``clearance``, only the rows a user cleared at it may see."""
        return list(self.received_register(date_from, date_to, register, clearance))

    def received_register(
        self,
        date_from: dt.date | None,
        date_to: dt.date | None,
        register: str | None,
        clearance: str | None = _UNSET,
    ) -> Iterator[ReceivedRecord]:
        """:meth:`received`, read from the database a batch at a time (as
        :meth:`sent_register`)."""
        with self._read() as s:
            query = self._received_query(s, date_from, date_to, register, clearance)
            query = query.order_by(*self._received_order())
            for row, name in s.execute(query.execution_options(yield_per=READ_BATCH)):
                yield self._received_record(row, name)

    def received_page(
        self, date_from: dt.date, date_to: dt.date, register: str | None, clearance: str | None,
        paging: Paging,
    ) -> tuple[int, list[ReceivedRecord]]:  # fmt: skip
        """One page of the incoming register as a user cleared at ``clearance`` sees it,
        and how many rows it has (counted and cut in the database, as :meth:`sent_page`)."""
        with self._read() as s:
            query = self._received_query(s, date_from, date_to, register, clearance)
            total, page = self._paged(s, query, self._received_order(), paging)
            return total, [self._received_record(row, name) for row, name in s.execute(page)]

    def _received_query(
        self,
        s: Session,
        date_from: dt.date | None,
        date_to: dt.date | None,
        register: str | None,
        clearance: str | None,
    ) -> Select[Received, str]:
        query = select(Received, Register.name).join(Register)
        if clearance is not _UNSET:
            query = query.where(_secrecy_clause(clearance, Received.secrecy))
        if register is not None:
            reg, _unit = self._resolve(s, register)
            query = query.where(Received.register_id == reg.id)
        if date_from is not None:
            query = query.where(Received.received_at >= _day_start(date_from))
        if date_to is not None:
            query = query.where(Received.received_at < _day_start(date_to, after=True))
        return query

    @staticmethod
    def _received_order() -> list[ColumnElement[Any] | InstrumentedAttribute[Any]]:
        return [
            Received.register_id,
            Received.year,
            # the incoming series, then each secret level's own (as the sent register)
            case(
                *(
                    (Received.series == received_series(level), 1 + i)
                    for i, level in enumerate(SECRET_SERIES)
                ),
                else_=0,
            ),
            Received.serial,
            Received.id,
        ]
