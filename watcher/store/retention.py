"""Retention: articles fetched before a moment are removed with everything hanging off them,
a bounded batch per transaction, except what an alert, a team or the store's ids still need.

An article goes with its identity keys, LSH bands, matches, their places and their
deliveries (sent, dead or silenced), and its full-text search entry (SQLite's triggers;
PostgreSQL's index follows the rows); a story goes once it has no article left, with its
closed triage state and comments (the audit log keeps what was done to it). Kept, however
old (docs/storage.md, "Retention"):

- an article with a delivery still pending (queued, retrying, waiting for its digest):
  an alert is never lost;
- every article of a story a person triages and has not closed (a state row that is not
  `closed`, or comments on a story nobody acknowledged): the team's work stays whole;
- the article holding the newest row of `articles`, `stories`, `matches`, `deliveries` and
  `story_comments`: SQLite gives a new row the highest id plus one, so deleting the highest
  would hand its id (story 12 of an inbox link, an audit entry) to the next row.

Each batch is one write transaction, so a prune killed at any moment leaves whole articles,
and running it again goes on; on PostgreSQL it takes the ingest lock alone (every ingest
holds it shared), so a story is never deleted under an article joining it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from watcher.store.db import in_chunks, read_transaction, write_transaction
from watcher.store.ingest import lock_out_ingests
from watcher.store.tables import (
    article_keys,
    articles,
    deliveries,
    match_places,
    matches,
    stories,
    story_bands,
    story_comments,
    story_states,
)

PRUNE_BATCH = 500  # articles looked at per transaction: the write lock is held briefly
PG_PRUNE_LOCK = 0x77617470  # one prune at a time per database (other than the ingest lock)
# What the report counts, in the order rows are removed (foreign keys point up this list).
TABLES = ("match_places", "deliveries", "matches", "article_keys", "story_bands", "articles",
          "story_comments", "story_states", "stories")
KEPT_REASONS = ("pending_alert", "open_triage", "newest_row")


@dataclass
class PruneReport:
    """What a prune removed (rows per table; a dry run: would remove) and how many articles
    older than `before` it kept, per reason. `busy`: another process was pruning; nothing
    was done."""

    before: datetime
    dry_run: bool
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    kept: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KEPT_REASONS, 0))
    batches: int = 0
    busy: bool = False


def prune(
    engine: Engine, before: datetime, *, dry_run: bool = False, batch: int = PRUNE_BATCH,
    after_batch: Callable[[PruneReport], None] | None = None,
) -> PruneReport:
    """Remove (or with `dry_run` only count) what articles fetched before `before` leave
    behind, `batch` articles at a time, oldest fetched first; `after_batch` is told after
    each batch is committed."""
    report = PruneReport(before, dry_run)
    with _one_prune_at_a_time(engine, dry_run) as alone:
        if not alone:
            report.busy = True
            return report
        doomed_per_story: Counter[int] = Counter()
        cursor: tuple[datetime, int] | None = None
        while True:
            transaction = read_transaction(engine) if dry_run else write_transaction(engine)
            with transaction as connection:
                old = _old_articles(connection, before, cursor, batch, writes=not dry_run)
                if old:
                    doomed = _sort_out(connection, old, report)
                    _remove(connection, doomed, report, doomed_per_story)
            if not old:
                break
            report.batches += 1
            cursor = (old[-1].fetched, old[-1].id)
            if after_batch is not None:
                after_batch(report)
            if len(old) < batch:
                break
        if dry_run:
            with read_transaction(engine) as connection:
                _count_emptied_stories(connection, doomed_per_story, report)
    return report


@contextmanager
def _one_prune_at_a_time(engine: Engine, dry_run: bool) -> Iterator[bool]:
    """On PostgreSQL, a session lock held for the whole prune: several workers' daily
    timers then prune once between them (the others find it taken and skip). SQLite needs
    none: each batch holds the write lock, and a batch finds nothing a former one removed.
    A dry run changes nothing and takes no lock."""
    if dry_run or engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        taken = bool(connection.scalar(sa.text(f"SELECT pg_try_advisory_lock({PG_PRUNE_LOCK})")))
        connection.commit()  # a session lock: it outlives the transaction, not the connection
        try:
            yield taken
        finally:
            if taken:
                connection.execute(sa.text(f"SELECT pg_advisory_unlock({PG_PRUNE_LOCK})"))
                connection.commit()


def _old_articles(
    connection: Connection, before: datetime, cursor: tuple[datetime, int] | None, batch: int,
    *, writes: bool,
) -> list[sa.Row[Any]]:
    """The next `batch` articles fetched before `before`, after `cursor` in (fetched, id)
    order: kept ones are passed over, not looked at again by each batch."""
    if writes:  # ingests and a batch take turns (on PostgreSQL; SQLite has one writer)
        lock_out_ingests(connection)
    query = sa.select(articles.c.id, articles.c.fetched, articles.c.story_id).where(
        articles.c.fetched < before)
    if cursor is not None:
        fetched, article_id = cursor
        query = query.where(sa.or_(
            articles.c.fetched > fetched,
            sa.and_(articles.c.fetched == fetched, articles.c.id > article_id),
        ))
    return list(connection.execute(query.order_by(articles.c.fetched, articles.c.id)
                                   .limit(batch)))


def _sort_out(
    connection: Connection, old: Sequence[sa.Row[Any]], report: PruneReport
) -> list[tuple[int, int]]:
    """The old articles that may go, as (id, story id); those kept are counted by reason."""
    story_ids = sorted({row.story_id for row in old})
    if not report.dry_run:
        # PostgreSQL: the stories' rows first, so a triage change in progress is seen once
        # committed (triage locks them too); SQLite's write lock already excludes it.
        connection.execute(sa.select(stories.c.id).where(stories.c.id.in_(story_ids))
                           .with_for_update())
    pending = _with_pending_alert(connection, [row.id for row in old])
    triaged = _under_triage(connection, story_ids)
    newest_articles, newest_stories = _newest_rows(connection)
    doomed = []
    for row in old:
        if row.id in pending:
            report.kept["pending_alert"] += 1
        elif row.story_id in triaged:
            report.kept["open_triage"] += 1
        elif row.id in newest_articles or row.story_id in newest_stories:
            report.kept["newest_row"] += 1
        else:
            doomed.append((row.id, row.story_id))
    return doomed


def _with_pending_alert(connection: Connection, article_ids: list[int]) -> set[int]:
    query = (
        sa.select(matches.c.article_id).distinct()
        .join(deliveries, deliveries.c.match_id == matches.c.id)
        .where(matches.c.article_id.in_(article_ids), deliveries.c.status == "pending")
    )
    return set(connection.scalars(query))


def _under_triage(connection: Connection, story_ids: list[int]) -> set[int]:
    """Stories a person works on: a triage state other than closed, or comments on a story
    nobody has set a state on (it is open)."""
    stated = sa.select(story_states.c.story_id, story_states.c.status).where(
        story_states.c.story_id.in_(story_ids))
    status = {row.story_id: row.status for row in connection.execute(stated)}
    commented = sa.select(story_comments.c.story_id).distinct().where(
        story_comments.c.story_id.in_(story_ids))
    return ({story for story, state in status.items() if state != "closed"}
            | {story for story in connection.scalars(commented) if story not in status})


def _newest_rows(connection: Connection) -> tuple[set[int], set[int]]:
    """The articles and stories holding the highest id of a table, which must stay so SQLite
    never gives their ids to new rows (PostgreSQL's sequences never would; kept alike)."""
    newest_match = sa.select(sa.func.max(matches.c.id)).scalar_subquery()
    newest_delivery = sa.select(sa.func.max(deliveries.c.id)).scalar_subquery()
    delivery_match = sa.select(deliveries.c.match_id).where(
        deliveries.c.id == newest_delivery).scalar_subquery()
    article_ids = {
        connection.scalar(sa.select(sa.func.max(articles.c.id))),
        connection.scalar(sa.select(matches.c.article_id).where(matches.c.id == newest_match)),
        connection.scalar(sa.select(matches.c.article_id).where(matches.c.id == delivery_match)),
    }
    newest_comment = sa.select(sa.func.max(story_comments.c.id)).scalar_subquery()
    story_ids = {
        connection.scalar(sa.select(sa.func.max(stories.c.id))),
        connection.scalar(sa.select(story_comments.c.story_id)
                          .where(story_comments.c.id == newest_comment)),
    }
    return article_ids - {None}, story_ids - {None}


def _remove(
    connection: Connection, doomed: list[tuple[int, int]], report: PruneReport,
    doomed_per_story: Counter[int],
) -> None:
    """Delete (a dry run: count) the doomed articles' rows, children first, then the stories
    they leave empty (a dry run counts those once every batch is seen)."""
    article_ids = [article for article, _ in doomed]
    if not article_ids:
        return
    match_ids = list(connection.scalars(
        sa.select(matches.c.id).where(matches.c.article_id.in_(article_ids))))
    rows = report.removed
    for chunk in in_chunks(match_ids):
        rows["match_places"] += _rows(connection, match_places, match_places.c.match_id, chunk,
                                      report.dry_run)
        rows["deliveries"] += _rows(connection, deliveries, deliveries.c.match_id, chunk,
                                    report.dry_run)
        rows["matches"] += _rows(connection, matches, matches.c.id, chunk, report.dry_run)
    rows["article_keys"] += _rows(connection, article_keys, article_keys.c.article_id,
                                  article_ids, report.dry_run)
    rows["story_bands"] += _rows(connection, story_bands, story_bands.c.article_id,
                                 article_ids, report.dry_run)
    rows["articles"] += _rows(connection, articles, articles.c.id, article_ids, report.dry_run)
    if report.dry_run:
        doomed_per_story.update(story for _, story in doomed)
        return
    left = sa.select(articles.c.id).where(articles.c.story_id == stories.c.id)
    empty = list(connection.scalars(sa.select(stories.c.id).where(
        stories.c.id.in_(sorted({story for _, story in doomed})), ~sa.exists(left))))
    _remove_stories(connection, empty, report)


def _remove_stories(connection: Connection, story_ids: list[int], report: PruneReport) -> None:
    rows, dry_run = report.removed, report.dry_run
    for chunk in in_chunks(story_ids):
        rows["story_comments"] += _rows(connection, story_comments, story_comments.c.story_id,
                                        chunk, dry_run)
        rows["story_states"] += _rows(connection, story_states, story_states.c.story_id, chunk,
                                      dry_run)
        rows["stories"] += _rows(connection, stories, stories.c.id, chunk, dry_run)


def _count_emptied_stories(
    connection: Connection, doomed_per_story: Counter[int], report: PruneReport
) -> None:
    """A dry run's stories: those every article of which would go."""
    emptied = []
    for chunk in in_chunks(sorted(doomed_per_story)):
        per_story = connection.execute(
            sa.select(articles.c.story_id, sa.func.count()).where(articles.c.story_id.in_(chunk))
            .group_by(articles.c.story_id))
        emptied += [story for story, total in per_story if total == doomed_per_story[story]]
    _remove_stories(connection, emptied, report)


def _rows(
    connection: Connection, table: sa.Table, column: sa.Column[int], ids: Sequence[int],
    dry_run: bool,
) -> int:
    """Delete the rows whose `column` is in `ids`, or only count them: one condition for
    both, so a dry run counts what a prune removes."""
    if not ids:
        return 0
    condition = column.in_(list(ids))
    if dry_run:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(table)
                                     .where(condition)) or 0)
    return int(connection.execute(sa.delete(table).where(condition)).rowcount)
