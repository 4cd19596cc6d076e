"""The app languages this process has already told the database, so that it hears each one once.

Telegram puts the language of a member's app (`language_code`) on every update;
the database keeps it on the account (xp.set_client_language) and speaks it
until the person picks one with /lang. Telling it on every update would add a
statement to every counted message, so the bot remembers, per user, the hint it
last recorded and calls again only when the hint is new to it (after a restart,
or when the member switches their app's language). Bounded: the users seen
least recently are forgotten first and simply recorded again.
"""

from __future__ import annotations

from collections import OrderedDict


class ClientLanguages:
    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._recorded: OrderedDict[str, str] = OrderedDict()

    def is_new(self, user_id: str, hint: str | None) -> bool:
        """True when `hint` should be recorded: the app reports a language this process has not recorded."""
        if not hint:
            return False
        if self._recorded.get(user_id) == hint:
            self._recorded.move_to_end(user_id)
            return False
        return True

    def recorded(self, user_id: str, hint: str) -> None:
        self._recorded[user_id] = hint
        self._recorded.move_to_end(user_id)
        while len(self._recorded) > self.size:
            self._recorded.popitem(last=False)
