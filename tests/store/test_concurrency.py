"""Processes sharing one database: each article stored exactly once, and none fails for
having started while another was writing.

Runs on a SQLite file and on a real PostgreSQL (`any_db_url`, tests/store/conftest.py); the
database starts without tables, so the processes also migrate it at the same moment.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.store.schema import ingest_in_two_processes
from tests.store.sql import rows
from tests.store.workers import ARTICLES, STORY_SIZE, batch
from watcher.errors import StoreError
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


def test_one_daemon_lock_holds_for_every_name_of_one_sqlite_file(tmp_path: Path) -> None:
    """A symbolic link, a relative path or a `file:` URI to the same database must meet
    the first daemon's lock: two daemons would each think they poll alone."""
    real = tmp_path / "watcher.db"
    (tmp_path / "link.db").symlink_to(real)
    names = [
        f"sqlite:///{tmp_path / 'link.db'}",
        f"sqlite:///file:{real}?uri=true",
    ]
    with Store.open(f"sqlite:///{real}") as first, first.one_daemon() as sole:
        assert sole
        for url in names:
            with Store.open(url) as second, pytest.raises(StoreError, match="another `watcher"):
                second.one_daemon().__enter__()
