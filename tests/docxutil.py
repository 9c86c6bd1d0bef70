"""Helpers for tests (and benchmarks) that need a .docx made from plain text, or the text
of a .docx in reading order."""

from __future__ import annotations

from pathlib import Path

import docx

__all__ = ["docx_from_text", "docx_lines"]


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


def docx_lines(document) -> list[str]:
    """Each paragraph's text in reading order, table cells included (row by row)."""
    from docx.oxml.ns import qn

    return [
        "".join(t.text or "" for t in p.iter(qn("w:t")))
        for p in document.element.body.iter(qn("w:p"))
    ]
