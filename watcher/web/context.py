"""What every page and API route reads: the store, the settings, the clock, the templates.

Built once by `create_app` and kept on the application (`app.state.web`); routes get it
with `web_of(request)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from watcher.config.settings import Settings
from watcher.store import Store
from watcher.store.accounts import Accounts
from watcher.web.feedtext import install as install_feed_filters
from watcher.web.throttle import SignInGuard

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html
install_feed_filters(TEMPLATES.env)


@dataclass
class Web:
    store: Store
    settings: Settings
    clock: Callable[[], datetime]
    accounts: Accounts = field(init=False)
    sign_in_guard: SignInGuard = field(init=False)

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.store)
        self.sign_in_guard = SignInGuard()

    def now(self) -> datetime:
        return self.clock()


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web
