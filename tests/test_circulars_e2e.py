"""Issue 15's "done when", on real parts: a province with nine districts (geothai), a
circular with the centre-report form enclosed, sent to ทุกอำเภอ from the letter page; the
e-mails arrive at a real local SMTP server (aiosmtpd) through the mail queue; six districts
acknowledge and five reply through their links (three by the form, two by an uploaded
letter), one after the due date; tracking shows exactly that; the consolidated XLSX (read
back with openpyxl) has the three form replies with correct totals and lists the two
letter replies and the four districts that did not reply; ``remind`` e-mails those four."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from conftest import make_letter
from test_circulars import Inbox
from test_service_support import UNIT, add_unit, add_users, csrf_of, login, make_app

from saraban.templates import render_docx
from saraban.usecases import recipients, sending

TODAY = dt.date.today()
DUE = TODAY + dt.timedelta(days=7)


@pytest.fixture(autouse=True)
def _today_as_each_test_runs():
    """TODAY and DUE when the test runs, not when the module was collected: a whole run may
    pass midnight (tests comparing a due date with today failed so at 00:04)."""
    global TODAY, DUE
    TODAY = dt.date.today()
    DUE = TODAY + dt.timedelta(days=7)


def _form(district: str, advisers: int) -> dict[str, object]:
    return {
        "province": "หนองคาย",
        "district": district,
        "subdistrict": district,
        "village": f"บ้าน{district}",
        "centre_name": f"ศูนย์{district}",
        "advisers": [{"name": f"ที่ปรึกษา {n}", "kind": "ส่วนราชการ"} for n in range(advisers)],
    }


def _reply_letter(name: str, number: str) -> bytes:
    doc = make_letter(
        f"รายงานข้อมูลศูนย์ผู้นำจิตอาสา {name}",
        sender={"name": name, "address": ["หนองคาย ๔๓๐๐๐"]},
        addressee="ผู้ว่าราชการจังหวัดหนองคาย",
    )
    doc["ref_no"] = number
    doc["date"] = TODAY.isoformat()
    return render_docx(doc)


def test_a_circular_goes_to_nine_districts_and_comes_back(tmp_path):
    import openpyxl

    from saraban.service import close_app

    inbox = Inbox()
    inbox.controller.start()
    app = make_app(
        tmp_path / "home",
        SARABAN_BASE_URL="https://saraban.nongkhai.go.th",
        SARABAN_SMTP_HOST="127.0.0.1",
        SARABAN_SMTP_PORT=str(inbox.port),
        SARABAN_SMTP_TLS="none",
        SARABAN_MAIL_FROM="saraban@nongkhai.go.th",
    )
    try:
        add_unit(app)
        add_users(app)
        archive = app.extensions["archive"]
        settings = app.extensions["saraban_settings"]
        seeded = recipients.seed_province(archive, "หนองคาย", actor="admin")
        assert len(seeded.added) == 9
        rows = ["name,email"] + [f"{r.name},d{r.code}@nongkhai.go.th" for r in seeded.added]
        recipients.import_csv(archive, "\n".join(rows).encode(), actor="admin")
        circular = archive.issue(
            make_letter("ขอให้รายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน", circular=True),
            UNIT,
            actor="clerk",
        )

        # the clerk sends it from the letter page
        clerk = app.test_client()
        csrf = login(clerk, "clerk")
        due_be = f"{DUE.day}/{DUE.month}/{DUE.year + 543}"
        response = clerk.post(
            f"/letters/{circular.public_id}/send",
            data={"csrf_token": csrf, "to": "ทุกอำเภอ", "due": due_be, "form": "centre_report"},
        )
        assert response.status_code == 302

        # the background sender delivers the nine e-mails to the SMTP server
        deadline = dt.datetime.now() + dt.timedelta(seconds=30)
        while len(inbox.messages) < 9 and dt.datetime.now() < deadline:
            inbox.received.wait(1)
            inbox.received.clear()
        assert len(inbox.messages) == 9
        links = {}
        for (_from, (to,)), message in zip(inbox.envelopes, inbox.messages, strict=True):
            found = re.search(
                r"https://saraban\.nongkhai\.go\.th/d/([\w-]{22})", message.get_content()
            )
            assert found, message.get_content()
            links[to] = found.group(1)
        by_name = {r.name: links[r.email] for r in recipients.listing(archive, "ทุกอำเภอ")}
        names = sorted(by_name)
        assert len(names) == 9

        district = app.test_client()  # each district: no account, only its link
        # six acknowledge (JSON twin for three, the page's form for three)
        for n, name in enumerate(names[:6]):
            token = by_name[name]
            if n % 2:
                answer = district.post(
                    f"/d/{token}/acknowledge", json={"receive_no": f"{100 + n}", "by": "ธุรการ"}
                )
                assert answer.status_code == 200, answer.get_json()
            else:
                page = district.get(f"/d/{token}").get_data(as_text=True)
                answer = district.post(
                    f"/d/{token}",
                    data={
                        "csrf_token": csrf_of(page),
                        "action": "acknowledge",
                        "receive_no": f"{100 + n}",
                        "by": "ธุรการ",
                    },
                )
                assert answer.status_code == 200
        # three reply by the form (2 + 3 + 4 advisers), one of them through the page
        page = district.get(f"/d/{by_name[names[0]]}").get_data(as_text=True)
        flat = {
            "csrf_token": csrf_of(page),
            "action": "reply",
            **{k: v for k, v in _form(names[0], 0).items() if isinstance(v, str)},
            "advisers.0.name": "ที่ปรึกษา ก",
            "advisers.0.kind": "ส่วนราชการ",
            "advisers.1.name": "ที่ปรึกษา ข",
            "advisers.1.kind": "ส่วนราชการ",
        }
        assert district.post(f"/d/{by_name[names[0]]}", data=flat).status_code == 200
        for name, advisers in ((names[1], 3), (names[2], 4)):
            answer = district.post(
                f"/d/{by_name[name]}/reply", data={"data": json.dumps(_form(name, advisers))}
            )
            assert answer.status_code == 200, answer.get_json()
        # two reply with a letter: one through the link, one after the due date
        answer = district.post(
            f"/d/{by_name[names[3]]}/reply",
            data={"file": (io.BytesIO(_reply_letter(names[3], "นค ๐๕๑๘/๑๑")), "ตอบ.docx")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200, answer.get_json()
        late = dt.datetime.combine(DUE + dt.timedelta(days=2), dt.time(10), dt.UTC)
        sending.reply(
            archive,
            by_name[names[4]],
            upload=("ตอบ.docx", _reply_letter(names[4], "นค ๐๕๑๘/๑๒")),
            now=late,
        )

        # tracking shows exactly that
        body = sending.tracking(archive, circular.id, clearance=None).as_dict()
        assert body["due"] == DUE.isoformat()
        assert body["counts"] == {
            "recipients": 9,
            "opened": 6,
            "acknowledged": 6,
            "replied": 5,
            "late": 1,
        }
        status = {r["name"]: r for r in body["recipients"]}
        assert [status[n]["status"] for n in names] == ["replied"] * 5 + ["acknowledged"] + [
            "sent"
        ] * 3
        assert [status[n]["late"] for n in names] == [False] * 4 + [True] + [False] * 4
        assert [status[n]["receive_no"] for n in names[:6]] == [str(100 + n) for n in range(6)]
        page = clerk.get(f"/letters/{circular.public_id}").get_data(as_text=True)
        assert "ตอบกลับ <strong>5</strong>" in page or "ตอบกลับ <strong>๕</strong>" in page
        # the replies are received letters of the province, numbered, linked to the circular
        received = archive.received(register=UNIT)
        assert sorted(r.sender for r in received) == sorted(names[:5])
        assert sorted(r.serial for r in received) == [1, 2, 3, 4, 5]
        thread = archive.thread(circular.id)
        assert len([a for a, b in thread.links if b == circular.id]) == 5

        # the consolidated XLSX, from the page's button
        download = clerk.get(f"/letters/{circular.public_id}/consolidated.xlsx")
        assert download.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(download.data)).active
        table = [[c.value for c in row] for row in sheet.iter_rows()]
        header = table[2]
        advisers = header.index("คณะที่ปรึกษา (จำนวนแถว)")
        rows = table[3:6]
        assert [r[1] for r in rows] == names[:3]
        assert [r[advisers] for r in rows] == [2, 3, 4]
        total = table[6]
        assert total[1] == "รวม" and total[advisers] == 9
        listed = [r[1] for r in table[7:] if r[1]]
        assert listed == ["ตอบเป็นหนังสือ (2)", names[3], names[4], "ยังไม่ตอบ (4)", *names[5:]]

        # remind e-mails the four that did not reply
        inbox.messages.clear()
        inbox.envelopes.clear()
        csrf = csrf_of(page)
        assert (
            clerk.post(
                f"/letters/{circular.public_id}/remind", data={"csrf_token": csrf}
            ).status_code
            == 302
        )
        deadline = dt.datetime.now() + dt.timedelta(seconds=30)
        while len(inbox.messages) < 4 and dt.datetime.now() < deadline:
            inbox.received.wait(1)
            inbox.received.clear()
        reminded = sorted(to for _f, (to,) in inbox.envelopes)
        wanted = sorted(r.email for r in recipients.listing(archive) if r.name in names[5:])
        assert reminded == wanted
        assert all("ทวงถาม" in m["Subject"] for m in inbox.messages)
        assert settings.smtp_host == "127.0.0.1"
    finally:
        close_app(app)
        inbox.controller.stop()
