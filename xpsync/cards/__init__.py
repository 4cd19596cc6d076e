"""Rank cards: one PNG renderer for the website and both bots' /profile."""

from __future__ import annotations

from .card import Card
from .drawing import card_png

__all__ = ["Card", "card_png"]
