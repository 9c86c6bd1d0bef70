"""Import throughput in letters per second, for .txt, .docx and .pdf made from the five seeds.

    .venv/bin/python benchmarks/import_letters.py [--seconds 3]

The .txt files are the seeds; each .docx has one paragraph per line of a seed (tab-separated
lines as tables); each .pdf is the seed's letter document rendered by ``templates.render_pdf``
(or, if that is unavailable, the seed text typeset by WeasyPrint). One process; PDF import
runs ``pdftotext`` twice per file (``-layout`` and ``-raw``), which dominates its time.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from docxutil import docx_from_text  # noqa: E402

from saraban.archive.importer import import_file, parse_letter_text  # noqa: E402

SEEDS = Path(__file__).resolve().parents[1] / "tests" / "data" / "seeds"


def _pdf(stem: str, path: Path) -> str:
    """Render the seed's letter document; fall back to the seed text in plain HTML."""
    try:
        from saraban.templates import render_pdf

        path.write_bytes(render_pdf(json.loads((SEEDS / f"{stem}.letter.json").read_text())))
        return "saraban.templates.render_pdf"
    except Exception as exc:  # the renderer is optional here: say what was measured
        import fontpkg_sarabun
        from weasyprint import HTML

        font = fontpkg_sarabun.ROOT / "files" / "Sarabun-Regular.ttf"
        text = (SEEDS / f"{stem}.txt").read_text()
        body = "".join(f"<p>{html.escape(line) or '&nbsp;'}</p>" for line in text.split("\n"))
        page = (
            f"<style>@font-face{{font-family:S;src:url('{font.as_uri()}')}}"
            f"body{{font-family:S;font-size:16pt}}p{{margin:0}}</style>{body}"
        )
        HTML(string=page).write_pdf(path)
        return f"WeasyPrint HTML of the seed text (render_pdf failed: {type(exc).__name__})"


def _rate(run: Callable[[], None], count: int, seconds: float) -> tuple[float, int]:
    """Letters per second over at least ``seconds`` (and at least one round)."""
    rounds = 0
    start = time.perf_counter()
    while True:
        run()
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return rounds * count / elapsed, rounds * count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per format")
    args = parser.parse_args(argv)
    stems = sorted(p.stem for p in SEEDS.glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files: dict[str, list[Path]] = {"txt": [], "docx": [], "pdf": []}
        pdf_source = ""
        for stem in stems:
            text = (SEEDS / f"{stem}.txt").read_text()
            files["txt"].append(SEEDS / f"{stem}.txt")
            docx_from_text(text, folder / f"{stem}.docx")
            files["docx"].append(folder / f"{stem}.docx")
            pdf_source = _pdf(stem, folder / f"{stem}.pdf")
            files["pdf"].append(folder / f"{stem}.pdf")
        texts = [(SEEDS / f"{stem}.txt").read_text() for stem in stems]

        print(f"import throughput over {len(stems)} seed letters, one process")  # noqa: T201
        print(f"pdf files: {pdf_source}")  # noqa: T201
        print(f"{'input':<22}{'letters/s':>12}{'ms/letter':>12}{'letters':>10}")  # noqa: T201
        rows = [("parse only (text)", lambda: [parse_letter_text(t) for t in texts])]
        for kind, paths in files.items():
            rows.append(
                (f"import_file .{kind}", lambda paths=paths: [import_file(p) for p in paths])
            )
        for label, run in rows:
            rate, done = _rate(run, len(stems), args.seconds)
            print(f"{label:<22}{rate:>12.1f}{1000 / rate:>12.1f}{done:>10}")  # noqa: T201


if __name__ == "__main__":
    main()
