"""Claim owners: a name per process, and death proven only where it can be: real processes
started, killed (SIGKILL) and reaped, on this host; other hosts and names never count."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.support.processes import exited_worker_name
from watcher.store.owners import DeadOwners, Owner, describe, is_this_process, why_dead, worker_name

# Lives until the test kills it, or closes its standard input.
PRINT_NAME_AND_WAIT = (
    "import sys\n"
    "from watcher.store.owners import worker_name\n"
    "print(worker_name(), flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def running() -> Iterator[subprocess.Popen[str]]:
    """A live process that has printed its claim name; killed and reaped afterwards."""
    process = subprocess.Popen([sys.executable, "-c", PRINT_NAME_AND_WAIT],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def parsed(name: str) -> Owner:
    owner = Owner.parse(name)
    assert owner is not None, name
    return owner


def test_a_name_says_host_and_process_and_each_is_new():
    first, second = worker_name(), worker_name()
    assert first != second  # two senders in one process are two owners
    owner = parsed(first)
    assert (owner.pid, str(owner)) == (os.getpid(), first)
    assert describe(first) == describe(f"{first}:7") == f"{owner.host} pid {os.getpid()}"
    assert describe("sender-0123abcd") == "sender-0123abcd"  # an older watcher's, as it is


def test_this_process_is_alive_and_its_own():
    name = worker_name()
    assert why_dead(name) is None and why_dead(f"{name}:3") is None  # a poll's `:N` too
    assert is_this_process(name)


def test_a_process_that_exited_is_dead():
    name = exited_worker_name()
    assert why_dead(name) == f"process {parsed(name).pid} is gone"
    assert not is_this_process(name)


def test_a_killed_process_is_dead_before_and_after_it_is_reaped(running):
    name = running.stdout.readline().strip()
    assert why_dead(name) is None
    running.send_signal(signal.SIGKILL)
    os.waitid(os.P_PID, running.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    assert why_dead(name) == f"process {running.pid} has exited"
    running.wait()
    assert why_dead(name) == f"process {running.pid} is gone"


def test_a_pid_that_another_process_has_now_is_not_the_owner():
    """A restarted container's watcher gets pid 1 again; the start time tells them apart."""
    owner = parsed(worker_name())
    assert owner.start is not None  # Linux: the start time is in the name
    earlier = replace(owner, start=owner.start - 1)
    assert why_dead(str(earlier)) == f"process {os.getpid()} is another process now"


def test_owners_this_host_cannot_see_are_never_proven_dead():
    dead = parsed(exited_worker_name())
    unseen = [
        replace(dead, host="worker-2.example"),  # another machine
        replace(dead, machine="0123456789ab"),  # same host name, other pid namespace or boot
        replace(dead, start=None, machine=None),  # no identity (not Linux), so not provable
    ]
    for owner in unseen:
        assert why_dead(str(owner)) is None, owner
    for name in ["sender-0123abcd", "a", "", f"{dead.host}:0:abc", f"{dead.host}:x:abc"]:
        assert why_dead(name) is None, name


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as another user")
def test_a_process_of_another_user_counts_as_alive():
    """kill(pid, 0) answers EPERM for another user's process: it exists. (The exited
    process shows that the judge, as `nobody`, still sees this host's processes.)"""
    alive, dead = worker_name(), exited_worker_name()
    judge = ("import os, sys\nfrom watcher.store.owners import why_dead\nos.setuid(65534)\n"
             "print(why_dead(sys.argv[1]), why_dead(sys.argv[2]), sep='|')\n")
    done = subprocess.run([sys.executable, "-c", judge, alive, dead], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == f"None|process {parsed(dead).pid} is gone"


def test_dead_owners_logs_each_death_once(caplog):
    caplog.set_level(logging.WARNING, logger="test")
    dead_owners = DeadOwners(logging.getLogger("test"))
    name = exited_worker_name()
    assert dead_owners(name) and dead_owners(name)
    assert not dead_owners(worker_name())
    assert not dead_owners(str(replace(parsed(name), host="worker-2.example")))
    [record] = caplog.records
    assert f"owner={name}" in record.getMessage() and "is gone" in record.getMessage()


def test_the_sole_daemon_knows_every_other_owner_dead_wherever_it_ran():
    sole = DeadOwners(logging.getLogger("test"), sole="the only daemon")
    elsewhere = replace(parsed(worker_name()), host="worker-2.example", pid=1)
    assert sole(str(elsewhere)) and sole("sender-0123abcd")
    assert not sole(worker_name()) and not sole(f"{worker_name()}:4")  # its own polls
