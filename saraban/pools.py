"""Worker processes: work run in a process of its own, and a pool stopped at once.

``ProcessPoolExecutor.shutdown`` waits for the task each process is running, and a process
that ends waits at its exit for every task still queued: a folder of scans (OCR takes
seconds a page) or a preview past its time limit would hold it for minutes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from saraban.errors import SarabanError

_T = TypeVar("_T")
# Files made apart at once by one process (each may take a core and a gigabyte): the rest wait.
_apart = threading.BoundedSemaphore(2)


class RenderStopped(SarabanError):
    status = 500

    def __init__(self) -> None:
        super().__init__(
            "การจัดทำไฟล์หยุดกลางคัน ลองใหม่อีกครั้ง / the process making the file stopped: try again"
        )


def run_apart(function: Callable[..., _T], *args: object) -> _T:
    """``function(*args)`` in a process of its own (forkserver: a clean one, never a copy
    of the server's threads), at most two at once in this process: WeasyPrint is pure
    Python, and a long table rendered in a thread of the serving process would hold the
    interpreter's lock for seconds, slowing every other request. The process ends with the
    result; if it dies, :class:`RenderStopped` says so."""
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    with _apart, ProcessPoolExecutor(1, mp_context=get_context("forkserver")) as pool:
        try:
            return pool.submit(_uncollected, function, *args).result()
        except BrokenProcessPool:
            raise RenderStopped() from None


def _uncollected(function: Callable[..., _T], *args: object) -> _T:
    """``function(*args)`` with the cycle collector off for good: the process ends with the
    result (``os._exit``, nothing freed), so collecting the garbage a render leaves only
    delays the answer (0.8 s of a 58-page table's 10 s)."""
    gc.disable()
    return function(*args)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what waits, kill what runs, and wait for the pool's own thread to end: a
    pool still closing its pipes when the process exits races the exit's wake-up of every
    pool (Python 3.11 takes no lock for it), and the error it raises leaves the other
    pools' threads unwoken, the process running."""
    # A running task cannot be cancelled: its process is killed (the public kill_workers
    # comes with Python 3.14; before it, the pool's own table of processes).
    kill = getattr(pool, "kill_workers", None)
    if callable(kill):
        kill()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
