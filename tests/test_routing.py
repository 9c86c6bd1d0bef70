"""Routing received letters (saraban/usecases/routing.py, archive/_routing.py): sent to
people with a note and a due date, an order printed on a new stamped copy, each person's
inbox with late ones, done by them or by whoever acts for them (audited "X แทน Y"), a
secret letter never routed to or shown to the uncleared. Real SQLite, real files."""

from __future__ import annotations

import datetime as dt

import pytest
import scancorpus
from conftest import ARCHIVE_UNIT
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from saraban.errors import BadRequest, Conflict, NotFound
from saraban.usecases import intake, routing

STEM = "000_e6238ec4d0848a5c"
USERS = {"boss": None, "somchai": None, "somsri": None, "secret": "ลับ"}


def clearance_of(name: str) -> str | None:
    if name not in USERS:
        raise NotFound(name)
    return USERS[name]


def _received(archive, tmp_path, *, secrecy=None, pdf=False):
    if pdf:
        path = tmp_path / "letter.pdf"
        path.write_bytes(scancorpus._rendered_pdf(STEM))
    else:
        path = tmp_path / f"{STEM}.txt"
        path.write_text(scancorpus.source_text(STEM), encoding="utf-8")
    return intake.take_in(
        archive, path, register=ARCHIVE_UNIT, actor="clerk", secrecy=secrecy
    ).received


def test_route_to_two_people_one_marks_it_done(archive, tmp_path):
    received = _received(archive, tmp_path)
    today = dt.date(2026, 12, 4)
    routed = routing.route(
        archive,
        received.id,
        ["somchai", "somsri", "somchai"],
        actor="boss",
        clearance=None,
        clearance_of=clearance_of,
        note="พิจารณาดำเนินการ",
        due=today - dt.timedelta(days=1),
    )
    assert [r.assignee for r in routed] == ["somchai", "somsri"]
    box = routing.inbox(archive, "somchai", clearance=None, today=today)
    [item] = box.items
    assert item.received.id == received.id and item.routing.status == "รอดำเนินการ"
    assert item.routing.late(today) and item.routing.note == "พิจารณาดำเนินการ"
    with pytest.raises(routing.NotYours):
        routing.mark_done(archive, item.routing.id, actor="somsri", clearance=None, today=today)
    done = routing.mark_done(archive, item.routing.id, actor="somchai", clearance=None)
    assert done.status == "ดำเนินการแล้ว" and done.done_by == "somchai"
    with pytest.raises(Conflict):
        routing.mark_done(archive, item.routing.id, actor="somchai", clearance=None)
    assert routing.inbox(archive, "somchai", clearance=None).items == []
    assert len(routing.inbox(archive, "somsri", clearance=None).items) == 1
    events = archive.events(actions=("received.route", "received.done"))
    assert [e.action for e in events] == ["received.done", "received.route"]
    assert archive.waiting_count(clearance=None) == 1
    with pytest.raises(BadRequest, match="ไม่มีผู้ใช้"):
        routing.route(
            archive,
            received.id,
            ["nobody"],
            actor="boss",
            clearance=None,
            clearance_of=clearance_of,
        )


def test_acting_for_sees_and_acts_within_its_dates_audited(archive, tmp_path):
    received = _received(archive, tmp_path)
    [r] = routing.route(
        archive, received.id, ["somchai"], actor="boss", clearance=None, clearance_of=clearance_of
    )
    start, end = dt.date(2026, 12, 1), dt.date(2026, 12, 10)
    routing.delegate(
        archive, "somchai", "somsri", start, end, actor="boss", clearance_of=clearance_of
    )
    before = routing.inbox(archive, "somsri", clearance=None, today=start - dt.timedelta(days=1))
    assert before.items == [] and before.acting_for == []
    during = routing.inbox(archive, "somsri", clearance=None, today=start)
    assert during.acting_for == ["somchai"] and [i.routing.id for i in during.items] == [r.id]
    with pytest.raises(routing.NotYours):
        routing.mark_done(
            archive, r.id, actor="somsri", clearance=None, today=end + dt.timedelta(1)
        )
    done = routing.mark_done(archive, r.id, actor="somsri", clearance=None, today=end)
    assert done.done_by == "somsri แทน somchai"
    [event] = archive.events(actions=("received.done",))
    assert event.actor == "somsri แทน somchai"
    with pytest.raises(BadRequest):
        routing.delegate(
            archive, "somchai", "somsri", end, start, actor="boss", clearance_of=clearance_of
        )
    with pytest.raises(DBAPIError):
        with archive.engine.begin() as conn:
            conn.execute(text("DELETE FROM routings"))


def test_a_secret_letter_is_routed_only_to_the_cleared_and_hidden_from_others(archive, tmp_path):
    received = _received(archive, tmp_path, secrecy="ลับ")
    with pytest.raises(BadRequest, match="ชั้นความลับ"):
        routing.route(
            archive,
            received.id,
            ["somchai"],
            actor="secret",
            clearance="ลับ",
            clearance_of=clearance_of,
        )
    with pytest.raises(NotFound) as hidden:
        routing.route(
            archive,
            received.id,
            ["secret"],
            actor="boss",
            clearance=None,
            clearance_of=clearance_of,
        )
    assert str(hidden.value) == routing.NOT_FOUND
    routing.route(
        archive, received.id, ["secret"], actor="secret", clearance="ลับ", clearance_of=clearance_of
    )
    assert len(routing.inbox(archive, "secret", clearance="ลับ").items) == 1
    assert routing.inbox(archive, "secret", clearance=None).items == []
    assert archive.waiting_count(clearance=None) == 0


@pytest.mark.pdf
def test_an_order_is_printed_on_a_new_stamped_copy(archive, tmp_path):
    import subprocess

    received = _received(archive, tmp_path, pdf=True)
    first = received.stamped_sha256
    routing.write_order(archive, received.id, "มอบกองช่างดำเนินการ", actor="boss", clearance=None)
    again = archive.received_one(received.id)
    assert again.stamped_sha256 and again.stamped_sha256 != first
    assert archive.files.read(first).startswith(b"%PDF-")  # the old copy is kept
    path = tmp_path / "stamped.pdf"
    path.write_bytes(archive.files.read(again.stamped_sha256))
    words = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "มอบกองช่าง" in words.replace(" ", "") or "กองช่าง" in words
    [order] = archive.orders_of(received.id)
    assert order.written_by == "boss"


def test_route_inbox_and_done_from_the_command_line(tmp_path, monkeypatch, capsys):
    import json

    from saraban.archive import open_archive
    from saraban.cli import main
    from saraban.service._store import Store

    home = tmp_path / "home"
    monkeypatch.setenv("SARABAN_HOME", str(home))
    archive = open_archive(home)
    store = Store(archive)
    try:
        archive.add_unit(ARCHIVE_UNIT, "สำนักงานจังหวัด", actor="tester")
        for name in ("somchai", "somsri"):
            store.add_user(name, "correct horse battery", role="clerk")
        received = _received(archive, tmp_path)
    finally:
        store.close()
        archive.close()
    public = received.public_id
    assert main(["route", public, "--to", "nobody", "--actor", "boss"]) == 2
    assert "nobody" in capsys.readouterr().err
    args = ["route", public, "--to", "somchai", "somsri", "--due", "๑ ม.ค. ๒๕๖๘"]
    assert main([*args, "--note", "ดำเนินการ", "--actor", "boss"]) == 0
    assert "somsri" in capsys.readouterr().out
    assert main(["inbox", "--user", "somchai", "--json"]) == 0
    box = json.loads(capsys.readouterr().out)
    [item] = box["items"]
    assert item["received"] == public and item["late"] and item["due"] == "2025-01-01"
    assert main(["done", public, "--user", "somchai"]) == 0
    assert "somchai" in capsys.readouterr().out
    assert main(["done", public, "--user", "somchai"]) == 2
    capsys.readouterr()
    assert main(["inbox", "--user", "somchai"]) == 0
    assert public not in capsys.readouterr().out
    assert main(["inbox", "--user", "somsri"]) == 0
    assert public in capsys.readouterr().out


def test_a_letter_sent_to_a_unit_is_in_every_members_inbox_and_one_marks_it_done(archive, tmp_path):
    received = _received(archive, tmp_path)
    with pytest.raises(BadRequest, match="ยังไม่มีสมาชิก"):
        routing.route(
            archive, received.id, [], actor="boss", clearance=None,
            clearance_of=clearance_of, units=[ARCHIVE_UNIT],
        )  # fmt: skip
    for name in ("somchai", "somsri", "somchai"):
        members = archive.add_member(ARCHIVE_UNIT, name, actor="admin")
    assert members == ["somchai", "somsri"]
    [routed] = routing.route(
        archive, received.id, [], actor="boss", clearance=None,
        clearance_of=clearance_of, units=[ARCHIVE_UNIT], note="กองช่างพิจารณา",
    )  # fmt: skip
    assert routed.assignee == ARCHIVE_UNIT and routed.unit_id is not None
    for name in ("somchai", "somsri"):
        box = routing.inbox(archive, name, clearance=None)
        assert [i.received.id for i in box.items] == [received.id] and box.units == [ARCHIVE_UNIT]
    assert routing.inbox(archive, "boss", clearance=None).items == []
    with pytest.raises(routing.NotYours):
        routing.done(archive, received.id, actor="boss", clearance=None)
    done = routing.done(archive, received.id, actor="somsri", clearance=None, note="ส่งช่างแล้ว")
    assert done.done_by == "somsri" and done.status == "ดำเนินการแล้ว"
    assert routing.inbox(archive, "somchai", clearance=None).items == []  # done for the unit
    archive.remove_member(ARCHIVE_UNIT, "somsri", actor="admin")
    assert archive.members(ARCHIVE_UNIT) == ["somchai"]
    assert routing.inbox(archive, "somsri", clearance=None, include_done=True).items == []
    actions = [e.action for e in archive.events()]
    assert {"unit.member.add", "unit.member.remove", "received.done"} <= set(actions)
    # a secret letter is never sent to a unit with an uncleared member
    secret = archive.receive(
        ARCHIVE_UNIT, sender="กรม", recipient="จังหวัด", subject="ลับ", secrecy="ลับ", actor="clerk"
    )
    archive.add_member(ARCHIVE_UNIT, "secret", actor="admin")
    with pytest.raises(BadRequest, match="somchai"):
        routing.route(
            archive, secret.id, [], actor="secret", clearance="ลับ",
            clearance_of=clearance_of, units=[ARCHIVE_UNIT],
        )  # fmt: skip
    with pytest.raises(NotFound, match="ไม่พบส่วนราชการ"):
        archive.route_received(secret.id, [], actor="boss", units=["ไม่มี ๑"])


def test_a_delegation_is_revoked_by_those_it_names_or_an_administrator(archive, tmp_path):
    received = _received(archive, tmp_path)
    today = dt.date(2026, 12, 4)
    routing.route(
        archive, received.id, ["somchai"], actor="boss", clearance=None, clearance_of=clearance_of
    )
    given = routing.delegate(
        archive, "somchai", "somsri", today, today + dt.timedelta(days=3),
        actor="somchai", clearance_of=clearance_of,
    )  # fmt: skip
    assert len(routing.inbox(archive, "somsri", clearance=None, today=today).items) == 1
    with pytest.raises(routing.NotYours):
        routing.revoke_delegation(archive, given.id, actor="boss")
    assert routing.delegations(archive, "boss") == []
    assert [d.id for d in routing.delegations(archive, "boss", everyone=True)] == [given.id]
    revoked = routing.revoke_delegation(archive, given.id, actor="somsri")
    assert revoked.revoked_at is not None and not revoked.covers(today)
    again = routing.revoke_delegation(archive, given.id, actor="boss", is_admin=True)
    assert again.revoked_at == revoked.revoked_at  # nothing changes twice
    assert routing.inbox(archive, "somsri", clearance=None, today=today).items == []
    with pytest.raises(routing.NotYours):
        routing.done(archive, received.id, actor="somsri", clearance=None, today=today)
    assert [e.action for e in archive.events(actions=("delegation.revoke",))] == [
        "delegation.revoke"
    ]
    with pytest.raises(NotFound):
        routing.revoke_delegation(archive, 999, actor="somsri")


def test_delegations_units_and_routing_to_a_unit_from_the_command_line(
    tmp_path, monkeypatch, capsys
):
    import json

    from saraban.archive import open_archive
    from saraban.cli import main
    from saraban.service._store import Store

    home = tmp_path / "home"
    monkeypatch.setenv("SARABAN_HOME", str(home))
    archive = open_archive(home)
    store = Store(archive)
    try:
        archive.add_unit(ARCHIVE_UNIT, "สำนักงานจังหวัด", actor="tester")
        for name in ("somchai", "somsri"):
            store.add_user(name, "correct horse battery", role="clerk")
        received = _received(archive, tmp_path)
    finally:
        store.close()
        archive.close()
    assert main(["members", ARCHIVE_UNIT, "--add", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert main(["members", ARCHIVE_UNIT, "--add", "somchai", "somsri", "--actor", "admin"]) == 0
    assert capsys.readouterr().out.split() == ["somchai", "somsri"]
    public = received.public_id
    assert main(["route", public, "--unit", ARCHIVE_UNIT, "--actor", "boss"]) == 0
    assert ARCHIVE_UNIT in capsys.readouterr().out
    assert main(["inbox", "--user", "somsri", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)["items"]
    assert item["received"] == public and item["to"] == ARCHIVE_UNIT

    args = ["delegation", "add", "somchai", "somsri", "--from", "๑ ม.ค. ๒๕๖๘"]
    assert main([*args, "--to", "2024-12-01"]) == 2  # the end before the start
    assert "ก่อนวันเริ่ม" in capsys.readouterr().err
    assert main([*args, "--to", "2099-12-31", "--actor", "somchai"]) == 0
    line = capsys.readouterr().out
    assert "somsri แทน somchai" in line and "2025-01-01" in line
    number = line.split("\t")[0]
    assert main(["delegation", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["delegate"] == "somsri" and listed["revoked_at"] is None
    assert main(["delegation", "revoke", number, "--actor", "admin"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["delegation", "list", "--user", "somsri"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["delegation", "revoke", "999"]) == 2
    with open_archive(home) as archive:
        actions = {e.action for e in archive.events()}
    assert {"delegation.add", "delegation.revoke", "unit.member.add"} <= actions
    assert main(["done", public, "--user", "somchai"]) == 0  # for the unit
    assert main(["inbox", "--user", "somsri"]) == 0
    assert public not in capsys.readouterr().out
