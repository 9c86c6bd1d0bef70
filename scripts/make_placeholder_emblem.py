"""Draws templates/assets/garuda-placeholder.png: a clearly marked stand-in for the Garuda.

No freely licensed image of the Garuda emblem (ตราครุฑ) is packaged anywhere, so saraban
ships this placeholder and prints the real emblem only when SARABAN_GARUDA_IMAGE names one.
Run again to redraw: .venv/bin/python scripts/make_placeholder_emblem.py
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).parents[1] / "templates" / "assets" / "garuda-placeholder.png"

size = 300  # px for 3 cm at ~254 dpi
image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
draw = ImageDraw.Draw(image)
draw.ellipse((8, 8, size - 8, size - 8), outline=(150, 150, 150, 255), width=6)
for i in range(0, size, 24):  # dashed diagonal hatching marks it as not real
    draw.line((i, 0, 0, i), fill=(220, 220, 220, 255), width=2)
    draw.line((size, i, i, size), fill=(220, 220, 220, 255), width=2)
font = ImageFont.load_default(size=34)
for y, text in ((105, "GARUDA"), (150, "PLACE-"), (195, "HOLDER")):
    width = draw.textlength(text, font=font)
    draw.text(((size - width) / 2, y - 17), text, fill=(90, 90, 90, 255), font=font)
image.save(OUT, optimize=True)
print(OUT)
