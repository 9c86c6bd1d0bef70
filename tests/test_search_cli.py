"""``saraban search`` and ``saraban reindex`` on a real instance folder."""

import json

import pytest
from conftest import SEEDS

from saraban.cli import main


@pytest.fixture
def instance(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "instance"))
    monkeypatch.delenv("SARABAN_DATABASE_URL", raising=False)
    monkeypatch.delenv("SARABAN_SEARCH_BACKEND", raising=False)
    assert main(["import", *map(str, sorted(SEEDS.glob("*.txt")))]) == 0
    capsys.readouterr()
    return tmp_path / "instance"


def search_json(capsys, *args):
    assert main(["search", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_search_json_finds_a_reference_number_first(instance, capsys):
    body = search_json(capsys, "นค ๐๐๑๙.๓/ว ๒๕๖๔")
    assert body["total"] == 1
    hit = body["hits"][0]
    assert set(hit) == {"id", "ref_no", "subject", "date", "score", "snippet"}
    assert (hit["ref_no"], hit["date"]) == ("นค ๐๐๑๙.๓/ว ๒๕๖๔", "2021-02-13")


def test_search_with_filters_and_sort(instance, capsys):
    everything = search_json(capsys, "ศูนย์ผู้นำจิตอาสา", "--per-page", "20")
    assert everything["total"] >= 2
    fiscal = search_json(capsys, "ศูนย์ผู้นำจิตอาสา", "--fiscal-year", "2568")
    assert [h["date"] for h in fiscal["hits"]] == ["2024-11-21"]
    ranged = search_json(
        capsys, "ชุมชน", "--from", "2024-01-01", "--to", "2024-12-31", "--sort", "date"
    )
    assert [h["date"] for h in ranged["hits"]] == ["2024-11-21", "2024-02-07"]
    assert search_json(capsys, "ชุมชน", "--unit", "บก 0019.3")["total"] == 1
    assert search_json(capsys, "ชุมชน", "--direction", "sent")["total"] == 0
    assert len(search_json(capsys, "ชุมชน", "--limit", "2")["hits"]) == 2


def test_search_text_output(instance, capsys):
    assert main(["search", "มชช."]) == 0
    out = capsys.readouterr().out
    assert "บก ๐๐๑๙.๓" in out and "[" in out


def test_bad_date_is_refused(instance, capsys):
    with pytest.raises(SystemExit) as info:
        main(["search", "ชุมชน", "--from", "15/12/2565"])
    assert info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_reindex_with_progress(instance, capsys):
    assert main(["reindex"]) == 0
    captured = capsys.readouterr()
    assert "5/5" in captured.err
    assert "5" in captured.out
    assert search_json(capsys, "โคก หนอง นา")["hits"][0]["date"] == "2024-02-07"


def test_the_command_line_pages_with_the_apis_words(instance, capsys):
    """One paging vocabulary (issue 13): --per-page and --page, as the API's per_page and
    page; the old --limit still works and says it is deprecated."""
    everything = search_json(capsys, "ชุมชน", "--per-page", "50")["hits"]
    assert len(everything) >= 3
    first = search_json(capsys, "ชุมชน", "--per-page", "2")["hits"]
    second = search_json(capsys, "ชุมชน", "--per-page", "2", "--page", "2")["hits"]
    assert [h["id"] for h in first + second] == [h["id"] for h in everything[:4]]
    assert main(["search", "ชุมชน", "--limit", "2", "--json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["hits"]) == 2 and "--per-page" in captured.err
