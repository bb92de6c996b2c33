"""The workspace served for real on loopback (uvicorn in a thread) and Debian's Chromium
driven by Playwright: what the web tests use.

The socket is bound and listening before the server thread starts, so a request made at
once waits in the kernel's queue until uvicorn accepts it: no wait for start-up.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.helpers import ManualClock
from watcher.config.settings import Settings
from watcher.store import Store
from watcher.store.accounts import Accounts, Role
from watcher.web.app import create_app

CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run and `make test` install it)
# As the machine's notes say: no background connections, which this closed network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PASSWORD = "correct horse battery"
TEAM: dict[str, Role] = {"ada": "admin", "ana": "analyst", "vic": "viewer"}


@dataclass
class Served:
    url: str
    app: FastAPI
    store: Store
    clock: ManualClock

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, follow_redirects=False,
                            timeout=60)

    def token(self, name: str) -> str:
        return Accounts(self.store).add_token(name, self.clock.now())


def add_team(store: Store, now: datetime) -> None:
    accounts = Accounts(store)
    for name, role in TEAM.items():
        accounts.add_user(name, role, PASSWORD, now)


@contextmanager
def serve(store: Store, settings: Settings | None = None,
          clock: ManualClock | None = None) -> Iterator[Served]:
    clock = clock or ManualClock()
    app = create_app(store, settings or Settings(), clock.now)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Inherited by accepted sockets: without it each answer waits ~40 ms on the client's
    # delayed ACK (Nagle), every request of every web test.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           proxy_headers=False))  # as `watcher web` runs
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{listener.getsockname()[1]}", app, store, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()


def chromium_present() -> bool:
    return shutil.which(CHROMIUM) is not None
