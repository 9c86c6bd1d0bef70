"""Letters rendered to DOCX and PDF and read back: parts, order, Thai forms, robustness."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import zipfile

import pytest
import weasyprint
from conftest import DATA, SEEDS
from docx import Document
from docx.oxml.ns import qn
from docxutil import docx_lines
from pdfutil import no_weasyprint_warnings, page_boxes, pdftotext
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from saraban.digits import printed_digits
from saraban.errors import InvalidLetter, SarabanError
from saraban.settings import Settings
from saraban.templates import RenderError, render_docx, render_pdf
from saraban.templates._pdf import _LocalOnlyFetcher
from saraban.templates._thai_breaks import NEVER, break_classes
from saraban.thai import thai_date, to_thai_digits

SEED_LETTERS = sorted(SEEDS.glob("*.letter.json"))
KIND_LETTERS = sorted((DATA / "letters").glob("*.letter.json"))
ALL_LETTERS = SEED_LETTERS + KIND_LETTERS


def load(path) -> dict:
    return json.loads(path.read_text("utf-8"))


def letter_id(path) -> str:
    return path.name.split(".")[0]


def squash(text: str) -> str:
    """Text without any white space: PDF lines wrap Thai where the source has no space."""
    return re.sub(r"\s+", "", text)


def expected_parts(letter: dict) -> list[str]:
    """Every printed part of a letter, in the official order of its kind."""
    kind = letter["kind"]
    date = letter["date"] and dt.date.fromisoformat(letter["date"])
    body = []
    for block in letter["body"]:
        if isinstance(block, str):
            body.append(block)
        else:
            body += [
                f"{to_thai_digits(str(i + 1))}. {item}" for i, item in enumerate(block["items"])
            ]
    signer = letter["signer"]
    signature = ([f"({signer['name']})"] if signer.get("name") else []) + signer["position"]
    contact = [v for v in (letter["contact"].get("phone"), letter["contact"].get("email")) if v]
    if kind == "external":
        parts = [
            letter["urgency"],
            letter["ref_no"],
            letter["sender"]["name"],
            *letter["sender"]["address"],
            thai_date(date),
            letter["subject"],
            letter["addressee"],
            *letter["references"],
            *[e["title"] for e in letter["enclosures"]],
            *body,
            letter["closing"],
            letter["complimentary_close"],
            *signature,
            *letter["owner_unit"],
            *contact,
        ]
    elif kind == "memo":
        parts = [
            "บันทึกข้อความ",
            "ส่วนราชการ",
            "ที่",
            letter["ref_no"],
            "วันที่",
            thai_date(date),
            "เรื่อง",
            letter["subject"],
            letter["addressee"],
            *body,
            letter["closing"],
            *signature,
        ]
    elif kind in ("order", "announcement"):
        word = "คำสั่ง" if kind == "order" else "ประกาศ"
        decree = "สั่ง" if kind == "order" else "ประกาศ"
        parts = [
            word + letter["issuer"],
            letter["ref_no"],
            letter["subject"],
            *body,
            f"{decree} ณ วันที่ {thai_date(date, 'decree')}",
            *signature,
        ]
    else:  # stamped
        parts = [
            letter["ref_no"],
            "ถึง",
            letter["addressee"],
            *body,
            letter["sender"]["name"],
            thai_date(date),
            *letter["owner_unit"],
            *contact,
        ]
    # Every digit prints in the office's kind (Thai by default), typed ones included.
    return [printed_digits(p, "thai") for p in parts if p]


def assert_in_order(text: str, parts: list[str]) -> None:
    haystack, position = squash(text), 0
    for part in parts:
        found = haystack.find(squash(part), position)
        assert found >= 0, f"missing or out of order: {part!r} (after offset {position})"
        position = found + len(squash(part))


def docx_text(data: bytes) -> str:
    return "\n".join(docx_lines(Document(io.BytesIO(data))))


def pdf_letter_text(pdf: bytes, furniture: tuple[str | None, ...] = ()) -> str:
    """The text layer, page by page, without page furniture: page numbers, continuation
    markers and the given texts (the footer slogan, secrecy marks), which may wrap."""
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    keep = []
    for number in range(1, pages + 1):
        text = pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number))
        lines = [ln for ln in text.splitlines() if not FURNITURE.fullmatch(ln)]
        for item in filter(None, furniture):
            lines = _without_run_of_lines(lines, squash(item))
        keep += lines
    return "\n".join(keep)


def _without_run_of_lines(lines: list[str], target: str) -> list[str]:
    """Drop the consecutive lines that together spell ``target`` (white space aside)."""
    for start in range(len(lines)):
        joined = ""
        for end in range(start, len(lines)):
            joined += squash(lines[end])
            if joined == target:
                return lines[:start] + lines[end + 1 :]
            if not target.startswith(joined):
                break
    return lines


FURNITURE = re.compile(r"\s*(- [๐-๙]+ -|/.*\.\.\.)\s*")


# --- DOCX ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_LETTERS, ids=letter_id)
def test_docx_holds_every_part_in_order(path):
    letter = load(path)
    assert_in_order(docx_text(render_docx(letter)), expected_parts(letter))


@pytest.mark.parametrize("path", ALL_LETTERS, ids=letter_id)
def test_docx_every_run_sets_the_thai_font_slot_and_size(path):
    data = render_docx(load(path))
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = [
            n
            for n in package.namelist()
            if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n)
        ]
        from lxml import etree

        runs = 0
        for name in parts:
            root = etree.fromstring(package.read(name))
            for run in root.iter(qn("w:r")):
                if run.find(qn("w:t")) is None:
                    continue
                runs += 1
                rpr = run.find(qn("w:rPr"))
                fonts = rpr.find(qn("w:rFonts"))
                assert fonts.get(qn("w:cs")) == "TH SarabunPSK", name
                assert rpr.find(qn("w:szCs")) is not None, name
                assert rpr.find(qn("w:szCs")).get(qn("w:val")) == rpr.find(qn("w:sz")).get(
                    qn("w:val")
                )
        assert runs > 10


@pytest.mark.parametrize("path", SEED_LETTERS[:2], ids=letter_id)
def test_docx_body_is_thai_distributed_and_page_is_official(path):
    letter = load(path)
    document = Document(io.BytesIO(render_docx(letter)))
    body_texts = {b for b in letter["body"] if isinstance(b, str)}
    justified = [p for p in document.paragraphs if p.text in body_texts]
    assert justified
    for paragraph in justified:
        jc = paragraph._p.pPr.find(qn("w:jc"))
        assert jc.get(qn("w:val")) == "thaiDistribute"
        assert round(paragraph.paragraph_format.first_line_indent.cm, 2) == 2.5
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert (round(section.left_margin.cm, 1), round(section.right_margin.cm, 1)) == (3.0, 2.0)
    assert section.different_first_page_header_footer
    assert section._sectPr.find(qn("w:pgNumType")).get(qn("w:fmt")) == "thaiNumbers"
    assert "PAGE" in section.header._element.xml
    assert document.inline_shapes[0].height.cm == pytest.approx(3.0, abs=0.01)  # the Garuda


def test_docx_has_no_empty_optional_parts():
    letter = load(SEED_LETTERS[0])
    assert letter["references"] == []
    text = docx_text(render_docx(letter))
    assert "อ้างถึง" not in text and "สำเนาส่ง" not in text and "โทรสาร" not in text


def test_docx_enclosure_quantities_sit_in_their_own_column():
    letter = copy.deepcopy(load(SEED_LETTERS[0]))
    letter["enclosures"][0]["title"] = "แนวทาง " * 30
    document = Document(io.BytesIO(render_docx(letter)))
    (table,) = document.tables
    for row, enclosure in zip(table.rows, letter["enclosures"], strict=True):
        quantity = row.cells[-1].text
        assert quantity == f"จำนวน {enclosure['quantity']}"
        assert enclosure["title"].strip() in row.cells[-2].text
    widths = [cell.width.cm for cell in table.rows[0].cells]
    assert sum(widths) == pytest.approx(16.0, abs=0.05)


def test_docx_memo_header_lines_are_dotted_to_the_margin():
    """As on the printed form: the memo's header lines run on dot leaders to the margin."""
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER

    document = Document(io.BytesIO(render_docx(load(DATA / "letters" / "memo.letter.json"))))
    dotted = [
        p
        for p in document.paragraphs
        if any(
            t.leader == WD_TAB_LEADER.DOTS
            and t.alignment == WD_TAB_ALIGNMENT.RIGHT
            and round(t.position.cm, 1) == 16.0
            for t in p.paragraph_format.tab_stops
        )
    ]
    assert [p.text.split()[0] for p in dotted] == ["ส่วนราชการ", "ที่", "เรื่อง"]
    assert all(p.text.endswith("\t") for p in dotted)
    memo_head = document.tables[0]
    assert "บันทึกข้อความ" in memo_head.rows[0].cells[2].text
    widths = [cell.width.cm for cell in memo_head.rows[0].cells]
    assert widths[0] + widths[1] == pytest.approx(widths[3])  # the title is centred


# --- PDF -------------------------------------------------------------------------------


@pytest.mark.pdf
@pytest.mark.parametrize("path", ALL_LETTERS, ids=letter_id)
def test_pdf_text_layer_holds_every_part_in_order(path):
    letter = load(path)
    with no_weasyprint_warnings():
        pdf = render_pdf(letter)
    text = pdf_letter_text(pdf, (letter.get("footer"), letter.get("secrecy")))
    assert_in_order(text, expected_parts(letter))
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    if letter.get("footer"):
        assert squash(letter["footer"]) in squash(pdftotext(pdf, "-raw"))


@pytest.mark.pdf
@pytest.mark.parametrize("path", SEED_LETTERS, ids=letter_id)
def test_pdf_breaks_lines_only_between_thai_words(path):
    letter = load(path)
    pdf = render_pdf(letter)
    lines = [squash(ln) for ln in pdf_letter_text(pdf, (letter.get("footer"),)).splitlines()]
    ends, offset = set(), 0
    for line in lines:
        offset += len(line)
        ends.add(offset)
    whole = "".join(lines)
    checked = 0
    for block in letter["body"]:
        for typed in [block] if isinstance(block, str) else block["items"]:
            paragraph = printed_digits(typed, "thai")
            # Where a line may end, as the breaker decides (between words, or between the
            # parts of a compound on a loose line), in the text without white space.
            classes = break_classes(paragraph)
            breaks = [classes[i] != NEVER for i, char in enumerate(paragraph) if not char.isspace()]
            start = whole.find(squash(paragraph))
            assert start >= 0, paragraph[:40]
            inside = [e for e in ends if start < e < start + len(squash(paragraph))]
            for end in inside:
                checked += 1
                assert breaks[end - start], (
                    f"line breaks inside a word: …{whole[end - 12 : end + 12]}…"
                )
    assert checked > 0


@pytest.mark.pdf
def test_pdf_pages_are_numbered_in_thai_with_continuation_markers():
    letter = load(SEEDS / "003_4dc97dfab31f716a.letter.json")
    pdf = render_pdf(letter)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    for number in range(1, len(pages) + 1):
        text = pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number))
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if number == 1:
            assert "- ๑ -" not in text
        else:
            assert f"- {to_thai_digits(str(number))} -" in lines
        if number < len(pages):
            marker = next(ln for ln in lines if ln.startswith("/") and ln.endswith("..."))
            following = pdftotext(pdf, "-raw", "-f", str(number + 1), "-l", str(number + 1))
            body = [ln for ln in following.splitlines() if ln.strip() and not ln.startswith("-")]
            assert squash(body[0]).startswith(squash(marker[1:-3])), (marker, body[0])


@pytest.mark.pdf
def test_pdf_marks_urgency_and_secrecy_on_every_page():
    letter = load(DATA / "letters" / "secret.letter.json")
    letter["body"] = letter["body"] * 4  # several pages
    pdf = render_pdf(letter)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages >= 2
    for number in range(1, pages + 1):
        text = pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number))
        assert text.count("ลับ") >= 2, f"page {number}: secrecy mark at top and bottom"
    assert "ด่วนที่สุด" in pdftotext(pdf, "-raw", "-l", "1")


@pytest.mark.pdf
def test_pdfa_carries_the_letter_document():
    letter = load(SEED_LETTERS[1])
    reader = PdfReader(io.BytesIO(render_pdf(letter, pdfa=True)))
    embedded = reader.attachments["letter.json"][0]
    assert json.loads(embedded)["ref_no"] == letter["ref_no"]
    assert b"pdfaid:part" in reader.trailer["/Root"]["/Metadata"].get_object().get_data()


# --- bad and hostile input --------------------------------------------------------------

HOSTILE = {
    "markup": '<b>ตัวหนา</b> & "อัญประกาศ" \'เดี่ยว\' <img src="file:///etc/passwd"> ]]> &amp;',
    "zero_width": "ศูนย์\u200bผู้นำ\u200cจิต\u200dอาสา\ufeffพัฒนาชุมชน",
    "emoji": "ขอบคุณครับ 🙏🇹🇭 👍🏽",
    "long_word": "ก" * 600,
    "long_url": "https://example.go.th/" + "a" * 400,
    "mixed": "COVID-19 ๒๕๖๘ 2025 ภาษาไทย English 中文",
}


def hostile_letter(text: str) -> dict:
    letter = load(SEED_LETTERS[0])
    letter["subject"] = text
    letter["body"] = [text, {"items": [text, text]}]
    letter["signer"]["name"] = text[:200]
    letter["enclosures"][0]["title"] = text
    return letter


@pytest.mark.parametrize("name", HOSTILE)
def test_docx_keeps_hostile_text_exactly(name):
    text = HOSTILE[name]
    document = Document(io.BytesIO(render_docx(hostile_letter(text))))
    assert printed_digits(text, "thai") in docx_lines(document)


NO_GLYPHS = {"emoji", "mixed"}  # Sarabun draws no emoji or Chinese: WeasyPrint warns, draws boxes


@pytest.mark.pdf
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.missing_glyphs) if n in NO_GLYPHS else n for n in HOSTILE],
)
def test_pdf_of_hostile_text_is_valid(name, tmp_path):
    pdf = render_pdf(hostile_letter(HOSTILE[name]))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    text = squash(pdftotext(pdf, "-raw"))
    if name in ("markup", "mixed", "long_word"):
        assert squash(printed_digits(HOSTILE[name], "thai")) in text


@pytest.mark.pdf
def test_forty_page_body_renders():
    letter = load(SEED_LETTERS[0])
    first, second = [b for b in letter["body"] if isinstance(b, str)][:2]
    letter["body"] = [f"{first} {second}"] * 120
    pdf = render_pdf(letter)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 40
    assert len(Document(io.BytesIO(render_docx(letter))).paragraphs) > 120


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "data:,x"])
def test_pdf_fetcher_refuses_anything_outside_the_templates(url):
    from saraban.templates._pdf import ASSETS

    fetcher = _LocalOnlyFetcher([ASSETS])
    html = f'<img src="{url}"><link rel="stylesheet" href="{url}">'
    with pytest.raises(FatalURLFetchingError):
        weasyprint.HTML(string=html, base_url=str(ASSETS), url_fetcher=fetcher).write_pdf()


# --- one kind of digits per letter (SARABAN_LETTER_DIGITS) -------------------------------

THAI_DIGITS = re.compile("[๐-๙]")
ARABIC_DIGITS = re.compile("[0-9]")


def arabic_typed_letter() -> dict:
    letter = load(SEED_LETTERS[0])
    letter["body"] = letter["body"] * 2 + ["ส่งภายใน 15 วัน ทาง www.cdd.go.th/2567 เรื่อง COVID-19"]
    letter["references"] = ["หนังสือจังหวัดหนองคาย ที่ นค 0019.3/ว 1 ลงวันที่ 3 ธันวาคม 2567"]
    letter["enclosures"][0]["quantity"] = "2 ชุด"
    letter["contact"] = {"phone": "0 4241 1182", "fax": None, "email": "nk2567@cdd.go.th"}
    return letter


AS_TYPED = ("www.cdd.go.th/2567", "COVID-19", "nk2567@cdd.go.th")


def _without(text: str, kept: tuple[str, ...]) -> str:
    for part in kept:
        text = text.replace(part, "")
    return text


@pytest.mark.pdf
def test_every_printed_digit_is_thai_by_default():
    letter = arabic_typed_letter()
    pdf_text = pdftotext(render_pdf(letter), "-raw")
    docx = docx_text(render_docx(letter))
    for text in (squash(pdf_text), squash(docx)):
        assert "นค๐๐๑๙.๓/ว๑ลงวันที่๓ธันวาคม๒๕๖๗" in text
        assert "ส่งภายใน๑๕วัน" in text and "จำนวน๒ชุด" in text
        for part in AS_TYPED:  # e-mail addresses, URLs and Latin words keep their digits
            assert part in text
        assert not ARABIC_DIGITS.search(_without(text, AS_TYPED))
    assert "- ๒ -" in pdf_text


@pytest.mark.pdf
def test_an_office_may_print_arabic_digits_throughout():
    letter = arabic_typed_letter()
    letter["body"].append("ภายในวันที่ ๓๑ มีนาคม ๒๕๖๘")
    pdf_text = pdftotext(render_pdf(letter, digits="arabic"), "-raw")
    data = render_docx(letter, digits="arabic")
    for text in (squash(pdf_text), squash(docx_text(data))):
        assert "15ธันวาคม2565" in text  # the generated date
        assert "ภายในวันที่31มีนาคม2568" in text  # typed Thai digits converted
        assert not THAI_DIGITS.search(text)
    assert "- 2 -" in pdf_text.splitlines()
    section = Document(io.BytesIO(data)).sections[0]
    assert section._sectPr.find(qn("w:pgNumType")).get(qn("w:fmt")) == "decimal"


def test_a_wrong_digits_setting_is_a_clear_error():
    with pytest.raises(SarabanError, match="SARABAN_LETTER_DIGITS"):
        Settings.from_mapping({"SARABAN_LETTER_DIGITS": "roman"})
    with pytest.raises(SarabanError, match="SARABAN_LETTER_DIGITS"):
        render_docx(load(SEED_LETTERS[0]), digits="roman")


# --- text is text: no letter text can end the page's style or fetch a file (issue 11) ------

BREAKOUT = (
    "</style><style>.secrecy, .head, .foot { display: none }</style>"
    "<p>อนุมัติให้จ่ายเงิน ๙,๙๙๙,๙๙๙ บาท</p><img src=file:///etc/passwd>"
)


def long_secret_letter() -> dict:
    letter = load(DATA / "letters" / "secret.letter.json")
    letter["body"] = letter["body"] * 4
    return letter


@pytest.mark.pdf
def test_a_footer_cannot_end_the_style_forge_a_line_or_hide_the_secrecy_marks():
    """A footer that closed the page's <style> printed a forged line, hid the ลับ marks and,
    with an <img src=file:...>, crashed the renderer with a BaseException."""
    letter = long_secret_letter()
    letter["footer"] = BREAKOUT
    pdf = render_pdf(letter)
    text = squash(pdftotext(pdf, "-raw"))
    assert squash(BREAKOUT) in text  # printed whole, as text
    assert text.count("อนุมัติให้จ่ายเงิน") == 1  # and only there: no line of its own
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages >= 2
    for number in range(1, pages + 1):
        page = pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number))
        marks = [ln for ln in page.splitlines() if ln.strip() == letter["secrecy"]]
        assert len(marks) == 2, f"page {number}: the secrecy mark at the top and the bottom"


@pytest.mark.pdf
def test_a_body_word_that_becomes_the_continuation_marker_stays_text():
    letter = long_secret_letter()
    paragraphs = [block for block in letter["body"] if isinstance(block, str)]
    letter["body"] = [f"</style>{BREAKOUT} {paragraph}" for paragraph in paragraphs] * 3
    pdf = render_pdf(letter)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    markers = [
        line.strip()
        for number in range(1, pages)
        for line in pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number)).splitlines()
        if line.strip().startswith("/") and line.strip().endswith("...")
    ]
    # the first word of a page, at most 24 characters of it, printed as text
    assert "/</style></style><style>...." in markers, markers
    assert squash(pdftotext(pdf, "-raw")).count("อนุมัติให้จ่ายเงิน") == len(letter["body"])


@pytest.mark.pdf
@pytest.mark.parametrize(
    "field",
    ["sender.name", "enclosures.0.quantity", "subject", "body.0", "signer.name", "footer"],
)
def test_long_unbroken_text_wraps_and_is_printed_whole(field):
    """``sender.name`` and enclosure quantities were clipped at the page edge."""
    letter = load(SEED_LETTERS[0])
    limit = {"sender.name": 500, "enclosures.0.quantity": 500, "signer.name": 500}.get(
        field, 1_000 if field == "subject" else 10_000
    )
    word = ("ก" * 9 + "ข") * (limit // 10)
    if field == "footer":
        word = word[:400]  # a slogan must fit at the foot of page one (longer ones are refused)
    target = letter
    *path, last = field.split(".")
    for key in path:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = word
    pdf = render_pdf(letter)
    if field == "footer":
        assert squash(word) in squash(pdftotext(pdf, "-raw", "-l", "1"))
    else:
        assert squash(word) in squash(pdf_letter_text(pdf, (letter["footer"],)))
    for page in page_boxes(pdf):  # and nothing runs off the printable area
        for box in page.words:
            assert box.x0 >= 28 and page.width - box.x1 >= 28, box


@pytest.mark.pdf
def test_a_slogan_too_long_for_the_foot_of_page_one_is_a_clear_error():
    letter = load(SEED_LETTERS[0])
    letter["footer"] = "คำขวัญ " * 1000
    with pytest.raises(InvalidLetter) as error:
        render_pdf(letter)
    assert [p.field for p in error.value.problems] == ["footer"]
    assert error.value.status == 400


@pytest.mark.pdf
def test_a_text_direction_override_cannot_reverse_what_is_printed():
    """An override (U+202E) typed into the salutation printed the addressee after it, on the
    same line, reversed; one in an amount printed ๑,๐๐๐ for ๐๐๐,๑. They are not printed."""
    letter = load(SEED_LETTERS[0])
    letter["salutation"] = "เรียน\u202e"
    letter["addressee"] = "นายอำเภอ https://www.cdd.go.th/2567"
    letter["body"][0] = "ขอเบิกเงิน \u202e๐๐๐,๑ บาท"
    expected = ["เรียน นายอำเภอ https://www.cdd.go.th/2567", "ขอเบิกเงิน ๐๐๐,๑ บาท"]
    pdf_text = squash(pdftotext(render_pdf(letter), "-raw"))
    lines = docx_lines(Document(io.BytesIO(render_docx(letter))))
    for text in expected:
        assert squash(text) in pdf_text
        assert any(text in line for line in lines)
    assert not any("\u202e" in line for line in lines)


@pytest.mark.pdf
def test_any_failure_inside_weasyprint_is_a_render_error():
    """WeasyPrint's FatalURLFetchingError derives from BaseException: it passed every
    ``except Exception`` and left the request unanswered. Now it is a RenderError (500)."""
    from saraban.templates._pdf import html_to_pdf

    with pytest.raises(RenderError) as error:
        html_to_pdf('<img src="file:///etc/passwd">')
    assert error.value.status == 500
    assert isinstance(error.value.__cause__, FatalURLFetchingError)
    assert "file:///etc/passwd" in str(error.value)


@pytest.mark.pdf
def test_a_renderer_fault_while_rendering_a_letter_is_a_render_error(monkeypatch):
    from saraban.templates import _pdf

    def fetch_a_file(layout, furniture, emblem):  # a fault of the renderer's own making
        return '<img src="file:///etc/passwd">'

    monkeypatch.setattr(_pdf, "_letter_html", fetch_a_file)
    with pytest.raises(RenderError) as error:
        render_pdf(load(SEED_LETTERS[0]))
    assert error.value.as_dict() == {"ok": False, "error": str(error.value), "status": 500}


def test_invalid_letter_is_refused_before_rendering():
    letter = load(SEED_LETTERS[0])
    del letter["signer"]["name"]
    letter["kind"] = "telegram"
    with pytest.raises(InvalidLetter) as error:
        render_docx(letter)
    fields = {p.field for p in error.value.problems}
    assert "kind" in fields


def test_render_does_not_change_its_input():
    letter = load(SEED_LETTERS[2])
    before = copy.deepcopy(letter)
    render_docx(letter)
    assert letter == before


@pytest.mark.soffice
@pytest.mark.parametrize("path", SEED_LETTERS[:1] + KIND_LETTERS[:1], ids=letter_id)
def test_libreoffice_opens_the_docx(path, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is installed by scripts/setup --test"
    source = tmp_path / "letter.docx"
    source.write_bytes(render_docx(load(path)))
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = pdftotext((tmp_path / "letter.pdf").read_bytes(), "-raw")
    assert squash(load(path)["subject"]) in squash(text)


@pytest.mark.pdf
def test_the_cycle_collector_is_paused_while_rendering_and_restored_after(monkeypatch):
    """A render's hundreds of thousands of objects were walked by the collector again and
    again (a quarter of a long table's time): it is paused while WeasyPrint works, and
    comes back after, whether the render succeeds or fails."""
    import gc

    from saraban.templates._pdf import html_to_pdf

    seen = []
    write_pdf = weasyprint.Document.write_pdf

    def watched(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.Document, "write_pdf", watched)
    assert gc.isenabled()
    render_pdf(load(SEED_LETTERS[0]))
    html_to_pdf("<p>ตาราง</p>")
    assert seen == [False, False]
    assert gc.isenabled()
    with pytest.raises(RenderError):
        html_to_pdf('<img src="file:///etc/passwd">')
    assert gc.isenabled()


def test_overlapping_pauses_restore_the_collector_as_the_first_found_it(monkeypatch):
    """Threads render at once: the collector comes back when the last render ends, and a
    collector someone else turned off stays off. Renders that overlap without end still
    have their garbage collected, every COLLECT_EVERY_S seconds."""
    import gc

    from saraban.templates import _pdf
    from saraban.templates._pdf import collector_paused

    runs: list[int] = []

    def count(phase, info):
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        first, second = collector_paused(), collector_paused()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert not gc.isenabled()  # the second render still runs
        assert runs == []  # and the collector did not: it ran a moment ago
        monkeypatch.setattr(_pdf, "COLLECT_EVERY_S", 0.0)
        third = collector_paused()
        third.__enter__()
        second.__exit__(None, None, None)  # overdue, the third still runs: collected now
        assert runs == [2] and not gc.isenabled()
        third.__exit__(None, None, None)
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(count)
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "run", ["ก" * 200_000, "1." * 100_000, "1-" * 100_000, "ก" * 200_000 + "@", "a1" * 100_000]
)
def test_the_digits_of_a_long_run_without_spaces_are_found_in_one_pass(run):
    """Every draft save and every file read lints the digits: an e-mail or a Latin word was
    tried at each character of a run without spaces, each try scanning to the run's end
    and back, and a 100,000-character subject took 66 s (200,000: 272 s). Run apart, with
    room to spare a thousand times over: the quadratic would take hours."""
    import subprocess
    import sys

    script = (
        "import sys; from saraban.digits import digit_kinds, printed_digits; "
        "t = sys.stdin.read(); digit_kinds(t); printed_digits(t, 'thai')"
    )
    subprocess.run([sys.executable, "-c", script], input=run, text=True, timeout=60, check=True)
    mixed = "ติดต่อsaraban@x.go.th COVID-19 2564ABC ข้อ 2.1 1.A4 ที่1A"
    assert printed_digits(mixed, "thai") == ("ติดต่อsaraban@x.go.th COVID-19 2564ABC ข้อ ๒.๑ 1.A4 ที่1A")
