"""Statements of the write path run through the driver (SQLite's, and PostgreSQL's pipeline
with its `$1` parameters), SQLAlchemy kept for the rest.

Executing a Core statement costs SQLAlchemy a cache-key walk, a compiled-cache lookup,
parameter construction and a result object each time: on SQLite, where the database runs
the statement itself in microseconds, that was more than half the store's time in a
replay (bench/RESULTS.md, "Store write path"). Here a statement is rendered once per
dialect and shape, its values go through the columns' own bind processors (the same
stored values as SQLAlchemy's execution: UTC datetimes, JSON, booleans), and on SQLite it
goes to the driver's cursor in the connection's transaction (`driver_execute`): even
`exec_driver_sql` cost ~7 µs a statement (its execution context, its result), several
times SQLite binding and running a cached statement. SQLAlchemy still begins and commits
the transaction (a connection outside one is refused: SQLite would run the statement in
autocommit, without the store's BEGIN IMMEDIATE), its cursor events are fired around each
statement when anything listens for them (as its own execution skips them for nobody), and
the driver's errors, running the statement or reading its rows, leave as
SQLAlchemy's, as its own execution makes them: the same class, statement, parameters (each
row of an executemany, or hidden with the engine's `hide_parameters`), the cursor closed.

What differs from `exec_driver_sql`: the cursor events are given `context=None` (there is
no execution context) and a `before_cursor_execute` listener's returned statement and
parameters (`retval=True`) are not taken; the dialect's `handle_error` events are not
fired; nothing is logged with the engine's `echo`; a driver error is never taken for a
lost connection (no disconnect detection: the connection is not invalidated, and
`connection_invalidated` is False); an error reading rows names the statement read, where
SQLAlchemy's result names none.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any] | None
Read = TypeVar("Read")

# SQLite's default limit on bound parameters is 32,766 (3.32 and later): a multi-row
# INSERT takes at most this many rows, and more rows are several statements.
MAX_ROWS = 500


@dataclass(frozen=True)
class DriverQuery:
    """A statement compiled once for a dialect with positional parameters (SQLite's `?`,
    or `$1` for a PostgreSQL pipeline), run through the driver with the values named as
    its bind parameters."""

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # by position, those with one

    @classmethod
    def of(cls, query: sa.Executable, dialect: Dialect) -> DriverQuery:
        compiled = query.compile(dialect=dialect)  # type: ignore[attr-defined]
        if not compiled.positional:
            raise ValueError(f"{dialect.name} binds by name: run the query with execute()")
        names = tuple(compiled.positiontup or ())
        processors = [(index, _processor(compiled.binds[name].type, dialect))
                      for index, name in enumerate(names)]
        # Only a parameter given a value in the query has a default: a required one left
        # out of `values` is an error, as in SQLAlchemy's execution, not a NULL.
        defaults = {name: value for name, value in compiled.params.items()
                    if not compiled.binds[name].required}
        return cls(compiled.string, names, defaults,
                   tuple((index, found) for index, found in processors if found))

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Its rows on SQLite, through the driver (`_driver_rows`)."""
        return _driver_rows(connection, self.sql, self.bound(values))

    def bound(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values in the statement's order, as its columns' types bind them."""
        given = {**self.defaults, **values}
        try:
            bound = [given[name] for name in self.names]
        except KeyError as missing:
            raise sa.exc.StatementError(
                f"A value is required for bind parameter {missing.args[0]!r}",
                self.sql, dict(values), None,
            ) from None
        for index, process in self.processors:
            bound[index] = process(bound[index])
        return tuple(bound)


def select_rows(
    connection: Connection, query: sa.Select[Any], values: Mapping[str, Any]
) -> Sequence[Any]:
    """The rows of `query` with `values`, on a connection in a transaction (on SQLite one
    outside is refused: `driver_execute`): through the driver on SQLite (compiled once per
    query object), through SQLAlchemy elsewhere (PostgreSQL's named parameters, and its
    result types, stay SQLAlchemy's)."""
    if connection.dialect.name != "sqlite":
        return connection.execute(query, values).all()
    return driver_query(query, connection.dialect).rows(connection, values)


@lru_cache(maxsize=512)
def driver_query(query: sa.Executable, dialect: Dialect) -> DriverQuery:
    """The DriverQuery of `query`, compiled once per dialect."""
    return DriverQuery.of(query, dialect)


@lru_cache(maxsize=256)
def driver_insert(table: sa.Table, columns: tuple[str, ...], dialect: Dialect) -> DriverInsert:
    """The DriverInsert of these columns, built once per dialect."""
    return DriverInsert.of(table, columns, dialect)


@dataclass(frozen=True)
class DriverInsert:
    """INSERTs of rows of `columns` into `table` for SQLite, with each column's bind
    processor: one statement per row (`insert`, `insert_many`'s executemany) or one multi-row
    statement with RETURNING (`insert_returning`)."""

    table: sa.Table
    columns: tuple[str, ...]
    processors: tuple[Processor, ...]

    @classmethod
    def of(cls, table: sa.Table, columns: Sequence[str], dialect: Dialect) -> DriverInsert:
        return cls(table, tuple(columns),
                   tuple(_processor(table.c[name].type, dialect) for name in columns))

    def insert(self, connection: Connection, row: Mapping[str, Any]) -> int:
        """One row; its rowid (the table's INTEGER PRIMARY KEY)."""
        return int(driver_execute(connection, self._sql(1), self._values(row)).lastrowid)

    def insert_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The rows as one executemany of the single-row INSERT, which SQLite runs faster
        than the multi-row form (measured on the bands: 2.5x)."""
        if rows:
            driver_executemany(connection, self._sql(1), [self._values(row) for row in rows])

    def insert_returning(
        self, connection: Connection, rows: Sequence[Mapping[str, Any]],
        returning: tuple[str, ...],
    ) -> list[tuple[Any, ...]]:
        """The rows in multi-row INSERTs (MAX_ROWS a statement); the `returning` columns of
        each inserted row, in no particular order (SQLite's RETURNING does not promise the
        rows' order)."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), MAX_ROWS):
            chunk = rows[start:start + MAX_ROWS]
            values = [value for row in chunk for value in self._values(row)]
            found += _on_driver(connection, self._sql(len(chunk), returning), values,
                                many=False, read=_all_rows)
        return found

    def _values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(process(row[name]) if process else row[name]
                     for name, process in zip(self.columns, self.processors, strict=True))

    def _sql(self, count: int, returning: tuple[str, ...] = ()) -> str:
        return _insert_sql(self.table.name, self.columns, count, returning)


@lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], count: int,
                returning: tuple[str, ...]) -> str:
    """The statement's text, once per shape."""
    row = f"({', '.join('?' for _ in columns)})"
    tail = f" RETURNING {_quoted(returning)}" if returning else ""
    return f'INSERT INTO "{table}" ({_quoted(columns)}) VALUES {", ".join([row] * count)}{tail}'


def _quoted(names: Sequence[str]) -> str:
    """Column names quoted as standard SQL (SQLite reads them too)."""
    return ", ".join(f'"{name}"' for name in names)


def driver_execute(connection: Connection, sql: str, values: Sequence[Any] = ()) -> Any:
    """`sql` run with `values` on a new cursor of the driver connection of the connection's
    transaction (SQLite's `?` parameters); the cursor, for its `lastrowid`. A statement
    whose rows are wanted is `_driver_rows`, which reads them where errors are translated."""
    return _on_driver(connection, sql, values, many=False, read=_the_cursor)


def _driver_rows(connection: Connection, sql: str, values: Sequence[Any] = ()) -> list[Any]:
    """`sql`'s rows, each a named tuple of its columns, as `driver_execute` runs it: an
    error the driver raises on a later row (SQLite runs a query as its rows are read) is
    SQLAlchemy's too."""
    return _on_driver(connection, sql, values, many=False, read=_named_rows)


def driver_executemany(connection: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`sql` run once per row of values, in one executemany, as `driver_execute`."""
    _on_driver(connection, sql, rows, many=True, read=_the_cursor)


def _on_driver(
    connection: Connection, sql: str, values: Any, *, many: bool,
    read: Callable[[Any], Read],
) -> Read:
    """The statement on the driver's cursor and `read(cursor)`, SQLAlchemy's
    `before_cursor_execute` and `after_cursor_execute` events fired around the statement
    when anything listens for them (`has_cursor_listeners`; with no execution context:
    there is none, and a listener's changed statement is not taken); whatever fails closes
    the cursor, and a driver error is raised as SQLAlchemy's. A connection not in a
    transaction is refused: SQLite would run the statement in autocommit (no BEGIN
    IMMEDIATE, no `begin` event), kept whatever is rolled back."""
    if not connection.in_transaction():
        raise sa.exc.InvalidRequestError(
            "a statement through the driver needs the connection in a transaction "
            "(connection.begin()): outside one SQLite would run it in autocommit")
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    listened = has_cursor_listeners(connection)
    try:
        if listened:
            connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None, many)
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
        if listened:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, many)
        return read(cursor)
    except BaseException as error:
        with suppress(Exception):  # as SQLAlchemy closes it: the error raised is the first
            cursor.close()
        if isinstance(error, connection.dialect.loaded_dbapi.Error):
            raise sqlalchemy_error(connection.dialect, sql, values, error, many=many,
                                   hide_parameters=connection.engine.hide_parameters) from error
        raise


def has_cursor_listeners(connection: Connection) -> bool:
    """Whether any cursor event is listened for on the connection: its own listeners, or
    its engine's (the Engine class's included). Firing an event nobody listens for cost
    two dispatches a statement, ~4 us, a fifth of SQLite running the statement; SQLAlchemy's
    own execution skips them alike (`_has_events`)."""
    if connection._has_events:  # listeners on this Connection itself
        return True
    dispatch = connection.engine.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def _the_cursor(cursor: Any) -> Any:
    return cursor


def _all_rows(cursor: Any) -> list[Any]:
    return cursor.fetchall()  # type: ignore[no-any-return]


def sqlalchemy_error(
    dialect: Dialect, sql: str, values: Any, error: Exception, *, many: bool = False,
    hide_parameters: bool = False,
) -> sa.exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError, ...),
    which the store reads (watcher/store/db.py, batch.py): its message shows each row of
    an executemany's values as SQLAlchemy's does (`many`), or none (`hide_parameters`)."""
    return sa.exc.DBAPIError.instance(  # type: ignore[no-any-return]
        sql, values, error, dialect.loaded_dbapi.Error, hide_parameters=hide_parameters,
        dialect=dialect, ismulti=many)


def _named_rows(cursor: Any) -> list[Any]:
    """The cursor's rows, each a named tuple of its columns, as SQLAlchemy's rows read."""
    names = tuple(column[0] for column in cursor.description)
    return list(map(_row_type(names)._make, cursor.fetchall()))


@lru_cache(maxsize=128)
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names, rename=True)  # type: ignore[misc]


def _processor(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> Processor:
    """What SQLAlchemy does to a value of `type_` before the driver gets it (the dialect's
    implementation of the type: its TypeDecorator's process_bind_param, its formatting);
    a datetime's kept for the last one it was given (`_last_kept`)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is not None and _holds_datetimes(type_):
        return _last_kept(process)
    if process is not None and isinstance(type_, sa.JSON) and _dumps_json(dialect):
        return _lists_encoded_at_once(process)
    return process


def _dumps_json(dialect: Dialect) -> bool:
    """Whether the dialect's JSON columns are given `json.dumps(value)` as the driver's
    value: SQLite's, its serializer certainly not replaced (create_engine's
    `json_serializer`: SQLAlchemy's private `_json_serializer` there and None; if it is
    renamed, SQLAlchemy's own processor, never a custom serializer bypassed).
    PostgreSQL's drivers are given their own JSON values: left as SQLAlchemy binds them."""
    return dialect.name == "sqlite" and getattr(dialect, "_json_serializer", _UNKNOWN) is None


_UNKNOWN = object()  # SQLAlchemy's private attribute gone or renamed: its own processor


def _lists_encoded_at_once(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's processor, a list (what the store writes: a match's spans, context,
    places) given straight to json.dumps' own encoder: the same text (`json.dumps` with no
    options is that encoder's `encode`), without SQLAlchemy's checks for its NULL forms,
    which took as long as encoding a match's spans. Anything else goes to `process`."""
    encode = _ENCODER.encode

    def processed(value: Any) -> Any:
        return encode(value) if value.__class__ is list else process(value)

    return processed


_ENCODER = json.JSONEncoder()  # json.dumps' defaults, as json.dumps' own encoder


def _holds_datetimes(type_: sa.types.TypeEngine[Any]) -> bool:
    """A DateTime column, or a TypeDecorator over one (the store's UTCDateTime)."""
    if isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, sa.DateTime)


def _last_kept(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, its result kept for the last value it was given and given again for that
    same object: an article's moments are mostly one `now` (its story, matches, deliveries;
    a batch's articles share it), which cost ~3 us each to convert to UTC and format. Only
    for immutable values (a datetime): the same object then always gives the same result.
    The value and its result are kept as one pair, so threads sharing it never see one
    value with another's result."""
    kept: tuple[Any, Any] = (object(), None)  # holds the value: its id cannot be reused

    def processed(value: Any) -> Any:
        nonlocal kept
        last = kept
        if last[0] is value:
            return last[1]
        result = process(value)
        kept = (value, result)
        return result

    return processed
