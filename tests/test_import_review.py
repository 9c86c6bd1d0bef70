"""Imported letters after they are kept: the clerk corrects what the importer read (each
change audited, checked by the letter format's rules) and confirms it; an issued letter of
ours never changes. Duplicates of imports: the same file, the same sender, number and date,
and our own issued file coming back."""

from __future__ import annotations

import datetime as dt

import pytest

from saraban.errors import Conflict, InvalidLetter
from conftest import ARCHIVE_UNIT, make_letter

ACTOR = "tester"


def _imported(archive, **fields):
    letter = make_letter(ref_no="มท ๐๔๐๐/๗", date="2025-03-01", **fields)
    return archive.store_imported(
        letter,
        original=b"letter 7 as text " + repr(fields).encode(),
        original_name="letter7.txt",
        actor=ACTOR,
        needs_review={"fields": ["ref_no", "footer"], "notes": []},
    )


def test_a_correction_is_checked_audited_and_indexed_and_confirm_clears_the_marks(archive):
    record = _imported(archive)
    jobs_before = len(archive.index_jobs(limit=None))
    corrected = archive.correct_imported(
        record.id, {"ref_no": "มท ๐๔๐๐/๘", "subject": "เรื่องที่แก้แล้ว"}, actor="clerk"
    )
    assert corrected.ref_no == "มท ๐๔๐๐/๘" and corrected.subject == "เรื่องที่แก้แล้ว"
    assert archive.letter_document(record.id)["ref_no"] == "มท ๐๔๐๐/๘"
    assert len(archive.index_jobs(limit=None)) > jobs_before
    event = archive.history(record.id)[-1]
    assert event.action == "letter.correct" and event.actor == "clerk"
    assert event.detail["before"] == {"ref_no": "มท ๐๔๐๐/๗", "subject": record.subject}
    assert event.detail["after"] == {"ref_no": "มท ๐๔๐๐/๘", "subject": "เรื่องที่แก้แล้ว"}
    # the marks stay until the clerk confirms
    assert archive.needs_review(record.id)["fields"] == ["ref_no", "footer"]
    archive.confirm_imported(record.id, actor="clerk")
    assert archive.needs_review(record.id) is None
    assert archive.history(record.id)[-1].action == "letter.confirm"
    assert archive.verify() == []


def test_a_correction_that_breaks_the_letter_format_is_refused_and_changes_nothing(archive):
    record = _imported(archive)
    with pytest.raises(InvalidLetter) as raised:
        archive.correct_imported(record.id, {"date": "2568-13-40"}, actor="clerk")
    assert {p.field for p in raised.value.problems} == {"date"}
    with pytest.raises(InvalidLetter):
        archive.correct_imported(record.id, {"subject": "x" * 5000}, actor="clerk")
    assert archive.letter_document(record.id)["date"] == "2025-03-01"
    assert [e.action for e in archive.history(record.id)] == ["letter.import"]


def test_fields_outside_the_correctable_ones_are_refused(archive):
    record = _imported(archive)
    with pytest.raises(Exception, match="secrecy"):
        archive.correct_imported(record.id, {"secrecy": "ลับ"}, actor="clerk")


def test_an_issued_letter_of_ours_is_never_corrected_nor_confirmed(archive):
    issued = archive.issue(
        make_letter(), ARCHIVE_UNIT, actor=ACTOR, date=dt.date(2025, 3, 1)
    )
    with pytest.raises(Conflict):
        archive.correct_imported(issued.id, {"subject": "แก้หนังสือที่ออกไปแล้ว"}, actor="clerk")
    with pytest.raises(Conflict):
        archive.confirm_imported(issued.id, actor="clerk")
    assert archive.get(issued.id).subject == "ทดสอบการออกเลขหนังสือ"
    assert archive.verify() == []
