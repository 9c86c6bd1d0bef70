"""Routing received letters (เกษียน/สั่งการ): a received letter sent to people with a note
and a due date, each marking it done; a superior's orders; and acting for another user
(รักษาการแทน) between two dates. Every step is audited; no row is ever deleted.

Users are named by their account names, as the audit trail names them; who may be sent a
letter (cleared for its secrecy) is the caller's check (``saraban.usecases.routing``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from saraban.archive import _audit
from saraban.archive._core import _UNSET, ArchiveCore, _clean_text, _secrecy_clause
from saraban.archive._incoming import Incoming
from saraban.archive._models import Delegation, Received, ReceivedOrder, Register, Routing, utcnow
from saraban.archive._records import ReceivedRecord, _jsonable
from saraban.errors import BadRequest, Conflict, NotFound

WAITING = "รอดำเนินการ"
DONE = "ดำเนินการแล้ว"


@dataclass(frozen=True)
class RoutingRecord:
    id: int
    received_id: int
    assignee: str
    note: str | None
    due: dt.date | None
    routed_at: dt.datetime
    routed_by: str
    done_at: dt.datetime | None
    done_by: str | None
    done_note: str | None

    @property
    def status(self) -> str:
        return DONE if self.done_at is not None else WAITING

    def late(self, today: dt.date) -> bool:
        return self.done_at is None and self.due is not None and self.due < today

    def as_dict(self) -> dict[str, Any]:
        return _jsonable({**asdict(self), "status": self.status})


@dataclass(frozen=True)
class OrderRecord:
    id: int
    received_id: int
    text: str
    written_at: dt.datetime
    written_by: str


@dataclass(frozen=True)
class DelegationRecord:
    id: int
    delegator: str
    delegate: str
    date_from: dt.date
    date_to: dt.date
    created_by: str
    revoked_at: dt.datetime | None

    def covers(self, day: dt.date) -> bool:
        return self.revoked_at is None and self.date_from <= day <= self.date_to

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class InboxItem:
    routing: RoutingRecord
    received: ReceivedRecord


def _routing(row: Routing) -> RoutingRecord:
    return RoutingRecord(
        row.id,
        row.received_id,
        row.assignee,
        row.note,
        row.due,
        row.routed_at,
        row.routed_by,
        row.done_at,
        row.done_by,
        row.done_note,
    )


def _delegation(row: Delegation) -> DelegationRecord:
    return DelegationRecord(
        row.id,
        row.delegator,
        row.delegate,
        row.date_from,
        row.date_to,
        row.created_by,
        row.revoked_at,
    )


class Routings(ArchiveCore):
    """Routing, orders and delegation over the incoming register."""

    def route_received(
        self,
        received_id: int,
        assignees: list[str],
        *,
        actor: str,
        note: str | None = None,
        due: dt.date | None = None,
    ) -> list[RoutingRecord]:
        """Send a received letter to each of ``assignees`` (a name twice: once)."""
        names = list(dict.fromkeys(_clean_text(a, "to") or "" for a in assignees))
        if not names:
            raise BadRequest("to: ต้องระบุผู้รับอย่างน้อยหนึ่งคน / name at least one person")
        note_text = _clean_text(note, "note", required=False)
        now = utcnow()
        with self._write() as s:
            received = s.get(Received, received_id)
            if received is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            rows = [
                Routing(
                    received_id=received_id,
                    assignee=name,
                    note=note_text,
                    due=due,
                    routed_at=now,
                    routed_by=actor,
                )
                for name in names
            ]
            s.add_all(rows)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="received.route",
                letter_id=received.letter_id,
                detail={
                    "received_id": received_id,
                    "to": names,
                    "note": note_text,
                    "due": due.isoformat() if due else None,
                },
            )
            return [_routing(r) for r in rows]

    def routings_of(self, received_id: int) -> list[RoutingRecord]:
        with self._read() as s:
            rows = s.scalars(
                select(Routing).where(Routing.received_id == received_id).order_by(Routing.id)
            )
            return [_routing(r) for r in rows]

    def routing(self, routing_id: int) -> RoutingRecord:
        with self._read() as s:
            row = s.get(Routing, routing_id)
            if row is None:
                raise NotFound(f"ไม่พบรายการเกษียน {routing_id} / no routing {routing_id}")
            return _routing(row)

    def mark_done(
        self, routing_id: int, *, actor: str, acting_for: str | None = None, note: str | None = None
    ) -> RoutingRecord:
        """The assignee (or ``actor`` acting for them) did what was asked: "X แทน Y"."""
        note_text = _clean_text(note, "note", required=False)
        who = f"{actor} แทน {acting_for}" if acting_for and acting_for != actor else actor
        with self._write() as s:
            row = s.get(Routing, routing_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบรายการเกษียน {routing_id} / no routing {routing_id}")
            if row.done_at is not None:
                raise Conflict(f"ดำเนินการแล้วโดย {row.done_by} / already done by {row.done_by}")
            row.done_at, row.done_by, row.done_note = utcnow(), who, note_text
            s.flush()
            received = s.get_one(Received, row.received_id)
            _audit.append(
                s,
                actor=who,
                action="received.done",
                letter_id=received.letter_id,
                detail={
                    "received_id": row.received_id,
                    "routing_id": routing_id,
                    "note": note_text,
                },
            )
            return _routing(row)

    def inbox(
        self,
        assignees: list[str],
        *,
        clearance: str | None = _UNSET,
        include_done: bool = False,
    ) -> list[InboxItem]:
        """What waits for these people (done ones too if ``include_done``), due first."""
        if not assignees:
            return []
        with self._read() as s:
            query = (
                select(Routing, Received, Register.name)
                .join(Received, Routing.received_id == Received.id)
                .join(Register, Received.register_id == Register.id)
                .where(Routing.assignee.in_(assignees))
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            if not include_done:
                query = query.where(Routing.done_at.is_(None))
            rows = s.execute(query.order_by(Routing.done_at.isnot(None), Routing.id))
            items = [
                InboxItem(_routing(r), Incoming._received_record(rec, name))
                for r, rec, name in rows
            ]
        far = dt.date.max
        return sorted(items, key=lambda i: (i.routing.done_at is not None, i.routing.due or far))

    def waiting_count(self, *, clearance: str | None = _UNSET) -> int:
        """Received letters routed and not yet done by everyone (for the dashboard)."""
        from sqlalchemy import func

        with self._read() as s:
            query = (
                select(func.count(func.distinct(Routing.received_id)))
                .join(Received, Routing.received_id == Received.id)
                .where(Routing.done_at.is_(None))
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            return int(s.scalar(query) or 0)

    def unconfirmed_count(self, *, clearance: str | None = _UNSET) -> int:
        """Received letters taken in from files whose fields no clerk has confirmed yet."""
        from sqlalchemy import func

        with self._read() as s:
            query = select(func.count(Received.id)).where(Received.confirmed_at.is_(None))
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            return int(s.scalar(query) or 0)

    # ---- orders (สั่งการ) -----------------------------------------------------------------

    def add_order(self, received_id: int, text: str, *, actor: str) -> OrderRecord:
        order_text = _clean_text(text, "order") or ""
        with self._write() as s:
            received = s.get(Received, received_id)
            if received is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            row = ReceivedOrder(
                received_id=received_id, text=order_text, written_at=utcnow(), written_by=actor
            )
            s.add(row)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="received.order",
                letter_id=received.letter_id,
                detail={"received_id": received_id, "order": order_text},
            )
            return OrderRecord(row.id, received_id, row.text, row.written_at, row.written_by)

    def orders_of(self, received_id: int) -> list[OrderRecord]:
        with self._read() as s:
            rows = s.scalars(
                select(ReceivedOrder)
                .where(ReceivedOrder.received_id == received_id)
                .order_by(ReceivedOrder.id)
            )
            return [
                OrderRecord(r.id, r.received_id, r.text, r.written_at, r.written_by) for r in rows
            ]

    def order_stamped(self, order_id: int, sha256: str) -> None:
        """Remember the stamped copy that printed this order."""
        with self._write() as s:
            row = s.get_one(ReceivedOrder, order_id)
            row.stamped_sha256 = sha256

    # ---- acting for (รักษาการแทน) -----------------------------------------------------------

    def delegate(
        self, delegator: str, delegate: str, date_from: dt.date, date_to: dt.date, *, actor: str
    ) -> DelegationRecord:
        if date_to < date_from:
            raise BadRequest("to: วันสิ้นสุดอยู่ก่อนวันเริ่ม / the end date is before the start")
        a = _clean_text(delegator, "delegator") or ""
        b = _clean_text(delegate, "delegate") or ""
        if a == b:
            raise BadRequest("delegate: รักษาการแทนตนเองไม่ได้ / one cannot act for oneself")
        with self._write() as s:
            row = Delegation(
                delegator=a,
                delegate=b,
                date_from=date_from,
                date_to=date_to,
                created_at=utcnow(),
                created_by=actor,
            )
            s.add(row)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="delegation.add",
                detail={
                    "delegator": a,
                    "delegate": b,
                    "from": date_from.isoformat(),
                    "to": date_to.isoformat(),
                },
            )
            return _delegation(row)

    def revoke_delegation(self, delegation_id: int, *, actor: str) -> DelegationRecord:
        with self._write() as s:
            row = s.get(Delegation, delegation_id, with_for_update=True)
            if row is None:
                raise NotFound(f"ไม่พบการมอบหมาย {delegation_id} / no delegation {delegation_id}")
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = utcnow(), actor
                s.flush()
                _audit.append(
                    s,
                    actor=actor,
                    action="delegation.revoke",
                    detail={"delegation_id": delegation_id},
                )
            return _delegation(row)

    def delegations(self, name: str | None = None) -> list[DelegationRecord]:
        """Every delegation (or those ``name`` gave or holds), newest first."""
        with self._read() as s:
            query = select(Delegation)
            if name is not None:
                query = query.where((Delegation.delegator == name) | (Delegation.delegate == name))
            return [_delegation(r) for r in s.scalars(query.order_by(Delegation.id.desc()))]

    def acting_for(self, delegate: str, day: dt.date) -> list[str]:
        """Whom ``delegate`` acts for on ``day``."""
        with self._read() as s:
            rows = s.scalars(
                select(Delegation).where(
                    Delegation.delegate == delegate,
                    Delegation.revoked_at.is_(None),
                    Delegation.date_from <= day,
                    Delegation.date_to >= day,
                )
            )
            return sorted({r.delegator for r in rows})
