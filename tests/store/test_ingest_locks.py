"""Ingests side by side on PostgreSQL (docs/storage.md, "Ingests side by side"): two stores
(two workers) on one real database, one ingest held at a known point of its transaction
while the other runs, so each test shows what the other saw.

An ingest is held by its story picker (called inside the transaction, once its keys and
bands are locked and its candidates read), or by a table lock this test takes on the table
the ingest writes next. The other ingest is let run until it is done or waits on a lock,
which PostgreSQL's pg_locks shows; then the first is let go.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests.store.builders import (
    NOW,
    SHEIKH_MAQSOUD,
    new_article,
    new_match,
    new_story,
    oldest_story,
)
from tests.store.sql import connected, rows
from tests.support.helpers import PATIENCE, returns_within, wait_until
from watcher.store import IngestResult, NewArticle, Store, StoryCandidate, StoryPicker
from watcher.store.ingest import PG_INGEST_LOCK, lock_key


def article(name: str, bands: tuple[int, ...], body: str | None = None) -> NewArticle:
    """An article whose LSH bands are `bands`: articles with one band alike (the same
    hash at the same index) are each other's story candidates, others are not."""
    return dataclasses.replace(new_article(name, body=body), bands=bands)


class HeldPicker:
    """A story picker that stops its ingest inside the transaction until `go` is set."""

    def __init__(self, choose: StoryPicker) -> None:
        self.choose = choose
        self.inside = threading.Event()
        self.go = threading.Event()

    def __call__(self, candidates: Sequence[StoryCandidate]) -> int | None:
        self.inside.set()
        self.go.wait(PATIENCE)
        return self.choose(candidates)


@pytest.fixture
def stores(pg_url: str) -> Iterator[tuple[Store, Store]]:
    """Two stores, as two workers have, their source already stored (its row is the one
    thing every ingest of it would otherwise create)."""
    with Store.open(pg_url) as first, Store.open(pg_url) as second:
        first.ingest(article("warm-up", (10**6,)), [], new_story, NOW)
        yield first, second


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as threads:
        yield threads


def blocked_sessions(url: str) -> int:
    """Sessions of this database waiting for a lock (advisory, table or row)."""
    return int(rows(url, "SELECT count(DISTINCT l.pid) FROM pg_locks l "
                         "JOIN pg_stat_activity a ON a.pid = l.pid "
                         "WHERE NOT l.granted AND a.datname = current_database()")[0][0])


def done_or_blocked(url: str, running: Future[IngestResult], blocked: int) -> None:
    wait_until(lambda: running.done() or blocked_sessions(url) >= blocked,
               "the second ingest finishing or waiting for a lock")


@contextmanager
def table_locked(url: str, table: str) -> Iterator[None]:
    """`table` locked against inserts (SHARE mode) until the block ends: an ingest that
    reaches its INSERT there waits, holding every lock it has taken so far."""
    with connected(url) as connection:
        connection.exec_driver_sql(f"LOCK TABLE {table} IN SHARE MODE")
        yield


def second_while_first_held(
    pool: ThreadPoolExecutor, url: str,
    first: Callable[[StoryPicker], IngestResult], second: Callable[[], IngestResult],
) -> tuple[IngestResult, IngestResult]:
    """`first(picker)` held by its picker (which then starts a new story) inside its
    transaction while `second()` runs until done or waiting for a lock; both results."""
    held = HeldPicker(new_story)
    holding = pool.submit(first, held)
    assert held.inside.wait(PATIENCE)
    other = pool.submit(second)
    try:
        done_or_blocked(url, other, 1)
    finally:
        held.go.set()
    return holding.result(PATIENCE), other.result(PATIENCE)


def second_while_first_waits_on(
    table: str, pool: ThreadPoolExecutor, url: str,
    first: Callable[[], IngestResult], second: Callable[[], IngestResult],
) -> tuple[IngestResult, IngestResult]:
    """`first()` held at its INSERT into `table` (every lock it took before still held)
    while `second()` runs until done or waiting for a lock; both results."""
    with table_locked(url, table):
        holding = pool.submit(first)
        wait_until(lambda: blocked_sessions(url) >= 1, f"the first ingest waiting on {table}")
        other = pool.submit(second)
        done_or_blocked(url, other, 2)
    return holding.result(PATIENCE), other.result(PATIENCE)


def story_of(url: str, name: str) -> int:
    return int(rows(url, f"SELECT story_id FROM articles WHERE external_id = '{name}'")[0][0])


def count(url: str, query: str) -> int:
    return int(rows(url, query)[0][0])


def test_ingests_sharing_no_key_and_no_band_run_side_by_side(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor,
) -> None:
    """One ingest no longer waits for all others: an article unrelated to the one being
    stored is stored meanwhile (it waited for a global lock before)."""
    first, second = stores
    first.ingest(article("c", (1, 2)), [], new_story, NOW)  # held's candidate
    held = HeldPicker(new_story)
    a, b = article("a", (1, 3)), article("b", (4, 5))
    holding = pool.submit(first.ingest, a, [new_match(a)], held, NOW)
    try:
        assert held.inside.wait(PATIENCE)
        result = returns_within(PATIENCE, lambda: second.ingest(b, [new_match(b)], new_story, NOW),
                                "storing an unrelated article while another is being stored")
    finally:
        held.go.set()
    assert result.stored and result.new_matches
    assert holding.result(PATIENCE).stored


def test_two_copies_stored_at_once_by_two_workers_make_one_story_and_one_alert(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str,
) -> None:
    """The second copy shares bands with the first, so it waits for the first's commit and
    finds it; without the band locks it would start a second story and alert again."""
    first, second = stores
    first.ingest(article("c", (1, 90, 91)), [], new_story, NOW)  # a's candidate, not b's
    a, b = article("a", (1, 2, 3)), article("b", (92, 2, 3))  # copies: two bands alike
    stored_a, stored_b = second_while_first_held(  # a: c is its candidate, not its story
        pool, pg_url, lambda held: first.ingest(a, [new_match(a)], held, NOW),
        lambda: second.ingest(b, [new_match(b)], oldest_story, NOW))
    assert stored_a.story_id == stored_b.story_id == story_of(pg_url, "b")
    assert (len(stored_a.new_matches), len(stored_b.new_matches)) == (1, 0)
    assert count(pg_url, "SELECT count(*) FROM deliveries") == 1


def test_copies_joining_one_story_through_different_bands_alert_once(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str,
) -> None:
    """a and b join c's story, sharing no band with each other: the story's lock makes the
    second read the rules already first in it after the first has committed its match."""
    first, second = stores
    first.ingest(article("c", (1, 2)), [], new_story, NOW)
    a, b = article("a", (1, 93)), article("b", (94, 2))
    stored_a, stored_b = second_while_first_waits_on(  # a's first match written
        "match_places", pool, pg_url,
        lambda: first.ingest(a, [new_match(a, places=(SHEIKH_MAQSOUD,))], oldest_story, NOW),
        lambda: second.ingest(b, [new_match(b)], oldest_story, NOW))
    assert stored_a.story_id == stored_b.story_id == story_of(pg_url, "c")
    assert (len(stored_a.new_matches), len(stored_b.new_matches)) == (1, 0)
    assert count(pg_url, "SELECT count(*) FROM matches WHERE first_in_story") == 1
    assert count(pg_url, "SELECT count(*) FROM deliveries") == 1


def test_a_rule_in_its_cooldown_alerts_once_for_two_stories_stored_at_once(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str,
) -> None:
    """Two different stories, one rule with a cooldown: each match is first in its story,
    but the rule's lock makes the second read the first's queued alert."""
    first, second = stores
    a, b = article("a", (1, 2)), article("b", (3, 4))
    hour = timedelta(hours=1)
    stored_a, stored_b = second_while_first_waits_on(  # a's cooldown read
        "deliveries", pool, pg_url,
        lambda: first.ingest(a, [new_match(a, cooldown=hour)], new_story, NOW),
        lambda: second.ingest(b, [new_match(b, cooldown=hour)], new_story, NOW))
    assert stored_a.story_id != stored_b.story_id
    assert (len(stored_a.new_matches), len(stored_b.new_matches)) == (1, 1)  # both printed
    assert rows(pg_url, "SELECT a.external_id FROM deliveries d JOIN matches m ON "
                        "m.id = d.match_id JOIN articles a ON a.id = m.article_id") == [("a",)]


def test_an_article_stored_by_another_worker_meanwhile_is_a_duplicate_not_an_error(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str,
) -> None:
    """The same guid with another text (other bands): the identity key's lock makes the
    second ingest wait and find the first's key, so the article that was being stored
    first is the one kept (without the lock the unique key still refuses one of them,
    whichever writes its keys last, as a duplicate)."""
    first, second = stores
    first.ingest(article("c", (1,)), [], new_story, NOW)
    a = article("a", (1, 2))
    edited = article("a", (5, 6), body="The same guid, another text.")
    stored_a, stored_again = second_while_first_held(
        pool, pg_url, lambda held: first.ingest(a, [new_match(a)], held, NOW),
        lambda: second.ingest(edited, [new_match(edited)], new_story, NOW))
    assert stored_a.stored and not stored_again.stored
    assert count(pg_url, "SELECT count(*) FROM articles WHERE external_id = 'a'") == 1
    assert count(pg_url, "SELECT count(*) FROM deliveries") == 1


def test_a_lock_key_is_the_same_in_every_process() -> None:
    """Another worker must compute the same lock for the same band, story or rule: a
    digest, not Python's hash(), which each process salts its own way."""
    script = "from watcher.store.ingest import lock_key; print(lock_key('siege'))"
    keys = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert keys == {str(lock_key("siege"))}


def test_a_prune_waits_for_an_ingest_joining_a_story_it_would_delete(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str
) -> None:
    """An old article's copy is being stored into its story when a retention batch would
    delete that article and, with it, the story: the batch waits (every ingest holds the
    ingest lock shared, a batch holds it alone), so the copy keeps its story and the
    story stays."""
    ingesting, pruning = stores
    old = new_article("old-copy", story_band=7, fetched=NOW - timedelta(days=200))
    story = ingesting.ingest(old, [], new_story, old.fetched).story_id
    ingesting.ingest(new_article("newest", fetched=NOW), [], new_story, NOW)
    copy = new_article("new-copy", story_band=7, fetched=NOW)
    held = HeldPicker(oldest_story)
    storing = pool.submit(ingesting.ingest, copy, [], held, NOW)
    assert held.inside.wait(PATIENCE)
    prune = pool.submit(pruning.prune, NOW - timedelta(days=180))
    try:
        done_or_blocked(pg_url, prune, 1)
        assert not prune.done(), "the batch ran beside an ingest joining a story it deletes"
    finally:
        held.go.set()
    assert storing.result(PATIENCE).story_id == story
    assert prune.result(PATIENCE).removed["articles"] == 1  # old-copy; its story stays
    assert story_of(pg_url, "new-copy") == story
    assert count(pg_url, f"SELECT count(*) FROM stories WHERE id = {story}") == 1


def test_an_ingest_waits_for_a_worker_of_the_version_before_holding_the_one_lock(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str
) -> None:
    """During a rolling upgrade an older worker stores each article under the one ingest
    lock, taken alone (PG_INGEST_LOCK); this version takes it shared, so the two take turns
    and a copy stored by both at once still makes one story."""
    first, _ = stores
    with connected(pg_url) as older_worker:
        older_worker.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_INGEST_LOCK})")
        storing = pool.submit(first.ingest, article("a", (1, 2, 3)), [], new_story, NOW)
        done_or_blocked(pg_url, storing, 1)
        assert not storing.done(), "an ingest ran beside an older worker's ingest"
    assert storing.result(PATIENCE).stored
