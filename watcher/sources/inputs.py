"""INPUT arguments of `watcher match`/`replay` as Articles: .jsonl, seed .txt, directories, stdin.

Owns the JSON-lines article format and reporting each unreadable input as an InputError.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from watcher.errors import InputError
from watcher.model import Article
from watcher.sources.files import unusable_reason
from watcher.sources.seeds import read_seed_file
from watcher.when import as_utc

JSONL_SOURCE = "jsonl"
STDIN_NAME = "<stdin>"
INPUT_SUFFIXES = (".jsonl", ".txt")
# Bytes read up front to tell a binary file (NUL bytes) from JSON lines, as git and grep do.
SNIFF_BYTES = 8192

Result = Article | InputError


def read_inputs(paths: Sequence[str], *, stdin: TextIO | None = None) -> Iterator[Result]:
    """Articles from every INPUT in order, with an InputError for each one that cannot be read.

    Errors are yielded, never raised, so one bad input never stops the others. `-` reads
    JSON lines from `stdin` (default: the process's standard input; that one is read through
    its byte buffer and decoded as UTF-8 whatever the locale says).
    """
    for arg in paths:
        if arg == "-":
            yield from _read_stdin(stdin)
        elif os.path.isdir(arg):
            yield from _read_directory(arg)
        else:
            yield from _read_file(arg)


def article_from_json(obj: Any, *, default_source: str = JSONL_SOURCE) -> Article:
    """The Article one JSON line describes; ValueError with a one-line reason when it is bad.

    `id`, `title` and `text` are required strings; `url`, `published` (ISO 8601, made
    timezone-aware UTC; a naive time is taken as UTC) and `source` are optional. Unknown
    keys are ignored so producers can add fields.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {_json_type(obj)}")
    article_id = _string_field(obj, "id", required=True) or ""
    if not article_id.strip():
        raise ValueError("field 'id' is empty")
    published = _string_field(obj, "published", required=False)
    return Article(
        id=article_id,
        title=_string_field(obj, "title", required=True) or "",
        body=_string_field(obj, "text", required=True) or "",
        url=_string_field(obj, "url", required=False),
        published=None if published is None else _parse_iso(published),
        source=_string_field(obj, "source", required=False) or default_source,
        guid=article_id,
    )


def _read_stdin(stdin: TextIO | None) -> Iterator[Result]:
    """JSON lines from stdin; the real stdin is read as bytes so its encoding is always UTF-8."""
    lines: Iterable[bytes | str] | None = stdin
    if (stdin is None or stdin is sys.stdin) and sys.stdin is not None:
        lines = getattr(sys.stdin, "buffer", sys.stdin)
    if lines is None:  # started without a standard input (e.g. a service)
        yield InputError(STDIN_NAME, "no standard input")
        return
    try:
        yield from _read_jsonl_lines(STDIN_NAME, lines, require_lines=False)
    except UnicodeDecodeError as exc:  # a text stream that could not decode its input
        yield InputError(STDIN_NAME, f"invalid text encoding: {exc.reason}; rest skipped")
    except OSError as exc:
        yield InputError(STDIN_NAME, f"cannot read: {exc.strerror or exc}")


def _read_directory(root: str) -> Iterator[Result]:
    """Every .jsonl and .txt file under `root`, recursively, in sorted path order."""
    problems: list[OSError] = []
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root, onerror=problems.append):
        subfolders.sort()
        found.extend(Path(folder, name) for name in files if _is_input_name(name))
    for exc in problems:
        yield InputError(exc.filename or root, f"cannot read: {exc.strerror or exc}")
    if not found and not problems:
        yield InputError(root, "no .jsonl or .txt files in directory")
    for path in sorted(found):
        if (kind := _special_kind(path)) is not None:
            # A pipe would block the walk until something writes to it: name it, go on.
            yield InputError(str(path), f"not a regular file ({kind}): skipped in a directory")
            continue
        # Ids come from the path under the directory, so sub/x.txt and other/x.txt differ.
        yield from _read_file(str(path), file_id=path.relative_to(root).with_suffix("").as_posix())


def _special_kind(path: Path) -> str | None:
    """'named pipe', 'socket' or 'device' for such a file; None for regular files (or
    ones that vanished, which _read_file reports)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return None


def _is_input_name(name: str) -> bool:
    """Whether a file name has a suffix read_inputs understands (any letter case)."""
    return name.lower().endswith(INPUT_SUFFIXES)


def _read_file(name: str, *, file_id: str | None = None) -> Iterator[Result]:
    """Articles of one .jsonl or .txt file, or an InputError saying why it was skipped."""
    if not os.path.exists(name):
        yield InputError(name, "no such file or directory")
    elif name.lower().endswith(".jsonl"):
        yield from _read_jsonl_file(name)
    elif name.lower().endswith(".txt"):
        try:
            yield from read_seed_file(name, file_id=file_id)
        except InputError as exc:
            yield exc
    else:
        suffix = Path(name).suffix or "no suffix"
        yield InputError(name, f"unsupported input ({suffix}): expected .jsonl, .txt, a dir or -")


def _read_jsonl_file(name: str) -> Iterator[Result]:
    """Stream one JSON-lines file line by line, after rejecting empty and binary files."""
    try:
        # A buffer at least SNIFF_BYTES long, so one peek sees them all (peek reads once).
        handle = open(name, "rb", buffering=max(SNIFF_BYTES, io.DEFAULT_BUFFER_SIZE))  # noqa: SIM115
    except OSError as exc:
        yield InputError(name, f"cannot read: {exc.strerror or exc}")
        return
    with handle:
        try:
            # Peek, not read and seek back: a named pipe given by name cannot seek.
            reason = unusable_reason(handle.peek(SNIFF_BYTES)[:SNIFF_BYTES])
            if reason is not None:
                yield InputError(name, reason)
                return
            yield from _read_jsonl_lines(name, handle, require_lines=True)
        except OSError as exc:
            yield InputError(name, f"cannot read: {exc.strerror or exc}")


def _read_jsonl_lines(
    name: str, lines: Iterable[bytes | str], *, require_lines: bool
) -> Iterator[Result]:
    """One Article per JSON line, or an InputError naming `name:line` and the reason.

    Blank lines are skipped; a bad line never stops the lines after it.
    """
    seen = False
    for number, raw in enumerate(lines, 1):
        try:
            article = _parse_jsonl_line(raw, first=number == 1)
        except ValueError as exc:
            yield InputError(f"{name}:{number}", str(exc))
            seen = True
            continue
        if article is not None:
            seen = True
            yield article
    if require_lines and not seen:
        yield InputError(name, "no JSON lines (only blank lines)")


def _parse_jsonl_line(raw: bytes | str, *, first: bool) -> Article | None:
    """The Article on one line, None for a blank line; ValueError with a short reason."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"invalid UTF-8 at byte {exc.start} of the line") from None
    else:
        text = raw
    if first:
        text = text.removeprefix("\ufeff")
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    return article_from_json(obj)


def _string_field(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    """A string-valued field; optional fields may be absent or null."""
    if key not in obj:
        if required:
            raise ValueError(f"missing required field {key!r}")
        return None
    value = obj[key]
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, got {_json_type(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # JSON allows lone surrogates (\ud800); text cannot hold them
        raise ValueError(f"field {key!r} is not valid Unicode (a lone surrogate)") from None
    return value


def _parse_iso(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; naive times are taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"field 'published' is not an ISO 8601 date: {_preview(text)}") from None
    try:
        return as_utc(parsed)
    except ValueError:  # 0001-01-01 east of UTC: before the first representable moment
        raise ValueError(f"field 'published' is out of range: {_preview(text)}") from None


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def _preview(text: str, limit: int = 60) -> str:
    """A quoted, shortened value so an error about a huge field stays one short line."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)
