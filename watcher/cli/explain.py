"""`watcher explain`: why one rule (or a query) does or does not match an article.

The explanation itself is watcher/engine/explain.py, its lines for people explain_text.py
(the workspace's story page shows the same); this module picks the rule, reads the articles
(INPUT files, or stored articles by id) and prints them.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from watcher.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    chosen_rules,
    matcher_of,
    open_store,
    or_exit,
    print_unreadable,
    reader_may_leave,
)
from watcher.config.settings import Settings
from watcher.engine.explain import Explanation, explain, step_json
from watcher.engine.explain_text import explanation_lines
from watcher.model import Article
from watcher.sources.inputs import read_inputs


@click.command("explain")
@click.option("--rules", "rules_path", default=None,
              help="Rules file or directory [env WATCHER_RULES; default rules/].")
@click.option("--rule", "rule_id", default=None, metavar="ID", help="The rule to explain.")
@click.option("--query", default=None, metavar="Q",
              help="A query to explain instead of a rule (it may use the rules' @lists).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              help="text: an indented tree for people; json: one JSON document.")
@click.argument("inputs", nargs=-1, required=True)
@click.pass_obj
def explain_command(
    settings: Settings, rules_path: str | None, rule_id: str | None, query: str | None,
    output_format: str, inputs: tuple[str, ...],
) -> None:
    """Explain, clause by clause, why a rule matches INPUT or not: INPUT as for `match`
    (files, a directory, - for JSON lines on stdin) or a stored article's id."""
    if (rule_id is None) == (query is None):
        raise click.UsageError("give one of --rule ID and --query Q")
    ruleset = chosen_rules(settings, rules_path, (rule_id,) if rule_id else (), query)
    rule = ruleset.rules[0]
    matcher = matcher_of(settings, ruleset, enable=True)
    compiled = matcher.engine.index.rules[0]
    articles, unreadable = _articles(settings, inputs)
    explained = [
        explain(matcher.engine, compiled, text, disabled=not rule.enabled)
        for text in matcher.analyzer.analyse_many(articles)
    ]
    with reader_may_leave():
        if output_format == "json":
            document = {"rule": rule.id, "query": rule.query_text,
                        "articles": [_article_json(e, a) for e, a in zip(explained, articles,
                                                                          strict=True)]}
            click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            for found, article in zip(explained, articles, strict=True):
                click.echo("\n".join(explanation_lines(found, article, _bold)))
    sys.exit(EXIT_FAILED if unreadable else EXIT_OK)


def _articles(settings: Settings, inputs: tuple[str, ...]) -> tuple[list[Article], int]:
    """The articles of INPUT files, then of stored ids (an INPUT that is no file); and how
    many inputs could not be read or found (one line each on stderr)."""
    files = [i for i in inputs if i == "-" or os.path.exists(i)]
    ids = [i for i in inputs if i not in files]
    read = list(read_inputs(files, stdin=sys.stdin))
    unreadable = print_unreadable(read)
    articles = [item for item in read if isinstance(item, Article)]
    if ids:
        with open_store(settings) as store:
            stored = or_exit(lambda: store.texts(ids=ids))
        articles += [text.article for text in stored]
        for missing in sorted(set(ids) - {text.article.id for text in stored}):
            click.echo(f"watcher: {missing}: no such file, and no stored article has this id",
                       err=True)
            unreadable += 1
    return articles, unreadable


def _bold(text: str) -> str:
    return click.style(text, bold=True)


def _article_json(found: Explanation, article: Article) -> dict[str, Any]:
    return {
        "article": found.article_id,
        "title": article.title,
        "source": article.source,
        "matches": found.matches,
        "disabled": found.disabled,
        "other_source": found.other_source,
        "context": [{"label": c.label, "cues": list(c.cues)} for c in found.context],
        "held": list(found.held),
        "tree": step_json(found.root),
    }
