"""Silences in the workspace: the page that lists them and creates and expires them, the
small forms a story page includes ("silence this rule for 4h"), and the JSON API.

Viewers read; analysts create and expire. The author is always the signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from watcher.errors import WorkspaceError
from watcher.store import Store
from watcher.store.silences import (
    MATCHERS,
    RECENTLY,
    Listed,
    Silence,
    Silences,
    Status,
    silence_json,
)
from watcher.web.auth import Actor, Analyst, Viewer
from watcher.web.context import web_of
from watcher.web.ids import SilenceId
from watcher.web.pages import render
from watcher.web.silence_input import described, ends_at_of, resolve_matchers
from watcher.when import as_utc, format_duration

router = APIRouter()

PAGE_LIMIT = 200  # silences of each status one page or API answer lists at most
STATUSES: tuple[Status, ...] = ("active", "pending", "expired")  # in the page's order
DEFAULT_DURATION = "4h"


# -- the page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A silence as the page shows it: its matchers in words, its times, what is left."""

    silence: Silence
    status: str
    matchers: list[tuple[str, str]]
    left: str | None  # "3h59m" for an active one: what is left of it


@dataclass(frozen=True)
class Group:
    """One status's section of the page: the first PAGE_LIMIT, and how many more there are."""

    status: Status
    title: str
    shown: list[Shown]
    more: int


def _shown(silence: Silence, now: datetime) -> Shown:
    status = silence.status(now)
    matchers = [(name, described(name, value)) for name, value in silence.matchers.items()]
    left = None
    if status == "active":
        minutes = int((silence.ends_at - now).total_seconds()) // 60
        left = format_duration(60 * minutes) if minutes else "under 1m"
    return Shown(silence, status, matchers, left)


def _page(request: Request, actor: Actor, *, error: str | None = None,
          form: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    web = web_of(request)
    now = web.now()
    titles = {"active": "Active", "pending": "Pending",
              "expired": f"Expired in the last {RECENTLY.days} days"}
    groups = []
    for status in STATUSES:
        listed = _listing(web.store, now, status, PAGE_LIMIT)
        groups.append(Group(status, titles[status], [_shown(s, now) for s in listed.silences],
                            listed.more))
    return render(
        request, "silences.html", status_code=status_code, groups=groups,
        limit=PAGE_LIMIT,
        can_silence=actor.user.can("analyst"), error=error,
        form=form or {"duration": DEFAULT_DURATION}, now=now)


@router.get("/silences", response_class=HTMLResponse, include_in_schema=False)
def silences_page(request: Request, actor: Viewer) -> HTMLResponse:
    return _page(request, actor)


@router.post("/silences", include_in_schema=False)
def create_from_form(
    request: Request, actor: Analyst,
    rule: Annotated[str, Form()] = "", tag: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "", place: Annotated[str, Form()] = "",
    story: Annotated[str, Form()] = "", duration: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "", comment: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",  # noqa: A002 - the page to go back to
) -> Response:
    """The page's form and a story's "silence for 4h" forms. An end time, when given,
    wins over the duration the form starts with."""
    form = {"rule": rule, "tag": tag, "source": source, "place": place, "story": story,
            "duration": duration, "until": until, "comment": comment}
    web = web_of(request)
    now = web.now()
    try:
        end = _form_time(until)
        matchers = resolve_matchers({k: form[k] for k in MATCHERS})
        ends_at = ends_at_of(now, None, duration=None if end else duration, until=end)
        silence = Silences(web.store).add(matchers, ends_at=ends_at, comment=comment,
                                          author=actor.user.name, now=now)
    except WorkspaceError as error:
        return _page(request, actor, error=str(error), form=form, status_code=400)
    target = _local(next) or "/silences"
    return RedirectResponse(f"{target}#silence-{silence.id}", status_code=303)


@router.post("/silences/{silence_id}/expire", include_in_schema=False)
def expire_from_form(request: Request, silence_id: SilenceId, actor: Analyst) -> Response:
    web = web_of(request)
    try:
        Silences(web.store).expire(silence_id, by=actor.user.name, now=web.now())
    except WorkspaceError as error:
        return _page(request, actor, error=str(error), status_code=400)
    return RedirectResponse(f"/silences#silence-{silence_id}", status_code=303)


def _listing(store: Store, now: datetime, status: Status, limit: int) -> Listed:
    """One status's silences, each queried on its own so that none crowds out another."""
    return Silences(store).listing(now, status, expired_since=now - RECENTLY, limit=limit)


def _form_time(text: str) -> datetime | None:
    """The form's end time (`2026-03-01T16:00`, a datetime-local field), taken as UTC."""
    if not text.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        shown = text.strip()[:40]
        raise WorkspaceError(f"bad end time {shown!r}: 2026-03-01T16:00, in UTC") from None


def _local(target: str) -> str | None:
    """Only a path on this site: a form must not send the browser elsewhere."""
    if (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable() and " " not in target):
        return target.split("#")[0]
    return None


# -- the API ----------------------------------------------------------------------------


class MatchersIn(BaseModel):
    """Every one given must hold; at least one."""

    model_config = ConfigDict(extra="forbid")
    rule: str | None = Field(None, description="A rule id.")
    tag: str | None = Field(None, description="One of the rule's tags.")
    source: str | None = Field(None, description="A source's name.")
    place: str | None = Field(
        None, description="A gazetteer place, by name or id: it and every place inside it.")
    story: int | None = Field(None, description="A story's number.")


class SilenceIn(BaseModel):
    """A new silence: `ends_at` or `duration` (one of them), a comment saying why."""

    matchers: MatchersIn = Field(default_factory=MatchersIn)
    ends_at: datetime | None = Field(None, description="ISO 8601; UTC unless it says.")
    duration: str | None = Field(None, description="4h, 90m, 2d: from its start.")
    starts_at: datetime | None = Field(None, description="Default now.")
    comment: str = Field("", description="Required: why.")


class SilenceOut(BaseModel):
    id: int
    matchers: dict[str, str | int] = Field(description="A place as its gazetteer id.")
    starts_at: str
    ends_at: str
    comment: str
    created_by: str
    created: str
    expired_by: str | None
    status: Literal["pending", "active", "expired"]


class SilenceList(BaseModel):
    silences: list[SilenceOut]
    more: dict[Status, int] = Field(
        description="For each status listed: how many more of it there are than `limit`.")


class Refusal(BaseModel):
    error: str


REFUSED: dict[int | str, dict[str, Any]] = {400: {"model": Refusal}}


@router.get("/api/silences", response_model=SilenceList)
def api_silences(
    request: Request, actor: Viewer,
    status: Annotated[Status | None,
                      Query(description="Only these; expired: those of the last 7 days.")]
    = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT,
                                description="At most this many of each status.")] = 100,
) -> dict[str, Any]:
    """Active silences (ending soonest first), pending ones, then those expired in the last
    7 days (newest first): at most `limit` of each status, and how many more each has."""
    web = web_of(request)
    now = web.now()
    shown: list[dict[str, Any]] = []
    more: dict[Status, int] = {}
    for each in STATUSES if status is None else (status,):
        listed = _listing(web.store, now, each, limit)
        shown += [silence_json(s, now) for s in listed.silences]
        more[each] = listed.more
    return {"silences": shown, "more": more}


@router.post("/api/silences", response_model=SilenceOut, status_code=201, responses=REFUSED)
def api_create(request: Request, body: SilenceIn, actor: Analyst) -> Any:
    """Silence the alerts the matchers hold for; the author is the caller."""
    web = web_of(request)
    now = web.now()
    try:
        starts_at = None if body.starts_at is None else as_utc(body.starts_at)
        ends_at = ends_at_of(now, starts_at, duration=body.duration,
                             until=None if body.ends_at is None else as_utc(body.ends_at))
        silence = Silences(web.store).add(
            resolve_matchers(body.matchers.model_dump()), ends_at=ends_at,
            comment=body.comment, author=actor.user.name, now=now, starts_at=starts_at)
    except (WorkspaceError, ValueError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return silence_json(silence, now)


@router.post("/api/silences/{silence_id}/expire", response_model=SilenceOut, responses=REFUSED)
def api_expire(request: Request, silence_id: SilenceId, actor: Analyst) -> Any:
    """End a silence now; what it held back stays silenced."""
    web = web_of(request)
    now = web.now()
    try:
        silence = Silences(web.store).expire(silence_id, by=actor.user.name, now=now)
    except WorkspaceError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return silence_json(silence, now)
