"""Where things land on the page, read back from the PDF's boxes (``pdftotext -bbox``).

Page furniture (secrecy marks, page numbers, continuation markers, the first page's slogan)
has bands of its own inside the printable area: nothing is printed within 1 cm of an edge
and nothing overlaps, for the seed letters and every kind, secret and urgent ones included.
"""

from __future__ import annotations

import copy
import io
import json
import re

import pytest
from conftest import DATA, SEEDS
from pdfutil import Box, PageBoxes, page_boxes, pdftotext
from pypdf import PdfReader

from saraban.templates import render_pdf

pytestmark = pytest.mark.pdf

CM = 72 / 2.54  # points
EDGE = 1.0 * CM
# Sarabun's ink box is 1.3 em tall, a body line 1.2 em: boxes of two lines of a paragraph
# share 0.05 em above and below; anything deeper is an overlap.
LINE_SHARE = 2.0


def load(path) -> dict:
    return json.loads(path.read_text("utf-8"))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def long(letter: dict, times: int = 4) -> dict:
    """The letter with its body repeated: several pages."""
    letter = copy.deepcopy(letter)
    letter["body"] = letter["body"] * times
    return letter


def marked(letter: dict, secrecy: str = "ลับที่สุด", urgency: str = "ด่วนที่สุด") -> dict:
    letter = copy.deepcopy(letter)
    letter["secrecy"], letter["urgency"] = secrecy, urgency
    if letter["kind"] == "announcement":  # public notices carry no marks (a lint warning)
        letter["secrecy"] = letter["urgency"] = None
    return letter


KINDS = {p.name.split(".")[0]: load(p) for p in sorted((DATA / "letters").glob("*.letter.json"))}
LETTERS = {
    **{p.name.split("_")[0]: load(p) for p in sorted(SEEDS.glob("*.letter.json"))},
    **KINDS,
    **{f"{name}-marked-long": long(marked(letter)) for name, letter in KINDS.items()},
    "external-slogan-long": long(
        {**KINDS["secret"], "footer": "คำขวัญ " * 40, "secrecy": "ลับ"}, times=2
    ),
}


@pytest.fixture(scope="module", params=sorted(LETTERS))
def rendered(request) -> tuple[dict, bytes, list[PageBoxes]]:
    letter = LETTERS[request.param]
    pdf = render_pdf(letter)
    return letter, pdf, page_boxes(pdf)


def test_nothing_is_printed_within_1_cm_of_an_edge(rendered):
    _, _, pages = rendered
    for number, page in enumerate(pages, start=1):
        for box in page.words + page.images:
            assert box.x0 >= EDGE - 0.5, (number, box)
            assert box.y0 >= EDGE - 0.5, (number, box)
            assert page.width - box.x1 >= EDGE - 0.5, (number, box)
            assert page.height - box.y1 >= EDGE - 0.5, (number, box)


def test_nothing_overlaps(rendered):
    _, _, pages = rendered
    for number, page in enumerate(pages, start=1):
        boxes = page.words + page.images
        for i, box in enumerate(boxes):
            for other in boxes[i + 1 :]:
                assert not box.overlaps(other, LINE_SHARE), (number, box, other)


def _band_words(page: PageBoxes, top: bool) -> list[Box]:
    """Words of the top or bottom band: above the first or below the last text line."""
    body = [w for w in page.words if 3.3 * CM < w.y0 and w.y1 < page.height - 3.4 * CM]
    if top:
        limit = min((w.y0 for w in body), default=page.height / 2)
        return [w for w in page.words if w.y1 <= limit]
    limit = max((w.y1 for w in body), default=page.height / 2)
    return [w for w in page.words if w.y0 >= limit]


def test_secrecy_marks_top_and_bottom_of_every_page(rendered):
    letter, _, pages = rendered
    if not letter.get("secrecy"):
        return
    for number, page in enumerate(pages, start=1):
        top = [w for w in page.words if w.text == letter["secrecy"] and w.y1 < 3 * CM]
        bottom = [w for w in page.words if w.text == letter["secrecy"] and w.y0 > 26 * CM]
        assert len(top) == 1 and len(bottom) == 1, number
        for mark in top + bottom:  # centred on the text block
            assert abs((mark.x0 + mark.x1) / 2 - (3 + 8) * CM) < 1, (number, mark)


def _markers(page: PageBoxes) -> list[Box]:
    """The continuation markers of a page: a line of words from ``/`` to ``...``."""
    found = []
    for end in (w for w in page.words if w.text.endswith("...")):
        line = sorted((w for w in page.words if abs(w.y0 - end.y0) < 1), key=lambda w: w.x0)
        if line and line[0].text.startswith("/") and line[-1] is end:
            text = " ".join(w.text for w in line)
            found.append(Box(line[0].x0, end.y0, end.x1, end.y1, text))
    return found


def test_page_numbers_and_continuation_markers(rendered):
    """Pages 2+ are numbered ``- ๒ -`` at the top; every page but the last ends with ``/``
    and the next page's first word (an item number with it) at the right margin."""
    _, pdf, pages = rendered
    for number, page in enumerate(pages, start=1):
        text = pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number))
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        markers = _markers(page)
        if number == 1:
            assert not any(re.fullmatch(r"- [๐-๙]+ -", ln) for ln in lines)
        else:
            thai = "๐๑๒๓๔๕๖๗๘๙"
            label = "".join(thai[int(d)] for d in str(number))
            assert f"- {label} -" in lines, number
        if number == len(pages):
            assert not markers
            continue
        assert len(markers) == 1, number
        marker = markers[0]
        assert abs(marker.x1 - (page.width - 2 * CM)) < 1  # ends at the right margin
        assert marker.y0 > max(w.y1 for w in page.words if w.y1 < marker.y0) - LINE_SHARE
        following = pdftotext(pdf, "-raw", "-f", str(number + 1), "-l", str(number + 1))
        body = [
            ln
            for ln in following.splitlines()
            if ln.strip() and not re.fullmatch(r"\s*(- [๐-๙]+ -|ลับ\S*)\s*", ln)
        ]
        assert squash(body[0]).startswith(squash(marker.text[1:-3])), (marker.text, body[0])


def test_the_slogan_is_on_page_one_only(rendered):
    letter, pdf, pages = rendered
    if not letter.get("footer"):
        return
    slogan = squash(letter["footer"])
    first = squash(pdftotext(pdf, "-raw", "-f", "1", "-l", "1"))
    assert slogan in first
    for number in range(2, len(pages) + 1):
        text = squash(pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number)))
        assert slogan[:20] not in text, number


# --- the end of a letter ----------------------------------------------------------------


def _closing_page(pdf: bytes, closing: str) -> tuple[int, list[str]]:
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    for number in range(pages, 0, -1):
        lines = pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number)).splitlines()
        lines = [ln for ln in lines if ln.strip()]
        for index, line in enumerate(lines):
            if squash(closing).startswith(squash(line)[:12]) and squash(line):
                return number, lines[:index]
    raise AssertionError(f"closing not found: {closing!r}")


BODY_LINE = re.compile(r"\s*(- [๐-๙]+ -|ลับ(มาก|ที่สุด)?|ด่วน(มาก|ที่สุด)?)\s*")


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_closing_and_signature_never_stand_alone(name):
    """Seeds 001 and 003 ended on a page holding only the closing and the signature: the
    page of the closing now carries at least two lines of the body before it."""
    letter = LETTERS[name]
    if not letter.get("closing"):
        return
    pdf = render_pdf(letter)
    number, before = _closing_page(pdf, letter["closing"])
    text_lines = [ln for ln in before if not BODY_LINE.fullmatch(ln)]
    assert len(text_lines) >= 2, (number, before)


# --- the memo ----------------------------------------------------------------------------


@pytest.mark.parametrize("urgency", [None, "ด่วน", "ด่วนมาก", "ด่วนที่สุด"])
def test_memo_title_is_centred_with_its_urgency_beside_the_garuda(urgency):
    letter = {**KINDS["memo"], "urgency": urgency}
    page = page_boxes(render_pdf(letter))[0]
    title = next(w for w in page.words if w.text == "บันทึกข้อความ")
    centre = (title.x0 + title.x1) / 2
    assert abs(centre - (3 + 8) * CM) < 0.5  # the middle of the text block, not of the rest
    (emblem,) = page.images
    assert emblem.y0 == pytest.approx(1.5 * CM, abs=0.5)  # 1.5 cm from the top edge
    assert title.y1 > emblem.y0 and title.y0 < emblem.y1  # on the Garuda's line
    if urgency is None:
        return
    unit = next(w for w in page.words if w.text == "ส่วนราชการ")
    stamp = [w for w in page.words if w.y0 < unit.y0 and w.x1 <= title.x0]
    assert squash("".join(w.text for w in stamp)) == urgency  # above the header lines
    for word in stamp:  # between the Garuda and the title, starting on their line
        assert word.x0 >= emblem.x1 and word.x1 <= title.x0
    assert stamp[0].y0 < emblem.y1


# --- addresses --------------------------------------------------------------------------


def test_an_address_breaks_between_its_parts_never_before_the_postcode():
    letter = copy.deepcopy(KINDS["secret"])
    letter["sender"]["address"] = [
        "เลขที่ ๙๙/๑ หมู่ที่ ๑๒ ถนนพหลโยธิน ตำบลสบตุ๋ย อำเภอเมืองลำปาง จังหวัดลำปาง ลป ๕๒๑๐๐"
    ]
    text = pdftotext(render_pdf(letter), "-raw", "-l", "1")
    lines = [ln.strip() for ln in text.splitlines()]
    parts = letter["sender"]["address"][0].split()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("เลขที่"))
    address = []
    for line in lines[start:]:
        address.append(line)
        if "๕๒๑๐๐" in line:
            break
    assert len(address) > 1  # it did wrap
    assert " ".join(address).split() == parts  # each line is whole parts
    for line in address:
        assert not re.fullmatch(r"[๐-๙/]+", line), address  # no number alone on a line
    assert address[-1].endswith("ลป ๕๒๑๐๐")
