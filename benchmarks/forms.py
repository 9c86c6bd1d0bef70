"""Forms benchmark: median milliseconds to fill each seed form to DOCX and to PDF (HTML twin
through WeasyPrint), beside the LibreOffice route used for uploaded templates (one
``soffice --headless --convert-to pdf`` of the filled DOCX). Run by hand:

    .venv/bin/python benchmarks/forms.py [--repeat N] [--soffice-repeat N]

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

from pypdf import PdfReader

from saraban.templates.forms import blank_docx, fill_docx, fill_pdf, list_forms
from saraban.templates.forms._convert import docx_to_pdf, soffice_path

SAMPLES = Path(__file__).parents[1] / "tests" / "data" / "forms"


def _say(*parts: object, **options) -> None:
    """This program's output (the one place it prints)."""
    print(*parts, **options)  # noqa: T201


def median_ms(func, repeat: int) -> float:
    func()  # warm: fonts, tokenizer dictionary, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--soffice-repeat", type=int, default=2)
    args = parser.parse_args()
    lo = soffice_path()
    _say(
        f"{'form':<24} {'pages':>5} {'DOCX ms':>8} {'blank ms':>9} {'PDF ms':>8} {'soffice ms':>11}"
    )
    for form in list_forms():
        data = json.loads((SAMPLES / f"{form.name}.json").read_text("utf-8"))
        pdf = fill_pdf(form.name, data)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        docx_ms = median_ms(lambda: fill_docx(form.name, data), args.repeat)  # noqa: B023
        blank_ms = median_ms(lambda: blank_docx(form.name), args.repeat)  # noqa: B023
        pdf_ms = median_ms(lambda: fill_pdf(form.name, data), args.repeat)  # noqa: B023
        if lo and args.soffice_repeat:
            docx = fill_docx(form.name, data)
            soffice = f"{median_ms(lambda: docx_to_pdf(docx), args.soffice_repeat):11.0f}"  # noqa: B023
        else:
            soffice = f"{'absent' if not lo else 'skipped':>11}"
        _say(f"{form.name:<24} {pages:>5} {docx_ms:8.1f} {blank_ms:9.1f} {pdf_ms:8.1f} {soffice}")


if __name__ == "__main__":
    main()
