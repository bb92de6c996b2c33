"""CPU seconds of running processes, from /proc (Linux): how the workers part's processes
(the workers, PostgreSQL, the feed server) share the machine's cores."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User + system CPU of `pid`, all its threads, so far; 0.0 once it is gone. With
    `with_reaped_children`, also that of the children it has waited for (a server's
    backends that have exited)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    """A server's CPU so far: its own, its exited children's and its live children's (a
    PostgreSQL postmaster and its backends)."""
    return cpu_seconds(pid, with_reaped_children=True) + sum(
        cpu_seconds(child) for child in _children(pid))


def parent_of(pid: int) -> int:
    return int(_stat(pid)[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
        except OSError:  # exited meanwhile
            continue
    return found


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (field 3, the state, is [0])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
