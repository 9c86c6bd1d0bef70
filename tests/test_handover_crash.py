"""Crash-safe hand-overs (kill -9 of a real process): a draft killed between the archive's
issue and its own "issued" mark shows the letter it became (or becomes editable again when
no number was taken), and a batch import killed after storing a letter and before its
manifest never imports the file twice. Each hand-over carries an idempotency key that the
archive writes in the same transaction as the letter."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from test_archive_repair import QuickRenderer, child_env

from saraban.archive import open_archive
from saraban.archive._process import CRASH_ENV
from saraban.usecases import drafting, importing, recovery

DRAFT_CHILD = textwrap.dedent(
    """
    import sys
    from test_archive_repair import QuickRenderer
    from saraban.archive import open_archive
    from saraban.service._store import Store
    from saraban.usecases import issuing

    archive = open_archive(sys.argv[1], repair=False, renderer=QuickRenderer())
    store = Store(archive, password_method="pbkdf2:sha256:1000")
    draft = store.draft(int(sys.argv[2]))
    issuing.issue_draft(archive, store, draft, actor="clerk", clearance=None)
    """
)
BATCH_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from saraban.archive import open_archive
    from saraban.usecases import importing

    archive = open_archive(sys.argv[1], repair=False)
    importing.store_item(
        archive, Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), 1, actor="clerk",
        clearance=None,
    )
    """
)


def killed(code: str, *args: str, point: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=child_env(**{CRASH_ENV: point}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


def _store(archive):
    from saraban.service._store import Store

    return Store(archive, password_method="pbkdf2:sha256:1000")


@pytest.fixture
def drafted(archive_home):
    """An archive with a unit, a clerk and a valid draft; (home, draft id)."""
    archive = open_archive(archive_home, renderer=QuickRenderer())
    archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    store = _store(archive)
    clerk = store.add_user("clerk", "correct horse battery", role="clerk")
    draft = drafting.create(archive, store, clerk.id, "external", unit=ARCHIVE_UNIT)
    drafting.save(archive, store, draft, make_letter("ส่งต่อเมื่อเครื่องดับ"), unit=ARCHIVE_UNIT)
    store.close()
    archive.close()
    return archive_home, draft.id


def test_a_draft_killed_after_its_issue_shows_its_letter_when_the_service_opens(drafted):
    from test_service_support import make_app

    from saraban.service import close_app

    home, draft_id = drafted
    killed(DRAFT_CHILD, str(home), str(draft_id), point="issued")
    archive = open_archive(home)
    store = _store(archive)
    assert store.draft(draft_id).letter_id == 0  # stuck: the crash came before the mark
    store.close()
    archive.close()

    app = make_app(home)  # repair on open
    try:
        letter_id = app.extensions["saraban_store"].draft(draft_id).letter_id
        letter = app.extensions["archive"].get(letter_id)
        assert letter.status == "issued" and letter.subject == "ส่งต่อเมื่อเครื่องดับ"
        assert len(app.extensions["archive"].letters()) == 1
    finally:
        close_app(app)


def test_a_draft_killed_before_its_number_committed_is_editable_again(drafted):
    home, draft_id = drafted
    killed(DRAFT_CHILD, str(home), str(draft_id), point="allocating")  # rolled back
    archive = open_archive(home, renderer=QuickRenderer())
    store = _store(archive)
    try:
        assert store.draft(draft_id).letter_id == 0
        done = recovery.on_open(archive, store)
        assert store.draft(draft_id).letter_id is None and done
        assert archive.letters() == []
        from saraban.usecases import issuing

        issued = issuing.issue_draft(
            archive, store, store.draft(draft_id), actor="clerk", clearance=None
        )
        assert issued.serial == 1 and archive.verify() == []
    finally:
        store.close()
        archive.close()


def test_a_draft_killed_before_rendering_is_issued_when_its_letter_is_finished(drafted):
    home, draft_id = drafted
    killed(DRAFT_CHILD, str(home), str(draft_id), point="allocated")
    renderer = QuickRenderer()
    archive = open_archive(home, renderer=renderer)
    store = _store(archive)
    try:
        recovery.on_open(archive, store)
        assert renderer.calls == 0 and store.draft(draft_id).letter_id == 0  # still pending
        recovery.finish(archive, store)  # saraban repair; saraban serve in the background
        (letter,) = archive.letters()
        assert letter.status == "issued"
        assert store.draft(draft_id).letter_id == letter.id
        assert archive.verify() == []
    finally:
        store.close()
        archive.close()


def test_a_batch_import_killed_before_its_manifest_never_imports_twice(archive_home):
    home = archive_home
    archive = open_archive(home)
    text = "ที่ มท ๐๔๐๗.๒/ว ๕๐\nเรื่อง นำเข้าเมื่อเครื่องดับ\nเรียน ผู้ว่าราชการจังหวัด\nข้อความ\n"
    batch = importing.create(home, 7, [("letter.txt", text.encode())])
    importing.parse_all(home, batch.id, 7)
    archive.close()

    killed(BATCH_CHILD, str(home), batch.id, "7", point="imported")

    archive = open_archive(home)
    try:
        (letter,) = archive.letters()  # stored by the killed process
        assert importing.load(home, batch.id, 7).items[0].status == "parsed"  # not marked
        assert importing.repair_batches(archive, home)
        item = importing.load(home, batch.id, 7).items[0]
        assert item.status == "stored" and item.letter_id == letter.id
        # Confirmed again (a second click, a retry): the same letter, nothing kept twice.
        again = importing.store_item(archive, home, batch.id, 7, 1, actor="c", clearance=None)
        assert again.letter_id == letter.id
        assert len(archive.letters()) == 1 and archive.verify() == []
    finally:
        archive.close()


def test_a_batch_item_confirmed_again_without_repair_is_not_kept_twice(archive_home):
    home = archive_home
    archive = open_archive(home)
    text = "ที่ มท ๐๔๐๗.๒/ว ๕๑\nเรื่อง ยืนยันซ้ำ\nเรียน ผู้ว่าราชการจังหวัด\nข้อความ\n"
    batch = importing.create(home, 7, [("letter.txt", text.encode())])
    importing.parse_all(home, batch.id, 7)
    archive.close()
    killed(BATCH_CHILD, str(home), batch.id, "7", point="imported")
    archive = open_archive(home)
    try:
        # The secret-blind duplicate check would not catch this: the key does.
        item = importing.store_item(archive, home, batch.id, 7, 1, actor="c", clearance=None)
        assert item.status == "stored" and len(archive.letters()) == 1
    finally:
        archive.close()
