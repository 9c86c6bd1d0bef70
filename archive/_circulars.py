"""Circulars that come back: the address book of recipients, one delivery per recipient of a
sent letter (part of the official record, with its enclosures and due date), the private
links recipients open, the Thai holiday calendar that counts working days, and what each
recipient did (opened, acknowledged with their own เลขรับ, replied).

The archive owns all of it because a delivery is part of the record of the letter: it is
written in the same transaction as its audit event and as the e-mail queued for it
(``_mail``), so a crash never leaves a delivery without its mail or a mail without its
delivery.

A recipient's link carries a token of 128 random bits (``secrets.token_urlsafe(16)``); only
its SHA-256 is kept (``delivery_tokens``), so the database alone opens no delivery. A
reminder adds a new token (the first e-mail's link keeps working); revoking a delivery
revokes all its tokens; every token expires.

Secret letters are never sent by link or e-mail: they reach only recipients that are units
of this instance, as a row of that unit's incoming register.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from saraban.archive import _audit, _mail
from saraban.archive._core import _secrecy_clause
from saraban.archive._models import (
    ISSUED,
    Base,
    Letter,
    Reference,
    Register,
    StoredFile,
    Unit,
    utcnow,
)
from saraban.archive._process import worker_alive, worker_token
from saraban.archive._tracking import (  # noqa: F401 - the statuses, re-exported
    ACKNOWLEDGED,
    DATA_FIELDS,
    INFO_FIELDS,
    OPENED,
    REPLIED,
    SENT,
    STATUS_NAMES,
    DeliveryInfo,
)
from saraban.errors import BadRequest, Conflict, NotFound, SarabanError
from saraban.vocabulary import typed_text

if TYPE_CHECKING:
    from saraban.archive._archive import Archive

MAX_NAME = 300
MAX_GROUPS = 20
MAX_EMAIL = 254
TOKEN_BYTES = 16  # 128 random bits, 22 URL-safe characters
DELIVERY_PATH = "/d/"


class Recipient(Base):
    """An office letters are sent to: inside this instance (``unit_id``) or outside."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME), unique=True)  # ที่ว่าการอำเภอ...
    addressee: Mapped[str] = mapped_column(String(MAX_NAME))  # นายอำเภอเมืองหนองคาย
    email: Mapped[str | None] = mapped_column(String(MAX_EMAIL))
    groups: Mapped[list[str]]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str | None] = mapped_column(String(20))  # DOPA code of a seeded district
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class Delivery(Base):
    """One sent letter to one recipient: what was sent, by when a reply is due, and what
    the recipient did. The recipient's name, addressee and e-mail are copied as sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("letter_id", "recipient_id", name="uq_deliveries_letter_recipient"),
        Index("ix_deliveries_letter", "letter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    addressee: Mapped[str] = mapped_column(String(MAX_NAME))
    email: Mapped[str | None] = mapped_column(String(MAX_EMAIL))
    due: Mapped[dt.date | None] = mapped_column(Date)
    form: Mapped[str | None] = mapped_column(String(100))  # the catalogue form to fill
    enclosures: Mapped[list[Any]] = mapped_column(
        JSON
    )  # [{"name", "sha256", "media_type"}], the letter first
    linked: Mapped[bool] = mapped_column(Boolean)  # a private link was made (not secret)
    inbox_received_id: Mapped[int | None] = mapped_column(ForeignKey("received.id"))
    sent_at: Mapped[dt.datetime]
    sent_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    receive_no: Mapped[str | None] = mapped_column(String(100))
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    replied_at: Mapped[dt.datetime | None]
    reply_letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    reply_received_id: Mapped[int | None] = mapped_column(ForeignKey("received.id"))
    reply_data: Mapped[dict[str, Any] | None]  # the filled form, as validated
    reminded_at: Mapped[dt.datetime | None]
    reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Since when a reply to it is being read (:func:`reading_reply`), and by which process
    # (``host:pid:start``, :func:`~saraban.archive._process.worker_token`).
    reading_since: Mapped[dt.datetime | None]
    reading_by: Mapped[str | None] = mapped_column(String(200))


class DeliveryToken(Base):
    """A private link of a delivery: only the SHA-256 of its token is kept."""

    __tablename__ = "delivery_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class DeliveryDownload(Base):
    """The downloads of one file of a delivery: when first, when last audited, and how
    many events were written for it (a download within the window of the last event is
    written nowhere, so a reader fetching a file again and again costs no row)."""

    __tablename__ = "delivery_downloads"

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    file_no: Mapped[int] = mapped_column(Integer, primary_key=True)  # from 1, as in the link
    first_at: Mapped[dt.datetime]
    audited_at: Mapped[dt.datetime]
    events: Mapped[int] = mapped_column(Integer)


class Holiday(Base):
    """A day off of the working-day calendar: seeded per year from the ``holidays``
    package (Thailand's public holidays), then the administrator's to change; a removed
    day is kept (``removed_at``) so that the year is not seeded again."""

    __tablename__ = "holidays"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20))  # "package" or "admin"
    removed_at: Mapped[dt.datetime | None]
    changed_by: Mapped[str] = mapped_column(String(200))


# ---- plain values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientInfo:
    id: int
    name: str
    addressee: str
    email: str | None
    groups: list[str]
    unit: str | None  # prefix of the unit of this instance it stands for
    code: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "addressee": self.addressee,
            "email": self.email,
            "groups": list(self.groups),
            "unit": self.unit,
            "code": self.code,
        }


@dataclass(frozen=True)
class SentDelivery:
    """A delivery just made, with its link (shown once: only its hash is kept)."""

    delivery: DeliveryInfo
    link: str | None


@dataclass(frozen=True)
class OpenedDelivery:
    """What a token opens: the delivery and the letter's public face (never secret)."""

    delivery: DeliveryInfo
    ref_no: str | None
    date: dt.date | None
    subject: str | None
    sender: str | None
    unit: str | None
    token_expires_at: dt.datetime
    reply_being_read: bool = False  # a reply sent by one of its links is being read now


@dataclass
class Outgoing:
    """One recipient a letter goes to, as :func:`send` is given it."""

    recipient: RecipientInfo
    token: str | None = None
    mail: tuple[str, str] | None = None  # (subject, body); None: no e-mail
    extra: dict[str, Any] = field(default_factory=dict)


# ---- text checks ---------------------------------------------------------------------------------


def check_email(value: Any) -> str | None:
    """An e-mail address of one mailbox (``name@domain``), or None when empty; anything
    that could become a second header or a second address is refused."""
    text = typed_text(value, "email", limit=MAX_EMAIL, required=False)
    if text is None:
        return None
    local, at, domain = text.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or any(c in text for c in ' ,;:<>()[]\\"\r\n\t')
        or domain.startswith(".")
        or domain.endswith(".")
    ):
        raise BadRequest(f"email: ที่อยู่อีเมล {text!r} ไม่ถูกต้อง / {text!r} is not one e-mail address")
    return text


def _groups(value: Iterable[Any] | None) -> list[str]:
    found: list[str] = []
    for item in value or []:
        text = typed_text(item, "group", limit=100, required=False)
        if text and text not in found:
            found.append(text)
    if len(found) > MAX_GROUPS:
        raise BadRequest(f"groups: ไม่เกิน {MAX_GROUPS} กลุ่ม / at most {MAX_GROUPS} groups")
    return found


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def delivery_link(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{DELIVERY_PATH}{token}"


# ---- recipients ------------------------------------------------------------------------------


def _recipient_info(row: Recipient, unit: str | None) -> RecipientInfo:
    return RecipientInfo(
        row.id, row.name, row.addressee, row.email, list(row.groups or []), unit, row.code
    )


def recipients(archive: Archive, group: str | None = None) -> list[RecipientInfo]:
    """The address book in name order (``group``: only its members)."""
    with archive._read() as s:
        rows = s.execute(
            select(Recipient, Unit.prefix)
            .outerjoin(Unit, Unit.id == Recipient.unit_id)
            .order_by(Recipient.name)
        ).all()
    found = [_recipient_info(r, prefix) for r, prefix in rows]
    return [r for r in found if group in r.groups] if group else found


def groups(archive: Archive) -> dict[str, int]:
    """Each group of the address book with how many recipients it has."""
    counts: dict[str, int] = {}
    # Grouped by the stored list, read once per distinct list: the districts of a whole
    # country share a handful of lists, and the letter page asks on every view.
    stored = cast(Recipient.groups, Text)
    with archive._read() as s:
        rows = s.execute(select(stored, func.count()).group_by(stored)).all()
    for text, members in rows:
        for name in (json.loads(text) if text else None) or []:
            counts[name] = counts.get(name, 0) + members
    return dict(sorted(counts.items()))


def _unit_id(s: Session, archive: Archive, unit: str | None) -> int | None:
    if not unit:
        return None
    _register, found = archive._resolve(s, unit)
    if found is None:
        raise NotFound(f"unit: ไม่พบส่วนราชการ {unit!r} / no unit {unit!r}")
    return found.id


@dataclass(frozen=True)
class RecipientEntry:
    """One recipient to save, as typed (a CSV row, a seeded district, a form); ``line``:
    where it came from, named in an error (a CSV file's line number)."""

    name: Any
    addressee: Any = None
    email: Any = None  # None: keep the saved one when updating
    groups: Sequence[Any] | None = None  # None: keep the saved ones when updating
    unit: Any = None  # None: keep the saved one when updating
    code: Any = None
    line: int | None = None


class RecipientsRefused(BadRequest):
    """Some entries of a batch are wrong: nothing of the batch was saved; ``lines`` names
    each bad entry (its line) with what is wrong."""

    SHOWN = 10

    def __init__(self, lines: list[tuple[int | None, str]]) -> None:
        self.lines = lines
        named = [
            f"บรรทัดที่ {line} / line {line}: {text}" if line is not None else text
            for line, text in lines[: self.SHOWN]
        ]
        more = len(lines) - len(named)
        if more:
            named.append(f"และอีก {more} บรรทัด / and {more} more")
        super().__init__(
            f"ไม่ได้บันทึกผู้รับเลย เพราะมีข้อมูลผิด {len(lines)} บรรทัด แก้แล้วนำเข้าใหม่ทั้งไฟล์ / "
            f"nothing was saved: {len(lines)} bad line(s); correct them and import the whole "
            "file again. " + "; ".join(named)
        )


@dataclass(frozen=True)
class _Checked:
    name: str
    addressee: str | None
    email: str | None
    email_given: bool
    groups: list[str] | None
    unit: str | None
    code: str | None


def _check_entry(entry: RecipientEntry) -> _Checked:
    return _Checked(
        name=typed_text(entry.name, "name", limit=MAX_NAME) or "",
        addressee=typed_text(entry.addressee, "addressee", limit=MAX_NAME, required=False),
        email=check_email(entry.email),
        email_given=entry.email is not None,
        groups=None if entry.groups is None else _groups(entry.groups),
        unit=entry.unit or None,
        code=typed_text(entry.code, "code", limit=20, required=False),
    )


def _save_checked(
    s: Session,
    archive: Archive,
    item: _Checked,
    *,
    actor: str,
    replace: bool,
    units: dict[str, int | None],
) -> RecipientInfo:
    """Add (or, with ``replace``, update) one checked recipient in the caller's
    transaction; ``units``: unit prefixes already resolved in it."""
    if item.unit is not None and item.unit not in units:
        units[item.unit] = _unit_id(s, archive, item.unit)
    unit_id = units[item.unit] if item.unit is not None else None
    row = s.scalar(select(Recipient).where(Recipient.name == item.name))
    if row is not None and not replace:
        raise Conflict(f"มี {item.name} ในสมุดผู้รับแล้ว / {item.name!r} is already a recipient")
    action = "recipient.change" if row is not None else "recipient.add"
    if row is None:
        row = Recipient(
            name=item.name,
            addressee=item.addressee or item.name,
            groups=item.groups or [],
            created_at=utcnow(),
            created_by=actor,
        )
        s.add(row)
    # Updating (the CSV import): what is not given is kept as it was.
    row.addressee = item.addressee or row.addressee
    row.email = item.email if item.email_given else row.email
    row.groups = item.groups if item.groups is not None else list(row.groups or [])
    row.unit_id = unit_id if item.unit is not None else row.unit_id
    row.code = item.code or row.code
    s.flush()
    _audit.append(
        s,
        actor=actor,
        action=action,
        detail={"recipient": row.id, "name": item.name, "groups": row.groups},
    )
    prefix = s.get_one(Unit, row.unit_id).prefix if row.unit_id else None
    return _recipient_info(row, prefix)


def save_recipient(
    archive: Archive,
    name: str,
    *,
    actor: str,
    addressee: str | None = None,
    email: str | None = None,
    groups: Sequence[str] | None = None,
    unit: str | None = None,
    code: str | None = None,
    replace: bool = False,
) -> RecipientInfo:
    """Add a recipient; with ``replace``, a recipient of the same name is updated instead
    (the CSV import) rather than refused."""
    item = _check_entry(RecipientEntry(name, addressee, email, groups, unit, code))
    with archive._write() as s:
        return _save_checked(s, archive, item, actor=actor, replace=replace, units={})


def save_recipients(
    archive: Archive, entries: Sequence[RecipientEntry], *, actor: str, replace: bool = False
) -> list[RecipientInfo]:
    """Save a batch of recipients (a CSV file, a province's districts) in one
    transaction: all of them or, if any entry is wrong, none, with
    :class:`RecipientsRefused` naming every bad line that can be known before writing
    (each entry's text, e-mail and groups) or the first one found while writing (an
    unknown unit, a name already there without ``replace``)."""
    checked: list[tuple[int | None, _Checked]] = []
    problems: list[tuple[int | None, str]] = []
    for entry in entries:
        try:
            checked.append((entry.line, _check_entry(entry)))
        except SarabanError as exc:
            problems.append((entry.line, exc.message))
    if problems:
        raise RecipientsRefused(problems)
    saved: list[RecipientInfo] = []
    units: dict[str, int | None] = {}
    with archive._write() as s:  # an exception rolls every entry back
        for line, item in checked:
            try:
                saved.append(
                    _save_checked(s, archive, item, actor=actor, replace=replace, units=units)
                )
            except SarabanError as exc:
                raise RecipientsRefused([(line, exc.message)]) from None
    return saved


def delete_recipient(archive: Archive, recipient_id: int, *, actor: str) -> None:
    """Take a recipient out of the address book; one a letter was sent to stays (the
    deliveries name it), out of every group."""
    with archive._write() as s:
        row = s.get(Recipient, recipient_id)
        if row is None:
            raise NotFound(f"ไม่พบผู้รับรายการ {recipient_id} / no recipient {recipient_id}")
        used = s.scalar(select(Delivery.id).where(Delivery.recipient_id == row.id).limit(1))
        if used is not None:
            row.groups = []
        else:
            s.delete(row)
        _audit.append(s, actor=actor, action="recipient.remove", detail={"recipient": recipient_id})


def set_groups(archive: Archive, recipient_id: int, names: Sequence[str], *, actor: str) -> None:
    with archive._write() as s:
        row = s.get(Recipient, recipient_id)
        if row is None:
            raise NotFound(f"ไม่พบผู้รับรายการ {recipient_id} / no recipient {recipient_id}")
        row.groups = _groups(names)
        _audit.append(
            s,
            actor=actor,
            action="recipient.change",
            detail={"recipient": recipient_id, "groups": row.groups},
        )


def resolve(archive: Archive, names: Sequence[str]) -> list[RecipientInfo]:
    """The recipients named, each name a group or a recipient's name, each recipient once,
    in address-book order; a name that is neither is a clear error naming it."""
    if not names:
        raise BadRequest("to: ต้องระบุผู้รับหรือกลุ่มผู้รับ / name at least one recipient or group")
    book = recipients(archive)
    chosen: set[int] = set()
    missing = []
    for raw in names:
        name = typed_text(raw, "to", limit=MAX_NAME) or ""
        members = [r.id for r in book if name in r.groups or r.name == name]
        if not members:
            missing.append(name)
        chosen.update(members)
    if missing:
        raise NotFound(
            f"to: ไม่พบผู้รับหรือกลุ่ม {', '.join(missing)} ในสมุดผู้รับ / no recipient or group "
            f"named {', '.join(repr(m) for m in missing)} (add one with: saraban recipients add)"
        )
    return [r for r in book if r.id in chosen]


# ---- the holiday calendar ------------------------------------------------------------------------


def _seed_year(s: Session, year: int) -> None:
    """Thailand's public holidays of ``year`` (CE) from the ``holidays`` package, once."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if s.scalar(select(Holiday.day).where(Holiday.day.between(start, end)).limit(1)):
        return
    import holidays as holiday_data  # slow to import; only when a year is first counted

    days = holiday_data.country_holidays("TH", years=year, language="th")
    for day, name in sorted(days.items()):
        s.add(Holiday(day=day, name=str(name)[:300], source="package", changed_by="holidays"))
    s.flush()


def holidays(archive: Archive, year: int) -> list[tuple[dt.date, str, str]]:
    """(day, name, source) of the days off of ``year`` (CE), seeding it on first use."""
    with archive._write() as s:
        _seed_year(s, year)
        rows = s.scalars(
            select(Holiday)
            .where(
                Holiday.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
                Holiday.removed_at.is_(None),
            )
            .order_by(Holiday.day)
        ).all()
        return [(r.day, r.name, r.source) for r in rows]


def set_holiday(archive: Archive, day: dt.date, name: str, *, actor: str) -> None:
    name_text = typed_text(name, "name", limit=MAX_NAME) or ""
    with archive._write() as s:
        _seed_year(s, day.year)
        row = s.get(Holiday, day)
        if row is None:
            s.add(Holiday(day=day, name=name_text, source="admin", changed_by=actor))
        else:
            row.name, row.removed_at, row.changed_by = name_text, None, actor
        _audit.append(
            s, actor=actor, action="holiday.set", detail={"day": day.isoformat(), "name": name_text}
        )


def remove_holiday(archive: Archive, day: dt.date, *, actor: str) -> None:
    with archive._write() as s:
        _seed_year(s, day.year)
        row = s.get(Holiday, day)
        if row is None or row.removed_at is not None:
            raise NotFound(f"{day.isoformat()}: ไม่ใช่วันหยุดในปฏิทิน / not a holiday")
        row.removed_at, row.changed_by = utcnow(), actor
        _audit.append(s, actor=actor, action="holiday.remove", detail={"day": day.isoformat()})


def add_working_days(archive: Archive, start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (Monday to Friday, not a holiday)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise BadRequest("working_days: จำนวนวันทำการต้องเป็น ๑-๓๖๕ / working days must be 1-365")
    off: set[dt.date] = set()
    for year in range(start.year, start.year + 3):
        off.update(day for day, _name, _source in holidays(archive, year))
    day, left = start, days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            left -= 1
    return day


# ---- sending ---------------------------------------------------------------------------------


def _info(row: Any) -> DeliveryInfo:
    """A delivery as a plain value, from its ORM row or a Core row of its columns."""
    return DeliveryInfo(
        id=row.id,
        letter_id=row.letter_id,
        recipient_id=row.recipient_id,
        name=row.name,
        addressee=row.addressee,
        email=row.email,
        due=row.due,
        form=row.form,
        enclosures=[dict(e) for e in getattr(row, "enclosures", None) or []],
        linked=row.linked,
        sent_at=row.sent_at,
        revoked_at=row.revoked_at,
        opened_at=row.opened_at,
        acknowledged_at=row.acknowledged_at,
        receive_no=row.receive_no,
        acknowledged_by=row.acknowledged_by,
        replied_at=row.replied_at,
        reply_letter_id=row.reply_letter_id,
        reply_received_id=row.reply_received_id,
        reply_data=dict(row.reply_data) if getattr(row, "reply_data", None) else None,
        reminded_at=row.reminded_at,
        inbox_received_id=row.inbox_received_id,
    )


def sendable(archive: Archive, letter_id: int) -> Letter:
    """The letter row, if it can be sent: issued here and in force."""
    with archive._read() as s:
        row = s.get(Letter, letter_id)
        if row is None:
            raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
        if row.status != ISSUED or not row.pdf_sha256:
            raise Conflict(
                f"หนังสือ {row.public_id} ยังไม่ได้ออกเลขหรือถูกยกเลิกแล้ว จึงส่งไม่ได้ / letter "
                f"{row.public_id} is not issued and in force (status {row.status}): it cannot "
                "be sent"
            )
        s.expunge(row)
        return row


def record_file(archive: Archive, data: bytes, media_type: str) -> str:
    """Keep a file sent with a letter (a blank form, a signed copy) and return its hash."""
    sha = archive.files.put(data)
    with archive._write() as s:
        archive._record_file(s, sha, media_type)
    return sha


def send(
    archive: Archive,
    letter_id: int,
    outgoing: Sequence[Outgoing],
    *,
    actor: str,
    due: dt.date | None,
    form: str | None,
    enclosures: list[dict[str, Any]],
    expires_at: dt.datetime,
    mail_from: str,
) -> list[DeliveryInfo]:
    """Record one delivery per recipient in one transaction, with its token's hash, the
    row of the incoming register of a recipient that is a unit here, its e-mail in the
    queue, and one audit event for the whole sending. A recipient the letter was sent to
    already is refused (remind them instead)."""
    now = utcnow()
    made: list[DeliveryInfo] = []
    with archive._write() as s:
        letter = s.get_one(Letter, letter_id)
        already = set(
            s.scalars(
                select(Delivery.recipient_id).where(
                    Delivery.letter_id == letter_id,
                    Delivery.recipient_id.in_([o.recipient.id for o in outgoing]),
                )
            )
        )
        if already:
            names = [o.recipient.name for o in outgoing if o.recipient.id in already]
            raise Conflict(
                f"ส่งหนังสือนี้ถึง {', '.join(names[:5])} แล้ว (ใช้การทวงถามแทน) / the letter was "
                f"already sent to {', '.join(names[:5])}: send a reminder instead"
            )
        for item in outgoing:
            recipient = item.recipient
            inbox_id = None
            if recipient.unit:
                inbox_id = _into_inbox(s, archive, letter, recipient, actor=actor, now=now)
            row = Delivery(
                letter_id=letter_id,
                recipient_id=recipient.id,
                name=recipient.name,
                addressee=recipient.addressee,
                email=recipient.email if item.mail else None,
                due=due,
                form=form,
                enclosures=enclosures,
                linked=item.token is not None,
                inbox_received_id=inbox_id,
                sent_at=now,
                sent_by=actor,
                reminders=0,
            )
            s.add(row)
            s.flush()
            if item.token is not None:
                s.add(
                    DeliveryToken(
                        delivery_id=row.id,
                        token_sha256=token_hash(item.token),
                        created_at=now,
                        expires_at=expires_at,
                    )
                )
            if item.mail is not None and recipient.email:
                _mail.enqueue(
                    s,
                    to=recipient.email,
                    sender=mail_from,
                    subject=item.mail[0],
                    body=item.mail[1],
                    delivery_id=row.id,
                )
            made.append(_info(row))
        _audit.append(
            s,
            actor=actor,
            action="letter.send",
            letter_id=letter_id,
            detail={
                "recipients": [d.name for d in made],
                "due": due.isoformat() if due else None,
                "form": form,
                "emails": sum(1 for o in outgoing if o.mail and o.recipient.email),
            },
        )
    return made


def _into_inbox(
    s: Session,
    archive: Archive,
    letter: Letter,
    recipient: RecipientInfo,
    *,
    actor: str,
    now: dt.datetime,
) -> int:
    """A row of the recipient unit's incoming register for the letter, under its next
    เลขรับ: the unit finds the letter in its own register without anyone retyping it."""
    unit = s.scalar(select(Unit).where(Unit.prefix == recipient.unit))
    if unit is None:
        raise NotFound(f"unit: ไม่พบส่วนราชการ {recipient.unit!r} / no unit {recipient.unit!r}")
    register = s.get_one(Register, unit.register_id)
    local = now.astimezone()
    from saraban.thai import be_year

    year = be_year(local.date().year)
    row = archive._enter_received(
        s,
        register.id,
        year,
        received_at=now,
        ref_no=letter.ref_no,
        ref_key=letter.ref_key,
        letter_date=letter.date,
        sender=letter.sender or "",
        recipient=recipient.addressee,
        subject=letter.subject or "",
        letter_id=letter.id,
        secrecy=letter.secrecy,
        created_at=now,
        created_by=actor,
    )
    _audit.append(
        s,
        actor=actor,
        action="letter.receive",
        letter_id=letter.id,
        detail={
            "register": register.name,
            "year": year,
            "serial": row.serial,
            "ref_no": letter.ref_no,
        },
    )
    return row.id


def deliveries(archive: Archive, letter_id: int, *, with_data: bool = False) -> list[DeliveryInfo]:
    """The deliveries of a letter in name order; without ``with_data`` their files and
    replies' form data are left out (tracking needs neither). Callers check the letter is
    visible to the user first (``usecases._access.visible_letter``)."""
    names = [n for n in INFO_FIELDS if with_data or n not in DATA_FIELDS]
    table = Delivery.__table__
    # Core rows read by position: a letter may go to every district (878), and the page
    # and ``saraban tracking`` read them all (an ORM object or a named lookup each costs
    # more than the row).
    query = select(*(table.c[n] for n in names)).where(table.c.letter_id == letter_id)
    with archive._read() as s:
        rows = s.connection().execute(query.order_by(table.c.name, table.c.id)).all()
    found = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        enclosures, data = values.get("enclosures"), values.get("reply_data")
        values["enclosures"] = [dict(e) for e in enclosures or []]
        values["reply_data"] = dict(data) if data else None
        found.append(DeliveryInfo(**values))
    return found


@dataclass(frozen=True)
class AwaitingCircular:
    letter_id: int
    ref_no: str | None
    subject: str | None
    due: dt.date | None
    sent: int
    replied: int


def awaiting_replies(
    archive: Archive, clearance: str | None, limit: int = 20
) -> list[AwaitingCircular]:
    """Letters sent with a due date or a form whose recipients have not all replied, the
    nearest due date first; only letters the user's clearance opens."""
    with archive._read() as s:
        rows = s.execute(
            select(
                Delivery.letter_id,
                Letter.ref_no,
                Letter.subject,
                func.min(Delivery.due),
                func.count(Delivery.id),
                func.count(Delivery.replied_at),
            )
            .join(Letter, Letter.id == Delivery.letter_id)
            .where(Delivery.revoked_at.is_(None), Letter.status == ISSUED)
            .where(_secrecy_clause(clearance))
            .where((Delivery.due.is_not(None)) | (Delivery.form.is_not(None)))
            .group_by(Delivery.letter_id, Letter.ref_no, Letter.subject)
            .having(func.count(Delivery.replied_at) < func.count(Delivery.id))
            .order_by(func.min(Delivery.due).is_(None), func.min(Delivery.due), Delivery.letter_id)
            .limit(limit)
        ).all()
    return [AwaitingCircular(*row) for row in rows]


# ---- what a token opens --------------------------------------------------------------------------


class LinkClosed(SarabanError):
    """A link that no longer opens anything: revoked or expired (410, a clear Thai page)."""

    status = 410


_NO_LINK = (
    "ไม่พบหนังสือตามลิงก์นี้ ตรวจสอบว่าคัดลอกลิงก์จากอีเมลครบถ้วน / no delivery for this link: "
    "check that the whole link was copied from the e-mail"
)


def _by_token(
    s: Session, token: str, *, now: dt.datetime, for_update: bool = False
) -> tuple[Delivery, DeliveryToken]:
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise NotFound(_NO_LINK)
    query = (
        select(Delivery, DeliveryToken, Letter.status)
        .join(DeliveryToken, DeliveryToken.delivery_id == Delivery.id)
        .join(Letter, Letter.id == Delivery.letter_id)
        .where(DeliveryToken.token_sha256 == token_hash(token))
    )
    if for_update:  # PostgreSQL: the delivery's row until commit (SQLite: the write turn)
        query = query.with_for_update(of=Delivery)
    found = s.execute(query).first()
    if found is None:
        raise NotFound(_NO_LINK)
    delivery, link, status = found
    if delivery.revoked_at is not None or link.revoked_at is not None:
        raise LinkClosed(
            "ลิงก์นี้ถูกยกเลิกแล้ว โปรดติดต่อหน่วยงานผู้ส่งหนังสือ / this link was revoked: "
            "ask the office that sent the letter"
        )
    if status != ISSUED:  # the letter was cancelled after it was sent
        raise LinkClosed(
            "หนังสือฉบับนี้ถูกยกเลิกแล้ว ไม่ต้องลงรับหรือตอบกลับ โปรดติดต่อหน่วยงานผู้ส่งหนังสือ / "
            "this letter was cancelled: it needs no acknowledgement or reply"
        )
    if link.expires_at <= now:
        raise LinkClosed(
            "ลิงก์นี้หมดอายุแล้ว โปรดติดต่อหน่วยงานผู้ส่งหนังสือเพื่อขอลิงก์ใหม่ / this link has "
            "expired: ask the office that sent the letter for a new one"
        )
    return delivery, link


def open_token(archive: Archive, token: str, *, record_open: bool = True) -> OpenedDelivery:
    """The delivery a token opens, marking it opened the first time (audited); later
    reads take no write turn."""
    now = utcnow()
    with archive._read() as s:
        delivery, link = _by_token(s, token, now=now)
        first_open = record_open and delivery.opened_at is None
    if first_open:
        with archive._write() as s:
            delivery, link = _by_token(s, token, now=now, for_update=True)
            if delivery.opened_at is None:
                delivery.opened_at = now
                _audit.append(
                    s,
                    actor=f"delivery:{delivery.id}",
                    action="delivery.open",
                    letter_id=delivery.letter_id,
                    detail={"delivery": delivery.id, "recipient": delivery.name},
                )
    with archive._read() as s:
        return _opened(s, *_by_token(s, token, now=now), now)


def _opened(
    s: Session, delivery: Delivery, link: DeliveryToken, now: dt.datetime
) -> OpenedDelivery:
    """The delivery with its letter's public face, as a token opens it."""
    letter = s.get_one(Letter, delivery.letter_id)
    if letter.secrecy:  # never linked; a guard against a row made some other way
        raise NotFound(_NO_LINK)
    unit = s.get(Unit, letter.unit_id) if letter.unit_id else None
    return OpenedDelivery(
        delivery=_info(delivery),
        ref_no=letter.ref_no,
        date=letter.date,
        subject=letter.subject,
        sender=letter.sender,
        unit=unit.prefix if unit else None,
        token_expires_at=link.expires_at,
        reply_being_read=_being_read(delivery, now),
    )


DOWNLOAD_AUDIT_WINDOW = dt.timedelta(hours=1)


def record_download(
    archive: Archive, token: str, file_no: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The file ``file_no`` (from 1) a token opens, its download audited: the first one of
    each file, then at most one event per file per :data:`DOWNLOAD_AUDIT_WINDOW` (a PDF
    reader asking again and again, or someone replaying the link, adds no row per
    request). A
    download marks the delivery opened if it was not (the letter's file, or any file,
    reached through its link). Returns the file's ``{"name", "sha256", "media_type"}``."""
    now = now or utcnow()
    with archive._read() as s:
        delivery, _link = _by_token(s, token, now=now)
        if s.get_one(Letter, delivery.letter_id).secrecy:  # never linked: as open_token
            raise NotFound(_NO_LINK)
        files = delivery.enclosures or []
        if not 1 <= file_no <= len(files):
            raise NotFound(f"ไม่พบไฟล์ที่ {file_no} / no file {file_no}")
        seen = s.get(DeliveryDownload, (delivery.id, file_no))
        quiet = (
            seen is not None
            and delivery.opened_at is not None
            and seen.audited_at > now - DOWNLOAD_AUDIT_WINDOW
        )
    if not quiet:
        with archive._write() as s:
            delivery, _link = _by_token(s, token, now=now, for_update=True)
            seen = s.get(DeliveryDownload, (delivery.id, file_no))
            if seen is None:
                seen = DeliveryDownload(
                    delivery_id=delivery.id, file_no=file_no, first_at=now, events=0
                )
                s.add(seen)
            elif delivery.opened_at is not None and (seen.audited_at > now - DOWNLOAD_AUDIT_WINDOW):
                return dict(files[file_no - 1])  # another request audited it meanwhile
            opening = delivery.opened_at is None
            delivery.opened_at = delivery.opened_at or now
            seen.events += 1
            seen.audited_at = now
            _audit.append(
                s,
                actor=f"delivery:{delivery.id}",
                action="delivery.download",
                letter_id=delivery.letter_id,
                detail={
                    "delivery": delivery.id,
                    "recipient": delivery.name,
                    "file": file_no,
                    "name": files[file_no - 1]["name"],
                    "event": seen.events,  # this file's n-th download event
                    "opened": opening,
                },
            )
    return dict(files[file_no - 1])


def acknowledge(
    archive: Archive, token: str, receive_no: Any, by: Any, *, now: dt.datetime | None = None
) -> DeliveryInfo:
    """The recipient's ลงรับ: their own เลขรับ and who received it; once. ``now``: the
    moment it happens (tests of lateness give one; otherwise the clock's)."""
    number = typed_text(receive_no, "receive_no", limit=100) or ""
    who = typed_text(by, "by", limit=200) or ""
    now = now or utcnow()
    with archive._write() as s:
        delivery, _link = _by_token(s, token, now=now, for_update=True)
        if delivery.acknowledged_at is not None:
            raise Conflict(
                f"ลงรับแล้วเมื่อ เลขรับ {delivery.receive_no} / already acknowledged as "
                f"{delivery.receive_no}"
            )
        delivery.acknowledged_at = now
        delivery.opened_at = delivery.opened_at or now
        delivery.receive_no, delivery.acknowledged_by = number, who
        _audit.append(
            s,
            actor=f"delivery:{delivery.id}",
            action="delivery.acknowledge",
            letter_id=delivery.letter_id,
            detail={"delivery": delivery.id, "receive_no": number, "by": who},
        )
        return _info(delivery)


class AlreadyReplied(Conflict):
    def __init__(self) -> None:
        super().__init__("ตอบกลับหนังสือนี้แล้ว / this letter was already answered")


# A reply is read in far less (at most a few pages of OCR, each stopped after its own
# timeout): a hold older than this was left by a process on another machine that died.
READING_FOR = dt.timedelta(minutes=15)


class ReplyBeingRead(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "กำลังอ่านคำตอบที่ส่งมาก่อนหน้านี้ รอสักครู่แล้วเปิดหน้านี้ใหม่ / a reply to this "
            "letter is being read: wait, then open the page again"
        )


@contextmanager
def reading_reply(archive: Archive, token: str) -> Iterator[OpenedDelivery]:
    """Hold the delivery while its reply is read (OCR takes seconds a page), giving it as
    its token opens it: a second
    reply sent meanwhile, by any link of the delivery and to any serving process or
    machine, is refused (:class:`ReplyBeingRead`) instead of being read twice. The hold is
    the row's time and process, taken in one write and given back after; one left by a
    killed process lapses at once on its machine, after :data:`READING_FOR` elsewhere."""
    now, me = utcnow(), worker_token()
    with archive._write() as s:
        delivery, link = _by_token(s, token, now=now, for_update=True)
        if delivery.replied_at is not None:
            raise AlreadyReplied()
        if _being_read(delivery, now):
            raise ReplyBeingRead()
        opened = _opened(s, delivery, link, now)  # as the district opened it
        delivery.reading_since, delivery.reading_by = now, me
    try:
        yield opened
    finally:
        with archive._write() as s:
            s.execute(
                update(Delivery)
                .where(Delivery.id == opened.delivery.id, Delivery.reading_by == me)
                .where(Delivery.reading_since == now)
                .values(reading_since=None, reading_by=None)
            )


def _being_read(delivery: Delivery, now: dt.datetime) -> bool:
    """Whether the delivery's hold (:func:`reading_reply`) stands: its process lives, and
    it was taken less than :data:`READING_FOR` ago."""
    since = delivery.reading_since
    return (
        since is not None
        and now - since < READING_FOR
        and worker_alive(delivery.reading_by, since, now)
    )


def check_reply_allowed(archive: Archive, token: str) -> DeliveryInfo:
    with archive._read() as s:
        delivery, _link = _by_token(s, token, now=utcnow())
        if delivery.replied_at is not None:
            raise AlreadyReplied()
        return _info(delivery)


def store_reply(
    archive: Archive,
    token: str,
    letter: dict[str, Any],
    *,
    original: bytes,
    original_name: str,
    needs_review: dict[str, Any] | None = None,
    data: dict[str, Any] | None,
    register: str,
    subject: str,
    enclosed: list[tuple[str, bytes]] | None = None,
    pdfa: bytes | None = None,
    now: dt.datetime | None = None,
) -> DeliveryInfo:
    """The reply of a recipient, in one transaction: the letter kept from its file
    (``letter``: what the importer read, or the filled form's letter) with the files sent
    beside it (``enclosed``) and the searchable copy OCR made of a scan (``pdfa``), entered in the
    sender's incoming register under its next เลขรับ, linked to the circular (อ้างถึง),
    with the form's data if one was filled, and the delivery marked replied. An error,
    an interruption, a crash or a second reply to the same delivery at the same moment
    leaves either all of it or nothing: never a kept letter without its register row.

    The reply's files are put in the content-addressed store before the transaction (as
    every import does); when the transaction fails, a file this reply brought and no row
    records is taken out again. Only a process killed in that moment leaves such a file,
    which ``saraban verify`` names (no letter, row or number comes with it)."""
    now = now or utcnow()
    delivery = check_reply_allowed(archive, token)  # refused before the file is kept
    found: list[DeliveryInfo] = []

    files = [original, *(content for _, content in enclosed or []), *([pdfa] if pdfa else [])]
    shas = {hashlib.sha256(content).hexdigest() for content in files}
    brought = [sha for sha in shas if not archive.files.exists(sha)]

    pdfa_sha: str | None = None  # set when it is stored, before the transaction

    def record(s: Session, reply: Letter) -> None:
        if pdfa_sha is not None:
            archive._record_file(s, pdfa_sha, "application/pdf")
        found.append(
            _record_reply(s, archive, token, reply, data, register, subject, now, pdfa_sha)
        )

    try:
        if pdfa:
            pdfa_sha = archive.files.put(pdfa)
        archive.store_imported(
            letter,
            original=original,
            original_name=original_name,
            actor=f"delivery:{delivery.id}",
            needs_review=needs_review,
            clearance=None,
            and_then=record,
            enclosed=enclosed or [],
        )
    except BaseException:
        for sha in brought:
            _drop_unrecorded(archive, sha)
        raise
    return found[0]


def _drop_unrecorded(archive: Archive, sha: str) -> None:
    """Take a file out of the store if no row records it. Only where the write turn
    serialises every writer (SQLite): a writer that records the same bytes waits for the
    turn, so the file cannot be recorded between the check and its removal. (PostgreSQL
    has no such turn; the file stays, named by ``saraban verify``.)"""
    if archive._lock_path is None:
        return
    with archive._write() as s:
        if s.get(StoredFile, sha) is None:
            archive.files.path(sha).unlink(missing_ok=True)


def _record_reply(
    s: Session,
    archive: Archive,
    token: str,
    reply: Letter,
    data: dict[str, Any] | None,
    register: str,
    subject: str,
    now: dt.datetime,
    pdfa_sha: str | None = None,
) -> DeliveryInfo:
    # Read again under the write turn (SQLite) or the row's lock (PostgreSQL): a second
    # reply that raced this one past check_reply_allowed stops here, and its letter with it.
    delivery, _link = _by_token(s, token, now=now, for_update=True)
    if delivery.replied_at is not None:
        raise AlreadyReplied()
    circular = s.get_one(Letter, delivery.letter_id)
    reg, _unit = archive._resolve(s, register)
    from saraban.thai import be_year

    year = be_year(now.astimezone().date().year)
    received = archive._enter_received(
        s,
        reg.id,
        year,
        received_at=now,
        ref_no=reply.ref_no,
        ref_key=reply.ref_key,
        letter_date=reply.date,
        sender=delivery.name,
        recipient=circular.sender or "",
        subject=subject,
        note=f"ตอบหนังสือ {circular.ref_no or circular.id}",
        letter_id=reply.id,
        pdfa_sha256=pdfa_sha,
        secrecy=reply.secrecy,  # a reply marked secret stays out of uncleared eyes
        created_at=now,
        created_by=f"delivery:{delivery.id}",
    )
    position = s.scalar(select(func.count(Reference.id)).where(Reference.letter_id == reply.id))
    s.add(
        Reference(
            letter_id=reply.id,
            position=int(position or 0),
            text=f"ที่ {circular.ref_no}" if circular.ref_no else f"หนังสือ {circular.id}",
            ref_key=circular.ref_key,
            ref_date=circular.date,
            target_id=circular.id,
        )
    )
    s.flush()
    delivery.replied_at = now
    delivery.opened_at = delivery.opened_at or now
    delivery.reply_letter_id = reply.id
    delivery.reply_received_id = received.id
    delivery.reply_data = data
    _audit.append(
        s,
        actor=f"delivery:{delivery.id}",
        action="delivery.reply",
        letter_id=delivery.letter_id,
        detail={
            "delivery": delivery.id,
            # the reply's own level and row, so that the audit table leaves a secret reply
            # out for those not cleared for it; its public id, never a row number
            "reply_letter": reply.public_id,
            "received_id": received.id,
            "secrecy": reply.secrecy,
            "received": {"register": reg.name, "year": year, "serial": received.serial},
            "form": bool(data),
        },
    )
    return _info(delivery)


def revoke(archive: Archive, delivery_id: int, *, actor: str) -> None:
    now = utcnow()
    with archive._write() as s:
        row = s.get(Delivery, delivery_id)
        if row is None:
            raise NotFound(f"ไม่พบการส่งรายการ {delivery_id} / no delivery {delivery_id}")
        row.revoked_at = row.revoked_at or now
        for link in s.scalars(select(DeliveryToken).where(DeliveryToken.delivery_id == row.id)):
            link.revoked_at = link.revoked_at or now
        _audit.append(
            s,
            actor=actor,
            action="delivery.revoke",
            letter_id=row.letter_id,
            detail={"delivery": row.id, "recipient": row.name},
        )


def remind(
    archive: Archive,
    letter_id: int,
    make_mail: Callable[[DeliveryInfo, str], tuple[str, str]],
    *,
    actor: str,
    expires_at: dt.datetime,
    mail_from: str,
) -> list[tuple[DeliveryInfo, str]]:
    """A new link and an e-mail to every recipient of the letter who has not replied
    and has an address; returns (delivery, link token) of each."""
    now = utcnow()
    sent: list[tuple[DeliveryInfo, str]] = []
    with archive._write() as s:
        letter = s.get(Letter, letter_id)
        if letter is not None and letter.status != ISSUED:
            raise Conflict(
                f"หนังสือ {letter.public_id} ถูกยกเลิกแล้ว จึงไม่เตือนผู้รับ / letter "
                f"{letter.public_id} was "
                "cancelled: its recipients are not reminded"
            )
        rows = s.scalars(
            select(Delivery)
            .where(
                Delivery.letter_id == letter_id,
                Delivery.replied_at.is_(None),
                Delivery.revoked_at.is_(None),
                Delivery.linked.is_(True),
            )
            .order_by(Delivery.name)
        ).all()
        for row in rows:
            token = new_token()
            s.add(
                DeliveryToken(
                    delivery_id=row.id,
                    token_sha256=token_hash(token),
                    created_at=now,
                    expires_at=max(expires_at, now + dt.timedelta(days=1)),
                )
            )
            row.reminded_at = now
            row.reminders = (row.reminders or 0) + 1
            info = _info(row)
            if row.email:
                subject, body = make_mail(info, token)
                _mail.enqueue(
                    s,
                    to=row.email,
                    sender=mail_from,
                    subject=subject,
                    body=body,
                    delivery_id=row.id,
                )
            sent.append((info, token))
        _audit.append(
            s,
            actor=actor,
            action="letter.remind",
            letter_id=letter_id,
            detail={"recipients": [d.name for d, _t in sent]},
        )
    return sent
