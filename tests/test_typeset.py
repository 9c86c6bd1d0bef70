"""Long tables typeset by Typst (templates/_typeset.py), read back with pdftotext."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from pdfa import pdfa_problems
from pdfutil import page_boxes, pdftotext

from saraban.templates._typeset import TypesetTable, table_pdf

pytestmark = pytest.mark.pdf

HOSTILE = [
    '#panic("x")',
    "$x^2$ *ตัวหนา* _เอียง_",
    "] ) } [ #let a = 1",
    '#read("/etc/passwd")',
    '#image("/etc/hostname")',
    "<label> @ref // ความเห็น /* ปิด */",
    "\\ \\u{41} `code` = หัวข้อ",
    "#set page(width: 1cm)",
]


def _table(**changes) -> TypesetTable:
    base = {
        "title": "สรุปผลการรายงาน",
        "subtitle": "ตามหนังสือที่ นค ๐๐๑๗.๒/ว ๑๒๓",
        "columns": ["ลำดับ", "หน่วยงาน", "ข้อความ", "จำนวน"],
        "widths": [0.7, 3.0, 3.0, 1.0],
        "numeric": [False, False, False, True],
        "rows": [["๑", "อำเภอท่าบ่อ", "ดี", "๑๒"]],
    }
    return TypesetTable(**(base | changes))


def _squeezed(pdf: bytes) -> str:
    return "".join(pdftotext(pdf, "-raw").split())  # as drawn: a cell's lines together


def test_text_typed_anywhere_is_printed_as_typed_never_read_as_markup():
    pdf = table_pdf(
        _table(
            title=HOSTILE[0],
            subtitle=HOSTILE[1],
            columns=["ลำดับ", *HOSTILE[2:4]],
            widths=[0.7, 3.0, 3.0],
            numeric=[False, False, False],
            rows=[["๑", *HOSTILE[4:6]], ["๒", *HOSTILE[6:8]]],
            lists=[(HOSTILE[7], HOSTILE)],
        )
    )
    text = _squeezed(pdf)
    for hostile in HOSTILE:
        assert "".join(hostile.split()) in text
    assert "root:" not in text  # nothing was read from the machine
    assert page_boxes(pdf)[0].width > 800  # A4 landscape: the page setting was not changed


def test_thai_text_layer_is_exact_with_marks_above_upper_vowels():
    # Typst writes a mark drawn apart from its consonant as a second copy of the cluster
    # (ตะกั่กั่ว) unless the font's mark positioning is off.
    words = "ตะกั่ว โพธิ์ ผึ้ง ปั้น สั่ง ชั้น ที่ น้ำ ญี่ปุ่น ฎีกา ฐาน ป่า ฟื้น"
    pdf = table_pdf(_table(rows=[["๑", words, words, "๑"]], lists=[("รายชื่อ", [words])]))
    assert _squeezed(pdf).count("".join(words.split())) == 3
    for doubled in ("กั่กั่", "ธิ์ธิ์", "ผึ้ผึ้"):
        assert doubled not in pdftotext(pdf)


def test_a_name_is_not_cut_inside_and_an_overlong_run_stays_in_its_column():
    long_run = "ก" * 300 + "https://example.org/" + "a" * 200
    pdf = table_pdf(
        _table(
            widths=[0.7, 0.8, 3.0, 1.0],
            rows=[["๑", "ที่ว่าการอำเภอรัตนวาปี", long_run, "๑"]],
        )
    )
    page = page_boxes(pdf)[0]
    lines = [w.text for w in page.words]
    assert "รัตนวาปี" in lines or "ที่ว่าการอำเภอรัตนวาปี" in lines  # never รัตนวา|ปี
    assert "".join(long_run.split()) in _squeezed(pdf)
    pieces = [w for w in page.words if set(w.text) <= set(long_run)]
    next_column = min(w.x0 for w in page.words if w.text == "จำนวน")
    assert len(pieces) > 3  # cut over several lines
    assert all(w.x1 < next_column for w in pieces)  # within its column


def test_a_long_table_repeats_its_header_numbers_pages_in_thai_and_is_pdfa():
    rows = [[str(n), f"อำเภอ {n}", "ข้อความ", str(n)] for n in range(1, 121)]
    pdf = table_pdf(_table(rows=rows, strong_rows=[119]))
    pages = page_boxes(pdf)
    assert len(pages) >= 3
    for n, page in enumerate(pages, start=1):
        words = [w.text for w in page.words]
        assert "หน่วยงาน" in words
        assert "๐๑๒๓๔๕๖๗๘๙"[n] in words  # หน้า ๑, ๒, ...
    assert pdfa_problems(pdf) == []


def test_an_empty_table_prints_the_lists_alone():
    pdf = table_pdf(_table(rows=[], lists=[("ยังไม่ตอบ (๒)", ["๑. อำเภอ ก", "๒. อำเภอ ข"])]))
    text = pdftotext(pdf)
    assert "ยังไม่ตอบ" in text and "อำเภอ ข" in text
    assert "หน่วยงาน" not in text


def test_a_table_without_rows_says_so_under_its_header():
    pdf = table_pdf(_table(rows=[], empty="ไม่มีรายการ"))
    text = pdftotext(pdf)
    assert "หน่วยงาน" in text and "ไม่มีรายการ" in text


def test_a_table_of_more_text_than_a_pdf_prints_is_refused_before_typst_sees_it(monkeypatch):
    from saraban.errors import TooLarge
    from saraban.templates import _typeset

    monkeypatch.setattr(_typeset, "MAX_PRINTED_CHARS", 1_000)
    rows = [["๑", "อำเภอ", "ก" * 300, "๑"] for _ in range(4)]
    with pytest.raises(TooLarge, match="XLSX หรือ CSV") as refused:
        table_pdf(_table(rows=rows))
    assert refused.value.status == 413
    table_pdf(_table(rows=rows[:3]))  # 918 characters: printed


def test_a_character_sarabun_does_not_draw_prints_the_table_anyway():
    # PDF/A wants every character drawn: Typst refused the whole table for one emoji
    pdf = table_pdf(_table(rows=[["๑", "อำเภอ 王小明 ﷽", "ตอบแล้ว 👍", "๑"]]))
    text = pdftotext(pdf)
    assert "อำเภอ" in text and "小明" in text and "ตอบแล้ว" in text
    assert pdfa_problems(table_pdf(_table())) == []  # a table Sarabun draws stays PDF/A


def test_columns_are_as_wide_as_their_words_so_numbers_are_not_cut():
    # weighed alone, the register's columns cut `เลขทะเบียน|ส่ง` and `นค ๐๐๑๗./๒/1`
    from saraban.archive._registers import _WIDTHS, OUTGOING_COLUMNS

    rows = [
        [f"{n} ม.ค. ๖๙", f"นค ๐๐๑๗.๒/{n}", f"นค ๐๐๑๗.๒/ว {n}", f"{n} ม.ค. ๒๕๖๙",
         "ที่ทำการปกครองจังหวัดหนองคาย", "นายอำเภอทุกอำเภอ",
         f"ขอเชิญประชุมคณะกรรมการพัฒนาจังหวัด ครั้งที่ {n}", "กลุ่มงานบริหารทั่วไป", ""]
        for n in range(1, 6)
    ]  # fmt: skip
    pdf = table_pdf(
        _table(
            columns=OUTGOING_COLUMNS,
            widths=_WIDTHS[OUTGOING_COLUMNS],
            numeric=[False] * len(OUTGOING_COLUMNS),
            rows=rows,
            margin=1.5,
        )
    )
    words = [w.text for w in page_boxes(pdf)[0].words]
    assert "เลขทะเบียนส่ง" in words
    for n in range(1, 6):
        assert f"๐๐๑๗.๒/{n}" in words and "๐๐๑๗.๒/ว" in words


def _country_form(rows: int = 3) -> TypesetTable:
    """The consolidated table of the form with the most columns: 18 with ลำดับ, หน่วยงาน."""
    from saraban.templates.forms import form_schema

    labels = [item["label"]["th"] for item in form_schema("centre_report")["items"]]
    name = "ศูนย์จิตอาสาบ้านหนองคาย"
    return _table(
        columns=["ลำดับ", "หน่วยงาน", *labels],
        widths=[0.7, 3.0] + [1.6] * len(labels),
        numeric=[False] * (2 + len(labels)),
        rows=[[str(n), f"ที่ทำการปกครองอำเภอเมือง {n}", *[name] * len(labels)] for n in range(rows)],
        size=10.0,
        header_size=9.0,
    )


def _sizes(pdf: bytes) -> set[float]:
    """The text sizes the PDF sets (its ``Tf`` operators)."""
    from pypdf import PdfReader

    found: set[float] = set()

    def seen(operator, operands, cm, tm) -> None:
        if operator == b"Tf":
            found.add(float(operands[1]))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_operand_before=seen)
    return found


def test_a_table_too_wide_for_its_words_is_set_smaller_so_no_word_is_cut():
    # at 10 and 9 pt the 18 columns printed `ลำดั|บ`, `ผู้ประส|านงาน`, `วิทยาก|ร`
    table = _country_form()
    pdf = table_pdf(table)
    words = {w.text for w in page_boxes(pdf)[0].words}
    for label in ("ลำดับ", "ผู้ประสานงาน", "คณะที่ปรึกษา", "ความโดดเด่น", "หลักสูตร", "วิทยากร"):
        assert label in words
    assert "ศูนย์จิตอาสา" in words or "ศูนย์จิตอาสาบ้านหนองคาย" in words
    cells = _sizes(pdf) - {table.title_size, table.size, 12.0}  # the title, subtitle, page
    assert len(cells) == 2 and all(7.0 <= size < table.header_size for size in cells)
    assert table.size in _sizes(pdf)  # the subtitle is not made smaller
    assert _sizes(table_pdf(_table())) == {16.0, 12.0}  # a table whose words fit: its sizes


def test_a_table_that_would_need_tiny_text_keeps_its_size_and_cuts_words_in_columns():
    wide = _country_form(rows=2)
    columns = [*wide.columns, *wide.columns[2:]]
    table = replace(
        wide,
        columns=columns,
        widths=[1.0] * len(columns),
        numeric=[False] * len(columns),
        rows=[[*row, *row[2:]] for row in wide.rows],
    )
    pdf = table_pdf(table)
    assert min(_sizes(pdf)) == table.header_size  # 4.3 pt would have fitted its words
    assert "ผู้ประสานงาน" in _squeezed(pdf)  # every label printed, cut over lines


def test_hostile_text_stored_before_it_was_refused_prints_as_a_page_shows_it():
    # a lone surrogate stopped the Thai segmenter and Typst (UTF-8 only): a 500 for the table
    surrogate = "ก\ud800" + "ข" * 300
    rows = [["๑", "</style><img src=file:///etc/passwd>", surrogate, "ก" * 10_000]]
    pdf = table_pdf(_table(columns=["ลำดับ", "หน่วยงาน", "ข้อความ", "ยาว"], rows=rows))
    text = _squeezed(pdf)
    assert "</style><imgsrc=file:///etc/passwd>" in text and "root:" not in text
    assert "ก\ufffdข" in text and text.count("ก") >= 10_000  # the word over several pages
