"""The incoming register (ทะเบียนหนังสือรับ): a letter that arrived entered under the next
เลขรับ, and what was done with it."""

from __future__ import annotations

import datetime as dt

from saraban.archive import Archive, ReceivedRecord
from saraban.usecases._access import check_may_number


def receive(
    archive: Archive,
    register: str,
    *,
    sender: str,
    recipient: str,
    subject: str,
    actor: str,
    ref_no: str | None = None,
    letter_date: dt.date | None = None,
    action: str | None = None,
    note: str | None = None,
    secrecy: str | None = None,
    clearance: str | None,
) -> ReceivedRecord:
    """Enter a received letter under the register's next เลขรับ; every text is checked
    (required, text, trimmed) by the archive before a number is taken. ``secrecy`` (ลับ,
    ลับมาก, ลับที่สุด) hides the row, its subject and its count from users not cleared for
    it, in lists and exports alike; a level above the user's ``clearance`` is refused
    (:func:`check_may_number`)."""
    check_may_number(clearance, secrecy, "ลงรับ")
    return archive.receive(
        register,
        sender=sender,
        recipient=recipient,
        subject=subject,
        ref_no=ref_no or None,
        letter_date=letter_date,
        action=action or None,
        note=note or None,
        secrecy=secrecy or None,
        actor=actor,
    )
