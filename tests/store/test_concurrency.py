"""Two OS processes ingesting the same articles into one SQLite file: each stored exactly once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.store.schema import ingest_in_two_processes
from tests.store.workers import ARTICLES, STORY_SIZE, batch


def test_two_processes_store_each_article_once(db_path: Path, db_url: str) -> None:
    results = ingest_in_two_processes(db_url)
    assert [error for _, error in results] == [None, None]
    assert sum(stored for stored, _ in results) == ARTICLES
    with sqlite3.connect(db_path) as connection:
        names = [name for (name,) in connection.execute("SELECT external_id FROM articles")]
        stories = connection.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()
        firsts = connection.execute("SELECT count(*) FROM matches WHERE first_in_story").fetchone()
        pending = connection.execute("SELECT count(*) FROM deliveries").fetchone()
    assert sorted(names) == batch()
    assert stories[0] == firsts[0] == pending[0] == ARTICLES // STORY_SIZE
