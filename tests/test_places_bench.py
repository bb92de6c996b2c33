"""bench.places: per-place precision and recall of `~Name` from judged occurrences, on a
two-article corpus and on the shipped set (bench/data/places)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.places import (
    LABELS_FILE,
    PlacesReport,
    main,
    measure_places,
    render_places_markdown,
)
from watcher.text.analysis import Analyzer

ARTICLES = {
    "1": "Shelling hit Aleppo at dawn. Xaleppo was quiet, as was Aleppo Street in Cairo. "
         "Jets struck al-Bab.",
    "2": "Rockets fell on Homs and on the homes near it.",
}


def _spot(article: str, form: str, *, nth: int = 0) -> dict[str, object]:
    """Where the nth `form` stands in the article's body."""
    body, offset = ARTICLES[article], -1
    for _ in range(nth + 1):
        offset = body.index(form, offset + 1)
    return {"corpus": "fakes", "article": article, "field": "body", "offset": offset,
            "form": form, "context": body}


JUDGEMENTS = [
    # a mention `~` finds, an exact spelling that names another place, a spelling it
    # cannot know; for Homs a mention it finds and an English look-alike it rightly skips
    {"target": "Aleppo", **_spot("1", "Aleppo"), "refers": True, "reason": None, "note": ""},
    {"target": "Aleppo", **_spot("1", "Aleppo", nth=1), "refers": False,
     "reason": "other-place", "note": "Aleppo Street in Cairo"},
    {"target": "Aleppo", **_spot("1", "Xaleppo"), "refers": True, "reason": None, "note": ""},
    {"target": "Homs", **_spot("2", "Homs"), "refers": True, "reason": None, "note": ""},
    {"target": "Homs", **_spot("2", "homes"), "refers": False, "reason": "english-word",
     "note": ""},
    # `~"al-Bab"` marks only *Bab*: the judged form still counts as matched
    {"target": "al-Bab", **_spot("1", "al-Bab"), "refers": True, "reason": None, "note": ""},
]


def _write_set(folder: Path, judgements: list[dict[str, object]], extra: str = "") -> None:
    with (folder / "fakes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "article_title", "article_content", "source", "date",
                         "location", "labels"])
        for unit_id, body in ARTICLES.items():
            writer.writerow([unit_id, f"Report {unit_id}", body, "x", "1/1/2016", "aleppo", "1"])
    lines = [json.dumps(j) for j in judgements]
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


def _run(folder: Path, analyzer: Analyzer) -> PlacesReport:
    return measure_places(folder / "labels.jsonl", folder / "fakes.csv", folder / "seeds",
                          analyzer=analyzer)


def test_precision_recall_wrong_matches_and_misses_per_place(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    _write_set(tmp_path, JUDGEMENTS)
    report = _run(tmp_path, analyzer)

    aleppo, homs = report.by_target["Aleppo"], report.by_target["Homs"]
    assert (aleppo.right, aleppo.wrong, aleppo.missed, aleppo.passed) == (1, 1, 1, 0)
    assert (aleppo.precision, aleppo.recall) == (pytest.approx(0.5), pytest.approx(0.5))
    assert dict(aleppo.wrong_forms) == {("Aleppo", "other-place"): 1}
    assert dict(aleppo.missed_forms) == {"Xaleppo": 1}
    assert (homs.right, homs.wrong, homs.missed, homs.passed) == (1, 0, 0, 1)
    assert (homs.precision, homs.recall) == (1.0, 1.0)
    assert (report.by_target["al-Bab"].right, report.by_target["al-Bab"].recall) == (1, 1.0)
    assert (report.overall.matched, report.overall.mentions, report.errors) == (4, 4, [])

    section = render_places_markdown(report, commit="test")
    assert section.startswith("## Places\n")
    assert '| ~"Aleppo" | 3 | 2 | 2 | 1 | 1 | 1 | 50% | 50% |' in section
    assert '- `~"Aleppo"`: Aleppo 1 (other-place)' in section
    assert '- `~"Aleppo"`: Xaleppo 1' in section


def test_bad_lines_and_gone_articles_are_reported_by_line_and_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        {**JUDGEMENTS[0], "offset": JUDGEMENTS[0]["offset"] + 1},  # line 7: form not there
        {**JUDGEMENTS[4], "reason": "lookalike"},  # line 8: unknown reason
        {**JUDGEMENTS[0], "article": "99"},  # line 9: no such article
    ]
    _write_set(tmp_path, JUDGEMENTS + bad, extra='{"target": "Homs", "refers": maybe}\n')
    labels = tmp_path / "labels.jsonl"
    status = main(["--labels", str(labels), "--fakes", str(tmp_path / "fakes.csv"),
                   "--seeds", str(tmp_path / "seeds")])

    out = capsys.readouterr().out
    assert status == 0
    assert f"- {labels}:7: 'Aleppo' is not at body offset 14 of fakes 1" in out
    assert f"- {labels}:8: reason 'lookalike' is not one of" in out
    assert f"- {labels}:10: " in out  # not JSON
    assert "Judged articles not found (left out): 1\n\n- fakes / 99" in out
    assert "Precision 75%, recall 75%." in out  # the six good lines alone


def test_the_shipped_set_reads_cleanly_and_its_numbers_add_up(analyzer: Analyzer) -> None:
    report = measure_places(analyzer=analyzer)

    assert (report.errors, report.missing_articles) == ([], [])
    assert report.judgements == len(LABELS_FILE.read_text(encoding="utf-8").splitlines())
    assert report.judgements >= 600 and len(report.by_target) >= 25
    rows = report.by_target.values()
    assert sum(row.judged for row in rows) == report.overall.judged == report.judgements
    for row in (*rows, report.overall):
        assert sum(row.wrong_forms.values()) == row.wrong
        assert sum(row.missed_forms.values()) == row.missed
        assert row.right + row.wrong == row.matched and row.right + row.missed == row.mentions
