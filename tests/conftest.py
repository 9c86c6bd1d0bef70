"""Shared test fixtures and paths.

``SEEDS`` holds the five seed letters (``*.txt`` PDF text extraction, ``*.letter.json``
ground truth), copied from the project's shared folder so that a clone tests on its own.

Every test marked ``pdf`` runs under ``pdfutil.no_weasyprint_warnings``: a Thai glyph missing
from the font, a stylesheet WeasyPrint cannot read or a resource it cannot fetch fails the
test, wherever in the code the PDF was made (unless it is marked ``missing_glyphs``).
"""

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "seeds"


@pytest.fixture(autouse=True)
def _weasyprint_logs_nothing(request):
    marked = request.node.get_closest_marker
    if marked("pdf") is None or marked("missing_glyphs") is not None:
        yield
        return
    from pdfutil import no_weasyprint_warnings

    with no_weasyprint_warnings():
        yield


# ---- databases for the archive tests (tests/postgres.py) --------------------------------------


def require_found(found, what: str):
    """``found`` (a server's binary), or skip the test when it is missing; in CI, where
    ``scripts/setup --test`` installs every server, fail instead."""
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} not found: run scripts/setup --test")
        pytest.skip(f"{what} not found")
    return found


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole session (initdb in a temporary folder)."""
    from postgres import PostgresServer, find_bin_dir

    bin_dir = require_found(find_bin_dir(), "PostgreSQL server binaries (initdb, pg_ctl)")
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    """None for the embedded SQLite archive, or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_server").create_database()


# ---- the archive (tests/test_archive*.py, tests/test_registers*.py) --------------------------
ARCHIVE_UNIT = "นค ๐๐๑๙.๓"


def make_letter(subject: str = "ทดสอบการออกเลขหนังสือ", **fields):
    """A short, valid external letter draft (no number, no date) for the archive tests."""
    from saraban.letter import new_letter

    defaults = {
        "sender": {"name": "ศาลากลางจังหวัดหนองคาย", "address": ["ถนนมิตรภาพ นค ๔๓๐๐๐"]},
        "subject": subject,
        "salutation": "เรียน",
        "addressee": "นายอำเภอ ทุกอำเภอ",
        "body": ["ด้วยจังหวัดหนองคายขอแจ้งเรื่องนี้ให้ทราบ"],
        "closing": "จึงเรียนมาเพื่อทราบ",
        "complimentary_close": "ขอแสดงความนับถือ",
        "signer": {"name": "นายสมชาย ใจดี", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
        "owner_unit": ["สำนักงานพัฒนาชุมชนจังหวัด"],
        "contact": {"phone": "๐ ๔๒๔๑ ๑๑๘๒", "fax": None, "email": None},
    }
    return new_letter("external", **(defaults | fields))


@pytest.fixture
def archive_home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def archive(archive_home, database_url):
    """A new archive (SQLite, and PostgreSQL under the ``postgres`` marker) with one unit."""
    from saraban.archive import open_archive

    opened = open_archive(archive_home, database_url)
    opened.add_unit(
        ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", address=["ถนนมิตรภาพ นค ๔๓๐๐๐"], actor="tester"
    )
    try:
        yield opened
    finally:
        opened.close()
