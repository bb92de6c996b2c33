"""The outbox sender's columns: leases on deliveries, the targets already sent to, and the
rule's title and query kept with each match so an alert can show them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MATCH_COLUMNS = ("rule_title", "query")
DELIVERY_COLUMNS = ("lease_until", "lease_owner", "done_targets")


def upgrade() -> None:
    with op.batch_alter_table("matches") as table:  # batch: SQLite cannot drop columns
        table.add_column(sa.Column("rule_title", sa.Text(), nullable=True))
        table.add_column(sa.Column("query", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("lease_owner", sa.Text(), nullable=True))
        table.add_column(sa.Column("done_targets", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        for column in reversed(DELIVERY_COLUMNS):
            table.drop_column(column)
    with op.batch_alter_table("matches") as table:
        for column in reversed(MATCH_COLUMNS):
            table.drop_column(column)
