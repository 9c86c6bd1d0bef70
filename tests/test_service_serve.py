"""Serving with several processes: ``saraban serve --workers N`` under gunicorn, what the
processes share (the progress of jobs, one leader for crash repair), and previews rendered
in processes of their own within a time limit."""

from __future__ import annotations

import copy
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_service_support import UNIT, add_unit, add_users, draft_form, login, make_app

from saraban.archive import TemplatesRenderer, worker_token
from saraban.errors import InvalidLetter
from saraban.service._jobs import Job, Jobs
from saraban.usecases.previews import Previews, PreviewTooSlow

ROOT = Path(__file__).resolve().parents[1]
SARABAN = Path(sys.executable).with_name("saraban")
EXAMPLE = json.loads((ROOT / "examples" / "circular.letter.json").read_text("utf-8"))


def _long_letter() -> dict:
    """About 40 pages: seconds of layout, within the letter limits."""
    letter = copy.deepcopy(EXAMPLE)
    paragraph = " ".join(text for text in EXAMPLE["body"] if isinstance(text, str))
    letter["body"] = [paragraph * 2] * 90
    return letter


# ---- jobs seen from every process ----------------------------------------------------------


def test_a_started_service_keeps_its_objects_out_of_the_cycle_collectors_passes():
    """``start_background`` ends with :func:`settle`: what the process holds by then is
    frozen, and garbage made before it is freed first."""
    import gc
    import weakref

    from saraban.service._cli import settle

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    enabled = gc.isenabled()
    gc.disable()  # no pass of its own before settle's
    kept = [Cycle() for _ in range(100)]
    lost = weakref.ref(Cycle())  # garbage in a cycle: only a full pass frees it
    try:
        assert lost() is not None
        settle()
        assert lost() is None  # freed, not frozen
        assert gc.get_freeze_count() >= len(kept)
        assert not any(o is kept[0] for o in gc.get_objects())  # out of the collector's lists
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _start_once_apart(folder: str, ready, done, answers) -> None:  # noqa: ANN001
    """A serving process asking for a clerk's file at the same moment as the others."""
    jobs = Jobs(Path(folder))
    looked = jobs.running

    def slow_look(*args: object) -> Job | None:
        found = looked(*args)  # type: ignore[arg-type]
        time.sleep(0.3)  # the others ask meanwhile
        return found

    jobs.running = slow_look  # type: ignore[method-assign]
    # The job's thread waits on an event of this process: a thread still waiting on the
    # shared one when its process ends can leave that event's lock held, and the other
    # processes waiting on it hang for good.
    release = threading.Event()
    ready.wait()
    job, started = jobs.start_once("table-file", 7, "file", lambda job: release.wait(60))
    answers.put((job.id, started))
    done.wait(60)  # the process (and its job) lives until every answer is in
    release.set()


def test_processes_sharing_the_jobs_folder_start_one_job_at_the_same_moment(tmp_path):
    """``saraban serve --workers N``: a clerk's requests landing on several processes at
    once start one file, not one in each process."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready, done, answers = context.Barrier(4), context.Event(), context.Queue()
    folder = str(tmp_path / "jobs")
    Jobs(Path(folder))  # the folder, made once
    processes = [
        context.Process(target=_start_once_apart, args=(folder, ready, done, answers))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    try:
        got = [answers.get(timeout=60) for _ in processes]
    finally:
        done.set()
        for process in processes:
            process.join(30)
            if process.is_alive():  # never left behind to hold the test run's exit
                process.kill()
                process.join(5)
    assert sum(started for _id, started in got) == 1
    assert len({job_id for job_id, _started in got}) == 1
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]


def test_a_job_started_in_one_process_is_polled_from_another(tmp_path):
    here, there = Jobs(tmp_path / "jobs"), Jobs(tmp_path / "jobs")  # two processes' views
    go, started = threading.Event(), threading.Event()

    def work(job: Job) -> dict:
        job.advance(1, 3, "กำลังอ่าน")
        started.set()
        go.wait(30)
        return {"stored": 3}

    job = here.start("import-store", 7, "เก็บหนังสือที่นำเข้า", work)
    started.wait(30)
    seen = there.get(job.id)
    assert seen is not None
    assert (seen.kind, seen.owner_id, seen.state, seen.total) == ("import-store", 7, "running", 3)
    assert there.running("import-store").id == job.id
    go.set()
    deadline = time.monotonic() + 30
    while there.get(job.id).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    done = there.get(job.id).as_dict()
    assert (done["state"], done["result"]) == ("done", {"stored": 3})
    assert there.running("import-store") is None
    assert oct((tmp_path / "jobs").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "jobs" / f"{job.id}.json").stat().st_mode & 0o777) == "0o600"


def test_a_job_whose_process_died_reads_as_failed(tmp_path):
    jobs = Jobs(tmp_path / "jobs")
    host = worker_token().split(":")[0]
    dead = Job("A" * 16, "reindex", 1, "สร้างดัชนีค้นหาใหม่", worker=f"{host}:999999999:1")
    (tmp_path / "jobs" / f"{dead.id}.json").write_text(json.dumps(dead.record(), default=str))
    seen = jobs.get(dead.id)
    assert seen.state == "failed" and "เริ่มใหม่" in seen.error
    assert jobs.running("reindex") is None  # a new reindex may start


@pytest.mark.parametrize("job_id", ["../../etc/passwd", "A" * 15, "", "A" * 15 + "/"])
def test_a_job_id_never_names_a_file_outside_the_folder(tmp_path, job_id):
    assert Jobs(tmp_path / "jobs").get(job_id) is None


# ---- one leader ----------------------------------------------------------------------------


def test_one_process_of_an_instance_leads_and_another_takes_over_when_it_ends(tmp_path):
    from saraban.service import close_app
    from saraban.service._cli import take_lead

    first, second = make_app(tmp_path / "home"), make_app(tmp_path / "home")
    try:
        assert take_lead(first) is True
        assert take_lead(second) is False
        close_app(first)  # the leader's process ends: its lock goes with it
        assert take_lead(second) is True
    finally:
        close_app(second)


# ---- previews in render processes ----------------------------------------------------------


@pytest.mark.pdf
def test_a_preview_renders_in_a_process_of_its_own(tmp_path):
    previews = Previews(120, size=1)
    try:
        pdf = previews.render(TemplatesRenderer(), copy.deepcopy(EXAMPLE))
        assert pdf.startswith(b"%PDF")
        broken = copy.deepcopy(EXAMPLE)
        broken["subject"] = ""
        with pytest.raises(InvalidLetter) as invalid:
            previews.render(TemplatesRenderer(), broken)
        assert [p.field for p in invalid.value.problems] == ["subject"]
    finally:
        previews.close()


def test_closing_the_previews_leaves_no_pool_closing_behind():
    """``saraban serve`` closes its previews on SIGTERM, then exits: a pool still closing
    its pipes then races the exit's wake-up of every pool (Python 3.11 reads the pipe
    without its lock), whose "bad file descriptor" left another pool's thread unwoken and
    the server running. So the pool's thread has ended when ``close`` returns."""
    previews = Previews(120, size=1)
    previews.start()
    pool = previews._pool._executor
    assert pool is not None
    manager = pool._executor_manager_thread  # the thread the exit would wake
    previews.close()
    assert manager is not None and not manager.is_alive()


@pytest.mark.pdf
def test_a_slow_preview_is_stopped_and_does_not_hold_up_the_next(tmp_path):
    previews = Previews(1, size=1)
    try:
        previews.render(TemplatesRenderer(), copy.deepcopy(EXAMPLE))  # started and warm
        started = time.monotonic()
        with pytest.raises(PreviewTooSlow) as slow:
            previews.render(TemplatesRenderer(), _long_letter())
        assert time.monotonic() - started < 10  # stopped at the limit, not when done
        assert "1 วินาที" in slow.value.message and slow.value.status == 503
        previews.seconds = 120
        assert previews.render(TemplatesRenderer(), copy.deepcopy(EXAMPLE)).startswith(b"%PDF")
    finally:
        previews.close()


@pytest.mark.pdf
def test_the_preview_frame_says_in_thai_when_a_letter_is_too_slow(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home", SARABAN_PREVIEW_SECONDS="1")
    add_unit(app)
    add_users(app)
    try:
        client = app.test_client()
        csrf = login(client, "clerk")
        response = client.post(
            "/letters/new", data={"csrf_token": csrf, "kind": "external", "unit": UNIT}
        )
        draft_id = response.headers["Location"].rsplit("/", 1)[1]
        client.post(f"/drafts/{draft_id}", data=draft_form(csrf))
        store = app.extensions["saraban_store"]
        draft = store.draft(store.draft_id_for(draft_id))
        doc = {**draft.doc, "body": _long_letter()["body"]}
        store.update_draft(draft.id, doc, unit=draft.unit, date_text=None)
        app.extensions["saraban_previews"].start()
        app.extensions["saraban_previews"].render(TemplatesRenderer(), copy.deepcopy(EXAMPLE))
        response = client.get(f"/drafts/{draft_id}/preview.pdf")
        assert response.status_code == 503
        assert response.mimetype == "text/html"
        assert "เกินกว่าจะแสดงตัวอย่างได้ภายใน 1 วินาที" in response.get_data(as_text=True)
    finally:
        close_app(app)


# ---- saraban serve --workers ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _serve(home: Path, *args: str, **settings: str) -> subprocess.Popen[str]:
    """``saraban serve`` in a process of its own on the embedded SQLite archive."""
    env = {**os.environ, "SARABAN_HOME": str(home), **settings}
    env.pop("SARABAN_DATABASE_URL", None)
    return subprocess.Popen(
        [str(SARABAN), "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_serve_with_two_workers_runs_two_processes_that_answer(tmp_path):
    home, port = tmp_path / "home", _free_port()
    process = _serve(home, "--workers", "2", "--port", str(port))
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0]  # why it ended, in the failure
                raise AssertionError(f"saraban serve ended ({process.returncode}): {output}")
            try:
                status, page = _get(port, "/login")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200 and "csrf-token" in page
        while len(_children(process.pid)) < 2:  # the second may still be starting
            assert time.monotonic() < deadline
            time.sleep(0.2)
        workers = _children(process.pid)
        assert len(workers) == 2
        for _ in range(10):  # new connections, taken by either process
            assert _get(port, "/login")[0] == 200
        assert (home / "jobs").is_dir() and (home / ".serve-leader.lock").exists()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert "serving on" in output
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = _children(todo.pop())
        found += children
        todo += children
    return found


def _gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_sigterm_stops_serve_and_every_process_it_started(tmp_path):
    """systemd and docker stop a service with SIGTERM: the reading and preview processes
    (and their forkserver) end with it, rather than living on with nobody to serve."""
    from test_service_support import SEEDS

    from saraban.archive import open_archive

    home, port = tmp_path / "home", _free_port()
    with open_archive(home) as archive:
        archive.add_unit(UNIT, "สำนักงานจังหวัด", actor="tester")
    (home / "inbox").mkdir()
    (home / "inbox" / "letter.txt").write_bytes((SEEDS / "000_e6238ec4d0848a5c.txt").read_bytes())
    process = _serve(home, "--port", str(port), SARABAN_INBOX_WATCH="1")
    try:
        deadline = time.monotonic() + 180
        while not (home / "inbox" / "done" / "letter.txt").exists():  # the reader pool ran
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        started = _descendants(process.pid)
        assert len(started) >= 3  # preview and reading processes, their forkservers
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in started):
        assert time.monotonic() < deadline, [p for p in started if not _gone(p)]
        time.sleep(0.2)


def test_serve_refuses_a_silly_number_of_workers(tmp_path, monkeypatch, capsys):
    from saraban.cli import main

    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "home"))
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


@pytest.mark.ocr
def test_sigterm_stops_serve_at_once_while_the_inbox_reads_a_folder_of_scans(tmp_path):
    """A folder of scans is minutes of OCR; a serving process that ended only after all of
    them had been read was killed by systemd instead (90 s), or left Ctrl-C hanging. The
    reading is stopped, and the files stay in the folder to be read at the next start."""
    import scancorpus

    from saraban.archive import open_archive

    home, port = tmp_path / "home", _free_port()
    with open_archive(home) as archive:
        archive.add_unit(UNIT, "สำนักงานจังหวัด", actor="tester")
    stem = scancorpus.seed_stems()[0]
    page = scancorpus.scan_page(scancorpus.render_pages(stem)[0], stem, 0)
    scan = scancorpus.write_scan_pdf([page], tmp_path / "scan.pdf")
    (home / "inbox").mkdir()
    names = [f"scan-{n:02d}.pdf" for n in range(16)]  # about a minute of two cores' OCR
    for name in names:
        shutil.copy(scan, home / "inbox" / name)
    process = _serve(home, "--port", str(port), SARABAN_INBOX_WATCH="1")
    try:
        deadline = time.monotonic() + 180
        while not any("tesseract" in _command(pid) for pid in _descendants(process.pid)):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        started = _descendants(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        output = process.communicate(timeout=120)[0]
    took = time.monotonic() - stopping
    assert process.returncode == 0, output
    assert took < 20, f"SIGTERM took {took:.0f} s: the queued scans were read first"
    assert "Traceback" not in output, output
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in started):
        assert time.monotonic() < deadline, [p for p in started if not _gone(p)]
        time.sleep(0.2)
    assert sorted(p.name for p in (home / "inbox").glob("*.pdf")) == names  # none lost
    assert not list((home / "inbox").glob("failed/*.pdf"))


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
