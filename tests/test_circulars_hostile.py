"""A recipient's link tried as a hostile outsider would, on a real archive (SQLite, and
PostgreSQL under the ``postgres`` marker): text that is not printable, a letter cancelled
after it was sent, two acknowledgements at the same moment."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select
from test_circulars import _sent

from saraban.archive import _circulars, circulars
from saraban.archive._mail import OutgoingMail
from saraban.errors import BadRequest, Conflict
from saraban.usecases import sending, tracking

THABO = "ที่ว่าการอำเภอท่าบ่อ"


@pytest.mark.parametrize(
    "value",
    ["\x00", "๑๒\x1b]0;PWNED\x07\x1b[2J", "\u202eท่าบ่อ", "\ufffe", "\x9b31m"],
    ids=["nul", "terminal-escape", "direction-override", "non-character", "c1"],
)
def test_a_receive_number_that_cannot_be_printed_is_refused_and_nothing_kept(
    archive, archive_home, value
):
    """A NUL failed PostgreSQL (500); an escape sequence reached the terminal of `saraban
    tracking`; a direction override turns what the clerk reads around."""
    letter, _settings, tokens = _sent(archive, archive_home)
    for receive_no, by in ((value, "นางสาวสมใจ"), ("๑๒", value)):
        with pytest.raises(BadRequest, match="U\\+"):
            sending.acknowledge(archive, tokens[THABO], receive_no, by)
    found = tracking.tracking(archive, letter.id, clearance=None).as_dict()
    [thabo] = [r for r in found["recipients"] if r["name"] == THABO]
    assert thabo["status"] == "sent" and thabo["receive_no"] is None
    acknowledged = sending.acknowledge(archive, tokens[THABO], "๑๒ ก", "นางสาวสมใจ")
    assert acknowledged.receive_no == "๑๒ ก"


def test_a_cancelled_circular_closes_its_links_and_reminds_nobody(archive, archive_home):
    letter, settings, tokens = _sent(archive, archive_home, due=dt.date(2056, 12, 31))
    token = tokens[THABO]
    sending.open_delivery(archive, token)
    assert [a.letter_id for a in sending.awaiting(archive, None)] == [letter.id]
    archive.cancel(letter.id, "ส่งผิดเรื่อง", actor="clerk")
    for step in (
        lambda: sending.open_delivery(archive, token),
        lambda: sending.delivery_file(archive, token, 0),
        lambda: sending.acknowledge(archive, token, "๑", "นายสมชาย"),
        lambda: sending.reply(archive, token, data={"province": "หนองคาย"}),
    ):
        with pytest.raises(circulars.LinkClosed, match="ถูกยกเลิกแล้ว") as closed:
            step()
        assert closed.value.status == 410
    with pytest.raises(Conflict, match="ถูกยกเลิกแล้ว"):
        sending.remind(archive, settings, letter.id, actor="clerk", clearance=None)
    assert sending.awaiting(archive, None) == []
    assert archive.received() == []
    with archive._read() as s:  # the e-mails still queued go nowhere
        mails = s.execute(select(OutgoingMail.sent_at, OutgoingMail.failed_at)).all()
    assert mails and all(failed for _sent_at, failed in mails), mails


def test_two_acknowledgements_at_the_same_moment_keep_the_first(archive, archive_home, monkeypatch):
    """Each reads the delivery, then (held a moment here) writes it: on PostgreSQL both
    read it unacknowledged and the second overwrote the first's number, unless the first
    holds the row until it commits (SQLite's write turn holds them apart anyway)."""
    letter, _settings, tokens = _sent(archive, archive_home)
    real = _circulars._by_token

    def slow(*args, **kwargs):
        found = real(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.5)  # between the read and the write
        return found

    monkeypatch.setattr(_circulars, "_by_token", slow)
    outcomes: list[object] = []

    def acknowledge(number: str) -> None:
        try:
            outcomes.append(sending.acknowledge(archive, tokens[THABO], number, "ผู้รับ"))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes.append(exc)

    threads = [threading.Thread(target=acknowledge, args=(n,)) for n in ("๑", "๒")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], Conflict) and refused[0].status == 409
    monkeypatch.setattr(_circulars, "_by_token", real)
    found = tracking.tracking(archive, letter.id, clearance=None).as_dict()
    [thabo] = [r for r in found["recipients"] if r["name"] == THABO]
    assert thabo["receive_no"] == done[0].receive_no
    events = [e for e in archive.events(limit=1000) if e.action == "delivery.acknowledge"]
    assert len(events) == 1
