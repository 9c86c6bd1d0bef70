"""Imported letters after they are kept: the clerk corrects what the importer read (each
change audited, checked by the letter format's rules) and confirms it; an issued letter of
ours never changes. Duplicates of imports: the same file, the same sender, number and date,
and our own issued file coming back."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import ARCHIVE_UNIT, make_letter
from pdfa import embedded_files
from pdfutil import pdftotext

from saraban.errors import Conflict, InvalidLetter
from saraban.usecases import importing

ACTOR = "tester"


def _imported(archive, **fields):
    letter = make_letter(ref_no="มท ๐๔๐๐/๗", date="2025-03-01", **fields)
    return archive.store_imported(
        letter,
        original=b"letter 7 as text " + repr(fields).encode(),
        original_name="letter7.txt",
        actor=ACTOR,
        needs_review={"fields": ["ref_no", "footer"], "notes": []},
    )


def test_a_correction_is_checked_audited_and_indexed_and_confirm_clears_the_marks(archive):
    record = _imported(archive)
    jobs_before = len(archive.index_jobs(limit=None))
    corrected = archive.correct_imported(
        record.id, {"ref_no": "มท ๐๔๐๐/๘", "subject": "เรื่องที่แก้แล้ว"}, actor="clerk"
    )
    assert corrected.ref_no == "มท ๐๔๐๐/๘" and corrected.subject == "เรื่องที่แก้แล้ว"
    assert archive.letter_document(record.id)["ref_no"] == "มท ๐๔๐๐/๘"
    assert len(archive.index_jobs(limit=None)) > jobs_before
    event = archive.history(record.id)[-1]
    assert event.action == "letter.correct" and event.actor == "clerk"
    assert event.detail["before"] == {"ref_no": "มท ๐๔๐๐/๗", "subject": record.subject}
    assert event.detail["after"] == {"ref_no": "มท ๐๔๐๐/๘", "subject": "เรื่องที่แก้แล้ว"}
    # the marks stay until the clerk confirms
    assert archive.needs_review(record.id)["fields"] == ["ref_no", "footer"]
    archive.confirm_imported(record.id, actor="clerk")
    assert archive.needs_review(record.id) is None
    assert archive.history(record.id)[-1].action == "letter.confirm"
    assert archive.verify() == []


def test_a_correction_that_breaks_the_letter_format_is_refused_and_changes_nothing(archive):
    record = _imported(archive)
    with pytest.raises(InvalidLetter) as raised:
        archive.correct_imported(record.id, {"date": "2568-13-40"}, actor="clerk")
    assert {p.field for p in raised.value.problems} == {"date"}
    with pytest.raises(InvalidLetter):
        archive.correct_imported(record.id, {"subject": "x" * 5000}, actor="clerk")
    assert archive.letter_document(record.id)["date"] == "2025-03-01"
    assert [e.action for e in archive.history(record.id)] == ["letter.import"]


def test_fields_outside_the_correctable_ones_are_refused(archive):
    record = _imported(archive)
    with pytest.raises(Exception, match="secrecy"):
        archive.correct_imported(record.id, {"secrecy": "ลับ"}, actor="clerk")


def test_an_issued_letter_of_ours_is_never_corrected_nor_confirmed(archive):
    issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor=ACTOR, date=dt.date(2025, 3, 1))
    with pytest.raises(Conflict):
        archive.correct_imported(issued.id, {"subject": "แก้หนังสือที่ออกไปแล้ว"}, actor="clerk")
    with pytest.raises(Conflict):
        archive.confirm_imported(issued.id, actor="clerk")
    assert archive.get(issued.id).subject == "ทดสอบการออกเลขหนังสือ"
    assert archive.verify() == []


def test_a_received_letter_is_corrected_through_its_received_page_not_here(archive):
    record = _imported(archive)
    archive.receive(
        ARCHIVE_UNIT,
        sender="กรมการปกครอง",
        recipient="ผู้ว่าราชการจังหวัด",
        subject=record.subject,
        actor=ACTOR,
        letter_id=record.id,
        confirmed=False,
    )
    assert archive.is_received(record.id)
    with pytest.raises(Conflict, match="received page"):
        archive.correct_imported(record.id, {"subject": "แก้ที่นี่"}, actor="clerk")
    with pytest.raises(Conflict):
        archive.confirm_imported(record.id, actor="clerk")


# ---- duplicates of imports ---------------------------------------------------------------------

SEEDS = __import__("pathlib").Path(__file__).parent / "data" / "seeds"
SEED_TXT = SEEDS / "001_1817bd84ea7a4ec5.txt"


def _count(archive) -> int:
    return archive.recent(importing.ALL_LETTERS, limit=1)[0]


def test_the_same_sender_number_and_date_is_offered_not_kept_twice(archive):
    first = importing.import_file(archive, SEED_TXT, actor=ACTOR)
    # the same letter typed out again (another file, the same sender, number and date)
    retyped = SEED_TXT.read_text("utf-8") + "\n"
    with pytest.raises(importing.AlreadyImported) as raised:
        importing.import_upload(archive, retyped.encode(), "again.txt", actor=ACTOR, clearance=None)
    assert raised.value.earlier.id == first.record.id and not raised.value.ours
    assert first.record.public_id in raised.value.message
    assert raised.value.status == 409
    assert _count(archive) == 1


def test_a_secret_letters_duplicate_tells_an_uncleared_clerk_nothing(archive):
    parsed = importing.read_letter(SEED_TXT)
    secret = archive.store_imported(
        {**parsed.letter, "secrecy": "ลับ"},
        original=b"the secret copy, another file",
        original_name="secret.txt",
        actor=ACTOR,
    )
    data = SEED_TXT.read_bytes()
    # cleared: told which letter it is
    with pytest.raises(importing.AlreadyImported) as raised:
        importing.import_upload(archive, data, "a.txt", actor=ACTOR, clearance="ลับ")
    assert raised.value.earlier.id == secret.id
    # not cleared: the file is kept as any new file is, and nothing names the secret letter
    assert importing.find_duplicate(archive, parsed.letter, data, "a.txt", clearance=None) is None
    kept = importing.import_upload(archive, data, "a.txt", actor=ACTOR, clearance=None)
    assert kept.record.id != secret.id
    fresh = importing.import_upload(
        archive,
        (SEEDS / "002_b86b2e7e88d9451c.txt").read_bytes(),
        "b.txt",
        actor=ACTOR,
        clearance=None,
    )
    assert secret.public_id not in repr(kept) and secret.ref_no not in " ".join(kept.notes)
    assert sorted(vars(kept)) == sorted(vars(fresh))


@pytest.mark.pdf
def test_our_own_issued_pdf_coming_back_is_that_letter_and_nothing_is_stored(archive):
    issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor=ACTOR, date=dt.date(2025, 3, 1))
    pdf = archive.files.path(archive.get(issued.id).pdf_sha256).read_bytes()
    assert "letter.json" in embedded_files(pdf)  # the PDF/A carries the letter document
    before = _count(archive)
    with pytest.raises(importing.AlreadyImported) as raised:
        importing.import_upload(archive, pdf, "ours.pdf", actor=ACTOR, clearance=None)
    assert raised.value.ours and raised.value.earlier.id == issued.id
    assert "หนังสือของเราเอง" in raised.value.message and issued.ref_no in raised.value.message
    assert "๑ มีนาคม ๒๕๖๘" in raised.value.message and "2025-03-01" in raised.value.message
    # another copy of it (its text typed out, a signed copy, a scan): the same sender,
    # number and date are that letter of ours too
    copy = pdftotext(pdf).encode()
    with pytest.raises(importing.AlreadyImported) as raised:
        importing.import_upload(archive, copy, "copy.txt", actor=ACTOR, clearance=None)
    assert raised.value.ours and raised.value.earlier.id == issued.id
    assert "หนังสือของเราเอง" in raised.value.message
    assert _count(archive) == before


# ---- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    from test_service_support import add_unit, add_users, make_app

    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


def _kept(app, **fields):
    from test_service_support import seed_letter

    letter = seed_letter() | fields
    return app.extensions["archive"].store_imported(
        letter,
        original=repr(fields).encode() + b" as a file",
        original_name="kept.txt",
        actor=ACTOR,
        needs_review={"fields": ["ref_no", "footer", "references.0"], "notes": []},
    )


def test_an_imported_letters_page_shows_its_body_escaped_and_thai_labels(app):
    from test_service_support import login

    record = _kept(app, body=["ย่อหน้าแรก <script>alert(1)</script>", {"items": ["ข้อหนึ่ง", "ข้อสอง"]}])
    client = app.test_client()
    login(client, "clerk")
    page = client.get(f"/letters/{record.public_id}").get_data(as_text=True)
    assert "ย่อหน้าแรก &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<li>ข้อหนึ่ง</li>" in page and "<li>ข้อสอง</li>" in page
    review = page.split('id="review"')[1].split("</div>")[0]
    assert "ที่" in review and "ข้อความท้ายหน้าแรก" in review and "อ้างถึง ลำดับที่ ๑" in review
    assert "ref_no" not in review and "footer" not in review
    assert f"/letters/{record.public_id}/review" in review


def test_edit_and_confirm_an_imported_letter_on_its_page(app):
    from test_service_support import login

    record = _kept(app)
    client = app.test_client()
    csrf = login(client, "clerk")
    url = f"/letters/{record.public_id}/review"
    form_page = client.get(url).get_data(as_text=True)
    assert "ควรตรวจ" in form_page and "ข้อความท้ายหน้าแรก" in form_page
    assert 'name="ref_no"' in form_page and 'name="subject"' in form_page
    flagged = re.findall(r'class="field needs-review"><label for="f-\d+">([^<]+)<', form_page)
    assert [f.strip() for f in flagged] == [
        "ที่",
        "อ้างถึง",
        "ข้อความท้ายหน้าแรก",
    ]  # ref_no, references.0, footer
    doc = app.extensions["archive"].letter_document(record.id)
    # a date the form cannot read, then one the letter format refuses: nothing changes
    bad = client.post(url, data={"csrf_token": csrf, "date": "๓๑ กุมภาพันธ์ ๒๕๖๘"})
    assert bad.status_code == 400
    assert 'value="๓๑ กุมภาพันธ์ ๒๕๖๘"' in bad.get_data(as_text=True)  # the input is kept
    values = {k: v for k, v in _form_of(form_page).items()}
    too_long = client.post(url, data={**values, "csrf_token": csrf, "subject": "ก" * 3000})
    assert too_long.status_code == 400 and "เรื่อง" in too_long.get_data(as_text=True)
    assert app.extensions["archive"].letter_document(record.id) == doc
    saved = client.post(
        url, data={**values, "csrf_token": csrf, "ref_no": "ลป ๐๐๑๙.๓/๒๗๕๒๙", "action": "save"}
    )
    assert saved.status_code == 302
    archive = app.extensions["archive"]
    assert archive.get(record.id).ref_no == "ลป ๐๐๑๙.๓/๒๗๕๒๙"
    assert archive.needs_review(record.id) is not None
    event = archive.history(record.id)[-1]
    assert event.action == "letter.correct" and event.actor == "clerk"
    assert event.detail == {
        "before": {"ref_no": doc["ref_no"]},
        "after": {"ref_no": "ลป ๐๐๑๙.๓/๒๗๕๒๙"},
    }
    confirmed = client.post(
        url, data={**values, "csrf_token": csrf, "ref_no": "ลป ๐๐๑๙.๓/๒๗๕๒๙", "action": "confirm"}
    )
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith(
        f"/letters/{record.public_id}"
    )
    assert archive.needs_review(record.id) is None
    page = client.get(f"/letters/{record.public_id}").get_data(as_text=True)
    assert 'id="review"' not in page and "ยืนยันข้อมูลหนังสือที่นำเข้า" in page


def test_a_secret_imported_letter_cannot_be_reviewed_by_an_uncleared_clerk(app):
    from test_service_support import login

    record = _kept(app, secrecy="ลับ")
    client = app.test_client()
    csrf = login(client, "clerk")
    url = f"/letters/{record.public_id}/review"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": csrf, "subject": "x"}).status_code == 404
    assert app.extensions["archive"].history(record.id)[-1].action == "letter.import"


def _form_of(html: str) -> dict[str, str]:
    """The review form's inputs and text areas as the browser would post them."""
    import html as html_lib
    import re

    values = {
        m.group(1): html_lib.unescape(m.group(2))
        for m in re.finditer(r'<input id="f-\d+" name="([^"]+)" value="([^"]*)"', html)
    }
    values |= {
        m.group(1): html_lib.unescape(m.group(2))
        for m in re.finditer(
            r'<textarea id="f-\d+" name="([^"]+)" rows="3">([^<]*)</textarea>', html
        )
    }
    return values


# ---- the API -----------------------------------------------------------------------------------


def _api(app):
    from test_service_support import bearer, tokens

    keys = tokens(app, {u.name: u for u in app.extensions["saraban_store"].users()})
    return {who: bearer(key) for who, key in keys.items()}


def test_the_api_corrects_and_confirms_an_imported_letter(app):
    record = _kept(app)
    headers = _api(app)["clerk"]
    client = app.test_client()
    url = f"/api/v1/letters/{record.public_id}/review"
    bad = client.post(url, headers=headers, json={"changes": {"date": "2025-02-30"}})
    assert bad.status_code == 400 and bad.get_json()["problems"][0]["field"] == "date"
    assert client.post(url, headers=headers, json={"changes": {"secrecy": None}}).status_code == 400
    assert client.post(url, headers=headers, json={"confirm": "yes"}).status_code == 400
    done = client.post(
        url, headers=headers, json={"changes": {"subject": "เรื่องที่ตรวจแล้ว"}, "confirm": True}
    )
    assert done.status_code == 200, done.get_json()
    answer = done.get_json()
    assert answer["letter"]["id"] == record.public_id and answer["needs_review"] is None
    assert answer["letter"]["letter"]["subject"] == "เรื่องที่ตรวจแล้ว"
    history = client.get(f"/api/v1/letters/{record.public_id}/history", headers=headers)
    actions = [e["action"] for e in history.get_json()["events"]]
    assert actions == ["letter.import", "letter.correct", "letter.confirm"]


def test_the_api_import_names_the_earlier_letter_of_a_duplicate(app):
    import io

    headers = _api(app)
    client = app.test_client()

    def upload(who, data, name="a.txt"):
        return client.post(
            "/api/v1/imports",
            headers=headers[who],
            data={"files": [(io.BytesIO(data), name)]},
            content_type="multipart/form-data",
        )

    first = upload("clerk", SEED_TXT.read_bytes())
    assert first.status_code == 201
    earlier = first.get_json()["results"][0]["id"]
    again = upload("clerk", SEED_TXT.read_bytes() + b"\n", "retyped.txt")
    assert again.status_code == 400
    result = again.get_json()["results"][0]
    assert result["status"] == 409 and result["duplicate_of"]["id"] == earlier
    assert result["duplicate_of"]["ours"] is False
    assert result["duplicate_of"]["links"]["self"] == f"/api/v1/letters/{earlier}"


def test_the_import_page_offers_the_earlier_letter_instead_of_storing_twice(app):
    import io
    import time

    from test_service_support import login

    importing.import_file(app.extensions["archive"], SEED_TXT, actor=ACTOR, clearance=None)
    [earlier] = app.extensions["archive"].letters()
    client = app.test_client()
    csrf = login(client, "clerk")
    response = client.post(
        "/imports",
        data={"csrf_token": csrf, "files": [(io.BytesIO(SEED_TXT.read_bytes() + b" "), "x.txt")]},
        content_type="multipart/form-data",
    )
    batch_url = response.headers["Location"].split("?")[0]
    job = app.extensions["saraban_jobs"].get(response.headers["Location"].split("job=")[1])
    deadline = time.monotonic() + 60
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    review = client.get(f"{batch_url}/1").get_data(as_text=True)
    assert "มีหนังสือนี้ในระบบแล้ว" in review
    assert f'href="/letters/{earlier.public_id}"' in review
    form = {
        "csrf_token": csrf,
        "ref_no": earlier.ref_no,
        "date": "๒๑ พฤศจิกายน ๒๕๖๗",
        "sender.name": earlier.sender,
        "subject": earlier.subject,
    }
    stored = client.post(f"{batch_url}/1", data=form)
    assert stored.status_code == 409
    assert f'href="/letters/{earlier.public_id}"' in stored.get_data(as_text=True)
    assert len(app.extensions["archive"].letters()) == 1
    batch_page = client.get(batch_url).get_data(as_text=True)
    assert f'href="/letters/{earlier.public_id}"' in batch_page


def test_the_api_import_of_a_secret_letters_duplicate_tells_an_uncleared_clerk_nothing(app):
    import io
    import json

    archive = app.extensions["archive"]
    parsed = importing.read_letter(SEED_TXT)
    secret = archive.store_imported(
        {**parsed.letter, "secrecy": "ลับ"},
        original=b"the secret copy, another file",
        original_name="secret.txt",
        actor=ACTOR,
    )
    headers = _api(app)
    client = app.test_client()

    def upload(who, path):
        return client.post(
            "/api/v1/imports",
            headers=headers[who],
            data={"files": [(io.BytesIO(path.read_bytes()), "a.txt")]},
            content_type="multipart/form-data",
        )

    cleared = upload("secret", SEED_TXT)
    assert cleared.get_json()["results"][0]["duplicate_of"]["id"] == secret.public_id
    by_clerk = upload("clerk", SEED_TXT)
    fresh = upload("clerk", SEEDS / "002_b86b2e7e88d9451c.txt")
    assert by_clerk.status_code == fresh.status_code == 201
    said, other = by_clerk.get_json(), fresh.get_json()
    assert said.keys() == other.keys()
    assert said["results"][0].keys() == other["results"][0].keys()
    text = json.dumps(said, ensure_ascii=False)
    assert secret.public_id not in text and "ลับ" not in text and "แล้ว" not in text


@pytest.mark.pdf
def test_our_own_issued_pdf_on_the_import_page_and_the_api_is_that_letter(app):
    import io
    import time

    from test_service_support import UNIT, login

    archive = app.extensions["archive"]
    issued = archive.issue(make_letter(), UNIT, actor=ACTOR, date=dt.date(2025, 3, 1))
    pdf = archive.files.path(archive.get(issued.id).pdf_sha256).read_bytes()
    before = len(archive.letters())
    client = app.test_client()
    csrf = login(client, "clerk")
    response = client.post(
        "/imports",
        data={"csrf_token": csrf, "files": [(io.BytesIO(pdf), "from-the-post.pdf")]},
        content_type="multipart/form-data",
    )
    batch_url = response.headers["Location"].split("?")[0]
    job = app.extensions["saraban_jobs"].get(response.headers["Location"].split("job=")[1])
    deadline = time.monotonic() + 120
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    review = client.get(f"{batch_url}/1").get_data(as_text=True)
    assert "นี่คือหนังสือของเราเอง ที่ " + issued.ref_no in review
    assert "ลงวันที่ ๑ มีนาคม ๒๕๖๘" in review
    assert f'href="/letters/{issued.public_id}"' in review
    assert client.post(f"{batch_url}/1", data={"csrf_token": csrf}).status_code == 409
    api = client.post(
        "/api/v1/imports",
        headers=_api(app)["clerk"],
        data={"files": [(io.BytesIO(pdf), "again.pdf")]},
        content_type="multipart/form-data",
    )
    duplicate = api.get_json()["results"][0]["duplicate_of"]
    assert duplicate["id"] == issued.public_id and duplicate["ours"] is True
    assert len(archive.letters()) == before


def test_the_body_is_corrected_on_the_review_page_too(app):
    from test_service_support import login
    from werkzeug.datastructures import MultiDict

    record = _kept(app, body=["ย่อหน้าหนึ่ง", {"items": ["ข้อหนึ่ง", "ข้อสอง"]}, "ย่อหน้าสาม"])
    client = app.test_client()
    csrf = login(client, "clerk")
    url = f"/letters/{record.public_id}/review"
    page = client.get(url).get_data(as_text=True)
    assert 'name="body.1.items"' in page and ">ย่อหน้าสาม</textarea>" in page
    form = MultiDict(list(_form_of(page).items()))
    form.add("csrf_token", csrf)
    form.add("body.0.kind", "paragraph")
    form.add("body.0.text", "ย่อหน้าหนึ่ง <แก้แล้ว>")
    form.add("body.1.kind", "items")
    form.add("body.1.items", "ข้อหนึ่ง")
    form.add("body.1.items", "ข้อสอง")
    form.add("body.2.kind", "paragraph")
    form.add("body.2.text", "")  # emptied: the block goes
    assert client.post(url, data=form).status_code == 302
    archive = app.extensions["archive"]
    body = ["ย่อหน้าหนึ่ง <แก้แล้ว>", {"items": ["ข้อหนึ่ง", "ข้อสอง"]}]
    assert archive.letter_document(record.id)["body"] == body
    event = archive.history(record.id)[-1]
    assert event.action == "letter.correct" and list(event.detail["after"]) == ["body"]
    page = client.get(f"/letters/{record.public_id}").get_data(as_text=True)
    assert "ย่อหน้าหนึ่ง &lt;แก้แล้ว&gt;" in page and "ย่อหน้าสาม" not in page


def _slow_docx(paragraphs: int = 1500) -> bytes:
    """A .docx whose text takes the importer about a second to read."""
    import io

    from docx import Document

    document = Document()
    for line in SEED_TXT.read_text("utf-8").splitlines() * (paragraphs // 40 + 1):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_an_uploaded_file_is_read_in_a_reading_process_with_a_time_limit(app, monkeypatch):
    """A large .docx read in the serving thread held the interpreter for seconds (searches
    beside an API import of five: p95 761 ms, 14 ms before); it is read in a reading
    process, stopped past its time, and the file refused in Thai."""
    import io

    monkeypatch.setattr(importing, "IMPORT_READ_SECONDS", 0.05)
    answer = app.test_client().post(
        "/api/v1/imports",
        headers=_api(app)["clerk"],
        data={"files": [(io.BytesIO(_slow_docx()), "ยาว.docx")]},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    (result,) = answer.get_json()["results"]
    assert result["status"] == 422 and result["error"].startswith("อ่านไฟล์ ยาว.docx นานเกิน")
    assert "แยกเป็นหลายไฟล์ที่เล็กลง" in result["error"] and "สแกน" not in result["error"]
    assert _count(app.extensions["archive"]) == 0  # nothing kept
    monkeypatch.setattr(importing, "IMPORT_READ_SECONDS", 120)
    kept = importing.import_upload(
        app.extensions["archive"], SEED_TXT.read_bytes(), "a.txt", actor=ACTOR, clearance=None
    )
    assert kept.record.ref_no  # the next file is read in a new process


def test_a_file_without_text_read_apart_is_said_to_be_empty_by_its_name(tmp_path):
    from saraban.archive.importer import EmptyFile

    blank = tmp_path / "upload.txt"
    blank.write_text("  \n\n ", encoding="utf-8")
    with pytest.raises(EmptyFile) as raised:  # a recipient's scanned reply is then read by OCR
        importing.read_letter_apart(blank, name="ว่าง.txt", lane="outside")
    assert raised.value.message.startswith("ว่าง.txt: ")


def _batch(tmp_path, count: int):
    seeds = sorted(SEEDS.glob("*.txt"))
    files = [
        (f"{n}.txt", seeds[n % len(seeds)].read_bytes() + f"\n{n}".encode()) for n in range(count)
    ]
    return tmp_path, importing.create(tmp_path, 7, files)


def test_a_batch_is_saved_as_it_is_read_not_once_a_file(tmp_path, monkeypatch):
    # saved after each file, the manifest (every letter read) was read and written again
    # for each: 400 files took 39 s where 100 took 2.9
    home, batch = _batch(tmp_path, 30)
    saved = []
    real_save = importing.save
    monkeypatch.setattr(importing, "save", lambda *a: saved.append(1) or real_save(*a))
    monkeypatch.setattr(importing, "_SAVE_EVERY_SECONDS", 3600)
    done = importing.parse_all(home, batch.id, 7)
    assert done.counts()["parsed"] == 30 and len(saved) == 1


def test_a_batch_whose_reading_stops_keeps_what_was_read_and_the_rest_waits(tmp_path, monkeypatch):
    from concurrent.futures import Future

    from saraban.usecases import intake

    home, batch = _batch(tmp_path, 6)
    started = []
    real_start = importing._start_reading

    def start(path, name, lane="clerk"):
        started.append(name)
        if len(started) < 4:
            return real_start(path, name, lane)
        stopped: Future = Future()
        stopped.set_exception(intake.ReadingStopped())  # the service ends
        return stopped

    monkeypatch.setattr(importing, "_start_reading", start)
    with pytest.raises(intake.ReadingStopped):
        importing.parse_all(home, batch.id, 7)
    counts = importing.load(home, batch.id, 7).counts()
    assert counts["parsed"] == 3 and counts["waiting"] == 3 and counts["failed"] == 0


def test_confirm_all_saves_the_batch_as_it_goes_not_once_a_letter(archive, tmp_path, monkeypatch):
    # saved after each letter, 400 letters took 83 s where 100 took 6.7
    home, batch = _batch(tmp_path, 5)
    importing.parse_all(home, batch.id, 7)
    saved = []
    real_save = importing.save
    monkeypatch.setattr(importing, "save", lambda *a: saved.append(1) or real_save(*a))
    monkeypatch.setattr(importing, "_SAVE_EVERY_SECONDS", 3600)
    done = importing.store_all(archive, home, batch.id, 7, actor=ACTOR, clearance=None)
    assert done.counts()["stored"] == 5 and len(saved) == 1
    assert len({item.letter_id for item in done.items}) == 5


def test_a_correction_of_a_letter_confirm_all_kept_but_not_yet_saved_is_refused(archive, tmp_path):
    home, batch = _batch(tmp_path, 1)
    importing.parse_all(home, batch.id, 7)
    running = importing.load(home, batch.id, 7)  # "confirm all", its batch not saved yet
    importing._store(archive, home, running, running.items[0], actor=ACTOR, clearance=None)
    corrected = running.items[0].letter | {"subject": "แก้ไขหลังเก็บแล้ว"}
    with pytest.raises(Conflict, match="เก็บเข้าระบบแล้ว"):
        importing.store_item(
            archive, home, batch.id, 7, 1, actor=ACTOR, clearance=None, letter=corrected
        )
    item = importing.load(home, batch.id, 7).items[0]
    assert item.status == "stored" and item.letter_id == running.items[0].letter_id
    assert archive.letter_document(item.letter_id)["subject"] != "แก้ไขหลังเก็บแล้ว"
    assert _count(archive) == 1


def test_the_list_of_batches_reads_their_summaries_not_every_letter_read(tmp_path, monkeypatch):
    # the list read ten whole manifests (every letter read): 0.5 s for ten of 400 files
    home, batch = _batch(tmp_path, 3)
    importing.parse_all(home, batch.id, 7)
    (home / "imports" / batch.id / "summary.json").unlink()  # a batch of an earlier version
    (before,) = importing.recent(home, 7)
    assert (before.files, before.counts()["parsed"]) == (3, 3)
    importing.save(home, importing.load(home, batch.id, 7))
    monkeypatch.setattr(importing, "load", None)  # the summary alone is read
    (listed,) = importing.recent(home, 7)
    assert (listed.id, listed.files, listed.counts()) == (batch.id, 3, before.counts())
    assert importing.recent(home, 8) == []  # another clerk's batch is not theirs to see
