"""One kind of digits per printed letter: the office's (``SARABAN_LETTER_DIGITS``).

Official letters are written in Thai digits (๐-๙) by convention, yet clerks type Arabic
ones, and a letter came out mixing ``นค 0019.3/ว 1 ลงวันที่ 3 ธันวาคม 2569`` with Thai digits
elsewhere. The renderers print every digit of a letter, typed or generated, in the office's
kind (:func:`printed_digits`); the lint names each field where the typed text mixed the two
(:func:`digit_kinds`), so the conversion is never silent.

Left as typed: e-mail addresses, URLs and words written in Latin letters with digits in
them (``COVID-19``, ``A4``, ``H5N1``), where Arabic digits belong.
"""

from __future__ import annotations

import re

from saraban.errors import SarabanError
from saraban.thai import to_arabic_digits, to_thai_digits

__all__ = ["DIGIT_STYLES", "check_digit_style", "digit_kinds", "printed_digits"]

DIGIT_STYLES = ("thai", "arabic")

# Spans printed as typed: URLs, e-mail addresses, Latin words (letters and digits, maybe
# joined by - _ . /) that hold at least one Latin letter. An address or a word is tried
# only where one can begin (the lookbehinds): tried inside a long run of letters, each
# start scanned to the run's end and back, and 40,000 characters without a space took 12 s.
_AS_TYPED = re.compile(
    r"""
      (?:https?|ftp|file|mailto)://\S+
    | www\.\S+
    | (?<![^\s@<>()\[\]"',;])[^\s@<>()\[\]"',;]+@[^\s@<>()\[\]"',;]+\.[^\s@<>()\[\]"',;]+
    | (?<![A-Za-z0-9])(?<![A-Za-z0-9][-_./])[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:[-_./][A-Za-z0-9]+)*
    | (?<![A-Za-z0-9])(?<![A-Za-z0-9][-_./])
      [0-9]+(?:[-_./][0-9]+)*[-_./]?[A-Za-z][A-Za-z0-9]*(?:[-_./][A-Za-z0-9]+)*
    """,
    re.VERBOSE | re.IGNORECASE,
)
_ARABIC = re.compile(r"[0-9]")
_THAI = re.compile(r"[๐-๙]")


def check_digit_style(value: str) -> str:
    """``value`` (the setting SARABAN_LETTER_DIGITS), checked: ``thai`` or ``arabic``."""
    value = value.strip().lower() or "thai"
    if value not in DIGIT_STYLES:
        raise SarabanError(
            f"SARABAN_LETTER_DIGITS: ต้องเป็น thai หรือ arabic / must be thai or arabic, not {value!r}"
        )
    return value


def _spans(text: str):
    """``(part, as_typed)`` pieces of ``text``, in order."""
    position = 0
    for match in _AS_TYPED.finditer(text):
        if match.start() > position:
            yield text[position : match.start()], False
        yield match.group(), True
        position = match.end()
    if position < len(text):
        yield text[position:], False


def printed_digits(text: str, style: str) -> str:
    """``text`` with every digit in ``style`` (``thai`` or ``arabic``), but for e-mail
    addresses, URLs and Latin words, which keep theirs."""
    convert = to_thai_digits if style == "thai" else to_arabic_digits
    if not (_ARABIC if style == "thai" else _THAI).search(text):
        return text
    return "".join(part if as_typed else convert(part) for part, as_typed in _spans(text))


def digit_kinds(text: str) -> tuple[int | None, int | None]:
    """Where the first Arabic and the first Thai digit are in ``text`` (None: there is none),
    leaving out the spans printed as typed."""
    first: dict[str, int] = {}
    position = 0
    for part, as_typed in _spans(text):
        if not as_typed:
            for kind, pattern in (("arabic", _ARABIC), ("thai", _THAI)):
                match = pattern.search(part)
                if match and kind not in first:
                    first[kind] = position + match.start()
        position += len(part)
    return first.get("arabic"), first.get("thai")
