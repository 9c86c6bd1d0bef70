"""Load on the served web service: search requests/second and latency with a large archive,
and issuing with 20 concurrent clients (every number checked unique and gap-free).

    .venv/bin/python benchmarks/serve_load.py [--n 100000] [--seconds 20] [--clients 1,8]
        [--issuers 20] [--issues 5] [--workers 1,2]

A temporary instance gets one unit, a clerk and an API token; the search index gets ``--n``
letters from the search benchmark's generator (``benchmarks/search.py``: letters recombined
from the seeds' own text, varied units, numbers, dates, kinds). Then ``saraban serve``
(waitress) starts on a loopback port and is loaded over HTTP with keep-alive connections from
Python threads (``http.client``), for a bounded time:

1. search: ``--clients`` threads (one run per number given: 1, then 8) send
   ``GET /api/v1/search`` for ``--seconds`` seconds,
   cycling through topic words, quoted phrases, reference numbers typed with Arabic digits
   and filtered queries; printed: requests/second and p50/p95 latency, per kind and overall;
2. issuing: ``--issuers`` threads each create a draft and issue it (``POST /api/v1/drafts``,
   ``POST /api/v1/drafts/{id}/issue``: number, DOCX and PDF/A rendering, audit) ``--issues``
   times; printed: issues/second, p50/p95 of one issue, and the check that the numbers are
   unique and run 1..N with no gap (the archive's own ``verify`` too);
3. a long letter's preview (about 40 pages) requested while one client searches: the
   search's p50/p95 during the preview beside the preview's own time and status;
4. five large .docx (about 8 MB of XML each, a few seconds each to read) imported in one
   ``POST /api/v1/imports`` while one client searches: the search's p50/p95 during the
   import beside its p50/p95 just before, and the import's own time.

Each number in ``--workers`` (``saraban serve --workers N``: 1 is waitress, more gunicorn)
runs all three on its own copy of the prepared instance, one after the other.

The load generator and the server share the machine (2 cores here): the figures are what one
small office server does with its own clients on it, not a ceiling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

UNIT = "นค ๐๐๑๙.๓"
SARABAN = Path(sys.executable).with_name("saraban")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prepare_instance(home: Path, n: int, seed: int) -> tuple[str, list[tuple[str, str]]]:
    """A unit, a clerk with a token, and the index filled with ``n`` generated letters.
    Returns the token and the queries (kind, query string)."""
    import random

    from search import PHRASES, TOPICS, Generator  # benchmarks/search.py

    from saraban.archive import open_archive
    from saraban.indexer import open_index
    from saraban.indexer._engine import prepare
    from saraban.service._store import Store

    archive = open_archive(home)
    archive.add_unit(
        UNIT,
        "ศาลากลางจังหวัดหนองคาย",
        address=["ถนนมิตรภาพ นค ๔๓๐๐๐"],
        signer={"name": "นายไพโรจน์ โสภาพร", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
        actor="bench",
    )
    store = Store(archive)
    clerk = store.add_user("bench", secrets.token_urlsafe(16), role="clerk")  # a token signs in
    token, _info = store.create_token(clerk.id, "serve_load")
    store.close()

    index = open_index(home)
    started = time.perf_counter()
    generator = Generator(seed)
    batch = []
    docs = []
    refs = []
    r = random.Random(seed + 1)
    for doc in generator.letters(n):
        batch.append(prepare(doc, index.engine))
        docs.append(doc)
        if len(docs) == 2000 or doc.id == n:
            archive_rows(archive, docs)
            docs = []
        if r.random() < 200 / n:
            refs.append(doc.ref_no)
        if len(batch) == 2000:
            index.add_prepared(batch)
            batch = []
            print(f"  indexed {doc.id:,} / {n:,}", end="\r", file=sys.stderr, flush=True)
    if batch:
        index.add_prepared(batch)
    index.mark_built()
    elapsed = time.perf_counter() - started
    print(f"index and archive rows: {n:,} letters in {elapsed:.0f} s ({n / elapsed:,.0f}/s)")
    index.close()
    archive.close()

    from saraban.thai import to_arabic_digits

    queries = [("topic", f"q={urllib.parse.quote(t)}") for t in TOPICS]
    queries += [("phrase", f"q={urllib.parse.quote(p)}") for p in PHRASES]
    queries += [
        ("reference", f"q={urllib.parse.quote(to_arabic_digits(ref))}") for ref in refs[:50]
    ]
    for year in range(2558, 2569):
        topic = r.choice(TOPICS)
        queries.append(("filtered", f"q={urllib.parse.quote(topic)}&fiscal_year={year}&kind=memo"))
    r.shuffle(queries)
    return token, queries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, port: int, workers: int = 1) -> subprocess.Popen:
    env = {**os.environ, "SARABAN_HOME": str(home)}
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [str(SARABAN), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
        if process.poll() is not None:
            break
    process.kill()
    raise SystemExit("saraban serve did not start:\n" + (home / "serve.log").read_text())


def search_load(
    port: int, token: str, queries: list[tuple[str, str]], clients: int, seconds: float
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        i = offset
        while time.monotonic() < stop_at:
            kind, query = queries[i % len(queries)]
            i += clients
            started = time.perf_counter()
            connection.request("GET", f"/api/v1/search?{query}", headers=headers)
            response = connection.getresponse()
            body = response.read()
            mine.append((kind, time.perf_counter() - started, response.status))
            if response.status != 200:
                print(f"search {query}: {response.status} {body[:200]!r}", file=sys.stderr)
        connection.close()
        with lock:
            results.extend(mine)

    # warm up: the first query opens the index and loads the segmenter's dictionary
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    warm.request("GET", f"/api/v1/search?{queries[0][1]}", headers=headers)
    warm.getresponse().read()
    warm.close()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    ok = [r for r in results if r[2] == 200]
    seconds = [r[1] for r in ok]
    print(
        f"search: {len(results):,} requests in {elapsed:.1f} s with {clients} clients: "
        f"{len(results) / elapsed:,.1f} requests/s; p50 {statistics.median(seconds) * 1000:.0f} "
        f"ms, p95 {percentile(seconds, 95) * 1000:.0f} ms; errors {len(results) - len(ok)}"
    )
    for kind in ("topic", "phrase", "reference", "filtered"):
        times = [r[1] for r in ok if r[0] == kind]
        if times:
            print(
                f"  {kind:<9} {len(times):>6,} requests  "
                f"p50 {statistics.median(times) * 1000:6.0f} ms  "
                f"p95 {percentile(times, 95) * 1000:6.0f} ms"
            )


def _seed_letter() -> dict:
    """Seed 001 (three pages) as a letter document: what the clients issue and import."""
    return json.loads(
        (ROOT / "tests" / "data" / "seeds" / "001_1817bd84ea7a4ec5.letter.json").read_text("utf-8")
    )


def issue_load(port: int, token: str, issuers: int, issues: int) -> list[str]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    letter = _seed_letter()
    letter.update({"ref_no": None, "date": None, "circular": True})
    numbers: list[str] = []
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(issuers)

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        barrier.wait()
        for j in range(issues):
            started = time.perf_counter()
            body = {
                "letter": {**letter, "subject": f"ทดสอบออกเลขพร้อมกัน ผู้ส่ง {k} ฉบับที่ {j}"},
                "unit": UNIT,
            }
            connection.request("POST", "/api/v1/drafts", body=json.dumps(body), headers=headers)
            created = connection.getresponse()
            draft = json.loads(created.read())
            if created.status != 201:
                with lock:
                    failures.append(f"draft: {created.status} {draft}")
                continue
            connection.request(
                "POST", f"/api/v1/drafts/{draft['draft']['id']}/issue", headers=headers
            )
            issued = connection.getresponse()
            answer = json.loads(issued.read())
            elapsed = time.perf_counter() - started
            with lock:
                if issued.status == 201:
                    numbers.append(answer["letter"]["ref_no"])
                    times.append(elapsed)
                else:
                    failures.append(f"issue: {issued.status} {answer}")
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(issuers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print(
        f"issue: {len(numbers)} letters by {issuers} concurrent clients in {elapsed:.1f} s: "
        f"{len(numbers) / elapsed:.2f} issues/s; one issue (draft + issue) p50 "
        f"{statistics.median(times):.2f} s, p95 {percentile(times, 95):.2f} s; "
        f"failures {len(failures)}"
    )
    for failure in failures[:5]:
        print(f"  {failure}")
    unique = len(set(numbers)) == len(numbers)
    distinct = len(set(numbers))
    print(f"  numbers unique: {'yes' if unique else 'NO'} ({distinct} distinct of {len(numbers)})")
    return numbers


def preview_stall(port: int, token: str, queries: list[tuple[str, str]]) -> None:
    """Searches by one client while a long letter's preview renders."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    letter = _seed_letter()
    paragraph = " ".join(text for text in letter["body"] if isinstance(text, str))
    letter.update({"ref_no": None, "date": None, "body": [paragraph[:1500]] * 60})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    body = json.dumps({"letter": letter, "unit": UNIT})
    connection.request("POST", "/api/v1/drafts", body=body, headers=headers)
    draft = json.loads(connection.getresponse().read())["draft"]["id"]
    outcome: dict[str, Any] = {}

    def preview() -> None:
        own = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.perf_counter()
        own.request("GET", f"/api/v1/drafts/{draft}/preview", headers=headers)
        answer = own.getresponse()
        data = answer.read()
        outcome.update(status=answer.status, seconds=time.perf_counter() - started, size=len(data))
        own.close()

    connection.close()
    thread = threading.Thread(target=preview)
    thread.start()
    times = _searches_until(port, token, queries, lambda: not thread.is_alive())
    thread.join()
    if times:
        print(
            f"preview of a long letter: {outcome['status']} in {outcome['seconds']:.1f} s "
            f"({outcome['size']:,} bytes); meanwhile {len(times)} searches, "
            f"p50 {statistics.median(times) * 1000:.0f} ms, "
            f"p95 {percentile(times, 95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
        )


def _large_docx(n: int) -> bytes:
    """A .docx of 3,000 paragraphs of a seed's text (about 8 MB of XML), numbered ``n``."""
    import io

    from docx import Document

    letter = _seed_letter()
    paragraph = " ".join(text for text in letter["body"] if isinstance(text, str))[:800]
    document = Document()
    for line in (f"ที่ นค ๐๐๑๗.๒/ว {n}", f"เรื่อง ทดสอบนำเข้าไฟล์ใหญ่ ฉบับที่ {n}", "เรียน นายอำเภอ"):
        document.add_paragraph(line)
    for _ in range(3000):
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _searches_until(port: int, token: str, queries: list[tuple[str, str]], done: Any) -> list:
    """One client's searches, one after another, until ``done()``: each one's seconds."""
    headers = {"Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    times: list[float] = []
    k = 0
    while not done():
        _kind, query = queries[k % len(queries)]
        k += 1
        started = time.perf_counter()
        connection.request("GET", f"/api/v1/search?{query}", headers=headers)
        connection.getresponse().read()
        times.append(time.perf_counter() - started)
    connection.close()
    return times


def import_stall(port: int, token: str, queries: list[tuple[str, str]]) -> None:
    """Searches by one client while five large .docx are imported in one request."""
    boundary = secrets.token_hex(16)
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="large{n}.docx"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + _large_docx(n)
            + b"\r\n"
            for n in range(5)
        )
        + f"--{boundary}--\r\n".encode()
    )
    quiet_until = time.perf_counter() + 5
    quiet = _searches_until(port, token, queries, lambda: time.perf_counter() > quiet_until)
    outcome: dict[str, Any] = {}

    def upload() -> None:
        own = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.perf_counter()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        own.request("POST", "/api/v1/imports", body=body, headers=headers)
        answer = own.getresponse()
        results = json.loads(answer.read()).get("results", [])
        outcome.update(
            status=answer.status,
            seconds=time.perf_counter() - started,
            kept=sum(bool(r.get("ok")) for r in results),
        )
        own.close()

    thread = threading.Thread(target=upload)
    thread.start()
    during = _searches_until(port, token, queries, lambda: not thread.is_alive())
    thread.join()
    print(
        f"import of 5 large .docx: {outcome['status']} in {outcome['seconds']:.1f} s "
        f"({outcome['kept']} kept); meanwhile {len(during)} searches, p50 "
        f"{statistics.median(during) * 1000:.0f} ms, p95 {percentile(during, 95) * 1000:.0f} ms, "
        f"max {max(during) * 1000:.0f} ms (before it: p50 {statistics.median(quiet) * 1000:.0f} "
        f"ms, p95 {percentile(quiet, 95) * 1000:.0f} ms)"
    )


def archive_rows(archive: Any, docs: list[Any]) -> None:
    """The generated letters as imported letters of the archive (status ``stored``, one
    shared original file), so that every search hit names a letter the service can link
    to by its public id, as in a real instance. Rows go in by the thousand, without the
    importer's parsing, audit events or index updates (the index gets the same letters
    above): this sets up a large archive in seconds, it measures nothing."""
    from sqlalchemy import insert

    from saraban.archive._models import STORED, Letter, StoredFile, new_public_id

    original = "หนังสือนำเข้าสำหรับวัดความเร็ว / a benchmark's imported letter\n".encode()
    now = dt.datetime.now(dt.UTC)
    with archive._write() as s:
        sha = archive.files.put(original)
        if s.get(StoredFile, sha) is None:
            s.add(
                StoredFile(sha256=sha, size=len(original), media_type="text/plain", created_at=now)
            )
            s.flush()
        s.execute(
            insert(Letter),
            [
                {
                    "id": d.id,
                    "public_id": new_public_id(),
                    "status": STORED,
                    "ref_no": d.ref_no,
                    "date": d.date,
                    "subject": d.subject,
                    "sender": d.sender,
                    "addressee": d.addressee,
                    "secrecy": d.secrecy,
                    "original_sha256": sha,
                    "original_name": f"letter-{d.id}.txt",
                    "created_at": now,
                    "created_by": "bench",
                }
                for d in docs
            ],
        )


def check_numbers(home: Path, expected: int) -> None:
    from saraban.archive import open_archive
    from saraban.thai import be_year

    archive = open_archive(home)
    try:
        serials = archive.serials(UNIT, year=be_year(dt.date.today().year), circular=True)
        gap_free = serials == list(range(1, expected + 1))
        print(f"  register series ว: 1..{len(serials)}, gap-free: {'yes' if gap_free else 'NO'}")
        problems = archive.verify()
        print(f"  archive verify: {'clean' if not problems else problems[:5]}")
    finally:
        archive.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="letters in the search index")
    parser.add_argument("--seconds", type=float, default=20, help="length of the search load")
    parser.add_argument(
        "--clients",
        default="1,8",
        help="concurrent search clients, one load run per number (default 1,8)",
    )
    parser.add_argument("--issuers", type=int, default=20, help="concurrent issuing clients")
    parser.add_argument("--issues", type=int, default=5, help="letters each issuing client issues")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers", default="1,2", help="serve processes, one run per number (default 1,2)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="saraban-serve-load-") as folder:
        prepared = Path(folder) / "prepared"
        token, queries = prepare_instance(prepared, args.n, args.seed)
        for workers in (int(w) for w in args.workers.split(",")):
            home = Path(folder) / f"home-{workers}"
            shutil.copytree(prepared, home)
            port = free_port()
            server = start_server(home, port, workers)
            time.sleep(10)  # every process up, its render process warm
            try:
                threads = os.environ.get("SARABAN_THREADS", "8")
                kind = "waitress" if workers == 1 else f"gunicorn, {workers} processes"
                print(f"\nserving {home} on 127.0.0.1:{port} ({kind}, {threads} threads each)")
                for clients in (int(c) for c in args.clients.split(",")):
                    search_load(port, token, queries, clients, args.seconds)
                numbers = issue_load(port, token, args.issuers, args.issues)
                preview_stall(port, token, queries)
                import_stall(port, token, queries)
            finally:
                server.terminate()
                server.wait(timeout=60)
            check_numbers(home, len(numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
