"""Built-in report forms: catalogue, schemas, validation, DOCX filled and blank, read back."""

from __future__ import annotations

import copy
import io
import json
import re

import pytest
from conftest import DATA
from docx import Document
from docx.oxml.ns import qn

from saraban.cli import main as saraban_main
from saraban.errors import BadRequest, NotFound, Problem
from saraban.templates import _forms_cli
from saraban.templates.forms import (
    FormNotFound,
    InvalidFormData,
    blank_docx,
    fill_docx,
    form_schema,
    list_forms,
    validate_form_data,
)
from saraban.templates.forms._build import stale

FORMS_DATA = DATA / "forms"
NAMES = ["centre_report", "centre_year_plan", "self_development_plan", "activity_schedule"]


def sample(name: str) -> dict:
    return json.loads((FORMS_DATA / f"{name}.json").read_text("utf-8"))


def read_docx(data: bytes):
    return Document(io.BytesIO(data))


def body_text(document) -> str:
    """All paragraphs and table cells, in document order."""
    parts = []
    for element in document.element.body.iter(qn("w:p")):
        parts.append("".join(t.text or "" for t in element.iter(qn("w:t"))))
    return "\n".join(parts)


def rows_of(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def table_with_header(document, first_header: str, second: str):
    for table in document.tables:
        row = [c.text for c in table.rows[0].cells]
        if row[0] == first_header and second in row:
            return table
    raise AssertionError(f"no table headed {first_header!r}, {second!r}")


@pytest.fixture(scope="module")
def filled() -> dict:
    return {name: read_docx(fill_docx(name, sample(name))) for name in NAMES}


# ---- catalogue and schema ---------------------------------------------------------------


def test_list_forms_names_and_titles():
    forms = list_forms()
    assert [f.name for f in forms] == NAMES
    assert forms[0].title == "แบบรายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"
    assert all(f.title and f.title_en and f.source for f in forms)
    json.dumps([f.as_dict() for f in forms])


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_json_and_describes_every_field(name):
    schema = form_schema(name)
    assert json.loads(json.dumps(schema, ensure_ascii=False)) == schema
    assert schema["name"] == name
    for item in schema["items"]:
        assert item["kind"] in ("field", "table", "photos")
        assert item["label"]["th"] and item["label"]["en"]


def test_schema_of_the_committee_has_twenty_rows_and_preset_roles():
    items = {i["name"]: i for i in form_schema("centre_report")["items"]}
    committee = items["committee"]
    assert committee["max_rows"] == 20
    assert [c["name"] for c in committee["columns"]] == ["name", "role"]
    assert committee["presets"][0] == {"role": "ประธาน"}
    assert committee["presets"][19] == {"role": "กรรมการ"}
    assert items["province"]["required"] is True
    assert items["courses"]["columns"][4]["type"] == "integer"


def test_unknown_form_is_not_found_and_lists_the_known_ones():
    with pytest.raises(FormNotFound) as caught:
        fill_docx("tax_return", {})
    error = caught.value
    assert isinstance(error, NotFound) and error.status == 404
    assert "tax_return" in error.message
    assert all(name in error.message for name in NAMES)
    assert error.as_dict()["known"] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_seed_samples_are_valid(name):
    assert validate_form_data(name, sample(name)) == []


def test_validation_names_every_problem_with_its_path():
    data = sample("centre_report")
    del data["province"]
    data["committee"][3]["name"] = ""
    data["courses"][1]["days"] = "สามวัน"
    data["courses"][0]["group_size"] = 0
    data["coordinators"].append({"name": "นายสาม"})
    data["colour"] = "red"
    data["highlight"] = "bell\x07"
    problems = validate_form_data("centre_report", data)
    found = {(p.field, p.code) for p in problems}
    assert found == {
        ("province", "required"),
        ("committee.3.name", "required"),
        ("courses.1.days", "type"),
        ("courses.0.group_size", "range"),
        ("coordinators", "too_many_rows"),
        ("colour", "unknown_field"),
        ("highlight", "control_character"),
    }
    assert all(isinstance(p, Problem) and p.th and p.en for p in problems)
    with pytest.raises(InvalidFormData) as caught:
        fill_docx("centre_report", data)
    error = caught.value
    assert error.status == 400 and isinstance(error, BadRequest)
    assert "committee.3.name" in error.message and "ต้องกรอกชื่อ - สกุล" in error.message
    assert len(error.as_dict()["problems"]) == len(problems)


@pytest.mark.parametrize("value", [" ", "\u00a0\u3000", "\u200b", "\ufeff \u2060", "\n\t"])
def test_a_required_value_of_spaces_or_invisible_characters_is_missing(value):
    data = sample("centre_report")
    data["province"] = value
    data["committee"][0]["name"] = value
    found = {(p.field, p.code, p.th) for p in validate_form_data("centre_report", data)}
    assert ("province", "required", "ต้องกรอกจังหวัด") in found
    assert ("committee.0.name", "required", "ต้องกรอกชื่อ - สกุล") in found


def test_an_optional_value_of_spaces_is_kept_as_typed():
    data = sample("centre_report")
    data["house_no"] = "  "
    assert validate_form_data("centre_report", data) == []


@pytest.mark.parametrize(
    ("value", "code"),
    [("2565-01-25", "be_year"), ("25/01/2022", "date"), (20220125, "type")],
)
def test_dates_must_be_iso_with_the_ce_year(value, code):
    data = sample("centre_year_plan")
    data["targets"][0]["district_due"] = value
    [problem] = validate_form_data("centre_year_plan", data)
    assert (problem.field, problem.code) == ("targets.0.district_due", code)


@pytest.mark.parametrize(
    ("value", "ok"), [(7, True), ("7", True), ("๗", True), (13, False), (True, False), (7.5, False)]
)
def test_month_numbers(value, ok):
    data = sample("self_development_plan")
    data["start_month"] = value
    assert (validate_form_data("self_development_plan", data) == []) is ok


def test_not_an_object():
    [problem] = validate_form_data("centre_year_plan", ["year", 2565])
    assert problem.code == "type"


# ---- the committed templates ------------------------------------------------------------


def test_committed_docx_templates_match_their_designs():
    assert stale() == [], "run scripts/make_forms.py"


@pytest.mark.parametrize("name", NAMES)
def test_every_run_sets_the_thai_font_slots(name, filled):
    document = filled[name]
    runs = list(document.element.body.iter(qn("w:r")))
    assert runs
    for run in runs:
        if run.find(qn("w:t")) is None:
            continue
        rpr = run.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:cs")) == "TH SarabunPSK"
        assert rpr.find(qn("w:szCs")) is not None


# ---- filled forms, read back ------------------------------------------------------------


def test_centre_report_values_in_place(filled):
    data = sample("centre_report")
    document = filled["centre_report"]
    lines = [p.text for p in document.paragraphs]
    assert "รายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน อำเภอโพนพิสัย" in lines
    assert "จังหวัดหนองคาย" in lines
    assert ("ศูนย์ผู้นำจิตอาสาพัฒนาชุมชนบ้านโพนสา หมู่ที่ ๓ ตำบลจุมพล อำเภอโพนพิสัย จังหวัดหนองคาย") in lines
    assert "บ้านเลขที่ ๑๒๔ หมู่ที่ ๓ บ้านโพนสา ตำบลจุมพล อำเภอโพนพิสัย จังหวัดหนองคาย" in lines
    assert data["highlight"] in lines and data["best_practice"] in lines
    assert not any("....." in line for line in lines)

    coordinators, advisers, committee = document.tables[:3]
    assert rows_of(coordinators) == [
        ["๑)", "นายสมพงษ์ ศรีสุข", "ตำแหน่ง ประธานศูนย์ฯ", "โทร. ๐๘๑ ๒๓๔ ๕๖๗๘"],
        ["๒)", "นางบุญมี แก้วประเสริฐ", "ตำแหน่ง เลขานุการศูนย์ฯ", "โทร. ๐๘๙ ๘๗๖ ๕๔๓๒"],
    ]
    assert rows_of(advisers)[4] == ["๕.", "พระครูสุนทรธรรมโกวิท", "ผู้ทรงคุณวุฒิ"]
    assert rows_of(advisers)[6] == ["๗.", "นางสาวกาญจนา ใจงาม", "เจ้าหน้าที่พัฒนาชุมชนอำเภอ"]
    rows = rows_of(committee)
    assert len(rows) == 20
    assert rows[0] == ["๑.", "นายสมพงษ์ ศรีสุข", "ประธาน"]
    assert rows[2] == ["๓.", "นางคำปุ่น ไชยวงศ์", "รองประธาน"]
    assert rows[6] == ["๗.", "นางละเอียด จันทร์หอม", "ปฏิคม"]
    assert rows[19] == ["๒๐.", "นางเพ็ญศรี นามวงศ์", "กรรมการและผู้ช่วยเลขานุการ"]
    for index, member in enumerate(data["committee"]):
        assert rows[index][1] == member["name"]

    bases = table_with_header(document, "ที่", "ชื่อฐานเรียนรู้")
    assert rows_of(bases)[0] == ["ที่", "ชื่อฐานเรียนรู้", "วัตถุประสงค์การเรียนรู้", "ขอบเขตการเรียนรู้"]
    for index, base in enumerate(data["bases"], start=1):
        assert rows_of(bases)[index][1:] == [base["name"], base["objective"], base["scope"]]

    courses = table_with_header(document, "ที่", "ชื่อหลักสูตร")
    assert len(courses.columns) == 8
    assert rows_of(courses)[1] == [
        "๑",
        "หลักสูตรโคก หนอง นา โมเดล",
        "ออกแบบพื้นที่ตามหลักปรัชญาของเศรษฐกิจพอเพียง",
        "บรรยาย ฝึกปฏิบัติในแปลง",
        "ผู้นำชุมชนและครัวเรือนเป้าหมาย",
        "๓๐",
        "๓",
        "ไม่มี",
    ]
    assert rows_of(courses)[2][5:] == ["๒๕", "๑", "๕๐ บาท"]

    plan = table_with_header(document, "ที่", "แผนงาน/โครงการ/กิจกรรม")
    assert len(plan.columns) == 7
    assert rows_of(plan)[2] == [
        "๒",
        "อบรมหลักสูตรโคก หนอง นา โมเดล",
        "๖๐ คน",
        "ใช้งบ ๒๐,๐๐๐ บาท",
        "ม.ค. - มี.ค. ๒๕๖๖",
        "เลขานุการศูนย์ฯ",
        "งบ อบต.จุมพล",
    ]
    assert len(rows_of(plan)) == 1 + len(data["plan"])


def test_centre_report_sections_in_order(filled):
    text = body_text(filled["centre_report"])
    marks = [
        "๑. ชื่อศูนย์",
        "๒. ที่ตั้ง",
        "๓. ความโดดเด่น",
        "๔. ชื่อ - สกุล ผู้ประสานงาน",
        "๕. โครงสร้างการบริหาร",
        "คณะที่ปรึกษา",
        "รายชื่อคณะกรรมการ",
        "๖. การบริการ",
        "ด้านฐานเรียนรู้",
        "ด้านหลักสูตร",
        "ด้านวิทยากร",
        "๗. องค์ความรู้",
        "๘. แผนการขับเคลื่อน",
        "๙. ภาพถ่ายประกอบ",
    ]
    positions = [text.index(mark) for mark in marks]
    assert positions == sorted(positions)


def test_centre_year_plan_grouped_header_and_dates(filled):
    [table] = filled["centre_year_plan"].tables
    rows = rows_of(table)
    assert len(table.columns) == 6
    assert rows[0][3] == rows[0][4] == "วัน เดือน ปี ที่รายงาน"
    assert rows[1][3:5] == ["อำเภอรายงานจังหวัด", "รายงานกรมฯ"]
    assert rows[2] == [
        "๑",
        "- ระดับอำเภอ จำนวน ๙ ศูนย์/อำเภอ",
        "๑ - ๒",
        "- ภายในวันที่ ๒๕ มกราคม ๒๕๖๕",
        "- ภายในวันที่ ๓๑ มกราคม ๒๕๖๕",
        "",
    ]
    assert rows[3] == [
        "๒",
        "- ระดับตำบล จำนวน ๖๒ ศูนย์/ตำบล",
        "๓ - ๔",
        "- ภายในวันที่ ๒๐ พฤษภาคม ๒๕๖๕",
        "- ภายในวันที่ ๓๑ พฤษภาคม ๒๕๖๕",
        "ตำบลละ ๑ ศูนย์",
    ]
    title = filled["centre_year_plan"].paragraphs[0].text
    assert title == "แผนการขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน ประจำปี ๒๕๖๕"
    assert filled["centre_year_plan"].sections[0].page_width > (
        filled["centre_year_plan"].sections[0].page_height
    )


def test_self_development_plan_table_and_summary(filled):
    document = filled["self_development_plan"]
    data = sample("self_development_plan")
    lines = [p.text for p in document.paragraphs]
    assert "(ชื่อ - สกุล นางสมศรี ใจดี)" in lines
    assert "สรุป : ๑. กิจกรรมที่ต้องดำเนินการพัฒนาด้วยตนเอง จำนวน ๒ กิจกรรม" in lines
    assert (
        "๒. กิจกรรมที่จะดำเนินการพัฒนาโดยขอความร่วมมือและขอรับการสนับสนุนจากหน่วยงานอื่น จำนวน ๓ กิจกรรม"
    ) in lines
    assert "๓. เริ่มพัฒนาตนเองตั้งแต่เดือน กรกฎาคม พ.ศ. ๒๕๖๐" in lines
    assert (
        "๔. พร้อมขอให้คณะกรรมการตรวจประเมินฯ ดำเนินการประเมินได้ ตั้งแต่วันที่ ๑๕ เดือน สิงหาคม พ.ศ. ๒๕๖๐"
    ) in lines
    [table] = document.tables
    rows = rows_of(table)
    assert len(table.columns) == 7
    assert rows[0][3] == rows[0][4] == "ความสามารถในการพัฒนาตนเอง"
    keys = ["area", "activity", "by_self", "with_support", "owner", "period"]
    for index, activity in enumerate(data["activities"]):
        assert rows[2 + index] == [str("๑๒๓"[index]), *[activity[k] for k in keys]]


def test_activity_schedule_merges_each_activity_over_its_steps(filled):
    document = filled["activity_schedule"]
    data = sample("activity_schedule")
    lines = [p.text for p in document.paragraphs]
    assert lines[:3] == [
        "โครงการเสริมสร้างและพัฒนาผู้นำการเปลี่ยนแปลง",
        "ประจำปีงบประมาณ ๒๕๖๔",
        "มีทั้งหมด ๗ กิจกรรม ดังนี้",
    ]
    [table] = document.tables
    assert len(table.columns) == 3
    rows = table.rows[1:]
    assert len(rows) == sum(len(a["steps"]) for a in data["activities"])
    index = 0
    for number, activity in enumerate(data["activities"], start=1):
        for step_index, step in enumerate(activity["steps"]):
            cells = rows[index]._tr.findall(qn("w:tc"))
            merge = cells[0].find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            assert merge.get(qn("w:val")) == ("restart" if step_index == 0 else "continue")
            texts = ["\n".join(p.text for p in cell.paragraphs) for cell in rows[index].cells]
            assert texts[0] == f"กิจกรรมที่ {'๑๒๓๔๕๖๗'[number - 1]}\n{activity['title']}"
            assert texts[1:] == [step["method"], step["when"]]
            index += 1


# ---- blank forms ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_blank_forms_keep_their_dotted_lines(name):
    document = read_docx(blank_docx(name))
    text = body_text(document)
    assert "....." in text
    assert "{{" not in text and "{%" not in text


def test_blank_centre_report_has_preset_rows_and_dots():
    document = read_docx(blank_docx("centre_report"))
    lines = [p.text for p in document.paragraphs]
    assert any(
        re.fullmatch(r"ศูนย์\.{45} หมู่ที่\.{6} ตำบล\.{20} อำเภอ\.{20} จังหวัด\.{20}", x) for x in lines
    )
    committee = rows_of(document.tables[2])
    assert len(committee) == 20
    assert committee[0] == ["๑.", "." * 45, "ประธาน"]
    assert committee[19] == ["๒๐.", "." * 45, "กรรมการ"]
    advisers = rows_of(document.tables[1])
    assert [row[2] for row in advisers] == [
        "ส่วนราชการ",
        "ส่วนราชการ",
        "ส่วนราชการ",
        "ส่วนราชการ",
        "ผู้ทรงคุณวุฒิ",
        "พัฒนาการอำเภอ",
        "เจ้าหน้าที่พัฒนาชุมชนอำเภอ",
    ]
    bases = table_with_header(document, "ที่", "ชื่อฐานเรียนรู้")
    assert rows_of(bases)[1:] == [["๑", "", "", ""], ["๒", "", "", ""], ["๓", "", "", ""]]


def test_blank_self_development_summary_dots():
    lines = [p.text for p in read_docx(blank_docx("self_development_plan")).paragraphs]
    assert "สรุป : ๑. กิจกรรมที่ต้องดำเนินการพัฒนาด้วยตนเอง จำนวน........กิจกรรม" in lines
    assert f"๓. เริ่มพัฒนาตนเองตั้งแต่เดือน{'.' * 20}พ.ศ.{'.' * 10}" in lines


def test_blank_activity_schedule_has_seven_numbered_rows():
    document = read_docx(blank_docx("activity_schedule"))
    rows = rows_of(document.tables[0])[1:]
    assert [r[0] for r in rows] == [f"กิจกรรมที่ {d}\n{'.' * 20}" for d in "๑๒๓๔๕๖๗"]
    assert "มีทั้งหมด.....กิจกรรม ดังนี้" in [p.text for p in document.paragraphs]


# A clerk types a place with its word (บ้านหาดคำ, ต.จุมพล); the form prints the word itself.
PLACES_TYPED_WHOLE = {
    "centre_name": "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชนบ้านหาดคำ",
    "village": "บ้านหาดคำ",
    "moo": "หมู่ที่ ๕",
    "house_no": "เลขที่ ๗",
    "subdistrict": "ต.หาดคำ",
    "district": "อำเภอเมืองหนองคาย",
    "province": "จ. หนองคาย",
}


def test_a_place_typed_with_its_word_is_printed_once():
    data = {**sample("centre_report"), **PLACES_TYPED_WHOLE}
    data["coordinators"][0]["phone"] = "โทร. ๐๘๑ ๒๓๔ ๕๖๗๘"
    document = read_docx(fill_docx("centre_report", data))
    lines = [p.text for p in document.paragraphs]
    assert "รายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน อำเภอเมืองหนองคาย" in lines
    assert "จังหวัดหนองคาย" in lines
    assert ("ศูนย์ผู้นำจิตอาสาพัฒนาชุมชนบ้านหาดคำ หมู่ที่ ๕ ตำบลหาดคำ อำเภอเมืองหนองคาย จังหวัดหนองคาย") in lines
    assert "บ้านเลขที่ ๗ หมู่ที่ ๕ บ้านหาดคำ ตำบลหาดคำ อำเภอเมืองหนองคาย จังหวัดหนองคาย" in lines
    assert "บ้านหาดคำ หมู่ที่ ๕ ตำบลหาดคำ อำเภอเมืองหนองคาย จังหวัดหนองคาย" in lines
    text = body_text(document)
    assert "โทร. ๐๘๑ ๒๓๔ ๕๖๗๘" in text
    for doubled in ("ศูนย์ศูนย์", "บ้านบ้าน", "หมู่ที่ หมู่ที่", "ตำบลต.", "อำเภออำเภอ", "จังหวัดจ.", "โทร. โทร."):
        assert doubled not in text


def test_a_value_that_is_only_the_word_prints_the_word_once():
    data = {**sample("centre_report"), "village": "บ้าน"}
    lines = [p.text for p in read_docx(fill_docx("centre_report", data)).paragraphs]
    assert any(line.startswith("บ้านเลขที่ ๑๒๔ หมู่ที่ ๓ บ้าน ตำบลจุมพล") for line in lines)


def test_optional_values_left_empty_keep_their_dots():
    data = sample("centre_report")
    del data["house_no"]
    lines = [p.text for p in read_docx(fill_docx("centre_report", data)).paragraphs]
    assert any(line.startswith("บ้านเลขที่........ หมู่ที่ ๓ บ้านโพนสา") for line in lines)


# ---- what a value can hold --------------------------------------------------------------


SPECIALS = [
    "<w:p>ไม่ใช่แท็ก</w:p>",
    "A & B < C > D \" E ' F",
    "{{ province }} {% for %}",
    "ผู้ใหญ่บ้าน\u200bหมู่\u200cที่",
    "๑๒๓ 123 mixed ไทย English",
    "นํ้า น้ำ ปั้น",
]


@pytest.mark.parametrize("value", SPECIALS)
def test_values_survive_exactly(value):
    data = sample("centre_year_plan")
    data["targets"][1]["note"] = value
    data["targets"][0]["target"] = value
    [table] = read_docx(fill_docx("centre_year_plan", data)).tables
    rows = rows_of(table)
    assert rows[2][1] == f"- {value}"
    assert rows[3][5] == value


def test_multi_line_values_become_line_breaks():
    data = sample("activity_schedule")
    data["activities"][0]["steps"][0]["when"] = "ครั้งที่ ๑\nครั้งที่ ๒"
    document = read_docx(fill_docx("activity_schedule", data))
    cell = document.tables[0].rows[1].cells[2]
    assert cell.text == "ครั้งที่ ๑\nครั้งที่ ๒"
    assert cell._tc.find(f".//{qn('w:br')}") is not None


def test_filling_does_not_change_the_callers_data():
    data = sample("centre_report")
    before = copy.deepcopy(data)
    fill_docx("centre_report", data)
    assert data == before


# ---- command line -----------------------------------------------------------------------


def run_cli(argv, capsys):
    import argparse

    parser = argparse.ArgumentParser(prog="saraban")
    _forms_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args), capsys.readouterr()


def test_cli_list(capsys):
    status, out = run_cli(["forms", "list"], capsys)
    assert status == 0
    assert out.out.splitlines()[0].startswith("centre_report")
    status, out = run_cli(["forms", "list", "--json"], capsys)
    assert [f["name"] for f in json.loads(out.out)] == NAMES


def test_cli_fill_and_blank(tmp_path, capsys):
    target = tmp_path / "out" / "plan.docx"
    status, out = run_cli(
        [
            "forms",
            "fill",
            "centre_year_plan",
            str(FORMS_DATA / "centre_year_plan.json"),
            "-o",
            str(target),
        ],
        capsys,
    )
    assert status == 0 and out.out.strip() == str(target)
    assert "ระดับตำบล" in body_text(Document(target))
    blank = tmp_path / "blank.docx"
    run_cli(["forms", "blank", "self_development_plan", "-o", str(blank)], capsys)
    assert "....." in body_text(Document(blank))
    assert [p.name for p in tmp_path.rglob(".*.part")] == []


def test_cli_errors_are_clear(tmp_path, capsys):
    with pytest.raises(BadRequest, match=r"\.docx or \.pdf"):
        run_cli(["forms", "blank", "centre_report", "-o", str(tmp_path / "x.odt")], capsys)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(BadRequest, match="not valid JSON"):
        run_cli(
            ["forms", "fill", "centre_report", str(bad), "-o", str(tmp_path / "x.docx")], capsys
        )
    with pytest.raises(FormNotFound):
        run_cli(["forms", "blank", "nope", "-o", str(tmp_path / "x.docx")], capsys)


def test_saraban_command_has_forms(capsys):
    assert saraban_main(["forms", "list"]) == 0
    assert "centre_report" in capsys.readouterr().out
    assert saraban_main(["forms", "blank", "nope", "-o", "x.docx"]) == 2
    assert "nope" in capsys.readouterr().err
