"""saraban.templates._thai_breaks: where a printed Thai line may break, judged by a typesetter.

``tests/data/line_breaks/typesetter.tsv`` holds lines from the seed letters (as main's
newmm breaker printed them) and letters of the same kind, each with one break a Thai
typesetter marked: "bad" (never), "loose" (between compound parts: only on a loose line) or
"good". The breaker must give each the same class, and real PDFs must not break where it
says no. Distributed justification is checked on laid-out seed paragraphs: spaces first,
Thai graphemes bounded, Latin words never spread.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import weasyprint
from pdfutil import no_weasyprint_warnings, pdftotext
from test_weasyprint_thai import LEFT_PT, SEEDS, natural_width, render, seed_lines, squash

from saraban.templates import _weasyprint_thai as thai
from saraban.templates._thai_breaks import FREE, LOOSE, NEVER, break_classes, segment

CORPUS = Path(__file__).parent / "data" / "line_breaks" / "typesetter.tsv"
VERDICTS = {"bad": NEVER, "loose": LOOSE, "good": FREE}


@dataclass(frozen=True)
class Marked:
    verdict: str
    what: str
    text: str  # the line without the mark
    position: int  # where the line breaks: before text[position]

    @property
    def id(self) -> str:
        return f"{self.verdict}-{self.what}-{self.text[max(0, self.position - 6) : self.position]}"


def corpus() -> list[Marked]:
    entries = []
    for line in CORPUS.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        verdict, what, marked = line.split("\t")
        assert marked.count("|") == 1, marked
        entries.append(Marked(verdict, what, marked.replace("|", ""), marked.index("|")))
    return entries


CORPUS_ENTRIES = corpus()


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    thai.install()


def test_corpus_covers_every_kind_of_break() -> None:
    kinds = {(entry.verdict, entry.what) for entry in CORPUS_ENTRIES}
    bad = {what for verdict, what in kinds if verdict == "bad"}
    assert bad >= {"word", "royal", "place", "name", "label", "date", "abbreviation", "number"}
    assert {"loose", "good"} <= {verdict for verdict, _ in kinds}
    assert len(CORPUS_ENTRIES) > 100


@pytest.mark.parametrize("entry", CORPUS_ENTRIES, ids=lambda entry: entry.id)
def test_breaker_agrees_with_the_typesetter(entry: Marked) -> None:
    classes = break_classes(entry.text)
    assert classes[entry.position] == VERDICTS[entry.verdict], (
        f"{entry.text[: entry.position]}|{entry.text[entry.position :]}"
    )


FILLER = "ทดสอบ " * 3  # breakable words before the line, so a line can always end earlier


def near_the_mark(entry: Marked) -> tuple[str, int]:
    """The entry's line from a break at least 10 characters before the mark, and the mark's
    place in it (a line read back must fit on the page); the latest such start where the
    mark keeps its class."""
    classes = break_classes(entry.text)
    for start in range(entry.position - 10, 0, -1):
        if classes[start] != NEVER:
            line, mark = entry.text[start:], entry.position - start
            if break_classes(line)[mark] == classes[entry.position]:
                return line, mark
    return entry.text, entry.position


def line_ends(pdf: bytes, text: str) -> list[int]:
    """Where each line of ``pdftotext -raw`` ends, in ``text`` (spaces squashed)."""
    source, position, ends = squash(text), 0, []
    for line in pdftotext(pdf, "-raw").splitlines():
        line = squash(line)
        if not line:
            continue
        position += source.startswith(" ", position)
        assert source.startswith(line, position), (source[position:][:40], line[:40])
        position += len(line)
        ends.append(position)
    return ends


@pytest.mark.pdf
@pytest.mark.parametrize(
    "entry",
    [entry for entry in CORPUS_ENTRIES if entry.verdict != "loose"],
    ids=lambda entry: entry.id,
)
def test_pdf_lines_end_only_where_the_typesetter_allows(entry: Marked) -> None:
    """A ragged paragraph exactly as wide as the text up to the mark: a line ends at the
    mark if the typesetter allows it there, and never if not."""
    line, mark = near_the_mark(entry)
    text, position = FILLER + line, len(FILLER) + mark
    assert break_classes(text)[position] == VERDICTS[entry.verdict]
    width_pt = natural_width(text[:position].rstrip()) + 1
    assert width_pt < 15 / 2.54 * 72
    pdf = render(
        f"<p>{html.escape(thai.thai_line_break_hints(text))}</p>",
        width=f"{width_pt / 72 * 2.54:.3f}cm",
        css="p { text-align: left }",
    )
    ends = line_ends(pdf, text)
    squashed = len(squash(text[:position]).rstrip())
    if entry.verdict == "good":
        assert ends[0] == squashed, squash(text)[ends[0] - 10 : ends[0]]
    else:
        assert squashed not in ends


@pytest.mark.pdf
@pytest.mark.parametrize(
    ("room", "first_line_ends"),
    [("กรม", ""), ("กรมการพัฒนา", "กรมการพัฒนา")],
    ids=["tight-breaks-before-the-compound", "loose-breaks-inside-it"],
)
def test_compound_breaks_only_on_a_loose_line(room: str, first_line_ends: str) -> None:
    """Justified: when the line before กรมการพัฒนาชุมชน would be left loose (more than 3 em
    unfilled) it ends inside the compound, at a part boundary; otherwise before it."""
    words = "ขอความร่วมมือ ประชาสัมพันธ์ ให้ทราบโดยทั่วกัน"
    text = f"{words} กรมการพัฒนาชุมชน ขอขอบคุณ"
    width_pt = natural_width(f"{words} {room}") + 2
    pdf = render(
        f"<p>{html.escape(thai.thai_line_break_hints(text))}</p>",
        width=f"{width_pt / 72 * 2.54:.3f}cm",
    )
    first = pdftotext(pdf, "-raw").splitlines()[0]
    assert squash(first) == squash(f"{words} {first_line_ends}")


# ---- justification -------------------------------------------------------------------------


def justified_lines(body: str, width: str) -> list[tuple[float, object, list[str]]]:
    """(font size, spacing, texts) of every justified line of a laid-out paragraph."""
    document = f"""<html lang="th"><style>{thai.font_face_css()}
@page {{ size: A4; margin: 2cm }}
body {{ margin: 0; font-family: Sarabun; font-size: 16pt }}
p {{ width: {width}; text-align: justify; word-break: keep-all; overflow-wrap: anywhere }}
</style>{body}</html>"""
    with no_weasyprint_warnings():
        rendered = weasyprint.HTML(string=document).render()
    found = []
    for page in rendered.pages:
        for box in page._page_box.descendants():
            texts = [child for child in box.descendants() if hasattr(child, "_thai_spacing")]
            if type(box).__name__ == "LineBox" and texts:
                spacing = texts[0]._thai_spacing
                found.append((box.style["font_size"], spacing, [t.text for t in texts]))
    return found


@pytest.mark.pdf
@pytest.mark.parametrize("width", ["16cm", "8cm"])
def test_justification_spreads_spaces_first_then_bounded_graphemes(width: str) -> None:
    texts = [line for path in SEEDS[:3] for line in seed_lines(path)][:60]
    body = "".join(f"<p>{html.escape(thai.thai_line_break_hints(t))}</p>" for t in texts)
    lines = justified_lines(body, width)
    assert len(lines) > 50
    spread = 0
    for size, spacing, line_texts in lines:
        spaces = sum(
            1
            for text in line_texts
            for index, char in enumerate(text)
            if char == " " and text[index + 1 : index + 2] != "\u2060"
        )
        if spacing.cluster > 0 and spaces:
            spread += 1
            # graphemes take width only once the spaces are full, and never past the bound
            assert spacing.space >= 0.5 * size - 1e-6, line_texts
            assert spacing.cluster <= 0.08 * size + 1e-6, line_texts
    assert spread < len(lines)  # most lines are set by their spaces alone


def word_boxes(pdf: bytes) -> list[tuple[str, float, float]]:
    xhtml = pdftotext(pdf, "-bbox")
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xhtml))
    return [
        (word.text or "", float(word.get("xMin")), float(word.get("xMax")))
        for word in root.iter("{http://www.w3.org/1999/xhtml}word")
    ]


@pytest.mark.pdf
def test_latin_words_are_never_letter_spaced() -> None:
    """A loose justified line (issue 13 printed ``S o c i a l  N e t w o r k``)."""
    text = "ให้เผยแพร่ผ่านทาง Social Network เช่น Facebook, Twitter, Instagram เป็นต้น"
    pdf = render(f"<p>{html.escape(thai.thai_line_break_hints(text))}</p>", width="9cm")
    boxes = {word: x_max - x_min for word, x_min, x_max in word_boxes(pdf)}
    first_line = pdftotext(pdf, "-raw").splitlines()[0]
    assert "Social" in first_line and boxes["Social"] > 0
    for word in ("Social", "Network"):
        assert abs(boxes[word] - natural_width(word)) < 0.5, word
    x_min = min(x for _, x, _ in word_boxes(pdf))
    assert abs(x_min - LEFT_PT) < 1


def test_segmentation_keeps_every_character() -> None:
    for text in ["", " ", "ต่าง ๆ", "ABC ๑,๐๐๐บาท", "\u200bก", "นาย  พิชิต"]:
        assert "".join(segment(text)) == text


@pytest.mark.parametrize(
    "text",
    ["", "   ", "ก", "\u200b", "ๆ", "ฯลฯ", "A.B.", "....", "๑๒๓ ๔๕๖", "นาย", "ที่ ", "(" * 50],
)
def test_break_classes_of_odd_texts(text: str) -> None:
    classes = break_classes(text)
    assert len(classes) == len(text) + 1
    assert classes[0] == NEVER and classes[-1] == NEVER
    assert set(classes) <= {NEVER, LOOSE, FREE}


def test_unknown_words_are_cut_as_newmm_cuts_them() -> None:
    """nlpo3 cuts นา|งก|รรณ์ where newmm cuts นาง|กรรณ์: the title must stay a word, so the
    name after it is found and kept whole."""
    text = "โดยมอบหมายให้ นางกรรณ์นิกา ชาญนุวงศ์ ตำแหน่งนักวิชาการ"
    assert segment(text)[4:6] == ["นาง", "กรรณ์"]
    classes = break_classes(text)
    name = text.index("นางกรรณ์นิกา")
    assert all(c == NEVER for c in classes[name + 1 : text.index(" ตำแหน่ง")])


def test_data_file_entries_are_whole_and_unique() -> None:
    from saraban.templates._thai_breaks import _read_sections

    for name, entries in _read_sections().items():
        assert len(entries) == len(set(entries)), f"an entry twice in [{name}]"
        assert all(entry.strip() == entry and entry for entry in entries), name
    for compound in _read_sections()["compounds"]:
        assert all(compound.split("|")), compound
        assert compound.count("|") >= 1, compound
