"""The audit trail: an append-only hash chain of everything that changes the record.

Each event stores ``prev_hash`` (the hash of the event before it; 64 zeros for the first) and
``hash`` = SHA-256 of ``prev_hash`` and the event's own canonical JSON (sequence number, time,
actor, action, letter, detail). Changing, removing or re-ordering any event breaks every hash
after it, which :func:`verify_chain` finds. The database refuses UPDATE and DELETE on the
table (triggers), so the chain can only be broken from outside the program.

Appends are serialised: on SQLite by the writer's ``BEGIN IMMEDIATE``, on PostgreSQL by a
transaction-scoped advisory lock, so two writers never chain onto the same event (the
unique ``seq`` would refuse it anyway).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from saraban.archive._db import AUDIT_LOCK
from saraban.archive._models import AuditEvent, utcnow

GENESIS = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(
    prev_hash: str,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    letter_id: int | None,
    detail: str,
) -> str:
    # Microseconds are dropped: some databases keep less, and the hash must survive a round
    # trip through either one.
    body = _canonical(
        {
            "seq": seq,
            "at": at.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
            "actor": actor,
            "action": action,
            "letter_id": letter_id,
            "detail": detail,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def hold(session: Session) -> None:
    """Take the chain's turn now (PostgreSQL: its advisory lock, held to commit; SQLite's
    write transaction holds it already): what the transaction reads next, no other writer
    of the chain changes before it commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    letter_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event at the end of the chain, inside the caller's write transaction."""
    hold(session)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = utcnow().replace(microsecond=0)
    detail_json = _canonical(detail or {})
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        letter_id=letter_id,
        detail=detail_json,
        prev_hash=prev_hash,
        hash=event_hash(prev_hash, seq, at, actor, action, letter_id, detail_json),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session, batch: int = 5000) -> list[str]:
    """Every break in the chain, as a sentence naming the event; empty when it is whole."""
    problems: list[str] = []
    expected_seq, prev_hash = 1, GENESIS
    after = 0
    while True:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not events:
            return problems
        for event in events:
            where = f"audit event {event.seq} ({event.action})"
            if event.seq != expected_seq:
                problems.append(f"บันทึกการตรวจสอบขาดหาย / {where}: expected sequence {expected_seq}")
            if event.prev_hash != prev_hash:
                problems.append(
                    f"บันทึกการตรวจสอบไม่ต่อเนื่อง / {where}: prev_hash does not match the "
                    "event before it"
                )
            actual = event_hash(
                event.prev_hash,
                event.seq,
                event.at,
                event.actor,
                event.action,
                event.letter_id,
                event.detail,
            )
            if actual != event.hash:
                problems.append(f"บันทึกการตรวจสอบถูกแก้ไข / {where}: its hash does not match")
            expected_seq, prev_hash = event.seq + 1, event.hash
            after = event.seq
