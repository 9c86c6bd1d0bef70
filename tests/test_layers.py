"""The floors of the house (docs/architecture.md), read from the code's own imports: a
floor imports only the floors below it. The commands (``_cli.py``) are doors even where
they stand in a lower floor's folder."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOORS = {"saraban.service", "saraban.cli"}
FLOORS = {
    # floor: what it must never import
    "saraban.usecases": DOORS | {"flask", "werkzeug"},
    "saraban.archive": DOORS | {"saraban.usecases", "flask", "werkzeug"},
    "saraban.templates": DOORS | {"saraban.usecases", "saraban.archive", "flask"},
    "saraban.indexer": DOORS | {"saraban.usecases", "flask", "werkzeug"},
    "saraban.base": DOORS
    | {"saraban.usecases", "saraban.archive", "saraban.templates", "saraban.indexer", "flask"},
}
FOLDERS = {
    "saraban.usecases": ROOT / "saraban" / "usecases",
    "saraban.archive": ROOT / "archive",
    "saraban.templates": ROOT / "templates",
    "saraban.indexer": ROOT / "indexer",
}
BASE = ["letter.py", "thai.py", "errors.py", "settings.py", "vocabulary.py", "fonts.py"]


def _modules(floor: str) -> list[Path]:
    if floor == "saraban.base":
        return [ROOT / "saraban" / name for name in BASE]
    files = FOLDERS[floor].rglob("*.py")
    doors = ("_cli.py", "_forms_cli.py")
    return sorted(p for p in files if not p.name.endswith(doors) and "migrations" not in p.parts)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("floor", FLOORS)
def test_a_floor_imports_only_what_stands_below_it(floor):
    wrong = []
    for path in _modules(floor):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FLOORS[floor]):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_archive_and_verify_do_not_import_each_other():
    verify = _imports(ROOT / "archive" / "_verify.py")
    assert not {"saraban.archive._archive", "saraban.archive._queries"} & verify
