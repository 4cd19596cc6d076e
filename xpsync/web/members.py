"""Who is signed in: a verified account kept in the signed session cookie, and its person now."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .sqlapi import WebCalls

PLATFORM_NAMES = {"discord": "Discord", "telegram": "Telegram"}


@dataclass(frozen=True)
class Account:
    platform: str
    external_id: str
    name: str

    def as_session(self) -> list[str]:
        return [self.platform, self.external_id, self.name]

    @classmethod
    def from_session(cls, value: Any) -> Account | None:
        if (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)
                and value[0] in PLATFORM_NAMES):
            return cls(*value)
        return None

    @property
    def key(self) -> tuple[str, str]:
        return self.platform, self.external_id

    def describe(self) -> str:
        return f"{self.name} ({PLATFORM_NAMES[self.platform]})"


@dataclass(frozen=True)
class Member:
    """A signed-in member: the account they signed in with and the person it belongs to now."""

    account: Account
    user_id: int


async def signed_in(request: Request, calls: WebCalls) -> Member | None:
    account = Account.from_session(request.session.get("account"))
    if account is None:
        return None
    user_id = await calls.account_person(*account.key)
    if user_id is None:  # the person was forgotten meanwhile
        request.session.pop("account", None)
        return None
    return Member(account, user_id)


def sign_in(request: Request, account: Account) -> None:
    """The session now belongs to this account (a fresh CSRF token with it)."""
    request.session.pop("csrf", None)
    request.session["account"] = account.as_session()
    request.session["since"] = int(time.time())


def sign_out(request: Request) -> None:
    request.session.clear()
