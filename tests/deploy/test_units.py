"""The units as shipped pass systemd's own checks, restart only when it helps, and time out.

`systemd-analyze` reads them from a small root tree: the units verbatim under
/etc/systemd/system, this checkout's `xpsync` at /opt/xpsync/.venv/bin/xpsync (verify
wants the command to exist), and the host's own systemd units (sysinit.target …).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.deploy.units import DEPLOY, INSTALLED_XPSYNC, TIMERS, XPSYNC, Service, analyzer, parse_unit, services

MAX_EXPOSURE = 4.0
SYSTEM_UNITS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
# [Service] settings that say what a unit does; every other one is hardening, the same everywhere
OWN_SETTINGS = {
    "Type", "EnvironmentFile", "Environment", "ExecStart", "KillSignal", "TimeoutStopSec",
    "TimeoutStartSec", "Restart", "RestartSec", "RestartPreventExitStatus",
}


def make_root(root: Path, *, with_command: bool = True) -> Path:
    host_units = next((p for p in SYSTEM_UNITS if (p / "sysinit.target").exists()), None)
    if host_units is None:
        pytest.fail("systemd's own units are missing: .ci/run installs them "
                    "(apt-get install -y --no-install-recommends systemd)")
    shutil.copytree(host_units, root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for unit in [*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")]:
        shutil.copy2(unit, units / unit.name)
    if with_command:
        command = root / INSTALLED_XPSYNC.lstrip("/")
        command.parent.mkdir(parents=True)
        shutil.copy2(XPSYNC, command)
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_root(tmp_path_factory.mktemp("root"))


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([analyzer(), *args], capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "SYSTEMD_COLORS": "0"})


def test_every_unit_and_timer_passes_systemd_analyze_verify(root):
    result = analyze("verify", f"--root={root}", "--man=no", *[s.name for s in services()], *TIMERS)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_checks_the_command_the_units_run(tmp_path):
    """The check above is not empty: without the command in the tree, verify refuses every service."""
    bare = make_root(tmp_path, with_command=False)
    result = analyze("verify", f"--root={bare}", "--man=no", "xpsync-listener@discord.service")
    assert result.returncode != 0
    assert f"Command {INSTALLED_XPSYNC} is not executable" in result.stderr


def exposure(root: Path, name: str) -> float:
    result = analyze("security", "--offline=yes", f"--root={root}", name)
    found = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
def test_systemd_analyze_security_rates_every_service_at_most_4(root, service):
    assert exposure(root, service.name) <= MAX_EXPOSURE


def test_the_rating_notices_a_unit_without_hardening(tmp_path):
    """The rating above is the analyzer's, not a constant: the same unit without hardening rates high."""
    bare = make_root(tmp_path)
    unit = bare / "etc/systemd/system/xpsync-cleanup.service"
    kept = [line for line in unit.read_text().splitlines()
            if "=" not in line or line.split("=", 1)[0] in OWN_SETTINGS | {"Description", "Documentation",
                                                                          "After", "Wants"}]
    unit.write_text("\n".join(kept) + "\n")
    assert exposure(bare, "xpsync-cleanup.service") > MAX_EXPOSURE


@pytest.mark.parametrize("service", [s for s in services() if s.long_running], ids=lambda s: s.name)
def test_long_running_services_restart_but_not_after_a_configuration_error(service):
    assert service.setting("Restart") == "always"
    assert "2" in (service.setting("RestartPreventExitStatus") or "").split()


def usec(timespan: str) -> int:
    found = re.search(r"μs: (\d+)", analyze("timespan", timespan).stdout)
    assert found, timespan
    return int(found.group(1))


def shortest_gap_usec(timer: Path) -> int:
    """Time between two runs of the timer, less its randomized delay."""
    settings = dict(parse_unit(timer)["Timer"])
    out = analyze("calendar", "--iterations=2", settings["OnCalendar"]).stdout
    first, second = (datetime.strptime(m, "%a %Y-%m-%d %H:%M:%S")
                     for m in re.findall(r"(?:Next elapse|Iter\. #2): (\w{3} [\d-]+ [\d:]+)", out))
    delay = usec(settings["RandomizedDelaySec"]) if "RandomizedDelaySec" in settings else 0
    return int((second - first).total_seconds()) * 1_000_000 - delay


@pytest.mark.parametrize("timer", TIMERS)
def test_a_timers_run_times_out_before_the_next_one_is_due(timer):
    service = Service(timer.replace(".timer", ".service"), None)
    assert not service.long_running and service.path.exists()
    timeout = service.setting("TimeoutStartSec")
    assert timeout is not None, f"{service.name} has no TimeoutStartSec"
    assert 0 < usec(timeout) < shortest_gap_usec(DEPLOY / timer)


EXPECTED_FILES = {
    "xpsync-listener@discord.service": ["listener.env", "discord.env"],
    "xpsync-listener@telegram.service": ["listener.env", "telegram.env"],
    "xpsync-bot@discord.service": ["bot.env", "discord.env"],
    "xpsync-bot@telegram.service": ["bot.env", "telegram.env"],
    "xpsync-web.service": ["web.env", "telegram.env"],
    "xpsync-reconcile.service": ["admin.env"],
    "xpsync-cleanup.service": ["admin.env"],
}


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
def test_each_service_reads_the_environment_file_of_its_database_role(service):
    files = service.environment_files()
    assert files == ["/etc/xpsync/" + f for f in EXPECTED_FILES[service.name]]
    for path in files:
        assert (DEPLOY / (Path(path).name + ".example")).exists(), path
    assert service.environment().get("DATABASE_URL"), f"{service.name} gets no DATABASE_URL"


SECRETS = ("DISCORD_TOKEN", "TELEGRAM_TOKEN", "DISCORD_CLIENT_SECRET", "XPSYNC_WEB_SECRET",
           "XPSYNC_ADMIN_DATABASE_URL")
NEEDS = {
    "xpsync-listener@discord.service": {"DISCORD_TOKEN"},
    "xpsync-listener@telegram.service": {"TELEGRAM_TOKEN"},
    "xpsync-bot@discord.service": {"DISCORD_TOKEN"},
    "xpsync-bot@telegram.service": {"TELEGRAM_TOKEN"},
    # the Telegram token verifies sign-ins; the admin login makes the panel's changes
    "xpsync-web.service": {"TELEGRAM_TOKEN", "DISCORD_CLIENT_SECRET", "XPSYNC_WEB_SECRET",
                           "XPSYNC_ADMIN_DATABASE_URL"},
    "xpsync-reconcile.service": set(),
    "xpsync-cleanup.service": set(),
}


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
def test_each_process_is_given_the_secrets_it_needs_and_no_other(service):
    env = service.environment()
    assert {name for name in SECRETS if name in env} == NEEDS[service.name]


def hardening(service: Service) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in parse_unit(service.path)["Service"] if k not in OWN_SETTINGS)


def test_every_service_is_hardened_alike_and_requires_database_url():
    first, *others = services()
    assert ("ProtectSystem", "strict") in hardening(first)
    for service in others:
        assert hardening(service) == hardening(first), service.name
    for service in services():
        assert service.settings("Environment") == ["XPSYNC_REQUIRE_DATABASE_URL=1"], service.name
