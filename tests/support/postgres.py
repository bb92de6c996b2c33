"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp cluster, loopback only.

Started once per test session; `.ci/run` installs the package and sets
WATCHER_REQUIRE_POSTGRES=1 so that a missing server fails CI instead of skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.helpers import free_port

DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
USER = "postgres"  # initdb refuses to run as root; Debian's package creates this user


def find_binaries() -> Path | None:
    """The newest installed PostgreSQL bin directory holding initdb, or None."""
    found = sorted(glob.glob(f"{DEBIAN_BINARIES}/initdb"), key=_major)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _major(path: str) -> int:
    version = Path(path).parent.parent.name
    return int(version) if version.isdigit() else 0


class PostgresServer:
    """initdb + pg_ctl start in `directory`, trust authentication, a free port on 127.0.0.1."""

    def __init__(self, binaries: Path, directory: Path) -> None:
        self.binaries = binaries
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """A new cluster, then the server."""
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8")
        self.resume()

    def resume(self) -> None:
        """Start the server on the existing cluster (after `stop`), on the same port."""
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.binaries / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.data.parent)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started server in a temporary directory, stopped and removed afterwards.

    Skips the test when PostgreSQL is not installed, except in CI, which sets
    WATCHER_REQUIRE_POSTGRES=1 and installs the package.
    """
    binaries = find_binaries()
    if binaries is None:
        if os.environ.get("WATCHER_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required but not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    # Not under pytest's tmp_path: its 0700 parents would keep the postgres user out.
    directory = Path(tempfile.mkdtemp(prefix="watcher-postgres-"))
    server = PostgresServer(binaries, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
