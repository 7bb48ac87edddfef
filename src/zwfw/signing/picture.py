"""The picture of an official seal: a red ring, a star and the department's name (PNG)."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from zwfw.cases import fonts

RED = (220, 30, 30, 255)
SIZE = 400  # pixels; the seal is drawn 40 mm wide


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = fonts.font_status()["path"]
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    points = []
    for index in range(10):
        angle = -math.pi / 2 + index * math.pi / 5
        r = radius if index % 2 == 0 else radius * 0.382
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=RED)


def seal_picture(name: str, caption: str = "") -> bytes:
    """A round red seal with ``name`` along the upper arc and ``caption`` below the star."""
    image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    centre = SIZE / 2
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), outline=RED, width=14)
    _star(draw, centre, centre, SIZE * 0.16)
    text = name[:24] or "印章"
    glyph = max(22, min(48, int(900 / max(len(text), 1))))
    font = _font(glyph)
    span = min(math.radians(250), math.radians(14) * len(text) * glyph / 40)
    radius = SIZE / 2 - 30 - glyph / 2
    for index, char in enumerate(text):
        fraction = 0.5 if len(text) == 1 else index / (len(text) - 1)
        angle = -math.pi / 2 - span / 2 + span * fraction
        tile = Image.new("RGBA", (glyph * 2, glyph * 2), (255, 255, 255, 0))
        ImageDraw.Draw(tile).text((glyph, glyph), char, font=font, fill=RED, anchor="mm")
        tile = tile.rotate(-math.degrees(angle + math.pi / 2), resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(angle) - glyph
        y = centre + radius * math.sin(angle) - glyph
        image.alpha_composite(tile, (int(x), int(y)))
    if caption:
        small = _font(30)
        draw.text((centre, centre + SIZE * 0.27), caption[:8], font=small, fill=RED, anchor="mm")
    # 16 colours with alpha instead of full RGBA: 40 KB → 12 KB. The picture travels inside
    # every SES_Signature (the seal is part of the signed structure), so it is stored once per
    # licence and per notice: at a million licences that is 28 GB less.
    palette = image.quantize(colors=16, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
