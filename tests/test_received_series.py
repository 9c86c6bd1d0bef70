"""Received letters are numbered per secrecy level (issue 11), as sent ones are: a secret
received letter takes its เลขรับ from its level's own series ("ลับ ๑"), so the incoming
register a user without clearance sees runs without a gap, and nothing they can read (the
register page, its CSV, the API, the dashboard, search) changes when a secret letter is
received. Gap-free per series under concurrency and after kill -9:
``tests/test_archive_concurrency.py`` and ``tests/test_archive_crash.py``. Archives of
0007 keep their rows and numbers through ``0008_harden``."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import ARCHIVE_UNIT
from test_archive_repair import QuickRenderer
from test_service_support import UNIT, add_unit, add_users, bearer, login, make_app, tokens

from saraban.archive import incoming_register, open_archive

SECRETS = ("ลับ", "ลับมาก", "ลับที่สุด")


def _receive(archive, subject, secrecy=None):
    return archive.receive(
        ARCHIVE_UNIT,
        sender="กรมการปกครอง",
        recipient="จังหวัดหนองคาย",
        subject=subject,
        secrecy=secrecy,
        actor="ธุรการ",
    )


@pytest.fixture
def archive(archive_home, database_url):
    opened = open_archive(archive_home, database_url, renderer=QuickRenderer())
    opened.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    try:
        yield opened
    finally:
        opened.close()


def test_each_secrecy_level_is_numbered_in_its_own_series(archive):
    made = [
        _receive(archive, "ปกติ ๑"),
        _receive(archive, "ลับ ๑", "ลับ"),
        _receive(archive, "ลับมาก ๑", "ลับมาก"),
        _receive(archive, "ปกติ ๒"),
        _receive(archive, "ลับ ๒", "ลับ"),
        _receive(archive, "ลับที่สุด ๑", "ลับที่สุด"),
        _receive(archive, "ปกติ ๓"),
    ]
    assert [r.serial_label for r in made] == [
        "๑",
        "ลับ ๑",
        "ลับมาก ๑",
        "๒",
        "ลับ ๒",
        "ลับที่สุด ๑",
        "๓",
    ]
    shown = {
        None: ["๑", "๒", "๓"],
        "ลับ": ["๑", "๒", "๓", "ลับ ๑", "ลับ ๒"],
        "ลับมาก": ["๑", "๒", "๓", "ลับ ๑", "ลับ ๒", "ลับมาก ๑"],
        "ลับที่สุด": ["๑", "๒", "๓", "ลับ ๑", "ลับ ๒", "ลับมาก ๑", "ลับที่สุด ๑"],
    }
    today = dt.date.today()
    for clearance, labels in shown.items():
        assert [r.serial_label for r in archive.received(clearance=clearance)] == labels
        table = incoming_register(archive, today, today, clearance=clearance)
        assert [row[1] for row in table.rows] == labels
    assert archive.verify() == []
    # The series is as fixed as the number (the database refuses, on both databases).
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="cannot change"), archive.engine.begin() as db:
        db.execute(
            text("UPDATE received SET series = 'incoming' WHERE id = :id"), {"id": made[1].id}
        )


def test_verify_names_a_gap_in_a_secret_series(archive):
    from sqlalchemy import text

    _receive(archive, "ลับ ๑", "ลับ")
    with archive.engine.begin() as db:  # a number given by the counter and never written
        db.execute(text("UPDATE counters SET last = last + 1 WHERE series = 'incoming ลับ'"))
    (problem,) = archive.verify()
    assert "incoming ลับ series" in problem and "missing: 2" in problem


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


def _uncleared_view(app, client, headers) -> dict[str, object]:
    """All the uncleared clerk can read of the incoming register."""
    today = dt.date.today().isoformat()
    query = f"/api/v1/registers/received?from={today}&to={today}"
    rows = client.get(query, headers=headers).get_json()
    with client.get(query + "&format=csv", headers=headers) as csv:
        exported = csv.data.decode("utf-8-sig")
    browser = app.test_client()
    login(browser, "clerk")
    page = browser.get("/registers?kind=received").get_data(as_text=True)
    dashboard = browser.get("/").get_data(as_text=True)
    searched = client.get("/api/v1/search?q=ขอรายงาน", headers=headers).get_json()
    return {
        "api": [(r["serial"], r["serial_label"], r["subject"]) for r in rows["items"]],
        "total": rows["total"],
        "csv": exported,
        "page": re.findall(r'data-label="เลขรับ"><a [^>]*>([^<]*)</a>', page),
        "dashboard": re.search(r'aria-label="หนังสือรับรอดำเนินการ">(.*?)</p>', dashboard, re.S)[1],
        "search": (searched.get("total"), [h.get("id") for h in searched.get("items", [])]),
    }


def test_an_uncleared_clerk_sees_no_gap_count_or_hint(app):
    keys = tokens(app, {u.name: u for u in app.extensions["saraban_store"].users()})
    clerk, cleared = bearer(keys["clerk"]), bearer(keys["topsecret"])
    client = app.test_client()

    def receive(headers, subject, secrecy=None):
        body = {"register": UNIT, "sender": "กรม", "recipient": "จังหวัด", "subject": subject}
        made = client.post(
            "/api/v1/registers/received", headers=headers, json=body | {"secrecy": secrecy}
        )
        assert made.status_code == 201, made.get_json()
        return made.get_json()["received"]

    receive(clerk, "ขอรายงานผลการดำเนินงาน")
    before = _uncleared_view(app, client, clerk)
    for level in SECRETS:
        secret = receive(cleared, f"ขอรายงานบัญชี{level}", level)
        assert secret["serial"] == 1 and secret["serial_label"] == f"{level} ๑"
    assert _uncleared_view(app, client, clerk) == before
    second = receive(clerk, "ขอรายงานครั้งที่สอง")
    assert second["serial"] == 2 and second["serial_label"] == "๒"  # no gap
    after = _uncleared_view(app, client, clerk)
    assert [row[0] for row in after["api"]] == [1, 2] and after["total"] == 2
    assert after["page"] == ["๒", "๑"]  # newest first
    assert "ลับ" not in after["csv"]
    # the cleared clerk reads every series, each numbered from one
    today = dt.date.today().isoformat()
    rows = client.get(
        f"/api/v1/registers/received?from={today}&to={today}", headers=cleared
    ).get_json()["items"]
    assert [r["serial_label"] for r in rows] == ["๑", "๒", "ลับ ๑", "ลับมาก ๑", "ลับที่สุด ๑"]


def test_an_archive_of_0007_keeps_its_received_numbers(archive_home, database_url):
    """Rows entered before 0008_harden, a secret one in the shared series among them, keep
    their numbers (the incoming series), their routing and their guard; from then on a
    secret letter takes its own series and verify stays clean."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from saraban.archive import Database
    from saraban.archive._db import _alembic_config
    from saraban.archive._db import database_url as url_of

    archive_home.mkdir(parents=True)
    database = Database(url_of(archive_home, database_url))
    config = _alembic_config()
    with database.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007_circulars")
    now = {"now": "2025-01-01 00:00:00"}
    with database.writer.begin() as db:
        db.execute(
            text(
                "INSERT INTO registers (id, name, circular_series, number_format, created_at) "
                "VALUES (1, 'ทะเบียนเก่า', 'separate', 'plain', :now)"
            ),
            now,
        )
        for serial, secrecy in ((1, None), (2, "ลับ"), (3, None)):
            db.execute(
                text(
                    "INSERT INTO received (public_id, register_id, year, serial, "
                    "received_at, sender, recipient, subject, created_at, created_by, secrecy, "
                    "confirmed_at, confirmed_by) VALUES (:pid, 1, 2568, :serial, :now, 'ก', "
                    "'ข', :subject, :now, 't', :secrecy, :now, 't')"
                ),
                now
                | {"serial": serial, "pid": f"old{serial}", "subject": f"เก่า {serial}"}
                | {"secrecy": secrecy},
            )
        db.execute(
            text(
                "INSERT INTO counters (register_id, series, year, last) "
                "VALUES (1, 'incoming', 2568, 3)"
            )
        )
        db.execute(
            text(
                "INSERT INTO routings (received_id, assignee, routed_at, routed_by) "
                "SELECT id, 'หัวหน้า', :now, 't' FROM received WHERE serial = 2"
            ),
            now,
        )
    database.close()

    archive = open_archive(archive_home, database_url, renderer=QuickRenderer())
    try:
        old = archive.received()
        assert [(r.serial, r.series, r.public_id) for r in old] == [
            (1, "incoming", "old1"),
            (2, "incoming", "old2"),
            (3, "incoming", "old3"),
        ]
        assert [r.serial_label for r in old] == ["๑", "๒", "๓"]
        with pytest.raises(DBAPIError, match="cannot change"), archive.engine.begin() as db:
            db.execute(text("UPDATE received SET subject = 'แก้' WHERE serial = 1"))
        with pytest.raises(DBAPIError, match="never deleted"), archive.engine.begin() as db:
            db.execute(text("DELETE FROM received WHERE serial = 3"))
        with archive.engine.begin() as db:
            routed = db.execute(text("SELECT received_id FROM routings")).scalar_one()
        assert routed == old[1].id
        archive.add_unit(ARCHIVE_UNIT, "ศาลากลาง", register="ทะเบียนเก่า", actor="t")
        secret = archive.receive(
            ARCHIVE_UNIT,
            sender="ก",
            recipient="ข",
            subject="ใหม่ลับ",
            secrecy="ลับ",
            actor="t",
            received_at=dt.datetime(2025, 6, 1, 9, 0).astimezone(),
        )
        plain = archive.receive(
            ARCHIVE_UNIT,
            sender="ก",
            recipient="ข",
            subject="ใหม่",
            actor="t",
            received_at=dt.datetime(2025, 6, 1, 9, 5).astimezone(),
        )
        assert (secret.serial_label, plain.serial_label) == ("ลับ ๑", "๔")
        assert archive.verify() == []
    finally:
        archive.close()
