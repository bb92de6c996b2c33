"""The helpers every kind of test needs: wait for a state nothing signals, bound a call
that might hang, a free loopback port, a working directory of the test's own, and a clock
the test moves by hand.

One of each, here, so that a fix (a longer deadline on a busy machine, a variable that
leaks in from outside) is made once.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

# Long enough for a busy machine: whatever a test waits for is seen as soon as it happens,
# so only a test that fails pays this wait.
PATIENCE = 60.0

def returns_within(seconds: float, call: Callable[[], T], what: str = "the call") -> T:
    """`call()`'s result, raised error included; fail the test if it is still running
    after `seconds` (it goes on in a daemon thread). For a call whose bug is a hang
    (a limit not applied): `seconds` is far above the limit the call should keep, so a
    busy machine passes, and far below the hang, so the bug fails the test."""
    done = threading.Event()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # handed to the test's thread
            failure.append(error)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    if not done.wait(seconds):
        raise AssertionError(f"{what} still running after {seconds:g} s")
    if failure:
        raise failure[0]
    return outcome[0]


def free_port() -> int:
    """A loopback port free right now (bound, then released) for a server to take."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def enter_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make `tmp_path` the working directory, without WATCHER_* variables from outside, so
    ./watcher.yaml and ./watcher.db are the test's own (the `workdir` fixture)."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("WATCHER_")]:
        if name not in KEPT_VARIABLES:
            monkeypatch.delenv(name)
    return tmp_path


# Set for the test run, not for one command: where the test PostgreSQL server is.
KEPT_VARIABLES = frozenset({"WATCHER_TEST_POSTGRES_URL", "WATCHER_REQUIRE_POSTGRES"})


class ManualClock:
    """A clock that stands still until the test moves it: `now()` (UTC) for what code
    records and compares, `monotonic()` for what it times, both moved by `advance`."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self._start = start
        self._elapsed = 0.0
        self._guard = threading.Lock()

    def now(self) -> datetime:
        with self._guard:
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        with self._guard:
            return 1000.0 + self._elapsed

    def advance(self, seconds: float) -> None:
        with self._guard:
            self._elapsed += seconds
