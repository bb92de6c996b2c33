"""The database engine: SQLite set up for two processes at once, and every failure as one line.

Nothing outside watcher/store sees SQLAlchemy; what goes wrong leaves here as a StoreError.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection, Engine

from watcher.errors import StoreError
from watcher.masking import MIN_SECRET_CHARS, forms, mask, masked_url, secrets_in_url

T = TypeVar("T")

WRITE_OPTION = "watcher_write"
"""Execution option marking a connection whose transaction will write (BEGIN IMMEDIATE)."""
TEMP_IN_MEMORY_OPTION = "watcher_temp_in_memory"
"""Execution option: the transaction's temporary storage in memory (`write_transaction`)."""

DEFAULT_BUSY_TIMEOUT = 30.0
PG_CONNECT_TIMEOUT = 10
PIP_NAMES = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary"}


def open_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine for `url`; a bad URL or a missing driver is a StoreError, not a traceback."""
    parsed = _parse_url(url)
    try:
        engine = sa.create_engine(parsed, **_engine_options(parsed, busy_timeout))
    except sa.exc.NoSuchModuleError:
        raise database_error(parsed, f"unknown database type {parsed.drivername!r}") from None
    except ImportError as exc:
        driver = exc.name or parsed.get_driver_name()
        hint = PIP_NAMES.get(driver, driver)
        raise database_error(
            parsed, f"the driver {driver!r} is not installed (pip install {hint})"
        ) from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout)
    return engine


def _parse_url(url: str) -> URL:
    try:
        return sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        reason = mask(_first_line(exc), _secrets(url))
        raise StoreError(f"bad database URL {masked_url(url)!r}: {reason}",
                         failure=f"bad database URL: {reason}") from None


def shown_url(url: URL) -> str:
    """The database URL as messages and logs show it: its password and every query value
    named like a credential (`?password=`, `sslpassword=`, `token=`) as ****."""
    return masked_url(url.render_as_string(hide_password=False))


def database_error(url: URL, failure: str) -> StoreError:
    """`database URL: failure`, one line; the failure alone, with the URL's secrets masked
    should a driver quote them, is what /healthz shows."""
    failure = mask(failure, _secrets(url.render_as_string(hide_password=False)))
    return StoreError(f"database {shown_url(url)}: {failure}", failure=failure)


def _secrets(url: str) -> set[str]:
    """The URL's secrets in every form a driver's message may quote them."""
    return {form for secret in secrets_in_url(url) for form in forms(secret)
            if len(form) >= MIN_SECRET_CHARS}


def _engine_options(url: URL, busy_timeout: float) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        # pysqlite's own timeout is SQLite's busy handler: how long to wait for a lock.
        return {"connect_args": {"timeout": busy_timeout}}
    if url.get_backend_name() == "postgresql":
        return {"connect_args": {"connect_timeout": PG_CONNECT_TIMEOUT}, "pool_pre_ping": True}
    return {"pool_pre_ping": True}


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for writers.

    pysqlite would BEGIN lazily (deferred) before the first INSERT; two processes that
    both read and then write would each wait for the other's lock to upgrade, and one
    fails at once with "database is locked". Taking the write lock at BEGIN makes the
    second writer wait its turn (SQLAlchemy docs, "Transactions with SQLite and the
    sqlite3 driver").
    """
    in_file = engine.url.database not in (None, "", ":memory:")

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if in_file:
            _switch_to_wal(cursor, deadline=time.monotonic() + busy_timeout)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        _temp_store(connection, "MEMORY" if options.get(TEMP_IN_MEMORY_OPTION) else "DEFAULT")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


def _temp_store(connection: Connection, wanted: str) -> None:
    """SQLite's temporary storage for the transaction beginning: set only when the
    connection's setting differs (it lasts as long as the connection), before BEGIN."""
    info = connection.connection.info
    if info.get("temp_store") != wanted:
        connection.exec_driver_sql(f"PRAGMA temp_store = {wanted}")
        info["temp_store"] = wanted


WAL_RETRY_PAUSE = 0.05


def _switch_to_wal(cursor: sqlite3.Cursor, deadline: float) -> None:
    """Put the file in WAL mode, waiting for other processes as the busy timeout promises.

    Switching a file to WAL needs an exclusive lock, and while another connection writes
    in the old journal mode SQLite answers "database is locked" at once, without calling
    the busy handler (seen: two `watcher replay` starting together on a new file). Once
    one process has switched, the mode is stored in the file and the others find it set.
    """
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return  # a file that cannot be WAL (read-only) keeps its mode, as SQLite decides
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(WAL_RETRY_PAUSE)


@contextmanager
def write_transaction(
    engine: Engine, *, rebuilds_tables: bool = False, savepoints_in_memory: bool = False
) -> Iterator[Connection]:
    """A transaction that takes the write lock up front (SQLite); commits unless it raises.

    `rebuilds_tables` (migrations): on SQLite, foreign keys are off meanwhile. Batch mode
    rebuilds a table (copy, drop, rename) that stored rows point at, and the drop fails
    with keys on. SQLite's documented way: keys off outside the transaction, change,
    `foreign_key_check` before the commit, keys on again.

    `savepoints_in_memory` (ingests): SQLite's temporary storage in memory meanwhile. A
    savepoint keeps the pages it changes in a journal, moved to a temporary file past
    64 KiB unless temporary storage is in memory: one article's savepoint in a batch passes
    it (its 32 bands land on as many index pages), and writing that file doubled the bands'
    insert (bench/RESULTS.md, "Store write path"). Other transactions keep files, where a
    large sort (an index built by a migration) or a prune's journal spills.
    """
    with engine.connect() as connection:
        raw = None
        if rebuilds_tables and connection.dialect.name == "sqlite":
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
        try:
            with writing_on(connection, savepoints_in_memory=savepoints_in_memory):
                yield connection
                if raw is not None and connection.exec_driver_sql(
                    "PRAGMA foreign_key_check"
                ).first():
                    raise StoreError("the change would leave rows pointing at nothing; "
                                     "nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys = ON")


@contextmanager
def writing_on(
    connection: Connection, *, savepoints_in_memory: bool = False
) -> Iterator[Connection]:
    """`write_transaction` on a connection the caller has checked out, for several
    transactions in turn: the pool checks a connection (a round trip on PostgreSQL) once
    per checkout."""
    connection.execution_options(**{WRITE_OPTION: True,
                                    TEMP_IN_MEMORY_OPTION: savepoints_in_memory})
    with connection.begin():
        yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that only reads: one consistent snapshot, no write lock."""
    with engine.connect() as connection, connection.begin():
        yield connection


@contextmanager
def store_errors(engine: Engine, busy_timeout: float) -> Iterator[None]:
    """Turn database failures into one StoreError line naming the database."""
    dbapi = engine.dialect.loaded_dbapi
    try:
        yield
    except (sa.exc.DBAPIError, dbapi.Error, CommandError) as exc:
        raise database_error(engine.url, describe_failure(exc, busy_timeout)) from None


def describe_failure(exc: BaseException, busy_timeout: float) -> str:
    """What went wrong, in the words a user can act on."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    message = _first_line(cause)
    if "database is locked" in message or "database table is locked" in message:
        return f"locked by another process for more than {busy_timeout:g} s"
    if "file is not a database" in message:
        return "file is not a database (corrupt, or not SQLite)"
    if isinstance(exc, sa.exc.OperationalError) and "connect" in message.lower():
        return f"cannot connect: {message}"
    return message


def _first_line(exc: BaseException | None) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


IN_CHUNK = 500  # values per IN (...) list: SQLite caps bound parameters per statement


def in_chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices short enough for one IN (...) list."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _lock_path(database: str, *, uri: bool) -> Path:
    """`<file>.lock` beside the database file itself, however it was named (relative, a
    symbolic link, a `file:` URI), so every name of one file gives one lock."""
    if uri:
        database = unquote(urlsplit(database).path)
    real = Path(database).resolve()
    return real.with_name(real.name + ".lock")


@contextmanager
def one_daemon_per_file(engine: Engine) -> Iterator[bool]:
    """On a SQLite file, hold an exclusive lock on `<file>.lock` for as long as the daemon
    runs, so a second `watcher run` on the same file stops with one line instead of both
    polling every feed. The kernel drops the lock when the process dies, even by SIGKILL.
    PostgreSQL needs nothing: workers there share the work through leases. Gives whether
    the lock is held: then no other daemon is alive on this database."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield False
        return
    path = _lock_path(database, uri=engine.url.query.get("uri") == "true")
    try:
        lock = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (closed by the with below)
    except OSError as error:
        raise StoreError(f"database {database}: cannot create {path}: {error.strerror}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise StoreError(
                f"database {database}: another `watcher run` ({holder}) is using it; one "
                "daemon per SQLite file (use PostgreSQL for several workers)"
            ) from None
        lock.truncate(0)
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
