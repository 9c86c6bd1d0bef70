"""Photos in a form: JPEG or PNG known by content, bounded, re-encoded without metadata,
and placed in the DOCX and the PDF (section ๙ of the centre report)."""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import zlib

import pytest
from conftest import DATA
from docx import Document
from PIL import Image, ImageCms

from saraban.templates.forms import (
    InvalidFormData,
    Photo,
    PhotoError,
    _photos,
    clean_photo,
    decode_upload,
    fill_docx,
    fill_pdf,
    form_schema,
    validate_form_data,
)

SECRET_PLACE = "Nong Khai, 17.8783 N 102.7420 E"


def sample() -> dict:
    return json.loads((DATA / "forms" / "centre_report.json").read_text("utf-8"))


def jpeg(width=640, height=480, colour=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", **save)
    return out.getvalue()


def png(width=64, height=48, mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 120, 200, 128) if mode == "RGBA" else 90).save(out, "PNG")
    return out.getvalue()


def revealing_jpeg(orientation: int = 1) -> bytes:
    """A phone photo that tells too much: where, with what, when, a comment, a profile."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0132] = "2025:12:15 09:30:00"  # DateTime
    exif[0x010E] = SECRET_PLACE  # ImageDescription
    exif[0x0112] = orientation
    exif.get_ifd(0x8825).update({1: "N", 2: (17.0, 52.0, 42.0), 3: "E", 4: (102.0, 44.0, 31.0)})
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return (
        jpeg(80, 40, exif=exif.tobytes(), comment=SECRET_PLACE.encode(), icc_profile=profile)
        + b"PK\x03\x04 a zip appended after the picture"
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# ---- one photo --------------------------------------------------------------------------


def test_nothing_but_the_pixels_leaves():
    photo = clean_photo(revealing_jpeg())
    assert (photo.kind, photo.width, photo.height) == ("jpeg", 80, 40)
    for secret in (
        b"PhoneMaker",
        b"Model X",
        b"2025:12:15",
        SECRET_PLACE.encode(),
        b"Exif",
        b"ICC_PROFILE",
        b"PK\x03\x04",
    ):
        assert secret not in photo.data
    image = Image.open(io.BytesIO(photo.data))
    assert not image.getexif() and "comment" not in image.info and "icc_profile" not in image.info
    assert image.getpixel((40, 20))[0] > 150  # still the red picture


def test_a_photo_is_turned_upright_by_its_orientation():
    photo = clean_photo(revealing_jpeg(orientation=6))  # taken with the phone on its side
    assert (photo.width, photo.height) == (40, 80)


def test_a_large_photo_is_shrunk_to_print_size():
    photo = clean_photo(jpeg(4000, 3000))
    assert (photo.width, photo.height) == (_photos.LONG_SIDE, _photos.LONG_SIDE * 3 // 4)


def test_a_png_stays_png_with_its_transparency():
    photo = clean_photo(png())
    assert photo.kind == "png" and photo.mimetype == "image/png"
    assert Image.open(io.BytesIO(photo.data)).mode == "RGBA"
    assert clean_photo(png(mode="L")).kind == "png"


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"GIF89a....", "not_image"),
        (gif(), "not_image"),
        (b"%PDF-1.7 a document, not a photo", "not_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_image"),
        (b"\xff\xd8\xff" + b"\0" * 200, "broken"),  # a JPEG signature, then nothing
        (jpeg()[:300], "broken"),  # cut short
        (png_declaring(30_000, 30_000), "too_many_pixels"),  # beyond Pillow's own limit
        (png_declaring(6_000, 5_000), "too_many_pixels"),  # beyond ours for a PNG
        (b"\xff\xd8\xff" + b"\0" * _photos.MAX_BYTES, "too_large"),
    ],
)
def test_what_is_not_a_photo_is_refused_with_its_reason(data, code):
    with pytest.raises(PhotoError) as caught:
        clean_photo(data)
    assert caught.value.code == code
    assert caught.value.th and caught.value.en


def test_the_content_decides_not_the_name():
    """A PNG called photo.jpg is a PNG; nothing reads the name at all."""
    assert clean_photo(png()).kind == "png"


def test_base64_and_data_urls_are_read():
    raw = jpeg()
    text = base64.b64encode(raw).decode()
    assert decode_upload(text) == raw
    assert decode_upload(f"data:image/jpeg;base64,{text}") == raw
    assert decode_upload(raw) == raw
    for bad in ("not base64 at all!", 12, None):
        with pytest.raises(PhotoError):
            decode_upload(bad)
    with pytest.raises(PhotoError) as caught:
        decode_upload("A" * (_photos.MAX_BYTES * 2))
    assert caught.value.code == "too_large"


# ---- photos in a form -------------------------------------------------------------------


def test_the_schema_describes_the_photos():
    [item] = [i for i in form_schema("centre_report")["items"] if i["kind"] == "photos"]
    assert item["name"] == "photos" and item["max_count"] == 4
    assert item["types"] == ["image/jpeg", "image/png"]


def test_bad_photos_are_problems_with_their_place():
    data = sample()
    data["photos"] = [base64.b64encode(jpeg()).decode(), "bm90IGEgcGhvdG8=", 7]
    found = {(p.field, p.code, p.th) for p in validate_form_data("centre_report", data)}
    assert found == {
        ("photos.1", "not_image", "ภาพที่ ๒: ไม่ใช่ภาพ JPEG หรือ PNG (ตรวจจากเนื้อไฟล์ ไม่ใช่จากชื่อไฟล์)"),
        ("photos.2", "type", "ภาพที่ ๓: ภาพต้องส่งเป็นข้อความ base64"),
    }
    data["photos"] = [base64.b64encode(jpeg()).decode()] * 5
    [problem] = validate_form_data("centre_report", data)
    assert (problem.field, problem.code) == ("photos", "too_many_photos")
    data["photos"] = "one photo"
    assert validate_form_data("centre_report", data)[0].code == "type"
    with pytest.raises(InvalidFormData):
        fill_docx("centre_report", data)


def _photo_parts(docx: bytes) -> list[bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return [archive.read(n) for n in archive.namelist() if n.startswith("word/media/")]


def test_photos_are_placed_in_the_docx():
    data = sample()
    data["photos"] = [
        base64.b64encode(revealing_jpeg()).decode(),
        base64.b64encode(png(60, 90)).decode(),
        Photo(jpeg(300, 200), "jpeg", 300, 200),
    ]
    docx = fill_docx("centre_report", data)
    document = Document(io.BytesIO(docx))
    shapes = list(document.inline_shapes)
    assert len(shapes) == 3
    # fitted into 7.4 x 5.55 cm, proportions kept
    sizes = [(round(s.width.cm, 2), round(s.height.cm, 2)) for s in shapes]
    assert sizes == [(7.4, 3.7), (3.7, 5.55), (7.4, 4.93)]
    parts = _photo_parts(docx)
    assert len(parts) == 3
    assert not any(SECRET_PLACE.encode() in part or b"PhoneMaker" in part for part in parts)
    assert SECRET_PLACE.encode() not in docx


def test_without_photos_the_box_stays_empty():
    assert _photo_parts(fill_docx("centre_report", sample())) == []


@pytest.mark.pdf
def test_photos_are_placed_in_the_pdf(tmp_path):
    data = sample()
    data["photos"] = [
        base64.b64encode(revealing_jpeg()).decode(),
        base64.b64encode(png(60, 90)).decode(),
    ]
    pdf = fill_pdf("centre_report", data)
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    listed = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True)
    rows = [row.split() for row in listed.stdout.decode().splitlines()[2:]]
    assert sorted((int(r[3]), int(r[4])) for r in rows if r[2] == "image") == [(60, 90), (80, 40)]
    assert SECRET_PLACE.encode() not in pdf and b"PhoneMaker" not in pdf
