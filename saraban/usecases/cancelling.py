"""Cancelling an issued letter (ยกเลิก): it keeps its number and files, with the reason."""

from __future__ import annotations

from saraban.archive import Archive, LetterRecord
from saraban.usecases._access import visible_letter


def cancel(
    archive: Archive, letter_id: int, reason: str, *, actor: str, clearance: str | None
) -> LetterRecord:
    """Cancel a letter the user may see (NotFound otherwise, as for no letter); the archive
    refuses an empty reason and anything but an issued letter."""
    visible_letter(archive, letter_id, clearance)
    return archive.cancel(letter_id, reason, actor=actor)
