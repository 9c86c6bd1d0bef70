"""The pages of circulars: the letter page's send and tracking section, the dashboard's list,
the address book page, and the recipient's public page /d/<token> with its JSON twins
(CSRF, escaping, closed links, rate limits, one delivery's token never opening another)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import make_letter
from sqlalchemy import select
from test_service_support import UNIT, add_districts, add_unit, add_users, csrf_of, login, make_app

from saraban.archive._mail import OutgoingMail

HOSTILE = '<script>alert("x")</script>'
FORM_REPLY = {
    "province": "หนองคาย",
    "district": "ท่าบ่อ",
    "subdistrict": "ท่าบ่อ",
    "village": "บ้านท่าบ่อ",
    "centre_name": "ศูนย์ท่าบ่อ",
}


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home", SARABAN_BASE_URL="https://saraban.example.go.th")
    add_unit(app)
    add_users(app)
    add_districts(app)
    yield app
    close_app(app)


def issued(app, subject="ขอให้รายงานข้อมูลศูนย์", **fields):
    return app.extensions["archive"].issue(make_letter(subject, **fields), UNIT, actor="clerk")


def send_from_page(app, client, letter_id, **form):
    csrf = login(client, "clerk")
    data = {"csrf_token": csrf, "to": ["ทุกอำเภอ"], "form": "centre_report"} | form
    response = client.post(f"/letters/{letter_id}/send", data=data)
    assert response.status_code == 302, response.data[:500]
    with app.extensions["archive"]._read() as s:
        bodies = s.scalars(select(OutgoingMail.body).order_by(OutgoingMail.id)).all()
    return [re.search(r"/d/([A-Za-z0-9_-]{22})", body).group(1) for body in bodies]


def test_the_letter_page_sends_and_tracks(app):
    letter = issued(app)
    client = app.test_client()
    page = client.get(f"/letters/{letter.public_id}")
    assert page.status_code == 302  # not signed in
    tokens = send_from_page(app, client, letter.public_id, due="31/12/2599")
    assert len(tokens) == 9
    page = client.get(f"/letters/{letter.public_id}").get_data(as_text=True)
    assert "ส่งหนังสือถึง ๙ ราย" in page or "ส่งหนังสือถึง 9 ราย" in page
    assert "ที่ว่าการอำเภอท่าบ่อ" in page and "ส่งแล้ว" in page
    assert "ส่งอีเมลทวงถามผู้ที่ยังไม่ตอบ" in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "หนังสือที่รอการตอบกลับ" in dashboard and letter.ref_no in dashboard
    # a CE due date is caught and said in Thai
    other = issued(app, "อีกเรื่อง")
    csrf = csrf_of(client.get("/").get_data(as_text=True))
    client.post(
        f"/letters/{other.public_id}/send",
        data={"csrf_token": csrf, "to": "ทุกอำเภอ", "due": "1/2/2027"},
    )
    assert "ค.ศ." in client.get(f"/letters/{other.public_id}").get_data(as_text=True)


def test_the_recipients_page_reads_acknowledges_and_replies(app):
    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    recipient = app.test_client()  # no account
    response = recipient.get(f"/d/{tokens[0]}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and letter.ref_no in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "ลงรับ" in html and "แบบรายงานข้อมูลศูนย์" in html
    pdf = recipient.get(f"/d/{tokens[0]}/files/1")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert recipient.get(f"/d/{tokens[0]}/files/99").status_code == 404
    csrf = csrf_of(html)
    # the page's forms need the session's CSRF token
    forged = recipient.post(
        f"/d/{tokens[0]}", data={"action": "acknowledge", "receive_no": "1", "by": "x"}
    )
    assert forged.status_code == 400
    done = recipient.post(
        f"/d/{tokens[0]}",
        data={"csrf_token": csrf, "action": "acknowledge", "receive_no": "๕๕", "by": HOSTILE},
    )
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "ลงรับเรียบร้อยแล้ว" in text
    assert HOSTILE not in text and "&lt;script&gt;" in text
    missing = recipient.post(
        f"/d/{tokens[0]}", data={"csrf_token": csrf, "action": "reply", "province": "หนองคาย"}
    )
    assert missing.status_code == 400 and "field-error" in missing.get_data(as_text=True)
    replied = recipient.post(
        f"/d/{tokens[0]}", data={"csrf_token": csrf, "action": "reply", **FORM_REPLY}
    )
    assert replied.status_code == 200, replied.get_data(as_text=True)[:2000]
    assert "ตอบกลับแล้ว" in replied.get_data(as_text=True)
    tracking = client.get(f"/letters/{letter.public_id}").get_data(as_text=True)
    assert "ตอบกลับแล้ว" in tracking and "๕๕" in tracking and "หนังสือตอบ" in tracking


def test_the_tracking_table_shows_one_page_of_a_view_under_the_counts(app, monkeypatch):
    """878 districts are too many rows for one page: the counts stay whole, the table shows
    a page of all, of those who have not replied, of the late or of those who replied."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from saraban.service import circulars as circular_pages
    from saraban.usecases import sending

    monkeypatch.setattr(circular_pages, "TRACKING_ROWS", 4)
    archive = app.extensions["archive"]
    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    names = sorted(d.name for d in sending.tracking(archive, letter.id, clearance=None).deliveries)
    page = f"/letters/{letter.public_id}"

    def shown(query: str = "") -> tuple[str, list[str]]:
        html = client.get(page + query).get_data(as_text=True)
        table = html.split('class="list cards tracking"', 1)[1].split("</table>", 1)[0]
        return html, [n for n in names if n in table]

    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def public_id_queries() -> int:
        """The page's queries that read letters' public ids (its other queries vary with
        time: the session is touched at most once a minute)."""
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            assert client.get(page + "?show=replied").status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return sum("public_id" in statement for statement in statements)

    sending.reply(archive, tokens[0], data=FORM_REPLY)
    one_reply = public_id_queries()
    for n, token in enumerate(tokens[1:3]):
        sending.reply(archive, token, data=FORM_REPLY | {"village": f"บ้าน {n}"})
    assert public_id_queries() == one_reply  # a reply's link costs no query of its own

    html, first = shown()
    assert first == names[:4] and "หน้า 1 จาก 3" in html and "ผู้รับ <strong>๙</strong>" in html
    assert "ยังไม่ตอบ (๖)" in html and "ตอบแล้ว (๓)" in html
    assert shown("?page=3")[1] == names[8:]
    assert shown("?page=99")[1] == names[8:]  # past the end: the last page
    replied = {
        d.name
        for d in sending.tracking(archive, letter.id, clearance=None).deliveries
        if d.replied_at
    }
    html, rows = shown("?show=replied")
    assert set(rows) == replied and html.count("หนังสือตอบ</a>") == 3
    reply_ids = sending.tracking(archive, letter.id, clearance=None).reply_public_ids.values()
    assert all(f"/letters/{public_id}" in html for public_id in reply_ids)
    waiting = shown("?show=waiting")[1]
    assert not set(waiting) & replied and len(waiting) == 4
    html, rows = shown("?show=late")
    assert rows == [] and "ไม่มีผู้รับในรายการนี้" in html
    html, rows = shown("?show=" + HOSTILE)
    assert rows == names[:4] and HOSTILE not in html


def test_the_json_twins(app):
    letter = issued(app)
    tokens = send_from_page(app, app.test_client(), letter.public_id)
    system = app.test_client()
    body = system.get(f"/d/{tokens[1]}.json").get_json()
    assert body["ok"] and body["letter"]["ref_no"] == letter.ref_no
    assert body["delivery"]["status"] == "opened" and body["delivery"]["form"] == "centre_report"
    assert body["files"][0]["url"] == f"/d/{tokens[1]}/files/1"
    ack = system.post(f"/d/{tokens[1]}/acknowledge", json={"receive_no": "๑๒", "by": "ระบบอำเภอ"})
    assert ack.status_code == 200 and ack.get_json()["delivery"]["status"] == "acknowledged"
    again = system.post(f"/d/{tokens[1]}/acknowledge", json={"receive_no": "๑๓", "by": "x"})
    assert again.status_code == 409 and again.get_json()["ok"] is False
    bad = system.post(f"/d/{tokens[1]}/reply", data={"data": '{"province": 1'})
    assert bad.status_code == 400
    reply = system.post(f"/d/{tokens[1]}/reply", data={"data": json.dumps(FORM_REPLY)})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["delivery"]["status"] == "replied"
    wrong = system.get(f"/d/{tokens[1][:-2]}xx.json")
    assert wrong.status_code == 404 and wrong.get_json()["status"] == 404


def test_while_a_reply_is_read_the_page_says_so_and_another_is_refused(app):
    from saraban.archive import circulars, open_archive

    letter = issued(app)
    token = send_from_page(app, app.test_client(), letter.public_id)[2]
    district = app.test_client()
    page = district.get(f"/d/{token}").get_data(as_text=True)
    assert 'name="action" value="reply"' in page and "กำลังอ่านคำตอบ" not in page
    other = open_archive(app.config["SARABAN_HOME"])  # another serving process reads it
    try:
        with circulars.reading_reply(other, token):
            page = district.get(f"/d/{token}").get_data(as_text=True)
            assert "กำลังอ่านคำตอบที่ส่งมา" in page and 'value="reply"' not in page
            body = district.get(f"/d/{token}.json").get_json()
            assert body["delivery"]["reply_being_read"] is True
            refused = district.post(f"/d/{token}/reply", data={"data": json.dumps(FORM_REPLY)})
            assert refused.status_code == 409 and "กำลังอ่าน" in refused.get_json()["error"]
    finally:
        other.close()
    assert district.get(f"/d/{token}.json").get_json()["delivery"]["reply_being_read"] is False
    replied = district.post(f"/d/{token}/reply", data={"data": json.dumps(FORM_REPLY)})
    assert replied.status_code == 200 and replied.get_json()["delivery"]["status"] == "replied"


def test_a_reply_brings_its_files_kept_with_it_and_shown_to_the_province(app):
    """The recipient's page and its JSON twin take files beside the reply (a spreadsheet,
    a photo, a PDF with text and one without), bounded in kind and number, refused naming
    the file as text and keeping nothing; the province's clerk finds them on the reply's
    received page, and the reply by a PDF's words (its text layer). A damaged photo and a
    damaged PDF beside the reply are kept without text (tests/test_circulars_scans.py reads
    real scans)."""
    import io

    from saraban.templates import render_pdf

    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    recipient = app.test_client()
    csrf = csrf_of(recipient.get(f"/d/{tokens[0]}").get_data(as_text=True))

    def reply(files, via="page"):
        fields = {"enclosures": [(io.BytesIO(data), name) for name, data in files]}
        if via == "page":
            return recipient.post(
                f"/d/{tokens[0]}",
                data={"csrf_token": csrf, "action": "reply", **FORM_REPLY, **fields},
                content_type="multipart/form-data",
            )
        return recipient.post(
            f"/d/{tokens[1]}/reply",
            data={"data": json.dumps(FORM_REPLY), **fields},
            content_type="multipart/form-data",
        )

    refused = reply([("<img src=x onerror=alert(1)>.html", b"<script>")])
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "&lt;img src=x onerror=alert(1)&gt;.html" in page
    assert "<img src=x" not in page
    crowded = reply([(f"{n}.csv", b"a,b\n") for n in range(11)], via="json")
    assert crowded.status_code == 400 and "10" in crowded.get_json()["error"]
    assert app.extensions["archive"].received() == []
    done = reply(
        [
            ("ตารางสรุป.xlsx", b"PK\x03\x04 district 1"),
            ("ภาพ.jpg", b"\xff\xd8\xff"),
            ("บันทึก.pdf", render_pdf(make_letter("รายงานการเลี้ยงปลานิลในกระชัง"))),
            ("สแกน.pdf", b"%PDF-1.7\nno text layer"),
        ]
    )
    assert done.status_code == 200 and "ตอบกลับแล้ว" in done.get_data(as_text=True)
    by_system = reply([("sum.csv", "อำเภอ,จำนวน\nเมือง,5\n".encode())], via="json")
    assert by_system.status_code == 200, by_system.get_json()
    archive = app.extensions["archive"]
    kept = {
        r.sender: [f.name for f in archive.enclosed_files(r.letter_id)] for r in archive.received()
    }
    assert sorted(kept.values()) == [
        ["sum.csv"],
        ["ตารางสรุป.xlsx", "ภาพ.jpg", "บันทึก.pdf", "สแกน.pdf"],
    ]
    [first] = [r for r in archive.received() if len(kept[r.sender]) == 4]
    html = client.get(f"/received/{first.public_id}").get_data(as_text=True)
    assert "ไฟล์ที่มากับหนังสือ (๔ ไฟล์)" in html and "ตารางสรุป.xlsx" in html
    assert archive.verify() == []
    app.extensions["saraban_search"].sync_now()  # the PDF's text layer is searchable
    reply_letter = archive.get(first.letter_id)
    assert reply_letter.public_id in client.get("/search?q=ปลานิล").get_data(as_text=True)


def test_a_token_opens_its_own_delivery_and_closed_links_say_so_in_thai(app):
    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    first = app.test_client().get(f"/d/{tokens[0]}.json").get_json()["delivery"]["name"]
    second = app.test_client().get(f"/d/{tokens[1]}.json").get_json()["delivery"]["name"]
    assert first != second
    tracking_page = client.get(f"/letters/{letter.public_id}").get_data(as_text=True)
    delivery = re.search(r'name="delivery" value="([0-9a-f]{24})"', tracking_page).group(1)
    csrf = csrf_of(tracking_page)
    revoke = f"/letters/{letter.public_id}/revoke"
    assert client.post(revoke, data={"csrf_token": csrf, "delivery": "99999"}).status_code == 404
    assert client.post(revoke, data={"csrf_token": csrf, "delivery": delivery}).status_code == 302
    closed = [t for t in tokens if app.test_client().get(f"/d/{t}").status_code == 410]
    assert len(closed) == 1
    page = app.test_client().get(f"/d/{closed[0]}").get_data(as_text=True)
    assert "ลิงก์นี้ใช้ไม่ได้แล้ว" in page and "ยกเลิก" in page
    nothing = app.test_client().get("/d/AAAAAAAAAAAAAAAAAAAAAA")
    assert nothing.status_code == 404 and "ไม่พบหนังสือตามลิงก์นี้" in nothing.get_data(as_text=True)


def test_guessing_tokens_is_rate_limited(app):
    client = app.test_client()
    statuses = [client.get(f"/d/guess{n:017d}").status_code for n in range(25)]
    assert statuses[:20] == [404] * 20 and 429 in statuses[20:]


def test_a_clerk_without_clearance_learns_nothing_of_a_secret_letters_deliveries(app):
    archive = app.extensions["archive"]
    archive.add_unit("นค ๐๐๑๙.๑", "ที่ว่าการอำเภอเมืองหนองคาย", actor="admin")
    from saraban.archive import circulars

    circulars.save_recipient(archive, "อำเภอเมือง (ในระบบ)", actor="admin", unit="นค ๐๐๑๙.๑")
    secret = issued(app, "เรื่องลับมากของจังหวัด", secrecy="ลับ")
    cleared = app.test_client()
    csrf = login(cleared, "secret")
    response = cleared.post(
        f"/letters/{secret.public_id}/send",
        data={"csrf_token": csrf, "to": "อำเภอเมือง (ในระบบ)", "due": "31/12/2599"},
    )
    assert response.status_code == 302
    assert "อำเภอเมือง (ในระบบ)" in cleared.get(f"/letters/{secret.public_id}").get_data(
        as_text=True
    )
    assert "เรื่องลับมากของจังหวัด" in cleared.get("/").get_data(as_text=True)
    clerk = app.test_client()
    csrf = login(clerk, "clerk")
    assert clerk.get(f"/letters/{secret.public_id}").status_code == 404
    assert "เรื่องลับมากของจังหวัด" not in clerk.get("/").get_data(as_text=True)
    for path in (f"/letters/{secret.public_id}/remind", f"/letters/{secret.public_id}/send"):
        assert clerk.post(path, data={"csrf_token": csrf, "to": "ทุกอำเภอ"}).status_code == 404
    with archive._read() as s:
        assert s.scalars(select(OutgoingMail)).all() == []  # never by e-mail


def test_the_address_book_page(app):
    client = app.test_client()
    csrf = login(client, "admin")
    page = client.get("/admin/recipients").get_data(as_text=True)
    assert "ที่ว่าการอำเภอเมืองหนองคาย" in page and "วันหยุดราชการ" in page
    client.post(
        "/admin/recipients",
        data={"csrf_token": csrf, "name": HOSTILE, "groups": "ทุกหน่วย", "email": "a@b.go.th"},
    )
    page = client.get("/admin/recipients").get_data(as_text=True)
    assert HOSTILE not in page and "&lt;script&gt;" in page
    clerk = app.test_client()
    login(clerk, "clerk")
    assert clerk.get("/admin/recipients").status_code == 403


def test_the_api_sends_tracks_and_reminds(app):
    from test_service_support import bearer

    store = app.extensions["saraban_store"]
    clerk = store.user_by_name("clerk") if hasattr(store, "user_by_name") else None
    users = {u.name: u for u in store.users()}
    key = store.create_token(users["clerk"].id, "tests")[0]
    admin_key = store.create_token(users["admin"].id, "tests")[0]
    del clerk
    letter = issued(app)
    client = app.test_client()
    sent = client.post(
        f"/api/v1/letters/{letter.public_id}/send",
        json={"to": ["ทุกอำเภอ"], "working_days": 10, "form": "centre_report"},
        headers=bearer(key),
    )
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert len(body["deliveries"]) == 9 and body["due"]
    assert set(body["deliveries"][0]) == {"name", "email", "link"}
    token = body["deliveries"][0]["link"].rsplit("/", 1)[1]
    app.test_client().post(f"/d/{token}/acknowledge", json={"receive_no": "๗", "by": "ก"})
    tracking = client.get(f"/api/v1/letters/{letter.public_id}/tracking", headers=bearer(key))
    rows = {r["name"]: r for r in tracking.get_json()["recipients"]}
    assert rows[body["deliveries"][0]["name"]]["status"] == "acknowledged"
    reminded = client.post(f"/api/v1/letters/{letter.public_id}/remind", headers=bearer(key))
    assert len(reminded.get_json()["reminded"]) == 9
    listed = client.get("/api/v1/recipients?group=ทุกอำเภอ&per_page=5", headers=bearer(key))
    assert listed.get_json()["total"] == 9 and len(listed.get_json()["items"]) == 5
    refused = client.post("/api/v1/recipients", json={"name": "x"}, headers=bearer(key))
    assert refused.status_code == 403
    added = client.post(
        "/api/v1/recipients",
        json={"name": "สำนักงานจังหวัด", "groups": ["ทุกหน่วย"]},
        headers=bearer(admin_key),
    )
    assert added.status_code == 201


def test_a_big_docx_is_made_in_the_background(app, monkeypatch):
    import time

    from saraban.service import jobs

    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 1)
    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    app.test_client().post(f"/d/{tokens[0]}/reply", data={"data": json.dumps(FORM_REPLY)})
    small = client.get(f"/letters/{letter.public_id}/consolidated.xlsx")
    assert small.status_code == 200 and small.data[:2] == b"PK"
    started = client.get(f"/letters/{letter.public_id}/consolidated.docx")
    assert started.status_code == 302
    job = re.search(r"job=([\w-]+)", started.headers["Location"]).group(1)
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert f"/jobs/{job}/file" in page
    for _ in range(1200):  # made in a process of its own, which starts first
        if client.get(f"/jobs/{job}").get_json()["state"] != "running":
            break
        time.sleep(0.1)
    done = client.get(f"/jobs/{job}/file")
    assert done.status_code == 200 and done.data[:2] == b"PK"
    assert "consolidated-" in done.headers["Content-Disposition"]
    other = app.test_client()
    login(other, "admin")
    assert other.get(f"/jobs/{job}/file").status_code == 404


def _download_events(app):
    return [
        e for e in app.extensions["archive"].events(limit=500) if e.action == "delivery.download"
    ]


def test_downloads_are_audited_once_per_file_and_mark_the_delivery_opened(app):
    """A download straight from the link (a system that never opened the page): audited,
    and the delivery shows as opened; the same file again within the window adds nothing."""
    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    system = app.test_client()
    for _ in range(5):  # a PDF reader asking again and again
        assert system.get(f"/d/{tokens[2]}/files/1").status_code == 200
    events = _download_events(app)
    assert len(events) == 1
    assert events[0].detail["file"] == 1 and events[0].detail["opened"] is True
    assert events[0].detail["name"] == "หนังสือ.pdf" and events[0].actor.startswith("delivery:")
    blank_form = system.get(f"/d/{tokens[2]}/files/2")
    assert blank_form.status_code == 200
    assert len(_download_events(app)) == 2 and _download_events(app)[0].detail["file"] == 2
    assert system.get(f"/d/{tokens[2]}/files/9").status_code == 404
    assert len(_download_events(app)) == 2
    page = client.get(f"/letters/{letter.public_id}").get_data(as_text=True)
    assert "เปิดอ่านแล้ว" in page
    from saraban.usecases import sending

    found = sending.tracking(app.extensions["archive"], letter.id, clearance=None).as_dict()
    statuses = [r["status"] for r in found["recipients"]]
    assert statuses.count("opened") == 1 and found["counts"]["opened"] == 1


# ---- a hostile recipient (the link needs no account) -------------------------------------------


def _reply_page(app, token):
    recipient = app.test_client()
    return recipient, csrf_of(recipient.get(f"/d/{token}").get_data(as_text=True))


def test_a_reply_of_more_rows_than_the_form_takes_is_refused_and_not_drawn_again(app):
    """20,000 rows posted (400 KB) came back as 44 MB of page (2.1 MB: 220 MB, 1.4 GB of
    memory): the page draws one row more than the form takes, and says there are too many;
    a row number no page writes is one problem, however many rows carry it."""
    letter = issued(app)
    tokens = send_from_page(app, app.test_client(), letter.public_id)
    recipient, csrf = _reply_page(app, tokens[0])
    rows = {f"courses.{n}.name": "x" for n in range(9_000)}
    page = recipient.post(
        f"/d/{tokens[0]}", data={"csrf_token": csrf, "action": "reply", **FORM_REPLY, **rows}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "เกินกว่า ๓๐ แถว" in html
    assert len(page.data) < 400_000 and 'name="courses.31.name"' not in html
    for odd_rows in (
        {"courses." + "9" * 5000 + ".name": "x", "courses.๑๒๓๔๕.name": "x"},
        {f"courses.{n}.name": "x" for n in range(10_000, 30_000)},
    ):
        odd = recipient.post(
            f"/d/{tokens[0]}",
            data={"csrf_token": csrf, "action": "reply", **FORM_REPLY, **odd_rows},
        )
        html = odd.get_data(as_text=True)
        assert odd.status_code == 400 and "เลขแถวเกินช่วง" in html
        assert "ไม่ถูกต้อง 1 รายการ" in html and len(odd.data) < 400_000


def test_a_photo_sent_with_the_form_is_kept_cleaned_from_the_page_and_the_json_twin(app):
    """From the page the reply failed (500: the cleaned photo was not JSON); from the JSON
    twin the photo was kept as sent, its metadata (a camera's, a place's) with it."""
    import base64
    import io

    from PIL import Image

    from saraban.archive._circulars import Delivery

    exif = Image.Exif()
    exif[0x010F] = "กล้องของอำเภอ"  # Make
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG", exif=exif)
    jpeg = buffer.getvalue()
    letter = issued(app)
    tokens = send_from_page(app, app.test_client(), letter.public_id)
    recipient, csrf = _reply_page(app, tokens[0])
    page = recipient.post(
        f"/d/{tokens[0]}",
        data={
            "csrf_token": csrf,
            "action": "reply",
            **FORM_REPLY,
            "photos": (io.BytesIO(jpeg), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    sent = {**FORM_REPLY, "photos": [base64.b64encode(jpeg).decode()]}
    twin = app.test_client().post(f"/d/{tokens[1]}/reply", data={"data": json.dumps(sent)})
    assert twin.status_code == 200, twin.get_json()
    with app.extensions["archive"]._read() as s:
        kept = s.scalars(select(Delivery.reply_data).where(Delivery.replied_at.is_not(None))).all()
    assert len(kept) == 2
    for data in kept:
        [photo] = data["photos"]
        image = Image.open(io.BytesIO(base64.b64decode(photo)))
        assert image.size == (64, 48) and 0x010F not in image.getexif()
        assert data["centre_name"] == FORM_REPLY["centre_name"]


def test_a_reply_xml_cannot_hold_is_refused_and_the_summaries_still_open(app):
    """A value with U+FFFF was kept, and from then on the province's XLSX and DOCX summary
    of the circular failed (500) for everyone."""
    letter = issued(app)
    client = app.test_client()
    tokens = send_from_page(app, client, letter.public_id)
    for value in ("ศูนย์\uffff", "ศูนย์\ufffe", "ศูนย์\x0c"):
        bad = app.test_client().post(
            f"/d/{tokens[0]}/reply", data={"data": json.dumps({**FORM_REPLY, "centre_name": value})}
        )
        assert bad.status_code == 400 and "centre_name" in json.dumps(bad.get_json())
    good = app.test_client().post(f"/d/{tokens[0]}/reply", data={"data": json.dumps(FORM_REPLY)})
    assert good.status_code == 200
    for fmt in ("xlsx", "docx", "csv"):
        made = client.get(f"/letters/{letter.public_id}/consolidated.{fmt}")
        assert made.status_code == 200, (fmt, made.data[:300])
    assert made.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not twice


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ('{"province": "a", "province": "b"}', "ซ้ำกัน"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "ซ้อนกันลึก"),
        ('{"moo": ' + "9" * 5000 + "}", "ใหญ่เกินไป"),
        ('{"moo": NaN}', "ไม่ใช่ตัวเลข"),
        ('["province"]', "ออบเจกต์"),
    ],
    ids=["duplicate-key", "deep", "long-number", "nan", "not-an-object"],
)
def test_a_replys_form_data_is_read_by_the_apis_strict_json_rules(app, data, said):
    """A deep nesting or a long number was a 500; a key given twice was taken silently."""
    letter = issued(app)
    tokens = send_from_page(app, app.test_client(), letter.public_id)
    answer = app.test_client().post(f"/d/{tokens[0]}/reply", data={"data": data})
    body = answer.get_json()
    assert answer.status_code == 400 and body["ok"] is False, body
    assert body["error"].startswith("data: ") and said in body["error"]


def test_a_whole_number_of_thousands_of_digits_is_out_of_range_not_a_server_error(app):
    """Python refuses to read an integer of more than 4,300 digits: it was a 500."""
    letter = issued(app)
    tokens = send_from_page(app, app.test_client(), letter.public_id)
    long = "9" * 5000
    course = {"name": "หลักสูตรจิตอาสา", "days": long}
    answer = app.test_client().post(
        f"/d/{tokens[0]}/reply", data={"data": json.dumps({**FORM_REPLY, "courses": [course]})}
    )
    said = json.dumps(answer.get_json(), ensure_ascii=False)
    assert answer.status_code == 400 and "นอกช่วง" in said and long not in said
    recipient, csrf = _reply_page(app, tokens[1])
    typed = {"courses.0.name": course["name"], "courses.0.days": long}
    page = recipient.post(
        f"/d/{tokens[1]}", data={"csrf_token": csrf, "action": "reply", **FORM_REPLY, **typed}
    )
    assert page.status_code == 400 and "นอกช่วง" in page.get_data(as_text=True)


def test_a_district_reply_marked_secret_is_not_linked_for_a_clerk_without_clearance(app):
    """Tracking gave the secret reply's id (and the page a link, 404 when opened); the
    revoke buttons named deliveries by their row numbers, which count every circular's."""
    import io

    from test_service_support import bearer, secret_letter, tokens

    keys = tokens(app, {u.name: u for u in app.extensions["saraban_store"].users()})
    letter = issued(app)
    client = app.test_client()
    links = send_from_page(app, client, letter.public_id)
    reply = secret_letter("ลับ", "รายงานลับเรื่องนาคราช")
    reply["ref_no"], reply["date"] = "นค ๐๒๑๘/๔๕๖", "2025-12-01"
    docx = app.extensions["archive"].renderer.render_docx(reply)
    answered = app.test_client().post(
        f"/d/{links[0]}/reply",
        data={"file": (io.BytesIO(docx), "reply.docx")},
        content_type="multipart/form-data",
    )
    assert answered.status_code == 200, answered.get_json()
    for name, linked in (("clerk", False), ("secret", True)):
        tracked = app.test_client().get(
            f"/api/v1/letters/{letter.public_id}/tracking", headers=bearer(keys[name])
        )
        replies = [r["reply_letter"] for r in tracked.get_json()["recipients"]]
        assert any(replies) is linked, (name, replies)
    page = client.get(f"/letters/{letter.public_id}").get_data(as_text=True)
    assert "หนังสือตอบ</a>" not in page
    assert not re.search(r'name="delivery" value="\d{1,9}"', page)
