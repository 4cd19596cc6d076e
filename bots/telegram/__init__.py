"""The Telegram bot (aiogram 3): one router per feature, the Xp API handed to handlers by DI."""

from .app import build_dispatcher, run

__all__ = ["build_dispatcher", "run"]
