"""The receipt stamp and the orders (เกษียน) block (templates/_stamp.py) on real PDFs read
back: neither ever covers the letter's words; orders with no room on page one go on an
added page; a place the clerk chose is kept; a scanned page (an image) is judged by its
ink like a page with text."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
import scancorpus

from saraban.templates._stamp import (
    STAMP_HEIGHT_MM,
    StampText,
    _Ink,
    place_stamp,
    stamp_first_page,
)

pytestmark = pytest.mark.pdf
STEM = "000_e6238ec4d0848a5c"
MM = 72 / 25.4
ONE = ["มอบกองช่างดำเนินการ — boss ๔ ธ.ค. ๖๙"]
MANY = [
    "เรียน นายอำเภอ เพื่อโปรดพิจารณามอบกองช่างดำเนินการสำรวจพื้นที่และจัดทำประมาณการค่าใช้จ่าย"
    "เสนอภายในวันที่ ๑๕ ธันวาคม ๒๕๖๙ — boss ๔ ธ.ค. ๖๙",
    "ทราบ มอบกองคลังตรวจสอบงบประมาณคงเหลือและรายงานผลให้ทราบโดยด่วนที่สุดภายในสามวันทำการ — ปลัด",
    "ดำเนินการตามเสนอ แจ้งทุกอำเภอทราบและถือปฏิบัติ ประสานสำนักงานพัฒนาชุมชนจังหวัดเพื่อรายงานผล"
    " ติดตามความก้าวหน้าทุกสัปดาห์ — ผู้ว่าราชการจังหวัด ๖ ธ.ค. ๖๙",
    "ให้กลุ่มงานยุทธศาสตร์จัดทำสรุปภาพรวมและนำเสนอที่ประชุมหัวหน้าส่วนราชการประจำเดือนมกราคม"
    " ๒๕๗๐ — รองผู้ว่าฯ ๗ ธ.ค. ๖๙",
]


def _text(orders: list[str]) -> StampText:
    return StampText("สำนักงานจังหวัดหนองคาย", "๑๒/๒๕๖๙", "๔ ธ.ค. ๖๙", "๑๐.๓๐ น.", orders)


@pytest.fixture(scope="module")
def letter() -> bytes:
    return scancorpus._rendered_pdf(STEM)


Word = tuple[float, float, float, float, str]


def _words(pdf: bytes, tmp_path: Path, page: int = 1) -> list[Word]:
    import re

    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    xml = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xml
    )
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in found]


def _overlap(a: Word, b: Word) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _pages(pdf: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def test_one_order_sits_on_page_one_and_covers_no_word_of_the_letter(letter, tmp_path):
    stamped = stamp_first_page(letter, _text(ONE))
    assert _pages(stamped) == 1
    before = _words(letter, tmp_path)
    after = _words(stamped, tmp_path)
    added = [w for w in after if w not in before]
    assert {"เลขรับที่", "เกษียน/สั่งการ"} <= {w[4] for w in added}
    assert any("มอบกองช่าง" in w[4] for w in added)
    covered = [(a[4], b[4]) for a in added for b in before if _overlap(a, b)]
    assert covered == []
    assert all(w in after for w in before)  # the letter's own words are all still there


def test_orders_with_no_room_go_on_an_added_page(letter, tmp_path):
    stamped = stamp_first_page(letter, _text(MANY))
    assert _pages(stamped) == 2
    first = _words(stamped, tmp_path, 1)
    before = _words(letter, tmp_path)
    added = [w for w in first if w not in before]
    assert not any(_overlap(a, b) for a in added for b in before)
    assert not any("กองคลัง" in w[4] for w in added)  # no order on page one
    second = "".join(w[4] for w in _words(stamped, tmp_path, 2))
    for order in MANY:
        assert order.split()[1][:6] in second
    assert "๑๒/๒๕๖๙" in second  # the added page names the เลขรับ


def test_a_place_the_clerk_chose_is_kept_and_one_off_the_page_is_brought_back(letter, tmp_path):
    stamped = stamp_first_page(letter, _text([]), left_mm=20, top_mm=250)
    [label] = [w for w in _words(stamped, tmp_path) if w[4] == "เลขรับที่"]
    assert 20 * MM < label[0] < 30 * MM and 250 * MM < label[1] < (250 + STAMP_HEIGHT_MM) * MM
    placed = place_stamp(letter, _text([]), (210, 297), left_mm=500, top_mm=-40)
    assert placed.stamp.left + placed.stamp.width <= 210 and placed.stamp.top == 0


def _scanned(letter: bytes, tmp_path: Path) -> bytes:
    """The letter as a scanner makes it: one image a page, no text."""
    import img2pdf

    subprocess.run(
        ["pdftoppm", "-r", "100", "-gray", "-png", "-f", "1", "-l", "1", "-", str(tmp_path / "p")],
        input=letter,
        check=True,
        capture_output=True,
    )
    [png] = sorted(tmp_path.glob("p*.png"))
    return img2pdf.convert(str(png), layout_fun=img2pdf.get_fixed_dpi_layout_fun((100, 100)))


def test_on_a_scanned_page_the_stamp_and_orders_land_on_clear_paper(letter, tmp_path):
    scan = _scanned(letter, tmp_path)
    ink = _Ink(scan, 210, 297)
    placed = place_stamp(scan, _text(ONE), (210, 297))
    assert placed.orders is not None and not placed.orders_page
    for box in (placed.stamp, placed.orders):
        assert ink.free(box.left, box.top, box.width, box.height)
    # a stamp moved onto the letter's words is where the clerk put it all the same
    onto = place_stamp(scan, _text([]), (210, 297), left_mm=30, top_mm=60)
    assert (onto.stamp.left, onto.stamp.top) == (30, 60)
    assert _pages(stamp_first_page(scan, _text(MANY))) == 2


def test_every_order_line_is_escaped_text(letter, tmp_path):
    evil = ['<img src="file:///etc/passwd"> & </div><div style="top:0">']
    stamped = stamp_first_page(letter, _text(evil))
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=stamped, capture_output=True, check=True
    ).stdout.decode()
    assert "".join(evil[0].split()) in "".join(text.split())  # printed, never obeyed


def test_a_file_that_is_no_page_to_stamp_gets_a_clear_error():
    import pikepdf

    from saraban.errors import BadRequest
    from saraban.templates._stamp import first_page_mm, first_page_png

    tiny = pikepdf.new()
    tiny.add_blank_page(page_size=(10, 10))
    buffer = io.BytesIO()
    tiny.save(buffer)
    for bad, words in ((buffer.getvalue(), "เล็กเกิน"), (b"%PDF-1.7 junk", "เปิดไฟล์ PDF")):
        with pytest.raises(BadRequest, match=words):
            stamp_first_page(bad, _text(ONE))
    with pytest.raises(BadRequest, match="เปิดไฟล์ PDF"):
        first_page_png(b"not a pdf")
    flat = pikepdf.new()
    flat.add_blank_page(page_size=(600, 600))
    flat.pages[0].mediabox = pikepdf.Array([0, 0, 600, 0.5])
    buffer = io.BytesIO()
    flat.save(buffer)
    with pytest.raises(BadRequest, match="ไม่มีขนาด"):
        first_page_mm(buffer.getvalue())
