"""Helpers for tests that render real PDFs and read them back.

``no_weasyprint_warnings()`` fails the test on any warning or error WeasyPrint logs (a
missing Thai glyph, an unknown CSS property, a resource it could not fetch), so a broken
font setup fails loudly instead of printing boxes. ``pdftotext()`` runs poppler's
``pdftotext`` (installed by ``scripts/setup`` with poppler-utils) on PDF bytes.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_weasyprint_warnings", "pdftotext"]


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
