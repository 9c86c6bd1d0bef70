"""The plain text of a letter file: a text file decoded (UTF-8, UTF-16, TIS-620), a PDF's
text layer (pdftotext, its layout and raw readings merged, the page footer told apart), a
DOCX's paragraphs and tables in document order."""

from __future__ import annotations

import difflib
import html
import re
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from saraban.archive.importer._intake import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNPACKED_BYTES,
    PDFTOTEXT_TIMEOUT_S,
    TEXT_CONTROL_RE,
    EmptyFile,
    UnreadableFile,
    UnsupportedFormat,
    check_docx_zip,
    check_file,
)
from saraban.archive.importer._text import COLUMNS_RE, PAGE_NUMBER_RE, clean, flatten


def _decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else TIS-620/cp874 (older Thai files)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                path, "ไฟล์ UTF-16 เสีย อ่านไม่ได้", f"damaged UTF-16 text: {exc.reason}"
            ) from exc
    if b"\x00" in data:
        raise UnsupportedFormat(
            path,
            "ไฟล์นี้เป็นข้อมูลไบนารี ไม่ใช่ข้อความ",
            "the file holds binary data, not text",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp874")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                path,
                "อ่านข้อความไม่ได้: ไม่ใช่ UTF-8 หรือ TIS-620 (อาจเป็นข้อมูลไบนารี)",
                "cannot read the text: it is neither UTF-8 nor TIS-620/cp874 (binary data?)",
            ) from exc
    controls = len(TEXT_CONTROL_RE.findall(text))
    if controls > max(2, len(text) // 100):
        raise UnsupportedFormat(
            path,
            "ไฟล์นี้มีอักขระควบคุมจำนวนมาก น่าจะเป็นข้อมูลไบนารี ไม่ใช่ข้อความ",
            "the file is full of control characters: binary data, not text",
        )
    return text


# -- PDF


def _pdftotext(path: Path, mode: str) -> str:
    try:
        done = subprocess.run(
            ["pdftotext", mode, "-enc", "UTF-8", str(path.resolve()), "-"],
            capture_output=True,
            timeout=PDFTOTEXT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:  # poppler-utils missing: a set-up fault, not the file's
        raise RuntimeError("pdftotext (poppler-utils) is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise UnreadableFile(
            path,
            f"อ่าน PDF ไม่เสร็จภายใน {PDFTOTEXT_TIMEOUT_S} วินาที (ไฟล์อาจเสียหรือซับซ้อนเกินไป)",
            f"reading the PDF took over {PDFTOTEXT_TIMEOUT_S} s (damaged or too complex)",
        ) from exc
    message = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0:
        detail = message[-1] if message else f"exit status {done.returncode}"
        if any("password" in line.lower() for line in message):
            raise UnreadableFile(
                path,
                "PDF นี้เข้ารหัสด้วยรหัสผ่าน อ่านข้อความไม่ได้",
                f"the PDF is password-protected ({detail})",
            )
        raise UnreadableFile(
            path,
            f"ไฟล์ PDF เสียหาย อ่านไม่ได้ ({detail})",
            f"the PDF is damaged and cannot be read ({detail})",
        )
    return done.stdout.decode("utf-8", "replace")


_THAI_MARKS_RE = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\\s]")


def _line_key(text: str) -> str:
    """A line's base letters: the same for -raw and -layout output of one printed line."""
    return _THAI_MARKS_RE.sub("", clean(text))


_PAIRED_LINES_AT_MOST = 400  # a page's lines paired between -layout and -raw (A4 holds ~60)


def _merge_layout_raw(layout: str, raw: str, bottom: list[set[str]] | None = None) -> str:
    """Text of ``-raw`` (Thai marks in their true order) placed in the lines, indents and
    blank lines of ``-layout`` (which splits words around tone marks: "สิง่ ที่สง่").

    Lines are paired by their base letters, page by page; where they cannot be paired the
    raw lines are kept (correct text beats correct spacing). ``bottom`` holds, per page,
    the keys of the lines printed in the bottom margin (the footer slogan, the continuation
    word): they go to the end of their page after a wide gap, where they stand on paper;
    ``-layout`` may print them amid the text.
    """
    pages = []
    layout_pages = layout.split("\f")
    raw_pages = raw.split("\f")
    for number in range(max(len(layout_pages), len(raw_pages))):
        lay = layout_pages[number] if number < len(layout_pages) else ""
        raw_lines = [
            ln
            for ln in (raw_pages[number] if number < len(raw_pages) else "").split("\n")
            if ln.strip()
        ]
        lay_lines: list[tuple[int, str]] = []  # (blank lines before, line)
        gap = 0
        for ln in lay.split("\n"):
            if not ln.strip():
                gap += 1
                continue
            lay_lines.append((gap, ln))
            gap = 0
        out: list[str] = []
        opcodes: Sequence[tuple[str, int, int, int, int]]
        if max(len(lay_lines), len(raw_lines)) > _PAIRED_LINES_AT_MOST:
            # No printed page holds so many lines; pairing them costs their count squared
            # (32,000 identical lines in 81 KB of PDF: 140 s). The raw text is kept.
            opcodes = [("insert", 0, 0, 0, len(raw_lines))]
        else:
            matcher = difflib.SequenceMatcher(
                None,
                [_line_key(ln) for _, ln in lay_lines],
                [_line_key(ln) for ln in raw_lines],
                autojunk=False,
            )
            opcodes = matcher.get_opcodes()
        for op, a0, a1, b0, b1 in opcodes:
            if op == "equal" or (op == "replace" and a1 - a0 == b1 - b0):
                for (gap, lay_line), raw_line in zip(
                    lay_lines[a0:a1], raw_lines[b0:b1], strict=True
                ):
                    indent = len(lay_line) - len(lay_line.lstrip())
                    columns = COLUMNS_RE.split(lay_line.strip())
                    text = raw_line.strip()
                    if len(columns) > 1 and _line_key(lay_line) == _line_key(raw_line):
                        text = _columns_from_raw(raw_line.strip(), columns)
                    out.extend([""] * gap)
                    out.append(" " * indent + text)
            elif op == "insert":
                out.extend(ln.strip() for ln in raw_lines[b0:b1])
            elif op == "delete":
                continue  # present only in the layout output: nothing trustworthy to keep
            else:
                gap = lay_lines[a0][0]
                out.extend([""] * gap)
                out.extend(ln.strip() for ln in raw_lines[b0:b1])
        keys = bottom[number] if bottom and number < len(bottom) else set()
        low = [ln for ln in out if ln.strip() and _line_key(ln) in keys]
        if low:
            out = [ln for ln in out if not (ln.strip() and _line_key(ln) in keys)]
            out.extend(["", "", "", *(ln.strip() for ln in low)])
        pages.append("\n".join(out))
    return "\f".join(pages)


_BBOX_PAGE_RE = re.compile(
    r'<page width="[\d.]+" height="(?P<height>[\d.]+)">(?P<body>.*?)</page>', re.S
)
_BBOX_LINE_RE = re.compile(
    r'<line xMin="[\d.]+" yMin="(?P<y>[\d.]+)"[^>]*>(?P<body>.*?)</line>', re.S
)
_BBOX_WORD_RE = re.compile(r"<word[^>]*>(?P<text>.*?)</word>", re.S)
# Body text stops at the bottom margin (2 cm and more); what is printed below 1.9 cm from
# the edge is page furniture: the footer slogan, page numbers, the continuation word.
_BOTTOM_BAND_PT = 1.9 / 2.54 * 72


def _bottom_margin_keys(bbox: str) -> list[set[str]]:
    """Per page, the keys of the lines that ``pdftotext -bbox-layout`` places in the
    bottom margin."""
    pages = []
    for page in _BBOX_PAGE_RE.finditer(bbox):
        limit = float(page["height"]) - _BOTTOM_BAND_PT
        keys = set()
        for line in _BBOX_LINE_RE.finditer(page["body"]):
            if float(line["y"]) >= limit:
                words = [html.unescape(w["text"]) for w in _BBOX_WORD_RE.finditer(line["body"])]
                if key := _line_key("".join(words)):
                    keys.add(key)
        pages.append(keys)
    return pages


def _columns_from_raw(raw_line: str, columns: list[str]) -> str:
    """Keep the layout's column gaps (ที่ ... | sender) with the raw line's characters."""
    pieces = []
    rest = raw_line
    for column in columns[:-1]:
        want = len(_line_key(column))
        taken = cut = 0
        while cut < len(rest) and taken < want:
            if not _THAI_MARKS_RE.match(rest[cut]):
                taken += 1
            cut += 1
        # the marks above and below the last letter belong to it
        while cut < len(rest) and _THAI_MARKS_RE.match(rest[cut]) and not rest[cut].isspace():
            cut += 1
        pieces.append(rest[:cut].strip())
        rest = rest[cut:]
    pieces.append(rest.strip())
    return "    ".join(pieces)


def _pdf_text(path: Path) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 2048))
        tail = f.read()
    if b"%%EOF" not in tail:
        raise UnreadableFile(
            path,
            "ไฟล์ PDF ไม่สมบูรณ์ (ถูกตัดท้ายหรือเสียหาย: ไม่พบเครื่องหมาย %%EOF)",
            "the PDF is truncated or damaged (no %%EOF end marker)",
        )
    # Three views of one text layer; poppler runs them side by side.
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = [pool.submit(_pdftotext, path, m) for m in ("-raw", "-layout", "-bbox-layout")]
        raw, layout, bbox = (run.result() for run in runs)
    if not raw.strip():
        raise EmptyFile(
            path,
            "PDF นี้ไม่มีข้อความ (น่าจะเป็นภาพสแกน ต้องทำ OCR ก่อน)",
            "the PDF has no text layer (a scanned image? it needs OCR first)",
        )
    return _merge_layout_raw(layout, raw, _bottom_margin_keys(bbox))


# -- DOCX
def _docx_text(path: Path, max_unpacked_bytes: int) -> str:
    """Paragraphs and tables in document order (text boxes included), then the page footer.

    A paragraph that Word spaces or indents from the one above starts after a blank line,
    the way a PDF's text shows it; a table row whose cells hold one paragraph each is one
    line with the cells tab-separated (an enclosure list), other tables are read cell by cell.
    """
    import docx  # python-docx: imported here, the text and PDF paths do not need it
    from docx.oxml.ns import qn

    check_docx_zip(path, max_unpacked_bytes)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors, ...
        raise UnreadableFile(
            path,
            f"เปิดไฟล์ .docx ไม่ได้ (ไฟล์เสียหาย): {exc}",
            f"cannot open the .docx (damaged): {exc}",
        ) from exc
    out: list[str] = []
    p_tag, tbl_tag, sdt_tag = qn("w:p"), qn("w:tbl"), qn("w:sdt")
    txbx_tag, fallback_tag = (
        qn("w:txbxContent"),
        "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
    )

    def spaced(paragraph) -> bool:
        fmt = paragraph.paragraph_format
        return bool(
            (fmt.space_before and fmt.space_before > 0)
            or (fmt.first_line_indent and fmt.first_line_indent > 0)
        )

    def walk(element, parent) -> None:
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        previous_after = False
        for child in element.iterchildren():
            if child.tag == p_tag:
                paragraph = Paragraph(child, parent)
                if (spaced(paragraph) or previous_after) and out and out[-1] != "":
                    out.append("")
                out.extend(paragraph.text.split("\n"))
                after = paragraph.paragraph_format.space_after
                previous_after = bool(after and after > 0)
                for box in child.iter(txbx_tag):
                    if not any(a.tag == fallback_tag for a in box.iterancestors()):
                        walk(box, parent)
            elif child.tag == tbl_tag:
                table(Table(child, parent))
                previous_after = False
            elif child.tag == sdt_tag:
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    walk(content, parent)

    def table(tbl) -> None:
        for row in tbl.rows:
            cells = []
            seen = set()
            for cell in row.cells:
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(cell)
            if all(len(c.paragraphs) <= 1 and not c.tables for c in cells):
                out.append("\t".join(c.text.replace("\n", " ") for c in cells))
            else:
                for cell in cells:
                    walk(cell._tc, cell)

    walk(document.element.body, document)
    if not document.sections:
        return "\n".join(out)
    # Page one's header (some templates put ที่ and the sender there) and footer (the
    # slogan), without page numbers; the footer goes after the text, as a PDF shows it.
    section = document.sections[0]
    first = section.different_first_page_header_footer
    header = section.first_page_header if first else section.header
    footer = section.first_page_footer if first else section.footer

    def furniture(part) -> list[str]:
        lines = [p.text.strip() for p in part.paragraphs if p.text.strip()]
        return [ln for ln in lines if not PAGE_NUMBER_RE.match(flatten(ln)) and not ln.isdigit()]

    top, bottom = furniture(header), furniture(footer)
    return "\n".join([*top, *([""] if top else []), *out, *([""] if bottom else []), *bottom])


def extract_text(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
) -> str:
    """The plain text of a .txt, .docx or .pdf letter, after the safety checks.

    The format is told by the content (magic bytes) and must agree with the extension.
    Raises :class:`ImportFailed` subclasses: :class:`EmptyFile`, :class:`FileTooLarge`
    (also a DOCX that unpacks too large or too compressed: a zip bomb),
    :class:`UnsupportedFormat`, :class:`UnreadableFile`.
    """
    path = Path(path)
    kind = check_file(path, max_bytes)
    if kind == "pdf":
        text = _pdf_text(path)
    elif kind == "docx":
        text = _docx_text(path, max_unpacked_bytes)
    else:
        text = _decode_text(path, path.read_bytes())
    if not text.strip():
        raise EmptyFile(
            path, "ไฟล์ไม่มีข้อความ (มีแต่ช่องว่าง)", "the file holds no text (whitespace only)"
        )
    return text
