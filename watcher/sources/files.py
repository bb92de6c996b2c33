"""What every file-based source checks first: is it text at all.

Shared by the seed reader and the JSON-lines reader so both say the same thing.
"""

from __future__ import annotations


def unusable_reason(head: bytes) -> str | None:
    """Why a file starting with `head` cannot be an input (empty, binary), or None."""
    if not head:
        return "empty file"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16's byte order marks
        return "UTF-16 text: save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"
    if b"\0" in head:
        return "binary file (contains NUL bytes)"
    return None

