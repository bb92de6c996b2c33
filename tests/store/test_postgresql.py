"""The same store on a real PostgreSQL server: one the tests start (Debian's binaries),
or the one WATCHER_TEST_POSTGRES_URL names.

The database is emptied (downgraded to base) before and after each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest

from tests.store.builders import at, new_article, new_match, new_story, oldest_story
from tests.store.schema import ingest_in_two_processes, schema_differences
from tests.store.workers import ARTICLES, STORY_SIZE
from watcher.errors import StoreError
from watcher.store import Store


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    with Store.open(postgres_url) as store:
        store.downgrade("base")
        store.upgrade()
        yield store
        store.downgrade("base")


def test_migrated_schema_is_exactly_tables_py(pg_store: Store, postgres_url: str) -> None:
    assert schema_differences(postgres_url) == []


def test_ingest_dedupe_and_read_back(pg_store: Store) -> None:
    first = new_article("a1", source="outlet-a", story_band=1, fetched=at(1))
    copy = new_article("a2", source="outlet-b", story_band=1, fetched=at(2))
    story = pg_store.ingest(first, [new_match(first)], new_story, at(1)).story_id
    both = [new_match(copy), new_match(copy, "strike")]
    joined = pg_store.ingest(copy, both, oldest_story, at(2))
    assert joined.story_id == story and [m.rule_id for m in joined.new_matches] == ["strike"]
    assert not pg_store.ingest(copy, [], new_story, at(3)).stored
    assert [a.id for a in pg_store.articles()] == ["a2", "a1"]
    assert pg_store.articles()[0].fetched.tzinfo is UTC
    assert [m.article_id for m in pg_store.matches(rule="siege", since=at(2))] == ["a2"]
    assert pg_store.story_outlets(story) == ["outlet-a", "outlet-b"]


def test_a_failing_match_insert_stores_nothing(pg_store: Store) -> None:
    new = new_article("a1")
    with pytest.raises(StoreError, match="uq_matches_rule_id_article_id"):
        pg_store.ingest(new, [new_match(new), new_match(new)], new_story, at(0))
    assert pg_store.articles() == [] and not pg_store.is_known(new.keys)


def test_two_processes_store_each_article_once(pg_store: Store, postgres_url: str) -> None:
    results = ingest_in_two_processes(postgres_url)
    assert [error for _, error in results] == [None, None]
    assert sum(stored for stored, _ in results) == ARTICLES
    stored = pg_store.articles()
    assert len(stored) == ARTICLES and len({a.story for a in stored}) == ARTICLES // STORY_SIZE
