"""DOCX output of a :class:`~templates._layout.Layout`, with python-docx.

Two things Thai DOCX generators usually get wrong, and this one does not:

- every run sets the complex-script font slot and size (``w:rFonts w:cs``, ``w:szCs``,
  ``w:bCs``), or Word shows the Thai in the theme font at the wrong size;
- body paragraphs use Thai distributed justification (``w:jc w:val="thaiDistribute"``).
"""

from __future__ import annotations

import copy
import functools
import io
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from saraban.digits import printed_digits
from saraban.templates import _layout as L
from saraban.templates._layout import Block, Layout, Run

DOCX_FONT = "TH SarabunPSK"  # the official face (cabinet resolution, 7 Sep 2553)

_ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "justify": WD_ALIGN_PARAGRAPH.THAI_JUSTIFY,
}


_KEPT_STYLES = {
    "Normal",
    "DefaultParagraphFont",
    "TableNormal",
    "NoList",
    "Header",
    "Footer",
    "HeaderChar",
    "FooterChar",
    "TableGrid",
}


@functools.cache
def _base_document() -> bytes:
    """python-docx's default document with our styles, without its thumbnail; made once
    (opening and styling the default template was a third of the time of a letter)."""
    document = Document()
    _set_defaults(document)
    package = document.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package.rels[rel_id]
    # The default template carries 800 kB of styles a letter never uses (Word 2010's
    # stylesWithEffects, hundreds of table and list styles): parsing and compressing
    # them again for every letter cost more than the letter itself.
    for rel_id, rel in list(document.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            del document.part.rels[rel_id]
    styles = document.styles.element
    for child in list(styles):
        if child.tag == qn("w:latentStyles") or (
            child.tag == qn("w:style") and child.get(qn("w:styleId")) not in _KEPT_STYLES
        ):
            styles.remove(child)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_layout_docx(layout: Layout, emblem: Path) -> bytes:
    document = Document(io.BytesIO(_base_document()))
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Cm(L.PAGE_WIDTH_CM), Cm(L.PAGE_HEIGHT_CM)
    section.left_margin, section.right_margin = Cm(L.MARGIN_LEFT_CM), Cm(L.MARGIN_RIGHT_CM)
    # One section has one top margin: the first page's, so the emblem stands 1.5 cm from
    # the top; on later pages Word moves the text below the page-number header.
    section.top_margin, section.bottom_margin = Cm(L.MARGIN_TOP_FIRST_CM), Cm(L.MARGIN_BOTTOM_CM)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    section.different_first_page_header_footer = True
    _page_furniture(section, layout)

    if layout.emblem_cm:
        _emblem_paragraph(document.add_paragraph(), emblem, layout.emblem_cm)
    blocks = layout.blocks
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if block.emblem:
            _memo_head(document, block, emblem)
        elif block.role == "enclosure":
            end = index
            while end < len(blocks) and blocks[end].role == "enclosure":
                end += 1
            _enclosure_table(document, blocks[index:end])
            index = end
            continue
        else:
            _fill(document.add_paragraph(), block)
        index += 1
    document.core_properties.title = layout.title[:255]  # the property's limit in OOXML
    document.core_properties.language = "th-TH"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _set_defaults(document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.font.size = Pt(L.BODY_PT)
    _font_slots(normal.element.get_or_add_rPr(), L.BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0


def _font_slots(rpr, size_pt: float, bold: bool = False, color: str | None = None) -> None:
    """Set every font slot (incl. complex script), size and Thai language on a w:rPr."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), DOCX_FONT)
    half_points = str(round(size_pt * 2))
    for tag in ("w:b", "w:bCs", "w:color", "w:sz", "w:szCs", "w:lang"):
        old = rpr.find(qn(tag))
        if old is not None:
            rpr.remove(old)
    # CT_RPr's schema order: rFonts, b, bCs, ..., color, ..., sz, szCs, ..., lang.
    if bold:
        rpr.append(OxmlElement("w:b"))
        rpr.append(OxmlElement("w:bCs"))
    if color:
        element = OxmlElement("w:color")
        element.set(qn("w:val"), color)
        rpr.append(element)
    for tag in ("w:sz", "w:szCs"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), half_points)
        rpr.append(element)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:bidi"), "th-TH")
    rpr.append(lang)


@functools.cache
def _run_properties(size_pt: float, bold: bool, color: str | None):
    rpr = OxmlElement("w:rPr")
    _font_slots(rpr, size_pt, bold=bold, color=color)
    return rpr


def _add_run(paragraph, run: Run, block: Block):
    r = paragraph.add_run(run.text)
    rpr = _run_properties(run.size or block.size, run.bold or block.bold, run.color or block.color)
    r._r.insert(0, copy.deepcopy(rpr))
    return r


def _fill(paragraph, block: Block) -> None:
    fmt = paragraph.paragraph_format
    paragraph.alignment = _ALIGN[block.align]
    fmt.left_indent = Cm(block.indent_cm) if block.indent_cm else None
    fmt.first_line_indent = Cm(block.first_line_cm) if block.first_line_cm else None
    fmt.space_before = Pt(block.space_before_pt)
    fmt.space_after = Pt(0)
    fmt.keep_with_next = block.keep_with_next or None
    if block.label:
        for run in block.label:
            _add_run(paragraph, run, block)
        if block.hang_cm:
            fmt.tab_stops.add_tab_stop(Cm(block.indent_cm))
            _add_run(paragraph, Run("\t"), block)
    for run in block.runs:
        _add_run(paragraph, run, block)
    leader = WD_TAB_LEADER.DOTS if block.role in _DOTTED else WD_TAB_LEADER.SPACES
    if block.tab_runs:
        assert block.tab_cm is not None  # the builders set the tab stop with the runs
        fmt.tab_stops.add_tab_stop(Cm(block.tab_cm), WD_TAB_ALIGNMENT.LEFT, leader)
        _add_run(paragraph, Run("\t"), block)
        for run in block.tab_runs:
            _add_run(paragraph, run, block)
    if block.role in _DOTTED:
        fmt.tab_stops.add_tab_stop(Cm(L.TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT, leader)
        _add_run(paragraph, Run("\t"), block)


# The memo's header lines are written on dotted lines, as on the printed form (แบบที่ ๒๙):
# dot leaders up to the next tab stop and to the right margin.
_DOTTED = frozenset({"memo_unit", "memo_ref", "memo_subject"})


def _borderless_table(document, widths_cm: list[float]):
    """A table with fixed column widths, no borders and no cell margins, at the margin, so
    its columns act as tab stops that hold long text."""
    table = document.add_table(rows=0, cols=len(widths_cm))
    table.autofit = False  # w:tblLayout fixed
    margins = OxmlElement("w:tblCellMar")
    for side in ("w:left", "w:right"):
        margin = OxmlElement(side)
        margin.set(qn("w:w"), "0")
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.insert_element_before(
        margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange"
    )
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    return table


def _add_row(table, widths_cm: list[float]):
    row = table.add_row()
    for cell, width in zip(row.cells, widths_cm, strict=True):
        cell.width = Cm(width)
    return row


def _enclosure_table(document, blocks: list[Block]) -> None:
    """สิ่งที่ส่งมาด้วย as a table: label, title, quantity. The quantity keeps its column
    however long the title (a tab stop would push it onto the next line)."""
    widths = [
        L.ENCLOSURE_HANG_CM,
        L.QUANTITY_CM - L.ENCLOSURE_HANG_CM,
        L.TEXT_WIDTH_CM - L.QUANTITY_CM,
    ]
    table = _borderless_table(document, widths)
    for block in blocks:
        row = _add_row(table, widths)
        parts = (block.label, block.runs, block.tab_runs)
        for cell, runs in zip(row.cells, parts, strict=True):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_before = Pt(block.space_before_pt)
            paragraph.paragraph_format.keep_with_next = block.keep_with_next or None
            for run in runs:
                _add_run(paragraph, run, block)


def _memo_head(document, block: Block, emblem: Path) -> None:
    """The memo's title line as a table: the Garuda, the urgency stamp beside it (wrapping
    in its own column if it must), the title, and an empty column as wide as the first two,
    so that the title is centred on the text block."""
    title_cm, emblem_cm = 7.0, L.EMBLEM_CM["memo"] + 0.3
    side = (L.TEXT_WIDTH_CM - title_cm) / 2
    widths = [emblem_cm, side - emblem_cm, title_cm, side]
    table = _borderless_table(document, widths)
    picture, stamp, title, _ = _add_row(table, widths).cells
    picture.paragraphs[0].add_run().add_picture(str(emblem), height=Cm(L.EMBLEM_CM["memo"]))
    for run in block.beside_emblem:
        _add_run(stamp.paragraphs[0], run, block)
    title.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in block.runs:
        _add_run(title.paragraphs[0], run, block)


def _emblem_paragraph(paragraph, emblem: Path, height_cm: float) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.add_run().add_picture(str(emblem), height=Cm(height_cm))


def _page_furniture(section, layout: Layout) -> None:
    """Headers and footers: page numbers from page two, secrecy marks, the slogan."""
    mark = Block(
        "secrecy",
        [Run(layout.secrecy or "")],
        align="center",
        bold=True,
        size=L.SECRECY_PT,
        color=L.RED,
    )
    number = Block("page_number", align="center")

    first_header = section.first_page_header.paragraphs[0]
    later_header = section.header.paragraphs[0]
    if layout.secrecy:
        _fill(first_header, mark)
        _fill(later_header, mark)
        later_header = section.header.add_paragraph()
    _fill(later_header, number)
    _add_run(later_header, Run("- "), number)
    _page_field(later_header, number, layout.digits)
    _add_run(later_header, Run(" -"), number)
    # The PAGE field in the letter's digits (LibreOffice shows thaiNumbers as 1, 2, 3: its
    # DOCX import maps no page-number format to Thai digits).
    pg = OxmlElement("w:pgNumType")
    pg.set(qn("w:fmt"), "thaiNumbers" if layout.digits == "thai" else "decimal")
    section._sectPr.append(pg)

    first_footer = section.first_page_footer.paragraphs[0]
    later_footer = section.footer.paragraphs[0]
    if layout.first_page_footer:
        _fill(first_footer, Block("footer", [Run(layout.first_page_footer)], align="center"))
        if layout.secrecy:
            first_footer = section.first_page_footer.add_paragraph()
    if layout.secrecy:
        _fill(first_footer, mark)
        _fill(later_footer, mark)


def _page_field(paragraph, block: Block, digits: str) -> None:
    run = _add_run(paragraph, Run(""), block)
    for kind, text in (
        ("begin", None),
        (None, " PAGE "),
        ("separate", None),
        (None, printed_digits("2", digits)),
        ("end", None),
    ):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == " PAGE " else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
