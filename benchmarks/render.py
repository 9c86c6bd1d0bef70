"""Render benchmark: median milliseconds per letter, DOCX and PDF, over the seed letters,
beside the route document-merge services take (one `soffice --headless --convert-to pdf`
per letter, from our DOCX). Run by hand: .venv/bin/python benchmarks/render.py [--repeat N]
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from saraban.templates import render_docx, render_pdf

ROOT = Path(__file__).parents[1]
LETTERS = [
    *sorted((ROOT / "tests" / "data" / "seeds").glob("*.letter.json")),  # the real letters
    ROOT / "examples" / "circular.letter.json",
    *sorted((ROOT / "tests" / "data" / "letters").glob("*.letter.json")),  # one page each
]


def median_ms(func, repeat: int) -> float:
    func()  # warm: fonts, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def soffice_ms(docx: bytes, repeat: int) -> float | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "letter.docx"
        source.write_bytes(docx)
        profile = f"-env:UserInstallation=file://{tmp}/profile"
        for _ in range(repeat + 1):
            start = time.perf_counter()
            subprocess.run(
                [
                    soffice,
                    profile,
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    tmp,
                    str(source),
                ],
                check=True,
                capture_output=True,
            )
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[1:])  # the first run also creates the profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--soffice-repeat", type=int, default=3)
    args = parser.parse_args()
    head = f"{'letter':<28} {'pages':>5} {'DOCX ms':>8} {'PDF ms':>8}"
    print(f"{head} {'soffice ms':>11} {'ratio':>6}")
    rows = []
    for path in LETTERS:
        letter = json.loads(path.read_text("utf-8"))
        pdf = render_pdf(letter)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        docx_ms = median_ms(lambda letter=letter: render_docx(letter), args.repeat)
        pdf_ms = median_ms(lambda letter=letter: render_pdf(letter), args.repeat)
        lo_ms = soffice_ms(render_docx(letter), args.soffice_repeat)
        ratio = f"{lo_ms / pdf_ms:5.1f}x" if lo_ms else "  n/a"
        lo = f"{lo_ms:11.0f}" if lo_ms else f"{'absent':>11}"
        name = path.name.split(".")[0]
        print(f"{name:<28} {pages:>5} {docx_ms:8.1f} {pdf_ms:8.1f} {lo} {ratio:>6}")
        rows.append((pages, docx_ms, pdf_ms, lo_ms))
    one_page = [r for r in rows if r[0] == 1]
    print(
        f"\nmedian over letters: DOCX {statistics.median(r[1] for r in rows):.1f} ms, "
        f"PDF {statistics.median(r[2] for r in rows):.1f} ms"
    )
    print(f"PDF ms per page: {statistics.median(r[2] / r[0] for r in rows):.1f}")
    if all(r[3] for r in rows):
        ratio = statistics.median(r[3] / r[2] for r in rows)
        print(f"LibreOffice route / saraban PDF: {ratio:.1f}x slower (median)")
    if one_page:
        print(
            f"one-page letters: PDF {statistics.median(r[2] for r in one_page):.1f} ms, "
            f"DOCX {statistics.median(r[1] for r in one_page):.1f} ms, LibreOffice route "
            f"{statistics.median(r[3] / r[2] for r in one_page if r[3]):.1f}x slower (median)"
        )


if __name__ == "__main__":
    main()
