"""Drawing a rank card as a PNG (Pillow, with the bundled DejaVu Sans, which has Cyrillic)."""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .card import Card

log = logging.getLogger(__name__)

FONTS = Path(__file__).resolve().parent / "fonts"
WIDTH, HEIGHT = 800, 240
BACKGROUND = (30, 34, 48)
PANEL = (44, 49, 66)
TEXT = (236, 239, 244)
MUTED = (160, 168, 186)


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """The text, cut with an ellipsis so that it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _number(value: int) -> str:
    return f"{value:,}".replace(",", " ")


@lru_cache(maxsize=4096)
def card_png(card: Card) -> bytes:
    """The card as PNG bytes; an unchanged card (same fields) comes from the cache, not drawn again."""
    accent = _rgb(card.color)
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((12, 12, WIDTH - 12, HEIGHT - 12), radius=24, fill=PANEL)
    draw.rectangle((12, 36, 20, HEIGHT - 36), fill=accent)
    # the tier badge
    draw.ellipse((44, 48, 164, 168), fill=accent)
    tier = _font(64, bold=True)
    draw.text((104, 108), card.tier, font=tier, fill=BACKGROUND, anchor="mm")
    # name, rank, place
    left, right = 192, WIDTH - 44
    place = f"#{_number(card.place)}" if card.place is not None else ""
    place_font = _font(40, bold=True)
    place_width = int(draw.textlength(place, font=place_font)) if place else 0
    name_font = _font(36, bold=True)
    draw.text((left, 44), _fit(draw, card.name, name_font, right - left - place_width - 24), font=name_font, fill=TEXT)
    if place:
        draw.text((right, 44), place, font=place_font, fill=accent, anchor="ra")
        draw.text((right, 92), card.label("place"), font=_font(18), fill=MUTED, anchor="ra")
    draw.text((left, 96), card.rank_name, font=_font(28, bold=True), fill=accent)
    # progress to the next rank
    top, bottom = 148, 172
    draw.rounded_rectangle((left, top, right, bottom), radius=12, fill=BACKGROUND)
    filled = left + round((right - left) * card.progress)
    if filled > left + 12:
        draw.rounded_rectangle((left, top, filled, bottom), radius=12, fill=accent)
    small = _font(20)
    draw.text((left, 186), f"{_number(card.xp)} {card.label('xp')} · {_number(card.coins)} {card.label('coins')}",
              font=small, fill=TEXT)
    draw.text((right, 186), _fit(draw, card.progress_text, small, 300), font=small, fill=MUTED, anchor="ra")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    log.debug("drew a card for %r (%d bytes)", card.name, out.tell())
    return out.getvalue()
