"""Letter size benchmark: what the largest letters cost to render, to set the limits of
``saraban.letter`` (total characters, body blocks, enclosures, references) from measured
figures. Run by hand:

    .venv/bin/python benchmarks/letter_size.py [--sizes 10000,30000,59000] [--shape paragraphs]
        [--paragraph 1000] [--lift-total]

Each letter is rendered in a fresh child process (DOCX and PDF, as issuing does; a preview
renders only the PDF), which reports its wall time per format, the CPU time of the PDF (what
the wall time is on an idle machine: rendering is one thread) and its peak memory (resident
set, ``ru_maxrss``). The letter's text is the seed letters' own Thai body text repeated to
size, so line breaking does real work. ``--shape``: ``paragraphs`` (body paragraphs of at most
``--paragraph`` characters), ``items`` (one numbered list), ``references``, ``enclosures``
and ``copies_to`` (that list, entries of ``--paragraph`` characters), ``limits`` (the
costliest letter the limits accept: every list full, the body filling the total);
``--lift-total`` measures beyond ``MAX_LETTER_CHARS``.
Prints figures only; asserts nothing. The machine is shared (2 cores): run it when nothing
heavy runs beside it, and say so beside any figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "data" / "seeds"


def thai_text() -> str:
    """The seed letters' body paragraphs, joined: real Thai words, spaces and digits."""
    parts: list[str] = []
    for path in sorted(SEEDS.glob("*.letter.json")):
        doc = json.loads(path.read_text("utf-8"))
        for block in doc.get("body") or []:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict):
                parts.extend(block.get("items") or [])
    return " ".join(parts)


def text_of(length: int, source: str, offset: int = 0) -> str:
    repeated = source * (length // len(source) + 2)
    return repeated[offset : offset + length].strip() or "ก"


def letter(shape: str, size: int, paragraph: int) -> dict:
    from saraban import letter as rules

    source = thai_text()
    fields: dict = {
        "sender": {"name": "ศาลากลางจังหวัดหนองคาย", "address": ["ถนนมิตรภาพ นค ๔๓๐๐๐"]},
        "date": "2025-03-01",
        "subject": text_of(min(200, size), source),
        "salutation": "เรียน",
        "addressee": "นายอำเภอ ทุกอำเภอ",
        "closing": "จึงเรียนมาเพื่อโปรดทราบ",
        "complimentary_close": "ขอแสดงความนับถือ",
        "signer": {"name": "นายสมชาย ใจดี", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
        "owner_unit": ["สำนักงานจังหวัด"],
        "contact": {"phone": "๐ ๔๒๔๑ ๑๑๘๒", "fax": None, "email": None},
    }
    if shape == "paragraphs":
        count = max(1, -(-size // paragraph))
        fields["body"] = [text_of(paragraph, source, i * 97) for i in range(count)]
    elif shape == "items":
        count = max(1, -(-size // paragraph))
        items = [text_of(paragraph, source, i * 97) for i in range(count)]
        fields["body"] = ["ขอแจ้งรายการดังนี้", {"items": items}]
    elif shape in ("references", "enclosures", "copies_to"):
        count = max(1, -(-size // paragraph))
        entries = [text_of(paragraph, source, i * 97) for i in range(count)]
        fields["body"] = ["ขอแจ้งให้ทราบ"]
        if shape == "enclosures":
            fields["enclosures"] = [{"title": e, "quantity": "๑ ชุด"} for e in entries]
        else:
            fields[shape] = entries
    elif shape == "limits":
        # The costliest letter the limits accept: every list at its longest, then the body
        # filling what the total leaves, in as many blocks as allowed.
        fields["references"] = [
            text_of(rules.MAX_REFERENCE_CHARS, source, i * 97) for i in range(rules.MAX_REFERENCES)
        ]
        fields["enclosures"] = [
            {"title": text_of(rules.MAX_ENCLOSURE_TITLE_CHARS, source, i * 89), "quantity": "๑"}
            for i in range(rules.MAX_ENCLOSURES)
        ]
        fields["copies_to"] = [
            text_of(rules.MAX_COPY_TO_CHARS, source, i * 83) for i in range(rules.MAX_COPIES_TO)
        ]
        used = rules.letter_characters(rules.new_letter("external", **fields))
        left = rules.MAX_LETTER_CHARS - used - 10
        blocks = rules.MAX_BODY_BLOCKS
        fields["body"] = [text_of(max(1, left // blocks), source, i * 97) for i in range(blocks)]
    else:
        raise SystemExit(f"unknown shape {shape!r}")
    return rules.new_letter("external", **fields)


def child(shape: str, size: int, paragraph: int, lift: bool) -> None:
    """Render one letter and print one JSON line of figures (runs in the child process)."""
    from saraban import letter as rules
    from saraban.letter import letter_characters, validate
    from saraban.templates import render_docx, render_pdf

    if lift:  # what a letter over the total would cost (the limits before issue 11)
        rules.MAX_LETTER_CHARS = 10**9

    render_pdf(letter("paragraphs", 500, 500))  # warm: fonts, the word lists, caches
    doc = letter(shape, size, paragraph)
    errors = [p.code + ":" + p.field for p in validate(doc)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    pdf = render_pdf(doc)
    pdf_s, pdf_cpu = time.perf_counter() - start, time.process_time() - cpu
    after_pdf = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    render_docx(doc)
    docx_s = time.perf_counter() - start
    from io import BytesIO

    from pypdf import PdfReader

    pages = len(PdfReader(BytesIO(pdf)).pages)
    print(
        json.dumps(
            {
                "characters": letter_characters(doc),
                "blocks": len(doc.get("body") or []),
                "pages": pages,
                "pdf_s": round(pdf_s, 2),
                "pdf_cpu": round(pdf_cpu, 2),
                "docx_s": round(docx_s, 2),
                "start_mb": round(before / 1024),
                "peak_pdf_mb": round(after_pdf / 1024),
                "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "errors": errors[:5],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,30000,59000")
    parser.add_argument("--shape", default="paragraphs")
    parser.add_argument("--paragraph", type=int, default=1000, help="characters a block")
    parser.add_argument("--lift-total", action="store_true", help="measure beyond MAX_LETTER_CHARS")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        child(args.shape, sizes[0], args.paragraph, args.lift_total)
        return
    print(f"shape {args.shape}, blocks of {args.paragraph:,} characters")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    head = f"{'characters':>10} {'blocks':>6} {'pages':>5} {'PDF s':>6} {'CPU s':>6} {'DOCX s':>6}"
    print(f"{head} {'warm MB':>8} {'peak MB':>8}  errors")
    for size in sizes:
        command = [sys.executable, __file__, "--child", "--sizes", str(size)]
        command += ["--shape", args.shape, "--paragraph", str(args.paragraph)]
        command += ["--lift-total"] if args.lift_total else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{size:>10,} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{r['characters']:>10,} {r['blocks']:>6} {r['pages']:>5} {r['pdf_s']:>6} "
            f"{r['pdf_cpu']:>6} "
            f"{r['docx_s']:>6} {r['start_mb']:>8} {r['peak_mb']:>8}  {' '.join(r['errors'])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
