"""Clerks' own .docx templates: variables, filling, and every way an untrusted one can fail."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from docx.shared import Pt

from saraban.errors import BadRequest, TooLarge
from saraban.templates.forms import (
    InvalidFormData,
    InvalidTemplate,
    Limits,
    TemplateTooLarge,
    _uploaded,
    fill_docx,
    fill_uploaded,
    inspect_template,
)


def make_template(
    *paragraphs: str, table: list[list[str]] | None = None, header: str | None = None
) -> bytes:
    """A .docx with one paragraph per string, an optional table and page header."""
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, texts in zip(grid.rows, table, strict=True):
            for cell, text in zip(row.cells, texts, strict=True):
                cell.text = text
    if header:
        document.sections[0].header.paragraphs[0].text = header
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


ROWS_TABLE = [
    ["ที่", "ชื่อ - สกุล", "ตำแหน่ง"],
    ["{%tr for member in members %}", "", ""],
    ["{{ loop.index }}", "{{ member.name }}", "{{ member['role'] }}"],
    ["{%tr endfor %}", "", ""],
]

LETTER = make_template(
    "เรียน {{ addressee }}",
    "เรื่อง {{ subject }}",
    "{% for tag in tags %}[{{ tag }}]{% endfor %}",
    "ศูนย์ {{ centre.name }} โทร. {{ centre.phone }}",
    table=ROWS_TABLE,
    header="{{ office }}",
)
LETTER_VALUES = {
    "addressee": "นายอำเภอ ทุกอำเภอ",
    "subject": "การรายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
    "tags": ["ด่วน", "ลับ"],
    "centre": {"name": "บ้านโพนสา", "phone": "๐๘๑ ๒๓๔ ๕๖๗๘"},
    "members": [
        {"name": "นายสมพงษ์ ศรีสุข", "role": "ประธาน"},
        {"name": "นางบุญมี แก้วประเสริฐ", "role": "เลขานุการ"},
    ],
    "office": "สำนักงานพัฒนาชุมชนจังหวัดหนองคาย",
}


# ---- inspect ----------------------------------------------------------------------------


def test_inspect_finds_variables_and_derives_a_schema():
    info = inspect_template(LETTER)
    assert info.variables == ["addressee", "centre", "members", "office", "subject", "tags"]
    items = {item["name"]: item for item in info.schema["items"]}
    assert items["addressee"]["kind"] == "field"
    assert items["members"]["kind"] == "table"
    assert [c["name"] for c in items["members"]["columns"]] == ["name", "role"]
    assert items["tags"]["kind"] == "list"
    assert items["centre"]["kind"] == "object"
    assert [f["name"] for f in items["centre"]["fields"]] == ["name", "phone"]
    assert "range" not in info.variables and "loop" not in info.variables


def test_a_tag_split_across_runs_is_still_found():
    document = Document()
    paragraph = document.add_paragraph("เรียน ")
    paragraph.add_run("{{ addr")
    paragraph.add_run("essee }}").font.size = Pt(20)
    out = io.BytesIO()
    document.save(out)
    assert inspect_template(out.getvalue()).variables == ["addressee"]
    assert paragraphs(fill_uploaded(out.getvalue(), {"addressee": "ท่าน"}))[0] == "เรียน ท่าน"


# ---- fill -------------------------------------------------------------------------------


def test_fill_puts_every_value_in_place():
    document = Document(io.BytesIO(fill_uploaded(LETTER, LETTER_VALUES)))
    lines = [p.text for p in document.paragraphs]
    assert lines == [
        "เรียน นายอำเภอ ทุกอำเภอ",
        "เรื่อง การรายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        "[ด่วน][ลับ]",
        "ศูนย์ บ้านโพนสา โทร. ๐๘๑ ๒๓๔ ๕๖๗๘",
    ]
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows == [
        ["ที่", "ชื่อ - สกุล", "ตำแหน่ง"],
        ["1", "นายสมพงษ์ ศรีสุข", "ประธาน"],
        ["2", "นางบุญมี แก้วประเสริฐ", "เลขานุการ"],
    ]
    assert document.sections[0].header.paragraphs[0].text == LETTER_VALUES["office"]


@pytest.mark.parametrize(
    "value",
    [
        "<w:p>",
        "A & B",
        "a < b > c",
        "\"quoted\" and 'single'",
        "]]><!--",
        "&amp; &lt;",
        "ทดสอบ\u200bศูนย์",
        "๑๒๓ 123",
    ],
)
def test_special_characters_survive_exactly(value):
    template = make_template("{{ a }}|{{ b }}", table=[["{{ c }}"]])
    document = Document(io.BytesIO(fill_uploaded(template, {"a": value, "b": value, "c": value})))
    assert document.paragraphs[0].text == f"{value}|{value}"
    assert document.tables[0].rows[0].cells[0].text == value


def test_extra_values_are_allowed():
    template = make_template("{{ a }}")
    assert paragraphs(fill_uploaded(template, {"a": "1", "province": "หนองคาย"})) == ["1"]


def test_thai_filters_are_available():
    template = make_template("{{ n|string|thai_digits }} {{ d|thai_date }} {{ m|baht_text }}")
    filled = fill_uploaded(template, {"n": 2565, "d": "2022-12-15", "m": "269000"})
    assert paragraphs(filled) == ["๒๕๖๕ ๑๕ ธันวาคม ๒๕๖๕ สองแสนหกหมื่นเก้าพันบาทถ้วน"]


# ---- missing values and bad values ------------------------------------------------------


def test_missing_variables_are_listed_before_rendering():
    with pytest.raises(InvalidFormData) as caught:
        fill_uploaded(LETTER, {"addressee": "ท่าน", "members": [{"name": "ก"}]})
    error = caught.value
    assert error.status == 400
    missing = {p.field for p in error.problems if p.code == "missing"}
    assert missing == {"subject", "tags", "centre", "office", "members.0.role"}
    assert "{{ subject }}" in error.message and "ไม่มีค่าสำหรับ" in error.message


def test_bad_values_are_refused_with_their_paths():
    template = make_template("{{ a }}{{ b }}")
    with pytest.raises(InvalidFormData) as caught:
        fill_uploaded(template, {"a": "bell\x07", "b": {"x": object()}})
    assert {(p.field, p.code) for p in caught.value.problems} == {
        ("a", "control_character"),
        ("b.x", "type"),
    }


def test_values_must_be_an_object():
    with pytest.raises(InvalidFormData):
        fill_uploaded(make_template("x"), ["a"])  # type: ignore[arg-type]


# ---- hostile templates ------------------------------------------------------------------


def refused(template: bytes, values: dict) -> InvalidTemplate:
    with pytest.raises(InvalidTemplate) as caught:
        fill_uploaded(template, values)
    error = caught.value
    assert error.status == 400 and isinstance(error, BadRequest)
    assert error.problems and all(p.th and p.en for p in error.problems)
    return error


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ self.__init__.__globals__.__builtins__ }}",
        "{{ x.__class__.__base__ }}",
        "{{ x|attr('__class__') }}",
        "{{ '{0.__class__}'.format(x) }}",
        "{{ x.ljust(10) }}",
    ],
)
def test_python_internals_are_out_of_reach(expression):
    template = make_template("ก่อน", expression, "หลัง")
    error = refused(template, {"x": "ข้อความ", "cycler": "c"})
    assert error.problems[0].code in ("unsafe", "syntax")
    assert "unsafe" in error.message or "No filter named 'attr'" in error.message


def test_undefined_globals_are_missing_values_not_internals():
    error = pytest.raises(
        InvalidFormData, fill_uploaded, make_template("{{ cycler.__init__.__globals__.os }}"), {}
    ).value
    assert [p.field for p in error.problems] == ["cycler"]


def test_an_infinite_loop_is_stopped():
    error = refused(make_template("{% for i in range(10**12) %}{{ i }}{% endfor %}"), {})
    assert error.problems[0].code == "limit"
    assert "range()" in error.message and "paragraph 1" in error.message


def test_nested_loops_are_counted():
    template = make_template(
        "{% for a in rows %}{% for b in rows %}{% for c in rows %}x{% endfor %}"
        "{% endfor %}{% endfor %}"
    )
    error = refused(template, {"rows": list(range(2000))})
    assert "loops ran more than" in error.message


def test_recursion_and_call_storms_are_stopped():
    template = make_template(
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    )
    assert "calls" in refused(template, {}).message


@pytest.mark.parametrize(
    "expression",
    [
        "{{ 'x' * 10**9 }}",
        "{{ 10**100000 }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ big|replace('a', 'aaaaaaaaaaaaaaaaaaaa') }}",
        "{{ [1]|batch(10**9, 0)|list }}",
    ],
)
def test_memory_bombs_are_refused(expression):
    refused(make_template(expression), {"big": "a" * 90_000})


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_constant_jinja_folds_into_its_code_is_a_template_error(value):
    """``'nan'|float`` is folded into the code Jinja makes as the name ``nan``: a
    NameError, which ended `saraban forms fill-template` with a traceback."""
    refused(make_template(f"{{{{ '{value}'|float|baht_text }}}}"), {})


def test_output_size_is_capped():
    template = make_template("{% for i in rows %}{{ big }}{% endfor %}")
    error = refused(template, {"rows": list(range(2000)), "big": "ก" * 90_000})
    assert "exceed" in error.message


def test_a_10000_row_table_is_refused_with_the_limit():
    template = make_template(table=ROWS_TABLE)
    rows = [{"name": f"สมาชิก {i}", "role": "กรรมการ"} for i in range(10_000)]
    with pytest.raises(InvalidFormData) as caught:
        fill_uploaded(template, {"members": rows})
    [problem] = caught.value.problems
    assert (problem.field, problem.code) == ("members", "too_many_rows")
    assert "2,000" in problem.en


def test_a_2000_row_table_is_rendered():
    rows = [{"name": f"สมาชิก {i}", "role": "กรรมการ"} for i in range(2000)]
    document = Document(
        io.BytesIO(fill_uploaded(make_template(table=ROWS_TABLE), {"members": rows}))
    )
    table = document.tables[0]
    assert len(table.rows) == 2001
    assert [c.text for c in table.rows[2000].cells] == ["2000", "สมาชิก 1999", "กรรมการ"]


@pytest.mark.parametrize(
    "expression",
    [
        "{{ [[1]*1000000]*1000000 }}",  # a million references to one list: 82 s, 2.6 GB
        "{% set a = 10**1000 %}" + "{% set a = a*a %}" * 22 + "{{ a }}",  # ran past 100 s
    ],
)
def test_what_a_value_holds_is_bounded_not_only_its_length(expression):
    message = refused(make_template(expression), {}).message
    assert "too large" in message or "exceed" in message


def test_chained_filters_are_held_to_the_time_limit():
    """Filters are no calls: thirty chains over a million items ran 78 s past 20 s."""
    chain = "{{ ([1]*1000000)|map('string')|unique|list|length }}" * 30
    with pytest.raises(InvalidTemplate, match="took longer than 0.5 seconds"):
        fill_uploaded(make_template(chain), {}, limits=Limits(seconds=0.5))


def test_limits_can_be_tightened():
    template = make_template("{% for i in range(50) %}{{ i }}{% endfor %}")
    with pytest.raises(InvalidTemplate, match="loops ran more than 10"):
        fill_uploaded(template, {}, limits=Limits(max_iterations=10))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{{ name }", "unexpected '}'"),
        ("{% for a in rows %}", "endfor"),
        ("{% if x %}ก{% endfor %}", "endfor"),
        ("{{ }}", "Expected an expression"),
        ("{% include 'other.docx' %}", "not allowed"),
    ],
)
def test_broken_tags_name_the_paragraph(text, fragment):
    template = make_template("ย่อหน้าแรก", f"เรียน {text}")
    with pytest.raises(InvalidTemplate) as caught:
        inspect_template(template)
    [problem] = caught.value.problems
    assert problem.code == "syntax"
    assert fragment in problem.en
    assert problem.field.startswith("body.paragraph.")
    assert "แท็กในแม่แบบไม่ถูกต้อง" in problem.th


def test_a_broken_tag_in_the_header_is_located_there():
    with pytest.raises(InvalidTemplate) as caught:
        inspect_template(make_template("ก", header="{{ office "))
    assert caught.value.problems[0].field.startswith("header.paragraph.")


def test_a_broken_tag_points_at_its_paragraph():
    with pytest.raises(InvalidTemplate) as caught:
        inspect_template(make_template("หนึ่ง", "สอง", "สาม {{ x }"))
    problem = caught.value.problems[0]
    assert problem.field == "body.paragraph.3"
    assert "สาม {{ x }" in problem.en and "ย่อหน้าที่ ๓" in problem.th


def test_nothing_else_is_affected_after_refusals():
    for template, values in [
        (make_template("{% for i in range(10**12) %}x{% endfor %}"), {}),
        (make_template("{{ ''.__class__.__mro__ }}"), {}),
        (make_template("{{ broken }"), {}),
    ]:
        with pytest.raises(BadRequest):
            fill_uploaded(template, values)
    assert paragraphs(fill_uploaded(LETTER, LETTER_VALUES))[0] == "เรียน นายอำเภอ ทุกอำเภอ"
    assert fill_docx("centre_year_plan", {"year": 2565, "targets": [{"target": "ก"}]})


# ---- size and zip-bomb limits -----------------------------------------------------------


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_an_oversized_upload_is_refused_before_opening():
    with pytest.raises(TemplateTooLarge) as caught:
        inspect_template(b"PK" + b"\0" * (_uploaded.MAX_UPLOAD_BYTES + 1))
    assert caught.value.status == 413 and isinstance(caught.value, TooLarge)


def test_a_zip_bomb_is_refused_by_ratio():
    bomb = zip_of({"[Content_Types].xml": b"<x/>", "word/document.xml": b"\0" * 30_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(TemplateTooLarge, match="zip bomb"):
        inspect_template(bomb)


def test_a_zip_bomb_is_refused_by_total_size():
    members = {f"word/media/{i}.bin": bytes(range(256)) * 4096 * 9 for i in range(5)}
    members.update({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"})
    with pytest.raises(TemplateTooLarge, match="unpacks to"):
        inspect_template(zip_of(members))


def test_too_many_members_are_refused():
    members = {f"m/{i}": b"" for i in range(_uploaded.MAX_MEMBERS + 1)}
    with pytest.raises(TemplateTooLarge, match="files"):
        inspect_template(zip_of(members))


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip at all",
        zip_of({"hello.txt": b"hi"}),
        zip_of({"[Content_Types].xml": b"<broken", "word/document.xml": b"<x/>"}),
    ],
)
def test_not_a_word_document(data):
    with pytest.raises(InvalidTemplate) as caught:
        inspect_template(data)
    assert caught.value.problems[0].code == "not_docx"
    assert "ไม่ใช่เอกสาร Word" in caught.value.message


def test_a_picture_linked_from_outside_the_file_is_refused():
    """LibreOffice fetched a linked picture from any address while making the PDF (the
    server's own network included) and printed what came back; a hyperlink and the Word
    template the file was made from are only named, and stay allowed."""
    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    document = Document()
    document.add_paragraph("{{ name }}")
    part = document.part
    part.relate_to("https://example.org/", RT.HYPERLINK, is_external=True)
    settings = part.part_related_by(RT.SETTINGS)
    settings.relate_to(
        "file:///C:/Users/clerk/Templates/letter.dotx",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate",
        is_external=True,
    )
    allowed = io.BytesIO()
    document.save(allowed)
    assert fill_uploaded(allowed.getvalue(), {"name": "x"})
    part.relate_to("http://169.254.169.254/latest/picture.png", RT.IMAGE, is_external=True)
    linked = io.BytesIO()
    document.save(linked)
    error = refused(linked.getvalue(), {"name": "x"})
    assert "169.254.169.254" in error.message and "embed pictures" in error.message


def test_a_header_named_over_and_over_is_refused_before_it_is_read():
    """docxtpl reads and fills a header once for each reference to it: a 38 KB file that
    named its header 200 times took 61 s to inspect and 79 s more to fill."""
    import re

    from saraban.templates.forms import TemplateTooLarge

    data = make_template("{{ a }}", header="{{ h }}")
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info)
            if info.filename == "word/_rels/document.xml.rels":
                text = blob.decode()
                one = re.search(r'<Relationship [^>]*relationships/header"[^>]*/>', text)[0]
                rid = re.search(r'Id="([^"]+)"', one)[1]
                copies = "".join(one.replace(f'Id="{rid}"', f'Id="rX{n}"') for n in range(200))
                blob = text.replace(one, one + copies).encode()
            target.writestr(info, blob)
    with pytest.raises(TemplateTooLarge, match="201 times"):
        inspect_template(out.getvalue())
    assert inspect_template(data).variables == ["a", "h"]
