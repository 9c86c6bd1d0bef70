"""The receipt stamp (ตรารับหนังสือ) drawn onto a copy of a received letter's first page.

The stamp is the box a saraban clerk stamps on paper: the office's name, then เลขรับ,
วันที่ and เวลา, in Thai digits. It is set by WeasyPrint (Sarabun, the text escaped like
every other text this package prints) on a transparent page the size of the letter's
first page, and laid over a copy of that page with pikepdf: the copy is a new one-page
PDF, the received file itself is only read. Any order (สั่งการ, เกษียน) is printed in a
box under it.

>>> stamped = stamp_first_page(pdf, StampText("สำนักงานจังหวัดหนองคาย", "๑๒/๒๕๖๙", ...))
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field

from saraban.errors import BadRequest

__all__ = ["STAMP_HEIGHT_MM", "STAMP_WIDTH_MM", "StampText", "stamp_first_page"]

STAMP_WIDTH_MM = 62.0
STAMP_HEIGHT_MM = 30.0
MARGIN_MM = 8.0
_PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class StampText:
    """What the stamp says; every value is plain text (escaped when set)."""

    office: str
    number: str  # เลขรับ, e.g. "๑๒/๒๕๖๙"
    date: str  # "๔ ธ.ค. ๖๙"
    time: str  # "๑๐.๓๐ น."
    orders: list[str] = field(default_factory=list)  # เกษียน lines, under the stamp


def _html(text: StampText, left_mm: float, top_mm: float, width_mm: float) -> str:
    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    rows = "".join(
        f"<tr><th>{label}</th><td>{esc(value)}</td></tr>"
        for label, value in (("เลขรับที่", text.number), ("วันที่", text.date), ("เวลา", text.time))
    )
    orders = "".join(f"<p>{esc(line)}</p>" for line in text.orders if line.strip())
    order_box = f'<div class="orders">{orders}</div>' if orders else ""
    return (
        f'<div class="stamp" style="left:{left_mm:.2f}mm;top:{top_mm:.2f}mm;'
        f'width:{width_mm:.2f}mm"><div class="office">{esc(text.office)}</div>'
        f"<table>{rows}</table></div>"
        f'<div class="orders-at" style="left:{left_mm:.2f}mm;'
        f'top:{top_mm + STAMP_HEIGHT_MM + 2:.2f}mm;width:{width_mm:.2f}mm">{order_box}</div>'
    )


_CSS = """
@page { margin: 0; background: transparent; }
html, body { margin: 0; background: transparent; }
.stamp, .orders-at { position: absolute; font-family: Sarabun; color: #1a3aa0; }
.stamp { border: 0.5mm solid #1a3aa0; padding: 1mm 2mm; font-size: 11pt; line-height: 1.15;
 }
.office { text-align: center; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: normal; width: 35%; }
td { border-bottom: 0.3mm dotted #1a3aa0; }
.orders { border: 0.3mm solid #1a3aa0; padding: 1mm 2mm; font-size: 10pt; }
.orders p { margin: 0; }
"""


def stamp_first_page(
    pdf: bytes,
    text: StampText,
    *,
    left_mm: float | None = None,
    top_mm: float | None = None,
) -> bytes:
    """A one-page PDF: page one of ``pdf`` with the stamp laid over it. The stamp sits at
    ``left_mm``/``top_mm`` from the page's top left corner; by default top right, inside
    an 8 mm margin. A position off the page is moved back onto it."""
    import pikepdf

    from saraban.templates._pdf import html_to_pdf

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
        width_mm, height_mm = width_pt / _PT_PER_MM, height_pt / _PT_PER_MM
        stamp_width = min(STAMP_WIDTH_MM, width_mm - 2 * MARGIN_MM)
        left = width_mm - MARGIN_MM - stamp_width if left_mm is None else float(left_mm)
        top = MARGIN_MM if top_mm is None else float(top_mm)
        left = min(max(left, 0.0), max(width_mm - stamp_width, 0.0))
        top = min(max(top, 0.0), max(height_mm - STAMP_HEIGHT_MM, 0.0))
        overlay_pdf = html_to_pdf(
            f"<html><body>{_html(text, left, top, stamp_width)}</body></html>",
            css=_CSS + f"@page {{ size: {width_mm:.3f}mm {height_mm:.3f}mm; }}",
        )
        out = pikepdf.new()
        out.pages.append(first)
        with pikepdf.open(io.BytesIO(overlay_pdf)) as overlay:
            page = out.pages[0]
            page.add_overlay(overlay.pages[0], pikepdf.Rectangle(*[float(v) for v in box]))
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
