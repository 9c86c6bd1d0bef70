"""The built-in forms: list, schema, check, fill to DOCX and PDF, blank DOCX."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from docxtpl import DocxTemplate

from saraban.errors import Problem, SarabanError
from saraban.folders import temporary_folder
from saraban.templates.forms import _sandbox
from saraban.templates.forms._catalogue import FORMS, Form, FormInfo
from saraban.templates.forms._design import (
    build_html_template,
    make_docx_photos,
    make_fill,
    make_html_photos,
)
from saraban.templates.forms._errors import FormNotFound, InvalidFormData
from saraban.templates.forms._schema import Photos, Table

FORMS_DIR = Path(__file__).parent
DOCX_DIR = FORMS_DIR / "docx"


def list_forms() -> list[FormInfo]:
    return [form.info for form in FORMS.values()]


def get_form(name: object) -> Form:
    try:
        return FORMS[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise FormNotFound(name, list(FORMS)) from None


def form_schema(name: str) -> dict:
    """The form's fields and tables as a JSON-serialisable dict (builds the web form)."""
    form = get_form(name)
    return {**form.info.as_dict(), **form.schema.as_dict()}


def validate_form_data(name: str, data: object) -> list[Problem]:
    """Every problem of ``data`` for this form; an empty list means it can be filled."""
    return get_form(name).schema.check(data)[1]


def kept_form_data(name: str, data: object) -> dict:
    """``data`` checked (:class:`InvalidFormData`) and made ready to keep as JSON (a reply's
    form, in the archive): as sent, but each photo the cleaned one (re-encoded, its metadata
    gone) as base64 text, whether it was uploaded or sent as base64."""
    form = get_form(name)
    normalised, problems = form.schema.check(data)
    if problems:
        raise InvalidFormData(problems)
    kept = dict(data) if isinstance(data, dict) else {}
    for item in form.schema.items:
        if isinstance(item, Photos) and item.name in kept:
            kept[item.name] = [photo.as_base64() for photo in normalised.get(item.name) or []]
    return kept


def _checked(form: Form, data: object) -> dict:
    normalised, problems = form.schema.check(data)
    if problems:
        raise InvalidFormData(problems)
    return _context(form, normalised, blank=False)


def _context(form: Form, data: dict, *, blank: bool) -> dict:
    """The render context: the data, each table row numbered (``no``, Thai digits), and
    the form's computed values (left empty on a blank form)."""
    context = _numbered(form.schema.items, data)
    for name, compute in form.extra.items():
        context[name] = None if blank else compute(data)
    return context


def _numbered(items, data: dict) -> dict:
    from saraban.thai import to_thai_digits

    out = dict(data)
    for item in items:
        if isinstance(item, Table):
            out[item.name] = [
                {**_numbered(item.columns, row), "no": to_thai_digits(str(index + 1))}
                for index, row in enumerate(data[item.name])
            ]
    return out


def _template_path(form: Form) -> Path:
    path = DOCX_DIR / f"{form.name}.docx"
    if not path.exists():
        raise SarabanError(
            f"ไม่พบแม่แบบ {path.name} / the template {path} is missing: run scripts/make_forms.py"
        )
    return path


def _render_docx(form: Form, context: dict) -> bytes:
    template = DocxTemplate(_template_path(form))
    env = _sandbox.new_environment(
        filters={"fill": make_fill(), "photos": make_docx_photos(template)}
    )
    template.render(context, jinja_env=env, autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


@functools.cache
def _html_source(name: str) -> str:
    from saraban.templates._weasyprint_thai import thai_line_break_hints

    return build_html_template(FORMS[name].design, thai_line_break_hints)


def _render_pdf(form: Form, context: dict) -> bytes:
    from saraban.templates._pdf import html_to_pdf
    from saraban.templates._weasyprint_thai import thai_line_break_hints

    photos = [
        p for item in form.schema.items if isinstance(item, Photos) for p in context[item.name]
    ]
    with temporary_folder("saraban-photos-") as folder:
        # WeasyPrint reads files only from the folder it is given: the photos are written
        # there, under names of our own
        files = {}
        for number, photo in enumerate(photos):
            path = Path(folder) / f"photo-{number}.{photo.suffix}"
            path.write_bytes(photo.data)
            files[id(photo)] = path.as_uri()
        env = _sandbox.new_environment(
            filters={
                "fill": make_fill(thai_line_break_hints),
                "photos": make_html_photos(files),
            }
        )
        html = env.from_string(_html_source(form.name)).render(context)
        return html_to_pdf(html, base=Path(folder) if photos else FORMS_DIR)


def fill_docx(name: str, data: object) -> bytes:
    """The form filled with ``data`` as .docx bytes; bad data raises InvalidFormData (400)."""
    form = get_form(name)
    return _render_docx(form, _checked(form, data))


def fill_pdf(name: str, data: object) -> bytes:
    """The form filled with ``data`` as PDF bytes (its HTML twin through WeasyPrint)."""
    form = get_form(name)
    return _render_pdf(form, _checked(form, data))


def blank_docx(name: str) -> bytes:
    """The empty form as .docx: dotted fill-in lines, preset rows, blank table rows."""
    form = get_form(name)
    return _render_docx(form, _context(form, form.schema.blank(), blank=True))


def blank_pdf(name: str) -> bytes:
    form = get_form(name)
    return _render_pdf(form, _context(form, form.schema.blank(), blank=True))
