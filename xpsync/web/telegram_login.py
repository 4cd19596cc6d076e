"""The Telegram Login Widget's redirect: its fields signed with HMAC-SHA256 under SHA-256(bot token)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

MAX_AGE_SECONDS = 86_400  # a day
FIELDS = ("id", "first_name", "last_name", "username", "photo_url", "auth_date")


class LoginRefused(Exception):
    """The fields were not signed by our bot, or are too old."""


def signature(fields: Mapping[str, str], token: str) -> str:
    """What the widget puts in `hash`: the sorted key=value lines, HMAC-SHA256 with SHA-256(token)."""
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k in FIELDS)
    return hmac.new(hashlib.sha256(token.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()


def verify(query: Mapping[str, str], token: str, now: float | None = None) -> dict[str, str]:
    """The widget's fields when `hash` is right and `auth_date` at most a day old; else LoginRefused."""
    fields = {k: v for k, v in query.items() if k in FIELDS}
    presented = query.get("hash", "")
    if "id" not in fields or not fields["id"].lstrip("-").isdigit() or not fields.get("auth_date", "").isdigit():
        raise LoginRefused("id or auth_date missing")
    if not hmac.compare_digest(signature(fields, token), presented):
        raise LoginRefused("hash does not match")
    age = (time.time() if now is None else now) - int(fields["auth_date"])
    if age > MAX_AGE_SECONDS or age < -300:
        raise LoginRefused(f"auth_date is {int(age)} s old")
    return fields


def display_name(fields: Mapping[str, str]) -> str:
    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p)
    return (name or fields.get("username") or f"telegram {fields['id']}")[:200]
