"""The alerts an Atom feed lists (watcher/web/feeds.py): the newest matches that were
alerted, that is neither held back by their context nor old news, with their article."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from watcher.store.repo import Store
from watcher.store.tables import articles, matches, sources

MAX_ALERTS = 200  # whatever a caller asks, one feed is read in one small query


@dataclass(frozen=True)
class FeedAlert:
    """One alerted match; `rule_title` is the rule's title when it fired (None for a match
    stored before titles were kept), `article_url` the article's link as the feed gave it."""

    match_id: int
    rule_id: str
    rule_title: str | None
    severity: str
    snippet: str
    matched_at: datetime
    story_id: int
    article_title: str
    article_url: str | None
    published: datetime | None
    source: str


class AlertFeed:
    def __init__(self, store: Store) -> None:
        self.store = store

    def recent(self, rule_ids: Collection[str] | None = None, limit: int = 50) -> list[FeedAlert]:
        """The newest alerted matches, newest first; only those of `rule_ids` when given
        (an empty collection gives none)."""
        query = (
            sa.select(matches, articles.c.title.label("article_title"),
                      articles.c.url.label("article_url"), articles.c.published,
                      sources.c.name.label("source_name"))
            .join(articles, matches.c.article_id == articles.c.id)
            .join(sources, articles.c.source_id == sources.c.id)
            .where(matches.c.held.is_(None), matches.c.old_news.is_(None))
            .order_by(matches.c.matched_at.desc(), matches.c.id.desc())
            .limit(max(0, min(limit, MAX_ALERTS)))
        )
        if rule_ids is not None:
            if not rule_ids:
                return []
            query = query.where(matches.c.rule_id.in_(sorted(rule_ids)))
        with self.store.reading() as connection:
            return [_alert(row) for row in connection.execute(query)]


def _alert(row: sa.Row[Any]) -> FeedAlert:
    return FeedAlert(
        match_id=row.id, rule_id=row.rule_id, rule_title=row.rule_title,
        severity=row.severity, snippet=row.snippet, matched_at=row.matched_at,
        story_id=row.story_id, article_title=row.article_title, article_url=row.article_url,
        published=row.published, source=row.source_name,
    )
