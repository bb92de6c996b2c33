"""Retention: `Store.prune` removes what articles fetched before a moment leave behind, a
bounded batch per transaction, and keeps what pending alerts, open triage and the store's
ids still need (docs/storage.md, "Retention").

Every test runs on a SQLite file and on a real PostgreSQL (`any_store`); the store is
filled by the real ingest path and changed by the outbox's and the workspace's own calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.store.builders import (
    NOW,
    SHEIKH_MAQSOUD,
    new_article,
    new_match,
    new_story,
    oldest_story,
)
from tests.store.sql import backend, connected, count, rows
from watcher.store import PruneReport, Store
from watcher.store.accounts import Accounts
from watcher.store.db import open_engine
from watcher.store.retention import PG_PRUNE_LOCK
from watcher.store.triage import Triage

WINDOW = timedelta(days=180)
BEFORE = NOW - WINDOW
OLD = NOW - timedelta(days=200)  # fetched before the window
CHILD_TABLES = ("article_keys", "story_bands", "matches", "match_places", "deliveries")


def _ingest(
    store: Store, article_id: str, fetched: timedelta | None = None, *,
    story_band: int | None = None, rules: Sequence[str] = ("siege",), joins: bool = False,
) -> int:
    """Store an article fetched at NOW - `fetched` (or OLD) with a match per rule, each
    queueing a delivery to `ops`; `joins`: into the story of an article sharing its band."""
    new = new_article(article_id, story_band=story_band,
                      fetched=OLD if fetched is None else NOW - fetched,
                      body=f"Body of {article_id} about Aleppo.")
    found = [new_match(new, rule, places=(SHEIKH_MAQSOUD,)) for rule in rules]
    result = store.ingest(new, found, oldest_story if joins else new_story, new.fetched)
    assert result.stored
    assert result.story_id is not None
    return result.story_id


def _send_all(store: Store, but: str | None = None) -> None:
    """Every pending delivery sent, as the outbox records it, but those of article `but`
    (claimed and given back: they stay pending)."""
    due = store.claim_due_deliveries(NOW + timedelta(days=1), owner="test",
                                     lease=timedelta(minutes=5), limit=1000, channels=["ops"])
    sent = [delivery.id for delivery in due if delivery.alert.article_id != but]
    store.mark_sent(sent, NOW, owner="test")
    store.release_deliveries([delivery.id for delivery in due if delivery.id not in sent], "test")


def _articles(url: str) -> list[str]:
    return [row[0] for row in rows(url, "SELECT external_id FROM articles ORDER BY id")]


def _assert_consistent(url: str) -> None:
    """No row points at nothing, and SQLite's search index matches the articles."""
    orphans = {
        "article_keys": "SELECT count(*) FROM article_keys k LEFT JOIN articles a "
                        "ON a.id = k.article_id WHERE a.id IS NULL",
        "story_bands": "SELECT count(*) FROM story_bands b LEFT JOIN articles a "
                       "ON a.id = b.article_id WHERE a.id IS NULL",
        "articles": "SELECT count(*) FROM articles a LEFT JOIN stories s "
                    "ON s.id = a.story_id WHERE s.id IS NULL",
        "matches": "SELECT count(*) FROM matches m LEFT JOIN articles a "
                   "ON a.id = m.article_id WHERE a.id IS NULL",
        "match_places": "SELECT count(*) FROM match_places p LEFT JOIN matches m "
                        "ON m.id = p.match_id WHERE m.id IS NULL",
        "deliveries": "SELECT count(*) FROM deliveries d LEFT JOIN matches m "
                      "ON m.id = d.match_id WHERE m.id IS NULL",
    }
    assert {table: rows(url, query)[0][0] for table, query in orphans.items()} == \
        dict.fromkeys(orphans, 0)
    if backend(url) == "sqlite":
        assert rows(url, "PRAGMA foreign_key_check") == []
        with connected(url) as connection:  # raises when the FTS index disagrees
            connection.exec_driver_sql(
                "INSERT INTO articles_search(articles_search) VALUES ('integrity-check')")


def test_old_articles_go_with_their_keys_bands_matches_places_deliveries_and_stories(
    any_store: Store, any_db_url: str
) -> None:
    _ingest(any_store, "old-1", rules=("siege", "strike"))
    _ingest(any_store, "old-2")
    _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store)
    report = any_store.prune(BEFORE)

    assert _articles(any_db_url) == ["new-1"]
    assert count(any_db_url, "stories") == 1
    after = {table: count(any_db_url, table) for table in CHILD_TABLES}
    assert after == {"article_keys": 2, "story_bands": 4, "matches": 1, "match_places": 5,
                     "deliveries": 1}
    assert report.removed == {
        "match_places": 15, "deliveries": 3, "matches": 3,  # 5 areas a match
        "article_keys": 4, "story_bands": 8, "articles": 2, "story_comments": 0,
        "story_states": 0, "stories": 2,
    }
    assert report.kept == {"pending_alert": 0, "open_triage": 0, "newest_row": 0}
    _assert_consistent(any_db_url)
    if backend(any_db_url) == "sqlite":  # the search index lost their entries
        assert rows(any_db_url, "SELECT rowid FROM articles_search WHERE articles_search "
                                "MATCH 'old'") == []
    assert any_store.prune(BEFORE).removed == dict.fromkeys(report.removed, 0)  # idempotent


def test_an_article_whose_alert_is_still_pending_is_kept(any_store: Store, any_db_url: str) -> None:
    _ingest(any_store, "old-sent")
    _send_all(any_store)
    _ingest(any_store, "old-pending")  # its delivery waits (a digest, a retry)
    _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store, but="old-pending")

    report = any_store.prune(BEFORE)

    assert _articles(any_db_url) == ["old-pending", "new-1"]
    assert report.kept["pending_alert"] == 1
    assert rows(any_db_url, "SELECT status FROM deliveries d JOIN matches m ON m.id = d.match_id "
                            "JOIN articles a ON a.id = m.article_id "
                            "WHERE a.external_id = 'old-pending'") == [("pending",)]
    _send_all(any_store)
    assert any_store.prune(BEFORE).removed["articles"] == 1  # once sent, it goes
    assert _articles(any_db_url) == ["new-1"]


def test_a_story_under_triage_keeps_its_articles_until_it_is_closed(
    any_store: Store, any_db_url: str
) -> None:
    acknowledged = _ingest(any_store, "old-acknowledged")
    commented = _ingest(any_store, "old-commented")
    closed = _ingest(any_store, "old-closed")
    _ingest(any_store, "old-untouched")
    recent = _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store)
    ana = Accounts(any_store).add_user("ana", "analyst", "a long password", OLD)
    triage = Triage(any_store)
    triage.acknowledge([acknowledged], ana, OLD)
    triage.comment([closed], "Nothing in it", ana, OLD)
    triage.close([closed], ana, OLD)
    triage.comment([commented], "Checking with the field team", ana, OLD)

    report = any_store.prune(BEFORE)

    assert _articles(any_db_url) == ["old-acknowledged", "old-commented", "new-1"]
    assert report.kept["open_triage"] == 2
    assert (report.removed["story_states"], report.removed["story_comments"]) == (1, 1)
    assert count(any_db_url, "audit_log") == 5  # the record of the work is kept
    triage.close([acknowledged, commented], ana, NOW)
    triage.comment([recent], "Follow-up", ana, NOW)  # the newest comment's story stays
    assert any_store.prune(BEFORE).removed["stories"] == 2
    assert _articles(any_db_url) == ["new-1"]
    _assert_consistent(any_db_url)


def test_a_story_with_an_article_in_the_window_keeps_it_and_new_copies_join_it(
    any_store: Store, any_db_url: str
) -> None:
    story = _ingest(any_store, "old-copy", story_band=7)
    assert _ingest(any_store, "new-copy", timedelta(days=1), story_band=7, joins=True) == story
    gone = _ingest(any_store, "old-alone", story_band=9)
    _ingest(any_store, "new-other", timedelta(days=1))
    _send_all(any_store)

    any_store.prune(BEFORE)

    assert _articles(any_db_url) == ["new-copy", "new-other"]
    assert story in _story_ids(any_db_url) and gone not in _story_ids(any_db_url)
    # the story's newer copy keeps its bands: another copy still finds the story
    assert _ingest(any_store, "later-copy", timedelta(0), story_band=7, joins=True) == story
    # a story all of whose articles went is forgotten: a copy of it starts a new story
    assert _ingest(any_store, "later-alone", timedelta(0), story_band=9, joins=True) != gone


def _story_ids(url: str) -> set[int]:
    return {row[0] for row in rows(url, "SELECT id FROM stories")}


def test_a_pruned_article_seen_again_is_stored_as_new_and_alerts_once(
    any_store: Store, any_db_url: str
) -> None:
    _ingest(any_store, "old-1")
    _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store)
    any_store.prune(BEFORE)
    assert _articles(any_db_url) == ["new-1"]

    again = new_article("old-1", fetched=NOW, body="Body of old-1 about Aleppo.")
    first = any_store.ingest(again, [new_match(again)], new_story, NOW)
    second = any_store.ingest(again, [new_match(again)], new_story, NOW)

    assert first.stored and [m.rule_id for m in first.new_matches] == ["siege"]
    assert (second.stored, second.new_matches) == (False, ())
    assert any_store.pending_delivery_count() == 1  # one alert, not two


def test_the_rows_holding_the_newest_ids_are_kept_so_sqlite_never_reuses_them(
    any_store: Store, any_db_url: str
) -> None:
    _ingest(any_store, "old-1")
    newest = _ingest(any_store, "old-2")  # everything's newest row, however old
    _send_all(any_store)

    report = any_store.prune(BEFORE)

    assert _articles(any_db_url) == ["old-2"]
    assert report.kept["newest_row"] == 1
    story = _ingest(any_store, "new-1", timedelta(0))
    assert story > newest  # not the pruned story's id again


def test_each_batch_is_one_transaction_of_at_most_batch_articles(
    any_store: Store, any_db_url: str
) -> None:
    for number in range(7):
        _ingest(any_store, f"old-{number}")
    _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store)
    removed: list[int] = []

    def between_batches(report: PruneReport) -> None:
        removed.append(report.removed["articles"])
        _ingest(any_store, f"stored-meanwhile-{len(removed)}", timedelta(0))  # a poll's

    report = any_store.prune(BEFORE, batch=3, after_batch=between_batches)

    assert removed == [3, 6, 7]  # committed 3, 3 and 1 at a time
    assert report.batches == 3
    assert _articles(any_db_url) == ["new-1", "stored-meanwhile-1", "stored-meanwhile-2",
                                     "stored-meanwhile-3"]


class Killed(Exception):
    """The process dying in the middle of a batch, as far as the transaction can tell."""


def test_a_prune_killed_in_a_batch_leaves_whole_articles_and_goes_on_when_run_again(
    any_store: Store, any_db_url: str
) -> None:
    for number in range(5):
        _ingest(any_store, f"old-{number}")
    _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store)
    engine = open_engine(any_db_url)
    deletes: list[str] = []

    def kill_at_second_batch_end(_conn, _cursor, statement: str, *_args) -> None:
        if statement.startswith("DELETE FROM stories"):
            deletes.append(statement)
            if len(deletes) == 2:  # the batch's rows are deleted; it dies before its commit
                raise Killed

    sa.event.listen(engine, "before_cursor_execute", kill_at_second_batch_end)
    with Store(engine) as store, pytest.raises(Killed):
        store.prune(BEFORE, batch=2)

    assert _articles(any_db_url) == ["old-2", "old-3", "old-4", "new-1"]  # batch one only
    _assert_consistent(any_db_url)
    any_store.prune(BEFORE, batch=2)
    assert _articles(any_db_url) == ["new-1"]
    _assert_consistent(any_db_url)


def test_a_dry_run_counts_what_a_prune_removes_and_changes_nothing(
    any_store: Store, any_db_url: str
) -> None:
    story = _ingest(any_store, "old-0", story_band=5)
    for number in range(1, 4):  # one story over two batches
        assert _ingest(any_store, f"old-{number}", story_band=5, joins=True) == story
    _ingest(any_store, "old-4")
    _ingest(any_store, "old-pending")
    _ingest(any_store, "new-1", timedelta(days=1))
    _send_all(any_store, but="old-pending")
    everything = {table: count(any_db_url, table) for table in (*CHILD_TABLES, "stories")}

    dry = any_store.prune(BEFORE, dry_run=True, batch=3)

    assert {table: count(any_db_url, table) for table in everything} == everything
    real = any_store.prune(BEFORE, batch=3)
    assert (dry.removed, dry.kept) == (real.removed, real.kept)
    assert (real.removed["articles"], real.removed["stories"]) == (5, 2)


def test_one_prune_at_a_time_on_postgresql(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        _ingest(store, "old-1")
        _ingest(store, "new-1", timedelta(days=1))
        _send_all(store)
        with connected(pg_url) as other:  # another worker pruning
            other.exec_driver_sql(f"SELECT pg_advisory_lock({PG_PRUNE_LOCK})")
            busy = store.prune(BEFORE)
            other.exec_driver_sql(f"SELECT pg_advisory_unlock({PG_PRUNE_LOCK})")
        assert busy.busy and busy.removed["articles"] == 0
        assert _articles(pg_url) == ["old-1", "new-1"]
        done: PruneReport = store.prune(BEFORE)
        assert not done.busy and _articles(pg_url) == ["new-1"]
