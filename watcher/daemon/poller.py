"""Poll one feed end to end: fetch politely, parse, add full text, ingest, record the outcome.

The daemon's timers and `watcher run --once` call `Poller.poll`; every decision about a
feed's answer (304, 410, 429, moved, malformed, not a feed) is made here, once.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from watcher.config.settings import DEFAULT_MAX_AGE, DEFAULT_POLL_LEASE, SourceSettings
from watcher.errors import FetchError, FetchTimeout, StoreError
from watcher.ingest.pipeline import Identified, Pipeline
from watcher.ingest.pipeline import Outcome as IngestOutcome
from watcher.ingest.routing import Freshness
from watcher.model import Article, Match
from watcher.sources.feeds import ParsedFeed, parse_feed
from watcher.sources.fetch import Fetcher, FetchResult, Validators, next_attempt_delay
from watcher.sources.fulltext import extract_text
from watcher.sources.secrets import redact
from watcher.store import PollRecord, SourceState, Store
from watcher.store.claims import CLAIM_WAIT_SECONDS
from watcher.store.owners import DeadOwners, worker_name

log = logging.getLogger("watcher.poller")

# A poll in progress renews its claim each time this fraction of the lease has passed.
RENEW_FRACTION = 3
CLAIM_LOST = "claim lost: the lease ran out and another worker took the source over"
SOLE_DAEMON = "this daemon holds the SQLite database's lock: no other poller runs"
# A full-text poll fetches pages for at most this many fetch.timeout in all (a page started
# before then may take its own timeout): links to many host names, all stalling, would
# otherwise hold the poll slot one timeout per entry, however many entries.
FULL_TEXT_BUDGET = 3

Outcome = Literal["ok", "not_modified", "error", "gone", "skipped"]


@dataclass(frozen=True)
class PollOutcome:
    """What one poll of one source did; `message` is the error, warning or skip reason."""

    source: str
    outcome: Outcome
    new_articles: int = 0
    new_matches: tuple[Match, ...] = ()
    message: str = ""
    seconds: float = 0.0


def _unstored(empty: int, refused: list[IngestOutcome]) -> str | None:
    """One line for the entries of a feed that could not become articles (nothing to match
    in them), naming the first few: they are not stored, but never silently."""
    count = empty + len(refused)
    if not count:
        return None
    reasons = sorted({o.reason for o in refused} | ({"nothing in it"} if empty else set()))
    line = f"{count} {'entry' if count == 1 else 'entries'} not stored ({'; '.join(reasons)})"
    if refused:  # an empty entry has no id to name
        line += ": " + ", ".join(repr(o.article.id) for o in refused[:3])
        line += ", …" if len(refused) > 3 else ""
    return line


class Poller:
    """Polls sources through one fetcher into one pipeline, whose rules a reload swaps
    (Pipeline.use_matcher): a poll under way matches the batches it starts after the swap
    with the new rules."""

    def __init__(
        self,
        *,
        store: Store,
        fetcher: Fetcher,
        pipeline: Pipeline,
        now: Callable[[], datetime],
        stopping: threading.Event | None = None,
        lease: timedelta = timedelta(seconds=DEFAULT_POLL_LEASE),
        owner: str | None = None,
        sole_daemon: bool = False,
        clock: Callable[[], float] = time.monotonic,
        max_age: int = DEFAULT_MAX_AGE,
        parse: Callable[..., ParsedFeed] = parse_feed,
    ) -> None:
        self.store = store
        # How a fetched feed becomes articles: parse_feed's signature (the benchmark passes
        # it metered, or handing large feeds to other processes: bench/polling_bench.py).
        self.parse = parse
        self.max_age = max_age  # seconds (0: no limit), for sources without their own
        # Workers sharing a database claim each poll under a lease (store/polling.py);
        # a claim whose owner is proven dead is taken at once (watcher/store/owners.py).
        # `sole_daemon`: this process holds the SQLite daemon lock, which proves every
        # other poller dead (a container restarted with new pids included).
        self.lease = lease
        self.owner = owner or worker_name()
        self._dead_owners = DeadOwners(log, sole=SOLE_DAEMON if sole_daemon else None)
        self._poll_numbers = itertools.count(1)
        # The polls of this worker in progress (their claim names), and claims whose
        # release failed (the database was away), by source: given back at the next poll.
        self._in_flight: set[str] = set()
        self._unreleased: dict[str, str] = {}
        self._claims_guard = threading.Lock()
        self.fetcher = fetcher
        self.pipeline = pipeline
        self.now = now
        self.clock = clock  # seconds: a poll's time on full-text pages, when to renew its claim
        # Set on shutdown: the article in hand is finished, the rest of the feed is left
        # for the next run (its validators are not stored, so it is fetched again).
        self.stopping = stopping or threading.Event()
        self._host_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def poll(
        self, source: SourceSettings, *, not_polled_since: datetime | None = None
    ) -> PollOutcome:
        """Poll the source unless it is disabled, backing off, being polled by another
        worker, or was polled (by any worker) at or after `not_polled_since`; never raises
        FetchError."""
        started = time.perf_counter()
        self._retry_releases()
        # Each poll claims under its own name: two polls of one source in this process
        # (its timer and a takeover retry) must not renew or free each other's claim.
        owner = f"{self.owner}:{next(self._poll_numbers)}"
        with self._claims_guard:  # in flight before the claim exists: never taken as stale
            self._in_flight.add(owner)
        try:
            return self._claimed_poll(source, owner, not_polled_since, started)
        finally:
            with self._claims_guard:
                self._in_flight.discard(owner)

    def _claimed_poll(
        self,
        source: SourceSettings,
        owner: str,
        not_polled_since: datetime | None,
        started: float,
    ) -> PollOutcome:
        now = self.now()
        state, refusal = self.store.claim_poll(source.name, source.url, now, owner=owner,
                                               lease=self.lease,
                                               not_polled_since=not_polled_since,
                                               is_dead=self._stale_or_dead)
        if refusal:
            return PollOutcome(source.name, "skipped", message=refusal,
                               seconds=time.perf_counter() - started)
        claim = _Claim(self.store, source.name, owner, self.lease, self.now, self.clock)
        try:
            outcome = self._poll(source, state, now, claim)
        except _ClaimLost:
            outcome = PollOutcome(source.name, "skipped", message=CLAIM_LOST)
        except BaseException:
            self._release_quietly(claim)
            raise
        if outcome.outcome == "skipped":  # nothing recorded: the claim goes back, if ours
            self._release_quietly(claim)
        return replace(outcome, seconds=time.perf_counter() - started)

    def _release_quietly(self, claim: _Claim) -> None:
        """Give the claim back after a failed poll; if the database is what failed, that
        error is the one to report, and the release is retried before the next poll (the
        other workers would otherwise wait out the lease)."""
        try:
            self.store.release_poll(claim.name, claim.owner)
        except StoreError as error:
            with self._claims_guard:
                self._unreleased[claim.name] = claim.owner
            log.warning("event=poll_release_failed source=%s error=%r action='retried at the "
                        "next poll'", claim.name, str(error))

    def _retry_releases(self) -> None:
        """Give back the claims whose release failed; those still failing wait for the
        next poll (this worker takes its own back meanwhile: `_stale_or_dead`)."""
        with self._claims_guard:
            unreleased = list(self._unreleased.items())
        for name, owner in unreleased:
            try:
                self.store.release_poll(name, owner)
            except StoreError:
                return  # the database is still away: the poll about to start says so
            with self._claims_guard:
                if self._unreleased.get(name) == owner:
                    del self._unreleased[name]
            log.info("event=poll_release_retried source=%s", name)

    def _stale_or_dead(self, holder: str) -> bool:
        """Whether a live claim may be taken at once: one of this worker's that no poll
        in progress holds is stale (its release failed, the database being away), else
        the holder must be proven dead. Without this, a database restart mid-poll locked
        this worker out of its own sources until the lease ran out."""
        if not holder.startswith(f"{self.owner}:"):
            return self._dead_owners(holder)
        with self._claims_guard:
            stale = holder not in self._in_flight
        if stale:
            log.warning("event=own_claim_stale owner=%s action='taken back now: no poll of "
                        "this worker holds it'", holder)
        return stale

    def _poll(
        self, source: SourceSettings, state: SourceState, now: datetime, claim: _Claim
    ) -> PollOutcome:
        validators = Validators(etag=state.etag, last_modified=state.last_modified)
        try:
            result = self.fetcher.fetch(state.url or source.url, validators,
                                        max_bytes=source.max_size, configured=source.url)
        except FetchError as error:
            if self.stopping.is_set():  # the fetch was cut short by the shutdown
                return PollOutcome(source.name, "skipped", message="stopping")
            return self._failed(claim, state, str(error), now)
        return self._answered(source, state, result, now, claim)

    def _answered(
        self,
        source: SourceSettings,
        state: SourceState,
        result: FetchResult,
        now: datetime,
        claim: _Claim,
    ) -> PollOutcome:
        name = source.name
        if result.status == "not_modified":
            self._record(claim, PollRecord(
                now, etag=state.etag, last_modified=state.last_modified,
                warning=state.last_warning, moved_to=result.permanent_url))
            return PollOutcome(name, "not_modified")
        if result.status == "gone":
            reason = redact(f"{result.url} answered 410 Gone: polling stopped (edit its url "
                            "to resume)", result.url, state.url)
            log.warning("event=source_disabled source=%s reason=%r", name, reason)
            self._record(claim, PollRecord(now, error=reason, disabled_reason=reason))
            return PollOutcome(name, "gone", message=reason)
        if result.status == "retry_later":
            reason = f"{result.url} answered {result.status_code}: asked to retry later"
            return self._failed(claim, state, reason, now, retry_after=result.retry_after)
        return self._ingest(source, state, result, now, claim)

    def _ingest(
        self,
        source: SourceSettings,
        state: SourceState,
        result: FetchResult,
        now: datetime,
        claim: _Claim,
    ) -> PollOutcome:
        parsed = self.parse(
            result.content, source=source.name, url=result.url, headers=result.headers, now=now
        )
        if parsed.not_a_feed:
            return self._failed(claim, state, f"{result.url}: {parsed.not_a_feed}", now)
        pipeline = self.pipeline
        articles = list(parsed.entries)
        baseline = state.baseline_at is None and bool(articles)
        freshness = self._freshness(source, baseline)
        if freshness.baseline:
            log.info("event=baseline_poll source=%s entries=%d action='stored and matched, not "
                     "alerted: the first poll of the source (first_poll: alert alerts it)'",
                     source.name, len(articles))
        outcomes: list[IngestOutcome] = []
        pages = _PageBudget(FULL_TEXT_BUDGET * self.fetcher.timeout, self.clock)

        def stop() -> bool:
            """A stop ends the store's transaction at the article in hand, so every stored
            article is among the outcomes counted (asked inside it: no I/O)."""
            return self.stopping.is_set() or claim.lost

        # A batch at a time, pages and all, each stored before the next: a huge feed's
        # poll cut short keeps what it stored, and the next poll goes on from there.
        for start in range(0, len(articles), pipeline.batch_size):
            entries = articles[start:start + pipeline.batch_size]
            batch: Sequence[Article | Identified] = (
                self._with_full_texts(entries, pipeline, claim, pages)
                if source.full_text else entries
            )
            if self.stopping.is_set() or claim.lost:  # full text cut short
                return _cut(source.name, outcomes, CLAIM_LOST if claim.lost else "stopping")
            for outcome in pipeline.ingest_many(batch, freshness, until=stop,
                                                claim_wait=self._claim_wait()):
                outcomes.append(outcome)
                if len(outcomes) < len(articles) and not self.stopping.is_set():
                    claim.keep()  # renewed, or lost: then the pipeline stops
            if len(outcomes) < len(articles) and stop():
                # What was stored is counted (its alerts are queued), the poll not recorded.
                return _cut(source.name, outcomes,
                            CLAIM_LOST if claim.lost else "stopped mid-feed")
        new = [o for o in outcomes if o.status == "new"]
        unstored = _unstored(parsed.skipped, [o for o in outcomes if o.status == "refused"])
        if unstored:
            log.warning("event=entries_not_stored source=%s reason=%r", source.name, unstored)
        warning = "; ".join(w for w in (parsed.warning, unstored) if w) or None
        self._record(claim, PollRecord(
            now, etag=result.validators.etag, last_modified=result.validators.last_modified,
            new_items=len(new), warning=warning, moved_to=result.permanent_url,
            baseline=baseline))
        matches = tuple(m for o in new for m in o.new_matches)
        return PollOutcome(source.name, "ok", len(new), matches, warning or "")

    def _claim_wait(self) -> float:
        """How long a poll waits for another poll's claims on its articles (watcher/store/
        claims.py): at most a third of the lease, which the poll renews between outcomes
        every third of it, so that the wait does not outlast the lease holding the source."""
        return min(CLAIM_WAIT_SECONDS, self.lease.total_seconds() / RENEW_FRACTION)

    def _freshness(self, source: SourceSettings, baseline: bool) -> Freshness:
        """Which of this poll's articles are old news: all of them on the source's baseline
        poll (unless `first_poll: alert`), else those published longer ago than its
        `max_age` (the top-level one when it sets none; 0 is no limit)."""
        seconds = self.max_age if source.max_age is None else source.max_age
        return Freshness(baseline=baseline and source.first_poll == "baseline",
                         max_age=timedelta(seconds=seconds) if seconds else None)

    def _failed(
        self,
        claim: _Claim,
        state: SourceState,
        reason: str,
        now: datetime,
        *,
        retry_after: float | None = None,
    ) -> PollOutcome:
        """Record an error and when to try again: exponential backoff, or the server's
        Retry-After when longer. The source is never given up on; the error stays visible."""
        name = claim.name
        reason = redact(reason, state.url)  # an error quotes the URL, with its token
        delay = next_attempt_delay(state.error_count + 1, retry_after=retry_after)
        retry_at = now + timedelta(seconds=delay)
        log.warning("event=poll_failed source=%s errors_in_a_row=%d retry_in_s=%d error=%r",
                    name, state.error_count + 1, delay, reason)
        self._record(claim, PollRecord(now, error=reason, next_poll_after=retry_at))
        return PollOutcome(name, "error", message=reason)

    def _record(self, claim: _Claim, record: PollRecord) -> None:
        """Record the poll under its claim; a claim lost meanwhile records nothing (the
        worker that took the source over records its own poll)."""
        if not claim.keep():
            raise _ClaimLost
        self.store.record_poll(claim.name, replace(record, owner=claim.owner))

    def _with_full_texts(
        self, articles: list[Article], pipeline: Pipeline, claim: _Claim, pages: _PageBudget
    ) -> list[Article | Identified]:
        """The articles with their pages' text, up to a stop or a lost claim (the rest as
        they were: the caller stops there). A known article's page is not fetched again;
        one store query tells which are known. An entry that keeps the feed's text keeps
        the identity computed for that query; one with its page's text is a new article."""
        entries = pipeline.identified(articles)
        with_text: list[Article | Identified] = []
        for entry, known in zip(entries, pipeline.known(entries), strict=True):
            if self.stopping.is_set() or not claim.keep():
                break
            with_text.append(entry if known else self._with_full_text(entry, pages))
        return with_text + entries[len(with_text):]

    def _with_full_text(self, entry: Identified, pages: _PageBudget) -> Article | Identified:
        """The article with its page's main text as body, or as it was (logged) when the
        page cannot be fetched or yields nothing. One request at a time per host. A link
        that other entries share (a front page) is no page of this article: not fetched.
        The link is the feed's word, not the operator's: it reaches public addresses only
        (and fetch.allow_private), never this machine or its network. Once a host's page
        timed out, or the poll's full-text time is spent, pages are not fetched (their
        articles keep the feed's text): a stalled site costs a poll one deadline, not one
        per entry, nor do many of them, and the poll slot goes back to the other sources."""
        article = entry.article
        if not article.url or not article.url_identifies:
            return entry
        host = _host(article.url)
        skipped = pages.refusal(host)
        if skipped:
            log.info("event=full_text_skipped url=%s reason=%r", article.url, skipped)
            return entry
        try:
            with pages.timed(), self._host_lock(host):
                page = self.fetcher.fetch(article.url)
        except FetchError as error:
            if isinstance(error, FetchTimeout):
                pages.stalled.add(host)
            log.info("event=full_text_failed url=%s error=%r", article.url, str(error))
            return entry
        ok = page.status == "ok"
        text = extract_text(page.content, url=page.url, title=article.title) if ok else None
        return replace(article, body=text) if text else entry

    def _host_lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._host_locks.setdefault(host, threading.Lock())


class _PageBudget:
    """What one poll may still spend on full-text pages: none from a host whose page timed
    out, none at all once FULL_TEXT_BUDGET timeouts have gone on pages (a feed can link
    every entry to a name of its own, all of them stalling)."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds, self.clock = seconds, clock
        self.spent = 0.0
        self.stalled: set[str] = set()  # hosts whose page timed out in this poll

    def refusal(self, host: str) -> str | None:
        """Why the page of `host` is not fetched, or None if it is."""
        if host in self.stalled:
            return f"a page of {host} timed out in this poll"
        if self.spent >= self.seconds:
            return (f"this poll spent its full-text time on other pages ({self.seconds:g} s, "
                    f"{FULL_TEXT_BUDGET} × fetch.timeout)")
        return None

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Count the time inside the `with` (waiting for the host, fetching) as spent."""
        started = self.clock()
        try:
            yield
        finally:
            self.spent += self.clock() - started


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _cut(source: str, outcomes: list[IngestOutcome], why: str) -> PollOutcome:
    """A poll stopped part way: what it stored is counted, nothing recorded."""
    new = [o for o in outcomes if o.status == "new"]
    matches = tuple(m for o in new for m in o.new_matches)
    return PollOutcome(source, "skipped", len(new), matches, message=why)


class _ClaimLost(Exception):
    """The poll's lease ran out and another poll holds the source: stop, record nothing."""


class _Claim:
    """This worker's hold on one source's poll, renewed while the poll goes on, so a long
    poll (many full-text pages, a large feed) is not taken over by another worker."""

    def __init__(
        self, store: Store, name: str, owner: str, lease: timedelta, now: Callable[[], datetime],
        clock: Callable[[], float],
    ) -> None:
        self.store, self.name, self.owner, self.lease, self.now = store, name, owner, lease, now
        self.clock = clock
        self.lost = False
        self._renewed = clock()

    def keep(self) -> bool:
        """Renew once a third of the lease has passed; False once the claim is lost (the
        lease ran out and another worker holds the source: this poll must stop)."""
        if self.lost:
            return False
        if self.clock() - self._renewed < self.lease.total_seconds() / RENEW_FRACTION:
            return True
        self._renewed = self.clock()
        if not self.store.renew_poll(self.name, self.owner, self.now() + self.lease):
            self.lost = True
            log.warning("event=poll_claim_lost source=%s reason=%r", self.name, CLAIM_LOST)
        return not self.lost
