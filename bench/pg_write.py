"""The PostgreSQL write path alone, round trips and articles/s: this tree against the code
before pipeline mode (issue 20, item 1: "on PostgreSQL the writes of an article in one or
two round trips").

FA-KES's ingest calls replayed into a new PostgreSQL database per pass, as
bench/store_write.py does (its `compare`, PostgreSQL only, no whole replay): the calls are
captured once per process from a real replay with the shipped rules, the baseline's code
runs in a process of its own, and their passes alternate. A round trip is the client
waiting for the server, counted in libpq's protocol trace of every connection (a server
message right after a client one): the pool's check of a connection, BEGIN, each statement
or each group of statements sent together in pipeline mode, COMMIT.

    python -m bench.run --only pgwrite
"""

from __future__ import annotations

from bench.sections import head
from bench.sizes import Sizes
from bench.store_write import WRITE_COLUMNS, WriteComparison, compare, write_rows
from bench.tables import markdown, plain

PG_WRITE_HEADING = "## PostgreSQL write path"
BASELINE = "dc89f3f"  # before pipeline mode: 6 round trips per new article
PASSES = 7
DATABASE = "PostgreSQL"


def measure_pg_write(sizes: Sizes, postgres_url: str | None = None) -> WriteComparison:
    """The part `make bench` runs: this tree against BASELINE (against HEAD with --quick,
    which measures nothing and must run in a shallow clone too)."""
    full = sizes.corpus_articles is None
    passes, revision = (PASSES, BASELINE) if full else (1, "HEAD")
    return compare(revision, passes, sizes.corpus_articles, postgres_url,
                   databases=(DATABASE,), replays=False)


def render_pg_write_table(done: WriteComparison) -> str:
    return "\n".join([f"{DATABASE}:", *plain(_COLUMNS, write_rows(done, DATABASE)),
                      f"this tree / baseline: {done.ratio(DATABASE):.2f}x; stored the same: "
                      f"{'yes' if done.same(DATABASE) else 'NO'}"])


def render_pg_write_markdown(done: WriteComparison) -> str:
    new, old = done.best(DATABASE, "this tree"), done.best(DATABASE, "baseline")
    lines = head(PG_WRITE_HEADING, "PostgreSQL write path", "pgwrite", done.machine,
                 f"baseline: git {done.revision}"
                 + (" (before pipeline mode)" if done.revision == BASELINE else ""))
    lines += [
        f"FA-KES's {done.calls} ingest calls (captured from a replay with the shipped rules "
        "and one default channel: analysis, matching and MinHash done before) replayed into "
        "a new PostgreSQL database per pass (Debian's server on 127.0.0.1, fsync off, as the "
        "tests run it), one process, as the pipeline makes them (`Store.ingest_batch` with "
        "the rest until all are taken); only the store's calls are timed. The baseline is "
        "the code at its revision (`git archive`) in a process of its own, the working tree "
        "in another, their passes alternating, so both see the same machine; best pass of "
        f"each (`python -m bench.run --only pgwrite`, bench/pg_write.py). Round trips: the "
        "client waiting for the server, counted in libpq's protocol trace of every "
        "connection (a server message right after a client one), per stored article: the "
        "pool's check of a connection, BEGIN, each statement, COMMIT, or each group of "
        "statements sent together in pipeline mode. Statements: SQLAlchemy's cursor events "
        "(on this tree fired for each statement sent in the pipeline too, BEGIN and COMMIT "
        "included), per stored article. Transactions: commits of SQLAlchemy's connections.",
        "",
        *markdown(_COLUMNS, write_rows(done, DATABASE)),
        "",
        f"This tree / baseline: **{done.ratio(DATABASE):.2f}x** the articles/s "
        f"({new.per_second:,.0f} against {old.per_second:,.0f}); "
        f"**{new.round_trips_per_article:.2f}** round trips per stored article against "
        f"{old.round_trips_per_article:.2f}. Each article is still a transaction of its "
        f"own ({new.transactions:,} against {old.transactions:,}). Stored the same in every "
        "pass (articles, their stories, which matches are first in them, deliveries "
        f"queued): {'yes' if done.same(DATABASE) else '**NO**'}.",
        "",
        "Where the round trips go on this tree (docs/storage.md, \"The write path\"): a new "
        "article is 2, BEGIN, its locks and the duplicate check with the story search sent "
        "together, then its one write with its COMMIT; one more when it joins a story with "
        "matches that may be first there (the story's lock and the read of the rules already "
        "first in it), one more when a first match's rule has a cooldown, and the pool's "
        "check of the connection once per batch of up to 32 articles (each still committed "
        "alone), not once per article.",
        "",
    ]
    return "\n".join(lines)


# The store write path's columns but its split of the time: a statement sent in pipeline
# mode returns at once, and the wait for the server comes with a later one.
_COLUMNS = [column for column in WRITE_COLUMNS
            if column.title not in ("database executing s", "COMMIT s", "rest s")]
