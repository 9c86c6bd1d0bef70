"""PDF output of a :class:`~templates._layout.Layout`: HTML and CSS rendered by WeasyPrint.

WeasyPrint 70 is extended by :mod:`templates._weasyprint_thai` so that the text layer
extracts as the exact Thai, lines break only between words and justified Thai lines are
spread evenly. Resources are fetched only from an allow-list of local files (the
templates' assets, the bundled font, the configured emblem); anything else fails the
render instead of being fetched.

Text is text: every string of the letter reaches the HTML through :func:`_text` or
:func:`_attribute` (escaped for element content and for quoted attribute values), and none
ever reaches a stylesheet. The only ``<style>`` is built from numbers (page margins). Page
furniture (secrecy marks, page numbers, continuation markers, the first page's slogan) is
made of escaped elements placed in the page's margin boxes as running elements, each in a
band of its own inside the printable area, at least ``EDGE_CM`` from every edge::

    top of every page       1 cm edge | secrecy mark | page number (pages 2+) | text
    bottom of every page    text | continuation marker | slogan (page one) | secrecy mark
                            | 1 cm edge
"""

from __future__ import annotations

import functools
import gc
import html
import io
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from saraban.digits import printed_digits
from saraban.errors import InvalidLetter, Problem
from saraban.fonts import SARABUN_DIR
from saraban.templates import _layout as L
from saraban.templates import _weasyprint_thai, render_errors
from saraban.templates._layout import Block, Layout, Run

ASSETS = Path(__file__).parent / "assets"
CSS_FILE = Path(__file__).parent / "letter.css"


class _LocalOnlyFetcher(weasyprint.URLFetcher):
    """Fetch ``file:`` URLs inside the allowed folders or files; refuse everything else."""

    def __init__(self, allowed: list[Path]) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self._allowed = [p.resolve() for p in allowed]

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise FatalURLFetchingError(f"refused to fetch {url!r}: only local files")
        path = Path(unquote(parts.path)).resolve()
        if not any(path == a or a in path.parents for a in self._allowed):
            raise FatalURLFetchingError(f"refused to fetch {url!r}: outside the templates")
        return super().fetch(url, headers)


# --------------------------------------------------------------------------------------
# Escaping
# --------------------------------------------------------------------------------------


def _text(text: str) -> str:
    """Element content: the text with its line-break hints, escaped."""
    return html.escape(_weasyprint_thai.thai_line_break_hints(text))


def _attribute(value: str) -> str:
    """A double-quoted attribute value."""
    return html.escape(value, quote=True)


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------


def _row_of_boxes(block: Block) -> bool:
    """Whether the block is a row of boxes: a label in a hanging indent, text at a tab.

    The text then has a box of its own, whose lines all start at its left edge: a word
    wider than the line breaks there like anywhere else (after an inline label it did not,
    and ran off the page)."""
    return bool(block.tab_runs or (block.label and block.hang_cm))


def _style(block: Block) -> str:
    rules = [f"font-size:{block.size}pt", f"margin-top:{block.space_before_pt}pt"]
    if _row_of_boxes(block):  # each part has its own box, no text-indent
        start = block.indent_cm + min(block.first_line_cm, 0)
        if start:
            rules.append(f"padding-left:{start}cm")
    else:
        if block.indent_cm:
            rules.append(f"padding-left:{block.indent_cm}cm")
        if block.first_line_cm:
            rules.append(f"text-indent:{block.first_line_cm}cm")
    if block.align != "left":
        rules.append(f"text-align:{block.align}")
    if block.bold:
        rules.append("font-weight:bold")
    if block.color:
        rules.append(f"color:#{block.color}")
    if block.keep_with_next:
        rules.append("break-after:avoid")
    return ";".join(rules)


def _run_style(run: Run) -> str:
    style = []
    if run.bold:
        style.append("font-weight:bold")
    if run.size:
        style.append(f"font-size:{run.size}pt")
    if run.color:
        style.append(f"color:#{run.color}")
    return ";".join(style)


def _runs_html(runs: list[Run], text: Callable[[str], str] = _text) -> str:
    out = []
    for run in runs:
        style = _run_style(run)
        out.append(f'<span style="{style}">{text(run.text)}</span>' if style else text(run.text))
    return "".join(out)


# A number (house, moo, postcode, ที่ ๑๒๓/๔): it stays on the line of the part before it.
_NUMBER_PART = re.compile(r"[0-9๐-๙][0-9๐-๙/.,-]*")


# Lines written in parts (the sender's address, the memo's unit and phone, the contact lines).
_ADDRESS_ROLES = frozenset({"sender_address", "memo_unit", "contact"})


def _address_text(text: str) -> str:
    """An address line that breaks only between its own parts (the words between spaces),
    never inside one, and never before a number: ``ลป ๕๒๐๐๐`` stays together. A part wider
    than the line still breaks (the Thai extension's fallback), so nothing overflows."""
    parts = [p for p in re.split(r"(\s+)", text) if p]
    out: list[str] = []
    for index, part in enumerate(parts):
        hinted = _weasyprint_thai.thai_line_break_hints(part)
        if part.isspace():
            following = parts[index + 1] if index + 1 < len(parts) else ""
            if out and _NUMBER_PART.fullmatch(following):
                hinted += "\u2060"  # word joiner: no break after this space
        else:
            hinted = hinted.replace("\u200b", "")
        out.append(hinted)
    return html.escape("".join(out))


def _stamp_text(text: str) -> str:
    """The memo's urgency stamp: ``ด่วนที่สุด`` and ``ด่วนมาก`` are one word to the breaker,
    but beside the Garuda the stamp may wrap after ``ด่วน`` (a break hint, not printed)."""
    hinted = _text(text)
    return hinted.replace("ด่วน", "ด่วน\u200b", 1) if len(text.strip()) > 4 else hinted


def _memo_head_html(block: Block, emblem_url: str) -> str:
    """The memo's title line: the Garuda at the left, the urgency stamp beside it, the title
    centred on the text block (the two sides of the title are equally wide)."""
    stamp = _runs_html(block.beside_emblem, _stamp_text)
    left = (
        f'<img class="emblem-small" src="{_attribute(emblem_url)}" '
        f'style="height:{L.EMBLEM_CM["memo"]}cm" alt="">'
        + (f'<span class="stamp">{stamp}</span>' if stamp else "")
    )
    return (
        f'<div class="{_attribute(block.role)} memo-head" style="{_style(block)}">'
        f'<div class="side">{left}</div><p class="title">{_runs_html(block.runs)}</p>'
        f'<div class="side"></div></div>'
    )


def _block_html(block: Block, emblem_url: str) -> str:
    if block.emblem:
        return _memo_head_html(block, emblem_url)
    body = _runs_html(block.runs, _address_text if block.role in _ADDRESS_ROLES else _text)
    cls = block.role
    if block.role == "signature_space":
        body, cls = "&#160;", f"{cls} space"
    elif not _row_of_boxes(block):
        # no hanging indent: a label is just the start of the line
        body = _runs_html(block.label) + body if block.label else body
    else:
        body, cls = _row_of_boxes_html(block, body)
    return f'<p class="{_attribute(cls)}" style="{_style(block)}">{body}</p>'


def _row_of_boxes_html(block: Block, body: str) -> tuple[str, str]:
    """The inside of a row of boxes, and its classes. A label with text at a tab is a flex
    item; a label alone is a block of no height (the text beside it starts on the same
    line) in the hanging indent: WeasyPrint lays out a flex row several times (a seed
    letter's subject cost 4 ms as one), and a float or a positioned box would be painted
    out of the text's order, which the text layer keeps."""
    hang = block.hang_cm if block.label else 0.0
    label = (
        f'<span class="label" style="width:{hang}cm">{_runs_html(block.label)}</span>'
        if hang
        else ""
    )
    if not block.tab_runs:
        hung = f'<span class="hung" style="margin-left:{hang}cm">{body}</span>'
        return label + hung, f"{block.role} hanging"
    assert block.tab_cm is not None  # the builders set the tab stop with the runs
    start = block.indent_cm + min(block.first_line_cm, 0)
    # The text before the tab may not run into the tab stop; it wraps instead.
    limit = block.tab_cm - start - hang
    before = f'<span class="before-tab" style="width:{limit}cm">{body}</span>'
    return f'{label}{before}<span class="tabbed">{_runs_html(block.tab_runs)}</span>', (
        f"{block.role} tabs"
    )


# --------------------------------------------------------------------------------------
# Page furniture
# --------------------------------------------------------------------------------------


def _line_cm(points: float) -> float:
    return points * L.FURNITURE_LINE / 72 * 2.54


@functools.cache
def _advances() -> dict[int, float]:
    """Advance widths of Sarabun's characters, in ems (the slogan band is sized with them)."""
    from fontTools.ttLib import TTFont

    with TTFont(SARABUN_DIR / "Sarabun-Regular.ttf", lazy=True) as font:
        metrics, units = font["hmtx"].metrics, font["head"].unitsPerEm
        return {code: metrics[glyph][0] / units for code, glyph in font.getBestCmap().items()}


def _width_cm(text: str, points: float) -> float:
    advances = _advances()
    text = _weasyprint_thai.strip_line_break_hints(text)
    return sum(advances.get(ord(c), 1.0) for c in text) * points / 72 * 2.54


# Where keep-all text may break: after a breaking space, or at a zero width space.
_BREAK_AFTER = re.compile(r"(?<=[ \t\n\u200b])(?!\u2060)")


def _slogan_lines(text: str, points: float) -> int:
    """How many lines the centred slogan takes at ``points``: its words laid out greedily,
    as the line breaker does, on a line 3 % short. A word wider than a line breaks where
    Pango finds a place, which may leave a short line: one more line is counted for it."""
    line = L.TEXT_WIDTH_CM * 0.97
    lines, used = 1, 0.0
    for word in _BREAK_AFTER.split(_weasyprint_thai.thai_line_break_hints(text)):
        width = _width_cm(word.rstrip(), points)
        if used and used + width > line:
            lines, used = lines + 1, 0.0
        if width > line:
            lines += math.ceil(width / line)
            used = line
        else:
            used += _width_cm(word, points)
    return lines


_SLOGAN_MAX_LINES = 8


def _slogan_size(text: str) -> tuple[float, int]:
    """Font size and lines of the slogan: 14 pt on one line, or a little smaller (to 12 pt)
    to keep it on one line, else smaller (to 10 pt) to fit in two lines, else more lines; a
    slogan that would take more than eight lines at 10 pt is refused."""
    for wanted, smallest in ((1, L.SLOGAN_PT - 2), (2, L.SLOGAN_MIN_PT)):
        points = L.SLOGAN_PT
        while (lines := _slogan_lines(text, points)) > wanted and points > smallest:
            points -= 1
        if lines <= wanted:
            return points, lines
    if lines > _SLOGAN_MAX_LINES:
        raise InvalidLetter(
            [
                Problem(
                    "footer",
                    "footer_too_long",
                    f"the slogan ({len(text)} characters) does not fit in the foot of page one:"
                    f" it would take {lines} lines at {L.SLOGAN_MIN_PT:g} pt; at most"
                    f" {_SLOGAN_MAX_LINES} fit",
                    f"คำขวัญท้ายหน้าแรก ({len(text)} ตัวอักษร) ยาวเกินกว่าจะพิมพ์ที่ท้ายหน้าแรกได้"
                    f" (ต้องใช้ {lines} บรรทัด พิมพ์ได้ไม่เกิน {_SLOGAN_MAX_LINES} บรรทัด)",
                )
            ]
        )
    return points, lines


class _Furniture:
    """The bands of a letter's page furniture: their sizes, the page margins they need, and
    the escaped elements that fill them."""

    def __init__(self, layout: Layout) -> None:
        self.secrecy = layout.secrecy
        self.slogan = layout.first_page_footer
        self.digits = layout.digits
        slogan_lines = 0
        self.slogan_pt = 0.0
        if self.slogan:
            self.slogan_pt, slogan_lines = _slogan_size(self.slogan)
        self.slogan_cm = slogan_lines * _line_cm(self.slogan_pt)
        gap = L.BAND_GAP_CM
        secrecy = _line_cm(L.SECRECY_PT) + gap if self.secrecy else 0.0
        head = L.EDGE_CM + secrecy
        self.top_first_cm = max(L.MARGIN_TOP_FIRST_CM, head)
        self.top_cm = max(L.MARGIN_TOP_CM, head + _line_cm(L.BODY_PT) + 2 * gap)
        foot = gap + _line_cm(L.BODY_PT) + secrecy + L.EDGE_CM
        self.bottom_cm = max(L.MARGIN_BOTTOM_CM, foot)
        self.bottom_first_cm = max(
            L.MARGIN_BOTTOM_CM, foot + (self.slogan_cm + gap if self.slogan else 0.0)
        )

    def page_css(self) -> str:
        """The ``@page`` rules: numbers only, never text of the letter."""
        box = f"width:{L.TEXT_WIDTH_CM}cm"
        return (
            f"@page {{ margin:{self.top_cm:.3f}cm {L.MARGIN_RIGHT_CM}cm {self.bottom_cm:.3f}cm "
            f"{L.MARGIN_LEFT_CM}cm; @top-center {{ {box}; padding-top:{L.EDGE_CM}cm }} "
            f"@bottom-center {{ {box} }} }}\n"
            f"@page :first {{ margin-top:{self.top_first_cm:.3f}cm; "
            f"margin-bottom:{self.bottom_first_cm:.3f}cm }}"
        )

    def elements(self, page: int, marker: str | None) -> str:
        """The running elements of one page: its head and its foot."""
        secrecy = f'<div class="secrecy">{_text(self.secrecy)}</div>' if self.secrecy else ""
        number = f"- {printed_digits(str(page), self.digits)} -" if page > 1 else ""
        head = secrecy + (f'<div class="page-number">{_text(number)}</div>' if number else "")
        slogan = ""
        if self.slogan and page == 1:
            slogan = (
                f'<div class="slogan" style="font-size:{self.slogan_pt}pt;'
                f'min-height:{self.slogan_cm:.3f}cm">{_text(self.slogan)}</div>'
            )
        if not (head or marker or slogan or secrecy):
            return ""  # no margin boxes at all: a plain one-page letter is laid out faster
        marker_html = _text(marker) if marker else ""
        return (
            f'<div class="head">{head}</div><div class="foot">'
            f'<div class="marker">{marker_html}</div>{slogan}{secrecy}</div>'
        )


# An optional number ("๔. ", "๑ "), then the first word: the text up to the first space, or
# the first zero width space or non-joiner after a Thai character (thai_line_break_hints put
# them at every Thai word boundary, the latter between the parts of a compound; after a
# slash in Latin text they only let a long URL wrap, inside one word).
_FIRST_WORD = re.compile(
    r"\s*((?:[0-9๐-๙]+[.)]?\s*)?(?:[^\s\u200b\u200c]|(?<![\u0e00-\u0e7f\s])[\u200b\u200c])+)"
)


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, never ending inside a grapheme."""
    end = min(limit, len(text))
    while end < len(text) and unicodedata.category(text[end]) in ("Mn", "Mc", "Me"):
        end += 1
    return text[:end]


def _marker(page) -> str | None:
    """``/`` and the first word of a page's text (after an item number), for the foot of
    the page before: ``/๔. วิเคราะห์...``; a very long word is cut short."""
    for text in _weasyprint_thai.page_texts(page):
        match = _FIRST_WORD.match(text)
        if match:
            word = _weasyprint_thai.strip_line_break_hints(match.group(1))
            return f"/{_clip(word, L.MARKER_CHARS)}..."
    return None


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------


def _document_html(layout: Layout, furniture: _Furniture, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="th"><head><meta charset="utf-8"><title>{_attribute(layout.title)}</title>
<style>{furniture.page_css()}</style></head>
<body class="{_attribute(layout.kind)}">{body}</body></html>"""


def _letter_html(layout: Layout, furniture: _Furniture, emblem: Path) -> str:
    """The letter; its running elements are page one's (all a one-page letter needs)."""
    blocks = "\n".join(_block_html(b, emblem.as_uri()) for b in layout.blocks)
    head_emblem = (
        f'<img class="emblem" src="{_attribute(emblem.as_uri())}" '
        f'style="height:{layout.emblem_cm}cm" alt="">'
        if layout.emblem_cm
        else ""
    )
    return _document_html(layout, furniture, furniture.elements(1, None) + head_emblem + blocks)


_NEW_PAGE = ' style="break-before:page"'


def _furniture_html(layout: Layout, furniture: _Furniture, markers: list[str | None]) -> str:
    """Blank pages, as many as the letter has, carrying only each page's furniture."""
    pages = "".join(
        f'<div class="page"{_NEW_PAGE if page > 1 else ""}>{furniture.elements(page, marker)}</div>'
        for page, marker in enumerate(markers, start=1)
    )
    return _document_html(layout, furniture, pages)


_pause_lock = threading.Lock()
_pauses = 0
_collector_was_enabled = True
_collected_at = 0.0  # when the paused collector last ran (time.monotonic)
# Renders that overlap without end (a busy server issuing letters) would keep the collector
# paused for good, and their garbage with it: it runs at least this often all the same.
COLLECT_EVERY_S = 10.0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while WeasyPrint lays out and draws.

    A render makes hundreds of thousands of objects (styles, boxes, lines) that live until
    it ends; the collector, run every 700 allocations, walked them again and again: a
    quarter of a 58-page table's time. The garbage they leave is collected after, once.
    Threads may render at once: the last one out restores the collector as the first one
    in found it, and while renders overlap, one ending runs it every
    :data:`COLLECT_EVERY_S` seconds."""
    global _pauses, _collector_was_enabled, _collected_at
    with _pause_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            _collected_at = time.monotonic()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            ours = _collector_was_enabled  # not ours to run when someone else turned it off
            overdue = ours and _pauses > 0 and time.monotonic() - _collected_at >= COLLECT_EVERY_S
            if ours and _pauses == 0:
                gc.enable()
            if overdue:
                _collected_at = time.monotonic()
        if overdue:
            gc.collect()


@functools.cache
def thai_fonts() -> tuple[weasyprint.CSS, FontConfiguration]:
    """Sarabun's font faces and the configuration that holds them, loaded once per process
    (letters and forms share them)."""
    _weasyprint_thai.install()
    font_config = _weasyprint_thai.font_configuration()
    fonts = weasyprint.CSS(
        string=_weasyprint_thai.font_face_css(),
        url_fetcher=_LocalOnlyFetcher([SARABUN_DIR]),
        font_config=font_config,
    )
    return fonts, font_config


def html_to_pdf(html: str, *, css: str = "", base: Path | None = None) -> bytes:
    """Render an HTML page to PDF with Sarabun and Thai line breaking, fetching nothing but
    files under ``base`` (forms' twins, the registers' tables). Any failure inside
    WeasyPrint is a :class:`~saraban.templates.RenderError`."""
    with collector_paused():
        document = laid_out(html, css=css, base=base)
        with render_errors("the document"):
            return document.write_pdf()


def laid_out(html: str, *, css: str = "", base: Path | None = None) -> weasyprint.Document:
    """The HTML page laid out as :func:`html_to_pdf` would print it, for callers that
    measure boxes before printing (the receipt stamp's orders block)."""
    with render_errors("the document"):
        fonts, font_config = thai_fonts()
        allowed = [base] if base is not None else []
        fetcher = _LocalOnlyFetcher(allowed)
        document = weasyprint.HTML(
            string=html, base_url=str(base) if base else None, url_fetcher=fetcher
        )
        stylesheets = [fonts]
        if css:
            stylesheets.append(
                weasyprint.CSS(string=css, url_fetcher=fetcher, font_config=font_config)
            )
        return document.render(stylesheets=stylesheets, font_config=font_config)


@functools.cache
def _stylesheets() -> tuple[list[weasyprint.CSS], FontConfiguration]:
    """The letter stylesheet with its fonts, parsed once per process."""
    fonts, font_config = thai_fonts()
    letter = weasyprint.CSS(
        string=CSS_FILE.read_text("utf-8"),
        base_url=str(ASSETS),
        url_fetcher=_LocalOnlyFetcher([ASSETS]),
        font_config=font_config,
    )
    return [fonts, letter], font_config


@functools.lru_cache(maxsize=8)
def _image_cache(emblem: Path, mtime_ns: int) -> dict[str, Any]:
    """WeasyPrint's cache of decoded images, kept across letters for one emblem file as it
    is now (a changed file gets a new cache): the emblem is decoded once, and its encoded
    streams kept (``_weasyprint_thai.reuse_image_streams``), not made for every letter."""
    return {}


def render_layout_pdf(
    layout: Layout,
    emblem: Path,
    *,
    attachments: list[tuple[str, bytes, str]] | None = None,
    pdf_variant: str | None = None,
) -> bytes:
    """Render to PDF bytes. ``attachments``: (name, content, description) embedded files."""
    furniture = _Furniture(layout)
    stylesheets, font_config = _stylesheets()
    fetcher = _LocalOnlyFetcher([ASSETS, SARABUN_DIR, emblem])
    images = _image_cache(emblem, emblem.stat().st_mtime_ns)

    def render(html: str) -> weasyprint.Document:
        return weasyprint.HTML(string=html, base_url=str(ASSETS), url_fetcher=fetcher).render(
            stylesheets=stylesheets, font_config=font_config, cache=images
        )

    with collector_paused():
        document = render(_letter_html(layout, furniture, emblem))
        pages = document.pages
        if len(pages) > 1:
            # Pages 2+ carry "- ๒ -"; every page but the last ends with "/" and the first words
            # of the next page, known only once the text is laid out. Laying the letter out a
            # second time with them cost as much again; instead, blank pages carrying just the
            # furniture are laid out (a few ms) and their margin boxes replace the letter's.
            markers = [_marker(page) for page in pages[1:]] + [None]
            blank = render(_furniture_html(layout, furniture, markers))
            for page, furniture_page in zip(pages, blank.pages, strict=True):
                _weasyprint_thai.replace_margin_boxes(page, furniture_page)
        options: dict[str, Any] = {"pdf_variant": pdf_variant} if pdf_variant else {}
        if attachments:
            options["attachments"] = [
                weasyprint.Attachment(
                    file_obj=io.BytesIO(content),
                    name=name,
                    description=description,
                    relationship="Data",
                    url_fetcher=fetcher,
                )
                for name, content, description in attachments
            ]
        return document.write_pdf(**options)
