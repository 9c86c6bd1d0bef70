"""What the backends share: preparing a letter's fields, the search flow, snippets, locks.

A backend subclasses :class:`BaseIndex` and supplies ``_write`` (add and delete in one
session), ``_run`` (one :class:`Request`: a page of hits, the total and facets), ``count``,
``ids`` and ``clear``; reading the query, widening it when it finds too little, and making
hits with snippets happen here, the same for every backend.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saraban.errors import BadRequest
from saraban.folders import LockedFolder, file_lock
from saraban.indexer import _query, _snippet
from saraban.indexer._cited import cited_keys, date_key, own_keys
from saraban.indexer._model import (
    TIERS,
    Hit,
    IndexDoc,
    SearchFilters,
    SearchResult,
    check_search_args,
    clearance_level,
    normalize_unit,
    secrecy_level,
    unit_of,
)
from saraban.indexer._snippet import strip_markup
from saraban.indexer._terms import vocabulary
from saraban.indexer._thai import analyzed, check_engine, dates_of, joined, paired
from saraban.thai import THAI_MONTHS, THAI_MONTHS_ABBR, be_year, fiscal_year

# Bump when the fields or the analysis change: an index of another version is rebuilt.
SCHEMA_VERSION = 4
SENTINEL = "saraban-index.json"
STORED_TEXT_LIMIT = 20_000  # characters of body/attachments kept for snippets


@dataclass
class Prepared:
    """A letter as every backend indexes it: token lists per text field, keys, filters."""

    id: int
    # Tokens of each text field, joined by spaces: one string crosses from a worker process
    # far faster than thousands of small ones (:class:`_Handed`), and the engines take it as is.
    text: dict[str, str]
    ref: list[str]
    cited: list[str]  # keys of the numbers the letter names (indexer._cited)
    dates: list[str]  # yyyymmdd of its own date and of every date it names
    day: int  # yyyymmdd, 0 without a date
    year: int  # BE year of the date, 0 without a date
    kind: str
    unit: str
    urgency: str
    direction: str
    status: str
    secrecy: int
    stored: dict[str, Any] = field(default_factory=dict)
    stored_json: str = ""  # ``stored`` as JSON, made beside the analysis
    # What a backend makes of the letter before writing it (PostgreSQL: its tsvector
    # literals), made in the worker process beside the analysis (see :class:`Preparer`).
    rendered: dict[str, str] = field(default_factory=dict)


def _when_text(date: dt.date | None) -> str:
    if date is None:
        return ""
    be = be_year(date.year)
    month, abbr = THAI_MONTHS[date.month - 1], THAI_MONTHS_ABBR[date.month - 1]
    return f"{date.day} {month} {abbr} {be} {date.year} ปีงบประมาณ {fiscal_year(date)}"


def prepare(doc: IndexDoc, engine: str) -> Prepared:
    people = "\n".join(p for p in (doc.addressee, doc.signer, doc.sender, doc.owner_unit) if p)
    references = "\n".join(doc.references)
    body, attachments = strip_markup(doc.body), strip_markup(doc.attachments_text)
    cited_in = (doc.subject, body, attachments, references)
    subject = analyzed(doc.subject, engine=engine)
    meta = analyzed(
        "\n".join([doc.ref_no or "", people, _when_text(doc.date), references]), engine=engine
    )
    every = subject + meta
    every += analyzed(body, engine=engine)
    every += analyzed(attachments, engine=engine)
    text = {
        "words": joined(every),
        "pairs": paired(every),
        "subject": joined(subject),
        "subject_pairs": paired(subject),
        "meta": joined(meta),
        "meta_pairs": paired(meta),
    }
    unit = normalize_unit(doc.unit) if doc.unit else unit_of(doc.ref_no) or ""
    day = doc.date.year * 10000 + doc.date.month * 100 + doc.date.day if doc.date else 0
    prepared = Prepared(
        id=doc.id,
        text=text,
        ref=own_keys(doc.ref_no),
        cited=cited_keys(cited_in),
        dates=list(dict.fromkeys([*([date_key(doc.date)] if doc.date else []), *dates_of(every)])),
        day=day,
        year=be_year(doc.date.year) if doc.date else 0,
        kind=doc.kind or "",
        unit=unit,
        urgency=doc.urgency or "",
        direction=doc.direction or "",
        status=doc.status or "",
        secrecy=secrecy_level(doc.secrecy),
        stored={
            "id": doc.id,
            "ref_no": doc.ref_no,
            "subject": doc.subject,
            "date": doc.date.isoformat() if doc.date else None,
            "kind": doc.kind,
            "unit": unit or None,
            "secrecy": doc.secrecy,
            "status": doc.status,
            "direction": doc.direction,
            "body": body[:STORED_TEXT_LIMIT],
            "attach": attachments[:STORED_TEXT_LIMIT],
            "refs": references,
            "people": people,
        },
    )
    prepared.stored_json = json.dumps(prepared.stored, ensure_ascii=False)
    prepared.stored = {}  # only its JSON travels on
    return prepared


Render = Callable[[Prepared], None]
_CODEC = ("utf-16-le", "surrogatepass")  # surrogatepass: any str, even a lone surrogate


@dataclass
class _Handed:
    """Prepared letters on their way back from a worker process: their long strings (the
    texts, the stored JSON, what ``render`` made) wait in a file as UTF-16, a copy of how
    Python holds Thai, and are read back with one read and a decoding each; the rest is
    pickled. Pickled through the pool's pipe, the same 32 KB a letter cost the process that
    writes the index about 65 ms a thousand letters of CPU, read back this way 25:
    multiprocessing reads a large message in pieces of the pipe's size, each into a new
    buffer as large as what remains, and pickle copies it again."""

    path: str
    sizes: list[int]  # bytes of each string in the file, letter after letter
    letters: list[dict[str, Any]]  # each letter's other fields, and the names of its strings

    @classmethod
    def write(cls, prepared: list[Prepared], folder: str) -> _Handed:
        blobs: list[bytes] = []
        letters = []
        for doc in prepared:
            # What ``render`` made is what the index writes: the text stays behind.
            text = {} if doc.rendered else doc.text
            strings = [*text.values(), doc.stored_json, *doc.rendered.values()]
            blobs += [string.encode(*_CODEC) for string in strings]
            fields = {name: value for name, value in vars(doc).items() if name not in _LONG}
            letters.append(fields | {"text": tuple(text), "rendered": tuple(doc.rendered)})
        fd, path = tempfile.mkstemp(dir=folder)
        with open(fd, "wb") as file:
            file.write(b"".join(blobs))
        return cls(path, [len(blob) for blob in blobs], letters)

    def read(self) -> list[Prepared]:
        """The letters back (the file is gone after)."""
        try:
            with open(self.path, "rb") as file:
                data = memoryview(file.read())
        finally:
            os.unlink(self.path)
        offsets = itertools.pairwise(itertools.accumulate(self.sizes, initial=0))
        strings = iter([str(data[start:end], *_CODEC) for start, end in offsets])
        prepared = []
        for fields in self.letters:
            text = {name: next(strings) for name in fields["text"]}
            stored_json = next(strings)
            rendered = {name: next(strings) for name in fields["rendered"]}
            long = {"text": text, "stored_json": stored_json, "rendered": rendered}
            prepared.append(Prepared(**fields | long))
        return prepared


# Not among a letter's other fields (``stored`` is empty: only its JSON travels on).
_LONG = ("text", "stored", "stored_json", "rendered")


def prepare_many(
    docs: list[Any],
    engine: str,
    render: Render | None = None,
    read: Callable[[Any], IndexDoc] | None = None,
) -> list[Prepared]:
    """``read``: what makes each of ``docs`` an :class:`IndexDoc` (the archive's rows in a
    rebuild, whose documents are parsed here, in the worker)."""
    if read is not None:
        docs = [read(doc) for doc in docs]
    prepared = [prepare(doc, engine) for doc in docs]
    if render is not None:
        for doc in prepared:
            render(doc)
    return prepared


def _prepare_apart(
    docs: list[Any],
    engine: str,
    render: Render | None,
    read: Callable[[Any], IndexDoc] | None,
    folder: str,
) -> _Handed:
    """:func:`prepare_many` in a worker process, the letters handed back through ``folder``."""
    return _Handed.write(prepare_many(docs, engine, render, read), folder)


class Preparer:
    """Analysis of many letters at once, in worker processes when it pays.

    Segmenting Thai is most of the cost of indexing; with ``workers`` processes (default:
    one per core, for 2,000 letters or more) batches are analyzed in parallel while the
    index writes the previous one. Workers are spawned, not forked: the parent holds index
    writers and threads that a fork would copy half-way. Their letters come back through
    files in a temporary folder of their own (:class:`_Handed`), removed as they are read
    and with the folder on :meth:`close` (a :class:`~saraban.folders.LockedFolder`: a
    killed rebuild's folder, with the letters' words in it, goes with the next one's).
    """

    CHUNK = 250

    def __init__(
        self,
        engine: str,
        *,
        workers: int | None = None,
        expected: int = 0,
        render: Render | None = None,
        read: Callable[[Any], IndexDoc] | None = None,
    ) -> None:
        """``render``: the index's own work on each prepared letter; ``read``: what makes
        each submitted item an :class:`IndexDoc` (both module-level functions, so that they
        reach the workers: :attr:`BaseIndex.render`, :func:`indexer._sync.index_doc`)."""
        self.engine = engine
        self.render = render
        self.read = read
        if workers is None:
            workers = (os.cpu_count() or 1) if expected >= 2000 else 0
        self._pool = None
        self._folder: LockedFolder | None = None
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn")
            )
            # The letters' words wait there: a killed rebuild's folder goes with the next.
            self._folder = LockedFolder("saraban-analysis-")

    def submit(self, docs: list[Any]):  # noqa: ANN201 - returns a callable giving the result
        """Start analyzing ``docs``; call the returned function (once) for the Prepared list."""
        if self._pool is None or self._folder is None:
            return lambda: prepare_many(docs, self.engine, self.render, self.read)
        chunks = [docs[i : i + self.CHUNK] for i in range(0, len(docs), self.CHUNK)]
        args = (self.engine, self.render, self.read, str(self._folder.path))
        futures = [self._pool.submit(_prepare_apart, chunk, *args) for chunk in chunks]
        return lambda: [p for future in futures for p in future.result().read()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        if self._folder is not None:
            self._folder.remove()  # with what was never read back

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Page:
    total: int
    rows: list[tuple[float, dict[str, Any]]]  # (score, stored fields)
    facets: dict[str, dict[str, int]]
    estimated: bool = False  # the total and facets are estimates (a large PostgreSQL index)


@dataclass
class Filters:
    """SearchFilters resolved for a backend: integers and exact values."""

    day_from: int | None
    day_to: int | None
    kind: str | None
    unit: str | None
    urgency: str | None
    direction: str | None
    max_secrecy: int

    @classmethod
    def of(cls, filters: SearchFilters | None, clearance: str | None) -> Filters:
        filters = filters or SearchFilters()
        start, end = filters.date_range()

        def day(d: dt.date | None) -> int | None:
            return d.year * 10000 + d.month * 100 + d.day if d else None

        return cls(
            day_from=day(start),
            day_to=day(end),
            kind=filters.kind or None,
            unit=filters.unit_value(),
            urgency=filters.urgency or None,
            direction=filters.direction or None,
            max_secrecy=clearance_level(clearance),
        )

    @property
    def tiers(self) -> tuple[int, ...]:
        """The secrecy levels to read: only these exist for this search."""
        return TIERS[: self.max_secrecy + 1]

    @property
    def days(self) -> tuple[int, int] | None:
        """(first, last) day as yyyymmdd when the dates are limited, else None."""
        if self.day_from is None and self.day_to is None:
            return None
        return self.day_from or 1, self.day_to or 99_999_999

    @property
    def keywords(self) -> dict[str, str]:
        """The exact-value filters that are set: {"kind": "memo", "unit": ...}."""
        named = {"kind": self.kind, "unit": self.unit}
        named |= {"urgency": self.urgency, "direction": self.direction}
        return {name: value for name, value in named.items() if value}


@dataclass
class Request:
    """One query as a backend runs it: ``must`` (a :mod:`_query` tree, None for every
    letter) decides what matches, ``should`` only adds to the score; one page of hits."""

    must: object | None
    should: list[object]
    filters: Filters
    sort: str
    limit: int
    offset: int

    def head(self) -> Request:
        """The same query for the first ``offset + limit`` rows: what each tier must give
        for :func:`merge_pages` to cut the page from."""
        return Request(self.must, self.should, self.filters, self.sort, self.offset + self.limit, 0)


def newest_key(stored: dict[str, Any]) -> tuple[int, int]:
    """(day as yyyymmdd, id): the order of ``sort="date"``, newest first, every backend."""
    date = stored.get("date") or ""
    return int(date.replace("-", "") or 0), int(stored["id"])


def merge_pages(pages: list[Page], request: Request) -> Page:
    """One page from the pages of several tiers, each holding its first ``offset + limit``
    rows (:meth:`Request.head`) in the backend's order. By relevance, rows of equal score
    keep their tier's order, lower tiers first; by date, newest first, then highest id. A
    tier's rows never depend on another tier, so what a user sees depends only on the
    tiers they may read."""
    if request.sort == "date":
        every = [row for page in pages for row in page.rows]
        rows = sorted(every, key=lambda row: newest_key(row[1]), reverse=True)
    else:
        ranked = [
            [(-score, tier, i, stored) for i, (score, stored) in enumerate(page.rows)]
            for tier, page in enumerate(pages)
        ]
        rows = [(-key, stored) for key, _tier, _i, stored in heapq.merge(*ranked)]
    facets: dict[str, dict[str, int]] = {}
    for page in pages:
        for name, counts in page.facets.items():
            merged = facets.setdefault(name, {})
            for key, count in counts.items():
                merged[key] = merged.get(key, 0) + count
    return Page(
        sum(p.total for p in pages),
        rows[request.offset : request.offset + request.limit],
        facets,
        any(p.estimated for p in pages),
    )


class BaseIndex:
    """Shared behaviour of the backends (see the module docstring)."""

    backend = "base"
    # What the backend makes of each prepared letter before writing it, run where the
    # letter is analyzed (worker processes in a rebuild); None: nothing.
    render: Render | None = None

    def __init__(self, home: Path, engine: str | None) -> None:
        self.home = Path(home)
        self.engine = check_engine(engine)
        self.needs_rebuild = False
        self._thread_lock = threading.RLock()

    # ---- the sentinel -----------------------------------------------------------------------

    def _sentinel_wanted(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "engine": self.engine, "backend": self.backend}

    @staticmethod
    def _read_sentinel(path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None

    @staticmethod
    def _write_sentinel(path: Path, data: dict[str, Any]) -> None:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        os.replace(temporary, path)

    def mark_built(self) -> None:
        """Record that the index now holds the whole archive (after a rebuild)."""
        self.needs_rebuild = False

    # ---- writing ------------------------------------------------------------------------------

    def add(self, docs: Iterable[IndexDoc]) -> None:
        """Add letters, replacing any already indexed under the same id."""
        prepared = [prepare(doc, self.engine) for doc in docs]
        if prepared:
            self._write(prepared, [])

    def add_prepared(self, docs: list[Prepared]) -> None:
        """Add letters already analyzed (:func:`prepare`), e.g. by worker processes."""
        if docs:
            self._write(docs, [])

    @contextmanager
    def bulk(self) -> Iterator[Callable[[list[Prepared]], None]]:
        """A writing session for many batches of prepared letters (a rebuild): yields the
        function that adds a batch. Here each batch is written at once; a backend whose
        writes cost most when opened and committed keeps one session."""
        yield self.add_prepared

    def delete(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self._write([], ids)

    def _write(self, docs: list[Prepared], delete_ids: list[int]) -> None:
        raise NotImplementedError

    def ids(self) -> set[int]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> BaseIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- searching ----------------------------------------------------------------------------

    def _run(self, request: Request) -> Page:
        raise NotImplementedError

    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        sort: str = "relevance",
        limit: int = 10,
        offset: int = 0,
        clearance: str | None = None,
    ) -> SearchResult:
        """Letters matching ``query`` that ``clearance`` may see (filtered inside the engine
        query, so totals, facets and snippets never count a letter above it)."""
        if not isinstance(query, str):
            raise BadRequest("q: คำค้นต้องเป็นข้อความ / the query must be text")
        check_search_args(sort, limit, offset)
        _query.check_length(query)
        resolved = Filters.of(filters, clearance)
        plan = _query.parse(query, vocabulary(self.home, self.engine), self.engine)
        _query.check_size(plan)
        run = self._runner(resolved, sort, limit, offset)
        if plan.empty:
            if query.strip():
                return SearchResult(0, [], {})
            page = run(None, [], "date" if sort == "relevance" else sort)
            return self._result(page, plan)
        page = run(*_query.build(plan))
        tolerant = some_words = False
        missing: list[str] = []
        if page.total == 0 and plan.ref_texts:
            # No letter carries or cites the numbers: say so, and search the other words.
            missing = plan.ref_texts
            plan = plan.without_refs(vocabulary(self.home, self.engine), self.engine)
            if plan.empty:
                return self._result(page, plan, missing=missing)
            page = run(*_query.build(plan))
        if page.total == 0 and plan.dates:  # no letter holds the dates: read them as words
            plan = plan.without_date_keys(vocabulary(self.home, self.engine), self.engine)
            page = run(*_query.build(plan))
        if page.total < _query.TOLERANT_BELOW and plan.units:
            wider = run(*_query.build(plan, _query.WORDS))
            if wider.total > page.total:
                page, tolerant = wider, True
            if page.total == 0 and len(plan.units) > 1:
                page, tolerant = run(*_query.build(plan, _query.ALL_BUT_ONE)), True
                some_words = True
            if page.total == 0 and len(plan.units) > 2:
                page = run(*_query.build(plan, _query.ANY_WORD))
        result = self._result(page, plan, tolerant=tolerant, missing=missing)
        result.some_words = some_words and result.total > 0
        return result

    def _runner(self, filters: Filters, sort: str, limit: int, offset: int):  # noqa: ANN202
        def run(must: object | None, should: list[object], order: str = sort) -> Page:
            return self._run(Request(must, should, filters, order, limit, offset))

        return run

    def _result(
        self,
        page: Page,
        plan: _query.Plan,
        *,
        tolerant: bool = False,
        missing: list[str] | None = None,
    ) -> SearchResult:
        compiled = _snippet.pattern(
            plan.highlight(tolerant=tolerant), plan.refs, plan.dates + plan.text_dates
        )
        hits = []
        for score, stored in page.rows:
            texts = [stored.get(k) or "" for k in ("body", "attach", "refs", "people", "subject")]
            date = stored.get("date")
            hits.append(
                Hit(
                    id=int(stored["id"]),
                    ref_no=stored.get("ref_no"),
                    subject=stored.get("subject") or "",
                    date=dt.date.fromisoformat(date) if date else None,
                    score=float(score),
                    snippet=_snippet.make_snippet(texts, compiled, engine=self.engine),
                    kind=stored.get("kind"),
                    unit=stored.get("unit"),
                    secrecy=stored.get("secrecy"),
                    status=stored.get("status"),
                    direction=stored.get("direction"),
                )
            )
        return SearchResult(
            page.total,
            hits,
            page.facets,
            numbers_not_found=missing or [],
            estimated=page.estimated,
        )


@contextmanager
def writer_turn(lock_path: Path, thread_lock: threading.RLock) -> Iterator[None]:
    """One writer at a time: this process's threads, then other processes."""
    with thread_lock, file_lock(lock_path):
        yield


def retry_busy(open_writer, what: str, *, timeout: float = 30.0):  # noqa: ANN001, ANN201
    """Open a writer, retrying while another holder (outside our lock) keeps it busy."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return open_writer()
        except (ValueError, OSError) as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
