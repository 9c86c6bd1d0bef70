"""One bad letter, or a crash, never stops the archive: a renderer that raises anything
(WeasyPrint's FatalURLFetchingError derives from BaseException) leaves the number recorded
unused with a clear error; opening the archive never renders; a letter left pending by a
crash is rendered once more and, if it fails or kills its process again, recorded unused.
The crashes here are real: child processes killed with SIGKILL (tests/test_archive_crash.py
has the issue path itself)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT, make_letter

from saraban.archive import IssueFailed, open_archive
from saraban.archive._process import CRASH_ENV

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


class FetchRefused(BaseException):
    """Like WeasyPrint's FatalURLFetchingError: not an Exception."""


class QuickRenderer:
    """Stand-in files, fast; counts what it was asked to render."""

    def __init__(self):
        self.calls = 0

    def render_docx(self, letter):
        self.calls += 1
        return b"PK docx " + letter["ref_no"].encode()

    def render_pdf(self, letter, *, pdfa=False):
        self.calls += 1
        return b"%PDF-1.7 " + letter["ref_no"].encode()


class RefusingRenderer(QuickRenderer):
    def __init__(self, error=FetchRefused):
        super().__init__()
        self.error = error

    def render_pdf(self, letter, *, pdfa=False):
        self.calls += 1
        raise self.error("refused to fetch 'file:///etc/passwd': outside the templates")


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), str(TESTS), os.environ.get("PYTHONPATH")])
    )
    env.pop(CRASH_ENV, None)
    env.update(extra)
    return env


# A child that issues one letter with quick stand-in files and is killed at a crash point.
ISSUE_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from conftest import ARCHIVE_UNIT, make_letter
    from test_archive_repair import QuickRenderer
    from saraban.archive import open_archive

    class Killing(QuickRenderer):
        def render_pdf(self, letter, *, pdfa=False):
            os.kill(os.getpid(), signal.SIGKILL)  # this letter kills its renderer

    renderer = Killing() if sys.argv[2] == "kill" else QuickRenderer()
    archive = open_archive(sys.argv[1], repair=sys.argv[2] == "kill", renderer=renderer)
    if sys.argv[2] == "kill":
        archive.finish_pending()
    else:
        archive.issue(make_letter("ค้างจากเครื่องดับ"), ARCHIVE_UNIT, actor="worker")
    """
)


def run_child(home: Path, mode: str, **env: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", ISSUE_CHILD, str(home), mode],
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


@pytest.fixture
def home(archive_home):
    archive = open_archive(archive_home, renderer=QuickRenderer())
    archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    archive.close()
    return archive_home


@pytest.mark.parametrize("error", [FetchRefused, KeyboardInterrupt, RuntimeError])
def test_a_renderer_that_raises_anything_leaves_the_number_unused(home, error):
    archive = open_archive(home, renderer=RefusingRenderer(error))
    try:
        expected = KeyboardInterrupt if error is KeyboardInterrupt else IssueFailed
        with pytest.raises(expected) as caught:
            archive.issue(make_letter(), ARCHIVE_UNIT, actor="clerk")
        if expected is IssueFailed:
            assert "refused to fetch" in caught.value.message
            assert "unused" in caught.value.message
        (row,) = archive.letters()
        assert row.status == "unused" and "refused to fetch" in row.reason
        assert archive.verify() == []
    finally:
        archive.close()
    reopened = open_archive(home, renderer=QuickRenderer())  # the archive opens as ever
    try:
        assert [r.status for r in reopened.letters()] == ["unused"]
        assert reopened.issue(make_letter(), ARCHIVE_UNIT, actor="clerk").serial == 2
    finally:
        reopened.close()


def test_opening_never_renders_and_a_bad_pending_letter_is_recorded_unused(home):
    run_child(home, "issue", **{CRASH_ENV: "allocated"})  # killed before rendering

    refusing = RefusingRenderer()
    archive = open_archive(home, renderer=refusing)  # the service, verify, letters list
    try:
        assert refusing.calls == 0
        (row,) = archive.letters()
        assert row.status == "pending"
        assert any("saraban repair" in p for p in archive.verify())

        done = archive.finish_pending()
        assert refusing.calls >= 1
        (row,) = archive.letters()
        assert row.status == "unused" and "refused to fetch" in row.reason
        assert any("refused to fetch" in line for line in done)
        assert archive.verify() == []
    finally:
        archive.close()


def test_a_pending_letter_whose_files_are_stored_is_finished_on_open(home):
    run_child(home, "issue", **{CRASH_ENV: "stored"})  # both files stored, not finalised

    renderer = QuickRenderer()
    archive = open_archive(home, renderer=renderer)
    try:
        assert renderer.calls == 0
        (row,) = archive.letters()
        assert row.status == "issued"
        assert archive.verify() == []
    finally:
        archive.close()


def test_a_letter_that_kills_its_renderer_again_is_recorded_unused(home):
    run_child(home, "issue", **{CRASH_ENV: "allocated"})
    run_child(home, "kill")  # the retry: this letter kills the process that renders it

    renderer = QuickRenderer()
    archive = open_archive(home, renderer=renderer)
    try:
        done = archive.finish_pending()
        assert renderer.calls == 0  # not tried a third time
        (row,) = archive.letters()
        assert row.status == "unused" and "stopped its process again" in row.reason
        assert done and archive.verify() == []
    finally:
        archive.close()


def test_the_same_key_never_takes_a_second_number(home):
    archive = open_archive(home, renderer=QuickRenderer())
    try:
        first = archive.issue(make_letter(), ARCHIVE_UNIT, actor="c", idempotency_key="k:1")
        again = archive.issue(make_letter(), ARCHIVE_UNIT, actor="c", idempotency_key="k:1")
        assert again.id == first.id and again.ref_no == first.ref_no
        assert len(archive.letters()) == 1
        assert archive.letter_by_key("k:1").id == first.id
        assert archive.letter_by_key("k:2") is None
    finally:
        archive.close()
    refusing = open_archive(home, renderer=RefusingRenderer())
    try:
        with pytest.raises(IssueFailed):
            refusing.issue(make_letter(), ARCHIVE_UNIT, actor="c", idempotency_key="k:3")
        with pytest.raises(Exception, match="without an issued letter"):
            refusing.issue(make_letter(), ARCHIVE_UNIT, actor="c", idempotency_key="k:3")
    finally:
        refusing.close()


def test_an_archive_of_the_first_schema_upgrades_with_its_guards(archive_home, database_url):
    """0002 adds the hand-over key, the attempts and the received secrecy to an archive
    that holds a record already; the guards of the record hold over the new columns."""
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
        command.upgrade(config, "0001")
    with database.writer.begin() as db:
        db.execute(
            text(
                "INSERT INTO registers (id, name, circular_series, number_format, created_at) "
                "VALUES (1, 'ทะเบียนเก่า', 'separate', 'plain', :now)"
            ),
            {"now": "2025-01-01 00:00:00"},
        )
        db.execute(
            text(
                "INSERT INTO received (id, register_id, year, serial, received_at, sender, "
                "recipient, subject, created_at, created_by) VALUES (1, 1, 2568, 1, :now, "
                "'ก', 'ข', 'รับก่อนปรับรุ่น', :now, 't')"
            ),
            {"now": "2025-01-01 00:00:00"},
        )
    database.close()

    archive = open_archive(archive_home, database_url, renderer=QuickRenderer())
    try:
        (old,) = archive.received()
        assert old.subject == "รับก่อนปรับรุ่น" and old.secrecy is None
        with pytest.raises(DBAPIError, match="cannot change"), archive.engine.begin() as db:
            db.execute(text("UPDATE received SET secrecy = 'ลับ' WHERE id = 1"))
        archive.add_unit(ARCHIVE_UNIT, "ศาลากลาง", register="ทะเบียนเก่า", actor="t")
        issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor="t", idempotency_key="k")
        assert archive.letter_by_key("k").id == issued.id
        assert archive.verify() == []
    finally:
        archive.close()


def test_the_service_answers_a_renderer_that_raises_a_base_exception(tmp_path):
    """The request answers (no hung worker), the number is recorded unused, the draft can
    be corrected and issued again, and the instance opens as before."""
    from test_service_support import UNIT, add_unit, add_users, bearer, make_app, tokens

    from saraban.service import close_app

    home = tmp_path / "home"
    app = make_app(home)
    try:
        add_unit(app)
        keys = tokens(app, add_users(app))
        app.extensions["archive"].renderer = RefusingRenderer()  # the archive's renderer
        client = app.test_client()
        headers = bearer(keys["clerk"])
        draft = client.post(
            "/api/v1/drafts", headers=headers, json={"letter": make_letter(), "unit": UNIT}
        ).get_json()["draft"]
        preview = client.get(f"/api/v1/drafts/{draft['id']}/preview", headers=headers)
        assert preview.status_code == 500 and "refused to fetch" in preview.get_json()["error"]
        issued = client.post(f"/api/v1/drafts/{draft['id']}/issue", headers=headers)
        body = issued.get_json()
        assert issued.status_code == 500 and body["ok"] is False
        assert "refused to fetch" in body["error"] and "unused" in body["error"]
        again = client.get(f"/api/v1/drafts/{draft['id']}", headers=headers).get_json()
        assert again["draft"]["letter_id"] is None  # editable again
        (row,) = app.extensions["archive"].letters()
        assert row.status == "unused"
    finally:
        close_app(app)
    reopened = make_app(home)
    try:
        assert reopened.extensions["archive"].verify() == []
    finally:
        close_app(reopened)
