"""What a file from outside must pass before anything reads it: it exists and is a file,
is not empty or too large, is (by its content, not its name) a .txt, .docx or .pdf whose
name agrees, and a .docx is a Word document and no zip bomb. Each refusal is an
:class:`ImportFailed` naming the file, in Thai and English."""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from saraban.errors import BadRequest, TooLarge

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# A DOCX is a zip; python-docx inflates its XML parts in memory. Real letters unpack to a few
# MB (images are stored already compressed); these limits refuse a bomb before it is opened.
DEFAULT_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # XML compresses 5-20x; a zero-filled bomb reaches 1000x
_RATIO_FLOOR_BYTES = 1024 * 1024  # tiny members may compress oddly; judge the ratio above 1 MB
MAX_ZIP_MEMBERS = 10_000
# The XML of a .docx that is parsed: 60 MB of it took python-docx 114 s and 1.3 GB. A letter
# holds tens of kilobytes; a hundred pages of tables a few megabytes.
MAX_DOCX_XML_BYTES = 10 * 1024 * 1024
PDFTOTEXT_TIMEOUT_S = 120


# --------------------------------------------------------------------------- errors


class ImportFailed(BadRequest):
    """A file that cannot be imported; the message names the file and says why (Thai/English)."""

    def __init__(self, path: Path | str, th: str, en: str, *, status: int | None = None) -> None:
        self.path = Path(path)
        self.th, self.en = th, en
        super().__init__(f"{self.path.name}: {th} / {en}", status=status)


class EmptyFile(ImportFailed):
    """The file holds no bytes, or only whitespace."""


class FileTooLarge(ImportFailed, TooLarge):
    """The file (or a DOCX once unpacked) is over the limit."""

    status = 413


class UnsupportedFormat(ImportFailed):
    """Not a .txt, .docx or .pdf, or its content is another format than its name says."""

    status = 415


class UnreadableFile(ImportFailed):
    """A damaged PDF or DOCX, an encrypted PDF, text in an unknown encoding."""

    status = 422


class NotALetter(ImportFailed):
    """Readable text, but none of the parts of a letter (ที่, เรื่อง, เรียน, ...) is in it."""

    status = 422


# --------------------------------------------------------------------------- files

_MAGIC = (  # (prefix, kind, Thai name, English name)
    (b"PK\x03\x04", "zip", "ไฟล์ zip", "a zip archive"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "ole",
        "ไฟล์ Word แบบเก่า (.doc)",
        "an old Word/Office file (.doc)",
    ),
    (b"\xff\xd8\xff", "jpeg", "ไฟล์ภาพ JPEG", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "png", "ไฟล์ภาพ PNG", "a PNG image"),
    (b"GIF8", "gif", "ไฟล์ภาพ GIF", "a GIF image"),
    (b"II*\x00", "tiff", "ไฟล์ภาพ TIFF", "a TIFF image"),
    (b"MM\x00*", "tiff", "ไฟล์ภาพ TIFF", "a TIFF image"),
    (b"{\\rtf", "rtf", "ไฟล์ RTF", "an RTF document"),
    (b"\x1f\x8b", "gzip", "ไฟล์ gzip", "a gzip archive"),
    (b"Rar!", "rar", "ไฟล์ RAR", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z", "ไฟล์ 7z", "a 7z archive"),
)
# The images the OCR reads (``_ocr.read_pages``), told by their first bytes. HEIF: the major
# brands of files with HEVC-coded images (ISO/IEC 23008-12), which libheif decodes with
# libde265 (both in pi-heif's wheels); an AVIF (AV1) is not among them.
HEIF_BRANDS = (
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
)
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
}


def image_kind(head: bytes) -> str | None:
    """``png``, ``jpeg``, ``tiff`` or ``heif`` (a phone's photo: major brand ``heic``;
    ``mif1`` for other HEIF writers) for a file starting with ``head`` (16 bytes); None for
    anything else. Here, not in ``_ocr``, so that telling a file's kind loads no OpenCV."""
    for magic, kind in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heif"
    return None


_EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".txt": "text", ".text": "text"}
_KIND_NAMES = {
    "pdf": ("ไฟล์ PDF", "a PDF"),
    "docx": ("ไฟล์ Word (.docx)", "a Word document (.docx)"),
    "text": ("ไฟล์ข้อความ", "a text file"),
}
TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DOCX_MAIN_TYPES = (
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    b"application/vnd.ms-word.document.macroEnabled.main+xml",
)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _sniff(path: Path, head: bytes) -> str:
    """The format by content: "pdf", "docx", "text", or raises naming what the file is."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    for prefix, kind, th, en in _MAGIC:
        if head.startswith(prefix):
            if kind == "zip":
                return "docx"  # checked as a Word file in _docx_text
            raise UnsupportedFormat(
                path,
                f"ไฟล์นี้เป็น{th} ไม่ใช่ไฟล์ .txt .docx หรือ .pdf ที่นำเข้าได้",
                f"the file is {en}, not a .txt, .docx or .pdf that can be imported",
            )
    if not _looks_like_text(head):
        raise UnsupportedFormat(
            path,
            "ไฟล์นี้เป็นข้อมูลไบนารีที่ไม่รู้จัก ไม่ใช่ข้อความ เอกสาร Word หรือ PDF",
            "the file is binary data of an unknown kind, not text, a Word document or a PDF",
        )
    return "text"


def _looks_like_text(head: bytes) -> bool:
    """The first bytes decode as UTF-8/UTF-16 (BOM)/cp874 with few control characters."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "cp874"):
        try:  # incremental: the last character may be cut at the end of the sample
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return len(TEXT_CONTROL_RE.findall(text)) <= max(2, len(text) // 100)
    return False


def _check_kind(path: Path, kind: str) -> None:
    """The name's extension must agree with the content (a JPEG renamed .pdf is refused)."""
    named = _EXTENSIONS.get(path.suffix.lower())
    if named is None:
        if path.suffix:
            raise UnsupportedFormat(
                path,
                f"นำเข้าได้เฉพาะไฟล์ .txt .docx และ .pdf (ไม่รองรับ {path.suffix})",
                f"only .txt, .docx and .pdf files can be imported, not {path.suffix}",
            )
        return
    if named != kind:
        th_named, en_named = _KIND_NAMES[named]
        th_kind, en_kind = _KIND_NAMES[kind]
        raise UnsupportedFormat(
            path,
            f"ชื่อไฟล์บอกว่าเป็น{th_named} แต่เนื้อไฟล์เป็น{th_kind}",
            f"the name says {en_named} but the content is {en_kind}",
        )


def check_docx_zip(path: Path, max_unpacked_bytes: int) -> None:
    """Refuse zip bombs and zips that are not Word documents before python-docx opens them."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise FileTooLarge(
                    path,
                    f"ไฟล์ .docx มีไฟล์ย่อย {len(infos):,} ไฟล์ เกินขีดจำกัด {MAX_ZIP_MEMBERS:,}",
                    f"the .docx holds {len(infos):,} parts, over the limit of {MAX_ZIP_MEMBERS:,}",
                )
            unpacked = sum(info.file_size for info in infos)
            if unpacked > max_unpacked_bytes:
                raise FileTooLarge(
                    path,
                    f"ไฟล์ .docx เมื่อแตกออกมีขนาด {_mb(unpacked)} เกินขีดจำกัด"
                    f" {_mb(max_unpacked_bytes)} (อาจเป็น zip bomb)",
                    f"the .docx unpacks to {_mb(unpacked)}, over the limit of"
                    f" {_mb(max_unpacked_bytes)} (a zip bomb?)",
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
                    raise FileTooLarge(
                        path,
                        f"ส่วน {info.filename} ในไฟล์ .docx ถูกบีบอัด {ratio:,.0f} เท่า"
                        f" (เกิน {MAX_COMPRESSION_RATIO} เท่า) น่าจะเป็น zip bomb",
                        f"the part {info.filename} is compressed {ratio:,.0f}x (over"
                        f" {MAX_COMPRESSION_RATIO}x): a zip bomb?",
                    )
            xml = sum(i.file_size for i in infos if i.filename.lower().endswith(".xml"))
            if xml > MAX_DOCX_XML_BYTES:  # what python-docx parses (pictures it only carries)
                raise FileTooLarge(
                    path,
                    f"ข้อความและรูปแบบในไฟล์ .docx มีขนาด {_mb(xml)} เกินขีดจำกัด"
                    f" {_mb(MAX_DOCX_XML_BYTES)} แยกเป็นหลายไฟล์",
                    f"the .docx holds {_mb(xml)} of text and markup, over the limit of"
                    f" {_mb(MAX_DOCX_XML_BYTES)}: split it",
                )
            names = {info.filename for info in infos}
            types = b""
            listing = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
            if listing is not None and listing.file_size <= _RATIO_FLOOR_BYTES:
                types = archive.read(listing)
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(
            path, f"ไฟล์ .docx เสียหาย ({exc})", f"the .docx is damaged: {exc}"
        ) from exc
    if not any(t in types for t in _DOCX_MAIN_TYPES):
        what_th, what_en = "ไฟล์ zip ที่ไม่ใช่เอกสาร Word", "a zip archive that is not a Word document"
        if any(n.startswith("xl/") for n in names):
            what_th, what_en = "ไฟล์ Excel (.xlsx)", "an Excel workbook (.xlsx)"
        elif any(n.startswith("ppt/") for n in names):
            what_th, what_en = "ไฟล์ PowerPoint (.pptx)", "a PowerPoint file (.pptx)"
        elif "mimetype" in names:
            what_th, what_en = "ไฟล์ OpenDocument (.odt)", "an OpenDocument file (.odt)"
        raise UnsupportedFormat(
            path, f"ไฟล์นี้เป็น{what_th}", f"the file is {what_en}, not a .docx letter"
        )


def check_file(path: Path, max_bytes: int) -> str:
    """The file's format ("pdf", "docx" or "text") once it passed the checks."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ImportFailed(path, "ไม่พบไฟล์", "no such file", status=404) from exc
    except OSError as exc:
        raise UnreadableFile(
            path, f"อ่านไฟล์ไม่ได้ ({exc.strerror})", f"cannot read: {exc.strerror}"
        ) from exc
    if not path.is_file():
        raise UnsupportedFormat(path, "ไม่ใช่ไฟล์ (อาจเป็นโฟลเดอร์)", "not a regular file")
    if size == 0:
        raise EmptyFile(path, "ไฟล์ว่างเปล่า (๐ ไบต์)", "the file is empty (0 bytes)")
    if size > max_bytes:
        raise FileTooLarge(
            path,
            f"ไฟล์มีขนาด {_mb(size)} เกินขีดจำกัด {_mb(max_bytes)}",
            f"the file is {_mb(size)}, over the limit of {_mb(max_bytes)}",
        )
    with path.open("rb") as f:
        head = f.read(2048)
    kind = _sniff(path, head)
    _check_kind(path, kind)
    return kind
