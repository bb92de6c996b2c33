"""Prometheus metrics of `watcher run`: polls, 304s, errors, new articles, matches, queue depth,
seconds since each source's last success, rule reloads; prometheus_client lives here only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Literal, get_args

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("watcher.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST  # of exposition(), so servers need not import prometheus_client

PollOutcome = Literal["ok", "not_modified", "error", "gone", "skipped"]
POLL_OUTCOMES: tuple[PollOutcome, ...] = get_args(PollOutcome)
FAILED_OUTCOMES = frozenset({"error", "gone"})  # what watcher_fetch_errors_total counts
DELIVERY_OUTCOMES = ("sent", "retrying", "dead", "silenced")
# Feed fetches take tenths of a second; full-text fetches and slow hosts take tens.
POLL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

QueueDepth = Callable[[], int]
LastSuccesses = Callable[[], Mapping[str, datetime | None]]
Clock = Callable[[], datetime]


class Metrics:
    """Every metric of the daemon in a registry of its own, so instances never share counts.

    Counters are bumped by the daemon through the methods below; the queue depth and the
    age of each source's last success are read from the callables at scrape time, so they
    are never stale. A source that never succeeded reports +Inf (an alert on
    `watcher_seconds_since_last_success > N` then fires for it too); a callable that raises
    costs only its own samples (queue depth NaN, ages absent), never the scrape.

    queue_depth: pending alert deliveries.
    last_successes: each source's last successful poll, None when it never succeeded.
    now: the clock those ages are measured against (aware if the times are aware).
    sources: names whose per-source counters start at 0 instead of at their first use,
        so `rate()` and `increase()` see the first poll (default: none).
    """

    def __init__(
        self,
        *,
        queue_depth: QueueDepth,
        last_successes: LastSuccesses,
        now: Clock,
        sources: Iterable[str] = (),
    ) -> None:
        self.registry = CollectorRegistry()
        self._define_counters()
        self._rules_loaded = Gauge(
            "watcher_rules_loaded", "Rules in the rule set now in use.", registry=self.registry
        )
        self._poll_seconds = Histogram(
            "watcher_poll_seconds", "Duration of one poll of a source.", ["source"],
            buckets=POLL_BUCKETS, registry=self.registry,
        )
        self.registry.register(_ScrapeTimeCollector(queue_depth, last_successes, now))
        for source in sources:
            self._start_at_zero(source)

    def _define_counters(self) -> None:
        def counter(name: str, help_text: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, help_text, labels, registry=self.registry)

        self._polls = counter(
            "watcher_polls", "Polls of a source, by outcome.", ("source", "outcome")
        )
        self._fetch_errors = counter(
            "watcher_fetch_errors", "Polls that failed (outcome error or gone).", ("source",)
        )
        self._not_modified = counter(
            "watcher_not_modified", "Polls answered 304 Not Modified.", ("source",)
        )
        self._new_articles = counter(
            "watcher_new_articles", "Articles stored that were not known before.", ("source",)
        )
        self._matches = counter("watcher_matches", "New matches of a rule.", ("rule",))
        self._reload_errors = counter(
            "watcher_rule_reload_errors", "Rule reloads refused; the previous rules stay in use."
        )
        self._deliveries = counter(
            "watcher_deliveries",
            "Alert deliveries attempted, by outcome (sent, retrying, dead, silenced).",
            ("outcome",),
        )
        for outcome in DELIVERY_OUTCOMES:
            self._deliveries.labels(outcome=outcome)

    def _start_at_zero(self, source: str) -> None:
        for outcome in POLL_OUTCOMES:
            self._polls.labels(source=source, outcome=outcome)
        for per_source in (self._fetch_errors, self._not_modified, self._new_articles):
            per_source.labels(source=source)
        self._poll_seconds.labels(source=source)

    def poll_finished(self, source: str, outcome: PollOutcome, seconds: float) -> None:
        """Count one poll of `source` and how long it took; ValueError for an unknown outcome."""
        if outcome not in POLL_OUTCOMES:
            raise ValueError(f"unknown poll outcome {outcome!r}; expected one of {POLL_OUTCOMES}")
        self._polls.labels(source=source, outcome=outcome).inc()
        self._poll_seconds.labels(source=source).observe(seconds)
        if outcome in FAILED_OUTCOMES:
            self._fetch_errors.labels(source=source).inc()
        elif outcome == "not_modified":
            self._not_modified.labels(source=source).inc()

    def articles_stored(self, source: str, count: int) -> None:
        """Count articles from `source` that were new to the store."""
        self._new_articles.labels(source=source).inc(count)

    def matched(self, rule_id: str) -> None:
        """Count one new match of a rule."""
        self._matches.labels(rule=rule_id).inc()

    def rules_loaded(self, count: int) -> None:
        """Record the size of the rule set just (re)loaded."""
        self._rules_loaded.set(count)

    def reload_failed(self) -> None:
        """Count a rule reload that was refused (the old rules stay in use)."""
        self._reload_errors.inc()

    def deliveries_attempted(
        self, sent: int, retrying: int, dead: int, silenced: int = 0
    ) -> None:
        """Count what one outbox drain did with its deliveries."""
        counts = (sent, retrying, dead, silenced)
        for outcome, count in zip(DELIVERY_OUTCOMES, counts, strict=True):
            self._deliveries.labels(outcome=outcome).inc(count)

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format (serve with CONTENT_TYPE)."""
        return generate_latest(self.registry)


class _ScrapeTimeCollector(Collector):
    """The gauges computed when scraped, from callables that read the daemon's state."""

    def __init__(self, queue_depth: QueueDepth, last_successes: LastSuccesses, now: Clock) -> None:
        self._queue_depth = queue_depth
        self._last_successes = last_successes
        self._now = now

    def describe(self) -> list[GaugeMetricFamily]:
        # Names only: registering must not call the daemon's callables.
        return [_queue_family(), _age_family()]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield self._queue_depth_now()
        yield self._ages_now()

    def _queue_depth_now(self) -> GaugeMetricFamily:
        family = _queue_family()
        try:
            depth = float(self._queue_depth())
        except Exception as error:  # a broken callable must not break the scrape
            log.warning("event=metric_unavailable metric=watcher_queue_depth error=%r", error)
            depth = math.nan
        family.add_metric([], depth)
        return family

    def _ages_now(self) -> GaugeMetricFamily:
        family = _age_family()
        try:
            successes = dict(self._last_successes())
            now = self._now()
        except Exception as error:  # no sources known: the gauge has no samples this time
            log.warning("event=metric_unavailable metric=watcher_seconds_since_last_success "
                        "error=%r", error)
            return family
        for source, last in sorted(successes.items()):
            family.add_metric([source], _seconds_since(now, last, source=source))
        return family


def _seconds_since(now: datetime, last: datetime | None, *, source: str) -> float:
    """Age of a success, +Inf for never, NaN when the times cannot be compared."""
    if last is None:
        return math.inf
    try:
        # A clock stepped back would give a negative age; the success is simply fresh.
        return max(0.0, (now - last).total_seconds())
    except TypeError as error:  # naive and aware datetimes mixed
        log.warning("event=metric_unavailable metric=watcher_seconds_since_last_success "
                    "source=%s error=%r", source, error)
        return math.nan


def _queue_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("watcher_queue_depth", "Alert deliveries waiting to be sent.")


def _age_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "watcher_seconds_since_last_success",
        "Seconds since a source was last polled successfully; +Inf if never.",
        labels=["source"],
    )
