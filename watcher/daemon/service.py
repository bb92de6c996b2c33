"""`watcher run`: APScheduler timers that poll each source, drain the alert outbox, reload
rules when their files change, prune what is past `retention:` once a day, and stop
cleanly on SIGTERM/SIGINT. The logic lives in
Poller, Pipeline and Outbox; the command line builds them (watcher/cli/run.py).

APScheduler's scheduler lives here and nowhere else (design.md); notify/digest.py only
borrows its cron parser to date digests.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config.settings import Settings, SourceSettings
from watcher.daemon.metrics import Metrics
from watcher.daemon.poller import Poller, PollOutcome
from watcher.engine.matcher import Matcher
from watcher.errors import ConfigError, RuleSetError
from watcher.notify.outbox import Outbox
from watcher.rules.load import RuleCache, RuleFiles
from watcher.store import BUSY

log = logging.getLogger("watcher.daemon")

RELOAD_CHECK_SECONDS = 2.0
MAX_JITTER_SECONDS = 60.0
# A scheduled poll is skipped when any worker polled the source within this fraction of
# its interval: timers on several workers (and restarts) drift, so not the whole interval.
RECENT_FRACTION = 0.9
# With `retention:` set, what is past the window is pruned this often, the first time a few
# minutes after start (not while a restarted daemon catches up on its feeds).
PRUNE_EVERY_SECONDS = 86400
FIRST_PRUNE_AFTER_SECONDS = 600


class _PruneStopped(Exception):
    """The daemon is stopping: the prune ends after the batch it committed."""


class Daemon:
    """Polls sources through one poller, drains the outbox, and swaps reloaded rules into
    the poller's pipeline (Pipeline.use_matcher): the daemon builds no pipeline of its own."""

    def __init__(
        self,
        *,
        settings: Settings,
        poller: Poller,
        metrics: Metrics,
        now: Callable[[], datetime],
        stopping: threading.Event,
        outbox: Outbox | None = None,
        rule_cache: RuleCache | None = None,
    ) -> None:
        """`rule_cache`: the rule files as the running rules were read from them (a reload
        reads only the files that changed since); a new one reads them all on first reload."""
        self.settings = settings
        self.poller = poller
        self.outbox = outbox
        self.metrics = metrics
        self.now = now
        self.stopping = stopping  # set by the signal handlers (cli) to stop cleanly
        self._rule_files = RuleFiles.read(settings.rules)
        self._rule_cache = RuleCache() if rule_cache is None else rule_cache
        self._scheduler: BackgroundScheduler | None = None
        metrics.rules_loaded(len(poller.pipeline.matcher.rules.enabled()))

    def alive(self) -> tuple[bool, str]:
        """Whether the daemon's own machinery runs: `/livez`, and part of `/healthz`."""
        if self.stopping.is_set():
            return False, "stopping"
        scheduler = self._scheduler
        if scheduler is not None:
            # BackgroundScheduler's own thread (APScheduler 3 keeps it in `_thread`): a
            # scheduler whose thread died still says it is running.
            thread = getattr(scheduler, "_thread", None)
            if not scheduler.running or (thread is not None and not thread.is_alive()):
                return False, "scheduler stopped"
        return True, "ok"

    # -- one poll ---------------------------------------------------------------------

    def poll(self, source: SourceSettings, *, on_schedule: bool = False) -> PollOutcome:
        """Poll one source and count it; never raises (a bug or an unusable database is
        logged and counted as an error, and the timer goes on). On schedule, a source that
        any worker polled within most of its interval is left alone: several workers on
        one database then poll each feed once per interval between them."""
        if self.stopping.is_set():  # queued before the signal: do not start
            return PollOutcome(source.name, "skipped", message="stopping")
        not_polled_since = None
        if on_schedule:
            not_polled_since = self.now() - timedelta(seconds=source.every * RECENT_FRACTION)
        try:
            outcome = self.poller.poll(source, not_polled_since=not_polled_since)
        except Exception as error:
            log.exception("event=poll_crashed source=%s", source.name)
            outcome = PollOutcome(source.name, "error", message=f"poll failed: {error}")
        self._count(outcome)
        if on_schedule and outcome.message == BUSY:
            self._retry_after_lease(source)
        return outcome

    def _retry_after_lease(self, source: SourceSettings) -> None:
        """Another worker holds the poll: look again once its lease has surely run out,
        so a worker that died mid-poll is taken over within one lease, not one interval."""
        scheduler = self._scheduler
        if scheduler is None or self.stopping.is_set():
            return
        scheduler.add_job(
            self.poll, "date", args=(source,), kwargs={"on_schedule": True},
            run_date=self.now() + timedelta(seconds=self.settings.poll_lease + 1),
            id=f"takeover:{source.name}", replace_existing=True,
            misfire_grace_time=None, coalesce=True,  # late (busy pool) is fine, skipped is not
        )

    def _count(self, outcome: PollOutcome) -> None:
        self.metrics.poll_finished(outcome.source, outcome.outcome, outcome.seconds)
        self.metrics.articles_stored(outcome.source, outcome.new_articles)
        for found in outcome.new_matches:
            self.metrics.matched(found.rule_id)
        log.info(
            "event=poll source=%s outcome=%s new_articles=%d new_matches=%d seconds=%.2f%s",
            outcome.source, outcome.outcome, outcome.new_articles, len(outcome.new_matches),
            outcome.seconds, f" message={outcome.message!r}" if outcome.message else "",
        )

    def poll_all_once(self) -> list[PollOutcome]:
        """`watcher run --once`: every source once, `fetch.concurrency` at a time (as the
        daemon does), whenever it was last polled; a signal stops the sources not yet
        started. Another worker's poll in progress is still left to it (the lease)."""
        with futures.ThreadPoolExecutor(self.settings.fetch.concurrency,
                                        thread_name_prefix="poll") as pool:
            polls = [pool.submit(self._poll_unless_stopping, s) for s in self.settings.sources]
            return [outcome for p in polls if (outcome := p.result()) is not None]

    def _poll_unless_stopping(self, source: SourceSettings) -> PollOutcome | None:
        return None if self.stopping.is_set() else self.poll(source)

    # -- alerts -----------------------------------------------------------------------

    def drain_outbox(self) -> None:
        """Send every delivery that is due; never raises (the next timer tries again)."""
        if self.outbox is None or self.stopping.is_set():
            return
        try:
            report = self.outbox.send_due()
        except Exception:
            log.exception("event=outbox_drain_crashed")
            return
        self.metrics.deliveries_attempted(report.sent, report.retrying, report.dead,
                                          report.silenced)
        if report.sent or report.retrying or report.dead or report.silenced:
            log.info(
                "event=outbox_drained sent=%d retrying=%d dead=%d silenced=%d",
                report.sent,
                report.retrying,
                report.dead,
                report.silenced,
            )

    # -- retention --------------------------------------------------------------------

    def prune(self) -> None:
        """Remove what is past `retention:` (docs/storage.md, "Retention"), a batch per
        transaction so polls keep storing meanwhile; never raises (the next day tries
        again). Workers sharing PostgreSQL prune one at a time; the others skip."""
        retention = self.settings.retention
        if retention is None or self.stopping.is_set():
            return
        before = self.now() - timedelta(seconds=retention)
        try:
            report = self.poller.store.prune(before, after_batch=self._stop_pruning)
        except _PruneStopped:
            log.info("event=prune_stopped reason=stopping")
            return
        except Exception:
            log.exception("event=prune_crashed")
            return
        if report.busy:
            log.info("event=prune_skipped reason='another worker is pruning'")
            return
        removed = " ".join(f"{table}={rows}" for table, rows in report.removed.items())
        kept = " ".join(f"kept_{reason}={count}" for reason, count in report.kept.items())
        log.info("event=pruned before=%s %s %s", before.isoformat(), removed, kept)

    def _stop_pruning(self, _report: object) -> None:
        """Between two batches: a signal stops the prune (each batch is committed whole)."""
        if self.stopping.is_set():
            raise _PruneStopped

    # -- rule reload ------------------------------------------------------------------

    def reload_rules_if_changed(self) -> bool:
        """Swap in the rules if their files changed; a broken set is refused, its errors
        logged, and the last good set stays in use. Returns whether rules were swapped.
        Polls under way go on: each batch of entries they start after the swap is matched
        with the new rules (Pipeline.use_matcher)."""
        current = RuleFiles.read(self.settings.rules)
        if current == self._rule_files:
            return False
        self._rule_files = current
        try:
            matcher = Matcher.from_path(
                self.settings.rules,
                pipeline=self.settings.pipeline,
                channels=self.settings.channel_names,
                context_triggers=self.settings.context.triggers,
                context_exclude=self.settings.context.exclude,
                rule_cache=self._rule_cache,
            )
        except (RuleSetError, ConfigError) as error:
            self.metrics.reload_failed()
            for problem in getattr(error, "errors", [error]):
                log.error("event=rules_refused error=%r", str(problem))
            log.error("event=rules_kept reason='the new rule set has errors'")
            return False
        self.poller.pipeline.use_matcher(matcher)
        self.metrics.rules_loaded(len(matcher.rules.enabled()))
        log.info("event=rules_reloaded rules=%d files_read=%d", len(matcher.rules.enabled()),
                 len(self._rule_cache.read_last))
        return True

    # -- the service ------------------------------------------------------------------

    def run_forever(self) -> None:
        """Schedule every source and the reload check; return once `stopping` is set and
        the polls in hand have finished."""
        scheduler = BackgroundScheduler(
            # the outbox has a thread of its own: a burst of alerts never delays polls;
            # polls (and the reload check) share `fetch.concurrency` threads
            executors={
                "default": ThreadPoolExecutor(self.settings.fetch.concurrency),
                "outbox": ThreadPoolExecutor(1),
                "maintenance": ThreadPoolExecutor(1),
            },
            timezone="UTC",
        )
        for job in self._jobs():
            scheduler.add_job(**job)
        self._scheduler = scheduler
        scheduler.start()
        log.info("event=started sources=%d", len(self.settings.sources))
        self.stopping.wait()
        log.info("event=stopping reason='signal received'")
        self.poller.fetcher.close()  # cuts fetches in flight; their polls record nothing
        scheduler.shutdown(wait=True)
        log.info("event=stopped")

    def _jobs(self) -> Iterable[dict[str, object]]:
        start = self.now()
        for source in self.settings.sources:
            jitter = min(MAX_JITTER_SECONDS, source.every / 10)
            yield {
                "func": self.poll,
                "args": (source,),
                "kwargs": {"on_schedule": True},
                "trigger": IntervalTrigger(seconds=source.every, jitter=jitter),
                "id": f"poll:{source.name}",
                "max_instances": 1,  # never two polls of one source at once
                "coalesce": True,  # after a stall, one catch-up poll, not a burst
                "misfire_grace_time": source.every,
                # First polls spread over the first interval's jitter, not all at once.
                "next_run_time": start + timedelta(seconds=random.uniform(0, jitter)),
            }
        yield {
            "func": self.drain_outbox,
            "trigger": IntervalTrigger(seconds=self.settings.notify.every),
            "id": "drain-outbox",
            "executor": "outbox",
            "next_run_time": start,  # what an earlier run left pending goes out at once
            "max_instances": 1,
            "coalesce": True,
        }
        if self.settings.retention is not None:
            yield {
                "func": self.prune,
                "trigger": IntervalTrigger(seconds=PRUNE_EVERY_SECONDS),
                "id": "prune",
                "executor": "maintenance",  # its own thread: never holds a poll's slot
                "next_run_time": start + timedelta(seconds=FIRST_PRUNE_AFTER_SECONDS),
                "misfire_grace_time": None,  # late (a paused machine) is fine, skipped is not
                "max_instances": 1,
                "coalesce": True,
            }
        yield {
            "func": self.reload_rules_if_changed,
            "trigger": IntervalTrigger(seconds=RELOAD_CHECK_SECONDS),
            "id": "reload-rules",
            "max_instances": 1,
            "coalesce": True,
        }
