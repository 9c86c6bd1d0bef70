"""A district replies to a circular with a scan or a photo of its signed letter
(saraban/usecases/sending.py): read by OCR in the reading processes, within a budget of
pages a reply, never twice at once for one link. Real scans of a seed letter
(tests/scancorpus.py), real Tesseract."""

from __future__ import annotations

import subprocess

import pytest
import scancorpus
from test_circulars import _sent

from saraban.archive._models import Letter
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
    replied = sending.reply(
        archive,
        tokens["ที่ว่าการอำเภอท่าบ่อ"],
        upload=("หนังสือตอบ.pdf", _scan_pdf(tmp_path, "letter.pdf")),
        enclosures=[
            ("แบบรายงาน.jpg", photo.read_bytes()),
            # the letter took one page of five, the photo one: three are left, not five
            ("ภาคผนวก.pdf", _scan_pdf(tmp_path, "long.pdf", pages=5)),
        ],
    )
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


def test_a_link_replies_one_at_a_time_and_a_damaged_photo_is_refused(
    archive, archive_home, tmp_path
):
    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอเฝ้าไร่"]
    with sending._reply_being_read(token):  # its first reply is being read
        with pytest.raises(Conflict) as caught:
            sending.reply(archive, token, upload=("ตอบ.jpg", b"\xff\xd8\xff\xe0"))
    assert "กำลังอ่าน" in caught.value.message
    with pytest.raises(sending.BadRequest) as refused:  # free again: read, and refused
        sending.reply(archive, token, upload=("<i>ตอบ.jpg", b"\xff\xd8\xff\xe0"))
    assert "<i>ตอบ.jpg" in refused.value.message
    assert sending.open_delivery(archive, token).delivery.replied_at is None
