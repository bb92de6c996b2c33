"""`watcher articles`, `watcher matches` and `watcher db`: what the store holds, its schema
and its pruning."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from watcher.cli.common import EXIT_FAILED, open_store, or_exit, reader_may_leave, utc_now
from watcher.cli.output import article_json, article_text, stored_match_text
from watcher.config.settings import Settings, parse_retention
from watcher.engine import place_names
from watcher.ingest.shapes import stored_match_json, timestamp
from watcher.when import format_duration, parse_since

if TYPE_CHECKING:
    from watcher.store import PruneReport

DEFAULT_LIMIT = 50


@click.command("articles")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="At most this many articles, newest first.")
@click.pass_obj
def articles(settings: Settings, output_format: str, limit: int) -> None:
    """Stored articles, newest first."""
    with open_store(settings) as store, reader_may_leave():
        for stored in or_exit(lambda: store.articles(limit=limit)):
            if output_format == "jsonl":
                click.echo(json.dumps(article_json(stored), ensure_ascii=False))
            else:
                click.echo(article_text(stored))


@click.command("matches")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.option("--rule", "rule_id", default=None, help="Only this rule's matches.")
@click.option("--since", default=None, metavar="WHEN",
              help="Only matches since WHEN: an ISO 8601 date or time (UTC unless it says), "
                   "or an age such as 90m, 24h, 7d.")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="At most this many matches, newest first.")
@click.option("--held", is_flag=True,
              help="Also show matches held back by their context (a rule's exclude:).")
@click.option("--place", default=None, metavar="NAME",
              help="Only matches located at this gazetteer place or anywhere inside it: a "
                   "name (\"Aleppo Governorate\") or a place id (admin1:SY.09).")
@click.pass_obj
def matches(
    settings: Settings, output_format: str, rule_id: str | None, since: str | None, limit: int,
    held: bool, place: str | None,
) -> None:
    """Stored matches, newest first."""
    try:
        since_time = None if since is None else parse_since(since, utc_now())
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    place_id = None if place is None else _place_id(place)
    with open_store(settings) as store, reader_may_leave():
        found = or_exit(lambda: store.matches(rule=rule_id, since=since_time, limit=limit,
                                                 held=held, place=place_id))
        for stored in found:
            if output_format == "jsonl":
                click.echo(json.dumps(stored_match_json(stored), ensure_ascii=False))
            else:
                click.echo(stored_match_text(stored))


def _place_id(name: str) -> str:
    """The id of the gazetteer place `name` means; a usage error listing the places an
    unknown or ambiguous name could be (engine/place_names.py)."""
    try:
        return place_names.place_id(name, " (--place ID)")
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--place") from None


@click.group()
def db() -> None:
    """The database: its schema, and pruning what is past the retention window."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Create or migrate the schema to REVISION (default: the newest)."""
    with open_store(settings, migrate=False) as store:
        or_exit(lambda: store.upgrade(revision))
        click.echo(f"database at revision {store.current_revision()}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(settings: Settings, revision: str) -> None:
    """Migrate the schema back to REVISION ('base' removes every table)."""
    with open_store(settings, migrate=False) as store:
        or_exit(lambda: store.downgrade(revision))
        click.echo(f"database at revision {store.current_revision() or 'base'}")


@db.command("prune")
@click.option("--older-than", "older_than", default=None, metavar="AGE",
              help="Remove articles fetched longer ago than AGE (a duration of at least 7d, "
                   "such as 180d) [default: the retention: setting].")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.pass_obj
def db_prune(settings: Settings, older_than: str | None, dry_run: bool,
             output_format: str) -> None:
    """Remove articles past the retention window, with their keys, bands, matches and
    emptied stories, except those a pending alert or open triage still needs."""
    window = _window(older_than, settings.retention)
    before = utc_now() - timedelta(seconds=window)
    with open_store(settings) as store:
        report = or_exit(lambda: store.prune(before, dry_run=dry_run))
    if report.busy:
        click.echo("watcher: another process is pruning this database now; nothing done",
                   err=True)
        sys.exit(EXIT_FAILED)
    if output_format == "jsonl":
        click.echo(json.dumps(prune_json(report, window)))
    else:
        click.echo(prune_text(report, window))


def _window(older_than: str | None, retention: int | None) -> int:
    """The window in seconds: --older-than, else the `retention:` setting; neither is a
    usage error (status 2)."""
    if older_than is None:
        if retention is None:
            raise click.UsageError("no retention window: pass --older-than AGE (such as "
                                   "180d) or set retention: in watcher.yaml")
        return retention
    try:
        seconds = parse_retention(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    if seconds is None:
        raise click.BadParameter("must be a duration of at least 7d, such as 180d",
                                 param_hint="--older-than")
    return seconds


def prune_json(report: PruneReport, window: int) -> dict[str, Any]:
    """`watcher db prune --format jsonl`: one line."""
    return {"older_than": format_duration(window), "before": timestamp(report.before),
            "dry_run": report.dry_run, "removed": report.removed, "kept": report.kept}


def prune_text(report: PruneReport, window: int) -> str:
    verb = "would remove" if report.dry_run else "removed"
    removed = ", ".join(f"{table} {rows}" for table, rows in report.removed.items())
    kept = report.kept
    return (
        f"{verb} what was fetched before {timestamp(report.before)} (older than "
        f"{format_duration(window)}): {removed}\n"
        f"kept {sum(kept.values())} older articles: {kept['pending_alert']} with a pending "
        f"alert, {kept['open_triage']} in stories under triage, {kept['newest_row']} holding "
        "the newest ids"
    )
