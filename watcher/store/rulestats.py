"""What the stored matches say of each rule: how often it fired, how often its matches were
held back and why (the context labels of its `exclude:`), how often its article was old
news, per day, and its recent matches. The workspace's rule pages read these to judge a
rule's precision; nothing here writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from watcher.store.repo import Store
from watcher.store.tables import articles, matches, sources


@dataclass
class Signals:
    """One rule's stored matches in a window: `matches` not held back, `held` by reason (a
    match held by two labels counts for both), `held_total` the held-back matches, and
    `old_news` by reason ('baseline', 'too old')."""

    matches: int = 0
    held_total: int = 0
    held: Counter[str] = field(default_factory=Counter)
    old_news: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class RuleMatch:
    """A stored match as a rule's page lists it; `id` is the article's own id."""

    match_id: int
    story_id: int
    article_id: str
    source: str
    title: str
    url: str | None
    matched_at: datetime
    severity: str
    snippet: str
    held: tuple[str, ...]
    old_news: str | None


class RuleStats:
    def __init__(self, store: Store) -> None:
        self.store = store

    def signals(self, since: datetime, rule_id: str | None = None) -> dict[str, Signals]:
        """Per rule id (only `rule_id` when given), its matches since `since`: one grouped
        query, so the cost does not grow with the number of matches read back."""
        query = (
            sa.select(matches.c.rule_id, matches.c.held, matches.c.old_news,
                      sa.func.count().label("n"))
            .where(matches.c.matched_at >= since)
            .group_by(matches.c.rule_id, matches.c.held, matches.c.old_news)
        )
        if rule_id is not None:
            query = query.where(matches.c.rule_id == rule_id)
        found: dict[str, Signals] = {}
        with self.store.reading() as connection:
            for row in connection.execute(query):
                signals = found.setdefault(row.rule_id, Signals())
                if row.held:
                    signals.held_total += row.n
                    for label in row.held.split(","):
                        signals.held[label] += row.n
                else:
                    signals.matches += row.n
                if row.old_news:
                    signals.old_news[row.old_news] += row.n
        return found

    def per_day(self, rule_id: str, since: datetime) -> dict[str, tuple[int, int]]:
        """(matches, held back) per UTC day (`YYYY-MM-DD`) since `since`, oldest first."""
        day = self._day(matches.c.matched_at).label("day")
        held = sa.case((matches.c.held.is_(None), 0), else_=1)
        query = (
            sa.select(day, sa.func.count().label("n"), sa.func.sum(held).label("held"))
            .where(matches.c.rule_id == rule_id, matches.c.matched_at >= since)
            .group_by(day).order_by(day)
        )
        with self.store.reading() as connection:
            return {row.day: (row.n - int(row.held or 0), int(row.held or 0))
                    for row in connection.execute(query)}

    def recent(self, rule_id: str, *, limit: int, offset: int = 0) -> list[RuleMatch]:
        """The rule's stored matches, held-back ones included, newest first."""
        query = (
            sa.select(matches, articles.c.external_id, articles.c.title, articles.c.url,
                      sources.c.name.label("source_name"))
            .join(articles, matches.c.article_id == articles.c.id)
            .join(sources, articles.c.source_id == sources.c.id)
            .where(matches.c.rule_id == rule_id)
            .order_by(matches.c.matched_at.desc(), matches.c.id.desc())
            .limit(limit).offset(offset)
        )
        with self.store.reading() as connection:
            return [_rule_match(row) for row in connection.execute(query)]

    def articles_since(self, since: datetime | None) -> int:
        """How many articles were stored since `since` (all when None): the workbench says
        so when it reads only the newest of them."""
        query = sa.select(sa.func.count()).select_from(articles)
        if since is not None:
            query = query.where(articles.c.fetched >= since)
        with self.store.reading() as connection:
            return int(connection.execute(query).scalar_one())

    def _day(self, column: Any) -> sa.ColumnElement[str]:
        """A moment's UTC day as text: SQLite stores UTC text, PostgreSQL a timestamptz
        read in the session's zone, so it is turned to UTC first."""
        if self.store.dialect == "postgresql":
            return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
        return sa.func.substr(column, 1, 10)


def _rule_match(row: sa.Row[Any]) -> RuleMatch:
    return RuleMatch(
        match_id=row.id, story_id=row.story_id, article_id=row.external_id,
        source=row.source_name, title=row.title, url=row.url, matched_at=row.matched_at,
        severity=row.severity, snippet=row.snippet,
        held=tuple(row.held.split(",")) if row.held else (), old_news=row.old_news,
    )
