"""The words the whole project shares, defined once (the database checks the same lists).

A test compares each with the database: the platforms of `xp.accounts`, the
delivery targets of `xp.deliveries`, the languages of the `notices.languages`
setting and the periods `xp.leaderboard` accepts.
"""

from __future__ import annotations

from typing import Final, Literal

Platform = Literal["telegram", "discord", "website"]
Target = Literal["discord", "telegram"]
Language = Literal["en", "ru"]
Period = Literal["all", "season", "month", "week"]

# where an account lives (platform, external_id)
PLATFORMS: Final[tuple[Platform, ...]] = ("telegram", "discord", "website")
# the chat platforms: each has a listener delivering to it (`xpsync listen`) and a bot (`xpsync bot`)
TARGETS: Final[tuple[Target, ...]] = ("discord", "telegram")
# what the bots, the listeners and the web speak; the first is the fallback
LANGUAGES: Final[tuple[Language, ...]] = ("en", "ru")
DEFAULT_LANGUAGE: Final[Language] = "en"
# the leaderboards: lifetime, the running season, this month, this week
PERIODS: Final[tuple[Period, ...]] = ("all", "season", "month", "week")
