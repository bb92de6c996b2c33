"""Ingest a batch at a time: on SQLite one transaction per batch, a savepoint per article;
on PostgreSQL one transaction per article. What is stored, what is alerted and what a
failure leaves are the same as one article at a time.

Real databases (SQLite files, a real PostgreSQL), the shipped rules, a loopback feed.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.store.builders import NOW, new_article, new_story, oldest_story
from tests.store.conftest import GIVEN_BACK_CLEAN, empty, given_back, psycopg_said
from tests.store.sql import backend, execute, rows
from tests.support.helpers import PATIENCE
from tests.support.http_server import Reply, ScriptedServer
from watcher.config.settings import SourceSettings
from watcher.daemon.poller import Poller
from watcher.engine.matcher import Matcher
from watcher.errors import StoreError
from watcher.ingest.pipeline import ANALYSIS_CHUNK, Outcome, Pipeline
from watcher.model import Article, Severity
from watcher.sources.fetch import Fetcher
from watcher.store import IngestItem, Store, StoryCandidate
from watcher.store.batch import BatchBound
from watcher.store.db import open_engine

ROOT = Path(__file__).resolve().parents[2]
PAIRS = json.loads((ROOT / "tests" / "data" / "stories" / "pairs.json").read_text())
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class _Channel:
    """A default channel taking every severity: each first match queues a delivery."""

    default = True
    min_severity = Severity.INFO
    digest = None


@functools.cache
def shipped_rules() -> Matcher:
    return Matcher.from_path(ROOT / "rules")


def pipeline(store: Store) -> Pipeline:
    return Pipeline(matcher=shipped_rules(), store=store, channels={"ops": _Channel()},
                    now=lambda: MOMENT)


def articles() -> list[Article]:
    """Both sides of each pair of tests/data/stories: copies of one story and reports of
    different events, most of them matching a shipped rule."""
    return [
        Article(id=f"{n}-{side}", title=pair[side]["title"], body=pair[side]["text"],
                source=f"outlet-{side}")
        for n, pair in enumerate(PAIRS) for side in ("a", "b")
    ]


def stored(url: str) -> list[tuple[Any, ...]]:
    """What ingest decided: each article's story (as the id of its first article), each
    match and whether it is first in its story, each delivery queued."""
    return rows(url, """
        SELECT a.external_id, (SELECT min(f.external_id) FROM articles f
                               WHERE f.story_id = a.story_id),
               m.rule_id, m.first_in_story, d.channel, d.status
        FROM articles a LEFT JOIN matches m ON m.article_id = a.id
        LEFT JOIN deliveries d ON d.match_id = m.id
        ORDER BY a.external_id, m.rule_id, d.channel""")


@pytest.fixture
def commits(any_db_url: str) -> Iterator[tuple[Store, _Commits]]:
    """A Store on the migrated database whose clock stands still, and its commits."""
    Store.open(any_db_url).close()
    engine = open_engine(any_db_url)
    counted = _Commits(engine)
    with Store(engine, clock=lambda: 0.0) as store:
        yield store, counted


def test_a_batch_commits_once_on_sqlite_and_per_article_on_postgresql(
    commits: tuple[Store, _Commits], any_db_url: str
) -> None:
    store, counted = commits
    batch = articles()[:6]
    outcomes = list(pipeline(store).ingest_many(batch))
    assert [o.status for o in outcomes] == ["new"] * len(batch)
    assert counted.commits == {"sqlite": 1, "postgresql": len(batch)}[backend(any_db_url)]


def test_a_batch_is_bounded_in_articles_and_in_time_holding_the_lock(db_url: str) -> None:
    Store.open(db_url).close()
    engine = open_engine(db_url)
    counted = _Commits(engine)
    ticks = iter(range(1000))
    with Store(engine, batch_bound=BatchBound(articles=4, seconds=10.0),
               clock=lambda: 0.0) as store:
        list(pipeline(store).ingest_many(articles()[:10]))
        assert counted.commits == 3  # 4 + 4 + 2
        store.batch_bound = BatchBound(articles=100, seconds=3.0)
        store._clock = lambda: float(next(ticks))  # a second per article begun
        list(pipeline(store).ingest_many(articles()[10:20]))
    assert counted.commits == 3 + 4  # 3 + 3 + 3 + 1: none begun after 3 s holding the lock
    assert len(rows(db_url, "SELECT id FROM articles")) == 20


def refuse_title(url: str, title: str) -> None:
    """Make the database itself refuse an article by its title: a trigger on SQLite, a
    CHECK constraint on PostgreSQL (what a bad value or a broken constraint does)."""
    if backend(url) == "sqlite":
        execute(url, f"CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.title = "
                     f"'{title}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    else:
        execute(url, f"ALTER TABLE articles ADD CONSTRAINT refused_by_the_test "
                     f"CHECK (title <> '{title}')")


def test_an_article_the_database_refuses_is_rolled_back_alone_the_rest_stored(
    any_store: Store, any_db_url: str
) -> None:
    batch = articles()[:6]
    refuse_title(any_db_url, batch[2].title)
    outcomes: list[Outcome] = []
    with pytest.raises(StoreError) as refused:
        outcomes.extend(pipeline(any_store).ingest_many(batch))
    assert "refused" in str(refused.value)  # the database's own words, as one line
    expected = [a.id for n, a in enumerate(batch) if n != 2]
    assert [(o.article.id, o.status) for o in outcomes] == [(i, "new") for i in expected]
    assert sorted(r[0] for r in rows(any_db_url, "SELECT external_id FROM articles")) == expected
    keys = rows(any_db_url, "SELECT k.key FROM article_keys k")
    assert not [key for (key,) in keys if batch[2].id in key]  # nothing of it: not even keys
    # Not marked done: once the database takes it, the next run stores it, and only it.
    execute(any_db_url, "DROP TRIGGER refuse" if backend(any_db_url) == "sqlite" else
            "ALTER TABLE articles DROP CONSTRAINT refused_by_the_test")
    again = list(pipeline(any_store).ingest_many(batch))
    assert [(o.article.id, o.status) for o in again if o.status == "new"] == [(batch[2].id, "new")]


def test_a_refusal_in_the_first_chunk_of_a_batch_leaves_the_batch_stored_then_raises(
    any_store: Store, any_db_url: str
) -> None:
    """A batch of 60 (two analysis chunks) whose first article the database refuses: the
    other 59, the second chunk's too, are stored and yielded before the refusal is raised."""
    batch = [Article(id=f"report-{n}", title=f"Report {n} on the siege",
                     body=f"Report number {n}: forces kept up the siege on Monday.",
                     source="outlet", guid=f"report-{n}")
             for n in range(2 * ANALYSIS_CHUNK - 4)]
    refuse_title(any_db_url, batch[0].title)
    outcomes: list[Outcome] = []
    with pytest.raises(StoreError, match="refused"):
        outcomes.extend(pipeline(any_store).ingest_many(batch))
    assert [(o.article.id, o.status) for o in outcomes] == [
        (article.id, "new") for article in batch[1:]]
    assert len(rows(any_db_url, "SELECT id FROM articles")) == len(batch) - 1


def test_batched_ingest_stores_and_alerts_what_one_by_one_does(
    any_db_url: str, any_store: Store
) -> None:
    batch = articles()
    one_by_one = pipeline(any_store)
    for article in batch:
        one_by_one.ingest(article)
    expected = stored(any_db_url)
    assert any(first for *_, first, _, _ in expected)  # matches, some first in their story
    assert len({story for _, story, *_ in expected}) < len(batch)  # copies joined stories
    empty(any_db_url)
    with Store.open(any_db_url) as store:
        list(pipeline(store).ingest_many(batch))
    assert stored(any_db_url) == expected


class _Commits:
    """Counts the commits of transactions that stored articles, and the articles stored
    by those and by the ones under way."""

    def __init__(self, engine: sa.Engine) -> None:
        self.commits, self.inserted, self.in_transaction = 0, 0, 0
        sa.event.listen(engine, "begin", self._begin)
        sa.event.listen(engine, "before_cursor_execute", self._count)
        sa.event.listen(engine, "commit", self._commit)

    def _begin(self, _connection: Any) -> None:
        self.in_transaction = 0

    def _count(self, _c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        inserting = 'INSERT INTO "articles"' in statement or "INSERT INTO articles" in statement
        self.inserted += inserting
        self.in_transaction += inserting

    def _commit(self, _connection: Any) -> None:
        self.commits += self.in_transaction > 0


class _CommitFails(_Commits):
    """Fails a commit, as a power cut or a killed process would, once `after` articles in
    all have been inserted: a transaction holding the third article is never committed."""

    def __init__(self, engine: sa.Engine, after: int) -> None:
        super().__init__(engine)
        self.after, self.armed = after, True

    def _commit(self, _connection: Any) -> None:
        if self.armed and self.in_transaction and self.inserted >= self.after:
            raise RuntimeError("the commit failed")
        super()._commit(_connection)


def feed(items: list[Article]) -> bytes:
    entries = "".join(
        f'<item><guid isPermaLink="false">{a.id}</guid><title>{a.title}</title>'
        f"<description>{a.body}</description></item>" for a in items
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}'
            "</channel></rss>").encode()


def poll_into(store: Store, server: ScriptedServer) -> Callable[[], Any]:
    fetcher = Fetcher(now=lambda: MOMENT)
    source = SourceSettings(name="wire", url=server.url("/feed"), first_poll="alert")
    poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline(store),
                    now=lambda: MOMENT)
    return lambda: poller.poll(source)


def test_a_failed_commit_stores_nothing_marks_nothing_polled_and_the_next_poll_alerts_once(
    tmp_path: Path,
) -> None:
    items = [a for a in articles() if "&" not in a.title + a.body][:8]
    reference, url = f"sqlite:///{tmp_path / 'reference.db'}", f"sqlite:///{tmp_path / 'w.db'}"
    Store.open(url).close()
    engine = open_engine(url)
    failing = _CommitFails(engine, after=3)
    with ScriptedServer() as server:
        server.route("/feed", Reply(200, feed(items), {"ETag": '"v1"'}))
        with Store.open(reference) as clean:
            assert poll_into(clean, server)().outcome == "ok"
        with Store(engine, clock=lambda: 0.0) as store:
            poll = poll_into(store, server)
            with pytest.raises(RuntimeError, match="the commit failed"):
                poll()
            assert rows(url, "SELECT count(*) FROM articles") == [(0,)]  # nothing half-stored
            assert rows(url, "SELECT count(*) FROM deliveries") == [(0,)]
            assert rows(url, "SELECT etag, last_poll, poll_owner FROM sources") == [
                (None, None, None)]  # not marked polled: the next poll fetches it all again
            failing.armed = False
            done = poll()
        assert "if-none-match" not in server.requests_to("/feed")[-1].headers
    assert (done.outcome, done.new_articles) == ("ok", len(items))
    assert stored(url) == stored(reference)  # each article once, each alert queued once
    assert rows(url, "SELECT count(*) FROM deliveries")[0][0] > 0


def test_a_refusal_is_said_even_when_a_stop_ends_the_batch(db_url: str) -> None:
    """A shutdown ends the transaction with the article in hand; an article the database
    refused before it in that transaction is still raised, not dropped unsaid."""
    batch = articles()[:6]
    Store.open(db_url).close()
    refuse_title(db_url, batch[1].title)
    asked = itertools.count()
    outcomes: list[Outcome] = []
    with Store.open(db_url) as store, pytest.raises(StoreError) as refused:
        outcomes.extend(pipeline(store).ingest_many(batch, until=lambda: next(asked) >= 3))
    assert "refused" in str(refused.value)
    stored_ids = sorted(r[0] for r in rows(db_url, "SELECT external_id FROM articles"))
    assert batch[1].id not in stored_ids and len(stored_ids) < len(batch) - 1  # stopped early
    assert sorted(o.article.id for o in outcomes) == stored_ids  # each stored one said


def test_a_batch_keeps_its_savepoints_journals_in_memory_other_transactions_files(
    db_url: str,
) -> None:
    """A savepoint's journal past 64 KiB (one article's bands pass it) goes to a temporary
    file unless temporary storage is in memory; other transactions keep files, where a
    large sort (a migration's index) or a prune's journal spills. PRAGMA temp_store: 2 is
    MEMORY, 0 the default (files), as each INSERT and SELECT 1 ran."""
    Store.open(db_url).close()
    engine = open_engine(db_url)
    seen: set[tuple[str, int]] = set()
    sa.event.listen(engine, "after_cursor_execute", lambda connection, _c, statement, *_:
                    statement.split()[0] in ("INSERT", "SELECT") and seen.add((
                        statement.split()[0], connection.connection.driver_connection.execute(
                            "PRAGMA temp_store").fetchone()[0])))
    with Store(engine) as store:
        for batch in (articles()[:2], articles()[2:4]):  # and back: it lasts with the connection
            seen.clear()
            assert [o.status for o in pipeline(store).ingest_many(batch)] == ["new", "new"]
            assert ("INSERT", 2) in seen and ("INSERT", 0) not in seen
            seen.clear()
            with store.writing() as connection:
                connection.exec_driver_sql("SELECT 1")
            with store.reading() as connection:
                connection.exec_driver_sql("SELECT 1")
            assert seen == {("SELECT", 0)}


def test_a_connection_lost_mid_batch_on_postgresql_reports_the_articles_it_committed(
    pg_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """On PostgreSQL a batch's articles commit one by one on one connection: when it is
    lost (here killed while the third article is in its transaction), the two committed
    are reported, not dropped unsaid; the third is the first of the rest, which the next
    call stores on a new connection, each article once. The lost connection is discarded,
    not pooled, and said once: by the StoreError, not by psycopg's log too."""
    batch = [new_article(f"a{n}", story_band=7) for n in range(5)]
    picked = itertools.count(1)

    def picker(candidates: Sequence[StoryCandidate]) -> int | None:
        if next(picked) == 2:  # the third article: its locks and read done, not its write
            # until the server process has gone (its last words sent): the write finds out
            execute(pg_url, f"SELECT pg_terminate_backend(pid, {int(PATIENCE * 1000)}) "
                            "FROM pg_stat_activity WHERE datname = current_database() "
                            "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()")
        return oldest_story(candidates)

    items = [IngestItem(new, [], picker, NOW) for new in batch]
    caplog.set_level(logging.DEBUG)
    with Store.open(pg_url, clock=lambda: 0.0) as store:  # no batch ended early by a busy machine
        pooled = given_back(store._engine)
        first = store.ingest_batch(items)
        assert [r.stored for r in first] == [True, True]  # type: ignore[union-attr]
        assert rows(pg_url, "SELECT external_id FROM articles ORDER BY id") == [("a0",), ("a1",)]
        rest = store.ingest_batch(items[2:])
    assert [r.stored for r in rest] == [True, True, True]  # type: ignore[union-attr]
    assert pooled == [None, GIVEN_BACK_CLEAN]  # the lost one discarded
    assert psycopg_said(caplog) == []
    assert rows(pg_url, "SELECT external_id FROM articles ORDER BY id") == [
        (f"a{n}",) for n in range(5)]
    assert rows(pg_url, "SELECT count(DISTINCT story_id) FROM articles") == [(1,)]


def test_a_lone_surrogate_refuses_its_article_alone_the_rest_stored(any_db_url: str) -> None:
    """Text no database holds (a lone surrogate: Python strings allow one, UTF-8 does not)
    is that article's refusal, naming it and where, as the database's own refusals are:
    the batch's others are stored, nothing of it is."""
    batch = [new_article("a0"), new_article("a1", title="bad \ud800 title"), new_article("a2")]
    items = [IngestItem(new, [], new_story, NOW) for new in batch]
    with Store.open(any_db_url, clock=lambda: 0.0) as store:  # standing still: one batch
        results = store.ingest_batch(items)
    assert [getattr(r, "stored", None) for r in results] == [True, None, True]
    assert isinstance(results[1], StoreError)
    assert str(results[1]).endswith("article 'a1' of 'seeds' not stored: its title holds "
                                    "'\\ud800' at character 5, a lone surrogate, not valid "
                                    "Unicode")
    assert rows(any_db_url, "SELECT external_id FROM articles ORDER BY id") == [("a0",), ("a2",)]
    assert not [key for (key,) in rows(any_db_url, "SELECT key FROM article_keys") if "a1" in key]


def test_a_failure_after_articles_committed_on_postgresql_returns_them_then_raises(
    pg_url: str,
) -> None:
    """Anything but a refusal of one article (here the story picker raising) after some of
    a batch have committed: those are reported, and the next call, which begins with the
    failing one, raises with nothing of it stored. An interrupt goes on at once."""

    def failing(candidates: Sequence[StoryCandidate]) -> int | None:
        raise ValueError("no story for this one")

    def interrupted(candidates: Sequence[StoryCandidate]) -> int | None:
        raise KeyboardInterrupt

    items = [IngestItem(new_article(name, story_band=7), [], picker, NOW) for name, picker in
             [("a0", new_story), ("a1", failing), ("a2", new_story), ("a3", interrupted)]]
    with Store.open(pg_url) as store:
        pooled = given_back(store._engine)
        assert [r.stored for r in store.ingest_batch(items)] == [True]  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="no story for this one"):
            store.ingest_batch(items[1:])
        assert rows(pg_url, "SELECT external_id FROM articles ORDER BY id") == [("a0",)]
        with pytest.raises(KeyboardInterrupt):
            store.ingest_batch(items[2:])
        assert rows(pg_url, "SELECT external_id FROM articles ORDER BY id") == [
            ("a0",), ("a2",)]  # stored, not reported: the next run finds it stored
    assert pooled == [GIVEN_BACK_CLEAN] * 3
