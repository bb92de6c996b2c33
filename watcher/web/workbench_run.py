"""One run of the rule workbench: a query over the stored articles of a window, what it
matches, per day, what it adds to and drops from a rule's stored matches, and why it
matches one article or not. What `watcher rules backtest --query` and `watcher explain
--query` do, read-only, bounded to the newest SCAN_LIMIT articles of the window."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from watcher.engine.explain import Explanation, explain
from watcher.engine.matcher import Matcher
from watcher.errors import RuleSetError, WorkspaceError
from watcher.ingest.backtest import ArticleKey, Tally, count, key_of, matched_again
from watcher.ingest.pipeline import rule_version
from watcher.model import Article, Match
from watcher.rules.ast import Rule, RuleSet
from watcher.rules.load import query_rule
from watcher.store import Store, StoredText
from watcher.store.rulestats import RuleStats
from watcher.web.rulebook import RuleBook, RulesUnavailable
from watcher.when import parse_since

SCAN_LIMIT = 5000  # articles matched per run at most: the newest of the window
MAX_QUERY = 4000  # characters: a query is typed, not pasted from a book
WINDOWS = ("24h", "7d", "30d", "all")


@dataclass(frozen=True)
class Seen:
    """A stored article the run shows: its source, own id, title, link and when stored."""

    source: str
    id: str
    title: str
    url: str | None
    fetched: datetime

    @property
    def key(self) -> ArticleKey:
        return (self.source, self.id)


@dataclass(frozen=True)
class Found:
    article: Seen
    match: Match


@dataclass(frozen=True)
class Explained:
    article: Seen
    explanation: Explanation


@dataclass
class BenchRun:
    """What a run found; `matches` newest first, `per_day` by the UTC day of storing."""

    query: Rule
    compare: Rule | None
    scanned: int = 0
    total: int = 0
    matches: list[Found] = field(default_factory=list)
    per_day: dict[str, int] = field(default_factory=dict)
    added: list[Seen] = field(default_factory=list)
    dropped: list[Seen] = field(default_factory=list)
    stored: int = 0
    held: int = 0
    other_version: bool = False
    explained: Explained | None = None
    not_found: str | None = None  # the article asked to be explained, when not stored

    @property
    def cut(self) -> bool:
        """Whether the window holds more articles than were matched."""
        return self.total > self.scanned


def window_start(since: str, now: datetime) -> datetime | None:
    """The window's first moment: `all` (None), an age (24h, 7d) or an ISO date."""
    if since.strip() in ("", "all"):
        return None
    try:
        return parse_since(since, now)
    except ValueError as error:
        raise WorkspaceError(f"since: {error}") from None


def query_of(book: RuleBook, text: str, compare: Rule | None) -> Rule:
    """The query as a rule (id `query`; the rule set's @lists usable); compared with a rule,
    it runs as that rule would (its `sources:` and `exclude:`). A query that does not parse
    is one line naming the column of each problem."""
    if len(text) > MAX_QUERY:
        raise WorkspaceError(f"the query is longer than {MAX_QUERY} characters")
    try:
        lists = book.rules().lists
    except RulesUnavailable:
        lists = {}  # @lists are then unknown, and said so
    try:
        rule = query_rule(text, lists, where="query")
    except RuleSetError as error:
        raise WorkspaceError("; ".join(f"column {e.column}: {e.message}"
                                       for e in error.errors)) from None
    if compare is not None:
        rule = replace(rule, sources=compare.sources, exclude=compare.exclude,
                       severity=compare.severity, tags=compare.tags)
    return rule


def compared_rule(book: RuleBook, rule_id: str | None) -> Rule | None:
    if not rule_id:
        return None
    try:
        rule = book.rule(rule_id)
    except RulesUnavailable as error:
        raise WorkspaceError(f"the rules do not load: {error.lines[0]}") from None
    if rule is None:
        raise WorkspaceError(f"no rule {rule_id!r} in {book.settings.rules}")
    return rule


def run(
    store: Store, book: RuleBook, query: Rule, compare: Rule | None, *,
    since: datetime | None, limit: int = SCAN_LIMIT, explain_key: ArticleKey | None = None,
) -> BenchRun:
    """Match the newest `limit` (at most SCAN_LIMIT) stored articles since `since` with the
    query; nothing is written."""
    limit = max(1, min(limit, SCAN_LIMIT))
    found = BenchRun(query, compare, total=RuleStats(store).articles_since(since))
    tallies = {query.id: Tally()}
    stored_as = {compare.id: query.id} if compare is not None else {}
    seen: dict[ArticleKey, Seen] = {}
    with book.matcher(RuleSet((query,), {})) as matcher:
        for text, matches in matched_again(store, matcher, since=since, limit=limit):
            found.scanned += 1
            count(tallies, text, matches, whole_set=False, stored_as=stored_as)
            if matches or key_of(text) in tallies[query.id].stored:
                seen[key_of(text)] = _seen(text)
            for match in matches:
                article = seen[key_of(text)]
                found.matches.append(Found(article, match))
                day = article.fetched.date().isoformat()
                found.per_day[day] = found.per_day.get(day, 0) + 1
        if explain_key is not None:
            _explain(store, matcher, explain_key, found)
    found.matches.reverse()
    tally = tallies[query.id]
    found.added = [seen[key] for key in reversed(tally.added())]
    found.dropped = [seen[key] for key in reversed(tally.dropped())]
    found.stored, found.held = len(tally.stored), tally.held
    if compare is not None:
        found.other_version = bool(tally.versions - {rule_version(compare)})
    return found


def _explain(store: Store, matcher: Matcher, key: ArticleKey, found: BenchRun) -> None:
    """Why the query matches the stored article `key` or not (it may lie outside the window)."""
    source, article_id = key
    texts = [t for t in store.texts(ids=[article_id]) if t.article.source == source]
    if not texts:
        found.not_found = f"{source} {article_id}"
        return
    text = texts[-1]
    analysed = matcher.analyzer.analyse_many([text.article])[0]
    compiled = matcher.engine.index.rules[0]
    found.explained = Explained(_seen(text), explain(matcher.engine, compiled, analysed))


def _seen(text: StoredText) -> Seen:
    article: Article = text.article
    return Seen(article.source, article.id, article.title, article.url, text.fetched)
