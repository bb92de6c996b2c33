"""Sign-in throttling: after too many wrong passwords for one name, or from one address,
within a window, sign-in for it is refused until the window has moved on, before any
password is hashed (each costs scrypt's work, which a flood of guesses would spend).

Kept in memory, per web process: a restart forgets it, as it forgets nothing else that
matters (sessions, users and the audit log are in the database).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
PER_NAME = 5  # wrong passwords for one name within WINDOW
PER_ADDRESS = 20  # from one address, any names: a team behind one NAT signs in too
MAX_KEYS = 10_000  # names and addresses remembered; the oldest are forgotten first


class SignInGuard:
    def __init__(self) -> None:
        self._failures: OrderedDict[tuple[str, str], list[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, name: str, address: str | None, now: datetime) -> timedelta | None:
        """How long until this name (from this address) may try again; None: now."""
        with self._lock:
            waits = [self._wait(key, limit, now) for key, limit in _keys(name, address)]
        return max((w for w in waits if w is not None), default=None)

    def failed(self, name: str, address: str | None, now: datetime) -> None:
        with self._lock:
            for key, _ in _keys(name, address):
                recent = [t for t in self._failures.pop(key, []) if now - t < WINDOW]
                self._failures[key] = [*recent, now][-PER_ADDRESS:]
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name.casefold()), None)

    def _wait(self, key: tuple[str, str], limit: int, now: datetime) -> timedelta | None:
        recent = [t for t in self._failures.get(key, []) if now - t < WINDOW]
        if len(recent) < limit:
            return None
        return recent[-limit] + WINDOW - now


def _keys(name: str, address: str | None) -> list[tuple[tuple[str, str], int]]:
    keys = [(("name", name.casefold()), PER_NAME)]
    if address:
        keys.append((("address", address), PER_ADDRESS))
    return keys
