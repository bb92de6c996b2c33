"""The daemon's commands: `watcher run [--once]` and `watcher sources`.

They wire the store, fetcher, poller, metrics and health endpoint together; the logic is
in daemon/poller.py and daemon/service.py.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

import click

from watcher.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    errors_exit,
    load_matcher,
    new_pipeline,
    open_outbox,
    open_store,
    or_exit,
    reader_may_leave,
    utc_now,
)
from watcher.cli.interrupts import second_interrupt_exits
from watcher.cli.logs import configure_logging
from watcher.cli.output import timestamp
from watcher.config.settings import Settings
from watcher.daemon.health import HealthServer
from watcher.daemon.metrics import Metrics
from watcher.daemon.poller import Poller
from watcher.daemon.probes import DatabaseCheck, all_of
from watcher.daemon.service import Daemon
from watcher.rules.load import RuleCache
from watcher.sources.addresses import parse_ranges
from watcher.sources.fetch import Fetcher, default_user_agent
from watcher.sources.status import source_status
from watcher.store import SourceState, Store
from watcher.when import format_duration

FAILED = frozenset({"error", "gone"})
NO_SOURCES = "watcher: no sources configured (add `sources:` to watcher.yaml)"
log = logging.getLogger("watcher.run")


@click.command("run")
@click.option(
    "--once",
    is_flag=True,
    help="Poll every source once, send the alerts that are due, then exit: 0 when no "
    "poll failed, 1 otherwise.",
)
@click.pass_obj
def run(settings: Settings, once: bool) -> None:
    """The daemon: poll the configured feeds on schedule, match, store and send alerts,
    until SIGTERM or SIGINT (then finish the article and alerts in hand and exit 0).
    With --once, every source is polled once and what is due is sent before exiting."""
    configure_logging()
    stopping = threading.Event()
    with _on_signals(stopping):  # from the start: loading rules and migrating take seconds
        _run(settings, once, stopping)


def _run(settings: Settings, once: bool, stopping: threading.Event) -> None:
    """`run` once its signals are in place; a signal while starting stops it before it polls."""
    if not settings.sources:
        click.echo(NO_SOURCES, err=True)
    rule_cache = RuleCache()  # the files as read: a reload reads only those that changed
    matcher = load_matcher(settings, None, rule_cache)
    _stop_if_signalled(stopping)  # while the rules loaded: the database is not touched
    with open_store(settings) as store, _one_daemon(store) as sole_daemon, \
            _fetcher(settings) as fetcher:
        _stop_if_signalled(stopping)  # while the database migrated: nothing polled yet
        metrics = _metrics(settings, store)
        outbox = open_outbox(settings, store, stopping) if settings.channels else None
        poller = Poller(
            store=store, fetcher=fetcher, pipeline=new_pipeline(settings, store, matcher),
            now=utc_now, stopping=stopping, lease=timedelta(seconds=settings.poll_lease),
            sole_daemon=sole_daemon, max_age=settings.max_age,
        )
        daemon = Daemon(settings=settings, poller=poller, metrics=metrics, now=utc_now,
                        stopping=stopping, outbox=outbox, rule_cache=rule_cache)
        with _health_endpoint(settings, metrics, daemon, store):
            if once:
                outcomes = daemon.poll_all_once()
                daemon.drain_outbox()
                sys.exit(EXIT_FAILED if any(o.outcome in FAILED for o in outcomes) else EXIT_OK)
            daemon.run_forever()
    sys.exit(EXIT_OK)


def _fetcher(settings: Settings) -> Fetcher:
    """The fetcher `run` polls with: the configured deadline, contact and allowed ranges."""
    return Fetcher(now=utc_now, user_agent=default_user_agent(settings.contact),
                   timeout=settings.fetch.timeout,
                   allow_private=parse_ranges(settings.fetch.allow_private))


def _stop_if_signalled(stopping: threading.Event) -> None:
    """A signal while `run` starts is a clean stop before the first poll: exit 0."""
    if stopping.is_set():
        log.info("event=stopped reason='signal received while starting'")
        sys.exit(EXIT_OK)


@click.command("sources")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.pass_obj
def sources(settings: Settings, output_format: str) -> None:
    """Configured feeds with their last poll, last success, new items, errors, last error."""
    if not settings.sources:  # nothing to show, and no database to create for it
        click.echo(NO_SOURCES, err=True)
        return
    with open_store(settings) as store, reader_may_leave():
        states = {s.name: s for s in or_exit(store.source_states)}
        for source in settings.sources:
            state = states.get(source.name, SourceState(source.name, url=source.url))
            line = source_json(state, every=source.every)
            if output_format == "jsonl":
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                click.echo(source_text(line))


def source_json(state: SourceState, *, every: int) -> dict[str, Any]:
    """The JSON shape of one source's status (`watcher sources --format jsonl`); a password
    or token in the feed's URL is shown as ****."""
    status = source_status(state, every=every)
    return {
        "name": status.name,
        "url": status.url,
        "every": every,
        "last_poll": timestamp(status.last_poll),
        "last_success": timestamp(status.last_success),
        "new_items": status.new_items,
        "errors": status.errors,
        "last_error": status.last_error,
        "warning": status.warning,
        "next_poll_after": timestamp(status.next_poll_after),
        "disabled": status.disabled,
    }


def source_text(line: dict[str, Any]) -> str:
    if line["disabled"]:
        status = "DISABLED"
    elif line["errors"]:
        status = "failing"
    else:
        status = "ok" if line["last_poll"] else "not polled yet"
    head = (f"{line['name']}  {status}  every {format_duration(line['every'])}  last poll "
            f"{line['last_poll'] or 'never'}  last success {line['last_success'] or 'never'}  "
            f"new {line['new_items']}  errors in a row {line['errors']}")
    old_error = "last_error" if line["errors"] else "last_error (since recovered)"
    details = [f"    {old_error if key == 'last_error' else key}: {line[key]}"
               for key in ("disabled", "last_error", "warning", "next_poll_after") if line[key]]
    return "\n".join([head, f"    {line['url']}", *details])


def _metrics(settings: Settings, store: Store) -> Metrics:
    """Metrics over the configured sources only (replayed inputs and removed feeds have
    rows in the store but are never polled, so their age would alarm for nothing)."""
    names = {source.name for source in settings.sources}
    return Metrics(
        queue_depth=store.pending_delivery_count,
        last_successes=lambda: {
            s.name: s.last_success for s in store.source_states() if s.name in names
        },
        now=utc_now,
        sources=[s.name for s in settings.sources],
    )


@contextmanager
def _one_daemon(store: Store) -> Iterator[bool]:
    """One daemon per SQLite file: a second one stops here with one line (status 2).
    Gives whether this one holds the file's lock (then it is the only poller)."""
    with ExitStack() as held:
        with errors_exit():
            sole = held.enter_context(store.one_daemon())
        yield sole


@contextmanager
def _on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT ask for a clean stop; a second SIGINT (Ctrl-C again) stops at
    once, without waiting for the polls and sends in hand (watcher/cli/interrupts.py)."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with second_interrupt_exits(stopping.set):
            yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _health_endpoint(
    settings: Settings, metrics: Metrics, daemon: Daemon, store: Store
) -> Iterator[None]:
    """The `http:` endpoint (/healthz, /livez, /metrics) when configured; a port in use is
    fatal. Healthy means alive, the database answering (watcher/daemon/probes.py) and the sender's
    outcomes recorded (Outbox.recording_health)."""
    if settings.http is None:
        yield
        return
    checks = [daemon.alive, DatabaseCheck(store.ping, every=settings.http.database_check)]
    if daemon.outbox is not None:
        checks.append(daemon.outbox.recording_health)
    server = HealthServer(
        settings.http.host, settings.http.port, metrics=metrics,
        healthy=all_of(*checks), alive=daemon.alive,
    )
    with errors_exit():
        server.start()
    try:
        yield
    finally:
        server.stop()
