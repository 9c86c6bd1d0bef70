"""Who is working on a pending register row, and whether that process still lives.

A pending row names its worker as ``host:pid:start`` (``start`` is the process start time
from ``/proc``, so a recycled pid is not mistaken for the worker). The next start of the
archive repairs a pending row only when its worker is gone; a worker on another host (a
shared PostgreSQL) is taken as gone once its row is older than :data:`FOREIGN_LEASE`.

``SARABAN_TEST_CRASH_AT`` (tests only, not a setting) names a point of the issue path at
which the process kills itself with SIGKILL, e.g. ``stored`` or ``stored:3`` (the third time
it gets there), to prove that a crash at that point is repaired.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
from functools import cache
from pathlib import Path

FOREIGN_LEASE = dt.timedelta(hours=1)
CRASH_ENV = "SARABAN_TEST_CRASH_AT"
_crash_counts: dict[str, int] = {}


def _start_time(pid: int) -> str | None:
    """The process start time (clock ticks after boot), or None if there is no such live
    process. A zombie counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


@cache
def _host() -> str:
    return socket.gethostname()


def worker_token() -> str:
    """This process as a pending row's worker. Not cached: a forked child is another."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_time(pid) or ''}"


def pid_alive(pid: int) -> bool:
    if Path("/proc").is_dir():
        return _start_time(pid) is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_alive(worker: str | None, since: dt.datetime, now: dt.datetime) -> bool:
    """Whether the process that left a pending row may still be finishing it."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != _host():
        return now - since < FOREIGN_LEASE
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if Path("/proc").is_dir():
        actual = _start_time(pid)
        return actual is not None and (not start or actual in ("", start))
    return pid_alive(pid)


def crashpoint(name: str) -> None:
    """Die here, by SIGKILL, if the test environment asks for it (see the module doc)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
