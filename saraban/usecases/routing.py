"""Routing a received letter (เกษียนหนังสือ/สั่งการ), for the pages, the API and the CLI.

- :func:`route`: send it to one or more people with a note and a due date; each must be a
  known user cleared for its secrecy (a secret letter never lands in an uncleared inbox).
- :func:`write_order`: a superior's order (สั่งการ), printed as a เกษียน block under the
  receipt stamp on a new stamped copy (the old copy stays in the file store).
- :func:`inbox` / :func:`mark_done`: what waits for a user, with the letters of those they
  act for today (รักษาการแทน) and of the units they (or those) work in; done by them,
  audited as "X แทน Y". A letter sent to a unit is done once, by any one member.
- :func:`delegate` / :func:`revoke_delegation` / :func:`delegations`: acting for, by dates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from saraban.archive import Archive, ReceivedRecord
from saraban.archive._routing import DelegationRecord, InboxItem, OrderRecord, RoutingRecord
from saraban.errors import BadRequest, NotFound, SarabanError
from saraban.letter import can_see
from saraban.thai import thai_date, to_thai_digits
from saraban.vocabulary import cut

logger = logging.getLogger("saraban.routing")
NOT_FOUND = "ไม่พบหนังสือรับนี้ / no such received letter"
MAX_ROUTED = 100  # people and units one routing names


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
    units: list[str] | None = None,
) -> list[RoutingRecord]:
    """Send a received letter the actor may see to each user in ``to`` and each unit in
    ``units`` (by prefix; every member of a unit must be cleared for the letter)."""
    received = visible_received(archive, received_id, clearance)
    # each name and unit once, and a bounded number of them, before any is looked up: a
    # form naming one person 20,000 times took 36 s of lookups
    names = list(dict.fromkeys(n.strip() for n in to if isinstance(n, str) and n.strip()))
    unit_names = list(
        dict.fromkeys(u.strip() for u in units or [] if isinstance(u, str) and u.strip())
    )
    if not names and not unit_names:
        raise BadRequest("to: ต้องระบุผู้รับอย่างน้อยหนึ่งคน / name at least one person")
    if len(names) + len(unit_names) > MAX_ROUTED:
        raise BadRequest(
            f"to: ส่งได้ครั้งละไม่เกิน {to_thai_digits(str(MAX_ROUTED))} ราย / at most "
            f"{MAX_ROUTED} people and units at once"
        )
    for name in names:
        _check_cleared(name, received, clearance_of)
    for unit in unit_names:
        try:
            members = archive.members(unit)
        except NotFound as exc:
            raise BadRequest(f"units: {exc.message}") from None
        active: dict[str, str | None] = {}
        for member in members:
            try:
                active[member] = clearance_of(member)
            except NotFound:  # a closed account sees no inbox: not asked about, not in the way
                continue
        if not active:
            raise BadRequest(
                f"units: {_shown(unit)} ยังไม่มีสมาชิก ไม่มีผู้ใดเห็นหนังสือ / "
                f"{_shown(unit)} has no members yet"
            )
        for name, their in active.items():
            _check_may_see(name, their, received, unit=unit)
    return archive.route_received(
        received.id, names, actor=actor, note=note, due=due, units=unit_names
    )


def _shown(text: str) -> str:
    return repr(cut(text))


def _check_cleared(name: str, received: ReceivedRecord, clearance_of: ClearanceOf) -> None:
    try:
        their = clearance_of(name)
    except NotFound:
        raise BadRequest(f"to: ไม่มีผู้ใช้ชื่อ {_shown(name)} / no user {_shown(name)}") from None
    _check_may_see(name, their, received)


def _check_may_see(
    name: str, their: str | None, received: ReceivedRecord, *, unit: str | None = None
) -> None:
    if not can_see(their, received.secrecy):
        where = f"{unit}: " if unit else ""
        raise BadRequest(
            f"to: {where}{name} ไม่มีชั้นความลับให้เห็นหนังสือนี้ / {name} is not cleared for this letter"
        )


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
    try:
        stamped = stamp_received(archive, received, office=office, actor=actor)
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
    items: list[InboxItem]  # one page of them
    units: list[str] = field(default_factory=list)  # prefixes of the units whose letters show
    total: int = 0  # routings listed on every page
    late: int = 0  # of them, past their due date


INBOX_PAGE = 50  # routings a page: any clerk may add one to another's inbox per request


def inbox(
    archive: Archive,
    user: str,
    *,
    clearance: str | None,
    today: dt.date | None = None,
    include_done: bool = False,
    page: int = 1,
    per_page: int = INBOX_PAGE,
) -> Inbox:
    """The user's routed letters, those of everyone they act for today, and those sent to
    the units any of them works in: page ``page`` of them, due first."""
    day = today or dt.date.today()
    others = archive.acting_for(user, day)
    units = archive.units_of([user, *others])
    people, unit_ids = [user, *others], [i for i, _prefix in units]
    total, late = archive.inbox_counts(
        people, today=day, clearance=clearance, include_done=include_done, unit_ids=unit_ids
    )
    items = (
        archive.inbox(
            people,
            clearance=clearance,
            include_done=include_done,
            unit_ids=unit_ids,
            limit=per_page,
            offset=(max(page, 1) - 1) * per_page,
        )
        if per_page
        else []  # the counts only (the dashboard)
    )
    return Inbox(user, others, items, [prefix for _i, prefix in units], total, late)


def _holder(archive: Archive, routing: RoutingRecord, actor: str, day: dt.date) -> str | None:
    """For whom ``actor`` may mark ``routing`` done: themselves (their own, or their unit's),
    or someone they act for today (that one's, or that one's unit's); None: not theirs."""
    if routing.unit_id is None:
        if routing.assignee == actor:
            return actor
        return routing.assignee if routing.assignee in archive.acting_for(actor, day) else None
    if any(i == routing.unit_id for i, _p in archive.units_of([actor])):
        return actor
    for other in archive.acting_for(actor, day):
        if any(i == routing.unit_id for i, _p in archive.units_of([other])):
            return other
    return None


def mark_done(
    archive: Archive,
    routing_id: int,
    *,
    actor: str,
    clearance: str | None,
    note: str | None = None,
    today: dt.date | None = None,
) -> RoutingRecord:
    """Mark a routing done: by its assignee (a member, for a unit), or by someone acting
    for them today."""
    try:
        found = archive.routing(routing_id)
    except NotFound:
        raise NotFound(NOT_FOUND) from None  # the words a hidden letter's routing gets
    visible_received(archive, found.received_id, clearance)
    holder = _holder(archive, found, actor, today or dt.date.today())
    if holder is None:
        raise NotYours(
            f"หนังสือนี้ส่งถึง {found.assignee} ไม่ใช่ท่าน / this letter was sent to {found.assignee}"
        )
    return archive.mark_done(routing_id, actor=actor, acting_for=holder, note=note)


def done(
    archive: Archive,
    received_id: int,
    *,
    actor: str,
    clearance: str | None,
    note: str | None = None,
    today: dt.date | None = None,
) -> RoutingRecord:
    """Mark a received letter done for the actor: their own routing of it, else their
    unit's, else that of someone they act for today. Named by the letter, so no routing
    number is ever shown."""
    received = visible_received(archive, received_id, clearance)
    day = today or dt.date.today()
    waiting = [r for r in archive.routings_of(received.id) if r.done_at is None]
    holders = [(r, _holder(archive, r, actor, day)) for r in waiting]
    mine = sorted(
        ((r, h) for r, h in holders if h is not None),
        key=lambda rh: (rh[1] != actor, rh[0].unit_id is not None, rh[0].id),
    )
    if not mine:
        raise NotYours(
            "ไม่มีหนังสือนี้รอท่านดำเนินการ / this letter is not waiting for you (or whom you act for)"
        )
    return mark_done(archive, mine[0][0].id, actor=actor, clearance=clearance, note=note, today=day)


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


def revoke_delegation(
    archive: Archive, delegation_id: int, *, actor: str, is_admin: bool = False
) -> DelegationRecord:
    """End a delegation now: by whoever gave it, holds it or made it, or an administrator
    (audited; revoking twice changes nothing)."""
    found = archive.delegation(delegation_id)
    if not is_admin and actor not in (found.delegator, found.delegate, found.created_by):
        raise NotYours(
            "ยกเลิกได้เฉพาะผู้มอบ ผู้รับมอบ หรือผู้ดูแลระบบ / only those it names or an administrator"
            " may revoke it"
        )
    return archive.revoke_delegation(delegation_id, actor=actor)


def delegations(archive: Archive, user: str, *, everyone: bool = False) -> list[DelegationRecord]:
    """The delegations ``user`` gave or holds (``everyone``: all), newest first."""
    return archive.delegations(None if everyone else user)


def due_text(routing: RoutingRecord) -> str:
    return to_thai_digits(thai_date(routing.due, "short")) if routing.due else ""
