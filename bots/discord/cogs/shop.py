"""/shop: what is for sale and the member's coins; /buy item: the coins are taken at once (once per
interaction), a role is granted by the listener, an item an operator must hand over waits for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from xpsync.errors import UnknownAccount
from xpsync.texts import title_in

from ...api import Xp
from ...replies import purchase_text, shop_text
from ..answers import in_time, reply
from ..errors import language_of

if TYPE_CHECKING:
    from ..client import XpBot


class Shop(commands.Cog):
    def __init__(self, xp: Xp) -> None:
        self.xp = xp

    @app_commands.command(name="shop", description="What you can buy with your coins")
    async def shop(self, interaction: discord.Interaction) -> None:
        who = str(interaction.user.id)

        async def look() -> tuple[list[dict[str, Any]], int]:
            items = await self.xp.shop_list()
            try:
                coins = int((await self.xp.profile(who))["coins"])
            except UnknownAccount:
                coins = 0  # never seen: nothing to spend yet, but the shop is shown
            return items, coins

        items, coins = await in_time(interaction, look(), ephemeral=True)
        await reply(interaction, shop_text(items, coins, language_of(interaction)), ephemeral=True)

    @app_commands.command(name="buy", description="Buy an item of the shop with your coins")
    @app_commands.describe(item="the item's code, as /shop lists it")
    async def buy(self, interaction: discord.Interaction, item: str) -> None:
        code = item.strip()

        async def purchase() -> tuple[dict[str, Any], dict[str, Any] | None]:
            bought = await self.xp.buy(str(interaction.user.id), code, f"dc:{interaction.id}")
            return bought, next((i for i in await self.xp.shop_list() if i["code"] == code), None)

        bought, listed = await in_time(interaction, purchase(), ephemeral=True)
        await reply(interaction, purchase_text(bought, listed, language_of(interaction)), ephemeral=True)


    @buy.autocomplete("item")
    async def item_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The items for sale by their titles in the member's language (the value is the code)."""
        lang = language_of(interaction)
        return [app_commands.Choice(name=f"{title_in(i['title'], lang)} — {i['price']}"[:100], value=i["code"])
                for i in await self.xp.shop_list()
                if current.lower() in (i["code"] + title_in(i["title"], lang)).lower()][:25]


async def setup(bot: XpBot) -> None:
    await bot.add_cog(Shop(bot.xp))
