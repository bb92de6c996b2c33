"""Located stories for the map: each story with the places its alerted matches lie at.

Read newest first and bounded (MAX_STORIES), as the inbox is; a story's places are those
of its matches that were not held back (a held-back mention is no news of that place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from watcher.model import MatchPlace, Severity
from watcher.store.db import in_chunks
from watcher.store.locations import places_of
from watcher.store.repo import Store
from watcher.store.tables import matches, stories, story_states

MAX_STORIES = 2000  # a map of more points tells no one anything; the page says when cut


@dataclass(frozen=True)
class LocatedStory:
    id: int
    title: str
    first_seen: datetime
    severity: Severity  # its highest
    status: str
    rules: tuple[str, ...]
    places: tuple[MatchPlace, ...]


class Located:
    def __init__(self, store: Store) -> None:
        self.store = store

    def stories(
        self, story_ids: Sequence[int] | None = None, limit: int = MAX_STORIES
    ) -> list[LocatedStory]:
        """Stories with located, alerted matches, newest first (only `story_ids` when
        given: the inbox's filters choose them)."""
        newest = (
            sa.select(stories.c.id).distinct()
            .join(matches, matches.c.story_id == stories.c.id)
            .where(matches.c.places.is_not(None), matches.c.held.is_(None))
            .order_by(stories.c.id.desc())
            .limit(limit)
        )
        with self.store.reading() as connection:
            if story_ids is None:
                ids = list(connection.scalars(newest))
            else:
                ids = sorted({int(i) for i in story_ids}, reverse=True)[:limit]
            found: dict[int, dict] = {}
            for chunk in in_chunks(ids):
                rows = connection.execute(
                    sa.select(stories.c.id, stories.c.title, stories.c.first_seen,
                              matches.c.rule_id, matches.c.severity, matches.c.places,
                              story_states.c.status)
                    .join(matches, matches.c.story_id == stories.c.id)
                    .outerjoin(story_states, story_states.c.story_id == stories.c.id)
                    .where(stories.c.id.in_(chunk), matches.c.held.is_(None))
                )
                for row in rows:
                    _add(found, row)
        return [_located(found[i]) for i in ids if i in found and found[i]["places"]]


def _add(found: dict[int, dict], row: sa.Row) -> None:
    story = found.setdefault(row.id, {
        "id": row.id, "title": row.title, "first_seen": row.first_seen,
        "severity": Severity.parse(row.severity), "status": row.status or "open",
        "rules": {}, "places": {},
    })
    story["severity"] = max(story["severity"], Severity.parse(row.severity))
    story["rules"][row.rule_id] = None
    for place in places_of(row.places):
        story["places"].setdefault(place.id, place)


def _located(story: dict) -> LocatedStory:
    return LocatedStory(story["id"], story["title"], story["first_seen"], story["severity"],
                        story["status"], tuple(story["rules"]), tuple(story["places"].values()))
