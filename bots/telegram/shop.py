"""/shop: what is for sale, with a button per item; a button buys once however often it is pressed
(the listing's message and the item make the request key), the coins are taken at once, and an
item an operator must hand over waits for them (the answer comes back as a notice)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from xpsync.errors import UnknownAccount
from xpsync.texts import say, title_in

from ..api import Xp
from ..replies import purchase_text, shop_text
from .context import sender
from .games import keyboard, pressed


async def shop(message: Message, xp: Xp, lang: str) -> None:
    who, _ = sender(message)
    items = await xp.shop_list()
    try:
        coins = (await xp.profile(who))["coins"]
    except UnknownAccount:
        coins = 0  # never seen: nothing to spend yet, but the shop is shown
    buttons = [[(say(lang, "shop_buy", title=title_in(i["title"], lang)), f"buy:{i['code']}")] for i in items
               if i["stock"] is None or i["stock"] > 0]
    await message.answer(shop_text(items, coins, lang), reply_markup=keyboard(buttons) if buttons else None)


async def buy(callback: CallbackQuery, xp: Xp, lang: str) -> None:
    who, _ = sender(callback)
    message, (_, code) = pressed(callback)
    listing = message.message_id if message is not None else callback.id
    bought = await xp.buy(who, code, f"tg:{listing}:{code}")
    item = next((i for i in await xp.shop_list() if i["code"] == code), None)
    if message is not None:
        await message.answer(purchase_text(bought, item, lang))
    await callback.answer()


def router() -> Router:
    """A fresh router (a router belongs to one dispatcher)."""
    r = Router(name="shop")
    r.message.register(shop, Command("shop"))
    r.callback_query.register(buy, F.data.startswith("buy:"))
    return r
