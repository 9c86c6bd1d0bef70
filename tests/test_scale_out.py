"""Two ``saraban serve`` processes over one PostgreSQL server and one shared folder: the way an
office runs saraban on two machines (docs/deployment.md). Letters issued through both at once
get one gap-free sequence of numbers, and each process finds the other's letters in search
as soon as they are issued.

Each process is a real ``saraban serve`` on its own port; they share nothing but the
database (archive, registers, search index) and ``SARABAN_HOME`` (the stored files, the
secret key), as two machines would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT, make_letter

from saraban.thai import to_arabic_digits

pytestmark = [pytest.mark.postgres, pytest.mark.pdf]

SARABAN = Path(sys.executable).with_name("saraban")
CLERKS_EACH = 2  # threads issuing through each process at once
LETTERS_EACH = 3  # letters each thread issues
# Words no other letter holds, one per letter, to find it by (spelled out: the subject is Thai).
WORDS = ["มะม่วง", "มังคุด", "ทุเรียน", "เงาะ", "ลำไย", "ลิ้นจี่", "ละมุด", "มะปราง", "ส้มโอ", "ฝรั่ง"]
WORDS += ["กระท้อน", "น้อยหน่า"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(SARABAN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _call(port: int, method: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path}: {error.code} {error.read().decode()}") from error


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(SARABAN), "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)


def _serial(ref_no: str) -> int:
    return int(to_arabic_digits(ref_no).rsplit("/", 1)[-1])


def test_two_processes_share_one_sequence_and_one_index(tmp_path, postgres_server):
    shared = tmp_path / "shared"  # the folder both machines mount (SARABAN_HOME)
    env = {
        **os.environ,
        "SARABAN_HOME": str(shared),
        "SARABAN_DATABASE_URL": postgres_server.create_database(),
        "SARABAN_SEARCH_BACKEND": "postgres",
        "SARABAN_SECRET_KEY": "the same secret on every machine",
    }
    _command(
        env,
        "user",
        "add",
        "clerk",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long password\n",
    )
    token = _command(env, "token", "create", "clerk").strip()
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / f"serve-{i}.log" for i in range(2)]
    servers = [_serve(env, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        for server, port, log in zip(servers, ports, logs, strict=True):
            _wait_until_serving(server, port, log)
        _call(ports[0], "POST", "/units", token, {"prefix": ARCHIVE_UNIT, "name": "ศาลากลาง"})

        def clerk(number: int) -> list[tuple[int, dict, int]]:
            """Issue letters through one process; right after each, search for it through
            the other. Returns (port, letter, hits of the other process)."""
            port, other = ports[number % 2], ports[1 - number % 2]
            found = []
            for i in range(LETTERS_EACH):
                word = WORDS[number * LETTERS_EACH + i]
                letter = make_letter(f"ขอเชิญประชุมเรื่อง{word}")
                draft = _call(
                    port, "POST", "/drafts", token, {"letter": letter, "unit": ARCHIVE_UNIT}
                )
                issued = _call(port, "POST", f"/drafts/{draft['draft']['id']}/issue", token)
                letter = issued["letter"]
                by_number = _call(other, "GET", _query(letter["ref_no"]), token)
                by_word = _call(other, "GET", _query(word), token)
                found.append((port, letter, by_number, by_word))
            return found

        with ThreadPoolExecutor(2 * CLERKS_EACH) as pool:
            results = [r for done in pool.map(clerk, range(2 * CLERKS_EACH)) for r in done]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=60)

    total = 2 * CLERKS_EACH * LETTERS_EACH
    serials = sorted(_serial(letter["ref_no"]) for _port, letter, _a, _b in results)
    assert serials == list(range(1, total + 1))  # one sequence, no gap, no number twice
    assert serials == sorted(letter["serial"] for _port, letter, _a, _b in results)
    assert {port for port, *_ in results} == set(ports)  # both processes issued
    for _port, letter, by_number, by_word in results:
        # The other process found it at once: first by its number, and by its own word.
        assert by_number["hits"][0]["id"] == letter["id"], by_number
        assert [hit["id"] for hit in by_word["hits"]] == [letter["id"]], by_word
    # Every letter's files are in the one shared folder, whichever process stored them.
    for _port, letter, _a, _b in results:
        for sha in (letter["pdf_sha256"], letter["docx_sha256"]):
            assert (shared / "files" / sha[:2] / sha[2:4] / sha).is_file()


def _query(text: str) -> str:
    return "/search?q=" + urllib.request.quote(text)
