"""Ingests side by side on PostgreSQL (docs/storage.md, "Ingests side by side"): two stores
(two workers) on one real database, one ingest held at a known point of its transaction
while the other runs, so each test shows what the other saw.

An ingest is held by its story picker (called inside the transaction, once its keys and
bands are locked and its candidates read), or by a table lock this test takes on the table
the ingest writes next. The other ingest is first tried by an impatient worker, whose
sessions give up on a lock another holds at once (PostgreSQL's lock_timeout, SQLSTATE
55P03): it is refused exactly where a worker would wait, whatever the machine's speed, and
nothing waits on the clock. Then the first is let go and the other stored by its worker.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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
from tests.store.conftest import GIVEN_BACK_CLEAN, given_back, psycopg_said
from tests.store.sql import connected, rows
from tests.support.helpers import PATIENCE, returns_within
from watcher.errors import StoreError
from watcher.store import (
    IngestItem,
    IngestResult,
    NewArticle,
    Store,
    StoryCandidate,
    StoryPicker,
)
from watcher.store.ingest import PG_INGEST_LOCK, LockSpace, lock_key


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


@pytest.fixture
def impatient(pg_url: str) -> Iterator[Store]:
    """A worker whose every session gives up at once on a lock held by another."""
    joiner = "&" if "?" in pg_url else "?"
    with Store.open(f"{pg_url}{joiner}options=-c%20lock_timeout%3D1") as store:
        yield store


def refused_for_a_lock(call: Callable[[], object]) -> None:
    """`call()` would wait for a lock another session holds: the impatient worker's
    session says so instead of waiting (and rolls back: nothing of it is stored)."""
    with pytest.raises(StoreError, match="lock"):
        call()


@contextmanager
def table_locked(url: str, table: str) -> Iterator[None]:
    """`table` locked against inserts (SHARE mode) until the block ends: an ingest that
    reaches its INSERT there waits, holding every lock it has taken so far."""
    with connected(url) as connection:
        connection.exec_driver_sql(f"LOCK TABLE {table} IN SHARE MODE")
        yield


@contextmanager
def sending(table: str) -> Iterator[threading.Event]:
    """An event set when a session sends a statement that inserts into `table` (every
    statement sent before it has returned, with the locks it took)."""
    sent = threading.Event()

    def look(conn, cursor, statement: str, *args: object) -> None:
        if re.search(rf"INSERT INTO \"?{table}\b", statement):
            sent.set()

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", look)
    try:
        yield sent
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", look)


def second_while_first_held(
    pool: ThreadPoolExecutor, impatient: Store,
    first: Callable[[StoryPicker], IngestResult], second: Callable[[Store], IngestResult],
    worker: Store,
) -> tuple[IngestResult, IngestResult]:
    """`first(picker)` held by its picker (which then starts a new story) inside its
    transaction: `second` refused a lock the first holds; then, the first committed,
    `second(worker)`; both results."""
    held = HeldPicker(new_story)
    holding = pool.submit(first, held)
    try:
        assert held.inside.wait(PATIENCE)
        refused_for_a_lock(lambda: second(impatient))
    finally:
        held.go.set()
    return holding.result(PATIENCE), second(worker)


def second_while_first_waits_on(
    table: str, pool: ThreadPoolExecutor, url: str, impatient: Store,
    first: Callable[[], IngestResult], second: Callable[[Store], IngestResult],
    worker: Store,
) -> tuple[IngestResult, IngestResult]:
    """`first()` held at its INSERT into `table` (every lock it took before still held):
    `second` refused a lock the first holds; then, the first committed, `second(worker)`;
    both results."""
    with sending(table) as sent, table_locked(url, table):
        holding = pool.submit(first)
        assert sent.wait(PATIENCE), f"the first ingest never wrote to {table}"
        refused_for_a_lock(lambda: second(impatient))
    return holding.result(PATIENCE), second(worker)


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
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str, impatient: Store,) -> None:
    """The second copy shares bands with the first, so it waits for the first's commit and
    finds it; without the band locks it would start a second story and alert again."""
    first, second = stores
    first.ingest(article("c", (1, 90, 91)), [], new_story, NOW)  # a's candidate, not b's
    a, b = article("a", (1, 2, 3)), article("b", (92, 2, 3))  # copies: two bands alike
    stored_a, stored_b = second_while_first_held(  # a: c is its candidate, not its story
        pool, impatient, lambda held: first.ingest(a, [new_match(a)], held, NOW),
        lambda worker: worker.ingest(b, [new_match(b)], oldest_story, NOW), second)
    assert stored_a.story_id == stored_b.story_id == story_of(pg_url, "b")
    assert (len(stored_a.new_matches), len(stored_b.new_matches)) == (1, 0)
    assert count(pg_url, "SELECT count(*) FROM deliveries") == 1


def test_copies_joining_one_story_through_different_bands_alert_once(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str, impatient: Store,) -> None:
    """a and b join c's story, sharing no band with each other: the story's lock makes the
    second read the rules already first in it after the first has committed its match."""
    first, second = stores
    first.ingest(article("c", (1, 2)), [], new_story, NOW)
    a, b = article("a", (1, 93)), article("b", (94, 2))
    stored_a, stored_b = second_while_first_waits_on(  # a's first match written
        "match_places", pool, pg_url, impatient,
        lambda: first.ingest(a, [new_match(a, places=(SHEIKH_MAQSOUD,))], oldest_story, NOW),
        lambda worker: worker.ingest(b, [new_match(b)], oldest_story, NOW), second)
    assert stored_a.story_id == stored_b.story_id == story_of(pg_url, "c")
    assert (len(stored_a.new_matches), len(stored_b.new_matches)) == (1, 0)
    assert count(pg_url, "SELECT count(*) FROM matches WHERE first_in_story") == 1
    assert count(pg_url, "SELECT count(*) FROM deliveries") == 1


def test_a_rule_in_its_cooldown_alerts_once_for_two_stories_stored_at_once(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str, impatient: Store,) -> None:
    """Two different stories, one rule with a cooldown: each match is first in its story,
    but the rule's lock makes the second read the first's queued alert."""
    first, second = stores
    a, b = article("a", (1, 2)), article("b", (3, 4))
    hour = timedelta(hours=1)
    stored_a, stored_b = second_while_first_waits_on(  # a's cooldown read
        "deliveries", pool, pg_url, impatient,
        lambda: first.ingest(a, [new_match(a, cooldown=hour)], new_story, NOW),
        lambda worker: worker.ingest(b, [new_match(b, cooldown=hour)], new_story, NOW), second)
    assert stored_a.story_id != stored_b.story_id
    assert (len(stored_a.new_matches), len(stored_b.new_matches)) == (1, 1)  # both printed
    assert rows(pg_url, "SELECT a.external_id FROM deliveries d JOIN matches m ON "
                        "m.id = d.match_id JOIN articles a ON a.id = m.article_id") == [("a",)]


def test_an_article_stored_by_another_worker_meanwhile_is_a_duplicate_not_an_error(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str, impatient: Store,) -> None:
    """The same guid with another text (other bands): the identity key's lock makes the
    second ingest wait and find the first's key, so the article that was being stored
    first is the one kept (without the lock the unique key still refuses one of them,
    whichever writes its keys last, as a duplicate)."""
    first, second = stores
    first.ingest(article("c", (1,)), [], new_story, NOW)
    a = article("a", (1, 2))
    edited = article("a", (5, 6), body="The same guid, another text.")
    stored_a, stored_again = second_while_first_held(
        pool, impatient, lambda held: first.ingest(a, [new_match(a)], held, NOW),
        lambda worker: worker.ingest(edited, [new_match(edited)], new_story, NOW), second)
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
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str, impatient: Store,) -> None:
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
    try:
        assert held.inside.wait(PATIENCE)
        # the batch would wait: it never runs beside an ingest joining a story it deletes
        refused_for_a_lock(lambda: impatient.prune(NOW - timedelta(days=180)))
    finally:
        held.go.set()
    assert storing.result(PATIENCE).story_id == story
    pruned = pruning.prune(NOW - timedelta(days=180))
    assert pruned.removed["articles"] == 1  # old-copy; its story stays
    assert story_of(pg_url, "new-copy") == story
    assert count(pg_url, f"SELECT count(*) FROM stories WHERE id = {story}") == 1


def test_an_ingest_waits_for_a_worker_of_the_version_before_holding_the_one_lock(
    stores: tuple[Store, Store], pool: ThreadPoolExecutor, pg_url: str, impatient: Store,) -> None:
    """During a rolling upgrade an older worker stores each article under the one ingest
    lock, taken alone (PG_INGEST_LOCK); this version takes it shared, so the two take turns
    and a copy stored by both at once still makes one story."""
    first, _ = stores
    with connected(pg_url) as older_worker:
        older_worker.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_INGEST_LOCK})")
        # an ingest would wait: it never runs beside an older worker's ingest
        refused_for_a_lock(lambda: impatient.ingest(article("a", (1, 2, 3)), [], new_story, NOW))
    assert first.ingest(article("a", (1, 2, 3)), [], new_story, NOW).stored


def test_a_lock_not_taken_fails_the_article_and_leaks_no_lock(
    stores: tuple[Store, Store], impatient: Store, pg_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another session holds the lock on one band of an article: its ingest's lock
    statement (the ingest lock and its keys taken, then that band's refused by
    lock_timeout) fails it, with nothing stored and none of its locks held after; the
    articles before it are reported, and once the lock is free it is stored."""
    pooled = given_back(impatient._engine)
    caplog.set_level(logging.DEBUG)
    batch = [new_article("a0"), new_article("a1"), new_article("a2")]
    items = [IngestItem(new, [], new_story, NOW) for new in batch]
    band = (int(LockSpace.BAND), lock_key(str(batch[1].bands[-1])))
    with connected(pg_url) as holder:
        holder.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", band)
        first = impatient.ingest_batch(items)
        assert [r.stored for r in first] == [True]  # type: ignore[union-attr]
        with pytest.raises(StoreError, match="lock"):
            impatient.ingest_batch(items[1:])
        assert holder.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid <> pg_backend_pid()").scalar() == 0
    assert rows(pg_url, "SELECT external_id FROM articles ORDER BY id") == [
        ("warm-up",), ("a0",)]
    rest = impatient.ingest_batch(items[1:])
    assert [r.stored for r in rest] == [True, True]  # type: ignore[union-attr]
    assert pooled == [GIVEN_BACK_CLEAN] * 3
    assert psycopg_said(caplog) == []
