"""Who is asking: a bearer token (API and feeds), the trusted proxy's header, or the
session cookie of a signed-in browser; what their role lets them do; CSRF on every form.

Every request that is not signed in gets 401 (the API, feeds) or the sign-in page.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from watcher.store.accounts import Role, User
from watcher.web.context import TEMPLATES, web_of

SESSION_COOKIE = "watcher_session"
SIGNIN_COOKIE = "watcher_signin"  # the sign-in form's own CSRF token (double submit)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"  # htmx sends it on every request (base.html's hx-headers)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MACHINE_PREFIXES = ("/api/", "/feeds/")  # answered 401, not the sign-in page
FEED_PREFIX = "/feeds/"
FEED_TOKEN_PARAMETER = "token"  # ?token=TOKEN, on feeds only
READ_METHODS = frozenset({"GET", "HEAD"})

router = APIRouter()
# Describes the bearer token in /api/openapi.json; signed_in is what checks it.
BEARER = HTTPBearer(auto_error=False, description="An API token: `watcher tokens add NAME`")


@dataclass(frozen=True)
class Actor:
    """The signed-in user of a request and how they signed in; `csrf_token` is the session's
    (None for a token or proxy sign-in, which no other site can make a browser send)."""

    user: User
    via: str  # "session", "token" or "proxy"
    csrf_token: str | None = None


class NotSignedIn(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def require(role: Role):  # noqa: ANN201 - a FastAPI dependency
    """A dependency: the request's Actor, who must have `role` (or a higher one); a form
    posted from a session must carry its CSRF token."""

    async def dependency(
        request: Request, token: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> Actor:
        actor = signed_in(request)
        if actor is None:
            raise NotSignedIn()
        if request.method not in SAFE_METHODS and actor.via == "session":
            await check_csrf(request, actor)
        elif request.method not in SAFE_METHODS and actor.via == "proxy":
            check_same_site(request)
        if not actor.user.can(role):
            raise Forbidden(f"{actor.user.name} is {actor.user.role}; this needs {role}")
        return actor

    return dependency


# What a route declares it needs: `actor: Viewer` (anyone signed in), `Analyst`, `Admin`.
Viewer = Annotated[Actor, Depends(require("viewer"))]
Analyst = Annotated[Actor, Depends(require("analyst"))]
Admin = Annotated[Actor, Depends(require("admin"))]


def signed_in(request: Request) -> Actor | None:
    cached = getattr(request.state, "actor", False)
    if cached is not False:
        return cached
    actor = _bearer(request) or _proxy(request) or _session(request)
    request.state.actor = actor
    return actor


def _bearer(request: Request) -> Actor | None:
    token = _presented_token(request)
    if token is None:
        return None
    web = web_of(request)
    user = web.accounts.token_user(token, web.now())
    if user is None:
        raise NotSignedIn()  # a wrong token is refused, never read as no token
    return Actor(user, "token")


def _presented_token(request: Request) -> str | None:
    """`Authorization: Bearer TOKEN`, or on a feed, which many feed readers can only fetch
    by URL, `?token=TOKEN` (GET only; docs/web.md says what that exposes). A `?token=`
    given is checked even when empty: a wrong token is refused, never read as none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if request.url.path.startswith(FEED_PREFIX) and request.method in READ_METHODS:
        found = request.query_params.get(FEED_TOKEN_PARAMETER)
        if found is not None and not found.strip():
            raise NotSignedIn()
        return found.strip() if found is not None else None
    return None


def _proxy(request: Request) -> Actor | None:
    web = web_of(request)
    header = web.settings.web.proxy_header
    if header is None or header not in request.headers or not from_trusted_proxy(request):
        return None
    user = web.accounts.user(request.headers[header].strip())
    return None if user is None else Actor(user, "proxy")


def _trusted(host: str, ranges: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in ranges)


def _session(request: Request) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    web = web_of(request)
    session = web.accounts.session(token, web.now())
    return None if session is None else Actor(session.user, "session", session.csrf_token)


async def check_csrf(request: Request, actor: Actor) -> None:
    """A state-changing request from a browser session carries the session's CSRF token
    (a form field or the X-CSRF-Token header) and, when the browser names it, our origin."""
    _check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, actor.csrf_token or ""):
        raise Forbidden("the form's security token is missing or stale: reload the page")


def check_same_site(request: Request) -> None:
    """A change asked by a browser the sign-in proxy signed in, which has no token of ours
    to show: the browser must say it comes from this site's own page (`Origin`, or
    `Sec-Fetch-Site: same-origin`; every browser in use sends one on a POST). The proxy's
    own cookie goes along with a form another site posts, so its header proves nothing."""
    _check_origin(request)
    if request.headers.get("sec-fetch-site") == "same-origin":
        return
    if not request.headers.get("origin") or request.headers["origin"] == "null":
        raise Forbidden("a change must come from this site's own page (no Origin was sent)")


def _check_origin(request: Request) -> None:
    """A browser that names the page a request comes from must name ours: its `Origin`,
    and its `Sec-Fetch-Site` when it sends that."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None and fetched_from not in ("same-origin", "none"):
        raise Forbidden("a form from another site")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != public_host(request):
        raise Forbidden("a form from another site")


def public_host(request: Request) -> str | None:
    """The host the browser asked for: the trusted proxy's `X-Forwarded-Host` (it may
    rewrite `Host`), else `Host`."""
    forwarded = request.scope.get("state", {}).get("forwarded_host")
    return forwarded or request.headers.get("host")


def from_trusted_proxy(request: Request) -> bool:
    """Whether the connection itself (not a header) comes from a configured proxy."""
    web = web_of(request)
    peer = request.scope.get("client")
    return bool(peer) and _trusted(peer[0], web.settings.web.trusted_proxies)


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def not_signed_in_response(request: Request) -> Response:
    if request.url.path.startswith(MACHINE_PREFIXES):
        how = "send Authorization: Bearer TOKEN"
        if request.url.path.startswith(FEED_PREFIX):
            how += f" (or add ?{FEED_TOKEN_PARAMETER}=TOKEN to the feed's URL)"
        return JSONResponse({"error": f"not signed in: {how}"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)


def forbidden_response(request: Request, error: Forbidden) -> Response:
    if request.url.path.startswith(MACHINE_PREFIXES):
        return JSONResponse({"error": error.message}, status_code=403)
    return TEMPLATES.TemplateResponse(
        request, "error.html", {"actor": signed_in(request), "message": error.message},
        status_code=403)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a sign-in link must not send the user elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
def signin_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    return _signin_form(request, next, None)


def _signin_form(request: Request, target: str, error: str | None, status: int = 200) -> Response:
    # One token per browser, kept across sign-in pages: another tab (or the browser's own
    # favicon request sent here) must not make the first form stale.
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = TEMPLATES.TemplateResponse(
        request, "signin.html",
        {"actor": None, "next": _safe_next(target), "error": error, "signin_token": token},
        status_code=status)
    _set_cookie(request, response, SIGNIN_COOKIE, token, 3600)
    return response


@router.post("/signin", include_in_schema=False)
def signin(
    request: Request, name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "", signin_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, signin_token):
        return _signin_form(request, next, "The form expired: sign in again.", 400)
    web = web_of(request)
    name, address = name.strip(), request.client.host if request.client else None
    wait = web.sign_in_guard.wait(name, address, web.now())
    if wait is not None:
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        return _signin_form(request, next, "Too many wrong passwords: try again in "
                            f"{minutes} minute{'s' if minutes > 1 else ''}.", 429)
    user = web.accounts.authenticate(name, password)
    if user is None:
        web.sign_in_guard.failed(name, address, web.now())
        return _signin_form(request, next, "Wrong name or password.", 401)
    web.sign_in_guard.succeeded(name)
    lifetime = timedelta(seconds=web.settings.web.session)
    token, _ = web.accounts.start_session(user, web.now(), lifetime)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, int(lifetime.total_seconds()))
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout", include_in_schema=False)
async def signout(request: Request) -> Response:
    actor = signed_in(request)
    if actor is not None and actor.via == "session":
        await check_csrf(request, actor)
        web_of(request).accounts.end_session(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    """HttpOnly, SameSite=Lax, and Secure whenever the page was served over HTTPS (behind a
    TLS proxy, as its trusted X-Forwarded-Proto says)."""
    response.set_cookie(name, value, max_age=age, path="/", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
