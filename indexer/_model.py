"""The values the search index takes and gives back, shared by every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from saraban.errors import BadRequest
from saraban.letter import SECRECIES
from saraban.thai import (
    BE_OFFSET,
    MIN_BE_YEAR,
    RefNo,
    RefNoError,
    fiscal_year_range,
    parse_ref_no,
)

SECRECY_LEVELS = SECRECIES  # lowest first
# Letters of each secrecy level (0: open, 1..3: ลับ, ลับมาก, ลับที่สุด) are kept apart: a
# search reads only the levels its user may see (see docs/search.md, "Secrecy").
TIERS = tuple(range(len(SECRECY_LEVELS) + 1))
DIRECTIONS = ("sent", "received", "imported")
SORTS = ("relevance", "date")


def secrecy_level(secrecy: str | None) -> int:
    """0 for an open letter, 1..3 for ลับ, ลับมาก, ลับที่สุด. An unknown mark counts as the
    highest: a letter whose secrecy cannot be read is shown to nobody below ลับที่สุด."""
    if not secrecy or not secrecy.strip():
        return 0
    secrecy = secrecy.strip()
    return SECRECY_LEVELS.index(secrecy) + 1 if secrecy in SECRECY_LEVELS else len(SECRECY_LEVELS)


def clearance_level(clearance: str | None) -> int:
    """The highest secrecy level a user may see: None -> 0 (nothing secret)."""
    if clearance is None or clearance == "":
        return 0
    if clearance not in SECRECY_LEVELS:
        raise BadRequest(
            f"clearance: ชั้นความลับ {clearance!r} ไม่ถูกต้อง (ลับ ลับมาก ลับที่สุด) / unknown "
            f"clearance {clearance!r}; choose one of {', '.join(SECRECY_LEVELS)} or none"
        )
    return SECRECY_LEVELS.index(clearance) + 1


def unit_of(ref_no: str | None) -> str | None:
    """The unit prefix of a ที่ number as the archive writes it: "นค ๐๐๑๙.๓/ว ๒๕๖๔" ->
    "นค ๐๐๑๙.๓"; None for a คำสั่ง number or one that cannot be read."""
    if not ref_no:
        return None
    try:
        ref = parse_ref_no(ref_no)
    except RefNoError:
        return None
    if not ref.code:
        return None
    return RefNo(ref.code, ref.unit, False, 1).format().removesuffix("/๑")


@lru_cache(maxsize=4096)
def normalize_unit(unit: str) -> str:
    """A unit filter typed any way ("นค 0019.3", "นค๐๐๑๙.๓") in the archive's form."""
    return unit_of(f"{unit.strip()}/1") or unit.strip()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return "\n".join(_text(v) for v in value)
    return str(value)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclass
class IndexDoc:
    """One letter as the index sees it. ``id`` is the archive's letter id."""

    id: int
    ref_no: str | None = None
    subject: str = ""
    body: str = ""
    attachments_text: str = ""
    references: list[str] = field(default_factory=list)
    addressee: str = ""
    signer: str = ""
    sender: str = ""
    owner_unit: str = ""
    date: dt.date | None = None
    kind: str = "external"
    urgency: str | None = None
    secrecy: str | None = None
    unit: str | None = None  # register/unit prefix, "นค ๐๐๑๙.๓"
    direction: str = "sent"  # "sent" | "received" | "imported"
    status: str = "issued"

    @classmethod
    def from_letter(cls, id: int, letter: dict, **meta: Any) -> IndexDoc:
        """From a letter document (docs/letter-format.md); ``meta`` overrides any field
        (``unit``, ``direction``, ``status``, or the record's ``date``/``ref_no``)."""
        body_parts: list[str] = []
        for block in letter.get("body") or []:
            body_parts.append(_text(block.get("items") if isinstance(block, dict) else block))
        body_parts.append(_text(letter.get("closing")))
        for enclosure in letter.get("enclosures") or []:
            title = enclosure.get("title") if isinstance(enclosure, dict) else enclosure
            body_parts.append(_text(title))
        body_parts.append(_text(letter.get("copies_to")))
        signer = letter.get("signer") or {}
        sender = letter.get("sender") or {}
        values: dict[str, Any] = {
            "ref_no": letter.get("ref_no") or None,
            "subject": _text(letter.get("subject")),
            "body": "\n".join(p for p in body_parts if p),
            "attachments_text": _text(letter.get("attachments_text")),
            "references": [r for r in letter.get("references") or [] if isinstance(r, str)],
            "addressee": _text(letter.get("addressee")),
            "signer": _text([signer.get("name"), signer.get("position")])
            if isinstance(signer, dict)
            else _text(signer),
            "sender": _text([sender.get("name"), sender.get("address")])
            if isinstance(sender, dict)
            else _text(sender),
            "owner_unit": _text(letter.get("owner_unit")),
            "date": _date(letter.get("date")),
            "kind": letter.get("kind") or "external",
            "urgency": letter.get("urgency") or None,
            "secrecy": letter.get("secrecy") or None,
        }
        values.update(meta)
        values["date"] = _date(values.get("date"))
        if not values.get("unit"):
            values["unit"] = unit_of(values.get("ref_no"))
        return cls(id=int(id), **values)


@dataclass
class SearchFilters:
    """Narrowing a search. ``fiscal_year`` is BE (ปีงบประมาณ ๒๕๖๕ = 1 Oct 2021 - 30 Sep 2022);
    a year below 2400 is read as CE and means the same letters (2022 -> 2565), as clerks
    say "ปี 2022" and "ปี 2565" alike. ``unit`` is a prefix typed any way ("นค 0019.3")."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    fiscal_year: int | None = None
    kind: str | None = None
    unit: str | None = None
    urgency: str | None = None
    direction: str | None = None

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """The dates to search within, fiscal year and explicit dates combined."""
        start, end = _date(self.date_from), _date(self.date_to)
        if self.fiscal_year is not None:
            year = int(self.fiscal_year)
            if year < MIN_BE_YEAR:
                year += BE_OFFSET
            fy_start, fy_end = fiscal_year_range(year)
            start = max(start, fy_start) if start else fy_start
            end = min(end, fy_end) if end else fy_end
        return start, end

    def unit_value(self) -> str | None:
        return normalize_unit(self.unit) if self.unit else None


@dataclass
class Hit:
    id: int
    ref_no: str | None
    subject: str
    date: dt.date | None
    score: float
    snippet: str  # HTML-safe: text escaped, matches in <mark>...</mark>
    kind: str | None = None
    unit: str | None = None
    secrecy: str | None = None
    status: str | None = None
    direction: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ref_no": self.ref_no,
            "subject": self.subject,
            "date": self.date.isoformat() if self.date else None,
            "score": round(self.score, 4),
            "snippet": self.snippet,
            "kind": self.kind,
            "unit": self.unit,
            "secrecy": self.secrecy,
            "status": self.status,
            "direction": self.direction,
        }


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # {"year": {"2568": 3}}
    # True when no letter holds every word of the query and the hits hold only some of them.
    some_words: bool = False
    # Reference numbers typed (as typed) that no letter visible to the user carries or
    # cites; the hits, if any, are for the query's other words.
    numbers_not_found: list[str] = field(default_factory=list)
    # True when the total and facets are estimates: PostgreSQL counts a query that matches
    # tens of thousands of letters from a sample of them (docs/search.md, "Counting").
    estimated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "hits": [h.as_dict() for h in self.hits],
            "facets": self.facets,
            "some_words": self.some_words,
            "numbers_not_found": self.numbers_not_found,
            "estimated": self.estimated,
        }


class SearchIndex(Protocol):
    """What every backend offers. ``needs_rebuild`` is True for a new index, or one whose
    schema or tokenizer changed: :func:`indexer.sync` then rebuilds it from the archive.
    ``engine`` is the Thai segmentation engine the index's text is cut with."""

    backend: str
    engine: str
    needs_rebuild: bool

    def add(self, docs: Iterable[IndexDoc]) -> None: ...

    def delete(self, ids: Iterable[int]) -> None: ...

    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        sort: str = "relevance",
        limit: int = 10,
        offset: int = 0,
        clearance: str | None = None,
    ) -> SearchResult: ...

    def count(self) -> int: ...

    def ids(self) -> set[int]: ...

    def add_prepared(self, docs: list[Any]) -> None: ...

    def bulk(self) -> AbstractContextManager[Callable[[list[Any]], None]]: ...

    def clear(self) -> None: ...

    def mark_built(self) -> None: ...

    def close(self) -> None: ...


def check_search_args(sort: str, limit: int, offset: int) -> None:
    if sort not in SORTS:
        raise BadRequest(f"sort: ต้องเป็น relevance หรือ date / sort must be one of {SORTS}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 1000:
        raise BadRequest("limit: ต้องเป็นจำนวนเต็ม 0-1000 / limit must be an integer 0-1000")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise BadRequest("offset: ต้องเป็นจำนวนเต็มไม่ติดลบ / offset must be an integer >= 0")
