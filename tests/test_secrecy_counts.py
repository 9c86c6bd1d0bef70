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


def _finished(app, job_id):
    """The background job, once it has ended (two minutes at most)."""
    import time

    job = app.extensions["saraban_jobs"].get(job_id)
    deadline = time.monotonic() + 120
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    return job


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
    _finished(app, started.get_json()["job"]["id"])
    said = client.get(started.get_json()["progress"], headers=bearer(keys["clerk"])).get_json()
    assert said["job"]["state"] == "failed", said
    assert "เกินชั้นความลับของท่าน" in said["job"]["error"] and not said["job"]["result"]
    assert app.extensions["archive"].received(clearance="ลับที่สุด") == []


def _take_in(app, key, stem, answers):
    import io

    from test_service_support import SEEDS

    answer = app.test_client().post(
        "/api/v1/received",
        headers=bearer(key),
        data={
            "register": UNIT,
            "answers": answers,
            "file": (io.BytesIO((SEEDS / f"{stem}.txt").read_bytes()), "reply.txt"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 202, answer.get_json()
    job = _finished(app, answer.get_json()["job"]["id"])
    assert job.state == "done", job.as_dict()


def test_what_a_received_letter_answers_is_a_public_id_and_only_if_it_may_be_seen(world):
    """The register's JSON rows gave the answered letter as the archive's row number (1, 2
    became 1, 7 with five secret letters between), and a received letter answering a secret
    one named it; an id of a hidden letter was refused in other words than a missing one."""
    from conftest import make_letter
    from test_archive_repair import QuickRenderer

    app, keys = world
    archive = app.extensions["archive"]
    archive.renderer = QuickRenderer()
    opened = archive.issue(make_letter("หนังสือเปิด"), UNIT, actor="clerk")
    secret = archive.issue(make_letter("หนังสือลับ", secrecy="ลับ"), UNIT, actor="secret")
    _take_in(app, keys["clerk"], "000_e6238ec4d0848a5c", opened.public_id)
    _take_in(app, keys["secret"], "001_1817bd84ea7a4ec5", secret.public_id)
    client = app.test_client()
    rows = client.get("/api/v1/registers/received", headers=bearer(keys["clerk"])).get_json()
    answered = {row["subject"][:10]: row["answers_id"] for row in rows["items"]}
    assert opened.public_id in answered.values() and secret.public_id not in answered.values()
    assert all(a is None or isinstance(a, str) for a in answered.values()), answered
    for row in rows["items"]:
        one = client.get(f"/api/v1/received/{row['id']}", headers=bearer(keys["clerk"]))
        assert one.get_json()["received"]["answers_id"] in (None, opened.public_id)
    said = set()
    for answers in (secret.public_id, "aaaaaaaaaaaa"):
        import io

        refused = client.post(
            "/api/v1/received",
            headers=bearer(keys["clerk"]),
            data={"register": UNIT, "answers": answers, "file": (io.BytesIO(b"x"), "a.txt")},
            content_type="multipart/form-data",
        )
        assert refused.status_code == 404
        said.add(refused.get_json()["error"])
    assert len(said) == 1, said


def test_a_letters_history_names_no_row_number(world):
    from conftest import make_letter
    from test_archive_repair import QuickRenderer

    app, keys = world
    archive = app.extensions["archive"]
    archive.renderer = QuickRenderer()
    opened = archive.issue(make_letter("หนังสือเปิด"), UNIT, actor="clerk")
    _take_in(app, keys["clerk"], "000_e6238ec4d0848a5c", opened.public_id)
    client = app.test_client()
    added = client.post(
        "/api/v1/recipients",
        headers=bearer(keys["admin"]),
        json={"name": "อำเภอโพนพิสัย", "email": "phon@example.org"},
    )
    assert added.status_code in (200, 201), added.get_json()
    sent = client.post(
        f"/api/v1/letters/{opened.public_id}/send",
        headers=bearer(keys["clerk"]),
        json={"to": ["อำเภอโพนพิสัย"]},
    )
    assert sent.status_code in (200, 201), sent.get_json()
    token = sent.get_json()["deliveries"][0]["link"].rsplit("/d/", 1)[1]
    acknowledged = app.test_client().post(
        f"/d/{token}/acknowledge", json={"receive_no": "๑", "by": "นายสมชาย"}
    )
    assert acknowledged.status_code == 200, acknowledged.get_json()
    history = app.test_client().get(
        f"/api/v1/letters/{opened.public_id}/history", headers=bearer(keys["clerk"])
    )
    events = history.get_json()["events"]
    assert any(e["action"].startswith("delivery") for e in events), events
    for event in events:
        for key in ("received_id", "delivery", "reply_letter", "routing_id", "letter_id"):
            assert not isinstance(event["detail"].get(key), int), event


def test_an_administrator_without_clearance_is_not_told_how_many_letters_a_rebuild_read(world):

    from test_service_support import secret_letter, store_letter

    app, keys = world
    store_letter(app, seed_letter())
    store_letter(app, secret_letter("ลับมาก", "ลับหนึ่ง"))
    client = app.test_client()
    started = client.post("/api/v1/reindex", headers=bearer(keys["admin"])).get_json()
    _finished(app, started["job"]["id"])
    said = client.get(started["progress"], headers=bearer(keys["admin"])).get_json()["job"]
    assert said["state"] == "done", said
    assert not re.search("[0-9๐-๙]", str(said.get("result"))) and said["total"] in (0, None)


@pytest.mark.parametrize("order", ["AB", "ASB", "BA", "BSA", "SBA", "BAS"])
def test_a_secret_letter_of_the_same_number_changes_no_thread_between_open_letters(tmp_path, order):
    """B names A's number without a date. A secret letter S of the same number made the
    reference ambiguous (unlinked), or took it first: the clerk without clearance saw the
    thread change, and learnt that a letter of that number exists. Whatever the order,
    B links to A."""
    from test_service_support import store_letter

    from saraban.service import close_app

    def letter(subject, ref_no, date, refs=(), secrecy=None):
        doc = seed_letter()
        doc.update(subject=subject, ref_no=ref_no, date=date, references=list(refs))
        doc["secrecy"] = secrecy
        return doc

    made = {
        "A": lambda: letter("เรื่องเปิด ก", "มท ๐๒๐๘/๑๒๓", "2024-03-01"),
        "S": lambda: letter("เรื่องลับ", "มท ๐๒๐๘/๑๒๓", "2025-02-01", secrecy="ลับ"),
        "B": lambda: letter(
            "เรื่องเปิด ข", "มท ๐๒๐๘/๕๐๐", "2025-06-01", ["หนังสือกระทรวงมหาดไทย ที่ มท ๐๒๐๘/๑๒๓"]
        ),
    }
    app = make_app(tmp_path / "home")
    try:
        add_unit(app)
        add_users(app)
        kept = {name: store_letter(app, made[name]()) for name in order}
        clerk = app.test_client()
        login(clerk, "clerk")
        page = clerk.get(f"/letters/{kept['B'].public_id}").get_data(as_text=True)
        assert kept["A"].public_id in page
        if "S" in kept:
            assert kept["S"].public_id not in page
    finally:
        close_app(app)


def test_the_forms_offer_the_levels_the_user_may_number_and_keep_a_drafts_own(world):
    app, keys = world
    client = app.test_client()
    draft = _draft(client, keys["clerk"], "ลับ")
    page = app.test_client()
    login(page, "clerk")
    editor = page.get(f"/drafts/{draft}").get_data(as_text=True)
    offered = re.search(r'<select id="secrecy" name="secrecy">(.*?)</select>', editor, re.S)
    assert offered is not None
    assert re.findall(r"<option[^>]*>([^<]*)</option>", offered.group(1)) == ["ไม่มี", "ลับ"]
    assert "<option selected>ลับ</option>" in offered.group(1)  # kept, not dropped on save
    registers = page.get("/registers?kind=received").get_data(as_text=True)
    levels = re.search(r'<select id="r-secrecy" name="secrecy">(.*?)</select>', registers, re.S)
    assert levels is not None and "ลับ" not in levels.group(1)
    cleared = app.test_client()
    login(cleared, "secret")
    registers = cleared.get("/registers?kind=received").get_data(as_text=True)
    levels = re.search(r'<select id="r-secrecy" name="secrecy">(.*?)</select>', registers, re.S)
    assert levels is not None and ">ลับ<" in levels.group(1) and "ลับมาก" not in levels.group(1)
