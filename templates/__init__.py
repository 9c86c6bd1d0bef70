"""Letter rendering: one layout description, two outputs (DOCX and PDF).

>>> from saraban.templates import render_docx, render_pdf
>>> pdf = render_pdf(letter)            # bytes of an A4 PDF
>>> docx = render_docx(letter)          # bytes of a .docx

Both validate the letter document first (:func:`saraban.letter.check`), so bad input fails
with :class:`saraban.errors.InvalidLetter` naming every field at fault, never a corrupt file.
Both print every digit in the office's kind (``SARABAN_LETTER_DIGITS``, Thai by default).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from saraban import settings
from saraban.digits import office_digits
from saraban.errors import BadRequest, SarabanError
from saraban.letter import check
from saraban.templates._layout import Layout, layout_letter

__all__ = [
    "EmblemError",
    "RenderError",
    "layout_letter",
    "render_docx",
    "render_errors",
    "render_pdf",
]

PLACEHOLDER_EMBLEM = Path(__file__).parent / "assets" / "garuda-placeholder.png"
_EMBLEM_TYPES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class RenderError(SarabanError):
    """The letter could not be rendered (a fault of the renderer, not of the input)."""


logger = logging.getLogger("saraban.templates")

_DETAIL_CHARS = 300


@contextlib.contextmanager
def render_errors(what: str, fmt: str = "PDF") -> Iterator[None]:
    """Turn any failure of a renderer into a :class:`RenderError` (status 500).

    WeasyPrint raises ``FatalURLFetchingError``, which derives from ``BaseException`` and so
    passes every ``except Exception``: nothing but our own errors, an interrupt or an exit
    leaves this block as anything else.
    """
    try:
        yield
    except (SarabanError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        logger.exception("rendering %s failed", what)
        detail = f"{type(exc).__name__}: {exc}"
        if len(detail) > _DETAIL_CHARS:
            detail = detail[:_DETAIL_CHARS] + "…"
        raise RenderError(
            f"พิมพ์เป็น {fmt} ไม่สำเร็จ / could not render {what} to {fmt} ({detail})"
        ) from exc


class EmblemError(BadRequest):
    pass


def emblem_path() -> Path:
    """The Garuda image: SARABAN_GARUDA_IMAGE (PNG or JPEG) or the marked placeholder."""
    path = settings.get_path("SARABAN_GARUDA_IMAGE")
    if path is None:
        return PLACEHOLDER_EMBLEM
    try:
        head = path.read_bytes()[:8]
    except OSError as exc:
        raise EmblemError(
            f"SARABAN_GARUDA_IMAGE: อ่านไฟล์ตราครุฑไม่ได้ / cannot read the emblem {path}: "
            f"{exc.strerror}"
        ) from exc
    if not any(head.startswith(magic) for magic in _EMBLEM_TYPES):
        raise EmblemError(
            f"SARABAN_GARUDA_IMAGE: ตราครุฑต้องเป็นไฟล์ PNG หรือ JPEG / the emblem {path} "
            "must be a PNG or JPEG image"
        )
    return path.resolve()


def _checked_layout(letter: object) -> Layout:
    return layout_letter(check(letter), digits=office_digits())


def render_docx(letter: object) -> bytes:
    """The letter as a .docx (python-docx), in the official layout of its kind."""
    layout, emblem = _checked_layout(letter), emblem_path()
    with render_errors("the letter", "DOCX"):
        from saraban.templates._docx import render_layout_docx

        return render_layout_docx(layout, emblem)


def render_pdf(letter: object, *, pdfa: bool = False) -> bytes:
    """The letter as an A4 PDF.

    ``pdfa``: a PDF/A-3b file that carries the letter document as the embedded file
    ``letter.json``, so the file alone holds its data (archived copies use this).
    """
    doc = check(letter)
    attachments = None
    if pdfa:
        data = json.dumps(doc, ensure_ascii=False, indent=2).encode()
        attachments = [("letter.json", data, "The letter document (saraban format 1)")]
    layout, emblem = layout_letter(doc, digits=office_digits()), emblem_path()
    with render_errors("the letter"):
        from saraban.templates._pdf import render_layout_pdf

        return render_layout_pdf(
            layout,
            emblem,
            attachments=attachments,
            pdf_variant="pdf/a-3b" if pdfa else None,
        )
