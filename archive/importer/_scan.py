"""Page images made ready for OCR: a scan or a phone photo in, a flat, straight, clean
300 dpi greyscale page out.

- **Photo or scan.** A photo shows the sheet on a desk at a slant: :func:`find_page` looks
  for the largest bright four-cornered shape; when it is clearly smaller than the picture,
  :func:`unwarp` maps it onto an upright A4 page (perspective correction), and
  :func:`clear_edges` whitens the sliver of desk left along its edges. A scan fills the
  image and is only rescaled.
- **Light.** :func:`flatten` divides the image by its own background (the page with the
  text closed over), which removes a shadow across a photo and the grey of scanned paper.
- **Skew.** :func:`deskew` turns the page so that its text lines lie flat: the angle whose
  row profile of ink is sharpest (a flatbed scan is often 1-2 degrees off).
- **Noise.** A median filter takes out sensor noise and dust specks smaller than a dot.

Everything here works on numpy arrays (OpenCV); nothing reads or writes files.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "A4_MM",
    "MAX_PAGE_PIXELS",
    "OCR_DPI",
    "clear_edges",
    "deskew",
    "find_page",
    "flatten",
    "prepare_page",
    "skew_angle",
    "unwarp",
]

OCR_DPI = 300  # Tesseract reads Thai best with an x-height of 20-30 pixels
MAX_PAGE_PIXELS = 36_000_000  # a page read: A4 at 600 dpi, A3 at 400
A4_MM = (210.0, 297.0)
MAX_SKEW_DEGREES = 5.0
EDGE_MM = 2.0  # of an unwarped sheet's edge, made white (see clear_edges)
_MM_PER_INCH = 25.4


def _a4_pixels(dpi: int = OCR_DPI) -> tuple[int, int]:
    return (round(A4_MM[0] / _MM_PER_INCH * dpi), round(A4_MM[1] / _MM_PER_INCH * dpi))


def _order_corners(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    points = points.reshape(4, 2).astype(np.float32)
    sums = points.sum(axis=1)
    diffs = np.diff(points, axis=1).ravel()
    return np.array(
        [
            points[np.argmin(sums)],
            points[np.argmin(diffs)],
            points[np.argmax(sums)],
            points[np.argmax(diffs)],
        ],
        dtype=np.float32,
    )


def find_page(gray: np.ndarray) -> np.ndarray | None:
    """The four corners of the sheet of paper in a photo, or None when the page fills the
    image (a scan) or no clear sheet is seen.

    The sheet is the largest bright region; its outline is simplified to four corners.
    Works on a downscaled copy (about 800 pixels high): corners need no more precision
    than a pixel of the final page.
    """
    height, width = gray.shape[:2]
    scale = 800.0 / max(height, width)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    # The sheet's edge, not its brightness: a shadow across the sheet darkens part of it
    # but blurs into it, while the edge against the desk stays sharp.
    edges = cv2.Canny(small, 40, 120)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    sheet = max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c)))
    area = cv2.contourArea(cv2.convexHull(sheet))
    image_area = small.shape[0] * small.shape[1]
    if not 0.15 * image_area <= area <= 0.92 * image_area:
        return None  # a scan (the page is the image) or nothing like a sheet
    outline = cv2.convexHull(sheet)
    perimeter = cv2.arcLength(outline, True)
    for tolerance in (0.01, 0.02, 0.03, 0.05):
        corners = cv2.approxPolyDP(outline, tolerance * perimeter, True)
        if len(corners) == 4:
            break
    else:
        rect = cv2.minAreaRect(outline)
        corners = cv2.boxPoints(rect)
    if cv2.contourArea(np.asarray(corners, dtype=np.float32).reshape(-1, 1, 2)) < 0.8 * area:
        return None
    # A sheet is lighter than what lies around it; the outline of a scan's text block is not.
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, np.int32(corners).reshape(-1, 2), 255)
    if cv2.mean(small, mask=255 - inside)[0] > cv2.mean(small, mask=inside)[0] - 25:
        return None
    return _order_corners(np.asarray(corners, dtype=np.float32) / scale)


def unwarp(gray: np.ndarray, corners: np.ndarray, dpi: int = OCR_DPI) -> np.ndarray:
    """The sheet inside ``corners`` as an upright page, A4 at ``dpi`` (or A4 landscape when
    the sheet is wider than high)."""
    top = np.linalg.norm(corners[1] - corners[0])
    side = np.linalg.norm(corners[3] - corners[0])
    width, height = _a4_pixels(dpi)
    if top > side:
        width, height = height, width
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32
    )
    warp = cv2.getPerspectiveTransform(np.asarray(corners, dtype=np.float32), target)
    return cv2.warpPerspective(
        gray, warp, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


def clear_edges(page: np.ndarray, dpi: int = OCR_DPI) -> np.ndarray:
    """The unwarped sheet with its outermost :data:`EDGE_MM` made white: there the corners
    found leave a sliver of the desk (a dark line along the edge), which Tesseract read as
    digits and letters at the end of every row beside it. Nothing is printed so near the
    edge of a letter (printers leave 4 mm or more; the official margins are 2-3 cm)."""
    edge = round(EDGE_MM / _MM_PER_INCH * dpi)
    page = page.copy()
    page[:edge], page[-edge:], page[:, :edge], page[:, -edge:] = 255, 255, 255, 255
    return page


def flatten(gray: np.ndarray) -> np.ndarray:
    """Even light: the image divided by its background (white paper becomes 255 whatever
    shadow or tint lay on it; ink keeps its contrast)."""
    height, width = gray.shape
    # The background is what stays after closing over strokes; a kernel a little wider
    # than a stroke of 16 pt text at 300 dpi, computed on a half-size copy for speed.
    half = cv2.resize(gray, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    background = cv2.morphologyEx(half, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    background = cv2.medianBlur(background, 21)
    background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    flat = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0) * 255.0
    return np.clip(flat, 0, 255).astype(np.uint8)


def skew_angle(gray: np.ndarray) -> float:
    """Degrees to turn the page (counter-clockwise positive, as OpenCV turns) so that its
    text lines are level: the angle at which the rows of ink are most sharply separated."""
    height, width = gray.shape
    scale = 1000.0 / max(height, width)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = ink.astype(np.float32)
    if ink.sum() < 50:
        return 0.0
    center = (small.shape[1] / 2, small.shape[0] / 2)

    def sharpness(angle: float) -> float:
        turn = cv2.getRotationMatrix2D(center, angle, 1.0)
        rows = cv2.warpAffine(ink, turn, (small.shape[1], small.shape[0])).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    coarse = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    return float(max(fine, key=sharpness))


def deskew(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The page turned level, and the angle it was turned by (degrees)."""
    angle = skew_angle(gray)
    if abs(angle) < 0.05:
        return gray, 0.0
    height, width = gray.shape
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    level = cv2.warpAffine(gray, turn, (width, height), flags=cv2.INTER_CUBIC, borderValue=(255,))
    return level, angle


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def prepare_page(image: np.ndarray, dpi: float | None = None) -> np.ndarray:
    """A page image (greyscale or RGB) as a clean, level 300 dpi greyscale page.

    ``dpi``: the image's resolution if known (a scan says it); a photo has none, and
    is measured by its sheet.
    """
    gray = _gray(image)
    corners = find_page(gray)
    if corners is not None:
        gray = clear_edges(unwarp(gray, corners))
    else:
        height, width = gray.shape
        if dpi is None or dpi < 50:
            # Unknown resolution: assume the image is as wide as the page (A4 portrait or
            # landscape) and scale it to 300 dpi.
            portrait_width, landscape_width = _a4_pixels()
            dpi = OCR_DPI * width / (portrait_width if height >= width else landscape_width)
        # A thin strip taken as a page's width grew without end (100 x 3000 pixels, 1 KB of
        # PNG, became 185 megapixels): the page is never made larger than a page can be.
        factor = min(OCR_DPI / dpi, (MAX_PAGE_PIXELS / (height * width)) ** 0.5)
        if abs(factor - 1.0) > 0.05:
            gray = cv2.resize(
                gray,
                None,
                fx=factor,
                fy=factor,
                interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA,
            )
    gray = cv2.medianBlur(gray, 3)
    gray = flatten(gray)
    gray, _ = deskew(gray)
    return gray
