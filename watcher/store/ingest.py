"""Storing one article: keys, story, bands, matches and pending deliveries, in one transaction.

Any failure aborts the whole transaction: an article is stored with all of it or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.store.db import in_chunks
from watcher.store.locations import area_ids, places_json
from watcher.store.records import (
    IngestResult,
    NewArticle,
    NewMatch,
    Route,
    StoryCandidate,
    StoryPicker,
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

PG_INGEST_LOCK = 0x77617464  # any constant other than the migration lock's

# The story search compares a new article with at most STORY_CANDIDATES stored ones: those
# sharing the most LSH bands with it, among the BAND_READ_LIMIT newest articles of each of
# its bands. Real stories share far fewer articles per band; a flood of near-identical
# items (thousands) then costs every ingest the same instead of ever more (docs/stories.md).
STORY_CANDIDATES = 50
BAND_READ_LIMIT = 200


class DuplicateArticle(Exception):
    """One of the article's keys is already stored (perhaps by another process just now)."""


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
) -> IngestResult:
    """Store everything about one article; raises DuplicateArticle to roll it all back."""
    _one_writer_at_a_time(connection)
    if any_key_known(connection, new.identity.keys):
        raise DuplicateArticle
    story_id = _choose_story(connection, new, pick_story, now)
    article_id = _insert_article(connection, new, story_id)
    _insert_keys(connection, new.identity.keys, article_id)
    _insert_many(
        connection,
        story_bands,
        [
            {"article_id": article_id, "band_index": index, "band_hash": band}
            for index, band in enumerate(new.bands)
        ],
    )
    inserted = [_insert_match(connection, m, article_id, story_id, now) for m in found]
    firsts = [pair for pair in inserted if pair is not None]
    _insert_many(
        connection,
        deliveries,
        [
            _pending_delivery(match_id, route, now)
            for match_id, new_match in firsts
            if not _in_cooldown(connection, new_match, now)
            for route in _unique_routes(new_match.routes)
        ],
    )
    return IngestResult(True, story_id, tuple(new_match.match for _, new_match in firsts))


def _one_writer_at_a_time(connection: Connection) -> None:
    """Story search and "first match of a rule in its story" read what earlier articles
    wrote: ingests must take turns. SQLite's BEGIN IMMEDIATE does that; PostgreSQL needs
    a transaction-scoped advisory lock, or two copies stored at once would both alert."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_INGEST_LOCK})")


def story_candidates(connection: Connection, bands: Sequence[int]) -> list[StoryCandidate]:
    """Stored articles sharing at least one LSH band with `bands`, oldest first: at most
    STORY_CANDIDATES, those sharing the most bands, from each band's BAND_READ_LIMIT newest."""
    if not bands:
        return []
    values = {f"hash{index}": band for index, band in enumerate(bands)}
    rows = connection.execute(_candidates_query(len(bands)), values)
    return [StoryCandidate(row.story_id, row.signature) for row in rows]


@cache
def _candidates_query(band_count: int) -> sa.Select[Any]:
    """One statement per band count, with bound hashes: built and compiled once, not per
    article (building the 32-way OR was a quarter of a replay's time). Bounded work: a band
    shared by thousands of near-identical items had every ingest read them all (quadratic)."""
    per_band = [
        sa.select(story_bands.c.article_id)
        .where(story_bands.c.band_index == index,
               story_bands.c.band_hash == sa.bindparam(f"hash{index}"))
        .order_by(story_bands.c.article_id.desc())  # the index's order: newest first
        .limit(BAND_READ_LIMIT)
        .subquery()
        for index in range(band_count)
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


def _choose_story(
    connection: Connection, new: NewArticle, pick_story: StoryPicker, now: datetime
) -> int:
    candidates = story_candidates(connection, new.bands)
    story_id = pick_story(candidates) if candidates else None
    if story_id is None:
        return _insert_one(connection, stories, {"first_seen": now, "title": new.article.title})
    if story_id not in {candidate.story_id for candidate in candidates}:
        raise ValueError(f"pick_story chose story {story_id}, which is not a candidate")
    return story_id


def _insert_article(connection: Connection, new: NewArticle, story_id: int) -> int:
    article = new.article
    return _insert_one(connection, articles, {
        "external_id": article.id,
        "source_id": _source_id(connection, article.source),
        "guid": article.guid,
        "url": article.url,
        "canonical_url": new.identity.canonical_url,
        "content_hash": new.identity.content_hash,
        "title": article.title,
        "body": article.body,
        "published": article.published,
        "fetched": new.fetched,
        "story_id": story_id,
        "signature": new.signature,
    })


def _source_id(connection: Connection, name: str) -> int:
    """The source row named `name`, created if missing (replay names sources it never polls)."""
    query = sa.select(sources.c.id).where(sources.c.name == name)
    found = connection.scalar(query)
    if found is not None:
        return int(found)
    try:
        with connection.begin_nested():  # another process may create it at the same moment
            return _insert_one(connection, sources, {"name": name})
    except sa.exc.IntegrityError:
        return int(connection.scalar(query))


def _insert_keys(connection: Connection, keys: Sequence[str], article_id: int) -> None:
    """The unique key is the arbiter when two processes store one article at once."""
    try:
        _insert(connection, article_keys, [
            {"key": key, "article_id": article_id} for key in dict.fromkeys(keys)
        ])
    except sa.exc.IntegrityError:
        raise DuplicateArticle from None


def _insert_match(
    connection: Connection, new: NewMatch, article_id: int, story_id: int, now: datetime
) -> tuple[int, NewMatch] | None:
    """Store the match; returns (its id, it) when it is the first of its rule in the story.
    A held-back match (its context labels excluded) is stored but never first: it is not
    alerted, and a later copy of the story that reports the event plainly still is. So is
    a match in an article that is old news (a source's backlog, or published long ago):
    nobody was told of it, so a later copy of the story published now still alerts."""
    match = new.match
    earlier = sa.select(matches.c.id).where(
        matches.c.story_id == story_id, matches.c.rule_id == match.rule_id,
        matches.c.held.is_(None), matches.c.old_news.is_(None),
    )
    first = (not match.held and not new.old_news
             and connection.execute(earlier.limit(1)).first() is None)
    match_id = _insert_one(
        connection,
        matches,
        {
            "rule_id": match.rule_id,
            "rule_version": new.rule_version,
            "article_id": article_id,
            "story_id": story_id,
            "severity": str(match.severity),
            "spans": [[span.start, span.end, span.field] for span in match.spans],
            "snippet": match.snippet,
            "matched_at": now,
            "first_in_story": first,
            "rule_title": new.rule_title,
            "query": new.query,
            "context": [[label.label, list(label.cues)] for label in match.context],
            "held": ",".join(match.held) or None,
            "old_news": new.old_news,
            "places": places_json(match.places),
        },
    )
    _insert_many(connection, match_places, [
        {"match_id": match_id, "place_id": area} for area in area_ids(match.places)
    ])
    return (match_id, new) if first else None


def _in_cooldown(connection: Connection, new: NewMatch, now: datetime) -> bool:
    """Whether the rule queued an alert within its cooldown (for any story), so this new
    story is stored and printed but not sent."""
    if not new.cooldown_seconds or not new.routes:
        return False
    since = now - timedelta(seconds=new.cooldown_seconds)
    query = (
        sa.select(deliveries.c.id)
        .join(matches, deliveries.c.match_id == matches.c.id)
        .where(matches.c.rule_id == new.match.rule_id, deliveries.c.created > since)
        .limit(1)
    )
    return connection.execute(query).first() is not None


def _unique_routes(routes: Sequence[Route]) -> list[Route]:
    """One route per channel (the first), as a channel gets one delivery per match."""
    first: dict[str, Route] = {}
    for route in routes:
        first.setdefault(route.channel, route)
    return list(first.values())


def _pending_delivery(match_id: int, route: Route, now: datetime) -> dict[str, Any]:
    return {
        "match_id": match_id,
        "channel": route.channel,
        "status": "pending",
        "attempts": 0,
        "next_attempt": route.due or now,
        "created": now,
    }


def _insert_one(connection: Connection, table: sa.Table, values: dict[str, Any]) -> int:
    key = connection.execute(sa.insert(table).values(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _insert_many(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """executemany of one cached INSERT: for rows whose insert is not expected to fail."""
    if rows:
        connection.execute(sa.insert(table), rows)


def _insert(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT (not executemany: psycopg's pipeline logs noise when it fails)."""
    if rows:
        connection.execute(sa.insert(table).values(rows))
