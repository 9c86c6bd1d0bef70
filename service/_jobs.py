"""Long work in a background thread, with progress a page can poll.

An import of hundreds of files or a reindex takes minutes; a request must not. The view
starts a :class:`Job`, answers at once, and the page polls ``/jobs/<id>`` for ``done`` of
``total``. Jobs live in the process that runs them (``saraban serve`` is one process with
threads); a restart forgets the progress but not the work already stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from saraban.errors import SarabanError

logger = logging.getLogger("saraban.service.jobs")
_KEEP = 200  # finished jobs remembered per process


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

    def advance(self, done: int | None = None, total: int | None = None, message: str = "") -> None:
        if total is not None:
            self.total = total
        self.done = self.done + 1 if done is None else done
        if message:
            self.message = message

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
            "result": self.result if isinstance(self.result, list | dict | str) else None,
        }


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, owner_id: int, title: str, work: Callable[[Job], Any]) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, owner_id, title)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state != "running"]
            for old in finished[: max(0, len(finished) - _KEEP)]:
                del self._jobs[old.id]
        thread = threading.Thread(target=self._run, args=(job, work), daemon=True)
        thread.name = f"saraban-{kind}-{job.id}"
        thread.start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.result = work(job)
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

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self, kind: str) -> Job | None:
        with self._lock:
            return next(
                (j for j in self._jobs.values() if j.kind == kind and j.state == "running"), None
            )
