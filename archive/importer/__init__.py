"""Import an existing letter (plain text, DOCX or PDF) into a letter document.

Offices hold thousands of letters that exist only as files; to bring them into the archive the
importer reads the parts of the letter *by the rules of the format* (section 1 of
``reference/thai-official-letters.md``), not by the look of a few samples:

- หนังสือภายนอก: urgency/secrecy stamps, ``ที่`` + sender block, date line, ``เรื่อง``,
  salutation + addressee, ``อ้างถึง``, ``สิ่งที่ส่งมาด้วย``, body paragraphs and numbered items,
  closing (``จึงเรียนมาเพื่อ...``), complimentary close, signature name in parentheses,
  position lines (acting lines included), owner unit, phone/fax/e-mail, footer slogan;
- บันทึกข้อความ (``ส่วนราชการ``/``ที่``/``วันที่``/``เรื่อง``), คำสั่ง and ประกาศ
  (``สั่ง/ประกาศ ณ วันที่``), and หนังสือประทับตรา (``ถึง``).

Whatever follows the letter's owner-unit/contact/footer block is ``attachments_text``.

A parser of real-world text is never sure of everything. Whatever it had to guess goes to
``needs_review`` (dotted field paths) with a note in Thai and English saying why, so that a
clerk checks exactly those fields; nothing guessed is presented as sure. Text is kept as
printed (extraction noise such as ``ำ`` read as ``า`` is not "corrected"); only page furniture
(page numbers ``- ๒ -``, continuation words ``/๔. วิเคราะห์...``) is dropped, and layout
whitespace is collapsed.

:func:`import_file` adds the checks a file from outside needs before anything parses it:
size, magic bytes, PDF damage, DOCX zip bombs, and a text that is not a letter at all. Each
is a :class:`ImportFailed` (a :class:`saraban.errors.BadRequest`) whose message names the
file, in Thai and English.

The package: :mod:`._intake` (the checks), :mod:`._extraction` (a file's text),
:mod:`._parsing` (the letter read from the text), :mod:`._text` (clean-up both share).
"""

from __future__ import annotations

from pathlib import Path

from saraban.archive.importer._extraction import extract_text
from saraban.archive.importer._intake import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNPACKED_BYTES,
    EmptyFile,
    FileTooLarge,
    ImportFailed,
    NotALetter,
    UnreadableFile,
    UnsupportedFormat,
)
from saraban.archive.importer._parsing import ImportResult, Parser, parse_letter_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNPACKED_BYTES",
    "EmptyFile",
    "FileTooLarge",
    "ImportFailed",
    "ImportResult",
    "NotALetter",
    "UnreadableFile",
    "UnsupportedFormat",
    "extract_text",
    "import_file",
    "parse_letter_text",
]


def import_file(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
) -> ImportResult:
    """Read a letter file into a letter document (:func:`extract_text` +
    :func:`parse_letter_text`); a text with none of the parts of a letter raises
    :class:`NotALetter`."""
    path = Path(path)
    text = extract_text(path, max_bytes=max_bytes, max_unpacked_bytes=max_unpacked_bytes)
    parser = Parser(text)
    result = parser.parse()
    if not parser.found & {"ref_no", "subject", "salutation", "memo", "order", "announcement"}:
        raise NotALetter(
            path,
            "ไม่พบส่วนของหนังสือราชการ (ที่ เรื่อง เรียน) ในไฟล์นี้ จึงไม่ใช่หนังสือที่นำเข้าได้",
            "none of the parts of a letter (ที่, เรื่อง, เรียน) is in this file",
        )
    return result
