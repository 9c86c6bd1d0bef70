"""Routing a received letter (เกษียนหนังสือ/สั่งการ), for the pages, the API and the CLI.

- :func:`route`: send it to one or more people with a note and a due date; each must be a
  known user cleared for its secrecy (a secret letter never lands in an uncleared inbox).
- :func:`write_order`: a superior's order (สั่งการ), printed as a เกษียน block under the
  receipt stamp on a new stamped copy (the old copy stays in the file store).
- :func:`inbox` / :func:`mark_done`: what waits for a user, with the letters of those they
  act for today (รักษาการแทน); done by them, audited as "X แทน Y".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from saraban.archive import Archive, ReceivedRecord
from saraban.archive._routing import DelegationRecord, InboxItem, OrderRecord, RoutingRecord
from saraban.errors import BadRequest, NotFound, SarabanError
from saraban.letter import can_see
from saraban.thai import thai_date, to_thai_digits

logger = logging.getLogger("saraban.routing")
NOT_FOUND = "ไม่พบหนังสือรับนี้ / no such received letter"


class NotYours(SarabanError):
    """A routing the user neither holds nor holds for someone they act for: a conflict
    with the letter's state (not a role's refusal, which is 403 for administrators' work)."""

    status = 409


# A user's clearance by account name; raises NotFound for a name that is no user.
ClearanceOf = Callable[[str], str | None]


def visible_received(archive: Archive, received_id: int, clearance: str | None) -> ReceivedRecord:
    try:
        return archive.received_one(received_id, clearance=clearance)
    except NotFound:
        raise NotFound(NOT_FOUND) from None


def route(
    archive: Archive,
    received_id: int,
    to: list[str],
    *,
    actor: str,
    clearance: str | None,
    clearance_of: ClearanceOf,
    note: str | None = None,
    due: dt.date | None = None,
) -> list[RoutingRecord]:
    """Send a received letter the actor may see to each user in ``to``."""
    received = visible_received(archive, received_id, clearance)
    names = [n.strip() for n in to if isinstance(n, str) and n.strip()]
    if not names:
        raise BadRequest("to: ต้องระบุผู้รับอย่างน้อยหนึ่งคน / name at least one person")
    for name in names:
        try:
            their = clearance_of(name)
        except NotFound:
            raise BadRequest(f"to: ไม่มีผู้ใช้ชื่อ {name!r} / no user {name!r}") from None
        if not can_see(their, received.secrecy):
            raise BadRequest(
                f"to: {name} ไม่มีชั้นความลับให้เห็นหนังสือนี้ / {name} is not cleared for this letter"
            )
    return archive.route_received(received.id, names, actor=actor, note=note, due=due)


def write_order(
    archive: Archive,
    received_id: int,
    text: str,
    *,
    actor: str,
    clearance: str | None,
    office: str | None = None,
) -> OrderRecord:
    """Write an order and print every order so far as a เกษียน block on a new stamped copy
    (when the letter has a PDF page; otherwise the order is kept and shown on its page)."""
    from saraban.usecases.intake import stamp_received

    received = visible_received(archive, received_id, clearance)
    order = archive.add_order(received.id, text, actor=actor)
    lines = [
        f"{o.text} — {o.written_by} {thai_date(o.written_at.astimezone().date(), 'short')}"
        for o in archive.orders_of(received.id)
    ]
    try:
        stamped = stamp_received(archive, received, office=office, actor=actor, orders=lines)
    except SarabanError as exc:
        logger.info("received %s: order kept without a stamped copy: %s", received.id, exc)
    else:
        if stamped.stamped_sha256:
            archive.order_stamped(order.id, stamped.stamped_sha256)
    return order


@dataclass(frozen=True)
class Inbox:
    user: str
    acting_for: list[str]
    items: list[InboxItem]


def inbox(
    archive: Archive,
    user: str,
    *,
    clearance: str | None,
    today: dt.date | None = None,
    include_done: bool = False,
) -> Inbox:
    """The user's routed letters and those of everyone they act for today."""
    day = today or dt.date.today()
    others = archive.acting_for(user, day)
    items = archive.inbox([user, *others], clearance=clearance, include_done=include_done)
    return Inbox(user, others, items)


def mark_done(
    archive: Archive,
    routing_id: int,
    *,
    actor: str,
    clearance: str | None,
    note: str | None = None,
    today: dt.date | None = None,
) -> RoutingRecord:
    """Mark a routing done: by its assignee, or by someone acting for them today."""
    try:
        found = archive.routing(routing_id)
    except NotFound:
        raise NotFound(NOT_FOUND) from None  # the words a hidden letter's routing gets
    visible_received(archive, found.received_id, clearance)
    if found.assignee == actor:
        return archive.mark_done(routing_id, actor=actor, note=note)
    if found.assignee in archive.acting_for(actor, today or dt.date.today()):
        return archive.mark_done(routing_id, actor=actor, acting_for=found.assignee, note=note)
    raise NotYours(
        f"หนังสือนี้ส่งถึง {found.assignee} ไม่ใช่ท่าน / this letter was sent to {found.assignee}"
    )


def done(
    archive: Archive,
    received_id: int,
    *,
    actor: str,
    clearance: str | None,
    note: str | None = None,
    today: dt.date | None = None,
) -> RoutingRecord:
    """Mark a received letter done for the actor: their own routing of it, or else that of
    someone they act for today. Named by the letter, so no routing number is ever shown."""
    received = visible_received(archive, received_id, clearance)
    day = today or dt.date.today()
    waiting = [r for r in archive.routings_of(received.id) if r.done_at is None]
    others = set(archive.acting_for(actor, day))
    mine = [r for r in waiting if r.assignee == actor] or [
        r for r in waiting if r.assignee in others
    ]
    if not mine:
        raise NotYours(
            "ไม่มีหนังสือนี้รอท่านดำเนินการ / this letter is not waiting for you (or whom you act for)"
        )
    return mark_done(archive, mine[0].id, actor=actor, clearance=clearance, note=note, today=day)


def delegate(
    archive: Archive,
    delegator: str,
    delegate_to: str,
    date_from: dt.date,
    date_to: dt.date,
    *,
    actor: str,
    clearance_of: ClearanceOf,
) -> DelegationRecord:
    """``delegate_to`` acts for ``delegator`` between the dates (both users must exist)."""
    for name in (delegator, delegate_to):
        try:
            clearance_of(name)
        except NotFound:
            raise BadRequest(f"ไม่มีผู้ใช้ชื่อ {name!r} / no user {name!r}") from None
    return archive.delegate(delegator, delegate_to, date_from, date_to, actor=actor)


def due_text(routing: RoutingRecord) -> str:
    return to_thai_digits(thai_date(routing.due, "short")) if routing.due else ""
