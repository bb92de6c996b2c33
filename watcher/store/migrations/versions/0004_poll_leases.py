"""Poll leases: a worker claims a source's poll, so several workers on one database never
poll a feed twice at once, and a dead worker's claim runs out.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("poll_lease_until", "poll_owner")


def upgrade() -> None:
    with op.batch_alter_table("sources") as table:
        table.add_column(sa.Column("poll_lease_until", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("poll_owner", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as table:
        for column in reversed(COLUMNS):
            table.drop_column(column)
