"""Web fixtures: a store with a team of three (admin ada, analyst ana, viewer vic), the
workspace served on loopback over it, and a headless Debian Chromium (one per worker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.helpers import ManualClock
from tests.support.web import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Served, add_team, serve
from watcher.store import Store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def team_store(tmp_path: Path, clock: ManualClock) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'web.db'}") as store:
        add_team(store, clock.now())
        yield store


@pytest.fixture
def served(team_store: Store, clock: ManualClock) -> Iterator[Served]:
    with serve(team_store, clock=clock) as served:
        yield served


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)  # generous on a busy machine; waits end on events
    yield page
    context.close()


def sign_in(page: Page, served: Served, name: str, target: str = "/") -> None:
    page.goto(f"{served.url}{target}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{served.url}{target}")
