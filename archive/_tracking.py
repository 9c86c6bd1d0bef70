"""A delivery of a sent letter as a plain value (what the recipient did, and its status),
and the tracking of a letter read quickly: without SQLAlchemy, through ``_quick``, for
``saraban tracking`` (the archive's ``_circulars`` reads the same through the ORM).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from saraban.archive._quick import Reader

# What a recipient sees of a delivery, in order; the tracking statuses.
SENT, OPENED, ACKNOWLEDGED, REPLIED = "sent", "opened", "acknowledged", "replied"
STATUS_NAMES = {
    SENT: "ส่งแล้ว",
    OPENED: "เปิดอ่านแล้ว",
    ACKNOWLEDGED: "ลงรับแล้ว",
    REPLIED: "ตอบกลับแล้ว",
}


@dataclass(frozen=True)
class DeliveryInfo:
    id: int
    letter_id: int
    recipient_id: int
    name: str
    addressee: str
    email: str | None
    due: dt.date | None
    form: str | None
    enclosures: list[dict[str, Any]]
    linked: bool
    sent_at: dt.datetime
    revoked_at: dt.datetime | None
    opened_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    receive_no: str | None
    acknowledged_by: str | None
    replied_at: dt.datetime | None
    reply_letter_id: int | None
    reply_received_id: int | None
    reply_data: dict[str, Any] | None
    reminded_at: dt.datetime | None
    inbox_received_id: int | None

    @property
    def status(self) -> str:
        if self.replied_at:
            return REPLIED
        if self.acknowledged_at:
            return ACKNOWLEDGED
        if self.opened_at:
            return OPENED
        return SENT

    def late(self, today: dt.date | None = None) -> bool:
        """Replied after the due date, or not yet replied and the due date has passed."""
        if self.due is None:
            return False
        if self.replied_at is not None:
            return self.replied_at.astimezone().date() > self.due
        return (today or dt.date.today()) > self.due


INFO_FIELDS = tuple(f.name for f in fields(DeliveryInfo))
DATA_FIELDS = ("enclosures", "reply_data")  # left out where not needed (they are the bulk)
_LIGHT_FIELDS = tuple(n for n in INFO_FIELDS if n not in DATA_FIELDS)
# Stored as naive UTC (``_models.UTCDateTime``); SQLite keeps text, booleans as 0/1.
_MOMENTS = ("sent_at", "revoked_at", "opened_at", "acknowledged_at", "replied_at", "reminded_at")


@dataclass(frozen=True)
class LetterFace:
    """What tracking shows of the letter itself, and its secrecy (checked by the caller)."""

    id: int
    public_id: str
    ref_no: str | None
    subject: str | None
    secrecy: str | None


def _moment(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def read_letter(reader: Reader, letter_id: int) -> LetterFace | None:
    found = reader.rows(
        "SELECT id, public_id, ref_no, subject, secrecy FROM letters WHERE id = ?", (letter_id,)
    )
    return LetterFace(*found[0]) if found else None


def read_deliveries(
    reader: Reader, letter_id: int, clearance: str | None
) -> tuple[list[DeliveryInfo], dict[int, str]]:
    """The deliveries of a letter in name order, without their files and form data (as
    ``_circulars.deliveries`` gives them), and the public ids of the letters replied with
    that ``clearance`` opens (a district may mark its reply ลับ)."""
    from saraban.vocabulary import can_see

    columns = ", ".join(f"d.{n}" for n in _LIGHT_FIELDS)
    rows = reader.rows(
        f"SELECT {columns}, r.secrecy, r.public_id FROM deliveries d "
        "LEFT JOIN letters r ON r.id = d.reply_letter_id "
        "WHERE d.letter_id = ? ORDER BY d.name, d.id",
        (letter_id,),
    )
    found: list[DeliveryInfo] = []
    replies: dict[int, str] = {}
    for row in rows:
        values: dict[str, Any] = dict(zip(_LIGHT_FIELDS, row, strict=False))
        for name in _MOMENTS:
            values[name] = _moment(values[name])
        values["due"] = _day(values["due"])
        values["linked"] = bool(values["linked"])
        found.append(DeliveryInfo(**values, enclosures=[], reply_data=None))
        if values["reply_letter_id"] is not None and row[-1] is not None:
            if can_see(clearance, row[-2]):
                replies[values["reply_letter_id"]] = row[-1]
    return found, replies
