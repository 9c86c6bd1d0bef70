"""What an administrator without clearance learns of secret letters from the admin page:
nothing. A district's reply marked ลับ showed in the audit table with its row number and
its serial in the ลับ series; the archive check named secret letters and their series'
gaps. Real SQLite, the real service."""

from __future__ import annotations

import io
import re
import time

import pytest
from conftest import make_letter
from sqlalchemy import select, update
from test_service_support import (
    PASSWORD,
    UNIT,
    add_districts,
    add_unit,
    add_users,
    csrf_of,
    login,
    make_app,
    secret_letter,
    store_letter,
)

from saraban.archive._mail import OutgoingMail


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home", SARABAN_BASE_URL="https://saraban.example.go.th")
    add_unit(app)
    add_users(app)
    app.extensions["saraban_store"].add_user("chief", PASSWORD, role="admin", clearance="ลับที่สุด")
    add_districts(app)
    yield app
    close_app(app)


def _audit(client) -> str:
    page = client.get("/admin/").get_data(as_text=True)
    return page[page.index('id="audit"') :]


def test_a_secret_reply_is_left_out_of_an_uncleared_administrators_audit(app):
    archive = app.extensions["archive"]
    letter = archive.issue(make_letter("ขอให้รายงานข้อมูลศูนย์"), UNIT, actor="clerk")
    clerk = app.test_client()
    csrf = login(clerk, "clerk")
    sent = clerk.post(
        f"/letters/{letter.public_id}/send", data={"csrf_token": csrf, "to": ["ทุกอำเภอ"]}
    )
    assert sent.status_code == 302
    with archive._read() as s:
        bodies = s.scalars(select(OutgoingMail.body).order_by(OutgoingMail.id)).all()
    links = [re.search(r"/d/([A-Za-z0-9_-]{22})", b).group(1) for b in bodies]
    for link, secrecy in ((links[0], "ลับ"), (links[1], None)):
        reply = secret_letter(secrecy, "รายงานผล") if secrecy else make_letter("รายงานผล")
        reply["ref_no"], reply["date"] = "นค ๐๒๑๘/๔๕๖", "2025-12-01"
        answered = app.test_client().post(
            f"/d/{link}/reply",
            data={"file": (io.BytesIO(archive.renderer.render_docx(reply)), "reply.docx")},
            content_type="multipart/form-data",
        )
        assert answered.status_code == 200, answered.get_json()
    admin = app.test_client()
    login(admin, "admin")
    rows = [r for r in re.findall(r"<tr>.*?</tr>", _audit(admin), re.S) if "delivery.reply" in r]
    assert len(rows) == 1  # the open reply only
    chief = app.test_client()
    login(chief, "chief")
    rows = [r for r in re.findall(r"<tr>.*?</tr>", _audit(chief), re.S) if "delivery.reply" in r]
    assert len(rows) == 2
    # no row number in a detail: the reply is named by its public id
    [event] = [e for e in archive.events(limit=50) if e.action == "delivery.reply"][:1]
    assert isinstance(event.detail["reply_letter"], str)
    assert f"{event.detail['received_id']}" not in re.sub(r"<[^>]+>", " ", rows[0]).split()


def test_the_archive_check_is_for_an_administrator_cleared_for_every_level(app):
    archive = app.extensions["archive"]
    secret = store_letter(app, secret_letter("ลับที่สุด", "แผนลับ"))
    from saraban.archive._models import Letter

    with archive._write() as s:  # what a crash leaves: pending, its process gone
        s.execute(
            update(Letter).where(Letter.id == secret.id).values(status="pending", worker=None)
        )
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert "ตรวจสอบความครบถ้วนของคลัง</button>" not in page
    refused = admin.post("/admin/verify", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    chief = app.test_client()
    login(chief, "chief")
    page = chief.get("/admin/").get_data(as_text=True)
    started = chief.post("/admin/verify", data={"csrf_token": csrf_of(page)})
    job = re.search(r"job=([A-Za-z0-9_-]+)", started.headers["Location"]).group(1)
    deadline = time.monotonic() + 60
    while (state := chief.get(f"/jobs/{job}", headers={"Accept": "application/json"}).get_json())[
        "state"
    ] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert any("pending" in problem for problem in state["result"])


def test_a_rebuild_that_counts_every_letter_is_not_handed_to_the_uncleared(app):
    """An uncleared administrator asking for a rebuild while a cleared one's ran was handed
    that job, and read its count of every letter, secret ones included."""
    import threading

    from test_service_support import bearer, secret_letter, seed_letter

    for n in range(3):
        store_letter(app, {**secret_letter("ลับที่สุด", f"ลับ {n}"), "ref_no": f"นค ๐๐๑๙.๓/{900 + n}"})
    store_letter(app, seed_letter())
    service = app.extensions["saraban_search"]
    real, release = service.reindex, threading.Event()

    def held(progress=None):
        done = real(progress=progress)
        release.wait(30)  # a large archive: the rebuild is still running when asked again
        return done

    service.reindex = held
    chief = app.test_client()
    started = chief.post("/admin/reindex", data={"csrf_token": login(chief, "chief")})
    job_id = re.search(r"job=([A-Za-z0-9_-]+)", started.headers["Location"]).group(1)
    try:
        admin = app.test_client()
        asked = admin.post("/admin/reindex", data={"csrf_token": login(admin, "admin")})
        assert asked.status_code == 302 and job_id not in asked.headers["Location"]
        assert "กำลังสร้างดัชนีค้นหาใหม่อยู่" in admin.get("/admin/").get_data(as_text=True)
        store = app.extensions["saraban_store"]
        token = store.create_token(store.user_by_name("admin").id)[0]
        api = admin.post("/api/v1/reindex", headers=bearer(token))
        assert api.status_code == 409 and job_id not in api.get_data(as_text=True)
        again = chief.post(
            "/admin/reindex", data={"csrf_token": csrf_of(chief.get("/admin/").get_data(True))}
        )
        assert job_id in again.headers["Location"]  # the cleared one follows it as before
    finally:
        release.set()
    deadline = time.monotonic() + 60
    while app.extensions["saraban_jobs"].get(job_id).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
