"""``Archive.verify``: re-check everything the archive promises, and say what is wrong.

Each finding is one sentence, Thai first, naming the letter, number or file at fault. The
checks read the whole archive (every stored file is hashed again), so this is a command to
run now and then, not on every request.
"""

from __future__ import annotations

import collections

from sqlalchemy import func, select

from saraban.archive import _audit
from saraban.archive._core import ArchiveCore, _form_enclosure_files
from saraban.archive._models import (
    CANCELLED,
    INCOMING,
    ISSUED,
    PENDING,
    STORED,
    UNUSED,
    Counter,
    Letter,
    Received,
    Register,
    StoredFile,
    utcnow,
)
from saraban.archive._private import exposed
from saraban.archive._process import worker_alive


def _gaps(serials: list[int], last: int) -> tuple[list[int], list[int]]:
    """(missing numbers of 1..last, numbers given twice or beyond last)."""
    counts = collections.Counter(serials)
    missing = [n for n in range(1, last + 1) if n not in counts]
    extra = sorted(n for n, times in counts.items() if times > 1 or n > last or n < 1)
    return missing, extra


def _ranges(numbers: list[int], limit: int = 20) -> str:
    shown = ", ".join(map(str, numbers[:limit]))
    return shown + (f" … ({len(numbers)} in all)" if len(numbers) > limit else "")


def verify(archive: ArchiveCore) -> list[str]:
    problems: list[str] = []
    now = utcnow()
    with archive._read() as s:
        recorded = {
            sha: size for sha, size in s.execute(select(StoredFile.sha256, StoredFile.size))
        }
        for sha, size in sorted(recorded.items()):
            problem = archive.files.check(sha)
            if problem:
                problems.append(problem)
            elif archive.files.path(sha).stat().st_size != size:
                problems.append(f"ขนาดไฟล์ไม่ตรง / file {sha}: size differs from the record")

        in_progress: set[str] = set()
        rows = s.execute(
            select(
                Letter.id,
                Letter.status,
                Letter.ref_no,
                Letter.docx_sha256,
                Letter.pdf_sha256,
                Letter.original_sha256,
                Letter.reason,
                Letter.worker,
                Letter.created_at,
                Letter.doc,
            )
        ).all()
        for row in rows:
            name = f"letter {row.id} ({row.ref_no or 'no number'})"
            enclosed = _form_enclosure_files(row.doc or {})
            if row.status in (ISSUED, CANCELLED):
                for kind, sha in enclosed:
                    if sha not in recorded:
                        problems.append(
                            f"ไม่มีบันทึกไฟล์แบบฟอร์มที่ส่งมาด้วย / {name}: its enclosed form "
                            f"{kind.upper()} {sha} is not recorded"
                        )
                for kind, sha in (("DOCX", row.docx_sha256), ("PDF", row.pdf_sha256)):
                    if not sha:
                        problems.append(f"หนังสือไม่มีไฟล์ {kind} / {name}: no {kind} file")
                    elif sha not in recorded:
                        problems.append(
                            f"ไม่มีบันทึกไฟล์ {kind} / {name}: its {kind} {sha} is not recorded"
                        )
            if row.status == STORED and (
                not row.original_sha256 or row.original_sha256 not in recorded
            ):
                problems.append(f"ไม่มีไฟล์ต้นฉบับ / {name}: the original file is not recorded")
            if row.status in (CANCELLED, UNUSED) and not (row.reason or "").strip():
                problems.append(f"ไม่มีเหตุผล / {name}: {row.status} without a reason")
            if row.status == PENDING:
                if worker_alive(row.worker, row.created_at, now):
                    in_progress.update(filter(None, (row.docx_sha256, row.pdf_sha256)))
                    in_progress.update(sha for _, sha in enclosed)
                else:
                    problems.append(
                        f"ออกเลขค้างอยู่ สั่ง saraban repair เพื่อทำให้เสร็จ / {name}: pending and "
                        "its process is gone; `saraban repair` renders it again (or records "
                        "the number unused)"
                    )

        for sha in archive.files.all_hashes():
            if sha not in recorded and sha not in in_progress:
                problems.append(
                    f"ไฟล์ไม่มีในฐานข้อมูล / file {archive.files.path(sha)} is in the store but "
                    "not in the database"
                )

        names = dict(s.execute(select(Register.id, Register.name)).all())
        for counter in s.scalars(select(Counter).order_by(Counter.register_id, Counter.year)):
            if counter.series.partition(" ")[0] == INCOMING:  # "incoming", "incoming ลับ", ...
                serials = list(
                    s.scalars(
                        select(Received.serial).where(
                            Received.register_id == counter.register_id,
                            Received.series == counter.series,
                            Received.year == counter.year,
                        )
                    )
                )
            else:
                serials = list(
                    s.scalars(
                        select(Letter.serial).where(
                            Letter.register_id == counter.register_id,
                            Letter.series == counter.series,
                            Letter.year == counter.year,
                        )
                    )
                )
            missing, extra = _gaps(serials, counter.last)
            where = (
                f"register {names.get(counter.register_id)!r}, {counter.series} series, "
                f"year {counter.year}"
            )
            if missing:
                problems.append(f"เลขขาดหาย / {where}: numbers missing: {_ranges(missing)}")
            if extra:
                problems.append(
                    f"เลขซ้ำหรือเกิน / {where}: numbers doubled or beyond the "
                    f"counter ({counter.last}): {_ranges(extra)}"
                )
        orphans = s.scalar(
            select(func.count())
            .select_from(Letter)
            .where(Letter.serial.is_not(None))
            .where(
                ~select(Counter.last)
                .where(
                    Counter.register_id == Letter.register_id,
                    Counter.series == Letter.series,
                    Counter.year == Letter.year,
                )
                .exists()
            )
        )
        if orphans:
            problems.append(f"เลขไม่มีตัวนับ / {orphans} register rows have no counter")

        problems.extend(_audit.verify_chain(s))
    for path, mode in exposed(archive.home):
        problems.append(
            f"ผู้ใช้อื่นเข้าถึงได้ / {path} (mode {mode:04o}) is open to other users of the "
            "machine: `saraban repair` closes it (folders 0700, files 0600)"
        )
    return problems
