"""Content-addressed file storage under ``<home>/files``.

A file is stored once, at ``files/ab/cd/abcd...`` named by the SHA-256 of its bytes, so its
name is its checksum: :meth:`FileStore.check` re-reads it and compares. Writing goes to a
temporary name in the same folder, is flushed to disk, then renamed into place, so a crash
leaves either the whole file or a temporary one (named after the writing process, which the
next start removes once that process is gone), never a torn file under a real name.
Stored files are made read-only, for their owner only (0400, in folders of 0700); the
archive never rewrites or deletes them.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from saraban.archive._private import FILE_MODE, STORED_FILE_MODE, private_folder

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
# .SHA.PID.THREAD.tmp: one writer each (two threads storing the same bytes at once
# truncated and renamed each other's file: a 500); .SHA.PID.tmp from before
_TMP_RE = re.compile(r"\.(?P<sha>[0-9a-f]{64})\.(?P<pid>[0-9]+)(?:\.[0-9]+)?\.tmp")
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    """The folder of stored files; every method takes or returns a SHA-256 in hex."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not _SHA256_RE.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 in lower-case hex: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        sha256 = sha256_bytes(data)
        target = self.path(sha256)
        if target.exists() and self.check(sha256) is None:
            return sha256
        private_folder(target.parent)
        tmp = target.parent / f".{sha256}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.chmod(STORED_FILE_MODE)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        return sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def check(self, sha256: str) -> str | None:
        """None if the file is there with the right checksum, else what is wrong with it."""
        path = self.path(sha256)
        if not path.is_file():
            return f"ไม่พบไฟล์ / file missing: {path}"
        actual = sha256_file(path)
        if actual != sha256:
            return f"ไฟล์ถูกแก้ไข / file changed: {path} has SHA-256 {actual}"
        return None

    def all_hashes(self) -> Iterator[str]:
        """Every stored file's name (its expected SHA-256); temporary files are skipped."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/*")):
            if _SHA256_RE.fullmatch(path.name):
                yield path.name

    def remove_stale_temporaries(self, writer_alive: Callable[[int], bool]) -> list[Path]:
        """Delete temporary files whose writing process has ended (a crash mid-write)."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for path in self.root.glob("*/*/.*.tmp"):
            m = _TMP_RE.fullmatch(path.name)
            if m and not writer_alive(int(m["pid"])):
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed
