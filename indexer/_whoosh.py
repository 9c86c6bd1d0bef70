"""The pure-Python backend: Whoosh (the maintained ``whoosh-reloaded`` release).

Slower than tantivy by one to two orders of magnitude (see ``benchmarks/search.py``), but
needs nothing compiled. Same fields as tantivy: pre-analyzed tokens read back by Whoosh's
space tokenizer, keys and filters as ID and NUMERIC fields, display data stored as JSON.
Letters of each secrecy level are kept in their own Whoosh index (``tier-0`` .. ``tier-3``),
and a search opens only those its user may see, so nothing it answers (BM25F statistics
included) depends on a letter above the user's clearance; several are merged by score.
Filters are passed as Whoosh's ``filter``, applied while collecting, so totals and facets
count only letters that pass them. A phrase with a missing syllable
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
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.query import spans

from saraban.indexer import _query
from saraban.indexer._engine import (
    SENTINEL,
    BaseIndex,
    Filters,
    Page,
    Prepared,
    Request,
    merge_pages,
    writer_turn,
)
from saraban.indexer._model import TIERS

_KEYWORDS = ("kind", "unit", "urgency", "direction", "status")


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "ref": KEYWORD(),  # keys, one a word: a letter has several
        "cited": KEYWORD(),
        "dates": KEYWORD(),
        "day": NUMERIC(int, bits=32, sortable=True),
        "year": NUMERIC(int, bits=32, sortable=True),
        "newest": NUMERIC(int, bits=64, sortable=True),  # day * 2**32 + id
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
            folders = {tier: self.path / f"tier-{tier}" for tier in TIERS}
            if (
                sentinel is None
                or any(sentinel.get(k) != v for k, v in wanted.items())
                or not all(whoosh_index.exists_in(str(f)) for f in folders.values())
            ):
                for entry in self.path.iterdir():
                    if entry.name != self._lock_path.name:
                        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                for folder in folders.values():
                    folder.mkdir()
                    whoosh_index.create_in(str(folder), build_schema())
                sentinel = wanted | {"built": False}
                self._write_sentinel(self.path / SENTINEL, sentinel)
            self._tiers = {t: whoosh_index.open_dir(str(f)) for t, f in folders.items()}
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
            "dates": " ".join(doc.dates) or None,
            "day": doc.day,
            "year": doc.year,
            "newest": (doc.day << 32) + doc.id,
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
        """Each letter into the tier of its secrecy, out of every other tier."""
        with writer_turn(self._lock_path, self._thread_lock):
            for tier, index in self._tiers.items():
                adding = [doc for doc in docs if doc.secrecy == tier]
                elsewhere = delete_ids + [doc.id for doc in docs if doc.secrecy != tier]
                with index.searcher() as searcher:
                    held = (searcher.document_number(id=str(i)) for i in elsewhere)
                    removing = [i for i, n in zip(elsewhere, held, strict=True) if n is not None]
                if not adding and not removing:
                    continue
                writer = index.writer()
                try:
                    for doc_id in removing:
                        writer.delete_by_term("id", str(doc_id))
                    for doc in adding:
                        writer.update_document(**self._fields(doc))
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()

    def clear(self) -> None:
        with writer_turn(self._lock_path, self._thread_lock):
            for index in self._tiers.values():
                writer = index.writer()
                writer.delete_by_query(wq.Every())
                writer.commit()

    # ---- reading ------------------------------------------------------------------------------

    def count(self) -> int:
        total = 0
        for index in self._tiers.values():
            with index.searcher() as searcher:
                total += searcher.doc_count()
        return total

    def ids(self) -> set[int]:
        found: set[int] = set()
        for index in self._tiers.values():
            with index.searcher() as searcher:
                found |= {int(fields["id"]) for fields in searcher.all_stored_fields()}
        return found

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
        if isinstance(node, _query.Quorum):
            return wq.Or([self._compile(i) for i in node.items], minmatch=node.count)
        if isinstance(node, _query.Any):
            return wq.Or([self._compile(i) for i in node.items])
        if isinstance(node, _query.All):
            return wq.And([self._compile(i) for i in node.items])
        raise TypeError(f"cannot compile {node!r}")

    def _filter(self, filters: Filters) -> wq.Query | None:
        parts: list[wq.Query] = []
        if filters.days:
            parts.append(wq.NumericRange("day", *filters.days))
        parts += [wq.Term(name, value) for name, value in filters.keywords.items()]
        if not parts:
            return None
        return wq.And(parts) if len(parts) > 1 else parts[0]

    def _run(self, request: Request) -> Page:
        """Each tier the user may see searched on its own (see the module docstring)."""
        tiers = request.filters.tiers
        if len(tiers) == 1:
            return self._run_tier(tiers[0], request)
        head = request.head()
        return merge_pages([self._run_tier(tier, head) for tier in tiers], request)

    def _run_tier(self, tier: int, request: Request) -> Page:
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
            options |= {"sortedby": "newest", "reverse": True}
        with self._tiers[tier].searcher() as searcher:
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
