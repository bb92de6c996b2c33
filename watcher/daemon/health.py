"""The HTTP endpoint of `watcher run`: GET /healthz and /livez for probes, GET /metrics for
Prometheus.

One thread waits on every connection at once (selectors) until its request has fully
arrived, and a few worker threads answer complete requests; requests are logged at debug
level only. Why not a thread per connection: 1,019 idle connections once held as many
threads and file descriptors, until rule reloads failed for want of descriptors. Here an
idle connection costs one descriptor and no thread; connections are capped
(MAX_CONNECTIONS), each must send its whole request within REQUEST_TIMEOUT of being
accepted (a deadline, not reset by each byte a slow client trickles), and request line and
headers are bounded (MAX_HEAD). When the cap is reached, the connection that has waited
longest without sending a whole request is closed to make room for the new one, so a probe
that sends its request at once is answered however many idle connections are open.

A complete request waits for a free worker at most REQUEST_TIMEOUT, else it is answered 503
by the connection loop (workers held by a stalled health check cannot answer it), and a
worker gives a client REQUEST_TIMEOUT to take the whole answer (a deadline too: a client
reading a byte at a time does not hold a worker longer), so handed-over connections free
their slots and workers in bounded time.
"""

from __future__ import annotations

import io
import logging
import re
import selectors
import socket
import struct
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from watcher.daemon.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from watcher.daemon.metrics import Metrics
from watcher.errors import ConfigError

log = logging.getLogger("watcher.health")

TEXT = "text/plain; charset=utf-8"
POLL_INTERVAL = 0.1  # how often the connection loop checks for stop(): bounds how long it takes
MAX_DISCARDED_BODY = 64 * 1024  # request bodies are read (and dropped) up to this size
MAX_CONNECTIONS = 64  # open connections at once, waiting for their request or being answered
REQUEST_TIMEOUT = 5.0  # seconds from accept to a whole request, in the queue, to write a reply
MAX_HEAD = 8 * 1024  # bytes of request line and headers
WORKERS = 4  # threads answering complete requests (a health check may wait on the database)
LISTEN_BACKLOG = 512  # connections the kernel holds until the loop accepts them
READ_CHUNK = 4096
WARNING_INTERVAL = 60.0  # seconds between two warnings of one kind (cap reached, accept failed)

HEAD_END = re.compile(rb"\r?\n\r?\n")
CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)

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
    Port 0 picks a free port; `port` tells which once started. `max_connections`,
    `request_timeout` (seconds) and `write_timeout` (seconds to write an answer, by default
    `request_timeout`) are the limits of the module docstring.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: Metrics,
        healthy: HealthCheck,
        alive: HealthCheck | None = None,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT,
        write_timeout: float | None = None,
    ) -> None:
        self.host = host
        self._configured_port = port
        self._metrics = metrics
        self._checks = {"/healthz": healthy, "/livez": alive or healthy}
        self._limits = _Limits(max_connections, request_timeout,
                               request_timeout if write_timeout is None else write_timeout)
        self._loop: _ConnectionLoop | None = None

    @property
    def port(self) -> int:
        """The port listened on once started; the configured one before."""
        if self._loop is None:
            return self._configured_port
        return self._loop.port

    @property
    def url(self) -> str:
        """Base URL of the endpoint, e.g. `http://127.0.0.1:9464`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in daemon threads; returns once connections are accepted.

        Raises HttpPortError when the address cannot be bound (in use, not permitted).
        """
        if self._loop is not None:
            raise RuntimeError("HealthServer is already started")
        listener = _listen(self.host, self._configured_port)
        self._loop = _ConnectionLoop(listener, self._limits, self.respond)
        self._loop.start()
        log.info("event=http_listening host=%s port=%d", self.host, self.port)

    def stop(self) -> None:
        """Stop serving and free the port (within about POLL_INTERVAL); safe to call twice."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        loop.stop()
        log.info("event=http_stopped host=%s port=%d", self.host, loop.port)

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




@dataclass(frozen=True)
class _Limits:
    """How many connections may be open at once, how long each may take to send its request
    (and then wait for a worker), and how long to take its answer."""

    max_connections: int
    request_timeout: float
    write_timeout: float

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1 (got {self.max_connections})")
        if self.request_timeout <= 0:
            raise ValueError(f"request_timeout must be positive (got {self.request_timeout})")
        if self.write_timeout <= 0:
            raise ValueError(f"write_timeout must be positive (got {self.write_timeout})")


def _listen(host: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking socket, or HttpPortError with the system's reason."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR lets a restart bind past the last run's TIME_WAIT connections; a port
        # another process listens on is still refused (no SO_REUSEPORT: never share a port).
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(LISTEN_BACKLOG)
    except OSError as error:
        listener.close()
        reason = (error.strerror or str(error)).lower()
        raise HttpPortError(host, port, reason) from error
    listener.setblocking(False)
    return listener


@dataclass(eq=False)
class _Connection:
    """One accepted socket and what it has sent so far."""

    sock: socket.socket
    client: Any
    deadline: float  # time.monotonic() by which the whole request must arrive, then a worker
    data: bytearray = field(default_factory=bytearray)
    refused: bool = False  # answered 414/431: what it still sends is read and dropped
    fd: int = field(init=False)  # kept: fileno() is -1 once closed

    def __post_init__(self) -> None:
        self.fd = self.sock.fileno()


class _Ready:
    """Complete requests waiting for a worker, oldest first. The loop drops those a worker has
    not taken by their deadline: a queue.Queue could not give them back."""

    def __init__(self) -> None:
        self._connections: deque[_Connection] = deque()
        self._changed = threading.Condition()
        self._stopping = False

    def put(self, connection: _Connection) -> None:
        with self._changed:
            self._connections.append(connection)
            self._changed.notify()

    def take(self) -> _Connection | None:
        """The oldest waiting connection; None once stopped and empty (the worker ends)."""
        with self._changed:
            while not self._connections and not self._stopping:
                self._changed.wait()
            return self._connections.popleft() if self._connections else None

    def overdue(self, now: float) -> list[_Connection]:
        """Remove and return the connections whose deadline has passed (deadlines are set
        at hand-over, so the oldest come first)."""
        with self._changed:
            overdue = []
            while self._connections and self._connections[0].deadline <= now:
                overdue.append(self._connections.popleft())
            return overdue

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()


class _Slots:
    """Open connections, counted across the loop (which opens them) and workers (which close)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._open >= self._limit:
                return False
            self._open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._open -= 1


def _request_size(data: bytes | bytearray, head_end: int) -> int:
    """Bytes the whole request takes: its head and a body up to MAX_DISCARDED_BODY (a larger
    one is not waited for: the handler ignores it)."""
    length = CONTENT_LENGTH.search(data, 0, head_end)
    body = int(length.group(1)) if length else 0
    return head_end + (body if body <= MAX_DISCARDED_BODY else 0)


def _plain_answer(status: int, reason: str, body: bytes) -> bytes:
    head = (f"HTTP/1.0 {status} {reason}\r\nContent-Type: {TEXT}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


BUSY = _plain_answer(503, "Service Unavailable", b"busy: no worker was free to answer\n")


def _refusal(data: bytes | bytearray) -> bytes:
    """The answer to a request whose line or headers exceed MAX_HEAD."""
    if b"\n" in data[:MAX_HEAD]:
        status, reason = 431, "Request Header Fields Too Large"
    else:
        status, reason = 414, "URI Too Long"
    body = f"request line and headers are limited to {MAX_HEAD} bytes\n".encode()
    return _plain_answer(status, reason, body)


class _ConnectionLoop:
    """Accepts connections and reads their requests on one thread; WORKERS threads answer.

    Threads are fixed (1 + WORKERS) whatever the number of clients, and descriptors bounded
    by max_connections + 2 (the listener and the selector).
    """

    def __init__(
        self, listener: socket.socket, limits: _Limits, respond: Callable[[str, str], Reply]
    ) -> None:
        self.respond = respond  # read by _Handler as self.server.respond
        self.write_timeout = limits.write_timeout  # and this as self.server.write_timeout
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._limits = limits
        self._selector = selectors.DefaultSelector()
        self._waiting: OrderedDict[int, _Connection] = OrderedDict()  # by accept = by deadline
        self._slots = _Slots(limits.max_connections)
        self._ready = _Ready()
        self._stopping = threading.Event()
        self._last_warnings: dict[str, float] = {}
        self._accepting_again_at: float | None = None  # while accept() is paused
        self._loop = threading.Thread(target=self._run, name=f"watcher-http-{self.port}",
                                      daemon=True)  # a stuck client never holds up exit
        self._workers = [
            threading.Thread(target=self._work, name=f"watcher-http-{self.port}-{number}",
                             daemon=True)
            for number in range(1, WORKERS + 1)
        ]

    def start(self) -> None:
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._loop.start()
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        """Close the listener and every waiting connection; workers end once idle."""
        self._stopping.set()
        self._loop.join(timeout=1.0)
        self._ready.stop()

    # The loop thread

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                for key, _ in self._selector.select(self._wait_time()):
                    if key.data is None:
                        self._accept()
                    elif self._waiting.get(key.data.fd) is key.data:  # not closed meanwhile
                        self._read(key.data)
                self._expire()
                self._resume_accepting()
        except Exception:  # a bug: say so loudly, the endpoint stops answering
            log.exception("event=http_loop_failed")
        finally:
            self._close_all()

    def _wait_time(self) -> float:
        if not self._waiting:
            return POLL_INTERVAL
        oldest = next(iter(self._waiting.values()))
        return max(0.0, min(POLL_INTERVAL, oldest.deadline - time.monotonic()))

    def _accept(self) -> None:
        """Accept a burst of pending connections (at most the cap, so reading goes on)."""
        for _ in range(self._limits.max_connections):
            try:
                sock, client = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as error:  # out of descriptors, say: the oldest waiting makes room
                self._warn("event=http_accept_failed error=%r", error)
                if not self._drop_oldest():
                    self._pause_accepting()
                return
            self._admit(sock, client)

    def _admit(self, sock: socket.socket, client: Any) -> None:
        if not self._slots.take():
            self._warn("event=http_connections_full max_connections=%d "
                       "action=closing_longest_waiting", self._limits.max_connections)
            if not self._drop_oldest():  # every open connection is being answered
                log.debug("event=http_connection_refused client=%s reason=full", client)
                sock.close()
                return
            if not self._slots.take():  # only this thread takes: the one just freed is ours
                raise RuntimeError("connection slot vanished")
        sock.setblocking(False)
        connection = _Connection(sock, client, time.monotonic() + self._limits.request_timeout)
        self._waiting[connection.fd] = connection
        self._selector.register(sock, selectors.EVENT_READ, connection)

    def _pause_accepting(self) -> None:
        """Leave pending connections to the kernel for POLL_INTERVAL: accept() fails with
        nothing of ours to free (the process is out of descriptors), and retrying at once
        would spin."""
        self._selector.unregister(self._listener)
        self._accepting_again_at = time.monotonic() + POLL_INTERVAL

    def _resume_accepting(self) -> None:
        if self._accepting_again_at is not None and time.monotonic() >= self._accepting_again_at:
            self._accepting_again_at = None
            self._selector.register(self._listener, selectors.EVENT_READ)

    def _warn(self, message: str, *args: object) -> None:
        """Log a warning at most once per WARNING_INTERVAL for each kind: a flood of
        connections must not become a flood of log lines."""
        now = time.monotonic()
        if now - self._last_warnings.get(message, -WARNING_INTERVAL) >= WARNING_INTERVAL:
            self._last_warnings[message] = now
            log.warning(message, *args)

    def _read(self, connection: _Connection) -> None:
        try:
            chunk = connection.sock.recv(READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as error:
            log.debug("event=http_connection_failed client=%s error=%r", connection.client, error)
            self._close(connection)
            return
        if not chunk:  # the client hung up before a whole request
            self._close(connection)
        elif not connection.refused:
            connection.data += chunk
            self._progress(connection)

    def _progress(self, connection: _Connection) -> None:
        head = HEAD_END.search(connection.data)
        if head is None and len(connection.data) <= MAX_HEAD:
            return  # more to come
        if head is None or head.end() > MAX_HEAD:
            self._refuse(connection)
        elif len(connection.data) >= _request_size(connection.data, head.end()):
            self._hand_over(connection)

    def _refuse(self, connection: _Connection) -> None:
        """Answer 414/431 and half-close; the rest of the request is read and dropped until
        the client hangs up or the deadline passes (closing unread input would reset the
        connection before the client reads the answer)."""
        log.debug("event=http_request_too_large client=%s", connection.client)
        try:
            connection.sock.send(_refusal(connection.data))
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # best effort: the deadline closes it anyway
        connection.refused = True
        connection.data.clear()

    def _hand_over(self, connection: _Connection) -> None:
        """Queue a complete request for the workers; a new deadline to be taken by one."""
        self._selector.unregister(connection.sock)
        del self._waiting[connection.fd]
        connection.deadline = time.monotonic() + self._limits.request_timeout
        self._ready.put(connection)

    def _expire(self) -> None:
        now = time.monotonic()
        for overdue in self._ready.overdue(now):
            self._answer_busy(overdue)
        while self._waiting:
            oldest = next(iter(self._waiting.values()))
            if oldest.deadline > now:
                return
            log.debug("event=http_connection_timed_out client=%s", oldest.client)
            self._close(oldest)

    def _answer_busy(self, connection: _Connection) -> None:
        """Answer 503 to a request no worker took in time (all were held by slow clients or a
        stalled check) and free its slot; best effort: the socket is non-blocking."""
        self._warn("event=http_workers_busy action=answering_503")
        try:
            connection.sock.send(BUSY)
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the client is gone or not reading: it is closed all the same
        connection.sock.close()
        self._slots.give_back()

    def _drop_oldest(self) -> bool:
        """Close the connection that has waited longest for its request; False if none."""
        if not self._waiting:
            return False
        oldest = next(iter(self._waiting.values()))
        log.debug("event=http_connection_dropped client=%s reason=full", oldest.client)
        self._close(oldest)
        return True

    def _close(self, connection: _Connection) -> None:
        self._selector.unregister(connection.sock)
        del self._waiting[connection.fd]
        connection.sock.close()
        self._slots.give_back()

    def _close_all(self) -> None:
        for connection in list(self._waiting.values()):
            self._close(connection)
        self._selector.close()
        self._listener.close()

    # Worker threads

    def _work(self) -> None:
        while (connection := self._ready.take()) is not None:
            try:
                _Handler(connection, connection.client, self)
            except OSError as error:  # the client hung up or stopped reading: routine
                log.debug("event=http_connection_failed client=%s error=%r",
                          connection.client, error)
            except Exception:
                log.exception("event=http_connection_failed client=%s", connection.client)
            finally:
                connection.sock.close()
                self._slots.give_back()


class _Handler(BaseHTTPRequestHandler):
    """Parses a request the loop has read whole, hands it to the responder, writes its Reply.

    HTTP/1.0: one request per connection, so an answered client holds no slot.
    """

    request: _Connection
    server: _ConnectionLoop  # type: ignore[assignment]
    server_version = "watcher"
    sys_version = ""

    def setup(self) -> None:
        self.connection = self.request.sock
        self.rfile = io.BytesIO(bytes(self.request.data))
        self.wfile = io.BytesIO()  # the whole answer, sent by finish() within the deadline

    def finish(self) -> None:
        """Send the answer within write_timeout of starting, however slowly the client reads."""
        deadline = time.monotonic() + self.server.write_timeout
        _send_before(self.connection, self.wfile.getvalue(), deadline)

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
        # The loop read the body with the head (up to MAX_DISCARDED_BODY); skip it here.
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


def _send_before(sock: socket.socket, data: bytes, deadline: float) -> None:
    """Send all of `data` by `deadline` (time.monotonic()), else TimeoutError. A timeout per
    send would be reset by every byte a slow reader takes; this one is not."""
    unsent = memoryview(data)
    try:
        while unsent:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the client took {len(data) - len(unsent)} of {len(data)} "
                                   "bytes of the answer before the deadline")
            sock.settimeout(remaining)
            unsent = unsent[sock.send(unsent):]
    except TimeoutError:
        # Reset on close: what the kernel still holds of the answer is dropped, not left for
        # the slow reader to take for as long as it likes.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise
