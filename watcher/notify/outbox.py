"""The outbox sender: claims due deliveries, sends them through their channel, records
the outcome: sent only when every URL of the channel took it, else retried, then dead.

One job per delivery, or per channel for a digest channel; jobs run in parallel threads.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.errors import ConfigError, NotifyError, WatcherError
from watcher.logs import REPORTED
from watcher.notify.channels import Channel, Target, send
from watcher.notify.digest import DigestSchedule, describe
from watcher.notify.message import Message
from watcher.notify.render import Renderer
from watcher.owners import DeadOwners, worker_name
from watcher.store import DeliveryHold, DueDelivery, Store

log = logging.getLogger("watcher.outbox")

# Deliveries claimed per round, per parallel send: small, so a round ends well within the
# lease even when every send runs into its timeout.
CLAIMS_PER_SENDER = 4
DIGEST_CLAIM = 1000  # a digest is one message: claim all of a channel's at once
DEFAULT_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th retry waits between half and all of
    `first_delay * 2**(n-1)` seconds, capped at `max_delay`; after `max_attempts` the
    delivery is dead."""

    max_attempts: int = 10
    first_delay: float = 60.0
    max_delay: float = 3600.0

    def retry_at(self, attempts: int, now: datetime, rng: random.Random) -> datetime | None:
        """When to try again after `attempts` failed attempts; None when it is dead."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.first_delay * 2 ** (attempts - 1), self.max_delay)
        return now + timedelta(seconds=delay * rng.uniform(0.5, 1.0))


@dataclass(frozen=True)
class Destination:
    """A configured channel as the sender needs it: where to, and its digest schedule."""

    channel: Channel
    digest: DigestSchedule | None = None


@dataclass
class SendReport:
    """What one drain did, in deliveries (a digest of five alerts counts five)."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)  # one per delivery not sent

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.errors += other.errors


@dataclass(frozen=True)
class _Job:
    channel: str
    deliveries: tuple[DueDelivery, ...]
    digest: DigestSchedule | None


@dataclass(frozen=True)
class LeftPending:
    """What a drain left pending (`deliveries flush` and `replay` say why, in one line each)."""

    count: int
    holds: list[DeliveryHold]  # under other senders' live leases
    other_channels: dict[str, int]  # pending per channel name this sender does not have


class Outbox:
    """Drains the delivery outbox of one store to the configured channels."""

    def __init__(
        self,
        *,
        store: Store,
        destinations: Mapping[str, Destination],
        renderer: Renderer,
        policy: RetryPolicy,
        now: Callable[[], datetime],
        concurrency: int = 8,
        timeout: float | None = None,
        lease: timedelta = DEFAULT_LEASE,
        rng: random.Random | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.destinations = destinations
        self.renderer = renderer
        self.policy = policy
        self.now = now
        self.concurrency = concurrency
        self.timeout = timeout
        self.lease = lease
        # Named as pollers are; a delivery whose sender is proven dead (killed on this
        # host) is claimed at once, one on another host once its lease runs out.
        self.owner = worker_name()
        self._dead_owners = DeadOwners(log)
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self.stopping = stopping or threading.Event()  # set: send nothing more, give back
        # What each claim asks for: a digest channel's due alerts all at once (one message),
        # the other channels' in rounds of a few per parallel send.
        self._claims = [
            ([n for n, d in destinations.items() if d.digest is not None], DIGEST_CLAIM),
            ([n for n, d in destinations.items() if d.digest is None],
             concurrency * CLAIMS_PER_SENDER),
        ]

    def send_due(self) -> SendReport:
        """Send every delivery whose time has come, round after round, until none is due;
        a delivery that fails is not tried again in the same call."""
        report, tried = SendReport(), set[int]()
        while not self.stopping.is_set():
            claimed = self._claim()
            fresh = [d for d in claimed if d.id not in tried]
            self.store.release_deliveries([d.id for d in claimed if d.id in tried], self.owner)
            if not fresh:
                break
            tried.update(d.id for d in fresh)
            report.add(self._send_all(fresh))
        return report

    def flush(self) -> SendReport:
        """Try every pending delivery now, ignoring backoff and digest schedules."""
        self.store.make_pending_due(self.now())
        return self.send_due()

    def left_pending(self) -> LeftPending:
        """After a drain: how many deliveries are still pending, which of them other
        senders hold under a live lease (they send them, or the lease runs out), and how
        many are for channels this sender is not configured with (it never sends those)."""
        by_channel = self.store.pending_by_channel()
        if not by_channel:
            return LeftPending(0, [], {})
        return LeftPending(
            count=sum(by_channel.values()),
            holds=self.store.delivery_holds(self.now(), except_owner=self.owner),
            other_channels={
                name: count for name, count in by_channel.items()
                if name not in self.destinations
            },
        )

    def _claim(self) -> list[DueDelivery]:
        """Due deliveries of the channels this sender has configured. A delivery for a
        channel it does not know (another worker's newer config during a rollout, a command
        run with a partial config) stays pending for a sender that knows it."""
        claimed = []
        for channels, limit in self._claims:
            if channels:
                claimed += self.store.claim_due_deliveries(
                    self.now(), owner=self.owner, lease=self.lease, limit=limit,
                    channels=channels, is_dead=self._dead_owners,
                )
        return claimed

    def _send_all(self, claimed: Sequence[DueDelivery]) -> SendReport:
        jobs = self._jobs(claimed)
        report = SendReport()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="send") as pool:
            for outcome in pool.map(self._run_job, jobs):
                report.add(outcome)
        return report

    def _jobs(self, claimed: Sequence[DueDelivery]) -> list[_Job]:
        """One job per delivery; a digest channel's deliveries together in one job."""
        jobs: list[_Job] = []
        digests: dict[str, list[DueDelivery]] = {}
        for delivery in claimed:
            destination = self.destinations.get(delivery.channel)
            if destination is not None and destination.digest is not None:
                digests.setdefault(delivery.channel, []).append(delivery)
            else:
                jobs.append(_Job(delivery.channel, (delivery,), None))
        for name, group in digests.items():
            jobs.append(_Job(name, tuple(group), self.destinations[name].digest))
        return jobs

    def _run_job(self, job: _Job) -> SendReport:
        """Send one job and record its outcome; a failure here never stops other jobs."""
        ids = [d.id for d in job.deliveries]
        try:
            if self.stopping.is_set():  # give the lease back: the next start sends it
                self.store.release_deliveries(ids, self.owner)
                return SendReport()
            error = self._deliver(job)
            if error is None:
                self.store.mark_sent(ids, self.now(), owner=self.owner)
                log.info("event=sent channel=%s deliveries=%d", job.channel, len(ids))
                return SendReport(sent=len(ids))
            return self._failed(job, error)
        except WatcherError as problem:  # the store failed: the lease runs out, retried later
            log.error("event=send_not_recorded channel=%s error=%r", job.channel, str(problem),
                      extra=REPORTED)
            return SendReport(errors=[f"{job.channel}: {problem}"] * len(ids))
        except Exception as problem:  # our bug or a library's: counted, so it ends dead
            log.exception("event=send_crashed channel=%s", job.channel)
            return self._failed(job, f"internal error: {type(problem).__name__}")

    def _deliver(self, job: _Job) -> str | None:
        """Send to every URL of the channel still owed the alerts; the first error, or None."""
        targets = self.destinations[job.channel].channel.targets
        for target in targets:
            owed = [d for d in job.deliveries if target.key not in d.done_targets]
            if not owed:
                continue
            try:
                send(target, self._message(job, owed, target), timeout=self.timeout)
            except NotifyError as problem:
                return f"{target.masked}: {problem}"
            except ConfigError as problem:  # a user template that fails on this alert
                return f"template: {problem}"
            if len(targets) > 1:  # only a channel with several URLs can half-succeed
                for delivery in owed:
                    self.store.add_done_target(delivery.id, target.key, owner=self.owner)
        return None

    def _message(self, job: _Job, owed: Sequence[DueDelivery], target: Target) -> Message:
        alerts = [d.alert for d in owed]
        if job.digest is None:
            return self.renderer.render_alert(alerts[0], target.format)
        return self.renderer.render_digest(
            alerts, target.format, period=describe(job.digest), max_body=target.max_body
        )

    def _failed(self, job: _Job, error: str) -> SendReport:
        """Count a failed attempt for each delivery of the job: retried with backoff, or
        dead once it has had its attempts (decided per delivery: a digest's fresh alerts
        do not die with old ones)."""
        report = SendReport(errors=[f"{job.channel}: {error}"] * len(job.deliveries))
        spent = [d for d in job.deliveries if d.attempts + 1 >= self.policy.max_attempts]
        alive = [d for d in job.deliveries if d not in spent]
        if spent:
            self.store.mark_failed([d.id for d in spent], error, None, owner=self.owner)
            report.dead = len(spent)
        if alive:
            with self._rng_lock:  # one time for the job, so a digest stays one message
                retry_at = self.policy.retry_at(
                    max(d.attempts for d in alive) + 1, self.now(), self._rng)
            self.store.mark_failed([d.id for d in alive], error, retry_at, owner=self.owner)
            report.retrying = len(alive)
        level = logging.ERROR if report.dead else logging.WARNING
        log.log(level, "event=send_failed channel=%s retrying=%d dead=%d error=%r",
                job.channel, report.retrying, report.dead, error, extra=REPORTED)
        return report


def send_test(destination: Destination, renderer: Renderer, *, timeout: float | None) -> list[str]:
    """`watcher notify test`: a test message to each URL of the channel; the errors."""
    errors = []
    for target in destination.channel.targets:
        try:
            send(
                target,
                renderer.render_test(destination.channel.name, target.format),
                timeout=timeout,
            )
        except NotifyError as problem:
            errors.append(f"{target.masked}: {problem}")
    return errors
