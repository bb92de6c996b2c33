"""Store fixtures: a fresh SQLite file per test, opened (and so migrated) by Store.open."""

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
