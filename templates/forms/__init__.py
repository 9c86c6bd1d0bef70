"""Report forms: the built-in forms of the seed circulars, and clerks' own .docx templates.

>>> from saraban.templates.forms import list_forms, form_schema, fill_docx, fill_pdf, blank_docx
>>> [f.name for f in list_forms()]
['centre_report', 'centre_year_plan', 'self_development_plan', 'activity_schedule']
>>> docx = fill_docx("self_development_plan", {"name": "นางสมศรี ใจดี", "activities": []})

Photos (the centre report's section ๙) are JPEG or PNG, bytes or base64 text; each is
checked by content and re-encoded by :func:`clean_photo` (no EXIF, no GPS, no comments).

Clerks' templates (untrusted; sandboxed, size-limited):

>>> info = inspect_template(upload)          # variables and a derived schema
>>> filled = fill_uploaded(upload, values)   # .docx bytes
>>> pdf = fill_uploaded_pdf(upload, values)  # needs LibreOffice, else PdfUnavailable (501)

Bad input raises a :class:`saraban.errors.SarabanError` with a status: an unknown form
:class:`FormNotFound` (404), bad data :class:`InvalidFormData` (400, every problem with its
field path), a broken or unsafe template :class:`InvalidTemplate` (400), an oversized upload
:class:`TemplateTooLarge` (413). See docs/forms.md.
"""

from __future__ import annotations

from saraban.templates.forms._builtin import (
    blank_docx,
    blank_pdf,
    fill_docx,
    fill_pdf,
    form_schema,
    kept_form_data,
    list_forms,
    validate_form_data,
)
from saraban.templates.forms._catalogue import FormInfo
from saraban.templates.forms._errors import (
    ConversionFailed,
    FormNotFound,
    InvalidFormData,
    InvalidTemplate,
    PdfUnavailable,
    TemplateTooLarge,
)
from saraban.templates.forms._photos import Photo, PhotoError, clean_photo, decode_upload
from saraban.templates.forms._sandbox import Limits
from saraban.templates.forms._uploaded import TemplateInfo, fill_uploaded, inspect_template

__all__ = [
    "ConversionFailed",
    "FormInfo",
    "FormNotFound",
    "InvalidFormData",
    "InvalidTemplate",
    "Limits",
    "PdfUnavailable",
    "Photo",
    "PhotoError",
    "TemplateInfo",
    "TemplateTooLarge",
    "blank_docx",
    "blank_pdf",
    "clean_photo",
    "decode_upload",
    "fill_docx",
    "fill_pdf",
    "fill_uploaded",
    "fill_uploaded_pdf",
    "form_schema",
    "inspect_template",
    "list_forms",
    "kept_form_data",
    "validate_form_data",
]


def fill_uploaded_pdf(data: bytes, values: dict) -> bytes:
    """The uploaded template filled and converted by LibreOffice headless.

    Raises :class:`PdfUnavailable` (501) when LibreOffice is not installed (the .docx from
    :func:`fill_uploaded` still works), after checking the template and the values, so a
    clerk's mistakes are reported first.
    """
    from saraban.templates.forms._convert import docx_to_pdf

    return docx_to_pdf(fill_uploaded(data, values))
