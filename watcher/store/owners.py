"""Who holds a claim (a source's poll, a delivery): the name a worker claims under, and
whether the holder of a claim is provably dead, so its claims need not wait out the lease.

A name is `host:pid:nonce`. On Linux the pid carries the process's identity,
`host:pid@start.machine:nonce`: its start time (clock ticks after boot, /proc/PID/stat)
and a digest of the boot id and pid namespace. So a process that got a dead one's pid
after a restart, or another container with the same host name, is never taken for it.
Off Linux names carry no identity, and their owners are never proven dead.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
MAX_PID = 2**31 - 1  # a C int: what os.kill takes
EXITED = frozenset(b"ZXx")  # zombie or dead: exited, perhaps not reaped yet
NAME = re.compile(r"([^:]+):(\d+)(?:@(\d+)\.([0-9a-f]+))?:([^:]+)(?::.*)?", re.ASCII)


@dataclass(frozen=True)
class Owner:
    """A claim's owner, parsed from its name; `start` and `machine` only on Linux."""

    host: str
    pid: int
    start: int | None
    machine: str | None
    nonce: str

    def __str__(self) -> str:
        identity = "" if self.start is None else f"@{self.start}.{self.machine}"
        return f"{self.host}:{self.pid}{identity}:{self.nonce}"

    @classmethod
    def parse(cls, name: str) -> Owner | None:
        """The owner a claim names (a poll's name has a `:N` suffix, ignored); None for a
        name of another form, such as an older watcher's `sender-…`."""
        found = NAME.fullmatch(name)
        if found is None or not 1 <= int(found[2]) <= MAX_PID:
            return None
        start = int(found[3]) if found[3] else None
        return cls(found[1], int(found[2]), start, found[4], found[5])

    def describe(self) -> str:
        """For people: `host pid N`."""
        return f"{self.host} pid {self.pid}"


def worker_name() -> str:
    """A new claim name for this process. The random nonce keeps two senders in one
    process, and a restarted process on the same host and pid, apart."""
    pid = os.getpid()
    identity = _identity(pid)
    start, machine = identity if identity else (None, None)
    return str(Owner(_host(), pid, start, machine, uuid.uuid4().hex[:6]))


def describe(name: str) -> str:
    """An owner for people (`host pid N`), or the name as it is when of another form."""
    owner = Owner.parse(name)
    return owner.describe() if owner else name


def why_dead(name: str) -> str | None:
    """Why the owner `name` is certainly dead, or None when it may be alive: running, on
    another host or pid namespace (nothing here can see it), or named in another form."""
    owner = Owner.parse(name)
    if owner is None or not _visible_here(owner):
        return None
    try:
        os.kill(owner.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return f"process {owner.pid} is gone"
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return None
    return _exited_or_replaced(owner)


def is_this_process(name: str) -> bool:
    """Whether `name` is a claim of this very process (any of its workers)."""
    owner = Owner.parse(name)
    if owner is None or owner.host != _host() or owner.pid != os.getpid():
        return False
    return (owner.start, owner.machine) == (_identity(owner.pid) or (None, None))


class DeadOwners:
    """A claimer's test of other claims' owners, handed to the store: True only for an
    owner proven dead. A death is remembered (the dead stay dead) and logged once.

    `sole`: no other process of this kind can be running (the SQLite daemon's lock
    proves it), so every owner that is not this process is dead, wherever it ran.
    """

    def __init__(self, log: logging.Logger, *, sole: str | None = None) -> None:
        self._log = log
        self._sole = sole  # why no other process can be running, when none can
        self._dead: set[str] = set()

    def __call__(self, name: str) -> bool:
        if name in self._dead:
            return True
        reason = why_dead(name)
        if reason is None and self._sole and not is_this_process(name):
            reason = self._sole
        if reason is None:
            return False
        self._dead.add(name)
        self._log.warning("event=claim_owner_dead owner=%s reason=%r "
                          "action='its claims are taken over now'", name, reason)
        return True


def _visible_here(owner: Owner) -> bool:
    """Whether this process sees the owner's process table: the same host name and, on
    Linux, the same boot and pid namespace (a container sharing the host name has its
    own pids, and its pid 7 is not ours)."""
    if owner.host != _host():
        return False
    # Off Linux there is no machine digest, and a host name alone proves nothing (two
    # machines or jails may share one): such owners wait out their lease.
    return owner.machine is not None and owner.machine == _machine()


def _exited_or_replaced(owner: Owner) -> str | None:
    """For a pid that exists: dead when it is a zombie or another process now (started at
    another time); None when /proc cannot say (not Linux, or hidden from this user)."""
    stat = _stat(owner.pid)
    if stat is None:
        return None
    state, start = stat
    if state in EXITED:
        return f"process {owner.pid} has exited"
    if owner.start is not None and start != owner.start:
        return f"process {owner.pid} is another process now"
    return None


def _identity(pid: int) -> tuple[int, str] | None:
    """The start time and machine digest of a process; None off Linux or when hidden."""
    machine, stat = _machine(), _stat(pid)
    return (stat[1], machine) if machine and stat else None


@functools.cache
def _host() -> str:
    """The host name as this process started with it: a rename while it runs must not
    make its own claims look like another host's (or its own look dead)."""
    return socket.gethostname().replace(":", "_") or "localhost"


@functools.cache
def _machine() -> str | None:
    """This process's view of the machine: boot id and pid namespace, digested; None
    when /proc cannot tell (not Linux, or not readable)."""
    try:
        if os.readlink(PROC / "self") != str(os.getpid()):
            return None  # a /proc of another pid namespace: its pids are not ours
        boot = PROC.joinpath("sys/kernel/random/boot_id").read_bytes().strip()
        namespace = os.readlink(PROC / "self" / "ns" / "pid")
    except OSError:
        return None
    return hashlib.sha256(boot + b" " + os.fsencode(namespace)).hexdigest()[:12]


def _stat(pid: int) -> tuple[int, int] | None:
    """A process's state letter (as a byte) and start time in clock ticks after boot,
    from /proc/PID/stat; None when unreadable (gone, hidden, or not Linux)."""
    try:
        text = PROC.joinpath(str(pid), "stat").read_bytes()
    except OSError:
        return None
    fields = text[text.rfind(b")") + 2:].split()  # after "pid (command name) "
    try:
        return fields[0][0], int(fields[19])  # fields 3 (state) and 22 (starttime)
    except (IndexError, ValueError):
        return None
