"""A district replies to a circular with a scan or a photo of its signed letter
(saraban/usecases/sending.py): read by OCR in the reading processes, within a budget of
pages a reply, never twice at once for one link. Real scans of a seed letter
(tests/scancorpus.py), real Tesseract."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import socket
import subprocess
import sys

import pytest
import scancorpus
from test_circulars import FORM_REPLY, _sent
from test_intake import busy

from saraban.archive import circulars, open_archive
from saraban.archive._models import Letter, utcnow
from saraban.errors import Conflict
from saraban.usecases import intake, sending
from saraban.usecases.intake import REGISTER_FIELDS

pytestmark = [pytest.mark.pdf, pytest.mark.ocr]

STEM = "000_e6238ec4d0848a5c"  # two pages: page one the letter, page two its form


def _row(archive, letter_id: int) -> Letter:
    with archive._read() as s:
        row = s.get(Letter, letter_id)
        s.expunge(row)
        return row


def _squeezed(text: str) -> str:
    return "".join((text or "").split())


def _scan_pdf(tmp_path, name: str, pages: int = 1) -> bytes:
    page = scancorpus.scan_page(scancorpus.render_pages(STEM)[0], STEM, 0)
    return scancorpus.write_scan_pdf([page] * pages, tmp_path / name).read_bytes()


def test_a_scanned_reply_and_a_photo_beside_it_are_read_within_the_budget(
    archive, archive_home, tmp_path
):
    _letter, _settings, tokens = _sent(archive, archive_home)
    seed = scancorpus.seed_letter(STEM)
    second = scancorpus.render_pages(STEM, dpi=scancorpus.PHOTO_DPI)[1]
    photo = scancorpus.write_jpeg(scancorpus.photo_page(second, STEM, 1), tmp_path / "p.jpg")
    released = tmp_path / "released"
    # a district's scan has reading processes of its own: the clerks' and the inbox's all
    # busy (a clerk's long scan, a folder of them), it is read all the same
    held = [h for lane in (intake.CLERK, intake.INBOX) for h in busy(intake.reader(lane), released)]
    try:
        replying = concurrent.futures.ThreadPoolExecutor(1).submit(
            sending.reply,
            archive,
            tokens["ที่ว่าการอำเภอท่าบ่อ"],
            upload=("หนังสือตอบ.pdf", _scan_pdf(tmp_path, "letter.pdf")),
            enclosures=[
                ("แบบรายงาน.jpg", photo.read_bytes()),
                # the letter took one page of five, the photo one: three are left, not five
                ("ภาคผนวก.pdf", _scan_pdf(tmp_path, "long.pdf", pages=5)),
            ],
        )
        replied = replying.result(timeout=300)  # two pages of OCR, in its own lane
    finally:
        released.touch()
        for hold in held:
            hold.result(60)
    row = _row(archive, replied.reply_letter_id)
    # the register fields read from the scan, as the importer reads a letter with text
    assert _squeezed(row.subject) == _squeezed(seed["subject"])
    assert row.ref_no and _squeezed(row.ref_no) == _squeezed(seed["ref_no"])
    enclosed = _squeezed(row.doc["attachments_text"])
    # the photo's page, read (words of page two only)
    assert "ตัวอย่างแบบป้าย" in enclosed and "แสงมหาชัย" in enclosed, enclosed
    assert _squeezed(seed["subject"])[:20] not in enclosed  # the five-page scan, not read
    kept = [f.name for f in archive.enclosed_files(replied.reply_letter_id)]
    assert kept == ["แบบรายงาน.jpg", "ภาคผนวก.pdf"]  # every file kept all the same
    # the searchable copy OCR made, kept with the register row: the page one to stamp
    [received] = [r for r in archive.received() if r.letter_id == replied.reply_letter_id]
    assert received.pdfa_sha256 and intake.stampable(archive, received).startswith(b"%PDF-")
    layer = subprocess.run(
        ["pdftotext", "-", "-"],
        input=archive.files.read(received.pdfa_sha256),
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    assert "ศาลากลางจังหวัดหนองคาย" in layer.replace(" ", "")
    assert archive.verify() == []


def test_a_scan_longer_than_the_budget_is_kept_unread_for_the_clerk(
    archive, archive_home, tmp_path
):
    _letter, _settings, tokens = _sent(archive, archive_home)
    long_scan = _scan_pdf(tmp_path, "six.pdf", pages=sending.MAX_REPLY_OCR_PAGES + 1)
    replied = sending.reply(archive, tokens["ที่ว่าการอำเภอโพนพิสัย"], upload=("ตอบ.pdf", long_scan))
    row = _row(archive, replied.reply_letter_id)
    assert row.sender == "ที่ว่าการอำเภอโพนพิสัย"
    assert row.subject.startswith("ตอบหนังสือ ")
    assert set(REGISTER_FIELDS) <= set(row.needs_review["fields"])
    [note] = row.needs_review["notes"]
    assert "ไม่ได้อ่านข้อความ" in note and str(sending.MAX_REPLY_OCR_PAGES) in note
    assert archive.verify() == []


def test_a_delivery_replies_one_at_a_time_in_every_process_and_a_damaged_photo_is_refused(
    archive, archive_home, database_url
):
    _letter, settings, tokens = _sent(archive, archive_home)
    name = "ที่ว่าการอำเภอเฝ้าไร่"
    token = tokens[name]
    reminded = sending.remind(archive, settings, _letter.id, clearance=None)
    second_link = next(link for d, link in reminded if d.name == name)
    other = open_archive(archive_home, database_url)  # another serving process, or machine
    try:
        with circulars.reading_reply(other, token):  # its first reply is being read there
            for link in (token, second_link.rsplit("/", 1)[1]):  # by either of its links
                with pytest.raises(Conflict) as caught:
                    sending.reply(archive, link, upload=("ตอบ.jpg", b"\xff\xd8\xff\xe0"))
                assert "กำลังอ่าน" in caught.value.message and caught.value.status == 409
            # another delivery is not held by it
            assert sending.reply(archive, tokens["ที่ว่าการอำเภอท่าบ่อ"], data=FORM_REPLY)
    finally:
        other.close()
    with pytest.raises(sending.BadRequest) as refused:  # free again: read, and refused
        sending.reply(archive, token, upload=("<i>ตอบ.jpg", b"\xff\xd8\xff\xe0"))
    assert "<i>ตอบ.jpg" in refused.value.message
    assert sending.open_delivery(archive, token).delivery.replied_at is None
    # a refusal gives the delivery back too: the form is taken at once
    assert sending.reply(archive, token, data=FORM_REPLY).status == "replied"
    with pytest.raises(circulars.AlreadyReplied):
        sending.reply(archive, token, data=FORM_REPLY)


def test_a_hold_lapses_when_its_process_is_gone_or_after_a_quarter_of_an_hour(
    archive, archive_home
):
    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอเฝ้าไร่"]
    # a process of another machine (a shared PostgreSQL) left it: its lease runs on
    other_host = "elsewhere:1:1"
    with circulars.reading_reply(archive, token):
        pass
    _held_by(archive, token, other_host, utcnow() - circulars.READING_FOR / 2)
    with pytest.raises(circulars.ReplyBeingRead):
        sending.reply(archive, token, data=FORM_REPLY)
    _held_by(archive, token, other_host, utcnow() - circulars.READING_FOR)
    with circulars.reading_reply(archive, token):
        pass  # a quarter of an hour on, it has lapsed
    # a process of this machine that was killed (see test_circulars_reply_race): at once
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    _held_by(archive, token, f"{socket.gethostname()}:{dead}:1", utcnow())
    assert sending.reply(archive, token, data=FORM_REPLY).status == "replied"


def _held_by(archive, token: str, worker: str, since: dt.datetime) -> None:
    from sqlalchemy import update

    delivery = sending.open_delivery(archive, token).delivery
    with archive._write() as s:
        s.execute(
            update(circulars.Delivery)
            .where(circulars.Delivery.id == delivery.id)
            .values(reading_since=since, reading_by=worker)
        )
