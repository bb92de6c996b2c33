"""The HTTP endpoint of `watcher run`: GET /healthz and /livez for probes, GET /metrics for
Prometheus.

A stdlib threading HTTP server in a daemon thread; requests are logged at debug level only.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from watcher.errors import ConfigError
from watcher.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from watcher.metrics import Metrics

log = logging.getLogger(__name__)

TEXT = "text/plain; charset=utf-8"
POLL_INTERVAL = 0.1  # how often serve_forever checks for stop(): bounds how long stop() takes
MAX_DISCARDED_BODY = 64 * 1024  # request bodies are read (and dropped) up to this size

HealthCheck = Callable[[], tuple[bool, str]]


class HttpPortError(ConfigError):
    """The configured http host and port cannot be listened on (in use, not allowed, unknown)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"http.port {port} on {host}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


@dataclass(frozen=True)
class Reply:
    """One HTTP answer, decided apart from the socket so the routing reads as a table."""

    status: int
    body: bytes
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()


class HealthServer:
    """Serves `/healthz`, `/livez` and `/metrics` until stopped; a context manager too.

    `/healthz` answers 200 `ok` when `healthy()` returns `(True, _)`, else 503 with the
    reason as one line of text (a check that raises is unhealthy too); `/livez` the same
    for `alive()` (which defaults to `healthy`). `/metrics` answers the Prometheus text
    format. Other paths are 404, other methods on these 405.
    Port 0 picks a free port; `port` tells which once started.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: Metrics,
        healthy: HealthCheck,
        alive: HealthCheck | None = None,
    ) -> None:
        self.host = host
        self._configured_port = port
        self._metrics = metrics
        self._checks = {"/healthz": healthy, "/livez": alive or healthy}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on once started; the configured one before."""
        if self._server is None:
            return self._configured_port
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the endpoint, e.g. `http://127.0.0.1:9464`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in a daemon thread; returns once connections are accepted.

        Raises HttpPortError when the address cannot be bound (in use, not permitted).
        """
        if self._server is not None:
            raise RuntimeError("HealthServer is already started")
        self._server = _listen(self.host, self._configured_port, self.respond)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
            name=f"watcher-http-{self.port}", daemon=True,
        )
        self._thread.start()
        log.info("event=http_listening host=%s port=%d", self.host, self.port)

    def stop(self) -> None:
        """Stop serving and free the port (within about POLL_INTERVAL); safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(timeout=1.0)
        log.info("event=http_stopped host=%s port=%d", self.host, server.server_address[1])

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def respond(self, method: str, target: str) -> Reply:
        """The answer to `method target`, e.g. `GET /healthz`."""
        path = urlsplit(target).path
        if path not in self._checks and path != "/metrics":
            return Reply(404, b"not found\n")
        if method != "GET":
            return Reply(405, b"method not allowed\n", headers=(("Allow", "GET"),))
        check = self._checks.get(path)
        return self._scrape() if check is None else self._answer(check)

    def _answer(self, check: HealthCheck) -> Reply:
        try:
            ok, reason = check()
        except Exception as error:  # a broken check means we cannot vouch for the daemon
            log.warning("event=health_check_failed error=%r", error)
            return Reply(503, f"health check failed: {type(error).__name__}\n".encode())
        if ok:
            return Reply(200, b"ok\n")
        one_line = " ".join(reason.split()) or "unhealthy"
        return Reply(503, f"{one_line}\n".encode())

    def _scrape(self) -> Reply:
        return Reply(200, self._metrics.exposition(), content_type=METRICS_CONTENT_TYPE)


def _listen(host: str, port: int, respond: Callable[[str, str], Reply]) -> _Server:
    """A bound, listening server, or HttpPortError with the system's reason."""
    server_class = _Server6 if ":" in host else _Server
    try:
        return server_class((host, port), respond)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise HttpPortError(host, port, reason) from error


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that carries the responder and never shares its port."""

    allow_reuse_port = False  # SO_REUSEPORT would let a second daemon bind the same port
    daemon_threads = True  # a slow client never holds up stop()

    def __init__(self, address: tuple[str, int], respond: Callable[[str, str], Reply]) -> None:
        self.respond = respond
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on DNS; unused here.
        TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints these to stderr; a client hanging up is routine, the rest a bug.
        error = sys.exc_info()[1]
        level = logging.DEBUG if isinstance(error, ConnectionError) else logging.ERROR
        log.log(level, "event=http_connection_failed client=%s", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the server's responder and writes its Reply."""

    server: _Server
    server_version = "watcher"
    sys_version = ""
    timeout = 10  # seconds a client may take to send its request

    def do_GET(self) -> None:
        self._discard_body()
        try:
            reply = self.server.respond(self.command, self.path)
        except Exception:
            log.exception("event=http_handler_failed method=%s path=%s", self.command, self.path)
            reply = Reply(500, b"internal error\n")
        self._write(reply)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _discard_body(self) -> None:
        # Closing with unread bytes makes the kernel reset the connection before the client
        # reads our answer, so read what was sent (a probe never sends much).
        length = self.headers.get("Content-Length", "0")
        if length.isdigit() and 0 < int(length) <= MAX_DISCARDED_BODY:
            self.rfile.read(int(length))

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("event=http_request client=%s %s", self.address_string(), format % args)
