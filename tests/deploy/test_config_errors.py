"""A unit's configuration error is exit status 2 with one line naming it (RestartPreventExitStatus=2)."""

from __future__ import annotations

import pytest

from tests.deploy.units import base_env, run, services
from xpsync.settings import ConfigError, Settings

MISSING_URL = ("xpsync: DATABASE_URL is not set: a service needs the URL of its PostgreSQL login role "
               "(the embedded server is for the demo and development)")


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
@pytest.mark.parametrize("how", ["files missing", "url blank"])
def test_a_service_without_database_url_stops_with_one_line_and_status_2(service, how, tmp_path):
    """The environment files missing (systemd skips a `-` file), or DATABASE_URL= left empty."""
    if how == "files missing":
        unit_env = service.environment(files=False)
    else:
        unit_env = {**service.environment(), "DATABASE_URL": ""}
    result = run(service, {**base_env(tmp_path), **unit_env})
    assert (result.returncode, result.stderr.splitlines()) == (2, [MISSING_URL])


@pytest.mark.parametrize("service", [s for s in services() if s.instance], ids=lambda s: s.name)
def test_a_listener_or_bot_without_its_token_stops_with_one_line_and_status_2(service, db_url, tmp_path):
    """The token files as shipped hold no token yet."""
    variable = f"{service.instance.upper()}_TOKEN"
    env = service.environment(db_url)
    assert env[variable] == ""
    result = run(service, {**base_env(tmp_path), **env})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"xpsync: {variable} is not set"), result.stderr


@pytest.mark.parametrize("value", ["1", "yes", "TRUE", " on "])
def test_requiring_database_url_refuses_the_embedded_default(value):
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is not set"):
        Settings.from_env({"XPSYNC_REQUIRE_DATABASE_URL": value})
    url = "postgresql://xpsync_bot@db/xpsync"
    assert Settings.from_env({"XPSYNC_REQUIRE_DATABASE_URL": value, "DATABASE_URL": url}).database_url is not None


@pytest.mark.parametrize("env", [{}, {"XPSYNC_REQUIRE_DATABASE_URL": "0"}, {"XPSYNC_REQUIRE_DATABASE_URL": ""}])
def test_outside_the_units_the_embedded_default_stays(env):
    assert Settings.from_env(env).database_url is None


def test_the_web_without_its_session_secret_stops_with_one_line_and_status_2(db_url, tmp_path):
    """web.env as shipped leaves XPSYNC_WEB_SECRET empty."""
    web = next(s for s in services() if s.name == "xpsync-web.service")
    env = web.environment(db_url)
    assert env["XPSYNC_WEB_SECRET"] == ""
    result = run(web, {**base_env(tmp_path), **env})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xpsync: XPSYNC_WEB_SECRET is not set"), result.stderr
