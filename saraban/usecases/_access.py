"""Who may see a letter: the one check every use case makes before it shows or touches
one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from saraban.errors import BadRequest, NotFound
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


def check_may_number(
    clearance: str | None, secrecy: str | None, what: str, what_en: str = "number it"
) -> None:
    """Refuse to number a letter (issue or receive ``what``) marked above ``clearance``:
    each level has a register of its own, so the number given back would count the letters
    of a level the user may not see (a clerk marked a letter ลับที่สุด and read ๔). Keeping
    an imported letter is refused alike: kept, it was hidden from the clerk who imported it,
    who could then neither correct nor confirm it."""
    if secrecy and not can_see(clearance, secrecy):
        raise BadRequest(
            f"secrecy: {what}หนังสือชั้น{secrecy}ไม่ได้ เกินชั้นความลับของท่าน ให้ผู้มีสิทธิ์ชั้น"
            f"{secrecy}เป็นผู้ดำเนินการ / a letter marked {secrecy} is above your clearance: "
            f"someone cleared for it must {what_en}"
        )
