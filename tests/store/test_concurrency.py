"""Processes sharing one database: each article stored exactly once, and none fails for
having started while another was writing.

Runs on a SQLite file and on a real PostgreSQL (`any_db_url`, tests/store/conftest.py); the
database starts without tables, so the processes also migrate it at the same moment.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from tests.store.schema import ingest_in_two_processes
from tests.store.sql import rows
from tests.store.workers import ARTICLES, STORY_SIZE, batch
from watcher.store import Store

WRITER_HOLDS = 0.5  # seconds another process writes while watcher opens the file


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


def test_a_new_sqlite_file_being_written_is_waited_for_not_refused(tmp_path: Path) -> None:
    """Switching a file to WAL, which every connection asks for, used to fail at once with
    "database is locked", busy timeout or not, while another process wrote to it in the
    old journal mode (SQLite does not call the busy handler there). Two `watcher replay`
    started together on a new file hit it. Now the switch waits like any other lock."""
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # a writer in the default (rollback) journal mode
    other.execute("CREATE TABLE someone_elses (id INTEGER)")
    commit = threading.Timer(WRITER_HOLDS, lambda: other.execute("COMMIT"))
    commit.start()
    try:
        with Store.open(f"sqlite:///{path}", busy_timeout=30) as store:
            assert store.current_revision() is not None
    finally:
        commit.join()
        other.close()
    assert rows(f"sqlite:///{path}", "PRAGMA journal_mode") == [("wal",)]
