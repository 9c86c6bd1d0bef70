"""The web service's pages: the factory and its settings, the one error shape, accounts
(login, CSRF, cookies, roles), drafting (form to document, lint beside each field, BE dates),
secrecy on every page, registers, import and forms. Real SQLite, real files, no rendering
(the tests that render PDFs are in test_service_pdf.py)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from test_service_support import (
    PASSWORD,
    SEEDS,
    UNIT,
    add_unit,
    add_users,
    csrf_of,
    draft_form,
    login,
    make_app,
    secret_letter,
    seed_letter,
    store_letter,
)

from saraban.errors import NotFound, SarabanError
from saraban.settings import SETTINGS


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


# ---- the factory and settings --------------------------------------------------------------


def test_factory_reads_the_test_config(tmp_path):
    from saraban.service import close_app, create_app

    app = create_app({"SARABAN_HOME": str(tmp_path / "h"), "SARABAN_MAX_UPLOAD_MB": "3"})
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["SESSION_COOKIE_SECURE"] is False
        assert (tmp_path / "h" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        close_app(app)


def test_factory_reads_the_environment(tmp_path, monkeypatch):
    from saraban.service import close_app, create_app

    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("SARABAN_SECURE_COOKIES", "1")
    monkeypatch.setenv("SARABAN_SECRET_KEY", "k" * 32)
    app = create_app()
    try:
        assert app.config["SARABAN_HOME"] == str((tmp_path / "env-home").resolve())
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SECRET_KEY"] == "k" * 32
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SARABAN_SECURE_COOKIES", "maybe"),
        ("SARABAN_MAX_UPLOAD_MB", "lots"),
        ("SARABAN_SECRET_KEY", "short"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable(tmp_path, name, value):
    from saraban.service import create_app

    with pytest.raises(SarabanError) as caught:
        create_app({"SARABAN_HOME": str(tmp_path), name: value})
    assert name in caught.value.message


def test_an_instance_folder_that_cannot_be_written_is_refused(tmp_path):
    from saraban.service import create_app

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # (tests may run as root: a mode bit would not stop it)
    with pytest.raises(SarabanError) as caught:
        create_app({"SARABAN_HOME": str(blocker / "instance")})
    assert "SARABAN_HOME" in caught.value.message


def test_every_service_setting_is_in_the_settings_table(app):
    """The service reads its settings from the one Settings object, whose fields are the
    documented table, each under its variable's name in the app's config."""
    from saraban.settings import Settings

    documented = {s.name for s in SETTINGS}
    assert set(Settings.from_mapping({}).as_mapping()) == documented
    assert documented <= set(app.config)


# ---- one error shape -------------------------------------------------------------------------


def test_the_error_shape_is_pinned(client):
    """Every API error, whatever raised it, is exactly {ok, error, status}."""
    cases = [
        client.get("/api/v1/letters"),  # no token: 401
        client.get("/api/v1/no-such-route"),  # 404 from the router
        client.delete("/api/v1/letters"),  # 405 from the router
    ]
    for response in cases:
        body = response.get_json()
        assert set(body) == {"ok", "error", "status"}
        assert body["ok"] is False
        assert body["status"] == response.status_code
        assert isinstance(body["error"], str) and body["error"]


def test_the_error_shape_is_saraban_errors_own():
    assert NotFound("ไม่พบ / not found").as_dict() == {
        "ok": False,
        "error": "ไม่พบ / not found",
        "status": 404,
    }


def test_a_page_error_is_a_thai_page(client):
    login(client, "clerk")
    response = client.get("/letters/zzzzzzzzzzzz")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "ไม่พบหนังสือที่ต้องการ" in response.get_data(as_text=True)


# ---- accounts --------------------------------------------------------------------------------


def test_pages_need_a_login(client):
    for path in ("/", "/letters", "/search", "/registers", "/imports", "/forms", "/letters/new"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_sets_a_secure_session_cookie(client):
    page = client.get("/login")
    token = csrf_of(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"name": "clerk", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    cookie = cookies["saraban_session"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # only with SARABAN_SECURE_COOKIES=1
    device = cookies["saraban_device"]  # the browser that signed in as this name before
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Path=/login" in device


def test_secure_cookies_when_configured(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "h", SARABAN_SECURE_COOKIES="1")
    add_users(app)
    try:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"name": "clerk", "password": PASSWORD, "csrf_token": token}
        )
        assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))
    finally:
        close_app(app)


def test_a_wrong_password_is_refused_in_thai(client):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"name": "clerk", "password": "wrong password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)


def test_the_login_form_needs_its_csrf_token(client):
    client.get("/login")
    response = client.post("/login", data={"name": "clerk", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_every_form_post_needs_the_csrf_token(app, client):
    login(client, "admin")
    draft = app.extensions["saraban_store"].create_draft(
        app.extensions["saraban_store"].user_by_name("admin").id, {"kind": "external"}, unit=None
    )
    posts = [
        "/letters/new",
        f"/drafts/{draft.public_id}",
        f"/drafts/{draft.public_id}/issue",
        f"/drafts/{draft.public_id}/delete",
        "/letters/1/cancel",
        "/registers/receive",
        "/imports",
        "/admin/users",
        "/admin/units",
        "/admin/reindex",
        "/logout",
        "/account",
    ]
    for path in posts:
        response = client.post(path, data={"name": "x"})
        assert response.status_code == 400, path
        wrong = client.post(path, data={"csrf_token": "forged"})
        assert wrong.status_code == 400, path


def test_too_many_failed_logins_are_refused(client):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for _ in range(10):
        client.post("/login", data={"name": "secret", "password": "nope", "csrf_token": token})
    response = client.post(
        "/login", data={"name": "secret", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429


def test_logins_are_in_the_audit_chain(app, client):
    login(client, "clerk")
    actions = [(e.actor, e.action) for e in app.extensions["archive"].events()]
    assert ("clerk", "user.login") in actions
    assert app.extensions["archive"].verify() == []


def test_the_next_parameter_stays_on_this_site(client):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={
            "name": "clerk",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_a_clerk_cannot_open_administration(client):
    login(client, "clerk")
    assert client.get("/admin/").status_code == 403


def test_an_admin_adds_a_user_but_mints_no_token_for_them(app, client):
    csrf = login(client, "secret")  # a clerk cleared for ลับ, made admin for this test
    store = app.extensions["saraban_store"]
    store.update_user(store.user_by_name("secret").id, role="admin")
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "name": "newclerk",
            "password": "a good password",
            "repeat_password": "a good password",
            "role": "clerk",
            "clearance": "ลับ",
        },
    )
    assert response.status_code == 302
    user = store.user_by_name("newclerk")
    assert user.clearance == "ลับ"
    page = client.post(
        "/admin/tokens", data={"csrf_token": csrf, "user_id": str(user.id), "label": "ระบบ A"}
    )
    assert page.status_code in (404, 405)
    assert store.tokens(user.id) == []


def test_password_change_needs_the_old_one(client):
    csrf = login(client, "clerk")
    response = client.post(
        "/account",
        data={
            "csrf_token": csrf,
            "current_password": "wrong",
            "new_password": "new password 1",
            "repeat_password": "new password 1",
        },
    )
    assert response.status_code == 400
    assert "รหัสผ่านเดิมไม่ถูกต้อง" in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_font_is_served_from_the_package(client):
    with client.get("/fonts/Sarabun-Regular.ttf") as response:
        assert response.status_code == 200
        assert response.data[:4] == b"\x00\x01\x00\x00"
    with client.get("/fonts/secret_key") as response:
        assert response.status_code == 404


def test_no_page_fetches_from_the_internet(client):
    login(client, "admin")
    for path in ("/", "/letters/new", "/search", "/registers", "/imports", "/forms", "/admin/"):
        html = client.get(path).get_data(as_text=True)
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), path
        assert "https://" not in html, path
    with client.get("/static/saraban.css") as response:
        css = response.get_data(as_text=True)
    with client.get("/static/saraban.js") as response:
        js = response.get_data(as_text=True)
    assert "http" not in css and "http" not in js


# ---- drafting --------------------------------------------------------------------------------


def _stored_draft(app, public_id):
    """The draft a page names by its public id, as the store keeps it (None: gone)."""
    store = app.extensions["saraban_store"]
    row = store.draft_id_for(public_id)
    return None if row is None else store.draft(row)


def _new_draft(client, csrf, kind="external"):
    response = client.post(
        "/letters/new", data={"csrf_token": csrf, "kind": kind, "circular": "1", "unit": UNIT}
    )
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[1]


def test_a_new_draft_starts_with_the_units_parts(app, client):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    draft = _stored_draft(app, draft_id)
    assert draft.unit == UNIT
    assert draft.doc["sender"]["name"] == "ศาลากลางจังหวัดหนองคาย"
    assert draft.doc["signer"]["name"] == "นายไพโรจน์ โสภาพร"
    assert draft.doc["circular"] is True
    page = client.get(f"/drafts/{draft_id}").get_data(as_text=True)
    assert "นายอำเภอ ทุกอำเภอ" in page  # the address book
    assert 'data-field="subject"' in page


def test_autosave_builds_the_document_and_places_findings(app, client):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    form = draft_form(csrf)
    form["references"] = ["", *form["references"]]  # an empty row first: dropped
    form["signer.name"] = ""
    response = client.post(f"/drafts/{draft_id}", data=form, headers={"Accept": "application/json"})
    body = response.get_json()
    assert body["ok"] is True
    doc = _stored_draft(app, draft_id).doc
    assert len(doc["references"]) == 2
    assert doc["enclosures"][2] == {"title": "แผนที่", "quantity": "๑ แผ่น"}
    assert doc["body"][1] == {"items": ["แจ้งผู้เข้าร่วมประชุม", "ส่งแบบตอบรับ (สิ่งที่ส่งมาด้วย ๒)"]}
    errors = {p["form_field"]: p for p in body["errors"]}
    assert errors["signer.name"]["code"] == "required"
    assert "ต้องระบุ" in errors["signer.name"]["th"]
    assert body["preview"].startswith(f"/drafts/{draft_id}/preview.pdf")


def test_a_finding_about_a_row_points_at_the_row_typed(client):
    from werkzeug.datastructures import MultiDict

    from saraban.service._letter_form import letter_from_form

    form = MultiDict(draft_form("x"))
    form.setlist("references", ["", "", "หนังสือ ที่ นค ๐๐๑๙.๓/๑"])
    parsed = letter_from_form(form)
    assert parsed.doc["references"] == ["หนังสือ ที่ นค ๐๐๑๙.๓/๑"]
    assert parsed.form_path("references.0") == "references.2"
    assert parsed.form_path("body.1.items.1") == "body.1.items.1"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("15/12/2025", "ce_year"),
        ("15 ธันวาคม 2025", "ce_year"),
        ("2025-12-15", "ce_year"),
        ("31/2/2568", "impossible_date"),
        ("เมื่อวาน", "unreadable"),
    ],
)
def test_a_date_in_ce_is_caught_not_shifted(app, client, typed, code):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    body = client.post(
        f"/drafts/{draft_id}",
        data=draft_form(csrf, date=typed),
        headers={"Accept": "application/json"},
    ).get_json()
    dates = [p for p in body["errors"] if p["form_field"] == "date"]
    assert [p["code"] for p in dates] == [code]
    draft = _stored_draft(app, draft_id)
    assert draft.doc["date"] is None and draft.date_text == typed
    if code == "ce_year":
        assert "พ.ศ." in dates[0]["th"]


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("15/12/2568", "2025-12-15"),
        ("๑๕ ธันวาคม ๒๕๖๘", "2025-12-15"),
        ("15 ธ.ค. 68", "2025-12-15"),
        ("๑๕/๑๒/๒๕๖๘", "2025-12-15"),
    ],
)
def test_a_be_date_is_read(app, client, typed, iso):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    client.post(
        f"/drafts/{draft_id}",
        data=draft_form(csrf, date=typed),
        headers={"Accept": "application/json"},
    )
    assert _stored_draft(app, draft_id).doc["date"] == iso


def test_a_draft_with_an_unreadable_date_is_not_issued_with_today(app, client):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    client.post(f"/drafts/{draft_id}", data=draft_form(csrf, date="15/12/2025"))
    response = client.post(f"/drafts/{draft_id}/issue", data={"csrf_token": csrf})
    assert response.status_code == 400
    assert app.extensions["archive"].letters() == []


def test_lint_warnings_reach_the_page(client):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    form = draft_form(csrf, salutation="กราบเรียน", complimentary_close="ขอแสดงความนับถือ")
    body = client.post(
        f"/drafts/{draft_id}", data=form, headers={"Accept": "application/json"}
    ).get_json()
    codes = {p["code"] for p in body["warnings"]}
    assert "salutation_pair" in codes


def test_another_clerks_draft_does_not_exist(app, client):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    other = app.test_client()
    other_csrf = login(other, "secret")
    assert other.get(f"/drafts/{draft_id}").status_code == 404
    assert other.get(f"/drafts/{draft_id}/preview.pdf").status_code == 404
    assert other.post(f"/drafts/{draft_id}", data=draft_form(other_csrf)).status_code == 404


def test_deleting_a_draft(app, client):
    csrf = login(client, "clerk")
    draft_id = _new_draft(client, csrf)
    client.post(f"/drafts/{draft_id}/delete", data={"csrf_token": csrf})
    assert _stored_draft(app, draft_id) is None


# ---- secrecy on pages ------------------------------------------------------------------------


def test_a_secret_letter_is_seen_only_by_the_cleared(app, client):
    record = store_letter(app, secret_letter("ลับมาก"))
    open_record = store_letter(app, seed_letter())
    for name, sees in (("clerk", False), ("secret", False), ("topsecret", True), ("admin", False)):
        c = app.test_client()
        login(c, name)
        page = c.get(f"/letters/{record.public_id}")
        assert page.status_code == (200 if sees else 404), name
        with c.get(f"/letters/{record.public_id}/original") as download:
            assert download.status_code == (200 if sees else 404), name
        listing = c.get("/letters").get_data(as_text=True)
        assert ("นาคราช" in listing) is sees, name
        assert c.get(f"/letters/{open_record.public_id}").status_code == 200
        by_number = c.get("/letters?ref_no=นค 0019.3/9876").get_data(as_text=True)
        assert ("นาคราช" in by_number) is sees, name
        dashboard = c.get("/").get_data(as_text=True)
        assert ("นาคราช" in dashboard) is sees, name


def test_the_dashboard_chart_counts_only_what_is_seen(app, client):
    archive = app.extensions["archive"]
    store_letter(app, secret_letter("ลับ"))
    store_letter(app, seed_letter())
    seen_by_clerk = sum(n for _, n in archive.counts_by_unit(None))
    seen_by_secret = sum(n for _, n in archive.counts_by_unit("ลับ"))
    assert (seen_by_clerk, seen_by_secret) == (1, 2)
    login(client, "clerk")
    assert "<svg" in client.get("/").get_data(as_text=True)


def test_counts_are_shown_in_thai_digits(app, client):
    store_letter(app, seed_letter())
    login(client, "clerk")
    assert "๑ ฉบับ" in client.get("/letters").get_data(as_text=True)  # one filter for all pages


def test_a_missing_and_a_hidden_letter_look_the_same(app, client):
    record = store_letter(app, secret_letter("ลับ"))
    login(client, "clerk")
    hidden = client.get(f"/letters/{record.public_id}")
    missing = client.get("/letters/zzzzzzzzzzzz")
    assert hidden.status_code == missing.status_code == 404

    def shown(response, letter_id):
        text = response.get_data(as_text=True)
        return text.replace(f"รายการ {letter_id} ", "รายการ N ").replace(
            f"letter {letter_id}<", "letter N<"
        )

    assert shown(hidden, record.public_id) == shown(missing, "zzzzzzzzzzzz")


# ---- registers -------------------------------------------------------------------------------


def test_receiving_a_letter(app, client):
    csrf = login(client, "clerk")
    response = client.post(
        "/registers/receive",
        data={
            "csrf_token": csrf,
            "register": UNIT,
            "sender": "กรมการพัฒนาชุมชน",
            "recipient": "ผู้ว่าราชการจังหวัดหนองคาย",
            "subject": "ขอเชิญประชุม",
            "ref_no": "มท ๐๔๐๗.๒/ว ๑๒",
            "letter_date": "1/10/2568",
        },
    )
    assert response.status_code == 302
    [received] = app.extensions["archive"].received()
    assert received.letter_date.isoformat() == "2025-10-01"
    page = client.get("/registers?kind=received").get_data(as_text=True)
    assert "ขอเชิญประชุม" in page


def test_a_register_date_in_ce_is_caught(client):
    login(client, "clerk")
    response = client.get("/registers?from=1/1/2025")
    assert response.status_code == 400
    assert "ค.ศ." in response.get_data(as_text=True)


def test_register_csv_export(app, client):
    login(client, "clerk")
    response = client.get("/registers/export?kind=received&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "เลขทะเบียนรับ" in response.data.decode("utf-8-sig")


# ---- import ----------------------------------------------------------------------------------


def _wait_for_job(app, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    job = app.extensions["saraban_jobs"].get(job_id)
    while job.state == "running":
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.05)
    return job


def test_a_batch_left_unread_when_the_service_stopped_is_read_when_its_page_opens(app, client):
    from saraban.usecases import importing

    login(client, "clerk")
    clerk = app.extensions["saraban_store"].user_by_name("clerk")
    seed = SEEDS / "001_1817bd84ea7a4ec5.txt"
    home = Path(app.config["SARABAN_HOME"])
    batch = importing.create(home, clerk.id, [(seed.name, seed.read_bytes())])  # no job read it
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    job_id = re.search(r"/jobs/([\w-]+)", page)[1]
    assert _wait_for_job(app, job_id).state == "done"
    assert importing.load(home, batch.id, clerk.id).counts()["parsed"] == 1
    again = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "ลป ๐๐๑๙.๓/๒๗๕๒๘" in again and "/jobs/" not in again  # nothing left to read


def test_import_upload_review_and_confirm(app, client):
    import io

    csrf = login(client, "clerk")
    seed = SEEDS / "001_1817bd84ea7a4ec5.txt"
    response = client.post(
        "/imports",
        data={
            "csrf_token": csrf,
            "files": [
                (io.BytesIO(seed.read_bytes()), seed.name),
                (io.BytesIO(b"not a letter at all, just words"), "notes.txt"),
                (io.BytesIO(b"%PDF"), "virus.exe"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    job_id = location.split("job=")[1]
    job = _wait_for_job(app, job_id)
    assert job.state == "done", job.error
    progress = client.get(f"/jobs/{job_id}").get_json()
    assert progress["done"] == progress["total"] == 2
    batch_page = client.get(location.split("?")[0]).get_data(as_text=True)
    assert "ลป ๐๐๑๙.๓/๒๗๕๒๘" in batch_page
    assert "only .txt, .docx and .pdf" in batch_page
    assert "ไม่พบส่วนของหนังสือราชการ" in batch_page
    review_url = location.split("?")[0] + "/1"
    review = client.get(review_url).get_data(as_text=True)
    assert "แนวทางการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน" in review  # parsed and original
    assert "๒๑ พฤศจิกายน ๒๕๖๗" in review  # the date shown in BE
    bad = client.post(review_url, data={"csrf_token": csrf, "date": "21/11/2024"})
    assert bad.status_code == 400 and "ค.ศ." in bad.get_data(as_text=True)
    form = {
        "csrf_token": csrf,
        "ref_no": "ลป ๐๐๑๙.๓/๒๗๕๒๘",
        "date": "๒๑ พฤศจิกายน ๒๕๖๗",
        "subject": "แนวทางการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน (ตรวจแล้ว)",
        "kind": "external",
    }
    stored = client.post(review_url, data=form)
    assert stored.status_code == 302
    [letter] = app.extensions["archive"].letters()
    assert letter.subject.endswith("(ตรวจแล้ว)")
    assert letter.date.isoformat() == "2024-11-21"
    other = app.test_client()
    login(other, "admin")
    assert other.get(review_url).status_code == 404  # another user's batch


def test_import_confirm_all_in_the_background(app, client):
    import io

    csrf = login(client, "clerk")
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(SEEDS.glob("00[0-2]_*.txt"))]
    response = client.post(
        "/imports", data={"csrf_token": csrf, "files": files}, content_type="multipart/form-data"
    )
    batch_url = response.headers["Location"].split("?")[0]
    _wait_for_job(app, response.headers["Location"].split("job=")[1])
    response = client.post(f"{batch_url}/confirm", data={"csrf_token": csrf})
    job = _wait_for_job(app, response.headers["Location"].split("job=")[1])
    assert job.state == "done" and job.result["stored"] == 3
    assert len(app.extensions["archive"].letters()) == 3


def _batch(app, client, csrf, *files):
    import io

    response = client.post(
        "/imports",
        data={"csrf_token": csrf, "files": [(io.BytesIO(d), n) for n, d in files]},
        content_type="multipart/form-data",
    )
    _wait_for_job(app, response.headers["Location"].split("job=")[1])
    return response.headers["Location"].split("?")[0]


def test_an_import_review_checks_what_the_clerk_typed_and_their_clearance(app, client):
    """The review page stored a 300,000-character subject ending in a control character
    unchecked; an uncleared clerk kept a letter marked ลับที่สุด and then could neither see,
    correct nor confirm it; a second confirmation with other corrections was dropped
    while the page said it was stored."""
    csrf = login(client, "clerk")
    seed = SEEDS / "001_1817bd84ea7a4ec5.txt"
    batch_url = _batch(app, client, csrf, (seed.name, seed.read_bytes()))
    form = {
        "csrf_token": csrf,
        "ref_no": "ลป ๐๐๑๙.๓/๒๗๕๒๘",
        "date": "๒๑ พฤศจิกายน ๒๕๖๗",
        "subject": "ก" * 300_000 + "\x07",
        "kind": "external",
    }
    refused = client.post(f"{batch_url}/1", data=form)
    assert refused.status_code == 400 and "subject" in refused.get_data(as_text=True)
    secret = client.post(f"{batch_url}/1", data={**form, "subject": "ตรวจแล้ว", "secrecy": "ลับที่สุด"})
    assert secret.status_code == 400 and "someone cleared for it must import it" in secret.get_data(
        as_text=True
    )
    assert app.extensions["archive"].letters() == []
    assert client.post(f"{batch_url}/1", data={**form, "subject": "ตรวจแล้ว"}).status_code == 302
    again = client.post(f"{batch_url}/1", data={**form, "subject": "ตรวจอีกครั้ง"})
    assert again.status_code == 409 and "stored already" in again.get_data(as_text=True)
    [letter] = app.extensions["archive"].letters()
    assert letter.subject == "ตรวจแล้ว"


def test_an_imported_letters_searched_text_is_bounded(app):
    from saraban.letter import MAX_ATTACHMENTS_TEXT_CHARS

    archive = app.extensions["archive"]
    doc = {**seed_letter(), "attachments_text": "ก" * (MAX_ATTACHMENTS_TEXT_CHARS + 5_000)}
    record = archive.store_imported(doc, original=b"text", original_name="a.txt", actor="t")
    with archive._read() as s:
        from saraban.archive._models import Letter

        kept = s.get(Letter, record.id).doc
    assert len(kept["attachments_text"]) == MAX_ATTACHMENTS_TEXT_CHARS


def test_an_upload_over_the_limit_is_refused_clearly(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "h", SARABAN_MAX_UPLOAD_MB="1")
    add_users(app)
    try:
        client = app.test_client()
        csrf = login(client, "clerk")
        # The request says how big it is; the server refuses it before reading the body.
        response = client.post(
            "/imports",
            data=b"--x--",
            content_type="multipart/form-data; boundary=x",
            headers={"X-CSRF-Token": csrf},
            environ_overrides={"CONTENT_LENGTH": str(2 * 1024 * 1024)},
        )
        assert response.status_code == 413
        assert "ใหญ่เกินกำหนด" in response.get_data(as_text=True)
    finally:
        close_app(app)


# ---- forms -----------------------------------------------------------------------------------


def test_the_forms_page_lists_every_form(client):
    login(client, "clerk")
    page = client.get("/forms").get_data(as_text=True)
    assert "แผนการพัฒนาตนเอง" in page


def test_a_form_is_filled_from_its_web_form(client):
    import io

    import docx

    csrf = login(client, "clerk")
    page = client.get("/forms/activity_schedule").get_data(as_text=True)
    assert 'name="activities.0.steps.0.method"' in page
    assert 'name="activities.__0__.title"' in page  # the row template
    response = client.post(
        "/forms/activity_schedule",
        data={
            "csrf_token": csrf,
            "format": "docx",
            "project": "โครงการพัฒนาศักยภาพผู้นำ",
            "fiscal_year": "๒๕๖๘",
            "activities.0.title": "ประชุมชี้แจง",
            "activities.0.steps.0.method": "จัดประชุมผู้นำชุมชน",
            "activities.0.steps.0.when": "ตุลาคม ๒๕๖๗",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    text += "\n".join(
        c.text
        for t in docx.Document(io.BytesIO(response.data)).tables
        for r in t.rows
        for c in r.cells
    )
    assert "จัดประชุมผู้นำชุมชน" in text


@pytest.mark.parametrize("row", ["๑", "²", "-1", "x"])
def test_a_forged_row_number_is_never_a_server_error(client, row):
    csrf = login(client, "clerk")
    response = client.post(
        "/forms/activity_schedule",
        data={"csrf_token": csrf, "format": "docx", f"activities.{row}.title": "ประชุม"},
    )
    assert response.status_code < 500


def test_a_forms_problems_are_shown_beside_the_inputs(client):
    csrf = login(client, "clerk")
    response = client.post(
        "/forms/activity_schedule",
        data={"csrf_token": csrf, "format": "docx", "fiscal_year": "2025"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-field="project"' in page and "field-error" in page


def test_jobs_of_others_are_not_found(app, client):
    login(client, "clerk")
    job = app.extensions["saraban_jobs"].start("x", 999, "t", lambda job: None)
    assert client.get(f"/jobs/{job.id}").status_code == 404


def test_a_user_starts_one_job_of_a_kind_at_a_time_even_at_the_same_moment(tmp_path):
    """A long table's file is made one at a time for each clerk: eight requests at the same
    moment start one job; the others are given it; once it is done, the next starts."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from saraban.service._jobs import Jobs

    jobs = Jobs(tmp_path / "jobs")
    release = threading.Event()
    ready = threading.Barrier(8)

    def ask(_n):
        ready.wait()
        return jobs.start_once("table-file", 7, "file", lambda job: release.wait(30))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert sum(started for _job, started in answers) == 1
    assert len({job.id for job, _started in answers}) == 1
    other, started = jobs.start_once("table-file", 8, "file", lambda job: None)
    assert started and other.id != answers[0][0].id  # another clerk's is their own
    release.set()
    for _ in range(300):
        if jobs.get(answers[0][0].id).state != "running":
            break
        time.sleep(0.01)
    _next, started = jobs.start_once("table-file", 7, "file", lambda job: None)
    assert started


def test_openapi_lists_every_api_route(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        import re

        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", path)
        path = re.sub(r"\{any\([^)]*\):(\w+)\}", r"{\1}", path)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (path, method)
    json.dumps(document)


def test_docs_pictures_are_checked_in():
    """The pictures in docs/ui.md exist (made with SARABAN_UI_SHOTS=folder pytest -m browser)."""
    docs = Path(__file__).parents[1] / "docs"
    text = (docs / "ui.md").read_text("utf-8")
    for name in (
        "login",
        "dashboard",
        "new-letter",
        "draft",
        "letter",
        "search",
        "registers",
        "import",
        "import-review",
        "forms",
        "form-fill",
        "admin",
        *(
            f"phone-{page}"
            for page in (
                "menu",
                "dashboard",
                "letters",
                "letter",
                "draft",
                "search",
                "registers",
                "import-review",
                "form-fill",
            )
        ),
    ):
        assert f"img/ui-{name}.png" in text
        assert (docs / "img" / f"ui-{name}.png").exists()
