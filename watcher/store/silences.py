"""Silences: a team's "stop telling us about this for a while", with who and why.

A silence holds matchers (rule, tag, source, place, story: every one given must hold), a
start and an end; while it is active the sender records a delivery it matches as
`silenced` instead of sending it (watcher/notify/outbox.py). Adding and expiring one are
recorded in the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from watcher.errors import WorkspaceError
from watcher.store import audit
from watcher.store.ids import is_id
from watcher.store.repo import Store
from watcher.store.tables import silences

MATCHERS = ("rule", "tag", "source", "place", "story")
Status = Literal["pending", "active", "expired"]
MAX_COMMENT = 1000  # a reason, not an essay; bounds what every page shows
MAX_VALUE = 200  # a rule id, tag, source name or place id
MAX_LENGTH = timedelta(days=90)  # longer than a season of noise is a rule change, not a silence
MAX_AHEAD = timedelta(days=90)  # a start further ahead is guesswork (and bounds every date)
RECENTLY = timedelta(days=7)  # how far back "recently expired" looks
MAX_LISTED = 1000  # the most silences of one status one listing returns


@dataclass(frozen=True)
class Listed:
    """Silences of one status, the first `limit` of them, and how many there are in all."""

    silences: list[Silence]
    total: int

    @property
    def more(self) -> int:
        """How many are left out."""
        return self.total - len(self.silences)


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: dict[str, str | int]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created: datetime
    expired_by: str | None = None

    def status(self, now: datetime) -> Status:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def silence_json(silence: Silence, now: datetime) -> dict[str, Any]:
    """The one JSON shape of a silence: the API's, `silences list --format jsonl`'s and
    the audit log's."""
    return {
        "id": silence.id,
        "matchers": dict(silence.matchers),
        "starts_at": iso(silence.starts_at),
        "ends_at": iso(silence.ends_at),
        "comment": silence.comment,
        "created_by": silence.created_by,
        "created": iso(silence.created),
        "expired_by": silence.expired_by,
        "status": silence.status(now),
    }


def check_matchers(given: dict[str, Any]) -> dict[str, str | int]:
    """The matchers as stored: known names only, at least one, blanks dropped, each value
    a short printable text (the story a positive number)."""
    unknown = sorted(set(given) - set(MATCHERS))
    if unknown:
        raise WorkspaceError(
            f"unknown matcher {unknown[0]!r}: a silence matches on {', '.join(MATCHERS)}")
    kept: dict[str, str | int] = {}
    for name in MATCHERS:
        value = given.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name == "story":
            kept[name] = _story(value)
            continue
        text = str(value).strip()
        if len(text) > MAX_VALUE or not text.isprintable():
            raise WorkspaceError(f"bad {name} {text[:40]!r}: at most {MAX_VALUE} printable "
                                 "characters")
        kept[name] = text
    if not kept:
        raise WorkspaceError(
            f"a silence needs at least one matcher: {', '.join(MATCHERS)}")
    return kept


def _story(value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not is_id(number) or isinstance(value, bool):
        raise WorkspaceError(f"bad story {value!r}: a story's number, as the inbox shows it")
    return number


def check_comment(comment: str | None) -> str:
    text = (comment or "").strip()
    if not text:
        raise WorkspaceError("a silence needs a comment: say why it is silenced")
    if len(text) > MAX_COMMENT:
        raise WorkspaceError(f"the comment is {len(text)} characters; at most {MAX_COMMENT}")
    return text


def check_start(starts_at: datetime, now: datetime) -> None:
    """A start at most MAX_AHEAD from now: what a silence's end is reckoned from."""
    if starts_at - now > MAX_AHEAD:
        raise WorkspaceError(f"a silence starts at most {MAX_AHEAD.days} days from now")


def check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    check_start(starts_at, now)
    if ends_at <= now:
        raise WorkspaceError("that end is in the past: a silence must end after now")
    if ends_at <= starts_at:
        raise WorkspaceError("a silence must end after it starts")
    if ends_at - starts_at > MAX_LENGTH:
        raise WorkspaceError(f"a silence lasts at most {MAX_LENGTH.days} days")


def silence_start(now: datetime, starts_at: datetime | None) -> datetime:
    """When a silence starts: `starts_at`, or now (to the second) when it is not given or
    already past."""
    return now.replace(microsecond=0) if starts_at is None or starts_at < now else starts_at


class Silences:
    """The silences in the store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self, matchers: dict[str, Any], *, ends_at: datetime, comment: str | None, author: str,
        now: datetime, starts_at: datetime | None = None,
    ) -> Silence:
        """A new silence from `starts_at` (now when not given or already past) to
        `ends_at`; WorkspaceError, in one line, for anything it cannot be."""
        kept = check_matchers(matchers)
        text = check_comment(comment)
        start = silence_start(now, starts_at)
        check_times(start, ends_at, now)
        if not author.strip():
            raise WorkspaceError("a silence needs its author")
        with self.store.writing() as connection:
            silence_id = connection.execute(sa.insert(silences).values(
                matchers=kept, starts_at=start, ends_at=ends_at, comment=text,
                created_by=author, created=now)).inserted_primary_key[0]
            silence = Silence(silence_id, kept, start, ends_at, text, author, now)
            audit.record(connection, now, author, "silence.create", f"silence:{silence_id}",
                         None, silence_json(silence, now))
        return silence

    def get(self, silence_id: int) -> Silence | None:
        with self.store.reading() as connection:
            row = connection.execute(
                sa.select(silences).where(silences.c.id == silence_id)).first()
        return None if row is None else _silence(row)

    def active(self, now: datetime) -> list[Silence]:
        """Those in force at `now`, oldest first: what the sender checks a delivery against."""
        query = (sa.select(silences)
                 .where(silences.c.starts_at <= now, silences.c.ends_at > now)
                 .order_by(silences.c.id))
        with self.store.reading() as connection:
            return [_silence(row) for row in connection.execute(query)]

    def listing(
        self, now: datetime, status: Status, *, expired_since: datetime | None = None,
        limit: int = MAX_LISTED,
    ) -> Listed:
        """The silences of one status, at most `limit` (one status never crowds out
        another): active ones ending soonest first, pending ones starting soonest first,
        expired ones ended since `expired_since` (all when None) newest end first."""
        limit = max(1, min(limit, MAX_LISTED))
        where, order = _of_status(now, status, expired_since)
        with self.store.reading() as connection:
            found = [_silence(row) for row in connection.execute(
                sa.select(silences).where(*where).order_by(*order).limit(limit))]
            total = len(found) if len(found) < limit else connection.execute(
                sa.select(sa.func.count()).select_from(silences).where(*where)).scalar_one()
        return Listed(found, total)

    def expire(self, silence_id: int, *, by: str, now: datetime) -> Silence:
        """End a silence now (a pending one never starts): it holds nothing back from this
        moment on; what it silenced stays silenced."""
        with self.store.writing() as connection:
            row = connection.execute(
                sa.select(silences).where(silences.c.id == silence_id)).first()
            if row is None:
                raise WorkspaceError(f"no silence {silence_id}")
            before = _silence(row)
            if before.ends_at <= now:
                raise WorkspaceError(
                    f"silence {silence_id} already ended at {iso(before.ends_at)}")
            start = min(before.starts_at, now)
            connection.execute(sa.update(silences).where(silences.c.id == silence_id)
                               .values(starts_at=start, ends_at=now, expired_by=by))
            after = Silence(before.id, before.matchers, start, now, before.comment,
                            before.created_by, before.created, by)
            audit.record(connection, now, by, "silence.expire", f"silence:{silence_id}",
                         silence_json(before, now), silence_json(after, now))
        return after


def _of_status(
    now: datetime, status: Status, expired_since: datetime | None
) -> tuple[list[sa.ColumnElement[bool]], list[sa.ColumnElement[Any]]]:
    """The conditions and order of a listing of one status (Silence.status, in SQL)."""
    if status == "active":
        return ([silences.c.starts_at <= now, silences.c.ends_at > now],
                [silences.c.ends_at, silences.c.id])
    if status == "pending":
        return [silences.c.starts_at > now], [silences.c.starts_at, silences.c.id]
    ended = [silences.c.ends_at <= now]
    if expired_since is not None:
        ended.append(silences.c.ends_at > expired_since)
    return ended, [silences.c.ends_at.desc(), silences.c.id.desc()]


def _silence(row: sa.Row[Any]) -> Silence:
    return Silence(row.id, dict(row.matchers), row.starts_at, row.ends_at, row.comment,
                   row.created_by, row.created, row.expired_by)
