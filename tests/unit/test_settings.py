from __future__ import annotations

from pathlib import Path

import pytest

from xpsync.settings import DEFAULT_DISCORD_API_BASE, ConfigError, Secret, Settings, default_home


def test_defaults_from_an_empty_environment():
    s = Settings.from_env({})
    assert s.database_url is None
    assert s.discord_api_base == DEFAULT_DISCORD_API_BASE == "https://discord.com/api/v10"
    assert s.telegram_api_base == "https://api.telegram.org"
    assert s.log_level == "INFO"


def test_values_are_read_and_trimmed():
    s = Settings.from_env({
        "DATABASE_URL": "postgresql://u:pw@h/db", "XPSYNC_HOME": "/srv/xp", "XPSYNC_LOG_LEVEL": "debug",
        "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10/", "TELEGRAM_TOKEN": "123:abc",
    })
    assert s.database_url.reveal() == "postgresql://u:pw@h/db"
    assert s.home == Path("/srv/xp")
    assert s.log_level == "DEBUG"
    assert s.discord_api_base == "http://127.0.0.1:9/api/v10"
    assert s.require_telegram_token() == "123:abc"


def test_home_is_never_under_root_home_for_root():
    assert default_home(is_root=True) == Path("/var/lib/xpsync")
    assert default_home(is_root=False) == Path.home() / ".local" / "share" / "xpsync"


def test_secrets_never_show_themselves():
    s = Settings.from_env({"DISCORD_TOKEN": "super-secret-token", "DATABASE_URL": "postgresql://u:pw@h/db"})
    assert "super-secret-token" not in repr(s) and "pw@" not in repr(s)
    assert "super-secret-token" not in str(Secret("super-secret-token"))


@pytest.mark.parametrize(("method", "name"), [("require_discord_token", "DISCORD_TOKEN"),
                                              ("require_telegram_token", "TELEGRAM_TOKEN")])
def test_a_missing_token_is_one_line_naming_the_variable(method, name):
    with pytest.raises(ConfigError) as err:
        getattr(Settings.from_env({}), method)()
    assert str(err.value).startswith(f"{name} is not set")
    assert "\n" not in str(err.value)


def test_a_bad_log_level_names_the_variable():
    with pytest.raises(ConfigError, match="XPSYNC_LOG_LEVEL"):
        Settings.from_env({"XPSYNC_LOG_LEVEL": "loud"})
