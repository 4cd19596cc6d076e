"""The shipped systemd units as the tests see them: parsed, instantiated, and run as systemd would.

A unit's command runs with the environment systemd would give it: its `Environment=` lines,
then the files of its `EnvironmentFile=` lines (read from the `.example` next to the unit),
with only the database's address swapped for the test's own database (the login role and
password stay those of the file), and under the unit's own seccomp settings (confine.py).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, quote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "systemd"
INSTALLED_XPSYNC = "/opt/xpsync/.venv/bin/xpsync"
ETC = "/etc/xpsync/"
# what this checkout's `xpsync` is, standing in for /opt/xpsync/.venv/bin/xpsync
XPSYNC = str(Path(sys.executable).parent / "xpsync")

# Every service as it is enabled: (unit file, instance or None).
SERVICES = [
    ("xpsync-listener@.service", "discord"),
    ("xpsync-listener@.service", "telegram"),
    ("xpsync-bot@.service", "discord"),
    ("xpsync-bot@.service", "telegram"),
    ("xpsync-web.service", None),
    ("xpsync-reconcile.service", None),
    ("xpsync-cleanup.service", None),
]
TIMERS = ["xpsync-reconcile.timer", "xpsync-cleanup.timer"]


def analyzer() -> str:
    """systemd-analyze, or a failure that says where it comes from (never a skip)."""
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.fail("systemd-analyze is not installed: .ci/run installs it "
                    "(apt-get install -y --no-install-recommends systemd)")
    return path


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file as (key, value) lists in file order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        assert not line.endswith("\\"), f"{path.name}:{number}: keep unit lines unbroken"
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: not a setting: {raw!r}"
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def read_env_file(path: Path) -> dict[str, str]:
    """An environment file of the simple kind the examples use (KEY=value, # comments)."""
    env: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key.isidentifier(), f"{path.name}:{number}: not KEY=value: {raw!r}"
        assert not value.startswith(("'", '"')), f"{path.name}:{number}: keep values unquoted"
        env[key] = value
    return env


@dataclass(frozen=True)
class Service:
    """One enabled service: a unit file and its instance (%i)."""

    file: str
    instance: str | None

    @property
    def name(self) -> str:
        return self.file.replace("@.", f"@{self.instance}.") if self.instance else self.file

    @property
    def path(self) -> Path:
        return DEPLOY / self.file

    def settings(self, key: str, section: str = "Service") -> list[str]:
        values = [v for k, v in parse_unit(self.path).get(section, []) if k == key]
        return [v.replace("%i", self.instance) if self.instance else v for v in values]

    def setting(self, key: str, section: str = "Service") -> str | None:
        values = self.settings(key, section)
        return values[-1] if values else None

    @property
    def long_running(self) -> bool:
        return self.setting("Type") != "oneshot"

    def environment_files(self) -> list[str]:
        """The /etc/xpsync files the unit reads, in order."""
        return [v.lstrip("-") for v in self.settings("EnvironmentFile")]

    def command(self) -> list[str]:
        """ExecStart with this checkout's xpsync for /opt/xpsync/.venv/bin/xpsync."""
        argv = shlex.split(self.setting("ExecStart") or "")
        assert argv and argv[0] == INSTALLED_XPSYNC, f"{self.name} runs {argv[:1]}, not {INSTALLED_XPSYNC}"
        return [XPSYNC, *argv[1:]]

    def confined(self) -> list[str]:
        """The command under the unit's own system-call confinement (tests/deploy/confine.py)."""
        return [sys.executable, "-m", "tests.deploy.confine", str(self.path), *self.command()]

    def environment(self, db_url: str | None = None, *, files: bool = True) -> dict[str, str]:
        """What systemd gives the process; DATABASE_URLs moved to `db_url`'s server and database.

        files=False: as when the environment files are missing (systemd skips a `-` file).
        """
        env: dict[str, str] = {}
        for assignment in self.settings("Environment"):
            for word in shlex.split(assignment):
                key, _, value = word.partition("=")
                env[key] = value
        for path in self.environment_files() if files else []:
            assert path.startswith(ETC), f"{self.name} reads {path}, outside {ETC}"
            env.update(read_env_file(DEPLOY / (Path(path).name + ".example")))
        if db_url is not None:
            for key in ("DATABASE_URL", "XPSYNC_ADMIN_DATABASE_URL"):
                if env.get(key):
                    env[key] = moved(env[key], db_url)
        return env


def services() -> list[Service]:
    return [Service(f, i) for f, i in SERVICES]


def role_of(url: str) -> str:
    user = urlsplit(url).username
    assert user, f"{url} names no login role"
    return user


def moved(url: str, db_url: str) -> str:
    """`url`'s login role and password, at the server and database of `db_url`."""
    parts, target = urlsplit(url), urlsplit(db_url)
    query = parse_qs(target.query)
    login = quote(role_of(url), safe="") + (":" + quote(parts.password, safe="") if parts.password else "")
    return (f"postgresql://{login}@{target.path}?host={quote(query['host'][0], safe='/')}"
            f"&port={query['port'][0]}")


def base_env(tmp: Path) -> dict[str, str]:
    """The process environment around the unit's own: a PATH, a home the test owns, and an
    XPSYNC_HOME where no embedded server can ever start (it lies under a regular file)."""
    blocker = tmp / "not-a-directory"
    blocker.touch()
    return {"PATH": os.environ["PATH"], "HOME": str(tmp), "XPSYNC_HOME": str(blocker / "xpsync")}


def run(service: Service, env: dict[str, str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The unit's command, confined as the unit asks, to its end."""
    return subprocess.run(service.confined(), env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)


def start(service: Service, env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
    """The unit's command, confined as the unit asks, in the background; its stderr to `log`."""
    return subprocess.Popen(service.confined(), env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log,
                            text=True)
