"""Filling a store with 100,000 articles fast: SQLAlchemy Core bulk INSERTs into the real
tables (schema by the real migrations), in a few big transactions, no analysis or matching.

Rows look like a feed reader's: three identity keys and 32 LSH bands per article, real
FA-KES titles, bodies and signatures (so rows have their real size), one story each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bench.measure import progress, timed
from bench.store_results import Fill
from watcher.ingest.stories import BANDS
from watcher.model import Article
from watcher.store import Store
from watcher.store.db import open_engine, write_transaction
from watcher.store.search import index_new_articles
from watcher.store.tables import article_keys, articles, sources, stories, story_bands

FILL_SOURCES = 50
FILL_CACHE_KIB = 262_144  # the filling connection's page cache; the measured ones keep 2 MiB
FIRST_FETCH = datetime(2025, 1, 1, tzinfo=UTC)


def fill_store(
    path: Path, corpus: Sequence[Article], signatures: Sequence[bytes], count: int, batch: int
) -> Fill:
    """A new store at `path` holding `count` articles unrelated to `corpus`'s own keys and
    bands; article i borrows the text and signature of corpus article i mod len(corpus)."""
    url = f"sqlite:///{path}"
    Store.open(url).close()  # the schema, as every watcher command creates it
    engine = open_engine(url)
    sa.event.listen(engine, "connect", _large_cache)
    try:
        seconds = timed(lambda: _fill(engine, corpus, signatures, count, batch))[0]
        with engine.connect() as connection:
            counted = {t.name: _rows(connection, t) for t in (articles, article_keys, story_bands)}
    finally:
        engine.dispose()
    return Fill(
        articles=counted["articles"],
        keys=counted["article_keys"],
        bands=counted["story_bands"],
        seconds=seconds,
        file_bytes=sum(f.stat().st_size for f in path.parent.glob(path.name + "*")),
    )


def _fill(engine: sa.Engine, corpus: Sequence[Article], signatures: Sequence[bytes],
          count: int, batch: int) -> None:
    with write_transaction(engine) as connection:
        names = [{"id": n + 1, "name": f"feed-{n}"} for n in range(FILL_SOURCES)]
        connection.execute(sa.insert(sources), names)
    for first in range(1, count + 1, batch):
        last = min(first + batch - 1, count)
        with write_transaction(engine) as connection:
            _insert_batch(connection, corpus, signatures, first, last)
        progress(f"  filled {last:,} of {count:,} articles")


def _insert_batch(connection: Connection, corpus: Sequence[Article],
                  signatures: Sequence[bytes], first: int, last: int) -> None:
    """Articles first..last with their stories, keys and bands, in insertion order."""
    ids = range(first, last + 1)
    connection.execute(sa.insert(stories), [_story_row(i, corpus) for i in ids])
    connection.execute(sa.insert(articles), [_article_row(i, corpus, signatures) for i in ids])
    index_new_articles(connection)  # as an ingest does, once per transaction
    in_batch = articles.c.id.between(first, last)
    for key in _key_expressions():
        select = (
            sa.select(key, articles.c.id)
            .join(sources, articles.c.source_id == sources.c.id)
            .where(in_batch)
            .order_by(articles.c.id)
        )
        connection.execute(sa.insert(article_keys).from_select(["key", "article_id"], select))
    connection.execute(_bands_insert(in_batch))


def _story_row(i: int, corpus: Sequence[Article]) -> dict[str, Any]:
    return {"id": i, "first_seen": FIRST_FETCH + timedelta(minutes=i),
            "title": corpus[i % len(corpus)].title}


def _article_row(i: int, corpus: Sequence[Article], signatures: Sequence[bytes]) -> dict:
    text = corpus[i % len(corpus)]
    source = i % FILL_SOURCES
    url = f"https://news{source}.example/{FIRST_FETCH.year}/{i}"
    return {
        "id": i,
        "external_id": f"fill-{i}",
        "source_id": source + 1,
        "guid": f"{source}-{i}",
        "url": url,
        "canonical_url": url,
        # distinct per copy: each row is another article as far as identity goes
        "content_hash": hashlib.sha256(f"fill {i}".encode()).hexdigest(),
        "title": text.title,
        "body": text.body,
        "published": FIRST_FETCH + timedelta(minutes=i - 30),
        "fetched": FIRST_FETCH + timedelta(minutes=i),
        "story_id": i,
        "signature": signatures[i % len(signatures)],
    }


def _key_expressions() -> list[sa.ColumnElement[str]]:
    """The three keys identity.identity_keys gives a feed article, built from its row."""
    return [
        sa.literal("guid:") + sources.c.name + ":" + articles.c.guid,
        sa.literal("url:") + articles.c.canonical_url,
        sa.literal("hash:") + articles.c.content_hash,
    ]


def _bands_insert(in_batch: sa.ColumnElement[bool]) -> sa.Insert:
    """BANDS rows per article, band hashes from SQLite's random() (a uniform signed int64):
    blake2b band hashes of unrelated articles are independent uniform 64-bit values."""
    numbers = sa.values(sa.column("band_index", sa.Integer), name="band_numbers")
    band = numbers.data([(n,) for n in range(BANDS)]).cte("band_numbers")
    select = (
        sa.select(articles.c.id, band.c.band_index, sa.func.random())
        .join(band, sa.true())
        .where(in_batch)
        .order_by(articles.c.id, band.c.band_index)
    )
    return sa.insert(story_bands).from_select(["article_id", "band_index", "band_hash"], select)


def _rows(connection: Connection, table: sa.Table) -> int:
    return int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _large_cache(dbapi_connection: Any, _record: Any) -> None:
    """Only the filling engine's connections: index pages stay in memory while inserting."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size = -{FILL_CACHE_KIB}")
    cursor.close()
