"""read_inputs: every INPUT form, and every unreadable input reported while the rest is read."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.errors import InputError
from watcher.model import Article
from watcher.sources.inputs import article_from_json, read_inputs

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MB = 1024 * 1024


def line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False) + "\n"


def good(n: int) -> str:
    return line(id=f"a{n}", title=f"Title {n}", text=f"Body {n}.")


def run(*paths: str | Path, stdin: io.StringIO | None = None) -> list[Article | InputError]:
    return list(read_inputs([str(p) for p in paths], stdin=stdin))


def ids(results: list[Article | InputError]) -> list[str]:
    return [r.id for r in results if isinstance(r, Article)]


def errors(results: list[Article | InputError]) -> list[str]:
    return [str(r) for r in results if isinstance(r, InputError)]


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        good(1)
        + "{not json\n"
        + "[1, 2]\n"
        + "\n"
        + line(title="t", text="x")
        + line(id="a5", title=7, text="x")
        + line(id="a6", title="t", text="x", published="yesterday")
        + line(id="  ", title="t", text="x")
        + line(id="a9x", title="t", text="x", published="0001-01-01T00:00:00+05:00")
        + good(9),
        encoding="utf-8",
    )
    results = run(path)
    assert ids(results) == ["a1", "a9"]
    assert errors(results) == [
        f"{path}:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{path}:3: expected a JSON object, got array",
        f"{path}:5: missing required field 'id'",
        f"{path}:6: field 'title' must be a string, got number",
        f"{path}:7: field 'published' is not an ISO 8601 date: 'yesterday'",
        f"{path}:8: field 'id' is empty",
        # before the first moment a date can hold once moved to UTC: a line, not a crash
        f"{path}:9: field 'published' is out of range: '0001-01-01T00:00:00+05:00'",
    ]
    assert [type(r).__name__ for r in results][:2] == ["Article", "InputError"]  # in file order


def test_jsonl_fields(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\ufeff"
        + line(
            id="a",
            title="T",
            text="“Body”",
            url="https://x.test/a",
            source="wire",
            published="2025-04-23T10:00:00+02:00",
            extra=[1],
        )
        + line(id="b", title="T", text="B", published="2025-04-23T10:00:00Z", url=None)
        + line(id="c", title="T", text="C", published="2025-04-23"),
        encoding="utf-8",
    )
    a, b, c = run(path)
    assert a == Article(
        id="a",
        title="T",
        body="“Body”",
        url="https://x.test/a",
        published=datetime(2025, 4, 23, 8, tzinfo=UTC),
        source="wire",
        guid="a",  # a JSON line's id is the producer's stable identifier
    )
    assert (b.source, b.url, b.published) == ("jsonl", None, datetime(2025, 4, 23, 10, tzinfo=UTC))
    assert c.published == datetime(2025, 4, 23, tzinfo=UTC)  # naive is taken as UTC


def test_article_from_json_rejects_null_required_field() -> None:
    with pytest.raises(ValueError, match="field 'text' must be a string, got null"):
        article_from_json({"id": "a", "title": "t", "text": None})


def test_seed_txt_file() -> None:
    results = run(SEEDS / "004_10471c499198fc54.txt")
    assert ids(results) == ["004_10471c499198fc54#1", "004_10471c499198fc54#2"]
    assert {r.source for r in results if isinstance(r, Article)} == {"seeds"}


def test_directory_recursive_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "b" / "deeper" / "z.jsonl").write_text(good(3))
    (tmp_path / "b" / "a.JSONL").write_text(good(2))
    (tmp_path / "a.jsonl").write_text(good(1))
    (tmp_path / "notes.md").write_text("ignored")
    shutil.copy(SEEDS / "001_a458cd11a7b1be15.txt", tmp_path / "c.txt")
    results = run(tmp_path)
    assert errors(results) == []
    assert ids(results) == ["a1", "a2", "a3", "c#1"]


def test_seeds_directory_reads_eight_articles() -> None:
    results = run(SEEDS)
    assert errors(results) == []
    assert len(ids(results)) == 8


def test_a_named_pipe_in_a_directory_is_named_and_skipped(tmp_path: Path) -> None:
    """Nothing writes to it: reading it would block the whole walk."""
    os.mkfifo(tmp_path / "b.jsonl")
    (tmp_path / "a.jsonl").write_text(good(1))
    (tmp_path / "c.jsonl").write_text(good(3))
    results = run(tmp_path)
    assert errors(results) == [
        f"{tmp_path / 'b.jsonl'}: not a regular file (named pipe): skipped in a directory"
    ]
    assert ids(results) == ["a1", "a3"]


def test_a_named_pipe_given_by_name_is_read_as_a_stream(tmp_path: Path) -> None:
    pipe = tmp_path / "feed.jsonl"
    os.mkfifo(pipe)

    def produce() -> None:
        with open(pipe, "w") as writer:
            writer.write(good(1) + good(2))

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    results = run(pipe)
    producer.join(timeout=10)
    assert errors(results) == []
    assert ids(results) == ["a1", "a2"]


def test_directory_without_inputs(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("x")
    assert errors(run(tmp_path)) == [f"{tmp_path}: no .jsonl or .txt files in directory"]


def test_stdin_dash_among_files(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(good(1))
    stdin = io.StringIO(good(2) + "oops\n" + good(3))
    results = run(path, "-", stdin=stdin)
    assert ids(results) == ["a1", "a2", "a3"]
    assert errors(results) == ["<stdin>:2: invalid JSON: Expecting value (column 1)"]


def test_empty_stdin_is_not_an_error() -> None:
    assert run("-", stdin=io.StringIO("")) == []


def test_default_stdin_is_read_as_utf8_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = good(1).encode() + b'{"id": "\xff"}\n' + good(2).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="latin-1"))
    results = list(read_inputs(["-"]))
    assert ids(results) == ["a1", "a2"]
    assert errors(results) == ["<stdin>:2: invalid UTF-8 at byte 8 of the line"]


def make_bad_inputs(tmp_path: Path) -> dict[str, Path]:
    """One input of each unreadable kind, for both file formats."""
    bad: dict[str, Path] = {}
    for suffix in ("txt", "jsonl"):
        for kind, data in {
            "empty": b"",
            "binary": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "latin1": '{"id": "caf\xe9"}\n'.encode("latin-1"),
        }.items():
            bad[f"{kind}.{suffix}"] = tmp_path / f"{kind}.{suffix}"
            bad[f"{kind}.{suffix}"].write_bytes(data)
        bad[f"missing.{suffix}"] = tmp_path / f"missing.{suffix}"
    bad["other.csv"] = tmp_path / "other.csv"
    bad["other.csv"].write_text("a,b\n")
    bad["utf16.jsonl"] = tmp_path / "utf16.jsonl"
    bad["utf16.jsonl"].write_text(good(3), encoding="utf-16")  # with its byte order mark
    return bad


def test_unreadable_inputs_each_one_error_and_the_rest_read(tmp_path: Path) -> None:
    bad = make_bad_inputs(tmp_path)
    first = tmp_path / "first.jsonl"
    first.write_text(good(1))
    last = tmp_path / "last.jsonl"
    last.write_text(good(2))
    results = run(first, *bad.values(), last)
    assert ids(results) == ["a1", "a2"]
    reasons = {r.path: r.reason for r in results if isinstance(r, InputError)}
    assert reasons == {
        str(bad["empty.txt"]): "empty file",
        str(bad["binary.txt"]): "binary file (contains NUL bytes)",
        str(bad["latin1.txt"]): "invalid UTF-8 at byte 11",
        str(bad["missing.txt"]): "no such file or directory",
        str(bad["empty.jsonl"]): "empty file",
        str(bad["binary.jsonl"]): "binary file (contains NUL bytes)",
        f"{bad['latin1.jsonl']}:1": "invalid UTF-8 at byte 11 of the line",
        str(bad["missing.jsonl"]): "no such file or directory",
        str(bad["other.csv"]): "unsupported input (.csv): expected .jsonl, .txt, a dir or -",
        str(bad["utf16.jsonl"]): "UTF-16 text: save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)",
    }


def test_a_nul_byte_anywhere_in_the_first_8_kib_makes_a_jsonl_file_binary(tmp_path: Path) -> None:
    """The sniff reads 8 KiB even where the file system's block is 4 KiB."""
    path = tmp_path / "late.jsonl"
    path.write_bytes(good(1).encode() * 100 + b"\0" + good(2).encode())
    assert 4096 < path.read_bytes().index(b"\0") < 8192
    assert errors(run(path)) == [f"{path}: binary file (contains NUL bytes)"]


def test_blank_only_inputs(tmp_path: Path) -> None:
    (tmp_path / "blank.jsonl").write_text("\n  \n")
    (tmp_path / "blank.txt").write_text("\n  \n")
    assert errors(run(tmp_path / "blank.jsonl", tmp_path / "blank.txt")) == [
        f"{tmp_path / 'blank.jsonl'}: no JSON lines (only blank lines)",
        f"{tmp_path / 'blank.txt'}: no article found (only blank or boilerplate lines)",
    ]


def test_a_path_through_a_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("x")
    inside = tmp_path / "plain.txt" / "inner.jsonl"
    assert errors(run(inside, tmp_path / "plain.txt")) == [f"{inside}: no such file or directory"]


def test_50_mb_body_in_jsonl(tmp_path: Path) -> None:
    body = "Aleppo siege. " * (50 * MB // 14)
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as out:
        out.write(line(id="big", title="Big", text=body))
        out.write(good(2))
    results = run(path)
    assert ids(results) == ["big", "a2"]
    assert isinstance(results[0], Article) and len(results[0].body) == len(body)


def test_50_mb_seed_txt(tmp_path: Path) -> None:
    paragraph = "The siege of the Kurdish neighbourhoods went on for weeks. " * 20
    path = tmp_path / "big.txt"
    path.write_text("Big title\n\n" + (paragraph + "\n\n") * (50 * MB // len(paragraph)))
    results = run(path)
    assert ids(results) == ["big#1"]
    assert isinstance(results[0], Article) and len(results[0].body) > 50 * MB - 2000


def test_100k_character_lines(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(
        line(id="long", title="x" * 100_000, text="y " * 50_000)
        + "z" * 100_000
        + "\n"
        + "[" * 100_000
        + "\n"
        + good(4)
    )
    results = run(path)
    assert ids(results) == ["long", "a4"]
    assert errors(results) == [
        f"{path}:2: invalid JSON: Expecting value (column 1)",
        f"{path}:3: invalid JSON: nested too deeply",
    ]
    text = tmp_path / "long.txt"
    text.write_text("Title\n\n" + "word, " * 20_000 + "\n\n\n" + "|" * 100_000 + "\n")
    (article,) = run(text)
    assert isinstance(article, Article) and article.title == "Title"


def test_a_lone_surrogate_is_a_bad_line_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "sur.jsonl"
    path.write_text('{"id": "s", "title": "\\ud800 siege", "text": "x"}\n' + good(1))
    results = run(path)
    assert errors(results) == [f"{path}:1: field 'title' is not valid Unicode (a lone surrogate)"]
    assert len([r for r in results if not isinstance(r, InputError)]) == 1


def test_seed_files_of_the_same_name_in_two_folders_get_different_ids(tmp_path: Path) -> None:
    seed = (SEEDS / "001_a458cd11a7b1be15.txt").read_text(encoding="utf-8")
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.txt").write_text(seed, encoding="utf-8")
    ids = [a.id for a in run(tmp_path) if not isinstance(a, InputError)]
    assert ids == ["one/x#1", "two/x#1"]
