"""Storing one article: keys, story, bands, matches and pending deliveries, in one transaction.

Any failure aborts the whole transaction: an article is stored with all of it or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import IntEnum
from functools import cache
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.store.db import in_chunks
from watcher.store.driver import driver_executemany, driver_insert
from watcher.store.ingest_pg import refusals, send_write_and_commit
from watcher.store.locations import area_ids
from watcher.store.pipelined import Immediate, Statements, pipelined
from watcher.store.records import (
    IngestResult,
    NewArticle,
    NewMatch,
    Route,
    StoryCandidate,
    StoryPicker,
)
from watcher.store.rows import (
    ArticleWrites,
    DuplicateArticle,
    UnknownSource,
    article_row,
    match_row,
    pending_delivery,
    story_row,
)
from watcher.store.tables import (
    article_keys,
    articles,
    deliveries,
    match_places,
    matches,
    sources,
    stories,
    story_bands,
)

# The ingest lock: the one-bigint advisory lock every ingest took alone before issue 20.
# Every ingest now holds it shared and a retention batch alone; a worker of an older
# version still takes it alone, so during a rolling upgrade old and new ingests take turns
# instead of storing two copies of one story side by side.
PG_INGEST_LOCK = 0x77617464
INGEST_KEY = "ingest"  # the ingest lock's place in the sorted locks (its key is unused)


class LockSpace(IntEnum):
    """What a PostgreSQL ingest lock stands for: the first int of the two-int
    `pg_advisory_xact_lock(space, key)`, whose keys never meet the one-bigint form's (the
    migration lock). Locks are taken in this order, then by key, so that no two ingests
    can each hold what the other waits for (docs/storage.md, "Ingests side by side")."""

    INGEST = 0x77610000  # first in order: stands for PG_INGEST_LOCK, taken shared
    IDENTITY_KEY = 0x77610001
    BAND = 0x77610002
    STORY = 0x77610003
    COOLDOWN_RULE = 0x77610004
    # Not an ingest's lock: a poll's claim on an article it is analysing, a session lock
    # taken and released outside any ingest's transaction (watcher/store/claims.py).
    ANALYSIS = 0x77610005


def lock_key(value: str) -> int:
    """The second int of a lock: the first 4 bytes of blake2b of `value`'s UTF-8, signed.
    The same in every process (Python's hash() is not); two values sharing a key only
    make their ingests take turns."""
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little", signed=True)

# The story search compares a new article with at most STORY_CANDIDATES stored ones: those
# sharing the most LSH bands with it, among the BAND_READ_LIMIT newest articles of each of
# its bands. Real stories share far fewer articles per band; a flood of near-identical
# items (thousands) then costs every ingest the same instead of ever more (docs/stories.md).
STORY_CANDIDATES = 50
BAND_READ_LIMIT = 200


def any_key_known(connection: Connection, keys: Sequence[str]) -> bool:
    if not keys:
        return False
    query = sa.select(article_keys.c.key).where(article_keys.c.key.in_(keys)).limit(1)
    return connection.execute(query).first() is not None


def known_keys(connection: Connection, keys: Sequence[str]) -> set[str]:
    """The stored ones among `keys`, queried in chunks (SQLite caps bound parameters)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(keys))
    for chunk in in_chunks(unique):
        query = sa.select(article_keys.c.key).where(article_keys.c.key.in_(chunk))
        found.update(connection.scalars(query))
    return found


def store_article(
    connection: Connection,
    new: NewArticle,
    found: Sequence[NewMatch],
    pick_story: StoryPicker,
    now: datetime,
    source_id: int | None = None,
) -> tuple[IngestResult, int]:
    """Store everything about one article; raises DuplicateArticle to roll it all back.
    Returns what ingest did and the id of the article's source: `source_id` when the
    caller knows it (Store caches it once a transaction using it has committed), else
    found or created here. On PostgreSQL the transaction is committed here, with the
    article's write (one round trip); the caller's commit then has nothing left to do.

    The writes are few statements, whatever the article holds (docs/storage.md, "The
    write path"): the duplicate check and the story search in one, each table's rows in one
    multi-row INSERT (bands, keys, matches with their ids returned, their places, their
    deliveries), and no "earlier match" read for a story created by this article."""
    cached = source_id is not None
    if source_id is None:
        source_id = _source_id(connection, new.article.source)
    if connection.dialect.name == "postgresql":
        writes, story_id = _store_in_pipeline(connection, new, found, pick_story, now,
                                              source_id, cached)
    elif connection.dialect.name == "sqlite":
        writes = _decided_writes(Immediate(connection), new, found, pick_story, now,
                                 source_id)
        story_id = _write_apart(connection, writes, cached)
    else:  # the driver's statements are SQLite's (`?` parameters)
        raise ValueError(f"the store writes to SQLite or PostgreSQL, not {connection.dialect.name}")
    new_matches = tuple(m.match for m, is_first in zip(found, writes.first, strict=True)
                        if is_first)
    return IngestResult(True, story_id, new_matches), source_id


def _decided_writes(
    statements: Statements, new: NewArticle, found: Sequence[NewMatch],
    pick_story: StoryPicker, now: datetime, source_id: int,
) -> ArticleWrites:
    """The reads that decide everything the article writes, each after the locks that
    make it hold (docs/storage.md, "Ingests side by side"), and what they decide."""
    _lock_identity_and_bands(statements, new)
    known, candidates = _known_and_candidates(statements, new.identity.keys, new.bands)
    if known:
        raise DuplicateArticle
    story_id = _chosen_story(candidates, pick_story)
    first = _first_in_story(statements, found, story_id)
    firsts = [m for m, is_first in zip(found, first, strict=True) if is_first]
    cooling = _rules_in_cooldown(statements, firsts, now)
    queued = [
        (index, route)
        for index, (new_match, is_first) in enumerate(zip(found, first, strict=True))
        if is_first and new_match.match.rule_id not in cooling
        for route in _unique_routes(new_match.routes)
    ]
    return ArticleWrites(new, source_id, story_id, found, first, queued, now)


def _store_in_pipeline(
    connection: Connection, new: NewArticle, found: Sequence[NewMatch],
    pick_story: StoryPicker, now: datetime, source_id: int, cached: bool,
) -> tuple[ArticleWrites, int]:
    """PostgreSQL: the article's locks, reads and writes in psycopg's pipeline mode
    (watcher/store/pipelined.py), so the client waits for the server only for what the
    next decision needs: the locks with the reads after them (BEGIN with them), then the
    write with its COMMIT; between them one more wait for each read a decision needs (the
    rules already first in a story it joins, its rules' cooldowns). What it wrote, and
    its story's id."""
    with refusals(cached), pipelined(connection) as statements:
        writes = _decided_writes(statements, new, found, pick_story, now, source_id)
        written = send_write_and_commit(statements, writes)
    return writes, int(written.rows()[0].story_id)


def _write_apart(connection: Connection, writes: ArticleWrites, cached: bool) -> int:
    """The article's rows a table at a time (SQLite: no round trips to save), through the
    driver (watcher/store/driver.py); its story's id. UnknownSource when a `cached` source
    id names no row."""
    new, now = writes.new, writes.now
    story_id = writes.story_id
    if story_id is None:
        story_id = _insert_row(connection, stories, story_row(new, now))
    try:
        article_id = _insert_row(connection, articles,
                                 article_row(new, story_id, writes.source_id))
    except sa.exc.IntegrityError:  # the row's only constraints that can fail here
        if cached:
            raise UnknownSource from None
        raise
    _insert_keys(connection, new.identity.keys, article_id)
    _insert_bands(connection, new.bands, article_id)
    ids = _insert_matches(connection, writes.found, writes.first, article_id, story_id, now)
    _insert_rows(connection, deliveries, [
        pending_delivery(ids[index], route, now) for index, route in writes.queued
    ])
    return story_id


def _lock_identity_and_bands(statements: Statements, new: NewArticle) -> None:
    """Before anything is read, wait for the ingests that could change what this one finds.
    SQLite's BEGIN IMMEDIATE has already made every ingest wait; on PostgreSQL an ingest
    waits only for those sharing one of its identity keys (the duplicate check) or one of
    its LSH bands (the story search: an article sharing no band with this one is never its
    candidate). Two copies of one story stored at once share bands, so the second finds
    the first; ingests of unrelated articles run side by side. First of all, in the same
    statement, the ingest lock shared: a retention batch takes it alone, so it never
    deletes a story that an ingest is joining (`lock_out_ingests`)."""
    _take_locks(statements, chain(  # lazily: on SQLite the 35 keys are never made
        [(LockSpace.INGEST, INGEST_KEY)],
        ((LockSpace.IDENTITY_KEY, key) for key in new.identity.keys),
        ((LockSpace.BAND, str(band)) for band in new.bands),
    ))


def lock_out_ingests(connection: Connection) -> None:
    """The ingest lock alone, until the transaction ends (PostgreSQL; a retention batch):
    it waits for the ingests in progress, and new ones wait for it."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_INGEST_LOCK})")


def _lock_story(statements: Statements, story_id: int) -> None:
    """Before reading which rules are already first in a story the article joins: articles
    joining one story through different bands take turns here, so a rule is first once."""
    _take_locks(statements, [(LockSpace.STORY, str(story_id))])


def _take_locks(statements: Statements, locks: Iterable[tuple[LockSpace, str]]) -> None:
    """Transaction-scoped advisory locks on PostgreSQL, in one statement, in (space, key)
    order: every ingest takes them in that one order, so none waits in a circle. Each
    following statement reads what the ingests waited for committed (READ COMMITTED: a
    snapshot per statement). None on SQLite, where one ingest writes at a time. Sent, not
    waited for: the reads sent after them wait for them (watcher/store/pipelined.py)."""
    if statements.dialect != "postgresql":
        return
    ordered = sorted({(int(space), lock_key(value)) for space, value in locks})
    if ordered:
        statements.send(_TAKE_LOCKS, {"spaces": [space for space, _ in ordered],
                                         "keys": [key for _, key in ordered],
                                         "ingest_space": int(LockSpace.INGEST),
                                         "ingest": PG_INGEST_LOCK})


# Sorted in Python and again here; the locks are taken row by row in that order.
# The row of the ingest lock's space (the lowest, so the first) takes PG_INGEST_LOCK shared.
_TAKE_LOCKS = sa.text(
    "SELECT count(CASE WHEN space = :ingest_space "
    "THEN pg_advisory_xact_lock_shared(CAST(:ingest AS bigint)) "
    "ELSE pg_advisory_xact_lock(space, key) END) FROM ("
    "SELECT space, key FROM unnest(CAST(:spaces AS integer[]), CAST(:keys AS integer[])) "
    "AS wanted (space, key) ORDER BY space, key) AS sorted"
)


def story_candidates(connection: Connection, bands: Sequence[int]) -> list[StoryCandidate]:
    """`_candidates` on a connection in a transaction (on SQLite one outside it is refused:
    watcher/store/driver.py), outside an ingest (bench/store_lookup.py)."""
    return _candidates(Immediate(connection), bands)


def _candidates(statements: Statements, bands: Sequence[int]) -> list[StoryCandidate]:
    """Stored articles sharing at least one LSH band with `bands`, oldest first: at most
    STORY_CANDIDATES, those sharing the most bands, from each band's BAND_READ_LIMIT newest."""
    if not bands:
        return []
    rows = statements.send(_candidates_query(len(bands)), _band_values(bands)).rows()
    return [StoryCandidate(row.story_id, row.signature) for row in rows]


def _known_and_candidates(
    statements: Statements, keys: Sequence[str], bands: Sequence[int]
) -> tuple[bool, list[StoryCandidate]]:
    """Whether any of `keys` is stored, and `_candidates(bands)`: one statement, the
    first row saying whether a key is known (no candidate columns when none is found)."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return False, _candidates(statements, bands)
    values = _band_values(bands) | dict(zip(_names("key", len(unique)), unique, strict=True))
    rows = statements.send(_known_and_candidates_query(len(unique), len(bands)), values).rows()
    known = False
    candidates = []
    for row in rows:
        known = known or bool(row.known)
        if row.story_id is not None:
            candidates.append(StoryCandidate(row.story_id, row.signature))
    return known, candidates


def _band_values(bands: Sequence[int]) -> dict[str, int]:
    return dict(zip(_names("hash", len(bands)), bands, strict=True))


@cache
def _names(prefix: str, count: int) -> tuple[str, ...]:
    """The names of `count` bound values, `prefix` and their index: made once, not for
    each article."""
    return tuple(f"{prefix}{index}" for index in range(count))


@cache
def _known_and_candidates_query(key_count: int, band_count: int) -> sa.Select[Any]:
    """The candidates (when there are bands) left-joined to a one-row "is a key known"."""
    keys = [sa.bindparam(name) for name in _names("key", key_count)]
    known = sa.select(
        sa.exists().where(article_keys.c.key.in_(keys)).label("known")
    ).subquery()
    if not band_count:
        return sa.select(known.c.known, sa.null().label("story_id"),
                         sa.null().label("signature"))
    candidates = _candidates_query(band_count).order_by(None).subquery()
    return (
        sa.select(known.c.known, candidates.c.story_id, candidates.c.signature)
        .select_from(known.outerjoin(candidates, sa.true()))
        .order_by(candidates.c.id)
    )


@cache
def _candidates_query(band_count: int) -> sa.Select[Any]:
    """One statement per band count, with bound hashes: built and compiled once, not per
    article (building the 32-way OR was a quarter of a replay's time). Bounded work: a band
    shared by thousands of near-identical items had every ingest read them all (quadratic)."""
    per_band = [
        sa.select(story_bands.c.article_id)
        .where(story_bands.c.band_index == index,
               story_bands.c.band_hash == sa.bindparam(name))
        .order_by(story_bands.c.article_id.desc())  # the index's order: newest first
        .limit(BAND_READ_LIMIT)
        .subquery()
        for index, name in enumerate(_names("hash", band_count))
    ]
    sharing = sa.union_all(*(sa.select(band.c.article_id) for band in per_band)).subquery()
    shared = sa.func.count().label("shared")
    best = (
        sa.select(sharing.c.article_id, shared)
        .group_by(sharing.c.article_id)
        .order_by(shared.desc(), sharing.c.article_id.desc())
        .limit(STORY_CANDIDATES)
        .subquery()
    )
    return (
        sa.select(articles.c.id, articles.c.story_id, articles.c.signature)
        .join(best, best.c.article_id == articles.c.id)
        .order_by(articles.c.id)
    )


def _chosen_story(
    candidates: Sequence[StoryCandidate], pick_story: StoryPicker
) -> int | None:
    """The stored story the article joins, or None when it starts one."""
    story_id = pick_story(candidates) if candidates else None
    if story_id is not None and story_id not in {c.story_id for c in candidates}:
        raise ValueError(f"pick_story chose story {story_id}, which is not a candidate")
    return story_id


def _source_id(connection: Connection, name: str) -> int:
    """The source row named `name`, created if missing (replay names sources it never polls)."""
    query = sa.select(sources.c.id).where(sources.c.name == name)
    found = connection.scalar(query)
    if found is not None:
        return int(found)
    try:
        with connection.begin_nested():  # another process may create it at the same moment
            return _insert_one(connection, _INSERT_SOURCE, {"name": name})
    except sa.exc.IntegrityError:
        return int(connection.scalar(query))


def _insert_keys(connection: Connection, keys: Sequence[str], article_id: int) -> None:
    """The unique key is the arbiter when two processes store one article at once. On
    SQLite one executemany; on PostgreSQL the keys are written with the rest
    (ingest_pg.py)."""
    rows = [{"key": key, "article_id": article_id} for key in dict.fromkeys(keys)]
    try:
        _insert_rows(connection, article_keys, rows)
    except sa.exc.IntegrityError:
        raise DuplicateArticle from None


def _insert_bands(connection: Connection, bands: Sequence[int], article_id: int) -> None:
    """All of the article's bands in one executemany of the single-row INSERT, given to
    the driver as it is, which SQLite runs 2.5x faster than the multi-row form (measured:
    32 rows, 800 times)."""
    if bands:
        driver_executemany(connection, _SQLITE_BANDS_INSERT,
                           [(article_id, index, band) for index, band in enumerate(bands)])


_SQLITE_BANDS_INSERT = (
    f'INSERT INTO "{story_bands.name}" ("article_id", "band_index", "band_hash") VALUES (?, ?, ?)'
)


def _first_in_story(
    statements: Statements, found: Sequence[NewMatch], story_id: int | None
) -> list[bool]:
    """Whether each match is the first of its rule in the story (None: a story this
    article starts). A held-back match (its context labels excluded) is stored but never
    first: it is not alerted, and a later copy of the story that reports the event plainly
    still is. So is a match in an article that is old news (a source's backlog, or
    published long ago): nobody was told of it, so a later copy of the story published now
    still alerts.

    An article matches a rule at most once, so its matches cannot be each other's earlier
    match: one read of the rules already first in the story serves them all, and none is
    needed in a story this article starts."""
    eligible = [not new.match.held and not new.old_news for new in found]
    rules = [new.match.rule_id for new, ok in zip(found, eligible, strict=True) if ok]
    earlier = set() if story_id is None or not rules else _rules_alerted_in(
        statements, story_id, rules)
    return [ok and new.match.rule_id not in earlier
            for new, ok in zip(found, eligible, strict=True)]


def _insert_matches(
    connection: Connection, found: Sequence[NewMatch], first: Sequence[bool], article_id: int,
    story_id: int, now: datetime,
) -> list[int]:
    """Store the matches and their places; returns their ids, in order."""
    if not found:
        return []
    rows = [match_row(new, article_id, story_id, now, is_first)
            for new, is_first in zip(found, first, strict=True)]
    # One match per rule and article (a unique constraint): the rule names the returned id.
    inserted = driver_insert(matches, tuple(rows[0]), connection.dialect).insert_returning(
        connection, rows, ("id", "rule_id"))
    id_of = {rule_id: int(match_id) for match_id, rule_id in inserted}
    ids = [id_of[new.match.rule_id] for new in found]
    _insert_rows(connection, match_places, [
        {"match_id": match_id, "place_id": area}
        for match_id, new in zip(ids, found, strict=True)
        for area in area_ids(new.match.places)
    ])
    return ids


def _rules_alerted_in(
    statements: Statements, story_id: int, rule_ids: Sequence[str]
) -> set[str]:
    """Which of `rule_ids` already have a match in the story that was neither held back
    nor old news (so a new match of theirs is not first), read under the story's lock."""
    if not rule_ids:
        return set()
    _lock_story(statements, story_id)
    unique = list(dict.fromkeys(rule_ids))
    values = {"story_id": story_id} | {f"rule{index}": rule for index, rule in enumerate(unique)}
    return {row.rule_id for row in statements.send(_alerted_query(len(unique)), values).rows()}


@cache
def _alerted_query(rule_count: int) -> sa.Select[Any]:
    """One statement per number of rules, with bound values: built and compiled once."""
    return sa.select(matches.c.rule_id).distinct().where(
        matches.c.story_id == sa.bindparam("story_id"),
        matches.c.rule_id.in_([sa.bindparam(f"rule{index}") for index in range(rule_count)]),
        matches.c.held.is_(None), matches.c.old_news.is_(None),
    )


def _rules_in_cooldown(
    statements: Statements, firsts: Sequence[NewMatch], now: datetime
) -> set[str]:
    """The rules among the first matches' that queued an alert within their cooldown (for
    any story), so this new story is stored and printed but not sent. Read under the
    rules' locks: the ingests queueing alerts of one rule with a cooldown take turns, as
    this read looks across stories, so only one is sent. The reads are all sent before
    any is waited for (one round trip on PostgreSQL)."""
    cooling = [new for new in firsts if new.cooldown_seconds and new.routes]
    _take_locks(statements, [(LockSpace.COOLDOWN_RULE, new.match.rule_id) for new in cooling])
    sent = [(new.match.rule_id, statements.send(_COOLDOWN_QUERY, {
        "rule_id": new.match.rule_id,
        "since": now - timedelta(seconds=new.cooldown_seconds)}))
        for new in cooling]
    return {rule_id for rule_id, read in sent if read.rows()}


_COOLDOWN_QUERY = (
    sa.select(deliveries.c.id)
    .join(matches, deliveries.c.match_id == matches.c.id)
    .where(matches.c.rule_id == sa.bindparam("rule_id"),
           deliveries.c.created > sa.bindparam("since"))
    .limit(1)
)


def _unique_routes(routes: Sequence[Route]) -> list[Route]:
    """One route per channel (the first), as a channel gets one delivery per match."""
    first: dict[str, Route] = {}
    for route in routes:
        first.setdefault(route.channel, route)
    return list(first.values())


_INSERT_SOURCE = sa.insert(sources)


def _insert_one(connection: Connection, statement: sa.Insert, values: dict[str, Any]) -> int:
    key = connection.execute(statement, values).inserted_primary_key
    assert key is not None
    return int(key[0])


def _insert_row(connection: Connection, table: sa.Table, row: dict[str, Any]) -> int:
    """One row through the driver (SQLite); its id."""
    return driver_insert(table, tuple(row), connection.dialect).insert(connection, row)


def _insert_rows(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Rows of one shape in one executemany through the driver (SQLite)."""
    if rows:
        driver_insert(table, tuple(rows[0]), connection.dialect).insert_many(connection, rows)
