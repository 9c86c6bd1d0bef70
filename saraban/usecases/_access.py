"""Who may see a letter: the one check every use case makes before it shows or touches
one."""

from __future__ import annotations

from saraban.archive import Archive, LetterRecord
from saraban.errors import NotFound
from saraban.letter import can_see


def visible_letter(archive: Archive, letter_id: int, clearance: str | None) -> LetterRecord:
    """The letter, or NotFound, the same answer whether it does not exist or is secret
    beyond ``clearance``: nobody learns that a letter they may not see exists."""
    record = archive.get(letter_id)
    if not can_see(clearance, record.secrecy):
        raise NotFound(f"ไม่พบหนังสือรายการ {letter_id} / no letter {letter_id}")
    return record
