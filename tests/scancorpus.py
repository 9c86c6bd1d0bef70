"""Scans and phone photos of the seed letters, made the same way every time.

Each seed letter document is rendered by saraban (``templates.render_pdf``), rasterised by
poppler's ``pdftoppm`` and then spoilt the way paper is:

- a **scan**: 150 dpi greyscale, turned 1.5 degrees, grey paper, sensor noise and dust
  specks; saved as one PNG a page and as an image-only PDF (no text layer: what a scanner
  sends);
- a **phone photo**: the page at 200 dpi lying on a desk, seen at a slant (a perspective
  warp), a shadow falling across it, a little out of focus, saved as a JPEG.

Everything random comes from a generator seeded by the seed's name and the page number,
so the corpus is identical on every machine. ``tests/test_ocr.py`` takes a few pages of it;
``benchmarks/ocr.py`` takes all of it.

>>> pages = scan_pages("000_e6238ec4d0848a5c")     # list of greyscale numpy arrays
>>> write_scan_pdf(pages, tmp / "scan.pdf")
>>> photo = photo_page(render_pages("000_e6238ec4d0848a5c", dpi=200)[0], "000...", 0)
"""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import zlib
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SEEDS = Path(__file__).parent / "data" / "seeds"
SCAN_DPI = 150
SCAN_ANGLE = 1.5  # degrees, counter-clockwise
PHOTO_DPI = 200

__all__ = [
    "PHOTO_DPI",
    "SCAN_ANGLE",
    "SCAN_DPI",
    "SEEDS",
    "photo_page",
    "render_pages",
    "scan_page",
    "scan_pages",
    "seed_letter",
    "seed_stems",
    "source_text",
    "write_png",
    "write_scan_pdf",
]


def seed_stems() -> list[str]:
    return sorted(p.name.split(".")[0] for p in SEEDS.glob("*.letter.json"))


def seed_letter(stem: str) -> dict:
    return json.loads((SEEDS / f"{stem}.letter.json").read_text(encoding="utf-8"))


def source_text(stem: str) -> str:
    """What the rendered letter says, in reading order (the layout's paragraphs, the secrecy
    mark and the footer slogan): the reference for the character error rate."""
    from saraban.templates import layout_letter

    layout = layout_letter(seed_letter(stem))
    parts = [layout.secrecy or "", layout.text(), layout.first_page_footer or ""]
    return "\n".join(p for p in parts if p)


@cache
def _rendered_pdf(stem: str) -> bytes:
    from saraban.templates import render_pdf

    return render_pdf(seed_letter(stem))


def render_pages(stem: str, *, dpi: int = SCAN_DPI) -> list[np.ndarray]:
    """The seed letter as saraban renders it, one greyscale array a page at ``dpi``."""
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "letter.pdf"
        pdf.write_bytes(_rendered_pdf(stem))
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(Path(tmp) / "page")],
            check=True,
            capture_output=True,
        )
        return [np.array(Image.open(p).convert("L")) for p in sorted(Path(tmp).glob("page-*.png"))]


def _rng(stem: str, page: int, kind: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{kind}:{stem}:{page}".encode()))


def scan_page(page: np.ndarray, stem: str, number: int) -> np.ndarray:
    """A flatbed scan of one clean page: turned, grey paper, noise and specks."""
    rng = _rng(stem, number, "scan")
    height, width = page.shape
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), SCAN_ANGLE, 1.0)
    turned = cv2.warpAffine(
        page, turn, (width, height), flags=cv2.INTER_LINEAR, borderValue=(255,)
    ).astype(np.float32)
    paper = rng.uniform(228, 242)
    ink = rng.uniform(20, 45)
    image = ink + (turned / 255.0) * (paper - ink)
    image += rng.normal(0.0, 9.0, image.shape)
    specks = rng.random(image.shape) < 0.0008
    image[specks] = rng.uniform(0, 90, int(specks.sum()))
    return np.clip(image, 0, 255).astype(np.uint8)


def scan_pages(stem: str) -> list[np.ndarray]:
    return [scan_page(page, stem, n) for n, page in enumerate(render_pages(stem))]


def write_png(image: np.ndarray, path: Path, *, dpi: int = SCAN_DPI) -> Path:
    Image.fromarray(image).save(path, format="PNG", dpi=(dpi, dpi))
    return path


def write_scan_pdf(pages: list[np.ndarray], path: Path, *, dpi: int = SCAN_DPI) -> Path:
    """An image-only PDF, one page image a page, as a scanner writes it (JPEG inside)."""
    images = [Image.fromarray(p) for p in pages]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="PDF", save_all=True, append_images=images[1:], resolution=float(dpi)
    )
    path.write_bytes(buffer.getvalue())
    return path


def photo_page(page: np.ndarray, stem: str, number: int) -> np.ndarray:
    """A phone photo of one clean page (rendered at :data:`PHOTO_DPI`): on a desk, at a
    slant, a shadow across it, slightly blurred. An RGB array."""
    rng = _rng(stem, number, "photo")
    height, width = page.shape
    margin = int(0.12 * width)
    out_w, out_h = width + 2 * margin, height + 2 * margin
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    spread = np.float32([0.05 * width, 0.04 * height])
    target = np.float32(
        [
            [margin, margin],
            [margin + width, margin],
            [margin + width, margin + height],
            [margin, margin + height],
        ]
    ) + (rng.uniform(-1, 1, (4, 2)) * spread).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, target)
    sheet = cv2.warpPerspective(
        page, warp, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=(255,)
    ).astype(np.float32)
    inside = cv2.warpPerspective(
        np.full_like(page, 255), warp, (out_w, out_h), flags=cv2.INTER_NEAREST
    ).astype(np.float32)
    inside = cv2.GaussianBlur(inside, (5, 5), 0) / 255.0
    # A wooden-brown desk with a grain, warm paper, dark-grey ink.
    desk = np.empty((out_h, out_w, 3), np.float32)
    grain = cv2.resize(rng.normal(0, 1, (out_h // 40 + 1, 4)), (out_w, out_h))
    for channel, base in enumerate((60.0, 90.0, 125.0)):  # B, G, R
        desk[..., channel] = base + 12 * grain
    paper = np.float32([222.0, 236.0, 244.0])
    ink = np.float32([45.0, 40.0, 40.0])
    printed = ink + (sheet[..., None] / 255.0) * (paper - ink)
    image = printed * inside[..., None] + desk * (1 - inside[..., None])
    # A shadow from one side (a hand or the phone), soft-edged, and dimmer corners.
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = (np.cos(angle) * (xs - out_w / 2) + np.sin(angle) * (ys - out_h / 2)) / out_w
    edge = rng.uniform(-0.15, 0.15)
    shadow = 1.0 - 0.45 / (1.0 + np.exp(-(along - edge) * 12))
    radius = np.hypot((xs - out_w / 2) / out_w, (ys - out_h / 2) / out_h)
    image *= (shadow * (1.0 - 0.25 * radius**2))[..., None]
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.8, 1.1))
    image += rng.normal(0.0, 4.0, image.shape)
    bgr = np.clip(image, 0, 255).astype(np.uint8)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_jpeg(image: np.ndarray, path: Path, *, quality: int = 88) -> Path:
    Image.fromarray(image).save(path, format="JPEG", quality=quality)
    return path


# EXIF orientation -> quarter turns anticlockwise at which the sensor saw the upright page
_SENSOR_TURNS = {1: 0, 3: 2, 6: 1, 8: 3}


def write_heic(
    image: np.ndarray, path: Path, *, quality: int = 80, orientation: int | None = None
) -> Path:
    """The photo as a phone saves it: HEIC (HEVC inside), written by pillow-heif (saraban
    reads it with pi-heif). ``orientation`` (EXIF's numbers; 6: the phone was held
    sideways): the file keeps the upright ``image`` turned as the sensor saw it, and says
    how to turn it upright (the ``irot`` box, and the EXIF tag), as a phone does.

    (pillow-heif's ``from_pillow`` is not used for that: it turns an image by its EXIF
    orientation before storing it with the same orientation again, so a reader turns it
    twice.)"""
    import pillow_heif

    sensor = np.ascontiguousarray(np.rot90(image, _SENSOR_TURNS[orientation or 1]))
    if sensor.ndim == 2:
        sensor = np.repeat(sensor[..., None], 3, axis=2)
    heif = pillow_heif.from_bytes("RGB", (sensor.shape[1], sensor.shape[0]), sensor.tobytes())
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        heif[0].info["exif"] = exif.tobytes()
    heif.save(path, quality=quality)
    return path


__all__ += ["write_heic", "write_jpeg"]
