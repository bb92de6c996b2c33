"""Migrations: an empty database reaches head, goes down and up again, and matches tables.py.

Every test runs on SQLite and on a real PostgreSQL (`any_store`, tests/store/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.store.builders import MANBIJ, NOW, new_article, new_match, oldest_story
from tests.store.schema import SEARCH_TABLES, schema_differences
from tests.store.sql import column_names, execute, rows, shown, table_names
from watcher.errors import StoreError
from watcher.store import Store
from watcher.store.migrate import head_revision

TABLES = {
    "sources", "stories", "articles", "article_keys", "story_bands", "matches", "deliveries",
    "match_places", "users", "api_tokens", "web_sessions", "story_states", "story_comments",
    "audit_log", "silences",
}


def search_tables(url: str) -> set[str]:
    """The tables of full-text search: FTS5's on SQLite, none on PostgreSQL (an index)."""
    return set(SEARCH_TABLES) if url.startswith("sqlite") else set()


def test_opening_an_empty_database_migrates_it_to_head(any_store: Store, any_db_url: str) -> None:
    assert any_store.current_revision() == head_revision() == "0011"
    assert table_names(any_db_url) == TABLES | {"alembic_version"} | search_tables(any_db_url)


def test_downgrade_to_base_and_upgrade_again(any_store: Store, any_db_url: str) -> None:
    any_store.downgrade("base")
    assert any_store.current_revision() is None
    assert table_names(any_db_url) == {"alembic_version"}
    any_store.upgrade()
    assert any_store.current_revision() == head_revision()
    assert table_names(any_db_url) == TABLES | {"alembic_version"} | search_tables(any_db_url)


def test_one_step_down_and_up_keeps_the_rows(any_store: Store, any_db_url: str) -> None:
    any_store.prepare_source("feed", "https://example.org/feed")
    any_store.downgrade("0001")
    assert "next_poll_after" not in column_names(any_db_url, "sources")
    any_store.upgrade()
    assert [s.name for s in any_store.source_states()] == ["feed"]


def test_down_and_up_with_articles_pointing_at_their_source(
    any_store: Store, any_db_url: str
) -> None:
    """Batch mode rebuilds `sources` on SQLite; with stored articles pointing at it, that
    used to fail with "FOREIGN KEY constraint failed"."""
    new = new_article("a1")
    any_store.ingest(new, [new_match(new)], oldest_story, NOW)
    any_store.downgrade("0001")
    any_store.upgrade()
    assert [name for (name,) in rows(any_db_url, "SELECT external_id FROM articles")] == ["a1"]
    if any_db_url.startswith("sqlite"):
        assert rows(any_db_url, "PRAGMA foreign_key_check") == []
    new = new_article("a2")  # the store still works, foreign keys and all
    assert any_store.ingest(new, [new_match(new)], oldest_story, NOW).stored


def test_0008_keeps_the_areas_of_a_matchs_places_and_goes_down_without_them(
    any_store: Store, any_db_url: str
) -> None:
    new = new_article("a1")
    any_store.ingest(new, [new_match(new, places=(MANBIJ,))], oldest_story, NOW)
    areas = rows(any_db_url, "SELECT place_id FROM match_places ORDER BY place_id")
    assert [area for (area,) in areas] == sorted(MANBIJ.area_ids())  # it and its parents
    any_store.downgrade("0007")
    assert "match_places" not in table_names(any_db_url)
    assert "places" not in column_names(any_db_url, "matches")
    any_store.upgrade()
    (stored,) = any_store.matches()
    assert stored.article_id == "a1" and stored.match.places == ()  # stored before 0008
    assert any_store.matches(place=MANBIJ.id) == []


def test_migrated_schema_is_exactly_tables_py(any_store: Store, any_db_url: str) -> None:
    assert schema_differences(any_db_url) == []


def test_reopening_a_migrated_database_keeps_its_data(any_db_url: str) -> None:
    with Store.open(any_db_url) as store:
        store.upgrade()
    with Store.open(any_db_url) as store:
        assert store.current_revision() == head_revision()


def test_a_database_from_a_newer_watcher_is_refused(any_store: Store, any_db_url: str) -> None:
    any_store.close()
    execute(any_db_url, "UPDATE alembic_version SET version_num = '9999'")
    try:
        with pytest.raises(StoreError, match="revision '9999' is unknown to this watcher"):
            Store.open(any_db_url)
    finally:  # back to a revision Alembic knows, so PostgreSQL can be emptied for the next test
        execute(any_db_url, f"UPDATE alembic_version SET version_num = '{head_revision()}'")


def test_an_unknown_target_revision_is_a_store_error(any_store: Store, any_db_url: str) -> None:
    with pytest.raises(StoreError) as error:
        any_store.downgrade("no-such-revision")
    assert str(error.value).startswith(f"database {shown(any_db_url)}: ")
