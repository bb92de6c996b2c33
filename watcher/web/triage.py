"""Triage in the workspace: acknowledge, assign, close, reopen and comment on stories, one
at a time (the story's triage fragment) or in bulk (the inbox's checkboxes), by form or API.

Analysts and admins change; everyone signed in reads. Every change is one transaction with
its audit entries (watcher/store/triage.py); a bulk change is all or nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from watcher.errors import WorkspaceError
from watcher.store.ids import MAX_ID, is_id
from watcher.store.triage import (
    MAX_COMMENT,
    MAX_STORIES,
    Action,
    Comment,
    Status,
    StoryState,
    Triage,
)
from watcher.web.auth import Actor, Analyst, Viewer
from watcher.web.context import TEMPLATES, web_of
from watcher.web.ids import StoryId
from watcher.web.pages import is_htmx, render

router = APIRouter()


def triage_of(request: Request) -> Triage:
    return Triage(web_of(request).store)


def _assignees(request: Request) -> list[str]:
    """For templates (partials/bulk_actions.html): who a story can be given to."""
    return triage_of(request).assignees()


TEMPLATES.env.globals["triage_assignees"] = _assignees


# --- the API -------------------------------------------------------------------------


class CommentOut(BaseModel):
    id: int
    author: str
    created: datetime
    body: str


class TriageOut(BaseModel):
    """A story's triage state as everyone sees it; `updated` is null until someone acts."""

    story_id: int
    title: str
    status: Status
    assignee: str | None
    updated: datetime | None
    updated_by: str | None
    comments: list[CommentOut] = []


class TriageIn(BaseModel):
    action: Action
    assignee: str | None = Field(None, description="for assign: a user's name; null unassigns")


class BulkTriageIn(TriageIn):
    story_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=MAX_STORIES)


class BulkTriageOut(BaseModel):
    stories: list[TriageOut]


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_COMMENT)


class ErrorOut(BaseModel):
    error: str


REFUSED = {400: {"model": ErrorOut}, 403: {"model": ErrorOut}}


def _out(state: StoryState) -> TriageOut:
    return TriageOut(
        story_id=state.story_id, title=state.title, status=state.status,
        assignee=state.assignee, updated=state.updated, updated_by=state.updated_by,
        comments=[_comment_out(comment) for comment in state.comments])


def _comment_out(comment: Comment) -> CommentOut:
    return CommentOut(id=comment.id, author=comment.author, created=comment.created,
                      body=comment.body)


def _refused(error: WorkspaceError) -> JSONResponse:
    return JSONResponse({"error": str(error)}, status_code=400)


@router.get("/api/stories/{story_id}/triage", response_model=TriageOut,
            responses={404: {"model": ErrorOut}}, tags=["triage"])
def api_state(request: Request, story_id: StoryId, actor: Viewer) -> TriageOut | JSONResponse:
    """A story's status, assignee, last change and comments."""
    state = triage_of(request).state(story_id)
    if state is None:
        return JSONResponse({"error": f"no story {story_id}"}, status_code=404)
    return _out(state)


@router.post("/api/stories/{story_id}/triage", response_model=TriageOut, responses=REFUSED,
             tags=["triage"])
def api_triage(
    request: Request, story_id: StoryId, change: TriageIn, actor: Analyst
) -> TriageOut | JSONResponse:
    """Acknowledge, assign, close or reopen one story (analysts and admins)."""
    triage = triage_of(request)
    try:
        triage.apply(change.action, [story_id], actor.user, web_of(request).now(),
                     change.assignee)
    except WorkspaceError as error:
        return _refused(error)
    state = triage.state(story_id)
    assert state is not None  # stories are never deleted
    return _out(state)


@router.post("/api/triage", response_model=BulkTriageOut, responses=REFUSED, tags=["triage"])
def api_bulk_triage(
    request: Request, change: BulkTriageIn, actor: Analyst
) -> BulkTriageOut | JSONResponse:
    """One action on many stories: all of them change, or (an unknown story or assignee)
    none does."""
    try:
        states = triage_of(request).apply(change.action, change.story_ids, actor.user,
                                          web_of(request).now(), change.assignee)
    except WorkspaceError as error:
        return _refused(error)
    return BulkTriageOut(stories=[_out(state) for state in states])


@router.post("/api/stories/{story_id}/comments", response_model=CommentOut, status_code=201,
             responses=REFUSED, tags=["triage"])
def api_comment(
    request: Request, story_id: StoryId, comment: CommentIn, actor: Analyst
) -> CommentOut | JSONResponse:
    """Add a comment (1 to 5,000 characters) to a story."""
    try:
        (added,) = triage_of(request).comment([story_id], comment.body, actor.user,
                                              web_of(request).now())
    except WorkspaceError as error:
        return _refused(error)
    return _comment_out(added)


# --- pages and forms -------------------------------------------------------------------


@router.get("/stories/{story_id}/triage", response_class=HTMLResponse, include_in_schema=False)
def triage_page(request: Request, story_id: StoryId, actor: Viewer) -> HTMLResponse:
    """The triage fragment (htmx, in the story page), or a page of its own without JS."""
    return _shown(request, actor, story_id)


@router.post("/stories/{story_id}/triage", include_in_schema=False)
def triage_one(
    request: Request, story_id: StoryId, actor: Analyst, action: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form()] = "",
) -> Response:
    try:
        triage_of(request).apply(action, [story_id], actor.user, web_of(request).now(),
                                 assignee.strip() or None)
    except WorkspaceError as error:
        return _shown(request, actor, story_id, str(error), 400)
    return _done(request, actor, story_id)


@router.post("/stories/{story_id}/comments", include_in_schema=False)
def comment_one(
    request: Request, story_id: StoryId, actor: Analyst, body: Annotated[str, Form()] = "",
) -> Response:
    try:
        triage_of(request).comment([story_id], body, actor.user, web_of(request).now())
    except WorkspaceError as error:
        return _shown(request, actor, story_id, str(error), 400)
    return _done(request, actor, story_id)


@router.post("/stories/triage", include_in_schema=False)
def triage_many(
    request: Request, actor: Analyst, story_id: Annotated[list[str], Form()] = [],  # noqa: B006
    action: Annotated[str, Form()] = "", assignee: Annotated[str, Form()] = "",
) -> Response:
    """The inbox's bulk form (partials/bulk_actions.html): back where it was posted from."""
    try:
        ids = [_story_id(value) for value in story_id]
        triage_of(request).apply(action, ids, actor.user, web_of(request).now(),
                                 assignee.strip() or None)
    except WorkspaceError as error:
        if is_htmx(request):  # shown beside the buttons (static/htmx-errors.js lets a 400 swap)
            answer = render(request, "partials/triage_error.html", status_code=400,
                            message=str(error))
            answer.headers.update({"HX-Retarget": "#bulk-result", "HX-Reswap": "innerHTML"})
            return answer
        return render(request, "triage_refused.html", status_code=400, message=str(error),
                      back=_back(request, "/"))
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return RedirectResponse(_back(request, "/"), status_code=303)


def _story_id(value: str) -> int:
    """A story's number from the bulk form; one beyond the store's ids is no story."""
    try:
        number = int(value)
    except ValueError:
        raise WorkspaceError(f"not a story: {value[:40]!r}") from None
    if not is_id(number):
        raise WorkspaceError(f"no story {value.strip()[:40]}: nothing was changed")
    return number


def _shown(
    request: Request, actor: Actor, story_id: int, error: str | None = None, status: int = 200
) -> HTMLResponse:
    triage = triage_of(request)
    state = triage.state(story_id)
    if state is None:
        status = 404
    values = {
        "state": state, "story_id": story_id, "error": error,
        "can_triage": actor.user.can("analyst"),
        "assignees": triage.assignees() if actor.user.can("analyst") else [],
    }
    if is_htmx(request):
        return render(request, "partials/triage_state.html", status_code=status, **values)
    return render(request, "triage_page.html", status_code=status, **values)


def _done(request: Request, actor: Actor, story_id: int) -> Response:
    """htmx swaps in the new state; a plain form goes back to the page it came from."""
    if is_htmx(request):
        return _shown(request, actor, story_id)
    return RedirectResponse(_back(request, f"/stories/{story_id}/triage"), status_code=303)


def _back(request: Request, fallback: str) -> str:
    """The page the form was on (its Referer) when that is a page of this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if (referer.scheme not in ("http", "https") or referer.netloc != request.headers.get("host")
            or not referer.path.startswith("/") or referer.path.startswith("//")):
        return fallback
    return referer.path + (f"?{referer.query}" if referer.query else "")
