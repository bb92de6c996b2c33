"""Property: the indexed engine agrees with the brute-force reference on random rules and texts.

EXAMPLES random cases per test per run (not derandomised: each run tries new ones, and
hypothesis's database replays a failure found earlier on this machine first); the kinds of
case that found bugs are pinned with @example, so every run tries them. Each example
builds an engine, whose tables are as long as its analyser's word-type table: on the
session's analyser, grown by every test before, 300 examples took minutes; on an
analyser of this module's own, 1500 take seconds.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.reference import Reference
from watcher.engine import proximity
from watcher.engine.core import FIELDS, Engine
from watcher.engine.occurrences import ScanMode
from watcher.model import Article
from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Rule, Term
from watcher.rules.compile import Compiler
from watcher.text.analysis import Analyzer

VOCAB = [
    "siege", "sieges", "besieged", "Aleppo", "al", "Hasaka", "Hassakeh", "Qamishlo",
    "Qamishli", "forces", "force", "killed", "kills", "drone", "strike", "strikes", "the",
    "of", "Sheikh", "Maqsoud", "Maqsud", "evacuation", "evacuate", "homes", "Homs",
]
SEPARATORS = [" ", " ", " ", ", ", ". ", "\n", " - "]
TERMS = st.one_of(
    st.builds(Term, st.just("word"), st.sampled_from(
        ["siege", "kill", "force", "strike", "Aleppo", "Sheikh Maqsoud", "drone strike", "the"])),
    st.builds(Term, st.just("exact"), st.sampled_from(["forces", "Homs", "strikes"])),
    st.builds(Term, st.just("prefix"), st.sampled_from(["evacua", "sieg", "str", "Sheikh-Maq"])),
    st.builds(Term, st.just("variant"), st.sampled_from(
        ["Qamishli", "Hasaka", "al-Hasaka", "Homs", "Sheikh Maqsoud"])),
)


EXAMPLES = 1500  # about 30 s for the four tests on an idle 2-core machine
# Cases of the kinds that found bugs (see git log): a hyphenated prefix ('al-Has*' never
# matched al-Hasakah), and a chain on either side of an outer NEAR past the pair limit.
HYPHENATED_PREFIX = [Term("prefix", "Sheikh-Maq"), Term("variant", "al-Hasaka")]
CHAIN_ON_THE_LEFT = Near(Near(Term("word", "siege"), Term("word", "force"), "words", 2, False),
                         Term("word", "strike"), "words", 3, False)
CHAIN_ON_THE_RIGHT = Near(Term("word", "strike"),
                          Near(Term("word", "siege"), Term("word", "force"), "words", 2, False),
                          "words", 3, True)
CHAIN_TEXT = "siege forces strike. " * 3 + "strike the siege of forces, siege forces. "


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """This module's own (see above): the session's has met every word of the suite."""
    return Analyzer()


# What NOT IN takes on each side: a term or an OR of terms (the grammar allows no more).
TERM_GROUPS = TERMS | st.builds(lambda cs: Or(tuple(cs)), st.lists(TERMS, min_size=2, max_size=3))
NOT_IN = st.builds(NotIn, TERM_GROUPS, TERM_GROUPS)
# `fight NOT IN "fighting position"` in every part of a query it may stand in, on a text
# where some occurrences of A lie inside B and some do not.
NOT_IN_PLACES = [
    NotIn(Term("word", "siege"), Term("word", "siege of")),
    Near(NotIn(Term("word", "force"), Or((Term("word", "the force"), Term("exact", "forces")))),
         Term("variant", "Homs"), "words", 3, False),
    Near(Term("word", "strike"), NotIn(Term("prefix", "sieg"), Term("word", "siege of")),
         "sentence", 0, True),
    InField("title", NotIn(Term("word", "drone"), Term("word", "drone strike"))),
    And((NotIn(Term("word", "the"), Term("variant", "al-Hasaka")), Not(Term("word", "kill")))),
]
NOT_IN_TEXT = ("The force of the siege of Homs. Forces near Homs; a siege. Drone strike on "
               "al-Hasaka, the drone. A siege. Of Homs, the drone\nstrike; the force, of "
               "the siege\n\nof Homs.")
# Phrases for B and their words for A, and texts of those words alone, so that random texts
# often hold B whole or cut by a sentence or paragraph break (or a comma): an occurrence of
# B across a break leaves nothing out.
PHRASE_VOCAB = ["siege", "of", "drone", "strike", "the", "forces"]
PHRASES = st.builds(Term, st.sampled_from(["word", "exact"]), st.sampled_from(
    ["siege of", "drone strike", "the forces", "of the", "strike the"]))
PHRASE_WORDS = st.builds(Term, st.just("word"), st.sampled_from(PHRASE_VOCAB))


def positional(depth: int) -> st.SearchStrategy:
    if depth == 0:
        return TERMS | NOT_IN
    smaller = positional(depth - 1)
    return st.one_of(
        TERMS,
        NOT_IN,
        st.builds(lambda cs: Or(tuple(cs)), st.lists(smaller, min_size=2, max_size=3)),
        st.builds(Near, smaller, smaller, st.sampled_from(["words", "words", "sentence",
                  "paragraph"]), st.integers(0, 4), st.booleans()),
        st.builds(InField, st.sampled_from(FIELDS), smaller),
    )


def boolean(depth: int) -> st.SearchStrategy:
    if depth == 0:
        return positional(2)
    smaller = boolean(depth - 1)
    return st.one_of(
        positional(2),
        st.builds(lambda cs: And(tuple(cs)), st.lists(smaller, min_size=2, max_size=3)),
        st.builds(lambda cs: Or(tuple(cs)), st.lists(smaller, min_size=2, max_size=3)),
        st.builds(Not, smaller),
    )


def texts(max_words: int, vocab: list[str] = VOCAB) -> st.SearchStrategy:
    pieces = st.lists(st.tuples(st.sampled_from(vocab), st.sampled_from(SEPARATORS)),
                      max_size=max_words)
    return pieces.map(lambda ps: "".join(w + s for w, s in ps))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(boolean(2), min_size=1, max_size=6), title=texts(6), body=texts(40))
@example(queries=HYPHENATED_PREFIX, title="Sheikh Maqsoud",
         body="Shelling in al-Hasaka and Sheikh-Maqsoud; al Hasaka. Sheikh Maqsud")
@example(queries=[CHAIN_ON_THE_LEFT, CHAIN_ON_THE_RIGHT], title="", body=CHAIN_TEXT)
@example(queries=NOT_IN_PLACES, title="Drone strike near the siege", body=NOT_IN_TEXT)
def test_engine_agrees_with_reference(analyzer, queries, title, body):
    """Triggers scanned, everything else looked up one by one (how an article that wakes
    few rules is read)."""
    assert_agrees(analyzer, queries, title, body, "lookups")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(boolean(2), min_size=1, max_size=6), title=texts(6), body=texts(40))
@example(queries=HYPHENATED_PREFIX, title="Sheikh Maqsoud",
         body="Shelling in al-Hasaka and Sheikh-Maqsoud; al Hasaka. Sheikh Maqsud")
@example(queries=[CHAIN_ON_THE_LEFT, CHAIN_ON_THE_RIGHT], title="", body=CHAIN_TEXT)
@example(queries=NOT_IN_PLACES, title="Drone strike near the siege", body=NOT_IN_TEXT)
def test_engine_agrees_with_reference_when_articles_are_scanned_in_full(
    analyzer, queries, title, body
):
    """The full scan at once (what an article that wakes many rules gets)."""
    assert_agrees(analyzer, queries, title, body, "full")


def assert_agrees(analyzer, queries, title, body, scan: ScanMode) -> None:
    rules = [Rule(id=f"r{i}", title="t", query_text="", query=q) for i, q in enumerate(queries)]
    engine = Engine(Compiler(analyzer).compile(rules), analyzer, scan=scan)
    analysed = analyzer.analyse(Article(id="a", title=title, body=body))
    reference = Reference(analyzer, analysed)
    got = {m.rule_id: m for m in engine.match(analysed)}
    for rule in rules:
        expected = reference.truth(rule.query)
        assert (rule.id in got) == (expected is not None), rule.query
        if expected is not None:
            fields = analysed.fields()
            spans = {(int(fields[f].starts[s]), int(fields[f].ends[e]), FIELDS[f])
                     for f, s, e in expected}
            assert {(s.start, s.end, s.field) for s in got[rule.id].spans} == spans


PHRASE_NOT_IN = st.builds(
    NotIn, PHRASE_WORDS | TERM_GROUPS,
    PHRASES | st.builds(lambda cs: Or(tuple(cs)), st.lists(PHRASES | TERMS, min_size=2,
                                                           max_size=3)))
NOT_IN_QUERIES = PHRASE_NOT_IN | st.builds(Near, PHRASE_NOT_IN, TERM_GROUPS, st.sampled_from(
    ["words", "sentence", "paragraph"]), st.integers(0, 4), st.booleans())


@settings(max_examples=EXAMPLES // 3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(NOT_IN_QUERIES, min_size=1, max_size=6),
       title=texts(6, PHRASE_VOCAB), body=texts(40, PHRASE_VOCAB))
@example(queries=NOT_IN_PLACES, title="Drone strike near the siege", body=NOT_IN_TEXT)
def test_not_in_agrees_with_reference_on_texts_full_of_its_phrases(analyzer, queries, title,
                                                                    body):
    """NOT IN where its phrases occur often, whole or cut by a break: which occurrences of
    B leave out which of A."""
    assert_agrees(analyzer, queries, title, body, "lookups")


def flat_operand() -> st.SearchStrategy:
    return TERM_GROUPS | NOT_IN


def near(left: st.SearchStrategy) -> st.SearchStrategy:
    scopes = st.sampled_from(["words", "sentence", "paragraph"])
    return st.builds(Near, left, flat_operand(), scopes, st.integers(0, 4), st.booleans())


def near_after(right: st.SearchStrategy) -> st.SearchStrategy:
    """`flat NEAR (right)`: a chain as the right operand."""
    scopes = st.sampled_from(["words", "sentence", "paragraph"])
    return st.builds(Near, flat_operand(), right, scopes, st.integers(0, 4), st.booleans())


CHAINS = near(near(flat_operand())) | near_after(near(flat_operand()))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(CHAINS, min_size=1, max_size=4), body=texts(60))
@example(queries=[CHAIN_ON_THE_LEFT, CHAIN_ON_THE_RIGHT], body=CHAIN_TEXT)
def test_chains_past_the_pair_limit_match_as_the_reference_does(analyzer, queries, body):
    """With PAIR_LIMIT at 0 every chain passes on representative pairs only (what a long
    text without sentence breaks gets): which rules match must not change, whichever
    side of the outer NEAR the chain is on."""
    rules = [Rule(id=f"r{i}", title="t", query_text="", query=q) for i, q in enumerate(queries)]
    engine = Engine(Compiler(analyzer).compile(rules), analyzer)
    analysed = analyzer.analyse(Article(id="a", title="", body=body))
    reference = Reference(analyzer, analysed)
    with patch.object(proximity, "PAIR_LIMIT", 0):
        got = {m.rule_id for m in engine.match(analysed)}
    assert got == {r.id for r in rules if reference.truth(r.query) is not None}
