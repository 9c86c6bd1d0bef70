"""Letter rendering: one layout description, two outputs (DOCX and PDF).

>>> from saraban.templates import render_docx, render_pdf
>>> pdf = render_pdf(letter)            # bytes of an A4 PDF
>>> docx = render_docx(letter)          # bytes of a .docx

Both take a checked letter (:class:`saraban.letter.CheckedLetter`) as it is, and validate
anything else first (:func:`saraban.letter.check`), so bad input fails with
:class:`saraban.errors.InvalidLetter` naming every field at fault, never a corrupt file.
Both print every digit in one kind, ``digits`` (the setting SARABAN_LETTER_DIGITS: Thai by
default).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from saraban.digits import check_digit_style
from saraban.errors import BadRequest, SarabanError
from saraban.letter import checked
from saraban.templates._layout import Layout, layout_letter

__all__ = [
    "EmblemError",
    "RenderError",
    "layout_letter",
    "render_docx",
    "render_errors",
    "render_pdf",
    "set_docx_font",
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


def emblem_path(path: Path | None = None) -> Path:
    """The Garuda image: ``path`` (the setting SARABAN_GARUDA_IMAGE), checked to be a PNG
    or JPEG, or without one the marked placeholder."""
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


def set_docx_font(rpr: Any, size_pt: float, *, bold: bool = False) -> None:
    """Put a python-docx run's properties (``w:rPr``) in the official face, TH SarabunPSK,
    in every font slot (complex script included), at ``size_pt`` for the Thai too: what
    Word needs to show Thai right. Letters and the register tables share it."""
    from saraban.templates._docx import _font_slots

    _font_slots(rpr, size_pt, bold=bold)


def _checked_layout(letter: object, digits: str) -> Layout:
    return layout_letter(checked(letter), digits=check_digit_style(digits))


def render_docx(letter: object, *, emblem: Path | None = None, digits: str = "thai") -> bytes:
    """The letter as a .docx (python-docx), in the official layout of its kind; ``emblem``:
    the Garuda image file (default: the placeholder); ``digits``: ``thai`` or ``arabic``."""
    layout, image = _checked_layout(letter, digits), emblem_path(emblem)
    with render_errors("the letter", "DOCX"):
        from saraban.templates._docx import render_layout_docx

        return render_layout_docx(layout, image)


def render_pdf(
    letter: object, *, pdfa: bool = False, emblem: Path | None = None, digits: str = "thai"
) -> bytes:
    """The letter as an A4 PDF; ``emblem``: the Garuda image file (default: the
    placeholder); ``digits``: ``thai`` or ``arabic``.

    ``pdfa``: a PDF/A-3b file that carries the letter document as the embedded file
    ``letter.json``, so the file alone holds its data (archived copies use this).
    """
    doc = checked(letter)
    attachments = None
    if pdfa:
        data = json.dumps(doc, ensure_ascii=False, indent=2).encode()
        attachments = [("letter.json", data, "The letter document (saraban format 1)")]
    layout = layout_letter(doc, digits=check_digit_style(digits))
    image = emblem_path(emblem)
    with render_errors("the letter"):
        from saraban.templates._pdf import render_layout_pdf

        return render_layout_pdf(
            layout,
            image,
            attachments=attachments,
            pdf_variant="pdf/a-3b" if pdfa else None,
        )
