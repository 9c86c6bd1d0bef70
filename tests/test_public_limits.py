"""The public pages' limits per client address (``/d/<token>``: every request, and each
wrong or closed link besides; ``/v``: files checked) are counted in the service's database,
as failed logins are: two app instances over one database, as two workers of ``saraban
serve --workers 2``, allow an address what one would. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select, update
from test_service_circulars import issued, send_from_page
from test_service_support import add_districts, add_unit, add_users, csrf_of, make_app

from saraban.service import _store, close_app, deliveries, verify

WRONG = "AAAAAAAAAAAAAAAAAAAAAA"  # a token of the right shape that names no delivery


@pytest.fixture
def workers(tmp_path, database_url):
    """Two apps over one SARABAN_HOME and one database."""
    config = {"SARABAN_BASE_URL": "https://saraban.example.go.th"}
    if database_url:
        config["SARABAN_DATABASE_URL"] = database_url
    first = make_app(tmp_path / "home", **config)
    add_unit(first)
    add_users(first)
    add_districts(first)
    second = make_app(tmp_path / "home", **config)
    yield first, second
    close_app(second)
    close_app(first)


def _get(app, path, address):
    return app.test_client().get(path, environ_base={"REMOTE_ADDR": address})


def _check(app, address, path="/v.json"):
    upload = {"file": (io.BytesIO(b"%PDF-1.7 not really"), "letter.pdf")}
    return app.test_client().post(path, data=upload, environ_base={"REMOTE_ADDR": address})


def _rows(app):
    with app.extensions["saraban_store"]._read() as s:
        return s.scalar(select(func.count()).select_from(_store.LoginFailure))


def test_two_workers_share_the_recipient_pages_limits(workers, monkeypatch):
    first, second = workers
    monkeypatch.setattr(deliveries, "REQUESTS_PER_MINUTE", 8)
    monkeypatch.setattr(deliveries, "MISSES_PER_10_MINUTES", 3)
    token = send_from_page(first, first.test_client(), issued(first).public_id)[0]
    at = (first, second)
    # a right link: 8 requests in all, half at each worker, then neither answers
    opened = [_get(at[n % 2], f"/d/{token}", "10.1.0.1").status_code for n in range(8)]
    assert opened == [200] * 8
    for app in at:
        refused = _get(app, f"/d/{token}", "10.1.0.1")
        assert refused.status_code == 429 and "บ่อยเกินไป" in refused.get_data(as_text=True)
    # a wrong link costs more: 3 in all, then both refuse it, page and JSON twin alike ...
    missed = [_get(at[n % 2], f"/d/{WRONG}", "10.1.0.2").status_code for n in range(3)]
    assert missed == [404] * 3
    for app, path in ((first, f"/d/{WRONG}"), (second, f"/d/{WRONG}.json")):
        refused = _get(app, path, "10.1.0.2")
        assert refused.status_code == 429 and "บ่อยเกินไป" in refused.get_data(as_text=True)
    # ... while a right link still opens from that address (6 requests of its 8)
    assert _get(second, f"/d/{token}", "10.1.0.2").status_code == 200
    # and another address is counted apart
    assert _get(first, f"/d/{WRONG}", "10.1.0.3").status_code == 404


def test_the_json_twins_refuse_in_the_one_error_shape_whatever_is_accepted(workers, monkeypatch):
    """A system reading /d/<token>.json is refused by either limit as JSON, not a page."""
    first, _second = workers
    monkeypatch.setattr(deliveries, "REQUESTS_PER_MINUTE", 3)
    monkeypatch.setattr(deliveries, "MISSES_PER_10_MINUTES", 1)
    html = {"Accept": "text/html"}
    client = first.test_client()
    for path, address in (
        (f"/d/{WRONG}.json", "10.3.0.1"),
        (f"/d/{WRONG}/acknowledge", "10.3.0.2"),
    ):
        answers = [
            client.open(
                path,
                method="GET" if path.endswith(".json") else "POST",
                headers=html,
                json=None if path.endswith(".json") else {"receive_no": "๑", "by": "สมชาย"},
                environ_base={"REMOTE_ADDR": address},
            )
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [404, 429, 429, 429]
        for answer in answers:
            body = answer.get_json()  # every one JSON: the miss, the misses' 429, the requests'
            assert body["ok"] is False and body["status"] == answer.status_code
        assert "บ่อยเกินไป" in answers[-1].get_json()["error"]


def test_two_workers_share_the_verification_pages_limit(workers, monkeypatch):
    first, second = workers
    monkeypatch.setattr(verify, "CHECKS_PER_10_MINUTES", 4)
    at = (first, second)
    assert [_check(at[n % 2], "10.1.0.4").status_code for n in range(4)] == [200] * 4
    body = _check(first, "10.1.0.4").get_json()
    assert body["ok"] is False and body["status"] == 429 and "บ่อยเกินไป" in body["error"]
    page = second.test_client().post(
        "/v",
        data={"file": (io.BytesIO(b"%PDF-1.7"), "letter.pdf")},
        environ_base={"REMOTE_ADDR": "10.1.0.4"},
    )
    assert page.status_code == 429 and "บ่อยเกินไป" in page.get_data(as_text=True)
    assert _check(second, "10.1.0.5").status_code == 200


def test_the_counts_stay_bounded_and_leave_the_login_failures_alone(workers, monkeypatch):
    """A minute's requests are deleted once older than their minute, but not a failed login
    of five minutes ago (its window is 15); and requests from ever new addresses never hold
    more than MAX_LOGIN_FAILURES rows."""
    first, _second = workers
    client = first.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    data = {"name": "clerk", "password": "wrong!", "csrf_token": token}
    assert client.post("/login", data=data).status_code == 401  # three keys: three rows
    for _ in range(5):
        _get(first, f"/d/{WRONG}", "10.1.0.6")  # five requests and five misses
    assert _rows(first) == 3 + 10
    store = first.extensions["saraban_store"]
    with store._write() as s:  # five minutes pass
        s.execute(update(_store.LoginFailure).values(at=_store.utcnow() - dt.timedelta(minutes=5)))
    _get(first, f"/d/{WRONG}", "10.1.0.6")  # the old requests go, misses and logins stay
    assert _rows(first) == 3 + 1 + (5 + 1)

    monkeypatch.setattr(_store, "MAX_LOGIN_FAILURES", 20)
    monkeypatch.setattr(_store, "PRUNE_EVERY", 3)
    for n in range(40):
        assert _get(first, f"/d/{WRONG}", f"10.2.0.{n}").status_code == 404
        assert _rows(first) <= 20 + 3
