"""``saraban render`` and ``saraban validate``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from saraban.errors import BadRequest, InvalidLetter
from saraban.letter import format_problems, lint, load_letter

_FORMATS = {".docx": "docx", ".pdf": "pdf"}


def register(sub: argparse._SubParsersAction) -> None:
    render = sub.add_parser(
        "render",
        help="render a letter document to DOCX or PDF / พิมพ์หนังสือเป็น DOCX หรือ PDF",
    )
    render.add_argument("letter", type=Path, help="the letter document (JSON)")
    render.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output file; .docx or .pdf chooses the format",
    )
    render.add_argument("--pdfa", action="store_true", help="PDF/A-3b with the letter embedded")
    render.set_defaults(func=_render)

    validate = sub.add_parser(
        "validate",
        help="check a letter document and list errors and warnings / ตรวจหนังสือ",
    )
    validate.add_argument("letter", type=Path, nargs="+")
    validate.add_argument("--lang", choices=("th", "en"), default="th")
    validate.add_argument("--json", action="store_true", help="machine-readable output")
    validate.set_defaults(func=_validate)


def _render(args: argparse.Namespace) -> int:
    fmt = _FORMATS.get(args.output.suffix.lower())
    if fmt is None:
        raise BadRequest(
            f"{args.output}: ใช้นามสกุล .docx หรือ .pdf / the output must end in .docx or .pdf"
        )
    letter = load_letter(args.letter)
    from saraban.settings import Settings
    from saraban.templates import render_docx, render_pdf

    settings = Settings.load()
    emblem, digits = settings.garuda_image, settings.letter_digits
    data = (
        render_docx(letter, emblem=emblem, digits=digits)
        if fmt == "docx"
        else render_pdf(letter, pdfa=args.pdfa, emblem=emblem, digits=digits)
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(f".{args.output.name}.part")
    tmp.write_bytes(data)
    tmp.replace(args.output)  # never leave a half-written file under the real name
    for problem in lint(letter, digits=digits):
        print(f"คำเตือน / warning: {problem}", file=sys.stderr)
    print(args.output)
    return 0


def _validate(args: argparse.Namespace) -> int:
    status = 0
    report = []
    for path in args.letter:
        try:
            letter = load_letter(path)
        except InvalidLetter as exc:
            status = 2
            report.append(
                {
                    "file": str(path),
                    "ok": False,
                    "errors": [p.as_dict() for p in exc.problems],
                    "warnings": [],
                }
            )
            if not args.json:
                print(f"{path}: ไม่ถูกต้อง / invalid", file=sys.stderr)
                print(format_problems(exc.problems, lang=args.lang), file=sys.stderr)
            continue
        warnings = lint(letter)
        report.append(
            {
                "file": str(path),
                "ok": True,
                "errors": [],
                "warnings": [p.as_dict() for p in warnings],
            }
        )
        if not args.json:
            print(f"{path}: ถูกต้อง / valid" + (f", {len(warnings)} คำเตือน" if warnings else ""))
            if warnings:
                print(format_problems(warnings, lang=args.lang))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return status
