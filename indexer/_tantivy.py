"""The default backend: tantivy (a Rust search engine, through its Python bindings).

Text fields hold the analyzer's tokens joined by spaces and read back by tantivy's
``whitespace`` tokenizer, so tantivy never segments Thai itself; positions are kept, so
phrases of syllables work. Reference number keys, filters and facets are raw or integer
fast fields. What a hit shows is one stored JSON value.

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tantivy

from indexer import _query
from indexer._engine import (
    SENTINEL,
    BaseIndex,
    Filters,
    Page,
    Prepared,
    retry_busy,
    writer_turn,
)

_WRITER_HEAP = 64_000_000
_BULK_HEAP = 256_000_000
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
    for name in _KEYWORDS:
        builder.add_text_field(
            name, stored=False, tokenizer_name="raw", fast=True, index_option="basic"
        )
    builder.add_integer_field("day", stored=False, indexed=True, fast=True)
    builder.add_integer_field("year", stored=False, indexed=True, fast=True)
    builder.add_integer_field("secrecy", stored=False, indexed=True, fast=True)
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
            self._index = tantivy.Index(self.schema, path=str(self.path))

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
        for name in _KEYWORDS:
            value = getattr(doc, name)
            if value:
                document.add_text(name, value)
        document.add_integer("day", doc.day)
        document.add_integer("year", doc.year)
        document.add_integer("secrecy", doc.secrecy)
        document.add_bytes("data", doc.stored_json.encode("utf-8"))
        return document

    def _write(self, docs: list[Prepared], delete_ids: list[int], *, bulk: bool = False) -> None:
        heap, threads = (_BULK_HEAP, 2) if bulk else (_WRITER_HEAP, 1)
        with writer_turn(self._lock_path, self._thread_lock):
            writer = retry_busy(lambda: self._index.writer(heap, threads), "tantivy writer")
            try:
                for doc_id in delete_ids:
                    writer.delete_documents_by_term("id", doc_id)
                for doc in docs:
                    writer.delete_documents_by_term("id", doc.id)
                    writer.add_document(self._document(doc))
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
        self._index.reload()

    def add_prepared(self, docs: list[Prepared]) -> None:
        """Many prepared letters in one session with a larger writer (for reindex)."""
        if docs:
            self._write(docs, [], bulk=True)

    def clear(self) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            writer = retry_busy(lambda: self._index.writer(_WRITER_HEAP, 1), "tantivy writer")
            try:
                writer.delete_all_documents()
                writer.commit()
            finally:
                writer.wait_merging_threads()
        self._index.reload()

    # ---- reading ------------------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        self._index.reload()
        return self._index.searcher()

    def count(self) -> int:
        return self._searcher().num_docs

    def ids(self) -> set[int]:
        searcher = self._searcher()
        total = searcher.num_docs
        if not total:
            return set()
        result = searcher.search(tantivy.Query.all_query(), total, count=False)
        return {int(searcher.doc(address)["id"][0]) for _score, address in result.hits}

    def _compile(self, node: Any) -> tantivy.Query:
        schema = self.schema
        if isinstance(node, _query.Phrase):
            tokens = node.tokens
            if len(tokens) == 1:
                return tantivy.Query.term_query(schema, node.field, tokens[0][1])
            if not node.exact:
                terms = [tantivy.Query.term_query(schema, node.field, t) for _o, t in tokens]
                return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in terms])
            if node.field.endswith("pairs") and tokens[-1][0] - tokens[0][0] == len(tokens) - 1:
                tokens = _query.sparse(tokens)
            return tantivy.Query.phrase_query(schema, node.field, list(tokens))
        if isinstance(node, _query.Key):
            return tantivy.Query.term_query(schema, node.field, node.value)
        if isinstance(node, _query.DateIs):
            return tantivy.Query.term_query(schema, "day", node.day)
        if isinstance(node, _query.Boost):
            return tantivy.Query.boost_query(self._compile(node.item), node.weight)
        if isinstance(node, _query.Const):
            return tantivy.Query.const_score_query(self._compile(node.item), node.score)
        if isinstance(node, _query.Any):
            if len(node.items) == 1:
                return self._compile(node.items[0])
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, self._compile(item)) for item in node.items]
            )
        if isinstance(node, _query.Ranked):
            clauses = [(tantivy.Occur.Must, self._compile(node.must))]
            clauses += [(tantivy.Occur.Should, self._compile(item)) for item in node.should]
            return tantivy.Query.boolean_query(clauses)
        if isinstance(node, _query.Max):
            if len(node.items) == 1:
                return self._compile(node.items[0])
            return tantivy.Query.disjunction_max_query([self._compile(i) for i in node.items])
        if isinstance(node, _query.All):
            if len(node.items) == 1:
                return self._compile(node.items[0])
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, self._compile(item)) for item in node.items]
            )
        raise TypeError(f"cannot compile {node!r}")

    def _filter_queries(self, filters: Filters) -> list[tantivy.Query]:
        schema, integer = self.schema, tantivy.FieldType.Integer
        found = [tantivy.Query.range_query(schema, "secrecy", integer, 0, filters.max_secrecy)]
        if filters.day_from is not None or filters.day_to is not None:
            low = filters.day_from if filters.day_from is not None else 1
            found.append(tantivy.Query.range_query(schema, "day", integer, low, filters.day_to))
        for name in ("kind", "unit", "urgency", "direction"):
            value = getattr(filters, name)
            if value:
                found.append(tantivy.Query.term_query(schema, name, value))
        return [tantivy.Query.const_score_query(q, 0.0) for q in found]

    def _run(
        self,
        must: object | None,
        should: list[object],
        filters: Filters,
        *,
        sort: str,
        limit: int,
        offset: int,
    ) -> Page:
        clauses = [(tantivy.Occur.Must, q) for q in self._filter_queries(filters)]
        if must is not None:
            clauses.append((tantivy.Occur.Must, self._compile(must)))
        matching = tantivy.Query.boolean_query(clauses)  # for facets: no scoring needed
        clauses += [(tantivy.Occur.Should, self._compile(node)) for node in should]
        query = tantivy.Query.boolean_query(clauses)
        searcher = self._searcher()
        spec = {
            "year": {"terms": {"field": "year", "size": _FACET_SIZE}},
            "unit": {"terms": {"field": "unit", "size": _FACET_SIZE}},
        }
        # Facets walk every match again: run that beside the search (tantivy releases the
        # GIL while it searches), so a query costs about one pass, not two.
        aggregating = _facet_pool().submit(searcher.aggregate, matching, spec)
        wanted = max(limit, 1)  # tantivy refuses a limit of 0; a count-only search drops hits
        if sort == "date":
            result = searcher.search(query, wanted, count=True, order_by_field="day", offset=offset)
            scored = [(0.0, address) for _day, address in result.hits]
        else:
            result = searcher.search(query, wanted, count=True, offset=offset)
            scored = list(result.hits)
        scored = scored[:limit]
        rows = []
        for score, address in scored:
            data = searcher.doc(address)["data"][0]
            rows.append((score, json.loads(bytes(data).decode("utf-8"))))
        total = result.count or 0
        facets: dict[str, dict[str, int]] = {"year": {}, "unit": {}}
        aggregated = aggregating.result()
        if total:
            for name in ("year", "unit"):
                for bucket in aggregated.get(name, {}).get("buckets", []):
                    key = bucket["key"]
                    if isinstance(key, float):
                        key = int(key)
                    if key in (0, ""):
                        continue
                    facets[name][str(key)] = int(bucket["doc_count"])
        return Page(total, rows, facets)
