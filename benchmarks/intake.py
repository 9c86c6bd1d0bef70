"""Intake of scanned letters through the served web service: pages OCRed per second on this
machine's cores, and how the service answers pages and searches meanwhile.

    .venv/bin/python benchmarks/intake.py [--letters 100] [--pages 1] [--index 2000]

1. **Letters.** ``--letters`` distinct received letters are made from the seed letters: each
   seed in turn, dated a day earlier each time (so that none repeats another: the intake
   refuses a duplicate), rendered by saraban, and scanned the way ``tests/scancorpus.py``
   scans (150 dpi, turned 1.5 degrees, grey paper, noise, specks) into an image-only PDF of
   its first ``--pages`` pages (0: every page).
2. **Service.** A temporary instance (one unit, a clerk; ``benchmarks/serve_load.py``'s) is
   served by ``saraban serve``. Searches: words of the seeds' subjects (the received letters
   become hits as they are taken in) and serve_load's queries.
3. **Before.** For ``--idle`` seconds one client asks for a page (``/registers``, signed in
   with a session) and a search (``/api/v1/search``) in turn: p50/p95 of each.
4. **Intake.** Every file is uploaded at once to ``POST /api/v1/received`` (each a job, read
   in the service's worker processes); the jobs are polled and the progress printed. The
   same client keeps asking for the page and the search the whole time: their p50/p95
   during the intake are the service's responsiveness under the load.
5. **Where the OCR ran.** Every ``tesseract`` process seen during the run is checked to be
   a child of a worker process, not of the serving process; and the CPU seconds the serving
   process itself spent are printed beside the workers'.

Printed: pages/s and letters/min (wall clock, upload to last job done), the jobs' results
(taken in, repeated, failed), latency before and during, and the machine's load average at
the start and the end: the machine is shared with other work, so say it beside the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

import scancorpus  # noqa: E402
from serve_load import UNIT, free_port, percentile, prepare_instance, start_server  # noqa: E402

PAGE_USER = "pages"


def _redated(letter: dict, n: int) -> dict:
    """The seed letter as sent ``n`` days earlier: another letter to the intake (a duplicate
    is the same sender, number and date). The number stays as the seed has it, since
    a seed's number may hold a year or a running number of its own."""
    letter = dict(letter)
    if letter.get("date"):
        day = dt.date.fromisoformat(letter["date"]) - dt.timedelta(days=n)
        letter["date"] = day.isoformat()
    return letter


def make_scan(stem: str, n: int, pages: int, folder: str) -> tuple[str, int]:
    """(file, pages) of one scanned letter; runs in a worker process."""
    from PIL import Image

    from saraban.templates import render_pdf

    pdf = render_pdf(_redated(scancorpus.seed_letter(stem), n))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "letter.pdf"
        source.write_bytes(pdf)
        last = ["-l", str(pages)] if pages else []
        subprocess.run(
            ["pdftoppm", "-r", str(scancorpus.SCAN_DPI), "-gray", "-png", *last, str(source)]
            + [f"{tmp}/page"],
            check=True,
            capture_output=True,
        )
        import numpy as np

        images = [
            scancorpus.scan_page(np.array(Image.open(p).convert("L")), f"{stem}:{n}", k)
            for k, p in enumerate(sorted(Path(tmp).glob("page-*.png")))
        ]
    path = Path(folder) / f"received-{n:04d}.pdf"
    scancorpus.write_scan_pdf(images, path)
    return str(path), len(images)


class Client:
    """One visitor: a page with a session cookie and a search with the API token."""

    def __init__(self, port: int, token: str, password: str, queries: list[str]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.queries = queries
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = self.opener.open(f"{self.base}/login", timeout=60).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert csrf is not None, "no csrf_token on the login page"
        form = urllib.parse.urlencode(
            {"name": PAGE_USER, "password": password, "csrf_token": csrf.group(1)}
        ).encode()
        self.opener.open(f"{self.base}/login", data=form, timeout=60).read()
        self.samples: dict[str, list[float]] = {"page": [], "search": []}
        self.errors = 0

    def once(self, i: int) -> None:
        started = time.perf_counter()
        try:
            with self.opener.open(f"{self.base}/registers", timeout=120) as response:
                response.read()
                ok = response.status == 200 and "/login" not in response.url
        except OSError:
            ok = False
        self._note("page", started, ok)
        started = time.perf_counter()
        request = urllib.request.Request(
            f"{self.base}/api/v1/search?{self.queries[i % len(self.queries)]}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                ok = response.status == 200
        except OSError as exc:
            ok = False
            if not self.errors:
                print(f"  search failed: {exc}", file=sys.stderr)
        self._note("search", started, ok)

    def _note(self, kind: str, started: float, ok: bool) -> None:
        if ok:
            self.samples[kind].append(time.perf_counter() - started)
        else:
            self.errors += 1

    def run(self, stop: threading.Event, pause: float) -> None:
        i = 0
        while not stop.is_set():
            self.once(i)
            i += 1
            stop.wait(pause)

    def report(self, label: str) -> None:
        for kind, times in self.samples.items():
            if times:
                print(
                    f"  {label} {kind:6}: {len(times):4} requests  p50"
                    f" {statistics.median(times) * 1000:6.0f} ms  p95"
                    f" {percentile(times, 95) * 1000:6.0f} ms  max {max(times) * 1000:6.0f} ms"
                )
        if self.errors:
            print(f"  {label} errors: {self.errors}")
        self.samples = {"page": [], "search": []}
        self.errors = 0


def upload(port: int, token: str, path: Path) -> str:
    """POST the file to /api/v1/received; the job's id."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="register"\r\n\r\n{UNIT}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"'
            "\r\nContent-Type: application/pdf\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(
        "POST",
        "/api/v1/received",
        body=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    if response.status != 202:
        raise SystemExit(f"upload {path.name}: {response.status} {answer}")
    return str(answer["job"]["id"])


def job_state(port: int, token: str, job_id: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(
        "GET", f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
    )
    answer = json.loads(connection.getresponse().read())
    connection.close()
    return answer["job"]


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds) of every process (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / ticks)
    return found


def _descendants(pid: int, table: dict[int, tuple[int, str, float]]) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _, _) in table.items():
            if ppid == parent and child not in out:
                out.add(child)
                todo.append(child)
    return out


class Watcher:
    """Samples the process tree: where each tesseract runs, and the server's CPU time."""

    def __init__(self, server: int) -> None:
        self.server = server
        self.tesseracts: set[int] = set()
        self.in_server: set[int] = set()
        self.cpu: dict[int, tuple[str, float]] = {}

    def sample(self) -> None:
        table = _processes()
        for pid in _descendants(self.server, table) | {self.server}:
            if pid not in table:  # ended meanwhile
                continue
            ppid, name, cpu = table[pid]
            self.cpu[pid] = (name, cpu)
            if name.startswith("tesseract"):
                self.tesseracts.add(pid)
                if ppid == self.server:
                    self.in_server.add(pid)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.sample()
            stop.wait(0.5)


def _load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--pages", type=int, default=1, help="pages of each letter (0: all)")
    parser.add_argument(
        "--index",
        type=int,
        default=0,
        help="generated letters in the archive and its search index besides the intake's"
        " (serve_load.py's)",
    )
    parser.add_argument("--idle", type=float, default=15.0, help="seconds measured before")
    parser.add_argument("--pause", type=float, default=0.5, help="between a client's requests")
    args = parser.parse_args(argv)
    print(f"intake benchmark on {os.cpu_count()} cores (shared with other work); {_load()}")
    with tempfile.TemporaryDirectory(prefix="saraban-intake-bench-") as tmp:
        home, scans = Path(tmp) / "home", Path(tmp) / "scans"
        home.mkdir()
        scans.mkdir()
        token, queries = prepare_instance(home, args.index, 7)
        password = secrets.token_urlsafe(16)
        from saraban.archive import open_archive
        from saraban.service._store import Store

        archive = open_archive(home)
        store = Store(archive)
        store.add_user(PAGE_USER, password, role="clerk")
        store.close()
        archive.close()

        stems = scancorpus.seed_stems()
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2) as pool:
            made = list(
                pool.map(
                    make_scan,
                    [stems[n % len(stems)] for n in range(args.letters)],
                    range(args.letters),
                    [args.pages] * args.letters,
                    [str(scans)] * args.letters,
                )
            )
        pages = sum(p for _, p in made)
        print(
            f"letters: {len(made)} scanned letters, {pages} pages, made in"
            f" {time.perf_counter() - started:.0f} s"
        )

        port = free_port()
        server = start_server(home, port)
        try:
            # words of the seeds' subjects: once taken in, the received letters are hits
            topics = [
                "q=" + urllib.parse.quote(word)
                for stem in stems
                for word in scancorpus.seed_letter(stem)["subject"].split()[:2]
            ]
            client = Client(port, token, password, topics + [q for _, q in queries])
            stop = threading.Event()
            timer = threading.Timer(args.idle, stop.set)
            timer.start()
            client.run(stop, args.pause)
            print(f"before the intake ({_load()}):")
            client.report("idle  ")

            watcher = Watcher(server.pid)
            watcher.sample()
            cpu_before = dict(watcher.cpu)
            stop = threading.Event()
            threads = [
                threading.Thread(target=client.run, args=(stop, args.pause)),
                threading.Thread(target=watcher.run, args=(stop,)),
            ]
            for thread in threads:
                thread.start()
            started = time.perf_counter()
            jobs = [upload(port, token, Path(path)) for path, _ in made]
            print(f"uploaded {len(jobs)} files in {time.perf_counter() - started:.1f} s")
            results: dict[str, dict] = {}
            shown = -1
            while len(results) < len(jobs):
                for job_id in jobs:
                    if job_id not in results:
                        state = job_state(port, token, job_id)
                        if state["state"] in ("done", "failed"):
                            results[job_id] = state
                if len(results) != shown:
                    shown = len(results)
                    wall = time.perf_counter() - started
                    done_pages = sum(
                        p for (_, p), j in zip(made, jobs, strict=True) if j in results
                    )
                    print(
                        f"  {shown}/{len(jobs)} letters taken in, {wall:.0f} s,"
                        f" {done_pages / wall:.2f} pages/s ({_load()})",
                        flush=True,
                    )
                time.sleep(2)
            wall = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join()
            print(
                f"intake: {len(jobs)} letters, {pages} pages in {wall:.0f} s ="
                f" {pages / wall:.2f} pages/s, {60 * len(jobs) / wall:.1f} letters/min"
                f" ({_load()})"
            )
            taken = sum(1 for r in results.values() if (r["result"] or {}).get("received"))
            repeated = sum(1 for r in results.values() if (r["result"] or {}).get("duplicate"))
            failed = [r for r in results.values() if r["state"] == "failed"]
            print(f"  jobs: {taken} taken in, {repeated} refused as repeats, {len(failed)} failed")
            for r in failed[:5]:
                print(f"    failed: {r['error']}")
            print("during the intake:")
            client.report("intake")
            server_cpu = watcher.cpu[server.pid][1] - cpu_before.get(server.pid, ("", 0.0))[1]
            others = sum(
                cpu - cpu_before.get(pid, ("", 0.0))[1]
                for pid, (_, cpu) in watcher.cpu.items()
                if pid != server.pid
            )
            print(
                f"where the OCR ran: {len(watcher.tesseracts)} tesseract processes seen,"
                f" {len(watcher.in_server)} of them children of the serving process;"
                f" CPU seconds: serving process {server_cpu:.0f} s (requests, jobs' threads),"
                f" its worker processes {others:.0f} s (as far as sampled twice a second)"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
