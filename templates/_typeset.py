"""Long tables to PDF with Typst, a compiled typesetter (``templates/table.typ``).

WeasyPrint lays out and draws every cell as a Thai paragraph, about a millisecond of CPU a
cell whatever the cell holds: a circular's 878 replies in 18 columns took 15 s. Typst lays
out the same table in about 1.5 s. Letters stay WeasyPrint's (their layout rules, PDF/A-3
and the stamp are built on it); this is for tables of many rows.

Everything printed is handed to Typst as one JSON document (``sys.inputs``), read there as
data: a typed ``#``, ``$`` or ``]`` is text, never markup, and nothing is fetched.

Typst would break Thai lines at ICU's word boundaries (``อำเภอรัตนวา|ปี``), and never inside
a word. A cell that may wrap is sent in runs that saraban's Thai line breaker keeps whole
(``_thai_breaks``, as in letters), which the template boxes; a run that may be wider than
its column (estimated here from the font's advance widths, generously) is sent as its
grapheme clusters, and the template cuts it where it overflows, measured.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path

from saraban.errors import TooLarge
from saraban.fonts import SARABUN_DIR
from saraban.templates import RenderError
from saraban.templates._thai_breaks import NEVER, break_classes
from saraban.thai import to_thai_digits
from saraban.vocabulary import scrub_surrogates

TEMPLATE = Path(__file__).parent / "table.typ"

_A4_LONG_SIDE_PT = 841.89
_A4_SHORT_SIDE_PT = 595.28
_FOOT_CM = 1.5  # the template's bottom margin
_PT_PER_CM = 72 / 2.54
_INSET_PT = 4.0  # a cell's insets, 2 pt each side
# A word is sent to be measured when its estimate reaches this share of its column: the
# estimate sums advances without kerning or Thai substitutions, which differ by a few
# per cent, so a word near the edge is measured rather than guessed.
_MEASURE_FROM = 0.8
# A character and the marks drawn on it (Thai vowels and tones above and below, Latin
# accents): where a word too wide for its column may be cut.
_CLUSTER = re.compile(r".[\u0300-\u036F\u0E31\u0E34-\u0E3A\u0E47-\u0E4E]*", re.DOTALL)


# The text one table prints at most. Typst lays out about 0.2 million characters a second
# and keeps some 350 bytes a character until the file is written: 878 replies of four
# 3,000-character answers (10.5 million) took 54 s and 3.9 GB (WeasyPrint: 227 s for 20 of
# them). Two million is ten times a country's real replies: 12 s and 1.2 GB at worst.
MAX_PRINTED_CHARS = 2_000_000


def check_printed_chars(count: int) -> None:
    """Refuse (413) a table that would print more than :data:`MAX_PRINTED_CHARS`."""
    if count > MAX_PRINTED_CHARS:
        raise TooLarge(
            f"ข้อความในตารางยาว {to_thai_digits(f'{count:,}')} ตัวอักษร พิมพ์เป็น PDF ได้ไม่เกิน "
            f"{to_thai_digits(f'{MAX_PRINTED_CHARS:,}')} ตัวอักษร ส่งออกเป็น XLSX หรือ CSV แทน / "
            f"the table holds {count:,} characters: a PDF prints at most "
            f"{MAX_PRINTED_CHARS:,}; export it as XLSX or CSV"
        )


@dataclass(frozen=True)
class TypesetTable:
    """What :func:`table_pdf` prints: a title and subtitle, a table (``columns`` labels,
    relative ``widths``, ``numeric`` columns aligned right, ``strong_rows`` in bold), then
    ``lists``: headed lists of names in three columns. A table without rows prints
    ``empty`` under its header (nothing when it is empty). Text size ``size`` pt, the
    header's ``header_size``, the title's ``title_size``; ``margin`` cm at the sides and
    top of an A4 landscape page. A value's newlines are line breaks."""

    title: str
    subtitle: str
    columns: Sequence[str]
    widths: Sequence[float]
    numeric: Sequence[bool]
    rows: Sequence[Sequence[str]]
    strong_rows: Sequence[int] = ()
    lists: Sequence[tuple[str, Sequence[str]]] = ()
    empty: str = ""
    size: float = 12.0
    header_size: float = 12.0
    title_size: float = 16.0
    margin: float = 1.2


@cache
def _advances(bold: bool) -> tuple[dict[int, float], float]:
    """Each character's advance in em of Sarabun (regular or bold), and the widest."""
    from fontTools.ttLib import TTFont

    font = TTFont(SARABUN_DIR / ("Sarabun-Bold.ttf" if bold else "Sarabun-Regular.ttf"))
    per_em = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    advances = {code: metrics[name][0] / per_em for code, name in font.getBestCmap().items()}
    return advances, max(advances.values())


def _estimate(word: str, size: float, bold: bool) -> float:
    if len(word) <= _REMEMBERED_CHARS:
        return size * _em_width(word, bold)
    advances, widest = _advances(bold)
    return size * sum(advances.get(ord(char), widest) for char in word)


# A table measures each cell and its runs three times (column widths, line parts, tall
# rows), and its words recur row after row: the width of a short text is remembered.
_REMEMBERED_CHARS = 64


@lru_cache(maxsize=16_384)
def _em_width(word: str, bold: bool) -> float:
    advances, widest = _advances(bold)
    return sum(advances.get(ord(char), widest) for char in word)


# Where Unicode's line breaking keeps a line from ending or starting (after an opening
# bracket or quote, before a closing one or a stop); Typst does not apply it between boxes.
_NO_BREAK_AFTER = frozenset("([{“‘\"'<")
_NO_BREAK_BEFORE = frozenset(")]}”’\"'>.,:;!?%")


def _may_break(text: str, at: int, classes: tuple[int, ...]) -> bool:
    return (
        classes[at] != NEVER
        and text[at - 1] not in _NO_BREAK_AFTER
        and text[at] not in _NO_BREAK_BEFORE
    )


def _runs(text: str) -> list[str]:
    """The runs of ``text`` a line keeps whole (its words, names, dates, numbers), each with
    the spaces after it."""
    classes = break_classes(text)
    starts = [0, *(i for i in range(1, len(text)) if _may_break(text, i, classes)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(starts)]


def _cell(text: str, width: float, size: float, bold: bool) -> str | list[str | list[str]]:
    """The text as is when it fits on one line of ``width`` points, else its parts: spaces,
    the runs saraban's Thai line breaker keeps on one line, and, as a list of grapheme
    clusters, each run that may be wider than ``width`` (cut by the template if it is)."""
    if _estimate(text, size, bold) < _MEASURE_FROM * width:
        return text
    parts: list[str | list[str]] = []
    for run in _runs(text):
        word = run.rstrip()
        if word and _estimate(word, size, bold) >= _MEASURE_FROM * width:
            parts.append(_CLUSTER.findall(word))
        elif word:
            parts.append(word)
        if len(word) < len(run):
            parts.append(run[len(word) :])
    return parts


# What a width estimated from advances is widened by, for the kerning and Thai
# substitutions it leaves out.
_SLACK = 1.04
# No column's least width counts a run wider than this share of the line: a long address or
# number typed in one piece is cut inside its column rather than starving the others.
_WIDEST_RUN_SHARE = 0.3
# The smallest text a table too wide for its words is shrunk to (:func:`_fitting_scale`).
_SMALLEST_PT = 7.0


def _extents(table: TypesetTable) -> tuple[list[float], list[float]]:
    """Each column's widest word, name or number (label and cells alike; a number cell
    whole) and its longest text, in points at the table's sizes, before any slack."""
    n_columns = len(table.columns)
    least = [0.0] * n_columns
    most = [0.0] * n_columns
    cells = [(label, table.header_size, True) for label in table.columns]
    strong = set(table.strong_rows)
    for r, row in enumerate(table.rows):
        for n in range(n_columns):
            cells.append((row[n], table.size, r in strong))
    for k, (text, size, bold) in enumerate(cells):
        if not text:
            continue
        n = k % n_columns
        whole = _estimate(text, size, bold)
        most[n] = max(most[n], whole)
        if whole > least[n]:
            widest = (
                whole
                if table.numeric[n] and k >= n_columns
                else max((_estimate(run.strip(), size, bold) for run in _runs(text)), default=0.0)
            )
            least[n] = max(least[n], widest)
    return least, most


def _fitting_scale(table: TypesetTable, least: list[float], line: float) -> float:
    """What the table's text is scaled by: 1, or less when only that fits every word in its
    column (``least``, :func:`_extents`), as a spreadsheet prints a wide sheet fitted to
    the page (the country's 18-column form printed its labels cut, ``ลำดั|บ``,
    ``ผู้ประส|านงาน``, at 10 and 9 pt). Never below :data:`_SMALLEST_PT`: a table that
    needs less keeps its size, its columns as weighed and its words cut."""
    cap = _WIDEST_RUN_SHARE * line
    room = (line - len(table.columns) * _INSET_PT) / _SLACK
    if sum(min(w, cap) for w in least) < room:
        return 1.0
    # A run wider than the cap keeps the cap's width however small the text: the others
    # share what is left.
    capped = sum(cap for w in least if w > cap)
    free = sum(w for w in least if w <= cap)
    scale = (room - capped) / free * 0.99 if free and room > capped else 0.0
    return scale if min(table.size, table.header_size) * scale >= _SMALLEST_PT else 1.0


def _column_widths(
    table: TypesetTable, least: list[float], most: list[float], line: float
) -> list[float]:
    """Each column's width in points, as a browser lays out a table whose columns are sized
    by what they hold (``least`` and ``most``, :func:`_extents`): every column at least as
    wide as its widest word, name or number (so nothing is cut that need not be), the room
    left shared in proportion to how much wider each column's longest text is than that;
    ``table.widths`` share what is left when every text fits on one line, and share the
    whole line when the words cannot all fit."""
    cap = _WIDEST_RUN_SHARE * line
    least = [min(w, cap) * _SLACK + _INSET_PT for w in least]
    most = [max(w * _SLACK + _INSET_PT, low) for w, low in zip(most, least, strict=True)]
    if sum(least) >= line:
        return [line * w / sum(table.widths) for w in table.widths]
    if sum(most) <= line:
        weight = sum(table.widths)
        return [
            w + (line - sum(most)) * share / weight
            for w, share in zip(most, table.widths, strict=True)
        ]
    stretch = sum(m - low for m, low in zip(most, least, strict=True))
    return [
        low + (line - sum(least)) * (m - low) / stretch for m, low in zip(most, least, strict=True)
    ]


def _document(table: TypesetTable) -> dict[str, object]:
    line = _A4_LONG_SIDE_PT - 2 * table.margin * _PT_PER_CM
    least, most = _extents(table)
    scale = _fitting_scale(table, least, line)
    size, header_size = table.size * scale, table.header_size * scale
    columns = _column_widths(table, [w * scale for w in least], [w * scale for w in most], line)
    widths = [w - _INSET_PT for w in columns]
    strong = set(table.strong_rows)
    rows = [
        [_cell(value, widths[n], size, r in strong) for n, value in enumerate(row)]
        for r, row in enumerate(table.rows)
    ]
    third = (line - 16) / 3
    # Rows that may be taller than half a page: lines estimated from each cell's width
    # (line height about 1.4 of the text's size).
    page = _A4_SHORT_SIDE_PT - (table.margin + _FOOT_CM) * _PT_PER_CM
    tall = [
        r
        for r, row in enumerate(table.rows)
        if max(
            (
                (value.count("\n") + _estimate(value, size, r in strong) * _SLACK / widths[n])
                for n, value in enumerate(row)
            ),
            default=0.0,
        )
        * size
        * 1.4
        > page / 2
    ]
    return {
        "title": table.title,
        "subtitle": table.subtitle,
        "columns": [
            _cell(c, w, header_size, True) for c, w in zip(table.columns, widths, strict=True)
        ],
        "widths": columns,
        "numeric": list(table.numeric),
        "rows": rows,
        "strong_rows": sorted(strong),
        "tall_rows": tall,
        "lists": [
            [heading, [_cell(name, third, table.size, False) for name in names]]
            for heading, names in table.lists
        ],
        "empty": table.empty,
        "size": table.size,
        "cell_size": size,
        "header_size": header_size,
        "title_size": table.title_size,
        "margin": table.margin,
    }


def _scrubbed(table: TypesetTable) -> TypesetTable:
    """The table with each lone surrogate (text stored before it was refused) as U+FFFD, as
    a page shows it: Typst and the Thai segmenter take UTF-8 only, and refused the table."""
    s = scrub_surrogates
    return replace(
        table,
        title=s(table.title),
        subtitle=s(table.subtitle),
        columns=[s(label) for label in table.columns],
        rows=[[s(value) for value in row] for row in table.rows],
        lists=[(s(heading), [s(name) for name in names]) for heading, names in table.lists],
        empty=s(table.empty),
    )


def table_pdf(table: TypesetTable) -> bytes:
    """The table as a PDF/A-3b file, as the archive keeps letters; as a plain PDF when it
    holds a character Sarabun does not draw (PDF/A wants every character drawn: a reply's
    emoji or Chinese name would otherwise refuse the whole table), that character shown as
    the font's empty box (and perhaps missing from the text layer: the XLSX has it).
    Untagged: poppler read Typst's structure tree with a syntax error. A failure inside
    Typst is a :class:`RenderError`."""
    import typst

    check_printed_chars(
        sum(len(value) for row in table.rows for value in row)
        + sum(len(name) for _heading, names in table.lists for name in names)
    )
    data = json.dumps(_document(_scrubbed(table)), ensure_ascii=False)

    def compiled(pdfa: bool) -> bytes:
        return typst.compile(
            str(TEMPLATE),
            root=str(TEMPLATE.parent),
            font_paths=[str(SARABUN_DIR)],
            ignore_system_fonts=True,
            sys_inputs={"table": data},
            pdf_standards=["a-3b"] if pdfa else None,
            pdf_tags=False,
        )

    try:
        try:
            return compiled(pdfa=True)
        except typst.TypstError as error:
            if "could not be displayed" not in str(error):
                raise
            return compiled(pdfa=False)
    except typst.TypstError as error:
        raise RenderError(f"พิมพ์ตารางไม่สำเร็จ / the table could not be typeset: {error}") from error
