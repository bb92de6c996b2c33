"""A webhook receiver on 127.0.0.1 for apprise's `json://` targets: real sockets, no mocks.

Records every POSTed JSON body and its headers; `answer(status)` scripts the replies, `hold`
keeps them back until `release` (a send in progress, for as long as a test needs).
`StallingServer` accepts connections and never answers, for timeout tests of any protocol.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, cast

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

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least `count` bodies arrived; fail the test after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._posts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self._posts)} of {count} webhooks arrived")
                self._arrived.wait(left)
            return [body for _, body in self._posts]

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

    def wait_connected(self, count: int, timeout: float = 30.0) -> None:
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
