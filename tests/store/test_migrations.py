"""Migrations: an empty database reaches head, goes down and up again, and matches tables.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.store.schema import schema_differences
from watcher.errors import StoreError
from watcher.store import Store
from watcher.store.migrate import head_revision

TABLES = {
    "sources", "stories", "articles", "article_keys", "story_bands", "matches", "deliveries",
}


def table_names(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_opening_an_empty_database_migrates_it_to_head(store: Store, db_path: Path) -> None:
    assert store.current_revision() == head_revision() == "0004"
    assert table_names(db_path) == TABLES | {"alembic_version"}


def test_downgrade_to_base_and_upgrade_again(store: Store, db_path: Path) -> None:
    store.downgrade("base")
    assert store.current_revision() is None
    assert table_names(db_path) == {"alembic_version"}
    store.upgrade()
    assert store.current_revision() == head_revision()
    assert table_names(db_path) == TABLES | {"alembic_version"}


def test_one_step_down_and_up_keeps_the_rows(store: Store, db_path: Path) -> None:
    store.prepare_source("feed", "https://example.org/feed")
    store.downgrade("0001")
    with sqlite3.connect(db_path) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(sources)")}
    assert "next_poll_after" not in columns
    store.upgrade()
    assert [s.name for s in store.source_states()] == ["feed"]


def test_migrated_schema_is_exactly_tables_py(store: Store, db_url: str) -> None:
    assert schema_differences(db_url) == []


def test_reopening_a_migrated_database_keeps_its_data(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.upgrade()
    with Store.open(db_url) as store:
        assert store.current_revision() == head_revision()


def test_a_database_from_a_newer_watcher_is_refused(store: Store, db_path: Path) -> None:
    store.close()
    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="revision '9999' is unknown to this watcher"):
        Store.open(f"sqlite:///{db_path}")


def test_an_unknown_target_revision_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="database sqlite:///"):
        store.downgrade("no-such-revision")
