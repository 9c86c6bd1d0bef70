"""Registers benchmark: a busy office's year on SQLite (``--n`` issued letters, one in ten
secret), read as a clerk reads it. Prints each step's wall time, CPU time and the memory
it added (peak resident size, each step in a process of its own); asserts nothing.

Steps: the registers page's first and a deep page (50 rows), the whole outgoing register as
the official table (what every export reads), and its CSV as the export writes it, for a
clerk without clearance and for one cleared for everything.

Run by hand: .venv/bin/python benchmarks/registers.py [--n 20000] [--archive DIR]
(--archive keeps the archive for the next run; ``SARABAN_BENCH_SOURCES=DIR`` measures the
saraban of another tree, as in benchmarks/search.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from search import fill_archive

UNIT = "นค ๐๐๑๙.๓"
YEAR = dt.date(2025, 1, 1)
STEPS = ("page-1", "page-deep", "table", "csv", "csv-cleared")


def make_archive(home: Path, n: int) -> None:
    """``n`` issued letters of the year 2025 in one register, written as rows (issuing each
    one, with its files and fsyncs, would take an hour): every tenth is ลับ."""
    from sqlalchemy import select

    from saraban.archive._models import Register

    def rows(archive: Any) -> Iterator[dict]:
        archive.add_unit(UNIT, "ศาลากลางจังหวัดหนองคาย", address=["ถนนมิตรภาพ"], actor="bench")
        with archive._read() as s:  # noqa: SLF001 - a benchmark's own archive
            register_id = s.scalar(select(Register.id))
        now = dt.datetime.now(dt.UTC)
        for i in range(1, n + 1):
            secret = i % 10 == 0
            yield {
                "status": "issued",
                "register_id": register_id,
                "series": "ลับ" if secret else "normal",
                "year": 2568,
                "serial": i // 10 if secret else i - i // 10,
                "circular": False,
                "ref_no": f"{UNIT}/{i}",
                "date": YEAR + dt.timedelta(days=i * 365 // (n + 1)),
                "subject": f"ขอเชิญประชุมคณะทำงานขับเคลื่อนนโยบาย ครั้งที่ {i}",
                "sender": "ผู้ว่าราชการจังหวัดหนองคาย",
                "addressee": "นายอำเภอ ทุกอำเภอ",
                "secrecy": "ลับ" if secret else None,
                "doc": {"subject": "x" * 2000},  # a letter's document, never read here
                "created_at": now,
                "created_by": "bench",
                "issued_at": now,
                "issued_by": "bench",
            }

    fill_archive(home, n, rows)


def step(home: Path, name: str, n: int) -> dict[str, float]:
    """One step in this process: its wall and CPU time and the resident memory it added."""
    from saraban.archive import open_archive, write_table
    from saraban.usecases import registers

    archive = open_archive(home)
    year = (YEAR, dt.date(2025, 12, 31))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    page = {"page-1": 1, "page-deep": max(1, n // 100)}.get(name)
    if page is not None:
        registers.register_page(
            archive, "sent", *year, register=None, clearance=None, page=page, per_page=50
        )
    else:
        clearance = "ลับที่สุด" if name == "csv-cleared" else None
        fmt = None if name == "table" else "csv"
        table = registers.register_table(archive, "sent", *year, None, clearance, fmt=fmt)
        if fmt:
            write_table(table, fmt)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    archive.close()
    return {"s": elapsed, "cpu": used, "mb": added / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="issued letters in the year")
    parser.add_argument("--archive", help="a folder for the archive, made once and used again")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    home = Path(args.archive or tempfile.mkdtemp(prefix="saraban-registers-bench-"))
    if args.step:
        print(json.dumps(step(home, args.step, args.n)))
        return 0
    started = time.perf_counter()
    make_archive(home, args.n)
    print(
        f"registers benchmark: {args.n:,} letters ({time.perf_counter() - started:.1f} s to make)"
    )
    for name in STEPS:
        child = subprocess.run(
            [sys.executable, __file__, "--archive", str(home), "--n", str(args.n), "--step", name],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(child.stdout.splitlines()[-1])
        print(
            f"{name:<12} {figures['s'] * 1000:9.1f} ms (CPU {figures['cpu'] * 1000:.0f} ms), "
            f"+{figures['mb']:.0f} MB, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
