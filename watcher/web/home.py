"""The front page: the inbox (watcher/web/inbox.py replaces this placeholder)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from watcher.web.auth import Viewer
from watcher.web.pages import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def inbox(request: Request, actor: Viewer) -> HTMLResponse:
    return render(request, "home.html")
