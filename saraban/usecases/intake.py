"""Taking in a received letter from a file: one route for the web upload, the API,
``saraban receive --file``, the watched folder ``SARABAN_HOME/inbox/`` (``saraban
consume``, and ``saraban serve`` in the background) and e-mails dropped there or read
from a mailbox (``.eml``: each letter attached taken in, with the files that came with it).

1. **Read** (:func:`read_incoming`, slow: run it in a worker process, :func:`reader`): a
   PDF with text is read by the importer; a scanned PDF or a photo (JPEG, PNG, TIFF, HEIC) is
   OCRed (``archive/importer/_ocr.py``) into text and a searchable PDF/A; a DOCX or TXT is
   read as it is. The letter parser fills the register fields and says which it guessed.
2. **Duplicates** (:func:`find_duplicate`): the same file, or the same sender, number and
   date, already received is refused with the earlier เลขรับ (:class:`AlreadyReceived`),
   so that the door offers it instead of keeping the letter twice.
3. **Keep** (:func:`store_received`): the original file unchanged (as a kept letter, which
   the search indexes as a received letter, OCR text included), the incoming register's
   next เลขรับ with the parsed fields open to correction until confirmed, the searchable
   copy, and a stamped copy of page one (``templates/_stamp.py``).
"""

from __future__ import annotations

import datetime as dt
import email
import email.feedparser
import email.header
import email.message
import email.policy
import faulthandler
import functools
import hashlib
import html.parser
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import (
    CancelledError,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Self

from saraban.archive import Archive, ReceivedRecord
from saraban.archive.importer import (
    DEFAULT_MAX_BYTES,
    EmptyFile,
    FileTooLarge,
    ImportResult,
    UnreadableFile,
    UnsupportedFormat,
    extract_text,
)
from saraban.archive.importer._parsing import Parser
from saraban.errors import BadRequest, Conflict, NotFound, SarabanError
from saraban.folders import temporary_folder
from saraban.letter import MAX_ATTACHMENTS_TEXT_CHARS, MAX_LINE_CHARS, MAX_SUBJECT_CHARS
from saraban.pools import stop_pool
from saraban.thai import thai_date, to_thai_digits
from saraban.usecases._access import check_may_number
from saraban.usecases.importing import ALL_LETTERS, read_letter, stored_suffix
from saraban.vocabulary import one_line

__all__ = [
    "SUFFIXES",
    "AlreadyReceived",
    "Enclosed",
    "check_enclosures",
    "read_enclosures",
    "Intake",
    "Reading",
    "consume_inbox",
    "failed_files",
    "retry_failed",
    "find_duplicate",
    "read_incoming",
    "reader",
    "stamp_received",
    "store_received",
    "take_in",
]

logger = logging.getLogger("saraban.intake")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif")
SUFFIXES = (".pdf", ".docx", ".txt", *IMAGE_SUFFIXES)
MAIL_SUFFIXES = (".eml",)
# Files an e-mail may carry beside its letter that are kept with it but never read (a
# spreadsheet or a form to fill): only a letter makes an e-mail worth taking in.
KEPT_SUFFIXES = (".xlsx", ".xls", ".doc", ".odt", ".ods", ".csv")
NO_ATTACHMENT = "ไม่มีไฟล์แนบที่รับได้ / no attachment to take in"
# An e-mail carries its files in base64 (a third larger): room for one file at the limit.
MAIL_MAX_BYTES = 2 * DEFAULT_MAX_BYTES
MAX_ATTACHMENTS = 30  # files taken from one e-mail; a mail with more is refused whole
# Lines that open or close a MIME part ("--boundary"): 30 files, their wrappings, and lines
# of text that begin "--" (a signature) fit many times over.
MAX_MAIL_DELIMITERS = 1_000
# Parts made as the e-mail is parsed, and how deep in one another: a forwarded e-mail
# (message/rfc822) or a delivery report's block is a part made without a delimiter line, and
# Python's parser recurses a level for each (10,000 levels: seconds, then RecursionError).
MAX_MAIL_PARTS = 1_000
MAX_MAIL_NESTING = 100
# Lines of the e-mail and its forwarded e-mails together: Python's parser spends about 250
# bytes on a header line and 100 on a body line (100 MB of header lines took 18 s and 2 GB,
# of two-byte lines 4.3 GB). A 100 MB e-mail of base64 is 1.3 million lines; two million
# cost at worst 4 s and 520 MB (all header lines).
MAX_MAIL_LINES = 2_000_000
# E-mails forwarded as attachments: their files are taken in as if attached directly, down
# to a forward of a forward this many levels deep; a deeper one's files are left out, said.
FORWARDED = ("message/rfc822", "message/global")
MAX_FORWARD_DEPTH = 5
FORWARD_TOO_DEEP = (
    f"อีเมลที่ส่งต่อซ้อนกันเกิน {MAX_FORWARD_DEPTH} ชั้น ไม่ได้รับไฟล์ในชั้นที่ลึกกว่านั้น / forwarded "
    f"e-mails nested over {MAX_FORWARD_DEPTH} deep: the files of deeper ones were not taken in"
)
FORWARD_UNREADABLE = (
    "อ่านอีเมลที่ส่งต่อมาไม่ได้ ไม่ได้รับไฟล์ในนั้น / a forwarded e-mail could not be read as an "
    "e-mail: its files were not taken in"
)
FORWARDED_HEADING = "---------- อีเมลที่ส่งต่อมา / forwarded e-mail ----------"
MAIL_MESSAGE_NAME = "ข้อความในอีเมล.txt"  # the e-mail itself, kept with each letter it brought
MAIL_MESSAGE_CHARS = 20_000
UNSURE_CONFIDENCE = 80.0  # an OCR page read with less: every register field is checked
MISSING = "(อ่านไม่ได้ โปรดตรวจแก้)"  # a required register field the parser did not find
REGISTER_FIELDS = ("sender", "ref_no", "date", "subject", "addressee", "urgency", "secrecy")


@dataclass(frozen=True)
class Reading:
    """What a file says: made in a worker process, so plain values only."""

    name: str
    sha256: str
    how: str  # "text" (a file with text) or "ocr"
    text: str
    letter: dict[str, Any]
    needs_review: list[str]
    notes: list[str]
    pdfa: bytes | None = None
    confidence: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Enclosed:
    """A file that came with a received letter (another attachment of its e-mail): kept
    with it unchanged, its text (if it was read) searchable with the letter."""

    name: str
    data: bytes
    text: str = ""


@dataclass(frozen=True)
class Intake:
    received: ReceivedRecord
    letter_id: int
    reading: Reading


class AlreadyReceived(Conflict):
    """The letter was received before: ``earlier`` is its received row's id (one the user
    may see; a secret one the user is not cleared for is not named)."""

    def __init__(self, message: str, earlier: int) -> None:
        super().__init__(message)
        self.earlier = earlier


# ---- reading -------------------------------------------------------------------------------


def read_incoming(
    path: Path, *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Reading:
    """Read a received file (slow for a scan or a photo: OCR). Raises an
    :class:`~saraban.archive.importer.ImportFailed` naming the file, in Thai and English."""
    from saraban.archive.importer._ocr import OcrFailed, is_image, ocr_file

    path = Path(path)
    name = name or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(name, "อ่านไฟล์ไม่ได้", f"cannot read: {exc.strerror}") from exc
    if size > max_bytes:
        raise FileTooLarge(
            name,
            f"ไฟล์ใหญ่เกิน {max_bytes // (1024 * 1024)} MB",
            f"the file is over {max_bytes // (1024 * 1024)} MB",
        )
    data = path.read_bytes()
    head = data[:16]
    sha = hashlib.sha256(data).hexdigest()
    pdfa: bytes | None = None
    confidence: list[float] = []
    how = "text"
    try:
        if is_image(head):
            text, pdfa, confidence = ocr_file(path)
            how = "ocr"
        else:
            try:
                text = _text_of(path, name, max_bytes)
            except EmptyFile:
                if not head.startswith(b"%PDF-"):
                    raise
                text, pdfa, confidence = ocr_file(path)  # a scanned PDF: no text layer
                how = "ocr"
    except OcrFailed as exc:
        raise UnreadableFile(name, exc.th, exc.en) from exc
    parsed = Parser(text).parse()
    review = list(parsed.needs_review)
    notes = list(parsed.notes)
    if how == "ocr":
        low = min(confidence, default=0.0)
        if low < UNSURE_CONFIDENCE:
            review.extend(f for f in REGISTER_FIELDS if f not in review)
            notes.append(
                f"อ่านจากภาพ (OCR) ความมั่นใจ {low:.0f}% ตรวจทุกช่อง / read by OCR at"
                f" {low:.0f}% confidence: check every field"
            )
    for name_ in ("sender", "subject", "addressee", "ref_no", "date"):
        value = parsed.letter.get(name_)
        if name_ == "sender":
            value = (value or {}).get("name") if isinstance(value, dict) else value
        if not value and name_ not in review:
            review.append(name_)
    return Reading(name, sha, how, text, parsed.letter, review, notes, pdfa, confidence)


def _text_of(path: Path, name: str, max_bytes: int) -> str:
    """The text of a PDF with text, a DOCX or a TXT; the checks name the file as ``name``."""
    suffix = Path(name).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        raise UnsupportedFormat(
            name, "ชื่อไฟล์บอกว่าเป็นภาพ แต่เนื้อไฟล์ไม่ใช่ภาพ", "the name says an image but it is not one"
        )
    if suffix and suffix not in SUFFIXES:
        raise UnsupportedFormat(
            name,
            "รับได้เฉพาะ PDF, ภาพ (JPEG, PNG, TIFF, HEIC), DOCX และ TXT",
            "only PDF, images (JPEG, PNG, TIFF, HEIC), DOCX and TXT are taken in",
        )
    with temporary_folder("saraban-intake-") as folder:
        # the importer checks the name against the content: give it a name of our own
        copy = Path(folder) / f"received{suffix or '.txt'}"
        shutil.copyfile(path, copy)
        try:
            return extract_text(copy, max_bytes=max_bytes)
        except SarabanError as exc:
            exc.message = exc.message.replace(copy.name, name)
            exc.args = (exc.message,)
            raise


# ---- worker processes ------------------------------------------------------------------------

# The pools of reading processes, a lane each, its processes as nice as its readers may
# wait: what a clerk waits on at a page (an upload), what someone outside waits on (a
# district's reply through its link: a circular to every district may bring hundreds of
# scans at once), and the inbox, which nobody watches. The kernel gives the cores to the
# least nice first, so neither a folder of scans nor a flood of replies stands between a
# clerk and the answer.
CLERK, OUTSIDE, INBOX = "clerk", "outside", "inbox"
NICENESS = {CLERK: 0, OUTSIDE: 5, INBOX: 10}
_POOLS: dict[str, ProcessPoolExecutor] = {}
_stopped = threading.Event()  # set for good when the process ends (stop_readers)


def reader(lane: str = CLERK) -> ProcessPoolExecutor:
    """The processes that read files for ``lane`` (OCR takes a core a page for seconds):
    never a web request's thread. One pool a lane per process, started on first use
    (forkserver: a clean child, not a copy of a threaded server), as many processes as
    cores up to two."""
    if _stopped.is_set():
        raise ReadingStopped()
    pool = _POOLS.get(lane)
    if pool is None:
        pool = _POOLS[lane] = _pool(lane, max(1, min(2, os.cpu_count() or 1)))
    return pool


def _pool(lane: str, processes: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        processes, get_context("forkserver"), initializer=os.nice, initargs=(NICENESS[lane],)
    )


class ReadingStopped(SarabanError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "หยุดอ่านไฟล์เพราะบริการกำลังปิด ไฟล์ในโฟลเดอร์รับเข้าจะอ่านใหม่เมื่อเปิดบริการอีกครั้ง / "
            "reading stopped: the service is ending (the inbox's files are read when it "
            "starts again)"
        )


def stop_readers() -> None:
    """Stop this process's reading processes without waiting for what they read, for good
    (a serving process that ends: SIGTERM, Ctrl-C); its exit waited for every file queued,
    minutes for a folder of scans. What was being read ends in :class:`ReadingStopped`;
    a file of the inbox stays in the folder until it is kept, and is read at the next
    start."""
    _stopped.set()
    while _POOLS:
        stop_pool(_POOLS.popitem()[1])
    with _alone_lock:
        alone = list(_ALONE)
    for pool in alone:
        stop_pool(pool)


class ReadFailed(BadRequest):
    """A file a worker process could not read: its message and status, carried back;
    ``empty``: the (Thai, English) reasons of an importer's ``EmptyFile`` (a file without
    text: a scan, to a caller that reads those by OCR)."""

    empty: tuple[str, str] | None = None


class ReadCrashed(BadRequest):
    """A file whose reading ended its process, twice: once among others, once alone."""

    status = 422

    def __init__(self, name: str) -> None:
        super().__init__(
            f"อ่านไฟล์ {name} ไม่สำเร็จ: โปรแกรมอ่านไฟล์หยุดทำงานกลางคันสองครั้ง ไฟล์อาจเสียหาย"
            f"หรือใหญ่เกินไป / reading {name} ended its reading process twice: the file may "
            "be damaged or too large"
        )


# The longest one file is read: a scan of MAX_PAGES pages OCRed at some ten seconds a page
# fits, a file that keeps a reading process for longer is refused and the process goes on
# to the next (one scan the OCR cannot finish must not hold a lane's processes for hours:
# Tesseract may take minutes a page, and a file may hold fifty).
READ_SECONDS = 15 * 60
# A reading stuck inside a library's C code does not see its time is up: the process is
# ended that much later, and the file, read again alone, is refused (ReadCrashed).
_STUCK_GRACE_SECONDS = 30


class _OutOfTime(BaseException):
    """Raised into a reading whose time is up: a BaseException, so that no ``except
    Exception`` on the way (a reader's fallback) takes it for a file's fault and reads on."""


def _too_slow(name: str, seconds: float, *, scan: bool = True) -> ReadFailed:
    """``scan``: the file may be a scan (the advice is to scan it again), else a letter's
    text (an import)."""
    minutes = max(1, round(seconds / 60))
    th, en = (
        ("แยกไฟล์เป็นหลายไฟล์ที่มีหน้าน้อยลง หรือสแกนใหม่ให้ชัดขึ้น แล้วส่งอีกครั้ง", "split it into "
         "shorter files, or scan it again more clearly")
        if scan
        else ("แยกเป็นหลายไฟล์ที่เล็กลง แล้วนำเข้าอีกครั้ง", "split it into smaller files and import them")
    )  # fmt: skip
    return ReadFailed(
        f"อ่านไฟล์ {name} นานเกิน {to_thai_digits(str(minutes))} นาที จึงหยุดอ่าน {th} / reading "
        f"{name} took over {minutes} minutes and was stopped: {en}",
        status=422,
    )


def _read_for_pool(
    path: Path,
    name: str | None,
    max_bytes: int,
    seconds: float = READ_SECONDS,
    letter: bool = False,
) -> Reading | ImportResult | ReadFailed:
    # An error crosses back to the caller's process pickled: the importer's errors take
    # more than a message to build, so they come back as plain ones (message, status).
    reading = True

    def out_of_time(signum: int, frame: object) -> None:
        if reading:  # not once the file is read (the signal may come as the timer stops)
            raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds + _STUCK_GRACE_SECONDS, exit=True, file=2)
    try:
        if letter:
            return read_letter(path, name=name)
        return read_incoming(path, name=name, max_bytes=max_bytes)
    except _OutOfTime:
        shown = _shown(name or path.name)
        logger.warning("reading %r stopped after %s s", shown, seconds)
        return _too_slow(shown, seconds, scan=not letter)
    except SarabanError as exc:
        failed = ReadFailed(exc.message, status=exc.status)
        if isinstance(exc, EmptyFile):
            failed.empty = (exc.th, exc.en)
        return failed
    except Exception:  # a reader's own fault on this file: the file is refused, not the rest
        shown = _shown(name or path.name)
        logger.exception("reading %r failed", shown)
        return ReadFailed(
            f"อ่านไฟล์ {shown} ไม่สำเร็จ: ไฟล์อาจเสียหาย / could not read {shown}: the file may "
            "be damaged",
            status=422,
        )
    finally:
        reading = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


# Processes that read one file again, alone, after its pool's process died (read_in_worker).
_ALONE: set[ProcessPoolExecutor] = set()
_ALONE_READERS: dict[str, ThreadPoolExecutor] = {}
_alone_lock = threading.Lock()


def read_in_worker(
    path: Path,
    *,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lane: str = CLERK,
    seconds: float = READ_SECONDS,
    letter: bool = False,
) -> Future[Any]:
    """Read a file in a worker process of ``lane``: a :class:`Reading` (a received
    letter's register fields), or with ``letter`` an ``ImportResult`` (the importer's letter
    document, :func:`~saraban.usecases.importing.read_letter`); the future's result raises
    a reading's error.

    A process that dies (killed, out of memory, a crash in a library) breaks its pool, and
    every file being read there fails with it. Each is read again alone, in a process of
    its own: the file that dies there too is refused (:class:`ReadCrashed`), the others are
    read, so one hostile file in the inbox holds up none of the rest, round after round."""
    read = functools.partial(_read_for_pool, Path(path), name, max_bytes, seconds, letter)
    pool = reader(lane)
    try:
        inner = pool.submit(read)
    except BrokenProcessPool:  # broken before this file: start afresh
        _POOLS.pop(lane, None)
        pool = reader(lane)
        inner = pool.submit(read)
    outer: Future[Any] = Future()

    def settle(done: Future[Any], alone: bool) -> None:
        try:
            value = done.result()
        except BrokenProcessPool:
            if _stopped.is_set():
                outer.set_exception(ReadingStopped())
            elif not alone:
                if _POOLS.get(lane) is pool:
                    _POOLS.pop(lane, None)
                _alone_reader(lane).submit(read_alone)
            else:
                logger.error("reading %r ended its process twice: refused", Path(path).name)
                outer.set_exception(ReadCrashed(_shown(name or Path(path).name)))
            return
        except BaseException as exc:  # noqa: BLE001 - handed on to the caller
            stopped = _stopped.is_set() and isinstance(exc, CancelledError)
            outer.set_exception(ReadingStopped() if stopped else exc)
            return
        if isinstance(value, ReadFailed):
            outer.set_exception(value)
        else:
            outer.set_result(value)

    def read_alone() -> None:
        alone = _pool(lane, 1)  # its process starts with the file
        with _alone_lock:
            if _stopped.is_set():
                outer.set_exception(ReadingStopped())
                return
            _ALONE.add(alone)
        try:
            again = alone.submit(read)
            wait([again])
        except RuntimeError:  # shut down by stop_readers before the file went in
            outer.set_exception(ReadingStopped())
            return
        finally:
            alone.shutdown(wait=False)
            with _alone_lock:
                _ALONE.discard(alone)
        settle(again, alone=True)

    inner.add_done_callback(lambda done: settle(done, alone=False))
    return outer


def _alone_reader(lane: str) -> ThreadPoolExecutor:
    """The one thread of ``lane`` that reads files again alone, one after another: a pool
    that dies fails every file in it, and a hundred of the inbox's, each in a process of
    its own at once, would be the flood the pool bounds."""
    with _alone_lock:
        thread = _ALONE_READERS.get(lane)
        if thread is None:
            thread = _ALONE_READERS[lane] = ThreadPoolExecutor(1, f"saraban-read-alone-{lane}")
        return thread


# ---- keeping ---------------------------------------------------------------------------------


def _register_line(value: Any, limit: int = MAX_LINE_CHARS) -> str:
    """A field read from a file as the register keeps it: one line, without the control
    characters a typed field is refused for (the file's own text keeps them), cut to the
    field's length (the clerk corrects it against the file)."""
    return one_line(str(value or ""))[:limit].rstrip()


def _sender_name(letter: dict[str, Any]) -> str:
    sender = letter.get("sender")
    if isinstance(sender, dict):
        return (sender.get("name") or "").strip()
    return str(sender or "").strip()


def _letter_date(letter: dict[str, Any]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(letter["date"]) if letter.get("date") else None
    except (TypeError, ValueError):
        return None


def find_duplicate(
    archive: Archive, reading: Reading, *, clearance: str | None
) -> ReceivedRecord | None:
    """An earlier received letter that is this one: the same file, or the same sender,
    their number and date. Only letters the ``clearance`` opens are named."""
    same_file = archive.letters_with_original(reading.sha256, clearance=clearance)
    if same_file:
        rows = archive.received_of_letters(same_file, clearance=clearance)
        kept = [r for r in rows if r.letter_id in same_file]
        if kept:
            return kept[0]
    return archive.received_like(
        sender=_sender_name(reading.letter),
        ref_no=reading.letter.get("ref_no"),
        letter_date=_letter_date(reading.letter),
        clearance=clearance,
    )


def _number(record: ReceivedRecord) -> str:
    return to_thai_digits(record.number)


def store_received(
    archive: Archive,
    reading: Reading,
    original: bytes,
    *,
    register: str,
    actor: str,
    clearance: str | None = ALL_LETTERS,
    secrecy: str | None = None,
    answers_id: int | None = None,
    received_at: dt.datetime | None = None,
    office: str | None = None,
    note: str | None = None,
    enclosed: Sequence[Enclosed] = (),
) -> Intake:
    """Keep a received letter read from a file: the original unchanged, the next เลขรับ,
    the searchable copy and the stamped copy of page one. ``answers_id``: the letter of
    ours it answers (a district's reply to a circular). A letter received before raises
    :class:`AlreadyReceived` naming it: it is offered, never kept twice. ``enclosed``:
    the files that came with it, kept with the letter, their text searchable with it."""
    earlier = find_duplicate(archive, reading, clearance=clearance)
    if earlier is not None:
        raise AlreadyReceived(
            f"{reading.name}: ลงรับแล้ว เลขรับที่ {_number(earlier)} / already received as"
            f" no. {earlier.number}",
            earlier.id,
        )
    letter = reading.letter
    level = secrecy or letter.get("secrecy") or None
    check_may_number(clearance, level, "ลงรับ")  # the letter's own stamp too
    doc = {**letter, "secrecy": level}
    if enclosed:
        texts = [letter.get("attachments_text") or "", *(e.text for e in enclosed)]
        doc["attachments_text"] = "\n\n".join(filter(None, texts))[:MAX_ATTACHMENTS_TEXT_CHARS]
    record = archive.store_imported(
        doc,
        original=original,
        original_name=reading.name,
        actor=actor,
        needs_review={"fields": reading.needs_review, "notes": reading.notes},
        clearance=clearance,
        enclosed=[(e.name, e.data) for e in enclosed],
    )
    received = archive.receive(
        register,
        sender=_register_line(_sender_name(letter)) or MISSING,
        recipient=_register_line(letter.get("addressee")) or MISSING,
        subject=_register_line(letter.get("subject"), MAX_SUBJECT_CHARS) or MISSING,
        ref_no=_register_line(letter.get("ref_no")) or None,
        letter_date=_letter_date(letter),
        received_at=received_at,
        letter_id=record.id,
        secrecy=level,
        pdfa=reading.pdfa,
        answers_id=answers_id,
        note=note,
        confirmed=False,
        actor=actor,
    )
    source = reading.pdfa or (original if original.startswith(b"%PDF-") else None)
    if source is not None:
        try:
            received = stamp_received(archive, received, source, office=office, actor=actor)
        except SarabanError:
            logger.warning("received %s: no stamped copy", received.id, exc_info=True)
    return Intake(received, record.id, reading)


_STAMP_ATTEMPTS = 3


def stamp_received(
    archive: Archive,
    received: ReceivedRecord,
    pdf: bytes | None = None,
    *,
    office: str | None = None,
    actor: str,
    left_mm: float | None = None,
    top_mm: float | None = None,
) -> ReceivedRecord:
    """Draw the receipt stamp on a copy of page one (of ``pdf``, or of the searchable copy
    or the original PDF already kept) and keep that copy; the received file never changes.
    ``left_mm``/``top_mm``: where the clerk puts the stamp (kept for the copies made after);
    without them, where a clerk put it before, or else the default place. The orders
    written so far are printed with it."""
    from saraban.archive._incoming import StampOutdated
    from saraban.templates._stamp import StampText, stamp_first_page

    if pdf is None:
        pdf = stampable(archive, received)
    moved = None
    if left_mm is not None or top_mm is not None:
        if left_mm is None or top_mm is None:
            raise BadRequest("ต้องระบุทั้งระยะจากซ้ายและจากบน / give both left_mm and top_mm")
        moved = (_millimetres(left_mm, "left_mm"), _millimetres(top_mm, "top_mm"))
    local = received.received_at.astimezone()
    attempts = _STAMP_ATTEMPTS
    while True:
        # drawn from what the letter holds now, kept only if that still holds: an order
        # written or the stamp moved meanwhile draws it again
        state = archive.stamp_state(received.id)
        position = moved or state.position
        text = StampText(
            office=office or received.register,
            number=_number(received),
            date=thai_date(local.date(), "short"),
            time=to_thai_digits(local.strftime("%H.%M")) + " น.",
            orders=order_lines(archive, received.id),
        )
        stamped = stamp_first_page(
            pdf,
            text,
            left_mm=position[0] if position else None,
            top_mm=position[1] if position else None,
        )
        try:
            return archive.attach_stamped(
                received.id, stamped, actor=actor, position=moved, drawn=state
            )
        except StampOutdated:
            attempts -= 1
            if not attempts:
                raise


def _millimetres(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name}: ต้องเป็นตัวเลข (มม.) / must be a number of mm") from None
    if not 0 <= number <= 1000:  # NaN fails too
        raise BadRequest(f"{name}: ต้องอยู่ระหว่าง ๐ ถึง ๑๐๐๐ มม. / must be 0 to 1000 mm")
    return number


def order_lines(archive: Archive, received_id: int) -> list[str]:
    """The orders (สั่งการ) written on a received letter, as the stamped copy prints them."""
    return [
        f"{o.text} — {o.written_by} {thai_date(o.written_at.astimezone().date(), 'short')}"
        for o in archive.orders_of(received_id)
    ]


def stampable(archive: Archive, received: ReceivedRecord) -> bytes:
    """The PDF whose page one is stamped: the searchable copy, or the original PDF."""
    if received.pdfa_sha256:
        return archive.files.read(received.pdfa_sha256)
    if received.letter_id is not None:
        letter = archive.get(received.letter_id)
        if letter.original_sha256:
            data = archive.files.read(letter.original_sha256)
            if data.startswith(b"%PDF-"):
                return data
    raise BadRequest("หนังสือนี้ไม่มีหน้า PDF ให้ประทับตรารับ / this letter has no PDF page to stamp")


def take_in(
    archive: Archive,
    path: Path,
    *,
    register: str,
    actor: str,
    name: str | None = None,
    clearance: str | None = ALL_LETTERS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    in_worker: bool = False,
    **keep: Any,
) -> Intake:
    """Read a file (in a worker process if ``in_worker``) and keep it as a received letter
    (:func:`store_received`)."""
    path = Path(path)
    name = name or path.name
    if in_worker:
        reading = read_in_worker(path, name=name, max_bytes=max_bytes).result()
    else:
        reading = read_incoming(path, name=name, max_bytes=max_bytes)
    return store_received(
        archive,
        reading,
        path.read_bytes(),
        register=register,
        actor=actor,
        clearance=clearance,
        **keep,
    )


# ---- the watched folder and e-mail ------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """What an ``.eml`` file brings (:func:`mail_attachments`)."""

    note: str  # where it came from, for the register: its sender and date
    files: list[tuple[str, bytes]]  # (name, bytes), in the e-mail's order
    said: str  # the e-mail itself as text (:func:`_mail_message`)
    left_out: list[str] = field(default_factory=list)  # why some files were not taken


def mail_attachments(path: Path) -> Mail:
    """Where an ``.eml`` file came from (a note for the register: its sender and date),
    (name, bytes) of each attachment that can be taken in or kept with a letter, in the
    e-mail's order, and the e-mail itself as text (:func:`_mail_message`). The files of an
    e-mail forwarded as an attachment (``message/rfc822``, or a file named ``.eml``) are
    taken where it sits, as if attached directly, down to ``MAX_FORWARD_DEPTH`` levels
    (deeper, or one that reads as no e-mail: left out, said in ``left_out``); the register's
    note names the outer e-mail's sender, who sent it to the office. A ValueError (said in
    Thai and English) for a mail too large, split into too many parts or lines, or nested
    too deep (:class:`_MailParser`), or with too many files (forwarded
    ones' counted with the rest)."""
    size = path.stat().st_size
    if size > MAIL_MAX_BYTES:
        raise ValueError(
            f"อีเมลใหญ่เกิน {MAIL_MAX_BYTES // (1024 * 1024)} MB / the e-mail is over "
            f"{MAIL_MAX_BYTES // (1024 * 1024)} MB ({size:,} bytes)"
        )
    parser = _MailParser()
    message = parser.parse(path.read_bytes())
    found: list[tuple[str, bytes]] = []
    forwarded: list[email.message.EmailMessage] = []
    left_out: list[str] = []
    # depth first, each forwarded e-mail's files where it sits; no recursion
    stack = [(iter(_attachments_of(message)), 0)]
    while stack:
        parts, depth = stack[-1]
        part = next(parts, None)
        if part is None:
            stack.pop()
            continue
        forward = part.get_content_type() in FORWARDED
        if forward or _mail_file(part):
            inner = None
            if depth < MAX_FORWARD_DEPTH:
                inner = _forwarded(part, parser) if forward else _attached_mail(part, parser)
            if inner is None:
                why = FORWARD_TOO_DEEP if depth == MAX_FORWARD_DEPTH else FORWARD_UNREADABLE
                if why not in left_out:
                    left_out.append(why)
                continue
            forwarded.append(inner)
            stack.append((iter(_attachments_of(inner)), depth + 1))
            continue
        filename = _shown(_file_name(part))
        if Path(filename).suffix.lower() in (*SUFFIXES, *KEPT_SUFFIXES):
            if len(found) == MAX_ATTACHMENTS:
                raise ValueError(
                    f"อีเมลมีไฟล์แนบเกิน {MAX_ATTACHMENTS} ไฟล์ / the e-mail has more than "
                    f"{MAX_ATTACHMENTS} files to take in: send them in several e-mails"
                )
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                found.append((filename, payload))
    sender, sent = _header(message, "From"), _header(message, "Date")
    note = "ทางอีเมล" + (f"จาก {sender}" if sender else "") + (f" ({sent})" if sent else "")
    return Mail(note, found, _mail_message(message, forwarded), left_out)


class _MailParser:
    """Parses an e-mail, and the forwarded e-mails encoded inside it, within bounds counted
    for all of them together: ``MAX_MAIL_DELIMITERS`` lines that open or close a part,
    counted before each is parsed (Python's parser spends 0.14 ms and some kilobytes on each
    MIME part: a 100 MB e-mail of empty parts, which anyone may send to the mailbox, held
    the intake for half an hour and took gigabytes), then ``MAX_MAIL_PARTS`` parts nested at
    most ``MAX_MAIL_NESTING`` deep, counted as the parser makes them (a forwarded e-mail
    nested 10,000 deep has no delimiter to count), and ``MAX_MAIL_LINES`` lines, counted
    before each is parsed. A ValueError past a bound."""

    def __init__(self) -> None:
        self.delimiters = 0
        self.lines = 0
        self.parts = 0

    def parse(self, data: bytes, depth: int = 0) -> email.message.EmailMessage:
        self.delimiters += data.count(b"\n--") + data.startswith(b"--")
        if self.delimiters > MAX_MAIL_DELIMITERS:
            raise ValueError(
                f"อีเมลแบ่งเป็นส่วนย่อยมากเกินไป (เกิน {MAX_MAIL_DELIMITERS:,} ส่วน) / the e-mail "
                f"is split into too many parts (over {MAX_MAIL_DELIMITERS:,})"
            )
        self.lines += data.count(b"\n") + 1
        if self.lines > MAX_MAIL_LINES:
            raise ValueError(
                f"อีเมลมีบรรทัดมากเกินไป (เกิน {MAX_MAIL_LINES:,} บรรทัด) / the e-mail has too "
                f"many lines (over {MAX_MAIL_LINES:,})"
            )

        def part(policy: email.policy.Policy | None = None) -> _CountedPart:
            return _CountedPart(policy, counter=self, depth=depth)

        feed = email.feedparser.BytesFeedParser(part, policy=email.policy.default)
        # fed piece by piece (BytesParser first decodes the whole e-mail: another copy, twice
        # as large for 8-bit text)
        for start in range(0, len(data), 1 << 16):
            feed.feed(data[start : start + (1 << 16)])
        message = feed.close()
        assert isinstance(message, email.message.EmailMessage)
        return message

    def made(self, depth: int) -> None:
        self.parts += 1
        if self.parts > MAX_MAIL_PARTS:
            raise ValueError(
                f"อีเมลมีส่วนย่อยมากเกินไป (เกิน {MAX_MAIL_PARTS:,} ส่วน) / the e-mail holds too "
                f"many parts (over {MAX_MAIL_PARTS:,})"
            )
        if depth > MAX_MAIL_NESTING:
            raise ValueError(
                f"อีเมลซ้อนกันลึกเกินไป (เกิน {MAX_MAIL_NESTING} ชั้น) / the e-mail's parts are "
                f"nested too deep (over {MAX_MAIL_NESTING} levels)"
            )


class _CountedPart(email.message.EmailMessage):
    """A part of an e-mail as :class:`_MailParser` parses it: the parser attaches each part
    it makes to the one that holds it, and the part counts it there."""

    def __init__(
        self,
        policy: email.policy.Policy | None = None,
        *,
        counter: _MailParser | None = None,
        depth: int = 0,
    ) -> None:
        super().__init__(policy=policy)
        self._counter = counter
        self._depth = depth

    def attach(self, payload: Self) -> None:  # type: ignore[override]  # as MIMEPart's
        payload._depth = self._depth + 1
        if self._counter is not None:
            self._counter.made(payload._depth)
        super().attach(payload)


def _attachments_of(message: email.message.EmailMessage) -> list[email.message.EmailMessage]:
    """A message's attachments (its text and HTML left out), or the message itself when it
    is a lone file (a forwarded e-mail that is a PDF and nothing else)."""
    if message.is_multipart():
        if message.get_content_type() in FORWARDED:
            return [message]  # an e-mail that is a forwarded one and nothing else
        return list(message.iter_attachments())
    return [message] if message.get_filename() else []


def _forwarded(
    part: email.message.EmailMessage, parser: _MailParser
) -> email.message.EmailMessage | None:
    """The e-mail a ``message/rfc822`` (or ``message/global``) part holds, or None if it
    holds none. Such a part is parsed as it stands, whatever its Content-Transfer-Encoding
    says (RFC 2046 allows none for message/rfc822), so a part that does say base64 or
    quoted-printable and reads as no e-mail (no header at all) is decoded and parsed
    (RFC 6532 allows it for message/global), counted with the e-mail holding it."""
    held = part.get_payload()
    inner = held[0] if isinstance(held, list) and held else None
    if not isinstance(inner, _CountedPart):
        return None
    if len(inner) or inner.is_multipart():
        return inner
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte not in ("base64", "quoted-printable"):
        return None
    carrier = email.message.Message()
    carrier["Content-Transfer-Encoding"] = cte
    carrier.set_payload(inner.get_payload())
    return _mail_in(carrier.get_payload(decode=True), parser, inner._depth)


def _file_name(part: email.message.EmailMessage) -> str:
    """A part's file name without the folders a sender put before it."""
    return os.path.basename((part.get_filename() or "").replace("\\", "/"))


def _mail_file(part: email.message.EmailMessage) -> bool:
    """Whether a part is a file named as an e-mail (``.eml``), whatever its type: some mail
    clients forward an e-mail so, as ``application/octet-stream`` or ``text/plain``."""
    return Path(_file_name(part)).suffix.lower() in MAIL_SUFFIXES


def _attached_mail(
    part: email.message.EmailMessage, parser: _MailParser
) -> email.message.EmailMessage | None:
    """The e-mail a file named ``.eml`` holds, decoded and parsed with the counters of the
    e-mail holding it, or None if it holds none (no header: not an e-mail)."""
    if not isinstance(part, _CountedPart):
        return None
    return _mail_in(part.get_payload(decode=True), parser, part._depth + 1)


def _mail_in(data: object, parser: _MailParser, depth: int) -> email.message.EmailMessage | None:
    """``data`` parsed as an e-mail with ``parser``'s counters, or None when it is no bytes
    or no e-mail (not one header)."""
    if not isinstance(data, bytes) or not data:
        return None
    inner = parser.parse(data, depth=depth)
    return inner if len(inner) else None


def _header(message: email.message.Message, name: str) -> str:
    """A header's value as text, one line, bounded."""
    from saraban.archive._incoming import printable_line

    # Decoded by hand from the raw value: the address parser refuses a hostile one (an
    # encoded line break) outright, and its sender would be lost with it.
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), "")
    try:
        value = str(email.header.make_header(email.header.decode_header(raw)))
    except (ValueError, LookupError, UnicodeError):
        value = raw
    return printable_line(value)[:200]


def _mail_message(
    message: email.message.EmailMessage, forwarded: Sequence[email.message.EmailMessage] = ()
) -> str:
    """The e-mail as its reader saw it, kept with each letter it brought
    (``MAIL_MESSAGE_NAME``): sender, recipients, date and subject, then its own words (the
    plain text, or the text of its HTML), then the same of each e-mail forwarded in it
    (who first sent the letter, and what they wrote), at most ``MAIL_MESSAGE_CHARS``
    characters in all."""
    markup = [MAIL_MESSAGE_CHARS * 20]  # HTML read for all of them together
    text = _said(message, markup)
    for inner in forwarded:
        if len(text) >= MAIL_MESSAGE_CHARS:
            break
        text += "\n\n" + FORWARDED_HEADING + "\n" + _said(inner, markup)
    # a lone surrogate (bytes no charset reads) is kept as U+FFFD: the text is UTF-8 on disk
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:MAIL_MESSAGE_CHARS].strip() + "\n"


def _said(message: email.message.EmailMessage, markup: list[int]) -> str:
    """One message's sender, recipients, date and subject, and its own words; its HTML
    read as far as ``markup[0]`` characters, which it uses up."""
    heads = [
        f"{label}: {value}"
        for label, name in (("จาก", "From"), ("ถึง", "To"), ("วันที่", "Date"), ("เรื่อง", "Subject"))
        if (value := _header(message, name))
    ]
    words = ""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError, UnicodeError, AssertionError):
            content = ""  # a part that claims a charset or encoding it does not have
        if isinstance(content, str):
            if body.get_content_subtype() == "html":
                words = _html_text(content[: markup[0]])
                markup[0] -= min(len(content), markup[0])
            else:
                words = content
    return "\n".join(heads) + "\n\n" + words.strip()


_BLOCKS = frozenset("p div br tr li h1 h2 h3 h4 h5 h6 table blockquote pre hr".split())
_UNSEEN = frozenset(("script", "style", "head", "title"))


class _HtmlWords(html.parser.HTMLParser):
    """The words of an HTML e-mail: a line for each block, never its scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _UNSEEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSEEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.lines[-1] += data


def _html_text(markup: str) -> str:
    parser = _HtmlWords()
    parser.feed(markup[: MAIL_MESSAGE_CHARS * 20])
    parser.close()
    return "\n".join(line for line in (" ".join(t.split()) for t in parser.lines) if line)


@dataclass
class Consumed:
    taken: list[Intake] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # (file, earlier id)


def _files(inbox: Path) -> list[Path]:
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix.lower() in (*SUFFIXES, *MAIL_SUFFIXES)
    )


@dataclass
class _Arrived:
    """One file of an arrival (a dropped file, or an attachment of an e-mail): read in a
    worker process, or only kept (``future`` None); then its reading or why it failed."""

    name: str
    path: Path
    future: Future[Reading] | None
    reading: Reading | None = None
    error: str | None = None

    def settle(self) -> None:
        if self.future is not None:
            try:
                self.reading = self.future.result()
            except ReadingStopped:
                raise  # not the file's fault: it stays in the folder
            except SarabanError as exc:
                self.error = exc.message

    def enclosed(self) -> Enclosed:
        text = self.reading.text if self.reading else ""
        return Enclosed(self.name, self.path.read_bytes(), text)


def check_enclosures(
    names: list[str],
    *,
    kinds: tuple[str, ...] = (*SUFFIXES, *KEPT_SUFFIXES),
    most: int = MAX_ATTACHMENTS,
) -> None:
    """Files handed in beside a letter: at most ``most``, each of one of ``kinds`` (by its
    suffix); the error names the file."""
    if len(names) > most:
        raise BadRequest(f"enclosures: แนบได้ไม่เกิน {most} ไฟล์ / at most {most} files")
    for name in names:
        if Path(name).suffix.lower() not in kinds:
            allowed = ", ".join(kinds)
            raise BadRequest(
                f"enclosures: {name}: แนบได้เฉพาะไฟล์ {allowed} / only {allowed} files are kept "
                "with a letter"
            )


def read_enclosures(files: list[tuple[str, Path]], *, max_bytes: int) -> list[Enclosed]:
    """(name, path) of files handed in with a letter, each read for its text in a worker
    process where saraban reads its kind (one that cannot be read is kept all the same)."""
    arrived = [
        _Arrived(
            name,
            path,
            read_in_worker(path, name=name, max_bytes=max_bytes)
            if Path(name).suffix.lower() in SUFFIXES
            else None,
        )
        for name, path in files
    ]
    for a in arrived:
        a.settle()
    return [a.enclosed() for a in arrived]


def _looks_like_a_letter(reading: Reading) -> bool:
    """A file that reads as a letter of its own (its subject found, and its number or whom
    it is to: เรียน ...), not as an enclosure of one (a form, a list, a plan: a form may
    hold a line that reads as a subject, but neither a number nor an addressee)."""
    letter = reading.letter
    return bool(letter.get("subject") and (letter.get("ref_no") or letter.get("addressee")))


def _with_their_files(arrived: list[_Arrived]) -> list[tuple[_Arrived, list[_Arrived]]]:
    """The letters among the files of one e-mail, each with the files that came with it:
    every file that is not a letter goes with the letter before it in the e-mail (the first
    letter, if it comes first). An e-mail in which no file reads as a letter (a scan read
    poorly) has each file read taken in as a letter of its own, the files kept unread with
    the first. Files that failed to be read are left out unless a letter carries them."""
    letters = [a for a in arrived if a.reading is not None and _looks_like_a_letter(a.reading)]
    if not letters:
        read = [a for a in arrived if a.reading is not None]
        unread = [a for a in arrived if a.future is None]
        return [(a, unread if n == 0 else []) for n, a in enumerate(read)]
    found: dict[int, list[_Arrived]] = {id(a): [] for a in letters}
    current = letters[0]
    for a in arrived:
        if id(a) in found:
            current = a
        else:
            found[id(current)].append(a)
    return [(a, found[id(a)]) for a in letters]


def consume_inbox(
    archive: Archive,
    inbox: Path,
    *,
    register: str,
    actor: str = "inbox",
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int, str], None] | None = None,
    **keep: Any,
) -> Consumed:
    """Take in every file in ``inbox`` (e-mails: each letter attached, with the files that
    came with it: :func:`_with_their_files`), reading in worker processes; each file is then
    moved to ``inbox/done/`` or ``inbox/failed/`` (with a ``.txt`` beside it saying why), so
    a file is never taken in twice."""
    done_dir, failed_dir = inbox / "done", inbox / "failed"
    done_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    failed_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    result = Consumed()
    files = _files(inbox)
    with temporary_folder("saraban-inbox-") as tmp:
        # (file, note, the e-mail as text, its files)
        arrivals: list[tuple[Path, str | None, str | None, list[_Arrived]]] = []
        failed_sources: dict[Path, str] = {}
        for n, path in enumerate(files):
            if path.suffix.lower() not in MAIL_SUFFIXES:
                name = _shown(path.name)
                future = read_in_worker(path, name=name, max_bytes=max_bytes, lane=INBOX)
                arrivals.append((path, None, None, [_Arrived(name, path, future)]))
                continue
            try:
                mail = mail_attachments(path)
            except (OSError, ValueError) as exc:
                why = f"อ่านอีเมลไม่ได้ / cannot read the e-mail: {exc}"
                result.failed.append((_shown(path.name), why))
                _move(path, failed_dir, str(exc))
                continue
            # files left out (a forward nested too deep): said, and the e-mail goes to
            # failed/ for it once the files it did bring are taken in
            for why in mail.left_out:
                result.failed.append((_shown(path.name), why))
            if mail.left_out:
                failed_sources[path] = "; ".join(mail.left_out)
            arrived = []
            for m, (name, data) in enumerate(mail.files):
                part = Path(tmp) / f"{n}-{m}{stored_suffix(name)}"
                part.write_bytes(data)
                readable = Path(name).suffix.lower() in SUFFIXES
                reading = (
                    read_in_worker(part, name=name, max_bytes=max_bytes, lane=INBOX)
                    if readable
                    else None
                )
                arrived.append(_Arrived(name, part, reading))
            if not any(a.future for a in arrived):
                if not mail.left_out:  # else the reason is said above
                    result.failed.append((_shown(path.name), NO_ATTACHMENT))
                    failed_sources[path] = NO_ATTACHMENT
                continue
            arrivals.append((path, mail.note, mail.said, arrived))
        total, done = sum(len(a) for *_, a in arrivals), 0
        for source, came_by, mail_text, arrived in arrivals:
            kept_mail = (
                [Enclosed(MAIL_MESSAGE_NAME, mail_text.encode("utf-8"), mail_text)]
                if mail_text
                else []
            )
            for a in arrived:
                a.settle()
            letters = _with_their_files(arrived)
            carried = {id(e) for _, enclosed in letters for e in enclosed}
            for a in arrived:
                if a.error is not None and id(a) not in carried:
                    result.failed.append((a.name, a.error))
                    failed_sources[source] = a.error
            for letter, enclosed in letters:
                assert letter.reading is not None
                try:
                    intake = store_received(
                        archive,
                        letter.reading,
                        letter.path.read_bytes(),
                        register=register,
                        actor=actor,
                        note=came_by,
                        enclosed=[e.enclosed() for e in enclosed] + kept_mail,
                        **keep,
                    )
                    result.taken.append(intake)
                except AlreadyReceived as exc:
                    result.duplicates.append((letter.name, exc.earlier))
                except SarabanError as exc:
                    result.failed.append((letter.name, exc.message))
                    failed_sources[source] = exc.message
            if progress is not None:
                for a in arrived:
                    done += 1
                    progress(done, total, a.name)
        for path in files:
            if path.exists():
                reason = failed_sources.get(path)
                if reason is None:
                    _move(path, done_dir)
                else:
                    _move(path, failed_dir, reason)
    return result


@dataclass(frozen=True)
class FailedFile:
    """A file of the watched folder that was not taken in, kept in ``inbox/failed/``."""

    name: str
    why: str
    at: dt.datetime  # when it failed (its note's time), UTC


def _shown(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by the file system as lone
    surrogates) become U+FFFD, as a page shows them."""
    return os.fsencode(name).decode("utf-8", "replace")


def _failed_originals(folder: Path) -> dict[str, str]:
    """The files in ``failed/`` that have their reason beside them: shown name -> name."""
    if not folder.is_dir():
        return {}
    with os.scandir(folder) as entries:
        names = {e.name for e in entries if e.is_file() and not e.name.startswith(".")}
    return {_shown(n): n for n in names if n + ".txt" in names}


def failed_files(inbox: Path, *, limit: int = 50) -> tuple[list[FailedFile], int]:
    """The newest ``limit`` files that were not taken in, with their reasons, and how many
    there are in all."""
    folder = inbox / "failed"
    originals = _failed_originals(folder)
    newest = sorted(
        (((folder / (n + ".txt")).stat().st_mtime, shown, n) for shown, n in originals.items()),
        reverse=True,
    )[:limit]
    found = []
    for moment, shown, name in newest:
        with open(folder / (name + ".txt"), encoding="utf-8", errors="replace") as note:
            why = note.read(2000).strip()
        found.append(FailedFile(shown, why, dt.datetime.fromtimestamp(moment, dt.UTC)))
    return found, len(originals)


def retry_failed(inbox: Path, name: str) -> str:
    """Put a file that was not taken in (named as :func:`failed_files` shows it) back into
    the watched folder, to be tried again at the next look (after the cause was mended: a
    register set, a reader installed); the name it has there."""
    folder = inbox / "failed"
    real = _failed_originals(folder).get(name)
    if real is None:  # only a listed file: no path, no hidden file, nothing else
        raise NotFound("ไม่พบไฟล์นี้ในรายการที่รับไม่ได้ / no such file among those not taken in")
    target = _move(folder / real, inbox)
    (folder / (real + ".txt")).unlink(missing_ok=True)
    return _shown(target.name)


def _move(path: Path, folder: Path, why: str | None = None) -> Path:
    """Move ``path`` into ``folder`` under a name free there, with the reason ``why`` beside
    it as NAME.txt, also free: a failed ``รายงาน.pdf`` wrote its reason over a failed
    ``รายงาน.pdf.txt`` kept there before."""

    def taken(target: Path) -> bool:
        note = target.with_name(target.name + ".txt")
        return target.exists() or (why is not None and note.exists())

    target = folder / path.name
    stem, n = target.stem, 1
    while taken(target):
        target = folder / f"{stem}-{n}{path.suffix}"
        n += 1
    path.replace(target)
    if why is not None:
        # the reason names the file, whose name may not be UTF-8 (as it is shown)
        target.with_name(target.name + ".txt").write_text(_shown(why) + "\n", encoding="utf-8")
    return target
