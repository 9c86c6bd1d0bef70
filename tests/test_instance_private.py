"""The instance folder holds secret letters: it and everything in it is created for its
owner only (folders 0700, files 0600, stored letters 0400) whatever the umask, ``saraban
verify`` names anything another user could read, and ``saraban repair`` closes it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ARCHIVE_UNIT, SEEDS, make_letter
from test_archive_repair import child_env

ROOT = Path(__file__).resolve().parents[1]

# Everything a clerk does, in a process whose umask lets others read what it creates.
WORK = textwrap.dedent(
    """
    import io, os, sys
    os.umask(0o022)
    from saraban.cli import main
    home = sys.argv[1]
    os.environ["SARABAN_HOME"] = home
    os.environ.pop("SARABAN_DATABASE_URL", None)
    assert main(["register", "add", "--prefix", sys.argv[2], "--name", "ศาลากลาง"]) == 0
    assert main(["issue", sys.argv[3], "--register", sys.argv[2]]) == 0
    assert main(["import", sys.argv[4]]) == 0
    assert main(["receive", "--register", sys.argv[2], "--from", "กรม", "--to", "จังหวัด",
                 "--subject", "ลับ", "--secrecy", "ลับ"]) == 0
    assert main(["search", "ทดสอบ"]) == 0
    from test_service_support import add_users, make_app
    from saraban.service import close_app
    app = make_app(home)
    add_users(app)
    from saraban.usecases import importing
    importing.create(app.extensions["archive"].home, 1, [("a.txt", b"text")])
    close_app(app)
    """
)


def _open_to_others(home: Path) -> list[str]:
    found = []
    for folder, folders, files in os.walk(home):
        for path in [Path(folder), *(Path(folder) / n for n in folders + files)]:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append(f"{path} {stat.S_IMODE(mode):04o}")
    return found


def _saraban(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env(SARABAN_HOME=str(home))
    env.pop("SARABAN_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "saraban.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_everything_in_the_instance_is_its_owners_only_whatever_the_umask(tmp_path):
    home = tmp_path / "instance"
    letter = tmp_path / "letter.json"
    letter.write_text(json.dumps(make_letter("ทดสอบสิทธิ์"), ensure_ascii=False), "utf-8")
    seed = sorted(SEEDS.glob("*.txt"))[0]
    done = subprocess.run(
        [sys.executable, "-c", WORK, str(home), ARCHIVE_UNIT, str(letter), str(seed)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert _open_to_others(home) == []
    kinds = {p.name for p in home.iterdir()}
    assert {"files", "index", "imports", "saraban.sqlite3", "secret_key"} <= kinds
    stored = [p for p in (home / "files").rglob("*") if p.is_file()]
    assert stored and all(stat.S_IMODE(p.stat().st_mode) == 0o400 for p in stored)

    verified = _saraban(home, "verify")
    assert verified.returncode == 0, verified.stdout

    # Opened up by hand (a copy, a backup restored): verify names it, repair closes it.
    opened = stored[0]
    opened.chmod(0o444)
    (home / "index").chmod(0o755)
    verified = _saraban(home, "verify")
    assert verified.returncode == 1
    assert str(opened) in verified.stdout and "0444" in verified.stdout
    assert str(home / "index") in verified.stdout
    repaired = _saraban(home, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert _open_to_others(home) == []
    assert _saraban(home, "verify").returncode == 0
