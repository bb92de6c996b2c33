"""`watcher web` (the team's workspace), `watcher users` and `watcher tokens`.

Passwords are read from standard input (one line), never from the command line, where
other users of the machine and the shell's history would see them.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from watcher.cli.common import EXIT_RULES, open_store, refused_exit, utc_now
from watcher.config.settings import Settings
from watcher.store.accounts import ROLES, Accounts


@click.command("web")
@click.option("--host", default=None, help="Address to listen on [config web.host; 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port [config web.port; 8080]; 0: any free port (the line printed says which).")
@click.pass_obj
def web(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the team's workspace over the database (docs/web.md)."""
    import uvicorn

    from watcher.web.app import create_app

    chosen = settings.web.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None})
    with open_store(settings) as store:
        app = create_app(store, settings.model_copy(update={"web": chosen}), utc_now)
        listener = _listen(chosen.host, chosen.port)
        bound = listener.getsockname()[1]
        # Printed once the port listens: what connects from now on is served.
        click.echo(f"watcher web: http://{_shown_host(chosen.host)}:{bound}/", err=True)
        # The app reads a trusted proxy's headers itself (watcher/web/app.py), checking
        # the connection's own address; uvicorn's would replace it with the browser's.
        server = _Server(uvicorn.Config(app, log_level="warning", proxy_headers=False))
        server.run(sockets=[listener])


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that the Ctrl-C or SIGTERM that stopped it is not
        raised again once it has: the workspace stopped as asked, and exits 0 (as
        `watcher run` does)."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            stopping = (signal.SIGINT, signal.SIGTERM)
            before = {number: signal.signal(number, self.handle_exit) for number in stopping}
            try:
                yield
            finally:
                for number, handler in before.items():
                    signal.signal(number, handler)

    return Server


def _Server(config: object) -> object:  # noqa: N802 - builds the class above lazily
    return _server_class()(config)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a taken port is one line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as error:
        click.echo(f"watcher: cannot listen on {_shown_host(host)}:{port}: "
                   f"{os.strerror(error.errno) if error.errno else error}", err=True)
        sys.exit(EXIT_RULES)


def _shown_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@click.group("users")
def users() -> None:
    """The workspace's people: viewers read, analysts triage and silence, admins manage."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--no-password", is_flag=True,
              help="Signs in only through the trusted proxy (config web.proxy_header).")
@click.pass_obj
def users_add(settings: Settings, name: str, role: str, no_password: bool) -> None:
    """Add a user; the password is read from standard input (one line)."""
    password = None if no_password else _read_password()
    with open_store(settings) as store, refused_exit():
        user = Accounts(store).add_user(name, role, password, utc_now())  # type: ignore[arg-type]
    click.echo(f"added {user.name} ({user.role})")


@users.command("list")
@click.pass_obj
def users_list(settings: Settings) -> None:
    with open_store(settings) as store:
        for user in Accounts(store).users():
            click.echo(f"{user.name}\t{user.role}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.group("tokens")
def tokens() -> None:
    """API and feed tokens (Authorization: Bearer TOKEN)."""


@tokens.command("add")
@click.argument("name")
@click.pass_obj
def tokens_add(settings: Settings, name: str) -> None:
    """Print a new token for user NAME, once: only its hash is stored."""
    with open_store(settings) as store, refused_exit():
        click.echo(Accounts(store).add_token(name, utc_now()))


@tokens.command("list")
@click.argument("name", required=False)
@click.pass_obj
def tokens_list(settings: Settings, name: str | None) -> None:
    """Tokens not revoked (of user NAME only): id, user, created, last used."""
    with open_store(settings) as store:
        for token in Accounts(store).tokens(name):
            used = token.last_used.isoformat(timespec="minutes") if token.last_used else "never"
            click.echo(f"{token.id}\t{token.user}\tcreated "
                       f"{token.created.isoformat(timespec='minutes')}\tlast used {used}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def tokens_revoke(settings: Settings, token_id: int) -> None:
    """Revoke token TOKEN_ID (from `watcher tokens list`): it stops working at once."""
    with open_store(settings) as store, refused_exit():
        token = Accounts(store).revoke_token(token_id, utc_now(), "cli")
    click.echo(f"revoked token {token.id} of {token.user}")

