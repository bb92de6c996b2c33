"""`watcher articles`, `watcher matches` and `watcher db`: what the store holds, its schema."""

from __future__ import annotations

import json

import click

from watcher.cli.common import open_store, or_exit, reader_may_leave, utc_now
from watcher.cli.output import article_json, article_text, stored_match_text
from watcher.config.settings import Settings
from watcher.engine import place_names
from watcher.ingest.shapes import stored_match_json
from watcher.when import parse_since

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
    """The database schema."""


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
