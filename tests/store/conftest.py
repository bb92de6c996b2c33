"""Store fixtures: a fresh SQLite file per test, opened (and so migrated) by Store.open,
and one real PostgreSQL server per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer, find_binaries
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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """WATCHER_TEST_POSTGRES_URL, else a server started from Debian's binaries for this
    session. Without either the PostgreSQL tests skip, except in CI, which sets
    WATCHER_REQUIRE_POSTGRES=1 and installs the package."""
    given = os.environ.get("WATCHER_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    binaries = find_binaries()
    if binaries is None:
        if os.environ.get("WATCHER_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required but not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    # Not under pytest's tmp_path: its 0700 parents would keep the postgres user out.
    directory = Path(tempfile.mkdtemp(prefix="watcher-postgres-"))
    server = PostgresServer(binaries, directory)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
