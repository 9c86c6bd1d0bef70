"""The wheel installs one package, ``saraban``: the top-level folders of the checkout
(templates/, archive/, indexer/, service/) become saraban.templates, ... and carry every file
they need at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"saraban": "saraban", "templates": "saraban/templates", "archive": "saraban/archive"}
PACKAGES |= {"indexer": "saraban/indexer", "service": "saraban/service"}


def test_the_wheel_holds_only_saraban_and_every_file_of_its_folders(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__")
    for folder in PACKAGES:
        shutil.copytree(ROOT / folder, source / folder, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["--disable-pip-version-check", str(source), "-w", str(tmp_path / "dist")],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("saraban-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    top = {name.split("/")[0] for name in names if not name.startswith("saraban-")}
    assert top == {"saraban"}

    tracked = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    expected = set()
    for path in tracked:
        folder, rest = path.split("/", 1)
        expected.add(f"{PACKAGES[folder]}/{rest}")
    assert expected - names == set()
