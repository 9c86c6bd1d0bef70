"""saraban/folders.py: temporary folders that go with their process, however it ends:
the fonts' folder of every rendering process, the analysis workers' hand-off, the work
folders that hold a letter for a moment. Real processes, each with its own ``TMPDIR``,
killed for real (``kill -9``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from saraban.folders import LockedFolder

RENDER = """
from saraban.templates._pdf import html_to_pdf
assert html_to_pdf('<p lang="th">หนังสือ</p>').startswith(b"%PDF")
"""
HOLD = """
import sys
from pathlib import Path
from saraban.folders import LockedFolder
folder = LockedFolder("saraban-test-", Path(sys.argv[1]))
(folder.path / "words.txt").write_text("ลับ")
print(folder.path, flush=True)
input()
"""


def _python(tmp: Path, code: str, *args: str) -> subprocess.Popen:
    """Python running ``code`` with ``tmp`` as its temporary folder, talking by pipes."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env={**os.environ, "TMPDIR": str(tmp)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _holder(parent: Path) -> tuple[subprocess.Popen, Path]:
    process = _python(parent, HOLD, str(parent))
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
    with _python(tmp_path, code) as killed:
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


# ---- the fonts of every rendering process ----------------------------------------------


def _font_folders(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.iterdir() if p.name.startswith(("saraban-fonts-", "weasyprint-")))


@pytest.mark.pdf
def test_a_process_that_ends_leaves_no_font_folder(tmp_path: Path) -> None:
    with _python(tmp_path, RENDER) as process:
        process.communicate(timeout=120)
    assert process.returncode == 0
    assert _font_folders(tmp_path) == []


@pytest.mark.pdf
def test_a_pool_worker_leaves_no_font_folder(tmp_path: Path) -> None:
    # Workers of a process pool leave by os._exit: no atexit, no __del__.
    code = """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    from saraban.templates._pdf import html_to_pdf

    if __name__ == "__main__":
        with ProcessPoolExecutor(2, mp_context=get_context("forkserver")) as pool:
            pdfs = list(pool.map(html_to_pdf, ['<p lang="th">หนึ่ง</p>', '<p lang="th">สอง</p>']))
        assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    """
    script = tmp_path / "pool.py"
    script.write_text(textwrap.dedent(code), "utf-8")
    # a short folder: the fork server's socket lives in it, and a socket's path holds at
    # most 107 bytes (pytest's own folders grow past it as their counter does)
    work = Path(tempfile.mkdtemp(prefix="sb-"))
    try:
        done = subprocess.run(
            [sys.executable, str(script)], env={**os.environ, "TMPDIR": str(work)}, timeout=180
        )
        assert done.returncode == 0
        assert _font_folders(work) == []
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.pdf
def test_a_killed_rendering_process_fonts_go_with_the_next_and_a_living_ones_stay(
    tmp_path: Path,
) -> None:
    # Each renders, says so, waits for a line, then renders again.
    wait = RENDER + "print('ready', flush=True)\ninput()\n" + RENDER
    killed = _python(tmp_path, wait)
    living = _python(tmp_path, wait)
    try:
        assert killed.stdout.readline() == "ready\n"
        assert living.stdout.readline() == "ready\n"
        assert len(_font_folders(tmp_path)) == 2
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
        assert len(_font_folders(tmp_path)) == 2  # nothing ran at its end

        # The next process to make its fonts removes the killed one's folder, not the
        # living one's, which renders on with it.
        with _python(tmp_path, RENDER) as third:
            third.communicate(timeout=120)
        assert third.returncode == 0
        assert len(_font_folders(tmp_path)) == 1
        living.communicate("\n", timeout=120)
        assert living.returncode == 0
        assert _font_folders(tmp_path) == []
    finally:
        for process in (killed, living):
            process.kill()
            process.communicate()
