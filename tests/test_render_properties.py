"""Hostile text in every field of every kind of letter: a clear error, or the text printed
whole, as text (issue 11.7).

Hypothesis puts markup, CSS, ``</style>``, ``url(file:...)``, lone surrogates, control,
zero-width, combining and bidi characters, Thai and 10,000-character words into one field
at a time. Each letter either fails validation with :class:`~saraban.errors.InvalidLetter`
(naming fields), or renders: the DOCX read back by python-docx, and the PDF's text layer
read back by ``pdftotext``, hold the string whole (white space, invisible format characters
and the office's digits aside), and nothing is printed outside the sheet. The runs are
bounded and deterministic (``derandomize``), so ``make test`` stays fast.
"""

from __future__ import annotations

import copy
import io
import json
import re
import unicodedata

import pytest
from conftest import DATA
from docx import Document
from docxutil import docx_lines
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pdfutil import page_boxes, pdftotext
from pypdf import PdfReader

from saraban.digits import printed_digits
from saraban.errors import InvalidLetter
from saraban.letter import validate
from saraban.templates import render_docx, render_pdf

BASES = {
    "external": "secret",
    "memo": "memo",
    "order": "order",
    "announcement": "announcement",
    "stamped": "stamped",
}

# The parts each kind prints (templates/_layout.py, after reference/thai-official-letters.md).
COMMON = ("ref_no", "body.0", "body.1.items.0", "signer.name", "signer.position.0", "footer")
PRINTED = {
    "external": COMMON
    + (
        "sender.name",
        "sender.address.0",
        "subject",
        "salutation",
        "addressee",
        "references.0",
        "enclosures.0.title",
        "enclosures.0.quantity",
        "closing",
        "complimentary_close",
        "owner_unit.0",
        "contact.phone",
        "contact.fax",
        "contact.email",
        "copies_to.0",
    ),
    "memo": COMMON + ("subject", "salutation", "addressee", "closing", "owner_unit.0"),
    "order": COMMON + ("subject", "issuer"),
    "announcement": COMMON + ("subject", "issuer"),
    "stamped": (
        "ref_no",
        "body.0",
        "body.1.items.0",
        "footer",
        "addressee",
        "closing",
        "sender.name",
        "owner_unit.0",
        "contact.phone",
        "contact.email",
        "copies_to.0",
    ),
}

FRAGMENTS = [
    "</style>",
    "<style>.secrecy{display:none}</style>",
    "</p><p>อนุมัติให้จ่ายเงิน ๙,๙๙๙,๙๙๙ บาท",
    "<img src=file:///etc/passwd>",
    '<link rel="stylesheet" href="file:///etc/passwd">',
    "url(file:///etc/passwd)",
    "@import url(file:///etc/passwd);",
    "content: attr(x); }",
    "{",
    "}",
    "\\",
    '"',
    "'",
    "&amp;",
    "&lt;",
    "<!--",
    "]]>",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u202d",
    "\u2066",
    "\u2069",
    "e\u0301",
    "\u0301",
    "ก\u0e34\u0e48\u0e49",
    "\u0e48",
    "พระบาทสมเด็จพระปรเมนทรรามาธิบดีศรีสินทรมหาวชิราลงกรณ",
    "นค 0019.3/ว 1",
    "๒๕๖๘",
    "COVID-19",
    "nk2567@cdd.go.th",
    "https://www.cdd.go.th/2567",
    " ",
    "\t",
    "\n",
]

# Thai and printable ASCII: the characters the letter font draws (others are a lint warning
# and a box, tested in tests/test_render.py).
letters = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x0E01, max_codepoint=0x0E5B, categories=("L", "M", "N", "P")),
)
# Refused by validation (a clear error, never a crash): control characters, lone surrogates.
INVALID = ["\x00", "\x07", "\x1b[31m", "\ud800", "\udfff"]
pieces = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(letters, min_size=1, max_size=12),
    st.builds(lambda c, n: c * n, st.sampled_from(["ก", "A", "๑", "ที่"]), st.integers(20, 400)),
)
printable = st.lists(pieces, min_size=1, max_size=6).map("".join)
hostile = st.one_of(
    printable,
    printable,
    printable,
    st.tuples(printable, st.sampled_from(INVALID), printable).map("".join),
)
# For letters with hostile text in every field at once: shorter, so a letter stays a few pages.
short_pieces = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(letters, min_size=1, max_size=8),
    st.builds(lambda c, n: c * n, st.sampled_from(["ก", "A", "๑"]), st.integers(20, 120)),
)
short = st.lists(short_pieces, min_size=1, max_size=3).map("".join)
LONG_WORD = "ก" * 9_999 + "ข"

# Deterministic and bounded: a few dozen letters per kind (a dozen PDFs).
PDF_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DOCX_SETTINGS = settings(PDF_SETTINGS, max_examples=8)


def load(name: str) -> dict:
    return json.loads((DATA / "letters" / f"{name}.letter.json").read_text("utf-8"))


def put(letter: dict, path: str, value: str) -> dict:
    """A copy of ``letter`` with ``value`` at the dotted ``path``."""
    letter = copy.deepcopy(letter)
    if path == "body.0":
        letter["body"][0:1] = [value]
    elif path == "body.1.items.0":
        letter["body"][1:2] = [{"items": [value, "ข้อสอง"]}]
    elif path.startswith("enclosures."):
        entries = letter.get("enclosures") or [{"title": "คู่มือ", "quantity": "๑ เล่ม"}]
        letter["enclosures"] = [{**entries[0], path.rsplit(".", 1)[1]: value}, *entries[1:]]
    elif path.endswith(".0"):  # a list of lines
        *keys, _ = path.split(".")
        target = letter
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        lines = target.get(keys[-1]) or []
        target[keys[-1]] = [value] + lines[1:]
    elif "." in path:
        key, inner = path.split(".")
        letter[key] = {**(letter.get(key) or {}), inner: value}
    else:
        letter[path] = value
    return letter


def visible(text: str, *, typed: bool = True) -> str:
    """Text as a reader sees it in the text layer: the office's digits, composed (line by
    line), without white space or invisible format characters (zero widths, bidi marks,
    soft hyphens). Text read back from a PDF (``typed=False``) has its digits already: a
    URL wrapped over two lines must not have its second half converted as if it were
    not part of the URL."""
    text = unicodedata.normalize("NFC", printed_digits(text, "thai") if typed else text)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def expect_refused(letter: dict, render) -> bool:
    """True when the letter is invalid, after checking that rendering says so clearly."""
    if not validate(letter):
        event("printed")
        return False
    event("refused")
    with pytest.raises(InvalidLetter) as error:
        render(letter)
    assert error.value.problems and error.value.status == 400
    return True


# --- DOCX --------------------------------------------------------------------------------------


FIELDS_OF_KINDS = [(kind, field) for kind in sorted(BASES) for field in PRINTED[kind]]


@pytest.mark.parametrize(("kind", "path"), FIELDS_OF_KINDS)
@DOCX_SETTINGS
@given(text=hostile)
@example(text=LONG_WORD)
def test_docx_prints_hostile_text_whole_or_refuses_it(kind, path, text):
    letter = put(load(BASES[kind]), path, text)
    if expect_refused(letter, render_docx):
        return
    document = Document(io.BytesIO(render_docx(letter)))
    section = document.sections[0]
    parts = [section.first_page_header, section.header, section.first_page_footer]
    furniture = [p.text for part in parts for p in part.paragraphs]
    assert visible(text) in visible("".join(docx_lines(document) + furniture))


# --- PDF ---------------------------------------------------------------------------------------

MARKER = re.compile(r"/.*\.\.\.")


def _body_lines(pdf: bytes, letter: dict, *, keep_footer: bool) -> str:
    """The text layer without page furniture. Margin boxes are drawn after a page's content,
    so the furniture is the tail of each page's text: the secrecy marks, the page number,
    the continuation marker and (page one) the slogan, moved to the end with
    ``keep_footer``."""
    secrecy = letter.get("secrecy")
    footer = visible(letter.get("footer") or "")
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    thai = "๐๑๒๓๔๕๖๗๘๙"
    kept: list[str] = []
    slogan: list[str] = []
    for number in range(1, pages + 1):
        lines = [
            ln
            for ln in pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number)).splitlines()
            if ln.strip()
        ]
        label = "- " + "".join(thai[int(d)] for d in str(number)) + " -"
        budget = {"secrecy": 2 if secrecy else 0, "number": int(number > 1)}
        budget["marker"] = int(number < pages)
        budget["footer"] = int(number == 1 and bool(footer))
        while lines:
            last = lines[-1].strip()
            if budget["secrecy"] and last == secrecy:
                budget["secrecy"] -= 1
            elif budget["number"] and last == label:
                budget["number"] -= 1
            elif budget["marker"] and MARKER.fullmatch(last):
                budget["marker"] -= 1
            elif budget["footer"] and footer.endswith(visible(last, typed=False)):
                spelled, start = "", len(lines)
                while start and footer.endswith(visible(lines[start - 1], typed=False) + spelled):
                    start -= 1
                    spelled = visible(lines[start], typed=False) + spelled
                    if spelled == footer:
                        break
                if spelled != footer:
                    break
                budget["footer"] -= 1
                slogan = lines[start:]
                del lines[start:]
                continue
            else:
                break
            lines.pop()
        kept += lines
    if keep_footer:
        kept += slogan
    return "\n".join(kept)  # a line break keeps a mark from composing with the line above


def every_field(kind: str):
    """A strategy for a letter of ``kind`` with its own hostile text in every printed
    field (the number and the e-mail address stay valid: any other is refused, tested with
    the DOCX); now and
    then one field holds a character validation refuses."""

    def build(texts: list[str], spoiled: int | None, bad: str) -> tuple[dict, dict]:
        letter = load(BASES[kind])
        placed = {}
        for path, text in zip(FIELDS[kind], texts, strict=True):
            if spoiled is not None and path == FIELDS[kind][spoiled % len(FIELDS[kind])]:
                text += bad
            letter = put(letter, path, text)
            placed[path] = text
        return letter, placed

    return st.builds(
        build,
        st.lists(short, min_size=len(FIELDS[kind]), max_size=len(FIELDS[kind])),
        st.one_of(st.none(), st.none(), st.none(), st.integers(0, 50)),
        st.sampled_from(INVALID),
    )


FIELDS = {
    kind: [f for f in fields if f not in ("ref_no", "contact.email")]
    for kind, fields in PRINTED.items()
}


@pytest.mark.pdf
@pytest.mark.parametrize("kind", sorted(BASES))
@PDF_SETTINGS
@given(data=st.data())
def test_pdf_text_layer_holds_hostile_text_whole_or_refuses_it(kind, data):
    letter, placed = data.draw(every_field(kind))
    if expect_refused(letter, render_pdf):
        return
    try:
        pdf = render_pdf(letter)
    except InvalidLetter as error:  # a slogan too long for the foot of page one
        assert [p.field for p in error.problems] == ["footer"]
        return
    printed = visible(_body_lines(pdf, letter, keep_footer=True), typed=False)
    for path, text in placed.items():
        assert visible(text) in printed, path
    for page in page_boxes(pdf):  # and nothing is pushed off the sheet
        for box in page.words:
            assert 0 <= box.x0 and box.x1 <= page.width, box
            assert 0 <= box.y0 and box.y1 <= page.height, box


@pytest.mark.pdf
@pytest.mark.parametrize("kind", sorted(BASES))
def test_pdf_prints_a_10000_character_word_whole(kind):
    letter = put(load(BASES[kind]), "body.0", LONG_WORD)
    pdf = render_pdf(letter)
    assert visible(LONG_WORD) in visible(_body_lines(pdf, letter, keep_footer=False), typed=False)
