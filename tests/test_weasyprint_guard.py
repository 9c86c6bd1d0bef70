"""WeasyPrint's internals are reached from one module only, and only on the checked release.

``saraban.templates._weasyprint_thai`` replaces WeasyPrint functions with copies of 70.0's
and reads its page boxes; on any other release those copies may be wrong, so the module
refuses to load and these tests fail loudly until someone re-checks them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import weasyprint

from saraban.templates import _weasyprint_thai as thai

ROOT = Path(__file__).parents[1]
PACKAGES = ("saraban", "templates", "archive", "indexer", "service")
GUARDED = ROOT / "templates" / "_weasyprint_thai.py"

# WeasyPrint's documented API: what any other module may use.
PUBLIC = {
    "weasyprint": {"HTML", "CSS", "Document", "Attachment", "URLFetcher", "__version__"},
    "weasyprint.text.fonts": {"FontConfiguration"},
    "weasyprint.urls": {"FatalURLFetchingError"},
}


def test_installed_weasyprint_is_the_release_the_patches_were_checked_against():
    assert weasyprint.__version__ == thai.WEASYPRINT_VERSION, (
        f"WeasyPrint {weasyprint.__version__} is installed but templates/_weasyprint_thai.py "
        f"was checked against {thai.WEASYPRINT_VERSION}: re-check its copied functions and "
        "page-box helpers against this release, then change WEASYPRINT_VERSION"
    )


def test_the_module_refuses_to_load_with_another_weasyprint():
    code = (
        "import weasyprint; weasyprint.__version__ = '71.0'\n"
        "import saraban.templates._weasyprint_thai\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "patches WeasyPrint 70.0, but WeasyPrint 71.0 is installed" in result.stderr


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != GUARDED:
                yield path


def test_no_other_module_reaches_inside_weasyprint():
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        imports_weasyprint = False
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("weasyprint"):
                imports_weasyprint = True
                allowed = PUBLIC.get(node.module or "", set())
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {a.name}"
                    for a in node.names
                    if a.name not in allowed
                ]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("weasyprint"):
                        imports_weasyprint = True
                        if alias.name != "weasyprint":
                            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}")
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "weasyprint"
                and node.attr not in PUBLIC["weasyprint"]
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} weasyprint.{node.attr}")
        if imports_weasyprint:
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr == "_page_box"
            ]
    assert found == [], "WeasyPrint internals outside templates/_weasyprint_thai.py"
