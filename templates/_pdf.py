"""PDF output of a :class:`~templates._layout.Layout`: HTML and CSS rendered by WeasyPrint.

WeasyPrint 70 is extended by :mod:`templates._weasyprint_thai` so that the text layer
extracts as the exact Thai, lines break only between words and justified Thai lines are
spread evenly. Resources are fetched only from an allow-list of local files (the
templates' assets, the bundled font, the configured emblem); anything else fails the
render instead of being fetched.
"""

from __future__ import annotations

import functools
import html
import io
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from saraban.fonts import SARABUN_DIR
from saraban.templates import _layout as L
from saraban.templates import _weasyprint_thai
from saraban.templates._layout import Block, Layout, Run
from saraban.thai import to_thai_digits

ASSETS = Path(__file__).parent / "assets"
CSS_FILE = Path(__file__).parent / "letter.css"

logger = logging.getLogger("saraban.templates")


class _LocalOnlyFetcher(URLFetcher):
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


def css_string(text: str) -> str:
    """A CSS string literal (for ``content:``), safe for any text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def _style(block: Block) -> str:
    rules = [f"font-size:{block.size}pt", f"margin-top:{block.space_before_pt}pt"]
    if block.tab_runs:  # a flex row: each part has its own box, no text-indent
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


def _text(text: str) -> str:
    return html.escape(_weasyprint_thai.thai_line_break_hints(text), quote=False)


def _runs_html(runs: list[Run]) -> str:
    out = []
    for run in runs:
        style = []
        if run.bold:
            style.append("font-weight:bold")
        if run.size:
            style.append(f"font-size:{run.size}pt")
        if run.color:
            style.append(f"color:#{run.color}")
        text = _text(run.text)
        out.append(f'<span style="{";".join(style)}">{text}</span>' if style else text)
    return "".join(out)


def _block_html(block: Block, emblem_url: str) -> str:
    inner = []
    if block.emblem:
        inner.append(
            f'<img class="emblem-small" src="{html.escape(emblem_url)}" '
            f'style="height:{L.EMBLEM_CM["memo"]}cm" alt="">'
        )
    if block.label and block.hang_cm:
        label = _runs_html(block.label)
        inner.append(f'<span class="label" style="width:{block.hang_cm}cm">{label}</span>')
    elif block.label:  # no hanging indent: the label is just the start of the line
        inner.append(_runs_html(block.label))
    body = _runs_html(block.runs)
    if block.tab_runs:
        assert block.tab_cm is not None  # the builders set the tab stop with the runs
        start = block.indent_cm + min(block.first_line_cm, 0)
        # The text before the tab may not run into the tab stop; it wraps instead.
        limit = block.tab_cm - start - (block.hang_cm if block.label else 0)
        inner.append(f'<span class="before-tab" style="width:{limit}cm">{body}</span>')
        inner.append(f'<span class="tabbed">{_runs_html(block.tab_runs)}</span>')
        cls = f"{block.role} tabs"
    else:
        inner.append(body)
        cls = block.role
    if block.role == "signature_space":
        inner = ["&#160;"]
        cls += " space"
    return f'<p class="{cls}" style="{_style(block)}">{"".join(inner)}</p>'


def _page_css(layout: Layout) -> str:
    """Page rules of the letter: the first page's margin and slogan."""
    rules = [_FIRST_PAGE_MARGIN]
    if layout.first_page_footer:
        footer = css_string(_weasyprint_thai.thai_line_break_hints(layout.first_page_footer))
        rules.append(f"@page :first {{ @bottom-center {{ content: {footer}; }} }}")
    return "\n".join(rules)


_FIRST_PAGE_MARGIN = f"@page :first {{ margin-top: {L.MARGIN_TOP_FIRST_CM}cm; }}"


def _furniture_html(pages: list[tuple[str | None, str | None]]) -> str:
    """Blank pages carrying only each page's number and continuation marker.

    They are written out per page from the letter's pagination, rather than with CSS
    counters, so the numbers are Thai digits in every reader's text layer."""
    rules = [_FIRST_PAGE_MARGIN]
    for page, (number, marker) in enumerate(pages, start=1):
        boxes = f"@top-center {{ content: {css_string(number)}; }}" if number else ""
        if marker:
            boxes += f" @bottom-right-corner {{ content: {css_string(marker)}; }}"
        rules.append(f"@page :nth({page}) {{ {boxes} }}")
    breaks = '<div style="break-before:page"></div>' * (len(pages) - 1)
    return f"""<!DOCTYPE html><html lang="th"><head><meta charset="utf-8">
<style>{"".join(rules)}</style></head><body><div></div>{breaks}</body></html>"""


def _secrecy_html(layout: Layout) -> str:
    """Secrecy marks, centred at the top and bottom of every page (fixed boxes repeat)."""
    if not layout.secrecy:
        return ""
    mark = _text(layout.secrecy)
    return f'<div class="secrecy top">{mark}</div><div class="secrecy bottom">{mark}</div>'


def body_html(layout: Layout, emblem: Path) -> str:
    """The ``<body>`` of a layout: the same for both passes, so it is built once."""
    blocks = "\n".join(_block_html(b, emblem.as_uri()) for b in layout.blocks)
    head_emblem = (
        f'<img class="emblem" src="{html.escape(emblem.as_uri())}" '
        f'style="height:{layout.emblem_cm}cm" alt="">'
        if layout.emblem_cm
        else ""
    )
    return f"""<body class="{layout.kind}">{_secrecy_html(layout)}{head_emblem}
{blocks}
</body>"""


def layout_html(layout: Layout, body: str) -> str:
    """The whole HTML document of a layout."""
    return f"""<!DOCTYPE html>
<html lang="th"><head><meta charset="utf-8"><title>{html.escape(layout.title)}</title>
<style>{_page_css(layout)}</style></head>
{body}</html>"""


# An optional number ("๔. ", "๑ "), then the first word: the text up to the first space,
# zero width space or zero width non-joiner, which thai_line_break_hints put at every word
# boundary (the latter between the parts of a compound).
_FIRST_WORD = re.compile(r"\s*((?:[0-9๐-๙]+[.)]?\s*)?[^\s\u200b\u200c]+)")


def _first_words(page) -> str | None:
    """``/`` and the first word of a page's text (after an item number), for the marker
    at the foot of the page before: ``/๔. วิเคราะห์...``."""
    for box in page._page_box.children[0].descendants():
        match = _FIRST_WORD.match(getattr(box, "text", "") or "")
        if match:
            return f"/{_weasyprint_thai.strip_line_break_hints(match.group(1))}..."
    return None


@functools.cache
def thai_fonts() -> tuple[weasyprint.CSS, FontConfiguration]:
    """Sarabun's font faces and the configuration that holds them, loaded once per process
    (letters and forms share them)."""
    _weasyprint_thai.install()
    font_config = FontConfiguration()
    fonts = weasyprint.CSS(
        string=_weasyprint_thai.font_face_css(),
        url_fetcher=_LocalOnlyFetcher([SARABUN_DIR]),
        font_config=font_config,
    )
    return fonts, font_config


def html_to_pdf(html: str, *, css: str = "", base: Path | None = None) -> bytes:
    """Render an HTML page to PDF with Sarabun and Thai line breaking, fetching nothing but
    files under ``base`` (forms' twins, the registers' tables)."""
    fonts, font_config = thai_fonts()
    allowed = [base] if base is not None else []
    fetcher = _LocalOnlyFetcher(allowed)
    document = weasyprint.HTML(
        string=html, base_url=str(base) if base else None, url_fetcher=fetcher
    )
    stylesheets = [fonts]
    if css:
        stylesheets.append(weasyprint.CSS(string=css, url_fetcher=fetcher, font_config=font_config))
    return document.write_pdf(stylesheets=stylesheets, font_config=font_config)


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


def render_layout_pdf(
    layout: Layout,
    emblem: Path,
    *,
    attachments: list[tuple[str, bytes, str]] | None = None,
    pdf_variant: str | None = None,
) -> bytes:
    """Render to PDF bytes. ``attachments``: (name, content, description) embedded files."""
    stylesheets, font_config = _stylesheets()
    fetcher = _LocalOnlyFetcher([ASSETS, SARABUN_DIR, emblem])

    def render(html: str) -> weasyprint.Document:
        return weasyprint.HTML(string=html, base_url=str(ASSETS), url_fetcher=fetcher).render(
            stylesheets=stylesheets, font_config=font_config
        )

    document = render(layout_html(layout, body_html(layout, emblem)))
    count = len(document.pages)
    if count > 1:
        # Pages 2+ carry "- ๒ -"; every page but the last ends with "/" and the first words
        # of the next page, known only once the text is laid out. Laying the letter out a
        # second time with them cost as much again; instead, blank pages carrying just these
        # margin boxes are laid out (a few ms) and their boxes grafted onto the letter's.
        furniture = render(
            _furniture_html(
                [
                    (
                        f"- {to_thai_digits(str(n))} -" if n > 1 else None,
                        _first_words(document.pages[n]) if n < count else None,
                    )
                    for n in range(1, count + 1)
                ]
            )
        )
        for page, extra in zip(document.pages, furniture.pages, strict=True):
            margin_boxes = [b for b in extra._page_box.children if isinstance(b, boxes.MarginBox)]
            page._page_box.children = (*page._page_box.children, *margin_boxes)
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
