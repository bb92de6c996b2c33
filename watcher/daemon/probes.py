"""The checks behind `watcher run`'s probes: is the daemon alive, is it healthy.

Alive (`/livez`): not stopping and the scheduler running, so a restart would help.
Healthy (`/healthz`): alive, the database answering, and the alert sender able to record
what it sent (`Outbox.recording_health`: a database that answers reads but refuses writes,
a full disk, is unhealthy too). A database outage makes the daemon unhealthy (alerts and
polls wait) but not dead: restarting it would not bring the database back, and would lose
the sends the sender holds unrecorded, so orchestrators restart on `/livez` and route or
alarm on `/healthz`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from watcher.config.settings import DEFAULT_DATABASE_CHECK
from watcher.daemon.health import HealthCheck
from watcher.errors import StoreError

DATABASE_CHECK_SECONDS = float(DEFAULT_DATABASE_CHECK)  # watcher.yaml: http.database_check


class DatabaseCheck:
    """Pings the database, at most once per `every` seconds; callers in between get the
    last answer. One ping at a time: a probe arriving while one runs gets the last answer,
    unless that ping has run longer than `every`, which is itself the answer (not
    answering), so a hung database never hides behind an old "ok"."""

    def __init__(
        self,
        ping: Callable[[], None],
        *,
        every: float = DATABASE_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ping = ping
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[bool, str] | None = None
        self._checked_at = 0.0
        self._started_at: float | None = None  # of the ping in progress

    def __call__(self) -> tuple[bool, str]:
        if not self._lock.acquire(blocking=False):
            return self._while_pinging()
        try:
            if self._last is not None and self._clock() - self._checked_at < self._every:
                return self._last
            self._started_at = self._clock()
            answer = self._answer()
            self._last, self._checked_at, self._started_at = answer, self._clock(), None
            return answer
        finally:
            self._lock.release()

    def _answer(self) -> tuple[bool, str]:
        try:
            self._ping()
        except StoreError as error:  # what went wrong, never the URL: anyone may ask /healthz
            return False, f"database unreachable: {error.failure}"
        except Exception as error:  # pool timeouts and the like: the kind, never the URL
            return False, f"database unreachable: {type(error).__name__}"
        return True, "ok"

    def _while_pinging(self) -> tuple[bool, str]:
        started = self._started_at
        if started is not None and self._clock() - started > self._every:
            return False, f"database not answering for {self._clock() - started:.0f} s"
        return self._last if self._last is not None else (False, "database check in progress")


def all_of(*checks: HealthCheck) -> HealthCheck:
    """A check that fails with the first failing check's reason."""

    def check() -> tuple[bool, str]:
        for one in checks:
            ok, reason = one()
            if not ok:
                return ok, reason
        return True, "ok"

    return check
