"""Run a command under the seccomp confinement a unit file asks of systemd: a rehearsal.

    python -m tests.deploy.confine UNIT_FILE COMMAND [ARG...]

systemd 252 turns these settings into seccomp filters at start-up; this builds the same
filters with libseccomp (which systemd itself links), from the unit file's own lines:
`NoNewPrivileges=`, `SystemCallFilter=` (an allow-list with the listed groups removed,
refused calls failing with `SystemCallErrorNumber=`), `RestrictAddressFamilies=`
(socket() of another family fails with EAFNOSUPPORT) and `MemoryDenyWriteExecute=`
(no mapping both writable and executable, no mprotect or shmat making memory executable).
The groups are expanded by `systemd-analyze syscall-filter`, as systemd knows them.
Mounts, users and capabilities are not rehearsed here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.deploy.units import analyzer, parse_unit

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ = 4, 5, 7
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
PR_SET_NO_NEW_PRIVS = 38
FAMILIES_CHECKED = 64  # every address family number below this is allowed or refused one by one


def errno_action(number: int) -> int:
    return 0x00050000 | (number & 0xFFFF)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _libseccomp() -> ctypes.CDLL:
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    return lib


def syscall_groups() -> dict[str, list[str]]:
    """Every @group of this systemd and what it lists (calls and other groups)."""
    out = subprocess.run([analyzer(), "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand(names: list[str], groups: dict[str, list[str]]) -> set[str]:
    calls: set[str] = set()
    for name in names:
        calls |= expand(groups[name], groups) if name.startswith("@") else {name}
    return calls


def allowed_calls(lines: list[str], groups: dict[str, list[str]]) -> set[str]:
    """SystemCallFilter= lines in order: an allow-list (with @default, as systemd adds it), then removals."""
    assert lines and not lines[0].startswith("~"), "only an allow-list is rehearsed"
    allowed = expand(["@default"], groups)
    for line in lines:
        if line.startswith("~"):
            allowed -= expand(line[1:].split(), groups)
        else:
            allowed |= expand(line.split(), groups)
    return allowed


class Filter:
    """One seccomp filter; systemd loads one per setting, and the kernel applies them all."""

    def __init__(self, lib: ctypes.CDLL, default: int) -> None:
        self.lib, self.ctx = lib, lib.seccomp_init(default)
        assert self.ctx, "seccomp_init failed"

    def rule(self, action: int, call: str, *cmps: tuple[int, int, int, int]) -> None:
        number = self.lib.seccomp_syscall_resolve_name(call.encode())
        if number < 0:
            return  # a call this architecture does not have
        array = (ArgCmp * max(len(cmps), 1))(*[ArgCmp(*c) for c in cmps])
        result = self.lib.seccomp_rule_add_array(self.ctx, action, number, len(cmps), array)
        assert result == 0, f"seccomp rule for {call}: {os.strerror(-result)}"

    def load(self) -> None:
        result = self.lib.seccomp_load(self.ctx)
        assert result == 0, f"seccomp_load: {os.strerror(-result)}"
        self.lib.seccomp_release(self.ctx)


def confine(unit: Path) -> None:
    service = dict(parse_unit(unit)["Service"])
    lines = [v for k, v in parse_unit(unit)["Service"] if k == "SystemCallFilter"]
    groups = syscall_groups()
    lib = _libseccomp()
    if service.get("NoNewPrivileges") == "yes":
        assert ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    if "RestrictAddressFamilies" in service:
        allowed = {int(getattr(socket, name)) for name in service["RestrictAddressFamilies"].split()}
        families = Filter(lib, SCMP_ACT_ALLOW)
        for family in sorted(set(range(FAMILIES_CHECKED)) - allowed):
            families.rule(errno_action(errno.EAFNOSUPPORT), "socket", (0, SCMP_CMP_EQ, family, 0))
        families.rule(errno_action(errno.EAFNOSUPPORT), "socket", (0, SCMP_CMP_GE, FAMILIES_CHECKED, 0))
        families.load()
    if service.get("MemoryDenyWriteExecute") == "yes":
        memory = Filter(lib, SCMP_ACT_ALLOW)
        wx = PROT_WRITE | PROT_EXEC
        memory.rule(errno_action(errno.EPERM), "mmap", (2, SCMP_CMP_MASKED_EQ, wx, wx))
        for call in ("mprotect", "pkey_mprotect"):
            memory.rule(errno_action(errno.EPERM), call, (2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
        memory.rule(errno_action(errno.EPERM), "shmat", (2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
        memory.load()
    # last, as systemd does: the allow-list may refuse seccomp() itself
    if lines:
        refusal = errno_action(getattr(errno, service.get("SystemCallErrorNumber", "EPERM")))
        calls = Filter(lib, refusal)
        for call in sorted(allowed_calls(lines, groups)):
            calls.rule(SCMP_ACT_ALLOW, call)
        calls.load()


def main(argv: list[str]) -> None:
    unit, command = Path(argv[0]), argv[1:]
    confine(unit)
    os.chdir("/")  # a system service's working directory
    os.execv(command[0], command)  # noqa: S606 - exec the unit's own command, as systemd does


if __name__ == "__main__":
    main(sys.argv[1:])
