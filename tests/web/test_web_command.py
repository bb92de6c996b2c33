"""`watcher web` as users start it: a separate process that says where it listens once it
does, serves the sign-in page there, and stops on Ctrl-C or SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import httpx

from tests.support.processes import start_watcher, stop_watchers


def test_it_serves_where_it_says_and_stops_on_ctrl_c(workdir: Path) -> None:
    process = start_watcher("--db", f"sqlite:///{workdir / 'w.db'}", "web", "--port", "0",
                            cwd=workdir)
    try:
        line = process.errors.wait_for("watcher web: http://127.0.0.1:")
        url = re.search(r"(http://\S+)", line)[1]
        with httpx.Client(timeout=60) as client:
            assert client.get(url + "signin").status_code == 200
            assert client.get(url).headers["location"] == "/signin?next=/"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        stop_watchers([process])


def test_a_port_already_taken_is_one_line(workdir: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = start_watcher("--db", f"sqlite:///{workdir / 'w.db'}", "web", "--port",
                                str(port), cwd=workdir)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 2
    assert errors == f"watcher: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_behind_the_sign_in_proxy_the_user_is_signed_in_whatever_x_forwarded_for_says(
    workdir: Path,
) -> None:
    """The proxy's header is believed by the connection's own address: a proxy sends the
    browser's address in X-Forwarded-For, and that must not hide that it is the proxy."""
    db = f"sqlite:///{workdir / 'w.db'}"
    (workdir / "watcher.yaml").write_text(
        "web:\n  proxy_header: X-Remote-User\n  trusted_proxies: [127.0.0.1/32]\n")
    added = start_watcher("--db", db, "users", "add", "ana", "--role", "analyst",
                          "--no-password", cwd=workdir)
    assert added.wait(timeout=60) == 0
    process = start_watcher("--db", db, "web", "--port", "0", cwd=workdir)
    try:
        url = re.search(r"(http://\S+)", process.errors.wait_for("watcher web: "))[1]
        with httpx.Client(timeout=60) as client:
            answer = client.get(url, headers={"X-Remote-User": "ana",
                                              "X-Forwarded-For": "203.0.113.7"})
        assert answer.status_code == 200 and "ana <small>(analyst)</small>" in answer.text
    finally:
        stop_watchers([process])
