"""The use-case layer: plain Python (no Flask) that the pages, the API and the commands
share, so a command can draft, issue, import and receive with exactly the steps the web
service takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT, make_letter

from saraban.errors import Conflict, InvalidLetter, NotFound

ROOT = Path(__file__).resolve().parents[1]


class _Renderer:
    """Stand-in files: these tests are about the steps, not the rendering."""

    def render_docx(self, letter):
        return b"PK docx " + letter["ref_no"].encode()

    def render_pdf(self, letter, *, pdfa=False):
        return b"%PDF-1.7 " + (letter.get("ref_no") or "preview").encode()


@pytest.fixture
def parts(archive_home):
    from saraban.archive import open_archive
    from saraban.service._store import Store

    archive = open_archive(archive_home, renderer=_Renderer())
    archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", address=["ถนนมิตรภาพ"], actor="t")
    store = Store(archive, password_method="pbkdf2:sha256:1000")
    clerk = store.add_user("clerk", "correct horse battery", role="clerk")
    try:
        yield archive, store, clerk
    finally:
        store.close()
        archive.close()


def test_the_use_cases_import_no_flask():
    code = (
        "import sys\n"
        "from saraban.usecases import cancelling, drafting, importing, issuing, receiving,"
        " registers, searching\n"
        "assert not [m for m in sys.modules if m == 'flask' or m.startswith('flask.')], 'flask'\n"
        "assert 'saraban.service' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_draft_to_issued_letter_without_the_web_service(parts):
    from saraban.usecases import drafting, issuing

    archive, store, clerk = parts
    draft = drafting.create(archive, store, clerk.id, "external", unit=ARCHIVE_UNIT)
    assert draft.doc["sender"]["name"] == "ศาลากลางจังหวัดหนองคาย"  # the unit's defaults
    assert draft.doc["salutation"] == "เรียน"
    letter = make_letter() | {"ref_no": "นค ๐๐๑๙.๓/๙๙"}
    saved = drafting.save(archive, store, draft, letter, unit=ARCHIVE_UNIT)
    assert saved.doc["ref_no"] is None  # the register gives the number
    with pytest.raises(NotFound):
        drafting.draft_for(store, draft.id, clerk.id + 1)

    issued = issuing.issue_draft(archive, store, saved, actor="clerk", clearance=None)
    assert store.draft(draft.id).letter_id == issued.id
    with pytest.raises(Conflict):
        issuing.issue_draft(archive, store, store.draft(draft.id), actor="clerk", clearance=None)


def test_a_refused_issue_gives_the_draft_back(parts):
    from saraban.usecases import drafting, issuing

    archive, store, clerk = parts
    draft = drafting.create(archive, store, clerk.id, "external", unit=ARCHIVE_UNIT)
    with pytest.raises(InvalidLetter):  # no subject, body, ...: refused before a number
        issuing.issue_draft(archive, store, draft, actor="clerk", clearance=None)
    assert store.draft(draft.id).letter_id is None
    assert archive.letters() == []


def test_cancel_and_copy_see_only_what_the_user_may(parts):
    from saraban.usecases import cancelling, drafting

    archive, store, clerk = parts
    secret = archive.issue(make_letter(secrecy="ลับ"), ARCHIVE_UNIT, actor="t")
    with pytest.raises(NotFound):
        cancelling.cancel(archive, secret.id, "ผิด", actor="clerk", clearance=None)
    with pytest.raises(NotFound):
        drafting.copy_letter(archive, store, clerk.id, secret.id, None)
    copied = drafting.copy_letter(archive, store, clerk.id, secret.id, "ลับ")
    assert copied.doc["ref_no"] is None and copied.doc["date"] is None
    assert cancelling.cancel(archive, secret.id, "ผิด", actor="c", clearance="ลับ").status == (
        "cancelled"
    )


def test_one_import_step_for_every_door(parts, tmp_path):
    """A file, an upload and a batch item all reach the archive through store_parsed,
    with what the clerk should review."""
    from saraban.usecases import importing

    archive, _store, _clerk = parts
    text = "ที่ มท ๐๔๐๗.๒/๕๐\nเรื่อง ทดสอบนำเข้า\nเรียน ผู้ว่าราชการจังหวัด\nข้อความ\n"
    path = tmp_path / "a.txt"
    path.write_text(text, "utf-8")
    imported = importing.import_file(archive, path, actor="t")
    assert imported.record.status == "stored" and "fields" in archive.needs_review(
        imported.record.id
    )
    uploaded = importing.import_upload(
        archive, text.replace("๕๐", "๕๑").encode(), "แฟ้ม.txt", actor="t", clearance=None
    )
    assert archive.original_file(uploaded.record.id).name == "แฟ้ม.txt"
    with pytest.raises(Exception, match="แฟ้มเสีย.pdf"):  # errors name the upload, not the path
        importing.import_upload(archive, b"%PDF-1.4 junk", "แฟ้มเสีย.pdf", actor="t", clearance=None)
