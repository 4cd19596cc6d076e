"""The rehearsal of the units' seccomp settings (tests/deploy/confine.py) really confines.

Every unit command in tests/deploy runs under it (reconcile, cleanup, the Discord listener
delivering, the Telegram bot starting, the configuration errors), so those tests show that
Python, psycopg, aiohttp, discord.py and aiogram work under the units' system-call filter,
address families and MemoryDenyWriteExecute=. This checks that the same confinement refuses
what the units forbid, so that they do not pass for want of a filter.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.deploy.units import REPO, base_env, services

PROBE = r"""
import ctypes, errno, json, mmap, os, socket

def attempt(f):
    try:
        f()
    except OSError as exc:
        return errno.errorcode[exc.errno]
    return "allowed"

libc = ctypes.CDLL(None, use_errno=True)
page = mmap.mmap(-1, mmap.PAGESIZE)
address = ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(page)))
callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
results = {
    "writable and executable mapping": attempt(lambda: mmap.mmap(-1, 4096, prot=7)),
    "mprotect to executable": "EPERM" if libc.mprotect(address, mmap.PAGESIZE, 4) and ctypes.get_errno() == 1
                              else "allowed",
    "netlink socket": attempt(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)),
    "packet socket": attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)),
    "setpriority (@resources)": attempt(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1)),
    "setuid (@privileged)": attempt(lambda: os.setuid(os.getuid())),
    "chown (@privileged)": attempt(lambda: os.chown("/", -1, -1)),
    "TCP socket": attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()),
    "Unix socket": attempt(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()),
    "ctypes callback": "allowed" if callback(1) == 2 else "broken",
}
print(json.dumps(results))
"""


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
def test_the_units_confinement_refuses_what_the_unit_forbids(service, tmp_path):
    result = subprocess.run([sys.executable, "-m", "tests.deploy.confine", str(service.path),
                             sys.executable, "-c", PROBE],
                            env=base_env(tmp_path), cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "writable and executable mapping": "EPERM",
        "mprotect to executable": "EPERM",
        "netlink socket": "EAFNOSUPPORT",
        "packet socket": "EAFNOSUPPORT",
        "setpriority (@resources)": "EPERM",
        "setuid (@privileged)": "EPERM",
        "chown (@privileged)": "EPERM",
        "TCP socket": "allowed",
        "Unix socket": "allowed",
        "ctypes callback": "allowed",
    }
