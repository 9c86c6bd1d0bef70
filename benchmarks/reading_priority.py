"""A clerk's scan read while the inbox takes in a folder of scans: how long the clerk waits.

    .venv/bin/python benchmarks/reading_priority.py [--inbox 12] [--rounds 2]

A clerk's one-page scan (seed 000's first page, scanned as ``tests/scancorpus.py`` scans:
150 dpi, turned, noisy) is read by ``intake.read_in_worker``, as the web upload and a
district's reply read it:

1. alone (the reading processes warm);
2. while ``consume_inbox`` reads ``--inbox`` one-page scans dropped in the inbox folder (the
   clerk's file is sent two seconds after the inbox started);
3. while as many districts' scanned replies are read in their lane (``intake.OUTSIDE``);
4. both again with every reading in one pool, as before each lane had processes of its own
   (measured in the same run: the baseline).

Printed: the clerk's wait in each case, the inbox's time, the load average. OCR takes about
7 s of a core a page on this machine, so the inbox's folder is minutes of work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import scancorpus  # noqa: E402

from saraban.archive import open_archive  # noqa: E402
from saraban.usecases import intake  # noqa: E402

UNIT = "นค ๐๐๑๙.๓"


def _scans(folder: Path, n: int) -> tuple[Path, list[Path]]:
    """The clerk's scan and ``n`` others (the seeds' first pages in turn, each its own file:
    the inbox reads every file, repeats are refused only when kept)."""
    pages = {stem: scancorpus.render_pages(stem)[0] for stem in scancorpus.seed_stems()}
    stems = list(pages)
    clerk = scancorpus.write_scan_pdf(
        [scancorpus.scan_page(pages[stems[0]], stems[0], 0)], folder / "clerk.pdf"
    )
    inbox = []
    for i in range(n):
        stem = stems[(i + 1) % len(stems)]
        page = scancorpus.scan_page(pages[stem], stem, i + 1)
        inbox.append(scancorpus.write_scan_pdf([page], folder / f"inbox-{i:03d}.pdf"))
    return clerk, inbox


def _clerk_wait(clerk: Path) -> float:
    start = time.perf_counter()
    intake.read_in_worker(clerk, name=clerk.name).result()
    return time.perf_counter() - start


def _beside_inbox(archive, home: Path, clerk: Path, scans: list[Path], label: str) -> None:
    inbox = home / f"inbox-{label}"
    inbox.mkdir()
    for scan in scans:
        shutil.copy(scan, inbox / scan.name)
    took: list[float] = []

    def consume() -> None:
        start = time.perf_counter()
        intake.consume_inbox(archive, inbox, register=UNIT)
        took.append(time.perf_counter() - start)

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(2)  # the inbox's files are all in its queue, its first pages being read
    wait = _clerk_wait(clerk)
    thread.join()
    print(
        f"{label:<34} clerk's scan {wait:6.1f} s; inbox of {len(scans)} scans {took[0]:6.1f} s "
        f"(load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def _beside_replies(clerk: Path, scans: list[Path], label: str) -> None:
    """The same, the scans being districts' replies read in their own lane at once."""
    start = time.perf_counter()
    replies = [intake.read_in_worker(s, name=s.name, lane=intake.OUTSIDE) for s in scans]
    time.sleep(2)
    wait = _clerk_wait(clerk)
    for reply in replies:
        reply.result()
    print(
        f"{label:<34} clerk's scan {wait:6.1f} s; {len(scans)} replies "
        f"{time.perf_counter() - start:6.1f} s (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=int, default=12, help="one-page scans in the inbox")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        clerk, scans = _scans(home, args.inbox)
        archive = open_archive(home / "home")
        archive.add_unit(UNIT, "ศาลากลางจังหวัดหนองคาย", actor="bench")
        _clerk_wait(clerk)  # the processes started, Tesseract's data read once
        intake.reader(intake.INBOX).submit(os.getpid).result()
        print(f"{'alone':<34} clerk's scan {_clerk_wait(clerk):6.1f} s", flush=True)
        separate = intake.reader
        for n in range(args.rounds):
            _beside_inbox(archive, home, clerk, scans, f"inbox apart, nice 10 ({n + 1})")
            _beside_replies(clerk, scans, f"replies apart, nice 5 ({n + 1})")
            # before: one pool read everything, the others' files queued before the clerk's
            intake.reader = lambda lane=intake.CLERK: separate()  # type: ignore[assignment]
            try:
                _beside_inbox(archive, home, clerk, scans, f"one pool, as before ({n + 1})")
                _beside_replies(clerk, scans, f"replies, one pool ({n + 1})")
            finally:
                intake.reader = separate
        archive.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
