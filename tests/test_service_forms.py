"""The report forms' web page: required fields marked and enforced with Thai messages beside
them, hints, and photos uploaded, checked, kept across a problem, and printed."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document
from PIL import Image
from test_service_support import add_unit, add_users, login, make_app


@pytest.fixture
def app(tmp_path):
    from saraban.service import close_app

    app = make_app(tmp_path / "home")
    add_unit(app)
    add_users(app)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


CENTRE = {
    "province": "หนองคาย",
    "district": "อำเภอโพนพิสัย",
    "subdistrict": "จุมพล",
    "village": "บ้านโพนสา",
    "centre_name": "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชนบ้านโพนสา",
}


def jpeg(width=120, height=90, **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 140, 60)).save(out, "JPEG", **save)
    return out.getvalue()


def _post(client, csrf, fields, files=()):
    return client.post(
        "/forms/centre_report",
        data={"csrf_token": csrf, "format": "docx", **fields, "photos": list(files)},
        content_type="multipart/form-data",
    )


def _media(docx: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return [n for n in archive.namelist() if n.startswith("word/media/")]


def test_required_fields_carry_their_thai_message_for_the_page(client):
    login(client, "clerk")
    page = client.get("/forms/centre_report").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "data-check-required" in page
    province = re.search(r"<input [^>]*name=\"province\"[^>]*>", page).group()
    assert 'aria-required="true"' in province and 'data-required="ต้องกรอกจังหวัด"' in province
    moo = re.search(r"<input [^>]*name=\"moo\"[^>]*>", page).group()
    assert "data-required" not in moo
    # a committee row's role is a preset: a row holding only it is an empty row
    role = re.search(r"<input [^>]*name=\"committee.0.role\"[^>]*>", page).group()
    assert 'data-preset="ประธาน"' in role and 'value="ประธาน"' in role
    # the schema's hint is shown and read with the field
    assert "ชื่อต่อจากคำว่า “ศูนย์”" in page
    assert 'aria-describedby="f-centre_name-hint"' in page
    steps = client.get("/forms/activity_schedule").get_data(as_text=True)
    assert 'data-min-rows="1"' in steps and "กิจกรรม ต้องมีอย่างน้อย ๑ แถว" in steps


def test_required_fields_left_empty_are_refused_beside_them(client):
    csrf = login(client, "clerk")
    response = _post(client, csrf, {**CENTRE, "province": "   ", "committee.0.role": "ประธาน"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field = page[page.index('data-field="province"') :]
    assert field.index("ต้องกรอกจังหวัด") < field.index("</p>")
    member = page[page.index('data-field="committee.0.name"') :]
    assert "field-error" not in member[: member.index("</p>")]  # a row of presets is empty


def test_photos_are_uploaded_cleaned_and_printed(client):
    csrf = login(client, "clerk")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    files = [
        (io.BytesIO(jpeg(exif=exif.tobytes())), "IMG_0001.JPG"),
        (io.BytesIO(jpeg(60, 90)), "b.png"),
    ]
    response = _post(client, csrf, CENTRE, files)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert len(_media(response.data)) == 2
    assert b"PhoneMaker" not in response.data
    assert len(Document(io.BytesIO(response.data)).inline_shapes) == 2


def test_a_problem_keeps_the_good_photos_and_says_which_was_refused(client):
    csrf = login(client, "clerk")
    files = [
        (io.BytesIO(jpeg()), "good.jpg"),
        (io.BytesIO(b"MZ\x90\x00 not a picture"), "virus.jpg"),
    ]
    response = _post(client, csrf, {**CENTRE, "province": ""}, files)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "virus.jpg: ไม่ใช่ภาพ JPEG หรือ PNG" in page
    kept = re.findall(r'name="photos.kept" value="([^"]+)"', page)
    assert len(kept) == 1
    assert 'src="data:image/jpeg;base64,' in page
    # sent again, with the province now: the kept photo is printed, one ticked away is not
    again = _post(client, csrf, {**CENTRE, "photos.kept": kept[0]})
    assert again.status_code == 200 and len(_media(again.data)) == 1
    dropped = _post(client, csrf, {**CENTRE, "photos.kept": kept[0], "photos.drop": "0"})
    assert dropped.status_code == 200 and _media(dropped.data) == []


def test_a_forged_kept_photo_is_checked_like_an_upload(client):
    csrf = login(client, "clerk")
    response = _post(client, csrf, {**CENTRE, "photos.kept": "PHN2Zz48L3N2Zz4="})  # <svg></svg>
    assert response.status_code == 400
    assert "ภาพที่เก็บไว้ลำดับที่ ๑: ไม่ใช่ภาพ JPEG หรือ PNG" in response.get_data(as_text=True)


def test_more_photos_than_the_form_holds_are_refused(client):
    csrf = login(client, "clerk")
    files = [(io.BytesIO(jpeg()), f"{n}.jpg") for n in range(5)]
    response = _post(client, csrf, CENTRE, files)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "แนบภาพได้ไม่เกิน ๔ ภาพ" in page
    assert len(re.findall(r'name="photos.kept"', page)) == 4


def test_the_api_takes_photos_as_base64(app, client):
    import base64

    store = app.extensions["saraban_store"]
    token = store.create_token(store.user_by_name("clerk").id, "tests")[0]
    data = {**CENTRE, "photos": [base64.b64encode(jpeg()).decode()]}
    response = client.post(
        "/api/v1/forms/centre_report/docx",
        json={"data": data},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    assert len(_media(response.data)) == 1
    data["photos"] = ["bm90IGEgcGhvdG8="]
    refused = client.post(
        "/api/v1/forms/centre_report/docx",
        json={"data": data},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 400
    assert refused.get_json()["problems"][0]["field"] == "photos.0"


def test_unknown_fields_are_counted_not_each_echoed_with_the_form(app, client):
    """100,000 unknown keys (1.6 MB) made a 62 MB answer, each repeating every known field
    in two languages, twice."""
    store = app.extensions["saraban_store"]
    token = store.create_token(store.user_by_name("clerk").id, "tests")[0]
    data = {**CENTRE, **{f"k{n}": None for n in range(20_000)}}
    data["k0" + "x" * 10_000] = None
    refused = client.post(
        "/api/v1/forms/centre_report/docx",
        json={"data": data},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 400
    assert len(refused.data) < 20_000
    problems = refused.get_json()["problems"]
    assert any("and 19,991 more unknown fields" in p["en"] for p in problems)
    assert all(len(p["field"]) < 100 for p in problems)
