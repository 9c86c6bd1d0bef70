"""Circulars benchmark: one circular to every district of the country (878, from geothai),
on SQLite. Prints the time of each step; asserts nothing. Targets (issue 15): sending
(deliveries and e-mails queued) < 10 s; the tracking page and ``tracking --json`` < 200 ms;
consolidating 878 replies < 5 s.

Run by hand: .venv/bin/python benchmarks/circulars.py [--districts N] [--real-replies R]
[--scanned-replies S] [--formats xlsx,csv] [--keep DIR] (--keep leaves the instance in DIR,
for profiling). S districts (at most 5) reply with a one-page scan of their signed letter,
read by OCR in the reading processes (the time is the whole reply, as the district waits).

Setup: the address book is seeded from geothai and given e-mail addresses by CSV (timed
too, not a target). R replies go through the whole reply path (form checked, filled DOCX
kept as a letter, numbered in the incoming register, linked); the rest of the form data is
written straight into the deliveries, since consolidation reads only that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import make_letter  # noqa: E402
from sqlalchemy import update  # noqa: E402

from saraban.archive import mail, open_archive  # noqa: E402
from saraban.archive._circulars import Delivery  # noqa: E402
from saraban.settings import Settings  # noqa: E402
from saraban.usecases import consolidating, recipients, sending  # noqa: E402

UNIT = "นค ๐๐๑๙.๓"
# The floors beside the command: an interpreter that imports what the quick read needs
# (sqlite3, json), and one that imports SQLAlchemy's ORM (what opening the archive costs).
FLOORS = ("import sqlite3, json", "import sqlalchemy.orm")


def _timed(label: str, func, *args, **kwargs):
    """Run and print wall time, this process's CPU time and the load average: the machine
    is shared, so the wall time alone says little."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{label:<58} {elapsed * 1000:9.1f} ms (CPU {used * 1000:.0f} ms, "
        f"load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return result, elapsed


def _form(n: int) -> dict:
    return {
        "province": "จังหวัด",
        "district": f"อำเภอ {n}",
        "subdistrict": "ตำบล",
        "village": f"บ้าน {n}",
        "centre_name": f"ศูนย์ {n}",
        "advisers": [{"name": f"ที่ปรึกษา {i}", "kind": "ส่วนราชการ"} for i in range(n % 5)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=878)
    parser.add_argument("--real-replies", type=int, default=20)
    parser.add_argument(
        "--scanned-replies",
        type=int,
        default=2,
        help="districts that reply with a one-page scan of their signed letter (OCR)",
    )
    parser.add_argument(
        "--formats",
        default=",".join(consolidating.FORMATS),
        help="which consolidated files to write (the PDF alone takes minutes of CPU)",
    )
    parser.add_argument("--keep", type=Path, help="make the instance here and keep it")
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    if args.keep and args.keep.exists():
        parser.error(f"--keep {args.keep}: already there")
    import geothai

    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        home = args.keep or Path(folder) / "home"
        archive = open_archive(home)
        archive.add_unit(UNIT, "ศาลากลางจังหวัดหนองคาย", actor="bench")
        provinces = [p.code for p in geothai.provinces() if p.code != recipients.BANGKOK]

        def seed() -> int:
            added = 0
            for code in provinces:
                added += len(recipients.seed_province(archive, code, actor="bench").added)
                if added >= args.districts:
                    break
            return added

        added, _ = _timed("seed the districts from geothai (setup)", seed)
        book = recipients.listing(archive, recipients.ALL_DISTRICTS)[: args.districts]
        rows = ["name,email"] + [f"{r.name},d{r.code}@example.go.th" for r in book]
        _timed(
            f"CSV import of {len(book)} e-mail addresses (setup)",
            recipients.import_csv,
            archive,
            "\n".join(rows).encode(),
            actor="bench",
        )
        names = [r.name for r in book]
        letter = archive.issue(make_letter("ขอให้รายงานข้อมูลศูนย์"), UNIT, actor="bench")
        settings = Settings.from_mapping({"SARABAN_HOME": str(home)})
        sent, send_time = _timed(
            f"send to {len(names)} districts (deliveries + e-mails queued)",
            sending.send,
            archive,
            settings,
            letter.id,
            names,
            clearance=None,
            due=dt.date.today() + dt.timedelta(days=30),
            form="centre_report",
        )
        print(f"  e-mails queued: {mail.pending_count(archive)}")
        tokens = [sent.links[d.id].rsplit("/", 1)[1] for d in sent.deliveries]

        real = min(args.real_replies, len(tokens))
        start = time.perf_counter()
        for n, token in enumerate(tokens[:real]):
            sending.acknowledge(archive, token, str(n), "ธุรการ")
            sending.reply(archive, token, data=_form(n))
        each = (time.perf_counter() - start) / max(real, 1)
        print(
            f"{'one acknowledge + form reply, whole path (mean of ' + str(real) + ')':<58} "
            f"{each * 1000:9.1f} ms"
        )
        scanned = min(args.scanned_replies, len(tokens) - real, 5)
        if scanned:
            import scancorpus

            for n, token in enumerate(tokens[real : real + scanned]):
                stem = scancorpus.seed_stems()[n]  # a seed letter each: never one letter twice
                page = scancorpus.scan_page(scancorpus.render_pages(stem)[0], stem, 0)
                scan = scancorpus.write_scan_pdf([page], Path(folder) / f"scan{n}.pdf")
                _timed(
                    f"a reply by a one-page scan, read by OCR (reply {n + 1})",
                    sending.reply,
                    archive,
                    token,
                    upload=("หนังสือตอบ.pdf", scan.read_bytes()),
                )
            real += scanned
        now = dt.datetime.now(dt.UTC)
        with archive._write() as s:
            for n, delivery in enumerate(sent.deliveries[real:], start=real):
                s.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id)
                    .values(replied_at=now, opened_at=now, reply_data=_form(n))
                )

        _timed(
            "tracking (use case) + JSON",
            lambda: json.dumps(
                sending.tracking(archive, letter.id, clearance=None).as_dict(), ensure_ascii=False
            ),
        )
        env = {**os.environ, "SARABAN_HOME": str(home)}
        saraban = Path(sys.executable).with_name("saraban")
        runs = [
            ("saraban tracking --json (whole process)", [saraban, "tracking", letter.id, "--json"]),
            *((f"  floor: python -c '{floor}'", [sys.executable, "-c", floor]) for floor in FLOORS),
        ]
        for label, command in runs * 3:
            start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(list(map(str, command)), env=env, capture_output=True, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            print(
                f"{label:<58} {(time.perf_counter() - start) * 1000:9.1f} ms (CPU "
                f"{used * 1000:.0f} ms, load {os.getloadavg()[0]:.1f})"
            )
        from saraban.service import close_app, create_app

        app = create_app({"SARABAN_HOME": str(home), "TESTING": True})
        try:
            store = app.extensions["saraban_store"]
            user = store.add_user("bench", "correct horse battery", role="clerk")
            client = app.test_client()
            with client.session_transaction() as session:
                session["sid"] = store.start_session(user.id, lifetime=dt.timedelta(hours=1))
            page = f"/letters/{letter.public_id}"
            client.get(page)  # warm: templates compiled, imports done
            # as `saraban serve` does once started: what the process holds for life is out
            # of the cycle collector's reach (a full pass over it took 0.5 s of one request)
            from saraban.service._cli import settle

            settle()
            # The page shows the counts of all and one page of rows (of all, or of those who
            # have not replied, ...); the last page of all is the far end of the list.
            for query in ("", "?show=waiting", "?page=9") * 3:
                response, _t = _timed(
                    f"tracking page GET {page}{query} ({len(names)} recipients)",
                    client.get,
                    page + query,
                )
                assert response.status_code == 200, response.status_code
        finally:
            close_app(app)

        # The cycle collector's full pass over what this process made so far (the app, the
        # replies) took 0.4-0.5 s and fell into the next step's time: it runs here instead.
        gc.collect()
        found, _t = _timed(
            f"consolidate {len(names)} replies (read and merge)",
            consolidating.consolidate,
            archive,
            letter.id,
            clearance=None,
        )
        for fmt in formats:
            data, _t = _timed(f"  ... and write {fmt}", consolidating.write, found, fmt)
            print(f"      {len(data):,} bytes")
        if "pdf" in formats:
            _timed(
                "  ... PDF in a process of its own (the web's download)",
                consolidating.write_apart,
                found,
                "pdf",
            )
        archive.close()
    print(f"load average after: {os.getloadavg()}")
    print(f"send target < 10 s: {send_time:.2f} s")


if __name__ == "__main__":
    main()
