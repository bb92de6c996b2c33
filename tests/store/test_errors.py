"""Failures a user can cause reach them as one StoreError line: corrupt, locked, unreachable.

SQLite only, apart from the URL tests (which reach no database at all): a corrupt or missing
file and a lock held past the busy timeout are SQLite's own failures. PostgreSQL's own one is
an unreachable server, tested without a server.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

from tests.store.builders import NOW, new_article, new_story
from watcher.errors import StoreError
from watcher.store import Store


def one_line(error: pytest.ExceptionInfo[StoreError]) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message and "[SQL" not in message
    assert error.value.__suppress_context__  # the SQLAlchemy chain is not printed either
    return message


# SQLite only: the database is a file a user can point at anything.
def test_a_corrupt_file_is_one_line(db_path: Path, db_url: str) -> None:
    db_path.write_bytes(b"this is not SQLite at all, just some garbage bytes " * 100)
    with pytest.raises(StoreError) as error:
        Store.open(db_url)
    assert one_line(error) == f"database {db_url}: file is not a database (corrupt, or not SQLite)"


# SQLite only: one writer per file, waited for up to the busy timeout; PostgreSQL has row locks.
def test_a_database_locked_past_the_timeout_at_open(db_path: Path, db_url: str) -> None:
    db_path.touch()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as error:
            Store.open(db_url, busy_timeout=0.2)
    finally:
        holder.close()
    assert one_line(error).endswith("locked by another process for more than 0.2 s")


# SQLite only: BEGIN IMMEDIATE under WAL, with a second connection holding the file's lock.
def test_a_write_locked_past_the_timeout(db_url: str, db_path: Path) -> None:
    Store.open(db_url).close()
    with Store.open(db_url, busy_timeout=0.2) as store:
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            assert store.articles() == []  # WAL: readers are not blocked by the writer
            with pytest.raises(StoreError) as error:
                store.ingest(new_article("a1"), [], new_story, NOW)
        finally:
            holder.close()
        assert "locked by another process for more than 0.2 s" in one_line(error)
        assert store.ingest(new_article("a1"), [], new_story, NOW).stored  # usable again


def test_an_unreachable_postgresql_server() -> None:
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
    with pytest.raises(StoreError) as error:
        Store.open(url)
    message = one_line(error)
    assert message.startswith("database postgresql+psycopg://u:****@127.0.0.1:1/x: ")
    assert "secret" not in message
    if importlib.util.find_spec("psycopg") is None:
        assert "the driver 'psycopg' is not installed (pip install 'psycopg[binary]')" in message
    else:
        assert "cannot connect" in message


def test_a_password_or_token_in_the_database_url_query_is_masked_too() -> None:
    """libpq takes `?password=` as well as `user:pw@`; every command prints the URL."""
    url = ("postgresql+psycopg://u@127.0.0.1:1/x?password=s3cretpw&sslmode=disable"
           "&sslpassword=k3ypass&authToken=t0kenval")
    with pytest.raises(StoreError) as error:
        Store.open(url)
    message = one_line(error)
    assert message.startswith("database postgresql+psycopg://u@127.0.0.1:1/x?authToken=****"
                              "&password=****&sslmode=disable&sslpassword=****: ")
    for secret in ("s3cretpw", "k3ypass", "t0kenval"):
        assert secret not in message


def test_a_one_letter_password_is_masked_in_the_url_and_not_through_the_message() -> None:
    with pytest.raises(StoreError) as error:
        Store.open("postgresql+psycopg://u:a@127.0.0.1:1/x")
    assert one_line(error).startswith("database postgresql+psycopg://u:****@127.0.0.1:1/x: ")
    if importlib.util.find_spec("psycopg") is not None:
        assert ": cannot connect: " in one_line(error)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@h:port/x?password=s3cretpw",
         "bad database URL 'postgresql://u:****@h:port/x?password=****': "),
        ("not a url", "bad database URL 'not a url': Could not parse SQLAlchemy URL"),
        ("nosuchdb://x/y", "database nosuchdb://x/y: unknown database type 'nosuchdb'"),
    ],
)
def test_bad_urls(url: str, expected: str) -> None:
    with pytest.raises(StoreError) as error:
        Store.open(url)
    assert one_line(error).startswith(expected)


# SQLite only: the file's directory must exist.
def test_a_missing_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/dir/watcher.db"
    with pytest.raises(StoreError) as error:
        Store.open(url)
    assert one_line(error) == f"database {url}: unable to open database file"
