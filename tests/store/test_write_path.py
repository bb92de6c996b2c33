"""The write path's cost: how many statements storing one article takes, so a regression
(a read or insert per band, per key, per match) shows. Also the source id it caches.

Counted with SQLAlchemy's `before_cursor_execute` event: on SQLite BEGIN IMMEDIATE counts,
COMMIT does not (the driver's); on PostgreSQL every statement sent in pipeline mode, the
ingest locks' SELECT, BEGIN and COMMIT included. Round trips and commits on PostgreSQL
too, in libpq's protocol trace.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tests.store.builders import NOW, new_article, new_match, new_story, oldest_story
from tests.store.conftest import empty
from tests.store.sql import backend, rows
from watcher.ingest.stories import BANDS as SIGNATURE_BANDS
from watcher.model import MatchPlace, PlaceRef
from watcher.store import IngestItem, NewArticle, Store
from watcher.store.db import open_engine
from watcher.store.driver import driver_execute, driver_executemany, select_rows
from watcher.store.ingest import story_candidates
from watcher.store.tables import articles

# What storing one article (its source already known to the Store) takes, whatever it holds:
# the write lock (BEGIN IMMEDIATE, or PostgreSQL's locks on its keys and bands), the
# duplicate check with the story search, the story when new (else one read of the rules
# already first in it), the article, its keys, its bands, its matches, their places, their
# deliveries; on SQLite also its full-text index (a trigger's work before migration 0011).
MAX_STATEMENTS = 9


def most(url: str) -> int:
    """MAX_STATEMENTS on this backend: SQLite's one more writes the search index."""
    return MAX_STATEMENTS + (backend(url) == "sqlite")


@pytest.fixture
def counted(any_store: Store, any_db_url: str) -> Iterator[tuple[Store, list[str]]]:
    """A Store on the migrated database, and the statements it runs, as they run."""
    engine = open_engine(any_db_url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: statements.append(statement))
    with Store(engine) as store:
        store.ingest(new_article("warm-up"), [], new_story, NOW)  # the source: found, cached
        statements.clear()
        yield store, statements


def _place() -> MatchPlace:
    return MatchPlace("p1", "Aleppo", "city", 36.2, 37.1,
                      parents=(PlaceRef("gov", "Aleppo", "governorate"),
                               PlaceRef("sy", "Syria", "country")))


def test_an_article_with_matches_in_a_new_story_takes_few_statements(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, statements = counted
    new = new_article("a1", story_band=7)
    found = [new_match(new, rule, channels=("ops", "chat"), places=(_place(),))
             for rule in ("siege", "strike", "shelling")]
    assert store.ingest(new, found, new_story, NOW).stored
    assert len(statements) <= most(any_db_url), [s.split("\n")[0][:60] for s in statements]


def test_an_article_joining_a_story_takes_few_statements(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    """On PostgreSQL one more: the story's lock, taken before reading which rules are
    already first in it (SQLite's BEGIN IMMEDIATE has locked everything)."""
    store, statements = counted
    story_lock = 1 if backend(any_db_url) == "postgresql" else 0
    first = new_article("a1", story_band=7)
    store.ingest(first, [new_match(first, "siege")], new_story, NOW)
    statements.clear()
    copy = new_article("a2", story_band=7)
    found = [new_match(copy, rule, places=(_place(),)) for rule in ("siege", "strike")]
    result = store.ingest(copy, found, oldest_story, NOW)
    assert result.new_matches == (found[1].match,)  # siege was first in the story already
    assert len(statements) <= most(any_db_url) + story_lock, [
        s.split("\n")[0][:60] for s in statements]


def test_an_article_without_matches_takes_fewer(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, statements = counted
    assert store.ingest(new_article("a1"), [], new_story, NOW).stored
    assert len(statements) <= most(any_db_url) - 3, statements  # no matches, places, deliveries


def test_a_stale_cached_source_id_is_dropped_and_the_article_stored(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, _ = counted
    store._source_ids["seeds"] = 10**6  # as if the row it named were gone
    assert store.ingest(new_article("a1"), [], new_story, NOW).stored
    assert rows(any_db_url, "SELECT a.external_id, s.name FROM articles a JOIN sources s "
                            "ON s.id = a.source_id ORDER BY a.id") == [
        ("warm-up", "seeds"), ("a1", "seeds"),
    ]
    assert store._source_ids["seeds"] != 10**6


def test_a_source_created_by_a_refused_article_is_not_cached(
    counted: tuple[Store, list[str]], any_db_url: str
) -> None:
    store, _ = counted
    again = new_article("warm-up", source="other")  # the same content hash: refused
    assert not store.ingest(again, [], new_story, NOW).stored
    assert "other" not in store._source_ids
    assert store.ingest(new_article("b1", source="other"), [], new_story, NOW).stored
    assert rows(any_db_url, "SELECT name FROM sources ORDER BY id") == [("seeds",), ("other",)]



def test_a_batch_on_sqlite_goes_to_the_driver_as_text_and_stores_the_same_values(
    db_url: str,
) -> None:
    """SQLAlchemy's work per compiled statement (its cache key, the compiled-cache lookup,
    the parameters, the result) cost a replay more than SQLite running it: a batch's
    savepoints, reads and inserts are text rendered once (watcher/store/driver.py), with
    the values the columns' types bind (UTC datetimes, JSON, booleans)."""
    Store.open(db_url).close()
    engine = open_engine(db_url)
    compiled: list[str] = []
    with Store(engine, clock=lambda: 0.0) as store:  # standing still: one batch however slow
        store.ingest(new_article("warm-up"), [], new_story, NOW)  # the source: found, cached
        sa.event.listen(engine, "before_cursor_execute",
                        lambda _c, _cur, statement, _p, context, _m: context is not None
                        and context.compiled is not None and compiled.append(statement))
        first, copy = new_article("a1", story_band=7), new_article("a2", story_band=7)
        results = store.ingest_batch([
            IngestItem(first, [new_match(first, "siege", places=(_place(),))], new_story, NOW),
            IngestItem(copy, [new_match(copy, "strike")], oldest_story, NOW),
        ])
    assert [(r.stored, r.story_id) for r in results] == [(True, 2), (True, 2)]
    assert compiled == []
    assert rows(db_url, "SELECT a.external_id, a.fetched, m.rule_id, m.first_in_story, "
                        "m.matched_at, m.spans, d.channel, d.next_attempt, count(p.place_id) "
                        "FROM matches m JOIN articles a ON a.id = m.article_id "
                        "JOIN deliveries d ON d.match_id = m.id "
                        "LEFT JOIN match_places p ON p.match_id = m.id "
                        "GROUP BY m.id ORDER BY m.id") == [
        ("a1", "2026-11-24 12:00:00.000000", "siege", 1, "2026-11-24 12:00:00.000000",
         "[[0, 4, \"title\"], [5, 9, \"body\"]]", "ops", "2026-11-24 12:00:00.000000", 3),
        ("a2", "2026-11-24 12:00:00.000000", "strike", 1, "2026-11-24 12:00:00.000000",
         "[[0, 4, \"title\"], [5, 9, \"body\"]]", "ops", "2026-11-24 12:00:00.000000", 0),
    ]


def test_the_driver_path_is_seen_by_cursor_events_and_fails_as_sqlalchemy_does(
    db_url: str,
) -> None:
    """On SQLite a batch's statements go to the driver's own cursor, not through
    SQLAlchemy's execution (watcher/store/driver.py `driver_execute`): SQLAlchemy's cursor
    events still see each one, before and after it runs, with its values and whether it is
    an executemany (the statement counts above, and the benchmark's meter, read them); an
    error the driver reports, running a statement or reading its rows, is SQLAlchemy's
    (an IntegrityError is what the batch reads as one article's refusal), its cursor
    closed, and the transaction goes on."""
    Store.open(db_url).close()
    engine = open_engine(db_url)
    before: list[tuple[str, Any, bool]] = []
    after: list[tuple[str, Any, bool]] = []
    cursors: list[Any] = []

    def seen(into: list[tuple[str, Any, bool]]) -> Callable[..., None]:
        def listener(_c: Any, cursor: Any, statement: str, values: Any, _context: Any,
                     executemany: bool) -> None:
            into.append((statement, values, executemany))
            cursors.append(cursor)
        return listener

    try:
        with Store(engine) as store:
            store.ingest(new_article("warm-up"), [], new_story, NOW)  # the source: cached
            sa.event.listen(engine, "before_cursor_execute", seen(before))
            sa.event.listen(engine, "after_cursor_execute", seen(after))
            new = with_a_signatures_bands(new_article("a1"))
            assert store.ingest_batch([IngestItem(new, [new_match(new, "siege")], new_story,
                                                  NOW)])[0].stored  # type: ignore[union-attr]
        # the batch's temporary storage in memory, BEGIN, the savepoint, the read, story,
        # article, keys, bands, match, delivery, the savepoint's release, the search index
        assert [(s.split()[0], many) for s, _, many in before] == [
            ("PRAGMA", False), ("BEGIN", False), ("SAVEPOINT", False), ("SELECT", False),
            ("INSERT", False), ("INSERT", False), ("INSERT", True), ("INSERT", True),
            ("INSERT", False), ("INSERT", True), ("RELEASE", False), ("INSERT", False)]
        assert after == before
        (band_values,) = [values for statement, values, _ in before
                          if statement.startswith('INSERT INTO "story_bands"')]
        assert list(band_values) == rows(
            db_url, "SELECT b.article_id, b.band_index, b.band_hash FROM story_bands b "
                    "JOIN articles a ON a.id = b.article_id WHERE a.external_id = 'a1' "
                    "ORDER BY b.band_index")
        (_, article_values, _) = before[5]
        assert "a1" in article_values

        with engine.begin() as connection:
            with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
                driver_execute(connection, "INSERT INTO article_keys (key, article_id) "
                                           "SELECT key, article_id FROM article_keys LIMIT 1")
            with pytest.raises(sqlite3.ProgrammingError, match="closed"):
                cursors[-1].fetchall()
            assert connection.in_transaction()
            overflowing = _overflowing_on_a1(connection)
            with pytest.raises(sa.exc.OperationalError, match="integer overflow"):
                connection.execute(overflowing).all()  # SQLAlchemy's own, for comparison
            with pytest.raises(sa.exc.OperationalError, match="integer overflow"):
                select_rows(connection, overflowing, {})
            with pytest.raises(sqlite3.ProgrammingError, match="closed"):
                cursors[-1].fetchall()
            assert connection.in_transaction()
            assert select_rows(connection, sa.select(sa.func.count()).select_from(articles),
                               {}) == [(2,)]
    finally:
        engine.dispose()


def with_a_signatures_bands(new: NewArticle) -> NewArticle:
    """The article with as many bands as a story signature has (the builders give 4)."""
    return replace(new, bands=tuple(new.bands[0] + band for band in range(SIGNATURE_BANDS)))


def _overflowing_on_a1(connection: Connection) -> sa.Select[Any]:
    """A read whose first row is read as the statement runs and whose second, article
    a1's, fails as the rows are read (SQLite's abs() of the lowest 64-bit integer)."""
    lowest = sa.literal(-2**63, sa.BigInteger)
    return (sa.select(sa.func.abs(sa.case((articles.c.external_id == "a1", lowest),
                                          else_=articles.c.id)).label("v"))
            .order_by(articles.c.id))


def test_the_driver_path_refuses_a_connection_outside_a_transaction(db_url: str) -> None:
    """On a connection with no transaction begun SQLite would run the driver's statement
    in autocommit: without the write lock taken up front (BEGIN IMMEDIATE) and kept
    whatever the connection rolls back. It is refused, and so is the public story search
    (`story_candidates`) there."""
    Store.open(db_url).close()
    engine = open_engine(db_url)
    try:
        with engine.connect() as connection:
            with pytest.raises(sa.exc.InvalidRequestError, match="in a transaction"):
                driver_execute(connection, "INSERT INTO sources (name) VALUES ('outside')")
            with pytest.raises(sa.exc.InvalidRequestError, match="in a transaction"):
                story_candidates(connection, [7])
            connection.rollback()
    finally:
        engine.dispose()
    assert rows(db_url, "SELECT name FROM sources") == []


@pytest.mark.parametrize("hide_parameters", [False, True])
def test_a_driver_error_reads_as_sqlalchemys_own(db_url: str, hide_parameters: bool) -> None:
    """The driver path's error says what SQLAlchemy's execution of the same statement
    says: an executemany's values as its rows (an article's 32 bands: 10 of them shown), or
    none when the engine hides them (`hide_parameters`, for values not to be logged)."""
    with Store.open(db_url) as store:
        store.ingest(with_a_signatures_bands(new_article("a1")), [], new_story, NOW)
    bands = rows(db_url, "SELECT article_id, band_index, band_hash FROM story_bands "
                         "ORDER BY band_index")
    insert = "INSERT INTO story_bands (article_id, band_index, band_hash) VALUES (?, ?, ?)"
    engine = sa.create_engine(db_url, hide_parameters=hide_parameters)
    try:
        with engine.begin() as connection:
            with pytest.raises(sa.exc.IntegrityError) as sqlalchemys:
                connection.exec_driver_sql(insert, bands)
            with pytest.raises(sa.exc.IntegrityError) as drivers:
                driver_executemany(connection, insert, bands)
    finally:
        engine.dispose()
    assert str(drivers.value) == str(sqlalchemys.value)
    assert ("displaying 10 of 32" in str(drivers.value)) != hide_parameters
    assert (str(bands[-1][2]) in str(drivers.value)) != hide_parameters


def test_cursor_events_on_a_connection_alone_or_on_every_engine_see_the_driver_path(
    db_url: str,
) -> None:
    """The driver path fires cursor events only when something listens (firing them for
    nobody cost ~4 us a statement): a listener on the one Connection, not its engine, and
    one on every Engine (the class) are still told of each statement."""
    Store.open(db_url).close()
    engine = open_engine(db_url)
    on_connection: list[str] = []
    on_every_engine: list[str] = []

    def every_engine(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        on_every_engine.append(statement)

    try:
        with engine.begin() as connection:
            sa.event.listen(connection, "after_cursor_execute",
                            lambda _c, _cur, statement, *_: on_connection.append(statement))
            driver_execute(connection, "SELECT 1")
        sa.event.listen(sa.Engine, "before_cursor_execute", every_engine)
        try:
            with engine.begin() as connection:
                driver_execute(connection, "SELECT 2")
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", every_engine)
    finally:
        engine.dispose()
    assert on_connection == ["SELECT 1"]
    assert on_every_engine == ["BEGIN", "SELECT 2"]  # the store's BEGIN (a reader's), then it


def test_a_batch_stores_each_articles_own_moments_whatever_came_before(db_url: str) -> None:
    """A moment's stored text is kept for the last datetime given (an article's `now` is
    mostly one object): articles of one batch at other moments, or at the same one in
    another zone or without one, each store their own, in UTC."""
    later = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    same_elsewhere = NOW.astimezone(timezone(timedelta(hours=3)))
    moments = [NOW, later, same_elsewhere, later.replace(tzinfo=None), NOW]
    Store.open(db_url).close()
    with Store(open_engine(db_url), clock=lambda: 0.0) as store:  # one batch however slow
        items = []
        for number, now in enumerate(moments):
            new = new_article(f"a{number}", fetched=now)
            items.append(IngestItem(new, [new_match(new, "siege")], new_story, now))
        assert all(r.stored for r in store.ingest_batch(items))  # type: ignore[union-attr]
    assert rows(db_url, "SELECT a.fetched, m.matched_at, d.created FROM matches m "
                        "JOIN articles a ON a.id = m.article_id "
                        "JOIN deliveries d ON d.match_id = m.id ORDER BY m.id") == [
        (text, text, text) for text in ("2026-11-24 12:00:00.000000",
                                        "2026-11-24 14:30:00.000000",
                                        "2026-11-24 12:00:00.000000",
                                        "2026-11-24 14:30:00.000000",
                                        "2026-11-24 12:00:00.000000")
    ]


def test_a_matchs_json_on_sqlite_is_the_text_json_dumps_makes(db_url: str) -> None:
    """A match's lists go to json.dumps' own encoder, past SQLAlchemy's JSON processor:
    the stored text is still json.dumps' (its separators, non-ASCII escaped), and an
    empty context is `[]`."""
    place = MatchPlace("p1", "Ḥalab", "city", 36.2, 37.1, parents=())
    with Store.open(db_url) as store:
        for number, labels in enumerate([("historical",), ()]):
            new = new_article(f"a{number}")
            store.ingest(new, [new_match(new, "siege", places=(place,), labels=labels)],
                         new_story, NOW)
    stored = rows(db_url, "SELECT spans, context, places FROM matches ORDER BY id")
    assert stored == [(json.dumps([[0, 4, "title"], [5, 9, "body"]]), json.dumps(context),
                       json.dumps([{"id": "p1", "name": "Ḥalab", "kind": "city",
                                    "latitude": 36.2, "longitude": 37.1, "parents": []}]))
                      for context in ([["historical", ["cue"]]], [])]
    assert "\\u1e24alab" in stored[0][2]


# On PostgreSQL, the times the client waits for the server while storing one article, its
# statements sent in psycopg's pipeline mode (watcher/store/pipelined.py): BEGIN, the
# ingest locks and the duplicate check with the story search, waited for once; then the one
# statement writing everything (watcher/store/ingest_pg.py) with its COMMIT. One more in a
# story it joins with matches that may be first there: the story's lock with the read of
# the rules already first in it. A duplicate found by the read: 2, its ROLLBACK sent with
# the second. The pool's check of its connection is one more per checkout: one per
# `ingest`, one per batch. Each statement was a round trip of its own before (6 for a new
# story with matches: the pool's ping, BEGIN, the locks, the read, the write, COMMIT; 12
# before the one write).
ROUND_TRIPS = 2
POOL_CHECK = 1
_MESSAGE = re.compile(r"^[^\t]*\t([FB])\t")
_COMMITTED = re.compile(r"^[^\t]*\tB\t\d+\tCommandComplete\t \"COMMIT\"$")


class _RoundTrips:
    """libpq's protocol trace of the engine's connections: a round trip is a message from
    the server after one from the client (the client sent, then waited); a commit, the
    server's answer to a COMMIT that committed (one in a failed transaction says ROLLBACK)."""

    def __init__(self, engine: sa.Engine, directory: Path) -> None:
        self.paths: list[Path] = []
        self.directory = directory
        sa.event.listen(engine, "connect", self._trace)

    def _trace(self, dbapi_connection: Any, _record: Any) -> None:
        path = self.directory / f"trace-{len(self.paths)}.txt"
        self.paths.append(path)
        self.file = path.open("w")
        dbapi_connection.pgconn.trace(self.file.fileno())

    def count(self) -> int:
        trips, last = 0, ""
        for line in self._lines():
            message = _MESSAGE.match(line)  # not a statement's continuation line
            if message:
                trips += message[1] == "B" and last == "F"
                last = message[1]
        return trips

    def commits(self) -> int:
        return sum(bool(_COMMITTED.match(line)) for line in self._lines())

    def _lines(self) -> Iterator[str]:
        self.file.flush()
        for path in self.paths:
            yield from path.read_text().splitlines()


@pytest.fixture
def round_trips(pg_store_url: str, tmp_path: Path) -> Iterator[tuple[Store, _RoundTrips]]:
    engine = open_engine(pg_store_url)
    trips = _RoundTrips(engine, tmp_path)
    with Store(engine) as store:
        store.ingest(new_article("warm-up"), [], new_story, NOW)  # the source: found, cached
        yield store, trips


@pytest.fixture
def pg_store_url(postgres_url: str) -> Iterator[str]:
    empty(postgres_url)
    Store.open(postgres_url).close()
    yield postgres_url
    empty(postgres_url)


def test_a_driver_query_missing_a_value_it_needs_fails_as_sqlalchemy_does(db_url: str) -> None:
    """A read through the driver with a value left out must not look the row up by NULL
    (finding nothing, silently): it fails as SQLAlchemy's execution does; a value the
    query itself gives is still its default."""
    Store.open(db_url).close()
    engine = open_engine(db_url)
    query = (sa.select(articles.c.id)
             .where(articles.c.external_id == sa.bindparam("external_id"))
             .where(articles.c.title != "none"))
    try:
        with engine.begin() as connection:
            with pytest.raises(sa.exc.StatementError, match="external_id"):
                connection.execute(query, {})
            with pytest.raises(sa.exc.StatementError, match="external_id"):
                select_rows(connection, query, {})
            assert select_rows(connection, query, {"external_id": "a1"}) == []
    finally:
        engine.dispose()


def test_an_article_is_two_round_trips_on_postgresql(
    round_trips: tuple[Store, _RoundTrips],
) -> None:
    store, trips = round_trips
    new = new_article("a1", story_band=7)
    found = [new_match(new, rule, channels=("ops", "chat"), places=(_place(),))
             for rule in ("siege", "strike", "shelling")]
    before = trips.count()
    assert store.ingest(new, found, new_story, NOW).new_matches == tuple(m.match for m in found)
    assert trips.count() - before == POOL_CHECK + ROUND_TRIPS
    copy = new_article("a2", story_band=7)
    joining = [new_match(copy, rule, places=(_place(),)) for rule in ("siege", "flood")]
    before = trips.count()
    assert store.ingest(copy, joining, oldest_story, NOW).new_matches == (joining[1].match,)
    assert trips.count() - before == POOL_CHECK + ROUND_TRIPS + 1  # the story's lock and read
    before = trips.count()
    assert not store.ingest(copy, joining, oldest_story, NOW).stored  # found by the read
    assert trips.count() - before == POOL_CHECK + ROUND_TRIPS  # its ROLLBACK with the 2nd
    assert rows_of_stored(store) == [("a1", "siege", 1, 2, 3), ("a1", "strike", 1, 2, 3),
                                     ("a1", "shelling", 1, 2, 3), ("a2", "siege", 0, 0, 3),
                                     ("a2", "flood", 1, 1, 3)]


def test_a_batch_on_postgresql_is_two_round_trips_an_article_each_committed_alone(
    round_trips: tuple[Store, _RoundTrips],
) -> None:
    """A poll's batch: each article still in a transaction of its own (its locks held
    until its own commit), on one connection the pool checks once. Commits counted as the
    server answered them, COMMIT (SQLAlchemy's commit event fires whether one was sent or
    not)."""
    store, trips = round_trips
    batch = [new_article(f"a{n}") for n in range(5)]
    items = [IngestItem(new, [new_match(new, "siege", channels=("ops",), places=(_place(),))],
                        new_story, NOW) for new in batch]
    before, committed = trips.count(), trips.commits()
    results: list[Any] = []
    while len(results) < len(items):  # as the pipeline asks, with the rest
        results += store.ingest_batch(items[len(results):])
    assert [len(r.new_matches) for r in results] == [1] * 5
    assert trips.count() - before == POOL_CHECK + ROUND_TRIPS * len(batch)
    assert trips.commits() - committed == len(batch)
    assert [row[:4] for row in rows_of_stored(store)] == [
        (f"a{n}", "siege", 1, 1) for n in range(5)]


def rows_of_stored(store: Store) -> list[tuple[Any, ...]]:
    """(article, rule, first in story, deliveries queued, areas) per stored match."""
    with store.reading() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(
            "SELECT a.external_id, m.rule_id, m.first_in_story::int, "
            "(SELECT count(*) FROM deliveries d WHERE d.match_id = m.id), "
            "(SELECT count(*) FROM match_places p WHERE p.match_id = m.id) "
            "FROM matches m JOIN articles a ON a.id = m.article_id "
            "ORDER BY a.external_id, m.id")]
