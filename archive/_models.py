"""The archive's tables as typed SQLAlchemy models.

The schema itself is created by the Alembic scripts in ``archive/migrations`` (which also add
the triggers that keep issued letters and the audit trail unchangeable); these models must
match them, and ``tests/test_archive_schema.py`` checks that they do.

A row of ``letters`` is one number of an outgoing register (or one imported letter, which
has no number of ours). Its ``status`` follows one path and never goes back:

    reserved --> pending --> issued --> cancelled
        \\           \\
         `--> unused  `--> unused

``pending`` is the short window while the files are rendered; a crash leaves it behind and
the next start repairs it. ``issued``, ``cancelled`` and ``unused`` rows are read-only apart
from the single step issued -> cancelled, and no register row is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from saraban.thai import SECRET_SERIES


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as naive UTC, so both databases keep and compare it alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        dt.datetime: UTCDateTime,
    }


# A public id: 12 characters of lower-case letters and digits without the look-alikes
# (0/o, 1/l), 60 random bits. It never counts rows, so a URL or JSON id tells nothing of
# the letters in between, and it always holds a letter, so it is never read as a number.
PUBLIC_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
PUBLIC_ID_LENGTH = 12
PUBLIC_ID_PATTERN = f"[{PUBLIC_ID_ALPHABET}]{{{PUBLIC_ID_LENGTH}}}"


def new_public_id() -> str:
    while True:
        value = "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
        if not value.isdecimal():
            return value


# Statuses of a register number (``letters.status``).
RESERVED, PENDING, ISSUED, CANCELLED, UNUSED, STORED = (
    "reserved",
    "pending",
    "issued",
    "cancelled",
    "unused",
    "stored",  # an imported letter: kept, but not a number of our register
)
STATUSES = (RESERVED, PENDING, ISSUED, CANCELLED, UNUSED, STORED)
# What a clerk calls a letter, shown in lists and the search index: issued, cancelled, or
# kept from outside (not numbers that were only reserved, are being issued, or were never
# used).
SHOWN_STATUSES = (ISSUED, CANCELLED, STORED)

# Counter series of a register.
NORMAL, CIRCULAR, INCOMING = "normal", "circular", "incoming"


def received_series(secrecy: str | None) -> str:
    """The counter a received letter takes its เลขรับ from: the incoming series, or for a
    secret letter its level's own ("incoming ลับ"), as a sent secret letter is numbered in
    its level's series, so that the incoming register a user may see has no gap either."""
    return f"{INCOMING} {secrecy}" if secrecy in SECRET_SERIES else INCOMING


class Register(Base):
    """A numbering book: the outgoing series (normal and ``ว``) and the incoming series."""

    __tablename__ = "registers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # "separate": ว letters have their own series; "shared": they take the normal one.
    circular_series: Mapped[str] = mapped_column(String(10))
    # "plain": นค ๐๐๑๙.๓/๒๗๕๒๘; "year": นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕.
    number_format: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime]


class Unit(Base):
    """A ส่วนราชการ that issues letters under its reference prefix, into one register."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(100), unique=True)  # "นค ๐๐๑๙.๓"
    prefix_key: Mapped[str] = mapped_column(String(100), unique=True)  # "นค0019.3"
    name: Mapped[str] = mapped_column(String(500))
    address: Mapped[list[str]]
    phone: Mapped[str | None] = mapped_column(String(100))
    fax: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    footer: Mapped[str | None] = mapped_column(Text)
    signer: Mapped[dict[str, Any] | None]
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    created_at: Mapped[dt.datetime]


class Counter(Base):
    """The last number given in one series of one register in one BE year."""

    __tablename__ = "counters"

    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class StoredFile(Base):
    """A file under ``<home>/files``, named by its SHA-256."""

    __tablename__ = "files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]


class Letter(Base):
    """One number of an outgoing register, or one imported letter (``status`` = stored)."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("register_id", "series", "year", "serial", name="uq_letters_number"),
        Index("ix_letters_ref_key", "ref_key"),
        Index("ix_letters_date", "date"),
        Index("ix_letters_status", "status"),
        Index("uq_letters_idempotency_key", "idempotency_key", unique=True),
        Index("uq_letters_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What users see in URLs and the API instead of ``id`` (which counts rows).
    # Nullable in the schema only because SQLite adds a column to a table with triggers no
    # other way; every row has one (the default here, the migration for older rows).
    public_id: Mapped[str] = mapped_column(String(20), nullable=True, default=new_public_id)
    status: Mapped[str] = mapped_column(String(20))
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    series: Mapped[str | None] = mapped_column(String(20))
    year: Mapped[int | None] = mapped_column(Integer)  # BE
    serial: Mapped[int | None] = mapped_column(Integer)
    circular: Mapped[bool] = mapped_column(default=False)
    ref_no: Mapped[str | None] = mapped_column(String(200))
    ref_key: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(Text)
    addressee: Mapped[str | None] = mapped_column(Text)
    secrecy: Mapped[str | None] = mapped_column(String(20))
    doc: Mapped[dict[str, Any] | None]
    retention_years: Mapped[int | None] = mapped_column(Integer)  # None: ห้ามทำลาย
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(500))
    needs_review: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # why cancelled / unused
    worker: Mapped[str | None] = mapped_column(String(200))  # who renders a pending row
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[dt.datetime | None]
    issued_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    # The hand-over that made the row (a draft's issue, a batch item's import): looked up
    # after a crash so the caller finds its letter instead of making another.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # How often a pending row was taken up again to be finished after its process died.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Received(Base):
    """One row of the incoming register (ทะเบียนหนังสือรับ): its เลขรับ and what was done."""

    __tablename__ = "received"
    __table_args__ = (
        UniqueConstraint("register_id", "series", "year", "serial", name="uq_received_number"),
        Index("ix_received_received_at", "received_at"),
        Index("uq_received_public_id", "public_id", unique=True),
        Index("ix_received_letter_id", "letter_id"),
        Index("ix_received_answers_id", "answers_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable in the schema only because SQLite adds a column to a table with triggers no
    # other way; every row has one (the default here, the migration for older rows).
    public_id: Mapped[str] = mapped_column(String(20), nullable=True, default=new_public_id)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    year: Mapped[int] = mapped_column(Integer)  # BE
    # incoming, or "incoming ลับ" ...: received_series (0008_harden; older rows: incoming)
    series: Mapped[str] = mapped_column(String(20), default=INCOMING)
    serial: Mapped[int] = mapped_column(Integer)  # เลขรับ, counted in its series
    received_at: Mapped[dt.datetime]
    ref_no: Mapped[str | None] = mapped_column(String(200))  # the sender's ที่
    ref_key: Mapped[str | None] = mapped_column(String(200))
    letter_date: Mapped[dt.date | None] = mapped_column(Date)
    sender: Mapped[str] = mapped_column(Text)  # จาก
    recipient: Mapped[str] = mapped_column(Text)  # ถึง
    subject: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)  # การปฏิบัติ
    note: Mapped[str | None] = mapped_column(Text)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    secrecy: Mapped[str | None] = mapped_column(String(20))  # ลับ, ลับมาก, ลับที่สุด
    # Taken in from a file (0005_intake): the searchable copy, the stamped copy, the letter
    # of ours it answers; its fields are corrected until a clerk confirms them.
    pdfa_sha256: Mapped[str | None] = mapped_column(String(64))
    stamped_sha256: Mapped[str | None] = mapped_column(String(64))
    answers_id: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    # Where a clerk moved the receipt stamp (mm from page one's top left; 0009_incoming):
    # a stamped copy made again (an order written) keeps it there.
    stamp_left_mm: Mapped[float | None] = mapped_column(Float)
    stamp_top_mm: Mapped[float | None] = mapped_column(Float)


class Routing(Base):
    """A received letter sent to one person (เกษียนหนังสือ): the note, the due date, and
    when and by whom it was done (``done_by`` "X แทน Y" when a delegate acted for Y).
    Users are named as the audit trail names them: by their account name."""

    __tablename__ = "routings"
    __table_args__ = (
        Index("ix_routings_received_id", "received_id"),
        Index("ix_routings_assignee", "assignee", "done_at"),
        Index("ix_routings_unit_id", "unit_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_id: Mapped[int] = mapped_column(ForeignKey("received.id"))
    assignee: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    due: Mapped[dt.date | None] = mapped_column(Date)
    routed_at: Mapped[dt.datetime]
    routed_by: Mapped[str] = mapped_column(String(200))
    done_at: Mapped[dt.datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
    done_note: Mapped[str | None] = mapped_column(Text)
    # Sent to a unit (0009_incoming): ``assignee`` is then its prefix, and any member of
    # the unit (``unit_members``) sees it and may mark it done for the unit.
    unit_id: Mapped[int | None] = mapped_column(Integer)


class UnitMember(Base):
    """A user (by account name) who works in a unit and sees what is routed to it; a
    member leaves by ``removed_at``, the row stays (0009_incoming)."""

    __tablename__ = "unit_members"
    __table_args__ = (Index("ix_unit_members_member", "member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    member: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[dt.datetime]
    added_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[dt.datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(200))


class ReceivedOrder(Base):
    """An order (สั่งการ) a superior wrote on a received letter, printed as a เกษียน block on
    a new stamped copy (``stamped_sha256``; the earlier copies stay in the file store)."""

    __tablename__ = "received_orders"
    __table_args__ = (Index("ix_received_orders_received_id", "received_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_id: Mapped[int] = mapped_column(ForeignKey("received.id"))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[dt.datetime]
    written_by: Mapped[str] = mapped_column(String(200))
    stamped_sha256: Mapped[str | None] = mapped_column(String(64))


class Delegation(Base):
    """Acting for (รักษาการแทน): ``delegate`` sees and acts on ``delegator``'s inbox from
    ``date_from`` to ``date_to`` (both included), until revoked."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_delegate", "delegate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegator: Mapped[str] = mapped_column(String(200))
    delegate: Mapped[str] = mapped_column(String(200))
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class LetterFile(Base):
    """A file that came with a kept letter (another attachment of its e-mail), unchanged;
    ``position`` orders them as they came, from 1."""

    __tablename__ = "letter_files"

    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(ForeignKey("files.sha256"))


class Reference(Base):
    """An อ้างถึง line of a letter, linked to the archived letter it names once that is known."""

    __tablename__ = "letter_references"
    __table_args__ = (
        Index("ix_letter_references_ref_key", "ref_key"),
        Index("ix_letter_references_target", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    ref_key: Mapped[str | None] = mapped_column(String(200))
    ref_date: Mapped[dt.date | None] = mapped_column(Date)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))


class AuditEvent(Base):
    """One link of the audit chain: ``hash`` = SHA-256 of the previous hash and this event."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    letter_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class IndexJob(Base):
    """A letter waiting for the search indexer, which deletes the row once it is indexed."""

    __tablename__ = "index_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    reason: Mapped[str] = mapped_column(String(50))
    enqueued_at: Mapped[dt.datetime]
