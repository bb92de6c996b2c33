"""The range of the store's ids: its id columns are INTEGER, 32-bit on PostgreSQL (SQLite's
hold 64 bits), so no row of either has an id above 2**31 - 1.

A number outside the range is no row of ours, yet the database drivers fail on it
(PostgreSQL's "integer out of range", SQLite's OverflowError beyond 64 bits) rather than
find nothing: so ids typed by people are checked against it where they come in
(addresses, forms, page cursors) and refused in one line.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1


def is_id(number: int) -> bool:
    """Whether `number` can be a row's id: 1 to MAX_ID."""
    return 1 <= number <= MAX_ID
