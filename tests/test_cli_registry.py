"""The command registry: every command listed without importing its package, each one's
arguments and help from its own module, and heavy packages kept out of commands that do
not need them (measured as imports, in a fresh interpreter; the timings are in the README)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from saraban import cli

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "data" / "seeds"

# Packages that cost a tenth of a second or more to import, or pull in native libraries.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "weasyprint",
    "flask",
    "werkzeug",
    "jinja2",
    "pythainlp",
    "nlpo3",
    "tantivy",
    "whoosh",
    "docx",
    "docxtpl",
    "pyhanko",
    "cryptography",
    "cv2",
    "ocrmypdf",
    "numpy",
    "PIL",
    "fontTools",
    "psycopg",
    "waitress",
    "gunicorn",
)

# Prints the top-level packages loaded by running the command line with the given words.
LOADED = """
import json, sys
from saraban.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"status": status, "loaded": loaded, "modules": sorted(sys.modules)}))
"""


def _loaded(*words: str, home: Path | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if home is not None:
        env["SARABAN_HOME"] = str(home)
        env.pop("SARABAN_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *words],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_help_lists_every_command_and_imports_no_heavy_package():
    result = _loaded("--help")
    assert result["status"] == 0
    assert [m for m in HEAVY if m in result["loaded"]] == []


def test_version_and_a_bad_command_import_nothing_heavy():
    for words in (["--version"], ["no-such-command"]):
        result = _loaded(*words)
        assert result["status"] == (0 if words == ["--version"] else 2)
        assert [m for m in HEAVY if m in result["loaded"]] == []


def test_python_dash_m_saraban_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "saraban", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0
    for name in cli.COMMANDS:
        assert name in done.stdout


def test_a_command_help_imports_only_its_own_module():
    result = _loaded("validate", "--help")
    assert result["status"] == 0
    # templates._cli reads letters (saraban.letter), nothing more.
    for package in ("sqlalchemy", "alembic", "weasyprint", "flask", "tantivy", "pyhanko"):
        assert package not in result["loaded"]


def test_search_loads_no_renderer_web_or_migration_package(tmp_path):
    """A search with nothing waiting for the index reads the index alone: not SQLAlchemy,
    Alembic, WeasyPrint, Flask, python-docx or the signer. A letter waiting for the index
    opens the archive, which indexes it first, so it is found at once."""
    from saraban.archive import open_archive
    from saraban.usecases.importing import import_file

    open_archive(tmp_path).close()
    first = _loaded("search", "ทดสอบ", home=tmp_path)  # a new index: built from the archive
    assert first["status"] == 0 and "sqlalchemy" in first["loaded"]
    result = _loaded("search", "ทดสอบ", home=tmp_path)
    assert result["status"] == 0
    assert "tantivy" in result["loaded"]
    for package in ("sqlalchemy", "alembic", "weasyprint", "flask", "docx", "pyhanko", "cv2"):
        assert package not in result["loaded"], package

    archive = open_archive(tmp_path)
    try:
        imported = import_file(archive, sorted(SEEDS.glob("*.txt"))[0], actor="tester")
    finally:
        archive.close()
    subject_word = "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"
    assert subject_word in imported.record.subject
    waiting = _loaded("search", subject_word, "--json", home=tmp_path)
    assert waiting["status"] == 0 and "sqlalchemy" in waiting["loaded"]
    found = _search_json(tmp_path, subject_word)
    assert [hit["id"] for hit in found["hits"]] == [imported.record.id]


def test_tracking_json_reads_the_archive_without_sqlalchemy(tmp_path):
    """``saraban tracking --json`` reads a current archive with the database's own driver
    (``saraban.archive._quick``) and prints JSON: no SQLAlchemy, PyThaiNLP (no Thai date in
    JSON), geothai, migrations, renderer, signer or web package (docs/circulars.md has what
    each cost at start). An archive to upgrade is opened the usual way."""
    from saraban.archive import open_archive
    from saraban.usecases.importing import import_file

    archive = open_archive(tmp_path)
    try:
        imported = import_file(archive, sorted(SEEDS.glob("*.txt"))[0], actor="tester")
    finally:
        archive.close()
    result = _loaded("tracking", str(imported.record.id), "--json", home=tmp_path)
    assert result["status"] == 0
    assert [m for m in (*HEAVY, "geothai") if m in result["loaded"]] == []
    result = _loaded("tracking", str(imported.record.id), home=tmp_path)  # the text, in Thai
    assert result["status"] == 0
    assert [m for m in (*HEAVY, "geothai") if m in result["loaded"]] == []


def _search_json(home: Path, query: str) -> dict[str, Any]:
    env = dict(os.environ, SARABAN_HOME=str(home))
    env.pop("SARABAN_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "saraban", "search", query, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_quick_queue_check_names_the_archives_file_and_table():
    from saraban.archive._db import SQLITE_FILENAME
    from saraban.archive._models import IndexJob
    from saraban.indexer import _cli

    assert (_cli.SQLITE_FILENAME, _cli.INDEX_QUEUE_TABLE) == (
        SQLITE_FILENAME,
        IndexJob.__tablename__,
    )


class _Recorder:
    """Sub-parsers that record what a module's ``register`` adds."""

    def __init__(self) -> None:
        self.added: dict[str, str | None] = {}

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        import argparse

        self.added[name] = kwargs.get("help")
        return argparse.ArgumentParser(prog=name)


@pytest.mark.parametrize("module", sorted({module for module, _help in cli.COMMANDS.values()}))
def test_each_module_registers_exactly_its_rows_with_their_help(module):
    recorder = _Recorder()
    importlib.import_module(module).register(recorder)
    rows = {name: helptext for name, (mod, helptext) in cli.COMMANDS.items() if mod == module}
    assert recorder.added == rows


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_each_command_has_its_own_arguments_and_help(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: saraban {name}")


def test_a_command_parses_its_real_arguments():
    args = cli.build_parser("search").parse_args(["search", "งบประมาณ", "--limit", "3"])
    assert (args.command, args.query, args.limit) == ("search", "งบประมาณ", 3)
    with pytest.raises(SystemExit):
        cli.build_parser("search").parse_args(["search", "x", "--limit", "three"])


def test_an_unknown_command_is_refused_with_the_list(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["find", "x"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'find'" in err and "'search'" in err


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["search", "x"], "search"),
        (["--version"], None),
        (["-h", "issue"], "issue"),
        ([], None),
        (["--", "search"], None),
    ],
)
def test_the_command_is_the_first_word_that_is_not_an_option(argv, name):
    assert cli.command_name(argv) == name


def test_the_quick_schema_check_agrees_with_alembic():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from saraban.archive._db import script_head

    for migrations in (ROOT / "archive" / "migrations", ROOT / "service" / "migrations"):
        config = Config()
        config.set_main_option("script_location", str(migrations))
        assert script_head(migrations) == ScriptDirectory.from_config(config).get_current_head()


def test_the_quick_schema_check_leaves_branches_to_alembic(tmp_path):
    from saraban.archive._db import script_head

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    assert script_head(tmp_path) == "b"
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')  # a second head
    assert script_head(tmp_path) is None
    (versions / "c.py").write_text('revision = "c"\ndown_revision = ("a", "b")\n')  # a merge
    assert script_head(tmp_path) is None


def test_every_command_module_has_its_rows_in_the_table():
    """A ``*_cli.py`` module with commands is reachable only through rows of COMMANDS."""
    packages = {"templates": "saraban.templates", "archive": "saraban.archive"}
    packages |= {"indexer": "saraban.indexer", "service": "saraban.service", "saraban": "saraban"}
    listed = {module for module, _help in cli.COMMANDS.values()}
    modules = {
        f"{package}.{path.stem}"
        for folder, package in packages.items()
        for path in (ROOT / folder).glob("*_cli.py")
        if "def register(" in path.read_text("utf-8")
    }
    assert modules - listed == set()
