"""Store fixtures: each database a test can run on, empty at the start, and a Store opened
(and so migrated) on it: a fresh SQLite file, and a real PostgreSQL database (the server is
tests/conftest.py's `postgres_url`), emptied before and after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from watcher.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "watcher.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    """A SQLite file that does not exist yet, for the tests about SQLite itself."""
    return f"sqlite:///{db_path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, db_url: str) -> Iterator[str]:
    """The same test on a SQLite file not yet created and on an emptied PostgreSQL database
    (no tables at all: downgraded to base before and after the test)."""
    if request.param == "sqlite":
        yield db_url
        return
    url: str = request.getfixturevalue("postgres_url")
    empty(url)
    yield url
    empty(url)


@pytest.fixture
def any_store(any_db_url: str) -> Iterator[Store]:
    """A Store on `any_db_url`, migrated to head by opening it."""
    with Store.open(any_db_url) as store:
        yield store


def empty(url: str) -> None:
    with Store.open(url, migrate_to_head=False) as store:
        store.downgrade("base")


PoolState = tuple[bool, int] | None
"""A PostgreSQL connection as it went back to the pool: (in autocommit, libpq's transaction
status), or None when it was discarded instead."""
GIVEN_BACK_CLEAN: PoolState = (False, 0)  # psycopg's own transactions, none open (PQTRANS_IDLE)


def given_back(engine: sa.Engine) -> list[PoolState]:
    """How each of the engine's PostgreSQL connections goes back to its pool from now on,
    for the next checkout to take it as it was left."""
    states: list[PoolState] = []

    def look(dbapi_connection: Any, _record: Any) -> None:
        states.append(None if dbapi_connection is None else (
            dbapi_connection.autocommit, int(dbapi_connection.pgconn.transaction_status)))

    sa.event.listen(engine, "checkin", look)
    return states


def psycopg_said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What psycopg logged: nothing, when watcher's one line says the problem."""
    return [record.getMessage() for record in caplog.records
            if record.name.startswith("psycopg")]
