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

from sqlalchemy import and_, case, func, or_, select

from saraban.archive import _audit
from saraban.archive._core import (
    _UNSET,
    ArchiveCore,
    _prefix_key,
    _ref_key,
    _secrecy_clause,
)
from saraban.archive._incoming import Incoming
from saraban.archive._models import (
    SHOWN_STATUSES,
    Delegation,
    Letter,
    Received,
    ReceivedOrder,
    Reference,
    Register,
    Routing,
    Unit,
    UnitMember,
    utcnow,
)
from saraban.archive._records import LetterRecord, ReceivedRecord, _jsonable
from saraban.errors import BadRequest, Conflict, NotFound
from saraban.vocabulary import cut, typed_text

WAITING = "รอดำเนินการ"
# An order (สั่งการ) is printed on the stamped copy, every order under the receipt stamp:
# a few lines each (300,000 characters took 56 s to print, in the request), a few orders.
MAX_ORDER_CHARS = 1_000
MAX_ORDERS = 20
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
    unit_id: int | None = None  # sent to a unit: ``assignee`` is its prefix

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
        row.unit_id,
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
        units: list[str] | None = None,
    ) -> list[RoutingRecord]:
        """Send a received letter to each of ``assignees`` and each of ``units`` (unit
        prefixes: every member sees it, one marks it done); a name twice: once. Someone
        (or a unit) the letter already waits for keeps that routing: no second one, which
        their "done" would have left waiting."""
        names = list(dict.fromkeys(typed_text(a, "to") or "" for a in assignees))
        wanted_units = list(dict.fromkeys(typed_text(u, "units") or "" for u in units or []))
        if not names and not wanted_units:
            raise BadRequest("to: ต้องระบุผู้รับอย่างน้อยหนึ่งคน / name at least one person")
        note_text = typed_text(note, "note", required=False, lines=True)
        now = utcnow()
        with self._write() as s:
            # the letter's row held: two routings at once see each other's waiting rows
            received = s.get(Received, received_id, with_for_update=True)
            if received is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            found_units = [self._unit_named(s, u) for u in wanted_units]
            found_units = list({u.id: u for u in found_units}.values())
            waiting = s.scalars(
                select(Routing).where(Routing.received_id == received_id, Routing.done_at.is_(None))
            ).all()
            person_waiting = {r.assignee: r for r in waiting if r.unit_id is None}
            unit_waiting = {r.unit_id: r for r in waiting if r.unit_id is not None}
            kept = [person_waiting[n] for n in names if n in person_waiting] + [
                unit_waiting[u.id] for u in found_units if u.id in unit_waiting
            ]
            names = [n for n in names if n not in person_waiting]
            found_units = [u for u in found_units if u.id not in unit_waiting]
            if not names and not found_units:
                return [_routing(r) for r in kept]
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
            ] + [
                Routing(
                    received_id=received_id,
                    assignee=unit.prefix,
                    unit_id=unit.id,
                    note=note_text,
                    due=due,
                    routed_at=now,
                    routed_by=actor,
                )
                for unit in found_units
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
                    **({"units": [u.prefix for u in found_units]} if found_units else {}),
                    "note": note_text,
                    "due": due.isoformat() if due else None,
                },
            )
            return [_routing(r) for r in [*rows, *kept]]

    @staticmethod
    def _unit_named(s: Any, prefix: str) -> Unit:
        try:
            key = _prefix_key(prefix)
        except BadRequest:
            key = None
        unit = s.scalar(select(Unit).where(Unit.prefix_key == key)) if key else None
        if unit is None:
            shown = repr(cut(prefix))
            raise NotFound(f"ไม่พบส่วนราชการ {shown} / no unit {shown}")
        return unit

    # ---- units' members ---------------------------------------------------------------------

    def add_member(self, unit: str, member: str, *, actor: str) -> list[str]:
        """``member`` works in ``unit`` from now on (sees what is routed to it); the unit's
        members after the change. Adding a member twice changes nothing."""
        name = typed_text(member, "member") or ""
        with self._write() as s:
            found = self._unit_named(s, unit)
            if name not in self._members(s, found.id):
                s.add(UnitMember(unit_id=found.id, member=name, added_at=utcnow(), added_by=actor))
                s.flush()
                _audit.append(
                    s,
                    actor=actor,
                    action="unit.member.add",
                    detail={"unit": found.prefix, "member": name},
                )
            return self._members(s, found.id)

    def remove_member(self, unit: str, member: str, *, actor: str) -> list[str]:
        """``member`` leaves ``unit`` (the row stays, with when and who); the members after."""
        with self._write() as s:
            found = self._unit_named(s, unit)
            rows = s.scalars(
                select(UnitMember).where(
                    UnitMember.unit_id == found.id,
                    UnitMember.member == member,
                    UnitMember.removed_at.is_(None),
                )
            ).all()
            if not rows:
                raise NotFound(f"{member} ไม่ได้อยู่ใน {found.prefix} / {member} is not a member")
            for row in rows:
                row.removed_at, row.removed_by = utcnow(), actor
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="unit.member.remove",
                detail={"unit": found.prefix, "member": member},
            )
            return self._members(s, found.id)

    @staticmethod
    def _members(s: Any, unit_id: int) -> list[str]:
        return sorted(
            set(
                s.scalars(
                    select(UnitMember.member).where(
                        UnitMember.unit_id == unit_id, UnitMember.removed_at.is_(None)
                    )
                )
            )
        )

    def members(self, unit: str) -> list[str]:
        with self._read() as s:
            return self._members(s, self._unit_named(s, unit).id)

    def units_of(self, names: list[str]) -> list[tuple[int, str]]:
        """(unit id, prefix) of the units these people work in."""
        if not names:
            return []
        with self._read() as s:
            rows = s.execute(
                select(Unit.id, Unit.prefix)
                .join(UnitMember, UnitMember.unit_id == Unit.id)
                .where(UnitMember.member.in_(names), UnitMember.removed_at.is_(None))
                .distinct()
                .order_by(Unit.prefix)
            )
            return [(int(i), str(p)) for i, p in rows]

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
        note_text = typed_text(note, "note", required=False, lines=True)
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
        unit_ids: list[int] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[InboxItem]:
        """What waits for these people and these units (done ones too if
        ``include_done``), due first (then undated, then done), at most ``limit`` of them
        from ``offset``."""
        if not assignees and not unit_ids:
            return []
        with self._read() as s:
            query = self._inbox_where(
                select(Routing, Received, Register.name)
                .join(Received, Routing.received_id == Received.id)
                .join(Register, Received.register_id == Register.id),
                assignees,
                clearance,
                include_done,
                unit_ids,
            ).order_by(Routing.done_at.isnot(None), Routing.due.is_(None), Routing.due, Routing.id)
            if limit is not None:
                query = query.limit(limit).offset(offset)
            return [
                InboxItem(_routing(r), Incoming._received_record(rec, name))
                for r, rec, name in s.execute(query)
            ]

    def inbox_counts(
        self,
        assignees: list[str],
        *,
        today: dt.date,
        clearance: str | None = _UNSET,
        include_done: bool = False,
        unit_ids: list[int] | None = None,
    ) -> tuple[int, int]:
        """How many routings :meth:`inbox` lists in all, and how many of them are late."""
        if not assignees and not unit_ids:
            return 0, 0
        late = and_(Routing.done_at.is_(None), Routing.due < today)
        with self._read() as s:
            query = self._inbox_where(
                select(func.count(Routing.id), func.count(case((late, 1)))).join(
                    Received, Routing.received_id == Received.id
                ),
                assignees,
                clearance,
                include_done,
                unit_ids,
            )
            total, late_count = s.execute(query).one()
            return int(total or 0), int(late_count or 0)

    @staticmethod
    def _inbox_where(
        query: Any,
        assignees: list[str],
        clearance: str | None,
        include_done: bool,
        unit_ids: list[int] | None,
    ) -> Any:
        query = query.where(
            or_(
                and_(Routing.assignee.in_(assignees), Routing.unit_id.is_(None)),
                Routing.unit_id.in_(unit_ids or []),
            )
        )
        if clearance is not _UNSET:
            query = query.where(_secrecy_clause(clearance, Received.secrecy))
        if not include_done:
            query = query.where(Routing.done_at.is_(None))
        return query

    def waiting_count(self, *, clearance: str | None = _UNSET) -> int:
        """Received letters routed and not yet done by everyone (for the dashboard)."""
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
        with self._read() as s:
            query = select(func.count(Received.id)).where(Received.confirmed_at.is_(None))
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            return int(s.scalar(query) or 0)

    # ---- orders (สั่งการ) -----------------------------------------------------------------

    def add_order(self, received_id: int, text: str, *, actor: str) -> OrderRecord:
        order_text = typed_text(text, "order", lines=True, limit=MAX_ORDER_CHARS) or ""
        with self._write() as s:
            received = s.get(Received, received_id, with_for_update=True)
            if received is None:
                raise NotFound(f"ไม่พบเลขรับรายการ {received_id} / no received letter {received_id}")
            written = s.scalar(
                select(func.count(ReceivedOrder.id)).where(ReceivedOrder.received_id == received_id)
            )
            if (written or 0) >= MAX_ORDERS:
                raise Conflict(
                    f"order: สั่งการได้ไม่เกิน {MAX_ORDERS} ครั้งต่อหนังสือ (ฉบับประทับตรารับพิมพ์ทุกครั้ง"
                    f"ไว้ใต้ตรารับ) / at most {MAX_ORDERS} orders a letter: the stamped copy "
                    "prints them all"
                )
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
        a = typed_text(delegator, "delegator") or ""
        b = typed_text(delegate, "delegate") or ""
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

    def delegation(self, delegation_id: int) -> DelegationRecord:
        with self._read() as s:
            row = s.get(Delegation, delegation_id)
            if row is None:
                raise NotFound(f"ไม่พบการมอบหมาย {delegation_id} / no delegation {delegation_id}")
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

    # ---- what answered it ----------------------------------------------------------------

    def answers_to_received(
        self, received_id: int, *, clearance: str | None = _UNSET
    ) -> list[LetterRecord]:
        """Letters of ours that answer a received letter: those whose อ้างถึง names it (its
        kept file, linked as threads link; or its number and date, for a row typed in),
        oldest first. With a ``clearance``, only the letters it opens, as a thread shows."""
        with self._read() as s:
            received = s.get(Received, received_id)
            if received is None:
                return []
            citing = []
            if received.letter_id is not None:
                citing.append(Reference.target_id == received.letter_id)
            key = _ref_key(received.ref_no)
            if key:
                same_number = Reference.ref_key == key
                if received.letter_date is not None:
                    same_number &= or_(
                        Reference.ref_date.is_(None), Reference.ref_date == received.letter_date
                    )
                citing.append(same_number)
            if not citing:
                return []
            query = (
                select(Letter)
                .join(Reference, Reference.letter_id == Letter.id)
                .where(
                    or_(*citing),
                    # ours: not the kept file of a letter we received
                    Letter.id.not_in(
                        select(Received.letter_id).where(Received.letter_id.is_not(None))
                    ),
                    Letter.status.in_(SHOWN_STATUSES),
                )
                .distinct()
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance))
            rows = s.scalars(query).all()
            records = [self._record(s, row) for row in rows]
        return sorted(records, key=lambda r: (r.date or dt.date.max, r.id))

    def received_answering(
        self, letter_id: int, *, clearance: str | None = _UNSET
    ) -> list[ReceivedRecord]:
        """Received letters that answer a letter of ours: taken in as its answer, or whose
        kept file's อ้างถึง names it; in order of เลขรับ, only those ``clearance`` opens."""
        with self._read() as s:
            citing_files = select(Reference.letter_id).where(Reference.target_id == letter_id)
            query = (
                select(Received, Register.name)
                .join(Register, Received.register_id == Register.id)
                .where(
                    or_(Received.answers_id == letter_id, Received.letter_id.in_(citing_files)),
                    or_(Received.letter_id.is_(None), Received.letter_id != letter_id),
                )
            )
            if clearance is not _UNSET:
                query = query.where(_secrecy_clause(clearance, Received.secrecy))
            rows = s.execute(query.order_by(Received.received_at, Received.id))
            return [Incoming._received_record(row, name) for row, name in rows]
