"""The database schema as SQLAlchemy Core tables, and the UTC datetime column type.

Portable DDL only (SQLite and PostgreSQL); migrations/ must create exactly this.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from watcher.when import as_utc

# Fixed constraint names, so migrations can name what they alter on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class UTCDateTime(sa.TypeDecorator[datetime]):
    """A moment stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so the zone is dropped on the way in and put back on the way
    out; a naive value is taken as UTC, as the sources do.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = as_utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)




metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=nullable)


sources = sa.Table(
    "sources",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("url", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_poll", UTCDateTime),
    sa.Column("last_success", UTCDateTime),
    sa.Column("new_items", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("error_count", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text),
    sa.Column("disabled_reason", sa.Text),
    # 0002: polling state
    sa.Column("config_url", sa.Text),  # the url in watcher.yaml when `url` was set from it
    sa.Column("next_poll_after", UTCDateTime),  # backoff after errors, or Retry-After
    sa.Column("last_warning", sa.Text),  # why the last feed was malformed (entries kept)
    # 0004: a worker's claim on the source's poll (several workers on one database)
    sa.Column("poll_lease_until", UTCDateTime),
    sa.Column("poll_owner", sa.Text),
    # 0007: when the source's baseline poll (its first successful one with entries) was
    # recorded; NULL: none yet, so the next such poll is its baseline (not alerted)
    sa.Column("baseline_at", UTCDateTime),
)

stories = sa.Table(
    "stories",
    metadata,
    _id(),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Index(None, "first_seen", "id"),  # 0010: the inbox's newest-first pages
)

# 0010: full-text search over title and body, which SQLAlchemy cannot describe here: on
# SQLite the FTS5 table `articles_search` (filled by the ingest once per
# transaction since 0011, kept in step by triggers on delete and update), on PostgreSQL the GIN
# index `ix_articles_search` (watcher/store/search.py; tests/store/schema.py leaves both out).
articles = sa.Table(
    "articles",
    metadata,
    _id(),
    sa.Column("external_id", sa.Text, nullable=False),
    _fk("source_id", "sources.id"),
    sa.Column("guid", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("canonical_url", sa.Text, index=True),
    sa.Column("content_hash", sa.Text, nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime),
    sa.Column("fetched", UTCDateTime, nullable=False, index=True),
    _fk("story_id", "stories.id"),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Index(None, "story_id"),
    sa.Index(None, "source_id", "external_id"),
)

# One row per identity key; the primary key is what stops two processes storing one article.
article_keys = sa.Table(
    "article_keys",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    _fk("article_id", "articles.id"),
    sa.Index(None, "article_id"),
)

# LSH bands of each article's MinHash signature: near duplicates share at least one band.
# The article last in the index: the story search reads a band's newest articles first.
story_bands = sa.Table(
    "story_bands",
    metadata,
    _fk("article_id", "articles.id"),
    sa.Column("band_index", sa.Integer, nullable=False),
    sa.Column("band_hash", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("article_id", "band_index"),
    sa.Index(None, "band_index", "band_hash", "article_id"),
)

matches = sa.Table(
    "matches",
    metadata,
    _id(),
    sa.Column("rule_id", sa.Text, nullable=False),
    sa.Column("rule_version", sa.Text, nullable=False),
    _fk("article_id", "articles.id"),
    _fk("story_id", "stories.id"),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("spans", sa.JSON, nullable=False),
    sa.Column("snippet", sa.Text, nullable=False),
    sa.Column("matched_at", UTCDateTime, nullable=False, index=True),
    sa.Column("first_in_story", sa.Boolean, nullable=False),
    sa.Column("rule_title", sa.Text),  # the rule as it was when it fired, for the alert
    sa.Column("query", sa.Text),
    # The context labels of its words, [[label, [cue, ...]], ...] (NULL when stored before
    # they existed), and the labels that held it back, comma-separated: NULL when it was not.
    sa.Column("context", sa.JSON),
    sa.Column("held", sa.Text),
    # 0007: why its article was old news and not alerted ('baseline', 'too old'); NULL if not
    sa.Column("old_news", sa.Text),
    # 0008: the places it is located at, as they were when it was made: [{id, name, kind,
    # latitude, longitude, parents: [{id, name, kind}, ...]}, ...]; NULL when stored before
    sa.Column("places", sa.JSON),
    sa.UniqueConstraint("rule_id", "article_id"),
    sa.Index(None, "story_id", "rule_id"),
)

# 0008: every area a match lies in, one row per (match, place id): each of its places and
# each of their parents. `watcher matches --place` is then one indexed lookup of one id,
# whatever lies inside that place, on SQLite and PostgreSQL alike.
match_places = sa.Table(
    "match_places",
    metadata,
    _fk("match_id", "matches.id"),
    sa.Column("place_id", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("match_id", "place_id"),
    sa.Index(None, "place_id", "match_id"),
)

# The transactional outbox: written with the match, drained by the sender.
deliveries = sa.Table(
    "deliveries",
    metadata,
    _id(),
    _fk("match_id", "matches.id"),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("created", UTCDateTime, nullable=False),
    # A sender's claim: others leave the delivery alone until the lease runs out.
    sa.Column("lease_until", UTCDateTime),
    sa.Column("lease_owner", sa.Text),
    # Keys of the channel's URLs that already took this alert (JSON list): a retry after a
    # partial failure sends only to the others.
    sa.Column("done_targets", sa.Text),
    # 0009: the silence that held it back (status 'silenced'); it is never sent later
    sa.Column("silence_id", sa.Integer),
    sa.UniqueConstraint("match_id", "channel"),
    sa.CheckConstraint("status IN ('pending', 'sent', 'dead', 'silenced')", name="status"),
    sa.Index(None, "status", "next_attempt"),
)

# 0009: the team's workspace (docs/web.md). People who sign in, with a role each.
users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    # scrypt, "scrypt$n$r$p$salt$hash" (hex); NULL for a user who only signs in through
    # the trusted proxy
    sa.Column("password_hash", sa.Text),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime),
    sa.CheckConstraint("role IN ('viewer', 'analyst', 'admin')", name="role"),
)

# API and feed tokens: only their SHA-256 is kept; the token is printed once.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("last_used", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
)

# Signed-in browser sessions: the cookie holds a random token, the table its SHA-256 and
# the session's CSRF token, so signing out (or a user disabled) ends it on every process.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("csrf_token", sa.Text, nullable=False),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("expires", UTCDateTime, nullable=False),
)

# A story's triage state, shared by the team; a story without a row is open.
story_states = sa.Table(
    "story_states",
    metadata,
    sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id"), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    _fk("assignee_id", "users.id", nullable=True),
    sa.Column("updated", UTCDateTime, nullable=False),
    _fk("updated_by", "users.id", nullable=True),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name="status"),
    sa.Index(None, "status"),
)

story_comments = sa.Table(
    "story_comments",
    metadata,
    _id(),
    _fk("story_id", "stories.id"),
    _fk("user_id", "users.id"),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index(None, "story_id"),
)

# Every action a person takes in the workspace: who, when, what, before and after.
audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("actor", sa.Text, nullable=False),  # the user's name, kept if they are removed
    sa.Column("action", sa.Text, nullable=False),  # e.g. story.acknowledge, silence.create
    sa.Column("target", sa.Text, nullable=False),  # e.g. story:12, silence:3, user:ana
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
)

# Silences: while one is active, a delivery it matches is recorded `silenced`, never sent.
silences = sa.Table(
    "silences",
    metadata,
    _id(),
    # {"rule": ..., "tag": ..., "source": ..., "place": ..., "story": ...}: all given must hold
    sa.Column("matchers", sa.JSON, nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False, index=True),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("expired_by", sa.Text),  # who ended it early (ends_at is then that moment)
)
