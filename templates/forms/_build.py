"""Build the committed .docx templates of the built-in forms (used by scripts/make_forms.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from saraban.templates.forms._catalogue import FORMS
from saraban.templates.forms._design import build_docx_template

DOCX_DIR = Path(__file__).parent / "docx"
# The parts that carry the form; docProps/core.xml holds a timestamp and is not compared.
_COMPARED = ("word/document.xml", "word/styles.xml", "word/settings.xml")


def build_all() -> list[Path]:
    DOCX_DIR.mkdir(exist_ok=True)
    written = []
    for name, form in FORMS.items():
        path = DOCX_DIR / f"{name}.docx"
        path.write_bytes(build_docx_template(form.design))
        written.append(path)
    return written


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in _COMPARED}


def stale() -> list[str]:
    """Names of committed template files that differ from a fresh build (or are missing)."""
    out = []
    for name, form in FORMS.items():
        path = DOCX_DIR / f"{name}.docx"
        fresh = _parts(build_docx_template(form.design))
        if not path.exists() or _parts(path.read_bytes()) != fresh:
            out.append(path.name)
    return out
