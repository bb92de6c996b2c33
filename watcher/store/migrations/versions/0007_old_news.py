"""Old news: when each source's baseline poll was recorded, and why a match was not
alerted as old news ('baseline', 'too old').

A source polled successfully before this revision has had its baseline (its entries were
alerted then): its `baseline_at` is its last success, so upgrading never silences it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as table:
        table.add_column(sa.Column("baseline_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("matches") as table:
        table.add_column(sa.Column("old_news", sa.Text(), nullable=True))
    op.execute("UPDATE sources SET baseline_at = last_success WHERE last_success IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("matches") as table:
        table.drop_column("old_news")
    with op.batch_alter_table("sources") as table:
        table.drop_column("baseline_at")
