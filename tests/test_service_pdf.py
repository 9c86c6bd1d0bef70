"""The pages that render PDFs: the live preview, issuing from the form, downloads, the
letter's history and thread, cancelling, and the registers exported as DOCX and PDF."""

from __future__ import annotations

import io
import subprocess
from urllib.parse import unquote

import pytest
from test_service_support import (
    UNIT,
    add_unit,
    add_users,
    bearer,
    draft_form,
    login,
    make_app,
    secret_letter,
    store_letter,
)

pytestmark = pytest.mark.pdf


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def _draft(client, csrf, **fields):
    response = client.post(
        "/letters/new", data={"csrf_token": csrf, "kind": "external", "unit": UNIT}
    )
    draft_id = response.headers["Location"].rsplit("/", 1)[1]
    client.post(f"/drafts/{draft_id}", data=draft_form(csrf, **fields))
    return draft_id


def test_the_preview_is_the_letter_as_it_will_print(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    draft_id = _draft(client, csrf, date="15/12/2568", footer="")
    with client.get(f"/drafts/{draft_id}/preview.pdf") as response:
        assert response.mimetype == "application/pdf"
        text = pdf_text(response.data)
    assert "การประชุมคณะทำงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน" in text
    assert "๑๕ ธันวาคม ๒๕๖๘" in text
    assert "หนองคายเมืองน่าอยู่" in text  # the unit's footer, as issuing will print it


def test_a_preview_of_an_incomplete_draft_says_why(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    draft_id = _draft(client, csrf, subject="")
    response = client.get(f"/drafts/{draft_id}/preview.pdf")
    assert response.mimetype == "text/html"
    assert "ยังแสดงตัวอย่างไม่ได้" in response.get_data(as_text=True)


def test_issue_from_the_form_then_download_history_and_cancel(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    draft_id = _draft(client, csrf)
    form = draft_form(csrf, action="issue")
    response = client.post(f"/drafts/{draft_id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    letter_url = response.headers["Location"]
    public_id = letter_url.rsplit("/", 1)[1]
    letter_id = app.extensions["archive"].letter_id_for(public_id)
    page = client.get(letter_url).get_data(as_text=True)
    assert "นค ๐๐๑๙.๓/ว ๑" in page
    assert "ออกเลขและออกหนังสือ" in page  # the history, from the audit chain
    with client.get(f"/letters/{public_id}/pdf") as pdf:
        disposition = pdf.headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="letter-{public_id}.pdf"')
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == "นค ๐๐๑๙.๓-ว ๑.pdf"
        text = pdf_text(pdf.data)
    assert "นค ๐๐๑๙.๓/ว ๑" in text
    assert "นายอำเภอ ทุกอำเภอ" in text
    with client.get(f"/letters/{public_id}/docx") as docx_file:
        import docx

        paragraphs = "\n".join(p.text for p in docx.Document(io.BytesIO(docx_file.data)).paragraphs)
    assert "การประชุมคณะทำงาน" in paragraphs
    # the draft is done: it opens as issued, with a link to its letter, and cannot be issued
    # (or saved) twice: a Thai page that says so, not a bare 409
    opened = client.get(f"/drafts/{draft_id}")
    assert opened.status_code == 200
    opened_page = opened.get_data(as_text=True)
    assert "ร่างนี้ออกเลขแล้ว" in opened_page and f'href="/letters/{public_id}"' in opened_page
    assert 'id="draft-form"' not in opened_page
    again = client.post(f"/drafts/{draft_id}/issue", data={"csrf_token": csrf})
    assert again.status_code == 409
    again_page = again.get_data(as_text=True)
    assert "ออกเลขเป็นหนังสือไปแล้ว จึงไม่ได้ออกเลขหรือแก้ไขซ้ำ" in again_page
    assert f'href="/letters/{public_id}"' in again_page
    saved = client.post(f"/drafts/{draft_id}", data=form)
    assert saved.status_code == 409 and "ร่างนี้ออกเลขแล้ว" in saved.get_data(as_text=True)
    # cancelling needs a reason
    no_reason = client.post(
        f"/letters/{public_id}/cancel", data={"csrf_token": csrf, "reason": " "}
    )
    assert no_reason.status_code == 302
    assert app.extensions["archive"].get(letter_id).status == "issued"
    client.post(f"/letters/{public_id}/cancel", data={"csrf_token": csrf, "reason": "ออกซ้ำ"})
    record = app.extensions["archive"].get(letter_id)
    assert (record.status, record.reason) == ("cancelled", "ออกซ้ำ")
    page = client.get(letter_url).get_data(as_text=True)
    assert "ยกเลิกหนังสือ" in page and "ออกซ้ำ" in page
    assert app.extensions["archive"].verify() == []


def test_the_thread_shows_only_letters_the_user_may_see(app):
    client = app.test_client()
    csrf = login(client, "clerk")
    secret = secret_letter("ลับ")
    secret["ref_no"] = "นค ๐๐๑๙.๓/ว ๑๐๐"
    secret["date"] = "2025-10-01"
    store_letter(app, secret)
    draft_id = _draft(client, csrf)
    response = client.post(f"/drafts/{draft_id}", data=draft_form(csrf, action="issue"))
    letter_url = response.headers["Location"]
    assert "นาคราช" not in client.get(letter_url).get_data(as_text=True)
    cleared = app.test_client()
    login(cleared, "secret")
    assert "นาคราช" in cleared.get(letter_url).get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_register_export_as_a_document(app, fmt):
    client = app.test_client()
    csrf = login(client, "clerk")
    draft_id = _draft(client, csrf)
    client.post(f"/drafts/{draft_id}", data=draft_form(csrf, action="issue"))
    with client.get(f"/registers/export?kind=sent&format={fmt}") as response:
        assert response.status_code == 200
        data = response.data
    if fmt == "pdf":
        assert "ทะเบียนหนังสือส่ง" in pdf_text(data)
    else:
        assert data[:2] == b"PK"


def _received(app, count: int) -> None:
    for n in range(count):
        app.extensions["archive"].receive(
            UNIT, sender=f"อำเภอที่ {n}", recipient="ผู้ว่าราชการ", subject="รายงาน", actor="t"
        )


def _token(app, name: str) -> str:
    store = app.extensions["saraban_store"]
    return store.create_token(store.user_by_name(name).id, "tests")[0]


def _finished(client, job: str) -> dict:
    import time

    for _ in range(1200):  # made in a process of its own, which starts first
        state = client.get(f"/jobs/{job}").get_json()
        if state["state"] != "running":
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job} still running")


def test_a_long_registers_pdf_is_made_in_the_background_one_at_a_time(app, monkeypatch):
    """A year's register is thousands of rows (10 ms and 0.2 MB a row in PDF): made in a
    request's thread it held every other request of the process for a minute. It is made
    in a process of its own, in the background, the page showing its progress; a clerk
    whose file is still being made is shown that one rather than starting another."""
    import re

    from saraban import pools
    from saraban.service import jobs

    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 1)
    _received(app, 3)
    client = app.test_client()
    login(client, "clerk")
    for _ in range(2):  # every slot for making files taken: the job waits its turn
        pools._apart.acquire()
    try:
        started = client.get("/registers/export?kind=received&format=pdf")
        assert started.status_code == 302
        location = started.headers["Location"]
        assert location.startswith("/registers?") and "kind=received" in location
        job = re.search(r"job=([\w-]+)", location).group(1)
        page = client.get(location).get_data(as_text=True)
        assert f"/jobs/{job}/file" in page
        assert client.get(f"/jobs/{job}/file").status_code == 409  # not ready
        again = client.get("/registers/export?kind=received&format=docx")
        assert re.search(r"job=([\w-]+)", again.headers["Location"]).group(1) == job
        assert "ยังจัดทำไม่เสร็จ" in client.get(again.headers["Location"]).get_data(as_text=True)
    finally:
        pools._apart.release()
        pools._apart.release()
    assert _finished(client, job)["state"] == "done"
    done = client.get(f"/jobs/{job}/file")
    assert done.status_code == 200 and done.mimetype == "application/pdf"
    text = pdf_text(done.data)
    assert "ทะเบียนหนังสือรับ" in text and "อำเภอที่ 2" in text
    assert (app.extensions["saraban_jobs"]._folder / f"{job}.file").read_bytes() == done.data
    other = app.test_client()
    login(other, "admin")
    assert other.get(f"/jobs/{job}/file").status_code == 404  # its rows are the clerk's
    api = app.test_client().get(  # made apart while the client waits
        "/api/v1/registers/received?format=pdf", headers=bearer(_token(app, "clerk"))
    )
    assert api.status_code == 200 and "อำเภอที่ 2" in pdf_text(api.data)


def test_a_register_too_long_to_print_is_refused_at_once_in_thai(app, monkeypatch):
    """Every cost is bounded: a register of the archive's whole life in PDF would take
    gigabytes; past PRINTED_ROWS_AT_MOST rows (EXPORTED_ROWS_AT_MOST for a CSV) the clerk is
    told to choose a shorter period or CSV, from the count, before a row is read or a file
    started (the page, the API and the CLI's writer alike)."""
    from saraban.archive import _registers
    from saraban.usecases import registers

    monkeypatch.setattr(_registers, "PRINTED_ROWS_AT_MOST", 2)
    _received(app, 3)
    client = app.test_client()
    login(client, "clerk")
    assert client.get("/registers/export?kind=received&format=csv").status_code == 200

    def read_whole(*args, **kwargs):
        raise AssertionError("the rows were read before the count refused them")

    monkeypatch.setattr(registers, "incoming_register", read_whole)
    api = bearer(_token(app, "clerk"))
    for url, headers in (
        ("/registers/export?kind=received&format=pdf", {}),
        ("/api/v1/registers/received?format=docx", api),
    ):
        refused = client.get(url, headers=headers)
        assert refused.status_code == 413, url
        assert "ตารางนี้มี ๓ แถว ส่งออกเป็น" in refused.get_data(as_text=True)
    assert app.extensions["saraban_jobs"].running("table-file") is None
    monkeypatch.setattr(_registers, "EXPORTED_ROWS_AT_MOST", 2)  # a CSV is bounded too
    refused = client.get("/registers/export?kind=received&format=csv")
    assert refused.status_code == 413
    assert "ได้ไม่เกิน ๒ แถว เลือกช่วงวันที่ให้สั้นลง /" in refused.get_data(as_text=True)
    table = _registers.Table("t", "s", ("a",), [["1"], ["2"], ["3"]])
    with pytest.raises(_registers.TooLarge):
        _registers.write(table, "pdf")


def test_a_hostile_export_format_is_refused_before_a_row_is_read(app, monkeypatch):
    """The format is checked first: one that is no format (markup, a file URL, a lone
    surrogate, 10,000 characters) is refused with 400, the value never echoed, nothing read."""
    from saraban.usecases import registers

    def read_whole(*args, **kwargs):
        raise AssertionError("the rows were read for a format that is none")

    monkeypatch.setattr(registers, "incoming_register", read_whole)
    _received(app, 2)
    client = app.test_client()
    login(client, "clerk")
    api = bearer(_token(app, "clerk"))
    from urllib.parse import quote

    # a lone surrogate reaches the server as the bytes of one, which are no UTF-8
    for fmt in (quote('</style><img src="file:///etc/passwd">'), "%ED%A0%80", quote("ก" * 10_000)):
        for url, query, headers in (
            ("/registers/export", f"kind=received&format={fmt}", {}),
            ("/api/v1/registers/received", f"format={fmt}", api),
        ):
            refused = client.get(url, query_string=query, headers=headers)
            assert refused.status_code == 400, (url, fmt[:20])
            text = refused.get_data(as_text=True)
            assert "ต้องเป็น csv, docx, pdf" in text
            assert "file:///" not in text and "ก" * 100 not in text
