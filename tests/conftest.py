"""Shared fixtures: one spaCy analyser per test session (loading it takes a second), one
real PostgreSQL server per session (per xdist worker), and a working directory per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.alerting import ALERTS_USER, PASSWORD
from tests.support.helpers import enter_workdir
from tests.support.postgres import postgres_server
from tests.support.smtp_server import SmtpServer
from tests.support.webhook import WebhookServer
from watcher.engine.core import Engine
from watcher.model import Article, Match
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.store import Store
from watcher.text.analysis import Analyzer

MatchFn = Callable[..., list[Match]]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory of the test's own, no WATCHER_* variables from outside."""
    return enter_workdir(tmp_path, monkeypatch)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback with login (tests/support/alerting.py's account)."""
    with SmtpServer(ALERTS_USER, PASSWORD) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[WebhookServer]:
    """A real webhook receiver on loopback."""
    with WebhookServer() as server:
        yield server


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture(scope="session")
def match_query(analyzer: Analyzer) -> MatchFn:
    """Match one query (rule language text) against a body and optional title."""

    def run(query: str, body: str, title: str = "") -> list[Match]:
        rule = Rule(id="r", title="test", query_text=query, query=parse_query(query))
        engine = Engine(Compiler(analyzer).compile([rule]), analyzer)
        return engine.match(analyzer.analyse(Article(id="a", title=title, body=body)))

    return run


@pytest.fixture(scope="session")
def fires(match_query: MatchFn) -> Callable[..., bool]:
    """Whether a query matches a body (and optional title)."""

    def run(query: str, body: str, title: str = "") -> bool:
        return bool(match_query(query, body, title))

    return run


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """WATCHER_TEST_POSTGRES_URL, else a server started from Debian's binaries for this
    session. Without either the PostgreSQL tests skip, except in CI, which sets
    WATCHER_REQUIRE_POSTGRES=1 and installs the package."""
    given = os.environ.get("WATCHER_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    with postgres_server() as server:
        yield server.url


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL, emptied before and after the test."""
    with Store.open(postgres_url) as store:
        store.downgrade("base")
        store.upgrade()
    yield postgres_url
    with Store.open(postgres_url) as store:
        store.downgrade("base")
