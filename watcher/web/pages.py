"""Rendering a page: every template gets the signed-in actor (for the menu and the CSRF
token of its forms) and the current path (to mark the menu item)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from watcher.web.auth import signed_in
from watcher.web.context import TEMPLATES


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("actor", signed_in(request))
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)


def is_htmx(request: Request) -> bool:
    """An htmx request wants the fragment it will swap in, not the whole page."""
    return request.headers.get("hx-request") == "true"
