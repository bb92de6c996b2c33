"""The rule set the workspace shows and the analyser its workbench matches with, kept for
the life of the application.

Loading spaCy's pipeline takes seconds, so it is built once, on the first workbench run,
not per request; the rules are loaded again only when a file under the rules path changes
(its name, size or mtime: RuleFiles), as the daemon reloads them. One workbench run at a
time uses the analyser (it is not safe across threads: its word table grows as it reads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from watcher.config.settings import Settings
from watcher.engine.context_triggers import Triggers
from watcher.engine.context_triggers_load import load_triggers
from watcher.engine.matcher import Matcher
from watcher.errors import RuleSetError, WatcherError, WorkspaceError
from watcher.rules.ast import Rule, RuleSet
from watcher.rules.load import RuleFiles, load_rules
from watcher.text.analysis import Analyzer

RUNS_AT_ONCE = 3  # one matching, two waiting; more are refused at once


class RulesUnavailable(Exception):
    """The rules path does not load: `lines` are its problems, one per line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class RuleBook:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._guard = threading.Lock()  # loading the rules
        self._using = threading.Lock()  # the analyser, one run at a time
        # runs under way or waiting for the analyser: one busy user (or a leaked feed
        # token) must not hold every server thread waiting for it
        self._queue = threading.BoundedSemaphore(RUNS_AT_ONCE)
        self._files: RuleFiles | None = None
        self._rules: RuleSet | None = None
        self._problem: RulesUnavailable | None = None
        self._analyzer: Analyzer | None = None
        self._triggers: Triggers | None = None

    def rules(self) -> RuleSet:
        """The rule set as its files are now; RulesUnavailable when they do not load."""
        files = RuleFiles.read(self.settings.rules)
        with self._guard:
            if files != self._files:
                self._files, self._rules, self._problem = files, None, None
                try:
                    self._rules = load_rules(self.settings.rules,
                                             channels=self.settings.channel_names)
                except RuleSetError as error:
                    self._problem = RulesUnavailable([str(e) for e in error.errors])
                except WatcherError as error:
                    self._problem = RulesUnavailable(str(error).splitlines())
            if self._problem is not None:
                raise self._problem
            assert self._rules is not None
            return self._rules

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules().rules if r.id == rule_id), None)

    @contextmanager
    def matcher(self, ruleset: RuleSet) -> Iterator[Matcher]:
        """A matcher of `ruleset` on the shared analyser, held by this run alone. Rules are
        compiled for each run (cheap); the analyser and context triggers only once."""
        if not self._queue.acquire(blocking=False):
            raise WorkspaceError(f"{RUNS_AT_ONCE} workbench runs are under way or waiting: "
                                 "try again in a moment")
        try:
            with self._using:
                yield from self._matching(ruleset)
        finally:
            self._queue.release()

    def _matching(self, ruleset: RuleSet) -> Iterator[Matcher]:
        """The matcher, with the analyser made on the first run (the caller holds it)."""
        if self._analyzer is None:
            analyzer = Analyzer(self.settings.pipeline)
            triggers = self.settings.context.triggers
            self._triggers = load_triggers(analyzer.words, triggers) if triggers else None
            self._analyzer = analyzer
        matcher = Matcher(ruleset, self._analyzer, context=self._triggers,
                          exclude=self.settings.context.exclude)
        try:
            yield matcher
        finally:
            self._analyzer = matcher.analyzer  # renewed when its word table was full


_creating = threading.Lock()


def rulebook_of(request: Request) -> RuleBook:
    """The application's rule book, made on first use."""
    state = request.app.state
    with _creating:
        book: RuleBook | None = getattr(state, "rulebook", None)
        if book is None:
            book = state.rulebook = RuleBook(state.web.settings)
        return book



def tagged(rules: RuleSet, tag: str) -> set[str]:
    """Ids of the rules that carry `tag`."""
    return {rule.id for rule in rules.rules if tag in rule.tags}


def rules_or_none(request: Request) -> RuleSet | None:
    """The rule set, or None while it does not load (pages that only offer rule and tag
    choices then offer none rather than fail; /rules says why)."""
    try:
        return rulebook_of(request).rules()
    except RulesUnavailable:
        return None
