"""A poll that outlives its lease: renewed while it runs, stopped when another worker has it;
a claim whose owner died, taken over at once where that can be proven; and a worker's own
claim left behind by a database restart, taken back at once.

Two pollers (two workers) on one SQLite store and one clock that the test moves, a
loopback feed whose full-text pages are held until the test lets them go: no test waits
for a lease to run out. Then `watcher run` processes killed by SIGKILL, and a PostgreSQL
server stopped mid-poll under a poller driven by a fixed clock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.store.sql import rows
from tests.support.helpers import PATIENCE, ManualClock
from tests.support.http_server import HeldServer, Reply, Request, ScriptedServer
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.processes import start_watcher, stop_watchers
from watcher.cli.main import cli
from watcher.config.settings import SourceSettings
from watcher.daemon.poller import CLAIM_LOST, Poller, PollOutcome
from watcher.engine.matcher import Matcher
from watcher.errors import StoreError
from watcher.ingest.pipeline import Pipeline
from watcher.sources.addresses import parse_ranges
from watcher.sources.feeds import parse_feed
from watcher.sources.fetch import Fetcher
from watcher.store import Store
from watcher.store.claims import CLAIM_WAIT_SECONDS

ROOT = Path(__file__).resolve().parent.parent
LEASE = timedelta(seconds=10)
LOOPBACK = parse_ranges(["127.0.0.0/8"])  # the pages' server, for full text
PAGE = b"<html><body><article><p>" + b"Shelling hit the old market in Aleppo. " * 40 + (
    b"</p></article></body></html>")


def now() -> datetime:
    return datetime.now(UTC)


def feed(server: ScriptedServer, items: int) -> bytes:
    entries = "".join(
        f'<item><guid isPermaLink="false">n-{i}</guid><title>Report {i}</title>'
        f"<link>{server.url(f'/page/{i}')}</link><description>Teaser {i}.</description></item>"
        for i in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{entries}' \
           "</channel></rss>".encode()


@pytest.fixture
def server() -> Iterator[HeldServer]:
    with HeldServer() as scripted:
        yield scripted


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as opened:
        yield opened


@functools.cache
def shipped_rules() -> Matcher:
    return Matcher.from_path(ROOT / "rules")


def poller(store: Store, fetcher: Fetcher, owner: str, clock: ManualClock) -> Poller:
    pipeline = Pipeline(matcher=shipped_rules(), store=store, now=clock.now)
    return Poller(store=store, fetcher=fetcher, pipeline=pipeline, now=clock.now,
                  clock=clock.monotonic, lease=LEASE, owner=owner)


def in_thread(work, results: list[PollOutcome]) -> threading.Thread:
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    return thread


def page() -> Reply:
    return Reply(200, PAGE, {"Content-Type": "text/html"})


def lease_fraction(fraction: float) -> float:
    return LEASE.total_seconds() * fraction


def test_a_long_poll_keeps_its_claim_and_no_other_worker_polls_the_source(server, store):
    """a's poll renews its claim between pages, so past its first lease b still finds
    the source taken."""
    items, clock = 3, ManualClock()
    server.route("/feed", Reply(200, feed(server, items)))
    for i in range(items):
        server.route(f"/page/{i}", page())
    server.hold("/page/0", "/page/1")
    source = SourceSettings(name="wire", url=server.url("/feed"), full_text=True)
    first: list[PollOutcome] = []
    with Fetcher(now=now, allow_private=LOOPBACK) as fetcher:
        worker_a, worker_b = (poller(store, fetcher, name, clock) for name in "ab")
        thread = in_thread(lambda: worker_a.poll(source), first)
        server.arrived("/page/0")
        clock.advance(lease_fraction(0.4))  # past a third of the lease: renewed next
        server.let_go("/page/0")
        server.arrived("/page/1")  # renewed before this page was asked for
        clock.advance(lease_fraction(0.8))  # past a's first lease, within the renewed one
        second = worker_b.poll(source)
        server.let_go("/page/1")
        thread.join(timeout=60)
    assert (second.outcome, second.message) == ("skipped", "being polled by another worker")
    assert (first[0].outcome, first[0].new_articles) == ("ok", items)
    assert len(server.requests_to("/feed")) == 1


@pytest.mark.parametrize("same_worker", [False, True], ids=["other worker", "same worker"])
def test_a_poll_whose_claim_was_taken_over_stops_and_records_nothing(server, store, same_worker):
    """Also when the takeover is this worker's own (its retry at lease expiry)."""
    clock = ManualClock()
    server.route("/feed", Reply(200, feed(server, 3)))
    for i in range(3):
        server.route(f"/page/{i}", page())
    server.hold("/page/0")  # one fetch longer than the lease: no renewal
    source = SourceSettings(name="wire", url=server.url("/feed"), full_text=True)
    first: list[PollOutcome] = []
    second: list[PollOutcome] = []
    with Fetcher(now=now, allow_private=LOOPBACK) as fetcher:
        worker_a, worker_b = (poller(store, fetcher, name, clock) for name in "ab")
        thread = in_thread(lambda: worker_a.poll(source), first)
        server.arrived("/page/0")
        clock.advance(lease_fraction(1.5))  # a's lease has run out while it waits
        taking_over = worker_a if same_worker else worker_b
        # In a thread: a worker fetches one page of a host at a time, so a's own retry
        # waits for the page a holds.
        takeover = in_thread(lambda: taking_over.poll(source), second)
        server.wait_for_requests("/feed", 2)  # the takeover
        server.let_go("/page/0")
        thread.join(timeout=60)
        takeover.join(timeout=60)
    assert (second[0].outcome, second[0].new_articles) == ("ok", 3)
    assert (first[0].outcome, first[0].message) == ("skipped", CLAIM_LOST)
    stored = store.articles()
    assert sorted(a.id for a in stored) == ["n-0", "n-1", "n-2"]  # each once


def test_a_failed_poll_whose_claim_was_taken_over_counts_its_error_once(server, store):
    """The claim is checked before any record, not only between articles: a fetch that
    outlived its lease (here a page that is not a feed) leaves the error to the poll
    that took over."""
    clock = ManualClock()
    server.route("/feed", page())
    server.hold("/feed")
    source = SourceSettings(name="wire", url=server.url("/feed"))
    first: list[PollOutcome] = []
    with Fetcher(now=now) as fetcher:
        worker_a, worker_b = (poller(store, fetcher, name, clock) for name in "ab")
        thread = in_thread(lambda: worker_a.poll(source), first)
        server.arrived("/feed")
        clock.advance(lease_fraction(1.5))
        second = worker_b.poll(source)
        server.let_go("/feed")
        thread.join(timeout=60)
    assert (first[0].outcome, first[0].message) == ("skipped", CLAIM_LOST)
    assert second.outcome == "error"
    [state] = [s for s in store.source_states() if s.name == "wire"]
    assert state.error_count == 1


# -- claims whose owner died ----------------------------------------------------------

FOREIGN = "worker-2.example:7@1.0123456789ab:c0ffee:1"  # a poll claim from another machine


class WaitWatchingStore(Store):
    """The store, recording for how long at most each poll waits for another poll's claims."""

    waits: list[float]
    waiting: threading.Event

    def wait_for_claims(self, keys: Sequence[str], until: Callable[[], bool],
                        at_most: float = CLAIM_WAIT_SECONDS) -> None:
        self.waits.append(at_most)
        self.waiting.set()
        super().wait_for_claims(keys, until, at_most)


def test_a_poll_waits_for_another_polls_claim_a_third_of_its_lease_at_most(server, tmp_path):
    """The poll's article is claimed by another poll (its text being analysed there): the
    poll waits for that claim at most a third of its lease (renewed between outcomes every
    third of it), not CLAIM_WAIT_SECONDS, which would outlast a short lease."""
    clock = ManualClock()
    body = feed(server, 1)
    server.route("/feed", Reply(200, body))
    source = SourceSettings(name="wire", url=server.url("/feed"))
    results: list[PollOutcome] = []
    with (WaitWatchingStore.open(f"sqlite:///{tmp_path / 'w.db'}") as store,
          Fetcher(now=now, allow_private=LOOPBACK) as fetcher):
        store.waits, store.waiting = [], threading.Event()
        worker = poller(store, fetcher, "a", clock)
        parsed = parse_feed(body, source=source.name, url=source.url, now=clock.now()).entries
        text = worker.pipeline.identified(parsed)[0].identity.content_key
        with store.analysis_claims([text]) as elsewhere:  # another poll analyses the text
            assert elsewhere == set()
            thread = in_thread(lambda: worker.poll(source), results)
            assert store.waiting.wait(PATIENCE)
        thread.join(PATIENCE)
    assert store.waits == [LEASE.total_seconds() / 3]
    assert (results[0].outcome, results[0].new_articles) == ("ok", 1)  # analysed after all


def configure(workdir: Path, db: str, feed_url: str) -> None:
    """One source, with leases far longer than any test waits."""
    (workdir / "watcher.yaml").write_text(
        f"db: {db}\nrules: {ROOT / 'rules'}\npoll_lease: 1h\n"
        f"sources:\n  - name: wire\n    url: {feed_url}\n    every: 30s\n", encoding="utf-8")


def poll_owner(db: str) -> str | None:
    try:
        found = rows(db, "SELECT poll_owner FROM sources WHERE name = 'wire'")
    except sa.exc.OperationalError:  # the first daemon is still creating the schema
        return None
    return found[0][0] if found else None


def last_success(db: str) -> object:
    return rows(db, "SELECT last_success FROM sources WHERE name = 'wire'")[0][0]


def test_a_daemon_restarted_after_sigkill_polls_what_the_killed_one_held(server, workdir):
    """SQLite: `watcher run` killed mid-poll leaves its claim (an hour's lease) behind;
    the restarted daemon sees its pid is gone and polls the feed at once."""
    db = f"sqlite:///{workdir / 'w.db'}"
    body = feed(server, 2)
    server.route("/feed", Reply(200, body, chunk_size=16, pause=5.0), Reply(200, body))
    configure(workdir, db, server.url("/feed"))
    first = start_watcher("run", cwd=workdir)
    try:
        server.wait_for_requests("/feed", 1)  # polling: its claim is written before it asks
        assert poll_owner(db) is not None
    finally:
        first.kill()
        first.communicate()
    second = start_watcher("run", cwd=workdir)
    try:
        second.errors.wait_for("event=poll source=wire outcome=ok ")
        assert last_success(db) is not None
    finally:
        [log] = stop_watchers([second])
    assert len(server.requests_to("/feed")) == 2
    assert f"reason='process {first.pid} is gone'" in log


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_claim_from_another_machine_is_taken_only_by_the_sole_sqlite_daemon(
    server, workdir, request, backend
):
    """The SQLite daemon lock proves no other poller is alive, wherever it ran (a restarted
    container has new pids); on PostgreSQL a worker on another machine may be polling."""
    db = f"sqlite:///{workdir / 'w.db'}" if backend == "sqlite" else request.getfixturevalue(
        "pg_url")
    server.route("/feed", Reply(200, feed(server, 2)))
    with Store.open(db) as store:
        assert store.claim_poll("wire", server.url("/feed"), now(), owner=FOREIGN,
                                lease=timedelta(hours=1))[1] is None
    configure(workdir, db, server.url("/feed"))
    result = CliRunner().invoke(cli, ["run", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    if backend == "sqlite":
        assert len(server.requests_to("/feed")) == 1 and last_success(db) is not None
        assert "this daemon holds the SQLite database's lock" in result.stderr
    else:
        assert server.requests_to("/feed") == [] and poll_owner(db) == FOREIGN


# -- claims left behind when the database went away mid-poll ---------------------------

MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the clock stands still: no lease runs out


class StopsTheDatabase(ScriptedServer):
    """Stops PostgreSQL when the feed at `path` is first asked for: the poll holds its
    claim, and everything it then does with the database fails (its release included)."""

    def __init__(self, postgres: PostgresServer, path: str) -> None:
        super().__init__()
        self.postgres, self.path, self.stopped = postgres, path, False

    def next_reply(self, request: Request) -> Reply:
        if request.path == self.path and not self.stopped:
            self.stopped = True
            self.postgres.stop()
        return super().next_reply(request)


@pytest.fixture(scope="module")
def restartable_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this module's own, which its tests stop and resume."""
    with postgres_server() as postgres:
        yield postgres


@pytest.fixture
def restartable(restartable_postgres: PostgresServer) -> Iterator[PostgresServer]:
    with Store.open(restartable_postgres.url) as store:
        store.downgrade("base")
        store.upgrade()
    yield restartable_postgres
    if not (restartable_postgres.data / "postmaster.pid").exists():
        restartable_postgres.resume()  # a test that failed while the server was stopped


def fixed_clock_poller(store: Store, fetcher: Fetcher) -> Poller:
    """One worker whose lease (10 minutes) never runs out: its clock stands still."""
    pipeline = Pipeline(matcher=shipped_rules(), store=store, now=lambda: MOMENT)
    return Poller(store=store, fetcher=fetcher, pipeline=pipeline,
                  now=lambda: MOMENT, lease=timedelta(minutes=10), owner="a")


def cut_poll(restartable: PostgresServer, server: StopsTheDatabase, worker: Poller) -> None:
    """A poll of 'wire' during which PostgreSQL stops (so its claim stays), then a restart."""
    with pytest.raises(StoreError):
        worker.poll(SourceSettings(name="wire", url=server.url("/feed")))
    restartable.resume()
    assert rows(restartable.url, "SELECT poll_owner FROM sources WHERE name = 'wire'") == [
        ("a:1",)]


def test_after_a_database_restart_the_worker_polls_its_own_source_at_once(restartable):
    """The poll's release failed, and its claim (10 minutes) is this worker's own with no
    poll of it in progress: stale, taken back by the next poll instead of 'being polled
    by another worker' until the lease runs out."""
    with StopsTheDatabase(restartable, "/feed") as server, Store.open(restartable.url) as store, \
            Fetcher(now=lambda: MOMENT) as fetcher:
        server.route("/feed", Reply(200, feed(server, 2)))
        worker = fixed_clock_poller(store, fetcher)
        cut_poll(restartable, server, worker)
        again = worker.poll(SourceSettings(name="wire", url=server.url("/feed")))
    assert (again.outcome, again.new_articles, again.message) == ("ok", 2, "")
    assert len(server.requests_to("/feed")) == 2


def test_a_release_that_failed_is_retried_before_the_next_poll(restartable):
    """Other workers see the claim freed once the database is back, at this worker's
    next poll of any source, instead of waiting out the lease."""
    with StopsTheDatabase(restartable, "/feed") as server, Store.open(restartable.url) as store, \
            Fetcher(now=lambda: MOMENT) as fetcher:
        server.route("/feed", Reply(200, feed(server, 2)))
        server.route("/other", Reply(200, feed(server, 1)))
        worker = fixed_clock_poller(store, fetcher)
        cut_poll(restartable, server, worker)
        assert worker.poll(SourceSettings(name="other", url=server.url("/other"))).outcome == "ok"
    assert rows(restartable.url, "SELECT poll_owner, poll_lease_until FROM sources "
                "WHERE name = 'wire'") == [(None, None)]
