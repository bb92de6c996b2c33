"""`GET /api/matches` answers what `watcher matches --format jsonl` prints, filters alike."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.support.web import Served
from watcher.cli.main import cli


def _cli_lines(db: Path, *args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "matches", "--format",
                                      "jsonl", *args], catch_exceptions=False)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_api_answers_the_commands_lines(seeded: Served, tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    with seeded.client(seeded.token("vic")) as client:
        for query, args in [({}, []), ({"rule": "aleppo-siege"}, ["--rule", "aleppo-siege"]),
                            ({"place": "Aleppo Governorate", "limit": 3},
                             ["--place", "Aleppo Governorate", "--limit", "3"]),
                            ({"held": "true"}, ["--held"])]:
            answer = client.get("/api/matches", params=query)
            assert answer.status_code == 200
            assert answer.json()["matches"] == _cli_lines(db, *args), query
        assert answer.json()["matches"]
        bad = client.get("/api/matches", params={"place": "Nowhere-at-all"})
        assert bad.status_code == 400 and "Nowhere-at-all" in bad.json()["error"]
