"""A static feed server for the feeds benchmark, run as its own process on 127.0.0.1.

`python -m bench.feeds_server DIRECTORY` serves DIRECTORY/NNN.xml at /feeds/NNN.xml
(HTTP/1.1 keep-alive, one thread per connection) with a strong ETag and a Last-Modified,
gzip when the client accepts it (bodies compressed once, at start), and 304 Not Modified
when If-None-Match names the current ETag. GET /stats answers the request counts as JSON;
GET /validators/off makes it ignore If-None-Match (a full 200 every time, as from a server
without conditional GET), /validators/on undoes that. GET /latency/MS makes every feed's
answer (200 or 304) wait MS milliseconds first, as a server across a network takes that
long to answer (`/latency/0`, the default: at once).
It prints its port on stdout once every file is loaded, and runs until killed.

A separate process, so the server's Python does not compete for the GIL of the process
under test (it still competes for the machine's cores, as a local server does).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.feeds_corpus import CONTENT_TYPE

PREFIX = "/feeds/"


@dataclass(frozen=True)
class Document:
    plain: bytes
    gzipped: bytes
    etag: str


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, directory: Path) -> None:
        super().__init__(("127.0.0.1", 0), FeedHandler)
        self.documents = {
            path.name: _document(path.read_bytes()) for path in sorted(directory.glob("*.xml"))
        }
        self.last_modified = formatdate(usegmt=True)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.honour_validators = True
        self.latency = 0.0  # seconds before a feed's answer

    def count(self, **increments: int) -> None:
        with self.lock:
            self.counts.update(increments)


def _document(content: bytes) -> Document:
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    return Document(content, gzip.compress(content, compresslevel=6, mtime=0), etag)


class FeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        if self.path == "/stats":
            with self.server.lock:
                body = json.dumps(dict(self.server.counts)).encode()
            self._reply(200, body, {"Content-Type": "application/json"})
            return
        if self.path in ("/validators/on", "/validators/off"):
            self.server.honour_validators = self.path.endswith("/on")
            self._reply(200, b"ok", {"Content-Type": "text/plain"})
            return
        if self.path.startswith("/latency/"):
            self.server.latency = int(self.path.removeprefix("/latency/")) / 1000
            self._reply(200, b"ok", {"Content-Type": "text/plain"})
            return
        document = self.server.documents.get(self.path.removeprefix(PREFIX))
        if not self.path.startswith(PREFIX) or document is None:
            self.server.count(not_found=1)
            self._reply(404, b"no such feed", {"Content-Type": "text/plain"})
            return
        if self.server.latency:
            time.sleep(self.server.latency)  # a thread per connection: the others go on
        headers = {"ETag": document.etag, "Last-Modified": self.server.last_modified}
        sent = self.headers.get("If-None-Match")
        tags = (tag.strip() for tag in sent.split(",")) if sent is not None else ()
        if self.server.honour_validators and document.etag in tags:
            self.server.count(requests=1, conditional=1, not_modified=1)
            self._reply(304, b"", headers)
            return
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
        body = document.gzipped if gzipped else document.plain
        headers |= {"Content-Type": CONTENT_TYPE, "Vary": "Accept-Encoding"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        self.server.count(requests=1, conditional=sent is not None, ok=1, body_bytes=len(body),
                          gzip=gzipped)
        self._reply(200, body, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """No access log: 1,000 requests per run."""


def main(argv: list[str]) -> None:
    server = FeedServer(Path(argv[0]))
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main(sys.argv[1:])
