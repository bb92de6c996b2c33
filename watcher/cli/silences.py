"""`watcher silences add|list|expire`: the workspace's silences from the command line.

A silence holds back the alerts it matches for a while (docs/alerts.md, "Silences"); the
author is `--author`, else the login name, and every change is in the audit log.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import click

from watcher.cli.common import open_store, refused_exit, utc_now
from watcher.config.settings import Settings
from watcher.errors import WorkspaceError
from watcher.store.silences import RECENTLY, Silence, Silences, Status, iso, silence_json
from watcher.web.silence_input import described, ends_at_of, resolve_matchers
from watcher.when import as_utc

DEFAULT_LIMIT = 100


@click.group("silences")
def silences() -> None:
    """Silences: hold back the alerts they match (rule, tag, source, place, story)."""


@silences.command("add")
@click.option("--rule", default=None, help="A rule id.")
@click.option("--tag", default=None, help="One of a rule's tags.")
@click.option("--source", default=None, help="A source's name.")
@click.option("--place", default=None, metavar="NAME",
              help="A gazetteer place (a name or an id): it and every place inside it.")
@click.option("--story", type=int, default=None, help="A story's number.")
@click.option("--duration", default=None, help="How long: 4h, 90m, 2d.")
@click.option("--until", default=None, metavar="WHEN",
              help="Or when it ends: an ISO 8601 date or time (UTC unless it says).")
@click.option("--comment", required=True, help="Why: required, shown with it.")
@click.option("--author", default=None, help="Who silences [default: the login name].")
@click.pass_obj
def silences_add(settings: Settings, rule: str | None, tag: str | None, source: str | None,
                 place: str | None, story: int | None, duration: str | None,
                 until: str | None, comment: str, author: str | None) -> None:
    """Silence the alerts every given matcher holds for, from now until its end; prints
    the new silence's id and end."""
    now = utc_now()
    with refused_exit():
        matchers = resolve_matchers(
            {"rule": rule, "tag": tag, "source": source, "place": place, "story": story})
        ends_at = ends_at_of(now, now, duration=duration, until=_moment(until))
        with open_store(settings) as store:
            silence = Silences(store).add(matchers, ends_at=ends_at, comment=comment,
                                          author=author or _login(), now=now)
    click.echo(f"silence {silence.id} active until {iso(silence.ends_at)}")


@silences.command("list")
@click.option("--all", "show_all", is_flag=True,
              help=f"Also those expired in the last {RECENTLY.days} days.")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=DEFAULT_LIMIT,
              show_default=True, help="At most this many of each status.")
@click.pass_obj
def silences_list(settings: Settings, show_all: bool, output_format: str, limit: int) -> None:
    """Active silences (ending soonest first), then pending ones: their matchers, times,
    author and comment; with --all, then the recently expired ones. A status cut by
    --limit says how many more it has, on standard error."""
    now = utc_now()
    statuses: tuple[Status, ...] = ("active", "pending") + (("expired",) if show_all else ())
    with open_store(settings) as store:
        found = [(status, Silences(store).listing(now, status, expired_since=now - RECENTLY,
                                                  limit=limit)) for status in statuses]
    for status, listed in found:
        for silence in listed.silences:
            if output_format == "jsonl":
                click.echo(json.dumps(silence_json(silence, now), ensure_ascii=False))
            else:
                click.echo(silence_text(silence, now))
        if listed.more:
            click.echo(f"{listed.more} more {status} not shown (--limit {limit})", err=True)


@silences.command("expire")
@click.argument("silence_id", metavar="ID", type=int)
@click.option("--author", default=None, help="Who ends it [default: the login name].")
@click.pass_obj
def silences_expire(settings: Settings, silence_id: int, author: str | None) -> None:
    """End silence ID now: alerts it would hold back are sent from now on (those it held
    back stay silenced)."""
    now = utc_now()
    with refused_exit(), open_store(settings) as store:
        silence = Silences(store).expire(silence_id, by=author or _login(), now=now)
    click.echo(f"silence {silence.id} expired at {iso(silence.ends_at)}")


def silence_text(silence: Silence, now: datetime) -> str:
    """`#3 active until 2026-03-01T16:00Z rule=aleppo-blast place=Aleppo Governorate
    by ana: offensive noise`."""
    status = silence.status(now)
    when = {
        "active": f"until {iso(silence.ends_at)[:16]}Z",
        "pending": f"from {iso(silence.starts_at)[:16]}Z until {iso(silence.ends_at)[:16]}Z",
        "expired": f"ended {iso(silence.ends_at)[:16]}Z"
                   + (f" (expired by {silence.expired_by})" if silence.expired_by else ""),
    }[status]
    matchers = " ".join(f"{name}={described(name, value)}"
                        for name, value in silence.matchers.items())
    return f"#{silence.id} {status} {when} {matchers} by {silence.created_by}: {silence.comment}"


def _moment(text: str | None) -> datetime | None:
    """--until: an ISO 8601 date or time, UTC unless it names an offset."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WorkspaceError(f"--until {text!r} is not an ISO 8601 date or time") from None
    try:
        return as_utc(moment)
    except ValueError as error:
        raise WorkspaceError(f"--until: {error}") from None


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's user without a passwd entry)
        return "cli"


