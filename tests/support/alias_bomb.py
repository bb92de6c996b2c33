"""A YAML "billion laughs": anchors whose lists alias the previous anchor, `width` times
over, `levels` deep; 9 levels of 10 are ~430 bytes holding 10**9 values once expanded."""

from __future__ import annotations

from itertools import pairwise
from string import ascii_lowercase


def alias_bomb(levels: int = 9, width: int = 10, indent: str = "") -> str:
    """One `x: &x [...]` line per level at `indent`, named a, b, c…: `b` lists `*a` `width`
    times, and so on."""
    names = ascii_lowercase[:levels]
    lines = [f"{indent}a: &a [{', '.join(['lol'] * width)}]"]
    for previous, name in pairwise(names):
        lines.append(f"{indent}{name}: &{name} [{', '.join([f'*{previous}'] * width)}]")
    return "\n".join(lines) + "\n"
