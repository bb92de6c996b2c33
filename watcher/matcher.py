"""The match stage as one object: load rules, analyse articles, return matches.

Shared by `watcher match`, `watcher rules test`, the benchmarks and (later) the pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from watcher.engine import Engine
from watcher.model import Article, Match
from watcher.rules.ast import Example, Rule, RuleSet
from watcher.rules.compile import Compiler
from watcher.rules.load import load_rules
from watcher.text.analysis import BLANK_PIPELINE, Analyzer


class Matcher:
    """An analyser and an engine compiled from one rule set."""

    def __init__(self, rules: RuleSet, analyzer: Analyzer) -> None:
        self.rules = rules
        self.analyzer = analyzer
        index = Compiler(analyzer).compile(rules.rules)
        self.engine = Engine(index, analyzer)
        # The analyser's type table and the engine's caches grow as new words arrive, so
        # one article at a time: the daemon polls several feeds in threads.
        self._lock = threading.Lock()

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        pipeline: str = BLANK_PIPELINE,
        channels: Collection[str] | None = None,
    ) -> Matcher:
        """Load and compile a rules path; raises RuleSetError with every problem."""
        rules = load_rules(path, channels=channels)
        return cls(rules, Analyzer(pipeline))

    def match(self, article: Article, *, check_sources: bool = True) -> list[Match]:
        with self._lock:
            text = self.analyzer.analyse(article)
            return self.engine.match(text, check_sources=check_sources)

    def match_many(self, articles: Sequence[Article]) -> list[list[Match]]:
        """Matches per article, in order; analysing articles together is cheaper."""
        with self._lock:
            return [self.engine.match(text) for text in self.analyzer.analyse_many(articles)]


@dataclass(frozen=True)
class ExampleFailure:
    """A rule's `tests:` example that did not behave as written."""

    rule: Rule
    example: Example
    expected_match: bool

    def describe(self) -> str:
        wanted = "should match but did not" if self.expected_match else "matched but should not"
        return f"{self.rule.file}:{self.rule.line}: {self.rule.id}: {wanted}: " + (
            self.example.describe()
        )


def run_rule_examples(matcher: Matcher) -> tuple[int, list[ExampleFailure]]:
    """Run every rule's examples through the full engine; returns (examples run, failures).

    Each example is an article of its own (a body, or a title and a body), matched
    against the whole rule set, so the examples exercise the index exactly as real
    articles do. Disabled rules' examples are not run (nor counted).
    """
    failures: list[ExampleFailure] = []
    count = 0
    for rule in matcher.rules.enabled():
        for expected, examples in ((True, rule.tests.match), (False, rule.tests.no_match)):
            for number, example in enumerate(examples, start=1):
                count += 1
                article = Article(
                    id=f"{rule.id}#example{number}", title=example.title, body=example.body
                )
                found = matcher.match(article, check_sources=False)
                if any(m.rule_id == rule.id for m in found) != expected:
                    failures.append(ExampleFailure(rule, example, expected))
    return count, failures
