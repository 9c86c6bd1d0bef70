"""The built-in forms: the report forms enclosed with the seed circulars, rebuilt.

Each :class:`Form` pairs a schema (:mod:`templates.forms._schema`: what may be filled in)
with a design (:mod:`templates.forms._design`: how it is printed). The wording, columns and
order follow the seeds' text (``tests/data/seeds/*.txt``); where a seed's text is
incomplete the gap is said in the form's ``notes`` and in docs/forms.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from saraban.templates.forms._design import (
    Box,
    Col,
    Design,
    Fill,
    Grid,
    Page,
    PageBreak,
    Para,
    Strong,
)
from saraban.templates.forms._schema import Field, FormSchema, Photos, Table


@dataclass(frozen=True)
class FormInfo:
    """What the catalogue tells about a form (the list of forms, the web form's heading)."""

    name: str
    title: str  # Thai, as printed
    title_en: str
    source: str  # where the form comes from
    landscape: bool
    notes: str = ""

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": {"th": self.title, "en": self.title_en},
            "source": self.source,
            "orientation": "landscape" if self.landscape else "portrait",
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Form:
    info: FormInfo
    schema: FormSchema
    design: Design
    extra: dict = field(default_factory=dict)  # computed values: name -> function(data)

    @property
    def name(self) -> str:
        return self.info.name


def _heading(text: str, *, space: float = 6.0) -> Para:
    return Para((text,), bold=True, space_before_pt=space, keep_with_next=True)


def _line(*parts, indent: float = 1.0, hang: float = 0.0) -> Para:
    return Para(tuple(parts), indent_cm=indent, hang_cm=hang)


def _no(var: str, suffix: str = "") -> tuple:
    return (Fill(f"{var}.no", after=suffix),)


def _cell(path: str, **kwargs) -> tuple:
    return (Fill(path, **kwargs),)


# The words the forms print before a place's name, and their abbreviations: a name typed
# with its word (``อำเภอโพนพิสัย``, ``ต.จุมพล``) is printed with the word once.
_PLACE_WORDS = {
    "province": ("จังหวัด", ("จ.",)),
    "district": ("อำเภอ", ("อ.",)),
    "subdistrict": ("ตำบล", ("ต.",)),
    "village": ("บ้าน", ()),
    "moo": ("หมู่ที่", ("หมู่", "ม.")),
    "house_no": ("บ้านเลขที่", ("เลขที่",)),
    "centre_name": ("ศูนย์", ()),
}


def _place(name: str, dots: int, *, space: bool = False) -> Fill:
    """A place's name after its word: ``ตำบล.....`` blank, ``ตำบลจุมพล`` filled (``space``:
    ``หมู่ที่ ๓``, a number stands apart)."""
    word, aliases = _PLACE_WORDS[name]
    return Fill(name, dots, before=" " if space else "", prefix=word, aliases=aliases)


def _address(*names: str, dots: int = 20) -> tuple:
    """The parts of a place on one line, a space between them: ``หมู่ที่ ๓ ตำบลจุมพล ...``."""
    parts: list = []
    for name in names:
        if parts:
            parts.append(" ")
        short = {"moo": 6, "house_no": 8}.get(name)
        parts.append(_place(name, short or dots, space=bool(short)))
    return tuple(parts)


# ---- seed 000: แบบรายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน ------------------------------------

_ADVISER_KINDS = (
    "ส่วนราชการ",
    "ส่วนราชการ",
    "ส่วนราชการ",
    "ส่วนราชการ",
    "ผู้ทรงคุณวุฒิ",
    "พัฒนาการอำเภอ",
    "เจ้าหน้าที่พัฒนาชุมชนอำเภอ",
)
_COMMITTEE_ROLES = (
    "ประธาน",
    "รองประธาน",
    "รองประธาน",
    "เลขานุการ",
    "เหรัญญิก",
    "ประชาสัมพันธ์",
    "ปฏิคม",
    *("กรรมการ",) * 13,
)

_place_fields = (
    Field("province", "text", "จังหวัด", "province", required=True, max_length=60),
    Field("district", "text", "อำเภอ", "district", required=True, max_length=60),
    Field("subdistrict", "text", "ตำบล", "subdistrict (tambon)", required=True, max_length=60),
    Field("village", "text", "บ้าน (ชื่อหมู่บ้าน)", "village", required=True, max_length=80),
    Field("moo", "text", "หมู่ที่", "village number (moo)", max_length=10),
    Field("house_no", "text", "บ้านเลขที่", "house number", max_length=20),
)

CENTRE_REPORT = Form(
    FormInfo(
        "centre_report",
        "แบบรายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        "Community development volunteer leaders' centre: information report",
        "seed 000 (นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕), สิ่งที่ส่งมาด้วย ๔",
        landscape=False,
        notes="The seed's text lacks section ๗ and the last part of section ๖ (it ends "
        "with the continuation '/ด้าน...'); they are rebuilt from the guideline of the same "
        "letter: ๖ ด้านวิทยากร (guideline ๑.๕) and ๗ องค์ความรู้ที่ดีที่สุด (guideline ๒.๕).",
    ),
    FormSchema(
        (
            *_place_fields,
            Field(
                "centre_name",
                "text",
                "ชื่อศูนย์",
                "centre name",
                required=True,
                max_length=150,
                help="ชื่อต่อจากคำว่า “ศูนย์”",
            ),
            Field(
                "highlight",
                "textarea",
                "ความโดดเด่น",
                "what the centre stands out for",
                max_length=1500,
            ),
            Table(
                "coordinators",
                "ผู้ประสานงาน",
                "coordinators",
                (
                    Field("name", "text", "ชื่อ - สกุล", "name", required=True, max_length=100),
                    Field(
                        "position",
                        "text",
                        "ตำแหน่ง",
                        "position",
                        max_length=80,
                        help="ประธานศูนย์ฯ / เลขาฯ / ฯลฯ",
                    ),
                    Field("phone", "text", "โทรศัพท์", "phone", max_length=30),
                ),
                max_rows=2,
                blank_rows=2,
            ),
            Table(
                "advisers",
                "คณะที่ปรึกษา",
                "advisers",
                (
                    Field("name", "text", "ชื่อ - สกุล", "name", required=True, max_length=100),
                    Field("kind", "text", "ภาคส่วน", "sector", required=True, max_length=80),
                ),
                max_rows=15,
                presets=tuple({"kind": k} for k in _ADVISER_KINDS),
            ),
            Table(
                "committee",
                "คณะกรรมการศูนย์",
                "centre committee",
                (
                    Field("name", "text", "ชื่อ - สกุล", "name", required=True, max_length=100),
                    Field("role", "text", "ตำแหน่ง", "role", required=True, max_length=60),
                ),
                max_rows=20,
                presets=tuple({"role": r} for r in _COMMITTEE_ROLES),
            ),
            Table(
                "bases",
                "ฐานเรียนรู้",
                "learning bases",
                (
                    Field("name", "text", "ชื่อฐานเรียนรู้", "name", required=True, max_length=150),
                    Field(
                        "objective", "textarea", "วัตถุประสงค์การเรียนรู้", "objective", max_length=600
                    ),
                    Field("scope", "textarea", "ขอบเขตการเรียนรู้", "scope", max_length=600),
                ),
                max_rows=30,
            ),
            Table(
                "courses",
                "หลักสูตร",
                "courses",
                (
                    Field("name", "text", "ชื่อหลักสูตร", "name", required=True, max_length=150),
                    Field(
                        "objective", "textarea", "วัตถุประสงค์การเรียนรู้", "objective", max_length=600
                    ),
                    Field("method", "textarea", "วิธีการเรียนรู้", "learning method", max_length=400),
                    Field("target_group", "text", "กลุ่มเป้าหมาย", "target group", max_length=150),
                    Field(
                        "group_size",
                        "integer",
                        "จำนวนกลุ่มเป้าหมายต่อรุ่น หรือต่อครั้ง",
                        "participants per session",
                        minimum=1,
                        maximum=100_000,
                    ),
                    Field(
                        "days",
                        "integer",
                        "ระยะเวลาการเรียนรู้/ฝึกอบรม (วัน)",
                        "length in days",
                        minimum=1,
                        maximum=366,
                    ),
                    Field("fee", "text", "ค่าธรรมเนียม (ถ้ามี)", "fee, if any", max_length=60),
                ),
                max_rows=30,
            ),
            Table(
                "trainers",
                "วิทยากร",
                "trainers",
                (
                    Field("name", "text", "ชื่อ - สกุล", "name", required=True, max_length=100),
                    Field("expertise", "text", "ความเชี่ยวชาญ", "expertise", max_length=200),
                    Field(
                        "teaches",
                        "text",
                        "ฐานเรียนรู้/หลักสูตรที่รับผิดชอบ",
                        "base or course taught",
                        max_length=200,
                    ),
                    Field("phone", "text", "โทรศัพท์", "phone", max_length=30),
                ),
                max_rows=30,
            ),
            Field(
                "best_practice",
                "textarea",
                "องค์ความรู้ที่ดีที่สุด (Best Practice)",
                "best practice",
                max_length=2000,
            ),
            Table(
                "plan",
                "แผนการขับเคลื่อนการดำเนินงานของศูนย์",
                "the centre's work plan",
                (
                    Field(
                        "activity",
                        "text",
                        "แผนงาน/โครงการ/กิจกรรม",
                        "plan, project or activity",
                        required=True,
                        max_length=200,
                    ),
                    Field("target", "text", "เป้าหมาย (หน่วยนับ)", "target (unit)", max_length=100),
                    Field("budget", "text", "งบประมาณ (ใช้งบ/ไม่ใช้งบ)", "budget", max_length=100),
                    Field("period", "text", "ระยะเวลา", "period", max_length=100),
                    Field("owner", "text", "ผู้รับผิดชอบ", "responsible", max_length=100),
                    Field("note", "text", "หมายเหตุ", "note", max_length=150),
                ),
                max_rows=30,
            ),
            Photos("photos", "ภาพถ่ายประกอบ", "photographs", max_count=4),
        )
    ),
    Design(
        "แบบรายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        (
            Para(
                ("รายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน ", _place("district", 15)),
                align="center",
                bold=True,
                size=18,
            ),
            Para((_place("province", 25),), align="center", bold=True, size=18),
            _heading("๑. ชื่อศูนย์", space=12),
            _line(
                _place("centre_name", 45),
                " ",
                *_address("moo", "subdistrict", "district", "province"),
            ),
            _heading("๒. ที่ตั้ง"),
            _line(*_address("house_no", "moo", "village", "subdistrict", "district", "province")),
            _heading(
                "๓. ความโดดเด่น (หมายถึง จุดเด่นที่อัตลักษณ์ เอกลักษณ์ หรือความเชี่ยวชาญเฉพาะ หรือ ธีม (Theme))"
            ),
            _line(Fill("highlight", 100)),
            _heading("๔. ชื่อ - สกุล ผู้ประสานงาน"),
            Grid(
                "coordinators",
                "person",
                (
                    Col("", _no("person", ")"), 1.2, align="right"),
                    Col("", _cell("person.name", dots=40), 5.6),
                    Col("", (Fill("person.position", 22, prefix="ตำแหน่ง "),), 5.2),
                    Col(
                        "",
                        (
                            Fill(
                                "person.phone",
                                18,
                                prefix="โทร. ",
                                aliases=("โทรศัพท์", "โทร.", "โทร"),
                            ),
                        ),
                        4.0,
                    ),
                ),
                borders=False,
                header=False,
                size=16,
                space_before_pt=0,
            ),
            _line("(ประธานศูนย์ฯ / เลขาฯ / ฯลฯ)", indent=6.0),
            _heading("๕. โครงสร้างการบริหารศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"),
            Para((Strong("คณะที่ปรึกษา"),), indent_cm=1.0),
            Grid(
                "advisers",
                "adviser",
                (
                    Col("", _no("adviser", "."), 1.3, align="right"),
                    Col("", _cell("adviser.name", dots=45), 8.0),
                    Col("", _cell("adviser.kind"), 5.0),
                ),
                borders=False,
                header=False,
                size=16,
                space_before_pt=0,
            ),
            _line("(พิจารณาตามความเหมาะสม)", indent=1.5),
            Para(
                ("รายชื่อคณะกรรมการศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",),
                align="center",
                bold=True,
                space_before_pt=12,
                keep_with_next=True,
            ),
            Para(
                _address("village", "moo", "subdistrict", "district", "province"),
                align="center",
                keep_with_next=True,
            ),
            Grid(
                "committee",
                "member",
                (
                    Col("", _no("member", "."), 1.3, align="right"),
                    Col("", _cell("member.name", dots=45), 8.0),
                    Col("", _cell("member.role"), 5.0),
                ),
                borders=False,
                header=False,
                size=16,
                space_before_pt=0,
            ),
            PageBreak(),
            _heading("๖. การบริการของศูนย์ผู้นำจิตอาสาพัฒนาชุมชน", space=0),
            Para((Strong("ด้านฐานเรียนรู้"),), indent_cm=1.0, keep_with_next=True),
            Grid(
                "bases",
                "base",
                (
                    Col("ที่", _no("base"), 0.9, align="center"),
                    Col("ชื่อฐานเรียนรู้", _cell("base.name"), 4.0),
                    Col("วัตถุประสงค์การเรียนรู้", _cell("base.objective"), 5.5),
                    Col("ขอบเขตการเรียนรู้", _cell("base.scope"), 5.5),
                ),
            ),
            Para((Strong("ด้านหลักสูตร"),), indent_cm=1.0, space_before_pt=12, keep_with_next=True),
            Grid(
                "courses",
                "course",
                (
                    Col("ที่", _no("course"), 0.8, align="center"),
                    Col("ชื่อหลักสูตร", _cell("course.name"), 2.2),
                    Col("วัตถุประสงค์การเรียนรู้", _cell("course.objective"), 2.7),
                    Col("วิธีการเรียนรู้", _cell("course.method"), 2.0),
                    Col("กลุ่มเป้าหมาย", _cell("course.target_group"), 2.0),
                    Col(
                        "จำนวนกลุ่มเป้าหมายต่อรุ่น หรือต่อครั้ง",
                        _cell("course.group_size"),
                        2.0,
                        align="center",
                    ),
                    Col("ระยะเวลาการเรียนรู้/ฝึกอบรม (วัน)", _cell("course.days"), 2.0, align="center"),
                    Col("ค่าธรรมเนียม (ถ้ามี)", _cell("course.fee"), 2.3, align="center"),
                ),
                size=13,
            ),
            Para((Strong("ด้านวิทยากร"),), indent_cm=1.0, space_before_pt=12, keep_with_next=True),
            Grid(
                "trainers",
                "trainer",
                (
                    Col("ที่", _no("trainer"), 0.9, align="center"),
                    Col("ชื่อ - สกุล", _cell("trainer.name"), 4.0),
                    Col("ความเชี่ยวชาญ", _cell("trainer.expertise"), 4.5),
                    Col("ฐานเรียนรู้/หลักสูตรที่รับผิดชอบ", _cell("trainer.teaches"), 4.0),
                    Col("โทรศัพท์", _cell("trainer.phone"), 2.6, align="center"),
                ),
            ),
            _heading("๗. องค์ความรู้ที่ดีที่สุดของศูนย์ (Best Practice)", space=12),
            _line(Fill("best_practice", 100)),
            _heading("๘. แผนการขับเคลื่อนการดำเนินงานของศูนย์ผู้นำจิตอาสา", space=12),
            Grid(
                "plan",
                "item",
                (
                    Col("ที่", _no("item"), 0.8, align="center"),
                    Col("แผนงาน/โครงการ/กิจกรรม", _cell("item.activity"), 3.6),
                    Col("เป้าหมาย (หน่วยนับ)", _cell("item.target"), 2.0),
                    Col("งบประมาณ (ใช้งบ/ไม่ใช้งบ)", _cell("item.budget"), 2.5),
                    Col("ระยะเวลา", _cell("item.period"), 2.2),
                    Col("ผู้รับผิดชอบ", _cell("item.owner"), 2.3),
                    Col("หมายเหตุ", _cell("item.note"), 2.0),
                ),
            ),
            _heading("๙. ภาพถ่ายประกอบ", space=12),
            Box(7.0, photos="photos"),
        ),
    ),
)


# ---- seed 000: แผนการขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน ประจำปี ------------------

CENTRE_YEAR_PLAN = Form(
    FormInfo(
        "centre_year_plan",
        "แผนการขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน ประจำปี",
        "Yearly plan for setting up community development volunteer leaders' centres",
        "seed 000 (นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕), สิ่งที่ส่งมาด้วย ๒",
        landscape=True,
    ),
    FormSchema(
        (
            Field("year", "year", "ประจำปี (พ.ศ.)", "year (BE)", required=True),
            Table(
                "targets",
                "เป้าหมายการจัดตั้งศูนย์",
                "centres to set up",
                (
                    Field(
                        "target",
                        "text",
                        "จัดตั้งศูนย์ผู้นำจิตอาสาพัฒนาชุมชนระดับอำเภอ/ตำบล",
                        "centres to set up (district or subdistrict level)",
                        required=True,
                        max_length=200,
                    ),
                    Field("quarter", "text", "ไตรมาส", "quarter", max_length=20),
                    Field(
                        "district_due",
                        "date",
                        "อำเภอรายงานจังหวัด (ภายในวันที่)",
                        "district reports to the province by",
                    ),
                    Field(
                        "department_due",
                        "date",
                        "รายงานกรมฯ (ภายในวันที่)",
                        "report to the department by",
                    ),
                    Field("note", "text", "หมายเหตุ", "note", max_length=150),
                ),
                min_rows=1,
                max_rows=20,
                blank_rows=2,
            ),
        )
    ),
    Design(
        "แผนการขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        (
            Para(
                (
                    "แผนการขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน ประจำปี",
                    Fill("year", 10, before=" "),
                ),
                align="center",
                bold=True,
                size=18,
            ),
            Grid(
                "targets",
                "row",
                (
                    Col("ที่", _no("row"), 0.9, align="center"),
                    Col(
                        "จัดตั้งศูนย์ผู้นำจิตอาสาพัฒนาชุมชนระดับอำเภอ/ตำบล",
                        _cell("row.target", before="- "),
                        7.5,
                    ),
                    Col("ไตรมาส", _cell("row.quarter"), 2.0, align="center"),
                    Col(
                        "อำเภอรายงานจังหวัด",
                        _cell("row.district_due", fmt="by_date", before="- "),
                        5.0,
                        group="วัน เดือน ปี ที่รายงาน",
                    ),
                    Col(
                        "รายงานกรมฯ",
                        _cell("row.department_due", fmt="by_date", before="- "),
                        5.0,
                        group="วัน เดือน ปี ที่รายงาน",
                    ),
                    Col("หมายเหตุ", _cell("row.note"), 3.0),
                ),
                size=16,
                space_before_pt=12,
            ),
        ),
        Page(landscape=True),
    ),
)


# ---- seed 004: แผนการพัฒนาตนเอง ---------------------------------------------------------------

SELF_DEVELOPMENT_PLAN = Form(
    FormInfo(
        "self_development_plan",
        "แผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน",
        "Self-development plan of a community livelihood leader",
        "seed 004 (บก ๐๐๑๙.๓/๑๕๕๐๐), ตัวอย่างแผนการพัฒนาตนเอง",
        landscape=True,
    ),
    FormSchema(
        (
            Field("name", "text", "ชื่อ - สกุล", "name", required=True, max_length=100),
            Table(
                "activities",
                "กิจกรรมการพัฒนาตนเอง",
                "development activities",
                (
                    Field(
                        "area",
                        "text",
                        "ด้าน/องค์ประกอบ",
                        "area or component",
                        required=True,
                        max_length=150,
                    ),
                    Field(
                        "activity",
                        "textarea",
                        "แนวทาง/กิจกรรมการพัฒนาตนเอง",
                        "approach or activity",
                        required=True,
                        max_length=600,
                    ),
                    Field(
                        "by_self",
                        "textarea",
                        "พัฒนาด้วยตนเอง (ระบุวิธีการ/กิจกรรมการพัฒนา)",
                        "done by oneself (how)",
                        max_length=600,
                    ),
                    Field(
                        "with_support",
                        "textarea",
                        "ขอความร่วมมือ/สนับสนุนจากบุคคล/หน่วยงานอื่น",
                        "with help from others (whom, for what)",
                        max_length=600,
                    ),
                    Field("owner", "text", "ผู้รับผิดชอบ", "responsible", max_length=100),
                    Field("period", "text", "ระยะเวลาดำเนินการ", "period", max_length=100),
                ),
                max_rows=30,
                blank_rows=5,
            ),
            Field(
                "self_count",
                "integer",
                "จำนวนกิจกรรมที่พัฒนาด้วยตนเอง",
                "activities done by oneself",
                minimum=0,
                maximum=1000,
            ),
            Field(
                "support_count",
                "integer",
                "จำนวนกิจกรรมที่ขอความร่วมมือและการสนับสนุน",
                "activities done with support",
                minimum=0,
                maximum=1000,
            ),
            Field("start_month", "month", "เริ่มพัฒนาตนเองตั้งแต่เดือน", "start month"),
            Field("start_year", "year", "เริ่มพัฒนาตนเอง พ.ศ.", "start year (BE)"),
            Field(
                "assessment_from", "date", "พร้อมให้ตรวจประเมินตั้งแต่วันที่", "ready for assessment from"
            ),
        )
    ),
    Design(
        "แผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน",
        (
            Para(("แผนการพัฒนาตนเอง สำหรับผู้นำสัมมาชีพชุมชน",), align="center", bold=True, size=18),
            Para(("(ชื่อ - สกุล", Fill("name", 50, before=" "), ")"), align="center", bold=True),
            Grid(
                "activities",
                "row",
                (
                    Col("ที่", _no("row"), 0.9, align="center"),
                    Col("ด้าน/องค์ประกอบ", _cell("row.area"), 3.2),
                    Col("แนวทาง/กิจกรรมการพัฒนาตนเอง", _cell("row.activity"), 4.6),
                    Col(
                        "พัฒนาด้วยตนเอง (ระบุวิธีการ/กิจกรรมการพัฒนา)",
                        _cell("row.by_self"),
                        4.6,
                        group="ความสามารถในการพัฒนาตนเอง",
                    ),
                    Col(
                        "ขอความร่วมมือ/สนับสนุนจากบุคคล/หน่วยงานอื่น (ระบุชื่อบุคคล/หน่วยงาน"
                        "/เรื่องที่จะขอความร่วมมือ/สนับสนุน)",
                        _cell("row.with_support"),
                        5.2,
                        group="ความสามารถในการพัฒนาตนเอง",
                    ),
                    Col("ผู้รับผิดชอบ", _cell("row.owner"), 2.8),
                    Col("ระยะเวลาดำเนินการ", _cell("row.period"), 3.0),
                ),
                space_before_pt=12,
            ),
            Para(
                (
                    Strong("สรุป :"),
                    " ๑. กิจกรรมที่ต้องดำเนินการพัฒนาด้วยตนเอง จำนวน",
                    Fill("self_count", 8, before=" ", after=" "),
                    "กิจกรรม",
                ),
                space_before_pt=12,
                indent_cm=1.45,
                hang_cm=1.45,
            ),
            _line(
                "๒. กิจกรรมที่จะดำเนินการพัฒนาโดยขอความร่วมมือและขอรับการสนับสนุนจากหน่วยงานอื่น จำนวน",
                Fill("support_count", 8, before=" ", after=" "),
                "กิจกรรม",
                indent=2.9,
            ),
            _line(
                "๓. เริ่มพัฒนาตนเองตั้งแต่เดือน",
                Fill("start_month", 20, "month", " ", " "),
                "พ.ศ.",
                Fill("start_year", 10, before=" "),
                indent=2.9,
            ),
            _line(
                "๔. พร้อมขอให้คณะกรรมการตรวจประเมินฯ ดำเนินการประเมินได้ ตั้งแต่วันที่",
                Fill("assessment_from", 8, "day", " ", " "),
                "เดือน",
                Fill("assessment_from", 20, "month", " ", " "),
                "พ.ศ.",
                Fill("assessment_from", 10, "year", " "),
                indent=2.9,
            ),
        ),
        Page(landscape=True),
    ),
)


# ---- seed 002: โครงการ ... มีทั้งหมด ๗ กิจกรรม ---------------------------------------------------

ACTIVITY_SCHEDULE = Form(
    FormInfo(
        "activity_schedule",
        "แผนการดำเนินกิจกรรมของโครงการ",
        "Activity schedule of a project (the seven-activity table)",
        "seed 002 (นค ๐๐๑๙.๓/ว ๒๕๖๔), แนวทางการดำเนินงานโครงการ",
        landscape=False,
    ),
    FormSchema(
        (
            Field("project", "text", "ชื่อโครงการ", "project", required=True, max_length=200),
            Field("fiscal_year", "year", "ประจำปีงบประมาณ (พ.ศ.)", "fiscal year (BE)"),
            Table(
                "activities",
                "กิจกรรม",
                "activities",
                (
                    Field("title", "text", "ชื่อกิจกรรม", "activity", required=True, max_length=200),
                    Table(
                        "steps",
                        "วิธีดำเนินงาน",
                        "steps",
                        (
                            Field(
                                "method",
                                "textarea",
                                "วิธีดำเนินงาน",
                                "what is done",
                                required=True,
                                max_length=2000,
                            ),
                            Field("when", "textarea", "วัน/เดือน/ปี", "when", max_length=300),
                        ),
                        min_rows=1,
                        max_rows=12,
                        blank_rows=1,
                    ),
                ),
                min_rows=1,
                max_rows=12,
                blank_rows=7,
            ),
        )
    ),
    Design(
        "แผนการดำเนินกิจกรรมของโครงการ",
        (
            Para((Fill("project", 70),), align="center", bold=True, size=18),
            Para(
                ("ประจำปีงบประมาณ", Fill("fiscal_year", 10, before=" ")),
                align="center",
                bold=True,
                size=18,
            ),
            Para(
                ("มีทั้งหมด", Fill("activity_count", 5, before=" ", after=" "), "กิจกรรม ดังนี้"),
                bold=True,
                space_before_pt=12,
                keep_with_next=True,
            ),
            Grid(
                "activities",
                "activity",
                (
                    Col(
                        "กิจกรรม",
                        (
                            Strong("กิจกรรมที่ "),
                            Fill("activity.no", bold=True),
                            "\n",
                            Fill("activity.title", 20),
                        ),
                        4.4,
                        merge=True,
                    ),
                    Col("วิธีดำเนินงาน", _cell("step.method"), 7.6),
                    Col("วัน/เดือน/ปี", _cell("step.when"), 4.0, align="center"),
                ),
                size=16,
                inner=("steps", "step"),
            ),
        ),
    ),
    extra={"activity_count": lambda data: len(data["activities"]) or None},
)


FORMS: dict[str, Form] = {
    form.name: form
    for form in (CENTRE_REPORT, CENTRE_YEAR_PLAN, SELF_DEVELOPMENT_PLAN, ACTIVITY_SCHEDULE)
}
