"""Stopping a pool of worker processes at once.

``ProcessPoolExecutor.shutdown`` waits for the task each process is running, and a process
that ends waits at its exit for every task still queued: a folder of scans (OCR takes
seconds a page) or a preview past its time limit would hold it for minutes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor


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
