"""Why each rule fired on a story's articles: `watcher explain`, for the story page.

The rules are compiled once per application (spaCy's analyser is slow to create) and again
only when the rule files change, as the daemon notices it (their paths, sizes and times).
A page explains at most MAX_EXPLAINED matches, when it is opened, with the rules as they are
then (a rule edited since the match says so; one removed since is named, not explained).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from fastapi import Request

from watcher.config.settings import Settings
from watcher.engine.explain import explain
from watcher.engine.explain_text import Line, reason_lines, verdict
from watcher.engine.matcher import MAX_WORD_TYPES, Matcher
from watcher.errors import WatcherError
from watcher.model import Article
from watcher.rules.ast import RuleSet
from watcher.rules.load import RuleFiles, load_rules
from watcher.text.analysis import AnalysedText

MAX_EXPLAINED = 20  # (article, rule) pairs explained on one page

_CREATING = threading.Lock()


@dataclass(frozen=True)
class Why:
    """One match explained: the verdict and lines of `watcher explain --rule RULE ARTICLE`,
    or, when it cannot be explained now, `note` saying why (the rule is gone, the rules do
    not load, too many matches on the page)."""

    rule_id: str
    article_id: str
    verdict: str = ""
    lines: tuple[Line, ...] = ()
    note: str = ""
    query_now: str = ""  # the rule's query now, when it is not the one the match stored


@dataclass(frozen=True)
class Asked:
    """A match to explain: its rule, its stored article, the query it stored."""

    rule_id: str
    article: Article
    query: str | None = None


def not_explained(rule_id: str, article_id: str) -> Why:
    """A match past the page's MAX_EXPLAINED: how to explain it from the command line."""
    return Why(rule_id, article_id, note=f"not explained here: only the first {MAX_EXPLAINED} "
               f"matches are (watcher explain --rule {rule_id} {article_id})")


@dataclass(frozen=True)
class _Compiled:
    files: RuleFiles
    rules: RuleSet
    matcher: Matcher


class Explainer:
    """The configured rules compiled for explaining, rebuilt when their files change."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # one analyser: one explanation at a time
        self._compiled: _Compiled | None = None

    def explain(self, asked: Sequence[Asked]) -> list[Why]:
        """Each match explained with the rules as they are now (the caller bounds how many:
        MAX_EXPLAINED a page)."""
        with self._lock:
            try:
                compiled = self._current()
            except WatcherError as error:
                first = (str(error).splitlines() or [type(error).__name__])[0]
                note = f"the rules under {self.settings.rules} do not load: {first}"
                return [Why(a.rule_id, a.article.id, note=note) for a in asked]
            texts: dict[int, AnalysedText] = {}  # an article with several rules: analysed once
            return [self._one(compiled, a, texts) for a in asked]

    def _one(self, compiled: _Compiled, asked: Asked, texts: dict[int, AnalysedText]) -> Why:
        rule_id, article = asked.rule_id, asked.article
        rule = next((r for r in compiled.rules.rules if r.id == rule_id), None)
        found = next((c for c in compiled.matcher.engine.index.rules if c.rule.id == rule_id),
                     None)
        if rule is None or found is None:
            return Why(rule_id, article.id,
                       note=f"the rule {rule_id} is no longer in the rules under "
                            f"{self.settings.rules}, so it cannot be explained")
        matcher = compiled.matcher
        text = texts.get(id(article))
        if text is None:
            text = texts[id(article)] = matcher.analyzer.analyse(article)
        explained = explain(matcher.engine, found, text, disabled=not rule.enabled)
        changed = asked.query is not None and asked.query != rule.query_text
        return Why(rule_id, article.id, verdict(explained),
                   tuple(reason_lines(explained, article)),
                   query_now=rule.query_text if changed else "")

    def _current(self) -> _Compiled:
        """The compiled rules, loaded again when a rule file changed since, or when the
        analyser has met MAX_WORD_TYPES word types (it keeps each for good, as the
        daemon's matcher does, which starts over on a fresh one then)."""
        settings = self.settings
        files = RuleFiles.read(settings.rules)
        if (self._compiled is None or self._compiled.files != files
                or len(self._compiled.matcher.analyzer.types) > MAX_WORD_TYPES):
            rules = load_rules(settings.rules, channels=settings.channel_names)
            # disabled rules compiled too, as `watcher explain` does: their query is shown
            every = replace(rules, rules=tuple(replace(r, enabled=True) for r in rules.rules))
            matcher = Matcher.from_rules(
                every, pipeline=settings.pipeline, context_triggers=settings.context.triggers,
                context_exclude=settings.context.exclude)
            self._compiled = _Compiled(files, rules, matcher)
        return self._compiled


def explainer_of(request: Request) -> Explainer:
    """The application's explainer, made at the first page that needs it."""
    state = request.app.state
    with _CREATING:
        found: Explainer | None = getattr(state, "explainer", None)
        if found is None:
            found = state.explainer = Explainer(state.web.settings)
    return found
