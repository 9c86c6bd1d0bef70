"""The Thai analyzer (indexer/_thai.py): one function for letters and queries."""

import pytest
from conftest import SEEDS

from saraban.indexer import analyze
from saraban.indexer._thai import ENGINES, key, normalize, words


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n\t", []),
        ("\u200b\u200c\ufeff", []),
        ("ศูนย์\u200bผู้นำ", ["ศูนย์", "ผู้", "นำ"]),  # zero-width space inside a word
        ("ศูนย์\u00adผู้นำ", ["ศูนย์", "ผู้", "นำ"]),  # soft hyphen from a PDF
        ("ดํา\u0e40นิน", ["ดำ", "เนิน"]),  # nikhahit + sara aa, as PDF extraction gives it
        ("\u0e40\u0e40ผน", ["แผน"]),  # two sara e for sara ae
        ("ผู\uf70bนำ", ["ผู้", "นำ"]),  # a private-use tone mark glyph (old PDF fonts)
        ("๒๕๖๕", ["2565"]),
        ("2565", ["2565"]),
        ("๒๖๙,๐๐๐ บาท", ["269000", "บาท"]),
        ("0019.3", ["0019.3"]),
        ("พ.ศ.๒๕๖๕", ["พศ", "2565"]),
        ("(มชช.)", ["มชช"]),
        ("ศูนย์ฯ", ["ศูนย์"]),
        ("ชุมชนๆ", ["ชุม", "ชน"]),
        ("Roadmap การพัฒนา", ["roadmap", "การ", "พัฒ", "นา"]),
        ("OTOP", ["otop"]),
        ("“โคก หนอง นา”", ["โคก", "หนอง", "นา"]),
    ],
)
def test_analyze_edge_cases(text, expected):
    assert analyze(text) == expected


def test_thai_and_arabic_digits_are_the_same_tokens():
    assert analyze("นค ๐๐๑๙.๓/ว ๒๕๖๔") == analyze("นค 0019.3/ว 2564")
    assert key("นค ๐๐๑๙.๓ / ว ๒๕๖๔") == key("นค0019.3/ว2564")


def test_normalize_does_not_touch_clean_text():
    text = "การขับเคลื่อนการดำเนินงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"
    assert normalize(text) == text


def test_normalize_refuses_non_text():
    with pytest.raises(TypeError):
        normalize(None)


@pytest.mark.parametrize(
    ("part", "whole"),
    [
        ("จิตอาสา", "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"),
        ("ศูนย์ผู้นำจิตอาสา", "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"),
        ("ชุมชน", "กรมการพัฒนาชุมชน"),  # one word in PyThaiNLP's dictionary
        ("พัฒนา", "การพัฒนาคุณภาพชีวิต"),
        ("หนองคาย", "จังหวัดหนองคาย"),
        ("สัมมาชีพ", "ผู้นำสัมมาชีพชุมชน"),
        ("โคกหนองนา", "ประยุกต์สู่ โคก หนอง นา โมเดล"),
    ],
)
def test_part_of_a_compound_is_a_run_of_its_tokens(part, whole):
    assert _contains(analyze(whole), analyze(part))


@pytest.mark.parametrize("engine", ENGINES)
def test_every_word_of_the_seeds_is_found_in_their_tokens(engine):
    """Words cut out of a letter (as a clerk types them) are runs of the letter's tokens:
    measured, 98% of the distinct words of the seeds; the misses are extraction debris."""
    text = "\n".join(p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt")))
    tokens = analyze(text, engine=engine)
    joined = "\x00" + "\x00".join(tokens) + "\x00"
    thai_words = {
        w for w in words(text, engine=engine) if len(w) >= 4 and "\u0e01" <= w[0] <= "\u0e4e"
    }
    missing = [
        w
        for w in thai_words
        if "\x00" + "\x00".join(analyze(w, engine=engine)) + "\x00" not in joined
    ]
    assert len(missing) <= 0.03 * len(thai_words), missing


def test_engines_agree_on_thai_text():
    text = (SEEDS / "000_e6238ec4d0848a5c.txt").read_text("utf-8")
    newmm, nlpo3 = analyze(text, engine="newmm"), analyze(text, engine="nlpo3")
    differing = sum(a != b for a, b in zip(newmm, nlpo3, strict=False))
    assert abs(len(newmm) - len(nlpo3)) <= 0.02 * len(newmm)
    assert differing <= 0.05 * len(newmm)


def test_unknown_engine_is_named():
    with pytest.raises(ValueError, match="nope.*nlpo3"):
        analyze("ทดสอบ", engine="nope")


# ---- the batched analyzer -------------------------------------------------------------------


def _texts():
    """Every text file of the test data (seeds, import corpora) and awkward strings."""
    from conftest import DATA

    found = [p.read_text("utf-8") for p in sorted(DATA.rglob("*.txt"))]
    found += [
        "ก.ข.ค นายก.ข. อ.ป.ท.และ พ.ศ.๒๕๖๗ ส.ค. ๖๗ x.5 1..2 1.2.3 0019.3. ๑,๒๓๔.๕๐ 1,23 10:30",
        "ａｂｃ ＡＢＣ １２３ ΑΒΓ αβγ naïve 中文 ฯลฯ ๆ ฿ ๏ ² ٣ abc123 ว2564",
        "เเก่ น้ํา ก\u200bข ผู\uf70bนำ ด่่วน",
        "๑๒๓๔ 5678 ๐๐๑๙ 007 ๒๕๖๗2567 ก ข ค ๑ 2 ง",  # plain numbers; pieces of one token
    ]
    return [t for t in found if t.strip()]


@pytest.mark.parametrize("engine", ENGINES)
def test_batched_analysis_gives_the_tokens_of_reading_one_match_at_a_time(engine):
    from saraban.indexer._thai import _tokens_one_by_one, clear_cache

    clear_cache()
    texts = _texts()
    for text in texts:
        assert analyze(text, engine=engine) == _tokens_one_by_one(normalize(text), engine)
    for text in texts:  # and again, every piece from the cache
        assert analyze(text, engine=engine) == _tokens_one_by_one(normalize(text), engine)


def test_pairs_of_pieces_are_the_pairs_of_the_tokens():
    from saraban.indexer._query import pairs
    from saraban.indexer._thai import analyzed, joined, paired

    for text in _texts():
        pieces = analyzed(text)
        tokens = joined(pieces).split()
        assert tokens == analyze(text)
        assert paired(pieces) == " ".join(pairs(tokens))
        halves = analyzed(text[: len(text) // 2]) + analyzed(text[len(text) // 2 :])
        assert paired(halves) == " ".join(pairs(joined(halves).split()))
        for one in range(min(len(pieces), 3)):
            assert paired(pieces[one : one + 1]) == " ".join(
                pairs(joined(pieces[one : one + 1]).split())
            )
    assert paired([]) == joined([]) == ""


def test_the_cache_is_bounded(monkeypatch):
    from saraban.indexer import _thai

    monkeypatch.setattr(_thai, "_CACHE_SIZE", 50)
    _thai.clear_cache()
    lines = [line for text in _texts()[:5] for line in text.splitlines() if line.strip()]
    for line in lines[:400]:
        assert analyze(line) == _thai._tokens_one_by_one(normalize(line), "nlpo3")
        assert len(_thai._pieces["nlpo3"]) <= max(50, len(set(analyze(line))))
    _thai.clear_cache()


def test_the_dates_of_the_pieces_are_those_read_dates_finds():
    from saraban.indexer._thai import analyzed, dates_of
    from saraban.thai import read_dates

    texts = _texts() + ["ลงวันที่ ๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗ วันที่ 3/1/2568 2024-11-21 ๒๐ ม.ค. ๖๘"]
    for text in texts:
        expected = list(dict.fromkeys(m.date.strftime("%Y%m%d") for m in read_dates(text)))
        assert dates_of(analyzed(text)) == expected


def test_prepared_letters_cross_processes_whole(tmp_path):
    """Worker processes hand letters back through a file, their strings as UTF-16: Thai,
    astral characters (one character, not two halves), a lone surrogate, empty strings."""
    import json
    import pickle

    from saraban.indexer import IndexDoc
    from saraban.indexer._engine import _Handed, prepare

    docs = [
        IndexDoc(
            id=7,
            ref_no="นค ๐๐๑๙.๓/ว ๑๒๓๔",
            subject="ศูนย์ผู้นำจิตอาสา 😀 \ud800 x",  # an astral character, a lone surrogate
            body='ตามหนังสือ ที่ มท ๐๔๑๐.๒/ว ๑ ลงวันที่ ๒๑ พ.ย. ๖๗\n"quoted" \\ back 𠀀',
            references=["หนังสือ ที่ นค ๐๐๑๙.๓/ว ๒๕๖๓"],
        ),
        IndexDoc(id=8),  # every text empty
        IndexDoc(id=9, subject="😀", body="\x00"),
    ]
    prepared = [prepare(doc, "nlpo3") for doc in docs]
    assert prepared[1].text["words"] == ""
    handed = _Handed.write(prepared, str(tmp_path))
    back = pickle.loads(pickle.dumps(handed)).read()
    assert back == prepared
    assert json.loads(back[0].stored_json)["subject"] == docs[0].subject
    assert json.loads(back[2].stored_json)["subject"] == "😀"
    assert not list(tmp_path.iterdir())  # the file is gone once read


def test_rendered_letters_come_back_without_their_text(tmp_path):
    """What a backend's ``render`` made (PostgreSQL's tsvector literals) is what it
    writes: the text stays in the worker."""
    from saraban.indexer import IndexDoc
    from saraban.indexer._engine import _Handed, prepare_many
    from saraban.indexer._postgres import render

    prepared = prepare_many([IndexDoc(id=1, subject="ศูนย์ผู้นำจิตอาสา 😀")], "nlpo3", render)
    [back] = _Handed.write(prepared, str(tmp_path)).read()
    assert back.rendered == prepared[0].rendered and "'จิต'" in back.rendered["tsv"]
    assert back.text == {}
    assert back.stored_json == prepared[0].stored_json
