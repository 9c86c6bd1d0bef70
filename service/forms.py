"""Report forms: the list, a web form built from each form's schema (tables with rows to
add, nested tables included), and the filled DOCX or PDF, or the blank form.

Input names are the schema's dotted paths (``activities.1.steps.0.method``), the same
paths the form's problems carry, so each problem is shown beside its input. Dates are typed
in BE and handed to the form as ISO dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, render_template, request

from saraban.errors import Problem
from saraban.service import _web
from saraban.service._letter_form import parse_be_date
from saraban.thai import THAI_MONTHS, ThaiDateError, to_arabic_digits, to_thai_digits

bp = Blueprint("forms", __name__)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_INDEX = re.compile(r"\d+")
_ROW_DIGITS = 4  # a row number the page writes has fewer digits than this allows


def _types(items: list[dict[str, Any]], prefix: str = "") -> dict[str, str]:
    """Field type by path pattern, row numbers replaced by ``#``: {"activities.#.title": "text"}."""
    found = {}
    for item in items:
        path = f"{prefix}{item['name']}"
        if item["kind"] == "table":
            found.update(_types(item["columns"], f"{path}.#."))
        elif item["kind"] == "field":
            found[path] = item.get("type", "text")
    return found


def _tables(items: list[dict[str, Any]], prefix: str = "") -> dict[str, dict[str, Any]]:
    found = {}
    for item in items:
        if item["kind"] == "table":
            path = f"{prefix}{item['name']}"
            found[path] = item
            found.update(_tables(item["columns"], f"{path}.#."))
    return found


def _empty_row(row: Any, preset: Mapping[str, Any]) -> bool:
    if isinstance(row, dict):
        return all(_empty_row(value, {}) or preset.get(key) == value for key, value in row.items())
    if isinstance(row, list):
        return all(_empty_row(value, {}) for value in row)
    return row in (None, "")


def unflatten(
    form: Mapping[str, str], schema: dict[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """The form's data from the posted fields, and the problems of typed dates."""
    types = _types(schema["items"])
    tables = _tables(schema["items"])
    problems: list[Problem] = []
    refused: set[str] = set()
    data: dict[str, Any] = {}
    for key, raw in form.items():
        pattern = _INDEX.sub("#", key)
        kind = types.get(pattern)
        if kind is None:
            continue
        long = next((m for m in _INDEX.finditer(key) if len(m.group()) > _ROW_DIGITS), None)
        if long is not None:
            table = key[: long.start()].rstrip(".")  # said beside the table
            if table not in refused:  # once: a post may hold a million of them
                refused.add(table)
                problems.append(
                    Problem(table, "row_number", "a row number is out of range", "เลขแถวเกินช่วง")
                )
            continue
        value: Any = raw.replace("\r\n", "\n").strip() if isinstance(raw, str) else raw
        if value == "":
            value = None
        elif kind == "date":
            try:
                parsed = parse_be_date(value)
                value = parsed.isoformat() if parsed else None
            except ThaiDateError as exc:
                problems.append(Problem(key, exc.code, exc.en, exc.th))
                value = None
        elif kind in ("integer", "year", "month"):
            value = to_arabic_digits(value)
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(data, "", tables), problems


def _lists(node: Any, path: str, tables: dict[str, dict[str, Any]]) -> Any:
    """Row dictionaries keyed by number become lists in order, empty rows dropped."""
    if not isinstance(node, dict):
        return node
    if path.rstrip(".") and _INDEX.sub("#", path.rstrip(".")) in tables:
        table = tables[_INDEX.sub("#", path.rstrip("."))]
        presets = table.get("presets") or []
        rows = []
        for key in sorted((k for k in node if k.isdecimal()), key=int):  # ๑ and 1 alike
            number = int(key)
            row = _lists(node[key], f"{path}{number}.", tables)
            preset = presets[number] if number < len(presets) else {}
            if not _empty_row(row, preset):
                rows.append(row)
            if len(rows) > table["max_rows"]:
                break  # one over: the form says there are too many; no more is drawn again
        return rows
    return {key: _lists(value, f"{path}{key}.", tables) for key, value in node.items()}


def rows_of(value: Any, table: dict[str, Any]) -> int:
    shown = len(value) if isinstance(value, list) else 0
    return max(shown, table.get("min_rows") or 0, len(table.get("presets") or []), 1)


@bp.get("/forms")
@_web.login_required
def forms() -> Any:
    from saraban.templates.forms import list_forms

    return render_template("forms.html", forms=list_forms())


def _fill_page(
    name: str,
    data: dict[str, Any] | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Any:
    from saraban.templates.forms import form_schema

    schema = form_schema(name)
    by_field: dict[str, list[str]] = {}
    for problem in problems or []:
        by_field.setdefault(problem.field, []).append(problem.th)
    return render_template(
        "form_fill.html",
        schema=schema,
        data=data or {},
        problems=by_field,
        all_problems=problems or [],
        months=THAI_MONTHS,
        rows_of=rows_of,
    ), status


@bp.get("/forms/<name>")
@_web.login_required
def fill(name: str) -> Any:
    return _fill_page(name)


def posted_photos(schema: dict[str, Any]) -> tuple[dict[str, list[Any]], list[Problem]]:
    """The photos of each photo item: those kept from the page sent back after a problem
    (``NAME.kept``, base64, less those ticked ``NAME.drop``) and the files chosen now
    (``NAME``), each cleaned (:func:`clean_photo`); a file that is not a photo is a problem
    beside the upload, and the others are kept."""
    from saraban.templates.forms import PhotoError, clean_photo, decode_upload

    found: dict[str, list[Any]] = {}
    problems: list[Problem] = []
    for item in schema["items"]:
        if item["kind"] != "photos":
            continue
        name = item["name"]
        dropped = set(request.form.getlist(f"{name}.drop"))
        sent: list[tuple[str, Any]] = [
            (f"ภาพที่เก็บไว้ลำดับที่ {to_thai_digits(str(n + 1))}", kept)
            for n, kept in enumerate(request.form.getlist(f"{name}.kept"))
            if str(n) not in dropped
        ]
        sent += [(f.filename or "", f) for f in request.files.getlist(name) if f.filename]
        if len(sent) > item["max_count"]:  # said, and the rest never decoded
            limit = to_thai_digits(str(item["max_count"]))
            problems.append(
                Problem(
                    name,
                    "too_many_photos",
                    f"at most {item['max_count']} photos; the first ones are kept",
                    f"แนบภาพได้ไม่เกิน {limit} ภาพ เก็บไว้ {limit} ภาพแรก",
                )
            )
            sent = sent[: item["max_count"]]
        photos = []
        for label, value in sent:
            try:
                upload = value.read() if hasattr(value, "read") else value
                photos.append(clean_photo(decode_upload(upload)))
            except PhotoError as exc:
                problems.append(Problem(name, exc.code, f"{label}: {exc.en}", f"{label}: {exc.th}"))
        found[name] = photos
    return found, problems


@bp.post("/forms/<name>")
@_web.login_required
def download(name: str) -> Any:
    """The filled form as DOCX or PDF; problems re-show the form with each beside its input
    (and the photos attached so far kept on the page)."""
    from saraban.templates.forms import InvalidFormData, fill_docx, fill_pdf, form_schema

    schema = form_schema(name)
    data, problems = unflatten(request.form, schema)
    photos, photo_problems = posted_photos(schema)
    data.update(photos)
    problems += photo_problems
    fmt = request.form.get("format", "docx")
    if problems:
        return _fill_page(name, data, problems, 400)
    try:
        content = fill_pdf(name, data) if fmt == "pdf" else fill_docx(name, data)
    except InvalidFormData as exc:
        return _fill_page(name, data, list(exc.problems), 400)
    return _attachment(content, name, fmt)


def _attachment(content: bytes, name: str, fmt: str, *, blank: bool = False) -> Response:
    """The form as a download named by its Thai title (``แผนการพัฒนาตนเอง ... (แบบว่าง).pdf``);
    the ASCII fallback is the form's name (``self_development_plan-blank.pdf``)."""
    from saraban.templates.forms import form_schema

    suffix = "pdf" if fmt == "pdf" else "docx"
    title = form_schema(name)["title"]["th"] + (" (แบบว่าง)" if blank else "")
    return _web.attachment(
        content,
        "application/pdf" if fmt == "pdf" else DOCX_TYPE,
        f"{title}.{suffix}",
        f"{name}{'-blank' if blank else ''}.{suffix}",
    )


@bp.get("/forms/<name>/blank.<any(docx, pdf):fmt>")
@_web.login_required
def blank(name: str, fmt: str) -> Any:
    from saraban.templates.forms import blank_docx, blank_pdf

    content = blank_pdf(name) if fmt == "pdf" else blank_docx(name)
    return _attachment(content, name, fmt, blank=True)
