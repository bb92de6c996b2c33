"""The team's workspace: users, API tokens, browser sessions, story triage and comments,
the audit log, silences, and the `silenced` status of a delivery.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created", UTC, nullable=False),
        sa.Column("disabled_at", UTC, nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'analyst', 'admin')", name="ck_users_role"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("last_used", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "web_sessions",
        _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("expires", UTC, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_web_sessions_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_table(
        "story_states",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("updated", UTC, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed')",
                           name="ck_story_states_status"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name="fk_story_states_story_id_stories"),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"],
                                name="fk_story_states_assignee_id_users"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name="fk_story_states_updated_by_users"),
        sa.PrimaryKeyConstraint("story_id", name="pk_story_states"),
    )
    op.create_index("ix_story_states_status", "story_states", ["status"])
    op.create_table(
        "story_comments",
        _id(),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name="fk_story_comments_story_id_stories"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_story_comments_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_story_comments"),
    )
    op.create_index("ix_story_comments_story_id", "story_comments", ["story_id"])
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "silences",
        _id(),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("expired_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("silence_id", sa.Integer(), nullable=True))
        table.drop_constraint(op.f("ck_deliveries_status"), type_="check")
        table.create_check_constraint(
            "status", "status IN ('pending', 'sent', 'dead', 'silenced')"
        )


def downgrade() -> None:
    op.execute("UPDATE deliveries SET status = 'dead' WHERE status = 'silenced'")
    with op.batch_alter_table("deliveries") as table:
        table.drop_constraint(op.f("ck_deliveries_status"), type_="check")
        table.create_check_constraint("status", "status IN ('pending', 'sent', 'dead')")
        table.drop_column("silence_id")
    op.drop_index("ix_silences_ends_at", table_name="silences")
    op.drop_table("silences")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_story_comments_story_id", table_name="story_comments")
    op.drop_table("story_comments")
    op.drop_index("ix_story_states_status", table_name="story_states")
    op.drop_table("story_states")
    op.drop_table("web_sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
