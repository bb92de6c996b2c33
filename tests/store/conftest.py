"""Store fixtures: a fresh SQLite file per test, opened (and so migrated) by Store.open,
and the same on PostgreSQL (the server is tests/conftest.py's `postgres_url`)."""

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
    return f"sqlite:///{db_path}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """The same test on a fresh SQLite file and on an emptied real PostgreSQL database."""
    if request.param == "sqlite":
        with Store.open(db_url) as store:
            yield store
        return
    with Store.open(request.getfixturevalue("postgres_url")) as store:
        store.downgrade("base")
        store.upgrade()
        yield store
        store.downgrade("base")
