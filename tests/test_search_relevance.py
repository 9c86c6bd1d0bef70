"""Relevance over the seed letters imported into a real archive, as a clerk would import them.

The queries are in ``tests/data/search_queries.json``: topics, parts of compounds, phrases,
abbreviations, reference numbers in every spelling, people, places, dates and fiscal years,
and the OCR noise of seed 003. Recall@10 and MRR are printed per kind of query (``pytest -s``
shows them); reference-number queries must put their letter first.
"""

import datetime as dt
import json
from collections import defaultdict

import pytest
from conftest import DATA, SEEDS

from saraban.archive import open_archive
from saraban.archive.importer import import_file
from saraban.indexer import SearchFilters, open_index, sync

QUERIES = json.loads((DATA / "search_queries.json").read_text("utf-8"))
BACKENDS = ["tantivy", "whoosh", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"relevance-{request.param}")
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").create_database()
    archive = open_archive(home, url)
    by_id = {}
    for path in sorted(SEEDS.glob("*.txt")):
        parsed = import_file(path)
        record = archive.store_imported(
            parsed.letter, original=path.read_bytes(), original_name=path.name, actor="tester"
        )
        by_id[record.id] = path.name[:3]
    index = open_index(home, backend=request.param, database_url=url)
    sync(archive, index)
    yield index, by_id
    index.close()
    archive.close()


def _filters(item):
    raw = dict(item.get("filters") or {})
    for key in ("date_from", "date_to"):
        if key in raw:
            raw[key] = dt.date.fromisoformat(raw[key])
    return SearchFilters(**raw) if raw else None


def test_relevance(seeded, request):
    index, by_id = seeded
    backend = request.node.callspec.params["seeded"]
    recalls, ranks = defaultdict(list), defaultdict(list)
    wrong_first = []
    for item in QUERIES:
        result = index.search(item["query"], filters=_filters(item), limit=10)
        found = [by_id[hit.id] for hit in result.hits]
        relevant = set(item["relevant"])
        recalls[item["kind"]].append(len(relevant & set(found)) / len(relevant))
        first = next((i for i, seed in enumerate(found, 1) if seed in relevant), None)
        ranks[item["kind"]].append(1 / first if first else 0.0)
        if item.get("first") and (not found or found[0] not in relevant):
            wrong_first.append((item["query"], found))
    # The figures are the point of this test: printed for ``pytest -s`` and for CI logs.
    print(f"\nsearch relevance over the seeds ({backend}, {len(QUERIES)} queries)")  # noqa: T201
    print(f"{'kind':10} {'queries':>7} {'recall@10':>9} {'MRR':>6}")  # noqa: T201
    every_recall = [r for values in recalls.values() for r in values]
    every_rank = [r for values in ranks.values() for r in values]
    for kind in sorted(recalls):
        recall = sum(recalls[kind]) / len(recalls[kind])
        mrr = sum(ranks[kind]) / len(ranks[kind])
        print(f"{kind:10} {len(recalls[kind]):7} {recall:9.3f} {mrr:6.3f}")  # noqa: T201
    recall = sum(every_recall) / len(every_recall)
    mrr = sum(every_rank) / len(every_rank)
    print(f"{'all':10} {len(every_recall):7} {recall:9.3f} {mrr:6.3f}")  # noqa: T201
    assert wrong_first == []
    assert recall >= 0.95
    assert mrr >= 0.85
