"""Progress of long work (imports, reindex, long tables' files), polled by the page that
started it, and the files it made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect

from saraban.errors import Conflict, NotFound
from saraban.pools import run_apart
from saraban.service import _web
from saraban.service._jobs import Job, MadeFile
from saraban.thai import to_thai_digits

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<job_id>")
@_web.login_required
def progress(job_id: str) -> Any:
    """``{id, title, total, done, percent, state, message, error}``; only for the user who
    started the job (or an administrator); anyone else gets 404."""
    user = _web.user()
    job = _web.jobs().get(job_id)
    if job is None or (job.owner_id != user.id and not user.is_admin):
        raise NotFound(f"ไม่พบงานรายการ {job_id} / no job {job_id}")
    return _web.json_ok(job.as_dict())


@bp.get("/jobs/<job_id>/file")
@_web.login_required
def made_file(job_id: str) -> Any:
    """The file a background job made (a long register's or merged replies' DOCX/PDF): only
    for the user who started it, whose clearance chose its rows; 409 until it is ready."""
    jobs = _web.jobs()
    job = jobs.get(job_id)
    if job is None or job.owner_id != _web.user().id:
        raise NotFound(f"ไม่พบงานรายการ {job_id} / no job {job_id}")
    made = jobs.made_file(job_id)
    if made is None:
        if job.state == "running":
            raise Conflict("ยังจัดทำไม่เสร็จ กรุณารอสักครู่ / not ready yet: wait a moment")
        raise NotFound(f"ไม่มีไฟล์ของงานรายการ {job_id} / job {job_id} left no file")
    return _web.attachment(made.content, made.media_type, made.name, made.fallback)


TABLE_FILE = "table-file"
BACKGROUND_ROWS = 100  # a DOCX or PDF of more rows than this is made in the background


def _long(fmt: str, rows: int) -> bool:
    return fmt in ("docx", "pdf") and rows > BACKGROUND_ROWS


def table_bytes(make: Callable[..., bytes], args: tuple[Any, ...], *, fmt: str, rows: int) -> bytes:
    """``make(*args)`` while the request waits (the API's files), in a process of its own
    when it is a long table's DOCX or PDF."""
    return run_apart(make, *args) if _long(fmt, rows) else make(*args)


def table_file(
    make: Callable[..., bytes],
    args: tuple[Any, ...],
    *,
    fmt: str,
    rows: int,
    download: tuple[str, str, str],
    shown_at: Callable[[str], str],
) -> Any:
    """A table as a download: ``make(*args)`` gives its bytes, ``download`` is (media type,
    name, ASCII name). A DOCX or PDF of more than :data:`BACKGROUND_ROWS` rows is made in
    the background, in a process of its own (``saraban.pools.run_apart``: the serving
    process's other requests are not slowed by it), one at a time for each user; the
    answer redirects to ``shown_at(job_id)``, a page that shows the progress and then
    downloads it from :func:`made_file`."""
    if not _long(fmt, rows):
        return _web.attachment(make(*args), *download)

    def work(job: Job) -> MadeFile:
        job.advance(0, 1, f"กำลังจัดทำ {fmt.upper()} {to_thai_digits(f'{rows:,}')} แถว")
        made = MadeFile(run_apart(make, *args), *download)
        job.advance(1, 1, "เสร็จแล้ว")
        return made

    title = f"จัดทำไฟล์ {download[1]}"
    job, started = _web.jobs().start_once(TABLE_FILE, _web.user().id, title, work)
    if not started:
        flash(
            "ไฟล์ที่สั่งก่อนหน้ายังจัดทำไม่เสร็จ รอให้เสร็จก่อนจึงสั่งไฟล์ใหม่ / your last file is still "
            "being made: wait for it before asking for another",
            "error",
        )
    return redirect(shown_at(job.id))
