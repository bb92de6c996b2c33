"""An ingest's statements sent to PostgreSQL in psycopg's pipeline mode: the client waits
for the server only when it needs rows, not once per statement.

Each statement on PostgreSQL is a round trip (the client sends it, then waits for the
answer, idle, and so does the server for the next): the locks, the reads after them, the
write and its COMMIT each waited apart, 6 times per new article. Here a statement is sent at
once and its rows read only when the next decision needs them (`Sent.rows`): everything
sent before goes in the same round trip. The server still runs the statements one after
the other, each in its own snapshot (READ COMMITTED), so a read sent after a lock still
reads what the lock waited for (docs/storage.md, "Ingests side by side").

SQLAlchemy's execution cannot be used meanwhile (it reads a statement's rows as it runs
it), so statements are compiled once per query for the driver with PostgreSQL's own `$1`
parameters (psycopg's RawCursor sends them as they are), their values bound by the
columns' types as SQLAlchemy binds them, and the driver's errors leave as SQLAlchemy's
(an IntegrityError is an IntegrityError). SQLAlchemy's cursor events are still fired, as
each statement is sent. `Immediate` is the same interface without a pipeline (SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from watcher.store.driver import (
    driver_query,
    has_cursor_listeners,
    select_rows,
    sqlalchemy_error,
)


class Sent(Protocol):
    """A statement sent; its rows once they are needed."""

    def rows(self) -> Sequence[Any]: ...


class Statements(Protocol):
    """Where an ingest sends its statements: at once (`Immediate`), or in a pipeline."""

    dialect: str

    def send(self, statement: sa.Executable, values: Mapping[str, Any]) -> Sent: ...


@dataclass(frozen=True)
class _Done:
    found: Sequence[Any]

    def rows(self) -> Sequence[Any]:
        return self.found


class Immediate:
    """Each statement run as it is sent (SQLite: no round trips to save)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.dialect = connection.dialect.name

    def send(self, statement: sa.Executable, values: Mapping[str, Any]) -> Sent:
        return _Done(select_rows(self._connection, statement, values))  # type: ignore[arg-type]


@lru_cache(maxsize=8)
def _numbered(dialect: type[Dialect]) -> Dialect:
    """The dialect with PostgreSQL's own `$1` parameters, which the driver sends as they
    are (psycopg's RawCursor): psycopg's `%(name)s` form is parsed on every execution of a
    statement longer than its cache takes, and the write's text is (a third of a pass)."""
    return dialect(paramstyle="numeric_dollar")  # type: ignore[call-arg]


class Pipelined:
    """Statements sent in psycopg's pipeline mode on the connection's driver connection."""

    def __init__(self, connection: Connection) -> None:
        from psycopg import RawCursor  # psycopg: installed with PostgreSQL's extra
        from psycopg.rows import namedtuple_row

        self._connection = connection
        self._driver = connection.connection.driver_connection
        self._cursor = lambda: RawCursor(self._driver, row_factory=namedtuple_row)
        self.dialect = connection.dialect.name

    def send(self, statement: sa.Executable, values: Mapping[str, Any]) -> Sent:
        driver = driver_query(statement, _numbered(type(self._connection.dialect)))
        return self.send_text(driver.sql, driver.bound(values))

    def send_text(self, sql: str, values: Sequence[Any] | None = None) -> _Pending:
        """A statement as the driver takes it (`$1` parameters); sent now, its answer read
        later."""
        cursor = self._cursor()
        connection = self._connection
        listened = has_cursor_listeners(connection)  # fired as driver.py fires them
        if listened:
            connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None,
                                                      False)
        with driver_errors(connection, sql, values):
            cursor.execute(sql, values)
        if listened:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None,
                                                     False)
        return _Pending(cursor, connection, sql, values)


@dataclass(frozen=True)
class _Pending:
    cursor: Any
    connection: Connection
    sql: str
    values: Sequence[Any] | None

    def rows(self) -> Sequence[Any]:
        """The statement's rows: a wait for the server, unless a later one brought them."""
        with driver_errors(self.connection, self.sql, self.values):
            return self.cursor.fetchall()  # type: ignore[no-any-return]


@contextmanager
def pipelined(connection: Connection) -> Iterator[Pipelined]:
    """Pipeline mode for the block, in the connection's transaction: what the block sent
    and did not read is sent on leaving it, with one more wait for the server (psycopg's
    Sync), and a failure among those statements is raised then. The block ends the
    transaction itself (its last statement a COMMIT).

    A transaction not yet begun is begun by a BEGIN sent with the block's first statements:
    psycopg's own BEGIN would wait for the server on its own (it syncs the pipeline to know
    the transaction has begun), so the driver connection is in autocommit meanwhile, where
    psycopg begins nothing, and the explicit BEGIN ... COMMIT is the transaction."""
    driver = connection.connection.driver_connection
    assert driver is not None
    begin = driver.pgconn.transaction_status == _IDLE
    with driver_errors(connection, "(pipeline)", None):
        try:  # autocommit inside: an interrupt right after it still leaves it
            if begin:
                driver.autocommit = True
            with _pipeline_mode(driver, connection.dialect):
                statements = Pipelined(connection)
                if begin:
                    statements.send_text("BEGIN")
                try:
                    yield statements
                except Exception as error:
                    if begin and not isinstance(error, sa.exc.DBAPIError):
                        _send_rollback(statements)
                    raise
        except BaseException:
            if begin:
                _roll_back(driver, connection.dialect)
            raise
        finally:
            if begin:
                _leave_autocommit(connection, driver)


_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open


@contextmanager
def _pipeline_mode(driver: Any, dialect: Dialect) -> Iterator[None]:
    """psycopg's pipeline mode for the block. When the block fails, psycopg's failure to
    end the pipeline (the statements sent after the failed one aborted, or the connection
    lost) is the same problem again: dropped here, the block's error going on, instead of
    psycopg logging it as a warning beside watcher's own one line."""
    failure: BaseException | None = None
    try:
        with driver.pipeline():
            try:
                yield
            except BaseException as error:  # an interrupt too: the pipeline ends first
                failure = error
    except dialect.loaded_dbapi.Error:
        if failure is None:
            raise
    if failure is not None:
        raise failure


def _leave_autocommit(connection: Connection, driver: Any) -> None:
    """psycopg's own transactions again; a connection still in a transaction (lost, or
    its rollback failed) is discarded, never given back to the pool in autocommit."""
    if driver.pgconn.transaction_status == _IDLE:
        driver.autocommit = False
    else:
        connection.invalidate()


def _send_rollback(statements: Pipelined) -> None:
    """A block given up by a decision (a duplicate), not by the database: its ROLLBACK goes
    with the pipeline's end, not in a round trip of its own. One the driver cannot send
    (the connection is lost) is left to `_roll_back`, the block's own error raised."""
    with suppress(sa.exc.DBAPIError):
        statements.send_text("ROLLBACK")


def _roll_back(driver: Any, dialect: Dialect) -> None:
    """The failed block's transaction rolled back, so the connection can leave autocommit;
    a connection that cannot (it is lost) is left as it is, for SQLAlchemy to discard."""
    try:
        if driver.pgconn.transaction_status != _IDLE:
            driver.rollback()
    except dialect.loaded_dbapi.Error:
        pass


@contextmanager
def driver_errors(
    connection: Connection, sql: str, values: Sequence[Any] | None
) -> Iterator[None]:
    """The driver's errors as SQLAlchemy's (IntegrityError, OperationalError, ...), which
    the store reads (watcher/store/db.py, batch.py); their values hidden as the engine's
    `hide_parameters` says, as on SQLite (driver.py)."""
    try:
        yield
    except connection.dialect.loaded_dbapi.Error as error:
        raise sqlalchemy_error(
            connection.dialect, sql, values, error,
            hide_parameters=connection.engine.hide_parameters) from error
