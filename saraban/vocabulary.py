"""The letter's vocabulary, in one table: the kinds (their Thai names, what each must
have and what it does not print), the urgency marks and the secrecy levels.

The letter rules (:mod:`saraban.letter`), the renderer, the clerk's form, the search page
and the API all read these; none keeps a list of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from saraban.errors import BadRequest


@dataclass(frozen=True)
class Kind:
    """One kind of official letter (section 1 of the reference)."""

    name: str  # the document's "kind"
    thai: str  # its name as printed and spoken: บันทึกข้อความ
    label: str  # its name on the clerk's form, where two kinds could be confused
    english: str  # with its article, for messages: "a memo"
    # Parts it cannot do without. ``ref_no`` and ``date`` are never required: a draft
    # leaves them null and issuing fills them. An external letter's sender block is a
    # warning, not an error: imports can lose the first-page header.
    required: tuple[str, ...]
    # Parts it does not print: filled in, they would silently vanish from the letter.
    not_printed: tuple[str, ...] = ()

    def prints(self, part: str) -> bool:
        return part not in self.not_printed


LETTER_KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "external",
            "หนังสือภายนอก",
            "หนังสือภายนอก",
            "an external letter",
            required=(
                "subject",
                "salutation",
                "addressee",
                "body",
                "closing",
                "complimentary_close",
                "signer.name",
                "signer.position",
                "owner_unit",
            ),
        ),
        Kind(
            "memo",
            "บันทึกข้อความ",
            "บันทึกข้อความ (หนังสือภายใน)",
            "a memo",
            required=(
                "owner_unit",
                "subject",
                "salutation",
                "addressee",
                "body",
                "signer.name",
                "signer.position",
            ),
            not_printed=("sender.address", "complimentary_close"),
        ),
        Kind(
            "order",
            "คำสั่ง",
            "คำสั่ง",
            "an order",
            required=("sender.name", "subject", "body", "signer.name", "signer.position"),
            not_printed=("salutation", "addressee", "complimentary_close"),
        ),
        Kind(
            "announcement",
            "ประกาศ",
            "ประกาศ",
            "an announcement",
            required=("sender.name", "subject", "body", "signer.name", "signer.position"),
            not_printed=("salutation", "addressee", "complimentary_close"),
        ),
        Kind(
            "stamped",
            "หนังสือประทับตรา",
            "หนังสือประทับตรา",
            "a stamped letter",
            required=("sender.name", "addressee", "body", "owner_unit"),
            not_printed=("salutation", "complimentary_close", "signer.name", "signer.position"),
        ),
    )
}
KINDS = tuple(LETTER_KINDS)
URGENCIES = ("ด่วน", "ด่วนมาก", "ด่วนที่สุด")  # ชั้นความเร็ว, slowest first
SECRECIES = ("ลับ", "ลับมาก", "ลับที่สุด")  # ชั้นความลับ, lowest first


def visible_levels(clearance: str | None) -> tuple[str, ...]:
    """The secrecy levels a clearance opens, lowest first."""
    if clearance not in SECRECIES:
        return ()
    return SECRECIES[: SECRECIES.index(clearance) + 1]


def can_see(clearance: str | None, secrecy: str | None) -> bool:
    """Whether a user cleared at ``clearance`` may see a letter marked ``secrecy``: a
    letter marked ลับ, ลับมาก or ลับที่สุด only at that level or above; an unknown marking
    counts as the highest. (The archive's queries say the same in SQL.)"""
    if not secrecy or clearance == SECRECIES[-1]:
        return True
    return secrecy in visible_levels(clearance)


def kind_label(kind: str | None) -> str:
    """The form's Thai name of a kind; an unknown kind as it is."""
    found = LETTER_KINDS.get(kind or "")
    return found.label if found else kind or ""


# What is never part of a name or a line of text: control characters (C0, DEL, C1),
# direction controls (they turn what a clerk reads around), lone surrogates, and U+FFFE and
# U+FFFF (no XML holds them).
UNPRINTABLE_IN_A_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def one_line(text: str) -> str:
    """Text from outside (a file, a name sent) as one line: what :func:`typed_text` refuses
    from a person, and runs of white space, line breaks included, become one space."""
    return " ".join(UNPRINTABLE_IN_A_LINE.sub(" ", text).split())


def cut(text: str, limit: int = 60) -> str:
    """Text a person sent, as a message repeats it: at most ``limit`` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


MAX_LINE_CHARS = 500  # one-line text: names, salutation, addressee, position lines, contact
MAX_NOTE_CHARS = 2_000  # a note, a reason, an action: a paragraph, not a file


def typed_text(
    value: Any,
    field_name: str,
    *,
    required: bool = True,
    lines: bool = False,
    limit: int | None = None,
) -> str | None:
    """Text a person typed into one field: one line (its runs of white space, line breaks
    included, made one space), or with ``lines`` its line breaks kept; at most ``limit``
    characters (a line MAX_LINE_CHARS, lines MAX_NOTE_CHARS). A control character, a
    direction control, a lone surrogate, U+FFFE or U+FFFF is refused, naming it: a NUL
    failed PostgreSQL (a 500), an escape sequence reached the terminal of ``saraban inbox``,
    and a direction override printed an order backwards on the stamped copy."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"{field_name}: ต้องระบุ / required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field_name}: ต้องเป็นข้อความ / must be text")
    if lines:
        typed = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        text = "\n".join(line.rstrip() for line in typed.strip().split("\n"))
    else:
        text = " ".join(value.split())
    if match := UNPRINTABLE_IN_A_LINE.search(text.replace("\n", " ")):
        code_point = f"U+{ord(match.group()):04X}"
        raise BadRequest(
            f"{field_name}: มีอักขระควบคุม {code_point} ที่พิมพ์ไม่ได้ / holds {code_point}, "
            "a control character"
        )
    most = limit if limit is not None else MAX_NOTE_CHARS if lines else MAX_LINE_CHARS
    if len(text) > most:
        raise BadRequest(f"{field_name}: ยาวเกิน {most:,} ตัวอักษร / longer than {most:,} characters")
    return text


_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def scrub_surrogates(text: str) -> str:
    """Text safe to send or print: each lone surrogate (stored before it was refused)
    becomes U+FFFD, as a page shows it."""
    return _LONE_SURROGATE_RE.sub("\ufffd", text) if _LONE_SURROGATE_RE.search(text) else text
