"""Draft previews rendered in processes of their own, each within a time limit.

Laying out a long letter takes seconds of pure Python under the GIL; in a request thread it
stalled every other request of the process (a search waited for a 60-page preview). Here
the PDF is made in a small pool of render processes (``POOL_SIZE``), started from
``multiprocessing``'s fork server (a clean process with WeasyPrint already imported, so a
new render process is ready in milliseconds and never inherits the server's threads). The
request thread only waits, at most ``SARABAN_PREVIEW_SECONDS``; a slower render is killed
(its pool is replaced) and the clerk reads why, in Thai.

Only the real renderer (:class:`saraban.archive.TemplatesRenderer`) goes to the pool; a
renderer a test puts in its place renders where it is called.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from saraban.archive import TemplatesRenderer
from saraban.errors import InvalidLetter, SarabanError
from saraban.pools import TaskStopped, TaskTooSlow, TimedPool

logger = logging.getLogger("saraban.service.previews")
POOL_SIZE = 1  # per serving process: --workers N gives N render processes
_PRELOAD = ("saraban.templates", "saraban.usecases.previews")


class PreviewTooSlow(SarabanError):
    status = 503

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"หนังสือนี้ยาวหรือซับซ้อนเกินกว่าจะแสดงตัวอย่างได้ภายใน {seconds} วินาที "
            "ลองแบ่งเนื้อความเป็นหลายฉบับ หรือตัดส่วนที่ยาวมากออก แล้วแสดงตัวอย่างอีกครั้ง / "
            f"the preview took longer than {seconds} s and was stopped: shorten the letter "
            "and try again"
        )


class PreviewFailed(SarabanError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "ระบบแสดงตัวอย่างหยุดทำงานกะทันหัน ลองแสดงตัวอย่างอีกครั้ง / "
            "the preview process stopped: try again"
        )


def _render(doc: dict[str, Any], emblem: Path | None, digits: str) -> tuple[str, Any]:
    """In a render process: ("pdf", bytes), or the error as plain values (an exception's
    own pickling would lose what its constructor builds)."""
    try:
        return "pdf", TemplatesRenderer(emblem, digits).render_pdf(doc)
    except InvalidLetter as exc:
        return "invalid", exc.problems
    except SarabanError as exc:
        return "error", (exc.message, exc.status)


def _answer(outcome: tuple[str, Any]) -> bytes:
    kind, value = outcome
    if kind == "invalid":
        raise InvalidLetter(value)
    if kind == "error":
        message, status = value
        raise SarabanError(message, status=status)
    return bytes(value)


def _warm(emblem: Path | None, digits: str) -> None:
    """In a render process: one short letter rendered, so that the stylesheets, the fonts
    and the line breaker's dictionary are loaded before the first preview (the first
    render of a process takes seconds; the limit is for the letter's own time)."""
    from saraban.letter import new_letter

    letter = new_letter(
        "external",
        subject="ทดสอบ",
        salutation="เรียน",
        addressee="ผู้ว่าราชการจังหวัด",
        body=["ทดสอบการแสดงตัวอย่างหนังสือ"],
        closing="จึงเรียนมาเพื่อโปรดทราบ",
        complimentary_close="ขอแสดงความนับถือ",
        signer={"name": "นายทดสอบ ระบบ", "position": ["ผู้อำนวยการ"]},
        owner_unit=["สำนักงานจังหวัด"],
        date="2025-01-01",
    )
    _render(letter, emblem, digits)


class Previews:
    """The render pool of one serving process, made on the first preview."""

    def __init__(
        self,
        seconds: int,
        *,
        emblem: Path | None = None,
        digits: str = "thai",
        size: int = POOL_SIZE,
    ) -> None:
        self.seconds = seconds
        # warmed as the letters will be rendered
        self._pool = TimedPool(size, warm=_warm, warm_args=(emblem, digits), preload=_PRELOAD)

    def start(self) -> None:
        """Start the render processes now (``saraban serve`` does), not on the first preview."""
        self._pool.start()

    def render(self, renderer: Any, doc: dict[str, Any]) -> bytes:
        if type(renderer) is not TemplatesRenderer:
            return bytes(renderer.render_pdf(doc))
        try:
            outcome = self._pool.run(self.seconds, _render, doc, renderer.emblem, renderer.digits)
        except TaskTooSlow:
            logger.warning(
                "a preview took longer than %s s: its render process is stopped", self.seconds
            )
            raise PreviewTooSlow(self.seconds) from None
        except TaskStopped:
            logger.warning("a preview's render process died: the pool is replaced")
            raise PreviewFailed() from None
        return _answer(outcome)

    def close(self) -> None:
        self._pool.close()
