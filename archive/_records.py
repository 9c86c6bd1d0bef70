"""The plain values the archive hands its callers: registers and units, letters and
register rows, what was issued or received, threads, audit events."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from saraban.thai import SECRET_SERIES, be_year, to_thai_digits


@dataclass(frozen=True)
class Paging:
    """Which rows of a list a page shows: ``limit`` from ``offset``, newest first or not."""

    offset: int
    limit: int
    newest_first: bool = True


@dataclass(frozen=True)
class UnitInfo:
    id: int
    prefix: str
    name: str
    register: str
    address: list[str]
    phone: str | None
    fax: str | None
    email: str | None
    footer: str | None
    signer: dict[str, Any] | None


@dataclass(frozen=True)
class RegisterInfo:
    id: int
    name: str
    circular_series: str
    number_format: str
    units: list[str]


@dataclass(frozen=True)
class LetterRecord:
    """One register row (or imported letter) as a plain value. ``id`` is the archive's own
    key, which counts rows: users are shown ``public_id`` instead."""

    id: int
    public_id: str
    status: str
    ref_no: str | None
    date: dt.date | None
    subject: str | None
    sender: str | None
    addressee: str | None
    register: str | None
    unit: str | None
    year: int | None
    serial: int | None
    circular: bool
    secrecy: str | None
    retention_years: int | None
    docx_sha256: str | None
    pdf_sha256: str | None
    original_sha256: str | None
    reason: str | None
    note: str | None
    created_at: dt.datetime
    created_by: str
    issued_at: dt.datetime | None
    closed_at: dt.datetime | None
    series: str | None = None  # the counter: normal, circular, or a secret level's own

    @property
    def serial_label(self) -> str:
        """The register number as the register prints it: "๕", "ว ๕", "ลับ ๕"."""
        if self.serial is None:
            return ""
        secret = f"{self.series} " if self.series in SECRET_SERIES else ""
        return ("ว " if self.circular else "") + secret + to_thai_digits(str(self.serial))

    @property
    def keep_until(self) -> int | None:
        """BE year to the end of which the letter is kept (None: ห้ามทำลาย, or no date)."""
        if self.retention_years is None or self.date is None:
            return None
        return be_year(self.date.year) + self.retention_years

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self)) | {"keep_until": self.keep_until}


@dataclass(frozen=True)
class IssuedLetter:
    id: int
    public_id: str
    ref_no: str
    date: dt.date
    register: str
    serial: int
    year: int
    circular: bool
    docx_path: Path
    pdf_path: Path
    docx_sha256: str
    pdf_sha256: str
    letter: dict[str, Any] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Reservation:
    id: int
    ref_no: str
    register: str
    serial: int
    year: int
    circular: bool
    date: dt.date


@dataclass(frozen=True)
class ReceivedRecord:
    id: int
    register: str
    year: int
    serial: int
    received_at: dt.datetime
    ref_no: str | None
    letter_date: dt.date | None
    sender: str
    recipient: str
    subject: str
    action: str | None
    note: str | None
    letter_id: int | None
    secrecy: str | None = None  # ลับ, ลับมาก, ลับที่สุด: only users cleared for it see the row
    public_id: str = ""  # what users see instead of ``id`` (which counts rows)
    pdfa_sha256: str | None = None  # the searchable copy OCR made of a scan or photo
    stamped_sha256: str | None = None  # page one with the receipt stamp
    answers_id: int | None = None  # the letter of ours it answers
    confirmed_at: dt.datetime | None = None  # fields read from a file, checked by a clerk
    confirmed_by: str | None = None
    series: str = "incoming"  # the counter: incoming, or a secret level's own ("incoming ลับ")

    @property
    def serial_label(self) -> str:
        """The เลขรับ as the register prints it: "๕", or "ลับ ๕" in a secret level's series."""
        return to_thai_digits(self.number.rpartition("/")[0])

    @property
    def number(self) -> str:
        """The เลขรับ and its year for commands and JSON: "5/2569", "ลับ 5/2569"."""
        level = self.series.partition(" ")[2]
        return (f"{level} " if level else "") + f"{self.serial}/{self.year}"

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self)) | {"serial_label": self.serial_label}


@dataclass(frozen=True)
class Thread:
    """Letters linked by อ้างถึง, oldest first; ``links`` are (citing id, cited id)."""

    letters: list[LetterRecord]
    links: list[tuple[int, int]]


@dataclass(frozen=True)
class StoredOriginal:
    """The file an imported letter came from, as uploaded."""

    sha256: str
    name: str
    media_type: str


@dataclass(frozen=True)
class AuditEntry:
    """One event of the audit chain, its detail decoded."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]
    letter_id: int | None = None  # the letter it concerns (its secrecy hides the event)


class IndexableLetter(NamedTuple):
    """What the search index keeps of a letter; ``received``: entered in an incoming
    register. The letter document stays the JSON text the database holds (``doc_json``)
    until :attr:`doc` is asked for: a rebuild hands the rows to worker processes, which
    parse it there (a tuple of plain values pickles fast; a parsed document does not)."""

    id: int
    status: str
    doc_json: str | None
    ref_no: str | None
    date: dt.date | None
    secrecy: str | None
    subject: str | None
    unit: str | None
    received: bool

    @property
    def doc(self) -> dict[str, Any]:
        found = json.loads(self.doc_json) if self.doc_json else None
        return found if isinstance(found, dict) else {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
