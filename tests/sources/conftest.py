"""Fixtures for the sources' tests: a scripted HTTP server on loopback, fresh per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.http_server import ScriptedServer


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server
