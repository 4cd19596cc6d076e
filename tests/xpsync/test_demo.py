"""`xpsync demo`: the main job, small enough for CI, and nothing left behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.xpsync.test_cli import xpsync
from xpsync.embedded import EmbeddedServer

pytestmark = pytest.mark.slow  # whole demo runs, each in a process of its own


@pytest.fixture
def scratch() -> Iterator[Path]:
    """The temporary directory (TMPDIR) of the demos a test runs: theirs alone, so that demos other
    runs on the machine start meanwhile are not taken for them."""
    path = Path(tempfile.mkdtemp(prefix="xpsync-test-tmp-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def demo_dirs(scratch: Path) -> set[str]:
    return {str(p) for p in scratch.glob("xpsync-demo-*")}


def test_a_small_demo_runs_to_a_summary_with_no_drift(scratch):
    result = xpsync("demo", "--members", "20", "--seconds", "3", env={"TMPDIR": str(scratch)}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("reconcile_all", "no drift", "every managed role as the database says", "told privately",
                 "discord commit→call", "Discord role changes", "faults injected",
                 "The board, live while the demo runs: http://127.0.0.1:",
                 "The admin panel, live while the demo runs (a one-time login link): http://127.0.0.1:"):
        assert line in result.stdout, line
    # a quest completed by itself, a purchase approved, and others waiting for the panel
    quests = re.search(r"Quests: (\d+) completed by themselves", result.stdout)
    shop = re.search(r"Shop: (\d+) purchase\(s\) approved, (\d+) waiting", result.stdout)
    assert quests and int(quests.group(1)) > 0, result.stdout
    assert shop and int(shop.group(1)) >= 1, result.stdout
    # the shop's Discord role: the demo's approval reached the sandbox guild, another purchase waits
    assert re.search(r"Shop role: \S+'s VIP role was approved by the demo and given on Discord; [1-9]\d* purchase",
                     result.stdout), result.stdout
    # the demo's approval of a role bought on Discord was told there, by direct message
    told = re.search(r"Discord direct messages\W+(\d+) \(reviews", result.stdout)
    assert told and int(told.group(1)) >= 1, result.stdout
    assert demo_dirs(scratch) == set()  # its server and data are gone


def test_keep_leaves_the_database_up_for_psql(scratch):
    pids: list[int] = []
    result = xpsync("demo", "--members", "10", "--seconds", "1", "--keep", env={"TMPDIR": str(scratch)},
                    timeout=300)
    kept = sorted(demo_dirs(scratch))
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(kept) == 1
        assert f"XPSYNC_HOME={kept[0]} xpsync db psql" in result.stdout
        psql = xpsync("db", "psql", "-At", "-c", "select count(*) > 0 from xp.users", env={"XPSYNC_HOME": kept[0]})
        assert psql.stdout.strip() == "t"
        # a Discord role for sale, and a purchase of it by a member with a Discord account left to approve
        waiting = xpsync("db", "psql", "-At", "-c",
                         "select count(*) from xp.purchases p join xp.shop_items i on i.code = p.item "
                         "join xp.accounts a on a.user_id = p.user_id and a.platform = 'discord' "
                         "where i.kind = 'discord_role' and i.guild_id is not null and i.role_id is not null "
                         "and p.status = 'pending'", env={"XPSYNC_HOME": kept[0]})
        assert int(waiting.stdout.strip() or 0) >= 1, waiting.stdout + waiting.stderr
        web = re.search(r"The web is still running at (http://127\.0\.0\.1:\d+/) \(process (\d+)\)", result.stdout)
        assert web, result.stdout
        pids.append(int(web.group(2)))
        assert re.search(r"The admin panel \(a one-time login link\): http://127\.0\.0\.1:\d+/admin/login\?token=xpa_",
                         result.stdout), result.stdout
        with urllib.request.urlopen(web.group(1)) as board:  # noqa: S310 - the demo's loopback http URL
            assert board.status == 200 and b"<table class=\"board\">" in board.read()
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        for home in kept:
            EmbeddedServer(home).stop()
            subprocess.run(["rm", "-rf", home], check=False)


def test_the_demo_never_touches_database_url(db_url):
    result = xpsync("demo", env={"DATABASE_URL": db_url})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "xpsync: xpsync demo runs on its own embedded PostgreSQL and never touches DATABASE_URL: unset it")


@pytest.mark.parametrize("moment", ["while its server starts", "while its members are at work"])
def test_a_terminated_demo_leaves_no_server_behind(scratch, moment):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-m", "xpsync", "demo", "--members", "20", "--seconds", "30"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = "pgdata/PG_VERSION" if moment == "while its server starts" else "pgdata/postmaster.pid"
    try:
        deadline = time.monotonic() + 60
        while not any(os.path.exists(f"{d}/{started}") for d in demo_dirs(scratch)):
            assert time.monotonic() < deadline, f"the demo never got to {started}"
            time.sleep(0.05)
        if moment == "while its members are at work":
            time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        proc.kill()
        proc.communicate()
    deadline = time.monotonic() + 30
    while demo_dirs(scratch) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert demo_dirs(scratch) == set()


def test_the_demos_admin_link_opens_a_panel_that_moves_while_it_runs(scratch):
    """The printed one-time link signs in (its page, one click); the panel's event stream then tells
    of new ledger rows while the members are at work."""
    import httpx2 as httpx

    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "TMPDIR": str(scratch),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "xpsync", "demo", "--members", "20", "--seconds", "15"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        link = None
        deadline = time.monotonic() + 120
        while link is None:
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(seen)
            seen.append(line)
            found = re.search(r"The admin panel, live while the demo runs \(a one-time login link\): (\S+)", line)
            link = found.group(1) if found else None
        site = link.split("/admin/login")[0]
        with httpx.Client(base_url=site, timeout=10) as client:
            page = client.get(link)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            token = link.partition("token=")[2]
            assert client.post("/admin/login", data={"token": token, "csrf": csrf}).status_code == 303
            assert "demo-operator" in client.get("/admin").text
            moves = []
            with client.stream("GET", "/admin/events", timeout=httpx.Timeout(10, read=30)) as stream:
                for line in stream.iter_lines():
                    if line.startswith("event: ") and line != "event: hello":
                        moves.append(line[7:])
                    if moves.count("ledger") >= 2:  # the members' awards, as they come
                        break
            assert client.post("/admin/login", data={"token": token, "csrf": csrf}).status_code != 303  # once
        for line in proc.stdout:
            seen.append(line)
        assert proc.wait(120) == 0, "".join(seen)
    finally:
        proc.kill()
        proc.communicate()
    assert demo_dirs(scratch) == set()
