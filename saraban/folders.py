"""Temporary folders that go with the process that made them, however it ends.

A folder removed by a ``with`` block or a destructor stays behind when its process is
killed (``kill -9``, the out-of-memory killer, a preview past its time limit) or leaves by
``os._exit`` (a process pool's worker): over months of a server's life, temporary files by
the hundred, some holding letters' words. A :class:`LockedFolder` holds a lock (``flock``)
on a file inside it for as long as it is in use: the kernel lets the lock go when the
process ends, however it ends, so the next folder made with the same prefix removes every
folder whose lock nobody holds any longer. The folders are private (0700) and named by
``tempfile``; another user's are never touched. :func:`file_lock` is the same kind of lock
for one step across processes.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LOCK = ".in-use"


class LockedFolder:
    """A new private folder (in the temporary folder, or ``parent``) whose name starts
    with ``prefix``, locked until :meth:`remove`; the abandoned folders of that prefix are
    removed first."""

    def __init__(self, prefix: str, parent: Path | None = None) -> None:
        parent = Path(parent or tempfile.gettempdir())
        remove_abandoned(prefix, parent)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        # Locked before it bears the name the sweep looks for: never seen unlocked.
        self._lock = os.open(self.path / ".new", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        os.rename(self.path / ".new", self.path / _LOCK)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


@contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A :class:`LockedFolder` for a ``with`` block: removed at its end, or, if the process
    is killed inside it, by the next folder made with ``prefix``."""
    folder = LockedFolder(prefix)
    try:
        yield folder.path
    finally:
        folder.remove()


def process_folder(prefix: str) -> Path:
    """A :class:`LockedFolder` kept for the life of this process: removed at a normal exit
    (``atexit``, and multiprocessing's own exit for a pool's worker), or else by the next
    folder made with ``prefix``. A child forked from this process keeps it locked while it
    lives, and leaves it to its parent."""
    from multiprocessing import util

    folder = LockedFolder(prefix)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # a forked child (gunicorn's workers) leaves its parent's be
            folder.remove()

    atexit.register(remove)
    util.Finalize(None, remove, exitpriority=0)  # a pool's worker leaves without atexit
    return folder.path


def remove_abandoned(prefix: str, parent: Path) -> None:
    """Remove the folders of ``prefix`` in ``parent`` (ours, not another user's) whose lock
    nobody holds: the process that made them is gone."""
    for folder in parent.glob(prefix + "*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.geteuid():
                continue
            lock = os.open(folder / _LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, another user's, or still being made
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its process lives
        finally:
            os.close(lock)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on the file ``path`` (made if missing) for a ``with`` block: one
    holder at a time across processes. The lock dies with its process, so a crash never
    leaves it held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
