"""Secrecy in the archive: the อ้างถึง thread never links two visible letters through a
hidden one (it walks only through letters the user may see and says nothing of the
others), and the received register takes a secrecy level and hides a secret received letter
exactly as a secret sent one is hidden: from the list, the count, the exports and its
subject, on the page, the API and the command line alike."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ARCHIVE_UNIT
from test_service_support import (
    UNIT,
    add_unit,
    add_users,
    bearer,
    csrf_of,
    login,
    make_app,
    seed_letter,
    store_letter,
    tokens,
)

from saraban.errors import BadRequest, NotFound


def _letter(subject: str, ref_no: str, cites: str | None = None, secrecy: str | None = None):
    letter = seed_letter()
    letter.update(subject=subject, ref_no=ref_no, secrecy=secrecy, date="2025-10-01")
    letter["references"] = [f"หนังสือจังหวัดหนองคาย ที่ {cites} ลงวันที่ ๑ ตุลาคม ๒๕๖๘"] if cites else []
    return letter


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    # open A <- secret S (cites A) <- open B (cites S): A and B meet only through S.
    a = store_letter(app, _letter("เรื่องเปิดต้นทาง", "นค ๐๐๑๙.๓/๑๐"))
    s = store_letter(app, _letter("เรื่องลับกลางทาง", "นค ๐๐๑๙.๓/๑๑", "นค ๐๐๑๙.๓/๑๐", "ลับ"))
    b = store_letter(app, _letter("เรื่องเปิดปลายทาง", "นค ๐๐๑๙.๓/๑๒", "นค ๐๐๑๙.๓/๑๑"))
    app.config["THREAD"] = (a.id, s.id, b.id)
    yield app
    close_app(app)


def test_a_thread_walks_only_through_letters_the_user_may_see(app):
    archive = app.extensions["archive"]
    a, s, b = app.config["THREAD"]
    assert [r.id for r in archive.thread(a).letters] == [a, s, b]  # the whole record
    hidden = archive.thread(a, clearance=None)
    assert [r.id for r in hidden.letters] == [a] and hidden.links == []
    assert [r.id for r in archive.thread(b, clearance=None).letters] == [b]
    cleared = archive.thread(a, clearance="ลับ")
    assert [r.id for r in cleared.letters] == [a, s, b]
    assert set(cleared.links) == {(s, a), (b, s)}
    with pytest.raises(NotFound):
        archive.thread(s, clearance=None)


def test_the_letter_page_shows_no_letter_reached_through_a_hidden_one(app):
    a, _s, _b = app.config["THREAD"]
    a = app.extensions["archive"].get(a).public_id
    clerk = app.test_client()
    login(clerk, "clerk")
    page = clerk.get(f"/letters/{a}").get_data(as_text=True)
    assert "เรื่องเปิดปลายทาง" not in page and "เรื่องลับกลางทาง" not in page
    cleared = app.test_client()
    login(cleared, "secret")
    page = cleared.get(f"/letters/{a}").get_data(as_text=True)
    assert "เรื่องเปิดปลายทาง" in page and "เรื่องลับกลางทาง" in page


def test_the_received_register_hides_a_secret_letter_like_the_sent_one(app):
    archive = app.extensions["archive"]
    keys = tokens(app, {u.name: u for u in app.extensions["saraban_store"].users()})
    clerk, secret = bearer(keys["clerk"]), bearer(keys["secret"])
    client = app.test_client()
    body = {
        "register": UNIT,
        "sender": "กรมการพัฒนาชุมชน",
        "recipient": "จังหวัด",
        "subject": "ขอข้อมูลบัญชีลับผู้ได้รับความช่วยเหลือ",
    }
    refused = client.post(
        "/api/v1/registers/received", headers=clerk, json=body | {"secrecy": "ลับ"}
    )
    assert refused.status_code == 400  # its number would count the ลับ letters received
    made = client.post("/api/v1/registers/received", headers=secret, json=body | {"secrecy": "ลับ"})
    assert made.status_code == 201 and made.get_json()["received"]["secrecy"] == "ลับ"
    client.post("/api/v1/registers/received", headers=clerk, json=body | {"subject": "เปิด"})
    bad = client.post(
        "/api/v1/registers/received", headers=clerk, json=body | {"secrecy": "ลับสุดยอด"}
    )
    assert bad.status_code == 400 and "secrecy" in bad.get_json()["error"]
    assert len(archive.received()) == 2  # the bad one took no number

    today = dt.date.today().isoformat()
    query = f"/api/v1/registers/received?from={today}&to={today}"
    rows = client.get(query, headers=clerk).get_json()
    assert rows["total"] == 1 and [r["subject"] for r in rows["items"]] == ["เปิด"]
    rows = client.get(query, headers=secret).get_json()
    assert rows["total"] == 2
    with client.get(query + "&format=csv", headers=clerk) as csv:
        assert "บัญชีลับ" not in csv.data.decode("utf-8-sig")
    with client.get(query + "&format=csv", headers=secret) as csv:
        text = csv.data.decode("utf-8-sig")
        assert "บัญชีลับ" in text and "ชั้นความลับ: ลับ" in text

    browser = app.test_client()
    login(browser, "clerk")
    page = browser.get("/registers?kind=received").get_data(as_text=True)
    assert "บัญชีลับ" not in page and "เปิด" in page
    with browser.get("/registers/export?kind=received&format=csv") as csv:
        assert "บัญชีลับ" not in csv.data.decode("utf-8-sig")


def test_the_receive_form_takes_secrecy(app):
    browser = app.test_client()
    csrf = login(browser, "topsecret")
    form = browser.get("/registers?kind=received").get_data(as_text=True)
    assert 'name="secrecy"' in form
    response = browser.post(
        "/registers/receive",
        data={
            "csrf_token": csrf_of(form),
            "register": UNIT,
            "sender": "กรม",
            "recipient": "จังหวัด",
            "subject": "เรื่องลับมากจากกรม",
            "secrecy": "ลับมาก",
        },
    )
    assert response.status_code == 302 and csrf
    (received,) = app.extensions["archive"].received()
    assert received.secrecy == "ลับมาก"
    clerk = app.test_client()
    login(clerk, "clerk")
    page = clerk.get("/registers?kind=received").get_data(as_text=True)
    assert "เรื่องลับมากจากกรม" not in page


def test_the_archive_refuses_an_unknown_secrecy_before_taking_a_number(archive):
    with pytest.raises(BadRequest, match="secrecy"):
        archive.receive(
            ARCHIVE_UNIT, sender="ก", recipient="ข", subject="ค", secrecy="top", actor="t"
        )
    record = archive.receive(
        ARCHIVE_UNIT, sender="ก", recipient="ข", subject="ค", secrecy="ลับ", actor="t"
    )
    assert record.serial == 1 and record.secrecy == "ลับ"
    assert archive.received(clearance=None) == []
    assert archive.received(clearance="ลับ") == [record]


def test_the_secrecy_of_a_received_letter_and_the_key_of_an_issued_one_cannot_change(archive):
    """The database itself refuses (triggers, on SQLite and PostgreSQL alike)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    record = archive.receive(
        ARCHIVE_UNIT, sender="ก", recipient="ข", subject="ค", secrecy="ลับ", actor="t"
    )
    with pytest.raises(DBAPIError, match="cannot change"), archive.engine.begin() as db:
        db.execute(text("UPDATE received SET secrecy = NULL WHERE id = :id"), {"id": record.id})
    archive.renderer = _Stand()
    issued = archive.issue(_issue_letter(), ARCHIVE_UNIT, actor="t", idempotency_key="k:9")
    with pytest.raises(DBAPIError, match="read-only"), archive.engine.begin() as db:
        db.execute(
            text("UPDATE letters SET idempotency_key = 'other' WHERE id = :id"), {"id": issued.id}
        )


class _Stand:
    def render_docx(self, letter):
        return b"PK " + letter["ref_no"].encode()

    def render_pdf(self, letter, *, pdfa=False):
        return b"%PDF " + letter["ref_no"].encode()


def _issue_letter():
    from conftest import make_letter

    return make_letter()
