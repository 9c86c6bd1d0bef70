"""``saraban route``, ``saraban inbox`` and ``saraban done``: routing received letters
(เกษียน) from the command line. A received letter is named by its public id (as on its
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
    route.add_argument("--to", nargs="+", required=True, metavar="USER", help="account names")
    route.add_argument("--note", help="the note to them (เกษียน)")
    route.add_argument("--due", help="due date: YYYY-MM-DD or a BE date such as ๓๑ ธ.ค. ๒๕๖๙")
    route.add_argument("--actor", help="who routes it, for the audit trail (default: your login)")
    route.set_defaults(func=_route)

    inbox = sub.add_parser("inbox", help="received letters waiting for a user / รอดำเนินการ")
    inbox.add_argument("--user", help="account name (default: your login)")
    inbox.add_argument("--all", action="store_true", help="the done ones too")
    inbox.add_argument("--json", action="store_true")
    inbox.set_defaults(func=_inbox)

    done = sub.add_parser("done", help="mark a received letter done for a user / ดำเนินการแล้ว")
    done.add_argument("received", help="the received letter's id (as on its page)")
    done.add_argument("--user", help="account name (default: your login)")
    done.add_argument("--note", help="what was done")
    done.set_defaults(func=_done)


def _login(name: str | None) -> str:
    from saraban.archive import default_actor

    return name or default_actor()


def _date(text: str | None) -> dt.date | None:
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
        raise BadRequest(f"--due: {exc.th} / {exc.en}") from None


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
            archive, user, clearance=_user_clearance(store, user), include_done=args.all
        )
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
                {"user": user, "acting_for": box.acting_for, "items": rows},
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
