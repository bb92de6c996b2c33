"""Ids in the workspace's addresses, bounded where they come in: a number beyond the
store's ids (watcher/store/ids.py) is refused in one line (400) before any query is made,
instead of failing in the database driver."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from watcher.store.ids import MAX_ID

StoryId = Annotated[int, Path(ge=1, le=MAX_ID, description="A story's number.")]
SilenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="A silence's number.")]
BeforeId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="older than this id")]
