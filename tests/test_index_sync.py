"""The index kept in step with a real archive: the queue, rebuilds, the schema sentinel, and
several writers and searchers at once (threads and processes) without a lock error."""

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT, SEEDS, make_letter

from saraban.archive.importer import import_file
from saraban.indexer import IndexDoc, open_index, reindex, sync
from saraban.indexer._engine import SENTINEL


def import_seeds(archive) -> dict[str, int]:
    ids = {}
    for path in sorted(SEEDS.glob("*.txt")):
        parsed = import_file(path)
        record = archive.store_imported(
            parsed.letter, original=path.read_bytes(), original_name=path.name, actor="tester"
        )
        ids[path.name[:3]] = record.id
    return ids


@pytest.fixture
def index(archive):
    opened = open_index(archive.home)
    yield opened
    opened.close()


def test_sync_builds_a_new_index_then_drains_the_queue(archive, index):
    seeds = import_seeds(archive)
    assert index.needs_rebuild
    assert sync(archive, index) == 5
    assert not index.needs_rebuild
    assert index.count() == 5
    assert archive.index_jobs() == []

    issued = archive.issue(make_letter("การประชุมคณะทำงานโคกหนองนา"), ARCHIVE_UNIT, actor="tester")
    found = index.search("คณะทำงานโคกหนองนา", limit=50)
    assert issued.id not in [h.id for h in found.hits]  # not yet synced
    assert sync(archive, index) == 1
    hit = index.search(issued.ref_no).hits[0]
    assert (hit.id, hit.status, hit.unit) == (issued.id, "issued", ARCHIVE_UNIT)
    assert index.search("นค 0019.3/ว2564").hits[0].id == seeds["002"]

    archive.cancel(issued.id, "ออกเลขซ้ำ", actor="tester")
    assert sync(archive, index) == 1
    assert index.search(issued.ref_no).hits[0].status == "cancelled"


def test_directions(archive, index):
    seeds = import_seeds(archive)
    issued = archive.issue(make_letter("ทดสอบทิศทางหนังสือ"), ARCHIVE_UNIT, actor="tester")
    archive.receive(
        ARCHIVE_UNIT,
        sender="จังหวัดลำปาง",
        recipient="พัฒนาการจังหวัด",
        subject="แนวทางการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        actor="tester",
        letter_id=seeds["001"],
    )
    sync(archive, index)
    direction = {h.id: h.direction for h in index.search("", limit=20).hits}
    assert direction[issued.id] == "sent"
    assert direction[seeds["001"]] == "received"
    assert direction[seeds["000"]] == "imported"


def test_reindex_reports_progress_and_drops_stale_entries(archive, index):
    import_seeds(archive)
    sync(archive, index)
    index.add([IndexDoc(id=999, subject="ไม่มีในทะเบียน")])
    seen = []
    assert reindex(archive, index, progress=lambda done, total: seen.append((done, total))) == 5
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert index.count() == 5
    assert 999 not in index.ids()


def test_searches_see_the_index_as_it_was_until_a_rebuild_commits(archive, index):
    """A rebuild commits once, at the end: meanwhile another process's searches find every
    letter as before (nothing half-built), and the stale entry goes only with the commit."""
    seeds = import_seeds(archive)
    sync(archive, index)
    index.add([IndexDoc(id=999, subject="ไม่มีในทะเบียน")])
    other = open_index(archive.home)  # another reader of the same index
    during = []

    def progress(done: int, total: int) -> None:
        if done == total:  # every letter written, not yet committed
            during.append((other.count(), 999 in other.ids()))
            during.append(other.search("นค 0019.3/ว2564").hits[0].id)

    try:
        assert reindex(archive, index, progress=progress) == 5
        assert during == [(6, True), seeds["002"]]
        assert (other.count(), 999 in other.ids()) == (5, False)
    finally:
        other.close()


def test_letters_reach_the_workers_as_plain_values(archive):
    """A rebuild hands the archive's rows to worker processes as plain tuples (no class of
    the archive to import there), and each is read as the archive's record is."""
    import pickle

    from saraban.indexer._sync import index_doc, load_docs

    seeds = import_seeds(archive)
    letters = archive.indexable(seeds.values())
    assert letters and all(isinstance(letter.doc_json, str) for letter in letters)
    docs, _gone = load_docs(archive, seeds.values())
    for letter, doc in zip(letters, docs, strict=True):
        row = tuple(letter)
        assert b"saraban.archive" not in pickle.dumps(row)
        assert index_doc(row) == doc
        assert doc.subject == letter.doc["subject"]


def test_a_batch_is_read_in_one_query(archive):
    """A rebuild of 100,000 letters must not make a round trip per letter."""
    from sqlalchemy import Engine, event

    from saraban.indexer._sync import load_docs

    seeds = import_seeds(archive)
    selects = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        docs, gone = load_docs(archive, [*seeds.values(), 999])
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert (len(docs), gone, len(selects)) == (5, [999], 1)


def test_reindex_in_worker_processes(archive, index, tmp_path, monkeypatch):
    """The workers hand their letters back through files in a folder of their own, gone
    after the rebuild."""
    import tempfile

    seeds = import_seeds(archive)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    assert reindex(archive, index, workers=2) == 5
    assert index.search("นค 0019.3/ว2564").hits[0].id == seeds["002"]
    assert not list((tmp_path / "tmp").iterdir())


def test_a_changed_schema_version_rebuilds_from_the_archive(archive, index):
    import_seeds(archive)
    sync(archive, index)
    sentinel = archive.home / "index" / "tantivy" / SENTINEL
    data = json.loads(sentinel.read_text())
    sentinel.write_text(json.dumps(data | {"schema": data["schema"] - 1}))
    reopened = open_index(archive.home)
    try:
        assert reopened.needs_rebuild and reopened.count() == 0
        assert sync(archive, reopened) == 5
        assert reopened.count() == 5
        assert not open_index(archive.home).needs_rebuild
    finally:
        reopened.close()


def test_a_changed_tokenizer_rebuilds(archive, index):
    import_seeds(archive)
    sync(archive, index)
    other = open_index(archive.home, engine="newmm")
    assert other.needs_rebuild
    sync(archive, other)
    assert other.search("ศูนย์ผู้นำจิตอาสา").total >= 2


def test_threads_write_and_search_at_once(tmp_path):
    index = open_index(tmp_path)
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for i in range(start, start + 15):
                index.add([IndexDoc(id=i, subject=f"การประชุมจิตอาสา ครั้งที่ {i}")])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def searcher() -> None:
        try:
            for _ in range(30):
                index.search("จิตอาสา")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n * 100,)) for n in range(4)]
    threads += [threading.Thread(target=searcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert index.count() == 60
    assert index.search("จิตอาสา", limit=100).total == 60


@pytest.mark.parametrize("backend", ["tantivy", "whoosh"])
def test_processes_write_and_search_at_once(tmp_path, backend):
    script = textwrap.dedent(
        f"""
        import sys
        from saraban.indexer import IndexDoc, open_index
        start = int(sys.argv[1])
        index = open_index({str(tmp_path)!r}, backend={backend!r})
        for i in range(start, start + 12):
            index.add([IndexDoc(id=i, subject=f"การประชุมจิตอาสา ครั้งที่ {{i}}")])
            index.search("จิตอาสา")
        print("ok")
        """
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(n * 100)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[1],
        )
        for n in range(3)
    ]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert out.strip() == "ok"
    index = open_index(tmp_path, backend=backend)
    assert index.count() == 36
