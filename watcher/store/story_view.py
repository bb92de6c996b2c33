"""One story as its page shows it: every outlet's copy, the matches of its articles and the
deliveries they queued, and its triage state. Read in one transaction, so the page never
mixes two moments of a story that a worker is adding to.

Every list is bounded (a story may gather hundreds of copies): the page says how many more
there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.model import Article, ContextLabel, MatchPlace, Severity, Span
from watcher.store.locations import places_of
from watcher.store.repo import Store
from watcher.store.tables import (
    articles,
    deliveries,
    matches,
    sources,
    stories,
    story_states,
    users,
)

MAX_COPIES = 200
MAX_MATCHES = 200
MAX_DELIVERIES = 500


@dataclass(frozen=True)
class StoryCopy:
    """An outlet's copy of the story: `row` is the stored article's row id, `id` its own."""

    row: int
    id: str
    source: str
    title: str
    url: str | None
    published: datetime | None
    fetched: datetime


@dataclass(frozen=True)
class StoryMatch:
    """A rule that fired on one of the story's articles, as it was stored: its snippet with
    `[word]` marks (watcher/marks.py), context labels with cues, the labels that held it
    back, why it was old news, its places; `rule_title` and `query` as the rule was then."""

    row: int
    rule_id: str
    rule_title: str | None
    query: str | None
    article_row: int
    article_id: str
    source: str
    severity: Severity
    snippet: str
    spans: tuple[Span, ...]
    context: tuple[ContextLabel, ...]
    held: tuple[str, ...]
    old_news: str | None
    places: tuple[MatchPlace, ...]
    matched_at: datetime


@dataclass(frozen=True)
class StoryDelivery:
    """An alert of one of the story's matches to one channel, and how it fared."""

    channel: str
    status: str  # pending | sent | dead | silenced
    rule_id: str
    article_id: str
    attempts: int
    created: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class StoryView:
    """Everything the story page shows; the `*_total` counts say how many there are in all
    when the lists stop at their bound. A story without triage is `open`."""

    id: int
    title: str
    first_seen: datetime
    status: str
    assignee: str | None
    copies: tuple[StoryCopy, ...]
    copies_total: int
    matches: tuple[StoryMatch, ...]
    matches_total: int
    deliveries: tuple[StoryDelivery, ...]
    deliveries_total: int

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules that fired in the story, each once, in the order shown."""
        return tuple(dict.fromkeys(match.rule_id for match in self.matches))


class StoryViews:
    """Stories read for their page and the API."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def story(self, story_id: int) -> StoryView | None:
        """The story with its copies, matches and deliveries; None when there is no such."""
        with self.store.reading() as connection:
            head = connection.execute(
                sa.select(stories.c.title, stories.c.first_seen, story_states.c.status,
                          users.c.name.label("assignee"))
                .outerjoin(story_states, story_states.c.story_id == stories.c.id)
                .outerjoin(users, users.c.id == story_states.c.assignee_id)
                .where(stories.c.id == story_id)
            ).first()
            if head is None:
                return None
            copies, copies_total = _copies(connection, story_id)
            found, matches_total = _matches(connection, story_id)
            sent, deliveries_total = _deliveries(connection, story_id)
        return StoryView(
            story_id, head.title, head.first_seen, head.status or "open", head.assignee,
            copies, copies_total, found, matches_total, sent, deliveries_total,
        )

    def texts(self, article_rows: list[int]) -> dict[int, Article]:
        """The stored articles by row id, as ingest matched them (what explain reads)."""
        if not article_rows:
            return {}
        with self.store.reading() as connection:
            rows = connection.execute(
                sa.select(articles, sources.c.name.label("source_name"))
                .join(sources, articles.c.source_id == sources.c.id)
                .where(articles.c.id.in_(article_rows))
            )
            return {
                row.id: Article(id=row.external_id, title=row.title, body=row.body, url=row.url,
                                published=row.published, source=row.source_name, guid=row.guid)
                for row in rows
            }


def _count(connection: Connection, query: sa.Select[Any]) -> int:
    return int(connection.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def _copies(connection: Connection, story_id: int) -> tuple[tuple[StoryCopy, ...], int]:
    """The story's articles in the order they were stored (the first outlet first)."""
    query = (
        sa.select(articles.c.id, articles.c.external_id, articles.c.title, articles.c.url,
                  articles.c.published, articles.c.fetched, sources.c.name.label("source"))
        .join(sources, articles.c.source_id == sources.c.id)
        .where(articles.c.story_id == story_id)
    )
    rows = connection.execute(
        query.order_by(articles.c.fetched, articles.c.id).limit(MAX_COPIES)).all()
    total = len(rows) if len(rows) < MAX_COPIES else _count(connection, query)
    return tuple(
        StoryCopy(row.id, row.external_id, row.source, row.title, row.url, row.published,
                  row.fetched)
        for row in rows
    ), total


def _matches(connection: Connection, story_id: int) -> tuple[tuple[StoryMatch, ...], int]:
    """The story's matches, held-back and old-news ones too, first matched first."""
    query = (
        sa.select(matches, articles.c.external_id, sources.c.name.label("source"))
        .join(articles, matches.c.article_id == articles.c.id)
        .join(sources, articles.c.source_id == sources.c.id)
        .where(matches.c.story_id == story_id)
    )
    rows = connection.execute(
        query.order_by(matches.c.matched_at, matches.c.id).limit(MAX_MATCHES)).all()
    total = len(rows) if len(rows) < MAX_MATCHES else _count(connection, query)
    return tuple(_story_match(row) for row in rows), total


def _story_match(row: sa.Row[Any]) -> StoryMatch:
    return StoryMatch(
        row=row.id, rule_id=row.rule_id, rule_title=row.rule_title, query=row.query,
        article_row=row.article_id, article_id=row.external_id, source=row.source,
        severity=Severity.parse(row.severity), snippet=row.snippet,
        spans=tuple(Span(start, end, field) for start, end, field in row.spans),
        context=tuple(ContextLabel(label, tuple(cues)) for label, cues in row.context or ()),
        held=tuple(row.held.split(",")) if row.held else (),
        old_news=row.old_news, places=places_of(row.places), matched_at=row.matched_at,
    )


def _deliveries(
    connection: Connection, story_id: int
) -> tuple[tuple[StoryDelivery, ...], int]:
    """The alerts of the story's matches, by channel, then in the order they were queued."""
    query = (
        sa.select(deliveries, matches.c.rule_id, articles.c.external_id)
        .join(matches, deliveries.c.match_id == matches.c.id)
        .join(articles, matches.c.article_id == articles.c.id)
        .where(matches.c.story_id == story_id)
    )
    rows = connection.execute(
        query.order_by(deliveries.c.channel, deliveries.c.created, deliveries.c.id)
        .limit(MAX_DELIVERIES)).all()
    total = len(rows) if len(rows) < MAX_DELIVERIES else _count(connection, query)
    return tuple(
        StoryDelivery(row.channel, row.status, row.rule_id, row.external_id, row.attempts,
                      row.created, row.sent_at, row.last_error)
        for row in rows
    ), total
