"""The folder and e-mail intake in a real browser (headless Debian Chromium through
Playwright, against a real ``saraban serve``): the admin page's files not taken in (hostile
names and reasons shown as text on a 360 px phone with no horizontal scroll, a file whose
name is not UTF-8 put back in the folder), and the files that came with an e-mailed letter
on its received page."""

from __future__ import annotations

import email.message
import os
import subprocess
import time

import pytest
import test_ui_browser as ui
from test_ui_browser import PASSWORD, UNIT, _fits, _login, _page, _saraban

pytestmark = pytest.mark.browser
browser = ui.browser
HOSTILE_REASON = "</style><img src=file:///etc/passwd><script>alert(1)</script> " + "ก" * 10_000


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``saraban serve`` with one register and an administrator cleared for every level;
    (its address, its instance folder)."""
    if not os.path.exists(ui.CHROMIUM):
        pytest.skip(f"{ui.CHROMIUM} not found (apt-get install chromium)")
    home = tmp_path_factory.mktemp("ui-intake") / "home"
    env = {**os.environ, "SARABAN_HOME": str(home), "SARABAN_INBOX_WATCH": "0"}
    env.pop("SARABAN_DATABASE_URL", None)
    _saraban(env, "register", "add", "--prefix", UNIT, "--name", "ศาลากลางจังหวัดหนองคาย")
    _saraban(
        env, "user", "add", "chief", "--role", "admin", "--clearance", "ลับที่สุด",
        "--password-stdin", stdin=PASSWORD,
    )  # fmt: skip
    port = ui._free_port()
    process = subprocess.Popen(
        [str(ui.SARABAN), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            import urllib.request

            urllib.request.urlopen(f"{base}/login", timeout=2).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    yield base, home
    process.terminate()
    process.wait(timeout=30)


def test_files_not_taken_in_show_as_text_on_a_phone_and_go_back(served, browser):
    base, home = served
    failed = home / "inbox" / "failed"
    failed.mkdir(parents=True, exist_ok=True)
    names = {
        "<style>body{display:none}<style><img src=x onerror=alert(1)>.eml": HOSTILE_REASON,
        "ก" * 80 + ".pdf": "อ่านไม่ได้ " + "ข" * 10_000,
    }
    for name, why in names.items():
        (failed / name).write_bytes(b"x")
        (failed / (name + ".txt")).write_text(why + "\n", encoding="utf-8")
    not_utf8 = os.fsdecode(b"scan-\xff\xfe.pdf")  # a name as some scanners write it
    (failed / not_utf8).write_bytes(b"x")
    (failed / (not_utf8 + ".txt")).write_text("ไม่ได้ / damaged\n", encoding="utf-8")

    errors: list[str] = []
    page = _page(browser, errors, width=ui.PHONE, height=740)
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    _login(page, base, "chief")
    page.goto(f"{base}/admin/#intake")
    section = page.locator("#intake")
    rows = section.locator("tbody tr")
    assert rows.count() == 3
    assert section.locator("img, script, style").count() == 0  # shown as text, not markup
    text = section.inner_text()
    assert "<img src=x onerror=alert(1)>" in text and "</style><img src=file:///etc/passwd>" in text
    assert "scan-\ufffd\ufffd.pdf" in text
    assert page.locator("body").is_visible()
    _fits(page, "admin files not taken in at 360 px")

    rows.filter(has_text="scan-\ufffd\ufffd.pdf").get_by_role("button", name="รับใหม่").click()
    page.wait_for_url(f"{base}/admin/#intake")
    assert "จะรับใหม่ในรอบถัดไป" in page.locator("body").inner_text()
    assert (home / "inbox" / not_utf8).exists() and not (failed / not_utf8).exists()
    assert section.locator("tbody tr").count() == 2
    _fits(page, "admin after a retry at 360 px")
    assert alerts == [] and errors == []


def test_the_files_of_an_emailed_letter_show_on_a_phone_and_download(served, browser):
    base, home = served
    hostile = "<img src=x onerror=alert(1)>" + "ก" * 150 + ".xlsx"
    mail = email.message.EmailMessage()
    mail["From"] = "district@example.go.th"
    said = "ส่งหนังสือมาตามแนบ " + "ข" * 300 + " https://example.go.th/" + "a" * 200
    mail.set_content(said + "\n<script>alert(2)</script>")
    letter = (ui.SEEDS / "000_e6238ec4d0848a5c.txt").read_bytes()
    for name, data in (("letter.txt", letter), (hostile, b"PK\x03\x04 sheet")):
        mail.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for left in inbox.iterdir():  # what another test put back (this one consumes alone)
        if left.is_file():
            left.unlink()
    (inbox / "district.eml").write_bytes(mail.as_bytes())
    env = {**os.environ, "SARABAN_HOME": str(home), "SARABAN_INBOX_WATCH": "0"}
    env.pop("SARABAN_DATABASE_URL", None)
    _saraban(env, "consume", "--register", UNIT)

    errors: list[str] = []
    page = _page(browser, errors, width=ui.PHONE, height=740)
    _login(page, base, "chief")
    page.goto(f"{base}/registers?kind=received")
    page.locator("a[href^='/received/']").first.click()
    files = page.locator(".enclosed")
    assert files.locator("h3").inner_text() == "ไฟล์ที่มากับหนังสือ (๒ ไฟล์)"
    assert files.locator("img").count() == 0 and files.locator("li").first.inner_text() == hostile
    _fits(page, "received letter with its e-mailed files at 360 px")
    # the e-mail's own words, opened on the page: text, wrapped to the phone's width
    files.locator("summary").click()
    preview = files.locator(".text-preview pre")
    assert said in preview.inner_text() and "<script>alert(2)</script>" in preview.inner_text()
    assert files.locator("script").count() == 0
    _fits(page, "received letter with the e-mail's words opened at 360 px")
    with page.expect_download() as download:
        files.get_by_role("link").first.click()
    assert download.value.path().read_bytes() == b"PK\x03\x04 sheet"
    assert errors == []
