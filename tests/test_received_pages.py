"""The doors of the intake pipeline in the web service (service/received.py, the receive
form, ``POST /api/v1/received``): the upload is read in a worker process through a
background job with progress, a duplicate is offered (linked), not kept; the received
letter's own page with its files, corrections (audited) until confirmed, hidden from an
uncleared user exactly like a letter that does not exist. Real SQLite, real files, the
real worker pool."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from test_service_support import (
    SEEDS,
    UNIT,
    add_unit,
    add_users,
    bearer,
    login,
    make_app,
    tokens,
)

STEM = "000_e6238ec4d0848a5c"
OTHER = "001_1817bd84ea7a4ec5"


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    app.extensions["test_users"] = add_users(app)
    yield app
    close_app(app)


def _txt(stem: str = STEM) -> bytes:
    return (SEEDS / f"{stem}.txt").read_bytes()


def _wait(app, job_id: str, seconds: float = 120.0):
    job = app.extensions["saraban_jobs"].get(job_id)
    deadline = time.monotonic() + seconds
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state != "running", job.as_dict()
    return job


def _upload(client, csrf: str, data: bytes, name: str = "letter.txt", **form):
    import io

    fields = {"csrf_token": csrf, "register": UNIT, "file": (io.BytesIO(data), name), **form}
    return client.post("/received", data=fields, content_type="multipart/form-data")


def _take_in(app, client, csrf: str, data: bytes, **form) -> str:
    """Upload through the page, wait for the job; the received letter's page URL."""
    response = _upload(client, csrf, data, **form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_url = response.headers["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    progress = client.get(job_url)
    assert progress.status_code in (200, 302)
    _wait(app, job_id)
    done = client.get(job_url)
    assert done.status_code == 302, done.get_data(as_text=True)[:800]
    return done.headers["Location"]


def test_an_upload_is_read_in_the_background_and_gets_its_own_page(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    response = _upload(client, csrf, _txt())
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/received/jobs/[\w-]+", job_url)
    page = client.get(job_url).get_data(as_text=True)
    # the answer came before the reading: a page that polls the job, or the letter already
    assert "data-job" in page or client.get(job_url).status_code == 302
    job = _wait(app, job_url.rsplit("/", 1)[1])
    assert job.total == 3 and job.done == 3
    url = client.get(job_url).headers["Location"]
    assert re.fullmatch(r"/received/[0-9a-z]{12}", url), url
    page = client.get(url).get_data(as_text=True)
    assert "เลขรับ" in page and "๑/" in page
    for label in ("ที่ (เลขที่หนังสือของผู้ส่ง)", "ลงวันที่ (พ.ศ.)", "จาก", "เรื่อง"):
        assert label in page
    assert "ยืนยัน" in page
    assert 'href="' + url + '/original"' in page
    # the register links the row to the page
    register = client.get("/registers?kind=received").get_data(as_text=True)
    assert f'href="{url}"' in register


def test_the_same_file_again_is_offered_not_kept_twice(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    first = _take_in(app, client, csrf, _txt())
    response = _upload(client, csrf, _txt(), name="again.txt")
    job_url = response.headers["Location"]
    _wait(app, job_url.rsplit("/", 1)[1])
    page = client.get(job_url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "ลงรับไว้แล้ว" in text and f'href="{first}"' in text
    assert len(app.extensions["archive"].received()) == 1


def test_a_bad_upload_keeps_the_choices_and_says_why(app):
    client = app.test_client()
    csrf = login(client, "secret")
    response = _upload(client, csrf, _txt(), register="ไม่มีทะเบียนนี้", secrecy="ลับ")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "ไม่พบทะเบียน" in text
    assert "<option selected>ลับ</option>" in text
    empty = _upload(client, csrf, b"")
    assert empty.status_code == 400 and "ไฟล์ว่าง" in empty.get_data(as_text=True)
    assert app.extensions["archive"].received() == []


def test_a_secrecy_above_the_users_clearance_is_refused(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    response = _upload(client, csrf, _txt(), secrecy="ลับ")
    assert response.status_code == 400
    assert "เกินชั้นความลับ" in response.get_data(as_text=True)


def test_the_typed_receive_form_keeps_every_value_on_an_error(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    typed = {
        "csrf_token": csrf,
        "register": UNIT,
        "ref_no": "มท ๐๒๑๑/ว ๑๒๓",
        "letter_date": "๓๑ กุมภาพันธ์ ๒๕๖๘",  # no such day
        "sender": "กรมส่งเสริม <การปกครองท้องถิ่น>",
        "recipient": "ผู้ว่าราชการจังหวัดหนองคาย",
        "subject": "ขอเชิญประชุม",
        "action": "แจ้งกองช่าง",
        "note": "ด่วน",
        "secrecy": "",
    }
    response = client.post("/registers/receive", data=typed)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for name in ("ref_no", "letter_date", "recipient", "subject", "action", "note"):
        assert f'value="{typed[name]}"' in text, name
    assert 'value="กรมส่งเสริม &lt;การปกครองท้องถิ่น&gt;"' in text  # escaped, kept
    assert "ลงวันที่" in text
    assert app.extensions["archive"].received() == []


def test_corrections_are_audited_then_confirmed_fields_never_change(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    url = _take_in(app, client, csrf, _txt())
    archive = app.extensions["archive"]
    [record] = archive.received()
    form = {
        "csrf_token": csrf,
        "ref_no": "นค ๐๐๑๗/๙๙",
        "letter_date": "๑ ตุลาคม ๒๕๖๘",
        "sender": "จังหวัดขอนแก่น",
        "recipient": record.recipient,
        "subject": "เรื่องที่แก้แล้ว",
    }
    bad = client.post(url, data={**form, "letter_date": "ไม่ใช่วันที่", "subject": ""})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert 'value="ไม่ใช่วันที่"' in text and 'value="จังหวัดขอนแก่น"' in text
    assert "ต้องกรอก" in text
    assert client.post(url, data=form).status_code == 302
    corrected = archive.received_one(record.id)
    assert corrected.subject == "เรื่องที่แก้แล้ว" and corrected.sender == "จังหวัดขอนแก่น"
    assert corrected.letter_date.isoformat() == "2025-10-01"
    assert corrected.confirmed_at is None
    [event] = archive.events(actions=("received.correct",))
    assert event.actor == "clerk" and event.detail["after"]["subject"] == "เรื่องที่แก้แล้ว"
    assert client.post(url, data={**form, "confirm": "1"}).status_code == 302
    assert archive.received_one(record.id).confirmed_by == "clerk"
    assert client.post(url, data={**form, "subject": "แก้หลังยืนยัน"}).status_code == 409
    assert archive.received_one(record.id).subject == "เรื่องที่แก้แล้ว"
    page = client.get(url).get_data(as_text=True)
    assert "ยืนยันแล้ว" in page and 'name="subject"' not in page


def test_a_secret_received_letter_is_not_found_like_a_missing_one(app):
    cleared = app.test_client()
    csrf = login(cleared, "secret")
    url = _take_in(app, cleared, csrf, _txt(), secrecy="ลับ")
    assert cleared.get(url).status_code == 200
    assert cleared.get(url + "/original").status_code == 200
    clerk = app.test_client()
    login(clerk, "clerk")
    missing = "/received/zzzzzzzzzzzz"
    for path in ("", "/original", "/stamped"):
        hidden, absent = clerk.get(url + path), clerk.get(missing + path)
        assert hidden.status_code == absent.status_code == 404
        assert hidden.get_data() == absent.get_data()
    assert clerk.post(url, data={"csrf_token": "x"}).status_code in (400, 403, 404)
    register = clerk.get("/registers?kind=received").get_data(as_text=True)
    assert url not in register


def test_the_api_takes_a_file_and_answers_a_job_then_the_record(app):
    import io

    users = app.extensions["test_users"]
    keys = tokens(app, users)
    client = app.test_client()
    headers = bearer(keys["clerk"])
    no_file = client.post("/api/v1/received", headers=headers, data={"register": UNIT})
    assert no_file.status_code == 400 and no_file.get_json()["error"].startswith("file:")
    wrong = client.post(
        "/api/v1/received",
        headers=headers,
        data={"register": "ไม่มี", "file": (io.BytesIO(_txt()), "a.txt")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 404
    started = client.post(
        "/api/v1/received",
        headers=headers,
        data={"register": UNIT, "file": (io.BytesIO(_txt()), "a.txt")},
        content_type="multipart/form-data",
    )
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    _wait(app, body["job"]["id"])
    job = client.get(body["progress"], headers=headers).get_json()["job"]
    assert job["state"] == "done" and job["percent"] == 100
    public = job["result"]["received"]
    record = client.get(f"/api/v1/received/{public}", headers=headers).get_json()["received"]
    assert record["id"] == public and record["serial"] == 1 and record["confirmed"] is False
    [row] = app.extensions["archive"].received()
    assert record["letter_id"] != row.letter_id  # a public id, never the row number
    original = client.get(record["files"]["original"], headers=headers)
    assert original.status_code == 200 and original.data == _txt()
    again = client.post(
        "/api/v1/received",
        headers=headers,
        data={"register": UNIT, "file": (io.BytesIO(_txt()), "b.txt")},
        content_type="multipart/form-data",
    ).get_json()
    _wait(app, again["job"]["id"])
    result = client.get(again["progress"], headers=headers).get_json()["job"]["result"]
    assert result["duplicate"] == public


@pytest.mark.pdf
def test_a_pdf_upload_has_a_stamped_copy_to_download(app, tmp_path):
    import scancorpus

    client = app.test_client()
    csrf = login(client, "clerk")
    pdf = scancorpus._rendered_pdf(STEM)
    url = _take_in(app, client, csrf, pdf, name="letter.pdf")
    page = client.get(url).get_data(as_text=True)
    assert "ฉบับประทับตรารับ" in page
    stamped = client.get(url + "/stamped")
    assert stamped.status_code == 200 and stamped.data.startswith(b"%PDF-")
    assert stamped.data != pdf
    assert client.get(url + "/original").data == pdf


def test_serve_watches_the_inbox_folder_in_the_background(tmp_path):
    from saraban.service import close_app
    from saraban.service._inbox import start_watching

    off = make_app(tmp_path / "off", SARABAN_INBOX_WATCH="0")
    try:
        assert start_watching(off) is None
    finally:
        close_app(off)
    app = make_app(tmp_path / "home", SARABAN_INBOX_WATCH="1")
    add_unit(app)
    inbox = tmp_path / "home" / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "letter.txt").write_bytes(_txt())
    stop = start_watching(app)
    try:
        done = inbox / "done" / "letter.txt"  # moved there once the letter is kept
        deadline = time.monotonic() + 120
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        [record] = app.extensions["archive"].received()
        assert record.serial == 1 and record.letter_id is not None
        assert done.exists()
    finally:
        stop.set()
        close_app(app)


def test_the_inbox_waits_for_a_register_when_there_are_several(tmp_path):
    from saraban.service import close_app
    from saraban.service._inbox import look_once

    app = make_app(tmp_path / "home", SARABAN_INBOX_WATCH="0")
    add_unit(app)
    app.extensions["archive"].add_register("ทะเบียนที่สอง", actor="tester")
    inbox = tmp_path / "home" / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "letter.txt").write_bytes(_txt())
    try:
        assert look_once(app) is None
        assert (inbox / "letter.txt").exists() and app.extensions["archive"].received() == []
    finally:
        close_app(app)


def test_a_bad_inbox_setting_is_refused_naming_it(tmp_path):
    from saraban.errors import SarabanError
    from saraban.settings import Settings

    with pytest.raises(SarabanError, match="SARABAN_INBOX_WATCH"):
        Settings.from_mapping({"SARABAN_INBOX_WATCH": "often"})
    assert Settings.from_mapping({}).inbox_watch == 30


def _route(client, csrf, url, *to, note="โปรดดำเนินการ", due=""):
    return client.post(
        url + "/route", data={"csrf_token": csrf, "to": list(to), "note": note, "due": due}
    )


def test_route_to_two_people_through_the_pages_one_marks_it_done(app):
    store = app.extensions["saraban_store"]
    for name in ("somchai", "somsri"):
        store.add_user(name, "correct horse battery", role="clerk")
    clerk = app.test_client()
    csrf = login(clerk, "clerk")
    url = _take_in(app, clerk, csrf, _txt())
    bad = _route(clerk, csrf, url, "somchai", due="ไม่ใช่วัน")
    assert bad.status_code == 400
    assert 'value="ไม่ใช่วัน"' in bad.get_data(as_text=True)
    assert _route(clerk, csrf, url, "somchai", "somsri", due="๑ มกราคม ๒๕๖๘").status_code == 302
    page = clerk.get(url).get_data(as_text=True)
    assert "somchai" in page and "somsri" in page and "เลยกำหนด" in page
    somchai = app.test_client()
    their_csrf = login(somchai, "somchai")
    box = somchai.get("/inbox").get_data(as_text=True)
    assert f'href="{url}"' in box and "เลยกำหนด" in box and "โปรดดำเนินการ" in box
    done = somchai.post(url + "/done", data={"csrf_token": their_csrf, "next": "inbox"})
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    assert f'href="{url}"' not in somchai.get("/inbox").get_data(as_text=True)
    assert f'href="{url}"' in somchai.get("/inbox?done=1").get_data(as_text=True)
    again = somchai.post(url + "/done", data={"csrf_token": their_csrf})
    assert again.status_code == 409
    page = clerk.get(url).get_data(as_text=True)
    assert "ดำเนินการแล้ว" in page and "รอดำเนินการ" in page


def test_acting_for_through_the_inbox_page(app):
    import datetime as dt

    from saraban.thai import thai_date

    store = app.extensions["saraban_store"]
    for name in ("somchai", "somsri"):
        store.add_user(name, "correct horse battery", role="clerk")
    clerk = app.test_client()
    csrf = login(clerk, "clerk")
    url = _take_in(app, clerk, csrf, _txt())
    _route(clerk, csrf, url, "somchai")
    somchai = app.test_client()
    c1 = login(somchai, "somchai")
    today = dt.date.today()
    form = {
        "csrf_token": c1,
        "delegate": "somsri",
        "from": thai_date(today),
        "to": thai_date(today),
    }
    assert somchai.post("/inbox/delegate", data=form).status_code == 302
    somsri = app.test_client()
    c2 = login(somsri, "somsri")
    box = somsri.get("/inbox").get_data(as_text=True)
    assert f'href="{url}"' in box and "รักษาการแทน somchai" in box
    assert somsri.post(url + "/done", data={"csrf_token": c2}).status_code == 302
    [event] = app.extensions["archive"].events(actions=("received.done",))
    assert event.actor == "somsri แทน somchai"
    # someone else's inbox cannot be handed over by a clerk
    other = {**form, "csrf_token": c2, "delegator": "clerk", "delegate": "somsri"}
    somsri.post("/inbox/delegate", data=other)
    assert all(d.delegator == "somchai" for d in app.extensions["archive"].delegations())


def test_a_secret_letter_is_not_offered_or_routed_to_the_uncleared(app):
    cleared = app.test_client()
    csrf = login(cleared, "secret")
    url = _take_in(app, cleared, csrf, _txt(), secrecy="ลับ")
    page = cleared.get(url).get_data(as_text=True)
    assert 'value="clerk"' not in page and 'value="secret"' in page
    refused = _route(cleared, csrf, url, "clerk")
    assert refused.status_code == 400 and "ชั้นความลับ" in refused.get_data(as_text=True)
    clerk = app.test_client()
    c = login(clerk, "clerk")
    for action in ("route", "order", "done"):
        hidden = clerk.post(f"{url}/{action}", data={"csrf_token": c, "to": "clerk"})
        missing = clerk.post(f"/received/zzzzzzzzzzzz/{action}", data={"csrf_token": c})
        assert hidden.status_code == missing.status_code == 404
        assert hidden.get_data() == missing.get_data()


def test_routing_through_the_api(app):
    import io

    store = app.extensions["saraban_store"]
    for name in ("somchai", "somsri"):
        store.add_user(name, "correct horse battery", role="clerk")
    users = {u.name: u for u in store.users()}
    keys = tokens(app, users)
    client = app.test_client()
    clerk = bearer(keys["clerk"])
    started = client.post(
        "/api/v1/received",
        headers=clerk,
        data={"register": UNIT, "file": (io.BytesIO(_txt()), "a.txt")},
        content_type="multipart/form-data",
    ).get_json()
    _wait(app, started["job"]["id"])
    job = client.get(started["progress"], headers=clerk).get_json()["job"]
    public = job["result"]["received"]
    base = f"/api/v1/received/{public}"
    bad = client.post(base + "/route", headers=clerk, json={"to": "nobody"})
    assert bad.status_code == 400 and "nobody" in bad.get_json()["error"]
    routed = client.post(
        base + "/route",
        headers=clerk,
        json={"to": ["somchai", "somsri"], "note": "ดำเนินการ", "due": "2025-01-01"},
    )
    assert routed.status_code == 201
    assert {r["received_id"] for r in routed.get_json()["routings"]} == {public}
    assert all("id" not in r for r in routed.get_json()["routings"])
    box = client.get("/api/v1/inbox", headers=bearer(keys["somchai"])).get_json()
    assert box["total"] == 1 and box["items"][0]["late"] is True
    assert box["items"][0]["received"]["id"] == public
    done = client.post(base + "/done", headers=bearer(keys["somchai"]), json={})
    assert done.status_code == 200 and done.get_json()["routing"]["status"] == "ดำเนินการแล้ว"
    again = client.post(base + "/done", headers=bearer(keys["somchai"]), json={})
    assert again.status_code == 409
    assert client.get("/api/v1/inbox", headers=bearer(keys["somchai"])).get_json()["total"] == 0
    order = client.post(base + "/order", headers=clerk, json={"order": "ทราบ"})
    assert order.status_code == 201  # kept (a TXT letter has no page to print it on)
    assert app.extensions["archive"].orders_of(app.extensions["archive"].received()[0].id)


def test_the_received_filter_finds_letters_taken_in_from_files(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    url = _take_in(app, client, csrf, _txt())
    app.extensions["saraban_search"].sync_now()
    record = app.extensions["archive"].received()[0]
    letter = app.extensions["archive"].get(record.letter_id)
    found = client.get("/search?q=จิตอาสา&direction=received").get_data(as_text=True)
    assert letter.public_id in found and "หนังสือรับ" in found
    sent_only = client.get("/search?q=จิตอาสา&direction=sent").get_data(as_text=True)
    assert letter.public_id not in sent_only
    assert url  # (the received page itself is tested above)


def test_the_dashboard_counts_received_letters_waiting(app):
    store = app.extensions["saraban_store"]
    store.add_user("somchai", "correct horse battery", role="clerk")
    clerk = app.test_client()
    csrf = login(clerk, "clerk")
    url = _take_in(app, clerk, csrf, _txt())
    secret_user = app.test_client()
    c2 = login(secret_user, "secret")
    secret_url = _take_in(app, secret_user, c2, _txt(OTHER), secrecy="ลับ")
    _route(clerk, csrf, url, "clerk", due="๑ มกราคม ๒๕๖๘")
    _route(secret_user, c2, secret_url, "secret")
    page = clerk.get("/").get_data(as_text=True)
    counts = re.sub(r"\s+", " ", page)
    assert "รอท่านดำเนินการ <strong>๑</strong> ฉบับ" in counts and "เลยกำหนด ๑" in counts
    assert "รอดำเนินการทั้งสำนักงาน ๑ ฉบับ" in counts  # the secret one is not counted
    assert "รอตรวจข้อมูล ๑ ฉบับ" in counts
    cleared = re.sub(r"\s+", " ", secret_user.get("/").get_data(as_text=True))
    assert "รอดำเนินการทั้งสำนักงาน ๒ ฉบับ" in cleared and "รอตรวจข้อมูล ๒ ฉบับ" in cleared


def test_a_file_that_cannot_be_read_says_why_and_keeps_nothing(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    response = _upload(client, csrf, b"%PDF-1.7 not really a pdf", name="broken.pdf")
    job_url = response.headers["Location"]
    job = _wait(app, job_url.rsplit("/", 1)[1])
    assert job.state == "failed" and "broken.pdf" in job.error
    page = client.get(job_url)
    assert page.status_code == 200 and "ลงรับไม่ได้" in page.get_data(as_text=True)
    assert app.extensions["archive"].received() == []
    assert not any((Path(app.config["SARABAN_HOME"]) / "intake").iterdir())  # upload removed
    other = app.test_client()
    login(other, "secret")
    assert other.get(job_url).status_code == 404  # another user's job is not theirs to see


def test_a_damaged_heic_upload_says_why_without_the_servers_folder(app, tmp_path):
    import numpy as np
    import scancorpus

    whole = scancorpus.write_heic(np.full((300, 200, 3), 255, np.uint8), tmp_path / "w.heic")
    client = app.test_client()
    csrf = login(client, "clerk")
    cut = whole.read_bytes()[: whole.stat().st_size // 2]
    response = _upload(client, csrf, cut, name="IMG_0004.HEIC")
    job = _wait(app, response.headers["Location"].rsplit("/", 1)[1])
    assert job.state == "failed" and "IMG_0004.HEIC: เปิดภาพไม่ได้" in job.error
    assert app.config["SARABAN_HOME"] not in job.error and "/tmp" not in job.error
    assert app.extensions["archive"].received() == []


def test_a_heic_original_is_downloaded_as_heic(app, tmp_path):
    import hashlib

    import numpy as np
    import scancorpus

    from saraban.usecases import intake

    photo = scancorpus.write_heic(np.full((300, 200, 3), 255, np.uint8), tmp_path / "p.heic")
    data = photo.read_bytes()
    reading = intake.Reading(
        "IMG_0005.HEIC", hashlib.sha256(data).hexdigest(), "ocr", "", {"subject": "ภาพถ่าย"}, [], []
    )
    archive = app.extensions["archive"]
    taken = intake.store_received(archive, reading, data, register=UNIT, actor="clerk")
    client = app.test_client()
    login(client, "clerk")
    response = client.get(f"/received/{taken.received.public_id}/original")
    assert response.status_code == 200 and response.data == data
    assert response.mimetype == "image/heic"
    assert ".heic" in response.headers["Content-Disposition"]


# ---- the stamp's place, what answered it, units, delegations ----------------------------------


@pytest.mark.pdf
def test_the_stamp_moves_by_a_click_on_page_one_or_typed_millimetres(app, tmp_path):
    import scancorpus
    import test_stamp

    from saraban.usecases import routing

    archive = app.extensions["archive"]
    client = app.test_client()
    csrf = login(client, "clerk")
    pdf = scancorpus._rendered_pdf(STEM)
    url = _take_in(app, client, csrf, pdf, name="letter.pdf")
    page = client.get(url).get_data(as_text=True)
    assert 'type="image" name="at"' in page and 'name="left_mm"' in page
    picture = client.get(url + "/page.png")
    assert picture.status_code == 200 and picture.data.startswith(b"\x89PNG")
    # a click 30 px from the left, 200 px down a picture 300 px wide (A4: 0.7 mm a pixel)
    moved = client.post(url + "/stamp", data={"csrf_token": csrf, "at.x": "30", "at.y": "200"})
    assert moved.status_code == 302
    public = url.rsplit("/", 1)[1]
    record = archive.received_one(archive.received_id_for(public))
    assert archive.stamp_position(record.id) == (21.0, 140.0)
    stamped = archive.files.read(record.stamped_sha256)
    [label] = [w for w in test_stamp._words(stamped, tmp_path) if w[4] == "เลขรับที่"]
    mm = 72 / 25.4
    assert 21 * mm < label[0] < 31 * mm and 140 * mm < label[1] < 152 * mm
    assert client.get(url + "/original").data == pdf  # the received file never changes
    [event] = archive.events(actions=("received.stamp",))[:1]
    assert event.detail["left_mm"] == 21.0 and event.actor == "clerk"
    # an order written later is printed on a copy with the stamp where the clerk put it
    routing.write_order(archive, record.id, "ทราบ", actor="admin", clearance=None)
    again = archive.received_one(record.id)
    [label] = [
        w
        for w in test_stamp._words(archive.files.read(again.stamped_sha256), tmp_path)
        if w[4] == "เลขรับที่"
    ]
    assert 21 * mm < label[0] < 31 * mm
    typed = client.post(url + "/stamp", data={"csrf_token": csrf, "left_mm": "ซ้าย", "top_mm": "5"})
    assert typed.status_code == 400 and "ต้องเป็นตัวเลข" in typed.get_data(as_text=True)
    keys = tokens(app, app.extensions["test_users"])
    api = client.post(
        f"/api/v1/received/{public}/stamp",
        headers=bearer(keys["clerk"]),
        json={"left_mm": 120, "top_mm": 10},
    )
    assert api.status_code == 200 and archive.stamp_position(record.id) == (120.0, 10.0)
    bad = client.post(
        f"/api/v1/received/{public}/stamp", headers=bearer(keys["clerk"]), json={"left_mm": "1"}
    )
    assert bad.status_code == 400


def test_a_hidden_letter_has_no_stamp_picture_or_move(app):
    archive = app.extensions["archive"]
    got = archive.receive(
        UNIT, sender="กรม", recipient="จังหวัด", subject="ลับ", secrecy="ลับ", actor="tester"
    )
    client = app.test_client()
    csrf = login(client, "clerk")
    assert client.get(f"/received/{got.public_id}/page.png").status_code == 404
    moved = client.post(
        f"/received/{got.public_id}/stamp", data={"csrf_token": csrf, "left_mm": "1", "top_mm": "1"}
    )
    assert moved.status_code == 404


def test_what_answered_it_links_both_ways_and_skips_hidden_letters(app):
    import datetime as dt

    from test_service_support import seed_letter, store_letter

    archive = app.extensions["archive"]
    asked = archive.receive(
        UNIT, sender="กรมการพัฒนาชุมชน", recipient="จังหวัด", subject="ขอข้อมูลศูนย์จิตอาสา",
        ref_no="มท ๐๔๑๐.๒/ว ๑๒๓", letter_date=dt.date(2025, 10, 1), actor="tester",
    )  # fmt: skip
    cite = "หนังสือกรมการพัฒนาชุมชน ที่ มท ๐๔๑๐.๒/ว ๑๒๓ ลงวันที่ ๑ ตุลาคม ๒๕๖๘"
    open_reply = store_letter(
        app,
        {
            **seed_letter(),
            "subject": "ส่งข้อมูลศูนย์จิตอาสา",
            "ref_no": "นค ๐๐๑๙.๓/๕๐",
            "references": [cite],
        },
    )
    secret_reply = store_letter(
        app,
        {
            **seed_letter(),
            "subject": "ส่งข้อมูลลับเพิ่มเติม",
            "ref_no": "นค ๐๐๑๙.๓/๕๑",
            "references": [cite],
            "secrecy": "ลับ",
        },
    )
    clerk, secret = app.test_client(), app.test_client()
    login(clerk, "clerk")
    login(secret, "secret")
    page = clerk.get(f"/received/{asked.public_id}").get_data(as_text=True)
    assert "หนังสือที่ตอบเรื่องนี้" in page and f"/letters/{open_reply.public_id}" in page
    assert secret_reply.public_id not in page and "ส่งข้อมูลลับ" not in page
    page = secret.get(f"/received/{asked.public_id}").get_data(as_text=True)
    assert secret_reply.public_id in page
    # a letter of ours: the received letters that answer it
    answer = archive.receive(
        UNIT, sender="อำเภอเมือง", recipient="จังหวัด", subject="รายงานผลศูนย์จิตอาสา",
        answers_id=open_reply.id, actor="tester",
    )  # fmt: skip
    hidden = archive.receive(
        UNIT, sender="อำเภอท่าบ่อ", recipient="จังหวัด", subject="รายงานลับ",
        answers_id=open_reply.id, secrecy="ลับ", actor="tester",
    )  # fmt: skip
    page = clerk.get(f"/letters/{open_reply.public_id}").get_data(as_text=True)
    assert "หนังสือรับที่ตอบเรื่องนี้" in page and f"/received/{answer.public_id}" in page
    assert hidden.public_id not in page and "รายงานลับ" not in page
    assert hidden.public_id in secret.get(f"/letters/{open_reply.public_id}").get_data(as_text=True)
    keys = tokens(app, app.extensions["test_users"])
    got = clerk.get(f"/api/v1/received/{asked.public_id}", headers=bearer(keys["clerk"]))
    assert [a["id"] for a in got.get_json()["answered_by"]] == [open_reply.public_id]
    got = clerk.get(f"/api/v1/letters/{open_reply.public_id}", headers=bearer(keys["clerk"]))
    assert [a["id"] for a in got.get_json()["answered_by"]] == [answer.public_id]


def test_a_unit_gets_a_letter_in_its_members_inboxes_and_a_delegation_is_revoked(app):
    archive = app.extensions["archive"]
    got = archive.receive(UNIT, sender="กรม", recipient="จังหวัด", subject="เรื่องถึงกอง", actor="t")
    archive.add_member(UNIT, "clerk", actor="admin")
    archive.add_member(UNIT, "secret", actor="admin")
    admin = app.test_client()
    csrf = login(admin, "admin")
    page = admin.get(f"/received/{got.public_id}").get_data(as_text=True)
    assert 'name="units"' in page
    routed = admin.post(
        f"/received/{got.public_id}/route", data={"csrf_token": csrf, "units": UNIT, "note": "ดู"}
    )
    assert routed.status_code == 302
    clerk, secret = app.test_client(), app.test_client()
    clerk_csrf = login(clerk, "clerk")
    login(secret, "secret")
    for member in (clerk, secret):
        assert "เรื่องถึงกอง" in member.get("/inbox").get_data(as_text=True)
    done = clerk.post(
        f"/received/{got.public_id}/done", data={"csrf_token": clerk_csrf, "next": "inbox"}
    )
    assert done.status_code == 302
    assert "เรื่องถึงกอง" not in secret.get("/inbox").get_data(as_text=True)
    # delegation: given in the page, revoked in the page by the one who gave it
    given = clerk.post(
        "/inbox/delegate",
        data={
            "csrf_token": clerk_csrf,
            "delegate": "secret",
            "from": "๑ ม.ค. ๒๕๖๘",
            "to": "๓๑ ธ.ค. ๒๕๙๙",
        },
    )
    assert given.status_code == 302
    [made] = archive.delegations("clerk")
    assert f"/inbox/delegations/{made.id}/revoke" in clerk.get("/inbox").get_data(as_text=True)
    keys = tokens(app, app.extensions["test_users"])
    refused = clerk.post(
        f"/api/v1/delegations/{made.id}/revoke", headers=bearer(keys["topsecret"]), json={}
    )
    assert refused.status_code == 409
    revoked = clerk.post(f"/inbox/delegations/{made.id}/revoke", data={"csrf_token": clerk_csrf})
    assert revoked.status_code == 302 and archive.delegation(made.id).revoked_at is not None
    listed = clerk.get("/api/v1/delegations", headers=bearer(keys["clerk"])).get_json()
    assert listed["total"] == 1 and listed["items"][0]["revoked_at"]
    made = clerk.post(
        "/api/v1/delegations",
        headers=bearer(keys["clerk"]),
        json={"delegate": "secret", "from": "2026-01-01", "to": "2026-01-31"},
    )
    assert made.status_code == 201
    other = clerk.post(
        "/api/v1/delegations",
        headers=bearer(keys["clerk"]),
        json={"delegator": "secret", "delegate": "clerk", "from": "2026-01-01", "to": "2026-01-31"},
    )
    assert other.status_code == 403


def test_intake_progress_is_shown_by_any_serving_process_and_old_uploads_are_cleaned(tmp_path):
    """Two apps on one instance are two processes of ``serve --workers 2``: an upload
    started in one is followed to its end from the other; the watched folder's look is a
    job any process shows on the received register (counts only, no file names)."""
    import os

    from saraban.service import close_app
    from saraban.service._inbox import look_once

    home = tmp_path / "home"
    one = make_app(home)
    add_unit(one)
    users = add_users(one)
    two = make_app(home)
    try:
        stale = home / "intake" / "0123456789abcdef"
        stale.mkdir(parents=True)
        (stale / "upload.txt").write_bytes(b"left by a process that died")
        os.utime(stale, (time.time() - 3 * 86400,) * 2)
        here, there = one.test_client(), two.test_client()
        csrf = login(here, "clerk")
        login(there, "clerk")
        upload = _upload(here, csrf, _txt())
        job_url = upload.headers["Location"]
        assert not stale.exists()  # an old upload's folder is gone; this one's is kept
        job_id = job_url.rsplit("/", 1)[1]
        assert job_id not in two.extensions["saraban_jobs"]._jobs  # not in its memory
        deadline = time.monotonic() + 120
        while (seen := there.get(job_url)).status_code == 200:
            assert "ลงรับ" in seen.get_data(as_text=True)
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert seen.status_code == 302 and "/received/" in seen.headers["Location"]
        keys = tokens(two, {"clerk": users["clerk"], "admin": users["admin"]})
        polled = there.get(f"/api/v1/jobs/{job_id}", headers=bearer(keys["clerk"]))
        assert polled.get_json()["job"]["state"] == "done"
        assert there.get(f"/api/v1/jobs/{job_id}", headers=bearer(keys["admin"])).status_code == 200
        assert not any((home / "intake").iterdir())

        # the watched folder: a look in one process is a job the other one knows of
        (home / "inbox").mkdir(exist_ok=True)
        (home / "inbox" / "ลับเฉพาะ-ชื่อไฟล์.txt").write_bytes(_txt(OTHER))
        result = look_once(one)
        assert len(result.taken) == 1
        deadline = time.monotonic() + 30
        while (found := two.extensions["saraban_jobs"].latest("inbox")) is None or (
            found.state == "running"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert found.result == {"taken": 1, "duplicates": 0, "failed": 0}
        assert "ลับเฉพาะ" not in (found.message + found.title)
    finally:
        close_app(two)
        close_app(one)


def test_the_received_register_shows_the_folder_intake_running_in_another_process(app):
    import threading

    jobs = app.extensions["saraban_jobs"]
    go = threading.Event()

    def work(job):
        job.advance(3, 10, "รับจากโฟลเดอร์แล้ว 3 จาก 10 ไฟล์")
        go.wait(30)
        return {}

    from saraban.service._inbox import INBOX_JOB, SYSTEM_OWNER

    jobs.start(INBOX_JOB, SYSTEM_OWNER, "รับหนังสือจากโฟลเดอร์ inbox", work)
    try:
        client = app.test_client()
        login(client, "clerk")
        page = client.get("/registers?kind=received").get_data(as_text=True)
        assert 'id="inbox-progress"' in page and "๓ จาก ๑๐ ไฟล์ (๓๐%)" in page
    finally:
        go.set()


def test_files_not_taken_in_are_listed_for_a_cleared_admin_and_tried_again(app, tmp_path):
    from test_service_support import PASSWORD

    from saraban.usecases import intake

    dropped = "<img src=x onerror=alert(1)>ไม่มีแนบ.eml"
    inbox = tmp_path / "home" / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / dropped).write_bytes(b"Subject: x\r\n\r\nno files\r\n")
    intake.consume_inbox(app.extensions["archive"], inbox, register=UNIT)
    app.extensions["saraban_store"].add_user("chief", PASSWORD, role="admin", clearance="ลับที่สุด")

    plain = app.test_client()  # an administrator not cleared for every level: a count
    csrf = login(plain, "admin")
    page = plain.get("/admin/").get_data(as_text=True)
    assert "มีไฟล์ที่รับไม่ได้ ๑ ไฟล์" in page and "ไม่มีแนบ" not in page
    refused = plain.post("/admin/intake/retry", data={"name": dropped, "csrf_token": csrf})
    assert refused.status_code == 404
    assert (inbox / "failed" / dropped).exists()

    chief = app.test_client()
    csrf = login(chief, "chief")
    page = chief.get("/admin/").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;ไม่มีแนบ.eml" in page and "<img src=x" not in page
    assert "no attachment to take in" in page
    for hostile in ("../home/saraban.sqlite3", "", ".eml.txt", "x\0.eml"):
        chief.post("/admin/intake/retry", data={"name": hostile, "csrf_token": csrf})
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == [
        dropped,
        dropped + ".txt",
    ]
    done = chief.post("/admin/intake/retry", data={"name": dropped, "csrf_token": csrf})
    assert done.status_code == 302
    assert (inbox / dropped).exists()
    assert list((inbox / "failed").iterdir()) == []
    assert "ไม่มีไฟล์ที่รับไม่ได้" in chief.get("/admin/").get_data(as_text=True)
    [event] = [e for e in app.extensions["archive"].events(limit=5) if e.action == "intake.retry"]
    assert event.actor == "chief"


def test_the_files_that_came_with_an_emailed_letter_are_listed_and_downloaded(app, tmp_path):
    """A secret letter e-mailed with a form and a spreadsheet under a hostile name: the
    cleared clerk sees both files (names as text) on the received and letter pages and in
    the API, downloads them as they came, and the e-mail's own words last, and finds the
    letter by the form's words; an uncleared clerk gets the "not found" of a letter that
    does not exist."""
    import email.message

    from saraban.usecases import intake

    hostile = '<img src=x onerror=alert(1)>"ตาราง.xlsx'
    form = "แบบรายงานการเลี้ยงปลานิลในกระชัง\nลำดับ หมู่บ้าน จำนวนกระชัง\n".encode()
    mail = email.message.EmailMessage()
    mail["From"] = "district@example.go.th"
    mail.set_content("ส่งหนังสือมาตามแนบ\n</pre><script>alert(1)</script>")
    for name, data in (("letter.txt", _txt()), ("form.txt", form), (hostile, b"PK\x03\x04")):
        mail.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    inbox = tmp_path / "home" / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "m.eml").write_bytes(mail.as_bytes())
    archive = app.extensions["archive"]
    [taken] = intake.consume_inbox(archive, inbox, register=UNIT, secrecy="ลับ").taken
    letter = archive.get(taken.letter_id)
    files_url = f"/letters/{letter.public_id}/files"

    cleared = app.test_client()
    login(cleared, "secret")
    for page in (f"/received/{taken.received.public_id}", f"/letters/{letter.public_id}"):
        html = cleared.get(page).get_data(as_text=True)
        assert "ไฟล์ที่มากับหนังสือ (๓ ไฟล์)" in html and "ข้อความในอีเมล.txt" in html
        assert "&lt;img src=x onerror=alert(1)&gt;&#34;ตาราง.xlsx" in html
        assert "<img src=x" not in html and f'href="{files_url}/2"' in html
        # the text files' words on the page, as text (the form, then the e-mail's own)
        previews = re.findall(r'<details class="text-preview">.*?</details>', html, re.S)
        assert len(previews) == 2 and "ปลานิลในกระชัง" in previews[0]
        assert "ส่งหนังสือมาตามแนบ\n&lt;/pre&gt;&lt;script&gt;" in previews[1]
        assert "<script>alert" not in html
    got = cleared.get(f"{files_url}/1")
    assert got.status_code == 200 and got.get_data() == form
    assert got.headers["Content-Disposition"].startswith(
        f'attachment; filename="letter-{letter.public_id}-file-1.txt"'
    )
    sheet = cleared.get(f"{files_url}/2")
    assert sheet.get_data() == b"PK\x03\x04" and "spreadsheetml" in sheet.content_type
    assert sheet.headers["X-Content-Type-Options"] == "nosniff"
    said = cleared.get(f"{files_url}/3")
    assert said.content_type == "text/plain; charset=utf-8"
    assert "จาก: district@example.go.th\n\nส่งหนังสือมาตามแนบ" in said.get_data(as_text=True)
    for beyond in ("0", "4", "99999999999999999999"):
        assert cleared.get(f"{files_url}/{beyond}").status_code == 404
    keys = tokens(app, app.extensions["test_users"])
    answer = cleared.get(f"/api/v1/letters/{letter.public_id}", headers=bearer(keys["secret"]))
    enclosed = answer.get_json()["letter"]["enclosed"]
    assert [f["name"] for f in enclosed] == ["form.txt", hostile, "ข้อความในอีเมล.txt"]
    assert cleared.get(enclosed[1]["url"], headers=bearer(keys["secret"])).get_data() == (
        b"PK\x03\x04"
    )
    received_json = cleared.get(
        f"/api/v1/received/{taken.received.public_id}", headers=bearer(keys["secret"])
    ).get_json()["received"]
    assert received_json["enclosed"] == enclosed
    app.extensions["saraban_search"].sync_now()
    assert letter.public_id in cleared.get("/search?q=ปลานิล").get_data(as_text=True)

    clerk = app.test_client()
    login(clerk, "clerk")
    for number in ("1", "2"):
        hidden = clerk.get(f"{files_url}/{number}")
        absent = clerk.get(f"/letters/zzzzzzzzzzzz/files/{number}")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.get_data() == absent.get_data()
    api = clerk.get(f"/api/v1/letters/{letter.public_id}/files/1", headers=bearer(keys["clerk"]))
    assert api.status_code == 404
    assert letter.public_id not in clerk.get("/search?q=ปลานิล").get_data(as_text=True)

    # a text file gone from the store (a disk restored badly): the page stands, without it
    archive.files.path(archive.enclosed_files(letter.id)[2].sha256).unlink()
    page = cleared.get(f"/letters/{letter.public_id}")
    assert page.status_code == 200 and page.get_data(as_text=True).count("text-preview") == 1


def test_files_handed_in_with_an_upload_are_kept_with_the_letter(app):
    """The receive form and the API take the letter's enclosures beside its file: kept
    with it, a PDF's text searchable with it; a kind saraban does not keep is refused
    before anything is read, naming the file as text."""
    import io

    client = app.test_client()
    csrf = login(client, "clerk")
    form = "แบบรายงานการเลี้ยงปลานิลในกระชัง".encode()
    refused = client.post(
        "/received",
        data={
            "csrf_token": csrf,
            "register": UNIT,
            "secrecy": "",
            "file": (io.BytesIO(_txt()), "letter.txt"),
            "enclosures": [(io.BytesIO(b"MZ"), "<b>setup<b>.exe")],
        },
        content_type="multipart/form-data",
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "enclosures: &lt;b&gt;setup&lt;b&gt;.exe" in page
    assert app.extensions["archive"].received() == []
    url = _take_in(
        app,
        client,
        csrf,
        _txt(),
        enclosures=[(io.BytesIO(form), "form.txt"), (io.BytesIO(b"PK\x03\x04"), "t.xlsx")],
    )
    html = client.get(url).get_data(as_text=True)
    assert "ไฟล์ที่มากับหนังสือ (๒ ไฟล์)" in html and "form.txt" in html and "t.xlsx" in html
    app.extensions["saraban_search"].sync_now()
    [record] = app.extensions["archive"].received()
    letter = app.extensions["archive"].get(record.letter_id)
    assert letter.public_id in client.get("/search?q=ปลานิล").get_data(as_text=True)

    keys = tokens(app, app.extensions["test_users"])
    started = client.post(
        "/api/v1/received",
        headers=bearer(keys["clerk"]),
        data={
            "register": UNIT,
            "file": (io.BytesIO(_txt(OTHER)), "b.txt"),
            "enclosures": [(io.BytesIO(b"a,b\n1,2\n"), "sum.csv")],
        },
        content_type="multipart/form-data",
    )
    assert started.status_code == 202, started.get_json()
    _wait(app, started.get_json()["job"]["id"])
    newest = max(app.extensions["archive"].received(), key=lambda r: r.serial)
    [kept] = app.extensions["archive"].enclosed_files(newest.letter_id)
    assert kept.name == "sum.csv" and kept.media_type.startswith("text/csv")
