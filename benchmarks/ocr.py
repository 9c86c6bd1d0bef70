"""OCR of scans and phone photos of the seed letters: speed, character error rate, and how
many register fields the letter parser gets right from the OCR text.

    .venv/bin/python benchmarks/ocr.py [--engines tesseract-tha,tesseract-thai-script,plain]
                                        [--kinds png,pdf,photo] [--stems 000,001] [--workers 2]

The corpus is ``tests/scancorpus.py``: each seed letter rendered by saraban, rasterised at
150 dpi, turned 1.5 degrees, with noise (one PNG a page, and the letter as an image-only
PDF), and photographed (slant, shadow, blur; one JPEG a page). Every letter is OCRed in a
worker process (``--workers``, default 2: this machine's two cores), the searchable PDF/A
included. Figures:

- pages per second over the whole run (wall clock), per engine;
- CER: the edit distance between the OCR text and the source text (the letter's layout
  text, ``scancorpus.source_text``), both without whitespace, over the source's length;
- fields: sender, their number, date, subject, addressee, urgency and secrecy parsed by
  ``parse_letter_text`` from the OCR text, compared with the seed's ``*.letter.json``
  (every character, whitespace left out: where a line wrapped is no text);
- search: the subject's longest word, analysed by the project's analyzer
  (``saraban.indexer.analyze``), found as a phrase in the analysed OCR text.

Engines: ``tesseract-tha`` (Debian's tha data, the default), ``tesseract`` (tha+eng),
``tesseract-thai-script`` (Debian's Thai script model), each through the whole route of
``archive/importer/_ocr.py``, and
``plain``: Tesseract tha+eng on the file as it is, no cleaning, no correction (what the
route adds). The machine is shared with other work: figures vary from run to run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import scancorpus  # noqa: E402

REGISTER_FIELDS = ("sender", "ref_no", "date", "subject", "addressee", "urgency", "secrecy")


def _no_spaces(value: object) -> object:
    if isinstance(value, str):
        return re.sub(r"\s+", "", value)
    if isinstance(value, list):
        return [_no_spaces(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_spaces(v) for k, v in value.items()}
    return value


def _joined(name: str, letter: dict) -> object:
    value = letter.get(name)
    if name == "sender" and isinstance(value, dict):  # the sender block wraps on paper
        return [value.get("name") or "", *(value.get("address") or [])]
    return value


def field_matches(name: str, got: dict, want: dict) -> bool:
    """Every character right; whitespace and line ends are not compared (as in the
    importer's PDF tests: where a printed line wrapped, or how wide a gap was, is no
    text; a sender's address wrapped in its column is the same address)."""

    def flat(letter: dict) -> object:
        value = _no_spaces(_joined(name, letter))
        return "".join(value) if isinstance(value, list) else value

    return flat(got) == flat(want)


def cer(text: str, source: str) -> float:
    from rapidfuzz.distance import Levenshtein

    def squeeze(s: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFC", s))

    reference = squeeze(source)
    return Levenshtein.distance(squeeze(text), reference) / max(len(reference), 1)


def topic_word(letter: dict) -> str:
    from pythainlp.tokenize import word_tokenize

    words = [w for w in word_tokenize(letter["subject"], keep_whitespace=False) if w.strip()]
    return max(words, key=len)


def found(word: str, text: str) -> bool:
    from saraban.indexer import analyze

    query, tokens = analyze(word), analyze(text)
    return any(tokens[i : i + len(query)] == query for i in range(len(tokens)))


def make_corpus(
    folder: Path, stems: list[str], kinds: list[str]
) -> list[tuple[str, str, list[Path]]]:
    """(stem, kind, files) for every letter: kind png (one file a page), pdf, photo."""
    items = []
    for stem in stems:
        made = {kind: sorted(folder.glob(f"{stem}-{kind}*")) for kind in ("scan", "photo")}
        if made["scan"] and made["photo"]:
            pngs = [p for p in made["scan"] if p.suffix == ".png"]
            pdfs = [p for p in made["scan"] if p.suffix == ".pdf"]
            by_kind = {"png": pngs, "pdf": pdfs, "photo": made["photo"]}
            items += [(stem, kind, by_kind[kind]) for kind in kinds]
            continue
        if "png" in kinds or "pdf" in kinds:
            pages = scancorpus.scan_pages(stem)
            if "png" in kinds:
                pngs = [
                    scancorpus.write_png(page, folder / f"{stem}-scan-{n + 1}.png")
                    for n, page in enumerate(pages)
                ]
                items.append((stem, "png", pngs))
            if "pdf" in kinds:
                pdf = scancorpus.write_scan_pdf(pages, folder / f"{stem}-scan.pdf")
                items.append((stem, "pdf", [pdf]))
        if "photo" in kinds:
            clean = scancorpus.render_pages(stem, dpi=scancorpus.PHOTO_DPI)
            photos = [
                scancorpus.write_jpeg(
                    scancorpus.photo_page(page, stem, n), folder / f"{stem}-photo-{n + 1}.jpg"
                )
                for n, page in enumerate(clean)
            ]
            items.append((stem, "photo", photos))
    return items


def _plain_tesseract(path: Path) -> str:
    """Tesseract on the file as it is (a PDF's pages rasterised at 150 dpi, its own)."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    if path.suffix == ".pdf":
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                ["pdftoppm", "-r", "150", "-gray", "-png", str(path), f"{tmp}/p"], check=True
            )
            return "\f".join(_plain_tesseract(p) for p in sorted(Path(tmp).glob("p-*.png")))
    done = subprocess.run(
        ["tesseract", str(path), "-", "-l", "tha+eng"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return done.stdout


def ocr_letter(engine: str, files: list[Path]) -> tuple[str, float, int]:
    """(text, seconds, pages) of one letter; runs in a worker process."""
    from saraban.archive.importer._ocr import ocr_file

    start = time.perf_counter()
    texts = []
    pages = 0
    for path in files:
        if engine == "plain":
            text = _plain_tesseract(path)
        else:
            text = ocr_file(path, engine=engine).text
        texts.append(text)
        pages += text.count("\f") + 1
    return "\f".join(texts), time.perf_counter() - start, pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="tesseract-tha,tesseract-thai-script,plain")
    parser.add_argument("--kinds", default="png,pdf,photo")
    parser.add_argument("--stems", default="", help="seed name prefixes (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print each OCR text")
    parser.add_argument("--corpus", help="keep the corpus in this folder and reuse it")
    args = parser.parse_args(argv)
    from saraban.archive.importer import parse_letter_text

    stems = [
        s
        for s in scancorpus.seed_stems()
        if not args.stems or any(s.startswith(p) for p in args.stems.split(","))
    ]
    kinds = args.kinds.split(",")
    print(
        f"OCR benchmark: {len(stems)} seed letters x {kinds}, {args.workers} worker processes"
        f" on {os.cpu_count()} cores (the machine is shared: figures vary)"
    )
    with tempfile.TemporaryDirectory(prefix="saraban-ocr-bench-") as tmp:
        start = time.perf_counter()
        folder = Path(args.corpus or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        items = make_corpus(folder, stems, kinds)
        print(f"corpus: {len(items)} letters made in {time.perf_counter() - start:.1f} s\n")
        for engine in args.engines.split(","):
            start = time.perf_counter()
            with ProcessPoolExecutor(max_workers=args.workers) as pool:
                runs = list(
                    pool.map(ocr_letter, [engine] * len(items), [files for _, _, files in items])
                )
            wall = time.perf_counter() - start
            pages = sum(p for _, _, p in runs)
            print(f"== {engine}: {pages} pages in {wall:.0f} s = {pages / wall:.2f} pages/s")
            by_kind: dict[str, list[tuple[float, int, bool]]] = {}
            wrong_fields: dict[str, int] = {}
            for (stem, kind, _), (text, _, _) in zip(items, runs, strict=True):
                truth = scancorpus.seed_letter(stem)
                letter = parse_letter_text(text).letter
                right = [f for f in REGISTER_FIELDS if field_matches(f, letter, truth)]
                for f in set(REGISTER_FIELDS) - set(right):
                    wrong_fields[f] = wrong_fields.get(f, 0) + 1
                topic = topic_word(truth)
                hit = found(topic, text)
                error = cer(text, scancorpus.source_text(stem))
                by_kind.setdefault(kind, []).append((error, len(right), hit))
                wrong = ", ".join(
                    f"{f}={letter.get(f)!r}" for f in REGISTER_FIELDS if f not in right
                )
                print(
                    f"  {stem[:3]} {kind:5} CER {error:6.1%}  fields {len(right)}/7"
                    f"  search {topic!r} {'found' if hit else 'MISSED'}"
                    + (f"  wrong: {wrong}" if wrong else "")
                )
                if args.show:
                    print(text)
            for kind, rows in by_kind.items():
                fields = sum(r[1] for r in rows) / (7 * len(rows))
                print(
                    f"  {kind:5}: CER {sum(r[0] for r in rows) / len(rows):6.1%}"
                    f"  fields right {fields:6.1%}  search {sum(r[2] for r in rows)}/{len(rows)}"
                )
            every = [r for rows in by_kind.values() for r in rows]
            print(
                f"  all  : CER {sum(r[0] for r in every) / len(every):6.1%}"
                f"  fields right {sum(r[1] for r in every) / (7 * len(every)):6.1%}"
                f"  search {sum(r[2] for r in every)}/{len(every)}"
                f"  wrong fields {wrong_fields}\n"
            )


if __name__ == "__main__":
    main()
