"""`watcher rules backtest`: the rules (or a query) over the stored articles, as `match`
prints them, and per rule what a changed rule adds to or drops from its stored matches."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from watcher.cli.common import (
    EXIT_OK,
    chosen_rules,
    errors_exit,
    matcher_of,
    open_store,
    print_matches,
    reader_may_leave,
    utc_now,
)
from watcher.config.settings import Settings
from watcher.ingest.backtest import Tally, count, matched_again
from watcher.ingest.pipeline import rule_version
from watcher.rules.ast import Rule
from watcher.when import parse_since


@click.command("backtest")
@click.option("--rules", "rules_path", default=None,
              help="Rules file or directory [env WATCHER_RULES; default rules/].")
@click.option("--query", default=None, metavar="Q",
              help="Backtest this query (rule id `query`) instead of rules; it may use @lists.")
@click.option("--since", default=None, metavar="WHEN",
              help="Only articles stored since WHEN: an ISO 8601 date or time (UTC unless it "
                   "says), or an age such as 90m, 24h, 7d.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Only the newest N of those articles.")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              help="As for `watcher match`.")
@click.option("--held", is_flag=True,
              help="Also print matches held back by their context (a rule's exclude:).")
@click.argument("rule_ids", nargs=-1, metavar="[RULE]...")
@click.pass_obj
def backtest(
    settings: Settings, rules_path: str | None, query: str | None, since: str | None,
    limit: int | None, output_format: str, held: bool, rule_ids: tuple[str, ...],
) -> None:
    """Match the stored articles again with the rules (only RULE... when given) or a query;
    print what `watcher match` prints for them, then per rule on stderr: matches now,
    stored matches, added (now, not stored) and dropped (stored, not now)."""
    if query is not None and rule_ids:
        raise click.UsageError("give rule ids or --query, not both")
    try:
        since_time = None if since is None else parse_since(since, utc_now())
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    ruleset = chosen_rules(settings, rules_path, rule_ids, query)
    matcher = matcher_of(settings, ruleset)
    tallies = {rule.id: Tally() for rule in ruleset.rules}
    whole_set = query is None and not rule_ids  # a rule gone from the set drops its matches
    articles = 0
    with open_store(settings) as store, reader_may_leave(), errors_exit():
        for text, matches in matched_again(store, matcher, since=since_time, limit=limit):
            print_matches(matches, text.article.source, output_format, held=held)
            count(tallies, text, matches, whole_set=whole_set)
            articles += 1
    for line in summary(articles, ruleset.rules, tallies):
        click.echo(line, err=True)
    sys.exit(EXIT_OK)


def summary(count: int, rules: Sequence[Rule], tallies: dict[str, Tally]) -> list[str]:
    """`backtest: N articles`, then per rule (the rule set's order, then rules no longer in
    it) its counts, a note when its stored matches were made by another version of it, and
    the articles added (+) and dropped (-)."""
    lines = [f"backtest: {count} article{'s' if count != 1 else ''}"]
    current = {rule.id: rule_version(rule) for rule in rules}
    for rule_id, tally in tallies.items():
        added, dropped = tally.added(), tally.dropped()
        held = f" ({tally.held} held back)" if tally.held else ""
        line = (f"{rule_id}: now {len(tally.now)}{held}, stored {len(tally.stored)}, "
                f"added {len(added)}, dropped {len(dropped)}")
        version = current.get(rule_id)
        if version is None:
            line += " (no longer in the rules)"
        elif tally.versions - {version}:
            line += " (stored by another version of the rule)"
        lines.append(line)
        lines += [f"  + {source} {article_id}" for source, article_id in added]
        lines += [f"  - {source} {article_id}" for source, article_id in dropped]
    return lines
