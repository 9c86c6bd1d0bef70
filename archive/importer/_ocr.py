"""OCR of scanned letters and phone photos: text the letter parser can read, and a
searchable PDF/A beside the untouched original.

>>> from saraban.archive.importer._ocr import ocr_file
>>> text, pdfa, confidence = ocr_file(Path("scan.pdf"))      # or .png .jpg .tif .heic
>>> parse_letter_text(text).letter["subject"]

The route, page by page:

1. **Pages.** A scanned PDF's page is its own image, taken pixel for pixel (``pdfimages``);
   any other PDF page is rasterised by poppler (``pdftoppm``) at the scan's resolution; an
   image is read with Pillow, a phone's HEIC through pi-heif (EXIF orientation applied,
   every frame of a TIFF or HEIF).
2. **Cleaning** (:mod:`._scan`): a photo's sheet is found and unwarped (perspective),
   light is flattened (shadows, grey paper), the page is levelled (deskew) and despeckled.
3. **Recognition**: OCRmyPDF runs Tesseract with Debian's ``tha`` data (``eng`` added
   in the ``tesseract`` engine) on the cleaned pages and gives hOCR (each character with
   its box).
4. **Reading the hOCR** (:func:`page_lines`): lines are put back together by position (the
   ``ที่`` line and the sender beside it are one row, a wide gap between them), a blank
   line where the page has vertical space; **spaces are decided by the ink**, not by
   Tesseract (its Thai model splits words at random): a space is where the page has a
   blank column wider than a thin space. **Thai digits are read again** (:mod:`._digits`),
   since the ``tha`` model takes ``๖`` for ``๐``/``๒`` and ``๙`` for ``๕``. On page one an
   urgency stamp the page layout skipped is read again (:func:`_with_unread_stamp`).
5. **Post-correction** (:mod:`._ocr_correct`): ``ํา`` -> ``ำ``, tone marks in order, and
   each Thai run checked against the letter's vocabulary (labels, months, provinces and
   districts, government terms).
6. **PDF/A**: OCRmyPDF writes the cleaned pages with the corrected text as an invisible
   layer (the hOCR it renders is rebuilt from the corrected lines: :func:`text_layer_hocr`),
   as PDF/A-2b. The original file is never changed.

Engines are chosen by name (:data:`ENGINES`); each is Tesseract with other trained data,
the only Thai models this machine's package sources carry (see ``benchmarks/ocr.py``).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from saraban.archive.importer._intake import image_kind
from saraban.archive.importer._scan import MAX_PAGE_PIXELS, OCR_DPI, prepare_page
from saraban.folders import temporary_folder

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "MAX_PAGES",
    "OcrFailed",
    "OcrResult",
    "ocr_file",
    "ocr_pages",
    "page_count",
    "page_lines",
    "is_image",
    "page_text",
    "read_pages",
    "text_layer_hocr",
]

logger = logging.getLogger("saraban.ocr")

# name -> Tesseract languages (trained data from Debian's tesseract-ocr-* packages).
ENGINES: dict[str, tuple[str, ...]] = {
    "tesseract": ("tha", "eng"),  # tesseract-ocr-tha + tesseract-ocr-eng
    "tesseract-tha": ("tha",),  # the Thai model alone (it knows Latin letters too)
    "tesseract-thai-script": ("Thai",),  # tesseract-ocr-script-thai (Thai script + Latin)
}
# Chosen by benchmarks/ocr.py: Thai alone reads the Thai letters of a letter better than
# tha+eng (which takes "ที่ นค" for Latin "N UA"); it reads Latin letters too.
DEFAULT_ENGINE = "tesseract-tha"
MAX_PAGES = 50  # a letter with its enclosures; a longer scan is refused, not half read
MAX_IMAGE_PIXELS = 80_000_000  # a 12,000 x 6,600 photo; larger is a bomb, not a letter
# A PDF's pages are read before any is cleaned: together at most this many pixels (50 A4
# pages at 400 dpi; each page drawn at most MAX_PAGE_PIXELS). A 582-byte PDF of two pages
# 3000 points wide was drawn as 312 megapixels.
MAX_PDF_PIXELS = 600_000_000
TESSERACT_TIMEOUT_S = 180  # per page


class OcrFailed(Exception):
    """The file could not be read as pages, or the OCR engine failed; says why in Thai and
    English."""

    def __init__(self, path: Path | str, th: str, en: str) -> None:
        self.path = Path(path)
        self.th, self.en = th, en
        super().__init__(f"{self.path.name}: {th} / {en}")


class OcrResult(NamedTuple):
    """The text (pages separated by form feeds), the searchable PDF/A (None if not asked
    for), and the mean word confidence of each page (0-100, Tesseract's own)."""

    text: str
    pdfa: bytes | None
    confidence: list[float]


# --------------------------------------------------------------------------- pages


def _kind(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    kind = image_kind(head)
    if kind is None:
        raise OcrFailed(
            path,
            "ไฟล์นี้ไม่ใช่ PDF หรือภาพ (PNG, JPEG, TIFF, HEIC)",
            "not a PDF or an image (PNG, JPEG, TIFF, HEIC)",
        )
    return kind


def is_image(head: bytes) -> bool:
    """Whether a file starting with ``head`` (16 bytes) is an image :func:`read_pages` reads."""
    return image_kind(head) is not None


def read_pages(path: Path) -> list[tuple[np.ndarray, float | None]]:
    """The pages of a scanned PDF or an image file: (greyscale array, dpi or None)."""
    path = Path(path)
    kind = _kind(path)
    if kind == "pdf":
        return _pdf_pages(path)
    from PIL import Image, ImageFile

    if kind == "heif":
        _open_heif()
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    pages: list[tuple[np.ndarray, float | None]] = []
    # WeasyPrint, once imported, lets Pillow fill a cut-off image with grey: a damaged
    # photo must be refused, not read as half a page (the reading runs in worker processes)
    truncated, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with warnings.catch_warnings():
            # over MAX_IMAGE_PIXELS Pillow only warns (up to twice that): refuse it here
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                pages.extend(_frames(path, image))
    except (
        OSError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        SyntaxError,
        ValueError,
    ) as exc:
        why = str(exc).replace(str(path), path.name)  # Pillow names the file: not the folder
        raise OcrFailed(
            path, f"เปิดภาพไม่ได้ (ไฟล์เสียหายหรือใหญ่เกินไป): {why}", f"cannot open the image: {why}"
        ) from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return pages


def _open_heif() -> None:
    """Pillow opens HEIC/HEIF from here on (pi-heif's plugin: libheif applies the photo's
    own turn, and the EXIF orientation is then applied like a JPEG's)."""
    from pi_heif import register_heif_opener

    register_heif_opener()


def _frames(path: Path, image) -> list[tuple[np.ndarray, float | None]]:
    from PIL import ImageOps

    frames = getattr(image, "n_frames", 1)
    if frames > MAX_PAGES:
        raise OcrFailed(
            path,
            f"ภาพมี {frames} หน้า เกินขีดจำกัด {MAX_PAGES} หน้า",
            f"the image holds {frames} pages, over the limit of {MAX_PAGES}",
        )
    pages: list[tuple[np.ndarray, float | None]] = []
    for number in range(frames):
        image.seek(number)
        dpi = image.info.get("dpi", (None,))[0]
        frame = ImageOps.exif_transpose(image).convert("L")
        pages.append((np.array(frame), float(dpi) if dpi else None))
    return pages


def page_count(path: Path) -> int:
    """How many pages :func:`read_pages` would give, none of them decoded: for a budget of
    OCR pages checked before the reading starts."""
    path = Path(path)
    kind = _kind(path)
    if kind == "pdf":
        return _pdf_info(path)[0]
    from PIL import Image

    if kind == "heif":
        _open_heif()
    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise OcrFailed(path, "เปิดภาพไม่ได้ (ไฟล์เสียหาย)", "cannot open the image") from exc


def _pdf_info(path: Path) -> tuple[int, str]:
    """The PDF's number of pages and ``pdfinfo``'s report of its first pages."""
    try:
        info = subprocess.run(
            ["pdfinfo", "-f", "1", "-l", str(MAX_PAGES + 1), str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        info = subprocess.CompletedProcess([], 1, "", "")
    found = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    if info.returncode or not found:
        raise OcrFailed(
            path, "เปิดไฟล์ PDF ไม่ได้ (เสียหายหรือมีรหัสผ่าน)", "cannot open the PDF (damaged or encrypted)"
        )
    return int(found.group(1)), info.stdout


def _pdf_pages(path: Path) -> list[tuple[np.ndarray, float | None]]:
    count, info = _pdf_info(path)
    if count > MAX_PAGES:
        raise OcrFailed(
            path,
            f"PDF มี {count} หน้า เกินขีดจำกัด {MAX_PAGES} หน้า",
            f"the PDF has {count} pages, over the limit of {MAX_PAGES}",
        )
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    images = _listed_images(listing)
    rotated = {int(n) for n, turn in _PAGE_ROT_RE.findall(info) if int(turn) % 360}
    dpi = _scan_dpi(images)
    sizes = {int(n): (float(w), float(h)) for n, w, h in _PAGE_SIZE_RE.findall(info)}
    pages: list[tuple[np.ndarray, float | None]] = []
    read = 0
    with temporary_folder("saraban-ocr-") as tmp:
        for number in range(1, count + 1):
            own = None
            if number not in rotated and len(images.get(number, [])) == 1:
                own = _page_image(path, number, images[number][0], Path(tmp))
            if own is None:
                # A page larger than paper is drawn at a lower resolution, not larger.
                width, height = sizes.get(number, (595.0, 842.0))
                fits = (MAX_PAGE_PIXELS / max(width * height / 72**2, 1.0)) ** 0.5
                drawn_at = max(1, min(dpi, int(fits)))
                own = (_rasterise(path, number, drawn_at, Path(tmp)), float(drawn_at))
            read += own[0].size
            if read > MAX_PDF_PIXELS:
                raise OcrFailed(
                    path,
                    "หน้าของ PDF นี้รวมกันใหญ่เกินกว่าจะอ่านได้ (สแกนที่ ๓๐๐ dpi)",
                    "the PDF's pages are too large to read together (scan at 300 dpi)",
                )
            pages.append(own)
    return pages


class _Listed(NamedTuple):
    """One row of ``pdfimages -list``: an image drawn on a page."""

    kind: str  # image, mask, smask, stencil
    width: int
    height: int
    ppi: tuple[float, float]  # as drawn on the page (poppler's reading of its matrix)


_LIST_ROW_RE = re.compile(
    r"^\s*(\d+)\s+\d+\s+(\w+)\s+(\d+)\s+(\d+)(?:\s+\S+){7}\s+([\d.]+)\s+([\d.]+)\s", re.M
)
_PAGE_ROT_RE = re.compile(r"^Page\s+(\d+) rot:\s+(-?\d+)", re.M)
_PAGE_SIZE_RE = re.compile(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", re.M)


def _listed_images(listing: str) -> dict[int, list[_Listed]]:
    """page number -> the images drawn on it, from ``pdfimages -list``."""
    images: dict[int, list[_Listed]] = {}
    for m in _LIST_ROW_RE.finditer(listing):
        page, kind, width, height, x_ppi, y_ppi = m.groups()
        images.setdefault(int(page), []).append(
            _Listed(kind, int(width), int(height), (float(x_ppi), float(y_ppi)))
        )
    return images


def _scan_dpi(images: dict[int, list[_Listed]]) -> int:
    """The resolution the scanner used (its page images'), so that a page that is no plain
    scan is rasterised at its own resolution (cleaning scales it to 300 dpi); 300 for a
    PDF without images."""
    found = [round(i.ppi[0]) for page in images.values() for i in page if i.kind == "image"]
    return min(max(max(found, default=OCR_DPI), 100), OCR_DPI)


def _rasterise(path: Path, number: int, dpi: int, tmp: Path) -> np.ndarray:
    """Page ``number`` drawn by poppler at ``dpi``, greyscale."""
    from PIL import Image

    out = tmp / f"page-{number}"
    try:
        # PGM: no compression to spend time on; the page is read back at once
        done = subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(number), "-l", str(number)]
            + ["-singlefile", str(path), str(out)],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(
            path, "แปลงหน้า PDF เป็นภาพไม่ทันเวลา", "rasterising the PDF took too long"
        ) from exc
    if done.returncode:
        raise OcrFailed(
            path,
            "แปลงหน้า PDF เป็นภาพไม่ได้",
            f"cannot rasterise the PDF: {done.stderr.decode(errors='replace')[:200]}",
        )
    with Image.open(out.with_suffix(".pgm")) as image:
        return np.array(image.convert("L"))


PREVIEW_DPI = 30  # the page drawn this coarsely is compared with its own image
PREVIEW_TOLERANCE = 10  # mean grey levels apart: JPEG and resampling stay under 3


def _page_image(
    path: Path, number: int, listed: _Listed, tmp: Path
) -> tuple[np.ndarray, float] | None:
    """The scanner's own image of page ``number``, pixel for pixel, and its resolution; or
    None when the page is more than one upright image over the whole of it.

    A scanned PDF holds one image a page, drawn over the page. Rasterising the page again
    resamples that image (poppler draws 1241 pixels as 1242 at the image's own dpi) and
    blurs its thin strokes: the same scan read about one register field worse as a PDF
    than as a PNG. The image is taken only when it is the page: one plain image, square
    pixels, and the page drawn coarsely by poppler looks the same as the image shrunk
    (so a turned, mirrored or inverted image, or visible text over it, is rasterised as
    before)."""
    from PIL import Image

    x_ppi, y_ppi = listed.ppi
    if (
        listed.kind != "image"
        or listed.width * listed.height > MAX_IMAGE_PIXELS
        or not x_ppi
        or abs(x_ppi - y_ppi) > 0.02 * x_ppi
    ):
        return None
    out = tmp / f"image-{number}"
    done = subprocess.run(
        ["pdfimages", "-f", str(number), "-l", str(number), str(path), str(out)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    written = sorted(tmp.glob(f"image-{number}-*"))
    if done.returncode or len(written) != 1:
        return None
    try:
        with Image.open(written[0]) as image:
            page = np.array(image.convert("L"))
    except (OSError, ValueError):
        return None
    if page.shape != (listed.height, listed.width):
        return None
    preview = _rasterise(path, number, PREVIEW_DPI, tmp)
    shrunk = cv2.resize(page, preview.shape[::-1], interpolation=cv2.INTER_AREA)
    if np.abs(shrunk.astype(np.int16) - preview).mean() > PREVIEW_TOLERANCE:
        return None
    return page, x_ppi


# --------------------------------------------------------------------------- hOCR

_XHTML = "{http://www.w3.org/1999/xhtml}"
_BBOX_RE = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_CONF_RE = re.compile(r"x_wconf (\d+)")


@dataclass
class Glyphs:
    """One word of Tesseract's hOCR (for Thai, often one character) with its box."""

    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom
    confidence: int


@dataclass
class Row:
    """Words printed on one row of the page, left to right."""

    words: list[Glyphs] = field(default_factory=list)
    top: int = 0
    bottom: int = 0

    @property
    def height(self) -> int:
        return self.bottom - self.top


def _box(title: str) -> tuple[int, int, int, int]:
    m = _BBOX_RE.search(title or "")
    if m is None:
        return (0, 0, 0, 0)
    left, top, right, bottom = (int(v) for v in m.groups())
    return left, top, right, bottom


def _hocr_rows(hocr: bytes) -> list[Row]:
    """Tesseract's lines regrouped into printed rows: lines whose vertical middles lie
    within each other's extent are one row (columns set side by side, such as ``ที่`` and
    the sender's name)."""
    root = ET.fromstring(hocr)
    lines: list[Row] = []
    for span in root.iter(f"{_XHTML}span"):
        if span.get("class") not in ("ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"):
            continue
        words = []
        for word in span.iter(f"{_XHTML}span"):
            if word.get("class") != "ocrx_word":
                continue
            text = "".join(word.itertext()).strip()
            if not text:
                continue
            conf = _CONF_RE.search(word.get("title") or "")
            words.append(
                Glyphs(text, _box(word.get("title") or ""), int(conf.group(1)) if conf else 0)
            )
        if words:
            _, top, _, bottom = _box(span.get("title") or "")
            lines.append(Row(words, top, bottom))
    lines.sort(key=lambda r: (r.top + r.bottom) / 2)
    rows: list[Row] = []
    for line in lines:
        middle = (line.top + line.bottom) / 2
        last = rows[-1] if rows else None
        overlap = min(last.bottom, line.bottom) - max(last.top, line.top) if last else 0
        if (
            last is not None
            and last.top <= middle <= last.bottom
            and overlap >= 0.6 * min(line.height, last.height)
        ):
            # Tesseract's order within a line is the reading order (its boxes for Thai
            # marks are rough); lines of one row are put side by side, left to right.
            row = rows[-1]
            if line.words[0].box[0] < row.words[0].box[0]:
                row.words[:0] = line.words
            else:
                row.words.extend(line.words)
            row.top, row.bottom = min(row.top, line.top), max(row.bottom, line.bottom)
        else:
            rows.append(Row(list(line.words), line.top, line.bottom))
    return rows


# Thai letters and marks; Latin words keep Tesseract's own spaces.
_THAI_RE = re.compile("[\u0e00-\u0e7f]")
# Marks that sit above or below a letter: never a space before them.
_COMBINING_RE = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")
_NO_SPACE_BEFORE = ".,)/:"
_NO_SPACE_AFTER = "(/"
_LETTER_RE = re.compile("[\u0e01-\u0e30\u0e32\u0e33\u0e40-\u0e46\u0e50-\u0e59A-Za-z0-9]")
_MARKS_RE = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e.,]")
_FRAME = set("|/\\()[]{}“”~—_")
NOISE_CONFIDENCE = 60  # rows read with less (mean word confidence) may be pictures
SPACE_OF_ROW = 0.15  # a blank this part of the row's height wide is a space
COLUMN_OF_ROW = 0.9  # ... and this wide a gap between columns


def _body_band(ink: np.ndarray, row: Row, left: int, right: int) -> tuple[int, int]:
    """The rows of pixels where the letters' bodies are, from the head line to the base line
    (both drawn by most Thai letters, so the densest rows of ink): marks above and below
    (and the neighbouring rows' marks) must not fill a space, and the base line must be in
    it, or the open top of ``บ``/``ป`` reads as a gap between letters. Tesseract's box of
    a row is no guide: it may hold the marks and descenders, or the bodies alone."""
    top, bottom = max(row.top, 0), min(row.bottom, ink.shape[0])
    profile = ink[top:bottom, left:right].sum(axis=1)
    if not profile.size or profile.max() == 0:
        return top, top
    dense = np.flatnonzero(profile >= 0.5 * profile.max())
    body_top, body_bottom = top + int(dense[0]), top + int(dense[-1]) + 1
    if body_bottom - body_top < 0.25 * row.height:  # one dense line only: the old middle
        return top + int(0.3 * row.height), bottom - int(0.25 * row.height)
    return body_top, body_bottom


def _blank_runs(ink: np.ndarray, row: Row, narrowest: int) -> list[tuple[int, int]]:
    """Stretches of the row with no ink at least ``narrowest`` columns wide."""
    left = max(min(w.box[0] for w in row.words), 0)
    right = min(max(w.box[2] for w in row.words), ink.shape[1])
    top, bottom = _body_band(ink, row, left, right)
    band = ink[top:bottom]
    if not band.size:
        return []
    blank = [not column for column in np.any(band[:, left:right], axis=0)]
    runs = []
    start = None
    for x, empty in enumerate(blank):
        if empty and start is None:
            start = x
        elif not empty and start is not None:
            if x - start >= narrowest:
                runs.append((left + start, left + x))
            start = None
    return runs


def _clusters(row: Row) -> list[Glyphs]:
    """Tesseract's pieces with the marks put back on their letters (one box for both)."""
    out: list[Glyphs] = []
    for word in row.words:
        if out and _COMBINING_RE.match(word.text):
            last = out[-1]
            box = (
                min(last.box[0], word.box[0]),
                min(last.box[1], word.box[1]),
                max(last.box[2], word.box[2]),
                max(last.box[3], word.box[3]),
            )
            out[-1] = Glyphs(last.text + word.text, box, min(last.confidence, word.confidence))
        else:
            out.append(Glyphs(word.text, word.box, word.confidence))
    return out


def _after_dot(words: list[Glyphs], i: int) -> float:
    """How many spaces wide a blank after a dot must be to be a space: a dot between digits
    (``๐๐๑๙.๓``) or letters (``พ.ศ.``) binds them unless the gap is wide."""
    before = words[i - 2].text[-1] if i >= 2 else " "
    after = words[i].text[0]
    if before.isdigit() and after.isdigit():
        return 2.5
    return 1.3


Box = tuple[int, int, int, int]


class PrintedLine(NamedTuple):
    """One line of a page's text and where it is printed: the box of each of its columns
    (the parts split by a wide gap, four spaces in the text); no columns for a blank line."""

    text: str
    columns: list[Box]


def _row_text(row: Row, ink: np.ndarray, typical: int) -> PrintedLine:
    """One printed row as text; a space wherever the ink has a blank wide enough."""
    blanks = _blank_runs(ink, row, max(4, int(SPACE_OF_ROW * typical)))
    words = _clusters(row)
    pieces: list[str] = []
    columns: list[Box] = []
    for i, word in enumerate(words):
        if i:
            prev = words[i - 1]
            low = (prev.box[0] + prev.box[2]) / 2
            high = (word.box[0] + word.box[2]) / 2
            between = [b - a for a, b in blanks if low <= (a + b) / 2 <= high]
            widest = max(between, default=0)
            thai = _THAI_RE.match(prev.text[-1]) and _THAI_RE.match(word.text[0])
            tight = word.text[0] in _NO_SPACE_BEFORE or prev.text[-1] in _NO_SPACE_AFTER
            if widest >= COLUMN_OF_ROW * typical:
                pieces.append("    ")
                columns.append(word.box)
            elif tight and widest < 2 * SPACE_OF_ROW * typical:
                pass
            elif prev.text[-1] == "." and widest < _after_dot(words, i) * SPACE_OF_ROW * typical:
                pass  # "พ.ศ.", "๐๐๑๙.๓": a dot's own margin is not a space
            elif widest or not (thai or tight):
                pieces.append(" ")
        pieces.append(word.text)
        if not columns:
            columns.append(word.box)
        columns[-1] = (*columns[-1][:2], max(columns[-1][2], word.box[2]), columns[-1][3])
    # The row's height for its text: the usual box of its letters (a box may hold the
    # marks above and below, and reach into the next row, or the letter's body alone).
    tops = sorted(w.box[1] for w in words)
    bottoms = sorted(w.box[3] for w in words)
    top, bottom = tops[len(tops) // 2], bottoms[len(bottoms) // 2]
    return PrintedLine("".join(pieces), [(c[0], top, c[2], bottom) for c in columns])


def _mean_confidence(row: Row) -> float:
    return sum(w.confidence for w in row.words) / len(row.words)


def _is_noise(row: Row, typical: int, usual: float) -> bool:
    """A row that is no text: marks alone between two rows (far lower than a row of
    letters), or what Tesseract makes of a picture (the Garuda, a stamp, a signature):
    words it is far less sure of than of the page's usual row."""
    if row.height < 0.35 * typical:
        return True
    confidence = _mean_confidence(row)
    if confidence < min(NOISE_CONFIDENCE, usual - 25):
        return True
    text = "".join(w.text for w in row.words)
    letters = len(_LETTER_RE.findall(text))
    symbols = len(text) - letters - len(_MARKS_RE.findall(text))
    if symbols >= letters or (letters <= 2 and confidence < 90):
        return True
    # A few letters inside a frame of strokes read as "|", "/", "(": the inside of a
    # round emblem or stamp, a scrap of a signature.
    framed = row.words[0].text in _FRAME or row.words[-1].text in _FRAME
    return framed and letters <= 12 and confidence < 90


def page_text(hocr: bytes, page: np.ndarray) -> tuple[str, float]:
    """The text of one page from its hOCR and its cleaned image, and the mean confidence
    (:func:`page_lines` joined)."""
    lines, mean = page_lines(hocr, page)
    return "\n".join(line.text for line in lines), mean


def page_lines(hocr: bytes, page: np.ndarray) -> tuple[list[PrintedLine], float]:
    """The lines of one page from its hOCR and its cleaned image, and the mean confidence.

    Spaces: a blank stretch of the row wider than :data:`SPACE_OF_ROW` of a row's height
    is a space, one wider than :data:`COLUMN_OF_ROW` a gap between columns (four spaces,
    as ``pdftotext -layout`` prints). Rows farther apart than 0.6 row heights get a blank
    line between them.
    """
    from saraban.archive.importer._ocr_digits import reread_digits

    _, ink = cv2.threshold(page, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = ink.astype(bool)
    rows = _hocr_rows(hocr)
    # the height of a row of running text (many pieces): stamps, headings and stray
    # marks are other sizes
    heights = sorted(r.height for r in rows if len(r.words) >= 8) or sorted(
        r.height for r in rows if r.height > 0
    )
    typical = heights[len(heights) // 2] if heights else 100
    means = sorted(_mean_confidence(r) for r in rows)
    usual = means[len(means) // 2] if means else 0.0
    lines: list[PrintedLine] = []
    confidences: list[int] = []
    previous_bottom: int | None = None
    for row in rows:
        if _is_noise(row, typical, usual):
            continue
        reread_digits(row, page, ink)
        confidences.extend(w.confidence for w in row.words)
        if previous_bottom is not None and row.top - previous_bottom > 0.6 * typical:
            lines.append(PrintedLine("", []))
        lines.append(_row_text(row, ink, typical))
        previous_bottom = row.bottom
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return lines, mean


_COLUMN_GAP_RE = re.compile(r"\s{4,}")


def text_layer_hocr(lines: list[PrintedLine], corrected: list[str], size: tuple[int, int]) -> bytes:
    """An hOCR page whose words are the corrected text, for the PDF/A's invisible layer:
    each line's columns keep their printed boxes, and the words of a column share its width
    by their length (the corrected words no longer match Tesseract's pieces one to one).
    A line whose corrected text has other columns than were printed is one column."""
    from xml.sax.saxutils import escape, quoteattr

    width, height = size
    spans: list[str] = []
    for number, (line, text) in enumerate(zip(lines, corrected, strict=True), start=1):
        if not line.columns or not text.strip():
            continue
        parts = [p for p in _COLUMN_GAP_RE.split(text.strip()) if p]
        boxes = line.columns
        if len(parts) != len(boxes):
            parts = [" ".join(parts)]
            boxes = [
                (
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                )
            ]
        words: list[str] = []
        for part, (left, top, right, bottom) in zip(parts, boxes, strict=True):
            tokens = part.split()
            total = sum(len(t) + 1 for t in tokens) - 1
            x = float(left)
            for token in tokens:
                share = (right - left) * len(token) / max(total, 1)
                box = f"bbox {round(x)} {top} {max(round(x + share), round(x) + 1)} {bottom}"
                words.append(
                    f"<span class='ocrx_word' title={quoteattr(box + '; x_wconf 90')}>"
                    f"{escape(token)}</span>"
                )
                x += share + (right - left) / max(total, 1)
        left = min(b[0] for b in boxes)
        top = min(b[1] for b in boxes)
        right = max(b[2] for b in boxes)
        bottom = max(b[3] for b in boxes)
        spans.append(
            f"<p class='ocr_par' lang='tha' title='bbox {left} {top} {right} {bottom}'>"
            f"<span class='ocr_line' id='line_{number}' "
            f"title='bbox {left} {top} {right} {bottom}; baseline 0 0'>"
            + " ".join(words)
            + "</span></p>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<html xmlns='http://www.w3.org/1999/xhtml'><head><title></title>"
        "<meta name='ocr-capabilities' content='ocr_page ocr_par ocr_line ocrx_word'/>"
        "</head><body>"
        f"<div class='ocr_page' id='page_1' title='bbox 0 0 {width} {height}; ppageno 0;"
        f" scan_res {OCR_DPI} {OCR_DPI}'>" + "".join(spans) + "</div></body></html>"
    ).encode("utf-8")


# --------------------------------------------------------------------- the urgency stamp

STAMP_BAND_ROWS = 2.5  # how far above the ที่ line an urgency or secrecy stamp is looked for
UNREAD_INK_OF_ROW = 0.25  # ink no word covers, in square row heights, worth a second look


def _is_ref_line(text: str) -> bool:
    return text.startswith("ที")


def _with_unread_stamp(
    lines: list[PrintedLine], hocr: bytes, page: np.ndarray, languages: tuple[str, ...]
) -> list[PrintedLine]:
    """``lines`` with the urgency or secrecy stamp above the ``ที่`` line that Tesseract's
    page layout left out (it skipped the large bold ``ด่วนที่สุด`` of a photographed letter
    altogether: no word of it in the hOCR). Where ink no word covers lies just above the
    ``ที่`` line, that band is read again as one block, and a line of it is taken only if it
    is a stamp word (the closed vocabulary, through one wrong letter): pictures there (the
    Garuda) read as anything else are ignored."""
    from saraban.archive.importer._parsing import _stamp_words

    at = next((i for i, line in enumerate(lines) if _is_ref_line(line.text)), None)
    if at is None or any(_stamp_words(line.text) for line in lines[:at]):
        return lines
    rows = _hocr_rows(hocr)
    ref = next((r for r in rows if _is_ref_line("".join(w.text for w in r.words[:3]))), None)
    if ref is None:
        return lines
    heights = sorted(r.height for r in rows if len(r.words) >= 8) or [ref.height]
    typical = heights[len(heights) // 2]
    top = max(0, int(ref.top - STAMP_BAND_ROWS * typical))
    bottom = ref.top + int(0.2 * typical)  # a stamp's ุ reaches into the ที่ line's box
    _, ink = cv2.threshold(page, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    unread = ink.astype(bool)
    for row in rows:
        for word in row.words:
            left, word_top, right, word_bottom = word.box
            unread[max(word_top, 0) : word_bottom, max(left, 0) : right] = False
    if unread[top:bottom].sum() < UNREAD_INK_OF_ROW * typical**2:
        return lines
    band = cv2.imencode(".png", page[top:bottom])[1].tobytes()
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "+".join(languages), "--psm", "6"],
            input=band,
            capture_output=True,
            timeout=TESSERACT_TIMEOUT_S,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return lines
    for read in done.stdout.decode("utf-8", errors="replace").splitlines():
        if words := _stamp_words(" ".join(read.split())):
            stamp = PrintedLine(" ".join(words), [(0, top, page.shape[1], bottom)])
            return [*lines[:at], stamp, *lines[at:]]
    return lines


# --------------------------------------------------------------------------- engine


def _write_page_pdf(pages: list[np.ndarray], path: Path) -> None:
    """The cleaned pages as an image PDF at 300 dpi, lossless (PNG inside): Tesseract reads
    the pixels the cleaning made. JPEG blurs the thin Thai marks (a ``ี`` or a ``่`` between
    two close rows was lost from the subject of a photographed letter)."""
    import img2pdf
    from PIL import Image

    images = []
    for page in pages:
        buffer = io.BytesIO()
        Image.fromarray(page).save(buffer, format="PNG", dpi=(OCR_DPI, OCR_DPI))
        images.append(buffer.getvalue())
    path.write_bytes(img2pdf.convert(images))


def _quiet_ocrmypdf() -> None:
    for name in ("ocrmypdf", "pikepdf", "PIL", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)


def ocr_pages(
    pages: list[np.ndarray], *, engine: str | None = None, pdfa: bool = True
) -> OcrResult:
    """OCR of cleaned 300 dpi pages (see :func:`._scan.prepare_page`)."""
    from ocrmypdf import api

    from saraban.archive.importer._ocr_correct import correct_text

    name = engine or DEFAULT_ENGINE
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
    _quiet_ocrmypdf()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core a page: workers run side by side
    with temporary_folder("saraban-ocr-") as tmp:
        work = Path(tmp)
        source = work / "pages.pdf"
        _write_page_pdf(pages, source)
        folder = work / "hocr"
        folder.mkdir()
        api._pdf_to_hocr(
            source,
            folder,
            language=list(ENGINES[name]),
            jobs=1,
            mode="force",
            progress_bar=False,
            tesseract_timeout=TESSERACT_TIMEOUT_S,
        )
        texts: list[str] = []
        confidences: list[float] = []
        for number, page in enumerate(pages, start=1):
            hocr_path = folder / f"{number:06d}_ocr_hocr.hocr"
            hocr = hocr_path.read_bytes()
            lines, confidence = page_lines(hocr, page)
            if number == 1:
                lines = _with_unread_stamp(lines, hocr, page, ENGINES[name])
            text = correct_text("\n".join(line.text for line in lines))
            texts.append(text)
            confidences.append(round(confidence, 1))
            # the PDF/A's invisible text is the corrected text, not Tesseract's raw words
            corrected = text.split("\n")
            if len(corrected) == len(lines):  # correction keeps the lines (else: raw words)
                hocr_path.write_bytes(text_layer_hocr(lines, corrected, page.shape[::-1]))
        pdf_bytes = None
        if pdfa:
            output = work / "out.pdf"
            api._hocr_to_ocr_pdf(
                folder, output, output_type="pdfa", optimize=1, jobs=1, progress_bar=False
            )
            pdf_bytes = output.read_bytes()
    return OcrResult("\f".join(texts), pdf_bytes, confidences)


def ocr_file(path: Path | str, *, engine: str | None = None, pdfa: bool = True) -> OcrResult:
    """OCR a scanned PDF or a photo/scan image: (text, searchable PDF/A bytes or None,
    per-page confidence). The file itself is only read."""
    path = Path(path)
    if not path.is_file():
        raise OcrFailed(path, "ไม่พบไฟล์", "no such file")
    if shutil.which("tesseract") is None:
        raise OcrFailed(
            path,
            "ไม่พบโปรแกรม tesseract (ติดตั้งด้วย scripts/setup)",
            "tesseract is not installed (scripts/setup installs it)",
        )
    pages = [prepare_page(image, dpi) for image, dpi in read_pages(path)]
    if not pages:
        raise OcrFailed(path, "ไม่พบหน้าในไฟล์", "the file holds no page")
    return ocr_pages(pages, engine=engine, pdfa=pdfa)
