"""Plain values shared by every stage: Article, Span, Match, MatchPlace, Severity, Alert.

Nothing here imports from the rest of watcher, so every layer can depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Literal

Field = Literal["title", "body"]


class Severity(IntEnum):
    """How urgent a rule's alert is; ordered so channels can filter by `min_severity`."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Severity from its lower-case name; raises ValueError naming the choices."""
        try:
            return cls[text.upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {choices})") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Article:
    """One news article as every source hands it to the pipeline.

    `guid` is an identifier the publisher (or the producer of a JSON line) keeps stable
    across fetches; `id` may instead be positional (seed files), so identity uses `guid`.
    `url_identifies` is False when the source saw its link on other, different articles
    (a feed giving every entry its home page): the link is kept, but two articles sharing
    it are not the same article.
    """

    id: str
    title: str
    body: str
    url: str | None = None
    published: datetime | None = None
    source: str = ""
    guid: str | None = None
    url_identifies: bool = True


@dataclass(frozen=True, order=True)
class Span:
    """Character offsets [start, end) into one field of an article."""

    start: int
    end: int
    field: Field


ContextLabelName = Literal["historical", "ended", "negated", "hypothetical", "boilerplate"]
CONTEXT_LABELS: tuple[ContextLabelName, ...] = (
    "historical", "ended", "negated", "hypothetical", "boilerplate",
)


@dataclass(frozen=True)
class ContextLabel:
    """A label every sentence holding a match's mentions carries (the event is historical,
    ended, negated or hypothetical, or the sentence is page furniture: boilerplate), with
    the article's cue words that decided it."""

    label: ContextLabelName
    cues: tuple[str, ...]


@dataclass(frozen=True)
class PlaceRef:
    """A gazetteer place named by id, name and kind: a located place's parent."""

    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class MatchPlace:
    """A gazetteer place a match names (watcher/engine/locate.py), as it was when matched:
    where it is and what it lies inside (`parents`, nearest first, the country last).
    `latitude`/`longitude` are None where the gazetteer has none."""

    id: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None
    parents: tuple[PlaceRef, ...] = ()

    def area_ids(self) -> tuple[str, ...]:
        """Its own id and its parents': every area it lies in, itself included."""
        return (self.id, *(parent.id for parent in self.parents))


@dataclass(frozen=True)
class Match:
    """A rule that fired on an article, with the occurrences that made it fire and the
    context labels those occurrences carry (watcher/engine/context.py). `held` are the
    labels that hold the match back (the rule's `exclude:`): stored, never alerted.
    `places` are the gazetteer places its spans name, else those its article's title
    names (watcher/engine/locate.py)."""

    rule_id: str
    article_id: str
    title: str
    severity: Severity
    spans: tuple[Span, ...]
    snippet: str
    tags: tuple[str, ...] = field(default=())
    context: tuple[ContextLabel, ...] = field(default=())
    held: tuple[ContextLabelName, ...] = field(default=())
    places: tuple[MatchPlace, ...] = field(default=())


@dataclass(frozen=True)
class Alert:
    """One stored match as a channel is told about it (the store reads it, notify renders it).

    `snippet` marks matched words as `[word]` (as stored); `other_outlets` are the other
    sources that carried the same story, in the order they first did; `context` the
    match's context labels with their cue words (a sent match is never held back);
    `places` the places it is located at (empty for a match stored before places were).
    `article_id`, `story_id` and `spans` (into the stored article) are for watcher's own
    JSON webhook.
    """

    delivery_id: int
    rule_id: str
    rule_title: str
    severity: Severity
    query: str
    article_title: str
    source: str
    url: str | None
    published: datetime | None
    snippet: str
    other_outlets: tuple[str, ...]
    matched_at: datetime
    article_id: str = ""
    story_id: int | None = None
    spans: tuple[Span, ...] = ()
    context: tuple[ContextLabel, ...] = ()
    places: tuple[MatchPlace, ...] = ()
