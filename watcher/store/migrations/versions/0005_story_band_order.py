"""Story bands indexed with their article last, so the story search reads only the newest
articles of each band (a band shared by thousands of near-identical items made every
ingest read them all).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("band_index", "band_hash")
NEW = ("band_index", "band_hash", "article_id")


def upgrade() -> None:
    _create(NEW)
    _drop(OLD)


def downgrade() -> None:
    _create(OLD)
    _drop(NEW)


def _name(columns: Sequence[str]) -> str:
    return op.f(f"ix_story_bands_{'_'.join(columns)}")


def _create(columns: Sequence[str]) -> None:
    op.create_index(_name(columns), "story_bands", list(columns), unique=False)


def _drop(columns: Sequence[str]) -> None:
    op.drop_index(_name(columns), table_name="story_bands")
