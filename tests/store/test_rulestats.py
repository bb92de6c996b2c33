"""What the stored matches say of each rule (the workspace's rule pages), on SQLite and
PostgreSQL: counts per day differ in SQL between the two, and must not in answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.store.builders import new_article, new_match, new_story
from watcher.store import Store
from watcher.store.rulestats import RuleStats

LATE = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # half an hour before a UTC midnight


def _store(store: Store, article_id: str, rule_id: str, at: datetime, *,
           held: tuple[str, ...] = (), old_news: str | None = None) -> None:
    new = new_article(article_id, fetched=at)
    found = new_match(new, rule_id)
    found = replace(found, match=replace(found.match, held=held), old_news=old_news)
    assert store.ingest(new, [found], new_story, at).stored


def test_signals_per_day_and_recent_matches_of_a_rule(any_store: Store) -> None:
    _store(any_store, "long-ago", "siege", LATE - timedelta(days=40))
    _store(any_store, "a", "siege", LATE)
    _store(any_store, "b", "siege", LATE + timedelta(hours=1), held=("historical", "negated"))
    _store(any_store, "c", "siege", LATE + timedelta(hours=2), held=("historical",))
    _store(any_store, "d", "siege", LATE + timedelta(hours=3), old_news="baseline")
    _store(any_store, "e", "clashes", LATE)
    stats = RuleStats(any_store)
    since = LATE - timedelta(days=30)

    signals = stats.signals(since)
    siege = signals["siege"]
    assert (siege.matches, siege.held_total) == (2, 2)
    assert siege.held == {"historical": 2, "negated": 1}
    assert siege.old_news == {"baseline": 1}
    assert signals["clashes"].matches == 1 and set(stats.signals(since, "siege")) == {"siege"}

    # The UTC day of each match, whatever the database session's zone.
    assert stats.per_day("siege", since) == {"2026-11-24": (1, 0), "2026-11-25": (1, 2)}

    recent = stats.recent("siege", limit=2)
    assert [m.article_id for m in recent] == ["d", "c"]
    assert recent[1].held == ("historical",) and recent[0].old_news == "baseline"
    assert [m.article_id for m in stats.recent("siege", limit=10, offset=2)] == [
        "b", "a", "long-ago"]
    assert stats.articles_since(since) == 5 and stats.articles_since(None) == 6
