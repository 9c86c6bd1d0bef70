"""``saraban route``, ``saraban inbox``, ``saraban done``, ``saraban delegation`` and
``saraban members``: routing received letters (เกษียน) from the command line, acting for
another (รักษาการแทน) and who works in which unit (a letter routed to a unit shows in every
member's inbox). A received letter is named by its public id (as on its
page, ``/received/<id>``); users by their account names, checked against the service's
accounts (a secret letter is routed only to users cleared for it). The heavy imports stay
inside the commands, so ``saraban --help`` stays fast."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from saraban.errors import BadRequest, NotFound


def register(sub: argparse._SubParsersAction) -> None:
    route = sub.add_parser("route", help="send a received letter to users (เกษียน)")
    route.add_argument("received", help="the received letter's id (as on its page)")
    route.add_argument("--to", nargs="+", default=[], metavar="USER", help="account names")
    route.add_argument(
        "--unit", nargs="+", default=[], metavar="PREFIX", help="units: every member sees it"
    )
    route.add_argument("--note", help="the note to them (เกษียน)")
    route.add_argument("--due", help="due date: YYYY-MM-DD or a BE date such as ๓๑ ธ.ค. ๒๕๖๙")
    route.add_argument("--actor", help="who routes it, for the audit trail (default: your login)")
    route.set_defaults(func=_route)

    inbox = sub.add_parser("inbox", help="received letters waiting for a user / รอดำเนินการ")
    inbox.add_argument("--user", help="account name (default: your login)")
    inbox.add_argument("--all", action="store_true", help="the done ones too")
    inbox.add_argument(
        "--page", type=int, default=1, help="page N of the list, 50 a page (default 1)"
    )
    inbox.add_argument("--json", action="store_true")
    inbox.set_defaults(func=_inbox)

    done = sub.add_parser("done", help="mark a received letter done for a user / ดำเนินการแล้ว")
    done.add_argument("received", help="the received letter's id (as on its page)")
    done.add_argument("--user", help="account name (default: your login)")
    done.add_argument("--note", help="what was done")
    done.set_defaults(func=_done)

    delegation = sub.add_parser(
        "delegation", help="acting for another user: list, add, revoke / รักษาการแทน"
    )
    actions = delegation.add_subparsers(dest="delegation_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="delegations a user gave or holds")
    listing.add_argument("--user", help="account name (default: everyone's)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_delegation_list)
    add = actions.add_parser("add", help="DELEGATE acts for DELEGATOR between two dates")
    add.add_argument("delegator", help="whose inbox is handed over")
    add.add_argument("delegate", help="who acts for them")
    add.add_argument("--from", dest="date_from", required=True, help="first day (ISO or BE)")
    add.add_argument("--to", dest="date_to", required=True, help="last day (ISO or BE)")
    add.add_argument("--actor", help="who records it, for the audit trail (default: your login)")
    add.set_defaults(func=_delegation_add)
    revoke = actions.add_parser("revoke", help="end a delegation now (its number from list)")
    revoke.add_argument("id", type=int)
    revoke.add_argument("--actor", help="who ends it, for the audit trail (default: your login)")
    revoke.set_defaults(func=_delegation_revoke)

    members = sub.add_parser(
        "members", help="who works in a unit (sees what is routed to it) / สมาชิกส่วนราชการ"
    )
    members.add_argument("unit", help="the unit's prefix, e.g. นค ๐๐๑๙.๓")
    members.add_argument("--add", nargs="+", default=[], metavar="USER")
    members.add_argument("--remove", nargs="+", default=[], metavar="USER")
    members.add_argument("--actor", help="who changes it, for the audit trail")
    members.set_defaults(func=_members)


def _login(name: str | None) -> str:
    from saraban.archive import default_actor

    return name or default_actor()


def _date(text: str | None, name: str = "--due") -> dt.date | None:
    from saraban.thai import ThaiDateError, parse_be_date

    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parse_be_date(text)
    except ThaiDateError as exc:
        raise BadRequest(f"{name}: {exc.th} / {exc.en}") from None


def _received_id(archive: Any, public_id: str) -> int:
    found = archive.received_id_for(public_id)
    if found is None:
        raise NotFound(f"ไม่พบหนังสือรับ {public_id} / no received letter {public_id}")
    return int(found)


def _clearances(store: Any) -> Any:
    def clearance_of(name: str) -> str | None:
        user = store.user_by_name(name)
        if user is None or not user.active:
            raise NotFound(name)
        return user.clearance

    return clearance_of


def _user_clearance(store: Any, name: str) -> str | None:
    """A known user's clearance; a name with no account (a clerk at the console) sees all."""
    user = store.user_by_name(name)
    return user.clearance if user is not None else None


def _route(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened
    from saraban.usecases import routing

    actor = _login(args.actor)
    with _opened() as (archive, store):
        routed = routing.route(
            archive,
            _received_id(archive, args.received),
            args.to,
            actor=actor,
            clearance=_user_clearance(store, actor),
            clearance_of=_clearances(store),
            note=args.note,
            due=_date(args.due),
            units=args.unit,
        )
    for r in routed:
        print(f"ส่งถึง / routed to\t{r.assignee}\t{r.due or '-'}")
    return 0


def _inbox(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened
    from saraban.usecases import routing

    user = _login(args.user)
    today = dt.date.today()
    with _opened() as (archive, store):
        box = routing.inbox(
            archive,
            user,
            clearance=_user_clearance(store, user),
            include_done=args.all,
            page=max(1, args.page),
        )
    pages = max(1, -(-box.total // routing.INBOX_PAGE))
    if args.json:
        rows = [
            {
                "received": i.received.public_id,
                "number": f"{i.received.number}",
                "subject": i.received.subject,
                "sender": i.received.sender,
                "to": i.routing.assignee,
                "note": i.routing.note,
                "due": i.routing.due.isoformat() if i.routing.due else None,
                "late": i.routing.late(today),
                "status": i.routing.status,
                "done_by": i.routing.done_by,
            }
            for i in box.items
        ]
        print(
            json.dumps(
                {
                    "user": user,
                    "acting_for": box.acting_for,
                    "items": rows,
                    "total": box.total,
                    "page": max(1, args.page),
                    "pages": pages,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if box.acting_for:
        print(f"รักษาการแทน / acting for\t{', '.join(box.acting_for)}", file=sys.stderr)
    for i in box.items:
        late = "\tเลยกำหนด / late" if i.routing.late(today) else ""
        print(
            f"{i.received.public_id}\t{i.received.number}\t"
            f"{i.routing.status}\t{i.routing.due or '-'}\t{i.routing.assignee}\t"
            f"{i.received.subject}{late}"
        )
    if pages > 1:
        print(
            f"หน้า {max(1, args.page)} จาก {pages} ({box.total} ฉบับ; --page N) / page "
            f"{max(1, args.page)} of {pages} ({box.total} letters; --page N)",
            file=sys.stderr,
        )
    return 0


def _done(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened
    from saraban.usecases import routing

    user = _login(args.user)
    with _opened() as (archive, store):
        marked = routing.done(
            archive,
            _received_id(archive, args.received),
            actor=user,
            clearance=_user_clearance(store, user),
            note=args.note,
        )
    print(f"ดำเนินการแล้ว / done\t{marked.done_by}")
    return 0


def _delegation_line(d: Any) -> str:
    state = "ยกเลิกแล้ว / revoked" if d.revoked_at else "ใช้ได้ / active"
    return f"{d.id}\t{d.delegate} แทน {d.delegator}\t{d.date_from}\t{d.date_to}\t{state}"


def _delegation_list(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened

    with _opened() as (archive, _store):
        found = archive.delegations(args.user)
    if args.json:
        print(json.dumps([d.as_dict() for d in found], ensure_ascii=False, indent=2))
        return 0
    for d in found:
        print(_delegation_line(d))
    return 0


def _delegation_add(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened
    from saraban.usecases import routing

    start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
    assert start is not None and end is not None  # required arguments
    with _opened() as (archive, store):
        made = routing.delegate(
            archive,
            args.delegator,
            args.delegate,
            start,
            end,
            actor=_login(args.actor),
            clearance_of=_clearances(store),
        )
    print(_delegation_line(made))
    return 0


def _delegation_revoke(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened
    from saraban.usecases import routing

    with _opened() as (archive, _store):
        # at the console: the clerk who runs the instance, as an administrator would
        revoked = routing.revoke_delegation(
            archive, args.id, actor=_login(args.actor), is_admin=True
        )
    print(_delegation_line(revoked))
    return 0


def _members(args: argparse.Namespace) -> int:
    from saraban.service._cli import _opened

    actor = _login(args.actor)
    with _opened() as (archive, store):
        for name in args.add:
            user = store.user_by_name(name)
            if user is None or not user.active:
                raise BadRequest(f"--add: ไม่มีผู้ใช้ชื่อ {name!r} / no user {name!r}")
            archive.add_member(args.unit, name, actor=actor)
        for name in args.remove:
            archive.remove_member(args.unit, name, actor=actor)
        members = archive.members(args.unit)
    for name in members:
        print(name)
    return 0
