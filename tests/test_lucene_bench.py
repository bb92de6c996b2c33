"""The Lucene part of the benchmark without Java: rules translated into the harness's query
trees, the check's expected matches (watcher's engine must find them), finding the
toolchain, and the section written when the harness cannot run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.lucene_bench import RECORDED_LUCENE, CountRun, LuceneResults
from bench.lucene_check import ARTICLES, EXPECTED, RULES
from bench.lucene_harness import LuceneUnavailable, find_toolchain, newest_jar
from bench.lucene_queries import SENTENCE_SLOP, QueryTranslator, rule_lines
from bench.lucene_report import render_lucene_markdown
from bench.measure import Machine, Passes
from bench.sizes import FULL
from watcher.engine.core import Engine
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.text.analysis import Analyzer

SHELL = {"terms": ["shell", "shelled", "shelling", "shells"]}
BOMB = {"terms": ["bomb", "bombed", "bombing", "bombs"]}


@pytest.fixture(scope="module")
def translator(analyzer: Analyzer) -> QueryTranslator:
    return QueryTranslator(analyzer.lexicon)


def tree(translator: QueryTranslator, query: str) -> dict:
    return translator.translate(parse_query(query, strict=True))


def test_a_word_is_an_or_of_its_inflected_forms(translator: QueryTranslator) -> None:
    assert tree(translator, "shell") == SHELL


def test_near_n_is_an_unordered_span_near_of_slop_n(translator: QueryTranslator) -> None:
    assert tree(translator, "(shell OR bomb) NEAR/5 ~Aleppo") == {
        "near": [{"or": [SHELL, BOMB]}, {"terms": ["aleppo"]}], "slop": 5, "ordered": False,
    }
    assert tree(translator, "shell ONEAR/3 bomb")["ordered"] is True


def test_near_s_is_a_span_near_of_a_sentence_s_words(translator: QueryTranslator) -> None:
    assert tree(translator, "shell NEAR/s bomb") == {
        "near": [SHELL, BOMB], "slop": SENTENCE_SLOP, "ordered": False,
    }


def test_a_variant_is_the_name_as_written_a_phrase_its_words_in_a_row(
    translator: QueryTranslator,
) -> None:
    assert tree(translator, '~"Deir ez-Zor"') == {"terms": ["deir ez-zor"]}
    assert tree(translator, '"shell bomb"') == {
        "near": [SHELL, BOMB], "slop": 0, "ordered": True,
    }
    assert tree(translator, "=Shells") == {"terms": ["shells"]}
    assert tree(translator, "evacuat*") == {"prefix": "evacuat"}


def test_not_and_fields_are_boolean_nodes(translator: QueryTranslator) -> None:
    assert tree(translator, "title:(shell) body:(~Homs OR ~Aleppo) NOT bomb") == {"and": [
        {"field": "title", "query": SHELL},
        {"field": "body", "query": {"or": [{"terms": ["homs"]}, {"terms": ["aleppo"]}]}},
        {"not": BOMB},
    ]}


def test_not_in_is_a_span_not(translator: QueryTranslator) -> None:
    assert tree(translator, '(shell OR bomb) NOT IN "shell bomb" NEAR/5 ~Homs') == {"near": [
        {"spannot": [{"or": [SHELL, BOMB]}, {"near": [SHELL, BOMB], "slop": 0,
                                             "ordered": True}]},
        {"terms": ["homs"]}], "slop": 5, "ordered": False}


def test_the_query_file_is_one_json_object_a_rule(translator: QueryTranslator) -> None:
    lines = rule_lines(translator, [("r1", parse_query("shell")), ("r2", parse_query("bomb"))])
    assert [json.loads(line) for line in lines] == [
        {"id": "r1", "query": SHELL}, {"id": "r2", "query": BOMB},
    ]


def test_watcher_finds_exactly_the_matches_the_harness_is_checked_against(
    analyzer: Analyzer,
) -> None:
    rules = [Rule(id=rule_id, title=rule_id, query_text=text, query=parse_query(text))
             for rule_id, text in RULES]
    engine = Engine(Compiler(analyzer).compile(rules), analyzer)
    found = {(m.article_id, m.rule_id) for a in ARTICLES
             for m in engine.match(analyzer.analyse(a))}
    assert found == EXPECTED


def test_missing_jars_are_named_with_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(LuceneUnavailable) as raised:
        find_toolchain(tmp_path)
    assert f"{tmp_path}/lucene-core-*.jar" in str(raised.value)
    assert "liblucene8-java" in str(raised.value)


def test_the_newest_of_each_jar_is_used(tmp_path: Path) -> None:
    for name in ("lucene-core-8.7.0", "lucene-core-8.10.1", "lucene-core-tests-9.0"):
        (tmp_path / f"{name}.jar").touch()
    assert newest_jar(tmp_path, "lucene-core") == tmp_path / "lucene-core-8.10.1.jar"
    assert newest_jar(tmp_path, "lucene-monitor") is None


def test_without_the_harness_the_section_compares_with_the_issue_s_figures() -> None:
    runs = [CountRun(n, Passes((0.5 + n / 10_000,)), Passes((0.4,)), n, None, None, None,
                     None, 0) for n in (0, *FULL.rule_counts)]
    results = LuceneResults(
        Machine("2026-12-07 00:00 UTC", 2, "cpu", 1.0, "3.11", "3.8", "0 0 0", "git 0"),
        804, runs, None, "missing java", None,
    )
    section = render_lucene_markdown(results)
    assert "Lucene harness not run: missing java" in section
    ratio = 1.5 / RECORDED_LUCENE[10_000]
    assert (f"| (analysis + engine, 10,000 rules) / Lucene Monitor equivalent, 10,000 rules "
            f"(issue 20's recorded figure) | {ratio:.2f} x | < 1x | FAIL |") in section
    assert "| 10,000 | 1.500 | 0.478 (issue 20) | 3.14x |" in section
