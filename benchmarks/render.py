"""Render benchmark: median milliseconds per letter, DOCX and PDF, over the seed letters,
beside the route document-merge services take (one `soffice --headless --convert-to pdf`
per letter, from our DOCX). Run by hand: .venv/bin/python benchmarks/render.py [--repeat N]
Prints figures only; asserts nothing. ``--clock cpu``: CPU time instead of the wall clock
(every thread of the process, and LibreOffice's processes), for a machine shared with other work.

``--typst PYTHON``: also what a compiled typesetter does with the same letters, so the
distance to the limit is on record: each letter's layout (``templates._layout``: the same
blocks, Thai text, Sarabun 16 pt, indents, justified body) written as Typst markup and
compiled to PDF by the Typst in another Python (not a dependency of saraban), e.g.
``python -m venv /tmp/typst && /tmp/typst/bin/pip install typst``, then
``--typst /tmp/typst/bin/python``. Its compiler is warm (kept, fonts loaded, one compile
first), as saraban's renderer is. Typst memoizes layout: the same source compiled again
re-lays out nothing, so it is timed twice, as it is and under a style changed by a millionth
each time (every block laid out anew, as a new letter is); per page, with its page count and
whether its text layer gives back the letter's subject (``pdftotext``).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from saraban.templates import render_docx, render_pdf
from saraban.templates._layout import (
    MARGIN_BOTTOM_CM,
    MARGIN_LEFT_CM,
    MARGIN_RIGHT_CM,
    MARGIN_TOP_FIRST_CM,
    Block,
    Run,
    layout_letter,
)

ROOT = Path(__file__).parents[1]
LETTERS = [
    *sorted((ROOT / "tests" / "data" / "seeds").glob("*.letter.json")),  # the real letters
    ROOT / "examples" / "circular.letter.json",
    *sorted((ROOT / "tests" / "data" / "letters").glob("*.letter.json")),  # one page each
]


# The clock (--clock): the wall clock, or the CPU time of this process (and of the children it
# waited for: LibreOffice), which a machine shared with other work disturbs far less.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def median_ms(func, repeat: int) -> float:
    func()  # warm: fonts, caches
    times = []
    for _ in range(repeat):
        start = clock()
        func()
        times.append((clock() - start) * 1000)
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
            start = time.perf_counter() if clock is time.perf_counter else _children_cpu()
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
            now = time.perf_counter() if clock is time.perf_counter else _children_cpu()
            times.append((now - start) * 1000)
    return statistics.median(times[1:])  # the first run also creates the profile


# ---- the same letters in Typst ------------------------------------------------------------------

EMBLEM = ROOT / "templates" / "assets" / "garuda-placeholder.png"
TYPST_PAGE = f"""#set page(paper: "a4",
  margin: (left: {MARGIN_LEFT_CM}cm, right: {MARGIN_RIGHT_CM}cm,
    top: {MARGIN_TOP_FIRST_CM}cm, bottom: {MARGIN_BOTTOM_CM}cm),
  header: context if counter(page).get().first() > 1 {{
    align(center)[- #counter(page).display() -] }})
#set text(font: "Sarabun", size: 16pt, lang: "th", top-edge: "ascender", bottom-edge: "descender")
#set par(leading: 0.2em, spacing: 0pt)
"""
# Typst's child: compile each source warm, print per-letter median ms and pages as JSON.
# Typst's child: compile each source warm, print per-letter median ms as JSON: of the same
# source again (Typst memoizes layout, so this re-lays out nothing that did not change) and
# of the source under a style changed by a millionth each time (every block laid out anew,
# as for a new letter).
TYPST_CHILD = """
import json, statistics, sys, time, typst
sources, repeat, fonts, clock = json.loads(sys.stdin.read())
clock = getattr(time, clock)
compiler = typst.Compiler(font_paths=fonts)
out = {}
for name, path in sources.items():
    source = open(path, encoding="utf-8").read()
    pdf = compiler.compile(input=source.encode())
    same, fresh = [], []
    for i in range(repeat):
        start = clock()
        pdf = compiler.compile(input=source.encode())
        same.append((clock() - start) * 1000)
        salted = f"#set text(tracking: {i + 1}e-6pt)\\n{source}".encode()
        start = clock()
        compiler.compile(input=salted)
        fresh.append((clock() - start) * 1000)
    with open(path[:-4] + ".pdf", "wb") as f:
        f.write(pdf)
    out[name] = [statistics.median(same), statistics.median(fresh)]
print(json.dumps(out))
"""


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _typst_runs(runs: list[Run], block: Block) -> str:
    parts = []
    for run in runs:
        style = [f"size: {run.size or block.size}pt"]
        if run.bold or block.bold:
            style.append('weight: "bold"')
        if run.color or block.color:
            style.append(f'fill: rgb("#{run.color or block.color}")')
        parts.append(f"#text({', '.join(style)}, {_typst_string(run.text)})")
    return "".join(parts)


def typst_source(letter: dict) -> str:
    """The letter's layout as Typst markup: every block with its text, size, weight,
    alignment, indents, label or tab column and the space before it."""
    layout = layout_letter(letter)
    out = [TYPST_PAGE]
    if layout.emblem_cm:
        out.append(f'#align(center, image("{EMBLEM.name}", height: {layout.emblem_cm}cm))')
    for block in layout.blocks:
        indent, first = block.indent_cm, block.first_line_cm
        justify = "true" if block.align == "justify" else "false"
        if block.label:  # the label in the hanging indent, the text in a column after it
            indent, first = indent - block.hang_cm, 0
        text = f"#par(justify: {justify}, first-line-indent: (amount: {first}cm, all: true))"
        text += f"[{_typst_runs(block.runs, block)}]"
        if block.tab_cm is not None:  # the text set at a tab stop (a quantity, the sender)
            tab = _typst_runs(block.tab_runs, block)
            text = f"#grid(columns: ({block.tab_cm - block.indent_cm}cm, 1fr), [{text}], [{tab}])"
        if block.label:
            label = _typst_runs(block.label, block)
            column = f"{block.hang_cm}cm" if block.hang_cm else "auto"
            text = f"#grid(columns: ({column}, 1fr), [{label}], [{text}])"
        body = f"#pad(left: {indent}cm)[{text}]"
        if block.align in ("center", "right"):
            body = f"#align({block.align})[{body}]"
        out.append(f"#block(above: {block.space_before_pt}pt, below: 0pt, width: 100%)[{body}]")
    return "\n".join(out) + "\n"


def typst_figures(letters: dict[str, dict], python: str, repeat: int) -> dict[str, tuple]:
    """Per letter: Typst's warm compile in ms, its pages, and whether pdftotext finds the
    letter's subject in its PDF (spaces and line breaks aside)."""
    import fontpkg_sarabun

    fonts = str(Path(fontpkg_sarabun.__file__).parent / "files")
    with tempfile.TemporaryDirectory() as tmp:
        sources = {}
        shutil.copy(EMBLEM, tmp)  # Typst reads files only under the source's folder
        for name, letter in letters.items():
            path = Path(tmp) / f"{name}.typ"
            path.write_text(typst_source(letter), "utf-8")
            sources[name] = path.name  # under the compiler's root, the folder it runs in
        done = subprocess.run(
            [python, "-c", TYPST_CHILD],
            input=json.dumps([sources, repeat, [fonts], clock.__name__]),
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"typst: {done.stderr[-2000:]}")
        times = json.loads(done.stdout.splitlines()[-1])
        figures = {}
        for name, letter in letters.items():
            pdf = Path(tmp) / f"{name}.pdf"
            pages = len(PdfReader(pdf).pages)
            text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
            squeeze = "".join(text.stdout.split())
            exact = "".join((letter.get("subject") or "").split()) in squeeze
            figures[name] = (*times[name], pages, exact)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--soffice-repeat", type=int, default=3)
    parser.add_argument("--typst", metavar="PYTHON", help="a Python with typst installed")
    parser.add_argument("--clock", choices=CLOCKS, default="wall")
    args = parser.parse_args()
    global clock  # noqa: PLW0603 - one clock for every figure of the run
    clock = CLOCKS[args.clock]
    print(f"milliseconds of {'CPU time' if args.clock == 'cpu' else 'the wall clock'}")
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
    if args.typst:
        letters = {p.name.split(".")[0]: json.loads(p.read_text("utf-8")) for p in LETTERS}
        typst = typst_figures(letters, args.typst, args.repeat)
        print(
            f"\nTypst, ms a page: the same source again (its layout memoized), and a new layout"
            f"\n{'letter':<28} {'pages':>5} {'memoized':>9} {'new':>8} {'saraban':>8}"
        )
        for (pages, _docx, pdf_ms, _lo), (name, (same, fresh, typst_pages, exact)) in zip(
            rows, typst.items(), strict=True
        ):
            note = "" if exact else "  (subject not found in its text layer)"
            print(
                f"{name:<28} {typst_pages:>5} {same / typst_pages:9.1f} {fresh / typst_pages:8.1f} "
                f"{pdf_ms / pages:8.1f}{note}"
            )
        per_page = [
            (r[2] / r[0], t[0] / t[2], t[1] / t[2])
            for r, t in zip(rows, typst.values(), strict=True)
        ]
        ours, same, fresh = (statistics.median(x[i] for x in per_page) for i in range(3))
        print(
            f"a page (median): saraban {ours:.1f} ms, Typst {fresh:.1f} ms laid out anew "
            f"({ours / fresh:.1f}x), {same:.1f} ms memoized ({ours / same:.1f}x)"
        )
    if one_page:
        print(
            f"one-page letters: PDF {statistics.median(r[2] for r in one_page):.1f} ms, "
            f"DOCX {statistics.median(r[1] for r in one_page):.1f} ms, LibreOffice route "
            f"{statistics.median(r[3] / r[2] for r in one_page if r[3]):.1f}x slower (median)"
        )


if __name__ == "__main__":
    main()
