"""The look of a form, described once and written out twice: a .docx template and its HTML twin.

A :class:`Design` is a list of elements (:class:`Para`, :class:`Grid`, :class:`Box`,
:class:`PageBreak`). :func:`build_docx_template` writes it as a docxtpl template with
python-docx (``scripts/make_forms.py`` commits the result as ``templates/forms/docx/*.docx``
so it can be opened, reviewed and rebuilt); :func:`build_html_template` writes the same
elements as a Jinja HTML template that WeasyPrint turns into the PDF. Both are filled with
the same context and the same ``fill`` filter, so the two outputs cannot drift apart.

A fill-in (:class:`Fill`) prints its value, or a dotted line (``.....``) when the value is
missing: a blank form keeps its dotted lines and a filled one replaces them.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.shared import Cm, Pt
from pythainlp.util import thai_strftime

from saraban.templates._docx import _font_slots, _set_defaults
from saraban.templates._layout import BODY_PT, PAGE_HEIGHT_CM, PAGE_WIDTH_CM
from saraban.thai import be_year, thai_date, to_thai_digits

TABLE_PT = 14.0  # table text: the wide report tables do not fit at 16 pt
HEADER_PT = 13.0  # column headings: long Thai words in narrow columns
DOT = "."


@dataclass(frozen=True)
class Page:
    """Page set-up, in centimetres. Portrait keeps the letters' margins (3 cm left, 2 cm
    right); the landscape tables gain width with 2 cm left and 1.5 cm right."""

    landscape: bool = False

    @property
    def width(self) -> float:
        return PAGE_HEIGHT_CM if self.landscape else PAGE_WIDTH_CM

    @property
    def height(self) -> float:
        return PAGE_WIDTH_CM if self.landscape else PAGE_HEIGHT_CM

    @property
    def margins(self) -> tuple[float, float, float, float]:  # top, right, bottom, left
        return (2.0, 1.5, 1.5, 2.0) if self.landscape else (2.5, 2.0, 2.0, 3.0)

    @property
    def text_width(self) -> float:
        _, right, _, left = self.margins
        return self.width - left - right


@dataclass(frozen=True)
class Fill:
    """A fill-in: ``path`` is the value (``district``, ``member.name``); ``dots`` the
    length of the dotted line printed when it is empty; ``before``/``after`` are printed
    around a value only (``จำนวน.....กิจกรรม`` but ``จำนวน ๕ กิจกรรม``); ``fmt`` is one of
    :data:`FORMATS`.

    ``prefix`` is the printed word the value follows (``ตำบล``, ``บ้าน``, ``ศูนย์``), printed
    before the dots too; a value typed with that word already (``บ้านหาดคำ``), or with one
    of its ``aliases`` (``ต.จุมพล``), is printed once: ``บ้านหาดคำ``, ``ตำบลจุมพล``."""

    path: str
    dots: int = 0
    fmt: str = ""
    before: str = ""
    after: str = ""
    bold: bool = False
    prefix: str = ""
    aliases: tuple[str, ...] = ()

    def expression(self) -> str:
        args = [self.dots, self.fmt, self.before, self.after]
        if self.prefix:
            args += [self.prefix, list(self.aliases)]
        return f"{{{{ {self.path}|fill({', '.join(repr(a) for a in args)}) }}}}"


@dataclass(frozen=True)
class Strong:
    """Literal text in bold inside an otherwise plain paragraph or cell."""

    text: str


Inline = str | Fill | Strong


@dataclass(frozen=True)
class Para:
    parts: tuple[Inline, ...]
    align: str = "left"  # left | center | justify
    bold: bool = False
    size: float = BODY_PT
    indent_cm: float = 0.0
    hang_cm: float = 0.0  # wrapped lines start this far right of the first
    space_before_pt: float = 0.0
    keep_with_next: bool = False


@dataclass(frozen=True)
class Col:
    """A table column: ``header`` text, cell ``parts``, relative ``width``; ``group`` is a
    header spanning the neighbouring columns of the same group; ``merge``: in a grouped
    table the cell spans all inner rows of its outer row (the activity's name)."""

    header: str
    parts: tuple[Inline, ...]
    width: float
    align: str = "left"
    group: str = ""
    merge: bool = False


@dataclass(frozen=True)
class Grid:
    """A table repeated over ``rows`` (a list in the context) as ``var``. With ``inner``
    (``(list attribute, var)``) each outer row has inner rows (an activity's steps)."""

    rows: str
    var: str
    columns: tuple[Col, ...]
    borders: bool = True
    header: bool = True
    size: float = TABLE_PT
    inner: tuple[str, str] | None = None
    space_before_pt: float = 6.0


@dataclass(frozen=True)
class Box:
    """A framed area, at least ``height_cm`` tall: empty on a blank form, or holding the
    photos of the list ``photos`` names (the photographs of section ๙), each fitted into
    :data:`PHOTO_CM`, two a line."""

    height_cm: float
    space_before_pt: float = 6.0
    photos: str = ""


PHOTO_CM = (7.4, 5.55)  # width, height: two photos side by side in a portrait text block


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class Design:
    title: str
    elements: tuple[Para | Grid | Box | PageBreak, ...]
    page: Page = field(default_factory=Page)


# ---- values as printed ------------------------------------------------------------------

FORMATS = ("", "by_date", "day", "month", "year")


def display(value: object, fmt: str = "") -> str:
    """A value as the form prints it: text as typed; numbers in Thai digits; dates Thai."""
    if isinstance(value, dt.date):
        if fmt == "day":
            return to_thai_digits(str(value.day))
        if fmt == "month":
            return thai_strftime(dt.datetime(value.year, value.month, value.day), "%B")
        if fmt == "year":
            return to_thai_digits(str(be_year(value.year)))
        text = thai_date(value, "letter")
        return f"ภายในวันที่ {text}" if fmt == "by_date" else text
    if isinstance(value, int) and not isinstance(value, bool):
        if fmt == "month":
            return thai_strftime(dt.datetime(2000, value, 1), "%B")
        return to_thai_digits(str(value))
    return str(value)


def without_prefix(text: str, words: tuple[str, ...] | list[str]) -> str:
    """``text`` less a leading word the form prints before it anyway (the longest of
    ``words`` that starts it, and the spaces after it): ``บ้านหาดคำ`` → ``หาดคำ``."""
    for word in sorted(words, key=len, reverse=True):
        if word and text.startswith(word):
            return text[len(word) :].lstrip()
    return text


def make_fill(hints=None):
    """The ``fill`` filter; ``hints`` (HTML only) adds Thai line-break hints to values."""

    def fill(value, dots=0, fmt="", before="", after="", prefix="", aliases=()):
        if value is None or value == "":
            text = prefix + DOT * dots
        else:
            shown = display(value, fmt)
            if prefix:
                shown = without_prefix(shown, [prefix, *aliases])
            text = f"{prefix}{before}{shown}{after}" if shown else prefix
        return hints(text) if hints and text.strip(DOT) else text

    return fill


# ---- the .docx template -----------------------------------------------------------------

_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "justify": WD_ALIGN_PARAGRAPH.THAI_JUSTIFY,
}


def build_docx_template(design: Design) -> bytes:
    """The design as a docxtpl template (python-docx; every run sets the Thai font slots)."""
    document = Document()
    _set_defaults(document)
    section = document.sections[0]
    page = design.page
    if page.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(page.width), Cm(page.height)
    top, right, bottom, left = page.margins
    section.top_margin, section.right_margin = Cm(top), Cm(right)
    section.bottom_margin, section.left_margin = Cm(bottom), Cm(left)
    for element in design.elements:
        if isinstance(element, Para):
            _docx_para(document.add_paragraph(), element)
        elif isinstance(element, Grid):
            _docx_grid(document, element, page)
        elif isinstance(element, Box):
            _docx_box(document, element, page)
        else:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.core_properties.title = design.title
    document.core_properties.language = "th-TH"
    document.core_properties.author = "saraban"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _text_of(part: Inline) -> str:
    if isinstance(part, Fill):
        return part.expression()
    return part.text if isinstance(part, Strong) else part


def _is_bold(part: Inline) -> bool:
    return isinstance(part, Strong) or (isinstance(part, Fill) and part.bold)


def _docx_para(paragraph, para: Para, size: float | None = None) -> None:
    fmt = paragraph.paragraph_format
    paragraph.alignment = _ALIGN[para.align]
    if para.indent_cm or para.hang_cm:
        fmt.left_indent = Cm(para.indent_cm + para.hang_cm)
    if para.hang_cm:
        fmt.first_line_indent = Cm(-para.hang_cm)
    fmt.space_before = Pt(para.space_before_pt)
    fmt.space_after = Pt(0)
    if para.keep_with_next:
        fmt.keep_with_next = True
    for part in para.parts:
        run = paragraph.add_run(_text_of(part))
        _font_slots(run._r.get_or_add_rPr(), size or para.size, bold=para.bold or _is_bold(part))


def _cell_text(cell, text: str, size: float, *, bold: bool = False, align: str = "left"):
    _docx_para(cell.paragraphs[0], Para((text,), align=align, bold=bold), size)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))


def _widths(columns: tuple[Col, ...], page: Page) -> list[float]:
    total = sum(c.width for c in columns)
    return [page.text_width * c.width / total for c in columns]


def _docx_grid(document, grid: Grid, page: Page) -> None:
    if grid.space_before_pt:
        _spacer(document, grid.space_before_pt)
    columns = grid.columns
    grouped = any(c.group for c in columns)
    header_rows = (2 if grouped else 1) if grid.header else 0
    loop_rows = 5 if grid.inner else 3
    table = document.add_table(rows=header_rows + loop_rows, cols=len(columns))
    table.style = document.styles["Table Grid" if grid.borders else "Normal Table"]
    table.autofit = False
    widths = _widths(columns, page)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    for index, width in enumerate(widths):
        table.columns[index].width = Cm(width)

    if grid.header:
        top = table.rows[0]
        _repeat_header(top)
        if grouped:
            _repeat_header(table.rows[1])
        for start, end, group in _header_spans(columns):
            if group:
                for sub in range(start, end + 1):
                    cell = table.cell(1, sub)
                    _cell_text(cell, columns[sub].header, HEADER_PT, bold=True, align="center")
                    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                merged = table.cell(0, start)
                if end > start:
                    merged = merged.merge(table.cell(0, end))
                _cell_text(merged, group, HEADER_PT, bold=True, align="center")
                merged.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                continue
            cell = table.cell(0, start)
            if grouped:
                cell = cell.merge(table.cell(1, start))
            _cell_text(cell, columns[start].header, HEADER_PT, bold=True, align="center")
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER

    first = header_rows
    tags = [f"{{%tr for {grid.var} in {grid.rows} %}}"]
    closing = ["{%tr endfor %}"]
    if grid.inner:
        attribute, inner_var = grid.inner
        tags.append(f"{{%tr for {inner_var} in {grid.var}.{attribute} %}}")
        closing.append("{%tr endfor %}")
    for offset, tag in enumerate(tags):
        _cell_text(table.cell(first + offset, 0), tag, grid.size)
    data_row = first + len(tags)
    for index, col in enumerate(columns):
        cell = table.cell(data_row, index)
        parts = col.parts
        if col.merge:
            parts = ("{% vm %}", *parts)
        _docx_para(cell.paragraphs[0], Para(parts, align=col.align), grid.size)
    for offset, tag in enumerate(closing):
        _cell_text(table.cell(data_row + 1 + offset, 0), tag, grid.size)


def _spacer(document, height_pt: float) -> None:
    """An empty paragraph of exactly ``height_pt``: the gap above a table."""
    document.add_paragraph().paragraph_format.line_spacing = Pt(height_pt)


def _docx_box(document, box: Box, page: Page) -> None:
    _spacer(document, box.space_before_pt)
    table = document.add_table(rows=1, cols=1)
    table.style = document.styles["Table Grid"]
    row = table.rows[0]
    row.height = Cm(box.height_cm)
    row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    row.cells[0].width = Cm(page.text_width)
    content = f"{{{{ {box.photos}|photos }}}}" if box.photos else ""
    _cell_text(row.cells[0], content, BODY_PT, align="center")


def make_docx_photos(template):
    """The ``photos`` filter of a .docx render: each photo as an inline picture of the
    document ``template`` is rendering (docxtpl), a space between them."""
    from docxtpl import InlineImage
    from markupsafe import Markup

    def photos(items) -> Markup:
        pictures = []
        for photo in items or []:
            width, height = photo.printed_size(*PHOTO_CM)
            picture = InlineImage(template, io.BytesIO(photo.data), Cm(width), Cm(height))
            pictures.append(str(picture))
        return Markup(" ".join(pictures))

    return photos


def make_html_photos(files: dict[int, str]):
    """The ``photos`` filter of the HTML twin: each photo as an ``<img>`` of the file it was
    written to (``files``: the photo's ``id()`` to its ``file:`` URL)."""
    from markupsafe import Markup

    def photos(items) -> Markup:
        tags = []
        for photo in items or []:
            width, height = photo.printed_size(*PHOTO_CM)
            tags.append(
                Markup('<img class="photo" src="{}" alt="" style="width:{}cm;height:{}cm">').format(
                    files[id(photo)], width, height
                )
            )
        return Markup(" ").join(tags)

    return photos


# ---- the HTML twin ----------------------------------------------------------------------

_CSS = """
html { font-family: Sarabun; font-size: 16pt; line-height: 1.2; }
body { margin: 0; }
p { margin: 0; white-space: pre-line; word-break: keep-all; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { padding: 0 3pt; vertical-align: top; text-align: left; white-space: pre-line;
  word-break: keep-all; overflow-wrap: anywhere; font-weight: normal; }
table.grid th, table.grid td { border: 0.75pt solid #000; }
table.grid th { font-weight: bold; text-align: center; vertical-align: middle;
  font-size: 13pt; padding: 0 1pt; }
table.grid td { height: 1.2em; }
tr { break-inside: avoid; }
td.center { text-align: center; }
td.right { text-align: right; }
.box { border: 0.75pt solid #000; text-align: center; padding: 0.1cm 0; }
img.photo { margin: 0.1cm 0.1cm; vertical-align: middle; }
.page-break { break-before: page; }
"""


def _html_text(text: str, hints) -> str:
    if "{" in text or "}" in text:
        raise ValueError(f"literal form text may not hold braces: {text!r}")
    return html.escape(hints(text), quote=False)


def _html_parts(parts: tuple[Inline, ...], hints) -> str:
    out = []
    for part in parts:
        text = part.expression() if isinstance(part, Fill) else _html_text(_text_of(part), hints)
        out.append(f"<b>{text}</b>" if _is_bold(part) else text)
    return "".join(out)


def build_html_template(design: Design, hints) -> str:
    """The design as a Jinja HTML template (filled in the sandbox, then WeasyPrint)."""
    page = design.page
    top, right, bottom, left = page.margins
    page_css = (
        f"@page {{ size: A4{' landscape' if page.landscape else ''}; "
        f"margin: {top}cm {right}cm {bottom}cm {left}cm; }}"
    )
    out = []
    for element in design.elements:
        if isinstance(element, Para):
            out.append(_html_para(element, hints))
        elif isinstance(element, Grid):
            out.append(_html_grid(element, page, hints))
        elif isinstance(element, Box):
            content = f"{{{{ {element.photos}|photos }}}}" if element.photos else ""
            out.append(
                f'<div class="box" style="min-height:{element.height_cm}cm;'
                f'margin-top:{element.space_before_pt}pt">{content}</div>'
            )
        else:
            out.append('<div class="page-break"></div>')
    body = "\n".join(out)
    title = html.escape(design.title)
    return (
        f'<!DOCTYPE html>\n<html lang="th"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{page_css}{_CSS}</style></head>\n<body>\n{body}\n</body></html>"
    )


def _header_spans(columns) -> list[tuple[int, int, str | None]]:
    """The header cells of a table, left to right: (first column, last column, group
    heading), where neighbouring columns of one group share a heading above their own."""
    spans = []
    start = 0
    while start < len(columns):
        group = columns[start].group
        end = start
        while group and end + 1 < len(columns) and columns[end + 1].group == group:
            end += 1
        spans.append((start, end, group or None))
        start = end + 1
    return spans


def _html_para(para: Para, hints) -> str:
    rules = [f"font-size:{para.size}pt"]
    if para.space_before_pt:
        rules.append(f"margin-top:{para.space_before_pt}pt")
    if para.indent_cm or para.hang_cm:
        rules.append(f"padding-left:{para.indent_cm + para.hang_cm}cm")
    if para.hang_cm:
        rules.append(f"text-indent:-{para.hang_cm}cm")
    if para.align != "left":
        rules.append(f"text-align:{para.align}")
    if para.bold:
        rules.append("font-weight:bold")
    if para.keep_with_next:
        rules.append("break-after:avoid")
    return f'<p style="{";".join(rules)}">{_html_parts(para.parts, hints)}</p>'


def _html_grid(grid: Grid, page: Page, hints) -> str:
    columns = grid.columns
    widths = _widths(columns, page)
    cls = "grid" if grid.borders else "list"
    out = [
        f'<table class="{cls}" style="font-size:{grid.size}pt;'
        f'margin-top:{grid.space_before_pt}pt"><colgroup>'
    ]
    out += [f'<col style="width:{w:.3f}cm">' for w in widths]
    out.append("</colgroup>")
    if grid.header:
        grouped = any(c.group for c in columns)
        top, bottom = [], []
        for start, end, group in _header_spans(columns):
            if group:
                top.append(f'<th colspan="{end - start + 1}">{_html_text(group, hints)}</th>')
                bottom += [
                    f"<th>{_html_text(c.header, hints)}</th>" for c in columns[start : end + 1]
                ]
                continue
            span = ' rowspan="2"' if grouped else ""
            top.append(f"<th{span}>{_html_text(columns[start].header, hints)}</th>")
        out.append("<thead><tr>" + "".join(top) + "</tr>")
        if grouped:
            out.append("<tr>" + "".join(bottom) + "</tr>")
        out.append("</thead>")
    out.append(f"<tbody>{{% for {grid.var} in {grid.rows} %}}")
    if grid.inner:
        attribute, inner_var = grid.inner
        out.append(f"{{% for {inner_var} in {grid.var}.{attribute} %}}")
    cells = []
    for col in columns:
        cls_attr = f' class="{col.align}"' if col.align != "left" else ""
        cell = f"<td{cls_attr}>{_html_parts(col.parts, hints)}</td>"
        if col.merge:
            cell = (
                f'{{% if loop.first %}}<td{cls_attr} rowspan="{{{{ loop.length }}}}">'
                f"{_html_parts(col.parts, hints)}</td>{{% endif %}}"
            )
        cells.append(cell)
    out.append("<tr>" + "".join(cells) + "</tr>")
    if grid.inner:
        out.append("{% endfor %}")
    out.append("{% endfor %}</tbody></table>")
    return "".join(out)
