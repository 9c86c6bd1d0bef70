"""A crash at any point of issuing (kill -9 of a real process) loses no number and leaves no
half-issued letter: the next open of the archive finishes what needs no rendering,
``finish_pending`` (``saraban repair``, and ``saraban serve`` in the background) renders the
rest once more, and every number of the series is accounted for (issued, or recorded unused
with a reason).

The child process is the real program: it opens the archive and issues letters with the
real renderers. ``SARABAN_TEST_CRASH_AT`` makes it SIGKILL itself at a named point of the
issue path; the random test instead kills it from outside at random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT

from saraban.archive import open_archive
from saraban.archive._process import CRASH_ENV

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

WORKER = """
import sys
from saraban.archive import open_archive
from conftest import make_letter

home, url, register, count = sys.argv[1], sys.argv[2] or None, sys.argv[3], int(sys.argv[4])
archive = open_archive(home, url, repair=False)
print("ready", flush=True)
for n in range(count):
    issued = archive.issue(make_letter(f"crash test {n}"), register, actor="worker")
    print("issued", issued.serial, flush=True)
"""

# Every point of the issue path, in order (archive/_archive.py: crashpoint(...)).
POINTS = [
    "allocating",  # inside the numbering transaction, before commit
    "allocated",
    "rendered",
    "recorded",  # file hashes written to the pending row, no file stored yet
    "stored_docx",  # DOCX stored, PDF not
    "stored",
    "finalising",  # inside the issuing transaction, before commit
    "issued",
]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), str(TESTS), os.environ.get("PYTHONPATH")])
    )
    env.pop(CRASH_ENV, None)
    env.update(extra)
    return env


def start_worker(home: Path, url: str | None, count: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(home), url or "", ARCHIVE_UNIT, str(count)],
        env=child_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_all_accounted_for(archive) -> list:
    """Every number 1..N of the series is issued, or unused with a reason; verify is clean."""
    letters = [r for r in archive.letters() if r.serial is not None]
    serials = sorted(r.serial for r in letters)
    assert serials == list(range(1, len(serials) + 1))
    for record in letters:
        assert record.status in ("issued", "unused"), record
        if record.status == "unused":
            assert record.reason
        else:
            assert archive.files.check(record.pdf_sha256) is None
            assert archive.files.check(record.docx_sha256) is None
    assert archive.verify() == []
    return letters


@pytest.fixture
def unit_home(archive_home, database_url):
    archive = open_archive(archive_home, database_url)
    archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    archive.close()
    return archive_home


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_each_point_of_issuing_is_repaired(unit_home, database_url, point):
    worker = start_worker(unit_home, database_url, 2, **{CRASH_ENV: f"{point}:2"})
    out, err = worker.communicate(timeout=300)
    assert worker.returncode == -signal.SIGKILL, err
    assert out.split("\n").count("issued 1") == 1

    archive = open_archive(unit_home, database_url)  # repairs on open, rendering nothing
    try:
        archive.finish_pending()  # renders what the crash left unrendered
        letters = assert_all_accounted_for(archive)
        expected = 1 if point == "allocating" else 2  # rolled back: number 2 never given
        assert len(letters) == expected
        assert all(r.status == "issued" for r in letters)
        after = archive.issue(
            archive.letter_document(letters[0].id) | {"ref_no": None, "date": None},
            ARCHIVE_UNIT,
            actor="tester",
        )
        assert after.serial == expected + 1
        assert_all_accounted_for(archive)
    finally:
        archive.close()


def test_kill_at_random_moments(unit_home, database_url):
    rng = random.Random(20240521)
    issued_by_workers = 0
    for _round in range(4):
        worker = start_worker(unit_home, database_url, 1000)
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 1.5))
        worker.send_signal(signal.SIGKILL)
        out, _err = worker.communicate(timeout=60)
        issued_by_workers += out.count("issued ")
        archive = open_archive(unit_home, database_url)
        try:
            archive.finish_pending()
            letters = assert_all_accounted_for(archive)
            assert len(letters) >= issued_by_workers
        finally:
            archive.close()


RECEIVER = """
import sys
from saraban.archive import open_archive

home, url, register = sys.argv[1], sys.argv[2] or None, sys.argv[3]
archive = open_archive(home, url, repair=False)
print("ready", flush=True)
for n in range(100000):
    secrecy = (None, "ลับ", "ลับที่สุด")[n % 3]
    archive.receive(register, sender="กรม", recipient="จังหวัด", subject=f"{n}",
                    secrecy=secrecy, actor="worker")
    print("received", n, flush=True)
"""


def test_kill_while_receiving_leaves_every_series_gap_free(unit_home, database_url):
    """A เลขรับ is taken and written in one transaction: a kill -9 at any moment leaves
    each series (one per secrecy level) running 1..n, and verify clean."""
    rng = random.Random(20261204)
    received_by_workers = 0
    for _round in range(3):
        worker = subprocess.Popen(
            [sys.executable, "-c", RECEIVER, str(unit_home), database_url or "", ARCHIVE_UNIT],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.0))
        worker.send_signal(signal.SIGKILL)
        out, _err = worker.communicate(timeout=60)
        received_by_workers += out.count("received ")
        archive = open_archive(unit_home, database_url)
        try:
            by_series: dict[str, list[int]] = {}
            for row in archive.received():
                by_series.setdefault(row.series, []).append(row.serial)
            assert sum(map(len, by_series.values())) >= received_by_workers
            assert len(by_series) == 3 or received_by_workers < 3
            for serials in by_series.values():
                assert serials == list(range(1, len(serials) + 1))
            assert archive.verify() == []
        finally:
            archive.close()
