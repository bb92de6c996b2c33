"""`watcher run` against a real HTTP server on 127.0.0.1: polls, 304s, errors, moves,
hot rule reload, the health endpoint and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
import types
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.helpers import PATIENCE, free_port
from tests.support.http_server import (
    GatedServer,
    HeldServer,
    Reply,
    ScriptedServer,
    TricklingServer,
    closed_port,
)
from tests.support.postgres import postgres_server
from tests.support.processes import start_watcher, stop_watchers
from watcher.cli import entry
from watcher.cli import run as cli_daemon
from watcher.cli.interrupts import EXIT_INTERRUPTED as INTERRUPTED
from watcher.cli.main import cli
from watcher.config.settings import DEFAULT_POLL_CONCURRENCY, SourceSettings, load_settings
from watcher.daemon.metrics import Metrics
from watcher.daemon.poller import Poller
from watcher.daemon.service import Daemon
from watcher.engine.matcher import Matcher
from watcher.ingest.pipeline import INGEST_BATCH, Pipeline
from watcher.rules.load import load_rules
from watcher.sources.addresses import parse_ranges
from watcher.sources.fetch import Fetcher
from watcher.store import SourceState, Store

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test wire</title><link>http://127.0.0.1/</link>
<item><guid isPermaLink="false">wire-1</guid><title>Siege tightens on Sheikh Maqsoud</title>
<link>http://127.0.0.1/a/1</link><pubDate>Mon, 12 Jan 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;Government forces imposed a siege on the Sheikh Maqsoud district
of Aleppo on Monday.&lt;/p&gt;&lt;p&gt;Residents reported shortages.&lt;/p&gt;</description></item>
<item><guid isPermaLink="false">wire-2</guid><title>Olive harvest begins in Afrin</title>
<link>http://127.0.0.1/a/2</link><pubDate>Mon, 12 Jan 2026 11:00:00 GMT</pubDate>
<description>Farmers in Afrin started the olive harvest.</description></item>
</channel></rss>"""


# The pages these tests serve are on 127.0.0.1, which links from feeds reach only if allowed.
ALLOW_LOOPBACK = "fetch:\n  allow_private: [127.0.0.0/8]\n"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def _config(workdir: Path, url: str, *, every: str = "10m", extra: str = "") -> None:
    (workdir / "watcher.yaml").write_text(
        f"rules: {RULES}\nsources:\n  - name: wire\n    url: {url}\n    every: {every}\n{extra}"
    )


def _cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _source_status() -> dict:
    return json.loads(_cli("sources", "--format", "jsonl").stdout)


def test_a_poll_stores_new_entries_and_a_304_costs_nothing(server, workdir):
    server.route("/feed", Reply(200, FEED, {"ETag": '"v1"'}), Reply(304))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 0
    stored = [json.loads(x) for x in _cli("articles", "--format", "jsonl").stdout.splitlines()]
    assert sorted(a["id"] for a in stored) == ["wire-1", "wire-2"]
    assert {a["source"] for a in stored} == {"wire"}
    matches = _cli("matches", "--format", "jsonl").stdout.splitlines()
    assert any(json.loads(m)["article"] == "wire-1" for m in matches)
    status = _source_status()
    assert (status["new_items"], status["errors"], status["last_error"]) == (2, 0, None)

    assert _cli("run", "--once").exit_code == 0
    assert server.requests[-1].headers.get("if-none-match") == '"v1"'
    assert _source_status()["new_items"] == 0
    assert len(_cli("articles", "--format", "jsonl").stdout.splitlines()) == 2


def test_sources_say_which_were_never_polled_and_how_often_as_configured(server, workdir):
    _config(workdir, server.url("/feed"))  # every: 10m
    head = _cli("sources").stdout.splitlines()[0]
    assert head.startswith("wire  not polled yet  every 10m  last poll never")


def test_sources_without_any_configured_say_so_and_create_no_database(workdir):
    (workdir / "watcher.yaml").write_text(f"rules: {RULES}\n")
    result = _cli("sources")
    assert result.exit_code == 0
    assert result.stderr == "watcher: no sources configured (add `sources:` to watcher.yaml)\n"
    assert list(workdir.glob("*.db")) == []


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, b"<html><body>Home</body></html>", {"Content-Type": "text/html"}),
         "the response is an HTML page, not a feed"),
        (Reply(200, b""), "the response is empty"),
    ],
)
def test_an_answer_that_is_no_feed_names_the_url_like_other_poll_errors(server, workdir, reply,
                                                                         reason):
    server.route("/feed", reply)
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 1
    assert _source_status()["last_error"] == f"{server.url('/feed')}: {reason}"


def test_errors_stay_visible_and_back_off(server, workdir):
    server.route("/feed", Reply(500, b"oops"))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 1
    status = _source_status()
    assert status["errors"] == 1 and "500" in status["last_error"]
    assert status["next_poll_after"] is not None
    text = _cli("sources").stdout  # the text output says when it polls again, too
    assert f"next_poll_after: {status['next_poll_after']}" in text and "500" in text
    polls = len(server.requests)
    assert _cli("run", "--once").exit_code == 0  # backing off: skipped, not failed again
    assert len(server.requests) == polls


def test_gone_disables_and_a_permanent_move_is_remembered(server, workdir):
    server.route("/old", Reply(301, headers={"Location": server.url("/new")}))
    server.route("/new", Reply(200, FEED))
    server.route("/dead", Reply(410))
    _config(workdir, server.url("/old"))
    assert _cli("run", "--once").exit_code == 0
    assert _source_status()["url"] == server.url("/new")

    _config(workdir, server.url("/dead"))  # a new URL in the config starts over
    assert _cli("run", "--once").exit_code == 1
    assert "410" in _source_status()["disabled"]
    polls = len(server.requests)
    assert _cli("run", "--once").exit_code == 0
    assert len(server.requests) == polls


def test_an_html_page_instead_of_a_feed_is_an_error(server, workdir):
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"
    server.route("/feed", Reply(200, page, {"Content-Type": "text/html"}))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 1
    assert "not a feed" in _source_status()["last_error"]


def _daemon(
    workdir: Path, rules: Path, store: Store, fetcher: Fetcher, *,
    batch_size: int = INGEST_BATCH, env: dict[str, str] | None = None,
) -> tuple[Daemon, Metrics]:
    settings = load_settings(None, {"rules": str(rules)}, env or {})
    now = lambda: datetime.now(UTC)  # noqa: E731
    metrics = Metrics(queue_depth=lambda: 0, last_successes=dict, now=now)
    pipeline = Pipeline(matcher=Matcher.from_path(rules), store=store, now=now,
                        batch_size=batch_size)
    poller = Poller(store=store, fetcher=fetcher, pipeline=pipeline, now=now)
    daemon = Daemon(settings=settings, poller=poller, metrics=metrics, now=now,
                    stopping=threading.Event())
    return daemon, metrics


def test_rules_reload_when_their_files_change_and_a_broken_set_is_refused(workdir):
    rules = workdir / "rules"
    rules.mkdir()
    rule_file = rules / "r.yaml"
    rule_file.write_text("rules:\n  - id: one\n    title: One\n    query: siege\n")
    with Store.open(f"sqlite:///{workdir / 'w.db'}") as store, \
            Fetcher(now=lambda: datetime.now(UTC)) as fetcher:
        daemon, metrics = _daemon(workdir, rules, store, fetcher)
        assert not daemon.reload_rules_if_changed()
        second = "  - id: two\n    title: Two\n    query: truce\n"
        rule_file.write_text(rule_file.read_text() + second)
        assert daemon.reload_rules_if_changed()
        assert b"watcher_rules_loaded 2.0" in metrics.exposition()
        rule_file.write_text("rules:\n  - id: three\n    title: Three\n    query: 'siege NEAR/'\n")
        assert not daemon.reload_rules_if_changed()
        assert b"watcher_rule_reload_errors_total 1.0" in metrics.exposition()
        assert b"watcher_rules_loaded 2.0" in metrics.exposition()  # the last good set


def test_a_reload_reads_only_the_changed_rule_file_and_equals_a_fresh_load(workdir, caplog):
    """Three files, one list shared by two: changing the list's file reaches the rules of the
    other, and only that file is read again (issue 20)."""
    rules = workdir / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("lists:\n  places: ['~Homs']\n")
    (rules / "b.yaml").write_text("rules:\n  - id: one\n    title: One\n"
                                  "    query: 'siege NEAR/5 @places'\n")
    (rules / "c.yaml").write_text("rules:\n  - id: two\n    title: Two\n    query: truce\n")
    caplog.set_level("INFO", logger="watcher.daemon")
    with Store.open(f"sqlite:///{workdir / 'w.db'}") as store, \
            Fetcher(now=lambda: datetime.now(UTC)) as fetcher:
        daemon, _ = _daemon(workdir, rules, store, fetcher)
        (rules / "a.yaml").write_text("lists:\n  places: ['~Homs', '~Hama']\n")
        assert daemon.reload_rules_if_changed()  # the first reload reads every file
        (rules / "a.yaml").write_text("lists:\n  places: ['~Hama']\n")
        assert daemon.reload_rules_if_changed()
        assert daemon.poller.pipeline.matcher.rules == load_rules(rules)
    assert "event=rules_reloaded rules=2 files_read=1" in caplog.text


def _page(text: str) -> Reply:
    html = f"<html><body><article><p>{text * 20}</p></article></body></html>"
    return Reply(200, html.encode(), {"Content-Type": "text/html"})


def test_a_rule_reload_reaches_a_poll_under_way_from_its_next_batch(workdir):
    """The daemon swaps reloaded rules into the one pipeline its poller ingests through:
    a poll under way matches the batches it starts after the swap with the new rules (here
    one entry a batch, the rules reloaded while the second entry's page is fetched)."""
    rules = workdir / "rules"
    rules.mkdir()
    rule_file = rules / "r.yaml"
    rule_file.write_text("rules:\n  - id: siege\n    title: Siege\n    query: siege\n")
    with HeldServer() as server, Store.open(f"sqlite:///{workdir / 'w.db'}") as store, \
            Fetcher(now=lambda: datetime.now(UTC),
                    allow_private=parse_ranges(["127.0.0.0/8"])) as fetcher:
        items = "".join(
            f'<item><guid isPermaLink="false">n-{i}</guid><title>Report {i}</title>'
            f"<link>{server.url(f'/page/{i}')}</link><description>Teaser.</description></item>"
            for i in range(2)
        )
        server.route("/feed", Reply(200, f'<rss version="2.0"><channel>{items}</channel></rss>'
                                         .encode()))
        server.route("/page/0", _page("A convoy of trucks crossed into Idlib province. "))
        server.route("/page/1", _page("The convoy with flour reached Aleppo after delays. "))
        server.hold("/page/1")
        daemon, _ = _daemon(workdir, rules, store, fetcher, batch_size=1)
        source = SourceSettings(name="wire", url=server.url("/feed"), full_text=True,
                                first_poll="alert")
        polled = []
        poll = threading.Thread(target=lambda: polled.append(daemon.poll(source)))
        poll.start()
        server.arrived("/page/1")  # n-0 is stored, matched with the rules it started with
        rule_file.write_text(rule_file.read_text()
                             + "  - id: convoy\n    title: Convoy\n    query: convoy\n")
        assert daemon.reload_rules_if_changed()
        server.let_go("/page/1")
        poll.join(timeout=60)
    assert polled[0].outcome == "ok"
    assert [(m.rule_id, m.article_id) for m in polled[0].new_matches] == [("convoy", "n-1")]


def test_a_broken_context_triggers_file_refuses_a_reload_like_a_broken_rule(workdir, caplog):
    """watcher.yaml's context.triggers is read with the rules (issue 17): a mistake in it
    keeps the last good set, said in one line with its place."""
    rules = workdir / "rules"
    rules.mkdir()
    rule_file = rules / "r.yaml"
    rule_file.write_text("rules:\n  - id: one\n    title: One\n    query: siege\n")
    triggers = workdir / "context.yaml"
    triggers.write_text("negated:\n  - direction: backward\n    scope: 3\n    phrases: [foiled]\n")
    env = {"WATCHER_CONTEXT__TRIGGERS": str(triggers)}
    with Store.open(f"sqlite:///{workdir / 'w.db'}") as store, \
            Fetcher(now=lambda: datetime.now(UTC)) as fetcher:
        daemon, metrics = _daemon(workdir, rules, store, fetcher, env=env)
        assert not daemon.reload_rules_if_changed()
        triggers.write_text("negated:\n  - direction: sideways\n    phrases: [foiled]\n")
        second = "  - id: two\n    title: Two\n    query: truce\n"
        rule_file.write_text(rule_file.read_text() + second)
        assert not daemon.reload_rules_if_changed()
        assert b"watcher_rule_reload_errors_total 1.0" in metrics.exposition()
        assert f"{triggers}:2:16: direction must be one of" in caplog.text


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=PATIENCE) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_daemon_serves_health_and_metrics_and_stops_cleanly_on_sigterm(server, workdir):
    server.route("/feed", Reply(200, FEED))
    port = free_port()
    _config(workdir, server.url("/feed"), every="30s",
            extra=f"http:\n  host: 127.0.0.1\n  port: {port}\n")
    daemon = start_watcher("run", cwd=workdir)
    try:
        daemon.errors.wait_for(POLLED_OK)
        assert _metric_seen(port, 'watcher_polls_total{outcome="ok",source="wire"}')
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
    finally:
        [errors] = stop_watchers([daemon])
    assert daemon.returncode == 0, errors
    assert "event=stopped" in errors
    assert "event=schema_migrated from=empty to=" in errors  # a new database file
    # One event per line, ours and the libraries' alike (Alembic said `Context impl …`).
    assert all(" level=" in line and " event=" in line for line in errors.splitlines()), errors


# The daemon's log line for a poll, written once the poll is counted in /metrics.
POLLED_OK = "event=poll source=wire outcome=ok "


def _metric_seen(port: int, sample: str) -> bool:
    status, text = _get(f"http://127.0.0.1:{port}/metrics")
    return status == 200 and any(line.startswith(sample + " 1") for line in text.splitlines())


def test_sources_polled_at_once_carrying_one_feed_store_each_entry_once(server, workdir):
    server.route("/a", Reply(200, FEED))
    server.route("/b", Reply(200, FEED))
    (workdir / "watcher.yaml").write_text(
        f"rules: {RULES}\nsources:\n"
        f"  - name: one\n    url: {server.url('/a')}\n"
        f"  - name: two\n    url: {server.url('/b')}\n"
    )
    assert _cli("run", "--once").exit_code == 0
    stored = [json.loads(x) for x in _cli("articles", "--format", "jsonl").stdout.splitlines()]
    assert len(stored) == 2  # the same links: one article each, whichever feed came first
    statuses = [json.loads(x) for x in _cli("sources", "--format", "jsonl").stdout.splitlines()]
    assert [(s["name"], s["errors"]) for s in statuses] == [("one", 0), ("two", 0)]
    assert sum(s["new_items"] for s in statuses) == 2


def test_full_text_sources_store_the_page_text_instead_of_the_summary(server, workdir):
    page = (ROOT / "tests" / "data" / "pages" / "news-article.html").read_bytes()
    item = (f'<item><guid isPermaLink="false">c-1</guid><title>Aid convoy reaches district'
            f"</title><link>{server.url('/page')}</link><description>Short teaser."
            f"</description></item>")
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{item}'
    server.route("/feed", Reply(200, (feed + "</channel></rss>").encode()))
    server.route("/page", Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    rules = workdir / "convoy.yaml"
    rules.write_text("rules:\n  - id: convoy\n    title: Convoys\n"
                     "    query: '\"twenty-two trucks\" NEAR/s besieged'\n")
    (workdir / "watcher.yaml").write_text(
        f"rules: {rules}\nsources:\n  - name: wire\n    url: {server.url('/feed')}\n"
        f"    full_text: true\n{ALLOW_LOOPBACK}"
    )
    assert _cli("run", "--once").exit_code == 0
    matches = [json.loads(x) for x in _cli("matches", "--format", "jsonl").stdout.splitlines()]
    # The teaser says nothing of the trucks: only the page's text can match.
    assert [(m["rule"], m["article"]) for m in matches] == [("convoy", "c-1")]
    assert "[twenty-two trucks]" in matches[0]["snippet"]
    assert [r.path for r in server.requests] == ["/feed", "/page"]
    assert _cli("run", "--once").exit_code == 0  # known entry: its page is not fetched again
    assert [r.path for r in server.requests] == ["/feed", "/page", "/feed"]


def test_full_text_skips_a_link_that_entries_share(server, workdir):
    """Every entry linking the front page would get the front page's text as its body."""
    items = "".join(
        f'<item><guid isPermaLink="false">c-{n}</guid><title>Report {n}</title>'
        f"<link>{server.url('/')}</link><description>Convoy teaser {n}.</description></item>"
        for n in (1, 2))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
    server.route("/feed", Reply(200, (feed + "</channel></rss>").encode()))
    (workdir / "watcher.yaml").write_text(
        f"rules: {RULES}\nsources:\n  - name: wire\n    url: {server.url('/feed')}\n"
        "    full_text: true\n"
    )
    assert _cli("run", "--once").exit_code == 0
    assert [r.path for r in server.requests] == ["/feed"]
    assert sorted(a["id"] for a in _stored()) == ["c-1", "c-2"]


def _full_text_feed(*links: str) -> bytes:
    items = "".join(
        f'<item><guid isPermaLink="false">c-{n}</guid><title>Convoy report {n}</title>'
        f"<link>{link}</link><description>Aid convoy teaser {n}.</description></item>"
        for n, link in enumerate(links))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
            "</channel></rss>").encode()


def _bodies(workdir: Path) -> dict[str, str]:
    with sqlite3.connect(workdir / "watcher.db") as db:
        return dict(db.execute("SELECT external_id, body FROM articles"))


def test_full_text_never_fetches_a_link_to_this_machine(server, workdir):
    """SSRF: an entry linking to a service on the watcher's own machine, directly or by a
    redirect, is stored with the feed's text; the service sees no request."""
    with ScriptedServer() as internal:
        internal.route("/secret", Reply(200, b"<html><body><p>db_password=hunter2</p></body>"))
        server.route("/feed", Reply(200, _full_text_feed(internal.url("/secret"),
                                                         f"http://localhost:{internal.port}/secret")))
        (workdir / "watcher.yaml").write_text(
            f"rules: {RULES}\nsources:\n  - name: wire\n    url: {server.url('/feed')}\n"
            "    full_text: true\n")
        polled = _cli("run", "--once")
        assert internal.requests == []
    assert polled.exit_code == 0
    assert _bodies(workdir) == {"c-0": "Aid convoy teaser 0.", "c-1": "Aid convoy teaser 1."}
    assert "event=full_text_failed" in polled.output
    assert f"{internal.url('/secret')}: refused to connect to 127.0.0.1 (loopback)" in polled.output
    assert f"localhost:{internal.port}/secret: refused to connect to localhost at" in polled.output


def test_full_text_never_follows_a_redirect_to_this_machine(server, workdir):
    """The page is on an allowed address (127.0.0.1); it redirects to one that is not."""
    internal = f"http://[::1]:{closed_port()}/secret"
    server.route("/page", Reply(302, headers={"Location": internal}))
    server.route("/feed", Reply(200, _full_text_feed(server.url("/page"))))
    (workdir / "watcher.yaml").write_text(
        f"rules: {RULES}\nsources:\n  - name: wire\n    url: {server.url('/feed')}\n"
        f"    full_text: true\nfetch:\n  allow_private: [127.0.0.1/32]\n")
    polled = _cli("run", "--once")
    assert polled.exit_code == 0
    assert _bodies(workdir) == {"c-0": "Aid convoy teaser 0."}
    assert [r.path for r in server.requests] == ["/feed", "/page"]
    assert f"redirected to {internal}: refused to connect to ::1 (loopback)" in polled.output


def test_a_feed_on_this_machine_is_polled_but_not_its_redirect_to_another_server(
    server, workdir
):
    """The operator's feed URL is trusted (an intranet feed), its own server too; a
    redirect to another service on this machine is not, unless fetch.allow_private says."""
    with ScriptedServer() as internal:
        internal.route("/feed", Reply(200, FEED))
        server.route("/feed", Reply(302, headers={"Location": internal.url("/feed")}))
        _config(workdir, server.url("/feed"))
        assert _cli("run", "--once").exit_code == 1
        assert internal.requests == []
        assert _source_status()["last_error"] == (
            f"{server.url('/feed')}: redirected to {internal.url('/feed')}: refused to connect "
            "to 127.0.0.1 (loopback): only public addresses are fetched for links and "
            "redirects from feeds (fetch.allow_private allows ranges)")
        _config(workdir, server.url("/feed"), extra=ALLOW_LOOPBACK)
        (workdir / "watcher.db").unlink()  # no backoff from the failed poll
        assert _cli("run", "--once").exit_code == 0
        assert len(internal.requests) == 1
    assert sorted(a["id"] for a in _stored()) == ["wire-1", "wire-2"]


def test_sources_trickling_their_headers_cannot_keep_a_good_feed_from_being_polled(
    server, workdir
):
    """Eight stalled sources take every poll slot first; each holds it for fetch.timeout
    at most (a header byte every 50 ms used to keep httpx reading for ever), so the ninth
    source is polled in the same `run --once`."""
    server.route("/feed", Reply(200, FEED))
    with TricklingServer(pause=0.05) as slow:
        stalled = "".join(f"  - {{name: slow-{n}, url: '{slow.url(f'/{n}')}'}}\n"
                          for n in range(DEFAULT_POLL_CONCURRENCY))
        (workdir / "watcher.yaml").write_text(
            f"rules: {RULES}\nfetch:\n  timeout: 1s\nsources:\n{stalled}"
            f"  - {{name: wire, url: '{server.url('/feed')}'}}\n")
        assert _cli("run", "--once").exit_code == 1
        assert slow.requests == DEFAULT_POLL_CONCURRENCY
    assert sorted(a["id"] for a in _stored()) == ["wire-1", "wire-2"]
    statuses = {s["name"]: s for s in map(json.loads, _cli("sources", "--format", "jsonl")
                                          .stdout.splitlines())}
    assert statuses["wire"]["errors"] == 0
    for n in range(DEFAULT_POLL_CONCURRENCY):
        assert statuses[f"slow-{n}"]["last_error"] == f"{slow.url(f'/{n}')}: timed out after 1 s"


def _gated_sources(server: GatedServer, count: int) -> list[str]:
    """`count` sources on the gated server (YAML flow mappings), each its own path."""
    for n in range(count):
        server.route(f"/feed/{n}", Reply(200, FEED))
    return [f"{{name: wire-{n}, url: '{server.url(f'/feed/{n}')}', every: 30s}}"
            for n in range(count)]


@pytest.mark.parametrize("concurrency", [None, DEFAULT_POLL_CONCURRENCY + 4])
def test_run_once_polls_fetch_concurrency_sources_at_once(workdir, concurrency):
    """The server holds every request until `concurrency` are in flight at once (8 by
    default): `run --once` gets there. (A fetch that gave up would free its slot while the
    server still counted it: no timeouts.) That no more than that are in flight is not
    proven here: extra requests would arrive after the gate opened, and only a timeout
    could show that none is coming."""
    at_once = concurrency or DEFAULT_POLL_CONCURRENCY
    setting = "fetch:\n  timeout: 10m\n" + (f"  concurrency: {concurrency}\n" if concurrency
                                             else "")
    with GatedServer(opens_at=at_once) as server:
        (workdir / "watcher.yaml").write_text(
            f"rules: {RULES}\n{setting}sources:\n"
            + "".join(f"  - {source}\n" for source in _gated_sources(server, at_once + 3)))
        polled = _cli("run", "--once")
    assert polled.exit_code == 0, polled.output
    assert server.most_held == at_once
    assert len(server.requests) == at_once + 3


def test_the_daemon_polls_fetch_concurrency_sources_at_once(workdir):
    """The daemon's scheduler gives polls `fetch.concurrency` threads: 12 requests held at
    once reach the server (its first polls of 15 sources start within 3 s of each other)."""
    with GatedServer(opens_at=12) as server, \
            Store.open(f"sqlite:///{workdir / 'w.db'}") as store, \
            Fetcher(now=lambda: datetime.now(UTC), timeout=600) as fetcher:
        env = {"WATCHER_SOURCES": f"[{', '.join(_gated_sources(server, 15))}]",
               "WATCHER_FETCH__CONCURRENCY": "12"}
        daemon, _ = _daemon(workdir, RULES, store, fetcher, env=env)
        running = threading.Thread(target=daemon.run_forever)
        running.start()
        try:
            server.opened.wait(PATIENCE)  # at 12 held, or given up on
        finally:
            server.opened.set()
            daemon.stopping.set()
            running.join(PATIENCE)
    assert server.most_held == 12


def test_a_stalled_site_costs_a_full_text_poll_one_deadline_not_one_per_entry(server, workdir):
    with TricklingServer(pause=0.05) as slow:
        pages = [slow.url(f"/article/{n}") for n in range(3)]
        server.route("/feed", Reply(200, _full_text_feed(*pages)))
        (workdir / "watcher.yaml").write_text(
            f"rules: {RULES}\nsources:\n  - name: wire\n    url: {server.url('/feed')}\n"
            f"    full_text: true\n{ALLOW_LOOPBACK}  timeout: 1s\n")
        polled = _cli("run", "--once")
        assert slow.requests == 1
    assert polled.exit_code == 0
    assert _bodies(workdir) == {f"c-{n}": f"Aid convoy teaser {n}." for n in range(3)}
    assert f"event=full_text_failed url={pages[0]} error='{pages[0]}: timed out after 1 s'" \
        in polled.output
    host = pages[0].split("/")[2]
    for page in pages[1:]:
        assert (f"event=full_text_skipped url={page} reason='a page of {host} timed out in "
                "this poll'") in polled.output


def test_after_a_signal_queued_polls_do_not_start(server, workdir):
    server.route("/feed", Reply(200, FEED))
    _config(workdir, server.url("/feed"))
    settings = load_settings(None, {}, {})
    with Store.open(f"sqlite:///{workdir / 'w.db'}") as store, \
            Fetcher(now=lambda: datetime.now(UTC)) as fetcher:
        daemon, _ = _daemon(workdir, RULES, store, fetcher)
        daemon.stopping.set()
        assert daemon.poll(settings.sources[0]).outcome == "skipped"
    assert server.requests == []


def test_a_second_daemon_on_one_sqlite_file_is_refused(server, workdir):
    server.route("/feed", Reply(200, FEED))
    port = free_port()
    _config(workdir, server.url("/feed"), every="30s",
            extra=f"http:\n  host: 127.0.0.1\n  port: {port}\n")
    first = start_watcher("run", cwd=workdir)
    try:
        first.errors.wait_for(POLLED_OK)
        second = _cli("run", "--once")
        assert second.exit_code == 2
        assert f"another `watcher run` (pid {first.pid}) is using it" in second.stderr
        assert "one daemon per SQLite file" in second.stderr
    finally:
        stop_watchers([first])
    assert _cli("run", "--once").exit_code == 0  # the lock went with the first daemon


def test_healthz_says_when_the_database_is_gone_and_recovers_while_livez_stays_up(
    server, workdir
):
    """PostgreSQL stopped under a running daemon: /healthz turns 503 with one line saying
    what went wrong (never the database's URL), /livez stays 200 (a restart would not
    help), and once the server is back /healthz is ok again without restarting watcher."""
    server.route("/feed", Reply(200, FEED))
    port = free_port()
    with postgres_server() as postgres:
        url = postgres.url.replace("postgres@", "postgres:not-shown@")
        _config(workdir, server.url("/feed"), every="30s",
                extra=f"db: {url}\nhttp:\n  host: 127.0.0.1\n  port: {port}\n"
                      "  database_check: 0s\n")  # every probe asks the database
        daemon = start_watcher("run", cwd=workdir)
        try:
            base = f"http://127.0.0.1:{port}"
            daemon.errors.wait_for(POLLED_OK)
            assert _get(f"{base}/healthz") == (200, "ok\n")
            postgres.stop()  # returns once the server is down
            status, reason = _get(f"{base}/healthz")
            assert status == 503
            assert reason.startswith("database unreachable: ")
            assert "postgresql" not in reason and "not-shown" not in reason
            assert reason.count("\n") == 1
            assert _get(f"{base}/livez") == (200, "ok\n")
            postgres.resume()  # returns once the server accepts connections
            assert _get(f"{base}/healthz") == (200, "ok\n")
        finally:
            [errors] = stop_watchers([daemon])
    assert daemon.returncode == 0, errors


@pytest.mark.parametrize("args", [("run",), ("run", "--once")])
def test_a_signal_while_starting_stops_cleanly_before_any_poll(server, workdir, monkeypatch,
                                                               args):
    """Ctrl-C while the rules load (seconds for a large set) is a clean stop: exit 0, no
    poll, no traceback, instead of click's `Aborted!` and status 1."""
    server.route("/feed", Reply(200, FEED))
    _config(workdir, server.url("/feed"))
    loading = cli_daemon.load_matcher

    def interrupted_while_loading(*load_args):
        os.kill(os.getpid(), signal.SIGINT)
        return loading(*load_args)

    monkeypatch.setattr(cli_daemon, "load_matcher", interrupted_while_loading)
    result = _cli(*args)
    assert result.exit_code == 0, result.output
    assert server.requests_to("/feed") == []
    assert "Aborted" not in result.output


def test_an_interrupt_while_the_commands_load_exits_130_without_a_traceback(monkeypatch):
    class Interrupted(types.ModuleType):
        def __getattr__(self, name: str):
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "watcher.cli.main", Interrupted("watcher.cli.main"))
    with pytest.raises(SystemExit) as stop:
        entry.main()
    assert stop.value.code == INTERRUPTED == 128 + signal.SIGINT


def test_an_interrupt_while_a_command_module_loads_exits_130_without_a_traceback(
    monkeypatch, workdir
):
    """A command's module is imported when it runs (watcher/cli/lazy.py): Ctrl-C then is
    one line and status 130, as anywhere else in a command."""
    class Interrupted(types.ModuleType):
        def __getattr__(self, name: str):
            raise KeyboardInterrupt

    monkeypatch.delitem(cli.commands, "articles", raising=False)  # loaded by another test
    monkeypatch.setitem(sys.modules, "watcher.cli.records", Interrupted("watcher.cli.records"))
    result = _cli("articles")
    assert result.exit_code == INTERRUPTED
    assert result.stderr == "watcher: interrupted\n"
    assert "articles" not in cli.commands


def test_feeds_are_fetched_with_the_configured_contact_in_the_user_agent(server, workdir):
    """A feed's operator sees who polls and how to reach them, before blocking."""
    server.route("/feed", Reply(200, FEED))
    _config(workdir, server.url("/feed"), extra="contact: ops@newsroom.example\n")
    assert _cli("run", "--once").exit_code == 0
    agent = server.requests_to("/feed")[0].headers["user-agent"]
    assert agent.startswith("watcher/") and "(+mailto:ops@newsroom.example;" in agent


def _items(*items: tuple[str, str, str]) -> bytes:
    """An RSS document of (guid, title, link) items, each with its own description."""
    body = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid><title>{title}</title>'
        f"<link>{link}</link><description>{title}, as reported on the ground.</description></item>"
        for guid, title, link in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Site</title><link>http://127.0.0.1/</link>{body}</channel></rss>").encode()


def _stored() -> list[dict]:
    return [json.loads(x) for x in _cli("articles", "--format", "jsonl").stdout.splitlines()]


# A CMS that writes its home page into every guid (a real publisher bug).
REUSED_GUID = (
    ("http://127.0.0.1/", "Shelling resumes in Deir ez-Zor", "http://127.0.0.1/a/1"),
    ("http://127.0.0.1/", "Crossing at Semalka reopens", "http://127.0.0.1/a/2"),
    ("http://127.0.0.1/", "Water station in Alouk repaired", "http://127.0.0.1/a/3"),
)


def test_entries_sharing_one_guid_are_all_stored_told_apart_by_link(server, workdir):
    every = Reply(200, _items(*REUSED_GUID))
    server.route("/feed", every, every, Reply(200, _items(REUSED_GUID[2])))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 0
    assert sorted(a["id"] for a in _stored()) == [f"http://127.0.0.1/a/{n}" for n in (1, 2, 3)]
    status = _source_status()
    assert status["new_items"] == 3
    assert status["warning"] == ("feed reuses guid 'http://127.0.0.1/' for 3 different "
                                 "entries; told apart by link")
    assert "warning: feed reuses guid 'http://127.0.0.1/'" in _cli("sources").stdout

    assert _cli("run", "--once").exit_code == 0  # the next poll: the same three, nothing new
    assert len(_stored()) == 3 and _source_status()["new_items"] == 0
    assert _cli("run", "--once").exit_code == 0  # the guid unique again: still known
    status = _source_status()
    assert len(_stored()) == 3 and (status["new_items"], status["warning"]) == (0, None)


def test_entries_sharing_guid_and_link_are_told_apart_by_content(server, workdir):
    home = "http://127.0.0.1/"
    server.route("/feed", Reply(200, _items(
        (home, "Shelling resumes in Deir ez-Zor", home),
        (home, "Crossing at Semalka reopens", home),
    )))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 0
    stored = _stored()
    assert sorted(a["title"] for a in stored) == ["Crossing at Semalka reopens",
                                                  "Shelling resumes in Deir ez-Zor"]
    assert all(a["id"].startswith("sha256:") and a["url"] == home for a in stored)
    assert _source_status()["warning"] == ("feed reuses guid 'http://127.0.0.1/' for 2 "
                                           "different entries; told apart by content")
    assert _cli("run", "--once").exit_code == 0
    assert len(_stored()) == 2


def test_entries_sharing_a_link_are_told_apart_by_guid(server, workdir):
    """A podcast linking every episode to its home page: the URL key made all but the
    first "already stored"."""
    home = "http://127.0.0.1/"
    server.route("/feed", Reply(200, _items(
        ("ep-1", "Shelling resumes in Deir ez-Zor", home),
        ("ep-2", "Crossing at Semalka reopens", home),
    )))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 0
    assert sorted(a["id"] for a in _stored()) == ["ep-1", "ep-2"]
    assert _source_status()["warning"] == (
        "feed reuses link 'http://127.0.0.1/' for 2 different entries; told apart by guid")
    assert _cli("run", "--once").exit_code == 0
    assert len(_stored()) == 2


def test_an_update_under_a_new_guid_beside_its_first_version_stays_one_article(
    server, workdir
):
    """Some CMSs give an updated article a new guid and keep listing the old item: the
    shared article link keeps them one article, so no second alert."""
    page = "http://127.0.0.1/a/7"
    first = ("site-7", "Clashes near Manbij", page)
    update = ("site-7-v2", "Clashes near Manbij: 12 dead", page)
    server.route("/feed", Reply(200, _items(first)), Reply(200, _items(update, first)))
    _config(workdir, server.url("/feed"))
    for _ in range(2):
        assert _cli("run", "--once").exit_code == 0
    assert [a["title"] for a in _stored()] == ["Clashes near Manbij"]
    assert _source_status()["warning"] == (
        f"feed reuses link '{page}' for 2 different entries; taken as one article "
        "(an update beside its first version)")


def test_an_edited_entry_stays_one_article_and_a_later_reuse_is_kept(server, workdir):
    """Across polls a guid keeps its article: a new title and link under a stored guid is
    an edit, not news, and so (the known hole) is a reuse shown alone. Once a document
    shows the guid on two different entries, the other one is kept and the stored one is
    still recognised (by its link)."""
    first = ("site-7", "Clashes near Manbij", "http://127.0.0.1/a/7")
    edited = ("site-7", "Clashes near Manbij: 12 dead", "http://127.0.0.1/a/7-12-dead")
    other = ("site-7", "Aid convoy reaches Kobani", "http://127.0.0.1/a/8")
    server.route("/feed", Reply(200, _items(first)), Reply(200, _items(edited)),
                 Reply(200, _items(other)), Reply(200, _items(other, first)))
    _config(workdir, server.url("/feed"))
    for _ in range(3):
        assert _cli("run", "--once").exit_code == 0
    assert [a["title"] for a in _stored()] == ["Clashes near Manbij"]
    assert _source_status()["warning"] is None
    assert _cli("run", "--once").exit_code == 0
    assert sorted(a["title"] for a in _stored()) == ["Aid convoy reaches Kobani",
                                                     "Clashes near Manbij"]
    assert _source_status()["new_items"] == 1


def test_feeds_beside_each_other_giving_the_same_bare_guid_lose_no_entry(server, workdir):
    """`<guid>1001</guid>` is a permalink by RSS's default, but "1001" is no URL: it must not
    become the made-up page /f/1001 that the other feed's entry 1001 then shares."""
    for name, text in (("a", "Shelling hit Aleppo's east"), ("b", "A convoy left Homs at dawn")):
        server.route(f"/f/{name}.rss", Reply(200, (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>'
            f"<item><guid>1001</guid><title>{text}</title>"
            f"<description>{text}, officials said.</description></item></channel></rss>"
        ).encode()))
    (workdir / "watcher.yaml").write_text(
        f"rules: {RULES}\nsources:\n"
        f"  - {{name: wire-a, url: {server.url('/f/a.rss')}}}\n"
        f"  - {{name: wire-b, url: {server.url('/f/b.rss')}}}\n"
    )
    assert _cli("run", "--once").exit_code == 0
    stored = _stored()
    assert sorted((a["source"], a["id"], a["url"]) for a in stored) == [
        ("wire-a", "1001", None), ("wire-b", "1001", None)]


def test_entries_that_cannot_become_articles_are_named_in_the_sources_warning(server, workdir):
    """An entry with no title and no text holds nothing to match: not stored, but said."""
    server.route("/feed", Reply(200, (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>'
        b'<item><guid isPermaLink="false">ok</guid><title>Siege of Aleppo</title></item>'
        b"<item><link>http://127.0.0.1/only-a-link</link></item>"
        b'<item><guid isPermaLink="false">g2</guid><pubDate>Mon, 23 Nov 2026 10:00:00 GMT'
        b"</pubDate></item><item></item></channel></rss>"
    )))
    _config(workdir, server.url("/feed"))
    assert _cli("run", "--once").exit_code == 0
    assert [a["id"] for a in _stored()] == ["ok"]
    status = _source_status()
    assert status["new_items"] == 1
    # one rule for what an article must hold: every entry that has an id is named by it
    assert status["warning"] == ("3 entries not stored (no title and no body; nothing in it): "
                                 "'http://127.0.0.1/only-a-link', 'g2'")


def test_a_password_or_token_in_a_feed_url_is_never_shown(server, workdir, monkeypatch):
    """Logs, `watcher sources` and the recorded error show ****; the server gets the real
    credentials (the database keeps the URL it polls)."""
    monkeypatch.setenv("WIRE_KEY", "K3y-s3cret")
    server.route("/feed?apikey=K3y-s3cret&lang=en", Reply(500))
    port = server.url("/").split(":")[2].split("/")[0]
    _config(workdir, f"http://reader:pa55word@127.0.0.1:{port}/feed?apikey=${{WIRE_KEY}}&lang=en")
    polled = _cli("run", "--once")
    assert polled.exit_code == 1 and "event=poll_failed" in polled.output
    [request] = server.requests_to("/feed?apikey=K3y-s3cret&lang=en")
    assert request.headers["authorization"].startswith("Basic ")
    shown = [polled.output, _cli("sources").output, _cli("sources", "--format", "jsonl").output]
    with sqlite3.connect(workdir / "watcher.db") as db:  # its url column is what is polled
        shown += [str(row) for row in db.execute("SELECT last_error, disabled_reason, "
                                                  "last_warning FROM sources")]
    for text in shown:
        assert "K3y-s3cret" not in text and "pa55word" not in text
    status = _source_status()
    assert status["url"] == f"http://reader:****@127.0.0.1:{port}/feed?apikey=****&lang=en"
    assert "500" in status["last_error"] and "****" in status["last_error"]


def test_sources_text_says_when_the_last_error_is_from_before_a_recovery():
    """A source polled fine since its last error reads `ok`; its old error says so."""
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    failing = SourceState("wire", url="https://x.org/f", last_poll=at, error_count=2,
                          last_error="https://x.org/f: HTTP 500")
    recovered = replace(failing, error_count=0, last_success=at)
    assert "\n    last_error: https://x.org/f: HTTP 500" in cli_daemon.source_text(
        cli_daemon.source_json(failing, every=600))
    shown = cli_daemon.source_text(cli_daemon.source_json(recovered, every=600))
    assert shown.startswith("wire  ok  every 10m")
    assert "\n    last_error (since recovered): https://x.org/f: HTTP 500" in shown


def test_a_feed_over_its_sources_max_size_is_an_error_that_says_how_to_raise_it(server, workdir):
    server.route("/feed", Reply(200, FEED))
    _config(workdir, server.url("/feed"), extra="    max_size: 0.5KiB\n")
    assert len(FEED) > 512
    assert _cli("run", "--once").exit_code == 1
    assert _source_status()["last_error"] == (
        f"{server.url('/feed')}: response larger than 512 B (a source's max_size raises the "
        "limit)")
