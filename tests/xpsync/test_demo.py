"""`xpsync demo`: the main job, small enough for CI, and nothing left behind."""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

from tests.xpsync.test_cli import xpsync
from xpsync.embedded import EmbeddedServer


def demo_dirs() -> set[str]:
    return set(glob.glob("/tmp/xpsync-demo-*"))


def test_a_small_demo_runs_to_a_summary_with_no_drift():
    before = demo_dirs()
    result = xpsync("demo", "--members", "20", "--seconds", "3", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("reconcile_all", "no drift", "every managed role as the database says", "every one told",
                 "discord commit→call", "Discord role changes", "faults injected",
                 "The board, live while the demo runs: http://127.0.0.1:"):
        assert line in result.stdout, line
    assert demo_dirs() == before  # its server and data are gone


def test_keep_leaves_the_database_up_for_psql(tmp_path):
    before = demo_dirs()
    pids: list[int] = []
    result = xpsync("demo", "--members", "10", "--seconds", "1", "--keep", timeout=300)
    kept = sorted(demo_dirs() - before)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(kept) == 1
        assert f"XPSYNC_HOME={kept[0]} xpsync db psql" in result.stdout
        psql = xpsync("db", "psql", "-At", "-c", "select count(*) > 0 from xp.users", env={"XPSYNC_HOME": kept[0]})
        assert psql.stdout.strip() == "t"
        web = re.search(r"The web is still running at (http://127\.0\.0\.1:\d+/) \(process (\d+)\)", result.stdout)
        assert web, result.stdout
        pids.append(int(web.group(2)))
        with urllib.request.urlopen(web.group(1)) as board:
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


def test_a_terminated_demo_leaves_no_server_behind():
    before = demo_dirs()
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    proc = subprocess.Popen([sys.executable, "-m", "xpsync", "demo", "--members", "20", "--seconds", "30"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(os.path.exists(f"{d}/pgdata/postmaster.pid") for d in demo_dirs() - before):
            assert time.monotonic() < deadline, "the demo never started its server"
            time.sleep(0.2)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        proc.kill()
        proc.communicate()
    deadline = time.monotonic() + 30
    while demo_dirs() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert demo_dirs() == before
