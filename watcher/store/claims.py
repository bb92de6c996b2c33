"""Claims on the articles a poll is analysing, so that one text is analysed once.

A syndicated text sits in many feeds, and the polls of those feeds run at once (a worker's
poll threads, and the other workers on one PostgreSQL). Each poll asks the store which of
its articles are stored before analysing them, but a copy that another poll is analysing
right then is not stored yet: both analysed it, and the second's store found it a
duplicate and threw the work away (with 4 workers, 1,068 of 2,358 analyses in the
workers benchmark; docs/storage.md, "Ingests side by side").

A claim says "this poll is analysing and storing an article with these identity keys".
The pipeline claims a chunk's articles before analysing them, leaves those claimed
elsewhere for after its own are stored, then waits for those claims to end and asks the
store again: the other poll has stored them by then, so they are duplicates found with
one query instead of analysed twice. A claim only orders work: the unique identity key
still decides what is stored, and an article whose claim outlasts the wait is analysed
anyway (stored once, never dropped).

Claims are held in this process (for its threads) and, on PostgreSQL, as session-level
advisory locks on one connection of the store's own (for the other workers): a worker
that dies drops its connection and its claims with it. They are never taken inside an
ingest's transaction, and a poll waits for claims only while it holds none, so claims
cannot make two polls wait for each other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from watcher.store.ingest import LockSpace, lock_key

log = logging.getLogger("watcher.store")

# A claim is held while its poll analyses and stores a chunk of articles; a poll waits at
# most this long for claims held elsewhere (a poller at most a third of its poll lease,
# which it keeps before and after: Poller._claim_wait), then analyses the articles itself.
CLAIM_WAIT_SECONDS = 30.0
# Waits on PostgreSQL are cut in slices this long, asking between them whether to stop.
WAIT_SLICE_SECONDS = 1.0
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock wait cut by lock_timeout


class AnalysisClaims:
    """This process's claims (shared by its threads), and on PostgreSQL its session locks."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._shared = engine.dialect.name == "postgresql"
        self._held: set[str] = set()
        self._changed = threading.Condition()
        self._session: Connection | None = None
        self._session_guard = threading.Lock()

    @contextmanager
    def claimed(self, keys: Sequence[str]) -> Iterator[set[str]]:
        """Claim the keys for the `with` block; yields those claimed elsewhere (by another
        thread or worker), whose articles the caller leaves for later."""
        wanted = list(dict.fromkeys(keys))
        with self._changed:
            elsewhere = {key for key in wanted if key in self._held}
            mine = [key for key in wanted if key not in self._held]
            self._held.update(mine)
        try:  # whatever stops the locking (a pool's timeout, an interrupt) ends the claims
            locked, refused = self._lock_shared(mine)
        except BaseException:
            self._forget(mine)
            raise
        if refused:
            self._forget(refused)
            mine = [key for key in mine if key not in refused]
        try:
            yield elsewhere | refused
        finally:
            try:
                if locked:  # not when the connection failed: its locks went with it
                    self._unlock_shared(mine)
            finally:
                self._forget(mine)

    def wait(self, keys: Sequence[str], until: Callable[[], bool],
             at_most: float = CLAIM_WAIT_SECONDS) -> None:
        """Until no one claims `keys` (at most `at_most` seconds, and not once `until()` is
        true). The caller must hold no claim, so that no two polls wait for each other."""
        deadline = self._clock() + at_most
        with self._changed:
            while any(key in self._held for key in keys) and not until():
                left = deadline - self._clock()
                if left <= 0:
                    return
                self._changed.wait(min(left, WAIT_SLICE_SECONDS))
        if self._shared:
            self._wait_shared(list(dict.fromkeys(keys)), deadline, until)

    def close(self) -> None:
        """Give the session (and any claim on it) back."""
        with self._session_guard:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _forget(self, keys: Sequence[str] | set[str]) -> None:
        with self._changed:
            self._held.difference_update(keys)
            self._changed.notify_all()

    def _lock_shared(self, keys: Sequence[str]) -> tuple[bool, set[str]]:
        """The session locks of `keys` (PostgreSQL): whether they were asked for (not when
        the connection failed), and those another session holds."""
        if not self._shared or not keys:
            return False, set()
        rows = self._on_session(_TRY_LOCKS, keys)
        if rows is None:
            return False, set()
        return True, {keys[int(row[0]) - 1] for row in rows}

    def _unlock_shared(self, keys: Sequence[str]) -> None:
        if self._shared and keys:
            self._on_session(_UNLOCK, keys)

    def _on_session(self, statement: sa.TextClause, keys: Sequence[str]) -> list[sa.Row] | None:
        """`statement` over the keys' lock keys on the claims' own connection (autocommit:
        never idle in a transaction); None if it failed. A failed connection is dropped,
        and its locks with it: the claims it held are then no one's, which costs duplicate
        work, nothing else."""
        values = _lock_values(keys)
        with self._session_guard:
            try:
                if self._session is None:
                    self._session = self._engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT")
                return list(self._session.execute(statement, values))
            except sa.exc.DBAPIError as error:
                log.warning("event=analysis_claims_lost error=%r action='articles analysed "
                            "without claims until the database answers'", str(error.orig))
                self._drop_session()
                return None
            except BaseException:
                # Cut short by something else (an interrupt): whether the statement took or
                # gave back its locks is unknown, so the connection goes, and its locks with
                # it, rather than leave other workers waiting on a claim no one holds.
                self._drop_session()
                raise

    def _drop_session(self) -> None:
        """Close the claims' connection for good (its session locks end with it); the next
        claim opens another. Called with `_session_guard` held."""
        if self._session is not None:
            self._session.invalidate()
            self._session.close()
            self._session = None

    def _wait_shared(self, keys: list[str], deadline: float, until: Callable[[], bool]) -> None:
        """Wait for other sessions' locks on `keys`: take them shared in a short
        transaction of a pooled connection, a slice at a time."""
        values = _lock_values(keys)
        while not until():
            left = deadline - self._clock()
            if left <= 0:
                return
            try:
                with self._engine.connect() as connection, connection.begin():
                    timeout = max(1, int(min(left, WAIT_SLICE_SECONDS) * 1000))
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout}")
                    connection.execute(_WAIT, values)
                    return
            except sa.exc.DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    return  # the database is what failed: the ingest that follows says so


# Row numbers (1-based) of the keys another session holds; each volatile try-lock is run
# once per row, in order.
_TRY_LOCKS = sa.text(
    "SELECT n FROM unnest(CAST(:keys AS integer[])) WITH ORDINALITY AS wanted (key, n) "
    "WHERE NOT pg_try_advisory_lock(:space, key) ORDER BY n"
)
_UNLOCK = sa.text(
    "SELECT count(pg_advisory_unlock(:space, key)) FROM unnest(CAST(:keys AS integer[])) "
    "AS held (key)"
)
# Shared: waiters never wait for each other, only for the session holding the claim.
_WAIT = sa.text(
    "SELECT count(pg_advisory_xact_lock_shared(:space, key)) "
    "FROM unnest(CAST(:keys AS integer[])) AS wanted (key)"
)


def _lock_values(keys: Sequence[str]) -> dict[str, object]:
    """The lock statements' parameters: the analysis lock space and the keys' lock keys."""
    return {"space": int(LockSpace.ANALYSIS), "keys": [lock_key(key) for key in keys]}
