"""The `watcher` command line: parse arguments, call the pieces, format output.

No logic lives here; exit codes follow ../shared/docs/interfaces.md.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import click

from watcher.config import Settings, environment, load_settings
from watcher.errors import ConfigError, InputError, RuleSetError, WatcherError
from watcher.matcher import Matcher, run_rule_examples
from watcher.model import Article, Match
from watcher.rules.load import load_rules
from watcher.sources.inputs import read_inputs

EXIT_OK, EXIT_FAILED, EXIT_RULES = 0, 1, 2
MARKED = re.compile(r"\[([^\[\]]*)\]")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    try:
        ctx.obj = load_settings(config_path, {"db": db, "pipeline": pipeline}, environment())
    except ConfigError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_RULES)


@cli.group()
def rules() -> None:
    """Check and test watch rules."""


@rules.command("check")
@click.argument("path", required=False)
@click.pass_obj
def rules_check(settings: Settings, path: str | None) -> None:
    """Load and validate every rule file under PATH (default: the configured rules/)."""
    try:
        ruleset = load_rules(path or settings.rules, channels=settings.channels)
    except RuleSetError as error:
        _print_rule_errors(error)
        sys.exit(EXIT_RULES)
    click.echo(f"{len(ruleset.rules)} rules OK")


@rules.command("test")
@click.argument("path", required=False)
@click.pass_obj
def rules_test(settings: Settings, path: str | None) -> None:
    """Run every rule's `tests:` examples."""
    matcher = _load_matcher(settings, path)
    count, failures = run_rule_examples(matcher)
    for failure in failures:
        click.echo(f"FAIL {failure.describe()}", err=True)
    click.echo(f"{count - len(failures)} passed, {len(failures)} failed")
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
    matcher = _load_matcher(settings, rules_path)
    unreadable = 0
    with _reader_may_leave():
        for item in read_inputs(list(inputs), stdin=sys.stdin):
            if isinstance(item, InputError):
                click.echo(f"watcher: {item}", err=True)
                unreadable += 1
                continue
            _emit(matcher.match(item), item, output_format)
    sys.exit(EXIT_FAILED if unreadable else EXIT_OK)


@contextmanager
def _reader_may_leave() -> Iterator[None]:
    """`watcher match … | head`: a reader that closed the pipe has all it wanted, so stop
    quietly with status 0 (click would report status 1, which means unreadable input)."""
    try:
        yield
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)


def _load_matcher(settings: Settings, path: str | None) -> Matcher:
    try:
        return Matcher.from_path(
            path or settings.rules, pipeline=settings.pipeline, channels=settings.channels
        )
    except RuleSetError as error:
        _print_rule_errors(error)
        sys.exit(EXIT_RULES)
    except ConfigError as error:  # e.g. a trained pipeline named but not installed
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_RULES)


def _print_rule_errors(error: RuleSetError) -> None:
    for problem in error.errors:
        click.echo(str(problem), err=True)


def _emit(matches: Iterable[Match], article: Article, output_format: str) -> None:
    for found in matches:
        if output_format == "jsonl":
            click.echo(json.dumps(match_json(found), ensure_ascii=False))
        else:
            click.echo(match_text(found, article))


def match_json(found: Match) -> dict[str, object]:
    """The public JSON shape of a match (interfaces.md)."""
    return {
        "rule": found.rule_id,
        "article": found.article_id,
        "title": found.title,
        "severity": str(found.severity),
        "spans": [[s.start, s.end, s.field] for s in found.spans],
        "snippet": found.snippet,
    }


def match_text(found: Match, article: Article) -> str:
    """Two lines for people: what fired on which article, then the highlighted snippet."""
    head = click.style(found.rule_id, bold=True)
    where = f" ({article.source})" if article.source else ""
    snippet = MARKED.sub(lambda m: "[" + click.style(m.group(1), fg="yellow", bold=True) + "]",
                         found.snippet)
    return f"{head} [{found.severity}] {found.article_id}{where}: {found.title}\n    {snippet}"


def main() -> None:
    """Console entry point: our own errors become one line, never a traceback."""
    try:
        cli(standalone_mode=True)
    except WatcherError as error:
        click.echo(f"watcher: {error}", err=True)
        sys.exit(EXIT_FAILED)

