"""The initial schema: sources, stories, articles and their keys and bands, matches, deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The column type of watcher.store.tables.UTCDateTime, spelled out so this file never changes.
UTC_DATETIME = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _ref(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def upgrade() -> None:
    _create_sources_and_stories()
    _create_articles()
    _create_matches()
    _create_deliveries()


def downgrade() -> None:
    for table in ("deliveries", "matches", "story_bands", "article_keys", "articles"):
        op.drop_table(table)
    op.drop_table("stories")
    op.drop_table("sources")


def _create_sources_and_stories() -> None:
    op.create_table(
        "sources",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_poll", UTC_DATETIME, nullable=True),
        sa.Column("last_success", UTC_DATETIME, nullable=True),
        sa.Column("new_items", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "stories",
        _id(),
        sa.Column("first_seen", UTC_DATETIME, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )


def _create_articles() -> None:
    op.create_table(
        "articles",
        _id(),
        sa.Column("external_id", sa.Text(), nullable=False),
        _ref("source_id"),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published", UTC_DATETIME, nullable=True),
        sa.Column("fetched", UTC_DATETIME, nullable=False),
        _ref("story_id"),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        _fk("source_id", "articles", "sources"),
        _fk("story_id", "articles", "stories"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    for columns in (("canonical_url",), ("content_hash",), ("fetched",), ("story_id",)):
        _index("articles", *columns)
    _index("articles", "source_id", "external_id")
    op.create_table(
        "article_keys",
        sa.Column("key", sa.Text(), nullable=False),
        _ref("article_id"),
        _fk("article_id", "article_keys", "articles"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_article_keys")),
    )
    _index("article_keys", "article_id")
    op.create_table(
        "story_bands",
        _ref("article_id"),
        sa.Column("band_index", sa.Integer(), nullable=False),
        sa.Column("band_hash", sa.BigInteger(), nullable=False),
        _fk("article_id", "story_bands", "articles"),
        sa.PrimaryKeyConstraint("article_id", "band_index", name=op.f("pk_story_bands")),
    )
    _index("story_bands", "band_index", "band_hash")


def _create_matches() -> None:
    op.create_table(
        "matches",
        _id(),
        sa.Column("rule_id", sa.Text(), nullable=False),
        sa.Column("rule_version", sa.Text(), nullable=False),
        _ref("article_id"),
        _ref("story_id"),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("matched_at", UTC_DATETIME, nullable=False),
        sa.Column("first_in_story", sa.Boolean(), nullable=False),
        _fk("article_id", "matches", "articles"),
        _fk("story_id", "matches", "stories"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("rule_id", "article_id", name=op.f("uq_matches_rule_id_article_id")),
    )
    _index("matches", "matched_at")
    _index("matches", "story_id", "rule_id")


def _create_deliveries() -> None:
    op.create_table(
        "deliveries",
        _id(),
        _ref("match_id"),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt", UTC_DATETIME, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("created", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'dead')", name=op.f("ck_deliveries_status")
        ),
        _fk("match_id", "deliveries", "matches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("match_id", "channel", name=op.f("uq_deliveries_match_id_channel")),
    )
    _index("deliveries", "status", "next_attempt")
