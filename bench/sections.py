"""The parts of RESULTS.md: how each section starts, and rewriting one section alone."""

from __future__ import annotations

from collections.abc import Sequence

from bench.measure import Machine


def head(heading: str, part: str, only: str, machine: Machine, *facts: str) -> list[str]:
    """A section's heading, what wrote it, and the machine and run it was measured on."""
    return [
        heading,
        "",
        f"Written by the {part} part of `make bench` (alone: `python -m bench.run --only "
        f"{only}`, which rewrites only this section).",
        "",
        *(f"- {line}" for line in (*machine.describe(), *facts)),
        "",
    ]


def replace_section(document: str, heading: str, section: str, headings: Sequence[str]) -> str:
    """`document` with the section under `heading` replaced by `section` (a section runs to
    the next of `headings`, the parts' headings, or to the end), or `section` appended when
    there is none: one part of `make bench` run alone rewrites only its own section."""
    lines = document.splitlines(keepends=True)
    marks = [i for i, line in enumerate(lines) if line.rstrip("\n") in headings]
    mine = [i for i in marks if lines[i].rstrip("\n") == heading]
    if not mine:
        return document.rstrip("\n") + "\n\n" + section if document.strip() else section
    end = next((i for i in marks if i > mine[0]), len(lines))
    after = "".join(lines[end:])
    return "".join(lines[:mine[0]]) + section + ("\n" + after if after else "")
