"""Photographs pasted into a form (the centre report's section ๙), as a clerk uploads them
from a phone or a camera.

An upload is hostile until proven a picture: it must be JPEG or PNG **by its content** (the
first bytes and what Pillow reads, never the file name), at most :data:`MAX_BYTES` as
uploaded and :data:`MAX_PIXELS` before anything is decoded (a tiny file can declare a
gigantic picture), and it is **re-encoded** by Pillow: turned upright by its EXIF
orientation, shrunk to :data:`LONG_SIDE` pixels, and written anew with nothing but the
pixels, so the GPS position, the camera, the date, comments, ICC profiles, thumbnails and
anything appended after the picture never reach the form.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass

from saraban.thai import to_thai_digits

MAX_BYTES = 10 * 1024 * 1024  # one photo as uploaded
# Pixels declared in the header, refused before decoding. A JPEG is decoded at a reduced
# scale (Pillow's draft mode: 1/2, 1/4 or 1/8), so a large one costs little memory; a PNG
# is decoded whole (4 bytes a pixel). Both stay below Pillow's own bomb warning (89 MP).
MAX_PIXELS = {"JPEG": 80_000_000, "PNG": 25_000_000}
LONG_SIDE = 1600  # pixels kept: a photo printed 7.4 cm wide needs about 900 at 300 dpi
JPEG_QUALITY = 85

_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_DATA_URL = re.compile(r"data:image/(?:jpeg|png);base64,", re.IGNORECASE)


class PhotoError(ValueError):
    """Why an upload is not a photo the form takes: ``code``, and the reason in English and
    Thai."""

    def __init__(self, code: str, en: str, th: str) -> None:
        super().__init__(en)
        self.code, self.en, self.th = code, en, th


@dataclass(frozen=True)
class Photo:
    """A cleaned photo: re-encoded bytes (``kind`` ``jpeg`` or ``png``) and their size."""

    data: bytes
    kind: str
    width: int
    height: int

    @property
    def mimetype(self) -> str:
        return f"image/{self.kind}"

    @property
    def suffix(self) -> str:
        return "jpg" if self.kind == "jpeg" else "png"

    def as_base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def printed_size(self, width_cm: float, height_cm: float) -> tuple[float, float]:
        """The largest (width, height) in cm that fits the box and keeps the proportions."""
        scale = min(width_cm / self.width, height_cm / self.height)
        return round(self.width * scale, 2), round(self.height * scale, 2)


def _megabytes(size: int) -> str:
    return to_thai_digits(f"{size / (1024 * 1024):.1f}".removesuffix(".0"))


def decode_upload(value: object) -> bytes:
    """The bytes of a photo sent as bytes (a web upload) or as text (the API, JSON): base64,
    optionally as a ``data:image/jpeg;base64,`` URL."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str):
        raise PhotoError(
            "type",
            "a photo must be sent as base64 text",
            "ภาพต้องส่งเป็นข้อความ base64",
        )
    text = _DATA_URL.sub("", value.strip(), count=1)
    if len(text) > (MAX_BYTES * 4) // 3 + 4:  # refused before decoding
        raise _too_large(len(text) * 3 // 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PhotoError(
            "base64",
            "a photo sent as text must be base64",
            "ข้อมูลภาพไม่ใช่ base64 ที่ถูกต้อง",
        ) from None


def _too_large(size: int) -> PhotoError:
    limit = MAX_BYTES // (1024 * 1024)
    return PhotoError(
        "too_large",
        f"the photo is {size / (1024 * 1024):.1f} MB; at most {limit} MB",
        f"ภาพมีขนาด {_megabytes(size)} MB เกินกว่า {to_thai_digits(str(limit))} MB",
    )


def _not_a_photo() -> PhotoError:
    return PhotoError(
        "not_image",
        "not a JPEG or PNG picture (the content is checked, not the file name)",
        "ไม่ใช่ภาพ JPEG หรือ PNG (ตรวจจากเนื้อไฟล์ ไม่ใช่จากชื่อไฟล์)",
    )


def clean_photo(data: bytes) -> Photo:
    """The photo re-encoded with nothing but its pixels, upright and at most
    :data:`LONG_SIDE` pixels on its long side; :class:`PhotoError` says why not."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise PhotoError("empty", "the photo file is empty", "ไฟล์ภาพว่างเปล่า")
    if len(data) > MAX_BYTES:
        raise _too_large(len(data))
    kind = next((k for sig, k in _SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        raise _not_a_photo()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=[kind])
            if opened.width * opened.height > MAX_PIXELS[kind]:
                raise _too_many_pixels(kind)
            if kind == "JPEG":
                opened.draft("RGB", (LONG_SIDE, LONG_SIDE))
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own limit
        raise _too_many_pixels(kind) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(
            "broken",
            "the picture is damaged or cannot be read",
            "ไฟล์ภาพเสียหรืออ่านไม่ได้",
        ) from None
    return _encode(image, kind)


def _too_many_pixels(kind: str) -> PhotoError:
    megapixels = MAX_PIXELS[kind] // 1_000_000
    return PhotoError(
        "too_many_pixels",
        f"the picture is larger than {megapixels} megapixels",
        f"ภาพมีขนาดเกิน {to_thai_digits(str(megapixels))} ล้านพิกเซล",
    )


def _encode(image, kind: str) -> Photo:
    from PIL import Image

    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    if kind == "PNG" and has_alpha:
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    clean = Image.new(image.mode, image.size)  # a new picture: only the pixels cross over
    clean.paste(image)
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)
    return Photo(out.getvalue(), kind.lower(), clean.width, clean.height)
