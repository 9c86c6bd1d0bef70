"""The public verification page of signed letters (service/verify.py), through the Flask
test client and, at 360 px, in headless Chromium against a real server."""

from __future__ import annotations

import io
import os
import socket
import threading
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from pdfutil import hand_made_pdf

from saraban.archive import create_self_signed_key, open_archive, sign_letter
from saraban.archive._signing import MAX_CHECK_BYTES
from saraban.service import close_app, create_app

pytestmark = pytest.mark.pdf

UNIT_NAME = "ศาลากลางจังหวัดหนองคาย"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The service over an archive with two signed letters."""
    home = tmp_path_factory.mktemp("verify") / "home"
    with open_archive(home) as archive:
        archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
        create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester")
        signed = [
            sign_letter(
                archive,
                archive.issue(make_letter(subject), ARCHIVE_UNIT, actor="tester").id,
                actor="tester",
            )
            for subject in ("ขอเชิญประชุมคณะทำงาน", "ขอส่งรายงานผลการดำเนินงาน")
        ]
    app = create_app({"SARABAN_HOME": str(home), "TESTING": True})
    try:
        yield app, signed
    finally:
        close_app(app)


def _upload(data: bytes) -> dict:
    return {"file": (io.BytesIO(data), "letter.pdf")}


def test_the_json_twins(site):
    app, (first, _second) = site
    client = app.test_client()
    got = client.get(f"/v/{first.token}.json")
    assert got.status_code == 200
    letter = got.get_json()["letter"]
    assert letter["ref_no"] == first.ref_no and letter["unit_name"] == UNIT_NAME
    assert letter["self_signed"] is True and letter["status"] == "issued"
    assert set(letter) == {
        "ref_no", "date", "unit", "unit_name", "status", "cancelled_on", "signed_by_unit",
        "signed_by_unit_name", "signed_at", "self_signed", "certificate_sha256",
    }  # fmt: skip
    data = first.path.read_bytes()
    for path, body, kwargs in (
        ("/v.json", _upload(data), {}),
        (f"/v/{first.token}.json", _upload(data), {}),
        ("/v.json", data, {"content_type": "application/pdf"}),
    ):
        checked = client.post(path, data=body, **kwargs)  # no session, no CSRF token
        assert checked.status_code == 200, checked.data[:200]
        answer = checked.get_json()
        assert answer["ok"] and answer["authentic"] and answer["match"] == "signed"
        assert answer["signatures"][0]["valid"] is True


def test_errors_in_the_one_shape(site):
    app, (first, _second) = site
    client = app.test_client()
    for response, status in (
        (client.get("/v/AAAAAAAAAAAAAAAAAAAAAA.json"), 404),
        (client.post("/v/AAAAAAAAAAAAAAAAAAAAAA.json", data=_upload(b"%PDF")), 404),
        (client.post("/v.json", data={}), 400),
        (client.post("/v.json", data=_upload(b"")), 400),
        (
            client.post(
                "/v.json", data=b"x" * (MAX_CHECK_BYTES + 1), content_type="application/pdf"
            ),
            413,
        ),
        (
            client.post(
                "/v.json",
                data=b"x" * (MAX_CHECK_BYTES + 100_000),
                content_type="application/pdf",
            ),
            413,
        ),
    ):
        assert response.status_code == status
        body = response.get_json()
        assert set(body) == {"ok", "error", "status"} and body["status"] == status
        assert body["ok"] is False and body["error"]
    page = client.get("/v/AAAAAAAAAAAAAAAAAAAAAA")
    assert page.status_code == 404 and "ไม่พบหนังสือตามคิวอาร์โค้ดนี้" in page.get_data(True)
    assert client.get(f"/v/{first.letter_id}").status_code == 404  # the id opens nothing


def test_an_upload_on_the_page(site):
    app, (first, second) = site
    client = app.test_client()
    page = client.get(f"/v/{first.token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and first.ref_no in html and "ใบรับรองทดลอง" in html
    assert 'name="csrf_token"' not in html
    data = first.path.read_bytes()
    good = client.post(f"/v/{first.token}", data=_upload(data)).get_data(as_text=True)
    assert "ถูกต้อง: ไฟล์นี้ตรงกับหนังสือที่สารบรรณนี้ลงนามทุกไบต์" in good
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x20
    bad = client.post(f"/v/{first.token}", data=_upload(bytes(changed))).get_data(as_text=True)
    assert "ถูกต้อง:" not in bad and "ไม่ตรงกับหนังสือของคิวอาร์โค้ดนี้" in bad
    assert "ลายมือชื่ออิเล็กทรอนิกส์ไม่ถูกต้อง" in bad
    other = client.post(f"/v/{first.token}", data=_upload(second.path.read_bytes()))
    assert "ไฟล์นี้ไม่ใช่หนังสือของคิวอาร์โค้ดนี้" in other.get_data(as_text=True)
    assert second.ref_no in other.get_data(as_text=True)
    general = client.post("/v", data=_upload(second.path.read_bytes())).get_data(as_text=True)
    assert "ถูกต้อง:" in general
    hostile = client.post("/v", data=_upload(b"<script>alert(1)</script>"))
    assert hostile.status_code == 200 and "<script>alert" not in hostile.get_data(as_text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_the_page_on_a_phone(site, tmp_path):
    """360 px wide: nothing wider than the screen, the file chosen and checked."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{chromium} not found: run scripts/setup --test")
        pytest.skip(f"{chromium} not found")
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    app, (first, _second) = site
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(first.path.read_bytes())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 360, "height": 740}, locale="th-TH")
            page.goto(f"http://127.0.0.1:{server.server_port}/v/{first.token}")
            assert page.get_by_role("heading", name="มีหนังสือฉบับนี้ในสารบรรณ").is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.set_input_files("#verify-file", str(pdf))
            page.get_by_role("button", name="ตรวจสอบไฟล์").click()
            page.wait_for_selector("#result-head")
            assert "ถูกต้อง" in page.inner_text("#result-head")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            if os.environ.get("SARABAN_UI_SHOTS"):
                page.screenshot(
                    path=str(Path(os.environ["SARABAN_UI_SHOTS"]) / "verify-phone.png"),
                    full_page=True,
                )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _field_tree_sharing_its_children(depth: int) -> bytes:
    """A PDF whose form fields each list the same child twice (3.4 KB at depth 40): not a
    cycle, so nothing stops pyHanko's walk of it, and the walk doubles with each level."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R] >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    }
    for n in range(10, 10 + depth):
        objects[n] = b"<< /T (a) /Kids [%d 0 R %d 0 R] >>" % (n + 1, n + 1)
    objects[10 + depth] = b"<< /T (leaf) /FT /Tx >>"
    return hand_made_pdf(objects)


def test_a_file_that_would_keep_the_check_busy_is_stopped_and_the_next_one_checked(
    site, monkeypatch
):
    """Checked in a request thread, this upload held it past a minute (for ever, at the
    rate it doubled), and a few of them every thread of the server: the check runs in a
    process of its own, stopped at its time limit."""
    app, (first, _second) = site
    monkeypatch.setattr(app.extensions["saraban_checker"], "seconds", 3)
    client = app.test_client()
    hostile = _field_tree_sharing_its_children(40)
    assert len(hostile) < 4000
    for url in ("/v.json", f"/v/{first.token}.json"):
        stopped = client.post(url, data=_upload(hostile))
        body = stopped.get_json()
        assert stopped.status_code == 503 and "หยุดตรวจ" in body["error"], body
    page = client.post("/v", data=_upload(hostile))
    assert page.status_code == 503 and "หยุดตรวจ" in page.get_data(as_text=True)
    good = client.post(f"/v/{first.token}.json", data=_upload(first.path.read_bytes()))
    assert good.status_code == 200 and good.get_json()["match"] == "signed"


def test_one_address_has_a_bounded_number_of_files_checked(site, monkeypatch):
    from saraban.service import verify

    app, _signed = site
    monkeypatch.setattr(verify, "CHECKS_PER_10_MINUTES", 2)
    client = app.test_client()
    address = {"REMOTE_ADDR": "10.8.8.8"}  # the module's other tests checked from 127.0.0.1
    answers = [
        client.post("/v.json", data=_upload(b"%PDF-1.7 not really"), environ_base=address)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "บ่อยเกินไป" in answers[-1].get_json()["error"]
    other = app.test_client().post(
        "/v.json", data=_upload(b"%PDF-1.7"), environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other.status_code == 200
