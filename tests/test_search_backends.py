"""One test suite, every backend: tantivy, Whoosh, and PostgreSQL (``postgres`` marker).

The index holds the five seed letters (their ground-truth letter documents) and three
made-up ones that exercise secrecy, kinds, urgencies and escaping. It is built once per
backend per module ("for speed", as paperless-ngx does); tests that change an index get a
fresh one.
"""

import dataclasses
import datetime as dt
import json
import re

import pytest
from conftest import SEEDS

from saraban.errors import BadRequest
from saraban.indexer import IndexDoc, SearchFilters, open_index

BACKENDS = ["tantivy", "whoosh", pytest.param("postgres", marks=pytest.mark.postgres)]

SEED_META = {
    1: ("000_e6238ec4d0848a5c", "received"),
    2: ("001_1817bd84ea7a4ec5", "received"),
    3: ("002_b86b2e7e88d9451c", "sent"),
    4: ("003_4dc97dfab31f716a", "imported"),
    5: ("004_85f1eb06a0d041e8", "sent"),
}
SECRET, VERY_SECRET, MEMO = 10, 11, 12


def seed_docs() -> list[IndexDoc]:
    docs = []
    for doc_id, (stem, direction) in SEED_META.items():
        letter = json.loads((SEEDS / f"{stem}.letter.json").read_text("utf-8"))
        text = (SEEDS / f"{stem}.txt").read_text("utf-8")
        # The enclosures that travelled with the letter: searchable as attachments text.
        letter["attachments_text"] = text.split("\n\n", 40)[-1][:6000]
        docs.append(IndexDoc.from_letter(doc_id, letter, direction=direction, status="issued"))
    docs += [
        IndexDoc(
            id=SECRET,
            ref_no="สข ๐๐๑๗.๑/๙๙๙",
            subject="การคัดเลือกผู้นำจิตอาสาดีเด่น ลับเฉพาะ",
            body="รายชื่อผู้นำจิตอาสาที่ได้รับการเสนอชื่อ",
            date=dt.date(2023, 5, 1),
            kind="memo",
            secrecy="ลับ",
            direction="sent",
        ),
        IndexDoc(
            id=VERY_SECRET,
            ref_no="ยล ๐๐๒๒/๑๒",
            subject="ผลการตรวจสอบจิตอาสาในพื้นที่",
            body="ผลการตรวจสอบ",
            date=dt.date(2019, 1, 10),
            urgency="ด่วนมาก",
            secrecy="ลับมาก",
            direction="received",
        ),
        IndexDoc(
            id=MEMO,
            subject="ขอเชิญประชุมคณะทำงานจิตอาสา <script>alert(1)</script> & co",
            body="ขอเชิญประชุมคณะทำงานจิตอาสา ณ ห้องประชุม <b>ชั้น ๒</b> <script>x</script> งบ < 5",
            date=dt.date(2023, 10, 5),
            kind="memo",
            urgency="ด่วน",
            unit="นค ๐๐๑๙.๓",
            direction="sent",
        ),
    ]
    return docs


def _open(backend, home, request):
    url = None
    if backend == "postgres":
        url = request.getfixturevalue("postgres_server").create_database()
    return open_index(home, backend=backend, database_url=url)


@pytest.fixture(scope="module", params=BACKENDS)
def index(request, tmp_path_factory):
    opened = _open(request.param, tmp_path_factory.mktemp(request.param), request)
    opened.add(seed_docs())
    opened.mark_built()
    yield opened
    opened.close()


@pytest.fixture(params=BACKENDS)
def fresh_index(request, tmp_path):
    opened = _open(request.param, tmp_path / "home", request)
    yield opened
    opened.close()


def ids(result):
    return [hit.id for hit in result.hits]


# ---- reference numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "นค 0019.3/ว2564",
        "นค ๐๐๑๙.๓/ว ๒๕๖๔",
        "นค ๐๐๑๙.๓ / ว ๒๕๖๔",
        "นค 0019.3/2564",  # without ว
        "ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔",
        "นค๐๐๑๙.๓/ว๒๕๖๔",
    ],
)
def test_a_reference_number_typed_any_way_finds_its_letter_first(index, query):
    assert ids(index.search(query))[0] == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("นค ๐๐๑๙.๓/๖๑๙/๒๕๖๕", 1),
        ("นค 0019.3/619", 1),  # the year tail left out
        ("ลป 0019.3/27528", 2),
        ("บก 0019.3/15500", 5),
        ("บก ๐๐๑๙.๓ / ๑๕๕๐๐", 5),
    ],
)
def test_reference_numbers_of_each_seed(index, query, expected):
    assert ids(index.search(query))[0] == expected


def test_a_cited_number_finds_the_citing_letter_after_the_letter_itself(index):
    # 002 cites นค ๐๐๑๙.๓/ว ๒๕๖๓ (อ้างถึง); no letter of ours carries that number.
    assert 3 in ids(index.search("นค 0019.3/ว2563"))


# ---- words, compounds, phrases, noise ------------------------------------------------------------


@pytest.mark.parametrize("query", ["จิตอาสา", "ศูนย์ผู้นำจิตอาสา", "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"])
def test_part_of_a_compound_finds_the_letters_about_it(index, query):
    # The two letters about ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน; the short memo about a จิตอาสา
    # working group may stand among them.
    assert {1, 2} <= set(ids(index.search(query))[:3])


def test_a_dictionary_compound_does_not_hide_its_parts(index):
    # กรมการพัฒนาชุมชน is one word in PyThaiNLP's dictionary; ชุมชน must still match it.
    assert set(ids(index.search("ชุมชน", limit=20))) >= {1, 2, 3, 4, 5}


def test_quoted_phrase(index):
    assert ids(index.search('"ผู้นำการเปลี่ยนแปลง"'))[0] == 3
    assert index.search('"อาสาจิต"').total == 0


def test_a_person(index):
    assert set(ids(index.search("นายไพโรจน์"))[:2]) == {1, 3}
    assert ids(index.search("กฤษณะ พินิจ"))[0] == 2


def test_ocr_noise_either_spelling(index):
    assert ids(index.search("กรมการพัฒนารวมชน"))[0] == 4
    assert 4 in ids(index.search("กรมการพัฒนาชุมชน", limit=20))


def test_exact_spelling_ranks_above_near_spellings(index):
    found = ids(index.search("กรมการพัฒนาชุมชน", limit=20))
    assert found.index(4) > min(found.index(i) for i in (1, 2, 3))


def test_synonym_of_an_abbreviation(index):
    assert ids(index.search("มชช."))[0] == 5
    assert 5 in ids(index.search("มาตรฐานการพัฒนาชุมชน"))


def test_a_date_in_the_query(index):
    assert ids(index.search("15 ธันวาคม 2565"))[0] == 1
    assert ids(index.search("๑๕ ธ.ค. ๒๕๖๕"))[0] == 1


def test_words_no_letter_prints_still_find_the_letters_with_the_others(index):
    # "หนังสือเวียน" and "ปีที่แล้ว" are a clerk's words, printed in no letter.
    # The two letters about ศูนย์ผู้นำจิตอาสา and the memo about a จิตอาสา working group, in
    # any order: BM25 holds them within a few percent.
    result = index.search("หนังสือเวียน จิตอาสา ปีที่แล้ว")
    assert set(ids(result)[:3]) == {1, 2, MEMO}
    assert result.some_words and result.as_dict()["some_words"] is True
    assert index.search("นายไพโรจน์").some_words is False
    assert index.search("xyzzyqq qqxyzzy zzqqxy").total == 0


def test_nothing_found(index):
    result = index.search("xyzzyqq")
    assert (result.total, result.hits) == (0, [])
    assert index.search("!!! ...").total == 0


def test_blank_query_lists_letters_newest_first(index):
    result = index.search("", limit=50)
    dates = [h.date for h in result.hits if h.date]
    assert result.total == 6  # the open letters only
    assert dates == sorted(dates, reverse=True)


# ---- filters, sorting, paging -------------------------------------------------------------------


def test_fiscal_year_be_and_ce_mean_the_same_letters(index):
    be = index.search("จิตอาสา", filters=SearchFilters(fiscal_year=2566))
    ce = index.search("จิตอาสา", filters=SearchFilters(fiscal_year=2023))
    assert ids(be) == ids(ce) == [1]  # 15 Dec 2022 is in fiscal year 2566


def test_date_range(index):
    result = index.search(
        "ชุมชน", filters=SearchFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))
    )
    assert set(ids(result)) == {2, 4}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(kind="memo"), {MEMO}),
        (SearchFilters(urgency="ด่วน"), {MEMO}),
        (SearchFilters(urgency="ด่วนที่สุด"), {3}),
        (SearchFilters(direction="received"), {1, 2}),
        (SearchFilters(unit="นค 0019.3"), {1, 3, MEMO}),
        (SearchFilters(unit="ลป ๐๐๑๙.๓"), {2}),
    ],
)
def test_filters(index, filters, expected):
    assert set(ids(index.search("", filters=filters, limit=50))) == expected


def test_sort_by_date(index):
    result = index.search("ชุมชน", sort="date", limit=20)
    dates = [h.date for h in result.hits]
    assert dates == sorted(dates, reverse=True)


def test_paging(index):
    everything = index.search("ชุมชน", limit=50)
    pages = [index.search("ชุมชน", limit=2, offset=o) for o in range(0, everything.total, 2)]
    assert [i for page in pages for i in ids(page)] == ids(everything)
    assert {page.total for page in pages} == {everything.total}


def test_limit_zero_counts_only(index):
    result = index.search("ชุมชน", limit=0)
    assert result.total >= 5 and result.hits == []
    assert sum(result.facets["year"].values()) == result.total


@pytest.mark.parametrize(
    "kwargs", [{"sort": "size"}, {"limit": -1}, {"limit": 5000}, {"offset": -3}]
)
def test_bad_arguments(index, kwargs):
    with pytest.raises(BadRequest):
        index.search("ชุมชน", **kwargs)


def test_a_query_beyond_the_limits_is_refused_naming_the_limit(index):
    from saraban.indexer._query import MAX_QUERY_CHARS, MAX_QUERY_NUMBERS, MAX_QUERY_WORDS

    phrase = '"' + "ศูนย์ผู้นำจิตอาสา" * 20
    with pytest.raises(BadRequest, match=f"{MAX_QUERY_CHARS} ตัวอักษร"):
        index.search(phrase[:MAX_QUERY_CHARS] + '"')
    index.search(phrase[: MAX_QUERY_CHARS - 1] + '"')  # at the limit: searched
    words = ["ชุมชน", "จิตอาสา", "ผู้นำ", "ประชุม", "โครงการ", "อำเภอ", "จังหวัด", "หมู่บ้าน"]
    words += ["ตำบล", "สำนักงาน", "พัฒนา", "นโยบาย", "ตรวจสอบ", "ความร่วมมือ", "งบประมาณ", "ส่งเสริม"]
    index.search(" ".join(words[:MAX_QUERY_WORDS]))
    with pytest.raises(BadRequest, match=f"{MAX_QUERY_WORDS} คำ"):
        index.search(" ".join(words[:MAX_QUERY_WORDS] + ["ท้องถิ่น"]))
    numbers = " ".join(f"นค 0019.3/{n}" for n in range(1, MAX_QUERY_NUMBERS + 2))
    with pytest.raises(BadRequest, match=f"{MAX_QUERY_NUMBERS} เลข"):
        index.search(numbers)


def test_bad_clearance(index):
    with pytest.raises(BadRequest, match="clearance"):
        index.search("ชุมชน", clearance="top secret")


# ---- hits: snippets, facets, secrecy -------------------------------------------------------------


def test_snippet_marks_the_match_in_the_letters_own_text(index):
    hit = index.search("ผู้นำการเปลี่ยนแปลง").hits[0]
    assert "<mark>ผู้นำการเปลี่ยนแปลง</mark>" in hit.snippet
    assert hit.ref_no == "นค ๐๐๑๙.๓/ว ๒๕๖๔"
    assert hit.date == dt.date(2021, 2, 13)
    assert hit.kind == "external"


def test_snippet_is_html_safe(index):
    hit = index.search("ขอเชิญประชุมคณะทำงาน").hits[0]
    assert hit.id == MEMO
    # Markup is taken out (imported text carries it); any other "<" is text, escaped.
    assert "ห้อง<mark>ประชุม</mark> ชั้น ๒" in hit.snippet and "b&gt;" not in hit.snippet
    assert "&lt;script&gt;x&lt;/script&gt; งบ &lt; 5" in hit.snippet
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_facets_by_be_year_and_unit(index):
    result = index.search("ชุมชน", limit=1)
    assert sum(result.facets["year"].values()) == result.total
    assert result.facets["year"]["2567"] == 2  # 003 (Feb 2024) and 001 (Nov 2024)
    assert result.facets["unit"]["นค ๐๐๑๙.๓"] >= 2


@pytest.mark.parametrize(
    ("clearance", "visible"),
    [
        (None, set()),
        ("ลับ", {SECRET}),
        ("ลับมาก", {SECRET, VERY_SECRET}),
        ("ลับที่สุด", {SECRET, VERY_SECRET}),
    ],
)
def test_secret_letters_above_the_clearance_are_invisible(index, clearance, visible):
    result = index.search("จิตอาสา", clearance=clearance, limit=50)
    open_result = index.search("จิตอาสา", limit=50)
    assert {SECRET, VERY_SECRET} & set(ids(result)) == visible
    assert result.total == open_result.total + len(visible)
    assert ("2562" in result.facets["year"]) == (VERY_SECRET in visible)
    assert ("สข ๐๐๑๗.๑" in result.facets["unit"]) == (SECRET in visible)
    assert all("ลับเฉพาะ" not in h.snippet for h in result.hits) or SECRET in visible


def test_secret_letter_not_found_by_its_own_number_without_clearance(index):
    assert index.search("สข 0017.1/999").total == 0
    assert ids(index.search("สข 0017.1/999", clearance="ลับ")) == [SECRET]


# ---- writing -------------------------------------------------------------------------------------


def test_add_replace_delete(fresh_index):
    doc = IndexDoc(id=7, subject="การประชุมจิตอาสา", date=dt.date(2024, 1, 2))
    fresh_index.add([doc])
    assert fresh_index.count() == 1
    doc.subject = "การประชุมคณะกรรมการหมู่บ้าน"
    fresh_index.add([doc])
    assert fresh_index.count() == 1
    assert fresh_index.search("จิตอาสา").total == 0
    assert ids(fresh_index.search("คณะกรรมการหมู่บ้าน")) == [7]
    fresh_index.delete([7])
    assert fresh_index.count() == 0
    assert fresh_index.search("คณะกรรมการหมู่บ้าน").total == 0


def test_a_new_index_asks_to_be_built(fresh_index):
    assert fresh_index.needs_rebuild
    fresh_index.mark_built()
    assert not fresh_index.needs_rebuild


# ---- secrecy without side channels ---------------------------------------------------------------

HIDDEN_WORD_QUERIES = [
    "จิตอาสา",
    "ชุมชน",
    "นาคราช",  # the hidden letters' own word: in no open letter
    "ผู้นำจิตอาสา นาคราช",
    '"ผู้นำการเปลี่ยนแปลง"',
    "หนังสือเวียน จิตอาสา ปีที่แล้ว",  # found only in part: the widest level
    "กรมการพัฒนารวมชน",  # a near spelling: the tolerant level
    "ยล 0022/4321",  # a hidden letter's own number
    "นค 0019.3/ว2564",  # an open letter's number, cited by a hidden one
    "15 ธันวาคม 2565",
    "",
]


def hidden_letters(secrecy: str) -> list[IndexDoc]:
    """Letters sharing words, dates, units and cited numbers with the open ones."""
    return [
        IndexDoc(
            id=100 + i,
            ref_no=f"ยล ๐๐๒๒/๔๓๒{i}",
            subject=f"ผลการตรวจสอบศูนย์ผู้นำจิตอาสาพัฒนาชุมชน นาคราช {i}",
            body="นาคราช จิตอาสา ชุมชน ผู้นำการเปลี่ยนแปลง " * (i + 1),
            references=["หนังสือจังหวัดหนองคาย ที่ นค ๐๐๑๙.๓/ว ๒๕๖๔"],
            date=dt.date(2022, 12, 15),
            kind="memo" if i % 2 else "external",
            unit="นค ๐๐๑๙.๓",
            secrecy=secrecy,
            direction="received",
        )
        for i in range(1, 4)
    ]


def answers(index, clearance):
    """Everything a user receives for a battery of searches, as JSON."""
    found = {}
    for query in HIDDEN_WORD_QUERIES:
        for options in (
            {},
            {"limit": 2, "offset": 1},
            {"limit": 0},
            {"sort": "date", "limit": 50},
            {"filters": SearchFilters(fiscal_year=2566)},
            {"filters": SearchFilters(kind="memo", unit="นค 0019.3")},
        ):
            if not query and not options.get("filters") and options.get("sort") != "date":
                continue
            result = index.search(query, clearance=clearance, **options)
            found[f"{query} {options}"] = json.dumps(result.as_dict(), ensure_ascii=False)
    return found


@pytest.mark.parametrize(("clearance", "hidden"), [(None, "ลับ"), ("ลับ", "ลับมาก")])
def test_a_hidden_letter_changes_nothing_a_user_receives(fresh_index, clearance, hidden):
    """Scores, totals, facets, snippets, order and pages: all the same, before and after
    letters above the user's clearance are added (BM25 statistics included)."""
    fresh_index.add(seed_docs())
    before = answers(fresh_index, clearance)
    fresh_index.add(hidden_letters(hidden))
    after = answers(fresh_index, clearance)
    assert [k for k in before if before[k] != after[k]] == []
    assert before == after
    # The letters are there, for a user cleared to see them.
    cleared = fresh_index.search("นาคราช", clearance=hidden)
    assert {101, 102, 103} <= set(ids(cleared))


def test_a_letter_whose_secrecy_is_corrected_moves(fresh_index):
    doc = IndexDoc(id=7, subject="การประชุมนาคราช", date=dt.date(2024, 1, 2))
    fresh_index.add([doc])
    assert ids(fresh_index.search("นาคราช")) == [7]
    doc.secrecy = "ลับ"
    fresh_index.add([doc])
    assert fresh_index.search("นาคราช").total == 0
    assert ids(fresh_index.search("นาคราช", clearance="ลับ")) == [7]
    assert fresh_index.count() == 1 and fresh_index.ids() == {7}
    fresh_index.delete([7])
    assert fresh_index.search("นาคราช", clearance="ลับที่สุด").total == 0


def test_a_cleared_user_pages_through_every_tier_in_one_order(index):
    everything = index.search("จิตอาสา", clearance="ลับมาก", limit=50)
    assert {SECRET, VERY_SECRET} <= set(ids(everything))
    for sort in ("relevance", "date"):
        whole = ids(index.search("จิตอาสา", clearance="ลับมาก", sort=sort, limit=50))
        pages = [
            ids(index.search("จิตอาสา", clearance="ลับมาก", sort=sort, limit=2, offset=o))
            for o in range(0, len(whole), 2)
        ]
        assert [i for page in pages for i in page] == whole
    newest = index.search("จิตอาสา", clearance="ลับมาก", sort="date", limit=50).hits
    assert [h.date for h in newest] == sorted((h.date for h in newest), reverse=True)


# ---- dates, cited numbers, snippets, numbers not found (issue 13) ---------------------------

CITING, DATED, MARKUP, LONG = 20, 21, 22, 23


def cited_docs() -> list[IndexDoc]:
    return [
        IndexDoc(
            id=CITING,
            ref_no="นค ๐๐๑๙.๓/๔๔๔",
            subject="ขอส่งรายงานผลการดำเนินงาน",
            body=(
                "ตามหนังสือกรมการพัฒนาชุมชน ด่วนที่สุด ที่ มท ๐๔๑๐.๒/ว ๑๒๓๔ ลงวันที่ "
                "๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗ และคำสั่งจังหวัดหนองคายที่ ๑๒/๒๕๖๗ "
                "ตามสัญญาจ้างเลขที่ กจ. ๔๕/๒๕๖๗ จังหวัดขอส่งรายงาน"
            ),
            date=dt.date(2024, 12, 2),
        ),
        IndexDoc(
            id=DATED,
            subject="ขอเชิญประชุมคณะกรรมการ",
            body="กำหนดประชุมวันที่ 3/1/2568 เวลา 09.30 น. ณ ห้องประชุม ส่งรายงานภายใน 2๐ ม.ค. 68",
            date=dt.date(2024, 12, 20),
        ),
        IndexDoc(
            id=MARKUP,
            subject="นำเข้าจากเว็บ",
            body="<p>ด้วยสำนักงานพัฒนาชุมชน</p> <p>ขอแจ้งกำหนดการอบรม&nbsp;วิทยากรกระบวนการ</p>",
            direction="imported",
        ),
        IndexDoc(
            id=LONG,
            subject="ขอความอนุเคราะห์",
            body="ก" * 0
            + "การดำเนินงานตามแผนงานประจำปีเพื่อให้เกิดประสิทธิภาพสูงสุดแก่ประชาชนในพื้นที่" * 6
            + " วิทยากรกระบวนการ "
            + "ตามแผนงานประจำปีเพื่อให้เกิดประสิทธิภาพ" * 6,
        ),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def cited_index(request, tmp_path_factory):
    opened = _open(request.param, tmp_path_factory.mktemp(f"cited-{request.param}"), request)
    opened.add(seed_docs() + cited_docs())
    opened.mark_built()
    yield opened
    opened.close()


@pytest.mark.parametrize(
    "query",
    [
        "21/11/2567",
        "๒๑/๑๑/๒๕๖๗",
        "21 พ.ย. 67",
        "๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗",
        "2024-11-21",
        "21 พฤศจิกายน 2024",
        "2๑/1๑/25๖7",
    ],
)
def test_a_date_typed_any_way_finds_the_letter_that_writes_it_any_way(cited_index, query):
    # Seed 001 is dated 21 November 2567: it comes first; the letter that names the date
    # (written with เดือน and พ.ศ.) follows.
    result = cited_index.search(query)
    assert ids(result) == [2, CITING]
    assert "<mark>๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗</mark>" in result.hits[1].snippet


def test_a_letter_is_found_by_its_own_date_first_and_by_dates_it_names(cited_index):
    assert ids(cited_index.search("3 มกราคม 2568")) == [DATED]
    assert ids(cited_index.search("20/1/68")) == [DATED]  # written "2๐ ม.ค. 68"
    own = cited_index.search("2 ธันวาคม 2567")
    assert ids(own)[0] == CITING
    assert ids(cited_index.search("ประชุม 3/1/2568")) == [DATED]
    # No letter holds 4 January 2568: the date is read as words, which no letter holds
    # all of, and the answer says that it shows letters with only some of them.
    assert cited_index.search("ประชุม 4/1/2568").some_words


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("มท 0410.2/ว1234", "มท ๐๔๑๐.๒/ว ๑๒๓๔"),
        ("มท ๐๔๑๐.๒/๑๒๓๔", "มท ๐๔๑๐.๒/ว ๑๒๓๔"),
        ("ที่ 12/2567", "๑๒/๒๕๖๗"),
        ("12/2567", "๑๒/๒๕๖๗"),
        ("45/2567", "๔๕/๒๕๖๗"),
        ("กจ 45/2567", "กจ. ๔๕/๒๕๖๗"),
    ],
)
def test_a_number_cited_anywhere_finds_the_letter_first_marked_whole(cited_index, query, marked):
    result = cited_index.search(query)
    assert ids(result)[0] == CITING, query
    assert f"<mark>{marked}</mark>" in result.hits[0].snippet
    assert result.numbers_not_found == []


def test_a_short_number_marks_no_single_letters(cited_index):
    for query in ("มท 0410.2/ว1234", "ว 1234", "ว๑๒๓๔", "ที่ 12/2567"):
        snippet = cited_index.search(query).hits[0].snippet
        marked = [m for m in snippet.split("<mark>")[1:]]
        assert all(len(m.split("</mark>")[0]) > 2 for m in marked), (query, snippet)


def test_a_highlight_is_whole_syllables(cited_index):
    # ว is a word of the query, never the first letter of วัน or วิทยากร.
    snippet = cited_index.search("ว วิทยากร", limit=20).hits[0].snippet
    assert "<mark>ว</mark>ั" not in snippet and "<mark>ว</mark>ิ" not in snippet


def test_a_number_no_letter_carries_or_cites_is_not_found(cited_index):
    result = cited_index.search("นค 0019.3/ว 9876")
    assert (result.total, result.hits, result.numbers_not_found) == (0, [], ["นค 0019.3/ว 9876"])
    assert result.as_dict()["numbers_not_found"] == ["นค 0019.3/ว 9876"]
    assert cited_index.search("99/2567").numbers_not_found == ["99/2567"]
    with_words = cited_index.search("นค 0019.3/ว 9876 วิทยากรกระบวนการ")
    assert with_words.numbers_not_found == ["นค 0019.3/ว 9876"]
    assert set(ids(with_words)) == {MARKUP, LONG}


def test_snippets_carry_no_markup(cited_index):
    snippet = cited_index.search("วิทยากรกระบวนการ", limit=20)
    hit = next(h for h in snippet.hits if h.id == MARKUP)
    assert "&lt;" not in hit.snippet and "nbsp" not in hit.snippet and "/p" not in hit.snippet
    assert "กำหนดการอบรม <mark>วิทยากรกระบวนการ</mark>" in hit.snippet
    assert MARKUP not in ids(cited_index.search("p", limit=50))  # tags were never indexed


def test_snippets_are_cut_between_syllables(cited_index):
    hit = next(h for h in cited_index.search("วิทยากรกระบวนการ", limit=20).hits if h.id == LONG)
    text = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert text.startswith("…") and text.endswith("…")
    inner = text.strip("…")
    combining = "".join(map(chr, [0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4E)]))
    assert inner[0] not in combining + "ะาำ" and inner[-1] not in "เแโใไ"
    from saraban.indexer._thai import syllable_edges

    whole = cited_docs()[3].body
    at = whole.index(inner)
    assert at in syllable_edges(whole) and at + len(inner) in syllable_edges(whole)


def test_number_keys_are_those_of_refno():
    from saraban.indexer._cited import _key
    from saraban.thai import RefNo

    for ref in (RefNo("นค", "0019.3", True, 2564), RefNo("นค", "0019.3", False, 619, 2565)):
        for circular in (True, False):
            for year in (None, 2565):
                assert (
                    _key(ref, circular, year)
                    == RefNo("นค", "0019.3", circular, ref.serial, year).key
                )
    order = RefNo("", "", False, 12, 2568)
    assert _key(order, False, 2568) == order.key == "12/2568"


@pytest.mark.postgres
def test_postgres_reads_only_the_partitions_of_the_levels_a_user_may_see(request, tmp_path):
    from sqlalchemy import text

    from saraban.indexer._postgres import _levels

    index = _open("postgres", tmp_path / "home", request)
    try:
        index.add(seed_docs())
        with index._db.connect() as db:
            for tiers, read in (((0,), {"0"}), ((0, 1), {"0", "1"})):
                plan = "\n".join(
                    db.execute(
                        text(
                            "EXPLAIN SELECT count(*) FROM search_letters "
                            f"WHERE {_levels(tiers)} AND tsv @@ CAST('จิต_อา' AS tsquery)"
                        )
                    ).scalars()
                )
                assert set(re.findall(r" on search_letters_(\d)", plan)) == read, plan
    finally:
        index.close()


def _simple_tsvector(fields: list[list[tuple[str, str]]]) -> dict[str, list[tuple[int, str]]]:
    """What PostgreSQL should read from a literal: each token's positions (past 16,383 read
    as 16,383, repeats merged keeping the highest weight, the first 256), as a plain loop."""
    from saraban.indexer._postgres import _FIELD_GAP, MAX_POSITION

    found: dict[str, dict[int, str]] = {}
    position = 1
    for sections in fields:
        for joined, label in sections:
            for token in joined.split():
                at = min(position, MAX_POSITION)
                found.setdefault(token, {})
                found[token][at] = min(found[token].get(at, "D"), label)  # A is highest
                position += 1
        position += _FIELD_GAP
    return {t: sorted(p.items())[:256] for t, p in found.items()}


@pytest.mark.postgres
def test_postgres_reads_the_literals_as_the_tokens_say(request, tmp_path):
    """The tsvector literal written token by token is read by PostgreSQL as the positions
    and weights of each token (a letter past 16,383 positions and a token said 300 times
    included), and the letter's own layout labels its subject A and its meta B."""
    from sqlalchemy import text

    from saraban.indexer._engine import prepare
    from saraban.indexer._postgres import head_fields, letter_fields, tsvector_literal

    index = _open("postgres", tmp_path / "home", request)
    long_letter = IndexDoc(
        id=99, subject="เรื่องยาว", body=" ".join(["จิตอาสา ชุมชน"] * 5000) + " ท้ายสุด it's"
    )
    try:
        with index._db.connect() as db:
            for doc in [*seed_docs(), long_letter]:
                prepared = prepare(doc, index.engine)
                for fields in (letter_fields(prepared.text), head_fields(prepared.text)):
                    stored = db.execute(
                        text("SELECT lexeme, positions, weights FROM unnest(CAST(:v AS tsvector))"),
                        {"v": tsvector_literal(fields)},
                    ).all()
                    read = {
                        row.lexeme: list(
                            zip(row.positions, map(str.upper, row.weights), strict=True)
                        )
                        for row in stored
                    }
                    assert read == _simple_tsvector(fields)
        subject = letter_fields(prepare(seed_docs()[0], index.engine).text)
        assert [label for _text, label in subject[1]] == ["A", "B", "C"]
        assert subject[1][0][0] == prepare(seed_docs()[0], index.engine).text["subject"]
    finally:
        index.close()


def _many_letters(count: int, secrecy: str | None = None, first: int = 1) -> list[IndexDoc]:
    return [
        IndexDoc(
            id=first + i,
            ref_no=f"นค ๐๐๑๙.๓/{first + i}",
            subject=f"ขอเชิญประชุมจิตอาสา ครั้งที่ {i}" if i % 3 else f"รายงานผลการดำเนินงาน {i}",
            body="ด้วยสำนักงานพัฒนาชุมชนจังหวัดขอเชิญผู้นำจิตอาสาเข้าร่วมประชุม",
            date=dt.date(2020 + i % 4, 1 + i % 12, 1 + i % 28),
            kind="memo" if i % 2 else "external",
            unit="นค ๐๐๑๙.๓" if i % 5 else "นค ๐๐๑๗.๑",
            secrecy=secrecy,
            direction="sent",
        )
        for i in range(count)
    ]


@pytest.mark.postgres
def test_postgres_estimates_large_counts_from_its_sample(request, tmp_path):
    """Above ``exact_up_to`` matches a level is counted from its sample (one letter in 32),
    the answer says so, the hits are those of the exact count, and a user without
    clearance gets the same estimate whatever secret letters are added."""
    from saraban.indexer import _postgres

    index = _open("postgres", tmp_path / "home", request)
    try:
        index.add(_many_letters(640))
        exact = index.search("จิตอาสา")
        by_date = index.search("จิตอาสา", sort="date", limit=20, offset=5)
        filtered = index.search("ประชุม", filters=SearchFilters(kind="memo", fiscal_year=2565))
        browse = index.search("", filters=SearchFilters(unit="นค ๐๐๑๙.๓"), limit=20)
        assert not exact.estimated and exact.total == 640
        index.exact_up_to = 100  # the 20 sampled letters stand for 640
        estimate = index.search("จิตอาสา")
        assert estimate.estimated and estimate.as_dict()["estimated"] is True
        assert estimate.total == 20 * _postgres.SAMPLE_EVERY
        assert sum(estimate.facets["year"].values()) == estimate.total
        assert [h.id for h in estimate.hits] == [h.id for h in exact.hits]
        dated = index.search("จิตอาสา", sort="date", limit=20, offset=5)
        assert [h.id for h in dated.hits] == [h.id for h in by_date.hits]
        narrowed = index.search("ประชุม", filters=SearchFilters(kind="memo", fiscal_year=2565))
        assert [h.id for h in narrowed.hits] == [h.id for h in filtered.hits]
        listed = index.search("", filters=SearchFilters(unit="นค ๐๐๑๙.๓"), limit=20)
        assert [h.id for h in listed.hits] == [h.id for h in browse.hits]
        assert listed.estimated and listed.total == 16 * _postgres.SAMPLE_EVERY
        # Secret letters (a whole sample's worth of them) change nothing the uncleared see.
        before = index.search("จิตอาสา").as_dict()
        index.add(_many_letters(640, secrecy="ลับ", first=10_001))
        assert index.search("จิตอาสา").as_dict() == before
        cleared = index.search("จิตอาสา", clearance="ลับ")
        assert cleared.estimated and cleared.total == 2 * estimate.total
        # Past the fine sample's budget, the coarse one (one letter in 1,024) answers.
        index.add(_many_letters(1408, first=641))
        index.exact_up_to = 10**9
        counted = index.search("จิตอาสา", sort="date")
        assert not counted.estimated and counted.total == 2048
        index.exact_up_to, index.fine_sample_up_to = 100, 0
        coarse = index.search("จิตอาสา", sort="date")
        assert coarse.estimated and coarse.total == 2 * _postgres.COARSE_EVERY
        assert [h.id for h in coarse.hits] == [h.id for h in counted.hits]
    finally:
        index.close()


@pytest.mark.postgres
def test_postgres_finds_the_newest_of_dense_matches_by_walking_the_newest_letters(
    request, tmp_path, monkeypatch
):
    """A word in most letters: its newest matches are the newest letters checked one by one
    (the day index), not a GIN query of its posting lists; when the letters walked hold too
    few, the window answers. Either way the hits are those of the exact count."""
    from sqlalchemy import event, text

    from saraban.indexer import _postgres

    index = _open("postgres", tmp_path / "home", request)
    statements: list[str] = []
    event.listen(index._db, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        index.add(_many_letters(640))
        with index._db.begin() as db:  # what autovacuum does: the planner's count of letters
            db.execute(text("ANALYZE search_letters"))
        exact = index.search("จิตอาสา")
        by_date = index.search("จิตอาสา", sort="date", limit=20, offset=5)
        index.exact_up_to = 100
        statements.clear()
        walked = index.search("จิตอาสา")
        assert walked.estimated and any("LIMIT %(walk)s" in s for s in statements)
        assert not any("match_q_window" in s for s in statements)  # no GIN query of the word
        assert [h.id for h in walked.hits] == [h.id for h in exact.hits]
        dated = index.search("จิตอาสา", sort="date", limit=20, offset=5)
        assert [h.id for h in dated.hits] == [h.id for h in by_date.hits]
        monkeypatch.setattr(_postgres, "_WALKED_AT_MOST", 50)  # fewer than the 200 needed
        statements.clear()
        fallen_back = index.search("จิตอาสา")
        assert any("LIMIT %(walk)s" in s for s in statements)
        assert any("match_q_window" in s for s in statements)
        assert [h.id for h in fallen_back.hits] == [h.id for h in exact.hits]
        monkeypatch.setattr(_postgres, "_DENSE", 1.5)  # never dense: the window alone
        statements.clear()
        windowed = index.search("จิตอาสา")
        assert not any("LIMIT %(walk)s" in s for s in statements)
        assert [h.id for h in windowed.hits] == [h.id for h in exact.hits]
    finally:
        index.close()


@pytest.mark.postgres
def test_postgres_looks_for_a_past_years_newest_matches_from_the_years_end(
    request, tmp_path, monkeypatch
):
    """A date filter's newest matches are looked for in a window of months back from the
    filter's last day, not from the archive's newest letter (from there, a past year ran
    out of markers first and every match of the year was read and sorted): the same
    letters as counting every match, in the same order."""
    from saraban.indexer import _postgres

    index = _open("postgres", tmp_path / "home", request)
    windows: list[list[str] | None] = []
    looked_for = _postgres.PostgresIndex._window

    def window(self, *args):
        windows.append(looked_for(self, *args))
        return windows[-1]

    monkeypatch.setattr(_postgres.PostgresIndex, "_window", window)
    try:
        index.add(
            [
                IndexDoc(
                    id=n,
                    subject=f"ประชุมจิตอาสา {n}",
                    date=dt.date(2019 + n % 72 // 12, 1 + n % 12, 1 + n % 28),
                )
                for n in range(1, 4001)
            ]
        )
        with index._db.begin() as db:
            db.execute(_postgres.text("ANALYZE search_letters"))
        two_years = SearchFilters(date_from=dt.date(2020, 10, 1), date_to=dt.date(2022, 9, 30))

        def both_orders() -> list:
            return [
                index.search("จิตอาสา", filters=two_years, sort=s) for s in ("date", "relevance")
            ]

        exact = both_orders()
        assert not exact[0].estimated
        index.exact_up_to = 100
        estimated = both_orders()
        assert estimated[0].estimated and windows[-1] is not None
        assert windows[-1][0] == "#m202209" and len(windows[-1]) < 12
        assert [ids(r) for r in estimated] == [ids(r) for r in exact]
        assert max(h.date for h in estimated[0].hits) <= dt.date(2022, 9, 30)
    finally:
        index.close()


@pytest.mark.postgres
def test_postgres_rebuild_into_an_empty_table_copies_and_indexes(request, tmp_path):
    """A rebuild into an empty table is copied in and indexed at the end; one into a table
    that holds letters writes as usual. Both answer alike."""
    index = _open("postgres", tmp_path / "home", request)
    try:
        docs = seed_docs()
        from saraban.indexer._engine import prepare_many

        with index.bulk() as add:
            add(prepare_many(docs[:4], index.engine, index.render))
            add(prepare_many(docs[4:], index.engine))  # rendered when written
        copied = index.search("จิตอาสา", clearance="ลับมาก").as_dict()
        with index.bulk() as add:  # over the letters: replaced one by one
            add(prepare_many(docs, index.engine, index.render))
        assert index.count() == len(docs)
        assert index.search("จิตอาสา", clearance="ลับมาก").as_dict() == copied
        assert copied["total"] == 5
    finally:
        index.close()


def test_a_samples_query_asks_for_the_twins_of_its_lexemes_however_they_are_quoted():
    """A sampled letter carries its lexemes again behind the sample's marker, and a sample is
    counted through them: a lexeme with a quote or a backslash keeps its escaping."""
    from saraban.indexer import _postgres

    query = "(('จิต_อา' & 'a''b' & 'c\\\\d') | 'มชช') & ('#m202410' | '#m202411') & '#k=memo'"
    assert _postgres._in_sample(query, "#t") == (
        "(('#t:จิต_อา' & '#t:a''b' & '#t:c\\\\d') | '#t:มชช') & ('#t:#m202410' | "
        "'#t:#m202411') & '#t:#k=memo'"
    )


def test_a_date_range_is_asked_with_the_fewest_time_markers():
    """A fiscal or calendar year inside a range is one marker (one posting list for
    PostgreSQL's GIN index, not twelve), the months around it one each."""
    from saraban.indexer import _postgres

    spans = _postgres._span_markers
    assert spans(20231001, 20240930) == ["#f2024"]  # fiscal year 2567
    assert spans(20240101, 20241231) == ["#m2024"]
    assert spans(20230815, 20241103) == ["#m202308", "#m202309", "#f2024", "#m202410", "#m202411"]
    assert spans(20231215, 20251231) == ["#m202312", "#m2024", "#m2025"]
    assert spans(20240301, 20240330) == ["#m202403"]
    assert spans(1, 20240330) is None and spans(20240301, 99_999_999) is None  # open ends
    assert len(spans(19900101, 20251231) or []) == 36  # one marker a year
    assert spans(19890101, 20251231) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_year_filter_keeps_exactly_its_days(request, tmp_path, backend):
    """The days on both sides of each edge of a fiscal and a calendar year."""
    days = [dt.date(*d) for d in ((2023, 9, 30), (2023, 10, 1), (2024, 9, 30), (2024, 10, 1))]
    days += [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 1)]
    index = _open(backend, tmp_path / "home", request)
    try:
        index.add(
            [
                IndexDoc(id=n, subject="ประชุมจิตอาสา", date=day, kind="memo")
                for n, day in enumerate(days, start=1)
            ]
        )
        fiscal = index.search("จิตอาสา", filters=SearchFilters(fiscal_year=2567, kind="memo"))
        assert sorted(ids(fiscal)) == [2, 3, 5, 6]
        year = SearchFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))
        assert sorted(ids(index.search("จิตอาสา", filters=year))) == [3, 4, 6, 7]
        both = SearchFilters(date_from=dt.date(2023, 9, 30), date_to=dt.date(2025, 1, 1))
        assert sorted(ids(index.search("จิตอาสา", filters=both))) == list(range(1, 9))
    finally:
        index.close()


def test_only_a_sampled_letter_carries_twins_and_at_most_so_many(monkeypatch):
    from saraban.indexer import _postgres
    from saraban.indexer._engine import prepare

    doc = IndexDoc(id=_postgres.COARSE_EVERY, subject="ประชุมจิตอาสา", kind="memo")
    prepared = prepare(doc, "newmm")
    marked = _postgres.markers(prepared)
    twins = _postgres.twins(prepared, marked)
    assert {"#s:#k=memo", "#t:#k=memo"} <= set(twins)
    assert {t.split(":", 1)[1] for t in twins if t.startswith("#s:")} == {
        t.split(":", 1)[1] for t in twins if t.startswith("#t:")
    }
    assert not any(t in ("#s:#s", "#s:#t", "#t:#s", "#t:#t") for t in twins)
    words = set(prepared.text["words"].split())
    assert words and all(f"#s:{w}" in twins for w in words)
    unsampled = prepare(dataclasses.replace(doc, id=_postgres.COARSE_EVERY + 1), "newmm")
    assert _postgres.twins(unsampled, _postgres.markers(unsampled)) == []
    monkeypatch.setattr(_postgres, "_TWINNED_AT_MOST", 3)
    assert len(_postgres.twins(prepared, marked)) == 2 * 3


@pytest.mark.postgres
@pytest.mark.parametrize("doc_id", [1024, 33])  # in both samples (twins too), in none
def test_postgres_indexes_a_letter_holding_a_word_longer_than_a_lexeme(request, tmp_path, doc_id):
    """PostgreSQL refuses a lexeme over 2,046 bytes ("word is too long"): a pasted blob of
    5,000 letters failed the whole batch of letters indexed with it. It is cut instead."""
    from saraban.indexer import _postgres

    index = _open("postgres", tmp_path / "home", request)
    try:
        blob = "a" * 5000 + " " + "ข" * 2000 + " it's \\ " + "x" * 2045
        index.add([IndexDoc(id=doc_id, subject="ประชุมจิตอาสา", body=blob), *_many_letters(3)])
        assert index.search("จิตอาสา").total == 4
        index.exact_up_to, index.fine_sample_up_to = 0, 0  # from the coarse sample's twins
        sampled = doc_id % _postgres.COARSE_EVERY == 0
        assert index.search("จิตอาสา").total == (_postgres.COARSE_EVERY if sampled else 4)
    finally:
        index.close()
