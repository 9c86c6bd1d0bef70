"""The findings of issue 11 at the request edge, accounts and administration, each tried the
way a hostile clerk, an administrator without clearance or an outsider would, against a
real app (real SQLite, real files). docs/security.md says what each test defends."""

from __future__ import annotations

import re

import pytest
from test_service_support import (
    PASSWORD,
    add_unit,
    add_users,
    bearer,
    csrf_of,
    login,
    make_app,
    secret_letter,
    seed_letter,
    store_letter,
    tokens,
)


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


def _store(app):
    return app.extensions["saraban_store"]


# ---- text at the edge: lone surrogates --------------------------------------------------------


def test_a_lone_surrogate_in_a_draft_from_the_api_is_refused_and_nothing_is_saved(app):
    client = app.test_client()
    keys = tokens(app, {"clerk": _store(app).user_by_name("clerk")})
    body = b'{"unit": null, "letter": {"kind": "external", "subject": "\\ud800 \xe0\xb8\x81"}}'
    response = client.post(
        "/api/v1/drafts", data=body, content_type="application/json", headers=bearer(keys["clerk"])
    )
    assert response.status_code == 400
    assert "letter.subject" in response.get_json()["error"]
    assert "U+D800" in response.get_json()["error"]
    assert _store(app).count_drafts(_store(app).user_by_name("clerk").id) == 0


def test_a_lone_surrogate_in_a_form_field_is_refused_on_every_page(app, client):
    """Werkzeug decodes form and query bytes without surrogates today; the edge refuses
    them all the same, so no later decoder change can let one be saved."""
    from flask import request
    from werkzeug.datastructures import MultiDict

    from saraban.errors import BadRequest
    from saraban.service import _web

    with app.test_request_context("/search", method="GET"):
        request.__dict__["args"] = MultiDict({"q": "\ud83d"})
        with pytest.raises(BadRequest) as raised:
            _web.check_text_input()
    assert "U+D83D" in raised.value.message


def test_pages_and_lists_survive_a_surrogate_already_in_the_database(app, client):
    """A draft saved before the edge refused surrogates made the clerk's draft list and
    dashboard 500s for good; they show U+FFFD in its place instead."""
    from saraban.letter import new_letter

    clerk = _store(app).user_by_name("clerk")
    draft = _store(app).create_draft(
        clerk.id, new_letter("external", subject="เรื่อง \ud800 ทดสอบ"), unit=None
    )
    login(client, "clerk")
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "เรื่อง \ufffd ทดสอบ" in dashboard.get_data(as_text=True)
    assert client.get(f"/drafts/{draft.public_id}").status_code == 200
    keys = tokens(app, {"clerk": clerk})
    listing = client.get("/api/v1/drafts", headers=bearer(keys["clerk"]))
    assert listing.status_code == 200
    assert listing.get_json()["items"][0]["letter"]["subject"] == "เรื่อง \ufffd ทดสอบ"
    one = client.get(f"/api/v1/drafts/{draft.public_id}", headers=bearer(keys["clerk"]))
    assert one.status_code == 200
    assert one.get_json()["draft"]["errors"][0]["code"] == "bad_character"


def test_a_deeply_nested_body_costs_nothing(app):
    """JSON nested 100,000 deep was a RecursionError (500); now a 400 before any work."""
    client = app.test_client()
    keys = tokens(app, {"clerk": _store(app).user_by_name("clerk")})
    body = b'{"letter": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(
        "/api/v1/drafts", data=body, content_type="application/json", headers=bearer(keys["clerk"])
    )
    assert response.status_code == 400
    assert "64" in response.get_json()["error"]


# ---- sessions end on the server ---------------------------------------------------------------


def _cookie(client):
    return client.get_cookie("saraban_session").value


def _with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("saraban_session", value)
    return other


def test_a_cookie_taken_before_logout_does_not_work_after_it(app, client):
    csrf = login(client, "clerk")
    taken = _cookie(client)
    assert _with_cookie(app, taken).get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf})
    replayed = _with_cookie(app, taken).get("/")
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")


def test_a_password_change_ends_every_other_session(app, client):
    elsewhere = app.test_client()
    login(elsewhere, "clerk")
    csrf = login(client, "clerk")
    response = client.post(
        "/account",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "ข้าวเหนียวมะม่วงน้ำปลาหวาน",
            "repeat_password": "ข้าวเหนียวมะม่วงน้ำปลาหวาน",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # the session it was changed from goes on
    assert elsewhere.get("/").status_code == 302  # the other one ended


def test_an_administrators_reset_or_disabling_ends_the_users_sessions(app, client):
    user_client = app.test_client()
    login(user_client, "clerk")
    store = _store(app)
    store.set_password(store.user_by_name("clerk").id, "ข้าวเหนียวมะม่วงน้ำปลาหวาน")
    assert user_client.get("/").status_code == 302
    login(user_client, "clerk", "ข้าวเหนียวมะม่วงน้ำปลาหวาน")
    store.update_user(store.user_by_name("clerk").id, active=False)
    assert user_client.get("/").status_code == 302
    assert store.sessions(store.user_by_name("clerk").id) == []


def test_ending_the_other_sessions_from_the_account_page(app, client):
    elsewhere = app.test_client()
    login(elsewhere, "clerk")
    csrf = login(client, "clerk")
    assert len(_store(app).sessions(_store(app).user_by_name("clerk").id)) == 2
    client.post("/account/sessions/end", data={"csrf_token": csrf})
    assert elsewhere.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_a_session_past_its_expiry_ends_on_the_server(app, client):
    import datetime as dt

    from sqlalchemy import update

    from saraban.service._store import LoginSession

    login(client, "clerk")
    store = _store(app)
    with store._write() as s:
        s.execute(update(LoginSession).values(expires_at=dt.datetime.now(dt.UTC)))
    assert client.get("/").status_code == 302


@pytest.mark.postgres
def test_sessions_end_on_the_server_with_postgresql(tmp_path, postgres_server):
    from saraban.service import close_app

    app = make_app(tmp_path / "home", SARABAN_DATABASE_URL=postgres_server.create_database())
    try:
        add_users(app)
        client, elsewhere = app.test_client(), app.test_client()
        login(elsewhere, "clerk")
        clerk = _store(app).user_by_name("clerk")
        _store(app).set_password(clerk.id, "ข้าวเหนียวมะม่วงน้ำปลาหวาน")
        assert elsewhere.get("/").status_code == 302
        csrf = login(client, "clerk", "ข้าวเหนียวมะม่วงน้ำปลาหวาน")
        taken = _cookie(client)
        client.post("/logout", data={"csrf_token": csrf})
        assert _with_cookie(app, taken).get("/").status_code == 302
    finally:
        close_app(app)


# ---- where a login goes next ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/\t/evil.example", "/"),  # browsers drop the tab: //evil.example
        ("/\n/evil.example", "/"),  # was a 500 (a newline in the Location header)
        ("/\r\n/evil.example", "/"),
        ("\t//evil.example", "/"),
        (" //evil.example", "/"),
        ("/\\evil.example", "/"),  # browsers read \ as /
        ("\\\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\x00/evil.example", "/"),
        ("/" + "a" * 3000, "/"),
        ("/letters?year=2568", "/letters?year=2568"),
        ("/search?q=ลับ", "/search?q=%E0%B8%A5%E0%B8%B1%E0%B8%9A"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),  # a path on this site
    ],
)
def test_next_is_read_the_way_browsers_read_it(client, target, expected):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"name": "clerk", "password": PASSWORD, "csrf_token": token, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected
    again = client.get("/login", query_string={"next": target})  # signed in: straight on
    assert again.status_code == 302
    assert again.headers["Location"] == expected


def test_the_issues_own_next_url_goes_home(client):
    login(client, "clerk")
    response = client.get("/login?next=/%09/evil.com")
    assert response.headers["Location"] == "/"
    assert client.get("/login?next=/%0A/evil.com").status_code == 302


# ---- the password policy, everywhere a password is set ----------------------------------------

WEAK_PASSWORDS = {
    "short": ("ab12cd", "อย่างน้อย 12"),
    "common": ("12345678", "อย่างน้อย 12"),
    "common-long": ("qwerty123456", "ใช้กันมากที่สุด"),
    "common-with-year": ("sunshine2568!", "ใช้กันมากที่สุด"),
    "digits": ("3430100012345", "ตัวเลข"),  # a national ID card number
    "keyboard-row": ("qwertyuiopas", "แป้น"),
    "thai-layout-digits": ("ๅ/-ภถุึคตจขช", "ตัวเลข"),  # 1234567890-= typed in Thai
    "the-name": ("clerk2568clerk", "ชื่อผู้ใช้"),
    "program": ("saraban-2568!", "ชื่อผู้ใช้"),
    "too-long": ("ก" * 129, "ยาวเกิน 128"),
}


@pytest.mark.parametrize("weak", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_a_weak_password_is_refused_on_the_account_page(client, weak):
    password, message = weak
    csrf = login(client, "clerk")
    response = client.post(
        "/account",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": password,
            "repeat_password": password,
        },
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("weak", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_a_weak_password_is_refused_by_the_api(app, weak):
    password, message = weak
    keys = tokens(app, {"admin": _store(app).user_by_name("admin")})
    name = "clerk" if "ชื่อผู้ใช้" not in message else "clerk2"
    response = app.test_client().post(
        "/api/v1/users",
        json={"name": name + "x", "password": password.replace("clerk", name + "x")},
        headers=bearer(keys["admin"]),
    )
    assert response.status_code == 400, response.get_json()
    assert message in response.get_json()["error"]


def test_a_weak_password_is_refused_by_the_command_line(tmp_path, monkeypatch, capsys):
    import io
    import sys

    from saraban.cli import main

    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("somsri-password\n"))
    assert main(["user", "add", "somsri", "--password-stdin"]) == 2
    assert "ชื่อผู้ใช้" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("แมวส้มนอนบนหลังคา\n"))
    assert main(["user", "add", "somsri", "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("password12345\n"))
    assert main(["user", "passwd", "somsri", "--password-stdin"]) == 2
    assert "ใช้กันมากที่สุด" in capsys.readouterr().err


def test_the_admin_page_refuses_a_weak_password_and_changes_nothing(app, client):
    csrf = login(client, "admin")
    clerk = _store(app).user_by_name("clerk")
    response = client.post(
        f"/admin/users/{clerk.id}",
        data={"csrf_token": csrf, "role": "admin", "active": "1", "password": "12345678"},
        follow_redirects=True,
    )
    assert "อย่างน้อย 12" in response.get_data(as_text=True)
    assert _store(app).user_by_name("clerk").role == "clerk"  # all of the form or none


# ---- throttling: by address as well as by name ------------------------------------------------


def _try_login(client, name, password, address):
    token = csrf_of(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(True))
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_nobody_locks_another_person_out_by_typing_their_name(app):
    attacker = app.test_client()
    for _ in range(15):
        _try_login(attacker, "clerk", "not the password", "10.0.0.66")
    blocked = _try_login(attacker, "clerk", PASSWORD, "10.0.0.66")
    assert blocked.status_code == 429
    assert "กรุณารอ ๑๕ นาที" in blocked.get_data(as_text=True)
    owner = app.test_client()
    assert _try_login(owner, "clerk", PASSWORD, "10.0.0.7").status_code == 302


def test_the_owners_own_browser_signs_in_behind_the_same_address(app):
    """Behind one NAT or proxy every clerk has the same address: the browser that signed in
    as a name before (its device cookie) still signs in while that address is blocked."""
    owner = app.test_client()
    assert _try_login(owner, "clerk", PASSWORD, "10.0.0.1").status_code == 302
    owner.post("/logout", data={"csrf_token": csrf_of(owner.get("/account").get_data(True))})
    attacker = app.test_client()
    for number in range(40):
        _try_login(attacker, f"user{number % 3}" if number % 2 else "clerk", "wrong!", "10.0.0.1")
    assert _try_login(attacker, "clerk", PASSWORD, "10.0.0.1").status_code == 429
    assert _try_login(attacker, "admin", PASSWORD, "10.0.0.1").status_code == 429
    assert _try_login(owner, "clerk", PASSWORD, "10.0.0.1").status_code == 302


def test_one_address_cannot_try_name_after_name(app):
    client = app.test_client()
    for number in range(30):
        assert _try_login(client, f"guess{number}", "wrong!", "10.0.0.9").status_code == 401
    refused = _try_login(client, "secret", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429
    assert "จากเครื่องนี้" in refused.get_data(as_text=True)


def test_a_campaign_from_many_addresses_stops_at_the_name(app):
    client = app.test_client()
    for number in range(100):
        _try_login(client, "secret", "wrong!", f"10.1.{number // 250}.{number % 250}")
    refused = _try_login(client, "secret", PASSWORD, "10.9.9.9")
    assert refused.status_code == 429
    assert "เบราว์เซอร์ที่เคยเข้าสู่ระบบ" in refused.get_data(as_text=True)


# ---- the audit of failed logins is bounded ----------------------------------------------------


def test_failed_logins_under_invented_names_add_a_bounded_number_of_audit_rows(app, monkeypatch):
    from saraban.service import auth

    # Smaller bounds, the same rules: each failed login hashes a password (about 0.13 s).
    monkeypatch.setattr(auth, "AUDIT_LISTED", 6)
    monkeypatch.setattr(auth, "AUDIT_SUMMARY_TOP", 4)
    archive = app.extensions["archive"]
    before = len(archive.events(limit=100_000))
    client = app.test_client()
    for number in range(40):
        _try_login(client, f"nobody{number}", "wrong!", f"10.2.{number // 200}.{number % 200}")
    events = archive.events(limit=100_000)[: len(archive.events(limit=100_000)) - before]
    failed = [e for e in events if e.action == "user.login_failed"]
    assert len(failed) == auth.AUDIT_LISTED
    assert [e.action for e in events].count("user.login_failed_more") == 1
    assert len(events) == auth.AUDIT_LISTED + 1
    auth.login_audit(app).flush(archive, force=True)
    summary = archive.events(limit=1)[0]
    assert summary.action == "user.login_failed_summary"
    assert summary.detail["count"] == 40 - auth.AUDIT_LISTED
    assert len(summary.detail["names"]) == auth.AUDIT_SUMMARY_TOP
    assert archive.verify() == []


def test_a_real_accounts_failures_are_listed_by_name(app):
    archive = app.extensions["archive"]
    client = app.test_client()
    for _ in range(3):
        _try_login(client, "secret", "wrong!", "10.3.0.1")
    listed = [e for e in archive.events(limit=10) if e.action == "user.login_failed"]
    assert [e.actor for e in listed] == ["secret"] * 3
    assert listed[0].detail == {"ip": "10.3.0.1"}


# ---- administrators: no side channel to what they may not see --------------------------------


def _audit_about(app, letter_id, action, detail):
    """An event about a letter, as issuing or cancelling writes it (without rendering)."""
    from saraban.archive import _audit

    archive = app.extensions["archive"]
    with archive._write() as s:
        _audit.append(s, actor="secret", action=action, letter_id=letter_id, detail=detail)


def test_the_audit_table_shows_an_uncleared_admin_nothing_of_a_secret_letter(app, client):
    from saraban.service.admin import AUDIT_SHOWN

    archive = app.extensions["archive"]
    for number in range(AUDIT_SHOWN):
        archive.audit("search.reindex", {"n": number}, actor="admin")
    secret = archive.store_imported(
        secret_letter("ลับ", "แผนลับนาคราช"),
        original=b"secret original",
        original_name="นาคราช-ลับ.pdf",
        actor="secret",
    )
    _audit_about(app, secret.id, "letter.cancel", {"ref_no": "x", "reason": "เหตุผลลับนาคราช"})
    _audit_about(app, secret.id, "letter.receive", {"subject": "แผนลับนาคราช"})
    login(client, "admin")
    page = client.get("/admin/").get_data(as_text=True)
    audit = page[page.index('id="audit"') :]
    assert "นาคราช" not in audit
    assert audit.count("<tr>") - 1 == AUDIT_SHOWN  # filled from older events all the same
    assert "ไม่แสดงในตารางนี้" in audit  # said always, whether or not anything was left out
    assert "<th>ลำดับ</th>" not in audit  # sequence numbers would show the gaps
    cleared = app.test_client()
    _store(app).update_user(_store(app).user_by_name("topsecret").id, role="admin")
    login(cleared, "topsecret")
    seen = cleared.get("/admin/").get_data(as_text=True)
    seen = seen[seen.index('id="audit"') :]
    assert "เหตุผลลับนาคราช" in seen and "นาคราช-ลับ.pdf" in seen


def test_the_audit_table_says_the_same_whether_or_not_a_secret_letter_exists(app, client):
    archive = app.extensions["archive"]
    for number in range(40):
        archive.audit("search.reindex", {"n": number}, actor="admin")
    login(client, "admin")

    def table():
        page = client.get("/admin/").get_data(as_text=True)
        return re.sub(r'name="csrf-token" content="[^"]+"', "", page[page.index('id="audit"') :])

    before = table()
    secret = store_letter(app, secret_letter("ลับมาก"))
    _audit_about(app, secret.id, "letter.cancel", {"reason": "ลับ"})
    assert table() == before


def test_an_admin_cannot_mint_a_token_for_another_user_by_any_route(app, client):
    csrf = login(client, "admin")
    topsecret = _store(app).user_by_name("topsecret")
    for path in ("/admin/tokens", "/account/tokens", f"/admin/users/{topsecret.id}/tokens"):
        client.post(path, data={"csrf_token": csrf, "user_id": str(topsecret.id)})
    assert _store(app).tokens(topsecret.id) == []


def test_a_user_makes_their_own_token_after_typing_their_password(app, client):
    csrf = login(client, "secret")
    wrong = client.post("/account/tokens", data={"csrf_token": csrf, "password": "wrong"})
    assert wrong.status_code == 400
    assert "รหัสผ่านเดิมไม่ถูกต้อง" in wrong.get_data(as_text=True)
    made = client.post(
        "/account/tokens", data={"csrf_token": csrf, "password": PASSWORD, "label": "ระบบ A"}
    )
    token = re.search(r'id="token" class="token" value="([^"]+)"', made.get_data(as_text=True))
    user = _store(app).user_for_token(token.group(1))
    assert user.name == "secret"
    own = _store(app).tokens(user.id)[0]
    client.post(f"/account/tokens/{own.id}/revoke", data={"csrf_token": csrf})
    assert _store(app).user_for_token(token.group(1)) is None
    other = _store(app).create_token(_store(app).user_by_name("clerk").id)[1]
    refused = client.post(f"/account/tokens/{other.id}/revoke", data={"csrf_token": csrf})
    assert refused.status_code == 404  # another user's token is not one's own


def test_typing_ones_password_again_is_throttled_like_a_login(app, client):
    """A session left open must not let someone guess the password on the account page."""
    csrf = login(client, "clerk")
    for _ in range(10):
        client.post("/account/tokens", data={"csrf_token": csrf, "password": "a guess!"})
    right = client.post("/account/tokens", data={"csrf_token": csrf, "password": PASSWORD})
    assert right.status_code == 429
    assert _store(app).tokens(_store(app).user_by_name("clerk").id) == []


def test_an_uncleared_admin_grants_no_clearance_above_their_own(app, client):
    csrf = login(client, "admin")
    for clearance in ("ลับ", "ลับที่สุด"):
        client.post(
            "/admin/users",
            data={
                "csrf_token": csrf,
                "name": "mole",
                "password": "a good password",
                "repeat_password": "a good password",
                "role": "clerk",
                "clearance": clearance,
            },
        )
        assert _store(app).user_by_name("mole") is None
    admin = _store(app).user_by_name("admin")
    page = client.post(
        f"/admin/users/{admin.id}",
        data={"csrf_token": csrf, "role": "admin", "active": "1", "clearance": "ลับที่สุด"},
        follow_redirects=True,
    )
    assert "สูงกว่าชั้นความลับของตนเองไม่ได้" in page.get_data(as_text=True)
    assert _store(app).user_by_name("admin").clearance is None
    keys = tokens(app, {"admin": admin})
    response = app.test_client().post(
        "/api/v1/users",
        json={"name": "mole", "password": "a good password", "clearance": "ลับ"},
        headers=bearer(keys["admin"]),
    )
    assert response.status_code == 403
    assert _store(app).user_by_name("mole") is None


def test_an_admin_cannot_take_over_an_account_cleared_above_them(app, client):
    csrf = login(client, "admin")
    topsecret = _store(app).user_by_name("topsecret")
    page = client.post(
        f"/admin/users/{topsecret.id}",
        data={
            "csrf_token": csrf,
            "role": "clerk",
            "active": "1",
            "clearance": "ลับที่สุด",
            "password": "a new password for the mole",
        },
        follow_redirects=True,
    )
    assert "ตั้งรหัสผ่านของ topsecret" in page.get_data(as_text=True)
    assert _store(app).authenticate("topsecret", PASSWORD) is not None
    # what stays allowed: resetting an account cleared no higher, keeping a clearance
    clerk = _store(app).user_by_name("clerk")
    client.post(
        f"/admin/users/{clerk.id}",
        data={"csrf_token": csrf, "role": "clerk", "active": "1", "password": "แมวส้มนอนบนหลังคา"},
    )
    assert _store(app).authenticate("clerk", "แมวส้มนอนบนหลังคา") is not None
    client.post(
        f"/admin/users/{topsecret.id}",
        data={"csrf_token": csrf, "role": "clerk", "active": "0", "clearance": "ลับที่สุด"},
    )
    assert _store(app).user_by_name("topsecret").active is False


# ---- security headers: a strict CSP the pages keep to ----------------------------------------

SERVICE = __import__("pathlib").Path(__file__).parents[1] / "service"


def test_no_template_or_script_needs_unsafe_inline():
    """The CSP has no 'unsafe-inline': an inline script, an on* handler, a style attribute
    or a javascript: URL would be blocked by the browser (and could carry an injection)."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")"  # data blocks are inert
        r"|\son[a-z]+\s*="
        r"|\sstyle\s*="
        r"|<style"
        r"|javascript:",
        re.IGNORECASE,
    )
    for path in sorted((SERVICE / "templates").glob("*.html")):
        found = inline.findall(path.read_text("utf-8"))
        assert not found, (path.name, found)
    script = (SERVICE / "static" / "saraban.js").read_text("utf-8")
    for needle in (".style.", "cssText", 'setAttribute("style', "innerHTML", "eval(", "Function("):
        assert needle not in script, needle
    assert not re.search(r"setAttribute\(\s*[\"']on", script)


@pytest.mark.parametrize(
    "path", ["/login", "/", "/no-such-page", "/api/v1/me", "/static/saraban.css"]
)
def test_every_answer_carries_the_security_headers(client, path):
    from saraban.service._web import CONTENT_SECURITY_POLICY

    response = client.get(path)
    response.close()
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'self'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "object-src" in csp and "base-uri 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"


# ---- what the API fuzz found (tests/test_api_fuzz.py) -----------------------------------------


def test_a_text_original_is_sent_with_one_charset(app):
    """The fuzz found ``text/plain; charset=utf-8; charset=utf-8`` on a .txt original."""
    keys = tokens(app, {"clerk": _store(app).user_by_name("clerk")})
    letter = store_letter(app, seed_letter())
    with app.test_client().get(
        f"/api/v1/letters/{letter.public_id}/original", headers=bearer(keys["clerk"])
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_multipart_part_without_a_name_is_no_server_error(app):
    """The fuzz found a 500: a multipart part without a name reached the surrogate check
    with None for its name."""
    keys = tokens(app, {"clerk": _store(app).user_by_name("clerk")})
    body = (
        b"--b\r\nContent-Disposition: form-data\r\n\r\n[]\r\n"
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="files"\r\n\r\n'
        b"\x04\xff\xfeSH\r\n--b--\r\n"
    )
    response = app.test_client().post(
        "/api/v1/imports",
        data=body,
        content_type="multipart/form-data; boundary=b",
        headers=bearer(keys["clerk"]),
    )
    assert response.status_code < 500, response.get_json()


# ---- public ids: nothing in a URL or a JSON id counts letters -------------------------------


def _three_letters_the_middle_secret(app):
    archive = app.extensions["archive"]
    first = store_letter(app, {**seed_letter(), "ref_no": "นค ๐๐๑๙.๓/๑๐๑"})
    hidden = store_letter(app, secret_letter("ลับ"))
    last = store_letter(app, {**seed_letter(), "ref_no": "นค ๐๐๑๙.๓/๑๐๓"})
    assert [first.id + 1, first.id + 2] == [hidden.id, last.id]  # the rows do count
    return archive, first, hidden, last


def test_letter_ids_in_urls_and_the_api_do_not_count_letters(app, client):
    """Issue 11: letter ids were sequential, so an uncleared clerk saw the gap where a
    hidden letter is. Now every URL, page link and JSON id is the letter's public id: 12
    random characters, none of them the row number."""
    _archive, first, hidden, last = _three_letters_the_middle_secret(app)
    keys = tokens(app, {"clerk": _store(app).user_by_name("clerk")})
    listing = client.get("/api/v1/letters", headers=bearer(keys["clerk"])).get_json()
    ids = [item["id"] for item in listing["items"]]
    assert sorted(ids) == sorted([first.public_id, last.public_id])
    for item in listing["items"]:
        assert re.fullmatch("[a-z2-9]{12}", item["id"]) and not item["id"].isdecimal()
        assert item["links"]["self"] == f"/api/v1/letters/{item['id']}"
    assert len({first.public_id, hidden.public_id, last.public_id}) == 3
    login(client, "clerk")
    page = client.get("/letters").get_data(as_text=True)
    links = set(re.findall(r'href="/letters/([^"/]+)"', page)) - {"new"}
    assert links == {first.public_id, last.public_id}
    assert client.get(f"/letters/{first.public_id}").status_code == 200


def test_a_letters_row_number_names_no_letter(app, client):
    """The old integer paths answer 404 on pages and in the API, for every user: a row
    number would let anyone count by trying (we decided against redirecting them)."""
    _archive, first, _hidden, _last = _three_letters_the_middle_secret(app)
    keys = tokens(app, {"admin": _store(app).user_by_name("admin")})
    for path in (f"/api/v1/letters/{first.id}", f"/api/v1/letters/{first.id}/original"):
        assert client.get(path, headers=bearer(keys["admin"])).status_code == 404
    login(client, "admin")
    for path in (f"/letters/{first.id}", f"/letters/{first.id}/original"):
        assert client.get(path).status_code == 404


def test_a_hidden_letters_public_id_answers_like_one_that_does_not_exist(app, client):
    _archive, _first, hidden, _last = _three_letters_the_middle_secret(app)
    login(client, "clerk")
    answers = []
    for public_id in (hidden.public_id, "zzzzzzzzzzzz"):
        response = client.get(f"/letters/{public_id}")
        body = response.get_data(as_text=True).replace(public_id, "ID")
        answers.append((response.status_code, re.sub(r'content="[^"]+"', "", body)))
    assert answers[0] == answers[1] and answers[0][0] == 404
    assert str(hidden.id) not in answers[0][1].split("<main", 1)[-1].split("</main>")[0]


def test_existing_letters_get_public_ids_when_the_archive_is_upgraded(tmp_path):
    """Migration 0004_snags: rows written before it (an issued letter among them) get a
    public id each, unique; afterwards an issued letter's public id is as fixed as the rest
    of the row."""
    import sqlalchemy as sa
    from alembic import command

    from saraban.archive import open_archive
    from saraban.archive._db import _alembic_config, create_engines

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'archive.db'}"
    engine, _reader = create_engines(url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003_core")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO letters (id, status, circular, created_at, created_by, attempts) "
                "VALUES (:id, :status, 0, '2026-01-01 00:00:00', 'old', 0)"
            ),
            [{"id": n, "status": s} for n, s in ((1, "stored"), (2, "stored"), (3, "issued"))],
        )
    engine.dispose()
    archive = open_archive(home, url)
    try:
        found = {n: archive.get(n).public_id for n in (1, 2, 3)}
        assert len(set(found.values())) == 3
        assert all(re.fullmatch("[a-z2-9]{12}", p) for p in found.values())
        assert archive.letter_id_for(found[3]) == 3
        with pytest.raises(sa.exc.IntegrityError), archive.engine.begin() as connection:
            connection.execute(sa.text("UPDATE letters SET public_id = 'x' WHERE id = 3"))
    finally:
        archive.close()
