"""`watcher users add` and `watcher tokens add`: the password from standard input, the
token printed once and stored only as its hash."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.store.sql import rows
from watcher.cli.main import cli
from watcher.store import Store
from watcher.store.accounts import Accounts


def _run(db: str, *args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["--db", db, *args], input=stdin, catch_exceptions=False)


def test_a_user_added_on_the_command_line_signs_in_with_that_password(workdir: Path) -> None:
    db = f"sqlite:///{workdir / 'w.db'}"
    added = _run(db, "users", "add", "ana", "--role", "analyst", stdin="a long secret\n")
    assert added.exit_code == 0 and added.stdout == "added ana (analyst)\n"
    with Store.open(db) as store:
        assert Accounts(store).authenticate("ana", "a long secret").role == "analyst"
        assert Accounts(store).authenticate("ana", "a long secret\n") is None
    again = _run(db, "users", "add", "ana", "--role", "viewer", stdin="another secret\n")
    assert again.exit_code == 1 and again.stderr == "watcher: user 'ana' exists\n"
    assert _run(db, "users", "list").stdout == "ana\tanalyst\n"


def test_a_token_is_printed_once_and_only_its_hash_is_stored(workdir: Path) -> None:
    db = f"sqlite:///{workdir / 'w.db'}"
    _run(db, "users", "add", "vic", "--role", "viewer", stdin="a long secret\n")
    token = _run(db, "tokens", "add", "vic").stdout.strip()
    assert token.startswith("wt_") and len(token) > 40
    with Store.open(db) as store:
        assert Accounts(store).token_user(token, _now()).name == "vic"
    assert token not in str(rows(db, "SELECT * FROM api_tokens"))
    missing = _run(db, "tokens", "add", "nobody")
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.stderr


def _now():
    from datetime import UTC, datetime
    return datetime(2026, 3, 1, tzinfo=UTC)


def test_a_token_is_listed_and_revoked_alone(workdir: Path) -> None:
    db = f"sqlite:///{workdir / 'w.db'}"
    _run(db, "users", "add", "vic", "--role", "viewer", stdin="a long secret\n")
    reader, other = (_run(db, "tokens", "add", "vic").stdout.strip() for _ in range(2))
    listed = _run(db, "tokens", "list", "vic").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["1", "vic"], ["2", "vic"]]
    assert listed[0].endswith("last used never")
    revoked = _run(db, "tokens", "revoke", "1")
    assert revoked.exit_code == 0 and revoked.stdout == "revoked token 1 of vic\n"
    with Store.open(db) as store:
        accounts = Accounts(store)
        assert accounts.token_user(reader, _now()) is None  # that one stops at once
        assert accounts.token_user(other, _now()).name == "vic"  # the other goes on
    again = _run(db, "tokens", "revoke", "1")
    assert again.exit_code == 1 and again.stderr == "watcher: token 1 was revoked already\n"
    assert [line.split("\t")[0] for line in _run(db, "tokens", "list").stdout.splitlines()] == [
        "2"]
