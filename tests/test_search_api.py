"""Search through the API and the search page.

A user is answered as if the letters above their clearance did not exist: the whole JSON of
every search, scores, totals, facets, snippets and order included, is the same before and
after secret letters sharing its words are stored (issue 11.2). A query beyond the limits is
a 400 in the one error shape, naming the limit (issue 11.4)."""

from __future__ import annotations

import json

import pytest
from test_service_support import (
    SEEDS,
    add_unit,
    add_users,
    bearer,
    login,
    make_app,
    secret_letter,
    seed_letter,
    store_letter,
    tokens,
)

SEARCHES = [
    "q=จิตอาสา",
    "q=ชุมชน&per_page=3&page=2",
    "q=นาคราช",  # the secret letters' own word
    "q=ผู้นำจิตอาสา นาคราช",
    "q=โครงการพิเศษ",
    "q=นค 0019.3/9876",  # a secret letter's number
    "q=นค 0019.3/9877",
    "q=ลับเฉพาะ",
    "q=ชุมชน&sort=date&per_page=100",
    "q=จิตอาสา&fiscal_year=2568",
    "kind=external&per_page=100",
    "direction=imported&sort=date&per_page=100",
]


@pytest.fixture
def clerk_app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    keys = tokens(app, add_users(app))
    for path in sorted(SEEDS.glob("*.letter.json")):
        store_letter(app, seed_letter(path.name.removesuffix(".letter.json")))
    app.extensions["saraban_search"].sync_now()
    yield app, keys
    close_app(app)


def everything(app, key):
    client = app.test_client()
    found = {}
    for query in SEARCHES:
        response = client.get(f"/api/v1/search?{query}", headers=bearer(key))
        assert response.status_code == 200, (query, response.get_json())
        found[query] = json.dumps(response.get_json(), ensure_ascii=False, sort_keys=True)
    return found


@pytest.mark.parametrize(("who", "level"), [("clerk", "ลับ"), ("secret", "ลับมาก")])
def test_secret_letters_change_no_search_answer_of_a_user_not_cleared(clerk_app, who, level):
    app, keys = clerk_app
    before = everything(app, keys[who])
    letter_ids = []
    for number, subject in enumerate(
        ["ลับเฉพาะเรื่องโครงการพิเศษนาคราช", "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน นาคราช"], 9876
    ):
        letter = secret_letter(level, subject)
        letter["ref_no"] = f"นค ๐๐๑๙.๓/{number}"
        letter["body"] += ["จิตอาสา ชุมชน ผู้นำจิตอาสา " * 5]
        letter_ids.append(store_letter(app, letter).public_id)
    app.extensions["saraban_search"].sync_now()
    after = everything(app, keys[who])
    assert [query for query in SEARCHES if before[query] != after[query]] == []
    cleared = app.test_client().get("/api/v1/search?q=นาคราช", headers=bearer(keys["topsecret"]))
    assert {hit["id"] for hit in cleared.get_json()["hits"]} == set(letter_ids)


def test_a_query_beyond_the_limits_is_a_clear_400(clerk_app):
    from saraban.indexer._query import MAX_QUERY_CHARS, MAX_QUERY_WORDS

    app, keys = clerk_app
    client = app.test_client()
    too_long = '"' + "ศูนย์ผู้นำจิตอาสา" * 20 + '"'
    body = client.get(f"/api/v1/search?q={too_long}", headers=bearer(keys["clerk"]))
    assert body.status_code == 400
    error = body.get_json()
    assert error["ok"] is False and error["status"] == 400
    assert f"ไม่เกิน {MAX_QUERY_CHARS} ตัวอักษร" in error["error"]
    many = " ".join(["ชุมชน", "จิตอาสา", "ผู้นำ", "ประชุม", "โครงการ"] * 4)
    body = client.get(f"/api/v1/search?q={many}", headers=bearer(keys["clerk"]))
    assert body.status_code == 400
    assert f"ไม่เกิน {MAX_QUERY_WORDS} คำ" in body.get_json()["error"]
    # The page says it beside the box, and keeps what was typed.
    from test_service_support import login

    login(client, "clerk")
    page = client.get(f"/search?q={many}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert f"ไม่เกิน {MAX_QUERY_WORDS} คำ" in html and 'id="q-error"' in html
    assert client.get(f"/search?q={too_long}").status_code == 400
    # At the limits, a search works.
    at_limit = client.get(f'/search?q={too_long[: MAX_QUERY_CHARS - 1]}"')
    assert at_limit.status_code == 200


def test_a_number_not_in_the_archive_is_said_not_found(clerk_app):
    from test_service_support import login

    app, keys = clerk_app
    client = app.test_client()
    body = client.get("/api/v1/search?q=นค 0019.3/ว 9999", headers=bearer(keys["clerk"]))
    answer = body.get_json()
    assert body.status_code == 200
    assert (answer["total"], answer["hits"]) == (0, [])
    assert answer["numbers_not_found"] == ["นค 0019.3/ว 9999"]
    found = client.get("/api/v1/search?q=นค 0019.3/ว2564", headers=bearer(keys["clerk"]))
    assert found.get_json()["numbers_not_found"] == [] and found.get_json()["total"] >= 1
    login(client, "clerk")
    page = client.get("/search?q=นค 0019.3/ว 9999").get_data(as_text=True)
    assert "ไม่พบหนังสือเลขที่ นค 0019.3/ว 9999" in page


def test_a_new_search_from_the_page_keeps_the_year_facet(clerk_app):
    """Issue 13: the year facet has no field in the form, so a new search typed on the
    page dropped it. The form now carries it, and the facet list offers to clear it."""
    import re

    from test_service_support import login

    app, _keys = clerk_app
    client = app.test_client()
    login(client, "clerk")
    page = client.get("/search?q=ชุมชน").get_data(as_text=True)
    years = re.findall(r'href="/search\?[^"]*year=(\d{4})', page)
    assert years, "the seeds give the page a year facet"
    chosen = client.get(f"/search?q=ชุมชน&year={years[0]}").get_data(as_text=True)
    form = _search_form(chosen)
    assert f'<input type="hidden" name="year" value="{years[0]}">' in form
    assert re.search(r'<a href="/search\?q=[^"]*">ทั้งหมด</a>', chosen)
    plain = client.get("/search?q=ชุมชน").get_data(as_text=True)
    assert 'name="year"' not in _search_form(plain)


def _search_form(page: str) -> str:
    """The search page's own form (not the quick search in the top bar)."""
    forms = [f.split("</form>", 1)[0] for f in page.split("<form")[1:]]
    return next(f for f in forms if 'id="q"' in f)


def test_a_hit_the_archive_does_not_hold_is_left_out_not_a_500(clerk_app, caplog):
    """An index kept beside an older archive (restored from a backup) may hold letters the
    archive lacks: the page and the API leave them out and the log says to reindex."""
    from saraban.indexer import IndexDoc

    app, keys = clerk_app
    search = app.extensions["saraban_search"]
    search.index.add([IndexDoc(id=987_654, subject="จดหมายจากคลังเก่า นาคราชสีทอง", body="x")])
    client = app.test_client()
    before = client.get("/api/v1/search?q=จิตอาสา", headers=bearer(keys["clerk"])).get_json()
    response = client.get("/api/v1/search?q=นาคราชสีทอง", headers=bearer(keys["clerk"]))
    assert response.status_code == 200
    assert response.get_json()["hits"] == [] and response.get_json()["total"] == 0
    assert "saraban reindex" in caplog.text
    login(client, "clerk")
    page = client.get("/search?q=นาคราชสีทอง")
    assert page.status_code == 200 and "จดหมายจากคลังเก่า" not in page.get_data(as_text=True)
    after = client.get("/api/v1/search?q=จิตอาสา", headers=bearer(keys["clerk"])).get_json()
    assert after == before
