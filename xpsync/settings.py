"""Settings: read from the environment only, typed, in one place, secrets masked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DISCORD_API_BASE = "https://discord.com/api/v10"
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"
DEFAULT_DISCORD_OAUTH_URL = "https://discord.com/oauth2/authorize"
DEFAULT_WEB_BIND = "127.0.0.1:8080"
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
    "TELEGRAM_BOT_USERNAME",
    "DISCORD_CLIENT_ID",
    "DISCORD_CLIENT_SECRET",
    "DISCORD_OAUTH_URL",
    "XPSYNC_WEB_BIND",
    "XPSYNC_PUBLIC_URL",
    "XPSYNC_WEB_SECRET",
    "XPSYNC_ADMIN_DATABASE_URL",
    "XPSYNC_ADMIN_GUILDS",
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
    telegram_bot_username: str | None = None
    discord_client_id: str | None = None
    discord_client_secret: Secret | None = None
    discord_oauth_url: str = DEFAULT_DISCORD_OAUTH_URL
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    web_secret: Secret | None = None
    admin_database_url: Secret | None = None
    admin_guilds: tuple[str, ...] = ()

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
        host, port = parse_bind(_optional(env, "XPSYNC_WEB_BIND") or DEFAULT_WEB_BIND)
        public_url = (_optional(env, "XPSYNC_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/")
        if urlsplit(public_url).scheme not in ("http", "https") or not urlsplit(public_url).netloc:
            raise ConfigError(f"XPSYNC_PUBLIC_URL must be an http(s) URL such as https://xp.example.org, "
                              f"not {public_url!r}")
        client_secret = _optional(env, "DISCORD_CLIENT_SECRET")
        web_secret = _optional(env, "XPSYNC_WEB_SECRET")
        admin_url = _optional(env, "XPSYNC_ADMIN_DATABASE_URL")
        admin_guilds = tuple(g.strip() for g in (_optional(env, "XPSYNC_ADMIN_GUILDS") or "").split(",") if g.strip())
        if any(not g.isdigit() or len(g) > 20 for g in admin_guilds):
            raise ConfigError("XPSYNC_ADMIN_GUILDS must be Discord guild ids separated by commas, such as "
                              f"123456789012345678,234567890123456789, not {_optional(env, 'XPSYNC_ADMIN_GUILDS')!r}")
        return cls(
            database_url=Secret(url) if url else None,
            home=Path(home).expanduser() if home else default_home(),
            log_level=level,
            discord_token=Secret(discord_token) if discord_token else None,
            discord_api_base=(_optional(env, "DISCORD_API_BASE") or DEFAULT_DISCORD_API_BASE).rstrip("/"),
            telegram_token=Secret(telegram_token) if telegram_token else None,
            telegram_api_base=(_optional(env, "TELEGRAM_API_BASE") or DEFAULT_TELEGRAM_API_BASE).rstrip("/"),
            telegram_bot_username=(_optional(env, "TELEGRAM_BOT_USERNAME") or "").lstrip("@") or None,
            discord_client_id=_optional(env, "DISCORD_CLIENT_ID"),
            discord_client_secret=Secret(client_secret) if client_secret else None,
            discord_oauth_url=_optional(env, "DISCORD_OAUTH_URL") or DEFAULT_DISCORD_OAUTH_URL,
            web_host=host,
            web_port=port,
            public_url=public_url,
            web_secret=Secret(web_secret) if web_secret else None,
            admin_database_url=Secret(admin_url) if admin_url else None,
            admin_guilds=admin_guilds,
        )

    def require_discord_token(self) -> str:
        return _require(self.discord_token, "DISCORD_TOKEN", "the Discord bot token")

    def require_telegram_token(self) -> str:
        return _require(self.telegram_token, "TELEGRAM_TOKEN", "the Telegram bot token from @BotFather")

    def require_token(self, platform: str) -> str:
        """The token of a chat platform (discord or telegram); missing → a ConfigError naming its variable."""
        return self.require_discord_token() if platform == "discord" else self.require_telegram_token()

    def require_web_secret(self) -> str:
        return _require(self.web_secret, "XPSYNC_WEB_SECRET",
                        "a long random string that signs web sessions (e.g. `openssl rand -hex 32`)")

    @property
    def discord_sign_in(self) -> bool:
        """Sign-in with Discord is offered only when the OAuth2 application is configured."""
        return self.discord_client_id is not None and self.discord_client_secret is not None

    @property
    def telegram_sign_in(self) -> bool:
        """The Login Widget needs the bot's username, and its token to check what the widget signed."""
        return self.telegram_bot_username is not None and self.telegram_token is not None


def parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"XPSYNC_WEB_BIND must be HOST:PORT such as 127.0.0.1:8080, not {value!r}")
    return host.strip("[]"), int(port)


def _require(secret: Secret | None, name: str, what: str) -> str:
    if secret is None:
        raise ConfigError(f"{name} is not set: export {name} with {what}")
    return secret.reveal()
