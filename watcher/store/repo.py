"""The Store: every query the app makes, behind one class that speaks watcher's values.

Each method is one transaction (but `ingest_batch` on PostgreSQL: one per article); any
database failure leaves as a one-line StoreError.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from watcher.errors import StoreError
from watcher.model import Article, ContextLabel, Match, Severity, Span
from watcher.store import migrate, outbox, polling, retention
from watcher.store.batch import (
    ARTICLE_FAILURES,
    DEFAULT_BATCH,
    NOT_STORED,
    ArticleFailure,
    BatchBound,
    store_batch,
    unstorable_text,
)
from watcher.store.claims import CLAIM_WAIT_SECONDS, AnalysisClaims
from watcher.store.db import (
    DEFAULT_BUSY_TIMEOUT,
    database_error,
    describe_failure,
    in_chunks,
    one_daemon_per_file,
    open_engine,
    read_transaction,
    store_errors,
    write_transaction,
    writing_on,
)
from watcher.store.ingest import (
    DuplicateArticle,
    UnknownSource,
    any_key_known,
    known_keys,
    store_article,
)
from watcher.store.locations import places_of
from watcher.store.polling import PollRecord, SourceState
from watcher.store.records import (
    DeliveryHold,
    DueDelivery,
    IngestItem,
    IngestResult,
    NewArticle,
    NewMatch,
    OwnerCheck,
    StoredArticle,
    StoredDelivery,
    StoredMatch,
    StoredText,
    StoryPicker,
)
from watcher.store.retention import PRUNE_BATCH, PruneReport
from watcher.store.search import has_search_table, index_new_articles
from watcher.store.tables import articles, deliveries, match_places, matches, sources

TEXT_PAGE = 200  # stored articles read at a time by `text_pages`


class Store:
    """The durable store of sources, articles, stories, matches and the delivery outbox."""

    def __init__(
        self, engine: Engine, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        batch_bound: BatchBound = DEFAULT_BATCH, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._busy_timeout = busy_timeout
        self.batch_bound = batch_bound  # what one transaction of `ingest_batch` takes on
        self._clock = clock  # seconds: how long a batch has held the write lock
        # Source name -> id, for ingest: a source row is created once and never deleted, so
        # an id is cached once a transaction that used it has committed (not before: a
        # rolled-back one may have created it). A stale id (the schema moved by this Store,
        # or the database replaced under it) is dropped: `upgrade`/`downgrade` clear the
        # cache, and an article whose cached source is gone is stored again without it.
        self._source_ids: dict[str, int] = {}
        # Whether SQLite's full-text table is there to index into (None: not yet read); read
        # again after `upgrade`/`downgrade`.
        self._search_table: bool | None = None
        # The articles this process's polls are analysing (watcher/store/claims.py).
        self._claims = AnalysisClaims(engine)

    @classmethod
    def open(
        cls, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, migrate_to_head: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> Store:
        """Connect and bring the schema to head, so every command works on an empty database
        (`watcher db upgrade|downgrade` open without it, to move the schema themselves).
        `clock` times a batch's hold on the write lock, as the constructor's."""
        store = cls(open_engine(url, busy_timeout=busy_timeout), busy_timeout=busy_timeout,
                    clock=clock)
        try:
            with store._errors():
                if migrate_to_head:
                    migrate.migrate_if_needed(store._engine)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self._claims.close()
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def upgrade(self, revision: str = "head") -> None:
        self._source_ids.clear()
        self._search_table = None
        with self._errors():
            migrate.upgrade(self._engine, revision)

    def downgrade(self, revision: str) -> None:
        self._source_ids.clear()
        self._search_table = None
        with self._errors():
            migrate.downgrade(self._engine, revision)

    def current_revision(self) -> str | None:
        with self._errors():
            return migrate.current_revision(self._engine)

    def ping(self) -> None:
        """One small read of a table (on SQLite `SELECT 1` would not touch the file):
        StoreError, one line, when the database does not answer. What /healthz asks."""
        with self._errors(), self._engine.connect() as connection:
            connection.execute(sa.select(sources.c.id).limit(1)).all()

    def is_known(self, keys: Sequence[str]) -> bool:
        """Whether any key is stored: lets the pipeline skip analysing a known article."""
        with self._errors(), read_transaction(self._engine) as connection:
            return any_key_known(connection, keys)

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these identity keys are stored: one query for a whole batch of articles."""
        with self._errors(), read_transaction(self._engine) as connection:
            return known_keys(connection, keys)

    def analysis_claims(self, keys: Sequence[str]) -> AbstractContextManager[set[str]]:
        """Claim the identity keys of articles about to be analysed and stored, for the
        `with` block; yields the keys another poll (a thread, a worker) claims, whose
        articles are left until `wait_for_claims` (watcher/store/claims.py)."""
        return self._claims.claimed(keys)

    def wait_for_claims(self, keys: Sequence[str], until: Callable[[], bool],
                        at_most: float = CLAIM_WAIT_SECONDS) -> None:
        """Until no other poll claims `keys` (at most `at_most` seconds; not once `until()`
        is true); call it holding no claim."""
        self._claims.wait(keys, until, at_most)

    def ingest(
        self,
        new: NewArticle,
        matches: Sequence[NewMatch],
        pick_story: StoryPicker,
        now: datetime,
    ) -> IngestResult:
        """Store the article, its story, matches and pending deliveries: all or nothing.

        stored=False (and nothing written) when one of its keys is already stored, also
        when another process stored it a moment ago.
        """
        with self._errors(), self._engine.connect() as connection:
            result = self._ingest_alone(connection, IngestItem(new, matches, pick_story, now))
        if isinstance(result, StoreError):
            raise result
        return result

    def ingest_batch(
        self, items: Sequence[IngestItem], until: Callable[[], bool] = lambda: False
    ) -> list[IngestResult | StoreError]:
        """`ingest` for the items from the first on, up to `batch_bound`, or up to the
        article in hand once `until()` is true: the results of those it took, committed;
        the caller passes the rest again. On SQLite in one transaction, each item in a
        savepoint (store/batch.py); on PostgreSQL each in its own transaction, on one
        connection (docs/storage.md, "Each article all or nothing"). An article the database refuses
        (a constraint, a bad value) is rolled back alone: a StoreError in its place. Any
        other failure raises StoreError, and none of the transaction's items is stored (on
        PostgreSQL the items committed before it are returned, and the failing one is the
        first the caller passes again)."""
        if not items:
            return []
        if self.dialect != "sqlite":
            return self._ingest_apart(items, until)
        with self._errors(), write_transaction(self._engine,
                                               savepoints_in_memory=True) as connection:
            results, used = store_batch(connection, items, self._source_ids,
                                        self.batch_bound, self._clock, until)
            self._index_new_articles(connection)
        self._source_ids.update(used)  # committed: the rows are there for good
        return [self._refused(item, result) if isinstance(result, ARTICLE_FAILURES) else result
                for item, result in zip(items, results, strict=False)]

    def _ingest_apart(
        self, items: Sequence[IngestItem], until: Callable[[], bool]
    ) -> list[IngestResult | StoreError]:
        """PostgreSQL: each article in a transaction of its own (its locks are held until
        its commit, and workers write side by side: several articles' locks held at once
        could deadlock two workers), all on one connection taken from the pool, which
        checks it (a round trip) once, not once per article. A failure that is no refusal
        of one article (the database's, or the caller's story picker raising) after some
        have committed returns those: they are stored, and are reported; the failing
        article is the first of the rest, tried again by the next call, which raises if it
        fails again. An interrupt (KeyboardInterrupt, SystemExit) is no failure to report
        around: it goes on at once, and the articles this call committed before it are
        stored, not reported (the next run finds them stored)."""
        results: list[IngestResult | StoreError] = []
        started = self._clock()
        with self._errors(), self._engine.connect() as connection:
            for item in items:
                if results and (len(results) >= self.batch_bound.articles
                                or self._clock() - started >= self.batch_bound.seconds
                                or until()):
                    break
                try:
                    results.append(self._ingest_alone(connection, item))
                except Exception:
                    if not results:
                        raise
                    break
        return results

    def _ingest_alone(
        self, connection: Connection, item: IngestItem
    ) -> IngestResult | StoreError:
        """One article in its own transaction; the database's refusal of it returned."""
        name = item.new.article.source
        with self._errors():
            try:
                try:
                    result, source_id = self._store_article(connection, item,
                                                            self._source_ids.get(name))
                except UnknownSource:
                    self._source_ids.pop(name, None)
                    result, source_id = self._store_article(connection, item, None)
            except DuplicateArticle:
                return NOT_STORED
            except ARTICLE_FAILURES as error:
                return self._refused(item, error)
        self._source_ids[name] = source_id  # committed: the row is there for good
        return result

    def _store_article(
        self, connection: Connection, item: IngestItem, source_id: int | None
    ) -> tuple[IngestResult, int]:
        with writing_on(connection):
            stored = store_article(connection, item.new, item.matches, item.pick_story,
                                   item.now, source_id)
            self._index_new_articles(connection)
            return stored

    def _index_new_articles(self, connection: Connection) -> None:
        """SQLite's full-text index of the transaction's stored articles, once, before its
        commit (watcher/store/search.py); none before migration 0010 made its table."""
        if self._search_table is None:
            self._search_table = has_search_table(connection)
        if self._search_table:
            index_new_articles(connection)

    def _refused(self, item: IngestItem, error: ArticleFailure) -> StoreError:
        """The refusal of one article, in the one line any failure takes: the database's
        words, or which of its texts no database can hold."""
        failure = (unstorable_text(item.new.article, error)
                   if isinstance(error, UnicodeEncodeError)
                   else describe_failure(error, self._busy_timeout))
        return database_error(self._engine.url, failure)

    def articles(self, limit: int | None = None) -> list[StoredArticle]:
        """Stored articles, newest fetched first."""
        query = (
            sa.select(articles, sources.c.name.label("source_name"))
            .join(sources, articles.c.source_id == sources.c.id)
            .order_by(articles.c.fetched.desc(), articles.c.id.desc())
            .limit(limit)
        )
        with self._errors(), read_transaction(self._engine) as connection:
            return [_stored_article(row) for row in connection.execute(query)]

    def texts(
        self, since: datetime | None = None, limit: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[StoredText]:
        """Stored articles with their text and the rules of their stored matches, in the
        order they were stored: those fetched since `since` (inclusive), the newest `limit`
        of them, or those whose own id is in `ids` (every source's)."""
        return [text for page in self.text_pages(since, limit, ids) for text in page]

    def text_pages(
        self, since: datetime | None = None, limit: int | None = None,
        ids: Sequence[str] | None = None, *, page: int = TEXT_PAGE,
    ) -> Iterator[list[StoredText]]:
        """`texts` a page at a time, each read in its own transaction, so a backtest over
        a large store holds one page of article text in memory, not the whole store."""
        with self._errors(), read_transaction(self._engine) as connection:
            filters = _text_filters(connection, since, limit, ids)
        after: tuple[datetime, int] | None = None
        while True:
            query = (
                sa.select(articles, sources.c.name.label("source_name"))
                .join(sources, articles.c.source_id == sources.c.id)
                .where(*filters, *([_stored_after(*after)] if after else []))
                .order_by(articles.c.fetched, articles.c.id)
                .limit(page)
            )
            with self._errors(), read_transaction(self._engine) as connection:
                rows = connection.execute(query).all()
                matched = _rules_matched(connection, [row.id for row in rows])
            if rows:
                yield [_stored_text(row, matched.get(row.id, ())) for row in rows]
            if len(rows) < page:
                return
            after = (rows[-1].fetched, rows[-1].id)

    def matches(
        self, rule: str | None = None, since: datetime | None = None, limit: int | None = None,
        *, held: bool = False, place: str | None = None,
    ) -> list[StoredMatch]:
        """Stored matches, newest first; `since` is inclusive; held-back ones only when
        `held`; only those located at the place with id `place` or inside it when given."""
        query = _matches_query(rule, since, held, place).limit(limit)
        with self._errors(), read_transaction(self._engine) as connection:
            rows = connection.execute(query).all()
            notified = _sent_channels(connection, [row.id for row in rows])
        return [_stored_match(row, notified.get(row.id, ())) for row in rows]

    def story_outlets(self, story_id: int) -> list[str]:
        """Names of the sources that carried the story, in the order they first did."""
        query = (
            sa.select(sources.c.name)
            .join(articles, articles.c.source_id == sources.c.id)
            .where(articles.c.story_id == story_id)
            .group_by(sources.c.name)
            .order_by(sa.func.min(articles.c.id))
        )
        with self._errors(), read_transaction(self._engine) as connection:
            return list(connection.scalars(query))

    def prune(
        self, before: datetime, *, dry_run: bool = False, batch: int = PRUNE_BATCH,
        after_batch: Callable[[PruneReport], None] | None = None,
    ) -> PruneReport:
        """Remove the articles fetched before `before`, with their keys, bands, matches and
        stories, except what pending alerts and open triage need (store/retention.py): a
        batch of `batch` articles per transaction. `dry_run` counts and changes nothing."""
        with self._errors():
            return retention.prune(self._engine, before, dry_run=dry_run, batch=batch,
                                   after_batch=after_batch)

    # -- feed polling state --------------------------------------------------------

    def prepare_source(self, name: str, config_url: str) -> SourceState:
        """The state of a configured source (created on first sight; a changed URL starts
        over). Polls read it through `claim_poll`, which does this first."""
        with self._errors(), write_transaction(self._engine) as connection:
            return polling.prepare_source(connection, name, config_url)

    def claim_poll(
        self,
        name: str,
        config_url: str,
        now: datetime,
        *,
        owner: str,
        lease: timedelta,
        not_polled_since: datetime | None = None,
        is_dead: OwnerCheck | None = None,
    ) -> tuple[SourceState, str | None]:
        """The source's state, and None when this worker now holds its poll lease, else
        why it must not poll (see store/polling.py). A live lease is taken only when
        `is_dead` proves its owner dead."""
        with self._errors(), write_transaction(self._engine) as connection:
            return polling.claim_poll(connection, name, config_url, now, owner=owner,
                                      lease=lease, not_polled_since=not_polled_since,
                                      is_dead=is_dead)

    def release_poll(self, name: str, owner: str) -> None:
        with self._errors(), write_transaction(self._engine) as connection:
            polling.release_poll(connection, name, owner)

    def renew_poll(self, name: str, owner: str, until: datetime) -> bool:
        """Extend a poll claim this worker holds; False when it holds it no more."""
        with self._errors(), write_transaction(self._engine) as connection:
            return polling.renew_poll(connection, name, owner, until)

    def record_poll(self, name: str, record: PollRecord) -> None:
        with self._errors(), write_transaction(self._engine) as connection:
            polling.record_poll(connection, name, record)

    def source_states(self) -> list[SourceState]:
        """Every source known to the store (polled feeds and replayed inputs), by name."""
        with self._errors(), read_transaction(self._engine) as connection:
            return polling.source_states(connection)

    def pending_delivery_count(self) -> int:
        return self.delivery_counts().get("pending", 0)

    # -- the delivery outbox ---------------------------------------------------------

    def claim_due_deliveries(
        self,
        now: datetime,
        *,
        owner: str,
        lease: timedelta,
        limit: int,
        channels: Sequence[str],
        is_dead: OwnerCheck | None = None,
    ) -> list[DueDelivery]:
        """Lease due deliveries for sending (see store/outbox.py); a live lease is taken
        only when `is_dead` proves its owner dead."""
        with self._errors(), write_transaction(self._engine) as connection:
            return outbox.claim_due(
                connection,
                now,
                owner=owner,
                lease=lease,
                limit=limit,
                channels=channels,
                is_dead=is_dead,
            )

    def make_pending_due(self, now: datetime) -> None:
        with self._errors(), write_transaction(self._engine) as connection:
            outbox.make_pending_due(connection, now)

    def drop_pending(self, channel: str, now: datetime, reason: str) -> int:
        """Mark a channel's pending deliveries dead (not those under a live lease)."""
        with self._errors(), write_transaction(self._engine) as connection:
            return outbox.drop_pending(connection, channel, now, reason)

    def mark_sent(self, ids: Sequence[int], now: datetime, *, owner: str) -> None:
        """A success, on the deliveries `owner` still holds."""
        with self._errors(), write_transaction(self._engine) as connection:
            outbox.mark_sent(connection, ids, now, owner)

    def mark_silenced(self, ids: Sequence[int], silence_id: int, *, owner: str) -> None:
        """Held back by a silence: recorded `silenced`, never sent (on the deliveries
        `owner` still holds)."""
        with self._errors(), write_transaction(self._engine) as connection:
            outbox.mark_silenced(connection, ids, silence_id, owner)

    def mark_failed(
        self, ids: Sequence[int], error: str, retry_at: datetime | None, *, owner: str
    ) -> None:
        """A failed attempt: retried from `retry_at`, or dead when it is None (on the
        deliveries `owner` still holds)."""
        with self._errors(), write_transaction(self._engine) as connection:
            outbox.mark_failed(connection, ids, error, retry_at, owner)

    def add_done_target(self, delivery_id: int, target_key: str, *, owner: str) -> None:
        with self._errors(), write_transaction(self._engine) as connection:
            outbox.add_done_target(connection, delivery_id, target_key, owner)

    def release_deliveries(self, ids: Sequence[int], owner: str) -> None:
        with self._errors(), write_transaction(self._engine) as connection:
            outbox.release(connection, ids, owner)

    def delivery_holds(self, now: datetime, *, except_owner: str) -> list[DeliveryHold]:
        """Pending deliveries held under other senders' live leases, per sender."""
        with self._errors(), read_transaction(self._engine) as connection:
            return outbox.holds(connection, now, except_owner)

    def deliveries(
        self, status: str | None = None, limit: int | None = None
    ) -> list[StoredDelivery]:
        with self._errors(), read_transaction(self._engine) as connection:
            return outbox.list_deliveries(connection, status, limit)

    def pending_by_channel(self) -> dict[str, int]:
        """Pending deliveries per channel name (present only when some are pending)."""
        with self._errors(), read_transaction(self._engine) as connection:
            return outbox.pending_by_channel(connection)

    def delivery_counts(self) -> dict[str, int]:
        """Deliveries per status (pending, sent, dead, silenced); absent statuses are missing."""
        with self._errors(), read_transaction(self._engine) as connection:
            return outbox.status_counts(connection)

    def one_daemon(self) -> AbstractContextManager[bool]:
        """Held by `watcher run`: on SQLite a second daemon on the same file is refused
        (StoreError); on PostgreSQL several run side by side. Gives True when this
        process is then the only daemon on the database (it holds the file's lock)."""
        return one_daemon_per_file(self._engine)

    def _errors(self) -> AbstractContextManager[None]:
        return store_errors(self._engine, self._busy_timeout)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """One read-only transaction for the store's sibling modules (the workspace's
        accounts, triage, silences): failures leave as one StoreError line, as here."""
        with self._errors(), read_transaction(self._engine) as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction (the write lock up front on SQLite); commits unless it
        raises, and failures leave as one StoreError line."""
        with self._errors(), write_transaction(self._engine) as connection:
            yield connection

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql': the few queries that differ (full-text search) ask."""
        return self._engine.dialect.name


def _matches_query(
    rule: str | None, since: datetime | None, held: bool, place: str | None = None
) -> sa.Select[Any]:
    query = (
        sa.select(matches, articles.c.external_id, articles.c.title)
        .join(articles, matches.c.article_id == articles.c.id)
        .order_by(matches.c.matched_at.desc(), matches.c.id.desc())
    )
    if rule is not None:
        query = query.where(matches.c.rule_id == rule)
    if since is not None:
        query = query.where(matches.c.matched_at >= since)
    if not held:
        query = query.where(matches.c.held.is_(None))
    if place is not None:  # one indexed lookup: every area of a match has its row
        located = sa.select(match_places.c.match_id).where(match_places.c.place_id == place)
        query = query.where(matches.c.id.in_(located))
    return query


def _sent_channels(connection: Connection, match_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Channels that confirmed delivery, per match id, in name order."""
    found: dict[int, list[str]] = {}
    for chunk in in_chunks(match_ids):
        query = (
            sa.select(deliveries.c.match_id, deliveries.c.channel)
            .where(deliveries.c.status == "sent", deliveries.c.match_id.in_(chunk))
            .order_by(deliveries.c.channel)
        )
        for match_id, channel in connection.execute(query):
            found.setdefault(match_id, []).append(channel)
    return {match_id: tuple(channels) for match_id, channels in found.items()}


def _text_filters(
    connection: Connection, since: datetime | None, limit: int | None,
    ids: Sequence[str] | None,
) -> list[sa.ColumnElement[bool]]:
    """The conditions on articles of `texts`; the newest `limit` become "stored no earlier
    than the limit-th newest", so pages can then be read oldest first."""
    filters: list[sa.ColumnElement[bool]] = []
    if since is not None:
        filters.append(articles.c.fetched >= since)
    if ids is not None:
        filters.append(articles.c.external_id.in_(list(ids)))
    if limit is not None:
        cutoff = connection.execute(
            sa.select(articles.c.fetched, articles.c.id).where(*filters)
            .order_by(articles.c.fetched.desc(), articles.c.id.desc())
            .offset(limit - 1).limit(1)
        ).first()
        if cutoff is not None:  # that one and every article stored after it
            filters.append(_stored_after(cutoff.fetched, cutoff.id - 1))
    return filters


def _stored_after(fetched: datetime, article_id: int) -> sa.ColumnElement[bool]:
    """Articles stored after the one stored at `fetched` with row id `article_id`."""
    return sa.or_(
        articles.c.fetched > fetched,
        sa.and_(articles.c.fetched == fetched, articles.c.id > article_id),
    )


def _rules_matched(
    connection: Connection, article_ids: list[int]
) -> dict[int, tuple[tuple[str, str], ...]]:
    """(rule id, rule version) of the stored matches, per article row id, by rule id."""
    found: dict[int, list[tuple[str, str]]] = {}
    for chunk in in_chunks(article_ids):
        query = (
            sa.select(matches.c.article_id, matches.c.rule_id, matches.c.rule_version)
            .where(matches.c.article_id.in_(chunk))
            .order_by(matches.c.rule_id)
        )
        for article_id, rule_id, version in connection.execute(query):
            found.setdefault(article_id, []).append((rule_id, version))
    return {article_id: tuple(rules) for article_id, rules in found.items()}


def _stored_text(row: sa.Row[Any], matched: tuple[tuple[str, str], ...]) -> StoredText:
    article = Article(
        id=row.external_id, title=row.title, body=row.body, url=row.url,
        published=row.published, source=row.source_name, guid=row.guid,
    )
    return StoredText(article, row.fetched, matched)


def _stored_article(row: sa.Row[Any]) -> StoredArticle:
    return StoredArticle(
        id=row.external_id,
        title=row.title,
        source=row.source_name,
        url=row.url,
        published=row.published,
        fetched=row.fetched,
        story=row.story_id,
    )


def _stored_match(row: sa.Row[Any], notified: tuple[str, ...]) -> StoredMatch:
    match = Match(
        rule_id=row.rule_id,
        article_id=row.external_id,
        title=row.title,
        severity=Severity.parse(row.severity),
        spans=tuple(Span(start, end, field) for start, end, field in row.spans),
        snippet=row.snippet,
        context=tuple(ContextLabel(label, tuple(cues)) for label, cues in row.context or ()),
        held=tuple(row.held.split(",")) if row.held else (),
        places=places_of(row.places),
    )
    return StoredMatch(match, row.external_id, row.matched_at, notified, row.old_news)
