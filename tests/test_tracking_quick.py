"""``saraban tracking`` reads the archive without SQLAlchemy (``saraban.archive._quick``):
the same answer as the archive's own read on SQLite and PostgreSQL, nothing of a secret
letter to a user without clearance, and the archive opened the usual way whenever the
quick read cannot be trusted (no database yet, a schema to upgrade, a server it cannot
reach). The archive package loads its parts on first use, each name from where it was."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from test_circulars import FORM_REPLY, seeded, settings_for

from saraban.archive import _quick, circulars
from saraban.cli import main
from saraban.errors import NotFound
from saraban.usecases import sending, tracking

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _today_as_each_test_runs():
    """TODAY when the test runs, not when the module was collected: a whole run may pass
    midnight (tests comparing a due date with today failed so at 00:04)."""
    global TODAY
    TODAY = dt.date.today()


def _round_trip(archive, archive_home):
    """A circular to nine districts in every state: sent, opened, acknowledged, replied by
    form (a reply letter), revoked and reminded."""
    seeded(archive)
    letter = archive.issue(make_letter("ขอให้รายงานข้อมูลศูนย์"), ARCHIVE_UNIT, actor="clerk")
    settings = settings_for(archive_home)
    sent = sending.send(
        archive, settings, letter.id, ["ทุกอำเภอ"], clearance=None, due=TODAY, form="centre_report"
    )
    tokens = {d.name: sent.links[d.id].rsplit("/", 1)[1] for d in sent.deliveries}
    sending.open_delivery(archive, tokens["ที่ว่าการอำเภอสังคม"])
    sending.acknowledge(archive, tokens["ที่ว่าการอำเภอโพนพิสัย"], "๑๒", "ธุรการ")
    sending.acknowledge(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], "๑", "ก")
    sending.reply(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], data=FORM_REPLY)
    revoked = next(d for d in sent.deliveries if d.name == "ที่ว่าการอำเภอเฝ้าไร่")
    circulars.revoke(archive, revoked.id, actor="clerk")
    sending.remind(archive, settings, letter.id, clearance=None)
    return letter


def _quick_read(archive_home, database_url, letter_id, **kwargs):
    return tracking.quick_tracking(archive_home, database_url, letter_id, **kwargs)


def test_the_quick_read_gives_the_archives_answer(archive, archive_home, database_url):
    letter = _round_trip(archive, archive_home)
    for today in (TODAY, TODAY + dt.timedelta(days=1)):  # on the due date, and late
        kept = tracking.tracking(archive, letter.id, clearance=None, today=today)
        quick = _quick_read(archive_home, database_url, letter.id, clearance=None, today=today)
        assert quick == kept
        assert quick.as_dict() == kept.as_dict()
    body = quick.as_dict()
    assert body["counts"] == {
        "recipients": 9,
        "opened": 3,
        "acknowledged": 2,
        "replied": 1,
        "late": 8,
    }
    by_name = {r["name"]: r for r in body["recipients"]}
    assert by_name["ที่ว่าการอำเภอท่าบ่อ"]["reply_letter"]  # the reply letter's public id
    assert by_name["ที่ว่าการอำเภอเฝ้าไร่"]["revoked"] is True
    assert by_name["ที่ว่าการอำเภอโพนพิสัย"]["receive_no"] == "๑๒"
    waiting = [d for d in quick.deliveries if d.status != "replied" and not d.revoked_at]
    assert len(waiting) == 7 and all(d.reminded_at for d in waiting)


def test_a_secret_letter_is_no_letter_to_a_user_without_clearance(
    archive, archive_home, database_url
):
    seeded(archive)
    archive.add_unit("นค ๐๐๑๙.๑", "ที่ว่าการอำเภอเมืองหนองคาย", actor="admin")
    circulars.save_recipient(archive, "อำเภอเมือง (ในระบบ)", actor="admin", unit="นค ๐๐๑๙.๑")
    secret = archive.issue(
        make_letter("แผนรักษาความปลอดภัย", secrecy="ลับมาก"), ARCHIVE_UNIT, actor="clerk"
    )
    settings = settings_for(archive_home)
    sending.send(archive, settings, secret.id, ["อำเภอเมือง (ในระบบ)"], clearance="ลับมาก")
    messages = set()
    for letter_id, clearance in ((secret.id, None), (secret.id, "ลับ"), (secret.id + 99, None)):
        with pytest.raises(NotFound) as caught:
            _quick_read(archive_home, database_url, letter_id, clearance=clearance)
        messages.add(caught.value.message)
    assert len(messages) == 1  # the same words for a secret letter and one that is not there
    assert str(secret.id) not in messages.pop()
    cleared = _quick_read(archive_home, database_url, secret.id, clearance="ลับมาก")
    assert cleared == tracking.tracking(archive, secret.id, clearance="ลับมาก")
    assert [d.name for d in cleared.deliveries] == ["อำเภอเมือง (ในระบบ)"]


def test_the_command_prints_the_same_json_either_way(
    archive, archive_home, database_url, monkeypatch, capsys
):
    letter = _round_trip(archive, archive_home)
    monkeypatch.setenv("SARABAN_HOME", str(archive_home))
    if database_url:
        monkeypatch.setenv("SARABAN_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("SARABAN_DATABASE_URL", raising=False)
    assert main(["tracking", str(letter.id), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    kept = tracking.tracking(archive, letter.id, clearance=None).as_dict()
    assert printed == {**kept, "letter": letter.id}
    assert main(["tracking", str(letter.id)]) == 0
    out = capsys.readouterr().out
    assert "ผู้รับ 9 เปิดอ่าน 3 ลงรับ 2 ตอบกลับ 1" in out and "ตอบกลับแล้ว" in out


def test_the_archive_is_opened_when_the_schema_is_not_the_newest(
    archive, archive_home, database_url
):
    letter = _round_trip(archive, archive_home)
    assert _quick_read(archive_home, database_url, letter.id, clearance=None) is not None
    with archive._write() as s:
        s.connection().exec_driver_sql("UPDATE alembic_version SET version_num = '0001_older'")
    assert _quick_read(archive_home, database_url, letter.id, clearance=None) is None
    with archive._write() as s:
        s.connection().exec_driver_sql("DELETE FROM alembic_version")
    assert _quick_read(archive_home, database_url, letter.id, clearance=None) is None


def test_the_archive_is_opened_when_there_is_no_database_to_read(tmp_path, monkeypatch, capsys):
    home = tmp_path / "new"
    assert _quick_read(home, None, 1, clearance=None) is None
    assert _quick_read(home, f"sqlite:///{tmp_path / 'none.sqlite3'}", 1, clearance=None) is None
    assert _quick_read(home, "sqlite://", 1, clearance=None) is None  # in memory
    assert not home.exists() and not (tmp_path / "none.sqlite3").exists()  # made nothing
    unreachable = "postgresql+psycopg://nobody@/nothing?host=/nonexistent&port=1"
    assert _quick_read(home, unreachable, 1, clearance=None) is None
    assert _quick_read(home, "mysql://nobody@localhost/x", 1, clearance=None) is None
    # The command then opens (creates) the archive, which says there is no such letter.
    monkeypatch.setenv("SARABAN_HOME", str(home))
    monkeypatch.delenv("SARABAN_DATABASE_URL", raising=False)
    assert main(["tracking", "1", "--json"]) == 2
    assert "no such letter" in capsys.readouterr().err
    assert (home / _quick.SQLITE_FILENAME).exists()


def test_the_packages_names_come_from_where_they_were_imported():
    import saraban.archive as package

    assert sorted(package.__all__) == sorted([*package._WHERE, *package._MODULES])
    for name, (module, attribute) in package._WHERE.items():
        assert getattr(package, name) is getattr(importlib.import_module(module), attribute or name)
    for name, module in package._MODULES.items():
        assert getattr(package, name) is importlib.import_module(module)
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018 - the attribute access is the test
