"""A webhook receiver on 127.0.0.1 for apprise's `json://` targets: real sockets, no mocks.

Records every POSTed JSON body and its headers; `answer(status)` scripts the replies, `hold`
keeps them back until `release` (a send in progress, for as long as a test needs).
`RecordingServer` stands in for a chat service's API (Discord, Telegram, Slack, Matrix,
ntfy) and keeps the exact bytes of every request. `StallingServer` accepts connections and
never answers, for timeout tests of any protocol.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from tests.support.helpers import PATIENCE
from tests.support.http_server import LoopbackHTTP, LoopbackServer


class WebhookServer(LoopbackHTTP):
    """`with WebhookServer() as hook:` then send to `hook.url("/alerts")` (json://...)."""

    def __init__(self) -> None:
        self._posts: list[tuple[str, dict[str, Any]]] = []
        self._headers: list[dict[str, str]] = []  # of each post, names in lower case
        self._accepted: list[dict[str, Any]] = []  # the bodies answered with a 2xx
        self._status = 200
        self._arrived = threading.Condition()
        self._answer_first: int | None = None  # hold the replies to the posts after these
        self._released = threading.Event()
        super().__init__(_Handler)

    def stopping(self) -> None:
        self.release()  # no handler thread is left waiting

    def url(self, path: str = "/hook") -> str:
        """The apprise URL of this receiver (`json://` POSTs a JSON body over plain HTTP)."""
        return f"json://127.0.0.1:{self.port}{path}"

    def answer(self, status: int) -> None:
        """Reply `status` to every request from now on (until the next `answer`)."""
        with self._arrived:
            self._status = status

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every JSON body received, in arrival order, whatever the reply was."""
        with self._arrived:
            return [body for _, body in self._posts]

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """The bodies this receiver accepted (answered 2xx): what a sender may count sent."""
        with self._arrived:
            return list(self._accepted)

    @property
    def headers(self) -> list[dict[str, str]]:
        """The headers of every post, in arrival order; names in lower case."""
        with self._arrived:
            return list(self._headers)

    def hold(self, after: int = 0) -> None:
        """Answer the first `after` posts (counted since the server started), and keep the
        replies to the later ones back until `release()`: sends in progress."""
        with self._arrived:
            self._answer_first = after
            self._released.clear()

    def release(self) -> None:
        """Answer the held posts, and every later one at once."""
        with self._arrived:
            self._answer_first = None
        self._released.set()

    @property
    def paths(self) -> list[str]:
        with self._arrived:
            return [path for path, _ in self._posts]

    def wait_for(self, count: int, timeout: float = PATIENCE) -> list[dict[str, Any]]:
        """Block until at least `count` bodies arrived; fail the test after `timeout`."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._posts) >= count, timeout):
                raise AssertionError(f"{len(self._posts)} of {count} webhooks arrived")
            return [body for _, body in self._posts]

    def wait_for_accepted(self, count: int, timeout: float = PATIENCE) -> list[dict[str, Any]]:
        """Block until at least `count` bodies were accepted (answered 2xx); fail the test
        after `timeout`. The sender records a send after the reply reaches it."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._accepted) >= count, timeout):
                raise AssertionError(f"{len(self._accepted)} of {count} webhooks accepted")
            return list(self._accepted)

    def record(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        """Keep one request and say which status it gets, once a hold lets it go."""
        with self._arrived:
            self._posts.append((path, body))
            self._headers.append(headers)
            held = self._answer_first is not None and len(self._posts) > self._answer_first
            status = self._status
            if status < 300 and not held:
                self._accepted.append(body)
            self._arrived.notify_all()
        if held:
            self._released.wait()
            if status < 300:
                with self._arrived:
                    self._accepted.append(body)
                    self._arrived.notify_all()
        return status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        status = cast(WebhookServer, self.server.owner).record(self.path, body, headers)
        reply = b"{}" if status < 300 else b'{"error": "scripted failure"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: pytest shows the assertions, not an access log."""


class StallingServer:
    """Accepts connections and never answers: what a wedged SMTP or HTTP server looks like.
    `wait_connected(n)` blocks until n clients are stuck on it."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._held: list[socket.socket] = []  # open, never read nor written
        self._arrived = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed: the test is over
                return
            with self._arrived:
                self._held.append(connection)
                self._arrived.notify_all()

    @property
    def connected(self) -> int:
        with self._arrived:
            return len(self._held)

    def wait_connected(self, count: int, timeout: float = PATIENCE) -> None:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._held) >= count, timeout):
                raise AssertionError(f"{len(self._held)} of {count} clients connected")

    def __enter__(self) -> StallingServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._listener.close()
        with self._arrived:
            for connection in self._held:
                connection.close()


@dataclass(frozen=True)
class Received:
    """One request as it arrived: the exact bytes apprise built, and its JSON when it is."""

    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RecordingServer(LoopbackHTTP):
    """Any chat service's API on 127.0.0.1: records every request whatever its method, and
    answers each with the reply of the longest route its path starts with (`{}` else), so
    a test can play the few calls a plugin makes (log in, join, send) and read the bytes."""

    def __init__(self, routes: dict[str, bytes] | None = None, *, tls: Path | None = None) -> None:
        """`tls`: a directory to put a throwaway self-signed certificate in, for services
        apprise reaches only over https (Teams' workflows); the URL then needs `verify=no`."""
        self._routes = dict(routes or {})
        self._received: list[Received] = []
        self._lock = threading.Lock()
        super().__init__(_RecordingHandler)
        if tls is not None:
            self._server.socket = _tls_context(tls).wrap_socket(
                self._server.socket, server_side=True
            )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def sent_to(self, prefix: str) -> list[Received]:
        """The requests whose path starts with `prefix`, in arrival order."""
        return [request for request in self.received if request.path.startswith(prefix)]

    def record(self, request: Received) -> bytes:
        with self._lock:
            self._received.append(request)
        matching = [route for route in self._routes if request.path.startswith(route)]
        return self._routes[max(matching, key=len)] if matching else b"{}"


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = Received(self.command, self.path, self.rfile.read(length))
        reply = cast(RecordingServer, self.server.owner).record(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = _answer  # noqa: N815 (the names http.server dispatches to)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: pytest shows the assertions, not an access log."""


def _tls_context(directory: Path) -> ssl.SSLContext:
    """A server context with a new self-signed certificate for 127.0.0.1 (openssl CLI)."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1", "-days", "1"],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
