"""What a clerk reads is Thai and Buddhist-era: the audit table, the letter's history, the
import history, the names of downloaded registers and forms. The machine values (``user.login``,
ISO dates) stay where programs read them: the audit chain, the API, the CSV columns."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_service_support import (
    SEEDS,
    add_unit,
    add_users,
    login,
    make_app,
    seed_letter,
    store_letter,
)

from saraban.service._clerk_text import be_datetime, event_details, event_name

ISO_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d")


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


def _disposition(response) -> tuple[str, str]:
    """The download's ASCII fallback name and the name a clerk sees."""
    header = response.headers["Content-Disposition"]
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    shown = unquote(header.split("filename*=UTF-8''")[1])
    return fallback, shown


# ---- the words ----------------------------------------------------------------------------


def test_events_have_thai_names_and_unknown_ones_stay_readable():
    assert event_name("letter.issue") == "ออกเลขและออกหนังสือ"
    assert event_name("user.login") == "เข้าสู่ระบบ"
    assert event_name("letter.sign") == "letter.sign"  # a newer event: its code, not nothing
    assert event_name(None) == ""


def test_event_details_in_thai_with_be_dates_and_no_hashes():
    detail = {
        "date": "2025-12-15",
        "docx_sha256": "ab" * 32,
        "ref_no": "นค ๐๐๑๙.๓/ว ๑",
        "register": "นค ๐๐๑๙.๓",
        "repaired": False,
        "serial": 12,
        "series": "circular",
        "year": 2568,
        "note": None,
    }
    assert event_details(detail) == [
        ("ที่", "นค ๐๐๑๙.๓/ว ๑"),
        ("ลงวันที่", "๑๕ ธันวาคม ๒๕๖๘"),
        ("ทะเบียน", "นค ๐๐๑๙.๓"),
        ("เลขทะเบียน", "๑๒"),
        ("ปี", "๒๕๖๘"),
        ("ชุดเลข", "หนังสือเวียน (ว)"),
        ("ซ่อมจากการค้าง", "ไม่ใช่"),
    ]


def test_a_failed_login_summary_reads_in_thai():
    summary = {
        "addresses": {"10.0.0.7": 40},
        "count": 52,
        "from": "2025-12-15T03:00:00+00:00",
        "names": {"admin": 50, "root": 2},
        "to": "2025-12-15T03:15:00+00:00",
    }
    shown = dict(event_details(summary))
    assert shown["จำนวนครั้ง"] == "๕๒"
    assert shown["ชื่อที่ใช้"] == "admin (๕๐), root (๒)"
    assert shown["จาก"].startswith("๑๕ ธ.ค. ๖๘") and shown["จาก"].endswith("น.")


def test_a_moment_on_the_offices_clock_in_be():
    moment = dt.datetime(2025, 12, 15, 3, 4, tzinfo=dt.UTC)
    local = moment.astimezone()
    shown = be_datetime(moment.isoformat())
    assert shown == be_datetime(moment)
    assert shown.endswith(" น.") and "๒๕" not in shown[:3]
    assert (
        f"{local.hour:02d}.{local.minute:02d}".translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
        in shown
    )
    assert be_datetime("") == "" and be_datetime("not a date") == "not a date"


# ---- the pages ----------------------------------------------------------------------------


def test_the_audit_table_reads_in_thai(app, client):
    store_letter(app, seed_letter())
    login(app.test_client(), "clerk")
    login(client, "admin")
    page = client.get("/admin/").get_data(as_text=True)
    audit = page[page.index('id="audit"') :]
    assert "เข้าสู่ระบบ" in audit and "นำเข้าหนังสือ" in audit
    assert ">user.login<" not in audit and ">letter.import<" not in audit
    assert '{"' not in audit  # no JSON for a person to read
    assert "จากเครื่อง" in audit and "ไฟล์ต้นฉบับ" in audit
    assert not ISO_DATE.search(audit)


def test_the_letter_history_reads_in_thai(app, client):
    record = store_letter(app, seed_letter())
    login(client, "clerk")
    page = client.get(f"/letters/{record.public_id}").get_data(as_text=True)
    history = page[page.index('id="history-h"') :]
    assert "นำเข้าหนังสือ" in history and "letter.import" not in history


def test_the_import_history_is_dated_in_be(app, client):
    csrf = login(client, "clerk")
    seed = SEEDS / "001_1817bd84ea7a4ec5.txt"
    client.post(
        "/imports",
        data={"csrf_token": csrf, "files": [(io.BytesIO(seed.read_bytes()), seed.name)]},
        content_type="multipart/form-data",
    )
    page = client.get("/imports").get_data(as_text=True)
    history = page[page.index("การนำเข้าล่าสุด") :]
    today = dt.datetime.now(dt.UTC).astimezone().date()
    assert (
        f" {str(today.year + 543)[-2:]}".translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
        in history
    )
    assert " น.</a>" in history
    # no ISO moment (a random public id in a link may hold "T0" itself)
    assert not ISO_DATE.search(history) and not re.search(r"\dT\d\d:\d\d", history)


def test_nothing_says_a_file_is_too_large_before_one_is_chosen(client):
    """The size warning is hidden until the script finds the files chosen too large: a
    stylesheet rule must not show an element marked ``hidden`` (checked in a real browser
    in test_ui_browser.py)."""
    login(client, "clerk")
    page = client.get("/imports").get_data(as_text=True)
    assert re.search(r"<span[^>]*data-size-error hidden>", page)
    css = (Path(__file__).parents[1] / "service" / "static" / "saraban.css").read_text("utf-8")
    assert "[hidden] { display: none !important; }" in css


def test_a_register_export_is_named_in_thai_with_be_dates(client):
    login(client, "clerk")
    response = client.get("/registers/export?kind=sent&format=csv&from=1/10/2568&to=31/12/2568")
    assert response.status_code == 200
    fallback, shown = _disposition(response)
    assert shown == "ทะเบียนหนังสือส่ง ๑ ตุลาคม ๒๕๖๘ ถึง ๓๑ ธันวาคม ๒๕๖๘.csv"
    assert fallback == "register-sent-2568-10-01-2568-12-31.csv"
    received = client.get("/registers/export?kind=received&format=pdf&from=1/1/2569&to=2/1/2569")
    assert _disposition(received)[1] == "ทะเบียนหนังสือรับ ๑ มกราคม ๒๕๖๙ ถึง ๒ มกราคม ๒๕๖๙.pdf"


def test_a_forms_download_is_named_by_its_thai_title(client):
    login(client, "clerk")
    blank = client.get("/forms/self_development_plan/blank.docx")
    assert _disposition(blank) == (
        "self_development_plan-blank.docx",
        "แผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน (แบบว่าง).docx",
    )
