"""Importing existing letters (.txt, .docx, .pdf): read a file into a letter document and
keep it in the archive with its original, one at a time (the API, ``saraban import``, the
demo) or in batches that a clerk reviews first (the import pages).

:func:`store_parsed` is the one place a parsed letter is handed to the archive, with what
the clerk should review. A batch lives in ``<home>/imports/<id>/``: the uploaded files
(named by their position, so no uploaded name ever becomes a path), ``manifest.json``
(every file's state and the letter read from it) and ``summary.json`` (its counts, for the
list of batches), each rewritten atomically as the batch is read, reviewed and kept.
Nothing of a batch reaches the archive before a clerk confirms it.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from saraban.archive import Archive, LetterRecord, crashpoint
from saraban.archive.importer import DEFAULT_MAX_BYTES, ImportResult, extract_text
from saraban.archive.importer import import_file as read_file
from saraban.errors import BadRequest, Conflict, InvalidLetter, NotFound, SarabanError
from saraban.folders import temporary_folder
from saraban.letter import SECRECIES
from saraban.thai import thai_date
from saraban.usecases._access import check_may_number
from saraban.vocabulary import one_line

ALL_LETTERS = SECRECIES[-1]  # the clearance of a command run on the instance itself


# ---- one file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    """A letter kept from a file, and what the clerk should check in it."""

    record: LetterRecord
    letter: dict[str, Any]
    needs_review: list[str]
    notes: list[str]


def read_letter(path: Path, *, name: str | None = None) -> ImportResult:
    """The letter document read from ``path``; an error names the file as ``name`` (the
    name it was uploaded under) rather than the path it was kept at."""
    try:
        return read_file(path)
    except SarabanError as exc:
        if name and name != path.name:
            exc.message = exc.message.replace(path.name, name)
            exc.args = (exc.message,)
        raise


# The longest an upload is read for import (in a reading process, see read_letter_apart): a
# letter's text read from the largest .docx the importer opens takes some 20 s.
IMPORT_READ_SECONDS = 120


def read_letter_apart(path: Path, *, name: str | None = None, lane: str = "clerk") -> ImportResult:
    """:func:`read_letter` in a reading process of ``lane`` (the intake's: ``clerk``, or
    ``outside`` for a recipient's reply), never in a serving thread: five large .docx read
    in an API import held the serving process's interpreter for 11.6 s, and searches
    beside it took 761 ms at p95 (14 ms before). A reading past
    :data:`IMPORT_READ_SECONDS` is stopped and refused, and a file whose reading ends its
    process is refused, without taking the server with it. A file without text raises
    ``EmptyFile``, as here."""
    return _read(_start_reading(path, name, lane), path, name)


def _start_reading(path: Path, name: str | None, lane: str = "clerk") -> Future[Any]:
    from saraban.usecases import intake

    return intake.read_in_worker(
        path, name=name, lane=lane, seconds=IMPORT_READ_SECONDS, letter=True
    )


def _read(reading: Future[Any], path: Path, name: str | None) -> ImportResult:
    """What :func:`_start_reading` read, or its error (``EmptyFile`` as the importer's)."""
    from saraban.archive.importer import EmptyFile
    from saraban.usecases import intake

    try:
        return reading.result()
    except intake.ReadFailed as exc:
        if exc.empty is not None:
            raise EmptyFile(name or path.name, *exc.empty) from None
        raise


class AlreadyImported(Conflict):
    """The file is a letter the archive already holds: ``earlier`` (one the user may see; a
    secret letter the user is not cleared for is never named), ``ours`` when it is one of
    our own issued letters coming back."""

    def __init__(self, message: str, earlier: LetterRecord, *, ours: bool = False) -> None:
        super().__init__(message)
        self.earlier = earlier
        self.ours = ours

    def earlier_json(self) -> dict[str, Any]:
        """The earlier letter as the API and ``saraban import --json`` name it."""
        date = self.earlier.date
        return {
            "id": self.earlier.public_id,
            "ref_no": self.earlier.ref_no,
            "date": date.isoformat() if date else None,
            "ours": self.ours,
        }


def _shown_date(value: dt.date | None) -> tuple[str, str]:
    return (thai_date(value), value.isoformat()) if value else ("-", "-")


def our_letter(
    archive: Archive, original: bytes, name: str, *, clearance: str | None
) -> AlreadyImported | None:
    """One of our own issued files (its PDF/A carries ``letter.json``, its hash is the
    issued file's) coming back: recognised as that letter, before it is even read."""
    sha = hashlib.sha256(original).hexdigest()
    ours = archive.issued_with_file(sha, clearance=clearance)
    return _ours(ours, name) if ours is not None else None


def _ours(ours: LetterRecord, name: str) -> AlreadyImported:
    th_date, en_date = _shown_date(ours.date)
    return AlreadyImported(
        f"{name}: นี่คือหนังสือของเราเอง ที่ {ours.ref_no} ลงวันที่ {th_date} ไม่ได้เก็บซ้ำ / "
        f"this is our own letter {ours.ref_no} issued on {en_date}; nothing was stored",
        ours,
        ours=True,
    )


def find_duplicate(
    archive: Archive,
    letter: dict[str, Any],
    original: bytes,
    name: str,
    *,
    clearance: str | None,
) -> AlreadyImported | None:
    """An earlier letter that this file is, among those ``clearance`` opens (as the intake
    of received letters finds them): our own issued file, the same file imported before,
    or the same sender, number and date. ``None`` when the user may see no such letter."""
    found = our_letter(archive, original, name, clearance=clearance)
    if found is not None:
        return found
    same_file = archive.letters_with_original(
        hashlib.sha256(original).hexdigest(), clearance=clearance
    )
    if same_file:
        earlier = archive.get(same_file[0])
        return AlreadyImported(
            f"{name}: นำเข้าแล้วเป็นหนังสือรายการ {earlier.public_id} / already imported as "
            f"letter {earlier.public_id} (the same file)",
            earlier,
        )
    sender = letter.get("sender")
    sender_name = (sender.get("name") or "") if isinstance(sender, dict) else str(sender or "")
    try:
        date = dt.date.fromisoformat(letter["date"]) if letter.get("date") else None
    except (TypeError, ValueError):
        date = None
    like = archive.letters_like(
        sender=sender_name.strip(),
        ref_no=letter.get("ref_no"),
        letter_date=date,
        clearance=clearance,
    )
    if like is None:
        return None
    if like.status != "stored":  # a copy of ours (a signed one, a scan): the same letter
        return _ours(like, name)
    th_date, en_date = _shown_date(like.date)
    return AlreadyImported(
        f"{name}: มีหนังสือนี้ในระบบแล้ว ที่ {like.ref_no} ลงวันที่ {th_date} จาก {like.sender}"
        f" (หนังสือรายการ {like.public_id}) / already kept: letter {like.ref_no} of {en_date}"
        f" from {like.sender} (letter {like.public_id})",
        like,
    )


def store_parsed(
    archive: Archive,
    parsed: ImportResult,
    original: bytes,
    name: str,
    *,
    actor: str,
    clearance: str | None,
    key: str | None = None,
) -> LetterRecord:
    """Keep a letter read from a file, with its original and what the importer could not
    read for sure; ``clearance`` (the importing user's) bounds which earlier letters are
    named as this one (:func:`find_duplicate`: a letter kept before raises
    :class:`AlreadyImported`, nothing is kept twice); ``key`` names the hand-over (a batch
    item), so that asking again answers with the letter it kept."""
    if key is not None:
        earlier = archive.letter_by_key(key)
        if earlier is not None:
            return earlier
    check_may_number(clearance, parsed.letter.get("secrecy"), "นำเข้า", "import it")
    duplicate = find_duplicate(archive, parsed.letter, original, name, clearance=clearance)
    if duplicate is not None:
        raise duplicate
    return archive.store_imported(
        parsed.letter,
        original=original,
        original_name=name,
        actor=actor,
        needs_review={"fields": parsed.needs_review, "notes": parsed.notes},
        clearance=clearance,
        idempotency_key=key,
    )


def import_file(
    archive: Archive,
    path: Path,
    *,
    actor: str,
    clearance: str | None = ALL_LETTERS,
    name: str | None = None,
    apart: bool = False,
) -> Imported:
    """Read a letter file and keep it (``apart``: read in a reading process,
    :func:`read_letter_apart`). A file that fails stores nothing."""
    name = name or path.name
    original = path.read_bytes()
    ours = our_letter(archive, original, name, clearance=clearance)
    if ours is not None:
        raise ours
    parsed = (read_letter_apart if apart else read_letter)(path, name=name)
    record = store_parsed(archive, parsed, original, name, actor=actor, clearance=clearance)
    return Imported(record, parsed.letter, list(parsed.needs_review), list(parsed.notes))


MAX_UPLOAD_NAME = 200
_STORED_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


def upload_name(name: str, n: int) -> str:
    """The name an uploaded file is shown and kept under: its last part, whatever folders
    the client put before it, without control characters, at most
    :data:`MAX_UPLOAD_NAME` characters with its suffix (``n``: its place in the upload,
    for a file without one)."""
    last = Path(name.replace("\\", "/")).name
    last = one_line(last)
    if len(last) > MAX_UPLOAD_NAME:
        suffix = stored_suffix(last)
        last = last[: MAX_UPLOAD_NAME - len(suffix)].rstrip() + suffix
    return last or f"file-{n}"


def stored_suffix(name: str) -> str:
    """The suffix a file of ours takes from an uploaded ``name`` while it is read: a dot and
    at most ten letters or digits, else none (a NUL in it failed the write: a 500)."""
    suffix = Path(name).suffix.lower()
    return suffix if _STORED_SUFFIX.fullmatch(suffix) else ""


def read_upload(archive: Archive, data: bytes, name: str, *, clearance: str | None) -> ImportResult:
    """Read one uploaded file (``name``: see :func:`upload_name`) without keeping it, for a
    caller that keeps it in a transaction of its own (a recipient's reply); a file that is
    already a letter here raises :class:`AlreadyImported` (``clearance`` bounds which)."""
    with temporary_folder("saraban-import-") as folder:
        path = Path(folder) / f"upload{stored_suffix(name)}"
        path.write_bytes(data)
        ours = our_letter(archive, data, name, clearance=clearance)
        if ours is not None:
            raise ours
        parsed = read_letter_apart(path, name=name, lane="outside")
    duplicate = find_duplicate(archive, parsed.letter, data, name, clearance=clearance)
    if duplicate is not None:
        raise duplicate
    return parsed


def import_upload(
    archive: Archive, data: bytes, name: str, *, actor: str, clearance: str | None
) -> Imported:
    """Read and keep one uploaded file (``name``: see :func:`upload_name`): kept under a
    name of our own while it is read (in a reading process: :func:`read_letter_apart`;
    no uploaded name ever becomes a path), reported under its own."""
    with temporary_folder("saraban-import-") as folder:
        path = Path(folder) / f"upload{stored_suffix(name)}"
        path.write_bytes(data)
        return import_file(archive, path, actor=actor, clearance=clearance, name=name, apart=True)


# ---- batches ------------------------------------------------------------------------------

SUFFIXES = (".txt", ".docx", ".pdf")
MAX_FILES = 1000
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass
class Item:
    n: int
    name: str  # as uploaded, for display only
    file: str  # stored name inside the batch folder
    size: int
    status: str = "waiting"  # waiting, parsed, failed, stored
    error: str | None = None
    letter: dict[str, Any] | None = None
    needs_review: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    letter_id: int | None = None
    duplicate_of: str | None = None  # the public id of the letter this file already is
    duplicate_ours: bool = False  # ... one of our own issued letters

    @property
    def suffix(self) -> str:
        return Path(self.file).suffix


@dataclass
class Batch:
    id: str
    owner_id: int
    created_at: str
    items: list[Item]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("waiting", "parsed", "failed", "stored"), 0)
        for item in self.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        return counts


def _lock(batch_id: str) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(batch_id, threading.Lock())


def root(home: Path) -> Path:
    return Path(home) / "imports"


def _folder(home: Path, batch_id: str) -> Path:
    if not batch_id or not set(batch_id) <= _ID_CHARS:
        raise NotFound(f"ไม่พบชุดนำเข้า {batch_id!r} / no import batch {batch_id!r}")
    return root(home) / batch_id


def create(home: Path, owner_id: int, files: list[tuple[str, bytes]]) -> Batch:
    """Keep the uploaded files as a new batch (nothing parsed yet)."""
    if not files:
        raise BadRequest("files: ยังไม่ได้เลือกไฟล์ / no file was chosen")
    if len(files) > MAX_FILES:
        raise BadRequest(
            f"files: นำเข้าได้ครั้งละไม่เกิน {MAX_FILES:,} ไฟล์ / at most {MAX_FILES:,} files at once"
        )
    batch_id = secrets.token_urlsafe(9)
    folder = root(home) / batch_id
    folder.mkdir(parents=True)
    items = []
    for n, (name, data) in enumerate(files, start=1):
        display = upload_name(name, n)
        suffix = Path(display).suffix.lower()
        stored = f"{n:04d}{suffix if suffix in SUFFIXES else '.bin'}"
        (folder / stored).write_bytes(data)
        item = Item(n, display, stored, len(data))
        if suffix not in SUFFIXES:
            item.status = "failed"
            item.error = (
                f"{display}: นำเข้าได้เฉพาะไฟล์ .txt .docx และ .pdf / only .txt, .docx and .pdf "
                "files can be imported"
            )
        elif len(data) > DEFAULT_MAX_BYTES:
            item.status = "failed"
            item.error = (
                f"{display}: ไฟล์ใหญ่เกิน {DEFAULT_MAX_BYTES // (1024 * 1024)} MB / the file is "
                f"over {DEFAULT_MAX_BYTES // (1024 * 1024)} MB"
            )
        items.append(item)
    batch = Batch(batch_id, owner_id, dt.datetime.now(dt.UTC).isoformat(), items)
    save(home, batch)
    return batch


def save(home: Path, batch: Batch) -> None:
    folder = _folder(home, batch.id)
    _replace(folder / "manifest.json", json.dumps(asdict(batch), ensure_ascii=False).encode())
    _replace(folder / "summary.json", json.dumps(asdict(Summary.of(batch))).encode())


def _replace(path: Path, data: bytes) -> None:
    """``path`` holds ``data``: a reader sees the old content or the new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Summary:
    """What the list of a clerk's batches shows of one: its manifest holds every letter
    read (some 20 KB a file), and the list read ten whole manifests, 0.5 s for ten
    batches of 400 files."""

    id: str
    owner_id: int
    created_at: str
    files: int
    counted: dict[str, int]

    @classmethod
    def of(cls, batch: Batch) -> Summary:
        return cls(batch.id, batch.owner_id, batch.created_at, len(batch.items), batch.counts())

    def counts(self) -> dict[str, int]:
        return self.counted


def load(home: Path, batch_id: str, owner_id: int) -> Batch:
    """The owner's batch, or NotFound (another clerk's batch does not exist for them)."""
    path = _folder(home, batch_id) / "manifest.json"
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        raise NotFound(f"ไม่พบชุดนำเข้า {batch_id} / no import batch {batch_id}") from None
    if raw.get("owner_id") != owner_id:
        raise NotFound(f"ไม่พบชุดนำเข้า {batch_id} / no import batch {batch_id}")
    items = [Item(**item) for item in raw["items"]]
    return Batch(raw["id"], raw["owner_id"], raw["created_at"], items)


def recent(home: Path, owner_id: int, limit: int = 10) -> list[Summary]:
    """The owner's latest batches, newest first (a batch saved before summaries were kept
    is summed up from its manifest)."""
    folder = root(home)
    if not folder.is_dir():
        return []
    found: list[Summary] = []
    for manifest in sorted(
        folder.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime, reverse=True
    ):
        summary = _summary(home, manifest.parent.name, owner_id)
        if summary is not None:
            found.append(summary)
        if len(found) >= limit:
            break
    return found


def _summary(home: Path, batch_id: str, owner_id: int) -> Summary | None:
    try:
        raw = json.loads((_folder(home, batch_id) / "summary.json").read_text("utf-8"))
        summary = Summary(**raw)
    except (OSError, ValueError, TypeError):
        try:
            batch = load(home, batch_id, owner_id)
        except NotFound:
            return None
        return Summary.of(batch)
    return summary if summary.owner_id == owner_id else None


def item_path(home: Path, batch: Batch, item: Item) -> Path:
    return _folder(home, batch.id) / item.file


def get_item(batch: Batch, n: int) -> Item:
    for item in batch.items:
        if item.n == n:
            return item
    raise NotFound(f"ไม่พบไฟล์ลำดับ {n} ในชุดนำเข้านี้ / no file {n} in this batch")


# Files of a batch read at once (the clerk's lane has two reading processes; more would
# queue before a clerk's own upload), and how often a long job saves what it did.
_READ_AHEAD = 2
_SAVE_EVERY_SECONDS = 1.0


class _Merged:
    """Items a long job changed (reading a batch, keeping it), merged into the saved batch
    about once a second and at the end: saved after each item, the manifest (every letter
    read) was read and written again for each, and 400 files took 39 s to read where 100
    took 2.9, 400 letters 83 s to keep where 100 took 6.7. An item is merged only while
    its saved status is still ``status``, the one the job took it in: a letter the clerk
    kept on its own page meanwhile stays as they kept it."""

    def __init__(self, home: Path, batch_id: str, owner_id: int, status: str) -> None:
        self._where = (home, batch_id, owner_id)
        self._status = status
        self._changed: list[Item] = []
        self._saved_at = time.monotonic()

    def add(self, item: Item) -> None:
        self._changed.append(item)
        if time.monotonic() - self._saved_at >= _SAVE_EVERY_SECONDS:
            self.save()

    def save(self) -> None:
        home, batch_id, owner_id = self._where
        if self._changed:
            with _lock(batch_id):
                current = load(home, batch_id, owner_id)
                place = {item.n: k for k, item in enumerate(current.items)}
                for item in self._changed:
                    if current.items[place[item.n]].status == self._status:
                        current.items[place[item.n]] = item
                save(home, current)
            self._changed.clear()
        self._saved_at = time.monotonic()


def parse_all(home: Path, batch_id: str, owner_id: int, progress: Any = None) -> Batch:
    """Parse every waiting file of the batch (the background job of an upload), two at a
    time in reading processes (:func:`read_letter_apart`), saved as it goes
    (:class:`_Merged`)."""
    from saraban.usecases import intake

    batch = load(home, batch_id, owner_id)
    waiting = [item for item in batch.items if item.status == "waiting"]
    if progress:
        progress(0, len(waiting), "")
    merged = _Merged(home, batch_id, owner_id, "waiting")
    queued = iter(waiting)
    reading: deque[tuple[Item, Path, Future[Any]]] = deque()

    def read_next() -> None:
        item = next(queued, None)
        if item is not None:
            path = item_path(home, batch, item)
            reading.append((item, path, _start_reading(path, item.name)))

    for _ in range(_READ_AHEAD):
        read_next()
    for count in range(1, len(waiting) + 1):
        item, path, future = reading.popleft()
        read_next()
        try:
            result = _read(future, path, item.name)
        except intake.ReadingStopped:
            merged.save()  # what was read; the rest waits for the batch's page to open again
            raise
        except SarabanError as exc:
            item.status, item.error = "failed", exc.message
        else:
            item.status, item.letter = "parsed", result.letter
            item.needs_review, item.notes = list(result.needs_review), list(result.notes)
        merged.add(item)
        if progress:
            progress(count, len(waiting), item.name)
    merged.save()
    return load(home, batch_id, owner_id)


def original_text(home: Path, batch: Batch, item: Item) -> str | None:
    """The text of the original, shown beside the parsed fields (a PDF is shown itself)."""
    path = item_path(home, batch, item)
    if item.suffix == ".pdf":
        return None
    try:
        return extract_text(path)
    except SarabanError as exc:
        return exc.message


def store_item(
    archive: Archive,
    home: Path,
    batch_id: str,
    owner_id: int,
    n: int,
    *,
    actor: str,
    clearance: str | None,
    letter: dict[str, Any] | None = None,
) -> Item:
    """Keep one parsed file in the archive (with the clerk's corrections, if any), as a
    clerk cleared at ``clearance`` (see :meth:`archive.Archive.store_imported`)."""
    with _lock(batch_id):
        batch = load(home, batch_id, owner_id)
        item = get_item(batch, n)
        try:
            _store(archive, home, batch, item, actor=actor, clearance=clearance, letter=letter)
        except SarabanError:
            save(home, batch)  # what was learnt of the item: the letter it already is
            raise
        save(home, batch)
        return item


def _store(
    archive: Archive,
    home: Path,
    batch: Batch,
    item: Item,
    *,
    actor: str,
    clearance: str | None,
    letter: dict[str, Any] | None = None,
) -> None:
    """Keep ``item`` of ``batch`` in the archive and mark it so (the caller saves the
    batch; on :class:`AlreadyImported` too, which the item then names). An item the
    archive kept under its key already (a "confirm all" not yet saved to the batch, or a
    crash between the two) is that letter: a correction of it is refused."""
    kept = archive.letter_by_key(item_key(batch.id, item.n))
    if kept is not None and item.status != "stored":
        item.status, item.letter_id, item.error = "stored", kept.id, None
        item.letter = archive.letter_document(kept.id)
    if item.status == "stored":
        if letter is not None and letter != item.letter:
            raise Conflict(
                f"{item.name}: เก็บเข้าระบบแล้ว แก้ไขที่หน้าตรวจทานของหนังสือ / stored "
                "already: correct it on the letter's own review page"
            )
        return
    if item.status != "parsed" or item.letter is None:
        raise BadRequest(
            f"{item.name}: ไฟล์นี้อ่านเป็นหนังสือไม่ได้ จึงเก็บเข้าระบบไม่ได้ / this file "
            "could not be read as a letter and cannot be stored"
        )
    if letter is not None:
        check_corrections(item.letter, letter)
    doc = copy.deepcopy(letter if letter is not None else item.letter)
    parsed = ImportResult(doc, list(item.needs_review), list(item.notes))
    original = item_path(home, batch, item).read_bytes()
    try:
        record = store_parsed(
            archive,
            parsed,
            original,
            item.name,
            actor=actor,
            clearance=clearance,
            key=item_key(batch.id, item.n),
        )
    except AlreadyImported as exc:
        item.error = exc.message
        item.duplicate_of, item.duplicate_ours = exc.earlier.public_id, exc.ours
        raise
    crashpoint("imported")  # stored in the archive, the manifest not yet saved
    item.letter = doc
    item.status = "stored"
    item.letter_id = record.id
    item.error = None


def item_duplicate(
    archive: Archive, home: Path, batch: Batch, item: Item, *, clearance: str | None
) -> AlreadyImported | None:
    """The letter a batch file already is, shown on its review page before it is stored."""
    if item.status == "stored":
        return None
    original = item_path(home, batch, item).read_bytes()
    if item.letter is None:
        return our_letter(archive, original, item.name, clearance=clearance)
    return find_duplicate(archive, item.letter, original, item.name, clearance=clearance)


def item_key(batch_id: str, n: int) -> str:
    """The idempotency key of a batch item's hand-over to the archive."""
    return f"import:{batch_id}:{n}"


def repair_batches(archive: Archive, home: Path) -> list[str]:
    """Settle the batch items a crash left between the archive and the manifest: an item
    the archive kept under its key is marked stored with its letter (it is never kept
    twice). Returns a line for each item settled."""
    done = []
    folder = root(home)
    manifests = sorted(folder.glob("*/manifest.json")) if folder.is_dir() else []
    for manifest in manifests:
        batch_id = manifest.parent.name
        summary = manifest.with_name("summary.json")  # its owner, without every letter read
        try:
            owner = json.loads((summary if summary.exists() else manifest).read_bytes())["owner_id"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        with _lock(batch_id):
            try:
                batch = load(home, batch_id, owner)
            except NotFound:
                continue
            changed = False
            for item in batch.items:
                if item.status != "parsed":
                    continue
                record = archive.letter_by_key(item_key(batch_id, item.n))
                if record is None:
                    continue
                item.status, item.letter_id, item.error = "stored", record.id, None
                item.letter = archive.letter_document(record.id)
                changed = True
                done.append(f"import {batch_id} file {item.n}: stored as letter {record.id}")
            if changed:
                save(home, batch)
    return done


def check_corrections(read: dict[str, Any], corrected: dict[str, Any]) -> None:
    """The fields a clerk changed from what the importer read, checked by the letter
    format's rules (as a kept letter's correction is): the review page stored a subject of
    300,000 characters ending in a control character."""
    from saraban.letter import validate

    changed = {name for name in corrected if corrected.get(name) != read.get(name)}
    problems = [
        p
        for p in validate(corrected)
        # a part left empty may stay so: an imported letter keeps what its file had
        if (p.field.split(".")[0] in changed or p.field == "") and p.code != "required"
    ]
    if problems:
        raise InvalidLetter(problems)


def store_all(
    archive: Archive,
    home: Path,
    batch_id: str,
    owner_id: int,
    *,
    actor: str,
    clearance: str | None,
    progress: Any = None,
) -> Batch:
    """Keep every parsed file of the batch (the background job of "confirm all"), saved as
    it goes (:class:`_Merged`)."""
    batch = load(home, batch_id, owner_id)
    todo = [item for item in batch.items if item.status == "parsed"]
    merged = _Merged(home, batch_id, owner_id, "parsed")
    for count, item in enumerate(todo, start=1):
        try:
            _store(archive, home, batch, item, actor=actor, clearance=clearance)
        except SarabanError as exc:
            item.error = exc.message
        merged.add(item)
        if progress:
            progress(count, len(todo), str(item.n))
    merged.save()
    return load(home, batch_id, owner_id)


# ---- review of kept letters -------------------------------------------------------------------


def review(
    archive: Archive,
    letter_id: int,
    changes: dict[str, Any],
    *,
    actor: str,
    confirm: bool = False,
) -> LetterRecord:
    """Correct what the importer read in a kept letter (document keys, see
    :meth:`~saraban.archive.Archive.correct_imported`: checked, audited, indexed again)
    and, with ``confirm`` (ยืนยัน), clear its review marks. The caller has checked that the
    user may see the letter. An issued letter of ours never changes (409)."""
    record = archive.correct_imported(letter_id, changes, actor=actor)
    if confirm:
        record = archive.confirm_imported(letter_id, actor=actor)
    return record
