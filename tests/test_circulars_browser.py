"""The recipient's page of a sent letter in a real browser on a 360 px phone: headless
Chromium through Playwright against a real ``saraban serve``. The letter is issued and sent
by the command line (``saraban send --json`` gives the link); the district, with no
account, reads it, downloads the letter, acknowledges with its own receive number and
replies by filling the enclosed form; no part of the page is wider than the phone."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import make_letter
from test_ui_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    SARABAN,
    UNIT,
    _fits,
    _free_port,
    _page,
    _saraban,
    _unlabelled,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} not found: run scripts/setup --test")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    home = tmp_path_factory.mktemp("circulars") / "home"
    env = {**os.environ, "SARABAN_HOME": str(home)}
    _saraban(env, "register", "add", "--prefix", UNIT, "--name", "ศาลากลางจังหวัดหนองคาย")
    _saraban(env, "recipients", "seed", "หนองคาย")
    letter = home.parent / "letter.json"
    letter.write_text(
        json.dumps(make_letter("ขอให้รายงานข้อมูลศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"), ensure_ascii=False),
        "utf-8",
    )
    issued = json.loads(_saraban(env, "issue", str(letter), "--register", UNIT, "--json"))
    out = _saraban(
        env,
        "send",
        str(issued["id"]),
        "--to",
        "ที่ว่าการอำเภอท่าบ่อ",
        "ที่ว่าการอำเภอโพนพิสัย",
        "--form",
        "centre_report",
        "--due",
        "31/12/2599",
        "--json",
    )
    links = {d["name"]: d["link"] for d in json.loads(out)["deliveries"]}
    port = _free_port()
    log = (home.parent / "serve.log").open("w")
    process = subprocess.Popen(
        [str(SARABAN), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                break
        except OSError:
            pass
        finally:
            connection.close()
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("saraban serve did not start: " + (home.parent / "serve.log").read_text())
        time.sleep(0.2)
    yield {
        name: f"http://127.0.0.1:{port}/d/{link.rsplit('/', 1)[1]}" for name, link in links.items()
    }
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_recipient_reads_acknowledges_and_replies_on_a_phone(sent, browser):
    errors: list[str] = []
    page = _page(browser, errors, width=PHONE, height=740)
    page.goto(sent["ที่ว่าการอำเภอท่าบ่อ"])
    assert page.get_by_role("heading", level=1).inner_text().startswith("ขอให้รายงาน")
    _fits(page, "the recipient's page")
    assert _unlabelled(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="หนังสือ.pdf").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.get_by_label("เลขรับของหน่วยงานท่าน").fill("ทบ ๔๕๖")
    page.get_by_label("ผู้ลงรับ").fill("นางสาวสมใจ รับดี")
    page.get_by_role("button", name="ลงรับ").click()
    page.get_by_text("ลงรับเรียบร้อยแล้ว").wait_for()
    assert "ทบ ๔๕๖" in page.inner_text("body")
    _fits(page, "after acknowledging")

    for field, value in (
        ("province", "หนองคาย"),
        ("district", "ท่าบ่อ"),
        ("subdistrict", "ท่าบ่อ"),
        ("village", "บ้านท่าบ่อ"),
        ("centre_name", "ศูนย์ท่าบ่อ"),
    ):
        page.locator(f"#f-{field}").fill(value)
    page.get_by_role("button", name="ส่งตอบกลับ").click()
    page.get_by_text("ส่งหนังสือตอบกลับเรียบร้อยแล้ว").wait_for()
    assert "ตอบกลับแล้วเมื่อ" in page.inner_text("body")
    _fits(page, "after replying")
    assert errors == []


@pytest.mark.ocr
def test_a_district_replies_with_a_scan_of_its_signed_letter_on_a_phone(sent, browser, tmp_path):
    """The reply is a scanned PDF: while the server reads it (OCR, seconds), the button is
    off (one reply) and the page says why; then it says the reply arrived."""
    import scancorpus

    stem = scancorpus.seed_stems()[0]
    page_one = scancorpus.scan_page(scancorpus.render_pages(stem)[0], stem, 0)
    scan = scancorpus.write_scan_pdf([page_one], tmp_path / "หนังสือตอบ.pdf")
    errors: list[str] = []
    page = _page(browser, errors, width=PHONE, height=740)
    page.goto(sent["ที่ว่าการอำเภอโพนพิสัย"])
    page.locator("#reply-file").set_input_files(str(scan))
    # The reply goes to a frame of the page, so that the page can be looked at while the
    # server reads the scan (a navigating page cannot be).
    page.evaluate(
        """() => {
          const sink = document.createElement("iframe");
          sink.name = "sink";
          sink.hidden = true;
          document.body.append(sink);
          document.querySelector("form[data-busy]").target = "sink";
        }"""
    )
    button = page.get_by_role("button", name="ส่งตอบกลับ")
    button.click()
    page.get_by_role("status").filter(has_text="กำลังส่งและอ่านไฟล์").wait_for()
    assert button.is_disabled()
    _fits(page, "while the scan is read")
    answer = page.frame_locator("iframe[name=sink]")
    answer.get_by_text("ส่งหนังสือตอบกลับเรียบร้อยแล้ว").wait_for(state="attached", timeout=120_000)
    page.reload()
    assert "ตอบกลับแล้วเมื่อ" in page.inner_text("body")
    _fits(page, "after replying with a scan")
    assert errors == []
