"""The `watcher` command line: parse arguments, call the pieces, format output.

No logic lives here; exit codes follow ../shared/docs/interfaces.md.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable

import click

from watcher.errors import InputError, RuleSetError, WatcherError
from watcher.matcher import Matcher, run_rule_examples
from watcher.model import Article, Match
from watcher.rules.load import load_rules
from watcher.sources.inputs import read_inputs
from watcher.text.analysis import BLANK_PIPELINE

EXIT_OK, EXIT_FAILED, EXIT_RULES = 0, 1, 2
MARKED = re.compile(r"\[([^\[\]]*)\]")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="WATCHER_CONFIG", default=None,
              help="Configuration file (default ./watcher.yaml when present).")
@click.option("--db", envvar="WATCHER_DB", default=None, help="SQLAlchemy database URL.")
@click.option("--pipeline", envvar="WATCHER_PIPELINE", default=BLANK_PIPELINE, show_default=True,
              help="spaCy pipeline: 'blank:en' or an installed package such as en_core_web_sm.")
@click.version_option(package_name="watcher")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None, pipeline: str) -> None:
    """watcher: hear once, fast, when something specific happens in a specific place."""
    ctx.obj = {"config": config_path, "db": db, "pipeline": pipeline}


@cli.group()
def rules() -> None:
    """Check and test watch rules."""


@rules.command("check")
@click.argument("path", default="rules/")
def rules_check(path: str) -> None:
    """Load and validate every rule file under PATH."""
    try:
        ruleset = load_rules(path)
    except RuleSetError as error:
        _print_rule_errors(error)
        sys.exit(EXIT_RULES)
    click.echo(f"{len(ruleset.rules)} rules OK")


@rules.command("test")
@click.argument("path", default="rules/")
@click.pass_context
def rules_test(ctx: click.Context, path: str) -> None:
    """Run every rule's `tests:` examples."""
    matcher = _load_matcher(ctx, path)
    count, failures = run_rule_examples(matcher)
    for failure in failures:
        click.echo(f"FAIL {failure.describe()}", err=True)
    click.echo(f"{count - len(failures)} passed, {len(failures)} failed")
    sys.exit(EXIT_FAILED if failures else EXIT_OK)


@cli.command("match")
@click.option("--rules", "rules_path", envvar="WATCHER_RULES", default="rules/", show_default=True)
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text")
@click.argument("inputs", nargs=-1, required=True)
@click.pass_context
def match(ctx: click.Context, rules_path: str, output_format: str, inputs: tuple[str, ...]) -> None:
    """Match articles from INPUT files against the rules; store and send nothing."""
    matcher = _load_matcher(ctx, rules_path)
    unreadable = 0
    for item in read_inputs(list(inputs), stdin=sys.stdin):
        if isinstance(item, InputError):
            click.echo(f"watcher: {item}", err=True)
            unreadable += 1
            continue
        _emit(matcher.match(item), item, output_format)
    sys.exit(EXIT_FAILED if unreadable else EXIT_OK)


def _load_matcher(ctx: click.Context, path: str) -> Matcher:
    try:
        return Matcher.from_path(path, pipeline=ctx.obj["pipeline"])
    except RuleSetError as error:
        _print_rule_errors(error)
        sys.exit(EXIT_RULES)
    except OSError as error:  # e.g. a trained pipeline named but not installed
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
