"""The rest of issue 11: drafts are named by ids that do not count, and failed logins are
throttled in the service's database, so every process of ``saraban serve --workers N``
counts the same tries (by name from an address, by address, by name), within a bound."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_service_support import (
    PASSWORD,
    add_unit,
    add_users,
    bearer,
    csrf_of,
    login,
    make_app,
    seed_letter,
    tokens,
)

from saraban.archive._models import PUBLIC_ID_PATTERN, new_public_id


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def app(home):
    from saraban.service import close_app

    app = make_app(home)
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


# ---- draft ids ---------------------------------------------------------------------------------


def test_draft_ids_in_urls_and_json_do_not_count_drafts(app):
    store = app.extensions["saraban_store"]
    keys = tokens(app, {u.name: u for u in store.users()})
    client = app.test_client()
    made = []
    for who in ("clerk", "secret", "clerk"):
        answer = client.post(
            "/api/v1/drafts", headers=bearer(keys[who]), json={"letter": seed_letter()}
        )
        assert answer.status_code == 201
        made.append(answer.get_json()["draft"])
    mine, theirs, mine_again = made
    for draft in made:
        assert re.fullmatch(PUBLIC_ID_PATTERN, draft["id"]), draft["id"]
        assert draft["links"]["self"] == f"/api/v1/drafts/{draft['id']}"
    # the clerk's two drafts say nothing of the one made between them
    assert mine["id"] != mine_again["id"]
    listed = client.get("/api/v1/drafts", headers=bearer(keys["clerk"])).get_json()["items"]
    assert {d["id"] for d in listed} == {mine["id"], mine_again["id"]}
    # a row number names no draft; another clerk's draft answers as one that does not exist
    row = store.draft_id_for(mine["id"])
    unknown = new_public_id()
    answer = client.get(f"/api/v1/drafts/{theirs['id']}", headers=bearer(keys["clerk"]))
    missing = client.get(f"/api/v1/drafts/{unknown}", headers=bearer(keys["clerk"]))
    assert answer.status_code == missing.status_code == 404
    assert answer.get_json() == missing.get_json()
    assert client.get(f"/api/v1/drafts/{row}", headers=bearer(keys["clerk"])).status_code == 404
    got = client.get(mine["links"]["self"], headers=bearer(keys["clerk"])).get_json()
    assert got["draft"]["id"] == mine["id"]
    # the pages link drafts the same way
    browser = app.test_client()
    login(browser, "clerk")
    dashboard = browser.get("/").get_data(as_text=True)
    assert f"/drafts/{mine['id']}" in dashboard and f'/drafts/{row}"' not in dashboard
    page = browser.get(f"/drafts/{mine['id']}")
    assert page.status_code == 200
    assert browser.get(f"/drafts/{theirs['id']}").status_code == 404
    assert browser.get(f"/drafts/{row}").status_code == 404


def test_drafts_made_before_the_upgrade_get_public_ids(home):
    """s0004_harden gives every draft of an older service database its id."""
    from alembic import command
    from sqlalchemy import text

    from saraban.archive import Database, open_archive
    from saraban.archive._db import _alembic_config, database_url
    from saraban.service._store import _MIGRATIONS, Store

    open_archive(home).close()
    database = Database(database_url(home, None))
    config = _alembic_config(_MIGRATIONS)
    with database.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "s0003_core")
    now = {"now": "2025-01-01 00:00:00"}
    with database.writer.begin() as db:
        db.execute(
            text(
                "INSERT INTO users (name, password_hash, role, active, created_at, "
                "password_changed_at) VALUES ('old', 'x', 'clerk', 1, :now, :now)"
            ),
            now,
        )
        for _ in range(3):
            db.execute(
                text(
                    "INSERT INTO drafts (owner_id, doc, created_at, updated_at) "
                    "VALUES (1, '{}', :now, :now)"
                ),
                now,
            )
    database.close()
    archive = open_archive(home)
    store = Store(archive)
    try:
        ids = [store.draft(row).public_id for row in (1, 2, 3)]
        assert all(re.fullmatch(PUBLIC_ID_PATTERN, i) for i in ids) and len(set(ids)) == 3
        assert [store.draft_id_for(i) for i in ids] == [1, 2, 3]
    finally:
        store.close()
        archive.close()


# ---- the login throttle, shared ----------------------------------------------------------------


def _try_login(app, name, password, address):
    client = app.test_client()
    token = csrf_of(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(True))
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def test_two_processes_over_one_database_share_the_login_limit(app, home):
    """Two app instances (two workers of ``saraban serve``) over one database: the tries
    made at either count against the name from the address, the address and the name."""
    from saraban.service import close_app

    other = make_app(home)
    try:
        for n in range(10):
            assert _try_login((app, other)[n % 2], "clerk", "wrong!", "10.0.0.66") == 401
        assert _try_login(app, "clerk", PASSWORD, "10.0.0.66") == 429
        assert _try_login(other, "clerk", PASSWORD, "10.0.0.66") == 429
        # by address, whatever the name: 30 tries in all, half at each worker
        for n in range(30):
            assert _try_login((app, other)[n % 2], f"guess{n}", "wrong!", "10.0.0.9") == 401
        assert _try_login(other, "secret", PASSWORD, "10.0.0.9") == 429
        assert _try_login(app, "secret", PASSWORD, "10.0.0.9") == 429
        # the owner, from elsewhere, still signs in at either
        assert _try_login(other, "clerk", PASSWORD, "10.0.0.7") == 302
    finally:
        close_app(other)


def test_the_shared_throttle_stays_bounded(app, monkeypatch):
    """Failures older than the window are deleted as new ones come, and invented names from
    ever new addresses never hold more than MAX_LOGIN_FAILURES rows."""
    from sqlalchemy import func, select, update

    from saraban.service import _store

    store = app.extensions["saraban_store"]

    def rows() -> int:
        with store._read() as s:
            return s.scalar(select(func.count()).select_from(_store.LoginFailure))

    monkeypatch.setattr(_store, "MAX_LOGIN_FAILURES", 20)
    monkeypatch.setattr(_store, "PRUNE_EVERY", 3)
    for n in range(30):
        _try_login(app, f"invented{n}", "wrong!", f"10.2.{n // 250}.{n % 250}")
        assert rows() <= 20 + 3 * 3
    with store._write() as s:  # the window passes
        s.execute(update(_store.LoginFailure).values(at=_store.utcnow() - dt.timedelta(minutes=16)))
    _try_login(app, "invented", "wrong!", "10.3.0.1")
    assert rows() == 3  # this failure's three keys; the old ones are gone


def test_guesses_sent_at_once_check_no_more_passwords_than_the_limit(tmp_path, database_url):
    """Each attempt was counted only after its (slow) password check, so 40 guesses sent
    at once had 17 passwords checked against a limit of 10. Now an attempt is counted
    before the check, in one turn with the count it is measured against."""
    from concurrent.futures import ThreadPoolExecutor

    from saraban.service import _store, close_app, create_app

    config = {"SARABAN_HOME": str(tmp_path / "home"), "TESTING": True}
    if database_url:
        config["SARABAN_DATABASE_URL"] = database_url
    # production's slow hash, so that the guesses overlap as they do in a real server
    app = create_app(config)
    try:
        add_unit(app)
        add_users(app)
        checked = []
        real = _store.Store.authenticate

        def counting(self, name, password):
            checked.append(name)
            return real(self, name, password)

        _store.Store.authenticate = counting
        try:
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(lambda _n: _try_login(app, "clerk", "wrong!", "10.0.0.5"), range(40))
                )
        finally:
            _store.Store.authenticate = real
        assert len(checked) == answers.count(401) <= 10
        assert answers.count(429) == 40 - answers.count(401) >= 30
        # a right password counts nothing: the owner's own logins never lock them out
        for _ in range(12):
            assert _try_login(app, "secret", PASSWORD, "10.0.0.6") == 302
    finally:
        close_app(app)


def test_a_revoked_token_or_a_disabled_account_is_refused_at_once_by_every_process(app, home):
    """Each process trusted a token it had checked for 5 s: revoked, or its account
    disabled, in one worker of ``saraban serve --workers N``, it still answered in the
    others."""
    from saraban.service import close_app

    other = make_app(home)
    try:
        store = app.extensions["saraban_store"]
        users = {u.name: u for u in store.users()}
        keys = tokens(app, {"clerk": users["clerk"], "secret": users["secret"]})
        for key in keys.values():
            assert other.test_client().get("/api/v1/me", headers=bearer(key)).status_code == 200
        [clerk_token] = [t for t in store.tokens(users["clerk"].id) if not t.revoked]
        store.revoke_token(clerk_token.id)
        store.update_user(users["secret"].id, active=False)
        for key in keys.values():
            assert other.test_client().get("/api/v1/me", headers=bearer(key)).status_code == 401
    finally:
        close_app(other)
