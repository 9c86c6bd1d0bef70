"""The receipt stamp (ตรารับหนังสือ) drawn onto a copy of a received letter's first page.

The stamp is the box a saraban clerk stamps on paper: the office's name, then เลขรับ,
วันที่ and เวลา, in Thai digits. It is set by WeasyPrint (Sarabun, the text escaped like
every other text this package prints) on a transparent page the size of the letter's
first page, and laid over a copy of that page with pikepdf: the copy is a new PDF, the
received file itself is only read.

Where there is room: page one is rendered to a small greyscale image (pdfium) and every
place is judged by the ink under it, so the letter's text, its Garuda and a scan's print
are never covered, whatever the PDF is made of (text, a scanned image, drawings). The
stamp goes top right by default, or where the clerk put it, or (the top right being
inked) at the free place nearest to it; it stays on page one in any case. Any order
(สั่งการ, เกษียน) is printed in a box at the free place nearest under the stamp, as wide as
the stamp or, failing that, across the page's text width; when page one has no such place
the orders go on a page added after it (or pages: a long list flows on).

>>> stamped = stamp_first_page(pdf, StampText("สำนักงานจังหวัดหนองคาย", "๑๒/๒๕๖๙", ...))
"""

from __future__ import annotations

import contextlib
import html
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from saraban.errors import BadRequest

__all__ = [
    "STAMP_HEIGHT_MM",
    "STAMP_WIDTH_MM",
    "Placement",
    "StampText",
    "PREVIEW_WIDTH_PX",
    "first_page_mm",
    "first_page_png",
    "place_stamp",
    "stamp_first_page",
]

STAMP_WIDTH_MM = 62.0
STAMP_HEIGHT_MM = 30.0
MARGIN_MM = 8.0  # from the paper's edge: the stamp's and the orders' own margin
TEXT_MARGIN_MM = 20.0  # a letter's side margins: a full-width orders block keeps inside
GAP_MM = 2.0  # clear paper kept around the stamp and the orders
_PT_PER_MM = 72 / 25.4
_PX_PER_MM = 96 / 25.4  # CSS pixels, WeasyPrint's unit
_SCAN_DPI = 50  # page one's image: enough to see a 10 pt line, cheap to scan
_INK_BELOW = 215  # a grey darker than this is ink
_INK_ALLOWED = 0.002  # share of a place that may be ink (a scan's specks) and still be free
_STEP_MM = 2.0


@dataclass(frozen=True)
class StampText:
    """What the stamp says; every value is plain text (escaped when set)."""

    office: str
    number: str  # เลขรับ, e.g. "๑๒/๒๕๖๙"
    date: str  # "๔ ธ.ค. ๖๙"
    time: str  # "๑๐.๓๐ น."
    orders: list[str] = field(default_factory=list)  # เกษียน lines, under the stamp


@dataclass(frozen=True)
class Box:
    """A place on the page, in mm from its top left corner."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        return not (
            self.left + self.width + gap <= other.left
            or other.left + other.width + gap <= self.left
            or self.bottom + gap <= other.top
            or other.bottom + gap <= self.top
        )


@dataclass(frozen=True)
class Placement:
    """Where the stamp and the orders went: ``orders`` None with ``orders_page`` True when
    the orders are on an added page; both None/False when there are no orders."""

    stamp: Box
    orders: Box | None
    orders_page: bool
    page_mm: tuple[float, float]


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _stamp_html(text: StampText, box: Box, *, orders_after: bool = False) -> str:
    rows = "".join(
        f"<tr><th>{label}</th><td>{_esc(value)}</td></tr>"
        for label, value in (("เลขรับที่", text.number), ("วันที่", text.date), ("เวลา", text.time))
    )
    return (
        f'<div class="stamp" style="left:{box.left:.2f}mm;top:{box.top:.2f}mm;'
        f'width:{box.width:.2f}mm;height:{box.height:.2f}mm">'
        f'<div class="office">{_esc(text.office)}</div><table>{rows}</table>'
        + ('<p class="more">เกษียน/สั่งการ: ดูหน้าถัดไป</p>' if orders_after else "")
        + "</div>"
    )


def _orders_html(text: StampText, style: str = "") -> str:
    lines = "".join(f"<p>{_esc(line)}</p>" for line in text.orders if line.strip())
    return f'<div class="orders" style="{style}"><p class="head">เกษียน/สั่งการ</p>{lines}</div>'


_CSS = """
@page { margin: 0; background: transparent; }
html, body { margin: 0; background: transparent; }
.stamp, .orders { font-family: Sarabun; color: #1a3aa0; box-sizing: border-box; }
.stamp { position: absolute; border: 0.5mm solid #1a3aa0; padding: 1mm 2mm; font-size: 11pt;
 line-height: 1.15; }
.office { text-align: center; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: normal; width: 35%; }
td { border-bottom: 0.3mm dotted #1a3aa0; }
.orders { border: 0.3mm solid #1a3aa0; padding: 1mm 2mm; font-size: 10pt; line-height: 1.2;
 background: white; overflow-wrap: break-word; }
.orders p { margin: 0; }
.orders .head { font-weight: bold; }
.placed { position: absolute; }
.added { margin: 20mm 20mm; }
.added h1 { font-family: Sarabun; font-size: 14pt; color: #1a3aa0; margin: 0 0 3mm; }
.added .orders { font-size: 14pt; padding: 2mm 3mm; }
.more { font-size: 10pt; text-align: right; }
"""


def _page_css(width_mm: float, height_mm: float) -> str:
    return _CSS + f"@page {{ size: {width_mm:.3f}mm {height_mm:.3f}mm; }}"


def _orders_height(text: StampText, width_mm: float) -> float:
    """How tall the orders block is when set ``width_mm`` wide (mm)."""
    from saraban.templates._pdf import laid_out

    document = laid_out(
        f"<html><body>{_orders_html(text, f'width:{width_mm:.2f}mm')}</body></html>",
        css=_page_css(width_mm + 1, 2000),
    )
    for page in document.pages:
        for box in page._page_box.descendants():
            if getattr(box, "element_tag", None) == "div":
                return float(box.margin_height()) / _PX_PER_MM
    return 0.0


class _Ink:
    """Page one's ink, to ask how much of it lies under a place (a summed-area table)."""

    def __init__(self, pdf: bytes, width_mm: float, height_mm: float) -> None:
        import numpy as np
        import pypdfium2

        document = pypdfium2.PdfDocument(pdf)
        try:
            bitmap = document[0].render(scale=_SCAN_DPI / 72, grayscale=True)
            grey = bitmap.to_numpy()
        finally:
            document.close()
        if grey.ndim == 3:
            grey = grey[..., 0]
        ink = (grey < _INK_BELOW).astype(np.int32)
        self.sums = np.zeros((ink.shape[0] + 1, ink.shape[1] + 1), dtype=np.int64)
        self.sums[1:, 1:] = ink.cumsum(0).cumsum(1)
        self.per_mm_x = ink.shape[1] / width_mm
        self.per_mm_y = ink.shape[0] / height_mm
        self.shape = ink.shape

    def _rows(self, mm: Any) -> Any:
        import numpy as np

        return np.clip(np.rint(np.asarray(mm) * self.per_mm_y).astype(int), 0, self.shape[0])

    def _cols(self, mm: Any) -> Any:
        import numpy as np

        return np.clip(np.rint(np.asarray(mm) * self.per_mm_x).astype(int), 0, self.shape[1])

    def free(self, lefts: Any, tops: Any, width: float, height: float) -> Any:
        """For each (left, top) pair of arrays: whether the place, and ``GAP_MM`` around
        it, is clear paper."""
        import numpy as np

        r0, r1 = self._rows(tops - GAP_MM), self._rows(tops + height + GAP_MM)
        c0, c1 = self._cols(lefts - GAP_MM), self._cols(lefts + width + GAP_MM)
        s = self.sums
        ink = s[r1, c1] - s[r0, c1] - s[r1, c0] + s[r0, c0]
        area = np.maximum((r1 - r0) * (c1 - c0), 1)
        return ink <= area * _INK_ALLOWED


def _nearest_free(
    ink: _Ink,
    width: float,
    height: float,
    page: tuple[float, float],
    *,
    near: tuple[float, float],
    margin: float,
    avoid: Box | None = None,
) -> Box | None:
    """The free place of that size nearest to ``near`` (its top left), inside ``margin``
    of the paper's edge, clear of ``avoid``; None if there is none."""
    import numpy as np

    page_w, page_h = page
    if width > page_w - 2 * margin or height > page_h - 2 * margin:
        return None
    lefts = np.arange(margin, page_w - margin - width + 1e-6, _STEP_MM)
    tops = np.arange(margin, page_h - margin - height + 1e-6, _STEP_MM)
    if not len(lefts) or not len(tops):
        return None
    grid_l, grid_t = np.meshgrid(lefts, tops)
    ok = ink.free(grid_l, grid_t, width, height)
    if avoid is not None:
        g = GAP_MM
        clear = (
            (grid_l + width + g <= avoid.left)
            | (avoid.left + avoid.width + g <= grid_l)
            | (grid_t + height + g <= avoid.top)
            | (avoid.bottom + g <= grid_t)
        )
        ok &= clear
    if not ok.any():
        return None
    distance = np.hypot(grid_l - near[0], grid_t - near[1])
    distance[~ok] = np.inf
    i = np.unravel_index(int(np.argmin(distance)), distance.shape)
    return Box(float(grid_l[i]), float(grid_t[i]), width, height)


def place_stamp(
    pdf: bytes,
    text: StampText,
    page_mm: tuple[float, float],
    *,
    left_mm: float | None = None,
    top_mm: float | None = None,
) -> Placement:
    """Where the stamp and the orders go on page one (see the module's words)."""
    width_mm, height_mm = page_mm
    stamp_width = min(STAMP_WIDTH_MM, width_mm - 2 * MARGIN_MM)
    default = Box(width_mm - MARGIN_MM - stamp_width, MARGIN_MM, stamp_width, STAMP_HEIGHT_MM)
    has_orders = any(line.strip() for line in text.orders)
    ink: _Ink | None = None
    if left_mm is not None or top_mm is not None:
        left = default.left if left_mm is None else float(left_mm)
        top = default.top if top_mm is None else float(top_mm)
        left = min(max(left, 0.0), max(width_mm - stamp_width, 0.0))
        top = min(max(top, 0.0), max(height_mm - STAMP_HEIGHT_MM, 0.0))
        stamp = Box(left, top, stamp_width, STAMP_HEIGHT_MM)
    else:
        ink = _Ink(pdf, width_mm, height_mm)
        stamp = default
        if not ink.free(default.left, default.top, default.width, default.height):
            stamp = (
                _nearest_free(
                    ink,
                    stamp_width,
                    STAMP_HEIGHT_MM,
                    page_mm,
                    near=(default.left, default.top),
                    margin=MARGIN_MM,
                )
                or default
            )
    if not has_orders:
        return Placement(stamp, None, False, page_mm)
    ink = ink or _Ink(pdf, width_mm, height_mm)
    text_width = width_mm - 2 * TEXT_MARGIN_MM
    for width, margin in ((stamp_width, MARGIN_MM), (text_width, TEXT_MARGIN_MM)):
        height = _orders_height(text, width)
        near = (stamp.left if width == stamp_width else margin, stamp.bottom + GAP_MM)
        found = _nearest_free(ink, width, height, page_mm, near=near, margin=margin, avoid=stamp)
        if found is not None:
            return Placement(stamp, found, False, page_mm)
    return Placement(stamp, None, True, page_mm)


def _overlay(html_body: str, page_mm: tuple[float, float]) -> bytes:
    from saraban.templates._pdf import html_to_pdf

    return html_to_pdf(f"<html><body>{html_body}</body></html>", css=_page_css(*page_mm))


def stamp_first_page(
    pdf: bytes,
    text: StampText,
    *,
    left_mm: float | None = None,
    top_mm: float | None = None,
) -> bytes:
    """Page one of ``pdf`` with the stamp laid over it, and the orders on it where there
    is room, or on pages added after it. The stamp sits at ``left_mm``/``top_mm`` from
    the page's top left corner when given (a position off the page is moved back onto
    it); by default top right inside an 8 mm margin, where the letter has no ink."""
    import pikepdf

    try:
        source = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PdfError as exc:
        raise BadRequest(f"เปิดไฟล์ PDF เพื่อประทับตรารับไม่ได้ / cannot open the PDF: {exc}") from exc
    with source:
        if not source.pages:
            raise BadRequest("ไฟล์ PDF ไม่มีหน้า / the PDF has no page")
        first = source.pages[0]
        box = first.trimbox if "/TrimBox" in first.obj else first.mediabox
        width_pt, height_pt = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        if min(width_pt, height_pt) < 72:  # under an inch: no stamp fits, no page is so small
            raise BadRequest("หน้าแรกเล็กเกินกว่าจะประทับตรารับ / page one is too small to stamp")
        page_mm = (width_pt / _PT_PER_MM, height_pt / _PT_PER_MM)
        placed = place_stamp(pdf, text, page_mm, left_mm=left_mm, top_mm=top_mm)
        body = _stamp_html(text, placed.stamp, orders_after=placed.orders_page)
        if placed.orders is not None:
            o = placed.orders
            style = f"left:{o.left:.2f}mm;top:{o.top:.2f}mm;width:{o.width:.2f}mm"
            body += f'<div class="placed" style="{style}">{_orders_html(text)}</div>'
        out = pikepdf.new()
        out.pages.append(first)
        with pikepdf.open(io.BytesIO(_overlay(body, page_mm))) as overlay:
            out.pages[0].add_overlay(overlay.pages[0], pikepdf.Rectangle(*[float(v) for v in box]))
        if placed.orders_page:
            added = _overlay(
                f'<div class="added"><h1>เกษียนหนังสือ เลขรับที่ {_esc(text.number)} '
                f"(ต่อจากหน้าแรก)</h1>{_orders_html(text)}</div>",
                page_mm,
            )
            with pikepdf.open(io.BytesIO(added)) as extra:
                out.pages.extend(extra.pages)
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()


# The received page shows page one this many CSS pixels wide (fits a 360 px phone); a click
# on it is a place on the paper, width_mm / PREVIEW_WIDTH_PX mm a pixel, either way.
PREVIEW_WIDTH_PX = 300


def first_page_png(pdf: bytes, width_px: int = 2 * PREVIEW_WIDTH_PX) -> tuple[bytes, float, float]:
    """Page one of ``pdf`` as a PNG ``width_px`` wide, and the page's width and height in
    mm (to turn a click on the picture into a place on the paper)."""
    with _first_page(pdf) as page:
        width_pt, height_pt = page.get_size()
        scale = min(width_px / width_pt, 4 * width_px / height_pt)  # a strip page stays small
        image = page.render(scale=scale, grayscale=False).to_pil()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue(), width_pt / _PT_PER_MM, height_pt / _PT_PER_MM


def first_page_mm(pdf: bytes) -> tuple[float, float]:
    """Page one's width and height in mm, as :func:`first_page_png` measures them."""
    with _first_page(pdf) as page:
        width_pt, height_pt = page.get_size()
    return width_pt / _PT_PER_MM, height_pt / _PT_PER_MM


@contextlib.contextmanager
def _first_page(pdf: bytes) -> Iterator[Any]:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise BadRequest(f"เปิดไฟล์ PDF ไม่ได้ / cannot open the PDF: {exc}") from exc
    try:
        if len(document) == 0:
            raise BadRequest("ไฟล์ PDF ไม่มีหน้า / the PDF has no page")
        page = document[0]
        if min(page.get_size()) < 1:
            raise BadRequest("หน้าแรกของ PDF ไม่มีขนาด / page one has no size")
        yield page
    finally:
        document.close()
