"""Who may enter the admin panel, and what they may do there.

An operator is a member signed in with Discord who may manage (Manage Server or Administrator) a
guild of XPSYNC_ADMIN_GUILDS, an admin; or whoever signed in with a login link of
`xpsync web admin-token create NAME --role admin|viewer`, under that NAME and role. A viewer sees
everything and changes nothing; without XPSYNC_ADMIN_DATABASE_URL nobody changes anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request

from ..deps import PageError, language
from ..members import Account
from ..security import csrf_ok
from .changes import AdminChanges
from .reads import AdminReads

SESSION_HOURS = 12  # an operator signs in again after this long


@dataclass(frozen=True)
class Operator:
    actor: str  # what the audit log names: the login link's NAME, or "discord:<id> <name>"
    name: str
    role: str  # admin | viewer
    via: str  # discord | token

    @property
    def admin(self) -> bool:
        return self.role == "admin"


class NotOperator(Exception):
    """The visitor is not signed in to the panel: they get its sign-in page (401)."""


def reads(request: Request) -> AdminReads:
    return request.app.state.admin_reads


def _fresh(at: Any) -> bool:
    return isinstance(at, int) and time.time() - at <= SESSION_HOURS * 3600


def sign_in_with_token(request: Request, token_id: int, name: str) -> None:
    """The session now holds a panel session opened by a login link (and a fresh CSRF token)."""
    request.session.pop("csrf", None)
    request.session["admin"] = {"token": token_id, "name": name, "at": int(time.time())}


def sign_out(request: Request) -> None:
    request.session.pop("admin", None)
    request.session.pop("csrf", None)


async def operator_of(request: Request) -> Operator | None:
    session = request.session
    entry = session.get("admin")
    if isinstance(entry, dict) and isinstance(entry.get("token"), int) and isinstance(entry.get("name"), str):
        role = await reads(request).token_role(entry["token"]) if _fresh(entry.get("at")) else None
        if role is not None:
            return Operator(entry["name"], entry["name"], role, "token")
        session.pop("admin", None)  # expired, or its link was revoked
    account = Account.from_session(session.get("account"))
    allowed = request.app.state.settings.admin_guilds
    guilds = session.get("guilds")
    if (account is not None and account.platform == "discord" and _fresh(session.get("since"))
            and isinstance(guilds, list) and set(guilds) & set(allowed)):
        return Operator(f"discord:{account.external_id} {account.name}", account.name, "admin", "discord")
    return None


async def get_operator(request: Request) -> Operator:
    language(request)
    operator = await operator_of(request)
    if operator is None:
        raise NotOperator
    request.state.operator = operator
    return operator


CurrentOperator = Annotated[Operator, Depends(get_operator)]


async def _csrf_checked(request: Request) -> None:
    presented = request.headers.get("x-csrf-token")
    if presented is None:
        form = await request.form()  # parsed once: the route's Form fields read the same
        value = form.get("csrf")
        presented = value if isinstance(value, str) else None
    if not csrf_ok(request.session, presented):
        raise PageError(403, "web_bad_request", "admin_stale_form")


async def get_checked_operator(request: Request, operator: CurrentOperator) -> Operator:
    """An operator's POST that changes nothing (a preview, a dry run): CSRF checked."""
    await _csrf_checked(request)
    return operator


CheckedOperator = Annotated[Operator, Depends(get_checked_operator)]


async def get_changes(request: Request, operator: CheckedOperator) -> AdminChanges:
    """An operator's change: CSRF checked, an admin, and the panel not read-only."""
    if not operator.admin:
        raise PageError(403, "admin_refused", "admin_viewer_text")
    pool = request.app.state.admin_pool
    if pool is None:
        raise PageError(403, "admin_refused", "admin_read_only_text")
    return AdminChanges(pool, actor=operator.actor)


Changes = Annotated[AdminChanges, Depends(get_changes)]


def admin_changes_for(request: Request, operator: Operator) -> AdminChanges | None:
    """The admin login's calls for what any operator may run there (dry runs); None when read-only."""
    pool = request.app.state.admin_pool
    return None if pool is None else AdminChanges(pool, actor=operator.actor)
