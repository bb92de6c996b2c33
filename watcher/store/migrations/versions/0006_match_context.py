"""Context of a match: the labels its words carry (with their cue words) and the labels
that held it back (stored, never alerted).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("context", "held")


def upgrade() -> None:
    with op.batch_alter_table("matches") as table:
        table.add_column(sa.Column("context", sa.JSON(), nullable=True))
        table.add_column(sa.Column("held", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matches") as table:
        for column in reversed(COLUMNS):
            table.drop_column(column)
