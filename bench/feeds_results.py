"""The feeds benchmark's measured values: three `watcher run --once` passes, what they stored.

Plain records shared by feeds_bench.py (measuring) and feeds_report.py (presenting).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.feeds_corpus import FeedSet
from bench.measure import Machine
from bench.meter import Readings, Totals
from bench.sizes import Sizes


@dataclass(frozen=True)
class PollPass:
    """One `Daemon.poll_all_once()` over every feed.

    wall: seconds of the call. polls: summed PollOutcome.seconds (thread time of every
    poll, from its start to its outcome). process_cpu: CPU seconds of this process (all
    threads) during the call; server_cpu: the feed server's, from /proc.
    server: the server's request counts during the pass (ok, not_modified, body_bytes, ...).
    """

    label: str
    wall: float
    polls: float
    outcomes: Counter[str]
    new_articles: int
    new_matches: int
    stages: Readings  # the metered store, matcher and fetcher calls during the pass
    process_cpu: float
    server_cpu: float
    server: dict[str, int]
    errors: tuple[str, ...]
    open_seconds: float  # Store.open + Daemon set-up before the pass (not in `wall`)


@dataclass(frozen=True)
class Apart:
    """The module functions a pass calls, measured apart over the same feeds: every
    document parsed, identity keys of every entry, story signatures of the distinct texts.
    Each Totals sums all its calls; `per_call` scales it to a pass's calls."""

    parse_feed: Totals
    identity_keys: Totals
    story_signature: Totals
    entries: int


@dataclass(frozen=True)
class StoredCounts:
    articles: int
    stories: int
    matches: int
    deliveries: int
    file_bytes: int


@dataclass(frozen=True)
class FeedsResults:
    machine: Machine
    corpus_articles: int
    feeds: FeedSet
    rules: int
    concurrency: int
    first: PollPass
    second: PollPass
    reference: PollPass
    stored: StoredCounts  # after the first pass
    stored_after: StoredCounts  # after the reference pass
    apart: Apart
    setup_seconds: float  # feeds rendered, server started, rules compiled
    total_seconds: float
    sizes: Sizes

    @property
    def ratio(self) -> float:
        return self.second.wall / self.first.wall
