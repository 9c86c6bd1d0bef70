"""Filled report forms travel with a letter as enclosures and are archived with it."""

from __future__ import annotations

import io
import json

import pytest
from conftest import ARCHIVE_UNIT, DATA, make_letter
from docx import Document
from pdfutil import pdftotext

from saraban.archive import IssueFailed
from saraban.errors import InvalidLetter

PLAN = json.loads((DATA / "forms" / "centre_year_plan.json").read_text("utf-8"))


def letter_with_form(data=PLAN, name="centre_year_plan"):
    return make_letter(
        enclosures=[
            {"title": "แนวทางการดำเนินงาน", "quantity": "๑ ชุด"},
            {"title": "แผนการดำเนินงานประจำปี", "quantity": "๑ ฉบับ",
             "form": {"name": name, "data": data}},
        ]
    )  # fmt: skip


@pytest.mark.pdf
def test_an_enclosed_form_is_filled_stored_and_verified(archive):
    issued = archive.issue(letter_with_form(), ARCHIVE_UNIT, actor="clerk")
    files = issued.letter["enclosures"][1]["files"]
    assert set(files) == {"docx", "pdf"}
    assert "files" not in issued.letter["enclosures"][0]

    docx = archive.enclosure_file(issued.id, 1, "docx").read_bytes()
    cells = [c.text for t in Document(io.BytesIO(docx)).tables for r in t.rows for c in r.cells]
    assert f"- {PLAN['targets'][0]['target']}" in cells
    pdf = archive.enclosure_file(issued.id, 1, "pdf").read_bytes()
    assert PLAN["targets"][1]["target"].replace(" ", "") in "".join(pdftotext(pdf, "-raw").split())

    # The archived document, and the PDF/A's embedded copy, name the enclosed files.
    assert archive.letter_document(issued.id)["enclosures"][1]["files"] == files
    assert archive.verify() == []
    with pytest.raises(Exception, match="no filled form"):
        archive.enclosure_file(issued.id, 0, "pdf")


def test_bad_form_data_takes_no_number(archive):
    with pytest.raises(InvalidLetter) as error:
        archive.issue(letter_with_form(data={"targets": "not a list"}), ARCHIVE_UNIT, actor="c")
    assert all(p.field.startswith("enclosures.1.form.data") for p in error.value.problems)
    with pytest.raises(InvalidLetter) as error:
        archive.issue(letter_with_form(name="no_such_form"), ARCHIVE_UNIT, actor="c")
    assert error.value.problems[0].field == "enclosures.1.form.name"
    assert archive.letters() == []  # no number taken


def test_a_form_that_cannot_be_filled_leaves_the_number_unused(archive, monkeypatch):
    from saraban.templates import forms

    def broken(name, data):
        raise forms.InvalidFormData([])  # as if the template refused the data

    monkeypatch.setattr(forms, "fill_pdf", broken)
    with pytest.raises(IssueFailed, match="recorded as unused"):
        archive.issue(letter_with_form(), ARCHIVE_UNIT, actor="clerk")
    assert archive.verify() == []
