"""`watcher rules check|test` and `watcher match`: the rules, and matching without storing.

`watcher rules check` loads the rules and nothing more: the matcher (spaCy, the compile)
is imported by the commands that build one, `rules backtest` (the store) when it runs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from watcher.cli.common import (
    BATCH,
    EXIT_FAILED,
    EXIT_OK,
    batched,
    errors_exit,
    load_matcher,
    print_matches,
    print_unreadable,
    reader_may_leave,
)
from watcher.cli.lazy import Lazy, LazyGroup
from watcher.model import Article
from watcher.rules.load import load_rules
from watcher.sources.inputs import read_inputs
from watcher.text.pipelines import check_pipeline

if TYPE_CHECKING:
    from watcher.config.settings import Settings

# The subcommands of `rules` kept elsewhere, as in watcher/cli/main.py's COMMANDS.
RULES_COMMANDS = {
    "backtest": Lazy(
        "watcher.cli.backtest:backtest",
        "Match the stored articles again with the rules (only RULE... when given) or a "
        "query; print what `watcher match` prints for them, then per rule on stderr: "
        "matches now, stored matches, added (now, not stored) and dropped (stored, not now).",
    ),
}


@click.group(cls=LazyGroup, lazy=RULES_COMMANDS)
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
    from watcher.engine.matcher import run_rule_examples, skipped_examples

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


@click.command("match")
@click.option("--rules", "rules_path", default=None,
              help="Rules file or directory [env WATCHER_RULES; default rules/].")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              help="text: for people, matched words highlighted; jsonl: one JSON object per match.")
@click.option("--held", is_flag=True,
              help="Also print matches held back by their context (a rule's exclude:).")
@click.argument("inputs", nargs=-1, required=True)
@click.pass_obj
def match(
    settings: Settings, rules_path: str | None, output_format: str, held: bool,
    inputs: tuple[str, ...],
) -> None:
    """Match articles from INPUT files against the rules; store and send nothing."""
    matcher = load_matcher(settings, rules_path)
    unreadable = 0
    with reader_may_leave():
        batch_size = 1 if "-" in inputs else BATCH  # standard input: answer line by line
        for batch in batched(read_inputs(list(inputs), stdin=sys.stdin), batch_size):
            unreadable += print_unreadable(batch)
            articles = [item for item in batch if isinstance(item, Article)]
            for article, found in zip(articles, matcher.match_many(articles), strict=True):
                print_matches(found, article.source, output_format, held=held)
    sys.exit(EXIT_FAILED if unreadable else EXIT_OK)
