"""Web fixtures: a store with a team of three (admin ada, analyst ana, viewer vic), the
workspace served on loopback over it, and a headless Debian Chromium (one per worker)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.helpers import ManualClock
from tests.support.web import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Served, add_team, serve
from watcher.cli.main import cli
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


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds replayed once with the shipped rules (no channels: nothing is sent)."""
    folder = tmp_path_factory.mktemp("seeded")
    path, config = folder / "seeded.db", folder / "watcher.yaml"
    config.write_text("{}\n")  # no ./watcher.yaml of the developer's, no channels
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", f"sqlite:///{path}", "replay",
              "--rules", str(ROOT / "rules"), str(ROOT / "seeds")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def seeded(seeded_file: Path, tmp_path: Path, clock: ManualClock) -> Iterator[Served]:
    path = tmp_path / "web.db"
    shutil.copy(seeded_file, path)
    with Store.open(f"sqlite:///{path}") as store:
        add_team(store, clock.now())
        with serve(store, clock=clock) as served:
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
