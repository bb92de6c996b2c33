"""Admins manage the team in the workspace: add a user, change a role, disable one; every
change in the audit log by the admin who made it; nobody else may."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.web import PASSWORD, Served
from tests.web.conftest import sign_in
from watcher.store.accounts import Accounts
from watcher.store.audit import Audit


def test_an_admin_adds_a_user_who_then_signs_in(served: Served, page: Page) -> None:
    sign_in(page, served, "ada", "/users")
    page.get_by_label("Name").fill("bo")
    page.locator("#new-role").select_option("analyst")
    page.get_by_label("Password").fill("a long secret")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("rowheader", name="bo")).to_be_visible()
    assert Accounts(served.store).authenticate("bo", "a long secret").role == "analyst"
    page.get_by_label("Role of bo").select_option("viewer")
    with page.expect_navigation():  # the form's answer: the page again, bo a viewer now
        page.get_by_role("button", name="Change role of bo").click()
    expect(page.get_by_label("Role of bo")).to_have_value("viewer")
    assert Accounts(served.store).user("bo").role == "viewer"
    page.get_by_role("button", name="Disable bo").click()
    expect(page.get_by_role("rowheader", name="bo")).to_have_count(0)
    assert Accounts(served.store).authenticate("bo", "a long secret") is None
    actions = [(e.actor, e.action, e.target) for e in Audit(served.store).entries()][:3]
    assert actions == [("ada", "user.disable", "user:bo"), ("ada", "user.role", "user:bo"),
                       ("ada", "user.add", "user:bo")]


def test_only_admins_manage_users(served: Served) -> None:
    for name in ("ana", "vic"):
        with served.client(served.token(name)) as client:
            assert client.get("/users").status_code == 403
            assert client.get("/api/users").status_code == 403
            assert client.post("/api/users", json={"name": "x", "role": "admin",
                                                   "password": PASSWORD}).status_code == 403
            assert client.post("/api/users/ada/disable").status_code == 403
    assert [u.name for u in Accounts(served.store).users()] == ["ada", "ana", "vic"]


def test_the_api_adds_changes_and_disables_and_keeps_one_admin(served: Served) -> None:
    token = served.token("ada")
    with served.client(token) as client:
        added = client.post("/api/users", json={"name": "bo", "role": "viewer",
                                                "password": "a long secret"})
        assert (added.status_code, added.json()) == (201, {"name": "bo", "role": "viewer"})
        again = client.post("/api/users", json={"name": "bo", "role": "viewer",
                                                "password": "a long secret"})
        assert (again.status_code, again.json()) == (400, {"error": "user 'bo' exists"})
        assert client.post("/api/users/bo/role", json={"role": "admin"}).json()["role"] == "admin"
        assert client.post("/api/users/bo/disable").status_code == 204
        last = client.post("/api/users/ada/role", json={"role": "viewer"})
        assert last.status_code == 400 and "last admin" in last.json()["error"]
        reused = client.post("/api/users", json={"name": "bo", "role": "viewer",
                                                 "password": "a long secret"})
        assert reused.status_code == 400 and "disabled" in reused.json()["error"]
        assert [u["name"] for u in client.get("/api/users").json()["users"]] == [
            "ada", "ana", "vic"]


def test_a_disabled_users_tokens_stop_working_at_once(served: Served) -> None:
    token = served.token("vic")
    with served.client(token) as client:
        assert client.get("/api/stories").status_code == 200
        Accounts(served.store).disable("vic", served.clock.now(), "ada")
        assert client.get("/api/stories").status_code == 401
