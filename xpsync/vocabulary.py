"""The words the whole project shares, defined once (the database checks the same lists).

A test compares each with the database: the platforms of `xp.accounts`, the
delivery targets and statuses of `xp.deliveries`, the ledger's sources, the
languages of the `notices.languages` setting and the periods `xp.leaderboard`
accepts.
"""

from __future__ import annotations

from typing import Final, Literal

Platform = Literal["telegram", "discord", "website"]
Target = Literal["discord", "telegram"]
Language = Literal["en", "ru"]
Period = Literal["all", "season", "month", "week"]
DeliveryStatus = Literal["pending", "done", "failed", "dead", "discarded"]
Source = Literal["award", "daily", "message", "voice", "game", "achievement", "rank_reward", "admin", "import", "void",
                 "quest", "shop"]

# where an account lives (platform, external_id)
PLATFORMS: Final[tuple[Platform, ...]] = ("telegram", "discord", "website")
# the chat platforms: each has a listener delivering to it (`xpsync listen`) and a bot (`xpsync bot`)
TARGETS: Final[tuple[Target, ...]] = ("discord", "telegram")
# what the bots, the listeners and the web speak; the first is the fallback
LANGUAGES: Final[tuple[Language, ...]] = ("en", "ru")
DEFAULT_LANGUAGE: Final[Language] = "en"
# the leaderboards: lifetime, the running season, this month, this week
PERIODS: Final[tuple[Period, ...]] = ("all", "season", "month", "week")
# where a delivery stands: waiting (or under a listener's lease), delivered, refused for good, out of attempts,
# or discarded by an operator
DELIVERY_STATUSES: Final[tuple[DeliveryStatus, ...]] = ("pending", "done", "failed", "dead", "discarded")
# what wrote a ledger row (xp.ledger.source)
SOURCES: Final[tuple[Source, ...]] = ("award", "daily", "message", "voice", "game", "achievement", "rank_reward",
                                       "admin", "import", "void", "quest", "shop")
