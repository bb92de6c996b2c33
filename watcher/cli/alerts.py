"""Commands for alerts: `watcher deliveries [flush]` and `watcher notify test CHANNEL`.

They read and drain the outbox; the sending itself lives in watcher/notify/.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence

import click

from watcher.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    destinations,
    open_outbox,
    open_store,
    or_exit,
    reader_may_leave,
    renderer,
    utc_now,
)
from watcher.cli.output import delivery_json, delivery_text, timestamp
from watcher.config.settings import Settings
from watcher.notify.outbox import LeftPending, SendReport, send_test
from watcher.store import DeliveryHold
from watcher.store.owners import describe

DEFAULT_LIMIT = 50
DROPPED = "dropped by `watcher deliveries drop`"


@click.group("deliveries", invoke_without_command=True)
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.option(
    "--status",
    type=click.Choice(["pending", "sent", "dead", "silenced"]),
    default=None,
    help="Only deliveries in this state.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many, newest first.",
)
@click.pass_context
def deliveries(ctx: click.Context, output_format: str, status: str | None, limit: int) -> None:
    """The alert outbox: one line per (match, channel), newest first."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    with open_store(settings) as store, reader_may_leave():
        for stored in or_exit(lambda: store.deliveries(status=status, limit=limit)):
            if output_format == "jsonl":
                click.echo(json.dumps(delivery_json(stored), ensure_ascii=False))
            else:
                click.echo(delivery_text(stored))


@deliveries.command("flush")
@click.pass_obj
def deliveries_flush(settings: Settings) -> None:
    """Try every pending delivery now, ignoring backoff and digest schedules (after fixing
    an outage). Exit 0 when all were sent, 1 when some are still pending."""
    with open_store(settings) as store:
        outbox = open_outbox(settings, store)
        report = or_exit(outbox.flush)
        left = or_exit(outbox.left_pending)
        print_report(report, left)
    # still pending: failed again, held by a live sender, or for a channel this
    # configuration does not have
    sys.exit(EXIT_OK if not report.errors and not left.count else EXIT_FAILED)


@deliveries.command("drop")
@click.argument("channel")
@click.pass_obj
def deliveries_drop(settings: Settings, channel: str) -> None:
    """Give up CHANNEL's pending deliveries: they become dead and are never sent (for a
    channel removed or renamed since they were queued, which no sender will send to)."""
    with open_store(settings) as store:
        dropped = or_exit(lambda: store.drop_pending(channel, utc_now(), DROPPED))
    click.echo(f"dropped {dropped} pending deliveries for {channel} (now dead)")


@click.group("notify")
def notify() -> None:
    """Channels."""


@notify.command("test")
@click.argument("channel")
@click.pass_obj
def notify_test(settings: Settings, channel: str) -> None:
    """Send a test message to every URL of CHANNEL. Exit 0 when it was delivered, 1 not."""
    configured = destinations(settings)
    if channel not in configured:
        known = ", ".join(configured) or "none configured"
        click.echo(f"watcher: no channel {channel!r} (channels: {known})", err=True)
        sys.exit(EXIT_FAILED)  # nothing was delivered: interfaces.md's 1
    errors = send_test(configured[channel], renderer(settings), timeout=settings.notify.timeout)
    for error in errors:
        click.echo(f"watcher: {channel}: not delivered: {error}", err=True)
    if not errors:
        click.echo(f"test message delivered to {channel}")
    sys.exit(EXIT_FAILED if errors else EXIT_OK)


def print_report(report: SendReport, left: LeftPending) -> None:
    """What a drain did, on stderr (stdout stays for matches): one line per failure, one
    for deliveries left to another sender's live lease, one for those of channels this
    configuration lacks, then a summary."""
    for error, times in Counter(report.errors).items():  # a dead channel fails each alert
        alerts = f"{times} alert" + ("s" if times > 1 else "")
        click.echo(f"watcher: not delivered ({alerts}): {error}", err=True)
    if left.holds:
        click.echo(held_line(left.holds), err=True)
    if left.other_channels:
        click.echo(other_channels_line(left.other_channels), err=True)
    silenced = f", silenced {report.silenced}" if report.silenced else ""
    click.echo(
        f"watcher: alerts sent {report.sent}, retrying {report.retrying}, "
        f"dead {report.dead}{silenced}; pending now {left.count}",
        err=True,
    )


def other_channels_line(pending: Mapping[str, int]) -> str:
    """Deliveries no sender with this configuration will ever send: their channel is not
    in it (removed, renamed, or a command run with another config)."""
    total = sum(pending.values())
    which = ", ".join(f"{name} ({count})" for name, count in sorted(pending.items()))
    return (f"watcher: {total} pending for channels this configuration does not have: "
            f"{which}; they wait for a watcher configured with them "
            "(`watcher deliveries drop CHANNEL` gives them up)")


def held_line(holds: Sequence[DeliveryHold]) -> str:
    """Why deliveries are still pending though nothing failed: another sender's live
    lease holds them. Whose, how many, until when, in one line."""
    total = sum(hold.count for hold in holds)
    whose = ", ".join(f"{describe(hold.owner)} ({hold.count} until {timestamp(hold.until)})"
                      for hold in holds)
    if len(holds) == 1:
        return (f"watcher: {total} pending held by another sender's live lease: {whose}; "
                "it sends them, or they are tried again when the lease runs out")
    return (f"watcher: {total} pending held by other senders' live leases: {whose}; "
            "they send them, or they are tried again when the leases run out")
