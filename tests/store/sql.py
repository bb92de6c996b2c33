"""Looking inside a store's database from a test: plain SQL and table names, the same way
on SQLite and PostgreSQL, through SQLAlchemy on the store's own URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    """One transaction on `url`, committed unless it raises; its own engine, disposed after."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    """The rows of `query`, booleans as 1/0 (SQLite has no boolean type; PostgreSQL does)."""
    with connected(url) as connection:
        return [tuple(_plain(value) for value in row) for row in connection.exec_driver_sql(query)]


def count(url: str, table: str) -> int:
    (only,) = rows(url, f"SELECT count(*) FROM {table}")
    return int(only[0])


def execute(url: str, *statements: str) -> None:
    """Run statements that change rows, in one transaction."""
    with connected(url) as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def table_names(url: str) -> set[str]:
    with connected(url) as connection:
        return set(sa.inspect(connection).get_table_names())


def column_names(url: str, table: str) -> set[str]:
    with connected(url) as connection:
        return {column["name"] for column in sa.inspect(connection).get_columns(table)}


def backend(url: str) -> str:
    """"sqlite" or "postgresql": for the few assertions that differ between them."""
    return sa.make_url(url).get_backend_name()


def shown(url: str) -> str:
    """`url` as a StoreError shows it: the password masked."""
    return sa.make_url(url).render_as_string(hide_password=True).replace(":***@", ":****@")


def _plain(value: object) -> object:
    return int(value) if isinstance(value, bool) else value
