"""The workspace's own static files: the stylesheet parses as whole blocks (a rule block
left open would apply everything after it at a phone's width only), and every asset a
template names is there."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "watcher" / "web"


def test_every_block_of_the_stylesheet_is_closed_where_it_opens() -> None:
    depth = 0
    for number, line in enumerate((WEB / "static/app.css").read_text().splitlines(), 1):
        if line.startswith("@media") or (line and not line[0].isspace() and line[0] != "}"):
            assert depth == 0, f"app.css:{number}: a block opens inside an unclosed one"
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"app.css:{number}: a block closes twice"
    assert depth == 0


def test_every_asset_a_template_names_exists() -> None:
    named = {path for template in (WEB / "templates").rglob("*.html")
             for path in re.findall(r'(?:src|href)="/static/([^"]+)"', template.read_text())}
    assert named and all((WEB / "static" / path).is_file() for path in named), named
