"""Store fixtures: each database a test can run on, empty at the start, and a Store opened
(and so migrated) on it: a fresh SQLite file, and a real PostgreSQL database (the server is
tests/conftest.py's `postgres_url`), emptied before and after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
