"""Polling state of feeds: the configured URL (to notice a config change), when the next
poll may run (backoff, Retry-After), and the last warning (a malformed but usable feed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("config_url", "next_poll_after", "last_warning")


def upgrade() -> None:
    with op.batch_alter_table("sources") as table:  # batch: SQLite cannot drop columns
        table.add_column(sa.Column("config_url", sa.Text(), nullable=True))
        table.add_column(sa.Column("next_poll_after", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("last_warning", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as table:
        for column in reversed(COLUMNS):
            table.drop_column(column)
