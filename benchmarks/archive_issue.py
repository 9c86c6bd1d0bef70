"""Issue benchmark: letters issued per second (number, render DOCX and PDF/A, store, register
row, audit event), by one process and by 8 processes at once, on SQLite and on PostgreSQL.

Run by hand: .venv/bin/python benchmarks/archive_issue.py [--letters N] [--processes P]
PostgreSQL: a throw-away server is started (tests/postgres.py) unless --postgres-url is
given; it is skipped if no server binaries are found. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from saraban.archive import open_archive  # noqa: E402

UNIT = "นค ๐๐๑๙.๓"
WORKER = """
import os, sys, time
from saraban.archive import open_archive
from conftest import make_letter

home, url, count, start = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), sys.argv[4]
archive = open_archive(home, url, repair=False)
archive.issue(make_letter("warm-up"), "นค ๐๐๑๙.๓", actor="bench")  # imports, fonts
print("ready", flush=True)
while not os.path.exists(start):
    time.sleep(0.002)
for n in range(count):
    archive.issue(make_letter(f"benchmark {n}"), "นค ๐๐๑๙.๓", actor="bench")
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH")])
    )
    return env


def run(url: str | None, processes: int, letters_each: int) -> float:
    """Letters per second for ``processes`` workers issuing ``letters_each`` letters."""
    with tempfile.TemporaryDirectory(prefix="saraban-bench-") as tmp:
        home = Path(tmp) / "home"
        archive = open_archive(home, url)
        archive.add_unit(UNIT, "ศาลากลางจังหวัดหนองคาย", actor="bench")
        start = Path(tmp) / "start"
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(home), url or "", str(letters_each), str(start)],
                env=_env(),
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        for worker in workers:
            worker.stdout.readline()
        began = time.perf_counter()
        start.touch()
        for worker in workers:
            worker.wait()
        elapsed = time.perf_counter() - began
        problems = archive.verify()
        archive.close()
        if any(w.returncode for w in workers) or problems:
            raise SystemExit(f"benchmark run failed: {problems}")
        return processes * letters_each / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20, help="letters per process")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--postgres-url", help="use this PostgreSQL database (must be empty)")
    args = parser.parse_args()

    targets: list[tuple[str, str | None]] = [("sqlite", None)]
    server = None
    if args.postgres_url:
        targets.append(("postgresql", args.postgres_url))
    else:
        from postgres import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is not None:
            server = PostgresServer(bin_dir)
            server.start()
            targets.append(("postgresql", None))
    try:
        sys.stdout.write(f"{'database':<12}{'processes':>10}{'letters/s':>12}\n")
        for name, url in targets:
            for processes in (1, args.processes):
                if name == "postgresql" and server is not None:
                    url = server.create_database()
                rate = run(url, processes, args.letters)
                sys.stdout.write(f"{name:<12}{processes:>10}{rate:>12.1f}\n")
                sys.stdout.flush()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
