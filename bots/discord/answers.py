"""Answering a slash command within Discord's 3 seconds, however slow the database is.

Discord drops an interaction that is neither answered nor deferred within 3
seconds of its creation. A command's database call that has not returned after
DEFER_AFTER seconds is deferred first (the member sees the bot "thinking"),
and its answer follows as the interaction's follow-up; a quick call is
answered at once, in one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

T = TypeVar("T")
DEFER_AFTER = 1.5  # seconds: half the deadline, the rest for the network and the defer itself


async def in_time(interaction: discord.Interaction, call: Awaitable[T], *, ephemeral: bool = False,
                  after: float = DEFER_AFTER) -> T:
    """The result of `call`; when it takes longer than `after`, the interaction is deferred meanwhile
    (ephemeral: the answer will be seen by the member only)."""
    task = asyncio.ensure_future(call)
    done, _ = await asyncio.wait({task}, timeout=after)
    if not done:
        try:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        except BaseException:
            task.add_done_callback(_drop)  # the call still finishes (a write is not cut in half)
            raise
    return await task


async def reply(interaction: discord.Interaction, content: str | None = None, *, embed: discord.Embed | None = None,
                file: discord.File | None = None, ephemeral: bool = False) -> None:
    """The command's answer: the response itself, or the follow-up of a deferred one."""
    given: dict[str, Any] = {k: v for k, v in (("content", content), ("embed", embed), ("file", file))
                             if v is not None}
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=ephemeral, **given)
    else:
        await interaction.response.send_message(ephemeral=ephemeral, **given)


def _drop(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: the interaction already failed, and says so
