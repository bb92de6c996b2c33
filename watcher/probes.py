"""The checks behind `watcher run`'s probes: is the daemon alive, is it healthy.

Alive (`/livez`): not stopping and the scheduler running, so a restart would help.
Healthy (`/healthz`): alive and the database answering. A database outage makes the daemon
unhealthy (alerts and polls wait) but not dead: restarting it would not bring the
database back, so orchestrators restart on `/livez` and route or alarm on `/healthz`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from watcher.errors import StoreError
from watcher.health import HealthCheck

# Probes may come every second from several places; the database is asked at most this often.
DATABASE_CHECK_SECONDS = 5.0


class DatabaseCheck:
    """Pings the database, at most once per `every` seconds; callers in between get the
    last answer. One ping at a time: probes arriving during a slow ping wait for it."""

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

    def __call__(self) -> tuple[bool, str]:
        with self._lock:
            if self._last is not None and self._clock() - self._checked_at < self._every:
                return self._last
            try:
                self._ping()
                answer = (True, "ok")
            except StoreError as error:  # one line naming the database, password hidden
                answer = (False, f"database unreachable: {error}")
            self._last, self._checked_at = answer, self._clock()
            return answer


def all_of(*checks: HealthCheck) -> HealthCheck:
    """A check that fails with the first failing check's reason."""

    def check() -> tuple[bool, str]:
        for one in checks:
            ok, reason = one()
            if not ok:
                return ok, reason
        return True, "ok"

    return check
