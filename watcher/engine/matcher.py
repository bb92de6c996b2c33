"""The match stage as one object: load rules, analyse articles, return matches.

Shared by `watcher match`, `watcher rules test`, the benchmarks and the pipeline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from watcher.engine.context_triggers import Triggers
from watcher.engine.context_triggers_load import load_triggers
from watcher.engine.core import Engine
from watcher.errors import WatcherError
from watcher.model import Article, ContextLabelName, Match
from watcher.rules.ast import Example, Rule, RuleSet
from watcher.rules.compile import Compiler
from watcher.rules.gc_pause import collector_paused
from watcher.rules.load import RuleCache, load_rules
from watcher.text.analysis import BLANK_PIPELINE, Analyzer

log = logging.getLogger("watcher.matcher")

# Every word type met stays known for good (spaCy's lexeme and string, the analyser's
# type, the engine's per-type tables: about 1.6 kB each), and news keeps bringing new
# ones (names, numbers, typos). Past this many, the matcher starts over on a fresh
# analyser, so a long run's memory for word types stays near 300 MB; the price is
# relearning the common words (under a second), about once per 50 million words of news
# (FA-KES's vocabulary growth extrapolated; docs/architecture.md, "Memory stays bounded").
MAX_WORD_TYPES = 200_000


class Matcher:
    """An analyser and an engine compiled from one rule set."""

    def __init__(
        self, rules: RuleSet, analyzer: Analyzer, *, max_word_types: int = MAX_WORD_TYPES,
        context: Triggers | None = None, exclude: tuple[ContextLabelName, ...] = (),
    ) -> None:
        """`context`: the trigger lists that label matches, the shipped ones by default;
        `exclude`: the labels that hold back matches of rules without their own (watcher.yaml's
        `context.exclude`)."""
        self.rules = rules
        self.context = context
        self.exclude = exclude
        self.max_word_types = max_word_types
        self._renew_at = max_word_types  # raised after a renewal that failed
        self.analyzer = analyzer
        self.engine = self._engine_for(analyzer)
        # The analyser's type table and the engine's caches grow as new words arrive, so
        # one article at a time: the daemon polls several feeds in threads.
        self._lock = threading.Lock()

    def _engine_for(self, analyzer: Analyzer) -> Engine:
        return Engine(
            Compiler(analyzer).compile(self.rules.rules), analyzer, context=self.context,
            exclude=self.exclude,
        )

    def _renew_when_full(self) -> None:
        """Start over on a fresh analyser once the word types met pass the limit; called
        between calls, when no analysed text of the old analyser is in use. If the
        pipeline cannot be loaded again (uninstalled or moved during the run), matching
        goes on with the old analyser and the renewal is tried again a quarter of the
        limit later: memory grows, but no article is left unmatched."""
        types = len(self.analyzer.types)
        if types <= self._renew_at:
            return
        try:
            analyzer = self.analyzer.renewed()
            engine = self._engine_for(analyzer)
        except WatcherError as error:
            self._renew_at = types + max(1, self.max_word_types // 4)
            log.warning("event=word_types_renew_failed types=%d error=%r next_try_at=%d",
                        types, str(error), self._renew_at)
            return
        self.analyzer, self.engine = analyzer, engine
        self._renew_at = self.max_word_types
        log.info("event=word_types_renewed types=%d limit=%d", types, self.max_word_types)

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        pipeline: str = BLANK_PIPELINE,
        channels: Collection[str] | None = None,
        context_triggers: str | Path | None = None,
        context_exclude: tuple[ContextLabelName, ...] = (),
        rule_cache: RuleCache | None = None,
    ) -> Matcher:
        """Load and compile a rules path; raises RuleSetError with every problem, and
        ConfigError for a bad `context_triggers` file (watcher.yaml's `context.triggers`).
        `rule_cache`: the files as last read, the daemon's reloads read only those changed."""
        return cls.from_rules(
            load_rules(path, channels=channels, cache=rule_cache), pipeline=pipeline,
            context_triggers=context_triggers, context_exclude=context_exclude,
        )

    @classmethod
    def from_rules(
        cls,
        rules: RuleSet,
        *,
        pipeline: str = BLANK_PIPELINE,
        context_triggers: str | Path | None = None,
        context_exclude: tuple[ContextLabelName, ...] = (),
    ) -> Matcher:
        """Compile rules already loaded (`watcher explain` and `rules backtest` pick some of
        a rule set, or make one of a query) with the configured pipeline and context."""
        with collector_paused():
            analyzer = Analyzer(pipeline)
            context = load_triggers(analyzer.words, context_triggers) if context_triggers else None
            return cls(rules, analyzer, context=context, exclude=context_exclude)

    def match(self, article: Article, *, check_sources: bool = True) -> list[Match]:
        with self._lock:
            self._renew_when_full()
            text = self.analyzer.analyse(article)
            return self.engine.match(text, check_sources=check_sources)

    def match_many(self, articles: Sequence[Article]) -> list[list[Match]]:
        """Matches per article, in order; analysing articles together is cheaper."""
        with self._lock:
            self._renew_when_full()
            return [self.engine.match(text) for text in self.analyzer.analyse_many(articles)]


@dataclass(frozen=True)
class ExampleFailure:
    """A rule's `tests:` example that did not behave as written."""

    rule: Rule
    example: Example
    expected_match: bool

    def describe(self) -> str:
        wanted = "should match but did not" if self.expected_match else "matched but should not"
        where = self.example.line or self.rule.line  # the example's own line when known
        return f"{self.rule.file}:{where}: {self.rule.id}: {wanted}: " + (
            self.example.describe()
        )


def skipped_examples(matcher: Matcher) -> dict[str, int]:
    """Disabled rules with examples, and how many each has: `rules test` does not run
    them (a disabled rule matches nothing) but says so."""
    return {
        rule.id: len(rule.tests.match) + len(rule.tests.no_match)
        for rule in matcher.rules.rules
        if not rule.enabled and (rule.tests.match or rule.tests.no_match)
    }


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
