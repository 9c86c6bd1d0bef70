"""Thai digits read again, by their shapes.

Debian's Thai model for Tesseract reads Thai letters well but Thai digits badly in the
Sarabun design of official letters: ``๖`` comes out as ``๐``, ``๒`` or ``๒๐``, ``๙`` as
``๕``. Numbers are the very fields a register needs (the sender's number, dates), so every
run of digits Tesseract reports is read again here:

1. the ink of the run is split into connected shapes (one shape a digit; ``.``, ``/`` and
   ``-`` told by size);
2. each shape is compared with the ten digits drawn by the letter fonts (Sarabun, the
   free design of the official TH Sarabun; regular, medium and bold), normalised to one
   size, and the nearest wins;
3. if a shape is like no digit (a letter at the edge of the run, a smudge, two digits
   joined by noise and cut wrongly) the run is left as Tesseract read it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from saraban.archive.importer._ocr import Glyphs, Row

__all__ = ["classify_digit", "reread_digits"]

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_PUNCTUATION = "./-,"
_LOOK_ALIKES = "oO©@0123456789"  # what a Thai digit is sometimes taken for
# marks above and below a letter (MAI HAN-AKAT, the vowels ิ-ฺ, MAITAIKHU to YAMAKKAN)
_COMBINING = (
    "\u0e31" + "".join(map(chr, range(0x0E34, 0x0E3B))) + "".join(map(chr, range(0x0E47, 0x0E4F)))
)
_SIZE = 28
# Shape distance above which a shape is no digit: digits of the scans and photos measure
# 0.1-0.7 from their template, Thai letters 1.3 and more.
MAX_DISTANCE = 0.9


# A shape cut by the top or bottom of a row's box and lower than this part of the row is a
# neighbouring row's ink (a digit fills at least 0.4 of its row).
SLIVER_OF_ROW = 0.25


def _normalise(shape: np.ndarray) -> np.ndarray:
    """A binary shape, cropped to its ink, centred in a square and scaled to _SIZE."""
    ys, xs = np.nonzero(shape)
    if ys.size == 0:
        return np.zeros((_SIZE, _SIZE), np.float32)
    crop = shape[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32)
    height, width = crop.shape
    side = max(height, width)
    square = np.zeros((side, side), np.float32)
    square[(side - height) // 2 : (side - height) // 2 + height,
           (side - width) // 2 : (side - width) // 2 + width] = crop  # fmt: skip
    small = cv2.resize(square, (_SIZE, _SIZE), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (3, 3), 0)


@cache
def _templates(characters: str = THAI_DIGITS) -> tuple[tuple[str, np.ndarray, float], ...]:
    """(character, normalised shape, height/width) for each character in each weight."""
    from PIL import Image, ImageDraw, ImageFont

    from saraban.fonts import SARABUN_DIR

    out = []
    for weight in ("Regular", "Medium", "Bold"):
        font = ImageFont.truetype(str(SARABUN_DIR / f"Sarabun-{weight}.ttf"), 96)
        for digit in characters:
            canvas = Image.new("L", (160, 200), 0)
            ImageDraw.Draw(canvas).text((20, 20), digit, fill=255, font=font)
            shape = np.array(canvas) > 127
            ys, xs = np.nonzero(shape)
            ratio = (ys.max() - ys.min() + 1) / (xs.max() - xs.min() + 1)
            out.append((digit, _normalise(shape), float(ratio)))
    return tuple(out)


def classify_digit(shape: np.ndarray, characters: str = THAI_DIGITS) -> tuple[str, float]:
    """The Thai digit (or other of ``characters``) a binary shape is most like, and how far
    it is from it (0 = same)."""
    ys, xs = np.nonzero(shape)
    if ys.size == 0:
        return "", 1.0
    ratio = (ys.max() - ys.min() + 1) / (xs.max() - xs.min() + 1)
    norm = _normalise(shape)
    best, distance = "", 1e9
    for digit, template, template_ratio in _templates(characters):
        d = float(np.abs(norm - template).mean()) / 0.25  # 0.25: mean ink of a digit
        d += 0.5 * abs(np.log(ratio / template_ratio))
        if d < distance:
            best, distance = digit, d
    return best, distance


def _is_digit_like(text: str) -> bool:
    return all(c in THAI_DIGITS or c in _PUNCTUATION or c in _LOOK_ALIKES for c in text)


def _runs(row: Row) -> list[tuple[int, int]]:
    """(first, last + 1) word indices of runs that hold a Thai digit and nothing but
    digit-like characters."""
    runs = []
    i = 0
    words = row.words
    while i < len(words):
        if _is_digit_like(words[i].text):
            j = i
            while j < len(words) and _is_digit_like(words[j].text):
                j += 1
            # a dot or a slash before the first digit ends the word before it ("พ.ศ.")
            first = i
            while first < j and all(c in _PUNCTUATION for c in words[first].text):
                first += 1
            if any(c in THAI_DIGITS for w in words[first:j] for c in w.text):
                runs.append((first, j))
            i = j
        else:
            i += 1
    return runs


def _shapes(ink: np.ndarray, left: int, top: int, right: int, bottom: int) -> list[list[int]]:
    """Connected shapes whose centre lies in the box: [left, top, right, bottom] each,
    page coordinates; pieces that overlap across (a broken stroke) are merged."""
    crop = ink[top:bottom, left:right].astype(np.uint8)
    if crop.size == 0:
        return []
    count, _, stats, centroids = cv2.connectedComponentsWithStats(crop, connectivity=8)
    boxes = []
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        if area < 4:
            continue
        if (y == 0 or y + h == crop.shape[0]) and h < SLIVER_OF_ROW * crop.shape[0]:
            continue  # the tip of a mark of the row above or below, cut by the row's box
        boxes.append([left + x, top + y, left + x + w, top + y + h])
    boxes.sort()
    merged: list[list[int]] = []
    for box in boxes:
        if merged:
            last = merged[-1]
            overlap = min(last[2], box[2]) - max(last[0], box[0])
            apart = max(last[1], box[1]) - min(last[3], box[3])  # a mark above: not merged
            if overlap > 0.25 * min(last[2] - last[0], box[2] - box[0]) and apart <= 3:
                last[:] = [min(last[0], box[0]), min(last[1], box[1]),
                           max(last[2], box[2]), max(last[3], box[3])]  # fmt: skip
                continue
        merged.append(box)
    return merged


def _split_touching(ink: np.ndarray, shapes: list[list[int]]) -> list[list[int]]:
    """Digits printed so close that noise joined them: a shape as wide as two or more
    digits is cut at its thinnest columns."""
    # Thai digits are about as wide as they are high (๑ 1.25:1 at most).
    heights = sorted(b[3] - b[1] for b in shapes)
    if not heights:
        return shapes
    width = heights[len(heights) * 2 // 3]
    out = []
    for box in shapes:
        left, top, right, bottom = box
        parts = round((right - left) / max(width, 1))
        if parts < 2 or (right - left) < 1.7 * width:
            out.append(box)
            continue
        profile = ink[top:bottom, left:right].sum(axis=0)
        cuts = [left]
        for k in range(1, parts):
            guess = k * (right - left) // parts
            lo, hi = max(guess - width // 4, 1), min(guess + width // 4, right - left - 1)
            cuts.append(left + lo + int(np.argmin(profile[lo:hi])) if hi > lo else left + guess)
        cuts.append(right)
        out.extend([a, top, b, bottom] for a, b in zip(cuts, cuts[1:], strict=False))
    return out


def _read(ink: np.ndarray, shapes: list[list[int]]) -> list[str | None]:
    """Each shape read: a digit, ``.``, ``-``, ``/``, ``""`` for a mark of the row above or
    below (dropped), None for a shape like no digit."""
    heights = sorted(b[3] - b[1] for b in shapes)
    digit_height = heights[len(heights) * 2 // 3] if heights else 0
    bottoms = sorted(b[3] for b in shapes if b[3] - b[1] >= 0.6 * digit_height)
    baseline = bottoms[len(bottoms) // 2] if bottoms else 0
    middle = baseline - digit_height / 2
    out: list[str | None] = []
    for left, top, right, bottom in shapes:
        height, width = bottom - top, right - left
        centre = (top + bottom) / 2
        if not baseline - 1.1 * digit_height <= centre <= baseline + 0.1 * digit_height:
            out.append("")  # a mark of the row above or below
        elif height < 0.45 * digit_height and width < 0.6 * digit_height:
            out.append("." if centre > baseline - 0.3 * digit_height else "")
        elif height < 0.35 * digit_height and abs(centre - middle) < 0.25 * digit_height:
            out.append("-")
        elif height > 1.2 * digit_height and width < 0.75 * digit_height:
            out.append("/")
        else:
            digit, distance = classify_digit(ink[top:bottom, left:right])
            if distance <= MAX_DISTANCE:
                out.append(digit)
            elif height > 1.2 * digit_height and width < 0.75 * height:
                out.append("/")  # a slash leaning further than a digit is wide
            elif out and out[-1] == "/" and _is_circular_mark(ink[top:bottom, left:right]):
                out.append(CIRCULAR_MARK)
            else:
                out.append(None)
    return out


# The letter of a circular's number (หนังสือเวียน), right after the slash: ``นค ๐๐๑๙.๓/ว ๒๕๖๔``.
CIRCULAR_MARK = "ว"


def _is_circular_mark(shape: np.ndarray) -> bool:
    return classify_digit(shape, CIRCULAR_MARK)[1] <= MAX_DISTANCE


def _belongs(shape: list[int], left: int, right: int, words: list[Glyphs]) -> bool:
    """Whether a shape is part of the run of digits from ``left`` to ``right``."""
    if min(shape[2], right) - max(shape[0], left) >= 0.3 * (shape[2] - shape[0]):
        return True
    # a digit whose box Tesseract drew as a sliver of it
    return any(
        min(shape[2], w.box[2]) - max(shape[0], w.box[0]) >= 0.6 * (w.box[2] - w.box[0])
        for w in words
    )


SURE_DISTANCE = 0.5  # a letter is taken for a digit only this close (letters: 0.79 and more)
_OPEN_BEFORE = "(/"  # a lone digit may follow these without a space ...
_CLOSE_AFTER = ".)/"  # ... and be followed by them ("๗.", "(๗)", "๗/๒๕๖๗")


def _digit_shape(
    word: Glyphs, row: Row, ink: np.ndarray, nearest: str | None = None
) -> tuple[str, list[int]] | None:
    """(digit, its shape) if ``word`` is one letter (with the marks Tesseract saw on it:
    ``สั`` for ``๓``) whose ink is drawn like a digit within :data:`SURE_DISTANCE`.

    ``nearest`` ``"left"`` or ``"right"``: the shape at that end of the word's box is the
    one (next to a run of digits: Tesseract's box of a misread digit may stretch over the
    ``/`` and the letter after it); otherwise the shape most like a digit."""
    base, marks = word.text[:1], word.text[1:]
    if not base or not ("\u0e01" <= base <= "\u0e2e" or base.isalpha()) or len(marks) > 2:
        return None
    if any(m not in _COMBINING for m in marks):
        return None
    left, _, right, _ = word.box
    shapes = [
        s
        for s in _shapes(ink, left - 40, row.top, right + 40, row.bottom)
        if min(s[2], right) - max(s[0], left) >= 0.5 * min(s[2] - s[0], right - left)
    ]
    if not shapes:
        return None
    tallest = max(s[3] - s[1] for s in shapes)
    body = [s for s in shapes if s[3] - s[1] >= 0.5 * tallest]  # no mark above or below
    if nearest == "left":
        body = [min(body, key=lambda s: s[0])]
    elif nearest == "right":
        body = [max(body, key=lambda s: s[2])]
    best: tuple[str, list[int]] | None = None
    closest = SURE_DISTANCE
    for shape in body:
        digit, distance = classify_digit(ink[shape[1] : shape[3], shape[0] : shape[2]])
        if distance <= closest:
            best, closest = (digit, shape), distance
    return best


def _blank_beside(ink: np.ndarray, shape: list[int], side: int) -> bool:
    """Whether the page is blank for a space's width (0.3 of the shape's height) on one
    side of ``shape`` (``side`` -1: left, 1: right), at the shape's own height."""
    left, top, right, bottom = shape
    width = max(3, int(0.3 * (bottom - top)))
    columns = (max(left - width, 0), left) if side < 0 else (right, right + width)
    return not ink[top:bottom, columns[0] : columns[1]].any()


def _with_box(word: Glyphs, text: str, shape: list[int]) -> Glyphs:
    from saraban.archive.importer._ocr import Glyphs

    return Glyphs(text, (shape[0], shape[1], shape[2], shape[3]), word.confidence)


def _lone_digits(row: Row, ink: np.ndarray) -> None:
    """A digit standing alone that Tesseract took for a letter (``ฆ`` for ``๗``, the day
    of a date; ``ฆ.`` for the list item ``๗.``): one letter drawn like a digit within
    :data:`SURE_DISTANCE`, a space on both sides (or a bracket, a dot, a slash). No Thai
    letter is drawn so (``ณ``, the nearest, is 0.79 from ``๓``)."""
    i = 0
    while i < len(row.words):
        word = row.words[i]
        end = i + 1
        while end < len(row.words) and all(c in _COMBINING for c in row.words[end].text):
            end += 1  # marks Tesseract saw on it, given as words of their own
        found = _digit_shape(word, row, ink)
        if found is not None:
            digit, shape = found
            before = row.words[i - 1].text[-1:] if i else ""
            after = row.words[end].text[:1] if end < len(row.words) else ""
            spaced_before = bool(before) and before in _OPEN_BEFORE or _blank_beside(ink, shape, -1)
            spaced_after = bool(after) and after in _CLOSE_AFTER or _blank_beside(ink, shape, 1)
            if spaced_before and spaced_after:
                row.words[i:end] = [_with_box(word, digit, shape)]
                end = i + 1
        i = end


UNSURE_CONFIDENCE = 30  # Tesseract's word confidence under which its reading is a guess


def _continues(before: Glyphs, word: Glyphs) -> bool:
    """Whether ``word`` is an unreadable piece touching the end of a number (no space)."""
    height = word.box[3] - word.box[1]
    return word.confidence < UNSURE_CONFIDENCE and word.box[0] - before.box[2] < 0.1 * height


def reread_digits(row: Row, page: np.ndarray, ink: np.ndarray) -> None:
    """Replace each run of digits in ``row`` by its shapes read again (in place); one
    word a shape, so that the spacing is decided by the ink like everywhere else."""
    from saraban.archive.importer._ocr import Glyphs

    _lone_digits(row, ink)
    for first, last in reversed(_runs(row)):
        # a digit at either end that Tesseract took for a letter ("ด" for "๐", "สั" for
        # "๓"): the word's box becomes the digit's own, so that the run ends there
        while first > 0 and (found := _digit_shape(row.words[first - 1], row, ink, "right")):
            row.words[first - 1] = _with_box(row.words[first - 1], found[0], found[1])
            first -= 1
        while last < len(row.words) and (found := _digit_shape(row.words[last], row, ink, "left")):
            row.words[last] = _with_box(row.words[last], found[0], found[1])
            last += 1
        # marks Tesseract saw on a digit it took for a letter ("ส" + "ั" for "๓")
        while last < len(row.words) and all(c in _COMBINING for c in row.words[last].text):
            last += 1
        # a word Tesseract could hardly read, right after the run: the end of the number
        # (``๓/ว`` read ``เขา`` when a mark of the row above touched the slash); its
        # shapes are read with the run's, and the run stays as read if one is no digit
        if last < len(row.words) and _continues(row.words[last - 1], row.words[last]):
            last += 1
        words = row.words[first:last]
        left = min(w.box[0] for w in words)
        right = max(w.box[2] for w in words)

        # Tesseract's boxes are rough: take every shape that overlaps the run well.
        shapes = [
            s
            for s in _shapes(ink, left - 40, row.top, right + 40, row.bottom)
            if _belongs(s, left, right, words)
        ]
        shapes = _split_touching(ink, shapes)
        if not shapes:
            continue
        read = _read(ink, shapes)
        kept = [(text, s) for text, s in zip(read, shapes, strict=True) if text != ""]
        read, shapes = [t for t, _ in kept], [s for _, s in kept]
        # a shape like no digit: the run stays as Tesseract read it (nothing is dropped)
        if not read or None in read or not any(c in THAI_DIGITS for c in read if c):
            continue
        confidence = min(w.confidence for w in words)
        row.words[first:last] = [
            Glyphs(str(text), (s[0], s[1], s[2], s[3]), confidence)
            for text, s in zip(read, shapes, strict=True)
        ]
