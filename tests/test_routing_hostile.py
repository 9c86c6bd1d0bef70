"""Routing received letters tried as a hostile clerk would (archive/_routing.py,
saraban/usecases/routing.py, the stamp): text that is not text, a form naming one person
20,000 times, orders without end, the same person routed twice, a closed account in a
unit, an inbox filled by others, a stamped copy kept from an older drawing. Real SQLite
and PostgreSQL, real files."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
import scancorpus
from conftest import ARCHIVE_UNIT

from saraban.archive._incoming import StampOutdated
from saraban.archive._routing import MAX_ORDER_CHARS, MAX_ORDERS
from saraban.errors import BadRequest, Conflict, NotFound
from saraban.usecases import intake, routing

STEM = "000_e6238ec4d0848a5c"
USERS = {"boss": None, "somchai": None, "somsri": None}


def clearance_of(name: str) -> str | None:
    if name not in USERS:
        raise NotFound(name)
    return USERS[name]


def _typed(archive, subject: str = "ขอเชิญประชุม"):
    return archive.receive(
        ARCHIVE_UNIT, sender="กรม", recipient="จังหวัด", subject=subject, actor="clerk"
    )


def _route(archive, received_id, to, **kwargs):
    return routing.route(
        archive,
        received_id,
        to,
        actor="boss",
        clearance=None,
        clearance_of=kwargs.pop("clearance_of", clearance_of),
        **kwargs,
    )


@pytest.mark.parametrize(
    "bad", ["\x00", "\x1b[31m", "\u202e", "\u2066", "\x07", "\x9b", "\ufffe", "\ud800"]
)
def test_routing_text_that_is_not_text_is_refused_naming_the_character(archive, bad):
    """A NUL was a 500 on PostgreSQL; an escape sequence reached the terminal of `saraban
    inbox`; a direction override printed an order backwards on the stamped copy."""
    received = _typed(archive)
    code_point = re.escape(f"U+{ord(bad[0]):04X}")
    with pytest.raises(BadRequest, match=f"note: .*{code_point}"):
        _route(archive, received.id, ["somchai"], note=f"ดำเนิน{bad}การ")
    with pytest.raises(BadRequest, match=f"order: .*{code_point}"):
        routing.write_order(archive, received.id, f"ทร{bad}าบ", actor="boss", clearance=None)
    with pytest.raises(BadRequest, match=f"subject: .*{code_point}"):
        _typed(archive, f"เรื่อง{bad}ประชุม")
    with pytest.raises(BadRequest, match=f"note: .*{code_point}"):
        archive.record_action(received.id, "ดำเนินการแล้ว", actor="clerk", note=f"x{bad}y")
    assert archive.routings_of(received.id) == [] and archive.orders_of(received.id) == []


def test_lines_are_kept_where_a_note_has_them_and_every_text_is_bounded(archive):
    received = _typed(archive)
    [routed] = _route(archive, received.id, ["somchai"], note="ข้อ ๑\r\nข้อ ๒\tด่วน  ")
    assert routed.note == "ข้อ ๑\nข้อ ๒ ด่วน"
    order = routing.write_order(archive, received.id, "ทราบ\nมอบ กลุ่มงาน", actor="boss",
                                clearance=None)  # fmt: skip
    assert order.text == "ทราบ\nมอบ กลุ่มงาน"
    with pytest.raises(BadRequest, match=f"order: .*{MAX_ORDER_CHARS:,}"):
        routing.write_order(
            archive, received.id, "ก" * (MAX_ORDER_CHARS + 1), actor="boss", clearance=None
        )
    with pytest.raises(BadRequest, match="note: .*2,000"):
        _route(archive, received.id, ["somsri"], note="ก" * 2_001)
    with pytest.raises(BadRequest, match="subject: .*1,000"):
        _typed(archive, "ก" * 1_001)
    # one-line fields are one line: a line break typed into a subject is a space
    assert _typed(archive, "ขอเชิญ\nประชุม").subject == "ขอเชิญ ประชุม"


def test_a_letter_takes_a_bounded_number_of_orders(archive):
    """Every order is printed under the stamp on each new copy: ten orders of 10,000
    characters cost 5 s each, and every stamp move after them."""
    received = _typed(archive)
    for n in range(MAX_ORDERS):
        routing.write_order(archive, received.id, f"สั่งการ {n}", actor="boss", clearance=None)
    with pytest.raises(Conflict, match=f"at most {MAX_ORDERS} orders"):
        routing.write_order(archive, received.id, "อีกครั้ง", actor="boss", clearance=None)
    assert len(archive.orders_of(received.id)) == MAX_ORDERS


def test_a_routing_looks_each_name_up_once_and_names_a_bounded_number(archive):
    """A form naming one person 20,000 times took 36 s of lookups (47 s for a unit)."""
    received = _typed(archive)
    looked_up: list[str] = []

    def counting(name: str) -> str | None:
        looked_up.append(name)
        return clearance_of(name)

    archive.add_member(ARCHIVE_UNIT, "somsri", actor="admin")
    routed = _route(
        archive,
        received.id,
        ["somchai"] * 20_000,
        units=[ARCHIVE_UNIT] * 5_000,
        clearance_of=counting,
    )
    assert [r.assignee for r in routed] == ["somchai", ARCHIVE_UNIT]
    assert sorted(looked_up) == ["somchai", "somsri"]
    many = [f"user{n}" for n in range(routing.MAX_ROUTED + 1)]
    with pytest.raises(BadRequest, match=f"at most {routing.MAX_ROUTED} people"):
        _route(archive, received.id, many, clearance_of=counting)


def test_an_unknown_unit_is_a_bad_request_that_repeats_a_bounded_name(archive):
    received = _typed(archive)
    with pytest.raises(BadRequest) as refused:
        _route(archive, received.id, [], units=["ไม่มี " + "ก" * 100_000])
    assert refused.value.status == 400 and len(refused.value.message) < 300
    with pytest.raises(BadRequest) as refused:
        _route(archive, received.id, ["ก" * 100_000])
    assert len(refused.value.message) < 300


def test_the_same_person_routed_twice_has_one_routing_that_done_closes(archive):
    """Two routings of one letter to one person left one waiting after their "done"."""
    received = _typed(archive)
    archive.add_member(ARCHIVE_UNIT, "somsri", actor="admin")
    [first] = _route(archive, received.id, ["somchai"], note="ครั้งแรก")
    again = _route(archive, received.id, ["somchai", "somsri"], units=[ARCHIVE_UNIT])
    assert [r.id for r in again if r.assignee == "somchai"] == [first.id]
    [unit_routing] = [r for r in again if r.unit_id is not None]
    assert [r.id for r in _route(archive, received.id, [], units=[ARCHIVE_UNIT])] == [
        unit_routing.id
    ]
    assert len(archive.routings_of(received.id)) == 3
    routing.done(archive, received.id, actor="somchai", clearance=None)
    assert routing.inbox(archive, "somchai", clearance=None).items == []
    # once done, the letter may be sent to them again: a new routing
    [later] = _route(archive, received.id, ["somchai"], note="แก้ไขเพิ่มเติม")
    assert later.id != first.id and later.note == "แก้ไขเพิ่มเติม"


def test_a_unit_with_a_closed_account_is_still_routed_to(archive):
    """One member whose account was closed made the unit impossible to route to."""
    received = _typed(archive)
    for name in ("somchai", "gone"):
        archive.add_member(ARCHIVE_UNIT, name, actor="admin")
    [routed] = _route(archive, received.id, [], units=[ARCHIVE_UNIT])
    assert routed.assignee == ARCHIVE_UNIT
    assert [i.received.id for i in routing.inbox(archive, "somchai", clearance=None).items] == [
        received.id
    ]
    archive.remove_member(ARCHIVE_UNIT, "somchai", actor="admin")
    with pytest.raises(BadRequest, match="has no members yet"):
        _route(archive, _typed(archive).id, [], units=[ARCHIVE_UNIT])


def test_the_inbox_is_read_a_page_at_a_time_due_first(archive):
    """Any clerk may add a routing to another's inbox with each request: 3,000 of them made
    a 5.6 MB page, and the API read them all to send one."""
    today = dt.date(2026, 12, 4)
    letters = [_typed(archive, f"เรื่อง {n}") for n in range(routing.INBOX_PAGE + 7)]
    for n, received in enumerate(letters):
        due = None if n % 3 == 0 else today + dt.timedelta(days=n - 30)
        _route(archive, received.id, ["somchai"], due=due)
    first = routing.inbox(archive, "somchai", clearance=None, today=today)
    second = routing.inbox(archive, "somchai", clearance=None, today=today, page=2)
    assert first.total == second.total == len(letters)
    assert len(first.items) == routing.INBOX_PAGE and len(second.items) == 7
    everything = [i.routing for i in first.items + second.items]
    dues = [r.due for r in everything if r.due is not None]
    assert dues == sorted(dues) and everything[-1].due is None  # undated after dated
    assert first.late == sum(1 for r in everything if r.late(today)) > 0
    assert len({r.id for r in everything}) == len(letters)


def test_a_stamped_copy_drawn_before_an_order_is_drawn_again(archive, tmp_path, monkeypatch):
    """A stamp moved while an order was being written kept the copy drawn without the
    order, which its page said was printed."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(scancorpus._rendered_pdf(STEM))
    received = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor="clerk").received
    before = archive.stamp_state(received.id)
    archive.add_order(received.id, "ทราบ", actor="boss")
    with pytest.raises(StampOutdated):
        archive.attach_stamped(received.id, b"%PDF-1.7 stale", actor="clerk", drawn=before)

    from saraban.templates import _stamp

    drawn = _stamp.stamp_first_page
    calls: list[list[str]] = []

    def meanwhile(pdf, text, **kwargs):
        calls.append(list(text.orders))
        if len(calls) == 1:  # an order written while the first copy is drawn
            archive.add_order(received.id, "มอบกลุ่มงานพัฒนา", actor="boss")
        return drawn(pdf, text, **kwargs)

    monkeypatch.setattr(_stamp, "stamp_first_page", meanwhile)
    moved = intake.stamp_received(archive, received, actor="clerk", left_mm=120, top_mm=20)
    assert len(calls) == 2 and len(calls[1]) == 2
    copy = tmp_path / "stamped.pdf"
    copy.write_bytes(archive.files.read(moved.stamped_sha256))
    text = subprocess.run(
        ["pdftotext", str(copy), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "มอบกลุ่มงานพัฒนา" in " ".join(text.split())
    assert archive.stamp_position(received.id) == (120.0, 20.0)


def test_refusing_to_cancel_a_letter_names_its_public_id_never_its_row(archive, tmp_path):
    """The row number in "letter 4" counted the secret letters kept between two open ones."""
    path = tmp_path / f"{STEM}.txt"
    path.write_text(scancorpus.source_text(STEM), encoding="utf-8")
    received = intake.take_in(archive, path, register=ARCHIVE_UNIT, actor="clerk").received
    kept = archive.get(received.letter_id)
    with pytest.raises(Conflict) as refused:
        archive.cancel(kept.id, "ผิด", actor="clerk")
    assert f"letter {kept.public_id} " in refused.value.message
    assert f"letter {kept.id} " not in refused.value.message
