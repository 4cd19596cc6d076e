"""Send pacing: at most N messages a second overall and one per chat per interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self, per_second: float = 25.0, per_chat_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.configure(per_second, per_chat_seconds)
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def configure(self, per_second: float, per_chat_seconds: float) -> None:
        """New rates take effect from the next slot on."""
        self.gap = 1.0 / per_second
        self.per_chat = per_chat_seconds

    async def wait(self, chat_id: str) -> None:
        """Wait for this chat's next slot; slots are reserved in call order."""
        async with self._lock:
            now = self.clock()
            slot = max(now, self._next_any, self._next_chat.get(chat_id, 0.0))
            self._next_any = slot + self.gap
            self._next_chat[chat_id] = slot + self.per_chat
            if len(self._next_chat) > 10_000:
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        if slot > now:
            await asyncio.sleep(slot - now)
