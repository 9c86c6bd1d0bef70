"""Who a sent letter went to and what each recipient did (opened, acknowledged, replied,
late or not): the tracking page, the API and ``saraban tracking``.

:func:`tracking` reads it from an open archive. :func:`quick_tracking` reads the same
without opening one (no SQLAlchemy: ``saraban.archive._quick``), for a command that starts,
prints and ends: it gives None when it cannot answer as the archive would (no database yet,
a schema to upgrade, a database it cannot reach), and the caller opens the archive.

Both say nothing of a letter the user's clearance does not open: the same NotFound as for
a letter that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saraban.archive._tracking import DeliveryInfo
from saraban.errors import NotFound
from saraban.thai import THAI_MONTHS_ABBR, to_thai_digits
from saraban.usecases._access import NO_SUCH_LETTER, visible_letter
from saraban.vocabulary import can_see

if TYPE_CHECKING:
    from saraban.archive import Archive


def be_moment(moment: dt.datetime | None) -> str:
    """A moment as a clerk reads it: ``๑๕ ธ.ค. ๖๘ ๑๔.๓๐ น.`` (the office's clock)."""
    if moment is None:
        return ""
    local = moment.astimezone()  # thai_date's "short" style, without its cost per row
    return to_thai_digits(
        f"{local.day} {THAI_MONTHS_ABBR[local.month - 1]} {str(local.year + 543)[-2:]} "
        f"{local:%H.%M} น."
    )


@dataclass(frozen=True)
class Tracking:
    letter_id: int
    public_id: str  # what users see (the row id counts letters)
    ref_no: str | None
    subject: str | None
    due: dt.date | None
    form: str | None
    deliveries: list[DeliveryInfo]
    today: dt.date
    reply_public_ids: dict[int, str]  # reply letter's row id -> its public id

    @cached_property
    def late_ids(self) -> frozenset[int]:
        """The deliveries that are late (:meth:`DeliveryInfo.late`), worked out once."""
        return frozenset(d.id for d in self.deliveries if d.late(self.today))

    def counts(self) -> dict[str, int]:
        found = {
            "recipients": len(self.deliveries),
            "opened": 0,
            "acknowledged": 0,
            "replied": 0,
            "late": len(self.late_ids),
        }
        for d in self.deliveries:
            found["opened"] += d.opened_at is not None
            found["acknowledged"] += d.acknowledged_at is not None
            found["replied"] += d.replied_at is not None
        return found

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.astimezone().isoformat(timespec="seconds") if moment else None

        late = self.late_ids
        return {
            "letter": self.public_id,
            "due": self.due.isoformat() if self.due else None,
            "counts": self.counts(),
            "recipients": [
                {
                    "name": d.name,
                    "status": d.status,
                    "opened_at": iso(d.opened_at),
                    "acknowledged_at": iso(d.acknowledged_at),
                    "receive_no": d.receive_no,
                    "replied_at": iso(d.replied_at),
                    "late": d.id in late,
                    "reply_letter": self.reply_public_ids.get(d.reply_letter_id)
                    if d.reply_letter_id
                    else None,
                    "revoked": d.revoked_at is not None,
                }
                for d in self.deliveries
            ],
        }


def _made(
    letter_id: int,
    public_id: str,
    ref_no: str | None,
    subject: str | None,
    found: list[DeliveryInfo],
    replies: dict[int, str],
    today: dt.date | None,
) -> Tracking:
    due = next((d.due for d in found if d.due), None)
    form = next((d.form for d in found if d.form), None)
    return Tracking(
        letter_id, public_id, ref_no, subject, due, form, found, today or dt.date.today(), replies
    )


def tracking(
    archive: Archive, letter_id: int, *, clearance: str | None, today: dt.date | None = None
) -> Tracking:
    """Who the letter went to and what each did; NotFound, the same as for a letter that
    does not exist, for a letter the user's clearance does not open."""
    from saraban.archive import circulars

    record = visible_letter(archive, letter_id, clearance)
    found = circulars.deliveries(archive, letter_id)
    replied_with = (d.reply_letter_id for d in found if d.reply_letter_id)
    replies = archive.public_ids(replied_with, clearance=clearance)  # a reply may be secret
    return _made(letter_id, record.public_id, record.ref_no, record.subject, found, replies, today)


def quick_tracking(
    home: Path,
    database_url: str | None,
    letter_id: int,
    *,
    clearance: str | None,
    today: dt.date | None = None,
) -> Tracking | None:
    """:func:`tracking` read without opening the archive, in one read transaction; None
    when that cannot be done (then open the archive and call :func:`tracking`)."""
    from saraban.archive import _quick, _tracking

    with _quick.connect(home, database_url) as reader:
        if reader is None:
            return None
        letter = _tracking.read_letter(reader, letter_id)
        if letter is None or not can_see(clearance, letter.secrecy):
            raise NotFound(NO_SUCH_LETTER)
        found, replies = _tracking.read_deliveries(reader, letter_id, clearance)
    return _made(letter.id, letter.public_id, letter.ref_no, letter.subject, found, replies, today)
