"""The rule pages: every rule of the loaded rule set with its precision signals (matches,
held back by reason, old news), and one rule's query, recent matches and counts per day.
Read-only: rules are edited in their files (the workbench tries a changed query first)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from watcher.rules.ast import Rule
from watcher.store.rulestats import RuleMatch, RuleStats, Signals
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.web.pages import render
from watcher.web.rulebook import RulesUnavailable, rulebook_of

router = APIRouter()

LIST_WINDOW = timedelta(days=7)  # the rules list's signals
RULE_WINDOW = timedelta(days=30)  # a rule page's counts per day and signals
PAGE = 50  # recent matches per page
MAX_OFFSET = 10_000  # pages past this are for `watcher matches --rule`


class RuleSummary(BaseModel):
    id: str
    title: str
    severity: str
    tags: list[str]
    enabled: bool
    query: str
    matches: int  # not held back, in the window
    held: dict[str, int]  # held back, by context label
    held_total: int
    old_news: dict[str, int]  # not alerted as old news, by reason


class RuleList(BaseModel):
    since: datetime
    rules: list[RuleSummary]


class RuleMatchOut(BaseModel):
    match_id: int
    story_id: int
    article: str
    source: str
    title: str
    url: str | None
    matched_at: datetime
    severity: str
    snippet: str  # matched words as [word]
    held: list[str]
    old_news: str | None


class RuleDetail(RuleSummary):
    since: datetime
    file: str
    line: int
    sources: list[str]
    exclude: list[str] | None
    per_day: dict[str, int]
    held_per_day: dict[str, int]
    recent: list[RuleMatchOut]


def _summary(rule: Rule, signals: Signals) -> RuleSummary:
    return RuleSummary(
        id=rule.id, title=rule.title, severity=str(rule.severity), tags=list(rule.tags),
        enabled=rule.enabled, query=rule.query_text, matches=signals.matches,
        held=dict(signals.held.most_common()), held_total=signals.held_total,
        old_news=dict(signals.old_news.most_common()),
    )


def _match_out(found: RuleMatch) -> RuleMatchOut:
    return RuleMatchOut(
        match_id=found.match_id, story_id=found.story_id, article=found.article_id,
        source=found.source, title=found.title, url=found.url, matched_at=found.matched_at,
        severity=found.severity, snippet=found.snippet, held=list(found.held),
        old_news=found.old_news,
    )


def rule_list(request: Request) -> RuleList:
    """Raises RulesUnavailable."""
    web = web_of(request)
    rules = rulebook_of(request).rules().rules
    since = web.now() - LIST_WINDOW
    signals = RuleStats(web.store).signals(since)
    return RuleList(since=since, rules=[_summary(r, signals.get(r.id, Signals())) for r in rules])


def rule_detail(request: Request, rule_id: str, offset: int, limit: int) -> RuleDetail | None:
    """None when the rule set has no such rule; raises RulesUnavailable."""
    web = web_of(request)
    rule = rulebook_of(request).rule(rule_id)
    if rule is None:
        return None
    stats = RuleStats(web.store)
    since = web.now() - RULE_WINDOW
    signals = stats.signals(since, rule.id).get(rule.id, Signals())
    days = stats.per_day(rule.id, since)
    recent = stats.recent(rule.id, limit=limit, offset=offset)
    return RuleDetail(
        **_summary(rule, signals).model_dump(), since=since, file=rule.file, line=rule.line,
        sources=list(rule.sources), exclude=None if rule.exclude is None else list(rule.exclude),
        per_day={day: n for day, (n, _) in days.items()},
        held_per_day={day: held for day, (_, held) in days.items()},
        recent=[_match_out(m) for m in recent],
    )


def _unavailable(request: Request, error: RulesUnavailable, api: bool) -> Response:
    """The rules path does not load (a broken file): the daemon keeps its last good rules,
    the workspace says why there are none to show."""
    if api:
        return JSONResponse({"error": "the rules do not load: " + "; ".join(error.lines)},
                            status_code=503)
    return render(request, "rules.html", status_code=503, listing=None, problems=error.lines)


@router.get("/rules", response_class=HTMLResponse, include_in_schema=False)
def rules_page(request: Request, actor: Viewer) -> Response:
    try:
        listing = rule_list(request)
    except RulesUnavailable as error:
        return _unavailable(request, error, api=False)
    return render(request, "rules.html", listing=listing, problems=None,
                  path=web_of(request).settings.rules)


@router.get("/rules/{rule_id}", response_class=HTMLResponse, include_in_schema=False)
def rule_page(
    request: Request, actor: Viewer, rule_id: str,
    page: Annotated[int, Query(ge=1, le=MAX_OFFSET // PAGE)] = 1,
) -> Response:
    try:
        detail = rule_detail(request, rule_id, (page - 1) * PAGE, PAGE + 1)
    except RulesUnavailable as error:
        return _unavailable(request, error, api=False)
    if detail is None:
        return render(request, "rule.html", status_code=404, detail=None, rule_id=rule_id)
    more = len(detail.recent) > PAGE
    detail.recent = detail.recent[:PAGE]
    return render(request, "rule.html", detail=detail, rule_id=rule_id, page=page, more=more)


@router.get("/api/rules", response_model=RuleList)
def api_rules(request: Request, actor: Viewer) -> Response | RuleList:
    """Every rule of the loaded rule set with its signals over the last 7 days."""
    try:
        return rule_list(request)
    except RulesUnavailable as error:
        return _unavailable(request, error, api=True)


@router.get("/api/rules/{rule_id}", response_model=RuleDetail)
def api_rule(
    request: Request, actor: Viewer, rule_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response | RuleDetail:
    """One rule: its query, signals and counts per day over the last 30 days, and its
    stored matches newest first (held-back ones included), `limit` from `offset`."""
    try:
        detail = rule_detail(request, rule_id, offset, limit)
    except RulesUnavailable as error:
        return _unavailable(request, error, api=True)
    if detail is None:
        return JSONResponse({"error": f"no rule {rule_id!r}"}, status_code=404)
    return detail
