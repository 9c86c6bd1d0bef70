"""``saraban user``, ``saraban token`` and ``saraban serve`` (with ``--demo``), run as the
command line runs them; and the service's own tables against their migrations."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from saraban.cli import main

SARABAN = Path(sys.executable).with_name("saraban")


@pytest.fixture
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    monkeypatch.setenv("SARABAN_HOME", str(folder))
    return folder


def _open_store(home):
    from saraban.archive import open_archive
    from saraban.service._store import Store

    archive = open_archive(home)
    return archive, Store(archive)


def test_user_add_with_a_password_from_stdin(home, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a good password\n"))
    assert (
        main(
            ["user", "add", "somsri", "--role", "admin", "--clearance", "ลับมาก", "--password-stdin"]
        )
        == 0
    )
    assert "somsri" in capsys.readouterr().out
    archive, store = _open_store(home)
    try:
        user = store.authenticate("somsri", "a good password")
        assert (user.role, user.clearance) == ("admin", "ลับมาก")
        assert [e.action for e in archive.events()] == ["user.add"]
    finally:
        store.close()
        archive.close()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "x y", "--password-stdin"], "a good password\n", "ไม่มีช่องว่าง"),
        (["user", "add", "short", "--password-stdin"], "short\n", "อย่างน้อย 12"),
        (["token", "create", "nobody"], "", "ไม่พบผู้ใช้ nobody"),
    ],
)
def test_bad_input_exits_2_with_a_thai_message(home, monkeypatch, capsys, args, stdin, message):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_a_token_is_printed_once_and_only_its_hash_kept(home, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a good password\n"))
    main(["user", "add", "api", "--password-stdin"])
    capsys.readouterr()
    assert main(["token", "create", "api", "--label", "ระบบ e-office"]) == 0
    token = capsys.readouterr().out.strip()
    assert re.fullmatch(r"sbn_[\w-]{40,}", token)
    archive, store = _open_store(home)
    try:
        assert store.user_for_token(token).name == "api"
        database = (home / "saraban.sqlite3").read_bytes()
        assert token.encode() not in database
    finally:
        store.close()
        archive.close()
    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ระบบ e-office" in listed and token not in listed
    assert main(["token", "revoke", "1"]) == 0
    archive, store = _open_store(home)
    try:
        assert store.user_for_token(token) is None
    finally:
        store.close()
        archive.close()


def test_the_service_tables_match_their_migrations(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from saraban.service._store import Base

    archive, store = _open_store(tmp_path / "home")
    try:
        with archive.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent: (
                        kind != "table" or name in Base.metadata.tables
                    ),
                },
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()
        archive.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.pdf
def test_serve_demo_fills_a_fresh_instance(tmp_path):
    """``saraban serve --demo`` (waitress, not Flask's development server): a unit, the
    seeds, one issued circular and a demo login that works."""
    home = tmp_path / "home"
    port = _free_port()
    env = {**os.environ, "SARABAN_HOME": str(home)}
    process = subprocess.Popen(
        [str(SARABAN), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 120
        while not any("serving on" in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, lines
            lines.append(process.stdout.readline())
        output = "".join(lines)
        password = re.search(r"ชื่อผู้ใช้ demo รหัสผ่าน (\S+)", output).group(1)
        assert "นำเข้าหนังสือตัวอย่าง 5 ฉบับ" in output
        while True:  # the line is printed just before waitress listens
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", "/login")
                break
            except ConnectionRefusedError:
                connection.close()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        response = connection.getresponse()
        assert response.getheader("Server") == "saraban"  # waitress's ident, not Werkzeug
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        body = f"name=demo&password={password}&csrf_token={csrf}"
        connection.request(
            "POST",
            "/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 302
        cookie = next(
            c.split(";")[0]
            for c in response.msg.get_all("Set-Cookie")
            if c.startswith("saraban_session=")
        )
        connection.request("GET", "/letters", headers={"Cookie": cookie})
        letters = connection.getresponse().read().decode()
        assert letters.count('href="/letters/') >= 6
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
    assert json.loads(json.dumps(lines))  # the output is plain text lines
