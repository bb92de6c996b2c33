"""The workspace's people: users with a role, API tokens, signed-in browser sessions.

Secrets are never stored: a password as scrypt (the standard library's, memory-hard), a
token or session cookie as its SHA-256 (they are 256 random bits, so a fast hash is safe).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.errors import WorkspaceError
from watcher.store import audit
from watcher.store.repo import Store
from watcher.store.tables import api_tokens, users, web_sessions

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
RANK = {role: rank for rank, role in enumerate(ROLES)}  # admin can do all analyst can

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # OWASP's minimum for scrypt
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # bounds the hashing cost of a hostile sign-in form
MAX_NAME = 64
LAST_USED_STEP = timedelta(minutes=5)  # how stale a token's `last_used` may get


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role

    def can(self, role: Role) -> bool:
        """Whether this user has `role` or a higher one."""
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    created: datetime
    last_used: datetime | None


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires: datetime


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str | None) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    if not stored:  # the same work as for a real user: the time says nothing of who exists
        password_matches(password, _DUMMY_HASH)
        return False
    try:
        _, n, r, p, salt, digest = stored.split("$")
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt),
                               n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


_DUMMY_HASH = hash_password("not a password", salt=b"0" * 16)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(c.isspace() or not c.isprintable() for c in name):
        raise WorkspaceError(
            f"bad user name {name!r}: 1-{MAX_NAME} printable characters, no spaces")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise WorkspaceError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


class Accounts:
    """Users, tokens and sessions in the store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_user(
        self, name: str, role: Role, password: str | None, now: datetime, actor: str = "cli"
    ) -> User:
        """A new user, in the audit log as added by `actor` ("cli": from the command line);
        WorkspaceError when the name is taken or the role unknown."""
        name = check_name(name)
        if role not in ROLES:
            raise WorkspaceError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        hashed = hash_password(check_password(password)) if password is not None else None
        with self.store.writing() as connection:
            taken = connection.execute(sa.select(users.c.disabled_at)
                                       .where(users.c.name == name)).first()
            if taken is not None:
                raise WorkspaceError(f"user {name!r} exists" if taken.disabled_at is None
                                     else f"user {name!r} existed and was disabled: "
                                     "names are not reused, so the audit log stays clear")
            user_id = connection.execute(
                sa.insert(users).values(name=name, role=role, password_hash=hashed, created=now)
            ).inserted_primary_key[0]
            audit.record(connection, now, actor, "user.add", f"user:{name}", None, {"role": role})
        return User(user_id, name, role)

    def set_role(self, name: str, role: Role, now: datetime, actor: str) -> User:
        """Give the user another role; WorkspaceError for an unknown user or role, or for
        the last admin giving up the role (nobody could manage users then)."""
        if role not in ROLES:
            raise WorkspaceError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        with self.store.writing() as connection:
            row = _user_row(connection, name)
            if row is None:
                raise WorkspaceError(f"no user {name!r}")
            if row.role == "admin" and role != "admin":
                _keep_an_admin(connection, row.id)
            connection.execute(sa.update(users).where(users.c.id == row.id).values(role=role))
            audit.record(connection, now, actor, "user.role", f"user:{name}",
                         {"role": row.role}, {"role": role})
        return User(row.id, name, role)

    def disable(self, name: str, now: datetime, actor: str) -> None:
        """The user can no longer sign in: their sessions and tokens end at once. Their
        name stays in the audit log and on what they did."""
        with self.store.writing() as connection:
            row = _user_row(connection, name)
            if row is None:
                raise WorkspaceError(f"no user {name!r}")
            if row.role == "admin":
                _keep_an_admin(connection, row.id)
            connection.execute(sa.update(users).where(users.c.id == row.id)
                               .values(disabled_at=now))
            connection.execute(sa.delete(web_sessions).where(web_sessions.c.user_id == row.id))
            connection.execute(sa.update(api_tokens).where(api_tokens.c.user_id == row.id,
                                                           api_tokens.c.revoked_at.is_(None))
                               .values(revoked_at=now))
            audit.record(connection, now, actor, "user.disable", f"user:{name}",
                         {"role": row.role}, None)

    def users(self) -> list[User]:
        with self.store.reading() as connection:
            rows = connection.execute(
                sa.select(users).where(users.c.disabled_at.is_(None)).order_by(users.c.name)
            )
            return [User(row.id, row.name, row.role) for row in rows]

    def user(self, name: str) -> User | None:
        with self.store.reading() as connection:
            row = _user_row(connection, name)
            return None if row is None else User(row.id, row.name, row.role)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password is theirs; None otherwise (which, is not said)."""
        with self.store.reading() as connection:
            row = _user_row(connection, name)
        stored = row.password_hash if row is not None else None
        if not password_matches(password, stored) or row is None:
            return None
        return User(row.id, row.name, row.role)

    def add_token(self, name: str, now: datetime, actor: str = "cli") -> str:
        """A new API token for the user, returned once: only its hash is kept."""
        token = "wt_" + secrets.token_urlsafe(32)
        with self.store.writing() as connection:
            row = _user_row(connection, name)
            if row is None:
                raise WorkspaceError(f"no user {name!r} (watcher users add {name} --role ...)")
            token_id = connection.execute(sa.insert(api_tokens).values(
                user_id=row.id, token_hash=secret_hash(token), created=now
            )).inserted_primary_key[0]
            audit.record(connection, now, actor, "token.add", f"token:{token_id}",
                         None, {"user": name})
        return token

    def token_user(self, token: str, now: datetime) -> User | None:
        """The user a token acts for; None for an unknown or revoked one. Read without the
        write lock: `last_used` is written only when it is LAST_USED_STEP old, so API and
        feed requests do not queue behind the workers' writes."""
        with self.store.reading() as connection:
            row = connection.execute(
                sa.select(users, api_tokens.c.id.label("token_id"), api_tokens.c.last_used)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == secret_hash(token),
                       api_tokens.c.revoked_at.is_(None), users.c.disabled_at.is_(None))
            ).first()
        if row is None:
            return None
        if row.last_used is None or now - row.last_used >= LAST_USED_STEP:
            with self.store.writing() as connection:
                connection.execute(sa.update(api_tokens)
                                   .where(api_tokens.c.id == row.token_id)
                                   .values(last_used=now))
        return User(row.id, row.name, row.role)

    def tokens(self, name: str | None = None) -> list[TokenInfo]:
        """Every token not revoked (of user `name` only, when given), oldest first."""
        query = (sa.select(api_tokens.c.id, users.c.name, api_tokens.c.created,
                           api_tokens.c.last_used)
                 .join(users, users.c.id == api_tokens.c.user_id)
                 .where(api_tokens.c.revoked_at.is_(None)).order_by(api_tokens.c.id))
        if name is not None:
            query = query.where(users.c.name == name)
        with self.store.reading() as connection:
            return [TokenInfo(row.id, row.name, row.created, row.last_used)
                    for row in connection.execute(query)]

    def revoke_token(self, token_id: int, now: datetime, actor: str) -> TokenInfo:
        """The token stops working at once; in the audit log."""
        with self.store.writing() as connection:
            row = connection.execute(
                sa.select(api_tokens, users.c.name).join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.id == token_id)).first()
            if row is None or row.revoked_at is not None:
                raise WorkspaceError(f"no token {token_id}" if row is None
                                     else f"token {token_id} was revoked already")
            connection.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id)
                               .values(revoked_at=now))
            audit.record(connection, now, actor, "token.revoke", f"token:{token_id}",
                         {"user": row.name}, None)
        return TokenInfo(token_id, row.name, row.created, row.last_used)

    def start_session(self, user: User, now: datetime, lifetime: timedelta) -> tuple[str, str]:
        """(cookie token, CSRF token) of a new session for the user."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.store.writing() as connection:
            connection.execute(sa.delete(web_sessions).where(web_sessions.c.expires < now))
            connection.execute(sa.insert(web_sessions).values(
                user_id=user.id, token_hash=secret_hash(token), csrf_token=csrf,
                created=now, expires=now + lifetime))
        return token, csrf

    def session(self, token: str, now: datetime) -> Session | None:
        with self.store.reading() as connection:
            row = connection.execute(
                sa.select(users, web_sessions.c.csrf_token, web_sessions.c.expires)
                .join(web_sessions, web_sessions.c.user_id == users.c.id)
                .where(web_sessions.c.token_hash == secret_hash(token),
                       web_sessions.c.expires > now, users.c.disabled_at.is_(None))
            ).first()
        if row is None:
            return None
        return Session(User(row.id, row.name, row.role), row.csrf_token, row.expires)

    def end_session(self, token: str) -> None:
        with self.store.writing() as connection:
            connection.execute(
                sa.delete(web_sessions).where(web_sessions.c.token_hash == secret_hash(token)))


def _keep_an_admin(connection: Connection, leaving: int) -> None:
    others = connection.execute(
        sa.select(sa.func.count()).select_from(users)
        .where(users.c.role == "admin", users.c.disabled_at.is_(None), users.c.id != leaving)
    ).scalar_one()
    if not others:
        raise WorkspaceError("the last admin cannot stop being one: make another admin first")


def _user_row(connection: Connection, name: str) -> sa.Row | None:
    return connection.execute(
        sa.select(users).where(users.c.name == name, users.c.disabled_at.is_(None))
    ).first()
