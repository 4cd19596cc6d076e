"""The demo's admin panel: the web the demo serves gets the admin login, and the demo prints a
one-time login link to /admin, whose pages move while the members are at work."""

from __future__ import annotations

import asyncio

from ..db import as_role
from ..web.admin.login import create_login_link

OPERATOR = "demo-operator"  # the actor of what is changed through the demo's link
LINK_HOURS = 12.0


def admin_env(url: str) -> dict[str, str]:
    """The web's settings for the panel's changes: the demo database as xp_admin."""
    return {"XPSYNC_ADMIN_DATABASE_URL": as_role(url, "xp_admin")}


def admin_link(url: str, public_url: str) -> str:
    """A new one-time login link of an admin, as `xpsync web admin-token create` makes it."""
    return create_login_link(as_role(url, "xp_admin"), public_url, OPERATOR, "admin", LINK_HOURS).url


async def admin_link_async(url: str, public_url: str) -> str:
    return await asyncio.to_thread(admin_link, url, public_url)
