"""`watcher replay`: ingest saved articles as if they had just arrived, then send alerts."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta

import click

from watcher.cli.alerts import print_report
from watcher.cli.common import (
    BATCH,
    EXIT_FAILED,
    EXIT_OK,
    batched,
    errors_exit,
    load_matcher,
    new_pipeline,
    open_outbox,
    open_store,
    or_exit,
    print_matches,
    print_unreadable,
    reader_may_leave,
)
from watcher.cli.interrupts import EXIT_INTERRUPTED
from watcher.config.settings import Settings
from watcher.errors import InputError
from watcher.ingest.pipeline import Outcome, Pipeline
from watcher.ingest.routing import NEWS, Freshness
from watcher.model import Article
from watcher.sources.inputs import read_inputs
from watcher.when import parse_duration

DEFAULT_REPLAY_INPUT = "seeds/"


@click.command("replay")
@click.option("--rules", "rules_path", default=None,
              help="Rules file or directory [env WATCHER_RULES; default rules/].")
@click.option("--no-notify", is_flag=True,
              help="Store and print new matches but queue no alerts for them.")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              help="text: for people; jsonl: one JSON object per new match.")
@click.option("--max-age", "max_age", default=None, metavar="AGE",
              help="Treat articles published longer than AGE ago (3d, 12h) as old news: "
                   "stored and matched, not alerted nor printed. Default: no limit (replay "
                   "ignores max_age in watcher.yaml).")
@click.argument("inputs", nargs=-1)
@click.pass_obj
def replay(
    settings: Settings,
    rules_path: str | None,
    no_notify: bool,
    output_format: str,
    max_age: str | None,
    inputs: tuple[str, ...],
) -> None:
    """Ingest INPUT (default seeds/) as if it had just arrived: dedupe, store, match, queue
    alerts, then send them. Prints only matches that are new; replaying the same input again
    prints nothing. What could not be sent stays pending for `watcher run` or `deliveries
    flush`. Replay is no source's poll: no baseline, and max_age only with --max-age (seeds
    are old by nature)."""
    freshness = _freshness(max_age)
    matcher = load_matcher(settings, rules_path)
    with open_store(settings) as store:
        outbox = (open_outbox(settings, store, rules=rules_path)
                  if settings.channels and not no_notify else None)
        pipeline = new_pipeline(settings, store, matcher, notify=not no_notify)
        items = read_inputs(list(inputs) or [DEFAULT_REPLAY_INPUT], stdin=sys.stdin)
        tally: Counter[str] = Counter()  # read as it goes: an interrupt reports it
        try:
            with reader_may_leave():
                _ingest_all(pipeline, items, 1 if "-" in inputs else BATCH, output_format, tally,
                            freshness)
            if outbox is not None:
                report = or_exit(outbox.send_due)
                print_report(report, or_exit(outbox.left_pending))
        except KeyboardInterrupt:
            click.echo(f"watcher: interrupted after storing {tally['new']} new article(s); "
                       "replaying the same input again goes on from there (what is stored is "
                       "skipped) and sends the alerts still queued", err=True)
            sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_FAILED if tally["unreadable"] else EXIT_OK)


def _freshness(max_age: str | None) -> Freshness:
    """Replay's old news: none, unless --max-age says how old an article may be to alert."""
    if max_age is None:
        return NEWS
    try:
        seconds = parse_duration(max_age)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--max-age") from None
    return Freshness(max_age=timedelta(seconds=seconds) if seconds else None)


def _ingest_all(
    pipeline: Pipeline,
    items: Iterable[Article | InputError],
    batch_size: int,
    output_format: str,
    tally: Counter[str],
    freshness: Freshness = NEWS,
) -> None:
    """Replay's ingest loop: print new matches and one line per input that could not be
    read or stored; count new articles and those failures in `tally`."""
    for batch in batched(items, batch_size):
        tally["unreadable"] += print_unreadable(batch)
        articles = [item for item in batch if isinstance(item, Article)]
        for outcome in _ingest_or_exit(pipeline, articles, freshness):
            tally[outcome.status] += 1
            if outcome.status == "refused":
                click.echo(f"watcher: {outcome.article.id}: not stored: {outcome.reason}",
                           err=True)
                tally["unreadable"] += 1
            print_matches(outcome.new_matches, outcome.article.source, output_format)


def _ingest_or_exit(
    pipeline: Pipeline, articles: list[Article], freshness: Freshness
) -> Iterator[Outcome]:
    """Ingest articles in order; a database failure stops the replay (nothing half-written:
    the article's transaction rolled back, and replaying again later resumes there)."""
    outcomes = pipeline.ingest_many(articles, freshness)
    with errors_exit("not stored: "):
        yield from outcomes
