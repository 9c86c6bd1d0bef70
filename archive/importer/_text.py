"""Text clean-up shared by extraction and parsing: line ends, invisible characters and the
order of Thai marks, with nothing visible changed."""

from __future__ import annotations

import re

from pythainlp.util import reorder_vowels

DIGIT = "0-9๐-๙"
SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
COLUMNS_RE = re.compile(r"\t+|\s{3,}")  # the gaps between the columns of a table line
PAGE_NUMBER_RE = re.compile(rf"^[-–—]\s*[{DIGIT}]{{1,3}}\s*[-–—]$|^หน้า(?:ที่)?\s*[{DIGIT}]{{1,3}}$")
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def clean(text: str) -> str:
    """Unicode-level clean-up only: line ends, invisible characters, ``ํ+า`` -> ``ำ``.

    PDF text layers often store ``ำ`` as NIKHAHIT + SARA AA and put tone marks in another
    order; ``reorder_vowels`` restores the standard spelling of the *same* printed text.
    Nothing visible is changed.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH_RE.sub("", text)
    return reorder_vowels(text)


def flatten(text: str) -> str:
    return SPACES_RE.sub(" ", text).strip()
