"""The JSON API: every route refuses a missing or wrong token, administrator routes refuse a
clerk, bodies that are not what a route takes are 400 in the one error shape, and a letter
the user is not cleared for is not found by id, by search, by reference number, in lists,
in facets or in files. Issuing (which renders PDFs) is under the ``pdf`` marker."""

from __future__ import annotations

import io
import re
import time

import pytest
from test_service_support import (
    SEEDS,
    UNIT,
    add_unit,
    add_users,
    bearer,
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
}
SAMPLE_PATH_VALUES = {
    "letter_id": "1",
    "draft_id": "1",
    "kind": "pdf",
    "name": "activity_schedule",
    "fmt": "docx",
    "job_id": "x",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app for the module (the access checks only read): a unit, users of each role and
    clearance with tokens, open and secret letters (imported, so no PDF is rendered)."""
    from service import close_app

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
    app.extensions["saraban_search"].sync_now()
    yield app, users, keys, letters
    close_app(app)


def api_routes(app):
    """(method, path with sample values, rule) for every API route but the open document."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = rule.rule
        for options, name in re.findall(r"<any\(([^)]*)\):(\w+)>", path):
            path = path.replace(f"<any({options}):{name}>", options.split(",")[0].strip())
        for name in rule.arguments:
            path = re.sub(rf"<[^>]*{name}>", SAMPLE_PATH_VALUES[name], path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path, rule.rule.removeprefix("/api/v1")))
    return found


def _call(client, method, path, **kwargs):
    response = client.open(path, method=method, **kwargs)
    response.close()
    return response


def test_every_route_refuses_no_token_and_a_wrong_token(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    routes = api_routes(app)
    assert len(routes) >= 25
    for method, path, _rule in routes:
        for headers in (
            {},
            bearer("sbn_wrong-token"),
            bearer(keys["clerk"] + "x"),
            {"Authorization": keys["clerk"]},
        ):
            response = _call(client, method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            body = response.get_json()
            assert body == {"ok": False, "error": body["error"], "status": 401}
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


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


def test_a_clerk_is_refused_on_every_admin_route(world):
    app, _users, keys, _letters = world
    client = app.test_client()
    admin_routes = [(m, p) for m, p, rule in api_routes(app) if (m, rule) in ADMIN_ROUTES]
    assert len(admin_routes) == len(ADMIN_ROUTES)
    for method, path in admin_routes:
        for who in ("clerk", "topsecret"):
            response = _call(client, method, path, headers=bearer(keys[who]), json={"name": "x"})
            assert response.status_code == 403, (method, path)
            assert response.get_json()["error"].startswith("เฉพาะผู้ดูแลระบบ")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/drafts"),
        ("PUT", "/api/v1/drafts/{draft}"),
        ("POST", "/api/v1/letters/{open}/cancel"),
        ("POST", "/api/v1/registers/received"),
        ("POST", "/api/v1/forms/activity_schedule/docx"),
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/units"),
        ("POST", "/api/v1/registers"),
    ],
)
@pytest.mark.parametrize(
    "body",
    [
        {"data": b"{not json", "content_type": "application/json"},
        {"data": b"[1, 2, 3]", "content_type": "application/json"},
        {"data": b"name=x", "content_type": "application/x-www-form-urlencoded"},
        {"data": b'"just a string"', "content_type": "application/json"},
    ],
    ids=["broken-json", "a-list", "a-form", "a-string"],
)
def test_a_malformed_body_is_400_in_the_error_shape(world, method, path, body):
    app, users, keys, letters = world
    client = app.test_client()
    draft = app.extensions["saraban_store"].create_draft(
        users["admin"].id, seed_letter(), unit=None
    )
    path = path.format(draft=draft.id, open=letters["open"].id)
    response = _call(client, method, path, headers=bearer(keys["admin"]), **body)
    assert response.status_code == 400, response.get_json()
    assert set(response.get_json()) == {"ok", "error", "status"}


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
    path = path.format(draft=draft.id, open=letters["open"].id)
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
    secret = letters["secret"].id
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
        f"/api/v1/letters/{letters['topsecret'].id}", headers=bearer(keys["secret"])
    ).get_json()
    missing = client.get("/api/v1/letters/987654", headers=bearer(keys["secret"])).get_json()
    assert hidden["error"].replace(str(letters["topsecret"].id), "N") == missing["error"].replace(
        "987654", "N"
    )


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
    assert seen["clerk"] == {letters["open"].id}
    assert seen["secret"] == {letters["open"].id, letters["secret"].id}
    assert letters["topsecret"].id in seen["topsecret"]


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
            f"/api/v1/drafts/{draft.id}",
            headers=bearer(keys["admin"]),
            json={"letter": seed_letter()},
        )
        assert response.status_code == 404
    assert (
        _call(
            client, "POST", f"/api/v1/drafts/{draft.id}/issue", headers=bearer(keys["admin"])
        ).status_code
        == 404
    )


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
            json={"name": "apiuser", "password": "a good password", "clearance": "ลับ"},
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
