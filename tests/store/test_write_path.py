"""The write path's cost: how many statements storing one article takes, so a regression
(a read or insert per band, per key, per match) shows. Also the source id it caches.

Counted with SQLAlchemy's `before_cursor_execute` event: on SQLite BEGIN IMMEDIATE counts,
on PostgreSQL the ingest locks' SELECTs do (BEGIN is the driver's); COMMIT never does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.store.builders import NOW, new_article, new_match, new_story, oldest_story
from tests.store.sql import backend, rows
from watcher.model import MatchPlace, PlaceRef
from watcher.store import Store
from watcher.store.db import open_engine

# What storing one article (its source already known to the Store) takes, whatever it holds:
# the write lock (BEGIN IMMEDIATE, or PostgreSQL's locks on its keys and bands), the
# duplicate check with the story search, the story when new (else one read of the rules
# already first in it), the article, its keys, its bands, its matches, their places, their
# deliveries.
MAX_STATEMENTS = 9


def _shared_lock(url: str) -> int:
    """On PostgreSQL one more: the ingest lock, taken shared before the keys' and bands'
    locks, so that a retention batch (which takes it alone) never deletes a story under an
    ingest joining it."""
    return 1 if backend(url) == "postgresql" else 0


@pytest.fixture
def counted(any_store: Store, any_db_url: str) -> Iterator[tuple[Store, list[str]]]:
    """A Store on the migrated database, and the statements it runs, as they run."""
    engine = open_engine(any_db_url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: statements.append(statement))
    with Store(engine) as store:
        store.ingest(new_article("warm-up"), [], new_story, NOW)  # the source: found, cached
        statements.clear()
        yield store, statements


def _place() -> MatchPlace:
    return MatchPlace("p1", "Aleppo", "city", 36.2, 37.1,
                      parents=(PlaceRef("gov", "Aleppo", "governorate"),
                               PlaceRef("sy", "Syria", "country")))


def test_an_article_with_matches_in_a_new_story_takes_few_statements(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, statements = counted
    new = new_article("a1", story_band=7)
    found = [new_match(new, rule, channels=("ops", "chat"), places=(_place(),))
             for rule in ("siege", "strike", "shelling")]
    assert store.ingest(new, found, new_story, NOW).stored
    assert len(statements) <= MAX_STATEMENTS + _shared_lock(any_db_url), [
        s.split("\n")[0][:60] for s in statements]


def test_an_article_joining_a_story_takes_few_statements(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    """On PostgreSQL one more: the story's lock, taken before reading which rules are
    already first in it (SQLite's BEGIN IMMEDIATE has locked everything)."""
    store, statements = counted
    story_lock = 1 + _shared_lock(any_db_url) if backend(any_db_url) == "postgresql" else 0
    first = new_article("a1", story_band=7)
    store.ingest(first, [new_match(first, "siege")], new_story, NOW)
    statements.clear()
    copy = new_article("a2", story_band=7)
    found = [new_match(copy, rule, places=(_place(),)) for rule in ("siege", "strike")]
    result = store.ingest(copy, found, oldest_story, NOW)
    assert result.new_matches == (found[1].match,)  # siege was first in the story already
    assert len(statements) <= MAX_STATEMENTS + story_lock, [
        s.split("\n")[0][:60] for s in statements]


def test_an_article_without_matches_takes_fewer(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, statements = counted
    assert store.ingest(new_article("a1"), [], new_story, NOW).stored
    # no matches, places, deliveries
    assert len(statements) <= MAX_STATEMENTS - 3 + _shared_lock(any_db_url), statements


def test_a_stale_cached_source_id_is_dropped_and_the_article_stored(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, _ = counted
    store._source_ids["seeds"] = 10**6  # as if the row it named were gone
    assert store.ingest(new_article("a1"), [], new_story, NOW).stored
    assert rows(any_db_url, "SELECT a.external_id, s.name FROM articles a JOIN sources s "
                            "ON s.id = a.source_id ORDER BY a.id") == [
        ("warm-up", "seeds"), ("a1", "seeds"),
    ]
    assert store._source_ids["seeds"] != 10**6


def test_a_source_created_by_a_refused_article_is_not_cached(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, _ = counted
    again = new_article("warm-up", source="other")  # the same content hash: refused
    assert not store.ingest(again, [], new_story, NOW).stored
    assert "other" not in store._source_ids
    assert store.ingest(new_article("b1", source="other"), [], new_story, NOW).stored
    assert rows(any_db_url, "SELECT name FROM sources ORDER BY id") == [("seeds",), ("other",)]
