"""The checks behind /healthz: a real database asked, at most every few seconds."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from tests.support.helpers import PATIENCE
from watcher.daemon.probes import DatabaseCheck, all_of
from watcher.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counted(store: Store) -> tuple[list[int], object]:
    calls: list[int] = []

    def ping() -> None:
        calls.append(1)
        store.ping()

    return calls, ping


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_a_database_that_answers_is_healthy(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        assert DatabaseCheck(store.ping)() == (True, "ok")


def test_a_database_that_does_not_answer_is_one_line_without_its_url() -> None:
    """Anyone who reaches the probe port reads /healthz: the URL, masked or not, stays out."""
    port = _closed_port()
    url = (f"postgresql+psycopg://watcher:s3cret-pw@127.0.0.1:{port}/watcher"
           "?password=qu3ry-pw&sslmode=disable")
    store = Store.open(url, migrate_to_head=False)
    try:
        ok, reason = DatabaseCheck(store.ping)()
    finally:
        store.close()
    assert not ok
    assert reason.startswith("database unreachable: cannot connect: ")
    for part in ("postgresql", "watcher:", "/watcher", "s3cret-pw", "qu3ry-pw", "****"):
        assert part not in reason
    assert "\n" not in reason


def test_the_database_is_asked_at_most_once_per_interval(tmp_path: Path) -> None:
    clock = Clock()
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        calls, ping = counted(store)
        check = DatabaseCheck(ping, every=5.0, clock=clock)  # type: ignore[arg-type]
        assert [check() for _ in range(3)] == [(True, "ok")] * 3
        assert len(calls) == 1
        clock.now += 4.9
        check()
        assert len(calls) == 1
        clock.now += 0.2
        check()
        assert len(calls) == 2


def test_all_of_reports_the_first_failing_check() -> None:
    check = all_of(lambda: (True, "ok"), lambda: (False, "stopping"), lambda: (False, "other"))
    assert check() == (False, "stopping")
    assert all_of(lambda: (True, "ok"))() == (True, "ok")


def test_a_failure_that_is_not_a_store_error_is_one_line_too() -> None:
    def timed_out() -> None:
        raise TimeoutError("QueuePool limit of size 5 overflow 10 reached, postgresql://u:pw@h/db")

    assert DatabaseCheck(timed_out)() == (False, "database unreachable: TimeoutError")


def test_a_ping_that_hangs_is_reported_once_it_outlasts_the_interval() -> None:
    clock, release, pinging = Clock(), threading.Event(), threading.Event()

    def hanging() -> None:
        pinging.set()
        release.wait(10)

    check = DatabaseCheck(hanging, every=5.0, clock=clock)
    first = threading.Thread(target=check)
    first.start()
    assert pinging.wait(PATIENCE)
    assert check() == (False, "database check in progress")  # no answer yet: not vouched for
    clock.now += 6
    assert check() == (False, "database not answering for 6 s")
    release.set()
    first.join(PATIENCE)
    assert check()[0]  # the ping came back: its answer, fresh for the next 5 s
