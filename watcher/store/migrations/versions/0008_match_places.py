"""Places of a match: where it is located (a JSON column, as it was when matched) and every
area it lies in (table match_places), so `watcher matches --place` is one indexed lookup.

Matches stored before this revision have no places (NULL) and no rows: they are located
by no `--place`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matches") as table:
        table.add_column(sa.Column("places", sa.JSON(), nullable=True))
    op.create_table(
        "match_places",
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"],
                                name="fk_match_places_match_id_matches"),
        sa.PrimaryKeyConstraint("match_id", "place_id", name="pk_match_places"),
    )
    op.create_index("ix_match_places_place_id_match_id", "match_places",
                    ["place_id", "match_id"])


def downgrade() -> None:
    op.drop_index("ix_match_places_place_id_match_id", table_name="match_places")
    op.drop_table("match_places")
    with op.batch_alter_table("matches") as table:
        table.drop_column("places")
