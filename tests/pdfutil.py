"""Helpers for tests that render real PDFs and read them back.

``no_weasyprint_warnings()`` fails the test on any warning or error WeasyPrint logs (a
missing Thai glyph, an unknown CSS property, a resource it could not fetch), so a broken
font setup fails loudly instead of printing boxes. ``pdftotext()`` runs poppler's
``pdftotext`` (installed by ``scripts/setup`` with poppler-utils) on PDF bytes.
``hand_made_pdf()`` writes a PDF of the objects given (hostile files for the limits' tests).
``page_boxes()`` gives each page's words (``pdftotext -bbox``) and images with their boxes,
in points from the top-left corner of the sheet, for layout tests.
"""

from __future__ import annotations

import html
import io
import logging
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Box", "PageBoxes", "hand_made_pdf", "no_weasyprint_warnings", "page_boxes", "pdftotext"]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def no_weasyprint_warnings() -> Iterator[None]:
    """Fail (``AssertionError``) if the ``weasyprint`` logger gets a warning or worse."""
    logger = logging.getLogger("weasyprint")
    handler = _Collect()
    previous_level = logger.level
    if not logger.isEnabledFor(logging.WARNING):
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
    if handler.records:
        messages = "\n".join(
            f"{record.levelname}: {record.getMessage()}" for record in handler.records
        )
        raise AssertionError(f"WeasyPrint logged:\n{messages}")


def pdftotext(pdf: bytes, *flags: str) -> str:
    """The text of ``pdf`` as ``pdftotext FLAGS - -`` extracts it (e.g. ``"-raw"``)."""
    result = subprocess.run(
        ["pdftotext", *flags, "-", "-"], input=pdf, capture_output=True, check=False
    )
    if result.returncode:
        raise AssertionError(f"pdftotext failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode()


@dataclass(frozen=True)
class Box:
    """A word (``text``) or an image (``text`` is empty), in points from the top-left."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str = ""

    def overlaps(self, other: Box, tolerance: float = 0.0) -> bool:
        """Whether the two boxes share an area deeper than ``tolerance`` on both axes."""
        across = min(self.x1, other.x1) - max(self.x0, other.x0)
        down = min(self.y1, other.y1) - max(self.y0, other.y0)
        return across > tolerance and down > tolerance


@dataclass
class PageBoxes:
    width: float
    height: float
    words: list[Box] = field(default_factory=list)
    images: list[Box] = field(default_factory=list)


_PAGE_RE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD_RE = re.compile(
    r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>',
    re.S,
)


def page_boxes(pdf: bytes) -> list[PageBoxes]:
    """Every page's words (as ``pdftotext -bbox`` reads them) and images (where the content
    stream draws them), in points from the top-left corner of the sheet."""
    from pypdf import PdfReader

    pages = []
    for match in _PAGE_RE.finditer(pdftotext(pdf, "-bbox")):
        page = PageBoxes(float(match[1]), float(match[2]))
        for word in _WORD_RE.finditer(match[3]):
            x0, y0, x1, y1 = map(float, word.groups()[:4])
            page.words.append(Box(x0, y0, x1, y1, html.unescape(word[5])))
        pages.append(page)
    for page, reader_page in zip(pages, PdfReader(io.BytesIO(pdf)).pages, strict=True):

        def draw(operator, operands, cm, tm, page=page):
            if operator == b"Do":  # an image: the unit square scaled by the matrix
                x, y, w, h = cm[4], cm[5], cm[0], cm[3]
                page.images.append(Box(x, page.height - y - h, x + w, page.height - y))

        reader_page.extract_text(visitor_operand_before=draw)
    return pages


def hand_made_pdf(objects: dict[int, bytes]) -> bytes:
    """A PDF of ``objects`` (number: dictionary), object 1 its catalog, with a classic
    cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += (
            b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
        )
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)
