"""Worker processes: work run in a process of its own, and a pool stopped at once.

``ProcessPoolExecutor.shutdown`` waits for the task each process is running, and a process
that ends waits at its exit for every task still queued: a folder of scans (OCR takes
seconds a page) or a preview past its time limit would hold it for minutes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
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


START_SECONDS = 120  # a new pool's processes importing what they need: not a task's time


class TaskTooSlow(Exception):
    """A task of a :class:`TimedPool` ran past its time: its process was stopped."""


class TaskStopped(Exception):
    """A :class:`TimedPool`'s process died (or its pool was replaced) under a task."""


class TimedPool:
    """Processes of their own for tasks that must not run for ever in a request thread
    (a long letter's preview, a hostile PDF checked): made on first use from
    ``multiprocessing``'s fork server (a clean process, never a copy of the server's
    threads), each warmed by ``warm(*warm_args)`` before any task counts its time. A task
    waits for its answer at most the seconds given; a slower one has its pool stopped
    (:func:`stop_pool`), and the next task gets a new one."""

    def __init__(
        self,
        size: int = 1,
        *,
        warm: Callable[..., object] | None = None,
        warm_args: tuple[object, ...] = (),
        initializer: Callable[..., object] | None = None,
        initargs: tuple[object, ...] = (),
        preload: tuple[str, ...] = (),
    ) -> None:
        self._size = size
        self._warm, self._warm_args = warm, warm_args
        self._initializer, self._initargs = initializer, initargs
        self._preload = list(preload)
        self._executor: ProcessPoolExecutor | None = None
        self._ready: list[Future[object]] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the processes now, not on the first task."""
        self._current()

    def run(self, seconds: float, function: Callable[..., _T], *args: object) -> _T:
        """``function(*args)`` in a process of the pool, waited for at most ``seconds``."""
        executor = self._current()
        try:
            for ready in list(self._ready):
                ready.result(timeout=START_SECONDS)
            future = executor.submit(function, *args)
        except (BrokenProcessPool, RuntimeError, FutureTimeout):  # broken, or replaced
            self._replace(executor)
            raise TaskStopped() from None
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            self._replace(executor)
            raise TaskTooSlow() from None
        except BrokenProcessPool:
            self._replace(executor)
            raise TaskStopped() from None

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            stop_pool(executor)

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = get_context("forkserver")
                if self._preload:
                    context.set_forkserver_preload(self._preload)
                self._executor = ProcessPoolExecutor(
                    self._size,
                    mp_context=context,
                    initializer=self._initializer,
                    initargs=self._initargs,  # type: ignore[arg-type]  # any initializer
                )
                warm = self._warm
                self._ready = (
                    [self._executor.submit(warm, *self._warm_args) for _ in range(self._size)]
                    if warm is not None
                    else []
                )
            return self._executor

    def _replace(self, executor: ProcessPoolExecutor) -> None:
        """Stop ``executor`` (a task in it may run on for minutes otherwise)."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        stop_pool(executor)
