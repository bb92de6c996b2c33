"""The rule pages and the rule workbench (issue 19, item 5), on a SQLite store filled by
`watcher replay` of the seeds and a few wire articles, served for real on loopback: the
workbench answers what `watcher rules backtest` answers, and shows feed text escaped."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from markupsafe import escape
from playwright.sync_api import Page, expect

from tests.support.helpers import ManualClock
from tests.support.web import Served, add_team, serve
from tests.web.conftest import sign_in
from watcher.cli.main import cli
from watcher.config.settings import Settings
from watcher.store import Store
from watcher.web.rulebook import RUNS_AT_ONCE

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
SEEDS = ROOT / "seeds"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

HOSTILE_TITLE = "<script>alert(1)</script> Siege of Aleppo"
WIRE = [  # stored two days after the seeds
    {"id": "held-1", "title": "Looking back", "source": "wire",
     "text": "The siege of Aleppo ended in December 2016, residents recalled.",
     "published": "2024-01-05T00:00:00Z", "url": "https://example.org/held-1"},
    {"id": "hostile-1", "title": HOSTILE_TITLE, "source": "wire",
     "text": "The siege of Aleppo <img src=x onerror=alert(2)> goes on [sic] today.",
     "url": "javascript:alert(3)"},
    {"id": "blockade-1", "title": "Manbij", "source": "wire",
     "text": "A blockade of Manbij began on Monday.", "url": "https://example.org/blockade-1"},
]


@dataclass
class Bench:
    served: Served
    db: str

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", self.db, *args], catch_exceptions=False,
                                  obj=self.served.clock.now)

    def api(self, method: str, path: str, user: str = "vic", **kwargs: Any) -> Any:
        with self.served.client(self.served.token(user)) as client:
            return client.request(method, path, **kwargs)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    """The seeds replayed at START, the wire articles two days later; the clock then stands
    an hour after that. Nothing the tests do writes to it (the workbench is read-only)."""
    folder = tmp_path_factory.mktemp("bench")
    wire = folder / "wire.jsonl"
    wire.write_text("".join(json.dumps(a) + "\n" for a in WIRE), encoding="utf-8")
    clock = ManualClock(START)
    with Store.open(f"sqlite:///{folder / 'w.db'}") as store:
        add_team(store, clock.now())
        with serve(store, Settings(rules=str(RULES)), clock) as served:
            found = Bench(served, f"sqlite:///{folder / 'w.db'}")
            replay = ("replay", "--rules", str(RULES), "--no-notify")
            assert found.cli(*replay, str(SEEDS)).exit_code == 0
            clock.advance(timedelta(days=2).total_seconds())
            assert found.cli(*replay, str(wire)).exit_code == 0
            clock.advance(3600)
            yield found


def _backtested(bench: Bench, *options: str) -> tuple[set[str], list[str]]:
    """`watcher rules backtest`: the article ids it matches, and its summary lines."""
    result = bench.cli("rules", "backtest", "--rules", str(RULES), "--format", "jsonl",
                       "--held", *options)
    assert result.exit_code == 0, result.stderr
    return ({json.loads(line)["article"] for line in result.stdout.splitlines()},
            result.stderr.splitlines())


@pytest.mark.parametrize("since", ["all", "24h"])
def test_the_workbench_matches_what_backtest_matches(bench: Bench, since: str) -> None:
    query = "(siege OR blockade) NEAR/10 @aleppo_area"
    answer = bench.api("POST", "/api/workbench", json={"query": query, "since": since})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    window = () if since == "all" else ("--since", since)
    expected, summary = _backtested(bench, "--query", query, *window)
    assert {m["article"] for m in found["matches"]} == expected
    assert summary[0] == f"backtest: {found['scanned']} articles"
    assert found["scanned"] == (10 if since == "all" else 3) and not found["cut"]
    assert sum(found["per_day"].values()) == len(found["matches"])
    held = f" ({found['held']} held back)" if found["held"] else ""
    assert summary[1].startswith(f"query: now {len(expected)}{held}, stored 0, ")


def test_a_run_reads_at_most_the_newest_articles_of_the_window_and_says_so(
    bench: Bench
) -> None:
    query = "Aleppo OR Manbij"
    found = bench.api("POST", "/api/workbench",
                      json={"query": query, "since": "all", "limit": 4}).json()
    assert (found["scanned"], found["total"], found["cut"]) == (4, 10, True)
    expected, _ = _backtested(bench, "--query", query, "--limit", "4")
    assert {m["article"] for m in found["matches"]} == expected
    page = _page(bench, "/workbench", q=query, since="all", limit="4").text
    assert "The window holds 10 articles: only the newest 4 were matched." in page


def test_a_changed_query_shows_what_it_adds_and_drops_against_the_rule(bench: Bench) -> None:
    query = "siege NEAR/10 @aleppo_area"  # aleppo-siege without its blockades
    answer = bench.api("POST", "/api/workbench",
                       json={"query": query, "since": "all", "compare": "aleppo-siege"}).json()
    dropped = {(a["source"], a["article"]) for a in answer["dropped"]}
    assert ("wire", "blockade-1") in dropped and answer["added"] == []
    # The same as backtest says of the rule edited so (its lines `  - SOURCE ID`).
    edited = (RULES / "sieges.yaml").read_text()
    rules = Path(bench.db.removeprefix("sqlite:///")).parent / "edited"
    rules.mkdir(exist_ok=True)
    for path in RULES.glob("*.yaml"):
        (rules / path.name).write_text(path.read_text())
    (rules / "sieges.yaml").write_text(edited.replace(
        "'@siege_words NEAR/10 @aleppo_area AND NOT title:(anniversary)'",
        "'siege NEAR/10 @aleppo_area AND NOT title:(anniversary)'"))
    result = bench.cli("rules", "backtest", "--rules", str(rules), "aleppo-siege")
    minus = {tuple(line.split()[1:]) for line in result.stderr.splitlines()
             if line.startswith("  - ")}
    assert minus == dropped
    # Run as the rule runs: its matches held back by its exclude: (historical) as well.
    assert f"aleppo-siege: now {len(answer['matches'])} ({answer['held']} held back)," \
        in result.stderr and answer["held"] > 0

    page = _page(bench, "/workbench", q=query, since="all", compare="aleppo-siege")
    assert page.status_code == 200
    assert f"{len(dropped)} dropped" in page.text and "0 added" in page.text
    assert "Dropped: a stored match of aleppo-siege" in page.text


def test_a_query_that_does_not_parse_says_where_in_one_line(bench: Bench) -> None:
    answer = bench.api("POST", "/api/workbench", json={"query": "siege NEAR/x Aleppo"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert re.fullmatch(r"column \d+: [^\n]+", error), error
    page = _page(bench, "/workbench", q="siege NEAR/x Aleppo")
    assert page.status_code == 400
    assert f"Query error: {escape(error)}" in page.text and "Traceback" not in page.text
    unknown = bench.api("POST", "/api/workbench", json={"query": "siege NEAR/5 @nowhere"})
    assert unknown.status_code == 400 and unknown.json()["error"].startswith("column 14: ")


def test_feed_text_is_escaped_and_matched_words_marked(bench: Bench) -> None:
    page = _page(bench, "/workbench", q="siege NEAR/3 Aleppo", since="all").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Siege</mark> of <mark>Aleppo</mark>" \
        in page
    assert "&lt;img src=x onerror=alert(2)&gt; goes on [sic] today" in page
    assert "javascript:" not in page  # a link that is not http(s) is no link
    assert 'href="https://example.org/held-1" rel="noopener noreferrer nofollow"' in page


def test_explain_says_why_an_article_does_not_match(bench: Bench) -> None:
    page = _page(bench, "/workbench", q="Aleppo NEAR/3 residents", since="all",
                 explain="held-1", source="wire").text
    assert "Why no match: Looking back" in page
    assert "Aleppo ... residents: 4 words apart, NEAR/3 allows 3" in page
    assert "<code>residents</code>: <mark>residents</mark>" in page
    answer = bench.api("POST", "/api/workbench", json={
        "query": "Aleppo NEAR/3 residents", "since": "all",
        "explain": {"source": "wire", "article": "held-1"}}).json()
    assert answer["explain"]["matches"] is False
    assert answer["explain"]["tree"]["says"] == (
        "Aleppo ... residents: 4 words apart, NEAR/3 allows 3")
    missing = bench.api("POST", "/api/workbench", json={
        "query": "Aleppo", "explain": {"source": "wire", "article": "no-such"}})
    assert missing.json() == {"error": "explain: no stored article wire no-such"}


def test_explain_marks_the_right_side_of_not_in_as_working_against_the_match(
    bench: Bench,
) -> None:
    query = 'siege NOT IN "siege of Aleppo"'
    page = _page(bench, "/workbench", q=query, since="all", explain="held-1",
                 source="wire").text
    assert 'left out: siege (in &#34;siege of Aleppo&#34;)' in page
    assert re.search(r'<span class="excludes"[^>]*>\[-\]</span>\s*<code>&#34;siege of Aleppo'
                     r'&#34;</code>', page)
    answer = bench.api("POST", "/api/workbench", json={
        "query": query, "since": "all", "explain": {"source": "wire", "article": "held-1"}})
    tree = answer.json()["explain"]["tree"]
    assert [child.get("excludes", False) for child in tree["children"]] == [False, True]


def test_the_rule_pages_show_the_stored_held_back_counts(bench: Bench) -> None:
    with Store.open(bench.db) as store:
        stored = store.matches(rule="aleppo-siege", held=True, limit=1000)
    held = Counter(label for m in stored for label in m.match.held)
    assert held == {"historical": 1}
    listing = bench.api("GET", "/api/rules").json()
    rule = next(r for r in listing["rules"] if r["id"] == "aleppo-siege")
    assert rule["held"] == dict(held) and rule["held_total"] == 1
    assert rule["matches"] == len([m for m in stored if not m.match.held])
    assert {r["id"] for r in listing["rules"]} >= {"aleppo-siege", "northeast-siege"}
    detail = bench.api("GET", "/api/rules/aleppo-siege").json()
    assert detail["held"] == dict(held) and len(detail["recent"]) == len(stored)
    assert sum(detail["per_day"].values()) + sum(detail["held_per_day"].values()) == len(stored)
    page = _page(bench, "/rules/aleppo-siege").text
    assert "<td>historical</td><td>1</td>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Siege</mark>" in page
    assert "<script>alert" not in page and "javascript:" not in page
    assert 'href="/workbench?rule=aleppo-siege"' in page
    # Opened in the workbench, the rule's own query adds and drops nothing.
    same = _page(bench, "/workbench", rule="aleppo-siege").text
    assert "@siege_words NEAR/10 @aleppo_area AND NOT title:(anniversary)</textarea>" in same
    assert "<strong>0 added</strong>, <strong>0 dropped</strong>." in same
    assert bench.api("GET", "/api/rules/no-such-rule").status_code == 404


def test_a_viewer_runs_the_workbench_and_nothing_is_written(bench: Bench) -> None:
    with Store.open(bench.db) as store:
        before = len(store.matches(held=True, limit=10_000))
    answer = bench.api("POST", "/api/workbench", user="vic",
                       json={"query": "Manbij", "since": "all", "compare": "aleppo-siege"})
    assert answer.status_code == 200 and answer.json()["matches"]
    with Store.open(bench.db) as store:
        assert len(store.matches(held=True, limit=10_000)) == before
    with bench.served.client() as client:  # signed out: no workbench
        assert client.post("/api/workbench", json={"query": "Manbij"}).status_code == 401


def test_runs_beyond_those_under_way_and_waiting_are_refused_at_once(bench: Bench) -> None:
    """A flood of runs (one user, a leaked feed token) must not hold every server thread:
    past RUNS_AT_ONCE under way or waiting, a run is refused in one line, not queued."""
    assert bench.api("POST", "/api/workbench", user="vic",
                     json={"query": "Manbij"}).status_code == 200  # the rule book is made
    book = bench.served.app.state.rulebook
    for _ in range(RUNS_AT_ONCE):  # as if that many runs were under way or waiting
        book._queue.acquire()
    try:
        refused = bench.api("POST", "/api/workbench", user="vic", json={"query": "Manbij"})
        assert (refused.status_code, refused.json()) == (400, {
            "error": f"{RUNS_AT_ONCE} workbench runs are under way or waiting: "
                     "try again in a moment"})
    finally:
        for _ in range(RUNS_AT_ONCE):
            book._queue.release()
    assert bench.api("POST", "/api/workbench", user="vic",
                     json={"query": "Manbij"}).status_code == 200  # and runs again after


def test_the_workbench_in_the_browser(bench: Bench, page: Page) -> None:
    sign_in(page, bench.served, "vic", "/workbench")
    page.get_by_label("Query").fill("blockade NEAR/5 @aleppo_area")
    page.get_by_label("Window").select_option("all")
    page.evaluate("window.stayed = true")  # gone if the page were loaded anew
    page.get_by_role("button", name="Run").click()
    results = page.locator("#results")
    expect(results.locator("mark", has_text="Manbij").first).to_be_visible()
    expect(results.get_by_text("2 matches in 10 articles")).to_be_visible()
    expect(page.get_by_role("table", name="Matches per day stored (UTC)")).to_contain_text(
        "2026-03-01")
    expect(page).to_have_url(re.compile(r"/workbench\?q=blockade"))  # shareable
    assert page.evaluate("window.stayed") is True  # htmx swapped the results in
    page.get_by_label("Query").fill("blockade NEAR/ Manbij")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("alert")).to_contain_text("Query error: column ")
    expect(results.locator("mark")).to_have_count(0)


def _page(bench: Bench, path: str, **params: str) -> Any:
    return bench.api("GET", path, params=params)


def test_rules_that_do_not_load_are_named_not_a_crash(team_store: Store, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  - id: x\n    title: X\n    query: 'siege NEAR/'\n")
    with serve(team_store, Settings(rules=str(broken))) as served, \
            served.client(served.token("vic")) as client:
        page = client.get("/rules")
        api = client.get("/api/rules")
        schema = client.get("/api/openapi.json").json()
    assert page.status_code == 503 and f"{broken}:4:" in page.text
    assert api.status_code == 503 and api.json()["error"].startswith("the rules do not load: ")
    assert {"/api/rules", "/api/rules/{rule_id}", "/api/workbench"} <= set(schema["paths"])
    assert "WorkbenchAnswer" in schema["components"]["schemas"]


def test_the_rules_shown_are_read_again_when_their_files_change(
    team_store: Store, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: one\n    title: One\n    query: siege\n")
    with serve(team_store, Settings(rules=str(rules))) as served, \
            served.client(served.token("vic")) as client:
        assert [r["id"] for r in client.get("/api/rules").json()["rules"]] == ["one"]
        rules.write_text(rules.read_text() + "  - id: two\n    title: Two\n    query: blockade\n")
        os.utime(rules, ns=(0, rules.stat().st_mtime_ns + 1_000_000_000))
        assert [r["id"] for r in client.get("/api/rules").json()["rules"]] == ["one", "two"]
