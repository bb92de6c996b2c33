"""bench.places_draw: the nets of bench/data/places/SOURCE.txt drawn again over a small
corpus, the spots of the first set left out, at most four occurrences of a form drawn."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from bench.places_draw import (
    FRESH_SEED,
    Candidate,
    draw,
    fresh_sample,
    looks_like,
    main,
    with_article,
)
from watcher.text.analysis import Analyzer

ARTICLES = {
    # look-alikes the net finds: a misspelling, a possessive, an alternate name (Halab),
    # and the town with its article
    "1": "Shelling hit Alepppo and Aleppos old city. Halab was quiet. "
         "Jets struck al-Bab and Bab Touma.",
    "2": "Aleppo, Aleppo, Aleppo, Aleppo, Aleppo and Aleppo again.",
    "3": "Rebels held al-Bab.",
}


def _write_corpus(folder: Path, judged: list[dict[str, object]]) -> None:
    with (folder / "fakes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "article_title", "article_content", "source", "date",
                         "location", "labels"])
        for unit_id, body in ARTICLES.items():
            writer.writerow([unit_id, "Report", body, "x", "1/1/2016", "aleppo", "1"])
    (folder / "seeds").mkdir()
    (folder / "labels.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in judged), encoding="utf-8")


def _judged(target: str, article: str, form: str) -> dict[str, object]:
    return {"target": target, "form": form, "corpus": "fakes", "article": article,
            "field": "body", "offset": ARTICLES[article].index(form), "context": "",
            "refers": True, "reason": None, "note": ""}


def _forms(sample: list[Candidate], target: str) -> list[str]:
    return [c.form for c in sample if c.target == target]


def test_the_nets_find_look_alikes_and_alternate_names_and_leave_out_judged_spots(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    # the first set judged the first Aleppo of article 2, and Bab Touma for Homs: a spot
    # judged for any target is left out
    _write_corpus(tmp_path, [_judged("Aleppo", "2", "Aleppo"), _judged("al-Bab", "3", "al-Bab"),
                             _judged("Homs", "1", "Bab Touma")])
    sample, _ = fresh_sample(tmp_path / "labels.jsonl", tmp_path / "fakes.csv",
                             tmp_path / "seeds", analyzer)

    aleppo = _forms(sample, "Aleppo")
    assert {"Alepppo", "Aleppos", "Halab"} <= set(aleppo)
    assert aleppo.count("Aleppo") == 4  # five left of six, four drawn
    assert _forms(sample, "al-Bab") == ["al-Bab"]  # its article included; Bab Touma left out
    offsets = {c.start for c in sample if c.target == "Aleppo" and c.article == "2"}
    assert ARTICLES["2"].index("Aleppo") not in offsets


def test_the_draw_takes_at_most_four_of_a_form_and_one_seed_gives_one_sample() -> None:
    found = [Candidate("Aleppo", "fakes", str(n), "body", 0, 6, "Aleppo") for n in range(9)]
    found += [Candidate("Aleppo", "fakes", "1", "body", 10, 17, "Aleppos")]
    first = draw(found, random.Random(FRESH_SEED))

    assert [c.form for c in first] == ["Aleppo"] * 4 + ["Aleppos"]
    assert draw(reversed(found), random.Random(FRESH_SEED)) == first


@pytest.mark.parametrize(("spelling", "target", "found"), [
    ("kobane", "kobani", True),  # one edit, a short name
    ("deir ezzor", "deir zor", True),  # two edits, a longer one
    ("albab", "bab", True),  # a fused article dropped
    ("aleppos", "aleppo", True),  # a stripped possessive
    ("kabani", "kobani", True),  # a look-alike: judged, not decided here
    ("hamra", "homs", False),  # two edits for a short name
    ("obani", "kobani", False),  # not the target's first letter
])
def test_a_look_alike_is_within_the_edits_of_source_txt(
    spelling: str, target: str, found: bool
) -> None:
    assert looks_like(spelling, target) is found


def test_an_attached_article_is_part_of_the_form() -> None:
    text = "in al-Bab, al Bab, as Bab and Tariq Bab"
    assert [text[with_article(text, start):start + 3]
            for start in (text.index("Bab"), 14, 22, 36)] == ["al-Bab", "al Bab", "Bab", "Bab"]


def test_the_draw_prints_unjudged_lines_in_the_labels_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_corpus(tmp_path, [_judged("Aleppo", "2", "Aleppo")])
    status = main(["--labels", str(tmp_path / "labels.jsonl"),
                   "--fakes", str(tmp_path / "fakes.csv"), "--seeds", str(tmp_path / "seeds")])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0 and lines
    assert {tuple(line) for line in lines} == {(
        "target", "form", "corpus", "article", "field", "offset", "context", "refers",
        "reason", "note")}
    assert {(line["refers"], line["reason"]) for line in lines} == {(None, None)}
    halab = next(line for line in lines if line["form"] == "Halab")
    assert ARTICLES["1"][halab["offset"]:halab["offset"] + 5] == "Halab"
    assert "Halab was quiet" in halab["context"]
