"""Progress of long work (imports, reindex), polled by the page that started it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from saraban.errors import NotFound
from saraban.service import _web

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
