"""`watcher rules backtest`: the rules again over the stored articles (issue 17), on a real
SQLite store filled by `watcher replay`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli.main import cli
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SEEDS = ROOT / "seeds"
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

SIEGE_RULE = (
    "rules:\n"
    "  - id: wire-siege\n    title: Siege of Aleppo\n    query: {query}\n"
    "  - id: cw-held\n    title: Chemical weapons\n    query: chemical NEAR/1 weapons\n"
    "    exclude: [historical]\n"
)
WIRE = [
    {"id": "a", "title": "Aleppo", "text": "The siege of Aleppo goes on.", "source": "wire"},
    {"id": "b", "title": "Aleppo", "source": "wire",
     "text": "The siege, residents of the old city said on Monday, reached Aleppo."},
    {"id": "c", "title": "Aleppo", "text": "A blockade of Aleppo began.", "source": "wire"},
    {"id": "d", "title": "Talks", "published": "2017-04-05T00:00:00Z", "source": "wire",
     "text": "Syria agreed to destroy its chemical weapons in 2013 under a deal."},
]


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def run(workdir: Path, clock: Clock):
    """The CLI on ./w.db of an empty working directory, with the test's clock."""

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--db", "sqlite:///w.db", *args],
                                  catch_exceptions=False, obj=clock.now)

    return invoke


def _jsonl(path: Path, articles: list[dict]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    return path


def _export(path: Path) -> Path:
    """The stored articles as JSON lines, in the order they were stored."""
    with Store.open("sqlite:///w.db") as store:
        texts = store.texts()
    return _jsonl(path, [
        {"id": t.article.id, "title": t.article.title, "text": t.article.body,
         "url": t.article.url, "source": t.article.source,
         **({"published": t.article.published.isoformat()} if t.article.published else {})}
        for t in texts
    ])


def _rules(path: Path, query: str) -> Path:
    path.write_text(SIEGE_RULE.format(query=query))
    return path


def test_backtest_prints_what_match_prints_for_the_stored_articles(run, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    _rules(rules / "wire.yaml", "siege NEAR/10 ~Aleppo")
    wire = _jsonl(tmp_path / "wire.jsonl", WIRE)
    assert run("replay", "--rules", str(rules), "--no-notify", str(SEEDS), str(wire)).exit_code == 0
    exported = _export(tmp_path / "stored.jsonl")
    # The held-back match of the article published in 2017 is printed with its cue word:
    # the stored article kept its publication time.
    held = {"jsonl": '"held": ["historical"]', "text": 'held back: historical ("2013")'}
    for output_format in ("jsonl", "text"):
        options = ("--rules", str(rules), "--format", output_format, "--held")
        matched = run("match", *options, str(exported))
        backtested = run("rules", "backtest", *options)
        assert (matched.exit_code, backtested.exit_code) == (0, 0)
        assert backtested.stdout == matched.stdout
        assert len(matched.stdout.splitlines()) > 20
        assert held[output_format] in backtested.stdout


def test_a_changed_rule_reports_the_articles_it_adds_and_drops(run, tmp_path):
    before = _rules(tmp_path / "before.yaml", "siege NEAR/10 ~Aleppo")
    wire = _jsonl(tmp_path / "wire.jsonl", WIRE)
    assert run("replay", "--rules", str(before), "--no-notify", str(wire)).exit_code == 0
    after = _rules(tmp_path / "after.yaml", "'(siege OR blockade) NEAR/2 ~Aleppo'")
    result = run("rules", "backtest", "--rules", str(after), "--format", "jsonl",
                 "wire-siege")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["article"] for line in result.stdout.splitlines()] == ["a", "c"]
    assert result.stderr.splitlines() == [
        "backtest: 4 articles",
        "wire-siege: now 2, stored 2, added 1, dropped 1 "
        "(stored by another version of the rule)",
        "  + wire c",
        "  - wire b",
    ]
    same = run("rules", "backtest", "--rules", str(before), "wire-siege", "cw-held")
    assert same.stderr.splitlines()[1:] == [
        "wire-siege: now 2, stored 2, added 0, dropped 0",
        "cw-held: now 1 (1 held back), stored 1, added 0, dropped 0",
    ]


def test_backtest_reads_the_window_since_when(run, tmp_path, clock):
    rules = _rules(tmp_path / "r.yaml", "siege NEAR/10 ~Aleppo")
    assert run("replay", "--rules", str(rules), "--no-notify",
               str(_jsonl(tmp_path / "old.jsonl", WIRE[:1]))).exit_code == 0
    clock.moment = START + timedelta(days=2)
    assert run("replay", "--rules", str(rules), "--no-notify",
               str(_jsonl(tmp_path / "new.jsonl", WIRE[1:2]))).exit_code == 0
    result = run("rules", "backtest", "--rules", str(rules), "--since", "1d",
                 "--query", "siege NEAR/20 ~Aleppo", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["article"] for line in result.stdout.splitlines()] == ["b"]
    assert result.stderr.splitlines() == [
        "backtest: 1 article", "query: now 1, stored 0, added 1, dropped 0", "  + wire b",
    ]
