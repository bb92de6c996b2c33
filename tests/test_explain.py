"""`watcher explain`: a rule's query tree on an article, clause by clause (issue 17).

The verdict comes from the engine's own plans; these tests check that it equals the
engine's matches for every shipped rule on real text, and that a near miss is named with
its distance and a held-back match with its cue words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.corpus import load_corpus
from watcher.cli.main import cli
from watcher.engine.explain import explain
from watcher.engine.matcher import Matcher
from watcher.sources.inputs import read_inputs

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SEEDS = ROOT / "seeds"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# "siege" and "Qamishlo" with 25 words between them, in one sentence.
NEAR_MISS = {
    "id": "near-miss", "title": "Northeast",
    "text": "Government forces tightened the siege on Monday while "
            "residents of the villages east of the river said that the roads to the city of "
            "Hasakah and the border crossing near Qamishlo were closed.",
}
QAMISHLI_RULE = (
    "rules:\n"
    "  - id: siege-qamishli\n    title: Siege near Qamishli\n"
    "    query: siege NEAR/12 ~Qamishli\n"
)
CW_RULES = (
    "rules:\n"
    "  - id: cw-held\n    title: Chemical weapons\n    query: chemical NEAR/1 weapons\n"
    "    exclude: [historical]\n"
)
RECALLED = {  # fakes:1914947530, of 5 April 2017
    "id": "cw-1", "title": "Talks", "published": "2017-04-05T00:00:00Z",
    "text": "Syria agreed to destroy its chemical weapons in 2013 under a deal brokered by "
            "Moscow and Washington.",
}


@pytest.fixture()
def run(workdir: Path):
    """The CLI in an empty working directory, its clock fixed."""

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False, obj=lambda: NOW)

    return invoke


def _jsonl(path: Path, *articles: dict) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    return path


def test_explain_names_the_distance_of_a_near_miss(run, tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text(QAMISHLI_RULE)
    article = _jsonl(tmp_path / "a.jsonl", NEAR_MISS)
    result = run("explain", "--rules", str(rules), "--rule", "siege-qamishli", str(article))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "siege-qamishli on near-miss (jsonl): no match",
        "  [ ] NEAR/12: siege ... Qamishlo: 25 words apart, NEAR/12 allows 12",
        "    [x] siege: siege",
        "    [x] ~Qamishli: Qamishlo",
    ]


def test_explain_json_is_one_document_with_the_closest_pair(run, tmp_path):
    article = _jsonl(tmp_path / "a.jsonl", NEAR_MISS)
    result = run("explain", "--query", "siege NEAR/s ~Qamishli", "--format", "json",
                 str(article))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (explained,) = document["articles"]
    tree = explained["tree"]
    assert (document["rule"], explained["matches"], tree["holds"]) == ("query", True, True)
    assert tree["closest"] == {"field": "body", "left": "siege", "right": "Qamishlo",
                               "words": 25, "same_unit": True, "in_order": True}
    assert tree["says"] == "siege ... Qamishlo: 25 words apart, in one sentence (NEAR/s)"
    assert [c["forms"] for c in tree["children"]] == [["siege"], ["Qamishlo"]]


def test_explain_says_when_onear_finds_its_sides_only_the_other_way_round(run, tmp_path):
    article = _jsonl(tmp_path / "a.jsonl", NEAR_MISS)
    result = run("explain", "--query", "~Qamishli ONEAR/40 siege", str(article))
    assert result.stdout.splitlines()[1] == (
        "  [ ] ONEAR/40: siege ... Qamishlo: only in the other order, "
        "ONEAR/40 wants the left side first")


def test_explain_shows_the_cue_words_of_a_held_back_match(run, tmp_path):
    rules = tmp_path / "cw.yaml"
    rules.write_text(CW_RULES)
    article = _jsonl(tmp_path / "a.jsonl", RECALLED)
    result = run("explain", "--rules", str(rules), "--rule", "cw-held", str(article))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "cw-held on cw-1 (jsonl): matches, held back"
    assert lines[1] == "  [x] NEAR/1: chemical ... weapons: 0 words apart, NEAR/1 allows 1"
    assert lines[-1] == '  held back: historical ("2013")'


def test_explain_reads_a_stored_article_by_its_id(run, tmp_path):
    db = f"sqlite:///{tmp_path / 'w.db'}"
    stored = run("--db", db, "replay", "--rules", str(RULES), "--no-notify", str(SEEDS))
    assert stored.exit_code == 0, stored.output
    result = run("--db", db, "explain", "--rules", str(RULES), "--rule", "aleppo-siege",
                 "002_f1b182a00dc1175e#1", "no-such-article")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "aleppo-siege on 002_f1b182a00dc1175e#1 (seeds): matches")
    assert result.stderr == (
        "watcher: no-such-article: no such file, and no stored article has this id\n")


def test_explain_needs_one_rule_or_query(run, tmp_path):
    article = _jsonl(tmp_path / "a.jsonl", NEAR_MISS)
    assert run("explain", "--rules", str(RULES), str(article)).exit_code == 2
    unknown = run("explain", "--rules", str(RULES), "--rule", "aleppo-seige", str(article))
    assert unknown.exit_code == 2
    assert "no rule 'aleppo-seige' under" in unknown.stderr
    assert "did you mean 'aleppo-siege'?" in unknown.stderr


def test_explain_agrees_with_the_engine_on_every_shipped_rule():
    """Seeds and every 8th FA-KES article: for every shipped rule, explain's verdict (and a
    match's held-back labels) equal the engine's."""
    matcher = Matcher.from_path(RULES)
    seeds = [a for a in read_inputs([str(SEEDS)]) if not isinstance(a, Exception)]
    articles = [*seeds, *load_corpus().articles[::8]]
    engine = matcher.engine
    verdicts = 0
    for text in matcher.analyzer.analyse_many(articles):
        found = {m.rule_id: m.held for m in engine.match(text)}
        for compiled in engine.index.rules:
            explained = explain(engine, compiled, text)
            assert explained.matches == (compiled.rule.id in found), (
                compiled.rule.id, text.article.id)
            if explained.matches:
                assert explained.held == found[compiled.rule.id]
                verdicts += 1
    assert verdicts > 50  # the sample is one where rules do fire


POSITIONS = {  # as CENTCOM lists its strike targets (fakes:1965495364), then a clash
    "id": "centcom", "title": "Strikes near Raqqa",
    "text": "Near Raqqa, strikes destroyed six fighting positions. Fighting went on in Raqqa.",
}


def test_explain_names_each_occurrence_not_in_left_out_and_what_covers_it(run, tmp_path):
    article = _jsonl(tmp_path / "a.jsonl", POSITIONS)
    query = 'fighting NOT IN "fighting position" NEAR/3 Raqqa'
    result = run("explain", "--query", query, str(article))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "query on centcom (jsonl): matches",
        "  [x] NEAR/3: Fighting ... Raqqa: 3 words apart, NEAR/3 allows 3",
        '    [x] NOT IN: kept 1 of 2; left out: fighting (in "fighting positions")',
        "      [x] fighting: fighting, Fighting",
        '      [-] "fighting position": fighting positions',  # present, against the match
        "    [x] Raqqa: Raqqa",
    ]
    as_json = run("explain", "--query", query, "--format", "json", str(article))
    not_in = json.loads(as_json.stdout)["articles"][0]["tree"]["children"][0]
    assert (not_in["kind"], not_in["occurrences"], not_in["left_out"]) == (
        "notin", 2, [{"field": "body", "word": "fighting", "by": "fighting positions"}])
    assert [child.get("excludes", False) for child in not_in["children"]] == [False, True]


def test_explain_names_five_occurrences_not_in_left_out_and_counts_the_rest(run, tmp_path):
    """A list of targets repeats the phrase: the line stays readable, JSON lists them all."""
    targets = ", ".join(f"{n} fighting positions" for n in ("two", "three", "four", "five",
                                                            "six", "seven", "eight"))
    article = _jsonl(tmp_path / "a.jsonl", {"id": "list", "title": "Strikes",
                                            "text": f"Strikes destroyed {targets}."})
    query = 'fighting NOT IN "fighting position"'
    result = run("explain", "--query", query, str(article))
    named = ", ".join(['fighting (in "fighting positions")'] * 5)
    assert result.stdout.splitlines()[1] == (
        f"  [ ] NOT IN: kept 0 of 7; left out: {named} and 2 more")
    as_json = run("explain", "--query", query, "--format", "json", str(article))
    assert len(json.loads(as_json.stdout)["articles"][0]["tree"]["left_out"]) == 7


def test_explain_leaves_nothing_out_for_a_phrase_read_across_two_sentences(run, tmp_path):
    article = _jsonl(tmp_path / "a.jsonl", {"id": "two", "title": "Raqqa",
                                            "text": "There was fighting. Positions were lost."})
    result = run("explain", "--query", 'fighting NOT IN "fighting position"', str(article))
    assert result.stdout.splitlines()[1:] == [
        "  [x] NOT IN: kept 1 of 1",
        "    [x] fighting: fighting",
        '    [-] "fighting position": fighting. Positions',
    ]
