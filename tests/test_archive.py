"""The archive on a real database (SQLite, and PostgreSQL under ``-m postgres``): registers,
issuing, reservations, cancelling, read-only rows, the audit chain, verify, references and
the incoming register. Letters are rendered by the real renderers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from saraban.archive import IssueFailed, open_archive
from saraban.archive._db import head_revision
from saraban.errors import BadRequest, Conflict, InvalidLetter, NotFound

ACTOR = "tester"
D2567 = dt.date(2024, 12, 30)  # BE 2567
D2568 = dt.date(2025, 1, 2)  # BE 2568


def issue(archive, subject="ทดสอบ", register=ARCHIVE_UNIT, **kwargs):
    fields = {k: kwargs.pop(k) for k in ("circular", "references") if k in kwargs}
    return archive.issue(make_letter(subject, **fields), register, actor=ACTOR, **kwargs)


def raw(archive, sql, **params):
    """Run SQL straight on the database, as someone with database access could."""
    with archive.engine.begin() as conn:
        result = conn.execute(text(sql), params)
        return result.all() if result.returns_rows else None


# ---- schema ----------------------------------------------------------------------------------


def test_open_creates_schema_and_reopens(archive, archive_home, database_url):
    from saraban.archive._db import current_revision

    assert current_revision(archive.engine) == head_revision()
    if database_url is None:
        assert (archive_home / "saraban.sqlite3").exists()
        assert raw(archive, "PRAGMA journal_mode") == [("wal",)]
    again = open_archive(archive_home, database_url)
    try:
        assert [u.prefix for u in again.units()] == [ARCHIVE_UNIT]
    finally:
        again.close()


def test_unsupported_database_url_is_named(tmp_path):
    with pytest.raises(BadRequest, match="SARABAN_DATABASE_URL"):
        open_archive(tmp_path, "mysql://x@localhost/db")


# ---- organisation ----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "0019.3", "นครพนม 12", "นค"])
def test_bad_prefix_is_refused(archive, prefix):
    with pytest.raises(BadRequest, match="prefix"):
        archive.add_unit(prefix, "หน่วย", actor=ACTOR)


def test_prefix_in_another_spelling_is_the_same_unit(archive):
    registers = [r.name for r in archive.registers()]
    with pytest.raises(Conflict):
        archive.add_unit("นค 0019.3", "ซ้ำ", actor=ACTOR)
    assert [r.name for r in archive.registers()] == registers  # no register left behind


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", ["ศาลากลาง\x1b[31m"]),
        ("address", ["\u202eบรรทัด"]),
        ("address", "ไม่ใช่รายการ"),
        ("address", ["บรรทัด"] * 9),
        ("signer", {"name": "นาย ก", "position": [1, {"x": [2]}, None]}),
        ("signer", {"name": "นาย\x00ก", "position": ["นายอำเภอ"]}),
    ],
)
def test_a_units_address_and_signer_are_lines_of_text(archive, field, value):
    with pytest.raises(BadRequest, match=field):
        archive.add_unit("นค ๐๐๒๐.๑", "หน่วย", actor=ACTOR, **{field: value})
    assert all(u.prefix != "นค ๐๐๒๐.๑" for u in archive.units())


def test_units_sharing_one_register_share_its_counter(archive):
    archive.add_register("ทะเบียนหนังสือส่ง ศาลากลาง", actor=ACTOR)
    for prefix in ("นค ๐๐๑๙.๒", "นค ๐๐๒๓.๓"):
        archive.add_unit(prefix, "ศาลากลาง", register="ทะเบียนหนังสือส่ง ศาลากลาง", actor=ACTOR)
    a = issue(archive, register="นค ๐๐๑๙.๒", date=D2568)
    b = issue(archive, register="นค 0023.3", date=D2568)  # any spelling of the prefix
    c = issue(archive, date=D2568)  # the fixture's unit keeps its own register
    assert (a.ref_no, b.ref_no, c.ref_no) == ("นค ๐๐๑๙.๒/๑", "นค ๐๐๒๓.๓/๒", "นค ๐๐๑๙.๓/๑")
    with pytest.raises(BadRequest, match="shared"):
        issue(archive, register="ทะเบียนหนังสือส่ง ศาลากลาง")
    shared = next(r for r in archive.registers() if r.name.startswith("ทะเบียน"))
    assert shared.units == ["นค ๐๐๑๙.๒", "นค ๐๐๒๓.๓"]
    with pytest.raises(NotFound):
        issue(archive, register="ลป ๐๐๑๙.๓")
    with pytest.raises(NotFound):
        archive.add_unit("ลป ๐๐๑๙.๓", "ลำปาง", register="ไม่มีทะเบียนนี้", actor=ACTOR)


# ---- numbering -------------------------------------------------------------------------------


def test_numbers_run_per_series_and_restart_each_year(archive):
    refs = [
        issue(archive, date=D2567).ref_no,
        issue(archive, date=D2567).ref_no,
        issue(archive, date=D2567, circular=True).ref_no,
        issue(archive, date=D2568).ref_no,
        issue(archive, date=D2568, circular=True).ref_no,
    ]
    assert refs == [
        "นค ๐๐๑๙.๓/๑",
        "นค ๐๐๑๙.๓/๒",
        "นค ๐๐๑๙.๓/ว ๑",
        "นค ๐๐๑๙.๓/๑",
        "นค ๐๐๑๙.๓/ว ๑",
    ]
    assert archive.serials(ARCHIVE_UNIT, year=2567) == [1, 2]
    assert archive.serials(ARCHIVE_UNIT, year=2567, circular=True) == [1]
    assert archive.verify() == []


def test_shared_circular_counter_and_year_format(archive):
    archive.add_unit(
        "ลป ๐๐๑๙.๓",
        "ศาลากลางจังหวัดลำปาง",
        circular_series="shared",
        number_format="year",
        actor=ACTOR,
    )
    refs = [
        issue(archive, register="ลป ๐๐๑๙.๓", date=D2567).ref_no,
        issue(archive, register="ลป ๐๐๑๙.๓", date=D2567, circular=True).ref_no,
        issue(archive, register="ลป ๐๐๑๙.๓", date=D2567).ref_no,
    ]
    assert refs == ["ลป ๐๐๑๙.๓/๑/๒๕๖๗", "ลป ๐๐๑๙.๓/ว ๒/๒๕๖๗", "ลป ๐๐๑๙.๓/๓/๒๕๖๗"]


def test_issue_sets_number_date_files_audit_and_index(archive):
    issued = issue(archive)
    assert issued.date == dt.date.today()
    assert issued.letter["ref_no"] == issued.ref_no
    assert issued.letter["date"] == dt.date.today().isoformat()
    assert issued.docx_path.read_bytes()[:2] == b"PK"
    assert issued.pdf_path.read_bytes()[:5] == b"%PDF-"
    assert issued.pdf_path.name == issued.pdf_sha256
    assert archive.files.check(issued.pdf_sha256) is None
    record = archive.get(issued.id)
    assert (record.status, record.retention_years, record.keep_until) == (
        "issued",
        10,
        issued.date.year + 543 + 10,
    )
    assert archive.letter_document(issued.id)["ref_no"] == issued.ref_no
    assert [(job[1], job[2]) for job in archive.index_jobs()] == [(issued.id, "issued")]
    archive.index_done([job[0] for job in archive.index_jobs()])
    assert archive.index_jobs() == []
    actions = [r[0] for r in raw(archive, "SELECT action FROM audit_events ORDER BY seq")]
    assert actions[-1] == "letter.issue"
    assert archive.verify() == []


def test_letter_documents_are_kept_as_thai_text_not_escapes(archive):
    # json.dumps wrote each Thai character as a six-byte \u0e01: twice the document's size
    issued = issue(archive, subject="ทดสอบการเก็บข้อความไทย")
    sql = "SELECT CAST(doc AS TEXT) FROM letters WHERE id = :id"
    ((stored,),) = raw(archive, sql, id=issued.id)
    assert "ทดสอบการเก็บข้อความไทย" in stored and "\\u0e" not in stored
    assert archive.letter_document(issued.id)["subject"] == "ทดสอบการเก็บข้อความไทย"


def test_a_lone_surrogate_in_a_json_value_is_kept_escaped():
    from saraban.archive._db import json_text

    assert json_text({"a": "ก\ud800"}) == '{"a": "\\u0e01\\ud800"}'  # UTF-8 cannot hold it
    assert json_text({"a": "ก"}) == '{"a": "ก"}'
    assert json.loads(json_text({"a": "ก\ud800"})) == {"a": "ก\ud800"}


@pytest.mark.pdf
def test_archived_pdf_carries_the_letter(archive):
    import io

    from pypdf import PdfReader

    issued = issue(archive, subject="หนังสือทดสอบ PDF/A")
    reader = PdfReader(io.BytesIO(issued.pdf_path.read_bytes()))
    embedded = json.loads(reader.attachments["letter.json"][0])
    assert embedded["ref_no"] == issued.ref_no
    assert embedded["subject"] == "หนังสือทดสอบ PDF/A"
    assert issued.ref_no.split("/")[0] in reader.pages[0].extract_text()


def test_bad_letter_takes_no_number(archive):
    with pytest.raises(InvalidLetter) as info:
        archive.issue(make_letter(subject=""), ARCHIVE_UNIT, actor=ACTOR, date=D2568)
    assert "subject" in str(info.value)
    with pytest.raises(InvalidLetter, match="ref_no"):
        archive.issue(make_letter(ref_no="นค ๐๐๑๙.๓/๕"), ARCHIVE_UNIT, actor=ACTOR, date=D2568)
    with pytest.raises(InvalidLetter, match="date"):
        archive.issue(make_letter(date="2025-01-03"), ARCHIVE_UNIT, actor=ACTOR, date=D2568)
    with pytest.raises(InvalidLetter, match="retention"):
        issue(archive, date=D2568, retention_years=0)
    assert issue(archive, date=D2568).serial == 1


def test_retention_is_kept_per_letter(archive):
    never = issue(archive, date=D2568, retention_years=None)
    one = archive.issue(make_letter(retention_years=1), ARCHIVE_UNIT, actor=ACTOR, date=D2568)
    assert archive.get(never.id).keep_until is None
    assert archive.get(one.id).keep_until == 2569
    assert "retention_years" not in one.letter


def test_unit_defaults_fill_what_the_letter_leaves_empty(archive):
    archive.add_unit(
        "บก ๐๐๑๙.๓",
        "ศาลากลางจังหวัดบึงกาฬ",
        address=["ถนนบึงกาฬ บก ๓๘๐๐๐"],
        phone="๐ ๔๒๔๙ ๒๔๖๐",
        footer="บึงกาฬ เมืองน่าอยู่",
        actor=ACTOR,
    )
    letter = make_letter(sender={"name": None, "address": []}, contact={"phone": None})
    issued = archive.issue(letter, "บก ๐๐๑๙.๓", actor=ACTOR)
    assert issued.letter["sender"] == {
        "name": "ศาลากลางจังหวัดบึงกาฬ",
        "address": ["ถนนบึงกาฬ บก ๓๘๐๐๐"],
    }
    assert issued.letter["contact"]["phone"] == "๐ ๔๒๔๙ ๒๔๖๐"
    assert issued.letter["footer"] == "บึงกาฬ เมืองน่าอยู่"


class _BrokenRenderer:
    def render_docx(self, letter):
        return b"PK fake docx"

    def render_pdf(self, letter, *, pdfa=False):
        raise RuntimeError("the PDF engine broke")


def test_render_failure_records_the_number_unused(archive_home, database_url, archive):
    broken = open_archive(archive_home, database_url, renderer=_BrokenRenderer())
    try:
        with pytest.raises(IssueFailed, match="unused") as info:
            issue(broken, date=D2568)
    finally:
        broken.close()
    record = archive.get(info.value.letter_id)
    assert record.status == "unused"
    assert "PDF engine broke" in record.reason
    assert issue(archive, date=D2568).serial == 2
    assert archive.serials(ARCHIVE_UNIT, year=2568) == [1, 2]
    assert archive.verify() == []


# ---- reservations and cancelling -------------------------------------------------------------


def test_reservation_is_used_or_released_never_reused(archive):
    reserved = archive.reserve(ARCHIVE_UNIT, actor=ACTOR, date=D2568, note="หนังสือถึงกรม")
    assert reserved.ref_no == "นค ๐๐๑๙.๓/๑"
    later = issue(archive, date=D2568)
    assert later.serial == 2
    used = issue(archive, date=D2568, reservation=reserved.id)
    assert (used.id, used.ref_no) == (reserved.id, "นค ๐๐๑๙.๓/๑")
    with pytest.raises(Conflict):
        issue(archive, date=D2568, reservation=reserved.id)

    dropped = archive.reserve(ARCHIVE_UNIT, actor=ACTOR, date=D2568)
    with pytest.raises(BadRequest, match="reason"):
        archive.release(dropped.id, " ", actor=ACTOR)
    released = archive.release(dropped.id, "เรื่องยกเลิก ไม่ต้องส่ง", actor=ACTOR)
    assert (released.status, released.reason) == ("unused", "เรื่องยกเลิก ไม่ต้องส่ง")
    assert issue(archive, date=D2568).serial == 4
    assert archive.verify() == []


def test_reservation_must_match_series_and_year(archive):
    reserved = archive.reserve(ARCHIVE_UNIT, actor=ACTOR, date=D2567)
    with pytest.raises(Conflict, match="year"):
        issue(archive, date=D2568, reservation=reserved.id)
    with pytest.raises(Conflict, match="circular|series"):
        issue(archive, date=D2567, reservation=reserved.id, circular=True)
    assert archive.get(reserved.id).status == "reserved"


def test_reservation_of_a_past_year_is_recorded_unused_on_repair(archive):
    old = archive.reserve(ARCHIVE_UNIT, actor=ACTOR, date=dt.date(2020, 6, 1))
    current = archive.reserve(ARCHIVE_UNIT, actor=ACTOR)
    done = archive.repair()
    assert any(str(old.id) in line for line in done)
    assert archive.get(old.id).status == "unused"
    assert "2563" in archive.get(old.id).reason
    assert archive.get(current.id).status == "reserved"


def test_cancel_keeps_the_number_with_a_reason(archive):
    issued = issue(archive, date=D2568)
    with pytest.raises(BadRequest):
        archive.cancel(issued.id, "", actor=ACTOR)
    cancelled = archive.cancel(issued.id, "พิมพ์ชื่อผู้รับผิด", actor=ACTOR)
    assert (cancelled.status, cancelled.reason, cancelled.ref_no) == (
        "cancelled",
        "พิมพ์ชื่อผู้รับผิด",
        issued.ref_no,
    )
    with pytest.raises(Conflict):
        archive.cancel(issued.id, "อีกครั้ง", actor=ACTOR)
    assert issue(archive, date=D2568).serial == 2
    assert archive.files.check(issued.pdf_sha256) is None
    assert archive.verify() == []


# ---- the database itself refuses changes -----------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE letters SET subject = 'แก้ไข' WHERE id = :id",
        "UPDATE letters SET pdf_sha256 = NULL WHERE id = :id",
        "UPDATE letters SET serial = 99 WHERE id = :id",
        "UPDATE letters SET status = 'pending' WHERE id = :id",
        "DELETE FROM letters WHERE id = :id",
        "UPDATE audit_events SET actor = 'x' WHERE letter_id = :id",
        "DELETE FROM audit_events WHERE letter_id = :id",
    ],
)
def test_issued_rows_and_audit_trail_are_read_only_in_the_database(archive, sql):
    issued = issue(archive, date=D2568)
    with pytest.raises(DBAPIError, match="read-only|never deleted|cannot change|append-only"):
        raw(archive, sql, id=issued.id)
    assert archive.get(issued.id).subject == "ทดสอบ"
    assert archive.verify() == []


def test_cancelled_row_cannot_change_again(archive):
    issued = issue(archive, date=D2568)
    archive.cancel(issued.id, "ผิด", actor=ACTOR)
    with pytest.raises(DBAPIError, match="read-only"):
        raw(archive, "UPDATE letters SET reason = 'อื่น' WHERE id = :id", id=issued.id)


def test_received_number_cannot_change(archive):
    received = archive.receive(
        ARCHIVE_UNIT,
        sender="อำเภอเมือง",
        recipient="ผู้ว่าราชการจังหวัด",
        subject="รายงาน",
        actor=ACTOR,
    )
    with pytest.raises(DBAPIError, match="cannot change"):
        raw(archive, "UPDATE received SET serial = 5 WHERE id = :id", id=received.id)
    with pytest.raises(DBAPIError, match="never deleted"):
        raw(archive, "DELETE FROM received WHERE id = :id", id=received.id)


# ---- verify finds what is wrong --------------------------------------------------------------


def _disable_guards(archive):
    """What an attacker with database access would do first."""
    if archive.dialect == "postgresql":
        raw(archive, "ALTER TABLE audit_events DISABLE TRIGGER USER")
        raw(archive, "ALTER TABLE letters DISABLE TRIGGER USER")
    else:
        raw(archive, "DROP TRIGGER audit_events_no_update")
        raw(archive, "DROP TRIGGER audit_events_no_delete")
        raw(archive, "DROP TRIGGER letters_readonly")
        raw(archive, "DROP TRIGGER letters_no_delete")


def test_verify_finds_a_tampered_audit_chain(archive):
    issue(archive, date=D2568)
    issue(archive, date=D2568)
    _disable_guards(archive)
    raw(archive, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")
    problems = archive.verify()
    assert any("audit event 2" in p and "hash" in p for p in problems)


def test_verify_finds_a_removed_audit_event_and_letter(archive):
    first = issue(archive, date=D2568)
    issue(archive, date=D2568)
    _disable_guards(archive)
    raw(archive, "DELETE FROM audit_events WHERE letter_id = :id", id=first.id)
    raw(archive, "DELETE FROM index_queue")
    raw(archive, "DELETE FROM letter_references")
    raw(archive, "DELETE FROM letters WHERE id = :id", id=first.id)
    problems = archive.verify()
    assert any("numbers missing: 1" in p for p in problems)
    assert any("prev_hash" in p or "expected sequence" in p for p in problems)


def test_verify_finds_changed_missing_and_stray_files(archive):
    a = issue(archive, date=D2568)
    b = issue(archive, date=D2568)
    assert archive.verify() == []
    a.pdf_path.chmod(0o644)
    a.pdf_path.write_bytes(a.pdf_path.read_bytes() + b"%tampered")
    b.docx_path.chmod(0o644)
    b.docx_path.unlink()
    stray = archive.files.put(b"a file nobody recorded")
    problems = "\n".join(archive.verify())
    assert f"{a.pdf_sha256} has SHA-256" in problems or "file changed" in problems
    assert str(b.docx_path) in problems and "file missing" in problems
    assert stray in problems and "not in the database" in problems


# ---- references ------------------------------------------------------------------------------


def test_reference_links_letters_both_ways(archive):
    first = issue(archive, subject="เรื่องแรก", date=dt.date(2025, 2, 11))
    # Cited in another spelling: Arabic digits, extra spaces, abbreviated month.
    citation = "หนังสือจังหวัดหนองคาย ที่ นค 0019.3 / 1 ลงวันที่ 11 ก.พ. 68"
    second = issue(archive, subject="เรื่องที่สอง", references=[citation], date=D2568.replace(month=3))
    third = issue(
        archive,
        subject="เรื่องที่สาม",
        references=[f"หนังสือจังหวัดหนองคาย ที่ {second.ref_no} ลงวันที่ ๒ มีนาคม ๒๕๖๘"],
        date=D2568.replace(month=4),
    )
    for start in (first, second, third):
        thread = archive.thread(start.id)
        assert [r.id for r in thread.letters] == [first.id, second.id, third.id]
        assert thread.links == sorted([(second.id, first.id), (third.id, second.id)])


def test_reference_to_a_wrong_date_or_unknown_letter_stays_unlinked(archive):
    first = issue(archive, date=D2568)
    other = issue(
        archive,
        references=[
            f"หนังสือจังหวัดหนองคาย ที่ {first.ref_no} ลงวันที่ ๕ มกราคม ๒๕๖๘",  # wrong date
            "หนังสือกรม ที่ มท ๐๔๐๐/ว ๑๒ ลงวันที่ ๑ มกราคม ๒๕๖๘",  # not in the archive
        ],
        date=D2568,
    )
    assert [r.id for r in archive.thread(other.id).letters] == [other.id]


def test_reference_links_when_the_cited_letter_arrives_later(archive):
    citing = archive.store_imported(
        make_letter(
            ref_no="มท ๐๔๐๐/๗",
            date="2025-03-01",
            references=["หนังสือกรม ที่ มท ๐๔๐๐/๓ ลงวันที่ ๑ กุมภาพันธ์ ๒๕๖๘"],
        ),
        original=b"letter 7 as text",
        original_name="letter7.txt",
        actor=ACTOR,
    )
    cited = archive.store_imported(
        make_letter(ref_no="มท ๐๔๐๐/๓", date="2025-02-01"),
        original=b"letter 3 as text",
        original_name="letter3.txt",
        actor=ACTOR,
    )
    assert archive.thread(cited.id).links == [(citing.id, cited.id)]
    assert archive.get(cited.id).status == "stored"
    assert archive.verify() == []


# ---- incoming register -----------------------------------------------------------------------


def test_incoming_register_numbers_from_one_each_year(archive):
    tz = dt.timezone(dt.timedelta(hours=7))
    received = [
        archive.receive(
            ARCHIVE_UNIT,
            sender="อำเภอเมืองหนองคาย",
            recipient="ผู้ว่าราชการจังหวัดหนองคาย",
            subject=f"รายงานผล {n}",
            ref_no="นค ๐๑๑๘/๑๒๓",
            letter_date=dt.date(2024, 12, 20),
            received_at=at,
            actor=ACTOR,
        )
        for n, at in enumerate(
            [
                dt.datetime(2024, 12, 31, 16, 30, tzinfo=tz),
                dt.datetime(2024, 12, 31, 16, 45, tzinfo=tz),
                dt.datetime(2025, 1, 2, 8, 30, tzinfo=tz),
            ]
        )
    ]
    assert [(r.year, r.serial) for r in received] == [(2567, 1), (2567, 2), (2568, 1)]
    done = archive.record_action(received[0].id, "มอบกลุ่มงานส่งเสริมฯ ดำเนินการ", actor=ACTOR)
    assert done.action == "มอบกลุ่มงานส่งเสริมฯ ดำเนินการ"
    listed = archive.received(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 1, 31))
    assert [r.subject for r in listed] == ["รายงานผล 2"]
    with pytest.raises(BadRequest, match="sender"):
        archive.receive(ARCHIVE_UNIT, sender=" ", recipient="x", subject="y", actor=ACTOR)
    assert archive.verify() == []


def test_settings_name_the_database_url():
    from saraban.settings import SETTINGS

    assert "SARABAN_DATABASE_URL" in {s.name for s in SETTINGS}


def test_threads_storing_the_same_bytes_at_once_each_keep_them(tmp_path):
    """Two clerks confirming the same file at once: their threads wrote one temporary file
    (named by the process), truncated and renamed each other's, and one answered a 500."""
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from saraban.archive._files import FileStore

    store = FileStore(tmp_path / "files")
    data = os.urandom(4 * 1024 * 1024)
    start = threading.Barrier(8)

    def put(_n):
        start.wait()
        return store.put(data)

    with ThreadPoolExecutor(8) as pool:
        stored = set(pool.map(put, range(8)))
    [sha] = stored
    assert store.check(sha) is None and store.read(sha) == data
    # a temporary file left by a crash is still found and deleted (both names)
    folder = store.path(sha).parent
    for name in (f".{sha}.999999.tmp", f".{sha}.999999.12345.tmp"):
        (folder / name).write_bytes(b"partial")
    removed = store.remove_stale_temporaries(lambda pid: pid != 999999)
    assert sorted(p.name for p in removed) == sorted(
        (f".{sha}.999999.tmp", f".{sha}.999999.12345.tmp")
    )
