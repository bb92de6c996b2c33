"""Which channels get a match, and when: decided here only, for every article the pipeline
stores.

An article that is old news gets no channel (`old_news`): one found by a source's first poll
(its backlog: the baseline) or published longer ago than `max_age`; it is stored and
matched, and `watcher matches` says why it was not alerted.

A rule's `notify:` channels, else every `default: true` channel; each only from its
`min_severity` up; a digest channel's alert waits for its next boundary. Whether the match is
the first of its rule in its story, and the rule's cooldown, are decided by the store when it
stores the match (they read what earlier articles wrote), so they survive restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from watcher.model import Severity
from watcher.notify.digest import DigestSchedule, next_digest
from watcher.rules.ast import Rule
from watcher.store import Route

BASELINE = "baseline"
TOO_OLD = "too old"


@dataclass(frozen=True)
class Freshness:
    """What tells old news from news for the articles of one ingest: whether they are a
    source's baseline (its first successful poll), and how long ago an article may have
    been published to alert (None: any time). The default, replay's, alerts everything."""

    baseline: bool = False
    max_age: timedelta | None = None


NEWS = Freshness()  # every article is news (replay's default): none is old news


def old_news(published: datetime | None, now: datetime, freshness: Freshness) -> str | None:
    """Why an article published at `published`, ingested at `now`, is not alerted
    (BASELINE, TOO_OLD), or None when it is news. An article without a published time is
    never too old: nothing says it is."""
    if freshness.baseline:
        return BASELINE
    if freshness.max_age is not None and published is not None \
            and now - published > freshness.max_age:
        return TOO_OLD
    return None


class ChannelSettings(Protocol):
    """What routing reads of a configured channel (config.ChannelSettings)."""

    default: bool
    min_severity: Severity
    digest: DigestSchedule | None


@dataclass(frozen=True)
class Routing:
    """The configured channels, and whether alerts are queued at all (`replay --no-notify`
    stores and prints matches but routes them nowhere)."""

    channels: Mapping[str, ChannelSettings] = field(default_factory=dict)
    notify: bool = True

    def routes(
        self, rule: Rule, severity: Severity, now: datetime, *, held: bool = False,
        old: str | None = None,
    ) -> tuple[Route, ...]:
        """The channels that get a match of `rule` at `severity` found at `now`, each with
        when its alert may first be sent. A held-back match (context labels its rule
        excludes, watcher/engine/context.py) and one in an article that is old news (`old`
        says why: `old_news`) are stored and go to no channel."""
        if held or old or not self.notify:
            return ()
        names = channels_for(rule, severity, self.channels)
        return tuple(route_to(name, self.channels[name], now) for name in names)


def channels_for(
    rule: Rule, severity: Severity, channels: Mapping[str, ChannelSettings]
) -> tuple[str, ...]:
    """Channels that get this match: the rule's `notify:`, else the default channels;
    each only if the match reaches its `min_severity`."""
    names = rule.notify or tuple(name for name, ch in channels.items() if ch.default)
    return tuple(n for n in names if n in channels and severity >= channels[n].min_severity)


def route_to(name: str, channel: ChannelSettings, now: datetime) -> Route:
    """A digest channel's alerts wait for its next boundary; others go at once."""
    return Route(name, next_digest(channel.digest, now) if channel.digest else None)
