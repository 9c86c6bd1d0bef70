"""Letters that arrive in a mailbox (saraban/usecases/mailbox.py, ``saraban consume
--imap``, the watched folder of ``saraban serve``), against a real IMAP server: Dovecot
started by the tests (tests/imap_server.py) over SSL and STARTTLS with a certificate made
for the run. Each unread e-mail becomes an ``.eml`` in the inbox folder, then is marked
read; nothing is lost or taken twice when a look stops half-way."""

from __future__ import annotations

import email.message
import email.policy
import json
import time

import pytest
from conftest import ARCHIVE_UNIT, require_found
from imap_server import ASCII_PASSWORD, ASCII_USER, PASSWORD, USER, ImapServer, find_dovecot
from test_service_support import SEEDS

from saraban.settings import ConfigError, Settings
from saraban.usecases import mailbox

STEM = "000_e6238ec4d0848a5c"


@pytest.fixture(scope="module")
def server():
    started = ImapServer(require_found(find_dovecot(), "Dovecot (dovecot-imapd)"))
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture
def folder(server, request):
    """A folder of its own for each test, so that tests sharing the server never meet."""
    return f"test-{request.node.name[:40]}"


def _mail(subject: str, attachment: bytes | None = None, filename: str = "letter.txt") -> bytes:
    message = email.message.EmailMessage()
    message["From"] = "saraban@district.example.go.th"
    message["To"] = "saraban@province.example.go.th"
    message["Subject"] = subject
    message.set_content("ส่งหนังสือมาตามแนบ")
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="plain", filename=filename)
    return message.as_bytes()


def _letter() -> bytes:
    return (SEEDS / f"{STEM}.txt").read_bytes()


def _imap(server, folder: str, **overrides) -> mailbox.ImapSettings:
    values = {
        "host": "localhost",
        "port": server.ssl_port,
        "tls": "ssl",
        "user": USER,
        "password": PASSWORD,
        "folder": folder,
        "timeout": 10.0,
    }
    return mailbox.ImapSettings(**(values | overrides))


def _settings(server, folder: str, **overrides: str) -> dict[str, str]:
    """The settings that name the test's mailbox folder (served over SSL)."""
    return {
        "SARABAN_IMAP_HOST": "localhost",
        "SARABAN_IMAP_PORT": str(server.ssl_port),
        "SARABAN_IMAP_USER": USER,
        "SARABAN_IMAP_PASSWORD": PASSWORD,
        "SARABAN_IMAP_FOLDER": folder,
        **overrides,
    }


def _app(server, folder: str, home, **overrides: str):
    """A service whose folder is looked at by hand (no watching thread)."""
    from test_service_support import add_unit, make_app

    app = make_app(home, SARABAN_INBOX_WATCH="0", **_settings(server, folder, **overrides))
    add_unit(app)
    return app


@pytest.fixture
def trusted(server, monkeypatch):
    """The run's certificate trusted as the system's would be (SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))


@pytest.fixture
def instance(tmp_path, monkeypatch, server, folder, trusted):
    """An instance with one register, its settings naming the test's mailbox folder."""
    from saraban.archive import open_archive

    home = tmp_path / "home"
    for name, value in {"SARABAN_HOME": str(home), **_settings(server, folder)}.items():
        monkeypatch.setenv(name, value)
    with open_archive(home) as archive:
        archive.add_unit(ARCHIVE_UNIT, "สำนักงานจังหวัด", actor="tester")
    return home


def test_unread_mail_is_taken_in_once_and_marked_read(server, folder, instance, capsys):
    from saraban.archive import open_archive
    from saraban.cli import main

    server.deliver(_mail("หนังสือจากอำเภอ", _letter()), folder)
    server.deliver(_mail("ไม่มีไฟล์แนบ"), folder)
    server.deliver(_mail("อ่านแล้วโดยคน", _letter(), "read.txt"), folder, seen=True)

    assert main(["consume", "--register", ARCHIVE_UNIT, "--imap", "--json"]) == 1
    said = json.loads(capsys.readouterr().out)
    assert [t["file"] for t in said["taken"]] == ["letter.txt"]
    [failed] = said["failed"]
    assert failed["file"].startswith("imap-") and failed["file"].endswith(".eml")
    assert "no attachment" in failed["why"]
    assert all("\\Seen" in flags for flags in server.flags(folder))
    inbox = instance / "inbox"
    done = [p.name for p in (inbox / "done").iterdir()]
    assert len(done) == 1 and done[0].startswith("imap-")
    assert (inbox / "failed" / (failed["file"] + ".txt")).exists()
    assert oct((inbox / "done" / done[0]).stat().st_mode & 0o777) == "0o600"
    with open_archive(instance) as archive:
        [row] = archive.received()
        assert row.subject
        assert row.note.startswith("ทางอีเมลจาก saraban@district.example.go.th")

    assert main(["consume", "--register", ARCHIVE_UNIT, "--imap", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again == {"taken": [], "duplicates": [], "failed": []}
    with open_archive(instance) as archive:
        assert len(archive.received()) == 1


def test_a_letter_forwarded_as_an_attachment_is_taken_in_from_the_mailbox(
    server, folder, instance, capsys
):
    """A clerk forwards the district's e-mail to the office's mailbox as an attachment
    (message/rfc822, Outlook's and Thunderbird's "forward as attachment"): its letter is
    registered, the register's note naming the clerk who sent it to the office."""
    from saraban.archive import open_archive
    from saraban.cli import main

    forward = email.message.EmailMessage()
    forward["From"] = "clerk@amphoe.example.go.th"
    forward["To"] = "saraban@province.example.go.th"
    forward["Subject"] = "Fwd: หนังสือจากอำเภอ"
    forward.set_content("ส่งต่อเพื่อลงรับ")
    forward.add_attachment(
        email.message_from_bytes(_mail("หนังสือจากอำเภอ", _letter()), policy=email.policy.default)
    )
    server.deliver(forward.as_bytes(), folder)

    assert main(["consume", "--register", ARCHIVE_UNIT, "--imap", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert [t["file"] for t in said["taken"]] == ["letter.txt"] and said["failed"] == []
    with open_archive(instance) as archive:
        [row] = archive.received()
        assert row.note.startswith("ทางอีเมลจาก clerk@amphoe.example.go.th")
        [kept] = archive.enclosed_files(row.letter_id)
        text = archive.files.read(kept.sha256).decode("utf-8")
        assert "จาก: saraban@district.example.go.th" in text


def test_a_thai_folder_over_starttls_with_an_ascii_login(server, trusted, tmp_path):
    thai = "หนังสือรับ & ตอบกลับ"
    server.deliver(_mail("ของเสมียน", _letter()), thai, user=ASCII_USER)
    server.deliver(_mail("ของอีกบัญชี", _letter()), thai)
    imap = _imap(
        server, thai, port=server.port, tls="starttls", user=ASCII_USER, password=ASCII_PASSWORD
    )
    fetched = mailbox.fetch_mail(imap, tmp_path / "inbox", max_bytes=10_000_000)
    [name] = fetched.copied
    with (tmp_path / "inbox" / name).open("rb") as f:
        copied = email.message_from_binary_file(f, policy=email.policy.default)
    assert copied["Subject"] == "ของเสมียน"
    assert server.flags(thai, user=ASCII_USER) == [{"\\Seen"}]
    assert server.flags(thai) == [set()]  # another account's mail is not touched


def test_an_untrusted_certificate_is_refused_and_nothing_is_read(
    server, folder, monkeypatch, tmp_path
):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server.deliver(_mail("ยังไม่อ่าน", _letter()), folder)
    with pytest.raises(mailbox.MailboxError, match="TLS"):
        mailbox.fetch_mail(_imap(server, folder), tmp_path / "inbox", max_bytes=10_000_000)
    assert server.flags(folder) == [set()]
    assert not list((tmp_path / "inbox").iterdir())


def test_a_refused_login_is_said_and_the_folder_is_taken_in_all_the_same(
    server, instance, monkeypatch, capsys
):
    from saraban.cli import main

    monkeypatch.setenv("SARABAN_IMAP_PASSWORD", "wrong-password-never-shown")
    (instance / "inbox").mkdir(exist_ok=True)
    (instance / "inbox" / "letter.txt").write_bytes(_letter())
    assert main(["consume", "--register", ARCHIVE_UNIT, "--imap"]) == 1
    out = capsys.readouterr().out
    assert "รับ / taken\tletter.txt" in out
    assert "ไม่ได้ / failed\tIMAP\t" in out and "refused the login" in out
    assert "wrong-password-never-shown" not in out


def test_consume_imap_without_a_host_is_refused(tmp_path, monkeypatch, capsys):
    from saraban.cli import main

    monkeypatch.setenv("SARABAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SARABAN_IMAP_HOST", raising=False)
    assert main(["consume", "--register", ARCHIVE_UNIT, "--imap"]) == 2
    assert "SARABAN_IMAP_HOST" in capsys.readouterr().err


def test_a_message_over_the_limit_is_flagged_and_left_in_the_mailbox(
    server, folder, trusted, tmp_path
):
    server.deliver(_mail("ใหญ่เกิน", b"x" * 200_000, "big.txt"), folder)
    server.deliver(_mail("พอดี", _letter()), folder)
    fetched = mailbox.fetch_mail(_imap(server, folder), tmp_path / "inbox", max_bytes=100_000)
    [(uid, size)] = fetched.too_large
    assert size > 100_000
    assert len(fetched.copied) == 1
    big, small = server.flags(folder)
    assert big == {"\\Seen", "\\Flagged"} and small == {"\\Seen"}
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == fetched.copied


def test_a_look_that_stopped_before_marking_read_takes_nothing_twice(
    server, folder, trusted, tmp_path
):
    inbox = tmp_path / "inbox"
    server.deliver(_mail("หนังสือ", _letter()), folder)
    imap = _imap(server, folder)
    [name] = mailbox.fetch_mail(imap, inbox, max_bytes=10_000_000).copied
    (inbox / "done").mkdir()
    (inbox / name).replace(inbox / "done" / name)  # taken in since
    client = server.client()  # the crash: the message was never marked read
    client.select('"' + mailbox.imap_utf7(folder) + '"')
    client.store("1", "-FLAGS", "(\\Seen)")
    client.logout()
    assert server.flags(folder) == [set()]

    again = mailbox.fetch_mail(imap, inbox, max_bytes=10_000_000)
    assert again.copied == [] and again.already == 1
    assert server.flags(folder) == [{"\\Seen"}]
    assert sorted(p.name for p in inbox.iterdir()) == ["done"]


def test_no_such_folder_is_said_by_name(server, trusted, tmp_path):
    with pytest.raises(mailbox.MailboxError, match="ไม่พบโฟลเดอร์ 'ไม่มีโฟลเดอร์นี้'"):
        mailbox.fetch_mail(_imap(server, "ไม่มีโฟลเดอร์นี้"), tmp_path / "inbox", max_bytes=1000)


def test_an_unreachable_server_is_said(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    imap = mailbox.ImapSettings("127.0.0.1", port, "none", "u", "p", timeout=5)
    with pytest.raises(mailbox.MailboxError, match="cannot reach the IMAP server"):
        mailbox.fetch_mail(imap, tmp_path / "inbox", max_bytes=1000)


def test_serve_copies_the_mailbox_into_the_watched_folder(server, folder, trusted, tmp_path):
    from saraban.service import close_app
    from saraban.service._inbox import look_once

    server.deliver(_mail("ถึงจังหวัด", _letter()), folder)
    app = _app(server, folder, tmp_path / "home")
    try:
        result = look_once(app)
        assert result is not None and len(result.taken) == 1
        assert server.flags(folder) == [{"\\Seen"}]
        [record] = app.extensions["archive"].received()
        assert record.serial == 1
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SARABAN_IMAP_FOLDER", "INBOX\r\nA1 DELETE INBOX"),
        ("SARABAN_IMAP_USER", "clerk\nA1 LOGOUT"),
        ("SARABAN_IMAP_PASSWORD", "a\x00b"),
        ("SARABAN_IMAP_TLS", "maybe"),
        ("SARABAN_IMAP_PORT", "0"),
    ],
)
def test_imap_settings_that_could_go_wrong_are_refused_naming_them(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_mapping({"SARABAN_IMAP_HOST": "mail.example.go.th", name: value})


def test_folder_names_are_sent_in_modified_utf7():
    assert mailbox.imap_utf7("INBOX") == "INBOX"
    assert mailbox.imap_utf7("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert mailbox.imap_utf7("A&B") == "A&-B"
    assert mailbox.imap_utf7("หนังสือรับ").startswith("&") and mailbox.imap_utf7("หนังสือรับ").isascii()


def test_serve_waits_longer_each_time_a_mailbox_refuses_it(server, folder, trusted, tmp_path):
    """A wrong password is not tried at every look (the mail server would lock the
    account): after a failure the next try waits, twice as long each time."""
    from saraban.service import close_app
    from saraban.service._inbox import read_mailbox

    app = _app(server, folder, tmp_path / "home", SARABAN_IMAP_PASSWORD="not-the-password")
    log = server.base / "dovecot.log"
    try:
        refused = log.read_text(encoding="utf-8").count("auth failed")
        read_mailbox(app, tmp_path / "inbox")
        patience = app.extensions["saraban_mailbox_patience"]
        assert patience.wait == 30.0 and not patience.ready()
        read_mailbox(app, tmp_path / "inbox")  # within the wait: the server is not asked
        deadline = time.monotonic() + 10
        while log.read_text(encoding="utf-8").count("auth failed") == refused:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert log.read_text(encoding="utf-8").count("auth failed") == refused + 1
        patience.until = 0.0  # the wait is over
        read_mailbox(app, tmp_path / "inbox")
        assert patience.wait == 60.0
        for _ in range(10):
            patience.failed(0)
        assert patience.wait == mailbox.Patience.LONGEST
    finally:
        close_app(app)
