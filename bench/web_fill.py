"""A workspace database as a team would have it after months of polling: `count` stored
articles (FA-KES texts, each body joined with part of another article's, so no two rows
are the same text), stories of one to a dozen copies, about one article in eight matched
by the shipped rules (some held back, some matched by two rules, most placed), some
stories triaged. Written with bulk INSERTs into the real schema (made by the migrations);
the full-text index is built once at the end (FTS5's 'rebuild': the fill writes rows as
the ingest never does, so it indexes them itself, as the ingest does once per batch).
Identity keys and LSH bands, which the inbox never reads, are left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.measure import progress
from watcher.model import MatchPlace, PlaceRef
from watcher.rules.ast import Rule
from watcher.store import Store
from watcher.store.db import open_engine, write_transaction
from watcher.store.locations import area_ids, places_json
from watcher.store.tables import (
    articles,
    match_places,
    matches,
    sources,
    stories,
    story_states,
    users,
)

SOURCES = 60
BATCH = 10_000
FILL_CACHE_KIB = 262_144  # the filling connection's page cache
MATCHED_PER_MILLE = 125  # about one article in eight has a match
HELD_PER_MILLE = 150  # of the matched: held back by their context
FIRST_FETCH = datetime(2026, 6, 1, tzinfo=UTC)
SYRIA = PlaceRef("geonames:163843", "Syria", "country")
ALEPPO_GOV = PlaceRef("admin1:SY.09", "Aleppo Governorate", "governorate")
PLACES = (
    MatchPlace("geonames:170063", "Aleppo", "city", 36.20, 37.16, (ALEPPO_GOV, SYRIA)),
    MatchPlace("geonames:167357", "Manbij", "town", 36.53, 37.95,
               (PlaceRef("watcher:sy-manbij-district", "Manbij District", "district"),
                ALEPPO_GOV, SYRIA)),
    MatchPlace("geonames:170654", "Damascus", "city", 33.51, 36.29,
               (PlaceRef("admin1:SY.13", "Damascus Governorate", "governorate"), SYRIA)),
    MatchPlace("geonames:163345", "Raqqa", "city", 35.95, 39.01,
               (PlaceRef("admin1:SY.04", "Ar-Raqqah Governorate", "governorate"), SYRIA)),
    MatchPlace("geonames:169304", "Idlib", "city", 35.93, 36.63,
               (PlaceRef("admin1:SY.10", "Idlib Governorate", "governorate"), SYRIA)),
)


def fill_workspace(path: Path, corpus: Sequence[Any], rules: Sequence[Rule], count: int) -> int:
    """A new store at `path` with `count` articles; returns how many stories have matches."""
    Store.open(f"sqlite:///{path}").close()  # the schema, by the real migrations
    engine = open_engine(f"sqlite:///{path}")
    sa.event.listen(engine, "connect", _fast_filling)
    try:
        with write_transaction(engine) as connection:
            connection.execute(sa.insert(sources),
                               [{"id": n + 1, "name": f"outlet-{n:02}"} for n in range(SOURCES)])
            connection.execute(sa.insert(users), [{
                "id": 1, "name": "bench", "role": "analyst", "password_hash": None,
                "created": FIRST_FETCH}])
        story_of: list[int] = [0]
        matched: set[int] = set()
        match_id = 0
        for first in range(1, count + 1, BATCH):
            last = min(first + BATCH - 1, count)
            with write_transaction(engine) as connection:
                match_id = _batch(connection, corpus, rules, first, last, story_of, matched,
                                  match_id)
            progress(f"  filled {last:,} of {count:,} articles")
        progress("  building the full-text index")
        with write_transaction(engine) as connection:
            connection.exec_driver_sql(
                "INSERT INTO articles_search(articles_search) VALUES ('rebuild')")
            _triage(connection, sorted(matched))
            connection.exec_driver_sql("ANALYZE")
        return len(matched)
    finally:
        engine.dispose()


def _batch(connection: Connection, corpus: Sequence[Any], rules: Sequence[Rule],
           first: int, last: int, story_of: list[int], matched: set[int], match_id: int) -> int:
    new_stories, rows, match_rows, area_rows = [], [], [], []
    for i in range(first, last + 1):
        seed = _number(i)
        fetched = FIRST_FETCH + timedelta(seconds=90 * i)
        joins = i > 12 and seed % 10 < 2  # one in five is another outlet's copy
        story = story_of[i - 1 - seed % 12] if joins else len(story_of)
        text, other = corpus[i % len(corpus)], corpus[(i * 31 + 7) % len(corpus)]
        if not joins:
            new_stories.append({"id": story, "first_seen": fetched, "title": text.title})
        story_of.append(story)
        rows.append({
            "id": i, "external_id": f"web-{i}", "source_id": seed % SOURCES + 1,
            "guid": f"web-{i}", "url": f"https://outlet{seed % SOURCES}.example/{i}",
            "canonical_url": f"https://outlet{seed % SOURCES}.example/{i}",
            "content_hash": hashlib.sha256(f"web {i}".encode()).hexdigest(),
            "title": text.title, "body": f"{text.body}\n\n{other.body[:600]}",
            "published": fetched - timedelta(minutes=seed % 180), "fetched": fetched,
            "story_id": story, "signature": b"",
        })
        if seed % 1000 >= MATCHED_PER_MILLE:
            continue
        for n, rule in enumerate(_rules_of(seed, rules)):
            match_id += 1
            held = seed // 1000 % 1000 < HELD_PER_MILLE
            places = (PLACES[(seed >> 8) % len(PLACES)],) if seed % 7 else ()
            if not held:
                matched.add(story)
            match_rows.append(_match_row(match_id, rule, i, story, fetched, held, places, n))
            area_rows += [{"match_id": match_id, "place_id": a} for a in area_ids(places)]
    for table, values in ((stories, new_stories), (articles, rows), (matches, match_rows),
                          (match_places, area_rows)):
        if values:
            connection.execute(sa.insert(table), values)
    return match_id


def _rules_of(seed: int, rules: Sequence[Rule]) -> list[Rule]:
    """One rule, or two for one match in four; rules fire unevenly, as real ones do."""
    one = rules[(seed >> 4) % len(rules) if seed % 3 else 0]
    two = rules[(seed >> 12) % len(rules)]
    return [one, two] if seed % 4 == 0 and two.id != one.id else [one]


def _match_row(match_id: int, rule: Rule, article_id: int, story: int, at: datetime,
               held: bool, places: tuple[MatchPlace, ...], n: int) -> dict[str, Any]:
    labels = [["historical", ["last year"]]] if held or article_id % 9 == 0 else []
    return {
        "id": match_id, "rule_id": rule.id, "rule_version": "bench", "article_id": article_id,
        "story_id": story, "severity": str(rule.severity), "spans": [[0, 5, "body"]],
        "snippet": "… the [siege] of …", "matched_at": at, "first_in_story": n == 0,
        "rule_title": rule.title, "query": rule.query_text, "context": labels,
        "held": "historical" if held else None, "old_news": None,
        "places": places_json(places),
    }


def _triage(connection: Connection, story_ids: list[int]) -> None:
    """One story with matches in six acknowledged (assigned), one in twenty closed."""
    rows = [
        {"story_id": s, "status": "closed" if n % 20 == 0 else "acknowledged",
         "assignee_id": 1, "updated": FIRST_FETCH, "updated_by": 1}
        for n, s in enumerate(story_ids) if n % 6 == 0 or n % 20 == 0
    ]
    if rows:
        connection.execute(sa.insert(story_states), rows)


def _fast_filling(dbapi_connection: Any, _record: Any) -> None:
    """Only the filling engine's connections: pages stay in memory, no fsync (a scratch
    file; the measured server opens its own connections with the usual settings)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size = -{FILL_CACHE_KIB}")
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.close()


def _number(i: int) -> int:
    """A fixed pseudo-random number per article: the fill is the same on every run."""
    return int.from_bytes(hashlib.blake2b(i.to_bytes(8, "big"), digest_size=8).digest(), "big")
