"""Two OS processes ingesting the same articles into one empty database: each stored exactly once.

Runs on a SQLite file and on a real PostgreSQL (`any_db_url`, tests/store/conftest.py); the
database starts without tables, so both processes also migrate it at the same moment.
"""

from __future__ import annotations

from tests.store.schema import ingest_in_two_processes
from tests.store.sql import rows
from tests.store.workers import ARTICLES, STORY_SIZE, batch


def test_two_processes_store_each_article_once(any_db_url: str) -> None:
    results = ingest_in_two_processes(any_db_url)
    assert [error for _, error in results] == [None, None]
    assert sum(stored for stored, _ in results) == ARTICLES
    names = [name for (name,) in rows(any_db_url, "SELECT external_id FROM articles")]
    assert sorted(names) == batch()
    stories = rows(any_db_url, "SELECT count(DISTINCT story_id) FROM articles")
    firsts = rows(any_db_url, "SELECT count(*) FROM matches WHERE first_in_story")
    pending = rows(any_db_url, "SELECT count(*) FROM deliveries")
    assert stories == firsts == pending == [(ARTICLES // STORY_SIZE,)]
