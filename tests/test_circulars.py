"""Circulars that come back, on real parts: the address book seeded from geothai, sending
with deliveries and hashed private links, e-mail through a real local SMTP server
(aiosmtpd), the working-day calendar, acknowledging and replying through a link, tracking,
reminders, and what a user without clearance (or a token for another delivery) learns."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from sqlalchemy import func, select

from saraban.archive import circulars, mail
from saraban.archive._circulars import Delivery, DeliveryToken
from saraban.archive._mail import OutgoingMail
from saraban.errors import BadRequest, Conflict, InvalidLetter, NotFound
from saraban.settings import Settings
from saraban.usecases import recipients, sending

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _today_as_each_test_runs():
    """TODAY when the test runs, not when the module was collected: a whole run may pass
    midnight (tests comparing a due date with today failed so at 00:04)."""
    global TODAY
    TODAY = dt.date.today()


FORM_REPLY = {
    "province": "หนองคาย",
    "district": "ท่าบ่อ",
    "subdistrict": "ท่าบ่อ",
    "village": "บ้านท่าบ่อ",
    "centre_name": "ศูนย์ท่าบ่อ",
}


class Inbox:
    """A real SMTP server on a free local port, keeping every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.received = threading.Event()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.set()
        return "250 OK"


@pytest.fixture
def inbox():
    box = Inbox()
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()


def settings_for(home, inbox=None, **more):
    values = {
        "SARABAN_HOME": str(home),
        "SARABAN_BASE_URL": "https://saraban.example.go.th",
        "SARABAN_MAIL_FROM": "saraban@nongkhai.go.th",
    }
    if inbox is not None:
        values |= {
            "SARABAN_SMTP_HOST": "127.0.0.1",
            "SARABAN_SMTP_PORT": str(inbox.port),
            "SARABAN_SMTP_TLS": "none",
        }
    return Settings.from_mapping(values | more)


def seeded(archive, *, emails=True):
    recipients.seed_province(archive, "หนองคาย", actor="clerk")
    if emails:
        rows = ["name,email"] + [
            f"{r.name},{r.code}@district.example.go.th" for r in recipients.listing(archive)
        ]
        recipients.import_csv(archive, "\n".join(rows).encode(), actor="clerk")


def issue(archive, subject="ขอให้รายงานข้อมูลศูนย์ผู้นำจิตอาสา", **fields):
    return archive.issue(make_letter(subject, **fields), ARCHIVE_UNIT, actor="clerk")


def test_a_provinces_districts_are_seeded_from_geothai_once(archive):
    first = recipients.seed_province(archive, "หนองคาย", actor="clerk")
    assert len(first.added) == 9
    names = {r.name for r in first.added}
    assert "ที่ว่าการอำเภอเมืองหนองคาย" in names
    muang = next(r for r in first.added if r.name == "ที่ว่าการอำเภอเมืองหนองคาย")
    assert muang.addressee == "นายอำเภอเมืองหนองคาย" and muang.groups == ["ทุกอำเภอ"]
    assert muang.code == "4301"
    again = recipients.seed_province(archive, "43", actor="clerk")
    assert again.added == [] and len(again.kept) == 9
    assert circulars.groups(archive) == {"ทุกอำเภอ": 9}
    with pytest.raises(NotFound):
        recipients.seed_province(archive, "แอตแลนติส", actor="clerk")


def test_csv_import_updates_by_name_all_or_nothing_naming_each_bad_line(archive):
    recipients.seed_province(archive, "หนองคาย", actor="clerk")
    good = (
        "\ufeffname,addressee,email,groups\n"
        "ที่ว่าการอำเภอท่าบ่อ,นายอำเภอท่าบ่อ,thabo@example.go.th,ทุกอำเภอ;ริมโขง\n"
        "สำนักงานพัฒนาชุมชนจังหวัด,พัฒนาการจังหวัดหนองคาย,pc@example.go.th,\n"
    )
    bad = (
        'ผิด,,"bad@example.go.th\r\nBcc: evil@example.com",\n'  # lines 4-5: one quoted value
        ",,nobody@example.go.th,\n"  # line 6: no name
    )
    last_event = archive.events(limit=1)[0].seq
    with pytest.raises(circulars.RecipientsRefused) as refused:
        recipients.import_csv(archive, (good + bad).encode(), actor="clerk")
    assert [line for line, _text in refused.value.lines] == [5, 6]
    assert refused.value.status == 400
    assert "บรรทัดที่ 5" in refused.value.message and "บรรทัดที่ 6" in refused.value.message
    assert "ไม่ได้บันทึกผู้รับเลย" in refused.value.message
    # nothing of the file was kept: the good lines neither, and no audit event
    names = {r.name for r in recipients.listing(archive)}
    assert "สำนักงานพัฒนาชุมชนจังหวัด" not in names
    thabo = next(r for r in recipients.listing(archive) if r.name == "ที่ว่าการอำเภอท่าบ่อ")
    assert thabo.email is None and thabo.groups == ["ทุกอำเภอ"]
    assert archive.events(limit=1)[0].seq == last_event

    saved = recipients.import_csv(archive, good.encode(), actor="clerk")
    assert [r.name for r in saved] == ["ที่ว่าการอำเภอท่าบ่อ", "สำนักงานพัฒนาชุมชนจังหวัด"]
    thabo = next(r for r in recipients.listing(archive) if r.name == "ที่ว่าการอำเภอท่าบ่อ")
    assert thabo.email == "thabo@example.go.th" and thabo.groups == ["ทุกอำเภอ", "ริมโขง"]
    assert len(recipients.listing(archive, "ทุกอำเภอ")) == 9
    with pytest.raises(BadRequest):
        recipients.import_csv(archive, "name\n\xff".encode("latin-1"), actor="clerk")


def test_a_csv_line_that_fails_while_writing_rolls_back_the_lines_before_it(archive):
    """An unknown unit is found only inside the transaction: the lines already written
    in it are undone too, and the error names the line."""
    data = "name,unit\nสำนักงานหนึ่ง,\nสำนักงานสอง,ไม่มีหน่วยนี้\n".encode()
    with pytest.raises(circulars.RecipientsRefused) as refused:
        recipients.import_csv(archive, data, actor="clerk")
    assert refused.value.lines[0][0] == 3 and "ไม่มีหน่วยนี้" in refused.value.lines[0][1]
    assert recipients.listing(archive) == []


@pytest.mark.parametrize(
    "address", ["a@b", "x@example.com\r\nBcc: y@example.com", "a@b.c, d@e.f", "<a@b.c>", "@b.c"]
)
def test_an_email_address_is_one_mailbox(archive, address):
    with pytest.raises(BadRequest):
        circulars.save_recipient(archive, "ผู้รับ", actor="clerk", email=address)


def test_working_days_skip_weekends_and_the_holiday_calendar(archive):
    # Friday 10 April 2026; Songkran is 13-15 April (Mon-Wed), Chakri Day was 6 April.
    assert circulars.add_working_days(archive, dt.date(2026, 4, 10), 1) == dt.date(2026, 4, 16)
    days = {d for d, _n, _s in circulars.holidays(archive, 2026)}
    assert dt.date(2026, 4, 13) in days and dt.date(2026, 3, 3) in days  # มาฆบูชา
    circulars.remove_holiday(archive, dt.date(2026, 4, 15), actor="admin")
    assert circulars.add_working_days(archive, dt.date(2026, 4, 10), 1) == dt.date(2026, 4, 15)
    circulars.set_holiday(archive, dt.date(2026, 4, 16), "วันหยุดพิเศษ", actor="admin")
    assert circulars.add_working_days(archive, dt.date(2026, 4, 10), 2) == dt.date(2026, 4, 17)
    # removing a day does not make the year seed again
    assert dt.date(2026, 4, 15) not in {d for d, _n, _s in circulars.holidays(archive, 2026)}


def test_a_due_date_typed_in_ce_is_caught():
    with pytest.raises(InvalidLetter) as caught:
        sending.parse_due("31/1/2027")
    assert caught.value.problems[0].code == "ce_year"
    assert sending.parse_due("๓๑/๑/๒๕๗๐") == dt.date(2027, 1, 31)


def test_send_makes_one_delivery_per_recipient_and_queues_mail(archive, archive_home, inbox):
    seeded(archive)
    letter = issue(archive)
    settings = settings_for(archive_home, inbox)
    sent = sending.send(
        archive,
        settings,
        letter.id,
        ["ทุกอำเภอ"],
        actor="clerk",
        clearance=None,
        due=TODAY + dt.timedelta(days=14),
        form="centre_report",
    )
    body = sent.as_dict()
    assert len(body["deliveries"]) == 9
    links = [d["link"] for d in body["deliveries"]]
    assert all(link.startswith("https://saraban.example.go.th/d/") for link in links)
    assert len(set(links)) == 9
    with archive._read() as s:
        hashes = set(s.scalars(select(DeliveryToken.token_sha256)))
        assert len(s.scalars(select(Delivery)).all()) == 9
    tokens = [link.rsplit("/", 1)[1] for link in links]
    assert not hashes & set(tokens)  # only hashes are kept
    assert {circulars.token_hash(t) for t in tokens} == hashes
    # the letter, and the blank form to reply on
    names = [e["name"] for e in sent.deliveries[0].enclosures]
    assert names[0] == "หนังสือ.pdf" and names[-1].endswith(".docx")
    # sending again to the same recipients is refused: a reminder is the way
    with pytest.raises(Conflict):
        sending.send(archive, settings, letter.id, ["ทุกอำเภอ"], clearance=None)
    assert mail.pending_count(archive) == 9
    assert sending.send_mail(archive, settings) == (9, 0)
    assert len(inbox.messages) == 9
    message = inbox.messages[0]
    assert message["From"] == "saraban@nongkhai.go.th"
    assert "ขอให้รายงานข้อมูลศูนย์ผู้นำจิตอาสา" in message["Subject"]
    text = message.get_content()
    assert any(link in text for link in links) and "ขอให้ตอบกลับภายในวันที่" in text
    # the body with the link is not kept once sent
    with archive._read() as s:
        assert all(tokens[0] not in m.body for m in s.scalars(select(OutgoingMail)))
    assert sending.send_mail(archive, settings) == (0, 0)


def test_unknown_recipients_and_a_past_due_date_are_refused(archive, archive_home):
    seeded(archive)
    letter = issue(archive)
    settings = settings_for(archive_home)
    with pytest.raises(NotFound, match="ทุกตำบล"):
        sending.send(archive, settings, letter.id, ["ทุกตำบล"], clearance=None)
    with pytest.raises(InvalidLetter):
        sending.send(
            archive, settings, letter.id, ["ทุกอำเภอ"], clearance=None, due=TODAY - dt.timedelta(1)
        )
    with archive._read() as s:
        assert s.scalars(select(Delivery)).all() == []


def test_a_hostile_subject_never_becomes_a_header(archive, archive_home, inbox):
    seeded(archive)
    settings = settings_for(archive_home, inbox)
    letter = issue(archive, subject="ขอข้อมูล Bcc: evil@example.com")
    sending.send(archive, settings, letter.id, ["ที่ว่าการอำเภอท่าบ่อ"], clearance=None)
    with archive._write() as s:  # a row written some other way, with CR/LF in its subject
        mail.enqueue(
            s,
            to="x@example.go.th",
            sender="saraban@nongkhai.go.th",
            subject="รายงาน\r\nBcc: evil@example.com",
            body="x",
            delivery_id=None,
        )
    assert sending.send_mail(archive, settings) == (1, 1)
    assert len(inbox.messages) == 1
    assert all(rcpts == ["4302@district.example.go.th"] for _f, rcpts in inbox.envelopes)
    assert inbox.messages[0]["Bcc"] is None
    failed = [m for m in mail.queue(archive) if m.status == "failed"]
    assert len(failed) == 1 and "ValueError" in failed[0].last_error


def test_mail_waits_while_the_server_is_down_and_goes_later(archive, archive_home):
    seeded(archive)
    letter = issue(archive)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    down = settings_for(
        archive_home,
        SARABAN_SMTP_HOST="127.0.0.1",
        SARABAN_SMTP_PORT=str(closed_port),
        SARABAN_SMTP_TLS="none",
    )
    sending.send(archive, down, letter.id, ["ที่ว่าการอำเภอท่าบ่อ"], clearance=None)
    assert sending.send_mail(archive, down) == (0, 1)
    queued = mail.queue(archive)[0]
    assert queued.status == "queued" and queued.attempts == 1 and queued.last_error
    assert sending.send_mail(archive, down) == (0, 0)  # not before its next try


def test_a_secret_letter_goes_only_to_units_here_and_never_by_link(archive, archive_home):
    seeded(archive)
    archive.add_unit("นค ๐๐๑๙.๑", "ที่ว่าการอำเภอเมืองหนองคาย", actor="admin")
    circulars.save_recipient(
        archive,
        "อำเภอเมืองหนองคาย (ในระบบ)",
        actor="admin",
        unit="นค ๐๐๑๙.๑",
        email="muang@example.go.th",
    )
    secret = issue(archive, subject="แผนรักษาความปลอดภัยลับ", secrecy="ลับ")
    settings = settings_for(archive_home)
    with pytest.raises(BadRequest, match="หนังสือลับ"):
        sending.send(archive, settings, secret.id, ["ทุกอำเภอ"], clearance="ลับ")
    with pytest.raises(NotFound):  # a clerk without clearance: as if there were no letter
        sending.send(archive, settings, secret.id, ["อำเภอเมืองหนองคาย (ในระบบ)"], clearance=None)
    sent = sending.send(archive, settings, secret.id, ["อำเภอเมืองหนองคาย (ในระบบ)"], clearance="ลับ")
    assert sent.as_dict()["deliveries"] == [
        {"name": "อำเภอเมืองหนองคาย (ในระบบ)", "email": None, "link": None}
    ]
    assert mail.pending_count(archive) == 0
    received = archive.received(register="นค ๐๐๑๙.๑")
    assert [(r.serial, r.secrecy, r.letter_id) for r in received] == [(1, "ลับ", secret.id)]
    assert archive.received(register="นค ๐๐๑๙.๑", clearance=None) == []
    # tracking, the dashboard list and reminders learn nothing without clearance
    with pytest.raises(NotFound):
        sending.tracking(archive, secret.id, clearance=None)
    with pytest.raises(NotFound):
        sending.remind(archive, settings, secret.id, clearance=None)
    assert sending.tracking(archive, secret.id, clearance="ลับ").counts()["recipients"] == 1
    # a token for its delivery made some other way (a hand-edited database) opens nothing
    forged = circulars.new_token()
    now = dt.datetime.now(dt.UTC)
    with archive._write() as s:
        s.add(
            DeliveryToken(
                delivery_id=sent.deliveries[0].id,
                token_sha256=circulars.token_hash(forged),
                created_at=now,
                expires_at=now + dt.timedelta(days=1),
            )
        )
    with pytest.raises(NotFound):
        sending.open_delivery(archive, forged)
    with pytest.raises(NotFound):
        sending.delivery_file(archive, forged, 0)


def _sent(archive, archive_home, inbox=None, **kwargs):
    seeded(archive)
    letter = issue(archive)
    settings = settings_for(archive_home, inbox)
    sent = sending.send(
        archive,
        settings,
        letter.id,
        ["ทุกอำเภอ"],
        clearance=None,
        form="centre_report",
        **kwargs,
    )
    tokens = {d.name: sent.links[d.id].rsplit("/", 1)[1] for d in sent.deliveries}
    return letter, settings, tokens


def test_a_token_opens_its_own_delivery_only(archive, archive_home):
    _letter, _settings, tokens = _sent(archive, archive_home)
    thabo, phon = tokens["ที่ว่าการอำเภอท่าบ่อ"], tokens["ที่ว่าการอำเภอโพนพิสัย"]
    opened = sending.open_delivery(archive, thabo)
    assert opened.delivery.name == "ที่ว่าการอำเภอท่าบ่อ" and opened.delivery.opened_at
    assert sending.open_delivery(archive, phon).delivery.name == "ที่ว่าการอำเภอโพนพิสัย"
    for wrong in (thabo[:-1], thabo + "A", thabo.upper(), "", "x" * 5000, phon[::-1]):
        with pytest.raises(NotFound):
            sending.open_delivery(archive, wrong)
    sending.acknowledge(archive, thabo, "๑๒๓๔", "นางสาวสมใจ")
    phon_state = sending.open_delivery(archive, phon).delivery
    assert phon_state.acknowledged_at is None and phon_state.receive_no is None


def test_revoked_and_expired_links_are_closed(archive, archive_home):
    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอท่าบ่อ"]
    delivery = sending.open_delivery(archive, token).delivery
    circulars.revoke(archive, delivery.id, actor="clerk")
    with pytest.raises(circulars.LinkClosed, match="ยกเลิก") as caught:
        sending.open_delivery(archive, token)
    assert caught.value.status == 410
    other = tokens["ที่ว่าการอำเภอโพนพิสัย"]
    with archive._write() as s:
        row = s.scalar(
            select(DeliveryToken).where(DeliveryToken.token_sha256 == circulars.token_hash(other))
        )
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with pytest.raises(circulars.LinkClosed, match="หมดอายุ"):
        sending.open_delivery(archive, other)


def test_acknowledge_and_reply_by_form_and_by_letter(archive, archive_home):
    from saraban.templates import render_docx

    letter, _settings, tokens = _sent(archive, archive_home)
    thabo = tokens["ที่ว่าการอำเภอท่าบ่อ"]
    done = sending.acknowledge(archive, thabo, "ทบ ๕๕/๒๕๖๙", "นางสาวสมใจ รับดี")
    assert done.receive_no == "ทบ ๕๕/๒๕๖๙" and done.status == "acknowledged"
    with pytest.raises(Conflict):
        sending.acknowledge(archive, thabo, "อีกเลข", "x")
    with pytest.raises(BadRequest):
        sending.acknowledge(archive, tokens["ที่ว่าการอำเภอโพนพิสัย"], "", "x")
    from saraban.templates.forms import InvalidFormData

    with pytest.raises(InvalidFormData):
        sending.reply(archive, thabo, data={"province": "หนองคาย"})
    replied = sending.reply(archive, thabo, data=FORM_REPLY)
    assert replied.status == "replied" and replied.reply_data == FORM_REPLY
    with pytest.raises(Conflict):
        sending.reply(archive, thabo, data=FORM_REPLY)
    # a reply by letter: read by the importer, kept, numbered in the receive register
    reply_doc = make_letter(
        "รายงานข้อมูลศูนย์ อำเภอโพนพิสัย",
        sender={"name": "ที่ว่าการอำเภอโพนพิสัย", "address": ["โพนพิสัย"]},
        addressee="ผู้ว่าราชการจังหวัดหนองคาย",
    )
    reply_doc["ref_no"] = "นค ๐๕๑๘/๑๒๓"
    reply_doc["date"] = TODAY.isoformat()
    docx = render_docx(reply_doc)
    phon = sending.reply(archive, tokens["ที่ว่าการอำเภอโพนพิสัย"], upload=("รายงาน.docx", docx))
    assert phon.reply_letter_id and phon.reply_received_id
    received = archive.received(register=ARCHIVE_UNIT)
    assert [r.sender for r in received] == ["ที่ว่าการอำเภอท่าบ่อ", "ที่ว่าการอำเภอโพนพิสัย"]
    assert [r.serial for r in received] == [1, 2]
    thread = archive.thread(phon.reply_letter_id)
    assert (phon.reply_letter_id, letter.id) in thread.links  # อ้างถึง the circular
    assert (replied.reply_letter_id, letter.id) in archive.thread(letter.id).links
    with pytest.raises(Conflict) as caught:  # the same file again: no letter id to outsiders
        sending.reply(archive, tokens["ที่ว่าการอำเภอเฝ้าไร่"], upload=("อีกครั้ง.docx", docx))
    assert str(phon.reply_letter_id) not in caught.value.message
    with pytest.raises(BadRequest):
        sending.reply(archive, tokens["ที่ว่าการอำเภอเฝ้าไร่"], upload=("x.exe", b"MZ"))
    with pytest.raises(BadRequest):
        sending.reply(archive, tokens["ที่ว่าการอำเภอเฝ้าไร่"])


def test_tracking_counts_late_and_remind_emails_those_not_replied(archive, archive_home, inbox):
    letter, settings, tokens = _sent(archive, archive_home, inbox, due=TODAY)
    sending.send_mail(archive, settings)
    inbox.messages.clear()
    sending.open_delivery(archive, tokens["ที่ว่าการอำเภอสังคม"])
    sending.acknowledge(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], "๑", "ก")
    sending.reply(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], data=FORM_REPLY)
    found = sending.tracking(archive, letter.id, clearance=None)
    body = found.as_dict()
    assert body["letter"] == letter.public_id and body["due"] == TODAY.isoformat()
    assert body["counts"] == {
        "recipients": 9,
        "opened": 2,
        "acknowledged": 1,
        "replied": 1,
        "late": 0,
    }
    by_name = {r["name"]: r for r in body["recipients"]}
    assert by_name["ที่ว่าการอำเภอสังคม"]["status"] == "opened"
    assert by_name["ที่ว่าการอำเภอท่าบ่อ"]["status"] == "replied"
    assert by_name["ที่ว่าการอำเภอท่าบ่อ"]["receive_no"] == "๑"
    assert set(body["recipients"][0]) >= {
        "name",
        "status",
        "opened_at",
        "acknowledged_at",
        "receive_no",
        "replied_at",
        "late",
    }
    tomorrow = sending.tracking(archive, letter.id, clearance=None, today=TODAY + dt.timedelta(1))
    assert tomorrow.counts()["late"] == 8
    awaiting = sending.awaiting(archive, None)
    assert [(a.letter_id, a.sent, a.replied) for a in awaiting] == [(letter.id, 9, 1)]
    reminded = sending.remind(archive, settings, letter.id, clearance=None)
    assert len(reminded) == 8
    assert "ที่ว่าการอำเภอท่าบ่อ" not in {d.name for d, _link in reminded}
    assert sending.send_mail(archive, settings) == (8, 0)
    assert len(inbox.messages) == 8 and all("ทวงถาม" in m["Subject"] for m in inbox.messages)
    # the reminder's new link works, and so does the first one
    new_token = reminded[0][1].rsplit("/", 1)[1]
    assert sending.open_delivery(archive, new_token).delivery.name == reminded[0][0].name
    assert sending.open_delivery(archive, tokens[reminded[0][0].name])


def test_every_step_is_audited(archive, archive_home):
    letter, settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอท่าบ่อ"]
    sending.open_delivery(archive, token)
    sending.acknowledge(archive, token, "๑", "ก")
    sending.reply(archive, token, data=FORM_REPLY)
    sending.remind(archive, settings, letter.id, clearance=None)
    actions = [e.action for e in archive.history(letter.id)]
    for action in (
        "letter.send",
        "delivery.open",
        "delivery.acknowledge",
        "delivery.reply",
        "letter.remind",
    ):
        assert action in actions, actions
    assert archive.verify() == []


HOSTILE_CELLS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]


def test_consolidation_merges_form_replies_and_never_makes_a_formula(archive, archive_home):
    import csv
    import io

    import docx
    import openpyxl

    from saraban.templates import render_docx
    from saraban.usecases import consolidating

    letter, _settings, tokens = _sent(archive, archive_home)
    names = sorted(tokens)
    for n, name in enumerate(names[:4]):
        data = FORM_REPLY | {
            "village": HOSTILE_CELLS[n],
            "advisers": [{"name": f"ที่ปรึกษา {i}", "kind": "ส่วนราชการ"} for i in range(n + 1)],
        }
        sending.reply(archive, tokens[name], data=data)
    reply_doc = make_letter("รายงาน", sender={"name": names[4], "address": ["x"]})
    reply_doc["ref_no"] = "นค ๐๕๑๘/๙"
    reply_doc["date"] = TODAY.isoformat()
    sending.reply(archive, tokens[names[4]], upload=("r.docx", render_docx(reply_doc)))
    found = consolidating.consolidate(archive, letter.id, clearance=None)
    assert [name for name, _v in found.rows] == names[:4]
    assert found.by_letter == [names[4]] and found.missing == names[5:]
    labels = [c.label for c in found.columns]
    advisers = labels.index("คณะที่ปรึกษา (จำนวนแถว)")
    assert found.totals[advisers] == 1 + 2 + 3 + 4
    # XLSX: every hostile text is a string cell, as typed
    book = openpyxl.load_workbook(io.BytesIO(consolidating.write(found, "xlsx")))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value for c in cells}
    assert set(HOSTILE_CELLS) <= texts and names[4] in texts and set(names[5:]) <= texts
    assert 10 in texts  # the total, a number
    # CSV: a quote before each text a spreadsheet would run
    rows = list(csv.reader(io.StringIO(consolidating.write(found, "csv").decode("utf-8-sig"))))
    flat = {v for row in rows for v in row}
    assert {f"'{h}" for h in HOSTILE_CELLS} <= flat and not set(HOSTILE_CELLS) & flat
    # DOCX: the official table, the text as typed
    document = docx.Document(io.BytesIO(consolidating.write(found, "docx")))
    words = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert set(HOSTILE_CELLS) <= words and "รวม" in words and "๑๐" in words
    # a table's rows counted in Thai digits, as the totals are
    assert {"๑", "๒", "๓", "๔"} <= words and not {"1", "2", "3", "4"} & words
    with pytest.raises(BadRequest):
        consolidating.write(found, "xls")
    with pytest.raises(NotFound):
        secret = issue(archive, subject="ลับ", secrecy="ลับ")
        consolidating.consolidate(archive, secret.id, clearance=None)


def test_a_reply_marked_secret_stays_out_of_uncleared_registers(archive, archive_home):
    from saraban.templates import render_docx

    _letter, _settings, tokens = _sent(archive, archive_home)
    doc = make_letter("รายงานลับของอำเภอ", secrecy="ลับ", sender={"name": "อำเภอ", "address": ["x"]})
    doc["ref_no"] = "นค ๐๕๑๘/๕"
    doc["date"] = TODAY.isoformat()
    sending.reply(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], upload=("r.docx", render_docx(doc)))
    assert [r.secrecy for r in archive.received(register=ARCHIVE_UNIT)] == ["ลับ"]
    assert archive.received(register=ARCHIVE_UNIT, clearance=None) == []


@pytest.mark.pdf
def test_a_unit_with_a_key_sends_its_signed_letter(archive, archive_home):
    from saraban.archive import check_file, create_self_signed_key

    create_self_signed_key(archive, ARCHIVE_UNIT, actor="admin")
    _letter, _settings, tokens = _sent(archive, archive_home)
    opened = sending.open_delivery(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"])
    assert opened.delivery.enclosures[0]["name"] == "หนังสือ (ลงนามอิเล็กทรอนิกส์).pdf"
    path, _name, media_type = sending.delivery_file(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], 0)
    assert media_type == "application/pdf"
    assert check_file(archive, path.read_bytes()).authentic


def test_a_download_is_audited_once_per_file_per_window(archive, archive_home):
    from saraban.archive._circulars import DeliveryDownload

    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอท่าบ่อ"]

    def downloads():
        return [e for e in archive.events(limit=200) if e.action == "delivery.download"]

    for _ in range(20):
        path, name, media = sending.delivery_file(archive, token, 0)
        assert path.read_bytes().startswith(b"%PDF") and media == "application/pdf"
    assert len(downloads()) == 1
    assert sending.open_delivery(archive, token).delivery.status == "opened"
    with archive._write() as s:  # an hour later
        row = s.get(DeliveryDownload, (sending.open_delivery(archive, token).delivery.id, 1))
        row.audited_at -= circulars.DOWNLOAD_AUDIT_WINDOW + dt.timedelta(seconds=1)
    sending.delivery_file(archive, token, 0)
    sending.delivery_file(archive, token, 0)
    events = downloads()
    assert (
        len(events) == 2 and events[0].detail["event"] == 2 and events[0].detail["opened"] is False
    )
    with pytest.raises(NotFound):
        sending.delivery_file(archive, token, 99)
    with archive._read() as s:
        assert s.scalar(select(func.count()).select_from(DeliveryDownload)) == 1
    circulars.revoke(archive, sending.open_delivery(archive, token).delivery.id, actor="clerk")
    with pytest.raises(circulars.LinkClosed):
        sending.delivery_file(archive, token, 0)


@pytest.mark.pdf
def test_the_consolidated_pdf_lists_replies_totals_and_who_has_not_replied(archive, archive_home):
    from pdfutil import pdftotext

    from saraban.usecases import consolidating

    letter, _settings, tokens = _sent(archive, archive_home)
    names = sorted(tokens)
    hostile = "<b>ตัวหนา</b> & {{ x }}"
    for n, name in enumerate(names[:3]):
        advisers = [{"name": f"ที่ปรึกษา {i}", "kind": "ส่วนราชการ"} for i in range(n + 1)]
        data = FORM_REPLY | {"village": hostile if n == 0 else f"บ้าน {n}", "advisers": advisers}
        sending.reply(archive, tokens[name], data=data)
    found = consolidating.consolidate(archive, letter.id, clearance=None)
    pdf = consolidating.write_apart(found, "pdf")  # in a process of its own, as the web does
    assert pdf.startswith(b"%PDF")
    text = pdftotext(pdf)
    flat = " ".join(text.split())
    squeezed = "".join(pdftotext(pdf, "-raw").split())  # as drawn: a cell's lines together
    assert "สรุปผลการรายงาน" in flat and letter.ref_no in flat
    assert "".join(hostile.split()) in squeezed  # text as typed, never markup
    assert "รวม" in flat and "๖" in flat  # 1 + 2 + 3 advisers
    assert f"ยังไม่ตอบ ({to_thai(len(names) - 3)})" in flat
    for name in names:
        assert name in squeezed
    assert consolidating.write(found, "pdf")[:5] == b"%PDF-"


def test_replies_of_more_text_than_a_pdf_prints_are_refused_before_the_job(
    archive, archive_home, monkeypatch
):
    from saraban.errors import TooLarge
    from saraban.templates import _typeset
    from saraban.usecases import consolidating

    letter, _settings, tokens = _sent(archive, archive_home)
    for name in sorted(tokens)[:2]:
        sending.reply(archive, tokens[name], data=FORM_REPLY | {"village": "ก" * 80})
    found = consolidating.consolidate(archive, letter.id, clearance=None)
    monkeypatch.setattr(_typeset, "MAX_PRINTED_CHARS", 150)
    with pytest.raises(TooLarge, match="XLSX"):
        consolidating.checked_rows(found, "pdf")
    assert consolidating.checked_rows(found, "xlsx") == len(tokens)  # the XLSX holds them


def to_thai(n):
    from saraban.thai import to_thai_digits

    return to_thai_digits(str(n))


def test_districts_that_answer_the_form_alike_are_each_received(archive, archive_home):
    """Two districts fill the form with the same values: two replies, each its own file
    saying who sent it (the same bytes twice were refused as one file kept again, and the
    refusal named the first district's letter to the second)."""
    import io

    from docx import Document

    _letter, _settings, tokens = _sent(archive, archive_home)
    names = ["ที่ว่าการอำเภอท่าบ่อ", "ที่ว่าการอำเภอโพนพิสัย"]
    for name in names:
        assert sending.reply(archive, tokens[name], data=FORM_REPLY).status == "replied"
    by = []
    for received in archive.received():
        original = archive.files.read(archive.get(received.letter_id).original_sha256)
        by.append(Document(io.BytesIO(original)).core_properties.author)
    assert sorted(by) == sorted(names)
