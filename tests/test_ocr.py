"""OCR of scans and phone photos (archive/importer/_ocr.py and its helpers).

The fast tests check the parts on small made-up inputs: the post-correction of Thai OCR
confusions, the digit shapes, the page geometry (sheet finding, skew) and the refusal of
files that are not pages. The ``ocr`` tests run the real engine (Tesseract through
OCRmyPDF) on one scanned page and one phone photo of a seed letter and check the register
fields the letter parser reads from the text; the whole corpus runs in ``benchmarks/ocr.py``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import scancorpus
from pdfutil import hand_made_pdf
from PIL import Image, ImageDraw, ImageFont

from saraban.archive.importer._ocr import OcrFailed, ocr_file, read_pages
from saraban.archive.importer._ocr_correct import confusion_key, correct_text
from saraban.archive.importer._ocr_digits import MAX_DISTANCE, THAI_DIGITS, classify_digit
from saraban.archive.importer._scan import deskew, find_page, prepare_page, skew_angle
from saraban.fonts import SARABUN_DIR

# --------------------------------------------------------------------------- post-correction


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("ดําเนินงาน", "ดำเนินงาน"),  # NIKHAHIT + SARA AA, as Tesseract writes ำ
        ("ทีนค ๐๐๑๙.๓/๖๑๙", "ที่ นค ๐๐๑๙.๓/๖๑๙"),  # the label lost its mark and its space
        ("เรือง การประชุม", "เรื่อง การประชุม"),  # a tone mark lost
        ("สิงทีส่งมาด้วย ๑. แผน", "สิ่งที่ส่งมาด้วย ๑. แผน"),
        ("ศาลากลางจังหวัดหนองคา ย", "ศาลากลางจังหวัดหนองคาย"),  # a space inside a word
        ("สำนักงานพัฒนาขุมชนจังหวัด", "สำนักงานพัฒนาชุมชนจังหวัด"),  # ข for ช
        ("องค์การบริหารส่วนดำบล", "องค์การบริหารส่วนตำบล"),  # ด for ต
        ("๑๕ ธันวาคม ๒๕๖o", "๑๕ ธันวาคม ๒๕๖๐"),  # Latin o amid Thai digits
        ("เเผนงาน", "แผนงาน"),  # two SARA E for SARA AE
        # the era's first dot read into the พ (a scanned subject line): the year is the
        # subject's last word, so the whole field was wrong
        ("ประจำปีงบประมาณ พศ.๒๕๖๘", "ประจำปีงบประมาณ พ.ศ.๒๕๖๘"),
        ("ประจำปี พ.ศ ๒๕๖๐", "ประจำปี พ.ศ. ๒๕๖๐"),
        ("ค. ศ. 2024", "ค.ศ. 2024"),
    ],
)
def test_ocr_confusions_are_put_right(read, meant):
    assert correct_text(read) == meant


@pytest.mark.parametrize(
    "text",
    [
        "นายสมชาย ใจดี",  # no word of the vocabulary: left as read
        "ข้าว ช้าง ดาว ตาว",  # short words are never guessed at
        "Best practice o",  # Latin text and a lone o
        "เรื่องเล่า",  # a label word inside another word, not at a label's place
        "ทรัพศ ๑๒๓๔",  # ศ after a word's own พ: no era
        "พศ ๑๒",  # no year after it
        "",
    ],
)
def test_text_outside_the_vocabulary_is_left_as_read(text):
    assert correct_text(text) == text


def test_confusions_share_a_key_and_other_words_do_not():
    assert confusion_key("ดำเนินการ") == confusion_key("ดาเนินการ") == confusion_key("ดำเนิน การ")
    assert confusion_key("ชุมชน") == confusion_key("ขุมขน")
    assert confusion_key("จังหวัด") != confusion_key("อำเภอ")


# --------------------------------------------------------------------------- digits


def _glyph(text: str, size: int, weight: str = "Regular") -> np.ndarray:
    font = ImageFont.truetype(str(SARABUN_DIR / f"Sarabun-{weight}.ttf"), size)
    canvas = Image.new("L", (size * 3, size * 3), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 2), text, fill=255, font=font)
    return np.array(canvas) > 127


@pytest.mark.parametrize("digit", list(THAI_DIGITS))
@pytest.mark.parametrize(("size", "weight"), [(42, "Regular"), (60, "Bold"), (36, "Medium")])
def test_each_thai_digit_is_told_by_its_shape(digit, size, weight):
    shape = _glyph(digit, size, weight)
    rng = np.random.default_rng(size)
    noisy = shape ^ (rng.random(shape.shape) < 0.01)  # specks on paper, holes in ink
    noisy = cv2.morphologyEx(noisy.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    got, distance = classify_digit(noisy.astype(bool))
    assert got == digit
    assert distance <= MAX_DISTANCE


@pytest.mark.parametrize("letter", list("กขมยรศ"))
def test_a_thai_letter_is_no_digit(letter):
    _, distance = classify_digit(_glyph(letter, 48))
    assert distance > MAX_DISTANCE


# --------------------------------------------------------------------------- page geometry


def _lines_page(width: int = 1240, height: int = 1754) -> np.ndarray:
    """A page of dark text-like bars, 150 dpi."""
    page = np.full((height, width), 255, np.uint8)
    for y in range(200, height - 200, 60):
        cv2.rectangle(page, (150, y), (width - 150, y + 22), (30,), -1)
    return page


@pytest.mark.parametrize("angle", [1.5, -2.0, 0.0])
def test_skew_is_measured_and_undone(angle):
    page = _lines_page()
    turn = cv2.getRotationMatrix2D((620, 877), angle, 1.0)
    turned = cv2.warpAffine(page, turn, (1240, 1754), borderValue=(255,))
    assert skew_angle(turned) == pytest.approx(-angle, abs=0.15)
    level, _ = deskew(turned)
    assert abs(skew_angle(level)) <= 0.15


def test_a_scan_has_no_sheet_to_unwarp_and_a_photo_has():
    page = _lines_page()
    assert find_page(page) is None
    desk = np.full((2200, 1700), 70, np.uint8)
    corners = np.float32([[180, 160], [1500, 210], [1540, 2050], [140, 1990]])
    warp = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [1240, 0], [1240, 1754], [0, 1754]]), corners
    )
    sheet = cv2.warpPerspective(page, warp, (1700, 2200), borderValue=(0,))
    inside = cv2.warpPerspective(np.full_like(page, 255), warp, (1700, 2200))
    photo = np.where(inside > 0, sheet, desk).astype(np.uint8)
    found = find_page(photo)
    assert found is not None
    assert np.abs(found - corners).max() < 25
    upright = prepare_page(photo)
    assert upright.shape == (3508, 2480)  # A4 at 300 dpi
    assert abs(skew_angle(upright)) <= 0.2
    # no sliver of the desk along the edges (Tesseract read one as "๕ 4 ๕งฆ 7" at the end
    # of each row of a photographed subject), and the text is all there
    edges = [upright[:25], upright[-25:], upright[:, :25], upright[:, -25:]]
    assert min(int(edge.min()) for edge in edges) > 200
    inked = (upright < 128).any(axis=1)
    assert int((inked[1:] & ~inked[:-1]).sum()) >= len(range(200, 1754 - 200, 60))  # bars


# --------------------------------------------------------------------------- refused files


def _huge_png(path: Path, width: int, height: int) -> Path:
    """A tiny PNG file whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("letter.txt", b"hello", "not a PDF or an image"),
        ("photo.heic", b"\0\0\0\x18ftypheic\0\0\0\0", "cannot open the image"),
        ("broken.png", b"\x89PNG\r\n\x1a\nbroken", "cannot open the image"),
        ("broken.pdf", b"%PDF-1.7\nnothing", "cannot open the PDF"),
    ],
)
def test_files_that_are_not_pages_get_a_clear_error(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(OcrFailed) as caught:
        read_pages(path)
    assert words in str(caught.value)
    assert name in str(caught.value)


def _asymmetric_page() -> np.ndarray:
    """A page one can tell from its turns and mirror images: a dark block top left, a
    bar along the bottom."""
    page = np.full((400, 300), 255, np.uint8)
    page[20:120, 20:100] = 0
    page[360:380, 20:280] = 0
    return page


def _coded_size(heic: bytes) -> tuple[int, int]:
    """(width, height) of the image as coded in a HEIF file (its ``ispe`` box), before the
    turn the file asks for."""
    at = heic.index(b"ispe") + 8  # type, then version and flags
    return struct.unpack(">II", heic[at : at + 8])


@pytest.mark.parametrize(
    ("orientation", "sideways"), [(None, False), (1, False), (6, True), (3, False), (8, True)]
)
def test_a_heic_photo_is_read_upright(tmp_path, orientation, sideways):
    """A phone held sideways keeps the pixels as the sensor saw them and says how to turn
    them (EXIF orientation 6: 90 degrees clockwise, in HEIF the ``irot`` box): the page is
    read upright and unmirrored, as a JPEG's is."""
    page = _asymmetric_page()
    rgb = np.repeat(page[..., None], 3, axis=2)
    path = scancorpus.write_heic(rgb, tmp_path / "photo.heic", orientation=orientation)
    width, height = _coded_size(path.read_bytes())
    assert (width > height) is sideways  # kept turned: the reader has to turn it back
    [(read, dpi)] = read_pages(path)
    assert dpi is None
    assert read.shape == page.shape
    assert np.abs(read.astype(np.int16) - page).mean() < 8  # HEVC is lossy


def test_a_heic_with_several_images_is_several_pages(tmp_path):
    import pillow_heif

    pages = [_asymmetric_page(), 255 - _asymmetric_page()]
    heif = pillow_heif.from_pillow(Image.fromarray(pages[0]).convert("RGB"))
    heif.add_from_pillow(Image.fromarray(pages[1]).convert("RGB"))
    heif.save(tmp_path / "two.heic", quality=90)
    read = [page for page, _ in read_pages(tmp_path / "two.heic")]
    assert len(read) == 2
    assert all(np.abs(r.astype(np.int16) - p).mean() < 8 for r, p in zip(read, pages, strict=True))


@pytest.mark.parametrize("weasyprint_loaded", [False, True])
def test_a_damaged_heic_photo_gets_a_clear_error(tmp_path, monkeypatch, weasyprint_loaded):
    from PIL import ImageFile

    # WeasyPrint sets this when imported (the whole suite imports it): still refused
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", weasyprint_loaded)
    rgb = np.repeat(_asymmetric_page()[..., None], 3, axis=2)
    whole = scancorpus.write_heic(rgb, tmp_path / "whole.heic").read_bytes()
    cut = tmp_path / "cut.heic"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(OcrFailed) as caught:
        read_pages(cut)
    assert "เปิดภาพไม่ได้" in caught.value.th and "cannot open the image" in caught.value.en


def test_a_heic_over_the_pixel_limit_is_refused(tmp_path, monkeypatch):
    """The limit holds for HEIC as for PNG (checked on the size its header gives): with
    the limit lowered, a 400 x 300 photo is what an 80-megapixel one is to the real one."""
    from saraban.archive.importer import _ocr

    rgb = np.repeat(_asymmetric_page()[..., None], 3, axis=2)
    path = scancorpus.write_heic(rgb, tmp_path / "huge.heic")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # put back after
    monkeypatch.setattr(_ocr, "MAX_IMAGE_PIXELS", 50_000)
    with pytest.raises(OcrFailed, match="cannot open the image: .*decompression bomb"):
        read_pages(path)


def test_an_image_bomb_is_refused_before_it_is_decoded(tmp_path):
    with pytest.raises(OcrFailed, match="cannot open the image"):
        read_pages(_huge_png(tmp_path / "bomb.png", 30_000, 30_000))


def _blank_pdf(path: Path, points: int, pages: int) -> Path:
    """A PDF of ``pages`` empty pages ``points`` wide and high (no image: it is drawn)."""
    kids = b" ".join(b"%d 0 R" % (10 + n) for n in range(pages))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
    }
    for n in range(pages):
        objects[10 + n] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % (
            points,
            points,
        )
    path.write_bytes(hand_made_pdf(objects))
    return path


def test_a_page_larger_than_paper_is_drawn_no_larger_than_a_page_can_be(tmp_path, monkeypatch):
    """A 582-byte PDF of two pages 3000 points wide was drawn at 300 dpi: 156 megapixels
    each, held together. Each is drawn at most MAX_PAGE_PIXELS, and a PDF's pages together
    at most MAX_PDF_PIXELS."""
    from saraban.archive.importer import _ocr
    from saraban.archive.importer._scan import MAX_PAGE_PIXELS

    pages = read_pages(_blank_pdf(tmp_path / "big.pdf", 3000, 2))
    assert len(pages) == 2
    for page, dpi in pages:
        assert page.size <= MAX_PAGE_PIXELS and dpi and dpi < 300
    a4 = _blank_pdf(tmp_path / "a4.pdf", 600, 3)
    [(page, dpi), *_rest] = read_pages(a4)
    assert dpi == 300 and page.shape == (2500, 2500)  # a page of paper's size: as before
    monkeypatch.setattr(_ocr, "MAX_PDF_PIXELS", 2 * 2500 * 2500)
    with pytest.raises(OcrFailed, match="too large to read together"):
        read_pages(a4)


def test_a_thin_strip_taken_for_a_page_is_not_made_larger_than_a_page(tmp_path):
    """An image without a resolution is taken as a page's width: a strip 100 pixels wide
    (1 KB of PNG) was scaled to A4's width, 185 megapixels (2.6 GB while cleaning)."""
    from saraban.archive.importer._scan import MAX_PAGE_PIXELS

    strip = np.full((1500, 100), 255, np.uint8)
    prepared = prepare_page(strip)
    assert prepared.size <= MAX_PAGE_PIXELS * 1.01
    assert prepared.shape[0] > prepared.shape[1]  # still the strip, upright


def test_ocr_of_a_missing_file(tmp_path):
    with pytest.raises(OcrFailed, match="no such file"):
        ocr_file(tmp_path / "nothing.png")


# --------------------------------------------------------------------------- the real engine

STEM = "000_e6238ec4d0848a5c"
REGISTER_FIELDS = ("sender", "ref_no", "date", "subject", "addressee", "urgency", "secrecy")


def _register_fields_right(text: str) -> list[str]:
    from saraban.archive.importer import parse_letter_text

    def spaces(value):  # whitespace is layout, as in the importer's PDF tests
        if isinstance(value, str):
            return re.sub(r"\s+", "", value)
        if isinstance(value, list):
            return [spaces(v) for v in value]
        if isinstance(value, dict):
            return {k: spaces(v) for k, v in value.items()}
        return value

    def flat(letter: dict, name: str) -> object:
        value = letter[name]
        if name == "sender":  # an address wrapped in its column is the same address
            value = [value["name"] or "", *value["address"]]
        value = spaces(value)
        return "".join(value) if isinstance(value, list) else value

    got = parse_letter_text(text).letter
    want = scancorpus.seed_letter(STEM)
    return [f for f in REGISTER_FIELDS if flat(got, f) == flat(want, f)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.pdf
@pytest.mark.ocr
def test_a_scanned_pdf_page_reads_into_the_register_fields(tmp_path):
    """Page one of a seed letter, scanned (150 dpi, turned 1.5 degrees, noise) into an
    image-only PDF: the parser gets every register field from the OCR text, the topic
    word is found by the search analyzer, and the PDF/A beside it is searchable."""
    import pikepdf

    from saraban.indexer import analyze

    scan = scancorpus.scan_page(scancorpus.render_pages(STEM)[0], STEM, 0)
    original = scancorpus.write_scan_pdf([scan], tmp_path / "scan.pdf")
    before = _digest(original)
    text, pdfa, confidence = ocr_file(original)
    assert _digest(original) == before  # the original is never changed
    assert _register_fields_right(text) == list(REGISTER_FIELDS)
    query = analyze("ผู้นำจิตอาสา")
    tokens = analyze(text)
    assert any(tokens[i : i + len(query)] == query for i in range(len(tokens)))
    assert len(confidence) == 1 and confidence[0] > 60
    assert pdfa is not None
    (tmp_path / "out.pdf").write_bytes(pdfa)
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status.startswith("2")
    layer = subprocess.run(
        ["pdftotext", str(tmp_path / "out.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ศาลากลางจังหวัดหนองคาย" in layer.replace(" ", "")
    # The invisible text is the corrected text, every column of every line (OCRmyPDF
    # writes ``ำ`` decomposed, as ``ํา``; where it puts spaces is its own)
    squeezed = "".join(layer.replace("\u0e4d\u0e32", "\u0e33").split())
    columns = [c for line in text.split("\n") for c in re.split(r"\s{4,}", line) if c.strip()]
    assert columns and all("".join(c.split()) in squeezed for c in columns)


@pytest.mark.pdf
@pytest.mark.ocr
def test_a_phone_photo_reads_into_the_register_fields(tmp_path):
    """Page one photographed (slant, shadow, blur) as a JPEG: unwarped and read."""
    clean = scancorpus.render_pages(STEM, dpi=scancorpus.PHOTO_DPI)[0]
    photo = scancorpus.write_jpeg(scancorpus.photo_page(clean, STEM, 0), tmp_path / "photo.jpg")
    text, pdfa, _ = ocr_file(photo, pdfa=False)
    assert pdfa is None
    assert _register_fields_right(text) == list(REGISTER_FIELDS)


# --------------------------------------------------------------------------- spaces by the ink


def _printed_row(text: str) -> tuple[np.ndarray, tuple[int, int]]:
    """``text`` printed in Sarabun 16 pt at 300 dpi; the ink and the rows of the letters'
    bodies (the top of ``ป`` to its base line)."""
    font = ImageFont.truetype(str(SARABUN_DIR / "Sarabun-Regular.ttf"), 67)
    canvas = Image.new("L", (1400, 200), 0)
    ImageDraw.Draw(canvas).text((20, 40), text, fill=255, font=font)
    ink = np.array(canvas) > 127
    body = _glyph_rows(font, "ป")
    return ink, (40 + body[0], 40 + body[1])


def _glyph_rows(font, glyph: str) -> tuple[int, int]:
    canvas = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(canvas).text((0, 0), glyph, fill=255, font=font)
    rows = np.flatnonzero(np.array(canvas).max(axis=1))
    return int(rows[0]), int(rows[-1]) + 1


@pytest.mark.parametrize("box", ["bodies", "with marks"])
def test_the_open_top_of_a_letter_is_no_space(box):
    """A row Tesseract boxed round the letters' bodies alone (a wrapped subject line) once
    read ``ป ระจำ ปง บ ป ระมาณ``: the open tops of ``ป`` and ``บ`` counted as gaps."""
    from saraban.archive.importer._ocr import Glyphs, Row, _blank_runs

    ink, (top, bottom) = _printed_row("ประจำปีงบประมาณ")
    if box == "with marks":
        top, bottom = top - 25, bottom + 20
    columns = np.flatnonzero(ink.any(axis=0))
    row = Row([Glyphs("ประจำปีงบประมาณ", (int(columns[0]), top, int(columns[-1]), bottom), 90)])
    row.top, row.bottom = top, bottom
    assert _blank_runs(ink, row, 13) == []
    spaced, _ = _printed_row("ประจำปี งบประมาณ")
    assert len(_blank_runs(spaced, Row(row.words, top, bottom), 13)) == 1


# ----------------------------------------------------------- digits Tesseract took for letters


def _printed(text: str, size: int = 42) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """``text`` printed in Sarabun at ``size`` px: the ink, and each character's columns."""
    font = ImageFont.truetype(str(SARABUN_DIR / "Sarabun-Regular.ttf"), size)
    canvas = Image.new("L", (size * (len(text) + 4), size * 3), 0)
    ImageDraw.Draw(canvas).text((size, size), text, fill=255, font=font)
    columns = []
    for i in range(len(text)):
        left = size + int(font.getlength(text[:i]))
        columns.append((left, size + int(font.getlength(text[: i + 1]))))
    return np.array(canvas) > 127, columns


def _row_of(ink: np.ndarray, pieces: list[tuple[str, int, int]]):
    """A row of Tesseract words (text, first column, last column), boxed to the ink."""
    from saraban.archive.importer._ocr import Glyphs, Row

    rows = np.flatnonzero(ink.any(axis=1))
    top, bottom = int(rows[0]) - 5, int(rows[-1]) + 5
    return Row([Glyphs(t, (a, top, b, bottom), 90) for t, a, b in pieces], top, bottom)


def test_a_lone_digit_taken_for_a_letter_is_read_by_its_shape():
    """The day of a date, ``๗``, read by Tesseract as ``ฆ``: alone between spaces and drawn
    like a digit, it is the digit."""
    from saraban.archive.importer._ocr_digits import reread_digits

    ink, columns = _printed("๗ กุมภาพันธ์")
    row = _row_of(ink, [("ฆ", *columns[0]), ("กุมภาพันธ์", columns[2][0], columns[-1][1])])
    reread_digits(row, ink, ink)
    assert [w.text for w in row.words] == ["๗", "กุมภาพันธ์"]


@pytest.mark.parametrize("text", ["ณ วันที่", "ว ๒๕๖๔"])
def test_a_lone_thai_letter_stays_a_letter(text):
    from saraban.archive.importer._ocr_digits import reread_digits

    ink, columns = _printed(text)
    row = _row_of(ink, [(text[0], *columns[0]), (text[2:], columns[2][0], columns[-1][1])])
    reread_digits(row, ink, ink)
    assert row.words[0].text == text[0]


def test_a_digit_read_as_a_letter_at_the_end_of_a_number_ends_there():
    """``๐๐๑๙.๓/ว``: Tesseract read ``๓`` as ``สั`` and boxed it over the ``/`` and the ``ว``
    too; the digit is read by its shape, the ``/`` and the ``ว`` stay."""
    from saraban.archive.importer._ocr_digits import reread_digits

    ink, columns = _printed("๐๐๑๙.๓/ว")
    row = _row_of(
        ink,
        [
            ("๐๐๑๕.", columns[0][0], columns[4][1]),
            ("สั", columns[5][0], columns[7][1]),
            ("/", *columns[6]),
            ("ว", *columns[7]),
        ],
    )
    reread_digits(row, ink, ink)
    assert "".join(w.text for w in row.words) == "๐๐๑๙.๓/ว"


def test_a_slash_drawn_wide_in_a_number_is_a_slash():
    """A ``/`` leaning more than a digit is wide (``๓ / ๑๕๕๐๐``) is no shape unlike any digit
    that spoils the whole number."""
    from saraban.archive.importer._ocr_digits import _read, _shapes

    ink, columns = _printed("๑๓    ๑๕")
    rows = np.flatnonzero(ink.any(axis=1))
    base = int(rows[-1])
    slash = np.zeros(ink.shape, np.uint8)
    x = columns[3][0]
    cv2.line(slash, (x, base), (x + 30, base - 52), 1, 4)
    ink = ink | slash.astype(bool)
    shapes = _shapes(ink, 0, 0, ink.shape[1], ink.shape[0])
    assert _read(ink, shapes) == ["๑", "๓", "/", "๑", "๕"]


def test_a_mark_of_the_row_above_does_not_spoil_a_year():
    """``พ.ศ. ๒๕๖๘`` of a wrapped subject: the row's box cut the tails of the row above into
    slivers, which were taken for digits (the year came out ``๒๕๒๐๕``); and the run of
    digits began at the era's dot, taking in the ``ศ``."""
    from saraban.archive.importer._ocr_digits import reread_digits

    ink, columns = _printed("พ.ศ. ๒๕๖๘")
    row = _row_of(
        ink,
        [("พ", *columns[0]), ("ศ", *columns[2]), (".", *columns[3])]
        + [(t, *columns[i]) for t, i in zip("๒๕๒๐๕", (5, 6, 7, 7, 8), strict=True)],
    )
    for left, _ in columns[5:]:  # the tips of the row above, cut by the row's box
        ink[row.top : row.top + 2, left + 3 : left + 9] = True
    reread_digits(row, ink, ink)
    assert "".join(w.text for w in row.words) == "พศ.๒๕๖๘"


# --------------------------------------------------------------------------- PDF pages


def _scan_like_page() -> np.ndarray:
    rng = np.random.default_rng(7)
    page = _lines_page()
    return np.clip(page.astype(np.float32) * 0.9 + rng.normal(0, 9, page.shape), 0, 255).astype(
        np.uint8
    )


def test_a_scanned_pdf_page_is_its_own_image_pixel_for_pixel(tmp_path):
    """A scanner's PDF holds one image a page: it is taken as it is (1240 pixels wide at
    150 dpi), not rasterised again (poppler draws it 1241 wide, resampled and blurred: the
    same scan read one register field worse as a PDF than as a PNG)."""
    page = _scan_like_page()
    pdf = scancorpus.write_scan_pdf([page, page], tmp_path / "scan.pdf")
    pages = read_pages(pdf)
    assert [(p.shape, dpi) for p, dpi in pages] == [(page.shape, 150.0)] * 2
    # JPEG's loss alone: noise smoothed, no stroke moved or widened
    smooth = [cv2.GaussianBlur(image, (0, 0), 1.0).astype(int) for image in (pages[0][0], page)]
    assert np.abs(smooth[0] - smooth[1]).mean() < 1.5


def test_a_pdf_page_that_is_not_its_image_is_rasterised(tmp_path):
    """An image drawn upside down (or mirrored, or with more on the page) is read as the
    page shows it."""
    import pikepdf

    page = _scan_like_page()
    page[100:300, 100:400] = 0  # a dark block at the top left, to see which way is up
    pdf = scancorpus.write_scan_pdf([page], tmp_path / "scan.pdf")
    with pikepdf.open(pdf) as doc:
        first = doc.pages[0]
        width, height = (float(v) for v in first.mediabox[2:])
        first.Contents = doc.make_stream(
            f"q {-width} 0 0 {-height} {width} {height} cm /image Do Q".encode()
        )
        doc.save(tmp_path / "turned.pdf")
    ((shown, dpi),) = read_pages(tmp_path / "turned.pdf")
    assert dpi == 150.0
    turned = cv2.resize(np.flipud(np.fliplr(page)), shown.shape[::-1])
    assert np.abs(shown.astype(int) - turned).mean() < 12
    assert shown[-250:-150, -350:-150].mean() < 80  # the block is at the bottom right


# --------------------------------------------------------------------------- stamps


@pytest.mark.parametrize(
    ("stamp", "urgency", "secrecy"),
    [
        ("ด่วนที่สด", "ด่วนที่สุด", None),  # a mark lost
        ("ด่วน ทสุด", "ด่วนที่สุด", None),  # a space read inside, and ี่ lost
        ("ด่วนทสด", "ด่วนที่สุด", None),  # the longest words: two letters off
        ("ด่วนมาก ลับมก", "ด่วนมาก", "ลับมาก"),
    ],
)
def test_a_stamp_read_with_a_letter_wrong_is_still_the_stamp(stamp, urgency, secrecy):
    from saraban.archive.importer import parse_letter_text

    result = parse_letter_text(f"{stamp}\nที่ นค ๐๐๑๙.๓/ว ๒๕๖๔\n\nเรื่อง ทดสอบ\n\nเรียน นายอำเภอ\n")
    assert (result.letter["urgency"], result.letter["secrecy"]) == (urgency, secrecy)
    assert any(f.startswith("urgency") or f.startswith("secrecy") for f in result.needs_review)


@pytest.mark.parametrize("line", ["ด่าน", "ลบ", "ด่วนที่", "ดับที่สุด", "บันทึกข้อความ"])
def test_a_word_near_a_short_stamp_is_no_stamp(line):
    from saraban.archive.importer import parse_letter_text

    result = parse_letter_text(f"{line}\nที่ นค ๐๐๑๙.๓/ว ๒๕๖๔\n\nเรื่อง ทดสอบ\n\nเรียน นายอำเภอ\n")
    assert (result.letter["urgency"], result.letter["secrecy"]) == (None, None)


# --------------------------------------------------------------------------- the text layer


def test_the_text_layer_is_the_corrected_text_in_its_columns(tmp_path):
    """The PDF/A's invisible words are the corrected lines (``ที่ นค`` for Tesseract's
    ``ทีนค``), each column in its printed place."""
    from ocrmypdf.hocrtransform.hocr_parser import HocrParser

    from saraban.archive.importer._ocr import PrintedLine, text_layer_hocr

    lines = [
        PrintedLine(
            "ทีนค ๐๐๑๙.๓/ว ๒๕๖๔    ศาลากลาง<จังหวัด>", [(300, 700, 1000, 760), (1480, 700, 2200, 760)]
        ),
        PrintedLine("", []),
        PrintedLine("เรือง การประชุม", [(300, 900, 1200, 960)]),
    ]
    corrected = ["ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔    ศาลากลาง<จังหวัด>", "", "เรื่อง การประชุม"]
    path = tmp_path / "page.hocr"
    path.write_bytes(text_layer_hocr(lines, corrected, (2480, 3508)))
    page = HocrParser(path).parse()
    words = [
        (w.text, w.bbox.left, w.bbox.right)
        for par in page.children
        for line in par.children
        for w in line.children
    ]
    assert [w[0] for w in words] == [
        "ที่", "นค", "๐๐๑๙.๓/ว", "๒๕๖๔", "ศาลากลาง<จังหวัด>", "เรื่อง", "การประชุม"
    ]  # fmt: skip
    assert words[0][1] == 300 and words[3][2] <= 1000  # the number's column
    assert words[4][1:] == (1480, 2200)  # the sender's column


def test_an_unreadable_end_of_a_number_is_read_by_its_shapes():
    """``๐๐๑๙.๓/ว``: the urgency stamp's ``ุ`` above touched the ``/``, and Tesseract read
    ``๓/ว`` as ``เขา``, sure of it at 5%; its shapes are a digit, a slash and the ``ว`` of a
    circular's number."""
    from saraban.archive.importer._ocr_digits import reread_digits

    ink, columns = _printed("๐๐๑๙.๓/ว ๒๕๖๔")
    row = _row_of(
        ink,
        [(t, *columns[i]) for i, t in enumerate("๐๐๑๕.")]
        + [("เขา", columns[5][0], columns[7][1])]
        + [(t, *columns[9 + i]) for i, t in enumerate("๒๕๒๔")],
    )
    row.words[5].confidence = 5
    reread_digits(row, ink, ink)
    assert "".join(w.text for w in row.words) == "๐๐๑๙.๓/ว๒๕๖๔"


def test_an_unsure_word_a_space_after_a_number_is_another_word():
    from saraban.archive.importer._ocr_digits import reread_digits

    ink, columns = _printed("๑๒ ตุลาคม")
    row = _row_of(
        ink, [("๑๒", columns[0][0], columns[1][1]), ("ตุลาคม", columns[3][0], columns[-1][1])]
    )
    row.words[1].confidence = 5
    reread_digits(row, ink, ink)
    assert [w.text for w in row.words] == ["๑", "๒", "ตุลาคม"]


def _letter_head(stamp: str | None, picture: bool = False) -> tuple[np.ndarray, list]:
    """The head of a letter at 300 dpi: a stamp (or a round picture) above the ที่ line and
    a subject line; and the lines Tesseract would give for it without the stamp."""
    from saraban.archive.importer._ocr import PrintedLine

    canvas = Image.new("L", (2480, 700), 255)
    draw = ImageDraw.Draw(canvas)
    if stamp:
        bold = ImageFont.truetype(str(SARABUN_DIR / "Sarabun-Bold.ttf"), 110)
        draw.text((300, 150), stamp, fill=30, font=bold)
    if picture:
        draw.ellipse((1050, 20, 1400, 300), outline=30, width=8)
        for x in range(1060, 1400, 24):
            draw.line((x, 40, x + 60, 290), fill=120, width=3)
    regular = ImageFont.truetype(str(SARABUN_DIR / "Sarabun-Regular.ttf"), 67)
    texts = ["ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔", "เรื่อง ขอเชิญประชุม"]
    lines = []
    for y, text in zip((300, 480), texts, strict=True):
        draw.text((300, y), text, fill=30, font=regular)
        left, top, right, bottom = draw.textbbox((300, y), text, font=regular)
        lines.append(PrintedLine(text, [(left, top, right, bottom)]))
    return np.array(canvas), lines


@pytest.mark.ocr
@pytest.mark.parametrize(("stamp", "found"), [("ด่วนที่สุด", "ด่วนที่สุด"), ("ลับมาก", "ลับมาก")])
def test_a_stamp_the_page_layout_skipped_is_read_again(stamp, found):
    """Tesseract's page layout left the large bold ``ด่วนที่สุด`` of a photographed letter
    out of the hOCR; the unread ink above the ที่ line is read again, for stamp words."""
    from saraban.archive.importer._ocr import _with_unread_stamp, text_layer_hocr

    page, lines = _letter_head(stamp)
    hocr = text_layer_hocr(lines, [line.text for line in lines], page.shape[::-1])
    got = _with_unread_stamp(lines, hocr, page, ("tha",))
    assert [line.text for line in got] == [found, *(line.text for line in lines)]


@pytest.mark.ocr
def test_a_picture_above_the_ref_line_adds_nothing():
    from saraban.archive.importer._ocr import _with_unread_stamp, text_layer_hocr

    page, lines = _letter_head(None, picture=True)
    hocr = text_layer_hocr(lines, [line.text for line in lines], page.shape[::-1])
    assert _with_unread_stamp(lines, hocr, page, ("tha",)) == lines


@pytest.mark.parametrize(
    ("head", "sender"),
    [
        ("เซ๐", None),  # the Garuda of a scanned letter with no ที่ line, read as text
        ("1 : หพ๐ เฉค", None),
        ("สำนักงานจังหวัดพะเยา", "สำนักงานจังหวัดพะเยา"),
    ],
)
def test_a_scrap_of_a_picture_is_no_sender(head, sender):
    from saraban.archive.importer import parse_letter_text

    text = f"{head}\n๗ กุมภาพันธ์ ๒๕๖๗\n\nเรื่อง ทดสอบ\n\nเรียน นายอำเภอ ทุกอำเภอ\n"
    assert parse_letter_text(text).letter["sender"]["name"] == sender
