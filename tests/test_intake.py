"""Received letters taken in from files (saraban/usecases/intake.py): read, kept with the
original unchanged, numbered, stamped, found again as duplicates, corrected until
confirmed; the watched folder and e-mails dropped in it."""

from __future__ import annotations

import base64
import concurrent.futures
import email.message
import email.policy
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scancorpus
from conftest import ARCHIVE_UNIT
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from saraban.errors import BadRequest, Conflict
from saraban.usecases import intake

STEM = "000_e6238ec4d0848a5c"
ACTOR = "clerk"


def _seed_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "letter.pdf"
    path.write_bytes(scancorpus._rendered_pdf(STEM))
    return path


def _seed_txt(tmp_path: Path, stem: str = STEM) -> Path:
    path = tmp_path / f"{stem}.txt"
    path.write_text(
        (scancorpus.SEEDS / f"{stem}.txt").read_text(encoding="utf-8")
        if (scancorpus.SEEDS / f"{stem}.txt").exists()
        else scancorpus.source_text(stem),
        encoding="utf-8",
    )
    return path


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[float, float, float, float, str]]:
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xml
    )
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in found]


@pytest.mark.pdf
def test_a_pdf_letter_is_received_numbered_and_stamped(archive, tmp_path):
    path = _seed_pdf(tmp_path)
    original = path.read_bytes()
    taken = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR)
    record = taken.received
    want = scancorpus.seed_letter(STEM)
    assert record.serial == 1
    assert record.sender == want["sender"]["name"]
    assert record.ref_no == want["ref_no"]
    assert record.confirmed_at is None  # read from a file: open to correction
    letter = archive.get(taken.letter_id)
    assert archive.files.read(letter.original_sha256) == original  # kept unchanged
    assert path.read_bytes() == original
    stamped = archive.files.read(record.stamped_sha256)
    assert stamped != original
    words = _words(stamped, tmp_path)
    stamp = [w for w in words if w[4] in ("เลขรับที่", "๑/" + record.__class__.__name__)]
    assert stamp, words[:10]
    width = 595.3
    x_min, y_min, _, _, _ = next(w for w in words if w[4] == "เลขรับที่")
    assert x_min > width / 2 and y_min < 150  # the top right corner
    number = "".join(w[4] for w in words if w[1] < 150 and w[0] > width / 2)
    assert "๑/" in number


def test_a_text_file_is_received_and_a_second_copy_is_offered_not_kept(archive, tmp_path):
    path = _seed_txt(tmp_path)
    first = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR)
    with pytest.raises(intake.AlreadyReceived) as caught:
        intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR)
    assert caught.value.earlier == first.received.id
    assert caught.value.status == 409
    # the same letter again by another route (other bytes): same sender, number and date
    other = tmp_path / "again.txt"
    other.write_text(path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    with pytest.raises(intake.AlreadyReceived):
        intake.take_in(archive, other, register=ARCHIVE_UNIT, actor=ACTOR)
    assert len(archive.received()) == 1


def test_a_secret_duplicate_is_not_named_to_an_uncleared_clerk(archive, tmp_path):
    path = _seed_txt(tmp_path)
    intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR, secrecy="ลับ")
    reading = intake.read_incoming(path)
    assert intake.find_duplicate(archive, reading, clearance=None) is None
    assert intake.find_duplicate(archive, reading, clearance="ลับ") is not None
    with pytest.raises(Exception, match="ไม่พบ|no received"):
        archive.received_one(1, clearance=None)


def test_fields_are_corrected_until_confirmed_and_each_correction_is_audited(archive, tmp_path):
    taken = intake.take_in(archive, _seed_txt(tmp_path), register=ARCHIVE_UNIT, actor=ACTOR)
    rid = taken.received.id
    fixed = archive.correct_received(rid, {"subject": "เรื่องที่แก้แล้ว"}, actor="checker")
    assert fixed.subject == "เรื่องที่แก้แล้ว"
    assert archive.get(taken.letter_id).subject == "เรื่องที่แก้แล้ว"  # search reads this
    events = archive.events(actions=("received.correct",))
    assert events and events[0].detail["after"] == {"subject": "เรื่องที่แก้แล้ว"}
    assert events[0].detail["before"]["subject"] == taken.received.subject
    with pytest.raises(BadRequest):
        archive.correct_received(rid, {"serial": 9}, actor="checker")
    archive.confirm_received(rid, actor="checker")
    with pytest.raises(Conflict):
        archive.correct_received(rid, {"subject": "อีกครั้ง"}, actor="checker")
    with pytest.raises(DBAPIError, match="cannot change"):
        with archive.engine.begin() as conn:
            conn.execute(text("UPDATE received SET subject = 'x' WHERE id = :id"), {"id": rid})


def test_files_that_are_no_letter_get_a_clear_error(archive, tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(BadRequest, match="notes.xlsx"):
        intake.take_in(archive, bad, register=ARCHIVE_UNIT, actor=ACTOR)
    heic = tmp_path / "photo.heic"
    heic.write_bytes(b"\0\0\0\x18ftypheic\0\0\0\0" + b"\0" * 64)
    with pytest.raises(BadRequest, match="photo.heic: เปิดภาพไม่ได้") as caught:
        intake.take_in(archive, heic, register=ARCHIVE_UNIT, actor=ACTOR)
    assert caught.value.status == 422  # a damaged file, as a damaged PDF or PNG
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2048)
    with pytest.raises(BadRequest, match="big.txt"):
        intake.take_in(archive, big, register=ARCHIVE_UNIT, actor=ACTOR, max_bytes=1024)
    assert archive.received() == []


def test_the_inbox_takes_files_and_mail_attachments_and_moves_them(archive, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _seed_txt(inbox)
    mail = email.message.EmailMessage()
    mail["From"] = "district@example.go.th"
    mail["Subject"] = "หนังสือ"
    mail.set_content("ส่งหนังสือมาตามแนบ")
    seeds = scancorpus.seed_stems()
    mail.add_attachment(
        _seed_txt(tmp_path, seeds[1]).read_bytes(),
        maintype="text",
        subtype="plain",
        filename="../../etc/letter.txt",
    )
    (inbox / "mail.eml").write_bytes(mail.as_bytes())
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.7\nnothing")
    seen: list[tuple[int, int]] = []
    result = intake.consume_inbox(
        archive, inbox, register=ARCHIVE_UNIT, progress=lambda d, t, _n: seen.append((d, t))
    )
    assert len(result.taken) == 2
    assert [name for name, _ in result.failed] == ["broken.pdf"]
    assert seen[-1] == (3, 3)
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [f"{seeds[0]}.txt", "mail.eml"]
    assert (inbox / "failed" / "broken.pdf.txt").read_text(encoding="utf-8")
    assert not list(inbox.glob("*.txt")) and not (tmp_path / "etc").exists()
    names = {t.reading.name for t in result.taken}
    assert "letter.txt" in names
    by_mail = next(t.received for t in result.taken if t.reading.name == "letter.txt")
    assert by_mail.note == "ทางอีเมลจาก district@example.go.th"
    dropped = next(t.received for t in result.taken if t.reading.name != "letter.txt")
    assert dropped.note is None


@pytest.mark.pdf
@pytest.mark.ocr
def test_a_scanned_page_is_received_searchable_and_stamped(archive, tmp_path):
    scan = scancorpus.scan_page(scancorpus.render_pages(STEM)[0], STEM, 0)
    path = scancorpus.write_png(scan, tmp_path / "scan.png")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    taken = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR, in_worker=True)
    assert taken.reading.how == "ocr"
    assert taken.received.ref_no == scancorpus.seed_letter(STEM)["ref_no"]
    assert archive.get(taken.letter_id).original_sha256 == digest
    assert taken.received.pdfa_sha256 and taken.received.stamped_sha256
    words = [w[4] for w in _words(archive.files.read(taken.received.stamped_sha256), tmp_path)]
    assert "เลขรับที่" in words


@pytest.mark.pdf
@pytest.mark.ocr
def test_a_heic_phone_photo_is_received_with_its_fields_read(archive, tmp_path):
    """A phone's HEIC photo of page one, held sideways (EXIF orientation), goes the photo's
    route: turned upright, unwarped, read; the original is kept as it came."""
    clean = scancorpus.render_pages(STEM, dpi=scancorpus.PHOTO_DPI)[0]
    photo = scancorpus.photo_page(clean, STEM, 0)
    path = scancorpus.write_heic(photo, tmp_path / "IMG_0001.HEIC", orientation=6)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    taken = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR, in_worker=True)
    seed = scancorpus.seed_letter(STEM)
    assert taken.reading.how == "ocr"
    assert taken.received.ref_no == seed["ref_no"]
    assert taken.received.subject == seed["subject"]
    assert taken.reading.letter["date"] == seed["date"]
    assert archive.get(taken.letter_id).original_sha256 == digest
    assert archive.files.read(archive.get(taken.letter_id).original_sha256) == path.read_bytes()
    assert taken.received.pdfa_sha256 and taken.received.stamped_sha256


def test_a_damaged_heic_photo_is_refused_and_nothing_is_kept(archive, tmp_path):
    photo = np.full((400, 300, 3), 255, np.uint8)
    whole = scancorpus.write_heic(photo, tmp_path / "whole.heic").read_bytes()
    cut = tmp_path / "IMG_0002.heic"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BadRequest, match="IMG_0002.heic: เปิดภาพไม่ได้") as caught:
        intake.take_in(archive, cut, register=ARCHIVE_UNIT, actor=ACTOR, in_worker=True)
    assert caught.value.status == 422  # a damaged file, as a damaged PDF or PNG
    assert str(cut.parent) not in caught.value.message  # no server path in the message
    assert archive.received() == []
    assert not archive.letters_with_original(hashlib.sha256(cut.read_bytes()).hexdigest())


def test_consume_prints_each_received_number_and_its_link(tmp_path, monkeypatch, capsys):
    import json

    from saraban.archive import open_archive
    from saraban.cli import main

    home = tmp_path / "home"
    monkeypatch.setenv("SARABAN_HOME", str(home))
    monkeypatch.setenv("SARABAN_BASE_URL", "https://saraban.example.go.th")
    with open_archive(home) as archive:
        archive.add_unit(ARCHIVE_UNIT, "สำนักงานจังหวัด", actor="tester")
    inbox = home / "inbox"
    inbox.mkdir()
    (inbox / "letter.txt").write_bytes(_seed_txt(tmp_path).read_bytes())
    assert main(["consume", "--register", ARCHIVE_UNIT, "--actor", "clerk"]) == 0
    out = capsys.readouterr().out
    with open_archive(home) as archive:
        [row] = archive.received()
    link = f"https://saraban.example.go.th/received/{row.public_id}"
    assert out == f"รับ / taken\tletter.txt\tเลขรับ / received no.\t1/{row.year}\t{link}\n"
    assert f"id {row.id}" not in out
    (inbox / "again.txt").write_bytes(_seed_txt(tmp_path).read_bytes())
    assert main(["consume", "--register", ARCHIVE_UNIT, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["taken"] == [] and said["failed"] == []
    assert said["duplicates"] == [{"file": "again.txt", "number": f"1/{row.year}", "link": link}]


def test_an_email_with_too_many_files_or_too_large_is_refused_whole(archive, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    crowded = email.message.EmailMessage()
    crowded["Subject"] = "หลายไฟล์"
    crowded.set_content("แนบมาหลายไฟล์")
    for n in range(intake.MAX_ATTACHMENTS + 1):
        crowded.add_attachment(b"x", maintype="text", subtype="plain", filename=f"{n}.txt")
    (inbox / "crowded.eml").write_bytes(crowded.as_bytes())
    big = email.message.EmailMessage()
    big["Subject"] = "ใหญ่"
    big.set_content("ใหญ่")
    big.add_attachment(
        _seed_txt(tmp_path).read_bytes(), maintype="text", subtype="plain", filename="letter.txt"
    )
    (inbox / "big.eml").write_bytes(big.as_bytes())
    monkeypatch.setattr(intake, "MAIL_MAX_BYTES", len(big.as_bytes()) - 1)
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.taken == [] and archive.received() == []
    why = dict(result.failed)
    assert f"more than {intake.MAX_ATTACHMENTS} files" in why["crowded.eml"]
    assert "the e-mail is over" in why["big.eml"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == [
        "big.eml",
        "big.eml.txt",
        "crowded.eml",
        "crowded.eml.txt",
    ]


def test_an_email_of_countless_empty_parts_is_refused_before_it_is_parsed(archive, tmp_path):
    """Anyone may send the office's mailbox an e-mail: one of 1.7 MB made of 145,000 empty
    MIME parts took Python's parser 20 s, and 100 MB would hold the intake for half an
    hour and take gigabytes. It is refused unparsed; a real e-mail is taken in."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    parts = b"--b\r\n\r\nx\r\n" * (intake.MAX_MAIL_DELIMITERS + 1)
    (inbox / "parts.eml").write_bytes(
        b"From: a@example.org\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    )
    letter = email.message.EmailMessage()
    letter["From"] = "a@example.org"
    letter.set_content("-- \nส่งหนังสือมา\n" + "--\n" * 100)  # lines of text that begin "--"
    letter.add_attachment(
        _seed_txt(tmp_path).read_bytes(), maintype="text", subtype="plain", filename="letter.txt"
    )
    (inbox / "letter.eml").write_bytes(letter.as_bytes())
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    why = dict(result.failed)
    assert "the e-mail is split into too many parts (over 1,000)" in why["parts.eml"]
    assert (inbox / "failed" / "parts.eml").exists()
    assert [t.reading.name for t in result.taken] == ["letter.txt"]


def test_an_email_with_nothing_to_take_in_goes_to_failed(archive, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    note = email.message.EmailMessage()
    note["Subject"] = "แจ้งเฉย ๆ"
    note.set_content("ไม่มีไฟล์แนบ")
    (inbox / "note.eml").write_bytes(note.as_bytes())
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == [("note.eml", intake.NO_ATTACHMENT)]
    assert (inbox / "failed" / "note.eml.txt").read_text(encoding="utf-8").strip() == (
        intake.NO_ATTACHMENT
    )
    assert not (inbox / "done" / "note.eml").exists()


def test_an_emails_sender_is_noted_as_one_line_of_text(archive, tmp_path):
    import base64

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile = base64.b64encode("ฝ่าย\r\nX-Evil: 1\x1b[31m <script>".encode()).decode()
    raw = (
        f"From: =?utf-8?b?{hostile}?= <a@b.go.th>\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain;'
        " charset=utf-8\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
        'Content-Disposition: attachment; filename="l.txt"\r\nContent-Transfer-Encoding: base64'
        f"\r\n\r\n{base64.b64encode(_seed_txt(tmp_path).read_bytes()).decode()}\r\n--b--\r\n"
    )
    (inbox / "m.eml").write_bytes(raw.encode())
    [taken] = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT).taken
    note = taken.received.note
    assert note.startswith("ทางอีเมลจาก ฝ่าย")
    assert "\n" not in note and "\r" not in note and "\x1b" not in note


def _mail_with(files: list[tuple[str, bytes]]) -> bytes:
    mail = email.message.EmailMessage()
    mail["From"] = "อำเภอเมือง <district@example.go.th>"
    mail["Subject"] = "ส่งหนังสือพร้อมสิ่งที่ส่งมาด้วย"
    mail.set_content("ส่งหนังสือมาตามแนบ")
    for name, data in files:
        mail.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return mail.as_bytes()


FORM_TEXT = "แบบรายงานการเลี้ยงปลานิลในกระชัง\nลำดับ ชื่อหมู่บ้าน จำนวนกระชัง\n"
MAIL = intake.MAIL_MESSAGE_NAME


def test_an_emails_words_in_bytes_no_charset_reads_are_kept_as_text(archive, tmp_path):
    """A body that claims UTF-8 and is not, with a 10,000-character word and markup that
    would close a page's tags: taken in, kept as text, the word whole."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    word = "ก" * 10_000
    body = f"ส่งมาเพื่อทราบ </style><img src=file:///etc/passwd> {word}".encode()
    letter = base64.encodebytes(_seed_txt(tmp_path).read_bytes())
    raw = (
        b"From: a@b.go.th\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.replace(b" </style>", b" \xff\xfe </style>")
        + b"\r\n--X\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Disposition: attachment; filename=letter.txt\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + letter + b"\r\n--X--\r\n"
    )
    (inbox / "m.eml").write_bytes(raw)
    [taken] = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT).taken
    [kept] = archive.enclosed_files(taken.letter_id)
    said = archive.files.read(kept.sha256).decode("utf-8")
    assert "ส่งมาเพื่อทราบ \ufffd\ufffd </style><img src=file:///etc/passwd>" in said
    assert word in said


def test_an_html_emails_words_are_kept_never_its_scripts_and_bounded(archive, tmp_path):
    """An HTML-only e-mail (a webmail's): its words a line a block, entities read, its
    script and style left out; a huge one is cut. (Its headers are read as the register's
    note reads them: a hostile one stays one line, see the test above.)"""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mail = email.message.EmailMessage()
    mail["From"] = "ฝ่ายสารบรรณ <a@b.go.th>"
    mail["Subject"] = "ส่ง <รายงาน>"
    markup = (
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<p>เรียน&nbsp;จังหวัด</p><div>ส่งรายงาน &amp; แบบ<br>ตามแนบ</div>"
        "<script>alert('x')</script>" + "<p>ยาว</p>" * 20_000 + "</body></html>"
    )
    mail.set_content(markup, subtype="html")
    mail.add_attachment(
        _seed_txt(tmp_path).read_bytes(), maintype="text", subtype="plain", filename="letter.txt"
    )
    (inbox / "m.eml").write_bytes(mail.as_bytes())
    [taken] = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT).taken
    [kept] = archive.enclosed_files(taken.letter_id)
    said = archive.files.read(kept.sha256).decode("utf-8")
    head, _, words = said.partition("\n\n")
    assert head.splitlines() == ["จาก: ฝ่ายสารบรรณ <a@b.go.th>", "เรื่อง: ส่ง <รายงาน>"]
    assert words.startswith("เรียน จังหวัด\nส่งรายงาน & แบบ\nตามแนบ\nยาว\n")
    assert "alert" not in said and "color" not in said
    assert len(said) <= intake.MAIL_MESSAGE_CHARS + 1


def test_an_emails_letter_keeps_the_files_that_came_with_it(archive, tmp_path):
    """A district's e-mail: its letter, a form (text, read but not a letter), a spreadsheet
    (kept unread), then a second letter and its own file. Two received letters, each with
    the files after it, their text searchable with it; nothing else taken in."""
    seeds = scancorpus.seed_stems()
    first, second = (_seed_txt(tmp_path, stem).read_bytes() for stem in seeds[:2])
    sheet = b"PK\x03\x04 a spreadsheet, never opened"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "district.eml").write_bytes(
        _mail_with(
            [
                ("หนังสือ.txt", first),
                ("แบบรายงาน.txt", FORM_TEXT.encode()),
                ("../../ตาราง<script>.xlsx", sheet),
                ("หนังสือฉบับที่สอง.txt", second),
                ("สรุป.csv", "อำเภอ,จำนวน\nเมือง,5\n".encode()),
            ]
        )
    )
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == [] and result.duplicates == []
    assert [t.reading.name for t in result.taken] == ["หนังสือ.txt", "หนังสือฉบับที่สอง.txt"]
    one, two = (t.letter_id for t in result.taken)
    kept = archive.enclosed_files(one)
    assert [f.name for f in kept] == ["แบบรายงาน.txt", "ตาราง<script>.xlsx", MAIL]
    assert [archive.files.read(f.sha256) for f in kept[:2]] == [FORM_TEXT.encode(), sheet]
    assert kept[1].media_type.startswith("application/vnd.openxmlformats")
    assert [f.name for f in archive.enclosed_files(two)] == ["สรุป.csv", MAIL]
    # the e-mail itself, kept with each letter it brought, its words searchable
    said = archive.files.read(kept[2].sha256).decode("utf-8")
    assert said.startswith("จาก: อำเภอเมือง <district@example.go.th>\n")
    assert "เรื่อง: ส่งหนังสือพร้อมสิ่งที่ส่งมาด้วย\n\nส่งหนังสือมาตามแนบ" in said
    assert kept[2].media_type.startswith("text/plain")
    assert "ปลานิลในกระชัง" in archive.letter_document(one)["attachments_text"]
    assert "มาตามแนบ" in archive.letter_document(two)["attachments_text"]
    assert "ปลานิล" not in (archive.letter_document(two)["attachments_text"] or "")
    assert archive.verify() == []
    [imported] = [e for e in archive.history(one) if e.action == "letter.import"]
    assert [f["name"] for f in imported.detail["enclosed"]] == [f.name for f in kept]
    assert (inbox / "done" / "district.eml").exists()


def test_an_email_without_a_letter_takes_each_file_in_as_before(archive, tmp_path):
    """No file reads as a letter (no number and subject): each file read becomes a
    received letter to check, the unread spreadsheet kept with the first."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet = b"PK\x03\x04 sheet"
    (inbox / "m.eml").write_bytes(
        _mail_with([("a.txt", FORM_TEXT.encode()), ("b.xlsx", sheet), ("c.txt", "บันทึก".encode())])
    )
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert [t.reading.name for t in result.taken] == ["a.txt", "c.txt"]
    assert [f.name for f in archive.enclosed_files(result.taken[0].letter_id)] == ["b.xlsx", MAIL]
    assert [f.name for f in archive.enclosed_files(result.taken[1].letter_id)] == [MAIL]


def test_an_email_with_only_a_spreadsheet_has_nothing_to_take_in(archive, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "m.eml").write_bytes(_mail_with([("b.xlsx", b"PK\x03\x04")]))
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.taken == [] and result.failed == [("m.eml", intake.NO_ATTACHMENT)]


def test_a_file_that_cannot_be_read_still_goes_with_its_letter(archive, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    letter = _seed_txt(tmp_path).read_bytes()
    (inbox / "m.eml").write_bytes(
        _mail_with([("letter.txt", letter), ("scan.pdf", b"%PDF-1.7\nbroken")])
    )
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == []
    [taken] = result.taken
    assert [f.name for f in archive.enclosed_files(taken.letter_id)] == ["scan.pdf", MAIL]


def test_file_names_that_are_not_utf8_are_taken_in_or_refused_not_crashed_on(archive, tmp_path):
    """Some scanners write names that are not UTF-8: the letter is kept under the name as
    a page shows it (U+FFFD), and one that cannot be read is moved aside with its reason
    (this crashed the whole look at the folder, the database refusing the name)."""
    import os

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / os.fsdecode(b"ok-\xff.txt")).write_bytes(_seed_txt(tmp_path).read_bytes())
    (inbox / os.fsdecode(b"scan-\xfe.pdf")).write_bytes(b"%PDF-1.7\nbroken")
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    [taken] = result.taken
    assert taken.reading.name == "ok-\ufffd.txt"
    assert archive.original_file(taken.letter_id).name == "ok-\ufffd.txt"
    assert [name for name, _ in result.failed] == ["scan-\ufffd.pdf"]
    [failed] = intake.failed_files(inbox)[0]
    assert failed.name == "scan-\ufffd.pdf" and "scan-\ufffd.pdf" in failed.why


@pytest.mark.pdf
def test_real_pdfs_a_letter_its_form_and_a_letter_without_a_number(archive, tmp_path):
    """Rendered PDFs: seed 000, the centre report form filled, then seed 003 (its number
    lost in extraction, its subject and addressee read): two letters, the form with the
    first. A form that reads a line as a subject (self_development_plan) is no letter."""
    import json

    from saraban.templates.forms import fill_pdf

    def form(name: str) -> bytes:
        sample = scancorpus.SEEDS.parent / "forms" / f"{name}.json"
        return fill_pdf(name, json.loads(sample.read_text("utf-8")))

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    letter_003 = scancorpus._rendered_pdf("003_4dc97dfab31f716a")
    (inbox / "m.eml").write_bytes(
        _mail_with(
            [
                ("หนังสือ.pdf", scancorpus._rendered_pdf(STEM)),
                ("แบบรายงาน.pdf", form("centre_report")),
                ("หนังสือ ๒.pdf", letter_003),
                ("แผนพัฒนาตนเอง.pdf", form("self_development_plan")),
            ]
        )
    )
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == []
    assert [t.reading.name for t in result.taken] == ["หนังสือ.pdf", "หนังสือ ๒.pdf"]
    assert result.taken[1].reading.letter["ref_no"] is None
    first, second = (archive.enclosed_files(t.letter_id) for t in result.taken)
    assert [f.name for f in first] == ["แบบรายงาน.pdf", MAIL]
    assert [f.name for f in second] == ["แผนพัฒนาตนเอง.pdf", MAIL]


def _forward(
    inner: email.message.EmailMessage, sender: str = "สารบรรณ <clerk@example.go.th>", **files
) -> email.message.EmailMessage:
    """``inner`` forwarded as an attachment (message/rfc822), as mail clients do it, with
    ``files`` (name=bytes) attached beside it."""
    outer = email.message.EmailMessage()
    outer["From"] = sender
    outer["Subject"] = "Fwd: " + str(inner["Subject"] or "")
    outer.set_content("ส่งต่อเพื่อลงรับ")
    outer.add_attachment(inner)
    for name, data in files.items():
        outer.add_attachment(data, maintype="text", subtype="plain", filename=name)
    return outer


def _sent(sender: str, subject: str, **files: bytes) -> email.message.EmailMessage:
    mail = email.message.EmailMessage()
    mail["From"] = sender
    mail["Subject"] = subject
    mail.set_content(f"{subject}: ส่งมาตามแนบ")
    for name, data in files.items():
        maintype, subtype = ("application", "pdf") if name.endswith(".pdf") else ("text", "plain")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def _the_forwarded_letter(archive, inbox, pdf: bytes):
    """The one letter the inbox's forwarded e-mail brought: the seed's PDF, read as text."""
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == [] and result.duplicates == []
    [taken] = result.taken
    assert taken.reading.name == "หนังสือ.pdf" and taken.reading.how == "text"
    assert taken.received.ref_no == scancorpus.seed_letter(STEM)["ref_no"]
    assert archive.original_file(taken.letter_id).sha256 == hashlib.sha256(pdf).hexdigest()
    return taken


@pytest.mark.pdf
@pytest.mark.parametrize("times", [1, 2])
def test_a_forwarded_emails_pdf_is_registered_as_if_attached(archive, tmp_path, times):
    """A district's e-mail with its letter (a real PDF), forwarded as an attachment by the
    clerk who got it (and that forward forwarded again): the letter is read and registered,
    its note naming who sent it to the office; the kept e-mail says who first sent it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    pdf = scancorpus._rendered_pdf(STEM)
    mail = _sent("อำเภอเมือง <district@example.go.th>", "ส่งหนังสือ", **{"หนังสือ.pdf": pdf})
    for n in range(times):
        mail = _forward(mail, sender=f"clerk{n}@example.go.th")
    (inbox / "fwd.eml").write_bytes(mail.as_bytes())
    taken = _the_forwarded_letter(archive, inbox, pdf)
    assert taken.received.note == f"ทางอีเมลจาก clerk{times - 1}@example.go.th"
    [kept] = archive.enclosed_files(taken.letter_id)
    said = archive.files.read(kept.sha256).decode("utf-8")
    assert said.count(intake.FORWARDED_HEADING) == times
    assert "จาก: อำเภอเมือง <district@example.go.th>\nเรื่อง: ส่งหนังสือ\n\n" in said
    assert (inbox / "done" / "fwd.eml").exists()


def test_a_forwarded_letter_keeps_its_place_among_the_files(archive, tmp_path):
    """Files in a forward go where the forward sits: the forwarded letter, then its form,
    then the form attached to the outer e-mail after the forward, all with the one letter;
    a forward holding nothing but text brings nothing and costs nothing."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    letter = _seed_txt(tmp_path).read_bytes()
    inner = _sent("district@example.go.th", "หนังสือ", **{"หนังสือ.txt": letter})
    inner.add_attachment(FORM_TEXT.encode(), maintype="text", subtype="plain", filename="แบบ.txt")
    outer = _forward(inner, **{"ตาราง.csv": "อำเภอ,จำนวน\n".encode()})
    outer.add_attachment(_sent("a@example.go.th", "ข้อความเฉย ๆ"))  # text only
    (inbox / "m.eml").write_bytes(outer.as_bytes())
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == []
    [taken] = result.taken
    assert taken.reading.name == "หนังสือ.txt"
    kept = [f.name for f in archive.enclosed_files(taken.letter_id)]
    assert kept == ["แบบ.txt", "ตาราง.csv", MAIL]


def test_an_email_that_is_one_file_is_taken_in_and_so_is_its_forward(archive, tmp_path):
    """A scanner's e-mail that is its file and nothing else (one part, no text) is taken in
    as an attachment is, directly or forwarded."""
    seeds = scancorpus.seed_stems()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    lone = []
    for stem in seeds[:2]:
        mail = email.message.EmailMessage()
        mail["From"] = "scanner@example.go.th"
        mail.set_content(
            _seed_txt(tmp_path, stem).read_bytes(),
            maintype="text",
            subtype="plain",
            disposition="attachment",
            filename=f"{stem}.txt",
        )
        lone.append(mail)
    (inbox / "scan.eml").write_bytes(lone[0].as_bytes())
    (inbox / "fwd.eml").write_bytes(_forward(lone[1]).as_bytes())
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert result.failed == []
    assert sorted(t.reading.name for t in result.taken) == sorted(f"{s}.txt" for s in seeds[:2])


def test_a_forward_nested_too_deep_is_left_out_and_said_the_rest_taken_in(archive, tmp_path):
    """A letter forwarded five levels deep is taken in; one six levels deep is left out with
    the reason, in Thai and English, and the e-mail goes to failed/ with it, the letters it
    did bring registered. An e-mail whose only letter is too deep says why, not 'nothing'."""
    seeds = scancorpus.seed_stems()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    deepest, too_deep = (
        _sent(
            "district@example.go.th",
            stem,
            **{f"{stem}.txt": _seed_txt(tmp_path, stem).read_bytes()},
        )
        for stem in seeds[:2]
    )
    for _ in range(intake.MAX_FORWARD_DEPTH - 1):  # then attached: five levels deep
        deepest = _forward(deepest)
    for _ in range(intake.MAX_FORWARD_DEPTH):  # then attached: six levels deep
        too_deep = _forward(too_deep)
    outer = _forward(too_deep, **{"หนังสือ.txt": _seed_txt(tmp_path, seeds[2]).read_bytes()})
    outer.add_attachment(deepest)
    (inbox / "mail.eml").write_bytes(outer.as_bytes())
    (inbox / "only.eml").write_bytes(_forward(too_deep).as_bytes())
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert sorted(t.reading.name for t in result.taken) == sorted(["หนังสือ.txt", f"{seeds[0]}.txt"])
    assert sorted(result.failed) == [
        ("mail.eml", intake.FORWARD_TOO_DEEP),
        ("only.eml", intake.FORWARD_TOO_DEEP),
    ]
    assert "nested over 5 deep" in intake.FORWARD_TOO_DEEP and "ชั้น" in intake.FORWARD_TOO_DEEP
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "mail.eml",
        "mail.eml.txt",
        "only.eml",
        "only.eml.txt",
    ]
    assert (failed / "mail.eml.txt").read_text(encoding="utf-8").strip() == intake.FORWARD_TOO_DEEP


def _as_file(
    inner: email.message.EmailMessage, ctype: str = "application/octet-stream", **files
) -> email.message.EmailMessage:
    """``inner`` forwarded as a file named ``.eml`` of type ``ctype``, as some mail clients
    forward, with ``files`` (name=bytes) attached beside it."""
    outer = email.message.EmailMessage()
    outer["From"] = "สารบรรณ <clerk@example.go.th>"
    outer["Subject"] = "Fwd: " + str(inner["Subject"] or "")
    outer.set_content("ส่งต่อเพื่อลงรับ")
    maintype, subtype = ctype.split("/")
    name = f"{inner['Subject'] or 'อีเมล'}.eml"
    outer.add_attachment(inner.as_bytes(), maintype=maintype, subtype=subtype, filename=name)
    for name, data in files.items():
        outer.add_attachment(data, maintype="text", subtype="plain", filename=name)
    return outer


@pytest.mark.pdf
@pytest.mark.parametrize("ctype", ["application/octet-stream", "text/plain"])
def test_an_eml_file_attached_is_taken_in_as_a_forward(archive, tmp_path, ctype):
    """A district's e-mail with its letter (a real PDF), forwarded by a clerk whose mail
    client attaches it as a file ``….eml`` (application/octet-stream, or text/plain): the
    letter is read and registered as from a forward, the form beside it kept with it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    pdf = scancorpus._rendered_pdf(STEM)
    mail = _sent("อำเภอเมือง <district@example.go.th>", "ส่งหนังสือ", **{"หนังสือ.pdf": pdf})
    (inbox / "fwd.eml").write_bytes(
        _as_file(mail, ctype, **{"แบบ.txt": FORM_TEXT.encode()}).as_bytes()
    )
    taken = _the_forwarded_letter(archive, inbox, pdf)
    assert taken.received.note == "ทางอีเมลจาก สารบรรณ <clerk@example.go.th>"
    kept = archive.enclosed_files(taken.letter_id)
    assert [f.name for f in kept] == ["แบบ.txt", MAIL]
    said = archive.files.read(kept[-1].sha256).decode("utf-8")
    assert intake.FORWARDED_HEADING + "\nจาก: อำเภอเมือง <district@example.go.th>" in said
    assert (inbox / "done" / "fwd.eml").exists()


def test_an_eml_file_that_is_no_email_or_too_deep_is_said_and_counted_with_the_rest(
    archive, tmp_path
):
    """A file named ``.eml`` that reads as no e-mail (a PDF named so) is left out and said,
    as a forward that reads as none is, the e-mail's other file taken in; one forwarded as a
    file in a forward of a forward ... six deep is left out as too deep, five deep taken in."""
    seeds = scancorpus.seed_stems()
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def sent(n: int) -> email.message.EmailMessage:
        stem = seeds[n]
        return _sent(
            "d@example.go.th", stem, **{f"{n}.txt": _seed_txt(tmp_path, stem).read_bytes()}
        )

    junk = _sent(
        "clerk@example.go.th", "ส่งต่อ", **{"0.txt": _seed_txt(tmp_path, seeds[0]).read_bytes()}
    )
    junk.add_attachment(
        b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n",
        maintype="application",
        subtype="octet-stream",
        filename="หนังสือ.eml",
    )
    (inbox / "junk.eml").write_bytes(junk.as_bytes())
    deepest, too_deep = sent(1), sent(2)
    for level in range(intake.MAX_FORWARD_DEPTH):  # five levels deep
        deepest = _as_file(deepest) if level % 2 else _forward(deepest)
    for level in range(intake.MAX_FORWARD_DEPTH + 1):  # six levels deep
        too_deep = _as_file(too_deep) if level % 2 else _forward(too_deep)
    (inbox / "deepest.eml").write_bytes(deepest.as_bytes())
    (inbox / "too-deep.eml").write_bytes(too_deep.as_bytes())
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert sorted(t.reading.name for t in result.taken) == ["0.txt", "1.txt"]
    why = dict(result.failed)
    assert sorted(why) == ["junk.eml", "too-deep.eml"]
    assert why["junk.eml"] == intake.FORWARD_UNREADABLE
    assert why["too-deep.eml"] == intake.FORWARD_TOO_DEEP
    assert (inbox / "failed" / "junk.eml").exists() and (inbox / "done" / "deepest.eml").exists()


def _raw_forward(inner: bytes, *, ctype: str = "message/rfc822", cte: str = "7bit") -> bytes:
    """An e-mail that forwards ``inner`` in a part saying ``ctype`` and ``cte``, as they
    stand: ``inner`` is written as given (encode it first for a part that tells the truth)."""
    return (
        b"From: clerk@example.go.th\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nforwarded\r\n--X\r\n"
        + f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + inner.rstrip(b"\r\n")
        + b"\r\n--X--\r\n"
    )


def test_forwards_whose_transfer_encoding_lies_or_is_base64(archive, tmp_path):
    """A forwarded e-mail is parsed as it stands (RFC 2046 gives message/rfc822 no
    encoding): one that says base64 but is not is read all the same; one in base64 (which
    RFC 6532 allows message/global, and some mailers use for any forward) is decoded and
    read; one in base64 that says 7bit reads as no e-mail: left out and said, and the
    e-mail's other files are taken in."""
    seeds = scancorpus.seed_stems()
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def letter(n: int) -> bytes:
        stem = seeds[n]
        return _sent(
            "d@example.go.th", stem, **{f"{n}.txt": _seed_txt(tmp_path, stem).read_bytes()}
        ).as_bytes()

    (inbox / "says-base64.eml").write_bytes(_raw_forward(letter(0), cte="base64"))
    for n, ctype in ((1, "message/rfc822"), (2, "message/global")):
        encoded = base64.encodebytes(letter(n))
        (inbox / f"base64-{n}.eml").write_bytes(_raw_forward(encoded, ctype=ctype, cte="base64"))
    lying = _raw_forward(base64.encodebytes(letter(3))).replace(
        b"--X--",
        b"--X\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment; filename=4.txt\r\n\r\n"
        + _seed_txt(tmp_path, seeds[4]).read_bytes()
        + b"\r\n--X--",
    )
    (inbox / "lying.eml").write_bytes(lying)
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert sorted(t.reading.name for t in result.taken) == ["0.txt", "1.txt", "2.txt", "4.txt"]
    assert result.failed == [("lying.eml", intake.FORWARD_UNREADABLE)]
    assert (inbox / "failed" / "lying.eml").exists()


def test_hostile_nesting_is_refused_before_it_costs_and_other_mail_is_taken_in(archive, tmp_path):
    """What anyone may mail to the office: a forward nested 10,000 deep (32 KB; Python's
    parser spent seconds and failed with RecursionError, which stopped the whole look at
    the folder, every time), MIME parts nested 990 deep (within the delimiters' bound: the
    same), and a delivery report of 200,000 header blocks, each a part without a delimiter
    (1.6 MB; 20 s and hundreds of MB). Each is refused as it is parsed, in Thai and
    English; the letter beside them is taken in."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    chain = b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nx"
    for _ in range(10_000):
        chain = b"Content-Type: message/rfc822\r\n\r\n" + chain
    (inbox / "deep.eml").write_bytes(b"From: a@example.org\r\nMIME-Version: 1.0\r\n" + chain)
    parts = b"From: a@example.org\r\nMIME-Version: 1.0\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n) for n in range(990)
    )
    (inbox / "parts.eml").write_bytes(parts)
    (inbox / "report.eml").write_bytes(
        b"From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: message/delivery-status\r\n"
        b"\r\n" + b"Status: 5.0.0\r\n\r\n" * 200_000
    )
    (inbox / "letter.eml").write_bytes(
        _mail_with([("letter.txt", _seed_txt(tmp_path).read_bytes())])
    )
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert [t.reading.name for t in result.taken] == ["letter.txt"]
    why = dict(result.failed)
    assert sorted(why) == ["deep.eml", "parts.eml", "report.eml"]
    nested = f"nested too deep (over {intake.MAX_MAIL_NESTING} levels)"
    assert nested in why["deep.eml"] and nested in why["parts.eml"]
    assert f"holds too many parts (over {intake.MAX_MAIL_PARTS:,})" in why["report.eml"]
    assert "ซ้อนกันลึกเกินไป" in why["deep.eml"]
    assert sorted(p.name for p in (inbox / "failed").iterdir() if p.suffix == ".eml") == [
        "deep.eml",
        "parts.eml",
        "report.eml",
    ]
    assert (inbox / "done" / "letter.eml").exists()


# What a real e-mail carries above its words after a few hops: Received lines, DKIM
# signatures and an ARC set per relay, Exchange's own (folded lines: each line counts).
RELAYED = (
    "".join(
        f"Received: from mx{n}.example.go.th (mx{n}.example.go.th [10.0.{n}.1])\r\n"
        f"\tby mx{n + 1}.example.go.th (Postfix) with ESMTPS id 4Xy{n:04d}\r\n"
        f"\tfor <saraban@example.go.th>; Thu, 5 Dec 2026 10:{n % 60:02d}:00 +0700\r\n"
        for n in range(60)
    )
    + "".join(
        f"{name}: i={n}; a=rsa-sha256; d=example.go.th; s=sel{n};\r\n"
        + "".join(f"\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/{k}\r\n" for k in range(6))
        for n in range(1, 4)
        for name in ("ARC-Seal", "ARC-Message-Signature", "DKIM-Signature")
    )
    + "".join(f"X-MS-Exchange-Organization-Header-{n}: value {n}\r\n" for n in range(60))
)


def _headed(relayed: str, header_lines: int, name: str, letter: bytes) -> bytes:
    """An e-mail carrying ``letter`` as ``name``, ``relayed`` above its own headers, then
    ``X-Relay`` lines up to ``header_lines`` header lines in all (its part's included)."""
    own = (
        "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n"
    )
    part = (
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        f"Content-Disposition: attachment; filename={name}\r\n"
    )
    counted = (relayed + own + part).count("\n")
    padding = "".join(f"X-Relay: {n}\r\n" for n in range(header_lines - counted))
    return (
        (relayed + own + padding + "\r\n--B\r\n" + part + "\r\n").encode()
        + letter
        + b"\r\n--B--\r\n"
    )


def test_an_email_of_too_many_lines_is_refused_before_it_is_parsed_the_rest_taken_in(
    archive, tmp_path, monkeypatch
):
    """Anyone may mail the office 100 MB of header lines (18 s and 2 GB of Python's parser)
    or of two-byte lines (4.3 GB): an e-mail's lines are counted before it is parsed, its
    forwards' with its own, and past the bound it is refused whole, in Thai and English. A
    real e-mail's hundreds of header lines (long Received, DKIM and ARC chains, forwarded
    with its own) are taken in, as is one at the bound."""
    seeds = scancorpus.seed_stems()
    bound = 3_000
    monkeypatch.setattr(intake, "MAX_MAIL_LINES", bound)
    assert RELAYED.count("\n") > 300
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def letter(n: int) -> bytes:
        return _seed_txt(tmp_path, seeds[n]).read_bytes()

    relayed = email.message_from_bytes(
        RELAYED.encode() + _mail_with([("0.txt", letter(0))]), policy=email.policy.default
    )
    forward = _forward(relayed, **{"1.txt": letter(1)})
    (inbox / "real.eml").write_bytes(RELAYED.encode() + forward.as_bytes())
    at_bound = _headed(RELAYED, 2_000, "2.txt", letter(2))
    at_bound += b"\r\n" * (bound - at_bound.count(b"\n") - 1)
    assert at_bound.count(b"\n") + 1 == bound
    (inbox / "at-bound.eml").write_bytes(at_bound)
    (inbox / "headers.eml").write_bytes(_headed(RELAYED, bound + 1, "3.txt", letter(3)))
    (inbox / "body.eml").write_bytes(_headed("", 10, "4.txt", letter(4) + b"x\r\n" * bound))
    # a forward sent in base64 is parsed again once decoded: its 2,600 lines and the
    # e-mail's own (the base64 of them) are counted together, each alone within the bound
    inner = _headed("", 2_600, "5.txt", letter(0))
    spread = _raw_forward(base64.encodebytes(inner), cte="base64")
    assert inner.count(b"\n") < bound and spread.count(b"\n") < bound
    (inbox / "spread.eml").write_bytes(spread)
    result = intake.consume_inbox(archive, inbox, register=ARCHIVE_UNIT)
    assert sorted(t.reading.name for t in result.taken) == ["0.txt", "1.txt", "2.txt"]
    why = dict(result.failed)
    assert sorted(why) == ["body.eml", "headers.eml", "spread.eml"]
    for name in why:
        assert f"the e-mail has too many lines (over {bound:,})" in why[name]
        assert "อีเมลมีบรรทัดมากเกินไป" in why[name]
    assert sorted(p.name for p in (inbox / "failed").iterdir() if p.suffix == ".eml") == [
        "body.eml",
        "headers.eml",
        "spread.eml",
    ]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["at-bound.eml", "real.eml"]


def held_until(released: str, started: str, most: float = 600.0) -> int:
    """A reading process kept busy until the file ``released`` exists (or ``most`` s),
    saying in the folder ``started`` that it is."""
    import time

    (Path(started) / str(os.getpid())).touch()
    stop = time.monotonic() + most
    while not Path(released).exists() and time.monotonic() < stop:
        time.sleep(0.05)
    return os.getpid()


def busy(pool, released: Path) -> list:
    """Every process of ``pool`` held, once each has started its hold (a process still
    starting would otherwise take a hold only after another's, or none); the futures of
    the holds, for their release."""
    import tempfile
    import time

    started = Path(tempfile.mkdtemp(dir=released.parent))
    holds = [pool.submit(held_until, str(released), str(started)) for _ in range(pool._max_workers)]
    deadline = time.monotonic() + 120
    while len(list(started.iterdir())) < pool._max_workers:
        assert time.monotonic() < deadline, "the pool's processes did not all start a hold"
        time.sleep(0.05)
    return holds


def test_each_lane_reads_in_processes_of_its_own_as_nice_as_its_readers_may_wait(archive, tmp_path):
    """Neither a folder of a hundred scans nor a flood of districts' scanned replies may
    stand between a clerk's upload and its answer: each lane has its own processes (the
    other lanes' all busy, it still reads), the less waited on the nicer."""
    asked = intake.reader().submit(os.nice, 0).result(60)
    for lane, niceness in intake.NICENESS.items():
        assert intake.reader(lane).submit(os.nice, 0).result(60) == min(19, asked + niceness)
    assert intake.NICENESS[intake.CLERK] < intake.NICENESS[intake.OUTSIDE]
    assert intake.NICENESS[intake.OUTSIDE] < intake.NICENESS[intake.INBOX]
    letter = _seed_txt(tmp_path)
    released = tmp_path / "released"
    for lane in intake.NICENESS:
        others = [intake.reader(other) for other in intake.NICENESS if other != lane]
        released.unlink(missing_ok=True)
        held = [hold for pool in others for hold in busy(pool, released)]
        try:
            if lane == intake.INBOX:
                inbox = tmp_path / "inbox"
                inbox.mkdir()
                shutil.copy(letter, inbox / letter.name)
                done = concurrent.futures.ThreadPoolExecutor(1).submit(
                    intake.consume_inbox, archive, inbox, register=ARCHIVE_UNIT
                )
                assert len(done.result(timeout=60).taken) == 1
            else:
                reading = intake.read_in_worker(letter, name=letter.name, lane=lane)
                assert reading.result(timeout=60).letter["subject"]
        finally:
            released.touch()
            pids = {hold.result(60) for hold in held}
        assert len(pids) == sum(pool._max_workers for pool in others)  # all were held


def _kill_when_reading(pool, seconds: float = 1.0) -> None:
    """SIGKILL every process of ``pool`` once one exists and ``seconds`` have passed (the
    file it was handed is being read)."""
    import signal
    import time

    deadline = time.monotonic() + 120
    while not (pool._processes or {}):
        assert time.monotonic() < deadline, "the pool never started a process"
        time.sleep(0.02)
    time.sleep(seconds)
    for process in list(pool._processes.values()):
        os.kill(process.pid, signal.SIGKILL)


def test_files_in_a_pool_whose_process_died_are_read_again_alone(archive, tmp_path):
    """A reading process that dies (killed, out of memory) fails every file of its pool:
    each is read again in a process of its own, so nothing in the inbox is lost or held
    up by another file's death."""
    import time

    pool = intake.reader(intake.INBOX)
    released = tmp_path / "released"
    holds = busy(pool, released)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _seed_txt(inbox)
    _seed_txt(inbox, scancorpus.seed_stems()[1])
    done = concurrent.futures.ThreadPoolExecutor(1).submit(
        intake.consume_inbox, archive, inbox, register=ARCHIVE_UNIT
    )
    deadline = time.monotonic() + 60
    while len(pool._pending_work_items) < len(holds) + 2:  # both letters wait behind the holds
        assert time.monotonic() < deadline, "the inbox's letters never reached the pool"
        time.sleep(0.02)
    _kill_when_reading(pool, 0)
    result = done.result(timeout=120)
    assert result.failed == []
    assert len(result.taken) == 2
    assert sorted(p.name for p in (inbox / "done").iterdir()) == sorted(
        f"{stem}.txt" for stem in (STEM, scancorpus.seed_stems()[1])
    )
    for hold in holds:
        with pytest.raises(concurrent.futures.process.BrokenProcessPool):
            hold.result(10)
    assert intake.reader(intake.INBOX) is not pool  # the lane reads on in a new pool
    assert intake._ALONE == set()  # each file's own process is gone with it


def test_an_unexpected_fault_reading_a_file_refuses_that_file(monkeypatch, tmp_path):
    """A reader's fault that is none of saraban's errors (a library's ValueError on a
    malformed image) refused the whole inbox round, every round; now it refuses that file
    (422, in Thai), and the rest are taken in."""

    def fault(path, **kwargs):
        raise ValueError("a library's own fault")

    monkeypatch.setattr(intake, "read_incoming", fault)
    failed = intake._read_for_pool(tmp_path / "photo.png", "ภาพ.png", 1024)
    assert isinstance(failed, intake.ReadFailed)
    assert failed.status == 422
    assert failed.message.startswith("อ่านไฟล์ ภาพ.png ไม่สำเร็จ")


@pytest.mark.ocr
def test_a_file_whose_reading_dies_twice_is_refused_and_the_others_are_read(archive, tmp_path):
    """The file that ends its process in the pool and again alone is refused (422, its
    name in Thai), not read a third time; the lane reads the next file."""
    scan = scancorpus.scan_page(scancorpus.render_pages(STEM)[0], STEM, 0)
    path = scancorpus.write_png(scan, tmp_path / "สแกน.png")
    reading = intake.read_in_worker(path, name=path.name)
    _kill_when_reading(intake.reader(intake.CLERK))
    import time

    deadline = time.monotonic() + 60
    while not intake._ALONE:
        assert time.monotonic() < deadline, "the file was never read again alone"
        time.sleep(0.02)
    _kill_when_reading(next(iter(intake._ALONE)))
    with pytest.raises(intake.ReadCrashed) as refused:
        reading.result(timeout=60)
    assert refused.value.status == 422
    assert refused.value.message.startswith("อ่านไฟล์ สแกน.png ไม่สำเร็จ")
    letter = _seed_txt(tmp_path)
    assert intake.read_in_worker(letter, name=letter.name).result(60).letter["subject"]


@pytest.mark.ocr
def test_a_file_read_past_its_time_is_refused_and_its_process_reads_the_next(tmp_path):
    """A scan the OCR cannot finish held one of the lane's two processes for as long as it
    took (Tesseract: up to three minutes a page, fifty pages a file): two such files and the
    inbox stopped for hours. Past its time a file is refused (422, in Thai), and the same
    process reads the next file at once."""
    scan = scancorpus.scan_page(scancorpus.render_pages(STEM)[0], STEM, 0)
    path = scancorpus.write_png(scan, tmp_path / "สแกน.png")
    pool = intake.reader(intake.CLERK)
    with pytest.raises(intake.ReadFailed) as refused:
        intake.read_in_worker(path, name=path.name, seconds=0.3).result(60)
    assert refused.value.status == 422
    assert refused.value.message.startswith("อ่านไฟล์ สแกน.png นานเกิน ๑ นาที จึงหยุดอ่าน")
    letter = _seed_txt(tmp_path)
    assert intake.read_in_worker(letter, name=letter.name).result(60).letter
    assert intake.reader(intake.CLERK) is pool and intake._ALONE == set()
    assert intake.read_in_worker(path, name=path.name).result(120).how == "ocr"


def test_a_files_timer_stops_with_it(monkeypatch, tmp_path):
    """The timer and the watchdog of a file read in time are stopped with it, and the
    signal's handler put back: left armed, either would end the idle process later."""
    import signal

    monkeypatch.setattr(intake, "read_incoming", lambda path, **kwargs: "read")
    before = signal.getsignal(signal.SIGALRM)
    assert intake._read_for_pool(tmp_path / "a.txt", "a.txt", 1024, 0.2) == "read"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before


def test_a_reading_stuck_where_it_cannot_be_stopped_ends_its_process(tmp_path):
    """A reading inside a library's C code never sees its time is up; the process ends
    (the file, read again alone, is then refused as ReadCrashed), so it holds no process."""
    script = f"""
import signal, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from saraban.usecases import intake
def stuck(path, **kwargs):
    signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGALRM}})  # as if in C: no handler runs
    time.sleep(60)
intake.read_incoming = stuck
intake._STUCK_GRACE_SECONDS = 0.5
intake._read_for_pool(__import__("pathlib").Path("x.png"), "x.png", 1024, 0.2)
print("read on")
"""
    import sys
    import time

    started = time.monotonic()
    ended = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=50, check=False
    )
    assert time.monotonic() - started < 30
    assert ended.returncode != 0 and "read on" not in ended.stdout
    assert "Timeout" in ended.stderr  # faulthandler's dump says where it was stuck


def test_a_files_control_characters_stay_in_the_file_not_in_the_register(archive, tmp_path):
    """A typed register field refuses control and direction characters; a field read from
    a file is entered without them (one printable line), and the file keeps its text."""
    source = (scancorpus.SEEDS / f"{STEM}.txt").read_text(encoding="utf-8")
    path = tmp_path / "letter.txt"
    path.write_text(
        source.replace("เรื่อง การขับเคลื่อน", "เรื่อง การขับ\u202eเคลื่อน\u2066"), encoding="utf-8"
    )
    taken = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor=ACTOR)
    assert taken.received.subject.startswith("การขับ เคลื่อน")
    kept = archive.files.read(archive.get(taken.letter_id).original_sha256)
    assert "การขับ\u202eเคลื่อน".encode() in kept


def test_a_failed_files_reason_never_takes_the_name_of_another_failed_file(tmp_path):
    """A failed ``รายงาน.pdf`` wrote its reason over ``รายงาน.pdf.txt``, a failed letter
    kept there before: the letter was lost, and "รับใหม่" offered the note in its place."""
    failed = tmp_path / "inbox" / "failed"
    failed.mkdir(parents=True)
    first = tmp_path / "inbox" / "รายงาน.pdf.txt"
    first.write_text("the first letter", encoding="utf-8")
    intake._move(first, failed, "reason one")
    second = tmp_path / "inbox" / "รายงาน.pdf"
    second.write_bytes(b"%PDF-1.4 broken")
    intake._move(second, failed, "reason two")
    assert (failed / "รายงาน.pdf.txt").read_text(encoding="utf-8") == "the first letter"
    listed, total = intake.failed_files(tmp_path / "inbox")
    assert total == 2
    assert {(f.name, f.why) for f in listed} == {
        ("รายงาน.pdf.txt", "reason one"),
        ("รายงาน-1.pdf", "reason two"),
    }
