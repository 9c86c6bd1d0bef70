"""saraban/folders.py: temporary folders that go with their process, however it ends.
Real processes, killed for real (``kill -9``); tests/test_font_folder.py covers the fonts'
folder of every rendering process the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from saraban.folders import LockedFolder

HOLD = """
import sys
from pathlib import Path
from saraban.folders import LockedFolder
folder = LockedFolder("saraban-test-", Path(sys.argv[1]))
(folder.path / "words.txt").write_text("ลับ")
print(folder.path, flush=True)
input()
"""


def _holder(parent: Path) -> tuple[subprocess.Popen, Path]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(parent)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, Path(process.stdout.readline().strip())  # type: ignore[union-attr]


def test_a_killed_process_folder_goes_with_the_next_and_a_living_one_stays(tmp_path):
    killed, killed_folder = _holder(tmp_path)
    living, living_folder = _holder(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
        assert (killed_folder / "words.txt").exists()  # nothing ran at its end
        mine = LockedFolder("saraban-test-", tmp_path)
        assert not killed_folder.exists()
        assert (living_folder / "words.txt").read_text() == "ลับ"
        assert oct(mine.path.stat().st_mode & 0o777) == "0o700"
        mine.remove()
        assert not mine.path.exists()
        living.communicate("\n", timeout=30)
        LockedFolder("saraban-test-", tmp_path).remove()  # its process ended: swept
        assert sorted(tmp_path.iterdir()) == []
    finally:
        for process in (killed, living):
            process.kill()
            process.communicate()


def test_another_prefix_and_a_symlink_are_left_alone(tmp_path):
    other = tmp_path / "saraban-other-x"
    other.mkdir()
    (tmp_path / "saraban-test-link").symlink_to(other)
    LockedFolder("saraban-test-", tmp_path).remove()
    assert other.exists() and (tmp_path / "saraban-test-link").is_symlink()


def test_a_killed_rebuilds_analysis_folder_goes_with_the_next(tmp_path):
    """The analysis workers hand letters' words back through files: a rebuild killed
    mid-way leaves them, until the next rebuild's folder is made."""
    code = """
    from saraban.indexer._engine import Preparer
    preparer = Preparer("tantivy", workers=2)
    print("ready", flush=True)
    input()
    """
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as killed:
        assert killed.stdout.readline() == "ready\n"  # type: ignore[union-attr]
        [left] = tmp_path.glob("saraban-analysis-*")
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
    assert left.exists()
    again = "from saraban.indexer._engine import Preparer; Preparer('tantivy', workers=2).close()"
    subprocess.run([sys.executable, "-c", again], env=env, check=True, timeout=120)
    assert list(tmp_path.glob("saraban-analysis-*")) == []


def test_a_with_blocks_folder_is_removed_at_its_end_even_by_an_error(tmp_path, monkeypatch):
    import tempfile

    from saraban.folders import temporary_folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with temporary_folder("saraban-test-") as folder:
        (folder / "page.png").write_bytes(b"x")
    assert not folder.exists()
    try:
        with temporary_folder("saraban-test-") as folder:
            raise ValueError("a page that cannot be read")
    except ValueError:
        pass
    assert list(tmp_path.iterdir()) == []
