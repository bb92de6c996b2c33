"""Triage: the team's shared state of a story (open, acknowledged, closed; who has it) and
its comments, changed for one story or many at once, each change in the audit log.

A bulk change is one transaction: every story changes, or (one unknown story, an unknown
assignee) none does. A story with no `story_states` row is open and unassigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watcher.errors import WorkspaceError
from watcher.store import audit
from watcher.store.accounts import RANK, User
from watcher.store.repo import Store
from watcher.store.tables import stories, story_comments, story_states, users

Status = Literal["open", "acknowledged", "closed"]
Action = Literal["acknowledge", "assign", "close", "reopen"]
ACTIONS: tuple[Action, ...] = get_args(Action)
# What each action makes of the status; None: the status stays (assign).
NEW_STATUS: dict[Action, Status | None] = {
    "acknowledge": "acknowledged", "assign": None, "close": "closed", "reopen": "open",
}
MAX_STORIES = 500  # one bulk action: a page of the inbox, with room to spare
MAX_COMMENT = 5000
MAX_COMMENTS_SHOWN = 200  # a story's comments shown, the newest


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    created: datetime
    body: str


@dataclass(frozen=True)
class StoryState:
    """What everyone sees of a story's triage; `updated` is None while nobody touched it."""

    story_id: int
    title: str
    status: Status
    assignee: str | None
    updated: datetime | None
    updated_by: str | None
    comments: tuple[Comment, ...] = ()

    def summary(self) -> dict[str, str | None]:
        """The part the audit log keeps before and after a change."""
        return {"status": self.status, "assignee": self.assignee}


class Triage:
    """Changes and reads stories' triage state in the store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def acknowledge(self, story_ids: Iterable[int], by: User, now: datetime) -> list[StoryState]:
        return self.apply("acknowledge", story_ids, by, now)

    def close(self, story_ids: Iterable[int], by: User, now: datetime) -> list[StoryState]:
        return self.apply("close", story_ids, by, now)

    def reopen(self, story_ids: Iterable[int], by: User, now: datetime) -> list[StoryState]:
        return self.apply("reopen", story_ids, by, now)

    def assign(
        self, story_ids: Iterable[int], assignee: str | None, by: User, now: datetime
    ) -> list[StoryState]:
        """Give the stories to the analyst or admin named `assignee`; None or "" unassigns."""
        return self.apply("assign", story_ids, by, now, assignee)

    def apply(
        self, action: str, story_ids: Iterable[int], by: User, now: datetime,
        assignee: str | None = None,
    ) -> list[StoryState]:
        """One action on every story, all or nothing; one audit entry per story. The states
        after, in the order the stories were given."""
        if action not in ACTIONS:
            raise WorkspaceError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
        ids = _chosen(story_ids)
        with self.store.writing() as connection:
            before = _states(connection, ids, lock=True)
            values: dict[str, object] = {"updated": now, "updated_by": by.id}
            if action == "assign":
                values["assignee_id"] = _assignee_id(connection, assignee) if assignee else None
            after = []
            for story_id in ids:
                old = before[story_id]
                status = NEW_STATUS[cast(Action, action)] or old.status
                _write_state(connection, story_id, {**values, "status": status})
                new = StoryState(story_id, old.title, status,
                                 (assignee or None) if action == "assign" else old.assignee,
                                 now, by.name)
                audit.record(connection, now, by.name, f"story.{action}", f"story:{story_id}",
                             old.summary(), new.summary())
                after.append(new)
        return after

    def comment(
        self, story_ids: Iterable[int], body: str, by: User, now: datetime
    ) -> list[Comment]:
        """The same comment on every story (1 to 5,000 characters), all or nothing."""
        text = body.strip()
        if not 1 <= len(text) <= MAX_COMMENT:
            raise WorkspaceError(f"a comment has 1 to {MAX_COMMENT} characters")
        ids = _chosen(story_ids)
        with self.store.writing() as connection:
            _states(connection, ids, lock=True)  # every story exists, or nothing is written
            added = []
            for story_id in ids:
                comment_id = connection.execute(sa.insert(story_comments).values(
                    story_id=story_id, user_id=by.id, created=now, body=text,
                )).inserted_primary_key[0]
                audit.record(connection, now, by.name, "story.comment", f"story:{story_id}",
                             None, {"comment": comment_id, "body": text})
                added.append(Comment(comment_id, by.name, now, text))
        return added

    def state(self, story_id: int) -> StoryState | None:
        """The story's state and its newest comments (oldest first); None: no such story."""
        with self.store.reading() as connection:
            found = _states(connection, [story_id], lock=False, missing_ok=True)
            if story_id not in found:
                return None
            rows = connection.execute(
                sa.select(story_comments.c.id, users.c.name, story_comments.c.created,
                          story_comments.c.body)
                .join(users, users.c.id == story_comments.c.user_id)
                .where(story_comments.c.story_id == story_id)
                .order_by(story_comments.c.id.desc()).limit(MAX_COMMENTS_SHOWN)
            ).all()
        comments = tuple(Comment(row.id, row.name, row.created, row.body)
                         for row in reversed(rows))
        state = found[story_id]
        return StoryState(state.story_id, state.title, state.status, state.assignee,
                          state.updated, state.updated_by, comments)

    def states(self, story_ids: Iterable[int]) -> dict[int, StoryState]:
        """Status and assignee of many stories at once (no comments), e.g. for a list;
        unknown ids are left out."""
        ids = list(dict.fromkeys(story_ids))[:MAX_STORIES]
        with self.store.reading() as connection:
            return _states(connection, ids, lock=False, missing_ok=True)

    def assignees(self) -> list[str]:
        """Who a story can be given to: the users who may triage (analysts and admins)."""
        with self.store.reading() as connection:
            rows = connection.execute(
                sa.select(users.c.name, users.c.role).where(users.c.disabled_at.is_(None))
                .order_by(users.c.name)
            ).all()
        return [row.name for row in rows if RANK[row.role] >= RANK["analyst"]]


def _chosen(story_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(story_ids))
    if not ids:
        raise WorkspaceError("no story chosen")
    if len(ids) > MAX_STORIES:
        raise WorkspaceError(f"at most {MAX_STORIES} stories at once, not {len(ids)}")
    return ids


def _states(
    connection: Connection, ids: Sequence[int], *, lock: bool, missing_ok: bool = False
) -> dict[int, StoryState]:
    """The stories' states; WorkspaceError naming the unknown ones unless `missing_ok`.
    `lock` takes the stories' rows (PostgreSQL), so two people changing one story at once
    take turns and each audit entry's `before` is what the change replaced."""
    assignee, author = users.alias("assignee"), users.alias("author")
    query = (
        sa.select(stories.c.id, stories.c.title, story_states.c.status,
                  story_states.c.updated, assignee.c.name.label("assignee"),
                  author.c.name.label("updated_by"))
        .outerjoin(story_states, story_states.c.story_id == stories.c.id)
        .outerjoin(assignee, assignee.c.id == story_states.c.assignee_id)
        .outerjoin(author, author.c.id == story_states.c.updated_by)
        .where(stories.c.id.in_(ids))
    )
    if lock:
        query = query.with_for_update(of=stories)
    found = {
        row.id: StoryState(row.id, row.title, row.status or "open", row.assignee,
                           row.updated, row.updated_by)
        for row in connection.execute(query)
    }
    unknown = [story_id for story_id in ids if story_id not in found]
    if unknown and not missing_ok:
        listed = ", ".join(str(story_id) for story_id in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise WorkspaceError(f"no story {listed}{more}: nothing was changed")
    return found


def _assignee_id(connection: Connection, name: str) -> int:
    row = connection.execute(
        sa.select(users.c.id, users.c.role)
        .where(users.c.name == name, users.c.disabled_at.is_(None))
    ).first()
    if row is None:
        raise WorkspaceError(f"no user {name!r}: nothing was changed")
    if RANK[row.role] < RANK["analyst"]:
        raise WorkspaceError(f"{name} is a {row.role} and cannot triage: nothing was changed")
    return int(row.id)


def _write_state(connection: Connection, story_id: int, values: dict[str, object]) -> None:
    """Update the story's row, or add it (a story without one was open and unassigned);
    its row is locked (PostgreSQL) or the write lock held (SQLite): nobody adds it between."""
    changed = connection.execute(
        sa.update(story_states).where(story_states.c.story_id == story_id).values(**values)
    ).rowcount
    if not changed:
        connection.execute(sa.insert(story_states).values(story_id=story_id, **values))
