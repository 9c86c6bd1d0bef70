"""A recipient's reply is one transaction: the letter kept from it, its row in the
incoming register, its อ้างถึง link and the delivery marked replied are all written or
none is. Proved on a real SQLite archive against an interruption between the steps, a
process killed (SIGKILL) between them, and two replies to one delivery at the same time."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_circulars import FORM_REPLY, _sent

from saraban.archive import circulars
from saraban.archive._circulars import Delivery
from saraban.archive._models import Letter, Received
from saraban.usecases import sending

TESTS = Path(__file__).resolve().parent


def _state(archive, token):
    """(letters kept by the delivery, incoming register rows, whether it is replied)."""
    delivery = sending.open_delivery(archive, token).delivery
    with archive._read() as s:
        letters = s.scalar(
            select(func.count(Letter.id)).where(Letter.created_by == f"delivery:{delivery.id}")
        )
        received = s.scalar(select(func.count(Received.id)))
        replied = s.scalar(select(Delivery.replied_at).where(Delivery.id == delivery.id))
    return letters, received, replied is not None


def test_an_interruption_between_keeping_the_letter_and_numbering_it_keeps_nothing(
    archive, archive_home, monkeypatch
):
    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอท่าบ่อ"]
    real_next_serial = type(archive)._next_serial

    def interrupted(self, *args, **kwargs):  # the reply letter is written, the number not yet
        raise KeyboardInterrupt

    monkeypatch.setattr(type(archive), "_next_serial", interrupted)
    sheet = [("ตาราง.xlsx", b"PK\x03\x04 a sheet only this reply brings")]
    with pytest.raises(KeyboardInterrupt):
        sending.reply(archive, token, data=FORM_REPLY, enclosures=sheet)
    assert _state(archive, token) == (0, 0, False)
    problems = archive.verify()
    if archive.dialect == "sqlite":  # the files it brought are taken out again
        assert problems == []
    else:  # no write turn to remove them safely under: kept, and named
        assert len(problems) == 2, problems
        assert all("not in the database" in p for p in problems), problems

    monkeypatch.setattr(type(archive), "_next_serial", real_next_serial)
    replied = sending.reply(archive, token, data=FORM_REPLY)  # the recipient tries again
    assert replied.status == "replied" and replied.reply_received_id
    assert _state(archive, token) == (1, 1, True)
    assert [r.serial for r in archive.received()] == [1]
    if archive.dialect == "sqlite":
        assert archive.verify() == []
    else:  # the same file is recorded with its letter now; a reply rendered in another
        # second has other bytes, and the first attempt's file is still named, and only it
        assert archive.verify() in ([], problems, problems[1:], problems[:1])


KILLED_MID_REPLY = textwrap.dedent(
    """
    import os, signal, sys
    sys.path[:0] = [{tests!r}]
    from saraban.archive import open_archive
    from saraban.usecases import sending
    from test_circulars import FORM_REPLY

    archive = open_archive({home!r}, {url!r})
    cls = type(archive)

    def killed(self, *args, **kwargs):  # after the letter row, before its register row
        os.kill(os.getpid(), signal.SIGKILL)

    cls._next_serial = killed
    sending.reply(archive, {token!r}, data=FORM_REPLY)
    """
)


def test_a_process_killed_between_the_steps_leaves_no_letter_without_its_register_row(
    archive, archive_home, database_url
):
    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอท่าบ่อ"]
    script = KILLED_MID_REPLY.format(
        tests=str(TESTS), home=str(archive_home), url=database_url, token=token
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    from saraban.archive import open_archive

    reopened = open_archive(archive_home, database_url)  # repair on open finds nothing to do
    try:
        assert _state(reopened, token) == (0, 0, False)  # no letter without its number
        assert reopened.repair() == []
        # what is left is the reply's file, which no row names (and verify says so)
        problems = reopened.verify()
        assert len(problems) == 1 and "not in the database" in problems[0], problems
        replied = sending.reply(reopened, token, data=FORM_REPLY)  # the recipient again
        assert replied.status == "replied"
        assert _state(reopened, token) == (1, 1, True)
        # the killed reply's file and nothing else (none if the retry brought the same
        # bytes: the filled form's DOCX carries the time to the second)
        assert reopened.verify() in ([], problems)
    finally:
        reopened.close()


def test_two_replies_to_one_delivery_at_once_keep_one_letter(archive, archive_home, monkeypatch):
    """Both replies pass the first check before either is written (a barrier holds them
    there); the write turn lets one through and the other is refused, keeping nothing."""
    _letter, _settings, tokens = _sent(archive, archive_home)
    token = tokens["ที่ว่าการอำเภอท่าบ่อ"]
    both_checked = threading.Barrier(2, timeout=30)
    real_check = circulars.check_reply_allowed

    def checked_together(*args, **kwargs):
        found = real_check(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            both_checked.wait()
        return found

    monkeypatch.setattr(circulars, "check_reply_allowed", checked_together)
    # as if the hold on the delivery had lapsed while a reply was read (a process that
    # stopped for a quarter of an hour): only the archive's write turn stands between them
    monkeypatch.setattr(
        circulars,
        "reading_reply",
        lambda archive, token: contextlib.nullcontext(
            circulars.open_token(archive, token, record_open=False)
        ),
    )
    outcomes: list[object] = []

    def reply(data):
        try:
            outcomes.append(sending.reply(archive, token, data=data))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes.append(exc)

    second = {**FORM_REPLY, "village": "บ้านอื่น"}  # another form, so another file
    threads = [threading.Thread(target=reply, args=(d,)) for d in (FORM_REPLY, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    replied = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(replied) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], circulars.AlreadyReplied)
    assert refused[0].status == 409
    assert _state(archive, token) == (1, 1, True)
    kept = sending.tracking(archive, _letter.id, clearance=None).as_dict()
    assert kept["counts"]["replied"] == 1
    assert [r["status"] for r in kept["recipients"]].count("replied") == 1
    problems = archive.verify()
    if archive.dialect == "sqlite":  # the refused reply's file is taken out again
        assert problems == []
    else:  # kept, and named (see the first test)
        assert len(problems) == 1 and "not in the database" in problems[0], problems
