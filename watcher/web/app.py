"""The workspace application: its routes, error pages, static files and security headers.

`create_app` is what `watcher web` serves with uvicorn and what the tests serve on
loopback; each part of the workspace is a router in its own module (ROUTERS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from watcher.config.settings import Settings
from watcher.errors import WorkspaceError
from watcher.store import Store
from watcher.web import (
    audit,
    auth,
    feeds,
    inbox,
    matches_api,
    places_map,
    rules,
    silences,
    sources,
    story,
    triage,
    users,
    workbench,
)
from watcher.web.auth import (
    Forbidden,
    NotSignedIn,
    forbidden_response,
    from_trusted_proxy,
    not_signed_in_response,
    signed_in,
)
from watcher.web.context import HERE, TEMPLATES, Web
from watcher.web.invalid import first_error, refusals_described

ROUTERS = (
    auth.router,
    places_map.router,
    triage.router,
    audit.router,
    feeds.router,
    sources.router,
    story.router,
    silences.router,
    rules.router,
    workbench.router,
    inbox.router,
    users.router,
    matches_api.router,
)

# Nothing is loaded from elsewhere: scripts and styles are the vendored files.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def create_app(store: Store, settings: Settings, clock: Callable[[], datetime]) -> FastAPI:
    app = FastAPI(
        title="watcher workspace", version="1", openapi_url="/api/openapi.json",
        docs_url=None, redoc_url=None,
    )
    app.state.web = Web(store, settings, clock)
    for router in ROUTERS:
        app.include_router(router)
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(WorkspaceError, _refused)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.openapi = refusals_described(app)  # type: ignore[method-assign]
    app.middleware("http")(_sign_in_first)
    app.middleware("http")(_behind_trusted_proxy)
    app.middleware("http")(_security_headers)  # added last: runs first, on every answer
    return app


async def _behind_trusted_proxy(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """What a configured proxy (web.trusted_proxies) says of the browser's request: the
    scheme it was asked in (`X-Forwarded-Proto`: cookies are Secure behind TLS) and the
    host (`X-Forwarded-Host`, for the Origin check). From anyone else, nothing is believed.
    uvicorn's own proxy handling is off: it would put the browser's address where the
    proxy's must be checked."""
    if from_trusted_proxy(request):
        scheme = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if scheme in ("http", "https"):
            request.scope["scheme"] = scheme
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        if host:
            request.scope.setdefault("state", {})["forwarded_host"] = host
    return await call_next(request)


PUBLIC_PATHS = frozenset({"/signin", "/signout", "/favicon.ico"})


async def _sign_in_first(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Nothing but the sign-in page and the assets answers a request that is not signed in,
    not even with a 404: 401 for the API and feeds, the sign-in page for the rest."""
    path = request.url.path
    if path not in PUBLIC_PATHS and not path.startswith("/static/"):
        try:
            actor = signed_in(request)
        except NotSignedIn:
            actor = None
        if actor is None:
            return not_signed_in_response(request)
    return await call_next(request)


def _favicon() -> Response:
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


async def _not_signed_in(request: Request, error: Exception) -> Response:
    return not_signed_in_response(request)


async def _refused(request: Request, error: Exception) -> Response:
    """A request that cannot be carried out as asked: 400 with its one line."""
    if request.url.path.startswith(("/api/", "/feeds/")):
        return JSONResponse({"error": str(error)}, status_code=400)
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"actor": signed_in(request), "message": str(error),
                                "heading": "Not done"}, status_code=400)


async def _invalid(request: Request, error: Exception) -> Response:
    """A request the schema refuses is one that cannot be carried out: the same 400."""
    assert isinstance(error, RequestValidationError)
    return await _refused(request, WorkspaceError(first_error(error.errors())))


async def _forbidden(request: Request, error: Exception) -> Response:
    assert isinstance(error, Forbidden)
    return forbidden_response(request, error)


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):  # pages show what only the team may see
        response.headers.setdefault("cache-control", "no-store")
    return response
