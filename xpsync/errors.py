"""The XP00x SQLSTATEs of the SQL API, mapped in one place to domain exceptions."""

from __future__ import annotations

import psycopg


class XPError(Exception):
    """A refusal raised by the database with one of the XP00x SQLSTATEs."""

    sqlstate = "XP000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownAccount(XPError):
    sqlstate = "XP001"


class InvalidArgument(XPError):
    sqlstate = "XP002"


class InsufficientBalance(XPError):
    sqlstate = "XP003"


class IdempotencyConflict(XPError):
    sqlstate = "XP004"


class RedeemLocked(XPError):
    sqlstate = "XP005"


class LinkConflict(XPError):
    sqlstate = "XP006"


class OnlyAccount(XPError):
    sqlstate = "XP007"


class StalePreview(XPError):
    """What was previewed (a threshold change, a void) is no longer what applying would do."""

    sqlstate = "XP008"


class NotAvailable(XPError):
    """What was asked for is not available now: a quest not running or done for the window, an item
    sold out or off sale, a submission or purchase already reviewed."""

    sqlstate = "XP009"


BY_SQLSTATE: dict[str, type[XPError]] = {
    cls.sqlstate: cls
    for cls in (
        UnknownAccount,
        InvalidArgument,
        InsufficientBalance,
        IdempotencyConflict,
        RedeemLocked,
        LinkConflict,
        OnlyAccount,
        StalePreview,
        NotAvailable,
    )
}


def translate(exc: psycopg.Error) -> XPError | None:
    """The domain exception for a database error, or None when it is not one of ours."""
    cls = BY_SQLSTATE.get(exc.sqlstate or "")
    if cls is None:
        return None
    primary = exc.diag.message_primary if exc.diag else None
    return cls(primary or str(exc))
