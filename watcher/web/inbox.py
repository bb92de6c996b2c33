"""The inbox at `/` (stories newest first, filters, pages, the bulk-triage form around the
list) and `GET /api/stories`, the same list for programs.

An htmx request (a filter changed) gets only the list, which htmx swaps in and whose URL
it pushes; the same URL without htmx is the whole page, so a filtered inbox is a link to
share and works without JavaScript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from watcher.errors import WorkspaceError
from watcher.model import Severity
from watcher.rules.ast import Rule
from watcher.store.inbox import STATUSES, Inbox, InboxPage, InboxStory
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.web.pages import is_htmx, render
from watcher.web.rulebook import rules_or_none
from watcher.web.story_filters import FilterForm, story_filter

PAGE_SIZE = 50
router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def inbox_page(request: Request, actor: Viewer) -> Response:
    web = web_of(request)
    form = FilterForm.of(request.query_params)
    before = request.query_params.get("before") or None
    try:
        page = Inbox(web.store).stories(story_filter(request, form), PAGE_SIZE, before)
        error = None
    except WorkspaceError as problem:
        page, error = InboxPage((), None), str(problem)
    values = {
        "form": form, "page": page, "error": error, "paged": before is not None,
        "next_url": _next_url(form, page.next),
    }
    if is_htmx(request):  # 200 even for a bad filter: htmx swaps in no 4xx answer
        response = render(request, "partials/inbox_results.html", **values)
    else:
        response = render(request, "inbox.html", 400 if error else 200, **values,
                          **filter_choices(request))
    response.headers["vary"] = "HX-Request"  # one URL, two answers: the list or the page
    return response


def filter_choices(request: Request) -> dict[str, Any]:
    """What the filter form offers (partials/filters.html): the inbox's and the map's."""
    rules = _rules(request)
    return {
        "rules": rules, "tags": sorted({tag for rule in rules for tag in rule.tags}),
        "sources": Inbox(web_of(request).store).source_names(),
        "severities": [str(s) for s in Severity], "statuses": STATUSES,
    }


def _rules(request: Request) -> tuple[Rule, ...]:
    """The rules to choose from; none while they do not load (the Rules page says why)."""
    rules = rules_or_none(request)
    return rules.rules if rules else ()


def _next_url(form: FilterForm, cursor: str | None) -> str | None:
    return None if cursor is None else "/?" + urlencode([*form.query_pairs(), ("before", cursor)])


class InboxRuleOut(BaseModel):
    id: str
    title: str
    severity: str


class InboxPlaceOut(BaseModel):
    id: str
    name: str
    kind: str
    latitude: float | None
    longitude: float | None


class InboxStoryOut(BaseModel):
    id: int
    title: str
    first_seen: datetime
    first_outlet: str | None
    first_outlet_at: datetime | None
    outlets: int
    articles: int
    rules: list[InboxRuleOut]
    labels: list[str]
    places: list[InboxPlaceOut]
    status: Literal["open", "acknowledged", "closed"]
    assignee: str | None
    url: str


class InboxPageOut(BaseModel):
    stories: list[InboxStoryOut]
    next: str | None


class InboxRefusal(BaseModel):
    error: str


@router.get("/api/stories", response_model=InboxPageOut,
            responses={400: {"model": InboxRefusal}, 401: {"model": InboxRefusal}})
def api_stories(
    request: Request, actor: Viewer,
    rule: Annotated[str, Query(description="only stories this rule fired on")] = "",
    tag: Annotated[str, Query(description="only stories a rule with this tag fired on")] = "",
    severity: Annotated[str, Query(description="a match at least this severe")] = "",
    source: Annotated[str, Query(description="carried by this source")] = "",
    place: Annotated[str, Query(description="a gazetteer place name or id")] = "",
    status: Annotated[str, Query(description="open, acknowledged or closed")] = "",
    since: Annotated[str, Query(description="first seen since: ISO 8601 or an age (24h)")] = "",
    until: Annotated[str, Query(description="first seen before: ISO 8601 or an age")] = "",
    q: Annotated[str, Query(description="words of its articles (full-text search)")] = "",
    held: Annotated[bool, Query(description="also stories only held-back matches make")] = False,
    before: Annotated[str | None, Query(description="the `next` of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> InboxPageOut | JSONResponse:
    """Stories with matches, newest first, filtered as the inbox is; `next` pages on."""
    web = web_of(request)
    form = FilterForm(rule=rule, tag=tag, severity=severity, source=source, place=place,
                      status=status, since=since, until=until, q=q, held=held)
    try:
        page = Inbox(web.store).stories(story_filter(request, form), limit, before)
    except WorkspaceError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return InboxPageOut(stories=[_story_out(story) for story in page.stories], next=page.next)


def _story_out(story: InboxStory) -> InboxStoryOut:
    return InboxStoryOut(
        id=story.id, title=story.title, first_seen=story.first_seen,
        first_outlet=story.first_outlet, first_outlet_at=story.first_outlet_at,
        outlets=story.outlets, articles=story.articles,
        rules=[InboxRuleOut(id=r.id, title=r.title, severity=str(r.severity))
               for r in story.rules],
        labels=list(story.labels),
        places=[InboxPlaceOut(id=p.id, name=p.name, kind=p.kind, latitude=p.latitude,
                         longitude=p.longitude) for p in story.places],
        status=story.status, assignee=story.assignee, url=f"/stories/{story.id}",
    )
