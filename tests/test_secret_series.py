"""Secret letters are numbered in their own series (issue 11): the register a user may see
runs without gaps, whatever letters above their clearance were issued in between.

ระเบียบว่าด้วยการรักษาความลับของทางราชการ พ.ศ. ๒๕๔๔ keeps secret documents in their own
register (ทะเบียนหนังสือลับ, /work/shared/reference: "recorded in a separate secret-document
register"); each level has its own series here, as a user cleared for ลับ may not see
ลับมาก. The number prints the level before the serial: "นค ๐๐๑๙.๓/ลับ ๑".
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from test_archive_repair import QuickRenderer

from saraban.archive import open_archive, outgoing_register
from saraban.thai import parse_ref_no
from saraban.usecases import registers

DAY = dt.date(2025, 3, 3)
ACTOR = "ธุรการ"


@pytest.fixture
def archive(archive_home, database_url):
    opened = open_archive(archive_home, database_url, renderer=QuickRenderer())
    opened.add_unit(
        ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", address=["ถนนมิตรภาพ นค ๔๓๐๐๐"], actor="tester"
    )
    try:
        yield opened
    finally:
        opened.close()


def _every_page(archive, kind, day, clearance, per_page, *, newest_first=True):
    """The totals every page of the register of ``day`` gave (a set), and its rows in order
    (a page past the last is empty)."""
    pages = [
        registers.register_page(
            archive,
            kind,
            day,
            day,
            register=None,
            clearance=clearance,
            page=n,
            per_page=per_page,
            newest_first=newest_first,
        )  # fmt: skip
        for n in range(1, 5)
    ]
    return {total for total, _rows in pages}, [r for _total, rows in pages for r in rows]


def _issue(archive, subject, **fields):
    return archive.issue(make_letter(subject, **fields), ARCHIVE_UNIT, actor=ACTOR, date=DAY)


def test_secret_letters_take_their_own_series_and_leave_no_gap(archive):
    first = _issue(archive, "หนังสือปกติฉบับแรก")
    secret = _issue(archive, "หนังสือลับ", secrecy="ลับ")
    more_secret = _issue(archive, "หนังสือลับมาก", secrecy="ลับมาก")
    second = _issue(archive, "หนังสือปกติฉบับที่สอง")
    second_secret = _issue(archive, "หนังสือลับฉบับที่สอง", secrecy="ลับ")
    circular = _issue(archive, "หนังสือเวียน", circular=True)
    assert first.ref_no == "นค ๐๐๑๙.๓/๑" and second.ref_no == "นค ๐๐๑๙.๓/๒"
    assert secret.ref_no == "นค ๐๐๑๙.๓/ลับ ๑"
    assert second_secret.ref_no == "นค ๐๐๑๙.๓/ลับ ๒"
    assert more_secret.ref_no == "นค ๐๐๑๙.๓/ลับมาก ๑"
    assert circular.ref_no == "นค ๐๐๑๙.๓/ว ๑"
    # The printed letter carries the same number, and it reads back.
    assert archive.letter_document(secret.id)["ref_no"] == secret.ref_no
    assert parse_ref_no(secret.ref_no).secret == "ลับ"
    assert archive.serials(ARCHIVE_UNIT, year=2568) == [1, 2]
    assert archive.serials(ARCHIVE_UNIT, year=2568, secrecy="ลับ") == [1, 2]
    assert archive.serials(ARCHIVE_UNIT, year=2568, secrecy="ลับมาก") == [1]
    assert archive.verify() == []
    # The number's key tells it from the normal series' same serial.
    assert archive.get(secret.id).ref_no != archive.get(first.id).ref_no
    assert parse_ref_no("นค 0019.3/ลับ 1").key != parse_ref_no("นค 0019.3/1").key


@pytest.mark.parametrize(
    ("clearance", "shown"),
    [
        (None, ["๑", "๒", "ว ๑"]),
        ("ลับ", ["๑", "๒", "ว ๑", "ลับ ๑", "ลับ ๒"]),
        ("ลับมาก", ["๑", "๒", "ว ๑", "ลับ ๑", "ลับ ๒", "ลับมาก ๑"]),
    ],
)
def test_the_register_each_user_sees_runs_without_gaps(archive, clearance, shown):
    _issue(archive, "หนังสือปกติฉบับแรก")
    _issue(archive, "หนังสือลับ", secrecy="ลับ")
    _issue(archive, "หนังสือลับมาก", secrecy="ลับมาก")
    _issue(archive, "หนังสือปกติฉบับที่สอง")
    _issue(archive, "หนังสือลับฉบับที่สอง", secrecy="ลับ")
    _issue(archive, "หนังสือเวียน", circular=True)
    rows = list(archive.sent_register(DAY, DAY, None, clearance))
    assert [r.serial_label for r in rows] == shown
    # The page (counted and cut in the database) holds the same rows, newest first, and
    # counts only those: a total or a page break never tells of a letter above it.
    for per_page in (2, 50):
        totals, paged = _every_page(archive, "sent", DAY, clearance, per_page)
        assert totals == {len(shown)}
        assert [r.serial_label for r in paged] == shown[::-1]
    _totals, oldest = _every_page(archive, "sent", DAY, clearance, 50, newest_first=False)
    assert [r.serial_label for r in oldest] == shown
    # The exported table (CSV, DOCX, PDF are written from it) says the same.
    table = registers.register_table(archive, "sent", DAY, DAY, None, clearance)
    assert [row[1] for row in table.rows] == shown
    # Each series the user sees runs 1..n.
    by_series: dict[str, list[int]] = {}
    for r in rows:
        by_series.setdefault(r.serial_label.rpartition(" ")[0], []).append(r.serial or 0)
    assert all(serials == list(range(1, len(serials) + 1)) for serials in by_series.values())
    # The archive's own register (for the operator) holds every series.
    assert [row[1] for row in outgoing_register(archive, DAY, DAY).rows] == [
        "๑",
        "๒",
        "ว ๑",
        "ลับ ๑",
        "ลับ ๒",
        "ลับมาก ๑",
    ]


def test_a_secret_number_is_reserved_from_its_own_series(archive):
    _issue(archive, "หนังสือลับ", secrecy="ลับ")
    reserved = archive.reserve(ARCHIVE_UNIT, actor=ACTOR, date=DAY, secrecy="ลับ")
    assert reserved.ref_no == "นค ๐๐๑๙.๓/ลับ ๒"
    issued = archive.issue(
        make_letter("หนังสือลับตามเลขจอง", secrecy="ลับ"),
        ARCHIVE_UNIT,
        actor=ACTOR,
        date=DAY,
        reservation=reserved.id,
    )
    assert issued.ref_no == "นค ๐๐๑๙.๓/ลับ ๒"
    assert archive.serials(ARCHIVE_UNIT, year=2568) == []


@pytest.mark.parametrize("clearance", [None, "ลับ", "ลับที่สุด"])
def test_the_incoming_registers_page_holds_what_the_user_may_see_and_counts_only_that(
    archive, clearance
):
    when = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
    for n, secrecy in enumerate((None, "ลับ", None, "ลับมาก", None, "ลับ")):
        archive.receive(
            ARCHIVE_UNIT, sender=f"อำเภอ {n}", recipient="ผู้ว่าราชการ", subject="รายงาน",
            actor=ACTOR, received_at=when, secrecy=secrecy,
        )  # fmt: skip
    day = when.astimezone().date()
    rows = archive.received(date_from=day, date_to=day, register=None, clearance=clearance)
    seen = [(r.register, r.year, r.serial, r.sender) for r in rows]
    totals, paged = _every_page(archive, "received", day, clearance, 2)
    assert totals == {len(seen)}
    assert [(r.register, r.year, r.serial, r.sender) for r in paged] == seen[::-1]
    assert len(seen) == {None: 3, "ลับ": 5, "ลับที่สุด": 6}[clearance]
