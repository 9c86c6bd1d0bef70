"""Long work in a background thread, with progress a page can poll.

An import of hundreds of files or a reindex takes minutes; a request must not. The view
starts a :class:`Job`, answers at once, and the page polls ``/jobs/<id>`` for ``done`` of
``total``. A job runs in the process that started it; with a folder (the service's
``<home>/jobs``) its progress is also written there, at most twice a second, so that any
process of ``saraban serve --workers N`` answers the poll. A job whose process died reads as
failed. Files of finished jobs beyond the newest ``_KEEP`` are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saraban.archive import private_folder, worker_alive, worker_token
from saraban.errors import SarabanError
from saraban.folders import file_lock

logger = logging.getLogger("saraban.service.jobs")
_KEEP = 200  # finished jobs remembered per process, and job files kept
_SAVE_EVERY = 0.5  # seconds between two writes of a running job's progress
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # secrets.token_urlsafe(12)
_STARTING = ".starting.lock"  # held by start_once across the processes sharing the folder


@dataclass(frozen=True)
class MadeFile:
    """A file a job made, to download (a long register's PDF). With a folder, its content
    is kept there beside the job's record, so that any process serving the folder hands it
    out, and goes with the record."""

    content: bytes
    media_type: str
    name: str
    fallback: str

    def described(self) -> dict[str, Any]:
        return {
            "file": {"media_type": self.media_type, "name": self.name, "fallback": self.fallback}
        }


@dataclass
class Job:
    id: str
    kind: str
    owner_id: int
    title: str
    total: int = 0
    done: int = 0
    state: str = "running"  # running, done, failed
    message: str = ""
    error: str | None = None
    result: Any = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    worker: str = ""  # the process running it (archive.worker_token)
    on_change: Callable[[Job], None] | None = field(default=None, repr=False, compare=False)
    _saved_at: float = field(default=0.0, repr=False, compare=False)

    def advance(self, done: int | None = None, total: int | None = None, message: str = "") -> None:
        if total is not None:
            self.total = total
        self.done = self.done + 1 if done is None else done
        if message:
            self.message = message
        now = time.monotonic()
        if self.on_change is not None and now - self._saved_at >= _SAVE_EVERY:
            self._saved_at = now
            self.on_change(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "total": self.total,
            "done": self.done,
            "state": self.state,
            "message": self.message,
            "error": self.error,
            "percent": round(100 * self.done / self.total) if self.total else None,
            "result": self._result(),
        }

    def _result(self) -> Any:
        if isinstance(self.result, MadeFile):
            return self.result.described()
        return self.result if isinstance(self.result, list | dict | str) else None

    def record(self) -> dict[str, Any]:
        """What the job's file holds: its progress and who may see it."""
        return {
            **self.as_dict(),
            "owner_id": self.owner_id,
            "worker": self.worker,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Job:
        job = cls(
            str(record["id"]),
            str(record["kind"]),
            int(record["owner_id"]),
            str(record["title"]),
            total=int(record["total"]),
            done=int(record["done"]),
            state=str(record["state"]),
            message=str(record["message"]),
            error=record["error"],
            result=record["result"],
            started_at=dt.datetime.fromisoformat(record["started_at"]),
            worker=str(record["worker"]),
        )
        if record["finished_at"]:
            job.finished_at = dt.datetime.fromisoformat(record["finished_at"])
        now = dt.datetime.now(dt.UTC)
        if job.state == "running" and not worker_alive(job.worker, job.started_at, now):
            job.state = "failed"
            job.error = (
                "งานหยุดไปเพราะบริการเริ่มใหม่ สั่งใหม่อีกครั้ง / "
                "the service restarted before the job finished: start it again"
            )
        return job


class Jobs:
    """The jobs of this process; with ``folder``, those of every process sharing it too."""

    def __init__(self, folder: Path | None = None) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._starting = threading.Lock()  # start_once's check and start, as one step
        self._folder = private_folder(folder) if folder is not None else None

    def start(self, kind: str, owner_id: int, title: str, work: Callable[[Job], Any]) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, owner_id, title, worker=worker_token())
        if self._folder is not None:
            job.on_change = self._save
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state != "running"]
            for old in finished[: max(0, len(finished) - _KEEP)]:
                del self._jobs[old.id]
        self._save(job)
        self._prune()
        thread = threading.Thread(target=self._run, args=(job, work), daemon=True)
        thread.name = f"saraban-{kind}-{job.id}"
        thread.start()
        return job

    def start_once(
        self, kind: str, owner_id: int, title: str, work: Callable[[Job], Any]
    ) -> tuple[Job, bool]:
        """:meth:`start`, unless ``owner_id`` has a job of ``kind`` running: then that one,
        and False. Requests at the same moment start one job, in this process and in every
        process that shares the folder (the check and the start hold its lock)."""
        shared = file_lock(self._folder / _STARTING) if self._folder else nullcontext()
        with self._starting, shared:
            running = self.running(kind, owner_id)
            if running is not None:
                return running, False
            return self.start(kind, owner_id, title, work), True

    def _path(self, job_id: str, suffix: str = ".json") -> Path | None:
        if self._folder is None or not _JOB_ID.fullmatch(job_id):
            return None
        return self._folder / f"{job_id}{suffix}"

    def _write(self, path: Path, data: bytes) -> None:
        part = path.with_name(f".{path.name}.{threading.get_ident()}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(part, path)  # a reader sees the old content or the new, never half

    def _save(self, job: Job) -> None:
        path = self._path(job.id)
        if path is None:
            return
        try:
            self._write(path, json.dumps(job.record(), ensure_ascii=False, default=str).encode())
        except OSError:  # progress is a courtesy: the work goes on
            logger.exception("could not write the progress of job %s", job.id)

    def _load(self, job_id: str) -> Job | None:
        path = self._path(job_id)
        if path is None:
            return None
        try:
            return Job.from_record(json.loads(path.read_bytes()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _prune(self) -> None:
        if self._folder is None:
            return
        try:
            files = sorted(self._folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
            for path in files[: max(0, len(files) - _KEEP)]:
                path.unlink(missing_ok=True)
                path.with_suffix(".file").unlink(missing_ok=True)
        except OSError:
            logger.exception("could not prune old job files")

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        try:
            result = work(job)
            file = self._path(job.id, ".file") if isinstance(result, MadeFile) else None
            if file is not None:
                self._write(file, result.content)
                result = result.described()  # the content is on disk, not in memory
            job.result = result
            job.state = "done"
        except SarabanError as exc:
            job.error = exc.message
            job.state = "failed"
        except Exception as exc:  # noqa: BLE001 - a background thread must report, not die
            logger.exception("job %s (%s) failed", job.id, job.kind)
            job.error = f"เกิดข้อผิดพลาดภายใน / internal error: {exc!r}"
            job.state = "failed"
        finally:
            job.finished_at = dt.datetime.now(dt.UTC)
            self._save(job)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            found = self._jobs.get(job_id)
        return found if found is not None else self._load(job_id)

    def running(self, kind: str, owner_id: int | None = None) -> Job | None:
        """A job of ``kind`` (started by ``owner_id``, if given) still running in this
        process or in another that shares the folder."""

        def wanted(job: Job | None) -> bool:
            return (
                job is not None
                and job.kind == kind
                and job.state == "running"
                and owner_id in (None, job.owner_id)
            )

        with self._lock:
            here = next((j for j in self._jobs.values() if wanted(j)), None)
        if here is not None or self._folder is None:
            return here
        for path in self._folder.glob("*.json"):
            job = self._load(path.stem)
            if wanted(job):
                return job
        return None

    def made_file(self, job_id: str) -> MadeFile | None:
        """The file a finished job made, from this process or the shared folder."""
        job = self.get(job_id)
        if job is None or job.state != "done":
            return None
        if isinstance(job.result, MadeFile):
            return job.result
        described = job.result.get("file") if isinstance(job.result, dict) else None
        path = self._path(job_id, ".file")
        if not isinstance(described, dict) or path is None:
            return None
        try:
            content = path.read_bytes()
        except OSError:  # pruned
            return None
        return MadeFile(
            content,
            str(described["media_type"]),
            str(described["name"]),
            str(described["fallback"]),
        )

    def latest(self, kind: str) -> Job | None:
        """The newest job of ``kind`` started in any process that shares the folder (or
        in this one)."""
        with self._lock:
            here = [j for j in self._jobs.values() if j.kind == kind]
        newest = max(here, key=lambda j: j.started_at, default=None)
        if self._folder is None:
            return newest
        for path in sorted(self._folder.glob("*.json"), key=_mtime, reverse=True):
            job = self._load(path.stem)
            if job is not None and job.kind == kind:
                if newest is None or job.started_at > newest.started_at:
                    newest = job
                break
        return newest


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed by another process's pruning meanwhile
        return 0.0
