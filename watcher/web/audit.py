"""The audit log for the team: who did what, when, to what, with the state before and
after; newest first, a page at a time, narrowed to one person or one target."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from watcher.store.audit import Audit, AuditEntry
from watcher.web.auth import Viewer
from watcher.web.context import web_of
from watcher.web.ids import BeforeId
from watcher.web.pages import render

router = APIRouter()

PAGE = 50
MAX_PAGE = 200
SHOWN_TEXT = 300  # characters of a value shown in the page's table (a long comment)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: str | None  # the address of the next (older) page; null on the last


Filter = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


@router.get("/api/audit", response_model=AuditPage, tags=["audit"])
def api_audit(
    request: Request, actor: Viewer, by: Annotated[str | None, Query(
        alias="actor", max_length=200)] = None, target: Filter = None, before: BeforeId = None,
    limit: Limit = PAGE,
) -> AuditPage:
    """Every action people took in the workspace, newest first; follow `next` for older."""
    entries, more = _page(request, by, target, before, limit)
    return AuditPage(
        entries=[AuditEntryOut(**vars(entry)) for entry in entries],
        next=_next("/api/audit", entries, more, by, target, limit))


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request, actor: Viewer, by: Annotated[str | None, Query(
        alias="actor", max_length=200)] = None, target: Filter = None, before: BeforeId = None,
    limit: Limit = PAGE,
) -> HTMLResponse:
    by, target = by or None, target or None  # an empty filter box is no filter
    entries, more = _page(request, by, target, before, limit)
    return render(
        request, "audit.html", entries=entries, shown=_shown, by=by or "",
        target=target or "", next=_next("/audit", entries, more, by, target, limit))


def _page(
    request: Request, by: str | None, target: str | None, before: int | None, limit: int
) -> tuple[list[AuditEntry], bool]:
    entries = Audit(web_of(request).store).entries(
        limit=limit + 1, before_id=before, target=target or None, actor=by or None)
    return entries[:limit], len(entries) > limit


def _next(
    path: str, entries: list[AuditEntry], more: bool, by: str | None, target: str | None,
    limit: int,
) -> str | None:
    if not more:
        return None
    query = {"actor": by, "target": target, "before": entries[-1].id,
             "limit": limit if limit != PAGE else None}
    return f"{path}?{urlencode({k: v for k, v in query.items() if v})}"


def _shown(value: Any) -> str:
    """A before/after value for people: `status: open, assignee: ana`, a long text cut."""
    if value is None:
        return ""
    if isinstance(value, dict):
        text = ", ".join(f"{key}: {'nobody' if item is None else item}"
                         for key, item in value.items())
    else:
        text = str(value)
    return text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT] + "…"
