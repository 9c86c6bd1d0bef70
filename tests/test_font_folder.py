"""The font files WeasyPrint copies for ``@font-face`` leave with the process that made
them, however it ends (templates/_weasyprint_thai.py, ``font_configuration``).

Each test runs real processes with their own ``TMPDIR`` and renders a real PDF in them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.pdf

RENDER = """
from saraban.templates._pdf import html_to_pdf
assert html_to_pdf('<p lang="th">หนังสือ</p>').startswith(b"%PDF")
"""


def _python(tmp: Path, code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _font_folders(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.iterdir() if p.name.startswith(("saraban-fonts-", "weasyprint-")))


def test_a_process_that_ends_leaves_no_font_folder(tmp_path: Path) -> None:
    with _python(tmp_path, RENDER) as process:
        process.communicate(timeout=120)
    assert process.returncode == 0
    assert _font_folders(tmp_path) == []


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
    work = tmp_path / "tmp"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(script)], env={**os.environ, "TMPDIR": str(work)}, timeout=180
    )
    assert done.returncode == 0
    assert _font_folders(work) == []


def test_a_killed_process_folder_goes_with_the_next_start_and_a_living_one_stays(
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
