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
