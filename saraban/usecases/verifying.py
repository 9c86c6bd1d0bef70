"""A file checked against the archive for the public verification page, in a process of
its own, within a time and a memory limit.

Anyone may upload a PDF there, with no account. A few kilobytes of hostile PDF kept pyHanko
busy for as long as one liked in a request thread: a form-field tree whose fields share a
child (its work doubles with each level; 3.4 KB ran past a minute), a maze of same-named
certificates (every chain tried), hundreds of appended revisions (compared pairwise). A
serving process has a few threads; a few such uploads took them all. Here the check runs in
a checking process (one per serving process, from ``multiprocessing``'s fork server: a clean
process, never a copy of the server's threads), at most :data:`CHECK_SECONDS`, its address
space bounded by :data:`CHECK_MEMORY_BYTES`; a slower check is killed (the process is
replaced) and the visitor reads why, in Thai.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from saraban.archive import Archive, FileCheck
from saraban.errors import SarabanError
from saraban.pools import TaskStopped, TaskTooSlow, TimedPool

logger = logging.getLogger("saraban.service.verifying")
CHECK_SECONDS = 20  # a real signed letter is checked in well under a second
CHECK_MEMORY_BYTES = 2 * 1024**3  # the checking process's address space


class CheckTooSlow(SarabanError):
    status = 503

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"ตรวจสอบไฟล์นี้ไม่เสร็จภายใน {seconds} วินาที จึงหยุดตรวจ ไฟล์ที่สารบรรณลงนามตรวจได้"
            "ในไม่กี่วินาที โปรดตรวจว่าเป็นไฟล์ที่ได้รับมาจริง / the check took longer than "
            f"{seconds} s and was stopped: a file this archive signed is checked in seconds"
        )


class CheckFailed(SarabanError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "ระบบตรวจสอบไฟล์หยุดทำงานกะทันหัน (ไฟล์อาจใช้หน่วยความจำมากเกินกำหนด) ลองอีกครั้ง / "
            "the checking process stopped (the file may need more memory than allowed): try again"
        )


def _checking_process(memory_limit: int) -> None:
    """In the checking process, before anything is checked: its memory bounded, and
    pyHanko's account of each signature it cannot trust (a traceback a file, for anyone's
    upload) kept out of the server's log; the answer says why."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@functools.cache
def _archive(home: str, url: str) -> Archive:
    """The archive as the checking process reads it: opened once, never repaired here."""
    from saraban.archive import open_archive

    return open_archive(Path(home), url, repair=False)


def _check(home: str, url: str, data: bytes, token: str | None) -> tuple[str, Any]:
    """In the checking process: ("checked", FileCheck), or the error as plain values."""
    from saraban.archive import check_file

    try:
        return "checked", check_file(_archive(home, url), data, token=token)
    except SarabanError as exc:
        return "error", (exc.message, exc.status)


def _warm(home: str, url: str) -> None:
    """Imports pyHanko and opens the archive before the first upload (seconds), so that the
    limit is the file's own time."""
    import pyhanko.sign.validation  # noqa: F401

    _archive(home, url)


class Checker:
    """The checking process of one serving process, started on the first upload."""

    def __init__(
        self,
        archive: Archive,
        *,
        seconds: int = CHECK_SECONDS,
        memory_bytes: int = CHECK_MEMORY_BYTES,
    ) -> None:
        self._where = (str(archive.home), archive.url)
        self.seconds = seconds
        self._pool = TimedPool(
            warm=_warm,
            warm_args=self._where,
            initializer=_checking_process,
            initargs=(memory_bytes,),
        )

    def check(self, data: bytes, token: str | None = None) -> FileCheck:
        """:func:`saraban.archive.check_file` of ``data`` in the checking process."""
        try:
            kind, value = self._pool.run(self.seconds, _check, *self._where, data, token)
        except TaskTooSlow:
            logger.warning(
                "a file check took longer than %s s: its process is stopped", self.seconds
            )
            raise CheckTooSlow(self.seconds) from None
        except TaskStopped:
            logger.warning("a file check's process died: it is replaced")
            raise CheckFailed() from None
        if kind == "error":
            message, status = value
            raise SarabanError(message, status=status)
        return value

    def close(self) -> None:
        self._pool.close()
