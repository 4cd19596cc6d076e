"""Settings: read from the environment only, typed, in one place, secrets masked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DISCORD_API_BASE = "https://discord.com/api/v10"
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Every variable the project reads; tests clear these so the host cannot leak in.
ENV_VARS = (
    "DATABASE_URL",
    "XPSYNC_REQUIRE_DATABASE_URL",
    "XPSYNC_HOME",
    "XPSYNC_LOG_LEVEL",
    "DISCORD_TOKEN",
    "DISCORD_API_BASE",
    "TELEGRAM_TOKEN",
    "TELEGRAM_API_BASE",
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class Secret:
    """A value that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def default_home(is_root: bool | None = None) -> Path:
    """Where the embedded server keeps its data when XPSYNC_HOME is unset.

    As root the embedded server makes every parent of its data directory
    world-readable, so the default is never under /root.
    """
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root:
        return Path("/var/lib/xpsync")
    return Path.home() / ".local" / "share" / "xpsync"


def is_true(raw: str | None) -> bool:
    """How every on/off variable is read: 1, true, yes or on (any case) is on."""
    return raw is not None and raw.strip().lower() in ("1", "true", "yes", "on")


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    database_url: Secret | None = None
    home: Path = field(default_factory=default_home)
    log_level: str = "INFO"
    discord_token: Secret | None = None
    discord_api_base: str = DEFAULT_DISCORD_API_BASE
    telegram_token: Secret | None = None
    telegram_api_base: str = DEFAULT_TELEGRAM_API_BASE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        level = (_optional(env, "XPSYNC_LOG_LEVEL") or "INFO").upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"XPSYNC_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        url = _optional(env, "DATABASE_URL")
        if url is None and is_true(env.get("XPSYNC_REQUIRE_DATABASE_URL")):
            # the systemd units set this: a hardened service cannot run the embedded server
            raise ConfigError("DATABASE_URL is not set: a service needs the URL of its PostgreSQL login role "
                              "(the embedded server is for the demo and development)")
        home = _optional(env, "XPSYNC_HOME")
        discord_token = _optional(env, "DISCORD_TOKEN")
        telegram_token = _optional(env, "TELEGRAM_TOKEN")
        return cls(
            database_url=Secret(url) if url else None,
            home=Path(home).expanduser() if home else default_home(),
            log_level=level,
            discord_token=Secret(discord_token) if discord_token else None,
            discord_api_base=(_optional(env, "DISCORD_API_BASE") or DEFAULT_DISCORD_API_BASE).rstrip("/"),
            telegram_token=Secret(telegram_token) if telegram_token else None,
            telegram_api_base=(_optional(env, "TELEGRAM_API_BASE") or DEFAULT_TELEGRAM_API_BASE).rstrip("/"),
        )

    def require_discord_token(self) -> str:
        return _require(self.discord_token, "DISCORD_TOKEN", "the Discord bot token")

    def require_telegram_token(self) -> str:
        return _require(self.telegram_token, "TELEGRAM_TOKEN", "the Telegram bot token from @BotFather")

    def require_token(self, platform: str) -> str:
        """The token of a chat platform (discord or telegram); missing → a ConfigError naming its variable."""
        return self.require_discord_token() if platform == "discord" else self.require_telegram_token()


def _require(secret: Secret | None, name: str, what: str) -> str:
    if secret is None:
        raise ConfigError(f"{name} is not set: export {name} with {what}")
    return secret.reveal()
