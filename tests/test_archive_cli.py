"""The archive's commands through ``saraban.cli.main``, on a real instance folder."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from docx import Document

from saraban.cli import main


@pytest.fixture
def saraban(tmp_path, database_url, monkeypatch, capsys):
    """Run ``saraban ARGS...`` in-process; returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "home"))
    if database_url:
        monkeypatch.setenv("SARABAN_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("SARABAN_DATABASE_URL", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    status, out, _ = run(
        "register", "add", "--prefix", ARCHIVE_UNIT, "--name", "ศาลากลางจังหวัดหนองคาย",
        "--address", "ถนนมิตรภาพ นค ๔๓๐๐๐", "--actor", "clerk",
    )  # fmt: skip
    assert status == 0 and ARCHIVE_UNIT in out
    return run


@pytest.fixture
def letter_file(tmp_path):
    path = tmp_path / "letter.json"
    path.write_text(json.dumps(make_letter("ขอเชิญประชุม"), ensure_ascii=False), "utf-8")
    return path


def test_issue_list_cancel_verify(saraban, letter_file):
    status, out, _ = saraban("issue", str(letter_file), "--register", "นค 0019.3", "--json")
    assert status == 0
    issued = json.loads(out)
    assert issued["ref_no"] == "นค ๐๐๑๙.๓/๑"
    assert issued["date"] == dt.date.today().isoformat()
    for key in ("docx_path", "pdf_path"):
        with open(issued[key], "rb") as f:
            assert f.read(2) in (b"PK", b"%P")

    status, out, _ = saraban("issue", str(letter_file), "--register", ARCHIVE_UNIT)
    assert status == 0
    assert "ref_no\tนค ๐๐๑๙.๓/๒" in out.splitlines()

    status, out, _ = saraban("letters", "list", "--json")
    listed = json.loads(out)
    assert [(r["ref_no"], r["status"]) for r in listed] == [
        ("นค ๐๐๑๙.๓/๑", "issued"),
        ("นค ๐๐๑๙.๓/๒", "issued"),
    ]
    status, out, _ = saraban("cancel", str(issued["id"]), "--reason", "ส่งซ้ำ")
    assert status == 0 and "cancelled" in out
    status, out, _ = saraban("verify")
    assert status == 0 and "all checks passed" in out


def test_verify_exits_non_zero_when_a_file_changed(saraban, letter_file):
    _, out, _ = saraban("issue", str(letter_file), "--register", ARCHIVE_UNIT, "--json")
    pdf = json.loads(out)["pdf_path"]
    os.chmod(pdf, 0o644)
    with open(pdf, "ab") as f:
        f.write(b"tampered")
    status, out, err = saraban("verify")
    assert status == 1
    assert "file changed" in out and "problems found" in err


def test_bad_input_is_exit_2_with_the_field_named(saraban, tmp_path, letter_file):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(make_letter(subject=""), ensure_ascii=False), "utf-8")
    status, _, err = saraban("issue", str(bad), "--register", ARCHIVE_UNIT)
    assert status == 2 and "subject" in err
    status, _, err = saraban("issue", str(letter_file), "--register", "ลป ๐๐๑๙.๓")
    assert status == 2 and "register" in err
    status, _, err = saraban("registers", "export", "--from", "2025-01-01", "--to",
                             "2025-01-31", "--format", "docx")  # fmt: skip
    assert status == 2 and "-o FILE" in err
    _, out, _ = saraban("letters", "list")
    assert out == ""  # nothing was numbered


def test_reserve_release_receive_and_exports(saraban, letter_file, tmp_path):
    status, out, _ = saraban("reserve", "--register", ARCHIVE_UNIT, "--note", "ถึงกรม", "--json")
    reservation = json.loads(out)
    assert reservation["ref_no"] == "นค ๐๐๑๙.๓/๑"
    status, out, _ = saraban("release", str(reservation["id"]), "--reason", "ไม่ได้ส่ง")
    assert status == 0 and "unused" in out
    saraban("issue", str(letter_file), "--register", ARCHIVE_UNIT, "--retention", "never")
    status, out, _ = saraban(
        "receive", "--register", ARCHIVE_UNIT, "--from", "อำเภอเมือง", "--to", "ผู้ว่าฯ",
        "--subject", "รายงาน", "--ref-no", "นค ๐๑๑๘/๔๕", "--json",
    )  # fmt: skip
    assert status == 0 and json.loads(out)["serial"] == 1

    today = dt.date.today().isoformat()
    status, out, _ = saraban("registers", "export", "--from", today, "--to", today)
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert [r[1] for r in rows[1:]] == ["๑", "๒"]
    assert rows[1][8].startswith("ไม่ได้ใช้เลข")

    target = tmp_path / "out" / "incoming.docx"
    status, out, _ = saraban("registers", "export", "--from", today, "--to", today,
                             "--incoming", "--format", "docx", "-o", str(target))  # fmt: skip
    assert status == 0 and str(target) in out
    table = Document(str(target)).tables[0]
    assert table.rows[1].cells[6].text == "รายงาน"

    status, out, _ = saraban("retention", "due", str(dt.date.today().year + 543 + 10))
    assert status == 0
    assert len(list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))) == 1  # "never": not due
    status, out, _ = saraban("register", "list", "--json")
    assert json.loads(out)[0]["units"] == [ARCHIVE_UNIT]


def test_import_reads_each_file_into_the_archive_in_order(saraban, tmp_path):
    from conftest import SEEDS

    seeds = sorted(SEEDS.glob("*.txt"))[:3]
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    files = [str(p) for p in seeds] + [str(empty), str(seeds[0])]
    status, out, err = saraban("import", "--json", *files)
    assert status == 2  # the empty file and the second copy failed; the rest went in
    results = json.loads(out)
    assert [r["file"] for r in results] == files
    assert [r["ok"] for r in results] == [True, True, True, False, False]
    truth = [json.loads(p.with_suffix(".letter.json").read_text("utf-8")) for p in seeds]
    assert [r["letter"]["ref_no"] for r in results[:3]] == [t["ref_no"] for t in truth]
    assert "ไฟล์ว่าง" in results[3]["error"] and "empty" in results[3]["error"]
    assert "already imported" in results[4]["error"]
    assert results[4]["duplicate_of"]["ours"] is False
    assert "[5/5]" in err  # progress on stderr

    status, out, _ = saraban("letters", "list", "--json")
    assert status == 0
    assert len(json.loads(out)) == 3  # nothing half-stored for the failures


def test_receive_a_file_with_its_enclosures(saraban, tmp_path):
    from scancorpus import SEEDS

    letter = tmp_path / "letter.txt"
    letter.write_bytes((SEEDS / "000_e6238ec4d0848a5c.txt").read_bytes())
    form = tmp_path / "แบบรายงาน.txt"
    form.write_text("แบบรายงานการเลี้ยงปลานิลในกระชัง", encoding="utf-8")
    sheet = tmp_path / "ตาราง.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    for wrong, says in (
        (tmp_path / "setup.exe", "setup.exe"),
        (tmp_path / "missing.pdf", "ไม่พบไฟล์"),
    ):
        if wrong.suffix == ".exe":
            wrong.write_bytes(b"MZ")
        status, _out, err = saraban(
            "receive", "--register", ARCHIVE_UNIT, "--file", str(letter),
            "--enclosure", str(wrong),
        )  # fmt: skip
        assert status != 0 and says in err
    status, _out, err = saraban(
        "receive", "--register", ARCHIVE_UNIT, "--from", "อำเภอ", "--to", "จังหวัด",
        "--subject", "ส่ง", "--enclosure", str(form),
    )  # fmt: skip
    assert status != 0 and "--file" in err
    status, out, err = saraban(
        "receive", "--register", ARCHIVE_UNIT, "--file", str(letter), "--enclosure", str(form),
        "--enclosure", str(sheet), "--json",
    )  # fmt: skip
    assert status == 0, err
    from saraban.archive import open_settings_archive
    from saraban.settings import Settings

    archive = open_settings_archive(Settings.load())
    try:
        kept = archive.enclosed_files(json.loads(out)["letter_id"])
    finally:
        archive.close()
    assert [f.name for f in kept] == ["แบบรายงาน.txt", "ตาราง.xlsx"]
