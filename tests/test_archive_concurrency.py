"""Eight processes issuing 25 letters each into one register at the same moment get the
numbers 1..200, none missing, none twice, on SQLite and on PostgreSQL; verify passes after.

The processes are real (``python -c``), each with its own connection, waiting at a start
line (a file) so that they all contend for the counter at once.
"""

from __future__ import annotations

import subprocess
import sys
import time

from conftest import ARCHIVE_UNIT
from test_archive_crash import child_env

from saraban.archive import open_archive

PROCESSES = 8
LETTERS_EACH = 25

WORKER = """
import os, sys, time
from saraban.archive import open_archive
from conftest import make_letter

home, url, register, count, start = sys.argv[1:6]
archive = open_archive(home, url or None, repair=False)
print("ready", flush=True)
while not os.path.exists(start):
    time.sleep(0.002)
for n in range(int(count)):
    letter = make_letter(f"concurrent {os.getpid()} {n}")
    issued = archive.issue(letter, register, actor=str(os.getpid()))
    print(issued.serial, issued.id, flush=True)
"""


def test_eight_processes_get_gap_free_unique_numbers(tmp_path, database_url):
    home = tmp_path / "home"
    archive = open_archive(home, database_url)
    archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    start = tmp_path / "start"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(home),
                database_url or "",
                ARCHIVE_UNIT,
                str(LETTERS_EACH),
                str(start),
            ],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            if worker.stdout.readline().strip() != "ready":
                worker.kill()
                raise AssertionError(f"a worker did not start: {worker.communicate()[1][-3000:]}")
        start.touch()
        started = time.monotonic()
        outputs = [worker.communicate(timeout=600) for worker in workers]
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()  # its pipes closed, whatever happened
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    per_worker = [out.splitlines() for out, _ in outputs]
    serials = [int(line.split()[0]) for lines in per_worker for line in lines]
    assert all(len(lines) == LETTERS_EACH for lines in per_worker)
    assert sorted(serials) == list(range(1, PROCESSES * LETTERS_EACH + 1))
    # Each process saw its own numbers rise (it never got an older number later).
    for lines in per_worker:
        mine = [int(line.split()[0]) for line in lines]
        assert mine == sorted(mine)
    try:
        assert archive.serials(ARCHIVE_UNIT, year=archive.letters()[0].year) == list(
            range(1, PROCESSES * LETTERS_EACH + 1)
        )
        assert archive.verify() == []
        issued = archive.letters(status="issued")
        assert len(issued) == PROCESSES * LETTERS_EACH
        assert len({r.pdf_sha256 for r in issued}) == len(issued)
    finally:
        archive.close()
    sys.stderr.write(
        f"{archive.dialect}: {PROCESSES * LETTERS_EACH} letters by {PROCESSES} processes "
        f"in {elapsed:.1f} s\n"
    )


RECEIVER = """
import os, sys, time
from saraban.archive import open_archive

home, url, register, count, start = sys.argv[1:6]
archive = open_archive(home, url or None, repair=False)
print("ready", flush=True)
while not os.path.exists(start):
    time.sleep(0.002)
for n in range(int(count)):
    secrecy = (None, "ลับ", "ลับมาก")[n % 3]
    got = archive.receive(register, sender="กรม", recipient="จังหวัด", subject=f"{n}",
                          secrecy=secrecy, actor=str(os.getpid()))
    print(got.series.replace(" ", "_"), got.serial, flush=True)
"""


def test_processes_receiving_at_once_number_each_secrecy_level_without_gaps(tmp_path, database_url):
    """The incoming register's series (one a secrecy level) under the same contention."""
    home = tmp_path / "home"
    archive = open_archive(home, database_url)
    archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
    start = tmp_path / "start"
    each = 30
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", RECEIVER, str(home), database_url or "", ARCHIVE_UNIT]
            + [str(each), str(start)],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        start.touch()
        outputs = [worker.communicate(timeout=600) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    given: dict[str, list[int]] = {}
    for out, _err in outputs:
        for line in out.splitlines():
            series, serial = line.split()
            given.setdefault(series.replace("_", " "), []).append(int(serial))
    per_level = PROCESSES * each // 3
    assert sorted(given) == ["incoming", "incoming ลับ", "incoming ลับมาก"]
    for serials in given.values():
        assert sorted(serials) == list(range(1, per_level + 1))
    try:
        stored: dict[str, list[int]] = {}
        for row in archive.received():
            stored.setdefault(row.series, []).append(row.serial)
        assert stored == {series: list(range(1, per_level + 1)) for series in given}
        assert [r.serial for r in archive.received(clearance=None)] == list(range(1, per_level + 1))
        assert archive.verify() == []
    finally:
        archive.close()


def test_one_file_imported_by_two_at_the_same_moment_is_kept_once(archive, tmp_path):
    """Two clerks confirming one file at the same moment both passed the look for it (a
    read before the write), and the file was kept twice."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from conftest import make_letter

    from saraban.errors import Conflict

    original = b"the same letter, scanned once " * 1000
    start = threading.Barrier(6)

    def keep(n):
        start.wait()
        try:
            return archive.store_imported(
                make_letter(f"นำเข้า {n}"), original=original, original_name="a.txt", actor=f"c{n}"
            ).public_id
        except Conflict as refused:
            assert "already imported" in refused.message
            return None

    with ThreadPoolExecutor(6) as pool:
        kept = [k for k in pool.map(keep, range(6)) if k is not None]
    assert len(kept) == 1
    assert [r.public_id for r in archive.letters()] == kept
