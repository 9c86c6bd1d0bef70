"""Helpers for tests (and benchmarks) that need a .docx made from plain text."""

from __future__ import annotations

from pathlib import Path

import docx

__all__ = ["docx_from_text"]


def docx_from_text(text: str, path: Path) -> Path:
    """One paragraph per line of the text; runs of tab-separated lines become a table."""
    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if not rows:
            return
        table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        for row, cells in zip(table.rows, rows, strict=True):
            for cell, value in zip(row.cells, cells, strict=False):
                cell.text = value
        rows.clear()

    for line in text.split("\n"):
        if "\t" in line:
            rows.append(line.split("\t"))
        else:
            flush()
            document.add_paragraph(line)
    flush()
    document.save(str(path))
    return path
