"""The quick query parser against lark's, the reference: whatever `quick_parse` accepts it
parses to exactly the reference's query; what it leaves (every error) the reference
parses, so `parse_query` is the reference's answer either way (watcher/rules/grammar.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from watcher.rules.grammar import reference_parse
from watcher.rules.load import load_rules
from watcher.rules.quick_parse import quick_parse
from watcher.rules.syntax import QuerySyntaxError

ROOT = Path(__file__).resolve().parents[2]

# Pieces of queries, good and bad: every terminal, its near misses, and what lies between.
PIECES = [
    "siege", "Aleppo", "al-Hasaka", "U.S.", "e.g.", "O'Brien", "Qamişlo", "2024", "T-72",
    "a", "x1", "_x", "AND", "OR", "NOT", "IN", "NOT IN", "INDIA", "and", "ORANGE", "NEAR",
    "ONEAR", "NEAR/5", "NEAR/s",
    "NEAR/p", "ONEAR/3", "NEAR/", "NEAR/x", "NEAR/5)", "(", ")", '"', '"cut off"', '""',
    '" a b "', "evacuat*", "ab*", "al-Has*", "*", "~", "~Homs", '~"Deir ez-Zor"', "=", "=Forces",
    '="Fourth Division"', "@", "@siege_words", "@l-2", "place:", "place:Aleppo",
    'place:"Midan, Damascus"', "place:geonames:170063", "place:simplemaps:1368851231",
    "title:", "body:", "title:(", "x:",
    " ", "  ", "\n", "-", ".", "'", "’", ",", ":", "é", "日本",
]  # fmt: skip


def _agrees(text: str, strict: bool) -> None:
    quick = quick_parse(text, strict=strict)
    if quick is not None:
        assert quick == reference_parse(text, strict=strict)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12), st.sampled_from(["", " "]),
       st.booleans())
@example(["(", "a", " ", "AND", " ", "b", ")", " ", "NEAR/5", " ", "c"], "", True)
@example(["title:", "(", "a", ")", " ", "NEAR/5", " ", "body:", "(", "b", ")"], "", False)
def test_a_query_the_quick_parser_takes_is_the_reference_query(pieces, glue, strict):
    _agrees(glue.join(pieces), strict)


OPERANDS = ["siege", "U.S.", "al-Hasaka", "evacuat*", "~Homs", '"cut off"', "=Forces",
            "@siege_words", "place:Aleppo", "x"]
OPERATORS = [" OR ", " AND ", " ", " NEAR/5 ", " NEAR/s ", " ONEAR/3 ", " NOT ", " NOT IN "]
QUERIES = st.recursive(
    st.sampled_from(OPERANDS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map("".join),
        inner.map(lambda query: f"({query})"),
        inner.map(lambda query: f"NOT {query}"),
        st.tuples(st.sampled_from(["title:", "body:"]), inner).map(lambda p: f"{p[0]}({p[1]})"),
    ),
    max_leaves=10,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUERIES, st.booleans())
@example("(a OR b) OR c", False)
@example("a (b c) AND (d AND e)", False)
def test_a_well_formed_query_is_the_reference_query(text, strict):
    _agrees(text, strict)


def _shipped_queries() -> list[str]:
    rules = load_rules(ROOT / "rules").rules
    return [rule.query_text for rule in rules]


def test_every_shipped_query_takes_the_quick_path_to_the_reference_query():
    for text in _shipped_queries():
        assert quick_parse(text, strict=True) == reference_parse(text, strict=True), text


@pytest.mark.parametrize(
    "text",
    [
        "(rain OR unsuccessfully) NEAR/5 ~Hama",
        "(a OR b OR abc*) NEAR/8 (~P1 OR ~\"Deir ez-Zor\" OR ~P3)",
        "~Homs NEAR/s (a OR b)",
        "title:(word) body:(~A OR ~B)",
        "~Homs (a OR b) NOT c",
        "(a OR b) NEAR/5 c NEAR/s ~Homs",
        'w1 NEAR/s "w2 w3"',
        "w1 ONEAR/3 w2",
        "@siege_words NEAR/15 @kurdish_districts",
        "place:\"Midan, Damascus\" AND NOT title:(rumour)",
        "siege AND blockade OR (truce NOT =Talks)",
        '(clash OR fight) NOT IN ("fighting position" OR ~Hama) NEAR/10 place:Aleppo',
        "title:(refugee NOT IN @camps)",
    ],
)
def test_the_benchmark_and_contract_forms_take_the_quick_path(text):
    assert quick_parse(text, strict=True) == reference_parse(text, strict=True)
    assert quick_parse(text, strict=True) is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "siege NEAR/",
        "(siege",
        "(a AND b) NEAR/5 c",  # AND inside a NEAR operand
        "NOT a NEAR/5 b",
        "title:(a) NEAR/5 body:(b)",
        "a NEAR/5 b NEAR/5 c NEAR/5 d NEAR/5 e",
        "NOT " * 150 + "siege",
        "ab*",
        "siege -truce",
        "(a NEAR/5 b) NOT IN c",
        "a NOT IN b NOT IN c",
    ],
)
def test_what_the_quick_parser_leaves_is_the_reference_error(text):
    assert quick_parse(text, strict=True) is None
    with pytest.raises(QuerySyntaxError):
        reference_parse(text, strict=True)


def test_a_simplemaps_place_id_takes_the_quick_path_to_the_reference_query():
    """The quick lexer takes every gazetteer id lark's PLACE_ID takes (`simplemaps:` too), so
    such a query is not left to lark."""
    text = "place:simplemaps:1368851231 NEAR/5 siege"
    assert quick_parse(text) is not None
    assert quick_parse(text) == reference_parse(text)
