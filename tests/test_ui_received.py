"""A received letter's whole way in a real browser (headless Debian Chromium through
Playwright, against a real ``saraban serve``): a PDF uploaded on the receive register, read
in the background with progress, stamped; routed to two people with a note; one of them
marks it done from their inbox. The received page on a 360 px phone has no horizontal
scroll. A screenshot of each step is kept (``SARABAN_UI_SHOTS``)."""

from __future__ import annotations

import re

import pytest
import scancorpus
import test_ui_browser as ui
from pdfutil import pdftotext
from test_ui_browser import _fits, _login, _page, _pdf_text

pytestmark = pytest.mark.browser
# the module's saraban serve, browser and screenshot folder, shared with the whole cycle's
server, browser, shots = ui.server, ui.browser, ui.shots
STEM = "000_e6238ec4d0848a5c"


def test_intake_stamp_route_to_two_and_one_marks_it_done(server, browser, shots, tmp_path):
    pdf = tmp_path / "incoming.pdf"
    pdf.write_bytes(scancorpus._rendered_pdf(STEM))
    errors: list[str] = []
    page = _page(browser, errors)
    _login(page, server, "clerk")
    page.goto(f"{server}/registers?kind=received")
    page.get_by_label("ไฟล์หนังสือ").set_input_files(str(pdf))
    page.get_by_role("button", name="อ่านไฟล์และลงรับ").click()
    page.wait_for_url(re.compile(r".*/received/[0-9a-z]{12}$"), timeout=120_000)
    url = page.url
    assert "เลขรับ" in page.content()
    page.screenshot(path=shots / "ui-received.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="ฉบับประทับตรารับ").click()
    stamped = download.value.path().read_bytes()
    assert stamped.startswith(b"%PDF-") and "เลขรับที่" in _pdf_text(stamped)
    page.get_by_label("ส่งถึง (เลือกได้หลายคน)").select_option(["somchai", "somsri"])
    page.get_by_label("กำหนดเสร็จ (พ.ศ.)").fill("๑ มกราคม ๒๕๖๘")
    page.get_by_label("เกษียน (หมายเหตุถึงผู้รับ)").fill("โปรดพิจารณาดำเนินการ")
    page.get_by_role("button", name="ส่งต่อ").click()
    page.wait_for_url(url)
    routed = page.locator("table.routings")
    assert routed.get_by_text("somchai").count() == 1 and routed.get_by_text("somsri").count()
    page.get_by_label("สั่งการ (พิมพ์ลงฉบับประทับตรารับ)").fill("มอบกองช่างดำเนินการ")
    page.get_by_role("button", name="บันทึกคำสั่งการ").click()
    page.wait_for_url(url)
    with page.expect_download() as download:
        page.get_by_role("link", name="ฉบับประทับตรารับ").click()
    ordered = download.value.path().read_bytes()
    (shots / "ui-received-stamped.pdf").write_bytes(ordered)
    assert "กองช่าง" in _pdf_text(ordered).replace(" ", "")

    somchai = _page(browser, errors)
    _login(somchai, server, "somchai")
    somchai.get_by_role("link", name="รอดำเนินการ", exact=True).first.click()
    row = somchai.locator("table.inbox tbody tr").first
    assert "เลยกำหนด" in row.inner_text() and "โปรดพิจารณาดำเนินการ" in row.inner_text()
    somchai.screenshot(path=shots / "ui-inbox.png", full_page=True)
    row.get_by_role("button", name="ดำเนินการแล้ว").click()
    somchai.wait_for_url(f"{server}/inbox")
    assert "ไม่มีหนังสือรอดำเนินการ" in somchai.content()

    page.goto(url)
    statuses = page.locator("table.routings").inner_text()
    assert "ดำเนินการแล้ว" in statuses and "รอดำเนินการ" in statuses
    assert errors == []


def test_the_received_page_fits_a_phone(server, browser, shots):
    errors: list[str] = []
    page = _page(browser, errors, width=360, height=740)
    _login(page, server, "clerk")
    page.goto(f"{server}/registers?kind=received")
    _fits(page, "the receive register at 360 px")
    link = page.locator("table.register tbody a").first
    if not link.count():
        pytest.skip("no received letter yet (runs after the intake test)")
    link.click()
    page.wait_for_url(re.compile(r".*/received/[0-9a-z]{12}$"))
    _fits(page, "a received letter at 360 px")
    page.screenshot(path=shots / "ui-received-360.png", full_page=True)
    page.goto(f"{server}/inbox")
    _fits(page, "the inbox at 360 px")
    assert errors == []


def test_a_click_on_page_one_moves_the_stamp_without_javascript(server, browser, shots, tmp_path):
    import test_stamp

    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, accept_downloads=True, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    _login(page, server, "clerk")
    page.goto(f"{server}/registers?kind=received")
    link = page.locator("table.register tbody a").first
    if not link.count():
        pytest.skip("no received letter yet (runs after the intake test)")
    link.click()
    page.wait_for_url(re.compile(r".*/received/[0-9a-z]{12}$"))
    url = page.url
    preview = page.locator("input.page-preview")
    preview.scroll_into_view_if_needed()
    box = preview.bounding_box()
    assert box is not None and round(box["width"]) == 300  # never scaled: px are mm
    preview.click(position={"x": 30, "y": 200})
    page.wait_for_url(url)
    assert "ย้ายตรารับแล้ว" in page.content()
    assert page.get_by_label("ระยะจากขอบซ้าย (มม.)").input_value() == "21"
    assert page.get_by_label("ระยะจากขอบบน (มม.)").input_value() == "140"
    page.locator("#stamp").screenshot(path=shots / "ui-received-stamp-moved.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="ฉบับประทับตรารับ").click()
    stamped = download.value.path().read_bytes()
    [label] = [w for w in test_stamp._words(stamped, tmp_path) if w[4] == "เลขรับที่"]
    mm = 72 / 25.4
    assert 21 * mm < label[0] < 31 * mm and 140 * mm < label[1] < 152 * mm
    # typed millimetres do the same
    page.get_by_label("ระยะจากขอบซ้าย (มม.)").fill("130")
    page.get_by_label("ระยะจากขอบบน (มม.)").fill("8")
    page.get_by_role("button", name="ย้ายตรารับ").click()
    page.wait_for_url(url)
    assert page.get_by_label("ระยะจากขอบซ้าย (มม.)").input_value() == "130"
    context.close()


def test_a_long_register_is_made_in_the_background_and_downloaded(server, browser, tmp_path):
    """More rows than a request makes itself (``BACKGROUND_ROWS``): the PDF link leads to
    the page's progress bar, and the file downloads when it is made."""
    from saraban.archive import open_archive
    from saraban.service.jobs import BACKGROUND_ROWS

    archive = open_archive(ui.SERVED[server])
    try:
        for n in range(BACKGROUND_ROWS + 1):
            archive.receive(
                ui.UNIT, sender=f"อำเภอที่ {n}", recipient="ผู้ว่าราชการจังหวัด",
                subject=f"รายงานผลโครงการลำดับ {n}", actor="clerk",
            )  # fmt: skip
    finally:
        archive.close()
    errors: list[str] = []
    page = _page(browser, errors)
    _login(page, server, "clerk")
    page.goto(f"{server}/registers?kind=received")
    with page.expect_download(timeout=120_000) as download:
        page.locator("p.export").get_by_role("link", name="PDF").click()
        page.wait_for_url(re.compile(r".*[?&]job=[A-Za-z0-9_-]{16}"))
        assert page.locator("div.job progress").count() == 1
    text = pdftotext(download.value.path().read_bytes(), "-raw")  # a cell's lines together
    last = f"รายงานผลโครงการลำดับ{BACKGROUND_ROWS}"
    assert "ทะเบียนหนังสือรับ" in text and last in "".join(text.split())
    assert errors == []
