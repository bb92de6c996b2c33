"""`python -m bench.run --only web`: the workspace's inbox on a database of 100,000 stored
articles, through the real HTTP app (uvicorn on loopback, httpx with a bearer token).

Issue 19 asks that the inbox's first page and a search answer within 200 ms. Timed: the
inbox page unfiltered, filtered by one rule, and searched for a word (a rare one and one
in almost half the articles), and the first page of `GET /api/stories`; each request
after warm-up ones, median and 95th percentile. The baseline, timed in the same process
in turns with them, is the sign-in page (the same server and templates, no query): the
ratio says what the inbox's queries add to serving any page.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.measure import Machine, machine, progress, timed
from bench.tables import Column, markdown
from bench.targets import TARGET_COLUMNS, Target
from bench.web_fill import fill_workspace
from watcher.config.settings import Settings
from watcher.rules.load import load_rules
from watcher.store import Store
from watcher.store.accounts import Accounts
from watcher.web.app import create_app

WEB_HEADING = "## Workspace"
LIMIT_MS = 200.0
RULES = Path(__file__).resolve().parent.parent / "rules"
BASELINE = ("the sign-in page (baseline)", "/signin")


@dataclass(frozen=True)
class Timing:
    request: str
    path: str
    stories: int  # stories on the page answered
    median_ms: float
    p95_ms: float
    baseline_ms: float  # the baseline's median, timed in turns with this request

    @property
    def ratio(self) -> float:
        return self.median_ms / self.baseline_ms


@dataclass(frozen=True)
class WebReport:
    machine: Machine
    articles: int
    stories_with_matches: int
    fill_seconds: float
    file_mb: float
    requests: int
    timings: list[Timing]

    @property
    def targets(self) -> list[Target]:
        return [Target(f"{t.request}: p95", t.p95_ms, "ms", "<", LIMIT_MS)
                for t in self.timings]


def requests_timed(rule_id: str) -> list[tuple[str, str]]:
    return [
        ("inbox, first page", "/"),
        (f"inbox, rule {rule_id}", f"/?rule={rule_id}"),
        ("search, a rare word (chlorine)", "/?q=chlorine"),
        ("search, a common word (Aleppo)", "/?q=Aleppo"),
        ("search and a tag", "/?q=hospital&tag=syria"),
        ("GET /api/stories", "/api/stories"),
    ]


def measure_web(corpus: Sequence[Any], articles: int, requests: int, scratch: Path) -> WebReport:
    rules = load_rules(RULES).rules
    path = scratch / "workspace.db"
    progress(f"web: filling a workspace database with {articles:,} articles")
    seconds, with_matches = timed(lambda: fill_workspace(path, corpus, rules, articles))
    file_mb = sum(f.stat().st_size for f in path.parent.glob(path.name + "*")) / 2**20
    timings = []
    with Store.open(f"sqlite:///{path}") as store, _served(store) as client:
        for name, target in requests_timed(rules[0].id):
            progress(f"web: {name}")
            timings.append(_time(client, name, target, requests))
    return WebReport(machine(), articles, with_matches, seconds, file_mb, requests, timings)


def _time(client: httpx.Client, name: str, path: str, requests: int) -> Timing:
    """`requests` answers to `path` and as many to the baseline, in turns, after warm-up."""
    for _ in range(3):
        _get(client, path), _get(client, BASELINE[1])
    spent, baseline = [], []
    for _ in range(requests):
        spent.append(_get(client, path))
        baseline.append(_get(client, BASELINE[1]))
    answer = client.get(path)
    stories = (len(answer.json()["stories"]) if path.startswith("/api/")
               else answer.text.count('name="story_id"'))
    return Timing(name, path, stories, statistics.median(spent), _p95(spent),
                  statistics.median(baseline))


def _get(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    answer = client.get(path)
    spent = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
    return spent


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


@contextmanager
def _served(store: Store) -> Iterator[httpx.Client]:
    """The workspace on a loopback port, and a client signed in with a bearer token."""
    now = datetime.now(UTC)
    token = Accounts(store).add_token("bench", now)
    app = create_app(store, Settings(rules=str(RULES)), lambda: datetime.now(UTC))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted sockets inherit it: without it every answer waits ~40 ms for the client's
    # delayed ACK (Nagle), which would be most of what is measured.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()


COLUMNS = (
    Column("request", "request"),
    Column("path", lambda t: f"`{t.path}`"),
    Column("stories", "stories"),
    Column("median ms", "median_ms", ".1f"),
    Column("p95 ms", "p95_ms", ".1f"),
    Column("baseline ms", "baseline_ms", ".1f"),
    Column("x baseline", "ratio", ".1f"),
)


def render_web_table(report: WebReport) -> str:
    return "\n".join([
        f"{report.articles:,} articles ({report.stories_with_matches:,} stories with matches "
        f"shown), filled in {report.fill_seconds:.1f} s, {report.file_mb:.0f} MB",
        "",
        *markdown(COLUMNS, report.timings),
        "",
        *markdown(TARGET_COLUMNS, report.targets),
    ])


def render_web_markdown(report: WebReport) -> str:
    machine_lines = "\n".join(f"- {line}" for line in report.machine.describe())
    return f"""{WEB_HEADING}

The workspace's inbox (docs/web.md, "The inbox") over a SQLite database of
{report.articles:,} stored articles (bench/web_fill.py: FA-KES texts, stories of one to a
dozen copies, one article in eight matched by the shipped rules, some held back, most
placed, some triaged; the full-text index built by FTS5 from the stored rows, as migration
0010 builds it), served for real (uvicorn on loopback) and asked with httpx and a bearer
token: {report.requests} requests each after 3 warm-up ones, in turns with the baseline,
the sign-in page (same server and templates, no query). Issue 19 asks for the first page
and a search within {LIMIT_MS:.0f} ms. `python -m bench.run --only web` rewrites this
section.

{machine_lines}

{render_web_table(report)}
"""
