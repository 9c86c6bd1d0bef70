"""A clerk without clearance learns nothing of secret letters, tried as such a clerk would
(2026-12-05): by numbering a letter of a level they may not see (each level has a register
of its own, so the number told how many there were), or, as an administrator, by reading
the audit table."""

from __future__ import annotations

import re

import pytest
from test_service_support import (
    UNIT,
    add_unit,
    add_users,
    bearer,
    login,
    make_app,
    seed_letter,
    tokens,
)


@pytest.fixture
def world(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    keys = tokens(app, add_users(app))
    yield app, keys
    close_app(app)


def _draft(client, key, secrecy):
    doc = seed_letter()
    doc.pop("ref_no", None)
    doc["date"], doc["secrecy"] = None, secrecy
    answer = client.post("/api/v1/drafts", headers=bearer(key), json={"letter": doc, "unit": UNIT})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["draft"]["id"]


def test_a_clerk_cannot_number_a_letter_of_a_level_above_their_clearance(world):
    app, keys = world
    client = app.test_client()
    draft = _draft(client, keys["clerk"], "ลับที่สุด")
    refused = client.post(f"/api/v1/drafts/{draft}/issue", headers=bearer(keys["clerk"]))
    body = refused.get_json()
    assert refused.status_code == 400 and "เกินชั้นความลับของท่าน" in body["error"], body
    assert not re.search("[0-9๐-๙]", body["error"])  # no number, no count
    typed = {"register": UNIT, "sender": "กองทัพภาคที่ ๒", "recipient": "ผู้ว่าราชการจังหวัด"}
    for level in ("ลับ", "ลับที่สุด"):
        received = client.post(
            "/api/v1/registers/received",
            headers=bearer(keys["clerk"]),
            json={**typed, "subject": "แผนลับ", "secrecy": level},
        )
        assert received.status_code == 400 and "เกินชั้นความลับ" in received.get_json()["error"]
    page = app.test_client()
    csrf = login(page, "clerk")
    form = page.post(
        "/registers/receive",
        data={"csrf_token": csrf, **typed, "subject": "แผนลับ", "secrecy": "ลับ"},
    )
    assert "เกินชั้นความลับของท่าน" in form.get_data(as_text=True)
    assert app.extensions["archive"].received() == []
    # cleared: numbered as before, in the level's own register
    cleared = client.post(
        "/api/v1/registers/received",
        headers=bearer(keys["secret"]),
        json={**typed, "subject": "แผนลับ", "secrecy": "ลับ"},
    )
    assert cleared.status_code == 201, cleared.get_json()


def test_an_administrator_without_clearance_reads_no_secret_letter_typed_into_the_register(
    world,
):
    app, keys = world
    client = app.test_client()
    received = client.post(
        "/api/v1/registers/received",
        headers=bearer(keys["topsecret"]),
        json={
            "register": UNIT,
            "sender": "กองบัญชาการกองทัพไทย",
            "recipient": "ผู้ว่าราชการจังหวัด",
            "subject": "แผนเคลื่อนย้ายกำลังลับนาคราช",
            "secrecy": "ลับที่สุด",
        },
    )
    assert received.status_code == 201
    row = received.get_json()["received"]["id"]
    routed = client.post(
        f"/api/v1/received/{row}/order",
        headers=bearer(keys["topsecret"]),
        json={"order": "ให้เตรียมกำลังนาคราชตามแผน"},
    )
    assert routed.status_code in (200, 201), routed.get_json()
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/").get_data(as_text=True)
    audit = page[page.index('id="audit"') :]
    assert "นาคราช" not in audit and "กองบัญชาการกองทัพไทย" not in audit


def test_a_letter_stamped_secret_is_not_numbered_for_a_clerk_without_clearance(world):
    """No level chosen: the letter's own ลับ stamp gave the level, and the job handed the
    clerk the next number of the ลับ register."""
    import io
    import time

    from test_service_support import secret_letter

    app, keys = world
    docx = app.extensions["archive"].renderer.render_docx(secret_letter("ลับ", "รายงานลับนาคราช"))
    client = app.test_client()
    started = client.post(
        "/api/v1/received",
        headers=bearer(keys["clerk"]),
        data={"register": UNIT, "file": (io.BytesIO(docx), "letter.docx")},
        content_type="multipart/form-data",
    )
    assert started.status_code == 202, started.get_json()
    job = app.extensions["saraban_jobs"].get(started.get_json()["job"]["id"])
    deadline = time.monotonic() + 120
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    said = client.get(started.get_json()["progress"], headers=bearer(keys["clerk"])).get_json()
    assert said["job"]["state"] == "failed", said
    assert "เกินชั้นความลับของท่าน" in said["job"]["error"] and not said["job"]["result"]
    assert app.extensions["archive"].received(clearance="ลับที่สุด") == []
