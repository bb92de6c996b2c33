"""The team's people, for admins: who may sign in and with which role. Adding a user,
changing a role and disabling one are in the audit log, by the admin who did it.

`watcher users add` does the same from the command line (the first admin comes from there).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from watcher.errors import WorkspaceError
from watcher.store.accounts import ROLES, Role, User
from watcher.web.auth import Actor, Admin
from watcher.web.context import web_of
from watcher.web.pages import render

router = APIRouter()


class UserOut(BaseModel):
    name: str
    role: Role


class UsersOut(BaseModel):
    users: list[UserOut]


class NewUser(BaseModel):
    name: str
    role: Role
    password: str | None = None  # none: signs in only through the trusted proxy


class RoleChange(BaseModel):
    role: Role


def _out(user: User) -> UserOut:
    return UserOut(name=user.name, role=user.role)


def _page(request: Request, actor: Actor, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    return render(request, "users.html", status, users=web_of(request).accounts.users(),
                  roles=ROLES, error=error)


@router.get("/users", response_class=HTMLResponse, include_in_schema=False)
def users_page(request: Request, actor: Admin) -> HTMLResponse:
    return _page(request, actor)


@router.post("/users", include_in_schema=False)
def add_user_form(
    request: Request, actor: Admin, name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "viewer", password: Annotated[str, Form()] = "",
) -> Response:
    web = web_of(request)
    try:
        web.accounts.add_user(name, role, password or None, web.now(),  # type: ignore[arg-type]
                              actor=actor.user.name)
    except WorkspaceError as error:
        return _page(request, actor, str(error), 400)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/role", include_in_schema=False)
def role_form(request: Request, actor: Admin, name: str,
              role: Annotated[str, Form()] = "") -> Response:
    web = web_of(request)
    try:
        web.accounts.set_role(name, role, web.now(), actor.user.name)  # type: ignore[arg-type]
    except WorkspaceError as error:
        return _page(request, actor, str(error), 400)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/disable", include_in_schema=False)
def disable_form(request: Request, actor: Admin, name: str) -> Response:
    web = web_of(request)
    try:
        web.accounts.disable(name, web.now(), actor.user.name)
    except WorkspaceError as error:
        return _page(request, actor, str(error), 400)
    return RedirectResponse("/users", status_code=303)


@router.get("/api/users", response_model=UsersOut, tags=["users"])
def list_users(request: Request, actor: Admin) -> UsersOut:
    """Every user who may sign in, by name, with their role (admins only)."""
    return UsersOut(users=[_out(user) for user in web_of(request).accounts.users()])


@router.post("/api/users", status_code=201, response_model=UserOut, tags=["users"],
             responses={400: {"description": "a taken name, a bad password"}})
def add_user(request: Request, actor: Admin, new: NewUser) -> UserOut | JSONResponse:
    """Add a user (admins only); in the audit log as added by the caller."""
    web = web_of(request)
    return _out(web.accounts.add_user(new.name, new.role, new.password, web.now(),
                                      actor=actor.user.name))


@router.post("/api/users/{name}/role", response_model=UserOut, tags=["users"],
             responses={400: {"description": "no such user, or the last admin"}})
def change_role(request: Request, actor: Admin, name: str, change: RoleChange) -> UserOut:
    """Give a user another role (admins only); the last admin stays one."""
    web = web_of(request)
    return _out(web.accounts.set_role(name, change.role, web.now(), actor.user.name))


@router.post("/api/users/{name}/disable", status_code=204, tags=["users"],
             responses={400: {"description": "no such user, or the last admin"}})
def disable_user(request: Request, actor: Admin, name: str) -> Response:
    """Stop a user signing in (admins only): their sessions and tokens end at once."""
    web = web_of(request)
    web.accounts.disable(name, web.now(), actor.user.name)
    return Response(status_code=204)
