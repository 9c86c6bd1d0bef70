"""``saraban render`` and ``saraban validate`` through the real entry point."""

from __future__ import annotations

import json

import pytest
from conftest import DATA, SEEDS
from docx import Document

from saraban.cli import main

SEED = SEEDS / "001_1817bd84ea7a4ec5.letter.json"


def run(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_render_docx_writes_the_file_and_prints_its_path(tmp_path, capsys):
    out = tmp_path / "sub" / "letter.docx"
    status, stdout, _ = run(capsys, "render", SEED, "-o", out)
    assert status == 0 and str(out) in stdout
    assert any("ลป ๐๐๑๙.๓/๒๗๕๒๘" in p.text for p in Document(out).paragraphs)
    assert not list(out.parent.glob(".*.part"))


@pytest.mark.pdf
def test_render_pdf_by_extension(tmp_path, capsys):
    out = tmp_path / "letter.PDF"
    status, _, _ = run(capsys, "render", SEED, "-o", out)
    assert status == 0 and out.read_bytes().startswith(b"%PDF-")


def test_render_refuses_an_unknown_extension(tmp_path, capsys):
    status, _, err = run(capsys, "render", SEED, "-o", tmp_path / "letter.odt")
    assert status == 2 and ".docx" in err and ".pdf" in err
    assert not (tmp_path / "letter.odt").exists()


def test_render_of_an_invalid_letter_exits_2_naming_the_field(tmp_path, capsys):
    letter = json.loads(SEED.read_text("utf-8"))
    letter["signer"]["name"] = ""
    letter["date"] = "2567-11-21"  # a BE year typed where the document wants CE
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(letter, ensure_ascii=False), "utf-8")
    status, _, err = run(capsys, "render", source, "-o", tmp_path / "x.docx")
    assert status == 2
    assert "signer.name" in err and "date" in err
    assert not (tmp_path / "x.docx").exists()


def test_validate_reports_errors_and_warnings(tmp_path, capsys):
    status, out, _ = run(capsys, "validate", SEEDS / "000_e6238ec4d0848a5c.letter.json")
    assert status == 0 and "sender.address" in out  # นค ๕๓๐๐๐ is not Nong Khai's postcode

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 1, "kind": ', "utf-8")
    status, _, err = run(capsys, "validate", broken, "--lang", "en")
    assert status == 2 and "line 1" in err


def test_validate_json_lists_every_file(tmp_path, capsys):
    files = sorted((DATA / "letters").glob("*.json"))
    status, out, _ = run(capsys, "validate", "--json", *files)
    report = json.loads(out)
    assert status == 0
    assert [r["file"] for r in report] == [str(f) for f in files]
    assert all(r["ok"] for r in report)
