"""NEAR and ONEAR against proximity cases re-typed from SQLite's, Lucene's and PostgreSQL's
own test suites (tests/data/proximity/SOURCE.txt explains the mapping).

Only the cases whose semantics watcher shares are used: two-operand FTS5 NEAR, Lucene
span-near with slop 0 (ordered chains) or two terms (unordered), PostgreSQL `<->` chains.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "data" / "proximity" / "proximity_cases.jsonl"


def _fts5_operand(text: str) -> str:
    text = text.strip()
    if text.startswith('"'):
        return text
    return f'"{text.replace("+", " ")}"' if "+" in text else text


def _translate(case: dict) -> str | None:
    """The watcher query for a case, or None when watcher's semantics differ."""
    query = case["query"]
    if case["engine"] == "sqlite-fts5":
        found = re.fullmatch(r'NEAR\((.*), (\d+)\)', query)
        operands = re.findall(r'"[^"]*"|\S+', found.group(1))
        if len(operands) != 2:
            return None  # FTS5 counts across all phrases of a multi-phrase NEAR
        left, right = (_fts5_operand(o) for o in operands)
        return f"{left} NEAR/{found.group(2)} {right}"
    if case["engine"].startswith("lucene"):
        terms, slop = query["terms"], query["slop"]
        if query["in_order"]:
            return f" ONEAR/{slop} ".join(terms) if slop == 0 else None
        return f" NEAR/{slop} ".join(terms) if len(terms) == 2 else None
    if re.search(r"<\d+>|:\*|<->\s*\(", query):
        # PostgreSQL's <N> means exactly N apart, and a phrase on the right of <-> is
        # anchored at its last word; watcher measures from the whole span.
        return None
    return query.replace("<->", "ONEAR/0").replace("&", "AND")


def _cases() -> list:
    rows = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    usable = []
    for case in rows:
        query = _translate(case)
        if query is not None:
            doc = " ".join("x" if w == "." else w for w in case["doc"].split())
            usable.append(pytest.param(query, doc, case["expected_match"], id=case["id"]))
    return usable


def test_enough_cases_are_used():
    assert len(_cases()) >= 80


@pytest.mark.parametrize(("query", "doc", "expected"), _cases())
def test_proximity_case(fires, query, doc, expected):
    assert fires(query, doc) is expected
