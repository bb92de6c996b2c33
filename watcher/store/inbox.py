"""The inbox: stories with matches, newest first, a page at a time, each with what a team
triages by (outlets, rules fired, context labels, places, status, assignee).

One query picks the page's stories (keyset pagination on the index of stories'
first_seen and id, never OFFSET); a few IN queries then read the rest for those stories
only, so a page costs the same on 100,000 stored articles as on 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.errors import WorkspaceError
from watcher.model import Severity
from watcher.store.db import in_chunks
from watcher.store.ids import is_id
from watcher.store.repo import Store
from watcher.store.search import story_has_match
from watcher.store.tables import (
    articles,
    match_places,
    matches,
    sources,
    stories,
    story_states,
    users,
)

Status = Literal["open", "acknowledged", "closed"]
STATUSES: tuple[Status, ...] = get_args(Status)
MAX_PAGE = 200
SHOWN_PLACES = 12  # a story's places beyond these are counted, not listed
_CURSOR_TIME = "%Y%m%dT%H%M%S.%f"


@dataclass(frozen=True)
class StoryFilter:
    """What narrows the inbox; every field given must hold. `rules` None: any rule (an
    empty tuple: none, e.g. a tag no rule has). The match conditions (rules, severity,
    place, held) must hold of one and the same match of the story."""

    rules: tuple[str, ...] | None = None
    severity: Severity | None = None  # at least this
    source: str | None = None  # a source that carried the story
    place: str | None = None  # a gazetteer place id: matches located there or inside it
    status: Status | None = None
    since: datetime | None = None  # first seen at or after
    until: datetime | None = None  # first seen before
    q: str | None = None  # words of its articles' titles or bodies
    held: bool = False  # also stories only held-back matches make


@dataclass(frozen=True)
class FiredRule:
    id: str
    title: str
    severity: Severity


@dataclass(frozen=True)
class StoryPlace:
    id: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class InboxStory:
    id: int
    title: str
    first_seen: datetime
    first_outlet: str | None  # the source of its first stored article
    first_outlet_at: datetime | None  # that article's publication time, else when fetched
    outlets: int  # distinct sources of its articles
    articles: int
    rules: tuple[FiredRule, ...]  # highest severity first
    labels: tuple[str, ...]  # the context labels of its matches
    places: tuple[StoryPlace, ...]  # at most SHOWN_PLACES
    status: Status
    assignee: str | None
    more_places: int = 0


@dataclass(frozen=True)
class InboxPage:
    stories: tuple[InboxStory, ...]
    next: str | None  # the cursor of the next page (`before=`), None on the last


@dataclass
class _Extras:
    outlets: int = 0
    articles: int = 0
    first_outlet: str | None = None
    first_outlet_at: datetime | None = None
    rules: dict[str, FiredRule] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    places: dict[str, StoryPlace] = field(default_factory=dict)


class Inbox:
    """The inbox's queries over the store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def stories(
        self, story_filter: StoryFilter, limit: int = 50, before: str | None = None
    ) -> InboxPage:
        """A page of at most `limit` stories, newest first; `before` is the `next` cursor
        of the page before (a bad one is a WorkspaceError)."""
        limit = max(1, min(limit, MAX_PAGE))
        with self.store.reading() as connection:
            query = _page_query(connection, story_filter, before).limit(limit + 1)
            rows = connection.execute(query).all()
            more = len(rows) > limit
            rows = rows[:limit]
            extras = _extras(connection, [row.id for row in rows], story_filter.held)
        page = tuple(_story(row, extras.get(row.id, _Extras())) for row in rows)
        return InboxPage(page, cursor(rows[-1].first_seen, rows[-1].id) if more else None)

    def located_story_ids(self, story_filter: StoryFilter, limit: int) -> list[int]:
        """The ids of the newest `limit` stories the filter keeps that have a located
        match not held back: the ones the map can draw."""
        located = sa.exists().where(  # match_places has rows only for a located match
            matches.c.story_id == stories.c.id, matches.c.held.is_(None),
            match_places.c.match_id == matches.c.id)
        with self.store.reading() as connection:
            query = _page_query(connection, story_filter, None).where(located).limit(limit)
            return [row.id for row in connection.execute(query)]

    def source_names(self, limit: int = 500) -> list[str]:
        """Sources by name, for the filter's choices."""
        query = sa.select(sources.c.name).order_by(sources.c.name).limit(limit)
        with self.store.reading() as connection:
            return list(connection.scalars(query))


def _page_query(connection: Connection, wanted: StoryFilter, before: str | None) -> sa.Select[Any]:
    """The page's stories, newest first, with their triage state: the one query that
    reads beyond the page (through indexes: first_seen, the matches of a story, a place)."""
    assignee = users.alias("assignee")
    query = (
        sa.select(stories.c.id, stories.c.title, stories.c.first_seen,
                  story_states.c.status, assignee.c.name.label("assignee"))
        .select_from(
            stories.outerjoin(story_states, story_states.c.story_id == stories.c.id)
            .outerjoin(assignee, assignee.c.id == story_states.c.assignee_id))
        .where(sa.exists().where(*_match_conditions(wanted)))
        .order_by(stories.c.first_seen.desc(), stories.c.id.desc())
    )
    if wanted.status == "open":  # no row is open
        query = query.where(sa.or_(story_states.c.status.is_(None),
                                   story_states.c.status == "open"))
    elif wanted.status is not None:
        query = query.where(story_states.c.status == wanted.status)
    if wanted.since is not None:
        query = query.where(stories.c.first_seen >= wanted.since)
    if wanted.until is not None:
        query = query.where(stories.c.first_seen < wanted.until)
    if wanted.source is not None:
        carried = (sa.select(articles.c.story_id)
                   .join(sources, sources.c.id == articles.c.source_id)
                   .where(sources.c.name == wanted.source))
        query = query.where(stories.c.id.in_(carried))
    if wanted.q:
        found = story_has_match(connection, wanted.q)
        if found is not None:
            query = query.where(found)
    if before is not None:
        moment, story_id = parse_cursor(before)
        query = query.where(sa.or_(
            stories.c.first_seen < moment,
            sa.and_(stories.c.first_seen == moment, stories.c.id < story_id)))
    return query


def _match_conditions(wanted: StoryFilter) -> list[sa.ColumnElement[bool]]:
    """What one match of the story must be (the EXISTS of the page query)."""
    conditions = [matches.c.story_id == stories.c.id]
    if not wanted.held:
        conditions.append(matches.c.held.is_(None))
    if wanted.rules is not None:
        conditions.append(matches.c.rule_id.in_(wanted.rules) if wanted.rules else sa.false())
    if wanted.severity is not None:
        conditions.append(matches.c.severity.in_(
            [str(s) for s in Severity if s >= wanted.severity]))
    if wanted.place is not None:  # every area a match lies in has its row
        located = sa.select(match_places.c.match_id).where(match_places.c.place_id == wanted.place)
        conditions.append(matches.c.id.in_(located))
    return conditions


def cursor(first_seen: datetime, story_id: int) -> str:
    """The position after a story in the inbox's order, as `before=` takes it."""
    return f"{first_seen.astimezone(UTC).strftime(_CURSOR_TIME)}_{story_id}"


def parse_cursor(text: str) -> tuple[datetime, int]:
    """`cursor`'s moment and story id; WorkspaceError for anything else, a story id out of
    the ids' range too (the database would fail on it rather than find nothing)."""
    moment, _, story_id = text.partition("_")
    try:
        parsed = datetime.strptime(moment, _CURSOR_TIME).replace(tzinfo=UTC), int(story_id)
    except ValueError:
        parsed = None
    if parsed is None or not is_id(parsed[1]):
        raise WorkspaceError(f"bad page cursor {text[:40]!r}: follow the next-page link")
    return parsed


def _extras(connection: Connection, ids: Sequence[int], held: bool) -> dict[int, _Extras]:
    """Outlets, counts, first outlet, rules, labels and places of these stories only."""
    found: dict[int, _Extras] = {story_id: _Extras() for story_id in ids}
    for chunk in in_chunks(list(ids)):
        _read_counts(connection, chunk, found)
        _read_first_outlets(connection, chunk, found)
        _read_matches(connection, chunk, held, found)
    return found


def _read_counts(connection: Connection, ids: Sequence[int], found: dict[int, _Extras]) -> None:
    query = (
        sa.select(articles.c.story_id, sa.func.count(sa.distinct(articles.c.source_id)),
                  sa.func.count())
        .where(articles.c.story_id.in_(ids))
        .group_by(articles.c.story_id)
    )
    for story_id, outlets, count in connection.execute(query):
        found[story_id].outlets, found[story_id].articles = outlets, count


def _read_first_outlets(
    connection: Connection, ids: Sequence[int], found: dict[int, _Extras]
) -> None:
    first = (
        sa.select(sa.func.min(articles.c.id).label("article_id"))
        .where(articles.c.story_id.in_(ids))
        .group_by(articles.c.story_id)
        .subquery()
    )
    query = (
        sa.select(articles.c.story_id, sources.c.name, articles.c.published, articles.c.fetched)
        .join(first, first.c.article_id == articles.c.id)
        .join(sources, sources.c.id == articles.c.source_id)
    )
    for story_id, name, published, fetched in connection.execute(query):
        found[story_id].first_outlet = name
        found[story_id].first_outlet_at = published or fetched


def _read_matches(
    connection: Connection, ids: Sequence[int], held: bool, found: dict[int, _Extras]
) -> None:
    query = (
        sa.select(matches.c.story_id, matches.c.rule_id, matches.c.rule_title,
                  matches.c.severity, matches.c.context, matches.c.places)
        .where(matches.c.story_id.in_(ids))
        .order_by(matches.c.id)
    )
    if not held:
        query = query.where(matches.c.held.is_(None))
    for row in connection.execute(query):
        extras = found[row.story_id]
        severity = Severity.parse(row.severity)
        known = extras.rules.get(row.rule_id)
        if known is None or severity > known.severity:
            extras.rules[row.rule_id] = FiredRule(
                row.rule_id, row.rule_title or row.rule_id, severity)
        extras.labels.update(label for label, _cues in row.context or ())
        for place in row.places or ():
            extras.places.setdefault(place["id"], StoryPlace(
                place["id"], place["name"], place["kind"], place["latitude"],
                place["longitude"]))


def _story(row: sa.Row[Any], extras: _Extras) -> InboxStory:
    rules = sorted(extras.rules.values(), key=lambda r: (-r.severity, r.id))
    places = list(extras.places.values())
    return InboxStory(
        id=row.id,
        title=row.title,
        first_seen=row.first_seen,
        first_outlet=extras.first_outlet,
        first_outlet_at=extras.first_outlet_at,
        outlets=extras.outlets,
        articles=extras.articles,
        rules=tuple(rules),
        labels=tuple(sorted(extras.labels)),
        places=tuple(places[:SHOWN_PLACES]),
        status=row.status or "open",
        assignee=row.assignee,
        more_places=max(0, len(places) - SHOWN_PLACES),
    )
