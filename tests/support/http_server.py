"""Loopback HTTP servers for tests (LoopbackHTTP), a scripted one for the fetcher's tests
(ScriptedServer), one that holds a request until the test lets it go (HeldServer), and one
that counts the requests a client has in flight at once (GatedServer): real sockets on
127.0.0.1, no mocks.

Each path plays its replies in order (the last one repeats); every request is recorded,
and `wait_for_requests` waits for them as they arrive.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, Self, cast

from tests.support.helpers import PATIENCE

Framing = Literal["length", "chunked", "close"]


@dataclass(frozen=True)
class Reply:
    """One scripted response.

    framing: "length" (Content-Length, `content_length` to declare another number),
    "chunked" (Transfer-Encoding) or "close" (no length: the body ends when the connection
    does). The body goes out in `chunk_size` pieces with `pause` seconds between them:
    a small chunk_size and pause make a trickle, a long pause a stall mid-body.
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    framing: Framing = "length"
    content_length: int | None = None
    chunk_size: int = 64 * 1024
    pause: float = 0.0


@dataclass(frozen=True)
class Request:
    """What the server received; header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]


class LoopbackHTTP:
    """A threaded HTTP server on 127.0.0.1 at a free port, serving while the `with` lasts;
    its handler reaches this object as `self.server.owner`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = LoopbackServer(("127.0.0.1", 0), handler)
        self._server.owner = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping()
        self._server.shutdown()
        self._server.server_close()

    def stopping(self) -> None:
        """Called before the server shuts down: wake whatever a handler waits for."""


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: LoopbackHTTP

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-body is what several tests do on purpose."""


class ScriptedServer(LoopbackHTTP):
    """`route(path, *replies)`, then point the code under test at `url(path)`. With `tls`
    (a server-side context holding a certificate), it speaks HTTPS."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Request] = []
        self._routes: dict[str, list[Reply]] = {}
        self._arrived = threading.Condition()  # guards the above; told of every request
        self._stopping = threading.Event()
        super().__init__(_Handler)
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)

    def stopping(self) -> None:
        self._stopping.set()  # wakes replies that are pausing mid-body

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> None:
        with self._arrived:
            self._routes[path] = list(replies)

    def requests_to(self, path: str) -> list[Request]:
        with self._arrived:
            return self._to(path)

    def wait_for_requests(self, path: str, count: int, timeout: float = PATIENCE) -> list[Request]:
        """Block until at least `count` requests to `path` arrived (their replies may still
        be on their way); fail the test after `timeout`. Those requests, in arrival order."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._to(path)) >= count, timeout):
                raise AssertionError(f"{len(self._to(path))} of {count} requests to {path} "
                                     "arrived")
            return self._to(path)

    def _to(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def next_reply(self, request: Request) -> Reply:
        """Record the request and pick its reply: unknown paths get a 404."""
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
            replies = self._routes.get(request.path)
            if not replies:
                return Reply(status=404, body=b"no such route")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def pause(self, seconds: float) -> bool:
        """Wait between chunks; False when the server is stopping and the reply should end."""
        return not self._stopping.wait(seconds)


class HeldServer(ScriptedServer):
    """Holds the first request to each path given to `hold` until `let_go(path)`: a fetch
    in progress for exactly as long as the test needs. `arrived(path)` waits for it."""

    def __init__(self) -> None:
        super().__init__()
        self._held: dict[str, tuple[threading.Event, threading.Event]] = {}

    def hold(self, *paths: str) -> None:
        for path in paths:
            self._held[path] = (threading.Event(), threading.Event())

    def arrived(self, path: str) -> None:
        assert self._held[path][0].wait(60), f"no request for {path}"

    def let_go(self, *paths: str) -> None:
        for path in paths:
            self._held[path][1].set()

    def stopping(self) -> None:
        for _, released in self._held.values():
            released.set()
        super().stopping()

    def next_reply(self, request: Request) -> Reply:
        reply = super().next_reply(request)
        gates = self._held.get(request.path)
        if gates is not None and not gates[0].is_set():  # the first request only
            gates[0].set()
            gates[1].wait(60)
        return reply


class GatedServer(ScriptedServer):
    """Holds every request until `opens_at` requests are held at once, then lets them all
    go, and every later one at once: a client that keeps that many requests in flight gets
    through, one that keeps fewer is held until `timeout` (then the gate opens, so the test
    can say what it saw). `most_held` is the most requests held at once, counted from
    arrival until the reply is let go (before it is sent, so a client that sends its next
    request only after an answer never counts twice)."""

    def __init__(self, opens_at: int, timeout: float = PATIENCE) -> None:
        super().__init__()
        self.opens_at = opens_at
        self.timeout = timeout
        self.held = 0
        self.most_held = 0
        self.opened = threading.Event()

    def stopping(self) -> None:
        self.opened.set()
        super().stopping()

    def next_reply(self, request: Request) -> Reply:
        reply = super().next_reply(request)
        with self._arrived:
            self.held += 1
            self.most_held = max(self.most_held, self.held)
            if self.held >= self.opens_at:
                self.opened.set()
        if not self.opened.wait(self.timeout):
            self.opened.set()  # the client never had enough in flight: let the test see it
        with self._arrived:
            self.held -= 1
        return reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    @property
    def script(self) -> ScriptedServer:
        return cast(ScriptedServer, self.server.owner)

    def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.script.next_reply(Request("GET", self.path, headers))
        try:
            self._send_head(reply)
            self._send_body(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_head(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif reply.framing == "length":
            length = len(reply.body) if reply.content_length is None else reply.content_length
            self.send_header("Content-Length", str(length))
            # a length that lies leaves the client waiting: hang up so it notices
            self.close_connection = length != len(reply.body)
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def _send_body(self, reply: Reply) -> None:
        chunked = reply.framing == "chunked"
        for start in range(0, len(reply.body), reply.chunk_size):
            if start and reply.pause and not self.script.pause(reply.pause):
                self.close_connection = True
                return
            piece = reply.body[start : start + reply.chunk_size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: pytest shows the assertions, not an access log."""


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TricklingServer(LoopbackHTTP):
    """Answers every request with a status line, then header bytes one at a time, `pause`
    seconds apart, each byte well within any read timeout; after `header_bytes` of them (or when
    the server stops) the headers end and an empty body follows, so a client without a
    deadline finishes (late) instead of hanging. `requests` counts the requests it got."""

    def __init__(self, pause: float = 0.05, header_bytes: int = 200) -> None:
        self.pause = pause
        self.header_bytes = header_bytes
        self.requests = 0
        self._count = threading.Lock()
        self._stopped = threading.Event()
        super().__init__(_TrickleHandler)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stopping(self) -> None:
        self._stopped.set()

    def trickle(self, write: Callable[[bytes], object]) -> None:
        """Write one header byte per pause until the server stops or the client hangs up."""
        with self._count:
            self.requests += 1
        write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(self.header_bytes):
            if self._stopped.wait(self.pause):
                break
            write(b"a")
        write(b"\r\nContent-Length: 0\r\n\r\n")


class _TrickleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        owner = cast(TricklingServer, self.server.owner)

        def write(data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client left
            owner.trickle(write)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet, as the scripted server is."""
