"""The rule workbench: try a query over the stored articles before putting it in a rule.

The page is a GET form (its URL can be shared) that htmx enhances by swapping in only the
results; the API takes the same as JSON. Both run watcher/web/workbench_run.py, which matches and
writes nothing, so any signed-in user may use them. The routes are plain functions: FastAPI
runs them in a thread, so a run of seconds never holds up the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from watcher.engine.explain import Step, step_json, step_says
from watcher.errors import WorkspaceError
from watcher.rules.ast import Rule
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.web.pages import is_htmx, render
from watcher.web.rulebook import RulesUnavailable, rulebook_of
from watcher.web.workbench_run import (
    SCAN_LIMIT,
    WINDOWS,
    BenchRun,
    Found,
    Seen,
    compared_rule,
    query_of,
    run,
    window_start,
)

router = APIRouter()

SHOWN = 100  # matches, added and dropped articles listed on the page (all are counted)
ABSENT_NAMED = 5  # an OR's absent terms named, past which they are counted (as the CLI)


class ArticleOut(BaseModel):
    article: str
    source: str
    title: str
    url: str | None
    stored: datetime


class WorkbenchMatchOut(ArticleOut):
    severity: str
    snippet: str  # matched words as [word]
    held: list[str]
    context: list[str]


class ExplainAsk(BaseModel):
    source: str
    article: str


class WorkbenchAsk(BaseModel):
    query: str = Field(max_length=4000)
    since: str = "7d"
    compare: str | None = None
    limit: int = Field(SCAN_LIMIT, ge=1, le=SCAN_LIMIT)
    explain: ExplainAsk | None = None


class ExplainOut(BaseModel):
    article: str
    source: str
    matches: bool
    held: list[str]
    other_source: bool
    tree: dict[str, Any]


class WorkbenchAnswer(BaseModel):
    query: str
    compare: str | None
    since: datetime | None
    matches: list[WorkbenchMatchOut]
    per_day: dict[str, int]
    added: list[ArticleOut]
    dropped: list[ArticleOut]
    stored: int
    held: int
    scanned: int
    total: int
    cut: bool
    explain: ExplainOut | None


def _article(seen: Seen) -> dict[str, Any]:
    return {"article": seen.id, "source": seen.source, "title": seen.title, "url": seen.url,
            "stored": seen.fetched}


def _match(found: Found) -> WorkbenchMatchOut:
    match = found.match
    return WorkbenchMatchOut(**_article(found.article), severity=str(match.severity),
                    snippet=match.snippet, held=list(match.held),
                    context=[c.label for c in match.context])


def _answer(done: BenchRun, since: datetime | None) -> WorkbenchAnswer:
    explained = None
    if done.explained is not None:
        e = done.explained.explanation
        explained = ExplainOut(article=e.article_id, source=done.explained.article.source,
                               matches=e.matches, held=list(e.held),
                               other_source=e.other_source, tree=step_json(e.root))
    return WorkbenchAnswer(
        query=done.query.query_text, compare=done.compare.id if done.compare else None,
        since=since, matches=[_match(f) for f in done.matches], per_day=done.per_day,
        added=[ArticleOut(**_article(s)) for s in done.added],
        dropped=[ArticleOut(**_article(s)) for s in done.dropped],
        stored=done.stored, held=done.held, scanned=done.scanned, total=done.total,
        cut=done.cut, explain=explained,
    )


@router.post("/api/workbench", response_model=WorkbenchAnswer,
             responses={400: {"description": "a query that does not parse, a bad since or "
                                             "an unknown rule: {\"error\": ...}"}})
def api_workbench(request: Request, actor: Viewer, ask: WorkbenchAsk) -> Response | WorkbenchAnswer:
    """Run a query over the stored articles since `since` (24h, 7d, an ISO date, all): its
    matches newest first, per day stored, and against rule `compare`'s stored matches the
    articles it adds and drops; `explain` says why it matches one stored article or not.
    At most `limit` (5000) of the window's newest articles are matched: `cut` says so.
    400 with {"error": ...} for a query that does not parse, a bad `since`, an unknown rule
    or an article to explain that is not stored."""
    web = web_of(request)
    book = rulebook_of(request)
    try:
        since = window_start(ask.since, web.now())
        compare = compared_rule(book, ask.compare)
        query = query_of(book, ask.query, compare)
        key = (ask.explain.source, ask.explain.article) if ask.explain else None
        done = run(web.store, book, query, compare, since=since, limit=ask.limit,
                   explain_key=key)
        if done.not_found is not None:
            raise WorkspaceError(f"explain: no stored article {done.not_found}")
    except WorkspaceError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return _answer(done, since)


@dataclass(frozen=True)
class Shown:
    """An explain tree's node as the page lists it: an OR's absent terms named in one line
    (up to ABSENT_NAMED, then counted), as `watcher explain` prints them."""

    step: Step
    says: str
    children: tuple[Shown, ...]
    absent: tuple[str, ...] = ()
    more: int = 0


def shown(step: Step) -> Shown:
    children = step.children
    absent: list[Step] = []
    if step.kind == "or":
        absent = [c for c in children if c.kind == "term" and not c.holds]
        children = tuple(c for c in children if c not in absent)
    return Shown(step, step_says(step), tuple(shown(c) for c in children),
                 tuple(c.label for c in absent[:ABSENT_NAMED]),
                 max(0, len(absent) - ABSENT_NAMED))


@router.get("/workbench", response_class=HTMLResponse, include_in_schema=False)
def workbench_page(
    request: Request, actor: Viewer,
    q: Annotated[str, Query(max_length=4000)] = "",
    rule: str = "", since: str = "7d", date: str = "", compare: str = "",
    explain: str = "", source: str = "",
    limit: Annotated[int, Query(ge=1, le=SCAN_LIMIT)] = SCAN_LIMIT,
) -> Response:
    web = web_of(request)
    book = rulebook_of(request)
    try:
        rules: tuple[Rule, ...] = book.rules().rules
    except RulesUnavailable:
        rules = ()
    start = next((r for r in rules if r.id == rule), None)
    if start is not None and not q:  # from a rule's page: its query, compared with it
        q, compare = start.query_text, compare or start.id
    values: dict[str, Any] = {
        "q": q, "since": since if since in WINDOWS else "7d", "date": date,
        "compare": compare, "rules": rules, "windows": WINDOWS, "done": None, "error": None,
        "explain": explain, "source": source, "scan_limit": SCAN_LIMIT, "shown": SHOWN,
    }
    form = {"q": q, "since": values["since"], "date": date, "compare": compare,
            **({"limit": str(limit)} if limit != SCAN_LIMIT else {})}
    values["explain_href"] = lambda seen: "/workbench?" + urlencode(
        {**form, "explain": seen.id, "source": seen.source}) + "#explain"
    status = 200
    if q.strip():
        try:
            window = window_start(date or values["since"], web.now())
            compared = compared_rule(book, compare)
            query = query_of(book, q, compared)
            key = (source, explain) if explain else None
            values["done"] = run(web.store, book, query, compared, since=window,
                                 limit=limit, explain_key=key)
            values["window"] = window
            if values["done"].explained is not None:
                values["tree"] = shown(values["done"].explained.explanation.root)
        except WorkspaceError as error:
            values["error"] = str(error)
            # htmx swaps in only a successful answer: its fragment says the error instead
            status = 200 if is_htmx(request) else 400
    template = "workbench_fragment.html" if is_htmx(request) else "workbench.html"
    return render(request, template, status_code=status, **values)
