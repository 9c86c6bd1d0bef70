"""``saraban forms``: list the built-in forms, fill one, print a blank one, inspect an upload.

    saraban forms list [--json]
    saraban forms fill NAME DATA.json -o OUT.docx|OUT.pdf
    saraban forms blank NAME -o OUT.docx|OUT.pdf
    saraban forms inspect TEMPLATE.docx [--json]
    saraban forms fill-template TEMPLATE.docx VALUES.json -o OUT.docx|OUT.pdf

NAME is a built-in form (``saraban forms list``). Errors go to stderr with exit status 2
(bad input) or 1, as for every saraban command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from saraban.errors import BadRequest

_FORMATS = {".docx": "docx", ".pdf": "pdf"}


def register(sub: argparse._SubParsersAction) -> None:
    forms = sub.add_parser("forms", help="report forms: list, fill, blank, inspect / แบบฟอร์มรายงาน")
    commands = forms.add_subparsers(dest="forms_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="the built-in forms / แบบฟอร์มที่มี")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list)

    fill = commands.add_parser("fill", help="fill a built-in form / กรอกแบบฟอร์ม")
    fill.add_argument("name", help="form name (see: saraban forms list)")
    fill.add_argument("data", type=Path, help="the values (JSON)")
    fill.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output file; .docx or .pdf chooses the format",
    )
    fill.set_defaults(func=_fill)

    blank = commands.add_parser("blank", help="an empty form / แบบฟอร์มเปล่า")
    blank.add_argument("name", help="form name (see: saraban forms list)")
    blank.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output file; .docx or .pdf chooses the format",
    )
    blank.set_defaults(func=_blank)

    inspect = commands.add_parser(
        "inspect", help="the variables of a .docx template / ตัวแปรในแม่แบบ"
    )
    inspect.add_argument("template", type=Path)
    inspect.add_argument("--json", action="store_true", help="print the derived schema")
    inspect.set_defaults(func=_inspect)

    fill_template = commands.add_parser(
        "fill-template", help="fill a .docx template with {{ placeholders }} / กรอกแม่แบบ"
    )
    fill_template.add_argument("template", type=Path)
    fill_template.add_argument("data", type=Path, help="the values (JSON)")
    fill_template.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="output file; .docx, or .pdf (needs LibreOffice)",
    )
    fill_template.set_defaults(func=_fill_template)


def _format(output: Path) -> str:
    fmt = _FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise BadRequest(
            f"{output}: ใช้นามสกุล .docx หรือ .pdf / the output must end in .docx or .pdf"
        )
    return fmt


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadRequest(
            f"{path}: อ่าน{what}ไม่ได้ / cannot read the {what}: {exc.strerror}"
        ) from None


def _load_json(path: Path) -> object:
    try:
        return json.loads(_read(path, "ไฟล์ข้อมูล").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"{path}: ไม่ใช่ JSON ที่ถูกต้อง / not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"{path}: JSON ซ้อนกันลึกเกินไป / the JSON is nested too deeply") from None


def _write(output: Path, data: bytes) -> int:
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.part")
    tmp.write_bytes(data)
    tmp.replace(output)  # never leave a half-written file under the real name
    print(output)
    return 0


def _list(args: argparse.Namespace) -> int:
    from saraban.templates.forms import list_forms

    forms = list_forms()
    if args.json:
        print(json.dumps([f.as_dict() for f in forms], ensure_ascii=False, indent=2))
        return 0
    width = max(len(f.name) for f in forms)
    for form in forms:
        print(f"{form.name:<{width}}  {form.title}")
    return 0


def _fill(args: argparse.Namespace) -> int:
    from saraban.templates.forms import fill_docx, fill_pdf

    fmt = _format(args.output)
    data = _load_json(args.data)
    return _write(args.output, (fill_docx if fmt == "docx" else fill_pdf)(args.name, data))


def _blank(args: argparse.Namespace) -> int:
    from saraban.templates.forms import blank_docx, blank_pdf

    fmt = _format(args.output)
    return _write(args.output, (blank_docx if fmt == "docx" else blank_pdf)(args.name))


def _inspect(args: argparse.Namespace) -> int:
    from saraban.templates.forms import inspect_template

    info = inspect_template(_read(args.template, "แม่แบบ"))
    if args.json:
        print(json.dumps(info.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"{args.template}: {len(info.variables)} ตัวแปร / variables")
    for item in info.schema["items"]:
        detail = ""
        if item["kind"] == "table":
            detail = " [" + ", ".join(c["name"] for c in item["columns"]) + "]"
        elif item["kind"] == "object":
            detail = " {" + ", ".join(f["name"] for f in item["fields"]) + "}"
        print(f"  {item['name']} ({item['kind']}){detail}")
    return 0


def _fill_template(args: argparse.Namespace) -> int:
    from saraban.templates.forms import fill_uploaded, fill_uploaded_pdf

    fmt = _format(args.output)
    template = _read(args.template, "แม่แบบ")
    values = _load_json(args.data)
    fill = fill_uploaded if fmt == "docx" else fill_uploaded_pdf
    return _write(args.output, fill(template, values))  # type: ignore[arg-type]
