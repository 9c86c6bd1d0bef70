"""saraban.templates._weasyprint_thai: Thai text layer, line breaks and justification in real PDFs.

Every PDF test renders real HTML with WeasyPrint and the Sarabun font, then reads the PDF
back with poppler's ``pdftotext``: ``-raw`` for the text in drawing order, ``-bbox-layout``
for the position of each line.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import weasyprint
from hypothesis import given
from hypothesis import strategies as st
from pdfutil import no_weasyprint_warnings, pdftotext

from saraban.templates import _thai_breaks as breaks
from saraban.templates import _weasyprint_thai as thai
from saraban.templates._thai_breaks import NEVER

SEEDS = sorted((Path(__file__).parent / "data" / "seeds").glob("*.txt"))
SAMPLE = "ผู้นำจิตอาสา กรมการพัฒนาชุมชน น้ำ ซ้ำ ปั้น"
LEFT_PT = 2 / 2.54 * 72  # the page margin
WIDTH_PT = {"16cm": 16 / 2.54 * 72, "8cm": 8 / 2.54 * 72}


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    thai.install()


def render(body: str, *, width: str = "16cm", css: str = "") -> bytes:
    """An A4 PDF of ``body`` (HTML) in Sarabun 16pt, paragraphs justified at ``width``."""
    document = f"""<!DOCTYPE html><html lang="th"><head><meta charset="utf-8"><style>
{thai.font_face_css()}
@page {{ size: A4; margin: 2cm }}
body {{ margin: 0; font-family: Sarabun; font-size: 16pt; line-height: 1.3 }}
p {{ width: {width}; margin: 0 0 4pt; text-align: justify; word-break: keep-all;
     overflow-wrap: anywhere }}
{css}</style></head><body>{body}</body></html>"""
    with no_weasyprint_warnings():
        return weasyprint.HTML(string=document).write_pdf()


def paragraphs(texts: list[str], hints: bool = True) -> str:
    prepare = thai.thai_line_break_hints if hints else str
    return "".join(f"<p>{html.escape(prepare(text))}</p>" for text in texts)


def squash(text: str) -> str:
    return " ".join(text.split())


def read_lines(pdf: bytes, texts: list[str]) -> list[int]:
    """Check that ``pdftotext -raw`` gives back ``texts`` exactly; return the line ends.

    Within a line the text, spaces included, must equal the source (spaces squashed); a
    line break stands for a source space or for nothing (a break between two Thai words).
    Return the position in ``squash(" ".join(texts))`` where each line ends.
    """
    source = squash(" ".join(texts))
    position = 0
    ends = []
    for line in pdftotext(pdf, "-raw").replace("\f", "\n").splitlines():
        line = squash(line)
        if not line:
            continue
        if source.startswith(" ", position):
            position += 1
        assert source.startswith(line, position), (
            f"text layer differs:\n  source: {source[position : position + 80]!r}\n"
            f"  pdf:    {line[:80]!r}"
        )
        position += len(line)
        ends.append(position)
    assert position == len(source), f"text missing from the PDF: {source[position:][:80]!r}"
    return ends


def line_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """(xMin, xMax) in points of every text line, as ``pdftotext -bbox-layout`` finds them
    (it may cut a line at a wide justified space: the pieces on one baseline are one line)."""
    xhtml = pdftotext(pdf, "-bbox-layout")
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xhtml))
    lines: dict[tuple[int, float], tuple[float, float]] = {}
    for page, page_element in enumerate(root.iter("{http://www.w3.org/1999/xhtml}page")):
        for line in page_element.iter("{http://www.w3.org/1999/xhtml}line"):
            key = (page, round(float(line.get("yMax")), 1))
            x_min, x_max = float(line.get("xMin")), float(line.get("xMax"))
            seen = lines.get(key, (x_min, x_max))
            lines[key] = (min(seen[0], x_min), max(seen[1], x_max))
    return [lines[key] for key in sorted(lines)]


def natural_width(word: str) -> float:
    """The width in points of ``word`` set on one line, unjustified."""
    pdf = render(f'<p style="white-space: nowrap; text-align: left">{html.escape(word)}</p>')
    ((x_min, x_max),) = line_boxes(pdf)
    return x_max - x_min


def seed_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- the text layer ------------------------------------------------------------------------


@pytest.mark.pdf
@pytest.mark.parametrize(
    "style",
    [
        "",
        "font-weight: bold",
        "font-size: 20pt",
        "font-size: 29pt; font-weight: bold",
        "font-size: 32pt; font-weight: bold; color: #c00000",
    ],
)
def test_sample_extracts_exactly(style: str) -> None:
    """WeasyPrint 70.0 alone gives ``ผู้นำจิตอำสำ กรมกำรพัฒนำชุมชน นำ ซำ ปั้ น`` here."""
    pdf = render(f'<p style="{style}; text-align: left">{SAMPLE}</p>')
    read_lines(pdf, [SAMPLE])


@pytest.mark.pdf
def test_mixed_runs_extract_exactly() -> None:
    """Bold, sizes and colour inside one justified paragraph, across line ends."""
    body = (
        "<p>ตามที่ <b>กรมการพัฒนาชุมชน</b>จัดประชุม <span style='font-size: 20pt'>น้ำ"
        "</span>ซ้ำ <b style='font-size: 29pt'>ปั้น</b> <b style='font-size: 32pt; "
        "color: #c00000'>ด่วนที่สุด</b> ผู้นำจิตอาสา (Best practice) ๑,๐๐๐ บาท</p>"
    )
    pdf = render(body, width="8cm")
    read_lines(pdf, [re.sub("<[^>]+>", "", body)])


@pytest.mark.pdf
def test_tagged_pdf_extracts_exactly() -> None:
    """ActualText spans nest inside the marked content of a PDF/UA document."""
    document = (
        f"<html lang='th'><title>t</title><style>{thai.font_face_css()} "
        "body { font-family: Sarabun }</style><p>" + SAMPLE + "</p></html>"
    )
    with no_weasyprint_warnings():
        pdf = weasyprint.HTML(string=document).write_pdf(pdf_variant="pdf/ua-1")
    assert pdftotext(pdf, "-raw").strip() == SAMPLE


# ---- the seeds: text layer and line breaks -------------------------------------------------


@pytest.mark.pdf
@pytest.mark.parametrize("path", SEEDS, ids=lambda path: path.stem[:3])
@pytest.mark.parametrize("width", ["16cm", "8cm"])
def test_seed_text_layer_and_line_breaks(path: Path, width: str) -> None:
    """Every seed line, as a justified paragraph, extracts exactly (no space added inside
    a Thai word), and no line ends where the breaker forbids it (inside a word, a name, an
    abbreviation, between a label and its number) unless what it would split is wider than
    the column. (Whether the breaker forbids the right places is tested on a typesetter's
    corpus in tests/test_thai_breaks.py.)"""
    texts = seed_lines(path)
    pdf = render(paragraphs(texts), width=width)
    ends = read_lines(pdf, texts)
    source = squash(" ".join(texts))
    classes = list(breaks.break_classes(squash(texts[0])))
    for text in texts[1:]:  # a line may break after the space that joins two paragraphs
        classes += [breaks.FREE, *breaks.break_classes(squash(text))[1:]]
    assert len(classes) == len(source) + 1
    broken = set()
    for position in ends[:-1]:
        position += source[position] == " "  # the line ended at a space: the break is after it
        if classes[position] == NEVER:
            start = max(p for p in range(position) if classes[p] != NEVER or p == 0)
            end = min(p for p in range(position, len(source) + 1) if classes[p] != NEVER)
            broken.add(source[start:end].strip())
    too_long = {unit for unit in broken if natural_width(unit) > WIDTH_PT[width]}
    assert broken == too_long, f"lines end inside the words {sorted(broken - too_long)}"


@pytest.mark.pdf
def test_seed_text_layer_left_aligned_bold() -> None:
    texts = seed_lines(SEEDS[0])
    pdf = render(paragraphs(texts), css="p { text-align: left; font-weight: bold }")
    read_lines(pdf, texts)


@pytest.mark.pdf
def test_seed_text_layer_without_hints() -> None:
    """Unhinted text still extracts exactly; it breaks only at spaces, or inside a word
    wider than the column."""
    texts = seed_lines(SEEDS[3])
    pdf = render(paragraphs(texts, hints=False), width="8cm")
    read_lines(pdf, texts)


@pytest.mark.pdf
@pytest.mark.parametrize("width", ["16cm", "8cm"])
@pytest.mark.parametrize(
    "text",
    [
        "กรมการพัฒนาชุมชน" * 13,  # 208 Thai characters, no space
        "ก" * 200,
        "https://www.cdd.go.th/" + "/".join(f"section{n}" for n in range(20)) + "/index.html",
    ],
    ids=["thai-words", "thai-unknown", "url"],
)
@pytest.mark.parametrize("hints", [True, False])
def test_word_longer_than_the_line_breaks_without_overflow(
    text: str, width: str, hints: bool
) -> None:
    texts = ["เรื่อง " + text + " ท้ายย่อหน้า"]
    pdf = render(paragraphs(texts, hints=hints), width=width)
    read_lines(pdf, texts)
    right = LEFT_PT + WIDTH_PT[width]
    assert all(x_max <= right + 1 for _, x_max in line_boxes(pdf))


# ---- justification -------------------------------------------------------------------------


def longest_seed_paragraph() -> str:
    return max((line for path in SEEDS for line in seed_lines(path)), key=len)


@pytest.mark.pdf
@pytest.mark.parametrize("width", ["16cm", "8cm"])
def test_justified_lines_end_at_the_right_edge(width: str) -> None:
    """Thai distributed justification: every line but the last reaches the right edge,
    the last one stays left-aligned. One run of the paragraph is bold and red."""
    words = longest_seed_paragraph().split(" ")
    middle = len(words) // 2
    body = (
        f"<p>{html.escape(thai.thai_line_break_hints(' '.join(words[:middle])))} "
        f"<b style='color: #c00000'>{html.escape(thai.thai_line_break_hints(words[middle]))}"
        f"</b> {html.escape(thai.thai_line_break_hints(' '.join(words[middle + 1 :])))}</p>"
    )
    pdf = render(body, width=width)
    boxes = line_boxes(pdf)
    right = LEFT_PT + WIDTH_PT[width]
    assert len(boxes) > 3
    for x_min, x_max in boxes[:-1]:
        assert abs(x_min - LEFT_PT) < 1 and abs(x_max - right) < 1, (x_min, x_max, right)
    last_min, last_max = boxes[-1]
    assert abs(last_min - LEFT_PT) < 1 and last_max < right - 1


@pytest.mark.pdf
@pytest.mark.parametrize(
    ("css", "stretched"),
    [
        ("p { text-justify: inter-character }", True),
        ("p { text-justify: distribute }", True),
        ("p { text-justify: none }", False),
        ("p { text-justify: inter-word }", False),
    ],
)
def test_text_justify_chooses_the_method(css: str, stretched: bool) -> None:
    """A Thai line without spaces reaches the edge only when distributed."""
    text = thai.thai_line_break_hints("การขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน" * 3)
    pdf = render(f"<p>{html.escape(text)}</p>", width="8cm", css=css)
    x_min, x_max = line_boxes(pdf)[0]
    reaches = abs(x_max - (LEFT_PT + WIDTH_PT["8cm"])) < 1
    assert reaches is stretched


@pytest.mark.pdf
def test_non_thai_paragraph_keeps_inter_word_justification() -> None:
    body = "<p lang='en'>" + " ".join(["justified words"] * 30) + "</p>"
    pdf = render(body, width="8cm", css="p { word-break: normal }")
    texts = [re.sub("<[^>]+>", "", body)]
    read_lines(pdf, texts)
    x_min, x_max = line_boxes(pdf)[0]
    assert abs(x_max - (LEFT_PT + WIDTH_PT["8cm"])) < 1


# ---- line-break hints ----------------------------------------------------------------------

ZWSP, WJ, LOOSE = "\u200b", "\u2060", "\u200c"


@pytest.mark.parametrize(
    ("text", "hinted"),
    [
        ("", ""),
        ("   ", "   "),
        # a compound: its parts break only on a loose line; จิตอาสา never
        ("ศูนย์ผู้นำจิตอาสา", f"ศูนย์{LOOSE}ผู้นำ{LOOSE}จิตอาสา"),
        ("ส่งเอกสาร", f"ส่ง{ZWSP}เอกสาร"),
        ("ศูนย์ฯเพิ่มขึ้น", f"ศูนย์ฯ{ZWSP}เพิ่มขึ้น"),  # never a line starting with ฯ
        ("ต่าง ๆ", f"ต่าง {WJ}ๆ"),  # nor with ๆ: the space is inside the word
        ("๑,๐๐๐บาท", "๑,๐๐๐บาท"),  # a number keeps its unit
        ("พ.ศ.๒๕๖๕", "พ.ศ.๒๕๖๕"),
        ("Google Sheet", "Google Sheet"),
        ("โทร ๐ ๔๒๔๑ ๑๑๘๒", f"โทร {WJ}๐ {WJ}๔๒๔๑ {WJ}๑๑๘๒"),  # a phone number stays on one line
        ("ข้อ ๓ ถึง", f"ข้อ {WJ}๓ ถึง"),  # a label keeps its number
        ("โทร. ๐", f"โทร. {WJ}๐"),  # newmm cuts โท|ร.; the abbreviation is one word
        ("๒๑ ธันวาคม ๒๕๖๖", f"๒๑ {WJ}ธันวาคม {LOOSE}๒๕๖๖"),  # the year goes only if loose
        ("นายพิชิต แสงมหาชัย", f"นายพิชิต {WJ}แสงมหาชัย"),
        ("AIC/ทำแผน", f"AIC/{ZWSP}ทำ{ZWSP}แผน"),  # Pango's break after "/" is kept
        (f"ส่ง{ZWSP}เอกสาร{WJ}{LOOSE}", f"ส่ง{ZWSP}เอกสาร"),  # idempotent: old hints go first
    ],
)
def test_line_break_hints(text: str, hinted: str) -> None:
    assert thai.thai_line_break_hints(text) == hinted
    assert thai.thai_line_break_hints(hinted) == hinted
    assert thai.strip_line_break_hints(hinted) == thai.strip_line_break_hints(text)


def test_hints_keep_spaces_inside_a_royal_name() -> None:
    name = "สมเด็จพระกนิษฐาธิราชเจ้า กรมสมเด็จพระเทพรัตนราชสุดาฯ สยามบรมราชกุมารี"
    assert thai.thai_line_break_hints(name + " ทรง").count(WJ) == 2


def test_install_refuses_another_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thai, "_installed", False)
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with pytest.raises(RuntimeError, match="patches WeasyPrint 70.0, but WeasyPrint 71.0"):
        thai.install()


def reference_no_break_ranges(text: str, loose: bool) -> list[tuple[int, int]]:
    """The keep-all ranges, character by character (``_no_break_ranges`` uses a regex)."""
    ranges, start, position = [], 0, 0
    for index, char in enumerate(text):
        following = text[index + 1 : index + 2]
        breaking_space = char.isspace() and char not in "\u00a0\u2007\u202f"
        if (
            char == ZWSP
            or (char == LOOSE and loose)
            or (breaking_space and following != WJ and (loose or following != LOOSE))
        ):
            if position - start > 1:
                ranges.append((start, position))
            start = position + len(char.encode())
        position += len(char.encode())
    if position - start > 1:
        ranges.append((start, position))
    return ranges


@given(
    text=st.text(alphabet="กขฯา่้ AbZ.\t\n\u00a0\u2003\u3000\u200b\u200c\u2060", max_size=16),
    loose=st.booleans(),
)
def test_no_break_ranges(text: str, loose: bool) -> None:
    assert thai._no_break_ranges(text, loose) == reference_no_break_ranges(text, loose)
