"""Sending an issued letter to its recipients and following it until they reply.

:func:`send` records one delivery per recipient (the archive's ``circulars``), each with
a private link ``BASE_URL/d/TOKEN`` and an e-mail queued for it, in one transaction; the
mail goes out later (:func:`send_mail`, run by ``saraban serve`` in the background or by
``saraban mail send``). The recipient opens the link, acknowledges with their own เลขรับ
(:func:`acknowledge`) and replies with a letter file and/or the enclosed form filled in
online (:func:`reply`); the clerk follows it all (:func:`tracking`) and reminds those who
have not replied (:func:`remind`).

Secret letters are never sent by link or e-mail: they go only to recipients that are
units of this instance, into their incoming register; an e-mail never carries the subject
of a secret letter (there is none to carry).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saraban.archive import Archive, circulars, default_actor, mail, sign_issued
from saraban.archive._keys import read_unit_key
from saraban.errors import BadRequest, Conflict, InvalidLetter, Problem
from saraban.settings import Settings
from saraban.thai import (
    ThaiDateError,
    parse_be_date,
    thai_date,
)
from saraban.usecases._access import visible_letter

# Tracking is its own module (saraban tracking reads it without the rest); its names here too.
from saraban.usecases.tracking import Tracking as Tracking
from saraban.usecases.tracking import be_moment as be_moment
from saraban.usecases.tracking import tracking as tracking

if TYPE_CHECKING:
    from saraban.archive.importer import ImportResult

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_REPLY_BYTES = 20 * 1024 * 1024
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
# The reply letter: a PDF (with text, or a scan of the signed letter), a DOCX, or a photo.
REPLY_SUFFIXES = (".pdf", ".docx", *PHOTO_SUFFIXES)
# Files a recipient may send beside the reply (a filled spreadsheet, a photo): kept with the
# reply as they came, their text searchable with it.
ENCLOSURE_SUFFIXES = (
    *(".pdf", ".docx", ".doc", ".xlsx", ".xls", ".ods", ".odt", ".csv"),
    *PHOTO_SUFFIXES,
)
MAX_REPLY_ENCLOSURES = 10
# Scanned pages of one reply read by OCR (about 7 s of a core a page, in the reading
# processes), the letter's first, then its enclosures'; a longer scan is kept unread. A
# link replies once, and one reply at a time is read for it: a link holder's cost is bounded.
MAX_REPLY_OCR_PAGES = 5


def parse_due(text: str | None) -> dt.date | None:
    """A due date typed in BE (``๓๑/๑/๒๕๗๐``, ``31 ม.ค. 70``); a CE year is caught and the
    clerk is told what it is in BE, never shifted silently."""
    try:
        return parse_be_date(text)
    except ThaiDateError as exc:
        raise InvalidLetter([Problem("due", exc.code, exc.en, exc.th)]) from None


# ---- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    letter_id: int
    public_id: str  # what users see (the row id counts letters)
    due: dt.date | None
    form: str | None
    deliveries: list[circulars.DeliveryInfo]
    links: dict[int, str]  # delivery id -> link (shown once: only its hash is kept)

    def as_dict(self) -> dict[str, Any]:
        return {
            "letter": self.public_id,
            "due": self.due.isoformat() if self.due else None,
            "form": self.form,
            "deliveries": [
                {"name": d.name, "email": d.email, "link": self.links.get(d.id)}
                for d in self.deliveries
            ],
        }


def _letter_line(record: Any) -> str:
    date = thai_date(record.date) if record.date else ""
    return f"ที่ {record.ref_no} ลงวันที่ {date}".strip()


def _mail_text(
    record: Any,
    delivery_name: str,
    addressee: str,
    link: str,
    due: dt.date | None,
    expires: dt.datetime,
    *,
    reminder: bool = False,
) -> tuple[str, str]:
    """Subject and body of the e-mail of one delivery (never of a secret letter)."""
    subject = " ".join(
        f"{'ทวงถาม: ' if reminder else ''}หนังสือ {record.ref_no} เรื่อง {record.subject or ''}".split()
    )
    lines = [
        f"เรียน {addressee}",
        "",
        f"{record.sender or 'หน่วยงานผู้ส่ง'} ส่งหนังสือ{_letter_line(record)}",
        f"เรื่อง {record.subject or ''}",
        f"ถึง {delivery_name}",
        "",
        "อ่านและดาวน์โหลดหนังสือพร้อมสิ่งที่ส่งมาด้วย ลงรับ และตอบกลับ ได้ที่ลิงก์นี้:",
        link,
        "",
    ]
    if due:
        lines.append(f"ขอให้ตอบกลับภายในวันที่ {thai_date(due)}")
    lines += [
        f"ลิงก์นี้เป็นของหน่วยงานท่านเท่านั้น ใช้ได้ถึงวันที่ {thai_date(expires.astimezone().date())} โปรดอย่าส่งต่อ",
        "",
        "-- ",
        "ส่งจากระบบสารบรรณ saraban / sent by saraban",
    ]
    return subject[:400], "\n".join(" ".join(line.split()) if line else "" for line in lines)


def _enclosures(
    archive: Archive,
    record: Any,
    doc: dict[str, Any],
    form: str | None,
    settings: Settings,
    actor: str,
) -> list[dict[str, Any]]:
    """What each recipient downloads: the letter (signed by its unit if the unit has a
    key), the filled forms the letter encloses, and the blank form to reply on."""
    letter_pdf = {"name": "หนังสือ.pdf", "sha256": record.pdf_sha256, "media_type": PDF_TYPE}
    if record.unit and read_unit_key(archive.home, record.unit) is not None:
        signed = sign_issued(
            archive, record.id, actor=actor, base=settings.base_url, tsa_url=settings.tsa_url
        )
        sha = circulars.record_file(archive, signed, PDF_TYPE)
        letter_pdf = {"name": "หนังสือ (ลงนามอิเล็กทรอนิกส์).pdf", "sha256": sha, "media_type": PDF_TYPE}
    found = [letter_pdf]
    for n, enclosure in enumerate(doc.get("enclosures") or [], start=1):
        if not isinstance(enclosure, dict) or not isinstance(enclosure.get("files"), dict):
            continue
        for kind, sha in sorted(enclosure["files"].items()):
            if sha and kind in ("pdf", "docx"):
                media = PDF_TYPE if kind == "pdf" else DOCX_TYPE
                found.append({"name": f"สิ่งที่ส่งมาด้วย {n}.{kind}", "sha256": sha, "media_type": media})
    if form:
        from saraban.templates.forms import blank_docx

        sha = circulars.record_file(archive, blank_docx(form), DOCX_TYPE)
        found.append(
            {"name": f"แบบรายงาน {form} (ว่าง).docx", "sha256": sha, "media_type": DOCX_TYPE}
        )
    return found


def send(
    archive: Archive,
    settings: Settings,
    letter_id: int,
    to: list[str],
    *,
    actor: str | None = None,
    clearance: str | None,
    due: dt.date | None = None,
    working_days: int | None = None,
    form: str | None = None,
    today: dt.date | None = None,
) -> Sent:
    """Send an issued letter to every recipient and group named in ``to``.

    ``due``: the reply's due date, or ``working_days`` after today counted on the
    holiday calendar. ``form``: the catalogue form the recipients fill in reply.
    """
    actor = actor or default_actor()
    record = visible_letter(archive, letter_id, clearance)
    circulars.sendable(archive, letter_id)
    if due is not None and working_days is not None:
        raise BadRequest(
            "due: ระบุวันที่หรือจำนวนวันทำการอย่างใดอย่างหนึ่ง / give a due date or working days, not both"
        )
    today = today or dt.date.today()
    if working_days is not None:
        due = circulars.add_working_days(archive, today, working_days)
    if due is not None and due < today:
        raise InvalidLetter(
            [
                Problem(
                    "due",
                    "due_passed",
                    f"the due date {due.isoformat()} has passed",
                    f"วันครบกำหนด {thai_date(due)} ผ่านมาแล้ว",
                )
            ]
        )
    if form is not None:
        from saraban.templates.forms import form_schema

        form_schema(form)  # an unknown form: FormNotFound naming the forms
    chosen = circulars.resolve(archive, to)
    secret = bool(record.secrecy)
    if secret:
        outside = [r.name for r in chosen if not r.unit]
        if outside:
            raise BadRequest(
                f"หนังสือลับ ({record.secrecy}) ส่งทางลิงก์หรืออีเมลไม่ได้ ส่งได้เฉพาะหน่วยงานในระบบ: "
                f"{', '.join(outside[:5])} ไม่ใช่หน่วยงานในระบบ / a secret letter is never sent by "
                "link or e-mail, only to units of this instance"
            )
    doc = archive.letter_document(letter_id)
    enclosures = _enclosures(archive, record, doc, form, settings, actor) if not secret else []
    now = dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(days=settings.link_days)
    if due is not None:
        expires = max(expires, dt.datetime.combine(due, dt.time(), dt.UTC) + dt.timedelta(days=60))
    outgoing = []
    links: dict[int, str] = {}
    for recipient in chosen:
        item = circulars.Outgoing(recipient)
        if not secret:
            item.token = circulars.new_token()
            link = circulars.delivery_link(settings.base_url, item.token)
            if recipient.email:
                item.mail = _mail_text(
                    record, recipient.name, recipient.addressee, link, due, expires
                )
            item.extra["link"] = link
        outgoing.append(item)
    made = circulars.send(
        archive,
        letter_id,
        outgoing,
        actor=actor,
        due=due,
        form=form,
        enclosures=enclosures,
        expires_at=expires,
        mail_from=settings.mail_from,
    )
    by_recipient = {o.recipient.id: o for o in outgoing}
    for delivery in made:
        made_link = by_recipient[delivery.recipient_id].extra.get("link")
        if made_link:
            links[delivery.id] = str(made_link)
    return Sent(letter_id, record.public_id, due, form, made, links)


def smtp_settings(settings: Settings) -> mail.SmtpSettings:
    return mail.SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )


def send_mail(archive: Archive, settings: Settings) -> tuple[int, int]:
    """Send what waits in the mail queue; (sent, failed)."""
    return mail.send_queued(archive, smtp_settings(settings))


def remind(
    archive: Archive,
    settings: Settings,
    letter_id: int,
    *,
    actor: str | None = None,
    clearance: str | None,
) -> list[tuple[circulars.DeliveryInfo, str]]:
    """A new link, e-mailed, to each recipient who has not replied; (delivery, link)."""
    actor = actor or default_actor()
    record = visible_letter(archive, letter_id, clearance)
    if record.secrecy:
        return []
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.link_days)

    def make_mail(delivery: circulars.DeliveryInfo, token: str) -> tuple[str, str]:
        link = circulars.delivery_link(settings.base_url, token)
        return _mail_text(
            record, delivery.name, delivery.addressee, link, delivery.due, expires, reminder=True
        )

    sent = circulars.remind(
        archive,
        letter_id,
        make_mail,
        actor=actor,
        expires_at=expires,
        mail_from=settings.mail_from,
    )
    return [(d, circulars.delivery_link(settings.base_url, t)) for d, t in sent]


def awaiting(archive: Archive, clearance: str | None) -> list[circulars.AwaitingCircular]:
    return circulars.awaiting_replies(archive, clearance)


# ---- the recipient's side ----------------------------------------------------------------------


def open_delivery(archive: Archive, token: str) -> circulars.OpenedDelivery:
    return circulars.open_token(archive, token)


def delivery_file(archive: Archive, token: str, n: int) -> tuple[Path, str, str]:
    """(path, name, media type) of the n-th file sent with a delivery (from 0); the
    download is audited (once per file per window) and marks the delivery opened."""
    item = circulars.record_download(archive, token, n + 1)
    return archive.files.path(item["sha256"]), str(item["name"]), str(item["media_type"])


def acknowledge(
    archive: Archive, token: str, receive_no: Any, by: Any, *, now: dt.datetime | None = None
) -> circulars.DeliveryInfo:
    return circulars.acknowledge(archive, token, receive_no, by, now=now)


def reply(
    archive: Archive,
    token: str,
    *,
    upload: tuple[str, bytes] | None = None,
    data: dict[str, Any] | None = None,
    enclosures: list[tuple[str, bytes]] | None = None,
    now: dt.datetime | None = None,
) -> circulars.DeliveryInfo:
    """A recipient's reply: a letter file (PDF or DOCX, read by the importer; a scan or a
    photo of the signed letter read by OCR) and/or the enclosed form's data (checked as the
    forms page checks it), and ``enclosures``: files sent beside it, kept with it
    (:func:`_texts`). Kept as a received letter of the sender, numbered in its incoming
    register and linked to the circular. A delivery's replies are read one at a time
    (:func:`~saraban.archive.circulars.reading_reply`)."""
    with circulars.reading_reply(archive, token) as opened:
        return _reply(archive, token, opened, upload, data, enclosures, now)


def _reply(
    archive: Archive,
    token: str,
    opened: circulars.OpenedDelivery,
    upload: tuple[str, bytes] | None,
    data: dict[str, Any] | None,
    enclosures: list[tuple[str, bytes]] | None,
    now: dt.datetime | None,
) -> circulars.DeliveryInfo:
    from saraban.usecases import importing

    delivery = opened.delivery
    if upload is None and data is None:
        raise BadRequest("ส่งไฟล์หนังสือตอบกลับ หรือกรอกแบบรายงาน / send a letter file or the form")
    enclosed = _reply_enclosures(enclosures or [])
    if data is not None:
        if not delivery.form:
            raise BadRequest("หนังสือนี้ไม่มีแบบรายงานให้กรอก / this letter has no form to fill")
        from saraban.templates.forms import kept_form_data

        data = kept_form_data(delivery.form, data)
    subject = f"ตอบหนังสือ {opened.ref_no} เรื่อง {opened.subject or ''}".strip()
    pages = _OcrPages(MAX_REPLY_OCR_PAGES)
    if upload is not None:
        name, original = upload
        name = importing.upload_name(name, 1)
        if Path(name).suffix.lower() not in REPLY_SUFFIXES:
            raise BadRequest(
                "file: ส่งได้เฉพาะไฟล์ PDF, DOCX หรือภาพถ่าย (JPEG, PNG) / only a PDF, DOCX, "
                "JPEG or PNG file"
            )
        if len(original) > MAX_REPLY_BYTES:
            raise BadRequest(
                f"file: ไฟล์ใหญ่เกิน {MAX_REPLY_BYTES // 2**20} MB / the file is too large"
            )
        refused = f"{name}: สารบรรณนี้ได้รับไฟล์นี้แล้ว / this file was received here already"
        unread = {"kind": "external", "subject": subject, "sender": {"name": delivery.name}}
        try:
            parsed, pdfa = _read_reply_letter(archive, original, name, pages, unread=unread)
        except Conflict:  # the archive names the letter it is: not for outsiders
            raise Conflict(refused) from None
        letter = parsed.letter
        review = {"fields": parsed.needs_review, "notes": parsed.notes}
        subject = letter.get("subject") or subject
    else:
        assert delivery.form is not None and data is not None
        refused = "สารบรรณนี้ได้รับคำตอบนี้แล้ว / this reply was received here already"
        letter = {
            "kind": "external",
            "subject": subject,
            "sender": {"name": delivery.name},
            "addressee": opened.sender,
            "body": [f"รายงานตามแบบ {delivery.form} ซึ่งกรอกทางลิงก์ของหนังสือ {opened.ref_no}"],
        }
        name = f"{delivery.form}.docx"
        original = _form_reply_docx(delivery.form, data, by=delivery.name, subject=subject)
        review, pdfa = None, None
    try:
        return circulars.store_reply(
            archive,
            token,
            _with_text(letter, _texts(enclosed, pages)),
            original=original,
            original_name=name,
            needs_review=review,
            data=data,
            register=opened.unit or "",
            subject=subject,
            enclosed=enclosed,
            pdfa=pdfa,
            now=now,
        )
    except circulars.AlreadyReplied:
        raise
    except Conflict:  # the archive names the letter it became: not for outsiders
        raise Conflict(refused) from None


class _OcrPages:
    """What is left of a reply's budget of pages read by OCR."""

    def __init__(self, left: int) -> None:
        self.left = left

    def take(self, path: Path, name: str) -> int | None:
        """The pages of the scan or photo at ``path`` (sent as ``name``) if the budget still
        holds them all (they are then spent), else None; a file that is no page is refused."""
        from saraban.archive.importer import UnreadableFile
        from saraban.archive.importer._ocr import OcrFailed, page_count

        try:
            count = page_count(path)
        except OcrFailed as exc:
            raise UnreadableFile(name, exc.th, exc.en) from exc
        if count > self.left:
            return None
        self.left -= count
        return count


def _read_reply_letter(
    archive: Archive, content: bytes, name: str, pages: _OcrPages, *, unread: dict[str, Any]
) -> tuple[ImportResult, bytes | None]:
    """The reply letter read as the importer reads an upload; a scan or a photo of the
    signed letter by OCR (in the reading processes) while ``pages`` holds it, with the
    searchable PDF/A copy OCR made of it (to stamp and to read as the intake's scans),
    else kept unread as the letter ``unread``, every register field for the clerk to
    check against the file."""
    from saraban.archive.importer import EmptyFile, ImportResult
    from saraban.folders import temporary_folder
    from saraban.usecases import importing, intake

    if Path(name).suffix.lower() not in PHOTO_SUFFIXES:
        try:
            return importing.read_upload(archive, content, name, clearance=None), None
        except EmptyFile:
            pass  # a scan: read below
    with temporary_folder("saraban-reply-") as folder:
        path = Path(folder) / f"reply{importing.stored_suffix(name)}"
        path.write_bytes(content)
        count = pages.take(path, name)
        if count is None:
            kept_unread = ImportResult(
                unread,
                list(intake.REGISTER_FIELDS),
                [
                    f"ไฟล์สแกนยาวเกิน {MAX_REPLY_OCR_PAGES} หน้า ไม่ได้อ่านข้อความ กรอกจากไฟล์ / a scan "
                    f"over {MAX_REPLY_OCR_PAGES} pages, not read: fill the fields from the file"
                ],
            )
            return kept_unread, None
        reading = intake.read_in_worker(
            path, name=name, max_bytes=MAX_REPLY_BYTES, lane=intake.OUTSIDE
        ).result()
    duplicate = importing.find_duplicate(archive, reading.letter, content, name, clearance=None)
    if duplicate is not None:
        raise duplicate
    return ImportResult(reading.letter, reading.needs_review, reading.notes), reading.pdfa


def _texts(files: list[tuple[str, bytes]], pages: _OcrPages) -> str:
    """The text of a reply's files, for search: a PDF's or DOCX's text layer (the importer's
    checks and bounds), a scan's or photo's by OCR while ``pages`` holds it; a file that
    cannot be read is kept all the same, without text."""
    from saraban.archive.importer import EmptyFile, extract_text
    from saraban.errors import SarabanError
    from saraban.folders import temporary_folder
    from saraban.usecases import intake

    texts, scans = [], []
    with temporary_folder("saraban-reply-") as folder:
        for n, (name, content) in enumerate(files):
            suffix = Path(name).suffix.lower()
            if suffix not in (".pdf", ".docx", *PHOTO_SUFFIXES):
                continue  # spreadsheets and office files: kept unread
            path = Path(folder) / f"file-{n}{suffix}"
            path.write_bytes(content)
            try:
                if suffix in (".pdf", ".docx"):
                    try:
                        texts.append(extract_text(path, max_bytes=MAX_REPLY_BYTES))
                        continue
                    except EmptyFile:
                        if suffix == ".docx":
                            continue
                if pages.take(path, name) is not None:  # a scan or a photo
                    scans.append(
                        intake.read_in_worker(
                            path, name=name, max_bytes=MAX_REPLY_BYTES, lane=intake.OUTSIDE
                        )
                    )
            except SarabanError:
                continue  # damaged: kept without text
        for scan in scans:
            try:
                texts.append(scan.result().text)
            except SarabanError:
                continue
    return "\n\n".join(texts)


def _with_text(letter: dict[str, Any], text: str) -> dict[str, Any]:
    """The reply's letter with its files' text searchable beside it."""
    if not text:
        return letter
    from saraban.letter import MAX_ATTACHMENTS_TEXT_CHARS

    joined = "\n\n".join(filter(None, [letter.get("attachments_text") or "", text]))
    return {**letter, "attachments_text": joined[:MAX_ATTACHMENTS_TEXT_CHARS]}


def _form_reply_docx(form: str, data: dict[str, Any], *, by: str, subject: str) -> bytes:
    """The filled form as the reply's file, its properties saying who sent it to which
    letter: two districts that answer alike (or one that answers two circulars alike) send
    two files, not the same bytes twice, which the archive would refuse as one file kept
    again."""
    import io

    from docx import Document

    from saraban.templates.forms import fill_docx

    document = Document(io.BytesIO(fill_docx(form, data)))
    document.core_properties.author = by[:255]
    document.core_properties.title = subject[:255]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _reply_enclosures(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The files sent beside a reply, checked: at most :data:`MAX_REPLY_ENCLOSURES` of
    :data:`ENCLOSURE_SUFFIXES`, not empty, :data:`MAX_REPLY_BYTES` in all."""
    from saraban.usecases.importing import upload_name
    from saraban.usecases.intake import check_enclosures

    named = [(upload_name(name, n), content) for n, (name, content) in enumerate(files, 1)]
    check_enclosures(
        [name for name, _ in named], kinds=ENCLOSURE_SUFFIXES, most=MAX_REPLY_ENCLOSURES
    )
    for name, content in named:
        if not content:
            raise BadRequest(f"enclosures: {name}: ไฟล์ว่าง / the file is empty")
    if sum(len(content) for _, content in named) > MAX_REPLY_BYTES:
        raise BadRequest(
            f"enclosures: รวมกันใหญ่เกิน {MAX_REPLY_BYTES // 2**20} MB / the files are over "
            f"{MAX_REPLY_BYTES // 2**20} MB in all"
        )
    return named
