"""The outbox sender: claims due deliveries, sends them through their channel, records
the outcome: sent only when every URL of the channel took it, else retried, then dead.

One job per article and channel (one message listing the rules that fired on it), or per
channel for a digest channel; jobs run in parallel threads. Right before a job is sent, its
deliveries that an active silence matches are recorded `silenced` and left out of it
(watcher/notify/silencing.py); they are never sent.
Each job records its outcome as soon as its send returns. An outcome the store cannot
record (disk full, database restarting) is kept and its recording retried, never the send;
meanwhile the sender claims and sends nothing more, and `recording_health` says so.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from watcher.errors import ConfigError, NotifyError, StoreError, WatcherError
from watcher.notify.channels import Channel, Target, send
from watcher.notify.constants import DEFAULT_LEASE, REPORTED
from watcher.notify.digest import DigestSchedule, describe
from watcher.notify.message import Message, Payload
from watcher.notify.payload import alert_document, notify_test_document
from watcher.notify.render import Renderer
from watcher.notify.silencing import TagsOf, no_tags, silence_of
from watcher.store import DeliveryHold, DueDelivery, Store
from watcher.store.owners import DeadOwners, worker_name
from watcher.store.silences import Silences

log = logging.getLogger("watcher.outbox")


# Deliveries claimed per round, per parallel send: small, so a round ends well within the
# lease even when every send runs into its timeout.
CLAIMS_PER_SENDER = 4
DIGEST_CLAIM = 1000  # a digest lists all of a channel's due alerts: claim them at once
# Digest messages per URL in one round: a burst longer than these is given back, still
# due, and the same drain's next round sends the rest (each round well within the lease).
DIGEST_MESSAGES_PER_ROUND = CLAIMS_PER_SENDER
# An outcome the store refused is written again after these pauses (doubling, capped),
# until it is recorded or the sender stops.
RECORD_RETRY_FIRST = 0.5
RECORD_RETRY_MAX = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th retry waits between half and all of
    `first_delay * 2**(n-1)` seconds, capped at `max_delay`; after `max_attempts` the
    delivery is dead."""

    max_attempts: int = 10
    first_delay: float = 60.0
    max_delay: float = 3600.0

    def is_dead(self, attempts: int) -> bool:
        """Whether a delivery that has failed `attempts` times is given up: the one place
        that decides retry-or-dead, for `retry_at` and for each delivery of a failed job."""
        return attempts >= self.max_attempts

    def retry_at(self, attempts: int, now: datetime, rng: random.Random) -> datetime | None:
        """When to try again after `attempts` failed attempts; None when it is dead."""
        if self.is_dead(attempts):
            return None
        delay = min(self.first_delay * 2 ** (attempts - 1), self.max_delay)
        return now + timedelta(seconds=delay * rng.uniform(0.5, 1.0))


@dataclass(frozen=True)
class Destination:
    """A configured channel as the sender needs it: where to, and its digest schedule."""

    channel: Channel
    digest: DigestSchedule | None = None

    def __post_init__(self) -> None:
        """A watcher webhook takes one document per article: a digest has no such form."""
        for index, target in enumerate(self.channel.targets, start=1):
            if self.digest is not None and target.kind == "watcher":
                raise ConfigError(
                    f"channel {self.channel.name}: URL #{index} is a watcher webhook, which "
                    "takes one message per article, not a digest: give it a channel "
                    "without 'digest'")


@dataclass
class SendReport:
    """What one drain did, in deliveries (a digest of five alerts counts five)."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    silenced: int = 0  # held back by a silence: recorded, never sent
    errors: list[str] = field(default_factory=list)  # one per delivery not sent
    # Digest alerts a round left for the next message: still due, sent in the next round.
    continued: list[int] = field(default_factory=list)

    def add(self, other: SendReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.silenced += other.silenced
        self.errors += other.errors
        self.continued += other.continued


@dataclass(frozen=True)
class _Job:
    channel: str
    deliveries: tuple[DueDelivery, ...]
    digest: DigestSchedule | None


def message_identity(deliveries: Sequence[DueDelivery], *, digest: bool = False) -> str:
    """`watcher-delivery-ID-HASH` for one delivery, `watcher-alerts-HASH` for one article's
    alerts in one message, `watcher-digest-HASH` for a digest of several: from the set of
    deliveries, so a retry of the same ones is the same message. The hash of id, channel
    and queueing time keeps two databases' delivery 7 apart (a receiver shared by a test
    and a production watcher must not drop one for the other)."""
    names = sorted(f"{d.id}|{d.channel}|{d.created.isoformat() if d.created else ''}"
                   for d in deliveries)
    hashed = hashlib.blake2b("\n".join(names).encode(), digest_size=8).hexdigest()
    if len(deliveries) == 1:
        return f"watcher-delivery-{deliveries[0].id}-{hashed}"
    return f"watcher-{'digest' if digest else 'alerts'}-{hashed}"


class _NotRecorded(Exception):
    """The sender stopped while the store still refused an outcome: it was given up."""


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
        lease: timedelta = timedelta(seconds=DEFAULT_LEASE),
        rng: random.Random | None = None,
        stopping: threading.Event | None = None,
        pause: Callable[[float], object] | None = None,
        rule_tags: TagsOf = no_tags,
    ) -> None:
        self.store = store
        self._silences = Silences(store)
        self.rule_tags = rule_tags  # for silences that match on a tag
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
        # Waits between attempts to record an outcome; returns early once stopping.
        self._pause = pause or self.stopping.wait
        self._recording = threading.Lock()
        self._unrecorded = 0  # deliveries whose outcome the store refused, kept to record
        # The store's last refusal, until a write works and no refused outcome waits.
        self._write_error: str | None = None
        # What each claim asks for: a digest channel's due alerts all at once (one message),
        # the other channels' in rounds of a few per parallel send.
        self._claims = [
            ([n for n, d in destinations.items() if d.digest is not None], DIGEST_CLAIM),
            ([n for n, d in destinations.items() if d.digest is None],
             concurrency * CLAIMS_PER_SENDER),
        ]

    def send_due(self) -> SendReport:
        """Send every delivery whose time has come, round after round, until none is due;
        a delivery that fails is not tried again in the same call (a digest's alerts left
        for its next message are not tried yet: the next round sends them)."""
        report, tried = SendReport(), set[int]()
        while not self.stopping.is_set():
            claimed = self._claim()
            fresh = [d for d in claimed if d.id not in tried]
            self.store.release_deliveries([d.id for d in claimed if d.id in tried], self.owner)
            if not fresh:
                break
            tried.update(d.id for d in fresh)
            done = self._send_all(fresh)
            tried.difference_update(done.continued)
            report.add(done)
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
                with self._writing():
                    claimed += self.store.claim_due_deliveries(
                        self.now(), owner=self.owner, lease=self.lease, limit=limit,
                        channels=channels, is_dead=self._dead_owners,
                    )
        return claimed

    def recording_health(self) -> tuple[bool, str]:
        """For `/healthz`: unhealthy while the store refuses the sender's writes, saying how
        many deliveries' outcomes wait in memory to be recorded (those would be sent again
        if the process died now)."""
        with self._recording:
            unrecorded, error = self._unrecorded, self._write_error
        if error is None:
            return True, "ok"
        waiting = f"{unrecorded} outcome(s) not yet recorded: " if unrecorded else ""
        return False, f"store: cannot record deliveries: {waiting}{error}"

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Track whether the store takes the sender's writes (what `recording_health` says):
        the refusal is kept while any outcome still waits to be recorded, even when another
        write got through meanwhile. It keeps what went wrong, never the database's URL:
        anyone who reaches /healthz reads it."""
        try:
            yield
        except StoreError as problem:
            with self._recording:
                self._write_error = problem.failure
            raise
        except Exception as problem:  # not the store's own error: its kind, never its text
            with self._recording:
                self._write_error = type(problem).__name__
            raise
        with self._recording:
            if self._unrecorded == 0:
                self._write_error = None

    def _record(self, channel: str, ids: Sequence[int], what: str,
                write: Callable[[], None]) -> None:
        """Write one outcome now; while the store refuses, keep it and write it again after
        a pause (doubling up to RECORD_RETRY_MAX), never sending again. Raises _NotRecorded
        when the sender is stopped first: the outcome is lost, and logged as such."""
        delay, held, recorded = RECORD_RETRY_FIRST, False, False
        try:
            while True:
                try:
                    with self._writing():
                        write()
                    recorded = True
                    return
                except StoreError as problem:
                    if not held:  # counted as waiting from its first refusal on
                        held = True
                        self._hold(len(ids))
                    if self.stopping.is_set():
                        log.error("event=outcome_not_recorded channel=%s deliveries=%s "
                                  "outcome=%s error=%r", channel, _ids(ids), what, str(problem),
                                  extra=REPORTED)
                        raise _NotRecorded(
                            f"{what}, but not recorded (sent again later): {problem}") from None
                    log.warning("event=record_failed channel=%s deliveries=%s outcome=%s "
                                "retry_in=%.1f error=%r", channel, _ids(ids), what, delay,
                                str(problem))
                self._pause(delay)
                delay = min(delay * 2, RECORD_RETRY_MAX)
        finally:
            if held:
                self._hold(-len(ids), recorded=recorded)

    def _hold(self, count: int, *, recorded: bool = False) -> None:
        """Count outcomes kept in memory because the store refused them (`count` > 0), or
        recorded (or given up) at last (< 0): /healthz stays 503 until none is left."""
        with self._recording:
            self._unrecorded += count
            if recorded and self._unrecorded == 0:
                self._write_error = None

    def _store_refuses(self) -> bool:
        with self._recording:
            return self._write_error is not None

    def _send_all(self, claimed: Sequence[DueDelivery]) -> SendReport:
        jobs = self._jobs(claimed)
        report = SendReport()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="send") as pool:
            try:
                for outcome in pool.map(self._run_job, jobs):
                    report.add(outcome)
            except KeyboardInterrupt:  # Ctrl-C in a command: no new sends, no endless wait
                self.stopping.set()  # for the store; the sends in hand finish
                raise
        return report

    def _jobs(self, claimed: Sequence[DueDelivery]) -> list[_Job]:
        """One job per article and channel (the rules that fired on it together, in one
        message); a digest channel's deliveries together in one job."""
        jobs: list[_Job] = []
        digests: dict[str, list[DueDelivery]] = {}
        articles: dict[tuple[str, int], list[DueDelivery]] = {}
        for delivery in claimed:
            destination = self.destinations.get(delivery.channel)
            if destination is not None and destination.digest is not None:
                digests.setdefault(delivery.channel, []).append(delivery)
            elif delivery.article is None:
                jobs.append(_Job(delivery.channel, (delivery,), None))
            else:
                articles.setdefault((delivery.channel, delivery.article), []).append(delivery)
        for (name, _), group in articles.items():
            jobs.append(_Job(name, tuple(group), None))
        for name, group in digests.items():
            jobs.append(_Job(name, tuple(group), self.destinations[name].digest))
        return jobs

    def _run_job(self, job: _Job) -> SendReport:
        """Send one job and record its outcome as soon as the send returns; a failure here
        never stops other jobs."""
        ids = [d.id for d in job.deliveries]
        try:
            if self.stopping.is_set():  # give the lease back: the next start sends it
                self.store.release_deliveries(ids, self.owner)
                return SendReport()
            if self._store_refuses():  # what it sent now could not be recorded either
                return self._not_started(job)
            job, report = self._silence(job)
            ids = [d.id for d in job.deliveries]  # what is still to send
            if ids:
                report.add(self._send(job))
            return report
        except _NotRecorded as problem:  # sent again once the lease runs out
            return SendReport(errors=[f"{job.channel}: {problem}"] * len(ids))
        except WatcherError as problem:  # the store failed: the lease runs out, retried later
            log.error("event=send_not_recorded channel=%s error=%r", job.channel, str(problem),
                      extra=REPORTED)
            return SendReport(errors=[f"{job.channel}: {problem}"] * len(ids))
        except Exception as problem:  # our bug or a library's: counted, so it ends dead
            log.exception("event=send_crashed channel=%s", job.channel)
            return self._failed(job, f"internal error: {type(problem).__name__}")

    def _send(self, job: _Job) -> SendReport:
        """Send one job (a digest in as many messages as it needs) and record the outcome."""
        if job.digest is not None:
            return self._send_digest(job)
        ids = [d.id for d in job.deliveries]
        error = self._deliver(job)
        if error is None:
            sent_at = self.now()
            self._record(job.channel, ids, "sent", lambda: self.store.mark_sent(
                ids, sent_at, owner=self.owner))
            log.info("event=sent channel=%s deliveries=%d", job.channel, len(ids))
            return SendReport(sent=len(ids))
        return self._failed(job, error)

    def _silence(self, job: _Job) -> tuple[_Job, SendReport]:
        """Record the job's deliveries that an active silence matches as `silenced` (each
        with that silence), and the job without them: what is left is sent as if they
        had never been queued (one article's other rules still go, in one message)."""
        active = self._silences.active(self.now())
        if not active:
            return job, SendReport()
        held: dict[int, list[DueDelivery]] = {}
        kept = []
        for delivery in job.deliveries:
            silence = silence_of(delivery.alert, active, self.rule_tags)
            if silence is None:
                kept.append(delivery)
            else:
                held.setdefault(silence.id, []).append(delivery)
        for silence_id, silenced in held.items():
            ids = [d.id for d in silenced]
            self._record(job.channel, ids, "silenced",
                         lambda i=ids, s=silence_id: self.store.mark_silenced(
                             i, s, owner=self.owner))
            log.info("event=silenced channel=%s deliveries=%d silence=%d rules=%s",
                     job.channel, len(ids), silence_id,
                     ",".join(sorted({d.alert.rule_id for d in silenced})))
        report = SendReport(silenced=sum(len(group) for group in held.values()))
        return _Job(job.channel, tuple(kept), job.digest), report

    def _deliver(self, job: _Job) -> str | None:
        """Send to every URL of the channel still owed the job's alerts, in one message per
        URL (named by the deliveries it carries); the first error, or None."""
        targets = self.destinations[job.channel].channel.targets
        for target in targets:
            owed = [d for d in job.deliveries if target.key not in d.done_targets]
            if not owed:
                continue
            identity = message_identity(owed)
            error = self._try_send(target, partial(self._message, target, owed, identity),
                                   identity)
            if error is not None:
                return error
            if len(targets) > 1:  # only a channel with several URLs can half-succeed
                for delivery in owed:
                    self._record(job.channel, [delivery.id], f"sent to {target.masked}",
                                 lambda d=delivery, t=target: self.store.add_done_target(
                                     d.id, t.key, owner=self.owner))
        return None

    def _message(self, target: Target, owed: Sequence[DueDelivery],
                 identity: str) -> Message | Payload:
        """What `target` is sent for these deliveries: watcher's own JSON for a watcher
        webhook, else the message rendered in the target's format."""
        alerts = [d.alert for d in owed]
        if target.kind == "watcher":
            return Payload(alert_document(alerts, identity))
        return self.renderer.render_alerts(alerts, target.format, max_body=target.max_body)

    def _send_digest(self, job: _Job) -> SendReport:
        """A digest channel's due alerts in as many messages as their size needs, each alert
        listed once per URL and recorded sent as soon as every URL has shown it (never one a
        message left out). At most DIGEST_MESSAGES_PER_ROUND messages per URL (none more once
        stopping): the alerts left are given back still due, for the next round; after a
        failure they are retried with backoff."""
        targets = self.destinations[job.channel].channel.targets
        period = describe(job.digest) if job.digest is not None else ""
        shown = {d.id: set(d.done_targets) for d in job.deliveries}
        sent: list[int] = []
        error = None
        for target in targets:
            error = self._digest_to(job, target, period, shown, sent)
            if error is not None:
                break
        rest = [d for d in job.deliveries if d.id not in sent]
        report = SendReport(sent=len(sent))
        if rest and error is not None:
            report.add(self._failed(_Job(job.channel, tuple(rest), job.digest), error))
        elif rest:
            self.store.release_deliveries([d.id for d in rest], self.owner)
            report.continued = [d.id for d in rest]
        if sent:
            log.info("event=sent channel=%s deliveries=%d", job.channel, len(sent))
        return report

    def _digest_to(self, job: _Job, target: Target, period: str, shown: dict[int, set[str]],
                   sent: list[int]) -> str | None:
        """Send the alerts `target` still owes in digest messages, recording each message's
        alerts as it returns; the first error, or None."""
        owed = [d for d in job.deliveries if target.key not in shown[d.id]]
        for _ in range(DIGEST_MESSAGES_PER_ROUND):
            if not owed or self.stopping.is_set():  # stopping: the rest are given back
                break
            try:
                part = self.renderer.render_digest_part(
                    [d.alert for d in owed], target.format, period=period,
                    max_body=target.max_body)
            except ConfigError as problem:  # a user template that fails on these alerts
                return f"template: {problem}"
            listed_ids = {alert.delivery_id for alert in part.listed}
            listed = [d for d in owed if d.id in listed_ids]
            error = self._try_send(target, part.message, message_identity(listed, digest=True))
            if error is not None:
                return error
            self._record_shown(job.channel, listed, target, shown, sent)
            owed = [d for d in owed if d.id not in listed_ids]
        return None

    def _record_shown(self, channel: str, listed: Sequence[DueDelivery], target: Target,
                      shown: dict[int, set[str]], sent: list[int]) -> None:
        """Record what one digest message showed: sent, for the alerts every URL has shown
        now; for the others, that this URL has (a retry skips it)."""
        keys = {t.key for t in self.destinations[channel].channel.targets}
        for delivery in listed:
            shown[delivery.id].add(target.key)
        complete = [d.id for d in listed if keys <= shown[d.id]]
        if complete:
            sent_at = self.now()
            self._record(channel, complete, "sent", lambda: self.store.mark_sent(
                complete, sent_at, owner=self.owner))
            sent += complete
        for delivery in listed:
            if delivery.id not in complete:
                self._record(channel, [delivery.id], f"sent to {target.masked}",
                             lambda d=delivery: self.store.add_done_target(
                                 d.id, target.key, owner=self.owner))

    def _not_started(self, job: _Job) -> SendReport:
        """A job the sender does not start while the store refuses its writes: its lease
        is given back if the store takes that, else it runs out; tried again then."""
        ids = [d.id for d in job.deliveries]
        with suppress(StoreError):
            self.store.release_deliveries(ids, self.owner)
        return SendReport(errors=[f"{job.channel}: not sent: the store cannot record "
                                  "outcomes"] * len(ids))

    def _try_send(self, target: Target,
                  message: Message | Callable[[], Message | Payload],
                  identity: str) -> str | None:
        """Send one message (rendered here when given as a callable, so a template's error
        is reported like a send's) to one URL; the error as a job reports it, or None."""
        try:
            rendered = message() if callable(message) else message
            send(target, rendered, timeout=self.timeout, identity=identity)
        except NotifyError as problem:
            return f"{target.masked}: {problem}"
        except ConfigError as problem:  # a user template that fails on this alert
            return f"template: {problem}"
        return None

    def _failed(self, job: _Job, error: str) -> SendReport:
        """Count a failed attempt for each delivery of the job: retried with backoff, or
        dead once it has had its attempts (decided per delivery: a digest's fresh alerts
        do not die with old ones)."""
        report = SendReport(errors=[f"{job.channel}: {error}"] * len(job.deliveries))
        spent = [d for d in job.deliveries if self.policy.is_dead(d.attempts + 1)]
        alive = [d for d in job.deliveries if d not in spent]
        if spent:
            self._mark_failed(job.channel, [d.id for d in spent], error, None)
            report.dead = len(spent)
        if alive:
            with self._rng_lock:  # one time for the job, so it stays one message
                retry_at = self.policy.retry_at(
                    max(d.attempts for d in alive) + 1, self.now(), self._rng)
            self._mark_failed(job.channel, [d.id for d in alive], error, retry_at)
            report.retrying = len(alive)
        level = logging.ERROR if report.dead else logging.WARNING
        log.log(level, "event=send_failed channel=%s retrying=%d dead=%d error=%r",
                job.channel, report.retrying, report.dead, error, extra=REPORTED)
        return report

    def _mark_failed(self, channel: str, ids: Sequence[int], error: str,
                     retry_at: datetime | None) -> None:
        """Record a failed attempt; one given up at a stop only goes uncounted (the
        delivery is tried again when its lease runs out)."""
        with suppress(_NotRecorded):
            self._record(channel, ids, "failed", lambda: self.store.mark_failed(
                ids, error, retry_at, owner=self.owner))


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


def send_test(destination: Destination, renderer: Renderer, *, timeout: float | None) -> list[str]:
    """`watcher notify test`: a test message to each URL of the channel; the errors."""
    errors = []
    name = destination.channel.name
    for target in destination.channel.targets:
        message: Message | Payload = renderer.render_test(name, target.format)
        identity = None
        if target.kind == "watcher":
            identity = f"watcher-test-{secrets.token_hex(8)}"
            message = Payload(notify_test_document(name, message.body, identity))
        try:
            send(target, message, timeout=timeout, identity=identity)
        except NotifyError as problem:
            errors.append(f"{target.masked}: {problem}")
    return errors
