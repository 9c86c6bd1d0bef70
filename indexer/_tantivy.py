"""The default backend: tantivy (a Rust search engine, through its Python bindings).

Text fields hold the analyzer's tokens joined by spaces and read back by tantivy's
``whitespace`` tokenizer, so tantivy never segments Thai itself; positions are kept, so
phrases of syllables work. Reference number keys, filters and facets are raw or integer
fast fields. What a hit shows is one stored JSON value.

Letters of each secrecy level live in their own tantivy index (``tier-0`` for open letters,
``tier-1`` .. ``tier-3`` for ลับ, ลับมาก, ลับที่สุด): a search opens only the levels its user
may see, so no score, count, order or timing can depend on a letter above the user's
clearance (BM25 statistics are those of the tiers read). Several tiers are merged by score.

Writers: tantivy allows one ``IndexWriter`` per index, across processes, and fails at once
(``LockBusy``) on a second. Writes here are short sessions taken in turn on an OS file lock
(threads of one process queue on a lock first), so several web workers indexing and
searching never see a lock error. Searchers reload before each search and see the last
commit of any process.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from saraban.indexer import _query
from saraban.indexer._engine import (
    SENTINEL,
    BaseIndex,
    Filters,
    Page,
    Prepared,
    Request,
    merge_pages,
    retry_busy,
    writer_turn,
)
from saraban.indexer._model import TIERS

_WRITER_HEAP = 64_000_000
# A rebuild's writer: tantivy writes a segment each time its threads fill this heap, and
# merges them once eight or more are committed. 256 MB made eight segments of 100,000
# letters, merged at the end in 7 s of CPU (21 s on the clock, loaded); 512 MB makes about
# four, so an archive of up to about 200,000 letters is rebuilt without a merge.
_BULK_HEAP = 512_000_000
_KEYWORDS = ("kind", "unit", "urgency", "direction", "status")
_FACET_SIZE = 200


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _facet_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="saraban-facets")
        return _pool


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in _query.TEXT_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="whitespace")
    builder.add_text_field("ref", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("cited", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("dates", stored=False, tokenizer_name="raw", index_option="basic")
    for name in _KEYWORDS:
        builder.add_text_field(
            name, stored=False, tokenizer_name="raw", fast=True, index_option="basic"
        )
    builder.add_integer_field("day", stored=False, indexed=True, fast=True)
    builder.add_integer_field("year", stored=False, indexed=True, fast=True)
    # day * 2**32 + id: newest first, and of one day the highest id first (sort="date")
    builder.add_integer_field("newest", stored=False, indexed=False, fast=True)
    builder.add_bytes_field("data", stored=True, indexed=False)
    return builder.build()


class TantivyIndex(BaseIndex):
    backend = "tantivy"

    def __init__(self, home: Path, *, engine: str | None = None) -> None:
        super().__init__(home, engine)
        self.path = self.home / "index" / self.backend
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.path / ".saraban-writer.lock"
        self.schema = build_schema()
        with writer_turn(self._lock_path, self._thread_lock):
            sentinel = self._read_sentinel(self.path / SENTINEL)
            wanted = self._sentinel_wanted()
            if sentinel is None or any(sentinel.get(k) != v for k, v in wanted.items()):
                self._wipe()
                self._write_sentinel(self.path / SENTINEL, wanted | {"built": False})
                sentinel = wanted | {"built": False}
            self.needs_rebuild = not sentinel.get("built")
            self._tiers: dict[int, tantivy.Index] = {}
            for tier in TIERS:
                folder = self.path / f"tier-{tier}"
                folder.mkdir(exist_ok=True)
                self._tiers[tier] = tantivy.Index(self.schema, path=str(folder))

    def _wipe(self) -> None:
        """Remove an index of another schema (its files only; the lock file stays)."""
        for entry in self.path.iterdir():
            if entry.name == self._lock_path.name:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def mark_built(self) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            self._write_sentinel(self.path / SENTINEL, self._sentinel_wanted() | {"built": True})
        super().mark_built()

    # ---- writing ------------------------------------------------------------------------------

    def _document(self, doc: Prepared) -> tantivy.Document:
        document = tantivy.Document()
        document.add_integer("id", doc.id)
        for name, text in doc.text.items():
            if text:
                document.add_text(name, text)
        for key in doc.ref:
            document.add_text("ref", key)
        for key in doc.cited:
            document.add_text("cited", key)
        for key in doc.dates:
            document.add_text("dates", key)
        for name in _KEYWORDS:
            value = getattr(doc, name)
            if value:
                document.add_text(name, value)
        document.add_integer("day", doc.day)
        document.add_integer("year", doc.year)
        document.add_integer("newest", (doc.day << 32) + doc.id)
        document.add_bytes("data", doc.stored_json.encode("utf-8"))
        return document

    def _holds(self, tier: int, ids: list[int]) -> list[int]:
        """Which of ``ids`` the tier holds (or held: a deleted letter may still count)."""
        if not ids:
            return []
        index = self._tiers[tier]
        index.reload()
        searcher = index.searcher()
        if not searcher.num_docs:
            return []
        return [i for i in ids if searcher.doc_freq("id", i)]

    def _write(self, docs: list[Prepared], delete_ids: list[int], *, bulk: bool = False) -> None:
        """Each letter into the tier of its secrecy, out of every other tier that holds it
        (a letter whose secrecy was corrected moves)."""
        heap, threads = (_BULK_HEAP, 2) if bulk else (_WRITER_HEAP, 1)
        with writer_turn(self._lock_path, self._thread_lock):
            for tier, index in self._tiers.items():
                adding = [doc for doc in docs if doc.secrecy == tier]
                elsewhere = [doc.id for doc in docs if doc.secrecy != tier]
                removing = self._holds(tier, delete_ids + elsewhere)
                if not adding and not removing:
                    continue
                writer = retry_busy(lambda index=index: index.writer(heap, threads), "writer")
                try:
                    for doc_id in removing:
                        writer.delete_documents_by_term("id", doc_id)
                    for doc in adding:
                        writer.delete_documents_by_term("id", doc.id)
                        writer.add_document(self._document(doc))
                    writer.commit()
                except BaseException:
                    writer.rollback()
                    raise
                finally:
                    writer.wait_merging_threads()
                index.reload()

    def add_prepared(self, docs: list[Prepared]) -> None:
        """Many prepared letters in one session with a larger writer."""
        if docs:
            self._write(docs, [], bulk=True)

    @contextmanager
    def bulk(self) -> Iterator[Callable[[list[Prepared]], None]]:
        """One writing session for a rebuild: each tier's writer stays open and commits
        once, at the end. Committing as it went (every 20,000 letters) made segments that
        tantivy merged again and again while the rebuild ran; opening, committing and
        merging for each batch took most of the time before that. Searches see the index
        as it was until the rebuild commits (every letter stays findable meanwhile); what
        is written before is kept in tantivy's segment files, so the heap bounds the
        memory, not the number of letters. The write lock is held until the rebuild ends;
        other writers wait for it."""
        writers: dict[int, Any] = {}

        def add(docs: list[Prepared]) -> None:
            for tier, index in self._tiers.items():
                adding = [doc for doc in docs if doc.secrecy == tier]
                removing = self._holds(tier, [doc.id for doc in docs if doc.secrecy != tier])
                if not adding and not removing:
                    continue
                if tier not in writers:
                    open_writer = lambda index=index: index.writer(_BULK_HEAP, 2)  # noqa: E731
                    writers[tier] = retry_busy(open_writer, "writer")
                writer = writers[tier]
                for doc_id in removing:
                    writer.delete_documents_by_term("id", doc_id)
                for doc in adding:
                    writer.delete_documents_by_term("id", doc.id)
                    writer.add_document(self._document(doc))

        with writer_turn(self._lock_path, self._thread_lock):
            try:
                yield add
                for writer in writers.values():
                    writer.commit()
            except BaseException:
                for writer in writers.values():
                    writer.rollback()
                raise
            finally:
                for tier, writer in writers.items():
                    writer.wait_merging_threads()
                    self._tiers[tier].reload()

    def clear(self) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            for index in self._tiers.values():
                writer = retry_busy(lambda index=index: index.writer(_WRITER_HEAP, 1), "writer")
                try:
                    writer.delete_all_documents()
                    writer.commit()
                finally:
                    writer.wait_merging_threads()
                index.reload()

    # ---- reading ------------------------------------------------------------------------------

    def _searcher(self, tier: int) -> tantivy.Searcher:
        index = self._tiers[tier]
        index.reload()
        return index.searcher()

    def count(self) -> int:
        return sum(self._searcher(tier).num_docs for tier in TIERS)

    def ids(self) -> set[int]:
        found: set[int] = set()
        for tier in TIERS:
            searcher = self._searcher(tier)
            total = searcher.num_docs
            if total:
                # Ordered by the id's fast field, each hit carries its id: no stored
                # document is read (a rebuild over 100,000 letters read them all).
                query = tantivy.Query.all_query()
                result = searcher.search(query, total, count=False, order_by_field="id")
                found |= {int(letter_id) for letter_id, _address in result.hits}
        return found

    def _filter_queries(self, filters: Filters) -> list[tantivy.Query]:
        schema, integer = self.schema, tantivy.FieldType.Integer
        found = []
        if filters.days:
            found.append(tantivy.Query.range_query(schema, "day", integer, *filters.days))
        found += [tantivy.Query.term_query(schema, k, v) for k, v in filters.keywords.items()]
        return [tantivy.Query.const_score_query(q, 0.0) for q in found]

    def _run(self, request: Request) -> Page:
        """Each tier the user may see searched on its own (see the module docstring)."""
        tiers = request.filters.tiers
        if len(tiers) == 1:
            return self._run_tier(tiers[0], request)
        head = request.head()
        return merge_pages([self._run_tier(tier, head) for tier in tiers], request)

    def _run_tier(self, tier: int, request: Request) -> Page:
        must, should, limit = request.must, request.should, request.limit
        searcher = self._searcher(tier)
        # Every letter of the tier when nothing else limits the search.
        filtering = [(tantivy.Occur.Must, q) for q in self._filter_queries(request.filters)]
        if not filtering and must is None:
            filtering = [(tantivy.Occur.Must, tantivy.Query.all_query())]

        def matching(compiler: _Compiler) -> tantivy.Query:
            found = [(tantivy.Occur.Must, compiler(must))] if must is not None else []
            return tantivy.Query.boolean_query(filtering + found)

        frequency: dict[str, int] = {}
        exact = _Compiler(self.schema, searcher, frequency=frequency, scoring=False)
        counted = exactly = matching(exact)
        # Facets walk every match again. Checking phrase positions in every letter costs
        # most of a search; letters holding all of a phrase's terms are a superset of those
        # holding the phrase, so when both count the same they are the same letters, and
        # the cheap count gives the facets. Run it beside the search (tantivy releases the
        # GIL while it searches).
        if exact.positional:
            loose = _Compiler(
                self.schema, searcher, frequency=frequency, scoring=False, positions=False
            )
            counted = matching(loose)
        spec: dict[str, Any] = {
            "year": {"terms": {"field": "year", "size": _FACET_SIZE}},
            "unit": {"terms": {"field": "unit", "size": _FACET_SIZE}},
        }
        scoring = _Compiler(self.schema, searcher, frequency=frequency)
        clauses = [(tantivy.Occur.Must, scoring(must))] if must is not None else []
        clauses += [(tantivy.Occur.Should, scoring(node)) for node in should]
        query = tantivy.Query.boolean_query(filtering + clauses)
        aggregating = _facet_pool().submit(searcher.aggregate, counted, spec)
        wanted = max(limit, 1)  # tantivy refuses a limit of 0; a count-only search drops hits
        if request.sort == "date":
            result = searcher.search(
                query, wanted, count=True, order_by_field="newest", offset=request.offset
            )
            scored = [(0.0, address) for _day, address in result.hits]
        else:
            result = searcher.search(query, wanted, count=True, offset=request.offset)
            scored = list(result.hits)
        scored = scored[:limit]
        rows = []
        for score, address in scored:
            data = searcher.doc(address)["data"][0]
            rows.append((score, json.loads(bytes(data).decode("utf-8"))))
        # tantivy.pyi leaves out SearchResult.count, which the extension has (count=True above).
        total = result.count or 0  # type: ignore[attr-defined]
        aggregated = aggregating.result()
        if not total:
            return Page(0, rows, {"year": {}, "unit": {}})
        if _counted(aggregated["year"]) != total:  # the phrases' terms stand apart somewhere
            aggregated = searcher.aggregate(exactly, spec)
        return Page(total, rows, _facets(aggregated))


def _counted(buckets: dict[str, Any]) -> int:
    """The letters a terms aggregation saw (every letter has a year, 0 without a date)."""
    return sum(b["doc_count"] for b in buckets["buckets"]) + buckets["sum_other_doc_count"]


def _facets(aggregated: dict[str, Any]) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {"year": {}, "unit": {}}
    for name, counts in facets.items():
        for bucket in aggregated[name]["buckets"]:
            key = int(bucket["key"]) if isinstance(bucket["key"], float) else bucket["key"]
            if key not in (0, ""):
                counts[str(key)] = int(bucket["doc_count"])
    return facets


class _Compiler:
    """A query tree (``_query``) as a tantivy query, against one searcher.

    A phrase of pairs is checked through the pairs that cost least (:func:`_query.sparse`):
    tantivy reads positions only in letters holding every pair of the phrase, so a rare
    pair saves most of the work, and each pair more adds its positions to read.
    ``scoring=False`` leaves out what only adds to the score (for counting). With
    ``positions=False`` a phrase is only its terms, all in the letter: a wider query, cheap
    to count, that :meth:`TantivyIndex._run` uses for facets when it finds exactly as many
    letters as the phrase. ``positional`` says whether any phrase needed positions.
    """

    def __init__(
        self,
        schema: tantivy.Schema,
        searcher: tantivy.Searcher,
        *,
        frequency: dict[str, int],
        scoring: bool = True,
        positions: bool = True,
    ) -> None:
        self.schema = schema
        self.searcher = searcher
        self.frequency = frequency  # letters holding each pair, shared by the compilers
        self.scoring = scoring
        self.positions = positions
        self.positional = False

    def _cheapest(self, tokens: tuple[tuple[int, str], ...]) -> tuple[tuple[int, str], ...]:
        """The pairs to check: the cover whose rarest pair times its length is least (the
        letters to check times the position lists to read in each)."""
        frequency = self.frequency
        for _offset, token in tokens:
            if token not in frequency:
                frequency[token] = self.searcher.doc_freq("pairs", token)
        covers = {_query.sparse(tokens, keep) for keep in range(len(tokens))}
        return min(covers, key=lambda c: (min(frequency[t] for _o, t in c) * len(c), c))

    def _phrase(self, node: _query.Phrase) -> tantivy.Query:
        schema, tokens = self.schema, node.tokens
        if len(tokens) == 1:
            return tantivy.Query.term_query(schema, node.field, tokens[0][1])
        if not (node.exact and self.positions):
            terms = [tantivy.Query.term_query(schema, node.field, t) for _o, t in tokens]
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in terms])
        self.positional = True
        if node.field.endswith("pairs") and tokens[-1][0] - tokens[0][0] == len(tokens) - 1:
            tokens = self._cheapest(tokens)
        return tantivy.Query.phrase_query(schema, node.field, list(tokens))

    def __call__(self, node: Any) -> tantivy.Query:
        if isinstance(node, _query.Phrase):
            return self._phrase(node)
        if isinstance(node, _query.Key):
            return tantivy.Query.term_query(self.schema, node.field, node.value)
        if isinstance(node, _query.DateIs):
            return tantivy.Query.term_query(self.schema, "day", node.day)
        if isinstance(node, _query.Boost):
            return tantivy.Query.boost_query(self(node.item), node.weight)
        if isinstance(node, _query.Const):
            return tantivy.Query.const_score_query(self(node.item), node.score)
        if isinstance(node, _query.Ranked):
            if not self.scoring:
                return self(node.must)
            clauses = [(tantivy.Occur.Must, self(node.must))]
            clauses += [(tantivy.Occur.Should, self(item)) for item in node.should]
            return tantivy.Query.boolean_query(clauses)
        if isinstance(node, _query.Quorum):
            should = [(tantivy.Occur.Should, self(item)) for item in node.items]
            return tantivy.Query.boolean_query(should, minimum_number_should_match=node.count)
        if isinstance(node, _query.Items) and len(node.items) == 1:
            return self(node.items[0])
        if isinstance(node, _query.Max):
            return tantivy.Query.disjunction_max_query([self(i) for i in node.items])
        if isinstance(node, _query.Any | _query.All):
            occur = tantivy.Occur.Must if isinstance(node, _query.All) else tantivy.Occur.Should
            return tantivy.Query.boolean_query([(occur, self(item)) for item in node.items])
        raise TypeError(f"cannot compile {node!r}")
