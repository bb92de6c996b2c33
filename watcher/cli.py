"""The `watcher` command line: parse arguments, call the pieces, format output.

No logic lives here; exit codes follow ../shared/docs/interfaces.md.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TypeVar

import click

from watcher.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    errors_exit,
    load_matcher,
    open_outbox,
    open_store,
    or_exit,
    reader_may_leave,
    use_clock,
    utc_now,
)
from watcher.cli_daemon import run, sources
from watcher.cli_notify import deliveries, notify, print_report
from watcher.config import Settings, environment, load_settings
from watcher.errors import InputError, WatcherError
from watcher.interrupts import EXIT_INTERRUPTED, raise_keyboard_interrupt, second_interrupt_exits
from watcher.logs import use_command_logging
from watcher.matcher import run_rule_examples, skipped_examples
from watcher.model import Article, Match
from watcher.output import (
    article_json,
    article_text,
    match_json,
    match_text,
    stored_match_json,
    stored_match_text,
)
from watcher.pipeline import Outcome, Pipeline
from watcher.rules.load import load_rules
from watcher.sources.inputs import read_inputs
from watcher.text.analysis import check_pipeline
from watcher.when import parse_since

DEFAULT_REPLAY_INPUT = "seeds/"
DEFAULT_LIMIT = 50
BATCH = 32  # articles analysed together: cheaper, and little waiting on stdin
T = TypeVar("T")


class Commands(click.Group):
    """The top command group: Ctrl-C in any command ends it with one line and status 130,
    the shell's code for an interrupt (click says `Aborted!` with 1, which here means
    unreadable input); a second Ctrl-C does not wait for threads (watcher/interrupts.py)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            with second_interrupt_exits(raise_keyboard_interrupt):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("watcher: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", default=None,
              help="Configuration file [env WATCHER_CONFIG; default ./watcher.yaml when present].")
@click.option("--db", default=None, help="SQLAlchemy database URL [env WATCHER_DB].")
@click.option("--pipeline", default=None,
              help="spaCy pipeline: 'blank:en' (default) or an installed trained pipeline "
                   "such as en_core_web_sm [env WATCHER_PIPELINE; config key pipeline].")
@click.version_option(package_name="watcher")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, db: str | None, pipeline: str | None
) -> None:
    """watcher: hear once, fast, when something specific happens in a specific place."""
    use_command_logging()
    use_clock(ctx.obj if callable(ctx.obj) else None)
    with errors_exit():
        ctx.obj = load_settings(config_path, {"db": db, "pipeline": pipeline}, environment())


@cli.group()
def rules() -> None:
    """Check and test watch rules."""


@rules.command("check")
@click.argument("path", required=False)
@click.pass_obj
def rules_check(settings: Settings, path: str | None) -> None:
    """Load and validate every rule file under PATH (default: the configured rules/)."""
    with errors_exit():
        check_pipeline(settings.pipeline)  # the rules are of no use without it
        ruleset = load_rules(path or settings.rules, channels=settings.channel_names)
    for warning in ruleset.warnings:  # loaded, but likely not what the author meant
        click.echo(str(warning), err=True)
    click.echo(f"{len(ruleset.rules)} rules OK")


@rules.command("test")
@click.argument("path", required=False)
@click.pass_obj
def rules_test(settings: Settings, path: str | None) -> None:
    """Run every rule's `tests:` examples."""
    matcher = load_matcher(settings, path)
    count, failures = run_rule_examples(matcher)
    for failure in failures:  # the report itself, so on stdout with the summary
        click.echo(f"FAIL {failure.describe()}")
    skipped = skipped_examples(matcher)
    summary = f"{count - len(failures)} passed, {len(failures)} failed"
    if skipped:
        summary += (f", {sum(skipped.values())} not run (disabled: "
                    f"{', '.join(sorted(skipped))})")
    click.echo(summary)
    sys.exit(EXIT_FAILED if failures else EXIT_OK)


@cli.command("match")
@click.option("--rules", "rules_path", default=None,
              help="Rules file or directory [env WATCHER_RULES; default rules/].")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              help="text: for people, matched words highlighted; jsonl: one JSON object per match.")
@click.argument("inputs", nargs=-1, required=True)
@click.pass_obj
def match(
    settings: Settings, rules_path: str | None, output_format: str, inputs: tuple[str, ...]
) -> None:
    """Match articles from INPUT files against the rules; store and send nothing."""
    matcher = load_matcher(settings, rules_path)
    unreadable = 0
    with reader_may_leave():
        batch_size = 1 if "-" in inputs else BATCH  # standard input: answer line by line
        for batch in _batched(read_inputs(list(inputs), stdin=sys.stdin), batch_size):
            unreadable += _print_unreadable(batch)
            articles = [item for item in batch if isinstance(item, Article)]
            for article, found in zip(articles, matcher.match_many(articles), strict=True):
                _emit(found, article.source, output_format)
    sys.exit(EXIT_FAILED if unreadable else EXIT_OK)


@cli.command("replay")
@click.option("--rules", "rules_path", default=None,
              help="Rules file or directory [env WATCHER_RULES; default rules/].")
@click.option("--no-notify", is_flag=True,
              help="Store and print new matches but queue no alerts for them.")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              help="text: for people; jsonl: one JSON object per new match.")
@click.argument("inputs", nargs=-1)
@click.pass_obj
def replay(
    settings: Settings,
    rules_path: str | None,
    no_notify: bool,
    output_format: str,
    inputs: tuple[str, ...],
) -> None:
    """Ingest INPUT (default seeds/) as if it had just arrived: dedupe, store, match, queue
    alerts, then send them. Prints only matches that are new; replaying the same input again
    prints nothing. What could not be sent stays pending for `watcher run` or `deliveries
    flush`."""
    matcher = load_matcher(settings, rules_path)
    with open_store(settings) as store:
        outbox = open_outbox(settings, store) if settings.channels and not no_notify else None
        pipeline = Pipeline(
            matcher=matcher,
            store=store,
            channels=settings.channels,
            notify=not no_notify,
            now=utc_now,
        )
        items = read_inputs(list(inputs) or [DEFAULT_REPLAY_INPUT], stdin=sys.stdin)
        tally: Counter[str] = Counter()  # read as it goes: an interrupt reports it
        try:
            with reader_may_leave():
                _ingest_all(pipeline, items, 1 if "-" in inputs else BATCH, output_format, tally)
            if outbox is not None:
                report = or_exit(outbox.send_due)
                print_report(report, or_exit(outbox.left_pending))
        except KeyboardInterrupt:
            click.echo(f"watcher: interrupted after storing {tally['new']} new article(s); "
                       "replaying the same input again goes on from there (what is stored is "
                       "skipped) and sends the alerts still queued", err=True)
            sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_FAILED if tally["unreadable"] else EXIT_OK)


def _ingest_all(
    pipeline: Pipeline,
    items: Iterable[Article | InputError],
    batch_size: int,
    output_format: str,
    tally: Counter[str],
) -> None:
    """Replay's ingest loop: print new matches and one line per input that could not be
    read or stored; count new articles and those failures in `tally`."""
    for batch in _batched(items, batch_size):
        tally["unreadable"] += _print_unreadable(batch)
        articles = [item for item in batch if isinstance(item, Article)]
        for outcome in _ingestor_exit(pipeline, articles):
            tally[outcome.status] += 1
            if outcome.status == "refused":
                click.echo(f"watcher: {outcome.article.id}: not stored: {outcome.reason}",
                           err=True)
                tally["unreadable"] += 1
            _emit(outcome.new_matches, outcome.article.source, output_format)


@cli.command("articles")
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


@cli.command("matches")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.option("--rule", "rule_id", default=None, help="Only this rule's matches.")
@click.option("--since", default=None, metavar="WHEN",
              help="Only matches since WHEN: an ISO 8601 date or time (UTC unless it says), "
                   "or an age such as 90m, 24h, 7d.")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="At most this many matches, newest first.")
@click.pass_obj
def matches(
    settings: Settings, output_format: str, rule_id: str | None, since: str | None, limit: int
) -> None:
    """Stored matches, newest first."""
    try:
        since_time = None if since is None else parse_since(since, utc_now())
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    with open_store(settings) as store, reader_may_leave():
        found = or_exit(lambda: store.matches(rule=rule_id, since=since_time, limit=limit))
        for stored in found:
            if output_format == "jsonl":
                click.echo(json.dumps(stored_match_json(stored), ensure_ascii=False))
            else:
                click.echo(stored_match_text(stored))


@cli.group()
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


def _ingestor_exit(pipeline: Pipeline, articles: list[Article]) -> Iterator[Outcome]:
    """Ingest articles in order; a database failure stops the replay (nothing half-written:
    the article's transaction rolled back, and replaying again later resumes there)."""
    outcomes = pipeline.ingest_many(articles)
    with errors_exit("not stored: "):
        yield from outcomes


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _print_unreadable(items: Iterable[object]) -> int:
    """Print each unreadable input's one line; returns how many there were."""
    errors = [item for item in items if isinstance(item, InputError)]
    for error in errors:
        click.echo(f"watcher: {error}", err=True)
    return len(errors)


def _emit(matches: Iterable[Match], source: str, output_format: str) -> None:
    for found in matches:
        if output_format == "jsonl":
            click.echo(json.dumps(match_json(found), ensure_ascii=False))
        else:
            click.echo(match_text(found, source))


cli.add_command(run)
cli.add_command(sources)
cli.add_command(deliveries)
cli.add_command(notify)


def main() -> None:
    """Console entry point: our own errors become one line, never a traceback."""
    try:
        cli(standalone_mode=True)
    except WatcherError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_FAILED)

