"""The health and metrics endpoint of `watcher run`, exercised with real HTTP on 127.0.0.1.

Clocks and daemon state are injected, so every value asserted is exact.
"""

from __future__ import annotations

import http.client
import math
import os
import selectors
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.support.helpers import PATIENCE
from watcher.daemon.health import WORKERS, HealthCheck, HealthServer, HttpPortError
from watcher.daemon.metrics import Metrics
from watcher.errors import ConfigError

HOST = "127.0.0.1"
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Daemon:
    """The state the endpoint reads, as the daemon would hold it."""

    now: datetime = START
    pending: int = 0
    last_successes: dict[str, datetime | None] = field(default_factory=dict)
    health: tuple[bool, str] = (True, "")

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def request(server: HealthServer, path: str, method: str = "GET", body: bytes | None = None
            ) -> Response:
    """One real HTTP request (http.client: no proxies, no exceptions for 4xx/5xx)."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=PATIENCE)
    try:
        connection.request(method, path, body=body)
        answer = connection.getresponse()
        return Response(answer.status, dict(answer.getheaders()), answer.read())
    finally:
        connection.close()


def samples(exposition: bytes | str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by sample name and labels."""
    text = exposition.decode() if isinstance(exposition, bytes) else exposition
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Mapping[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return scraped[(name, frozenset(labels.items()))]


def metrics_for(daemon: Daemon, **options: object) -> Metrics:
    return Metrics(queue_depth=lambda: daemon.pending,
                   last_successes=lambda: daemon.last_successes,
                   now=lambda: daemon.now, **options)  # type: ignore[arg-type]


def server_for(daemon: Daemon, metrics: Metrics, port: int = 0) -> HealthServer:
    return HealthServer(HOST, port, metrics=metrics, healthy=lambda: daemon.health)


@pytest.fixture
def daemon() -> Daemon:
    return Daemon()


@pytest.fixture
def metrics(daemon: Daemon) -> Metrics:
    return metrics_for(daemon)


@pytest.fixture
def server(daemon: Daemon, metrics: Metrics) -> Iterator[HealthServer]:
    with server_for(daemon, metrics) as running:
        yield running


def scrape(server: HealthServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = request(server, "/metrics")
    assert response.status == 200
    return samples(response.body)


# /healthz


def test_healthz_answers_ok_when_the_daemon_is_healthy(server: HealthServer) -> None:
    response = request(server, "/healthz")
    assert (response.status, response.text) == (200, "ok\n")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_healthz_answers_503_with_the_reason_when_unhealthy(
    server: HealthServer, daemon: Daemon
) -> None:
    daemon.health = (False, "no source polled successfully for 2h")
    response = request(server, "/healthz")
    assert (response.status, response.text) == (503, "no source polled successfully for 2h\n")


def test_a_health_check_that_raises_is_unhealthy(daemon: Daemon, metrics: Metrics) -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("database gone")

    with HealthServer(HOST, 0, metrics=metrics, healthy=broken) as server:
        response = request(server, "/healthz")
    assert (response.status, response.text) == (503, "health check failed: RuntimeError\n")


def test_livez_answers_its_own_check_apart_from_healthz(daemon: Daemon, metrics: Metrics) -> None:
    alive = (True, "")
    with HealthServer(HOST, 0, metrics=metrics, healthy=lambda: daemon.health,
                      alive=lambda: alive) as server:
        daemon.health = (False, "database unreachable: database x: cannot connect")
        assert request(server, "/livez").status == 200
        assert request(server, "/healthz").status == 503
        alive = (False, "scheduler stopped")
        response = request(server, "/livez")
    assert (response.status, response.text) == (503, "scheduler stopped\n")


def test_livez_follows_healthz_when_no_liveness_check_is_given(
    server: HealthServer, daemon: Daemon
) -> None:
    assert request(server, "/livez").status == 200
    daemon.health = (False, "stopping")
    assert (request(server, "/livez").status, request(server, "/livez").text) == (
        503, "stopping\n")


def test_a_query_string_does_not_change_the_route(server: HealthServer) -> None:
    assert request(server, "/healthz?verbose=1").status == 200


# /metrics


def test_metrics_carry_the_prometheus_content_type(server: HealthServer) -> None:
    response = request(server, "/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST


def test_metrics_count_polls_articles_matches_and_reloads(
    server: HealthServer, metrics: Metrics
) -> None:
    metrics.poll_finished("aawsat", "ok", 0.2)
    metrics.poll_finished("aawsat", "ok", 0.3)
    metrics.poll_finished("aawsat", "not_modified", 0.1)
    metrics.poll_finished("rudaw", "error", 4.0)
    metrics.poll_finished("rudaw", "gone", 0.5)
    metrics.articles_stored("aawsat", 3)
    metrics.articles_stored("aawsat", 2)
    metrics.matched("aleppo-kurdish-siege")
    metrics.matched("aleppo-kurdish-siege")
    metrics.matched("qamishli-drone-strike")
    metrics.rules_loaded(42)
    metrics.reload_failed()

    got = scrape(server)
    assert value(got, "watcher_polls_total", source="aawsat", outcome="ok") == 2
    assert value(got, "watcher_polls_total", source="aawsat", outcome="not_modified") == 1
    assert value(got, "watcher_polls_total", source="rudaw", outcome="error") == 1
    assert value(got, "watcher_not_modified_total", source="aawsat") == 1
    assert value(got, "watcher_fetch_errors_total", source="rudaw") == 2  # error and gone
    assert value(got, "watcher_new_articles_total", source="aawsat") == 5
    assert value(got, "watcher_matches_total", rule="aleppo-kurdish-siege") == 2
    assert value(got, "watcher_matches_total", rule="qamishli-drone-strike") == 1
    assert value(got, "watcher_rules_loaded") == 42
    assert value(got, "watcher_rule_reload_errors_total") == 1


def test_poll_durations_are_a_histogram_per_source(server: HealthServer, metrics: Metrics) -> None:
    metrics.poll_finished("rudaw", "ok", 0.2)
    metrics.poll_finished("rudaw", "error", 4.0)

    got = scrape(server)
    assert value(got, "watcher_poll_seconds_count", source="rudaw") == 2
    assert value(got, "watcher_poll_seconds_sum", source="rudaw") == pytest.approx(4.2)
    assert value(got, "watcher_poll_seconds_bucket", source="rudaw", le="0.25") == 1
    assert value(got, "watcher_poll_seconds_bucket", source="rudaw", le="5.0") == 2


def test_seconds_since_last_success_is_computed_at_each_scrape(
    server: HealthServer, daemon: Daemon
) -> None:
    daemon.last_successes = {"aawsat": START - timedelta(seconds=30), "rudaw": None}

    first = scrape(server)
    daemon.advance(90)
    second = scrape(server)

    assert value(first, "watcher_seconds_since_last_success", source="aawsat") == 30
    assert value(second, "watcher_seconds_since_last_success", source="aawsat") == 120
    assert value(second, "watcher_seconds_since_last_success", source="rudaw") == math.inf


def test_a_success_newer_than_the_clock_counts_as_fresh(
    server: HealthServer, daemon: Daemon
) -> None:
    daemon.last_successes = {"aawsat": START + timedelta(seconds=5)}
    assert value(scrape(server), "watcher_seconds_since_last_success", source="aawsat") == 0


def test_queue_depth_is_read_from_the_daemon_at_each_scrape(
    server: HealthServer, daemon: Daemon
) -> None:
    daemon.pending = 7
    assert value(scrape(server), "watcher_queue_depth") == 7
    daemon.pending = 2
    assert value(scrape(server), "watcher_queue_depth") == 2


def test_a_failing_queue_depth_reports_nan_and_the_rest_still_scrapes(daemon: Daemon) -> None:
    def broken() -> int:
        raise RuntimeError("database locked")

    metrics = Metrics(queue_depth=broken, last_successes=lambda: daemon.last_successes,
                      now=lambda: daemon.now)
    metrics.matched("aleppo-kurdish-siege")
    with server_for(daemon, metrics) as server:
        got = scrape(server)
    assert math.isnan(value(got, "watcher_queue_depth"))
    assert value(got, "watcher_matches_total", rule="aleppo-kurdish-siege") == 1


def test_failing_last_successes_leave_only_that_gauge_empty(daemon: Daemon) -> None:
    def broken() -> Mapping[str, datetime | None]:
        raise RuntimeError("database locked")

    daemon.pending = 4
    metrics = Metrics(queue_depth=lambda: daemon.pending, last_successes=broken,
                      now=lambda: daemon.now)
    with server_for(daemon, metrics) as server:
        got = scrape(server)
    assert value(got, "watcher_queue_depth") == 4
    assert not [key for key in got if key[0] == "watcher_seconds_since_last_success"]


def test_a_naive_success_time_gives_nan_for_that_source_only(
    server: HealthServer, daemon: Daemon
) -> None:
    daemon.last_successes = {"aawsat": START - timedelta(seconds=60),
                             "naive": datetime(2026, 11, 23, 11, 0)}
    got = scrape(server)
    assert value(got, "watcher_seconds_since_last_success", source="aawsat") == 60
    assert math.isnan(value(got, "watcher_seconds_since_last_success", source="naive"))


# Metrics without HTTP


def test_named_sources_start_at_zero(daemon: Daemon) -> None:
    got = samples(metrics_for(daemon, sources=["aawsat"]).exposition())
    assert value(got, "watcher_polls_total", source="aawsat", outcome="gone") == 0
    assert value(got, "watcher_fetch_errors_total", source="aawsat") == 0
    assert value(got, "watcher_new_articles_total", source="aawsat") == 0


def test_each_metrics_instance_counts_on_its_own(daemon: Daemon) -> None:
    first, second = metrics_for(daemon), metrics_for(daemon)
    first.matched("aleppo-kurdish-siege")
    got = samples(second.exposition())
    assert ("watcher_matches_total", frozenset({("rule", "aleppo-kurdish-siege")})) not in got


def test_an_unknown_poll_outcome_is_a_bug(metrics: Metrics) -> None:
    with pytest.raises(ValueError, match="unknown poll outcome 'timeout'"):
        metrics.poll_finished("aawsat", "timeout", 1.0)  # type: ignore[arg-type]


# Routing and lifecycle


def test_unknown_paths_are_404(server: HealthServer) -> None:
    assert request(server, "/").status == 404
    assert request(server, "/metrics/extra").status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_other_methods_are_405(server: HealthServer, method: str) -> None:
    body = b"x" * 100 if method in ("POST", "PUT") else None
    for path in ("/metrics", "/healthz", "/livez"):
        response = request(server, path, method, body)
        assert response.status == 405
        assert response.headers["Allow"] == "GET"


def test_requests_are_not_logged_to_stderr(
    server: HealthServer, capfd: pytest.CaptureFixture[str]
) -> None:
    request(server, "/healthz")
    request(server, "/missing")
    assert capfd.readouterr().err == ""


def test_a_port_in_use_is_one_clear_error(server: HealthServer, metrics: Metrics) -> None:
    second = HealthServer(HOST, server.port, metrics=metrics, healthy=lambda: (True, ""))
    with pytest.raises(HttpPortError) as raised:
        second.start()
    assert isinstance(raised.value, ConfigError)
    assert str(raised.value) == f"http.port {server.port} on {HOST}: address already in use"


def test_stop_frees_the_port_promptly(daemon: Daemon, metrics: Metrics) -> None:
    """Once stop() returns, the port refuses connections and a restarted daemon binds it at
    once (asserted on the port, not on the wall clock)."""
    first = server_for(daemon, metrics)
    first.start()
    port = first.port
    first.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=5).close()

    with server_for(daemon, metrics, port=port) as second:
        assert second.port == port
        assert request(second, "/healthz").status == 200


def test_stop_twice_and_stop_before_start_are_harmless(daemon: Daemon, metrics: Metrics) -> None:
    """A stop before the start leaves the server startable; a second stop leaves the port
    closed and free for the next daemon."""
    server = server_for(daemon, metrics)
    server.stop()
    server.start()
    port = server.port
    assert request(server, "/healthz").status == 200
    server.stop()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=5).close()
    with server_for(daemon, metrics, port=port) as again:
        assert request(again, "/healthz").status == 200


def test_port_zero_picks_a_free_port(daemon: Daemon, metrics: Metrics) -> None:
    server = server_for(daemon, metrics)
    assert server.port == 0
    with server:
        assert server.port > 0
        assert server.url == f"http://{HOST}:{server.port}"



# Connection limits: idle and slow clients cannot starve the endpoint


def connect(server: HealthServer, timeout: float = PATIENCE) -> socket.socket:
    return socket.create_connection((HOST, server.port), timeout=timeout)


def read_until_closed(client: socket.socket) -> bytes:
    """All the server sends until it closes the connection (TimeoutError if it never does
    within the socket's timeout)."""
    received = bytearray()
    while chunk := client.recv(4096):
        received += chunk
    return bytes(received)


def wait_until_closed(clients: list[socket.socket], count: int) -> None:
    """Return once the server has closed `count` of `clients` (TimeoutError after PATIENCE)."""
    with selectors.DefaultSelector() as selector:
        for client in clients:
            selector.register(client, selectors.EVENT_READ)
        closed = 0
        while closed < count:
            ready = selector.select(timeout=PATIENCE)
            if not ready:
                raise TimeoutError(f"the server closed {closed} of {count} connections")
            for key, _ in ready:
                assert key.fileobj.recv(1) == b""  # type: ignore[union-attr]
                selector.unregister(key.fileobj)
                closed += 1


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_healthz_answers_while_hundreds_of_idle_connections_are_open(
    daemon: Daemon, metrics: Metrics
) -> None:
    threads_before, descriptors_before = threading.active_count(), open_descriptors()
    with HealthServer(HOST, 0, metrics=metrics, healthy=lambda: daemon.health,
                      max_connections=32, request_timeout=60) as server:
        idle = [connect(server) for _ in range(300)]
        try:
            response = request(server, "/healthz")
            threads, descriptors = threading.active_count(), open_descriptors()
            assert (response.status, response.text) == (200, "ok\n")
            # One loop thread and the workers, whatever the clients; the server's side of at
            # most 32 connections, its listener and its selector.
            assert threads <= threads_before + 1 + WORKERS
            assert descriptors <= descriptors_before + len(idle) + 32 + 2
            # Beyond the cap, the longest waiting are closed to make room.
            wait_until_closed(idle, len(idle) - 32)
        finally:
            for client in idle:
                client.close()


def test_a_silent_connection_is_closed_after_the_request_timeout(
    daemon: Daemon, metrics: Metrics
) -> None:
    with HealthServer(HOST, 0, metrics=metrics, healthy=lambda: daemon.health,
                      request_timeout=0.2) as server, connect(server) as silent:
        assert read_until_closed(silent) == b""
        assert request(server, "/healthz").status == 200


def test_a_client_trickling_its_request_is_closed_at_the_deadline(
    daemon: Daemon, metrics: Metrics
) -> None:
    # One byte every 50 ms would keep a per-read timeout of 200 ms from ever firing; the
    # whole-request deadline closes the connection after 200 ms, whatever the bytes.
    trickle = b"GET /healthz HTTP/1.0\r\nX-Padding: " + b"a" * 160
    with HealthServer(HOST, 0, metrics=metrics, healthy=lambda: daemon.health,
                      request_timeout=0.2) as server, connect(server, timeout=0.05) as slow:
        for byte in trickle:
            try:
                slow.sendall(bytes([byte]))
                if slow.recv(4096) == b"":
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                break
        else:
            pytest.fail("the server kept a trickling connection open past its deadline")


@pytest.mark.parametrize(("head", "status"), [
    (b"GET /healthz HTTP/1.0\r\nX-Padding: " + b"a" * 10_000 + b"\r\n\r\n", 431),
    (b"GET /" + b"a" * 10_000 + b" HTTP/1.0\r\n\r\n", 414),
])
def test_request_line_and_headers_are_bounded(
    server: HealthServer, head: bytes, status: int
) -> None:
    with connect(server) as client:
        client.sendall(head)
        answer = read_until_closed(client)
    assert answer.startswith(f"HTTP/1.0 {status} ".encode())
    assert answer.endswith(b"request line and headers are limited to 8192 bytes\n")
    assert request(server, "/healthz").status == 200


def test_beyond_the_cap_a_connection_is_closed_at_once_while_all_are_being_answered(
    metrics: Metrics
) -> None:
    checking, release = threading.Semaphore(0), threading.Event()
    with HealthServer(HOST, 0, metrics=metrics, healthy=stalled_check(checking, release),
                      max_connections=2, request_timeout=60) as server:
        busy = hold_workers(server, 2, "/healthz", checking)
        try:
            with connect(server) as extra:
                assert read_until_closed(extra) == b""
            release.set()
            for client in busy:
                assert read_until_closed(client).startswith(b"HTTP/1.0 200 ")
        finally:
            release.set()
            for client in busy:
                client.close()


def stalled_check(checking: threading.Semaphore, release: threading.Event) -> HealthCheck:
    """A check that hangs (a database that does not answer) until `release` is set."""

    def check() -> tuple[bool, str]:
        checking.release()
        release.wait(timeout=30)
        return True, ""

    return check


def hold_workers(server: HealthServer, count: int, path: str,
                 checking: threading.Semaphore) -> list[socket.socket]:
    """`count` connections whose requests are in a stalled check, holding as many workers."""
    held = []
    for _ in range(count):
        held.append(connect(server))
        held[-1].sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    for _ in held:
        assert checking.acquire(timeout=PATIENCE)
    return held


def test_a_request_no_worker_takes_in_time_is_answered_503_and_frees_its_slot(
    metrics: Metrics
) -> None:
    """Queued requests used to wait forever while a stalled check held every worker, and
    kept their slots: once the cap was reached every new probe was refused."""
    checking, release = threading.Semaphore(0), threading.Event()
    with HealthServer(HOST, 0, metrics=metrics, healthy=stalled_check(checking, release),
                      max_connections=WORKERS + 1, request_timeout=0.3) as server:
        held = hold_workers(server, WORKERS, "/healthz", checking)
        try:
            for _ in range(3):  # the one free slot, given back each time
                with connect(server) as queued:
                    queued.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
                    answer = read_until_closed(queued)
                assert answer.startswith(b"HTTP/1.0 503 ")
                assert answer.endswith(b"\r\n\r\nbusy: no worker was free to answer\n")
            release.set()
            for client in held:
                assert read_until_closed(client).startswith(b"HTTP/1.0 200 ")
        finally:
            release.set()
            for client in held:
                client.close()


def test_a_client_taking_its_answer_slowly_frees_its_worker_at_the_write_deadline(
    metrics: Metrics
) -> None:
    """Reading a little at a time kept a per-send timeout from firing (the kernel takes the
    answer in steps well under 0.6 s apart): the worker stayed with the slow reader for the
    whole answer, and with the other workers stalled no probe was answered meanwhile."""
    checking, release = threading.Semaphore(0), threading.Event()
    large = "x" * 48_000_000  # ~10 s to take at 5 MB/s, past the kernel's buffers
    with HealthServer(HOST, 0, metrics=metrics, healthy=lambda: (False, large),
                      alive=stalled_check(checking, release), request_timeout=60,
                      write_timeout=0.6) as server:
        held = hold_workers(server, WORKERS - 1, "/livez", checking)
        slow = connect(server, timeout=10)
        stop_reading, received = threading.Event(), bytearray()

        def read_slowly() -> None:  # 50 kB every 10 ms
            try:
                while not stop_reading.wait(0.01) and (chunk := slow.recv(50_000)):
                    received.extend(chunk)
            except OSError:
                pass  # reset: the server gave up on it

        reader = threading.Thread(target=read_slowly, daemon=True)
        try:
            slow.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            reader.start()
            response = request(server, "/metrics")  # the last worker is the slow reader's
            assert response.status == 200
            reader.join(timeout=PATIENCE)
            assert not reader.is_alive() and len(received) < len(large)  # cut off
        finally:
            stop_reading.set()
            release.set()
            slow.close()
            for client in held:
                client.close()
