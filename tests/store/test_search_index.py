"""SQLite's full-text index written once per ingest transaction (migration 0011,
watcher/store/search.py `index_new_articles`): a stored article is always searchable, one
rolled back never, and a batch writes the index in one statement.

Real SQLite files; searched through the inbox, as the workspace does.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.store.builders import NOW, new_article, new_match, new_story
from tests.store.sql import column_names, execute, rows
from watcher.errors import StoreError
from watcher.store import NewArticle, Store
from watcher.store.db import open_engine
from watcher.store.inbox import Inbox, StoryFilter
from watcher.store.records import IngestItem, IngestResult

WORDS = ("Kafranbel", "Saraqib", "Binnish", "Taftanaz", "Sarmin")


def reported(word: str) -> NewArticle:
    return new_article(word.lower(), title=f"Shelling reported in {word}",
                       body=f"Witnesses in {word} said the shelling went on all night.")


def found(store: Store, word: str) -> int:
    """How many stories the workspace's search finds for `word`."""
    return len(Inbox(store).stories(StoryFilter(q=word)).stories)


def ingest_all(store: Store, items: list[IngestItem]) -> list[IngestResult | StoreError]:
    """`ingest_batch` until every item is taken (a bound may end a transaction early)."""
    results: list[IngestResult | StoreError] = []
    while len(results) < len(items):
        results += store.ingest_batch(items[len(results):])
    return results


def check_index(url: str) -> None:
    """Raises when the FTS index disagrees with the articles (a row indexed twice, or not)."""
    execute(url, "INSERT INTO articles_search(articles_search) VALUES ('integrity-check')")


def index_writes(engine: sa.Engine) -> list[str]:
    """The statements writing to the search index, as they run."""
    seen: list[str] = []

    def count(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO articles_search" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    return seen


def test_a_refused_article_of_a_batch_is_not_searchable_the_others_are(db_url: str) -> None:
    Store.open(db_url).close()  # the schema
    # The article's row is written, then its bands refused: its savepoint rolls it back.
    execute(db_url, "CREATE TRIGGER refuse AFTER INSERT ON story_bands WHEN EXISTS "
                    "(SELECT 1 FROM articles WHERE id = NEW.article_id AND title LIKE '%Saraqib') "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    news = [reported(word) for word in WORDS]
    with Store.open(db_url) as store:
        results = ingest_all(store, [IngestItem(n, [new_match(n)], new_story, NOW) for n in news])
        assert [isinstance(r, StoreError) for r in results] == [False, True, False, False, False]
        assert {word: found(store, word) for word in WORDS} == {
            "Kafranbel": 1, "Saraqib": 0, "Binnish": 1, "Taftanaz": 1, "Sarmin": 1}
    check_index(db_url)


def test_a_batch_writes_the_search_index_once_and_an_article_alone_once(db_url: str) -> None:
    Store.open(db_url).close()  # the schema
    engine = open_engine(db_url)
    with Store(engine, clock=lambda: 0.0) as store:  # a clock standing still: one batch
        writes = index_writes(engine)
        news = [reported(word) for word in WORDS]
        store.ingest_batch([IngestItem(n, [new_match(n)], new_story, NOW) for n in news[:4]])
        assert len(writes) == 1
        store.ingest(news[4], [new_match(news[4])], new_story, NOW)
        assert len(writes) == 2
        assert all(found(store, word) == 1 for word in WORDS)


def test_0011_keeps_the_articles_indexed_before_it_searchable(any_store: Store,
                                                               any_db_url: str) -> None:
    first = reported("Kafranbel")
    any_store.ingest(first, [new_match(first)], new_story, NOW)
    any_store.downgrade("0010")
    # A row stored under 0010, indexed by its insert trigger: a copy under a new title.
    columns = sorted(column_names(any_db_url, "articles") - {"id"})
    copied = ", ".join("'Barrage over Saraqib'" if name == "title" else name
                       for name in columns)
    execute(any_db_url, f"INSERT INTO articles ({', '.join(columns)}) "
                        f"SELECT {copied} FROM articles")
    any_store.upgrade()
    later = reported("Binnish")
    any_store.ingest(later, [new_match(later)], new_story, NOW)
    assert [found(any_store, word) for word in ("Kafranbel", "Saraqib", "Binnish")] == [1, 1, 1]
    if any_db_url.startswith("sqlite"):  # each row indexed once: the trigger is gone
        assert rows(any_db_url, "SELECT name FROM sqlite_master WHERE type = 'trigger'") == [
            ("articles_search_delete",), ("articles_search_update",)]
        check_index(any_db_url)
