"""The pure-Python backend: Whoosh (the maintained ``whoosh-reloaded`` release).

Slower than tantivy by one to two orders of magnitude (see ``benchmarks/search.py``), but
needs nothing compiled. Same fields as tantivy: pre-analyzed tokens read back by Whoosh's
space tokenizer, keys and filters as ID and NUMERIC fields, display data stored as JSON.
Filters (secrecy included) are passed as Whoosh's ``filter``, applied while collecting, so
totals and facets count only letters the user may see. A phrase with a missing syllable
(tolerant mode) becomes an ordered span query with a little slop.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import sorting
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.query import spans

from saraban.indexer import _query
from saraban.indexer._engine import (
    SENTINEL,
    BaseIndex,
    Filters,
    Page,
    Prepared,
    Request,
    writer_turn,
)

_KEYWORDS = ("kind", "unit", "urgency", "direction", "status")


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "ref": ID(),
        "cited": ID(),
        "day": NUMERIC(int, bits=32, sortable=True),
        "year": NUMERIC(int, bits=32, sortable=True),
        "secrecy": NUMERIC(int, bits=32),
        "data": STORED(),
    }
    for name in _query.TEXT_FIELDS:
        fields[name] = TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True)
    for name in _KEYWORDS:
        fields[name] = ID(sortable=True)
    return Schema(**fields)


class WhooshIndex(BaseIndex):
    backend = "whoosh"

    def __init__(self, home: Path, *, engine: str | None = None) -> None:
        super().__init__(home, engine)
        self.path = self.home / "index" / self.backend
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.path / ".saraban-writer.lock"
        with writer_turn(self._lock_path, self._thread_lock):
            sentinel = self._read_sentinel(self.path / SENTINEL)
            wanted = self._sentinel_wanted()
            if (
                sentinel is None
                or any(sentinel.get(k) != v for k, v in wanted.items())
                or not whoosh_index.exists_in(str(self.path))
            ):
                for entry in self.path.iterdir():
                    if entry.name != self._lock_path.name:
                        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                self._index = whoosh_index.create_in(str(self.path), build_schema())
                sentinel = wanted | {"built": False}
                self._write_sentinel(self.path / SENTINEL, sentinel)
            else:
                self._index = whoosh_index.open_dir(str(self.path))
            self.needs_rebuild = not sentinel.get("built")

    def mark_built(self) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            self._write_sentinel(self.path / SENTINEL, self._sentinel_wanted() | {"built": True})
        super().mark_built()

    # ---- writing ------------------------------------------------------------------------------

    def _fields(self, doc: Prepared) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "id": str(doc.id),
            "ref": " ".join(doc.ref) or None,
            "cited": " ".join(doc.cited) or None,
            "day": doc.day,
            "year": doc.year,
            "secrecy": doc.secrecy,
            "data": doc.stored_json,
        }
        for name, text in doc.text.items():
            if text:
                fields[name] = text
        for name in _KEYWORDS:
            value = getattr(doc, name)
            if value:
                fields[name] = value
        return {k: v for k, v in fields.items() if v is not None}

    def _write(self, docs: list[Prepared], delete_ids: list[int]) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            writer = self._index.writer()
            try:
                for doc_id in delete_ids:
                    writer.delete_by_term("id", str(doc_id))
                for doc in docs:
                    writer.update_document(**self._fields(doc))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def clear(self) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            writer = self._index.writer()
            writer.delete_by_query(wq.Every())
            writer.commit()

    # ---- reading ------------------------------------------------------------------------------

    def _searcher(self) -> Any:
        return self._index.searcher()

    def count(self) -> int:
        with self._searcher() as searcher:
            return searcher.doc_count()

    def ids(self) -> set[int]:
        with self._searcher() as searcher:
            return {int(fields["id"]) for fields in searcher.all_stored_fields()}

    def _compile(self, node: Any) -> wq.Query:
        if isinstance(node, _query.Phrase):
            words = [token for _offset, token in node.tokens]
            if len(words) == 1:
                return wq.Term(node.field, words[0])
            if not node.exact:
                return wq.And([wq.Term(node.field, w) for w in words])
            offsets = [offset for offset, _token in node.tokens]
            if offsets == list(range(len(words))):
                return wq.Phrase(node.field, words)
            gaps = max(b - a - 1 for a, b in zip(offsets, offsets[1:], strict=False))
            return spans.SpanNear2([wq.Term(node.field, w) for w in words], slop=gaps + 1)
        if isinstance(node, _query.Key):
            return wq.Term(node.field, node.value)
        if isinstance(node, _query.DateIs):
            return wq.NumericRange("day", node.day, node.day)
        if isinstance(node, _query.Boost):
            compiled = self._compile(node.item)
            if isinstance(compiled, spans.SpanQuery):  # no boost of their own
                return wq.Or([compiled], boost=node.weight)
            compiled.boost = compiled.boost * node.weight
            return compiled
        if isinstance(node, _query.Const):
            return wq.ConstantScoreQuery(self._compile(node.item), node.score)
        if isinstance(node, _query.Ranked):
            should = [self._compile(item) for item in node.should]
            return wq.AndMaybe(self._compile(node.must), wq.Or(should))
        if isinstance(node, _query.Max):
            return wq.DisjunctionMax([self._compile(i) for i in node.items])
        if isinstance(node, _query.Any):
            return wq.Or([self._compile(i) for i in node.items])
        if isinstance(node, _query.All):
            return wq.And([self._compile(i) for i in node.items])
        raise TypeError(f"cannot compile {node!r}")

    def _filter(self, filters: Filters) -> wq.Query:
        parts: list[wq.Query] = [wq.NumericRange("secrecy", 0, filters.max_secrecy)]
        if filters.days:
            parts.append(wq.NumericRange("day", *filters.days))
        parts += [wq.Term(name, value) for name, value in filters.keywords.items()]
        return wq.And(parts) if len(parts) > 1 else parts[0]

    def _run(self, request: Request) -> Page:
        must, should, offset, limit = request.must, request.should, request.offset, request.limit
        query: wq.Query = wq.Every() if must is None else self._compile(must)
        if should and must is not None:
            query = wq.AndMaybe(query, wq.Or([self._compile(node) for node in should]))
        facets = {"year": sorting.FieldFacet("year"), "unit": sorting.FieldFacet("unit")}
        options: dict[str, Any] = {
            "limit": max(offset + limit, 1),
            "filter": self._filter(request.filters),
            "groupedby": facets,
            "maptype": sorting.Count,
        }
        if request.sort == "date":
            options |= {"sortedby": "day", "reverse": True}
        with self._searcher() as searcher:
            results = searcher.search(query, **options)
            total = len(results)
            rows = []
            for hit in results[offset : offset + limit]:
                score = 0.0 if request.sort == "date" else float(hit.score or 0.0)
                rows.append((score, json.loads(hit["data"])))
            found: dict[str, dict[str, int]] = {"year": {}, "unit": {}}
            if total:
                for name in ("year", "unit"):
                    for key, count in results.groups(name).items():
                        if key in (None, 0, "", b""):
                            continue
                        if isinstance(key, bytes):
                            key = key.decode("utf-8")
                        found[name][str(key)] = int(count)
        return Page(total, rows, found)
