"""The embedded server leaves nothing behind, even when its owner is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from xpsync.embedded import EmbeddedServer

pytestmark = pytest.mark.slow  # a server per test, and a SIGKILLed owner

OWNER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from xpsync.embedded import EmbeddedServer
    EmbeddedServer(Path(sys.argv[1])).start(watch_pid=os.getpid(), delete_on_exit=True)
    print("ready", flush=True)
    time.sleep(600)
    """
)


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_a_killed_owner_leaves_no_server_and_no_data(server_home):
    home = server_home / "owned"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline().strip() == "ready"
        server = EmbeddedServer(home)
        assert server.is_running()
        postmaster = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(10)
        assert wait_for(lambda: not home.exists(), timeout=30)
        assert wait_for(lambda: not _alive(postmaster), timeout=10)
    finally:
        owner.kill()
        owner.wait(10)
        owner.stdout.close()
        EmbeddedServer(home).stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
