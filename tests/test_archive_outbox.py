"""The archive's outbox drives the search index: every commit that queues a letter for the
index tells the archive's listeners, once, after the commit; no page, route or command
pokes the index itself."""

from __future__ import annotations

import io
import time

import pytest
from conftest import ARCHIVE_UNIT, make_letter

from saraban.errors import BadRequest


class _Renderer:
    def render_docx(self, letter):
        return b"PK docx of " + letter["ref_no"].encode()

    def render_pdf(self, letter, *, pdfa=False):
        return b"%PDF-1.7 of " + letter["ref_no"].encode()


@pytest.fixture
def quick(archive_home):
    from saraban.archive import open_archive

    opened = open_archive(archive_home, renderer=_Renderer())
    opened.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    try:
        yield opened
    finally:
        opened.close()


def test_each_change_of_the_index_queue_is_told_once_after_commit(quick):
    told = []
    quick.on_change(lambda: told.append(len(quick.index_jobs(None))))

    issued = quick.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
    assert told == [1]  # after the commit: the job is there to read
    quick.store_imported(
        make_letter("นำเข้า", ref_no="มท ๐๔๐๗.๒/๕๐"),
        original=b"an original",
        original_name="a.txt",
        actor="tester",
    )
    quick.cancel(issued.id, "ผิดเรื่อง", actor="tester")
    assert told == [1, 2, 3]

    quick.reserve(ARCHIVE_UNIT, actor="tester")  # no letter the index holds
    quick.letters()
    with pytest.raises(BadRequest):
        quick.cancel(issued.id, "", actor="tester")
    quick.index_done([job for job, _letter, _reason in quick.index_jobs(None)])
    assert told == [1, 2, 3]


def test_a_failing_listener_never_fails_the_write(quick, caplog):
    def broken():
        raise RuntimeError("listener broke")

    quick.on_change(broken)
    issued = quick.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
    assert quick.get(issued.id).status == "issued"
    assert "listener broke" in caplog.text


def test_the_service_indexes_an_import_without_being_told(tmp_path):
    """An import through the API is found by search with nobody syncing by hand: the
    archive's event started the background sync."""
    from test_service_support import add_users, bearer, make_app, tokens

    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    try:
        search = app.extensions["saraban_search"]
        token = tokens(app, add_users(app))["clerk"]
        text = "\n".join(
            [
                "ที่ มท ๐๔๐๗.๒/๕๑",
                "เรื่อง ศูนย์ผู้นำจิตอาสาพัฒนาชุมชนทดสอบดัชนี",
                "เรียน ผู้ว่าราชการจังหวัดหนองคาย",
                "ด้วยกรมการพัฒนาชุมชนขอแจ้งเรื่องนี้",
            ]
        ).encode()
        response = app.test_client().post(
            "/api/v1/imports",
            data={"files": [(io.BytesIO(text), "letter.txt")]},
            headers=bearer(token),
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        deadline = time.monotonic() + 30
        while app.extensions["archive"].index_jobs(1) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.extensions["archive"].index_jobs(1) == []
        assert search.index.search("ผู้นำจิตอาสา", clearance=None).total == 1
    finally:
        close_app(app)
