"""Who may see a letter: the one check every use case makes before it shows or touches
one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from saraban.errors import NotFound
from saraban.vocabulary import can_see

if TYPE_CHECKING:  # the archive is loaded by whoever opened it (saraban tracking: never)
    from saraban.archive import Archive, LetterRecord

NO_SUCH_LETTER = "ไม่พบหนังสือที่ต้องการ / no such letter"


def visible_letter(archive: Archive, letter_id: int, clearance: str | None) -> LetterRecord:
    """The letter, or NotFound, the same answer whether it does not exist or is secret
    beyond ``clearance``: nobody learns that a letter they may not see exists."""
    try:
        record = archive.get(letter_id)
    except NotFound:
        record = None
    if record is None or not can_see(clearance, record.secrecy):
        # Neither the row number (it counts letters) nor which of the two cases it was.
        raise NotFound(NO_SUCH_LETTER)
    return record
