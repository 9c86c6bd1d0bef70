"""The circulars' commands through ``saraban.cli.main`` on a real instance folder:
recipients, holidays, send, tracking, remind, consolidate and mail."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ARCHIVE_UNIT, make_letter

from saraban.cli import main


@pytest.fixture
def saraban(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SARABAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("SARABAN_SMTP_HOST", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    assert run("register", "add", "--prefix", ARCHIVE_UNIT, "--name", "ศาลากลาง")[0] == 0
    return run


def test_the_commands_send_track_remind_and_consolidate(saraban, tmp_path):
    status, out, err = saraban("recipients", "seed", "หนองคาย", "--json")
    assert status == 0 and len(json.loads(out)["added"]) == 9
    book = tmp_path / "book.csv"
    book.write_text("name,email,groups\nสำนักงานจังหวัด,pc@example.go.th,พิเศษ\n", "utf-8")
    assert saraban("recipients", "import", str(book))[0] == 0
    status, out, _ = saraban("recipients", "add", "ที่ว่าการอำเภอท่าบ่อ")
    assert status == 2  # already there, said on stderr
    status, out, _ = saraban(
        "recipients",
        "add",
        "ที่ว่าการอำเภอท่าบ่อ",
        "--email",
        "thabo@example.go.th",
        "--update",
        "--json",
    )
    changed = json.loads(out)
    assert changed["email"] == "thabo@example.go.th" and changed["groups"] == ["ทุกอำเภอ"]
    status, out, _ = saraban("recipients", "list", "--json")
    assert len(json.loads(out)["recipients"]) == 10
    letter = tmp_path / "letter.json"
    letter.write_text(json.dumps(make_letter("ขอรายงาน"), ensure_ascii=False), "utf-8")
    status, out, _ = saraban("issue", str(letter), "--register", ARCHIVE_UNIT, "--json")
    letter_id = str(json.loads(out)["id"])
    status, _out, err = saraban(
        "send", letter_id, "--to", "ทุกอำเภอ", "--to", "พิเศษ", "--due", "1/2/2027"
    )
    assert status == 2 and "ค.ศ." in err  # read past --to given twice, refused for its year
    status, out, err = saraban(
        "send",
        letter_id,
        "--to",
        "ทุกอำเภอ",
        "พิเศษ",  # as the issue writes it: --to GROUP_OR_NAME...
        "--working-days",
        "10",
        "--form",
        "centre_report",
        "--json",
    )
    assert status == 0, err
    sent = json.loads(out)
    assert len(sent["deliveries"]) == 10
    assert all(d["link"].startswith("http://localhost:8000/d/") for d in sent["deliveries"])
    status, out, _ = saraban("tracking", letter_id, "--json")
    tracking = json.loads(out)
    assert tracking["letter"] == int(letter_id) and tracking["due"]
    assert set(tracking["recipients"][0]) >= {
        "name",
        "status",
        "opened_at",
        "acknowledged_at",
        "receive_no",
        "replied_at",
        "late",
    }
    status, out, _ = saraban("tracking", letter_id)
    assert status == 0 and "ผู้รับ 10" in out and "ส่งแล้ว" in out
    status, out, _ = saraban("remind", letter_id, "--json")
    reminded = json.loads(out)["reminded"]
    assert len(reminded) == 10  # a new link for each; e-mailed where there is an address
    assert sorted(r["email"] for r in reminded if r["email"]) == [
        "pc@example.go.th",
        "thabo@example.go.th",
    ]
    status, out, _ = saraban("mail", "list", "--json")
    assert [m["status"] for m in json.loads(out)["mail"]] == ["queued"] * 4
    status, _out, err = saraban("mail", "send")
    assert status == 2 and "SARABAN_SMTP_HOST" in err
    target = tmp_path / "out.csv"
    assert saraban("consolidate", letter_id, "-o", str(target))[0] == 0
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))
    assert rows[0][:2] == ["ลำดับ", "หน่วยงาน"]
    assert any(row[1].startswith("ยังไม่ตอบ") for row in rows)
    status, out, _ = saraban("holidays", "list", "--year", "2569", "--json")
    assert any(h["date"] == "2026-04-13" for h in json.loads(out)["holidays"])
    assert saraban("holidays", "add", "30/12/2569", "วันหยุดพิเศษ")[0] == 0
    assert saraban("holidays", "remove", "30/12/2569")[0] == 0


def test_recipients_import_keeps_nothing_of_a_file_with_a_bad_line(saraban, tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        "name,email\nสำนักงานหนึ่ง,one@example.go.th\nสำนักงานสอง,not-an-address\n", "utf-8"
    )
    status, out, err = saraban("recipients", "import", str(book))
    assert status == 2 and out == ""
    assert "บรรทัดที่ 3" in err and "not-an-address" in err and "ไม่ได้บันทึกผู้รับเลย" in err
    status, out, _ = saraban("recipients", "list", "--json")
    assert status == 0 and json.loads(out)["recipients"] == []
    book.write_text("name,email\nสำนักงานหนึ่ง,one@example.go.th\n", "utf-8")
    status, out, _ = saraban("recipients", "import", str(book), "--json")
    assert status == 0 and [r["name"] for r in json.loads(out)["saved"]] == ["สำนักงานหนึ่ง"]


def test_bad_years_and_endless_files_are_refused_in_words(saraban, tmp_path):
    """`holidays list --year 1` and a CE year ended in a traceback or listed nothing;
    `recipients import /dev/zero` never ended; nested JSON was a RecursionError."""
    for year, said in (("1", "not 1"), ("2026", "CE 2026 is BE 2569"), ("99999", "not 99999")):
        status, _out, err = saraban("holidays", "list", "--year", year)
        assert status == 2 and said in err
    status, _out, err = saraban("recipients", "import", "/dev/zero")
    assert status == 2 and "the CSV file is too large" in err
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    status, _out, err = saraban(
        "forms", "fill", "centre_report", str(deep), "-o", str(tmp_path / "x.docx")
    )
    assert status == 2 and "nested too deeply" in err
