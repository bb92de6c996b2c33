"""Shared fixtures: one spaCy analyser per test session (loading it takes a second)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from watcher.engine import Engine
from watcher.model import Article, Match
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.text.analysis import Analyzer

MatchFn = Callable[..., list[Match]]


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
