"""The checked letter type: validation happens once, at the edge (saraban.letter.check);
below it a CheckedLetter says the letter is valid, so the archive and the renderers take it
as it is instead of validating and deep-copying it again."""

from __future__ import annotations

import copy
import pickle

import pytest
from conftest import ARCHIVE_UNIT, make_letter

import saraban.letter as letter_module
from saraban.errors import InvalidLetter
from saraban.letter import CheckedLetter, check, checked
from saraban.vocabulary import KINDS, LETTER_KINDS, SECRECIES, URGENCIES


def test_check_makes_the_only_checked_letters():
    letter = check(make_letter())
    assert isinstance(letter, CheckedLetter) and isinstance(letter, dict)
    assert checked(letter) is letter
    with pytest.raises(TypeError):
        CheckedLetter(make_letter())  # not checked: refused


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("subject", ""),
        lambda d: d.__delitem__("subject"),
        lambda d: d.update(subject=""),
        lambda d: d.pop("subject"),
        lambda d: d.setdefault("new", 1),
        lambda d: d.clear(),
        lambda d: d.popitem(),
    ],
)
def test_a_checked_letter_cannot_change_unchecked(change):
    letter = check(make_letter())
    with pytest.raises(TypeError):
        change(letter)
    assert letter["subject"]


def test_replace_checks_the_changed_letter():
    letter = check(make_letter())
    numbered = letter.replace(ref_no="นค ๐๐๑๙.๓/๑๒")
    assert isinstance(numbered, CheckedLetter) and numbered["ref_no"] == "นค ๐๐๑๙.๓/๑๒"
    assert letter["ref_no"] is None
    with pytest.raises(InvalidLetter):
        letter.replace(subject=7)


def test_copies_are_plain_and_pickles_stay_checked():
    letter = check(make_letter())
    assert type(copy.copy(letter)) is dict and type(copy.deepcopy(letter)) is dict
    again = pickle.loads(pickle.dumps(letter))
    assert isinstance(again, CheckedLetter) and again == letter


def test_the_renderer_does_not_validate_a_checked_letter_again(monkeypatch):
    from saraban.templates import render_docx

    letter = check(make_letter())
    calls = []
    real = letter_module.validate
    monkeypatch.setattr(letter_module, "validate", lambda doc: calls.append(1) or real(doc))
    render_docx(letter)
    assert calls == []
    render_docx(dict(letter))  # a plain document is validated
    assert calls == [1]


class _Recording:
    """A renderer that records what it was handed (the real DOCX for both outputs)."""

    def __init__(self):
        self.letters = []

    def render_docx(self, letter):
        from saraban.templates import render_docx

        self.letters.append(letter)
        return render_docx(letter)

    def render_pdf(self, letter, *, pdfa=False):
        self.letters.append(letter)
        return b"%PDF-1.7 stand-in " + letter["ref_no"].encode()


def test_issuing_validates_once_and_hands_the_renderer_a_checked_letter(archive_home, monkeypatch):
    from saraban.archive import open_archive

    renderer = _Recording()
    archive = open_archive(archive_home, renderer=renderer)
    try:
        archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="tester")
        calls = []
        real = letter_module.validate
        monkeypatch.setattr(letter_module, "validate", lambda doc: calls.append(1) or real(doc))
        issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
    finally:
        archive.close()
    assert all(isinstance(seen, CheckedLetter) for seen in renderer.letters)
    assert renderer.letters[0]["ref_no"] == issued.ref_no
    # The letter as it came in, and once more with the number the register gave it.
    assert len(calls) == 2


def test_a_letter_that_cannot_carry_the_number_takes_none(archive):
    """An order is numbered n/year, not with a unit prefix: issuing it is refused before
    the number is committed (it used to fail in the renderer and waste the number)."""
    from saraban.letter import new_letter

    order = new_letter(
        "order",
        sender={"name": "จังหวัดหนองคาย"},
        subject="แต่งตั้งคณะทำงาน",
        body=["ด้วยจังหวัดหนองคายเห็นสมควรแต่งตั้งคณะทำงาน"],
        signer={"name": "นายสมชาย ใจดี", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
    )
    with pytest.raises(InvalidLetter, match="ref_no"):
        archive.issue(order, ARCHIVE_UNIT, actor="tester")
    assert archive.letters() == []
    assert archive.verify() == []


def test_one_table_of_the_vocabulary():
    """The kinds, urgencies and secrecy levels come from one table, read by the letter
    rules, the form and the API alike."""
    from saraban.service._openapi import openapi_document

    assert KINDS == ("external", "memo", "order", "announcement", "stamped")
    assert letter_module.KINDS is KINDS and letter_module.URGENCIES is URGENCIES
    assert letter_module.SECRECIES is SECRECIES
    document = openapi_document()
    draft_schema = document["paths"]["/drafts"]["post"]["requestBody"]
    assert list(KINDS) in _enums(draft_schema)
    assert LETTER_KINDS["memo"].label == "บันทึกข้อความ (หนังสือภายใน)"
    assert not LETTER_KINDS["stamped"].prints("signer.name")


def _enums(node):
    if isinstance(node, dict):
        if "enum" in node:
            yield node["enum"]
        for value in node.values():
            yield from _enums(value)
    elif isinstance(node, list):
        for value in node:
            yield from _enums(value)
