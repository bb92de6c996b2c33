"""An article's writes on PostgreSQL in one statement, sent with its COMMIT: one round trip
instead of one a table.

Its story (when new), the article, its keys, its bands, its matches, their places and
their deliveries are data-modifying CTEs of one INSERT (PostgreSQL runs them all, each
row pointing at the ids the others return), built once per shape (how many keys, bands,
matches, places, deliveries) and cached. Everything it writes was decided before by reads
(store_article): no write reads another's result but for those ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from watcher.store.locations import area_ids
from watcher.store.pipelined import Pipelined, Sent
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
    stories,
    story_bands,
)

KEYS_CONSTRAINT = f"pk_{article_keys.name}"  # tables.py's naming convention
SOURCE_CONSTRAINT = f"fk_{articles.name}_source_id_"

_ARTICLE = "(SELECT id FROM a)"
_STORY = "(SELECT story_id FROM a)"


def send_write_and_commit(statements: Pipelined, writes: ArticleWrites) -> Sent:
    """Send the article's rows and the COMMIT after them, in one round trip with the
    pipeline's end (watcher/store/pipelined.py): the row of its article and story id, once
    the pipeline has ended. Its refusal is raised when the pipeline ends (`refusals`)."""
    places = tuple(tuple(area_ids(new.match.places)) for new in writes.found)
    statement = _statement(writes.story_id is None, len(_unique(writes.new.identity.keys)),
                           len(writes.new.bands), len(writes.found),
                           tuple(map(len, places)), tuple(index for index, _ in writes.queued))
    written = statements.send(statement, _values(writes, places))
    statements.send_text("COMMIT")
    return written


@contextmanager
def refusals(cached: bool) -> Iterator[None]:
    """DuplicateArticle when one of the article's keys is stored (another process, just
    now), UnknownSource when a `cached` source id names no row; any other refusal as it
    is."""
    try:
        yield
    except sa.exc.IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", "") or ""
        if constraint == KEYS_CONSTRAINT:
            raise DuplicateArticle from None
        if cached and constraint.startswith(SOURCE_CONSTRAINT):
            raise UnknownSource from None
        raise


def _unique(keys: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def _values(writes: ArticleWrites, places: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The bound values, named as `_statement` names them."""
    new, now = writes.new, writes.now
    values: dict[str, Any] = {}
    if writes.story_id is None:
        values |= _named("s", story_row(new, now))
    values |= _named("a", article_row(new, writes.story_id, writes.source_id))
    values |= {f"k{index}": key for index, key in enumerate(_unique(new.identity.keys))}
    values |= {f"b{index}": band for index, band in enumerate(new.bands)}
    for index, (found, first) in enumerate(zip(writes.found, writes.first, strict=True)):
        values |= _named(f"m{index}", match_row(found, None, None, now, first))
        values |= {f"m{index}_p{n}": area for n, area in enumerate(places[index])}
    for index, (_, route) in enumerate(writes.queued):
        values |= _named(f"d{index}", pending_delivery(None, route, now))
    return values


def _named(prefix: str, row: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{column}": value for column, value in row.items()}


# Shapes vary with the matches' place counts and queued deliveries: keep the common ones.
@lru_cache(maxsize=256)
def _statement(
    new_story: bool, keys: int, bands: int, found: int, places: tuple[int, ...],
    queued: tuple[int, ...],
) -> sa.TextClause:
    """The one INSERT for an article of this shape: a new story or not, how many keys,
    bands and matches, each match's places, and the match of each delivery."""
    binds: dict[str, sa.BindParameter[Any]] = {}

    def insert(name: str, table: sa.Table, rows: list[dict[str, str]], tail: str = "") -> str:
        """`name AS (INSERT ...)` of `rows`, each column -> its SQL: ":name" is a value
        bound with the column's type, anything else an expression."""
        for row in rows:
            for column, value in row.items():
                if value.startswith(":"):
                    binds[value[1:]] = sa.bindparam(value[1:], type_=table.c[column].type)
        columns = list(rows[0])
        listed = ", ".join(f'"{column}"' for column in columns)
        values = ", ".join("(" + ", ".join(row[c] for c in columns) + ")" for row in rows)
        return f'{name} AS (INSERT INTO "{table.name}" ({listed}) VALUES {values}{tail})'

    def bound(table: sa.Table, prefix: str, given: dict[str, str]) -> dict[str, str]:
        """The written columns of `table` bound as :prefix_column, but those `given`."""
        return {column: given.get(column, f":{prefix}_{column}")
                for column in _WRITTEN[table.name]}

    parts = []
    if new_story:
        parts.append(insert("s", stories, [bound(stories, "s", {})], " RETURNING id"))
    story = {"story_id": "(SELECT id FROM s)"} if new_story else {}
    parts.append(insert("a", articles, [bound(articles, "a", story)],
                        " RETURNING id, story_id"))
    if keys:
        parts.append(insert("k", article_keys, [
            {"key": f":k{index}", "article_id": _ARTICLE} for index in range(keys)]))
    if bands:
        parts.append(insert("b", story_bands, [
            {"article_id": _ARTICLE, "band_index": str(index), "band_hash": f":b{index}"}
            for index in range(bands)]))
    if found:
        parts.append(insert("m", matches, [
            bound(matches, f"m{index}", {"article_id": _ARTICLE, "story_id": _STORY})
            for index in range(found)], " RETURNING id, rule_id"))
    match_id = "(SELECT id FROM m WHERE rule_id = :m{0}_rule_id)"  # one match per rule
    place_rows = [{"match_id": match_id.format(index), "place_id": f":m{index}_p{n}"}
                  for index, count in enumerate(places) for n in range(count)]
    if place_rows:
        parts.append(insert("p", match_places, place_rows))
    if queued:
        parts.append(insert("d", deliveries, [
            bound(deliveries, f"d{n}", {"match_id": match_id.format(index)})
            for n, index in enumerate(queued)]))
    text = "WITH " + ",\n".join(parts) + "\nSELECT id, story_id FROM a"
    return sa.text(text).bindparams(*binds.values())


# The columns ingest writes, per table (the others keep their defaults).
_WRITTEN = {
    "stories": ("first_seen", "title"),
    "articles": ("external_id", "source_id", "guid", "url", "canonical_url", "content_hash",
                 "title", "body", "published", "fetched", "story_id", "signature"),
    "matches": ("rule_id", "rule_version", "article_id", "story_id", "severity", "spans",
                "snippet", "matched_at", "first_in_story", "rule_title", "query", "context",
                "held", "old_news", "places"),
    "deliveries": ("match_id", "channel", "status", "attempts", "next_attempt", "created"),
}
