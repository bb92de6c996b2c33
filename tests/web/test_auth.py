"""Accounts and sign-in: who may read, who may change, and how each way of signing in is
checked (session cookie with CSRF, bearer token, the trusted proxy's header)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.web import PASSWORD, Served, serve
from tests.web.conftest import sign_in
from watcher.config.settings import Settings, WebSettings
from watcher.errors import WorkspaceError
from watcher.store import Store
from watcher.store.accounts import Accounts
from watcher.web.throttle import PER_NAME, WINDOW


def test_a_page_asked_for_signed_out_shows_the_sign_in_page(served: Served) -> None:
    with served.client() as client:
        answer = client.get("/no/such/page?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/no/such/page%3Fx%3D1"


def test_the_api_signed_out_is_401_with_a_bearer_challenge(served: Served) -> None:
    with served.client() as client:
        answer = client.get("/api/stories")
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    with served.client("wt_not-a-token") as client:
        assert client.get("/api/stories").status_code == 401


def test_signing_in_in_the_browser_lands_on_the_page_asked_for(served: Served, page: Page) -> None:
    sign_in(page, served, "ana")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.get_by_text("ana (analyst)")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(served.url + "/")  # the session is over: the cookie no longer signs in
    expect(page).to_have_url(re.compile(r"/signin\?next=/$"))


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    served: Served, page: Page
) -> None:
    for name in ("ana", "nobody"):
        page.goto(served.url + "/signin")
        page.get_by_label("Name").fill(name)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")


def test_the_session_cookie_is_http_only_and_same_site(served: Served) -> None:
    with served.client() as client:
        form = client.get("/signin")
        token = re.search(r'name="signin_token" value="([^"]+)"', form.text)[1]
        answer = client.post("/signin", data={"name": "vic", "password": PASSWORD,
                                              "signin_token": token, "next": "//evil.example/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"  # never offsite
    cookie = answer.headers["set-cookie"]
    assert "watcher_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback; over https it is set


def test_a_form_posted_without_the_sessions_csrf_token_is_refused(served: Served) -> None:
    with served.client() as client:
        form = client.get("/signin")
        token = re.search(r'name="signin_token" value="([^"]+)"', form.text)[1]
        client.post("/signin", data={"name": "ana", "password": PASSWORD, "signin_token": token})
        assert client.post("/signout").status_code == 403  # no token: still signed in
        assert client.get("/").status_code == 200
        page = client.get("/").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        assert client.post("/signout", data={"csrf_token": csrf}).status_code == 303
        assert client.get("/").status_code == 303


def test_a_sign_in_form_without_its_own_token_is_refused(served: Served) -> None:
    with served.client() as client:
        answer = client.post("/signin", data={"name": "ana", "password": PASSWORD,
                                              "signin_token": "forged"})
    assert answer.status_code == 400 and "watcher_session" not in answer.headers.get(
        "set-cookie", "")


def test_a_token_signs_in_as_its_user(served: Served) -> None:
    token = served.token("vic")
    with served.client(token) as client:
        assert client.get("/").status_code == 200


def test_the_proxy_header_is_believed_only_from_trusted_addresses(team_store: Store) -> None:
    trusted = Settings(web=WebSettings(proxy_header="X-Forwarded-User",
                                       trusted_proxies=("127.0.0.1/32",)))
    with serve(team_store, trusted) as served, served.client() as client:
        assert client.get("/", headers={"X-Forwarded-User": "ana"}).status_code == 200
        assert client.get("/", headers={"X-Forwarded-User": "mallory"}).status_code == 303
    elsewhere = Settings(web=WebSettings(proxy_header="X-Forwarded-User",
                                         trusted_proxies=("10.0.0.0/8",)))
    with serve(team_store, elsewhere) as served, served.client() as client:
        assert client.get("/", headers={"X-Forwarded-User": "ana"}).status_code == 303


PROXIED = Settings(web=WebSettings(proxy_header="X-Remote-User",
                                   trusted_proxies=("127.0.0.1/32",)))


def test_a_change_through_the_proxy_must_come_from_this_sites_own_page(
    team_store: Store,
) -> None:
    """The sign-in proxy's cookie goes along with a form another site posts, so its
    header alone must not let that form change anything."""
    form = {"name": "mallory", "role": "admin", "password": "a long secret"}
    with serve(team_store, PROXIED) as served, served.client() as client:
        def add(**headers: str) -> int:
            return client.post("/users", data=form, headers={"X-Remote-User": "ada",
                                                            **headers}).status_code
        assert add(Origin="https://evil.example") == 403
        assert add(**{"Sec-Fetch-Site": "cross-site"}) == 403
        assert add() == 403  # no Origin at all: not a page of ours that a browser sent
        assert [u.name for u in Accounts(team_store).users()] == ["ada", "ana", "vic"]
        host = served.url.removeprefix("http://")
        assert add(Origin=f"http://{host}") == 303
        assert "mallory" in [u.name for u in Accounts(team_store).users()]


def test_behind_the_proxy_its_forwarded_host_and_scheme_are_believed(
    team_store: Store,
) -> None:
    """A TLS proxy that rewrites Host: the Origin is checked against X-Forwarded-Host, and
    the session cookie is Secure because the browser spoke HTTPS."""
    forwarded = {"X-Forwarded-Host": "watch.example.org", "X-Forwarded-Proto": "https",
                 "X-Forwarded-For": "203.0.113.7", "X-Remote-User": "ada"}
    with serve(team_store, PROXIED) as served, served.client() as client:
        change = client.post("/users", data={"name": "bo", "role": "viewer",
                                             "password": "a long secret"},
                             headers={**forwarded, "Origin": "https://watch.example.org"})
        assert change.status_code == 303
        form = client.get("/signin", headers=forwarded)
        token = re.search(r'name="signin_token" value="([^"]+)"', form.text)[1]
        answer = client.post("/signin", headers=forwarded, data={
            "name": "vic", "password": PASSWORD, "signin_token": token})
        assert "Secure" in answer.headers["set-cookie"]
    with serve(team_store, Settings()) as served, served.client() as client:  # no proxy
        form = client.get("/signin", headers=forwarded)
        assert "Secure" not in form.headers["set-cookie"]  # a header anyone can send


def test_pages_forbid_framing_and_scripts_from_elsewhere(served: Served) -> None:
    with served.client() as client:
        headers = client.get("/signin").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"


def test_users_need_a_free_name_a_known_role_and_a_real_password(team_store: Store) -> None:
    accounts = Accounts(team_store)
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(WorkspaceError, match="user 'ana' exists"):
        accounts.add_user("ana", "viewer", PASSWORD, moment)
    with pytest.raises(WorkspaceError, match="unknown role"):
        accounts.add_user("bo", "root", PASSWORD, moment)  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match="8 to 1024 characters"):
        accounts.add_user("bo", "viewer", "short", moment)
    assert [u.name for u in accounts.users()] == ["ada", "ana", "vic"]


def test_wrong_passwords_for_a_name_stop_its_sign_in_for_a_while(served: Served) -> None:
    """After PER_NAME wrong passwords in WINDOW, even the right one is refused (before any
    hashing) until the window moves on; other names still sign in."""
    with served.client() as client:
        def attempt(name: str, password: str) -> httpx.Response:
            form = client.get("/signin")
            token = re.search(r'name="signin_token" value="([^"]+)"', form.text)[1]
            return client.post("/signin", data={"name": name, "password": password,
                                                 "signin_token": token})
        for _ in range(PER_NAME):
            assert attempt("ana", "wrong password").status_code == 401
        refused = attempt("ana", PASSWORD)
        assert refused.status_code == 429
        assert "Too many wrong passwords: try again in 15 minutes." in refused.text
        assert attempt("vic", PASSWORD).status_code == 303
        served.clock.advance(WINDOW.total_seconds())
        assert attempt("ana", PASSWORD).status_code == 303
