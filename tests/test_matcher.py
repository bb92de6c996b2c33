"""The matcher over a long run: its word-type table stays bounded and matches stay the same."""

from __future__ import annotations

import gc
import logging
import shutil
import weakref

import pytest
import spacy

from watcher.engine.matcher import Matcher
from watcher.model import Article
from watcher.rules.ast import Rule, RuleSet
from watcher.rules.grammar import parse_query
from watcher.text.analysis import Analyzer

QUERIES = {
    "siege": "siege NEAR/3 ~Aleppo",
    "drones": "drone* NEAR/s (Qamishli OR Hasakah)",
}


def _rules() -> RuleSet:
    return RuleSet(tuple(
        Rule(id=rule_id, title=rule_id, query_text=query, query=parse_query(query))
        for rule_id, query in QUERIES.items()
    ))


def _news(batch: int) -> list[Article]:
    """Articles that each bring new words (numbered place codes) beside the rules' words."""
    return [
        Article(
            id=f"{batch}-{n}",
            title=f"Report {batch}-{n}",
            body=(
                f"The siege of Aleppo went on near sector{batch}x{n}. "
                f"Drones struck Qamishli at dawn, said unit{batch}y{n} and post{batch}z{n}."
                if n % 2
                else f"Talks in Geneva{batch}q{n} and Vienna{batch}w{n} ended."
            ),
        )
        for n in range(6)
    ]


def _found(matches: list[list]) -> list[list[tuple[str, str]]]:
    return [[(m.rule_id, m.snippet) for m in per_article] for per_article in matches]


BATCHES = 8


@pytest.fixture(scope="module")
def never_renewed() -> tuple[list[list[list[tuple[str, str]]]], int]:
    """What a matcher that never renews finds in every batch, and the word types it holds."""
    matcher = Matcher(_rules(), Analyzer(), max_word_types=10**9)
    found = [_found(matcher.match_many(_news(batch))) for batch in range(BATCHES)]
    return found, len(matcher.analyzer.types)


def test_the_word_type_table_starts_over_past_its_limit(never_renewed, caplog):
    results, all_types = never_renewed
    matcher = Matcher(_rules(), Analyzer(), max_word_types=60)
    first = weakref.ref(matcher.analyzer)
    with caplog.at_level(logging.INFO, logger="watcher.matcher"):
        seen = [_found(matcher.match_many(_news(batch))) for batch in range(BATCHES)]
    assert seen == results  # the same matches and snippets, renewed or not
    assert len(matcher.analyzer.types) < all_types
    assert any(m.startswith("event=word_types_renewed") for m in caplog.messages)
    gc.collect()
    assert first() is None  # nothing holds the old analyser: its vocabulary is freed


def test_one_article_at_a_time_renews_too(never_renewed):
    results, all_types = never_renewed
    matcher = Matcher(_rules(), Analyzer(), max_word_types=60)
    for batch in range(BATCHES):
        found = [matcher.match(article) for article in _news(batch)]
        assert _found(found) == results[batch]
    assert len(matcher.analyzer.types) < all_types


def test_below_the_limit_the_analyser_is_kept():
    matcher = Matcher(_rules(), Analyzer())
    analyser = matcher.analyzer
    for batch in range(3):
        matcher.match_many(_news(batch))
    assert matcher.analyzer is analyser


def test_a_pipeline_gone_during_the_run_keeps_matching_on_the_old_analyser(
    tmp_path, never_renewed, caplog
):
    """Renewing reloads the pipeline; uninstalled or moved meanwhile, matching goes on."""
    results, _ = never_renewed
    folder = tmp_path / "pipeline"
    spacy.blank("en").to_disk(folder)
    matcher = Matcher(_rules(), Analyzer(str(folder)), max_word_types=60)
    shutil.rmtree(folder)
    with caplog.at_level(logging.WARNING, logger="watcher.matcher"):
        seen = [_found(matcher.match_many(_news(batch))) for batch in range(BATCHES)]
    assert seen == results
    failures = [m for m in caplog.messages if m.startswith("event=word_types_renew_failed")]
    assert 1 <= len(failures) < BATCHES  # tried again later, not before every call
