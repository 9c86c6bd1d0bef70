"""The JSON API: every route refuses a missing or wrong token, administrator routes refuse a
clerk, bodies that are not what a route takes are 400 in the one error shape, and a letter
the user is not cleared for is not found by id, by search, by reference number, in lists,
in facets or in files. Issuing (which renders PDFs) is under the ``pdf`` marker."""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
import time

import pytest
from test_service_support import (
    PASSWORD,
    SEEDS,
    UNIT,
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

ADMIN_ROUTES = {
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/units"),
    ("POST", "/registers"),
    ("POST", "/reindex"),
    ("POST", "/recipients"),
}
# Routes that change something but take no body (every other POST/PUT takes one, as its
# OpenAPI entry says; a new route must be in one list or the other).
NO_BODY_ROUTES = {("POST", "/drafts/<draft:draft_id>/issue"), ("POST", "/reindex")}
NO_BODY_ROUTES |= {("POST", "/letters/<letter:letter_id>/remind")}
NO_BODY_ROUTES |= {("POST", "/delegations/<int:delegation_id>/revoke")}
# GET routes that answer a list but are not paged, and why; every other list is paged.
UNPAGED_LISTS = {
    "/registers": "the registers and units, a handful set up by administrators",
    "/forms": "the report forms shipped with the program",
    "/users": "the office's accounts, listed whole for administrators",
    "/letters/<letter:letter_id>/history": "one letter's audit events",
}
NOT_LISTS = {"/me", "/letters/<letter:letter_id>", "/drafts/<draft:draft_id>", "/forms/<name>"}
NOT_LISTS |= {"/jobs/<job_id>", "/drafts/<draft:draft_id>/preview"}
NOT_LISTS |= {
    "/letters/<letter:letter_id>/<any(docx, pdf, original):kind>",
    "/letters/<letter:letter_id>/files/<int:number>",
}
NOT_LISTS |= {
    "/received/<received:received_id>",
    "/received/<received:received_id>/<any(original, pdfa, stamped):kind>",
}
NOT_LISTS |= {
    "/letters/<letter:letter_id>/tracking"
}  # one letter's recipients, bounded by the send
MISSING_ID = "987654"
MISSING_LETTER = "zzzzzzzzzzzz"  # the shape of a public id; no letter has it
SAMPLE_PATH_VALUES = {
    "letter_id": MISSING_LETTER,
    "draft_id": MISSING_LETTER,
    "kind": "pdf",
    "name": "activity_schedule",
    "fmt": "docx",
    "job_id": "x",
    "received_id": MISSING_LETTER,
    "delegation_id": MISSING_ID,
    "number": 1,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app for the module (the access checks only read): a unit, users of each role and
    clearance with tokens, open and secret letters (imported, so no PDF is rendered)."""
    from saraban.service import close_app

    app = make_app(tmp_path_factory.mktemp("api") / "home")
    add_unit(app)
    users = add_users(app)
    keys = tokens(app, users)
    letters = {
        "open": store_letter(app, seed_letter()),
        "secret": store_letter(app, secret_letter("ลับ")),
        "topsecret": store_letter(
            app,
            {
                **secret_letter("ลับที่สุด", "แผนลับที่สุดเรื่องมังกรทอง"),
                "ref_no": "นค ๐๐๑๙.๓/๕๕๕๕",
                "body": ["มังกรทองเป็นชื่อรหัสของแผน"],
            },
        ),
    }
    received = app.extensions["archive"].receive(
        UNIT,
        sender="จังหวัดขอนแก่น",
        recipient="ผู้ว่าราชการ",
        subject="ทดสอบ",
        actor="tester",
        # long ago: the registers of this year, which tests count, stay empty
        received_at=datetime.datetime(2019, 1, 2, 9, 0, tzinfo=datetime.UTC),
    )
    letters["received"] = received  # a received letter (by its public id in paths)
    app.extensions["saraban_search"].sync_now()
    yield app, users, keys, letters
    close_app(app)


def api_routes(app, values=None, *, every_option=False):
    """(method, path with sample values, rule without /api/v1) for every API route but the
    open document; ``every_option`` gives one path per choice of an ``<any(...)>`` part."""
    chosen = values or {}
    values = {**SAMPLE_PATH_VALUES, **chosen}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        paths = [rule.rule]
        for options, name in re.findall(r"<any\(([^)]*)\):(\w+)>", rule.rule):
            choices = [o.strip() for o in options.split(",")]
            if chosen.get(name) in choices:
                choices = [chosen[name]]
            elif not every_option:
                choices = choices[:1]
            part = f"<any({options}):{name}>"
            paths = [p.replace(part, choice) for p in paths for choice in choices]
        for name in rule.arguments:
            paths = [re.sub(rf"<[^>]*{name}>", str(values[name]), p) for p in paths]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.extend((method, path, rule.rule.removeprefix("/api/v1")) for path in paths)
    return found


def openapi_operation(app, method, rule):
    """The OpenAPI entry of a route (``rule`` as in the url_map, without /api/v1)."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    path = re.sub(r"<any\([^)]*\):(\w+)>", r"{\1}", rule)
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", path)
    return document["paths"][path][method.lower()]


def assert_error(response, status):
    """The one error shape, with the status it claims."""
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) - {"problems"} == {"ok", "error", "status"}, body
    assert body["ok"] is False and body["status"] == status, body
    assert isinstance(body["error"], str) and body["error"].strip(), body
    assert "Traceback" not in body["error"]
    return body


def _call(client, method, path, **kwargs):
    response = client.open(path, method=method, **kwargs)
    response.close()
    return response


def test_every_route_is_classified(world):
    """Each route is in the OpenAPI document, and what the access tests below assume of it
    (administrators only, takes a body, paged or a list on purpose unpaged) agrees with
    that document: a new route fails here until it is placed, and then the walks over the
    url_map test it like the others."""
    app, *_ = world
    routes = {(m, rule) for m, _p, rule in api_routes(app)}
    assert len(routes) >= 27
    for method, rule in routes:
        operation = openapi_operation(app, method, rule)
        admin = "403" in operation["responses"]
        assert admin is ((method, rule) in ADMIN_ROUTES), (method, rule)
        if method in ("POST", "PUT", "PATCH"):
            assert ("requestBody" in operation) is ((method, rule) not in NO_BODY_ROUTES), rule
        else:
            assert "requestBody" not in operation, (method, rule)
        paged = any(p["name"] == "page" for p in operation["parameters"])
        if method == "GET":
            assert paged is (rule not in UNPAGED_LISTS.keys() | NOT_LISTS), rule
    assert ADMIN_ROUTES <= routes and NO_BODY_ROUTES <= routes


def test_every_route_refuses_no_token_and_a_wrong_token(world):
    app, users, keys, _letters = world
    client = app.test_client()
    routes = api_routes(app, every_option=True)
    assert len(routes) >= 30
    basic = base64.b64encode(f"clerk:{PASSWORD}".encode()).decode()
    for method, path, _rule in routes:
        for headers, query in (
            ({}, ""),
            (bearer("sbn_wrong-token"), ""),
            (bearer(keys["clerk"] + "x"), ""),
            (bearer(keys["clerk"][:-1]), ""),
            ({"Authorization": keys["clerk"]}, ""),
            ({"Authorization": "Bearer "}, ""),
            ({"Authorization": f"Basic {basic}"}, ""),
            ({"Authorization": f"Token {keys['clerk']}"}, ""),
            ({"X-API-Key": keys["clerk"]}, ""),
            ({}, f"?access_token={keys['clerk']}&token={keys['clerk']}"),
            (bearer("x" * 5000), ""),
        ):
            response = _call(client, method, path + query, headers=headers, json={})
            assert_error(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
    assert users["clerk"].active


def test_a_signed_in_session_is_not_a_token(world):
    """The API takes no cookies (which is why it needs no CSRF token): a browser signed in
    to the pages, even with the page's CSRF token, is 401 on every route."""
    app, *_ = world
    client = app.test_client()
    csrf = login(client, "admin")
    assert client.get("/letters").status_code == 200  # the session works for the pages
    for method, path, _rule in api_routes(app, every_option=True):
        response = _call(client, method, path, headers={"X-CSRF-Token": csrf}, json={})
        assert_error(response, 401)


def test_a_revoked_token_and_a_disabled_user_are_refused(world):
    app, users, _keys, _letters = world
    store = app.extensions["saraban_store"]
    client = app.test_client()
    token, info = store.create_token(users["clerk"].id, "revoke me")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    store.revoke_token(info.id)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    extra = store.add_user("leaver", "a good password", role="clerk")
    token, _info = store.create_token(extra.id)
    store.update_user(extra.id, active=False)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_clerk_is_refused_on_every_admin_route_and_only_there(world):
    """Administrators' routes refuse every clerk (cleared for secrets or not), before the
    body is even read; no other route answers a clerk 403."""
    app, _users, keys, _letters = world
    client = app.test_client()
    missing = {"letter_id": MISSING_LETTER, "draft_id": MISSING_ID}
    routes = api_routes(app, missing, every_option=True)
    admin_routes = [(m, p) for m, p, rule in routes if (m, rule) in ADMIN_ROUTES]
    assert len(admin_routes) == len(ADMIN_ROUTES)
    for method, path in admin_routes:
        for who in ("clerk", "secret", "topsecret"):
            for body in (
                {"json": {"name": "x"}},
                {"data": b"{not json", "content_type": "application/json"},
            ):
                response = _call(client, method, path, headers=bearer(keys[who]), **body)
                assert assert_error(response, 403)["error"].startswith("เฉพาะผู้ดูแลระบบ")
    for method, path, rule in routes:
        if (method, rule) in ADMIN_ROUTES or (method, rule) == ("POST", "/drafts"):
            continue
        response = _call(client, method, path, headers=bearer(keys["clerk"]), json={})
        assert response.status_code != 403, (method, path, response.get_json())


MALFORMED_BODIES = {
    "broken-json": {"data": b"{not json", "content_type": "application/json"},
    "a-list": {"data": b"[1, 2, 3]", "content_type": "application/json"},
    "a-string": {"data": b'"just a string"', "content_type": "application/json"},
    "null": {"data": b"null", "content_type": "application/json"},
    "empty": {"data": b"", "content_type": "application/json"},
    "not-utf8": {"data": b'{"name": "\xff\xfe"}', "content_type": "application/json"},
    "lone-surrogate": {
        "data": b'{"name": "\\ud800", "letter": {"subject": "\\udfff"}}',
        "content_type": "application/json",
    },
    "surrogate-key": {"data": b'{"\\udc00": 1}', "content_type": "application/json"},
    "nested-100000": {
        "data": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "content_type": "application/json",
    },
    "nested-100": {
        "data": b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}",
        "content_type": "application/json",
    },
    "duplicate-key": {"data": b'{"name": "a", "name": "b"}', "content_type": "application/json"},
    "nan": {"data": b'{"reason": NaN}', "content_type": "application/json"},
    "huge-float": {"data": b'{"reason": 1e400}', "content_type": "application/json"},
    "huge-integer": {
        "data": b'{"reason": ' + b"9" * 5000 + b"}",
        "content_type": "application/json",
    },
    "big-integer": {"data": b'{"reason": 9007199254740993}', "content_type": "application/json"},
    "utf16": {"data": '{"name": "x"}'.encode("utf-16"), "content_type": "application/json"},
    "a-form": {"data": b"name=x", "content_type": "application/x-www-form-urlencoded"},
    "json-as-text": {"data": b'{"name": "x"}', "content_type": "text/plain"},
    "no-body": {},
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_a_malformed_body_is_400_in_the_error_shape(world, body):
    """Every route that takes a JSON body (as its OpenAPI entry says) answers 400, in the
    one shape, to a body that is not a JSON object; an administrator's token is used, so
    neither the role nor a letter's secrecy stands in the way."""
    app, users, keys, letters = world
    client = app.test_client()
    draft = app.extensions["saraban_store"].create_draft(
        users["admin"].id, seed_letter(), unit=None
    )
    values = {
        "letter_id": letters["open"].public_id,
        "draft_id": draft.public_id,
        "received_id": letters["received"].public_id,
    }
    checked = set()
    for method, path, rule in api_routes(app, values, every_option=True):
        if method not in ("POST", "PUT", "PATCH") or (method, rule) in NO_BODY_ROUTES:
            continue
        content = openapi_operation(app, method, rule)["requestBody"]["content"]
        if "application/json" not in content:
            continue
        response = _call(client, method, path, headers=bearer(keys["admin"]), **body)
        assert assert_error(response, 400)["error"].startswith("body:"), (method, path)
        checked.add((method, rule))
    assert len(checked) >= 8


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"files": ["a.txt"]}},
        {"data": b"files=a.txt", "content_type": "application/x-www-form-urlencoded"},
        {"data": {"other": (io.BytesIO(b"x"), "a.txt")}, "content_type": "multipart/form-data"},
        {"data": {"files": (io.BytesIO(b"x"), "")}, "content_type": "multipart/form-data"},
        {"data": b"--x\r\nbroken", "content_type": "multipart/form-data; boundary=x"},
        {
            "data": {"files": [(io.BytesIO(b"x"), f"{n}.txt") for n in range(21)]},
            "content_type": "multipart/form-data",
        },
    ],
    ids=["json", "a-form", "wrong-field", "no-file-name", "broken-multipart", "21-files"],
)
def test_an_import_without_files_is_400_in_the_error_shape(world, body):
    app, _users, keys, _letters = world
    response = _call(
        app.test_client(), "POST", "/api/v1/imports", headers=bearer(keys["clerk"]), **body
    )
    assert assert_error(response, 400)["error"].startswith("files:")


def test_an_import_where_every_file_fails_is_an_error_in_the_one_shape(world):
    app, _users, keys, _letters = world
    response = app.test_client().post(
        "/api/v1/imports",
        headers=bearer(keys["clerk"]),
        data={"files": [(io.BytesIO(b"\x00\x01"), "a.txt"), (io.BytesIO(b"\x02"), "b.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400 and body["error"].startswith("files:")
    assert [r["file"] for r in body["results"]] == ["a.txt", "b.txt"]
    assert not any(r["ok"] for r in body["results"])


def test_importing_a_secret_letters_file_again_does_not_name_it(tmp_path):
    """Uploading the very file a secret letter was imported from must not tell an
    uncleared clerk that the letter exists: for them the file is new and is kept again.
    A user cleared for the letter is told which letter the file already is."""
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    try:
        add_unit(app)
        keys = tokens(app, add_users(app))
        original = (SEEDS / "003_4dc97dfab31f716a.txt").read_bytes()
        hidden = store_letter(app, secret_letter("ลับ"), original=original)

        def upload(token: str):
            return app.test_client().post(
                "/api/v1/imports",
                headers=bearer(keys[token]),
                data={"files": [(io.BytesIO(original), "again.txt")]},
                content_type="multipart/form-data",
            )

        by_clerk = upload("clerk")
        assert by_clerk.status_code == 201, by_clerk.get_json()
        kept = by_clerk.get_json()["results"][0]
        assert kept["ok"] and kept["id"] != hidden.public_id
        said = json.dumps(by_clerk.get_json(), ensure_ascii=False)
        assert "นำเข้าแล้ว" not in said and "already" not in said
        by_cleared = upload("secret")
        assert by_cleared.status_code == 400
        assert hidden.public_id in by_cleared.get_json()["results"][0]["error"]
    finally:
        close_app(app)


def test_a_body_over_the_size_limit_is_413_in_the_error_shape(world):
    app, _users, keys, _letters = world
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        client = app.test_client()
        big = {"sender": "ก" * 2000}
        response = _call(
            client, "POST", "/api/v1/registers/received", headers=bearer(keys["clerk"]), json=big
        )
        assert_error(response, 413)
        upload = {"files": [(io.BytesIO(b"x" * 2000), "big.txt")]}
        response = _call(
            client, "POST", "/api/v1/imports", headers=bearer(keys["clerk"]), data=upload
        )
        assert_error(response, 413)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("POST", "/api/v1/drafts", {"kind": "telegram"}),
        ("POST", "/api/v1/drafts", {"letter": "not an object"}),
        ("POST", "/api/v1/drafts", {"unit": 42}),
        ("POST", "/api/v1/drafts", {"unit": "ขก ๙๙๙๙"}),
        ("PUT", "/api/v1/drafts/{draft}", {"unit": "x"}),
        ("PUT", "/api/v1/drafts/{draft}", {"letter": {"kind": "telegram"}}),
        ("POST", "/api/v1/letters/{open}/cancel", {"reason": ""}),
        ("POST", "/api/v1/registers/received", {"register": UNIT, "sender": 1}),
        (
            "POST",
            "/api/v1/registers/received",
            {
                "register": UNIT,
                "sender": "ก",
                "recipient": "ข",
                "subject": "ค",
                "letter_date": "2568-01-01",
            },
        ),
        ("POST", "/api/v1/forms/activity_schedule/docx", {"data": []}),
        ("POST", "/api/v1/users", {"name": "x y", "password": "a good password"}),
        ("POST", "/api/v1/users", {"name": "shortpw", "password": "short"}),
        (
            "POST",
            "/api/v1/users",
            {"name": "badrole", "password": "a good password", "role": "god"},
        ),
        ("POST", "/api/v1/units", {"prefix": "not a prefix", "name": "x"}),
        ("POST", "/api/v1/units", {"prefix": "ขก ๐๐๑๙.๑", "name": "x", "address": "one line"}),
        ("POST", "/api/v1/registers", {"number_format": "roman"}),
        ("GET", "/api/v1/letters?page=0", None),
        ("GET", "/api/v1/letters?per_page=1000", None),
        ("GET", "/api/v1/letters?year=2025", None),
        ("GET", "/api/v1/letters?year=²⁵⁶⁸", None),
        ("GET", "/api/v1/search?q=x&fiscal_year=²⁵⁶⁸", None),
        ("GET", "/api/v1/letters?status=reserved", None),
        ("GET", "/api/v1/search", None),
        ("GET", "/api/v1/search?q=x&date_from=1/1/2025", None),
        ("GET", "/api/v1/search?q=x&kind=telegram", None),
        ("GET", "/api/v1/registers/sent?from=2025-13-01", None),
        ("GET", "/api/v1/registers/sent?format=xls", None),
    ],
)
def test_wrong_values_are_400_naming_the_field(world, method, path, json):
    app, users, keys, letters = world
    client = app.test_client()
    draft = app.extensions["saraban_store"].create_draft(
        users["admin"].id, seed_letter(), unit=None
    )
    path = path.format(draft=draft.public_id, open=letters["open"].public_id)
    kwargs = {"json": json} if json is not None else {}
    response = _call(client, method, path, headers=bearer(keys["admin"]), **kwargs)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400
    assert re.match(r"^[\w .]+:", body["error"]) or "problems" in body, body["error"]


def test_an_unknown_form_is_404(world):
    app, _users, keys, _letters = world
    response = app.test_client().get("/api/v1/forms/nonesuch", headers=bearer(keys["clerk"]))
    assert response.status_code == 404


# ---- secrecy ------------------------------------------------------------------------------------


def test_a_secret_letter_by_id_is_not_found_for_the_uncleared(world):
    app, _users, keys, letters = world
    client = app.test_client()
    secret = letters["secret"].public_id
    for who, sees in (("clerk", False), ("admin", False), ("secret", True), ("topsecret", True)):
        headers = bearer(keys[who])
        for path in (
            f"/api/v1/letters/{secret}",
            f"/api/v1/letters/{secret}/original",
            f"/api/v1/letters/{secret}/history",
        ):
            response = _call(client, "GET", path, headers=headers)
            assert response.status_code == (200 if sees else 404), (who, path)
        cancel = _call(
            client,
            "POST",
            f"/api/v1/letters/{secret}/cancel",
            headers=headers,
            json={"reason": "ทดสอบ"},
        )
        assert cancel.status_code in ((409,) if sees else (404,)), (who, cancel.get_json())


def test_hidden_and_missing_letters_answer_alike(world):
    app, _users, keys, letters = world
    client = app.test_client()
    hidden = client.get(
        f"/api/v1/letters/{letters['topsecret'].public_id}", headers=bearer(keys["secret"])
    ).get_json()
    missing = client.get(
        f"/api/v1/letters/{MISSING_LETTER}", headers=bearer(keys["secret"])
    ).get_json()
    assert hidden == missing


# (letter, user, cleared?) for the two secret letters of ``world``; ``admin`` has no
# clearance (the role opens the administrators' routes, not secret letters).
WHO_SEES = [
    ("secret", "clerk", False),
    ("secret", "admin", False),
    ("secret", "secret", True),
    ("secret", "topsecret", True),
    ("topsecret", "clerk", False),
    ("topsecret", "admin", False),
    ("topsecret", "secret", False),
    ("topsecret", "topsecret", True),
]
# What would give each letter away: words of its subject and body, its number's digits.
TELLTALES = {"secret": ("นาคราช", "๙๘๗๖", "9876"), "topsecret": ("มังกรทอง", "๕๕๕๕", "5555")}


def _answer(response, letter_id):
    """A response as the user sees it, with the letter's id written as N."""
    text = response.get_data(as_text=True) if response.mimetype == "application/json" else ""
    return response.status_code, response.mimetype, re.sub(rf"\b{letter_id}\b", "N", text)


@pytest.mark.parametrize(("letter", "who", "sees"), WHO_SEES)
def test_every_letter_route_answers_a_hidden_letter_like_a_missing_one(world, letter, who, sees):
    """Every route with a letter id in its path (found in the url_map, every file kind, any
    body for a cancel) answers an uncleared user exactly as for an id that does not exist;
    a cleared user gets a different answer, so the comparison can fail."""
    app, _users, keys, letters = world
    client = app.test_client()
    hidden = letters[letter].public_id
    headers = bearer(keys[who])
    routes = [r for r in api_routes(app, every_option=True) if "<letter:letter_id>" in r[2]]
    assert len(routes) >= 6
    for method, template, _rule in routes:
        for body in ({"json": {"reason": "ทดสอบ"}}, {"data": b"{x", "content_type": "text/plain"}):
            answers = []
            for letter_id in (hidden, MISSING_LETTER):
                path = template.replace(f"/letters/{MISSING_LETTER}", f"/letters/{letter_id}")
                response = _call(client, method, path, headers=headers, **body)
                answers.append(_answer(response, letter_id))
            if sees:
                assert answers[0] != answers[1], (method, template)
            else:
                assert answers[0] == answers[1], (method, template)
                assert answers[0][0] == 404
                assert not any(word in answers[0][2] for word in TELLTALES[letter])
    status = app.extensions["archive"].get(letters[letter].id).status
    assert status == "stored"  # nobody cancelled it on the way


LIST_QUERIES = [
    "/api/v1/letters?per_page=100",
    "/api/v1/letters?status=stored&per_page=100",
    "/api/v1/letters?year=2567&per_page=100",
    "/api/v1/letters?ref_no={ref}",
    "/api/v1/search?q={word}",
    "/api/v1/search?q={ref}",
    "/api/v1/search?q={ref}&sort=date",
    "/api/v1/search?kind=external&per_page=100",
    "/api/v1/search?fiscal_year=2568&sort=date&per_page=100",
    "/api/v1/search?direction=imported&per_page=100",
    "/api/v1/search?unit=&date_from=1/1/2567&date_to=31/12/2567&per_page=100",
]


@pytest.mark.parametrize("query", LIST_QUERIES)
@pytest.mark.parametrize(("letter", "who", "sees"), WHO_SEES)
def test_lists_and_search_show_a_secret_letter_only_to_the_cleared(world, query, letter, who, sees):
    """Every list and search, by words, by number typed any way, by filter alone: the
    letter, its words and its number appear for the cleared and nowhere for the others,
    and totals and facet counts count only what the user may see."""
    app, _users, keys, letters = world
    record = letters[letter]
    ref = record.ref_no.replace("๐๐๑๙.๓", "0019.3").replace("๙๘๗๖", "9876").replace("๕๕๕๕", "5555")
    path = query.format(ref=ref, word=TELLTALES[letter][0])
    response = app.test_client().get(path, headers=bearer(keys[who]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    items = body.get("items", body.get("hits"))
    ids = {item["id"] for item in items}
    assert (record.public_id in ids) is sees, (path, who)
    # (A number searched for and not found is said back as typed: that echo is not a leak.)
    text = json.dumps(
        {k: v for k, v in body.items() if k != "numbers_not_found"}, ensure_ascii=False
    )
    for word in TELLTALES[letter]:
        assert (word in text) is (sees and word in str(items)), (path, who, word)
    assert body["total"] >= len(items) and (body["total"] == len(items) or body["pages"] > 1)
    for facet in (body.get("facets") or {}).values():
        assert sum(facet.values()) <= body["total"], facet


def test_a_search_in_plain_words_says_it_found_only_some_of_them(world):
    app, _users, keys, _letters = world
    query = "หนังสือเวียน จิตอาสา ปีที่แล้ว"  # no letter prints the first and the last
    body = app.test_client().get(f"/api/v1/search?q={query}", headers=bearer(keys["clerk"]))
    assert body.get_json()["total"] > 0 and body.get_json()["some_words"] is True
    exact = app.test_client().get("/api/v1/search?q=จิตอาสา", headers=bearer(keys["clerk"]))
    assert exact.get_json()["some_words"] is False
    client = app.test_client()
    login(client, "clerk")
    assert "ไม่พบหนังสือที่มีครบทุกคำ" in client.get(f"/search?q={query}").get_data(as_text=True)
    assert "ไม่พบหนังสือที่มีครบทุกคำ" not in client.get("/search?q=จิตอาสา").get_data(as_text=True)


def test_a_secret_letter_is_not_found_by_search(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    for who, sees in (("clerk", False), ("secret", True)):
        body = client.get("/api/v1/search?q=นาคราช", headers=bearer(keys[who])).get_json()
        assert (body["total"] == 1) is sees, who
        text = str(body)
        assert ("นาคราช" in text) is sees, who
    # facets count only what the user may see
    clerk = client.get("/api/v1/search?q=จิตอาสา", headers=bearer(keys["clerk"])).get_json()
    cleared = client.get("/api/v1/search?q=จิตอาสา", headers=bearer(keys["topsecret"])).get_json()
    assert sum(clerk["facets"]["year"].values()) == clerk["total"]
    assert cleared["total"] > clerk["total"]
    assert "มังกรทอง" not in str(
        client.get("/api/v1/search?q=มังกรทอง", headers=bearer(keys["secret"])).get_json()
    )


def test_a_secret_letter_is_not_found_by_reference_number(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    for typed in ("นค 0019.3/9876", "นค ๐๐๑๙.๓/๙๘๗๖", "นค0019.3/9876"):
        for who, sees in (("clerk", False), ("secret", True)):
            listing = client.get(
                f"/api/v1/letters?ref_no={typed}", headers=bearer(keys[who])
            ).get_json()
            assert listing["total"] == (1 if sees else 0), (who, typed)
            search = client.get(f"/api/v1/search?q={typed}", headers=bearer(keys[who])).get_json()
            assert ("๙๘๗๖" in str(search["hits"])) is sees, (who, typed)


def test_lists_leave_out_what_the_user_may_not_see(world):
    app, _users, keys, letters = world
    client = app.test_client()
    seen = {}
    for who in ("clerk", "secret", "topsecret"):
        body = client.get("/api/v1/letters?per_page=100", headers=bearer(keys[who])).get_json()
        seen[who] = {item["id"] for item in body["items"]}
        assert body["total"] == len(seen[who])
    assert seen["clerk"] == {letters["open"].public_id}
    assert seen["secret"] == {letters["open"].public_id, letters["secret"].public_id}
    assert letters["topsecret"].public_id in seen["topsecret"]


def test_a_lowered_clearance_hides_letters_at_once(world):
    app, _users, _keys, letters = world
    store = app.extensions["saraban_store"]
    client = app.test_client()
    cleared = store.add_user("demoted", "a good password", role="clerk", clearance="ลับ")
    token, _info = store.create_token(cleared.id)
    path = f"/api/v1/letters/{letters['secret'].public_id}"
    assert client.get(path, headers=bearer(token)).status_code == 200
    store.update_user(cleared.id, clearance=None)
    assert_error(client.get(path, headers=bearer(token)), 404)
    listing = client.get("/api/v1/letters?per_page=100", headers=bearer(token)).get_json()
    assert letters["secret"].public_id not in {item["id"] for item in listing["items"]}


def test_another_users_draft_is_not_found(world):
    app, users, keys, _letters = world
    client = app.test_client()
    draft = app.extensions["saraban_store"].create_draft(
        users["secret"].id, seed_letter(), unit=None
    )
    for method in ("GET", "PUT", "DELETE"):
        response = _call(
            client,
            method,
            f"/api/v1/drafts/{draft.public_id}",
            headers=bearer(keys["admin"]),
            json={"letter": seed_letter()},
        )
        assert response.status_code == 404
    assert (
        _call(
            client, "POST", f"/api/v1/drafts/{draft.public_id}/issue", headers=bearer(keys["admin"])
        ).status_code
        == 404
    )


# ---- one error shape, pages ---------------------------------------------------------------


def test_errors_have_one_shape_everywhere(world):
    """Werkzeug's own errors too: an unknown path, a method a route does not take, an id
    too long for the database (404 for every method, not an overflow)."""
    app, _users, keys, _letters = world
    client = app.test_client()
    for headers in ({}, bearer(keys["clerk"])):
        assert_error(_call(client, "GET", "/api/v1/nonesuch", headers=headers), 404)
        assert_error(_call(client, "GET", "/api/v1/letters/abc", headers=headers), 404)
    routes = api_routes(app, every_option=True)
    by_path = {}
    for method, path, _rule in routes:
        by_path.setdefault(path, set()).add(method)
    for path, methods in by_path.items():
        response = _call(client, "PATCH", path, headers=bearer(keys["admin"]), json={})
        assert_error(response, 405)
        assert set(response.headers["Allow"].split(", ")) >= methods
    huge = {"letter_id": "9" * 20, "draft_id": "2147483648"}
    long_ids = [r for r in api_routes(app, huge, every_option=True) if "_id>" in r[2]]
    assert len(long_ids) >= 10
    for method, path, _rule in long_ids:
        response = _call(client, method, path, headers=bearer(keys["admin"]), json={})
        assert_error(response, 404)


PAGED_EXTRA_QUERY = {"/search": "q=จิตอาสา"}


def _paged_routes(app):
    return [
        (path, rule)
        for method, path, rule in api_routes(app, every_option=True)
        if method == "GET"
        and any(p["name"] == "page" for p in openapi_operation(app, method, rule)["parameters"])
    ]


def test_every_list_is_paged_and_its_pages_add_up(tmp_path):
    """Each paged route (by its OpenAPI entry, every register kind): walked one item a page,
    the pages hold every item once, and ``total`` and ``pages`` say so. Its own app: the
    rows it adds would change the counts the tests on ``world`` expect."""
    from saraban.archive import circulars
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    try:
        add_unit(app)
        users = add_users(app)
        keys = tokens(app, users)
        archive = app.extensions["archive"]
        for n in range(3):
            store_letter(app, {**seed_letter(), "subject": f"จิตอาสา {n}", "ref_no": None})
            app.extensions["saraban_store"].create_draft(
                users["clerk"].id, seed_letter(), unit=None
            )
            archive.reserve(UNIT, actor="tester", note=f"จองเลขทดสอบ {n}")
            got = archive.receive(
                UNIT, sender="ก", recipient="ข", subject=f"รับ {n}", actor="tester"
            )
            archive.route_received(got.id, ["clerk"], actor="tester")  # the clerk's inbox
            day = datetime.date(2026, 1, 1 + n)
            archive.delegate("clerk", "secret", day, day, actor="clerk")  # the clerk's delegations
            circulars.save_recipient(archive, f"ผู้รับ {n}", actor="tester", groups=["ทุกหน่วย"])
        app.extensions["saraban_search"].sync_now()
        _walk_every_paged_route(app, bearer(keys["clerk"]))
    finally:
        close_app(app)


def _walk_every_paged_route(app, headers):
    client = app.test_client()
    routes = _paged_routes(app)
    assert {rule for _p, rule in routes} >= {
        "/letters",
        "/drafts",
        "/search",
        "/registers/<any(sent, received):kind>",
    }
    for path, rule in routes:
        base = f"{path}?{PAGED_EXTRA_QUERY.get(rule, '')}&"
        whole = client.get(base + "per_page=100", headers=headers).get_json()
        items = whole.get("items", whole.get("hits"))
        assert whole["total"] == len(items) >= 3, (path, whole)
        assert whole["page"] == 1 and whole["per_page"] == 100 and whole["pages"] == 1
        walked = []
        for page in range(1, whole["total"] + 2):
            body = client.get(f"{base}per_page=1&page={page}", headers=headers).get_json()
            assert body["total"] == whole["total"] and body["pages"] == whole["total"]
            assert body["page"] == page and body["per_page"] == 1
            walked.extend(body.get("items", body.get("hits")))
        assert sorted(map(json.dumps, walked)) == sorted(map(json.dumps, items)), path


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "two"),
        ("page", ""),
        ("page", "1000001"),
        ("per_page", "0"),
        ("per_page", "101"),
        ("per_page", "1.5"),
        ("per_page", "²"),
        ("page", "①"),
    ],
)
def test_a_wrong_page_is_400_naming_it_on_every_paged_route(world, name, value):
    app, _users, keys, _letters = world
    client = app.test_client()
    for path, rule in _paged_routes(app):
        query = f"{PAGED_EXTRA_QUERY.get(rule, '')}&{name}={value}"
        response = client.get(f"{path}?{query}", headers=bearer(keys["clerk"]))
        assert assert_error(response, 400)["error"].startswith(f"{name}:"), (path, query)


# ---- the routes at work ---------------------------------------------------------------------


def test_openapi_needs_no_token(world):
    app, *_ = world
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["schemas"]["Error"]["required"] == ["ok", "error", "status"]


def test_drafts_create_update_get_and_list(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    headers = bearer(keys["clerk"])
    created = client.post(
        "/api/v1/drafts", headers=headers, json={"kind": "external", "circular": True, "unit": UNIT}
    )
    assert created.status_code == 201
    draft = created.get_json()["draft"]
    assert draft["letter"]["sender"]["name"] == "ศาลากลางจังหวัดหนองคาย"
    assert any(p["field"] == "subject" for p in draft["errors"])
    letter = {**seed_letter(), "ref_no": "ลป ๐๐๑๙.๓/๑", "date": None}
    updated = client.put(
        f"/api/v1/drafts/{draft['id']}", headers=headers, json={"letter": letter}
    ).get_json()
    assert updated["draft"]["letter"]["ref_no"] is None  # the register gives the number
    assert updated["draft"]["errors"] == []
    got = client.get(f"/api/v1/drafts/{draft['id']}", headers=headers).get_json()
    assert got["draft"]["letter"]["subject"] == letter["subject"]
    listing = client.get("/api/v1/drafts", headers=headers).get_json()
    assert draft["id"] in [d["id"] for d in listing["items"]]
    assert client.delete(f"/api/v1/drafts/{draft['id']}", headers=headers).status_code == 200


def test_issuing_an_invalid_draft_lists_its_problems(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    headers = bearer(keys["clerk"])
    draft = client.post("/api/v1/drafts", headers=headers, json={"unit": UNIT}).get_json()["draft"]
    response = client.post(f"/api/v1/drafts/{draft['id']}/issue", headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert {p["field"] for p in body["problems"]} >= {"subject", "body"}


def test_import_registers_and_forms(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    headers = bearer(keys["clerk"])
    seed = SEEDS / "002_b86b2e7e88d9451c.txt"
    response = client.post(
        "/api/v1/imports",
        headers=headers,
        data={
            "files": [
                (io.BytesIO(seed.read_bytes()), seed.name),
                (io.BytesIO(b"\x00\x01"), "x.txt"),
            ]
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    results = response.get_json()["results"]
    assert results[0]["ok"] is True and results[0]["ref_no"]
    assert results[1]["ok"] is False and "x.txt" in results[1]["error"]
    again = client.post(
        "/api/v1/imports",
        headers=headers,
        data={"files": [(io.BytesIO(seed.read_bytes()), seed.name)]},
        content_type="multipart/form-data",
    )
    assert again.status_code == 400 and "นำเข้าแล้ว" in again.get_json()["results"][0]["error"]
    registers = client.get("/api/v1/registers", headers=headers).get_json()
    assert registers["units"][0]["prefix"] == UNIT
    rows = client.get("/api/v1/registers/received?from=2020-01-01", headers=headers).get_json()
    assert rows["ok"] is True and rows["total"] == 0
    received = client.post(
        "/api/v1/registers/received",
        headers=headers,
        json={
            "register": UNIT,
            "sender": "กรมการพัฒนาชุมชน",
            "recipient": "จังหวัด",
            "subject": "ขอข้อมูล",
            "letter_date": "2025-10-01",
        },
    )
    assert received.status_code == 201 and received.get_json()["received"]["serial"] == 1
    with client.get("/api/v1/registers/received?format=csv", headers=headers) as csv:
        assert "ขอข้อมูล" in csv.data.decode("utf-8-sig")
    forms = client.get("/api/v1/forms", headers=headers).get_json()["forms"]
    assert "activity_schedule" in [f["name"] for f in forms]
    schema = client.get("/api/v1/forms/activity_schedule", headers=headers).get_json()["form"]
    assert schema["items"][0]["name"] == "project"
    bad = client.post("/api/v1/forms/activity_schedule/docx", headers=headers, json={"data": {}})
    assert bad.status_code == 400 and bad.get_json()["problems"]
    good = client.post(
        "/api/v1/forms/activity_schedule/docx",
        headers=headers,
        json={"data": {"project": "ก", "activities": [{"title": "ข", "steps": [{"method": "ค"}]}]}},
    )
    assert good.status_code == 200 and good.data[:2] == b"PK"


def test_admin_routes_work_for_an_admin(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    headers = bearer(keys["admin"])
    assert (
        client.post(
            "/api/v1/users",
            headers=headers,
            json={"name": "apiuser", "password": "a good password"},
        ).status_code
        == 201
    )
    assert "apiuser" in [
        u["name"] for u in client.get("/api/v1/users", headers=headers).get_json()["users"]
    ]
    assert (
        client.post("/api/v1/registers", headers=headers, json={"name": "ทะเบียนกลาง"}).status_code
        == 201
    )
    unit = client.post(
        "/api/v1/units",
        headers=headers,
        json={"prefix": "นค ๐๐๑๙.๔", "name": "สำนักงานจังหวัด", "register": "ทะเบียนกลาง"},
    )
    assert unit.status_code == 201
    job = client.post("/api/v1/reindex", headers=headers)
    assert job.status_code == 202
    progress_url = job.get_json()["progress"]
    deadline = time.monotonic() + 60
    while (state := client.get(progress_url, headers=headers).get_json()["job"])[
        "state"
    ] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state["state"] == "done" and state["done"] == state["total"]
    assert client.get(progress_url, headers=bearer(keys["clerk"])).status_code == 404


@pytest.mark.pdf
def test_issue_download_cancel_through_the_api(world):
    import subprocess

    app, _users, keys, _letters = world
    client = app.test_client()
    headers = bearer(keys["clerk"])
    letter = {
        **seed_letter(),
        "ref_no": None,
        "date": None,
        "subject": "ทดสอบออกเลขผ่าน API เรื่องฝายมีชีวิต",
    }
    draft = client.post(
        "/api/v1/drafts", headers=headers, json={"letter": letter, "unit": UNIT}
    ).get_json()["draft"]
    with client.get(f"/api/v1/drafts/{draft['id']}/preview", headers=headers) as preview:
        assert preview.mimetype == "application/pdf" and preview.data[:5] == b"%PDF-"
    issued = client.post(f"/api/v1/drafts/{draft['id']}/issue", headers=headers)
    assert issued.status_code == 201, issued.get_json()
    body = issued.get_json()["letter"]
    assert body["ref_no"].startswith("นค ๐๐๑๙.๓/")
    again = client.post(f"/api/v1/drafts/{draft['id']}/issue", headers=headers)
    assert again.status_code == 409
    with client.get(body["links"]["pdf"], headers=headers) as pdf:
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
        ).stdout.decode()
    assert "ฝายมีชีวิต" in text
    history = client.get(f"/api/v1/letters/{body['id']}/history", headers=headers).get_json()[
        "events"
    ]
    assert [e["action"] for e in history] == ["letter.issue"] and history[0]["actor"] == "clerk"
    cancelled = client.post(
        f"/api/v1/letters/{body['id']}/cancel", headers=headers, json={"reason": "ออกซ้ำ"}
    )
    assert cancelled.get_json()["letter"]["status"] == "cancelled"
    found = client.get("/api/v1/search?q=ฝายมีชีวิต", headers=headers).get_json()
    assert found["hits"][0]["id"] == body["id"]


# ---- an issued secret letter: files, registers, cancelling --------------------------------------

OPEN_WORD = "ฝายแม้ว"
SECRET_WORD = "ทองแดง"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """An app where a clerk cleared for ลับ issued a secret letter, and an uncleared clerk an
    open one, through the API (rendered, so under the ``pdf`` marker): what a register, a
    DOCX or a PDF can show, which stored letters cannot."""
    from saraban.service import close_app

    app = make_app(tmp_path_factory.mktemp("api-issued") / "home")
    add_unit(app)
    keys = tokens(app, add_users(app))
    client = app.test_client()
    records = {}
    for name, who, letter in (
        ("open", "clerk", {**seed_letter(), "subject": f"โครงการ{OPEN_WORD}ประจำปี"}),
        (
            "secret",
            "secret",
            {
                **secret_letter("ลับ", f"แผนลับเรื่อง{SECRET_WORD}"),
                "body": [f"รายละเอียดแผน{SECRET_WORD} ห้ามเปิดเผย"],
            },
        ),
    ):
        letter = {**letter, "ref_no": None, "date": None}
        draft = client.post(
            "/api/v1/drafts", headers=bearer(keys[who]), json={"letter": letter, "unit": UNIT}
        ).get_json()["draft"]
        response = client.post(f"/api/v1/drafts/{draft['id']}/issue", headers=bearer(keys[who]))
        assert response.status_code == 201, response.get_json()
        records[name] = response.get_json()["letter"]
    assert records["secret"]["secrecy"] == "ลับ"
    app.extensions["saraban_search"].sync_now()
    yield app, keys, records
    close_app(app)


def _export_text(response):
    """The text of a register export (CSV, DOCX or PDF), read back from the file."""
    from pdfutil import pdftotext

    assert response.status_code == 200, response.get_json()
    if response.mimetype == "text/csv":
        return response.data.decode("utf-8-sig")
    if response.mimetype == "application/pdf":
        return pdftotext(response.data)
    from docx import Document

    document = Document(io.BytesIO(response.data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


ISSUED_WHO_SEES = [("clerk", False), ("admin", False), ("secret", True), ("topsecret", True)]


@pytest.mark.pdf
@pytest.mark.parametrize(("who", "sees"), ISSUED_WHO_SEES)
def test_an_issued_secret_letter_and_its_files_are_not_found_by_id(issued, who, sees):
    app, keys, records = issued
    client = app.test_client()
    secret = records["secret"]["id"]
    headers = bearer(keys[who])
    for method, template, _rule in api_routes(app, every_option=True):
        if "/letters/" not in template or (sees and method != "GET"):
            continue
        answers = []
        for letter_id in (secret, MISSING_LETTER):
            path = template.replace(f"/letters/{MISSING_LETTER}", f"/letters/{letter_id}")
            response = _call(client, method, path, headers=headers, json={"reason": "ทดสอบ"})
            answers.append(_answer(response, letter_id))
        if sees:
            assert answers[0] != answers[1], template
        else:
            assert answers[0] == answers[1] and answers[0][0] == 404, template
    archive = app.extensions["archive"]
    assert archive.get(archive.letter_id_for(secret)).status == "issued"
    if sees:
        with client.get(records["secret"]["links"]["docx"], headers=headers) as docx:
            assert docx.status_code == 200 and docx.data[:2] == b"PK"
        with client.get(records["secret"]["links"]["pdf"], headers=headers) as pdf:
            assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"


@pytest.mark.pdf
@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/letters?per_page=100",
        "/api/v1/letters?status=issued&per_page=100",
        "/api/v1/letters?unit={unit}&per_page=100",
        "/api/v1/letters?ref_no={ref}",
        "/api/v1/search?q={word}",
        "/api/v1/search?q={ref}",
        "/api/v1/search?direction=sent&sort=date&per_page=100",
        "/api/v1/registers/sent?per_page=100",
        "/api/v1/registers/sent?register={unit}&per_page=100",
        "/api/v1/registers/sent?format=csv",
        "/api/v1/registers/sent?format=docx",
        "/api/v1/registers/sent?format=pdf",
    ],
)
@pytest.mark.parametrize(("who", "sees"), ISSUED_WHO_SEES)
def test_an_issued_secret_letter_is_left_out_of_lists_search_and_registers(
    issued, query, who, sees
):
    """The register's rows and its CSV, DOCX and PDF exports too: the open letter is there
    for everyone, the secret one only for the cleared."""
    app, keys, records = issued
    path = query.format(unit=UNIT, ref=records["secret"]["ref_no"], word=SECRET_WORD)
    looks_for_the_secret = "{ref}" in query or "{word}" in query
    response = app.test_client().get(path, headers=bearer(keys[who]))
    if "format=" in query:
        text = _export_text(response)
        assert OPEN_WORD in text and "เลขทะเบียน" in text
    else:
        body = response.get_json()
        items = body.get("items", body.get("hits"))
        shown = {name for name, r in records.items() if r["id"] in {i["id"] for i in items}}
        assert ("secret" in shown) is sees, (path, who)
        assert "open" in shown or looks_for_the_secret, (path, who)
        assert body["total"] == len(items)
        text = response.get_data(as_text=True)
    assert (SECRET_WORD in text) is sees, (path, who)


@pytest.mark.pdf
def test_only_the_cleared_can_cancel_a_secret_letter_and_it_stays_hidden(issued):
    app, keys, records = issued
    client = app.test_client()
    secret = records["secret"]
    cancel = f"/api/v1/letters/{secret['id']}/cancel"
    for who in ("clerk", "admin"):
        response = client.post(cancel, headers=bearer(keys[who]), json={"reason": "ทดสอบ"})
        assert assert_error(response, 404)["error"] == "ไม่พบหนังสือที่ต้องการ / no such letter"
    archive = app.extensions["archive"]
    assert archive.get(archive.letter_id_for(secret["id"])).status == "issued"
    done = client.post(cancel, headers=bearer(keys["secret"]), json={"reason": "ออกซ้ำ"})
    assert done.status_code == 200 and done.get_json()["letter"]["status"] == "cancelled"
    app.extensions["saraban_search"].sync_now()
    for who, sees in ISSUED_WHO_SEES:
        with client.get("/api/v1/registers/sent?format=csv", headers=bearer(keys[who])) as csv:
            text = csv.data.decode("utf-8-sig")
        assert (SECRET_WORD in text) is sees and ("ออกซ้ำ" in text) is sees, who
        rows = client.get("/api/v1/registers/sent", headers=bearer(keys[who])).get_json()
        assert (secret["id"] in {r["id"] for r in rows["items"]}) is sees, who
        found = client.get(f"/api/v1/search?q={SECRET_WORD}", headers=bearer(keys[who]))
        assert (found.get_json()["total"] == 1) is sees, who


def test_a_file_name_with_a_nul_or_a_long_suffix_is_kept_under_a_clean_name(tmp_path):
    """A NUL in a name's suffix failed writing the file read (500) after the files before it
    in the same upload were kept, so the client never learnt of them; a suffix of 300
    letters too. Names are shown without control characters, at most 200 characters."""
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    try:
        add_unit(app)
        keys = tokens(app, add_users(app))
        seeds = sorted(SEEDS.glob("*.txt"))
        for n, hostile in enumerate(["x.t\x00xt", "\u202eจดหมาย." + "a" * 300]):
            answer = app.test_client().post(
                "/api/v1/imports",
                headers=bearer(keys["clerk"]),
                data={
                    "files": [
                        (io.BytesIO(seeds[2 * n].read_bytes()), f"good{n}.txt"),
                        (io.BytesIO(seeds[2 * n + 1].read_bytes()), hostile),
                    ]
                },
                content_type="multipart/form-data",
            )
            assert answer.status_code in (201, 400), answer.get_data(as_text=True)[:300]
            first, second = answer.get_json()["results"]
            assert first["ok"] and first["file"] == f"good{n}.txt"
            assert len(second["file"]) <= 200
            assert not re.search("[\x00-\x1f\u202e]", second["file"]), second
        received = app.test_client().post(
            "/api/v1/received",
            headers=bearer(keys["clerk"]),
            data={"register": UNIT, "file": (io.BytesIO(seeds[4].read_bytes()), "x.t\x00xt")},
            content_type="multipart/form-data",
        )
        assert received.status_code == 202, received.get_data(as_text=True)[:300]
    finally:
        close_app(app)


@pytest.mark.parametrize(
    "period", ["from=0001-01-01", "from=0001-01-01&to=2026-12-31", "from=0001-12-31&to=0002-01-01"]
)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_register_period_of_any_valid_dates_is_answered(world, period, fmt):
    """A period from the year 1 was a 500: the clock's zone cannot place it."""
    app, _users, keys, _letters = world
    answered = app.test_client().get(
        f"/api/v1/registers/received?format={fmt}&{period}", headers=bearer(keys["clerk"])
    )
    assert answered.status_code == 200, answered.data[:300]
