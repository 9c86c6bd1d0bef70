"""The queue of outgoing e-mail, and the sender that drains it over SMTP.

Mail is never sent inside the request that asks for it: sending a circular only adds rows
to ``outgoing_mail``, in the transaction that records its deliveries (the outbox pattern,
as the search index is told). :func:`send_queued` drains the queue: ``saraban serve``
runs it in a background thread after each sending and once a minute, and ``saraban mail
send`` runs it by hand. A message that fails is tried again later (1, 2, 4 ... minutes,
at most :data:`MAX_ATTEMPTS` times), then kept as failed with its last error. Two
processes may drain at once: each row is claimed by moving its next try forward in one
UPDATE, so only one of them sends it.

A queued message holds the recipient's private link until it is sent; once sent, its body
is dropped (only the hash of a link's token is kept anywhere else).

Messages are built with :class:`email.message.EmailMessage`, whose header folding refuses
CR and LF in a header value: no text of a letter or a recipient becomes a header.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from saraban.archive._models import Base, utcnow

if TYPE_CHECKING:
    from saraban.archive._archive import Archive

MAX_ATTEMPTS = 8
CLAIM = dt.timedelta(minutes=5)  # a claimed message is tried again after this if its sender died
SENT_BODY = "(sent: the body, with its private link, is not kept)"
TLS_MODES = ("none", "starttls", "ssl")


class OutgoingMail(Base):
    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    to_addr: Mapped[str] = mapped_column(String(254))
    from_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    tls: str  # none, starttls, ssl
    user: str | None
    password: str | None
    timeout: float = 30.0


@dataclass(frozen=True)
class QueuedMail:
    id: int
    to: str
    subject: str
    created_at: dt.datetime
    attempts: int
    sent_at: dt.datetime | None
    failed_at: dt.datetime | None
    last_error: str | None

    @property
    def status(self) -> str:
        return "sent" if self.sent_at else "failed" if self.failed_at else "queued"


def enqueue(
    s: Session, *, to: str, sender: str, subject: str, body: str, delivery_id: int | None
) -> None:
    """Queue one message in the caller's transaction."""
    now = utcnow()
    s.add(
        OutgoingMail(
            delivery_id=delivery_id,
            to_addr=to,
            from_addr=sender,
            subject=subject,
            body=body,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
    )


def build_message(row: OutgoingMail, sender_name: str | None = None) -> EmailMessage:
    """The message of a queued row. EmailMessage refuses a header with CR or LF in it
    (ValueError), so a hostile subject cannot add a header."""
    message = EmailMessage()
    message["From"] = formataddr((sender_name, row.from_addr)) if sender_name else row.from_addr
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain=row.from_addr.rpartition("@")[2] or None)
    message.set_content(row.body)
    return message


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    assert settings.host
    if settings.tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.user:
        smtp.login(settings.user, settings.password or "")
    return smtp


def send_queued(archive: Archive, settings: SmtpSettings, *, limit: int = 500) -> tuple[int, int]:
    """Send what is due in the queue over one SMTP connection; (sent, failed this round).
    Without an SMTP host nothing is sent and the queue waits."""
    if not settings.host:
        return 0, 0
    now = utcnow()
    with archive._write() as s:
        due = s.scalars(
            select(OutgoingMail)
            .where(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.failed_at.is_(None),
                OutgoingMail.next_attempt_at <= now,
            )
            .order_by(OutgoingMail.id)
            .limit(limit)
        ).all()
        claimed = []
        for row in due:
            moved = cast(
                CursorResult[Any],
                s.execute(
                    update(OutgoingMail)
                    .where(
                        OutgoingMail.id == row.id,
                        OutgoingMail.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + CLAIM, attempts=OutgoingMail.attempts + 1)
                    .execution_options(synchronize_session=False)
                ),
            )
            if moved.rowcount:
                claimed.append(row.id)
    if not claimed:
        return 0, 0
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        for mail_id in claimed:
            with archive._read() as s:
                row = s.get_one(OutgoingMail, mail_id)
                s.expunge(row)
            error = None
            try:
                message = build_message(row)
                if smtp is None:
                    smtp = _connect(settings)
                smtp.send_message(message)
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
                if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
                    smtp = None
            _finish(archive, mail_id, error)
            if error is None:
                sent += 1
            else:
                failed += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
    return sent, failed


def _finish(archive: Archive, mail_id: int, error: str | None) -> None:
    now = utcnow()
    with archive._write() as s:
        row = s.get_one(OutgoingMail, mail_id)
        if error is None:
            row.sent_at, row.body, row.last_error = now, SENT_BODY, None
            return
        row.last_error = error
        if row.attempts >= MAX_ATTEMPTS or error.startswith("ValueError"):
            row.failed_at = now  # a message that cannot be built never will be
        else:
            row.next_attempt_at = now + dt.timedelta(minutes=2 ** (row.attempts - 1))


def queue(archive: Archive, *, limit: int = 200) -> list[QueuedMail]:
    """The latest messages of the queue, newest first."""
    with archive._read() as s:
        rows = s.scalars(select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(limit)).all()
        return [
            QueuedMail(
                r.id,
                r.to_addr,
                r.subject,
                r.created_at,
                r.attempts,
                r.sent_at,
                r.failed_at,
                r.last_error,
            )
            for r in rows
        ]


def pending_count(archive: Archive) -> int:
    from sqlalchemy import func

    with archive._read() as s:
        return int(
            s.scalar(
                select(func.count(OutgoingMail.id)).where(
                    OutgoingMail.sent_at.is_(None), OutgoingMail.failed_at.is_(None)
                )
            )
            or 0
        )
