"""`python -m bench.places`: how well `~Name` finds each place, judged occurrence by occurrence.

Reads the labelled set (bench/data/places/labels.jsonl, judged by CRITERIA.md): words and word
runs of FA-KES and the seeds that are, or look like, a spelling of a target place, each judged
as a mention of that place or not. For every target it loads the rule `~"Target"` with
watcher's own rule loader and matcher (whatever `~` does today, gazetteer or not), matches
the judged articles, and asks of each judged occurrence: does `~"Target"` match the form
at that spot (a matched span overlaps it)? Per place: precision (judged mentions among the
matched), recall (matched among the judged mentions), the wrong matches and the misses by
form.

`--labels bench/data/places/fresh.jsonl` measures the second judge's sample, drawn afresh by
bench/places_draw.py and held out from the tuning (FRESH.md); bench.run's Places part shows
both.

The judgements are the fixed point; the matcher moves. A bad line in labels.jsonl (not JSON,
a missing key, a form that is not at its offset) is reported with its line number and
skipped; an article that is gone is reported and left out.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench.corpus import DATA_FILE as FAKES_FILE
from bench.labelled import notice_lines, ratio, read_judgements
from bench.measure import code_version
from bench.paths import DATA, ROOT
from bench.quality import load_articles
from bench.tables import Column, markdown
from watcher.engine.matcher import Matcher
from watcher.errors import WatcherError
from watcher.model import Article
from watcher.rules.load import load_rules
from watcher.text.analysis import Analyzer

LABELS_FILE = DATA / "places" / "labels.jsonl"
# A second judge's sample, held out from the tuning of `~` (FRESH.md).
FRESH_FILE = DATA / "places" / "fresh.jsonl"
SEEDS_DIR = ROOT / "seeds"
PLACES_HEADING = "## Places"
CORPORA = ("fakes", "seeds")
FIELDS = ("title", "body")
REASONS = ("other-place", "person", "english-word", "other")
TARGET = 0.95  # issue 18: per-place precision and recall at least this
# How each set was drawn, for the sentence under its summary.
DRAWN = {
    LABELS_FILE.name: "at most 5 occurrences of each spelling, SOURCE.txt",
    FRESH_FILE.name: "at most 4 occurrences of each spelling, FRESH.md",
}

Key = tuple[str, str]  # (corpus, article id)
Spot = tuple[str, int, int]  # (field, start, end) of a matched span


@dataclass(frozen=True)
class Occurrence:
    """One line of labels.jsonl: is this form, at this spot, a mention of the target?"""

    target: str
    form: str
    corpus: str
    article: str
    field: str
    offset: int
    refers: bool
    reason: str | None
    line: int

    @property
    def key(self) -> Key:
        return (self.corpus, self.article)

    @property
    def end(self) -> int:
        return self.offset + len(self.form)


@dataclass
class PlaceTally:
    """Counts for one target place (or all of them): judged occurrences by what `~` did."""

    right: int = 0  # matched, judged a mention
    wrong: int = 0  # matched, judged not a mention
    missed: int = 0  # not matched, judged a mention
    passed: int = 0  # not matched, judged not a mention
    wrong_forms: Counter[tuple[str, str]] = field(default_factory=Counter)  # (form, reason)
    missed_forms: Counter[str] = field(default_factory=Counter)

    @property
    def judged(self) -> int:
        return self.right + self.wrong + self.missed + self.passed

    @property
    def matched(self) -> int:
        return self.right + self.wrong

    @property
    def mentions(self) -> int:
        return self.right + self.missed

    @property
    def precision(self) -> float | None:
        return self.right / self.matched if self.matched else None

    @property
    def recall(self) -> float | None:
        return self.right / self.mentions if self.mentions else None

    def count(self, occurrence: Occurrence, matched: bool) -> None:
        if matched and occurrence.refers:
            self.right += 1
        elif matched:
            self.wrong += 1
            self.wrong_forms[occurrence.form, occurrence.reason or "other"] += 1
        elif occurrence.refers:
            self.missed += 1
            self.missed_forms[occurrence.form] += 1
        else:
            self.passed += 1


@dataclass
class PlacesReport:
    """Everything `bench.places` prints and RESULTS.md's Places section shows."""

    labels_path: str
    judgements: int
    overall: PlaceTally
    by_target: dict[str, PlaceTally]
    missing_articles: list[Key]
    errors: list[str]


# -- reading ------------------------------------------------------------------------------


def load_labels(path: Path) -> tuple[list[Occurrence], list[str]]:
    """The judged occurrences, and one error line per line that could not be read."""
    return read_judgements(
        path, _occurrence,
        lambda o: (o.target, *o.key, o.field, o.offset),
        lambda o: f"{o.target!r} at {o.corpus} {o.article} {o.field} {o.offset}",
    )


def _occurrence(data: object, line: int) -> Occurrence:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    target, form, refers, reason = data["target"], data["form"], data["refers"], data["reason"]
    if not isinstance(target, str) or not target.strip() or '"' in target:
        raise ValueError(f"target {target!r} is not a place name")
    if not isinstance(form, str) or not form:
        raise ValueError("'form' must be the text judged")
    if data["corpus"] not in CORPORA:
        raise ValueError(f"corpus {data['corpus']!r} is not one of {', '.join(CORPORA)}")
    if data["field"] not in FIELDS:
        raise ValueError(f"field {data['field']!r} is not one of {', '.join(FIELDS)}")
    offset = data["offset"]
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"offset {offset!r} is not a character offset")
    if not isinstance(refers, bool):
        raise ValueError("'refers' must be true or false")
    if refers and reason is not None:
        raise ValueError("a mention of the place has no reason")
    if not refers and reason not in REASONS:
        raise ValueError(f"reason {reason!r} is not one of {', '.join(REASONS)}")
    return Occurrence(target=target, form=form, corpus=data["corpus"],
                      article=str(data["article"]), field=data["field"], offset=offset,
                      refers=refers, reason=reason, line=line)


# -- matching -----------------------------------------------------------------------------


def place_matcher(targets: Sequence[str], analyzer: Analyzer) -> Matcher:
    """One rule `~"Target"` per target (id `place-<index>`), loaded from a rule file and
    compiled as watcher loads and compiles any rule file, so whatever `~` means at load or
    match time is what is measured."""
    document = {"rules": [{"id": f"place-{index}", "title": target, "query": f'~"{target}"'}
                          for index, target in enumerate(targets)]}
    with tempfile.TemporaryDirectory(prefix="bench-places-") as folder:
        path = Path(folder) / "places.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        return Matcher(load_rules(path), analyzer)


def matched_spots(
    matcher: Matcher, targets: Sequence[str], articles: dict[Key, Article]
) -> dict[tuple[str, Key], set[Spot]]:
    """Every span each target's rule matches, by (target, article)."""
    keys = list(articles)
    spots: dict[tuple[str, Key], set[Spot]] = defaultdict(set)
    for key, matches in zip(keys, matcher.match_many([articles[k] for k in keys]), strict=True):
        for match in matches:
            target = targets[int(match.rule_id.removeprefix("place-"))]
            spots[target, key].update((s.field, s.start, s.end) for s in match.spans)
    return spots


def is_matched(occurrence: Occurrence, spots: set[Spot]) -> bool:
    """A matched span overlaps the judged form (`~"al-Bab"` marks only *Bab* of *al-Bab*)."""
    return any(name == occurrence.field and start < occurrence.end and occurrence.offset < end
               for name, start, end in spots)


def _misplaced(occurrence: Occurrence, article: Article, path: Path) -> str | None:
    text = getattr(article, occurrence.field)
    found = text[occurrence.offset:occurrence.end]
    if found == occurrence.form:
        return None
    return (f"{path}:{occurrence.line}: {occurrence.form!r} is not at {occurrence.field} offset "
            f"{occurrence.offset} of {occurrence.corpus} {occurrence.article} (found "
            f"{found!r}); this line is skipped")


# -- counting -----------------------------------------------------------------------------


def measure_places(
    labels: Path = LABELS_FILE,
    fakes_file: Path = FAKES_FILE,
    seeds_dir: Path = SEEDS_DIR,
    analyzer: Analyzer | None = None,
) -> PlacesReport:
    """Match every target's `~` rule over the judged articles and count against the labels.
    FA-KES repeats a few unit ids; the set was drawn from the first row of each, as here."""
    occurrences, errors = load_labels(labels)
    found = load_articles({o.key for o in occurrences}, fakes_file, seeds_dir)
    articles = {key: versions[0] for key, versions in found.items()}
    placed = []
    for occurrence in (o for o in occurrences if o.key in articles):
        problem = _misplaced(occurrence, articles[occurrence.key], labels)
        if problem:
            errors.append(problem)
        else:
            placed.append(occurrence)
    targets = sorted({o.target for o in placed})
    spots = matched_spots(place_matcher(targets, analyzer or Analyzer()), targets, articles)
    overall, by_target = PlaceTally(), {target: PlaceTally() for target in targets}
    for occurrence in placed:
        matched = is_matched(occurrence, spots.get((occurrence.target, occurrence.key), set()))
        for row in (overall, by_target[occurrence.target]):
            row.count(occurrence, matched)
    return PlacesReport(
        labels_path=str(labels), judgements=len(occurrences), overall=overall,
        by_target=by_target,
        missing_articles=sorted({o.key for o in occurrences if o.key not in articles}),
        errors=errors,
    )


# -- rendering ----------------------------------------------------------------------------


def render_places_table(report: PlacesReport) -> str:
    """The tables for a terminal (Markdown tables read well there too)."""
    return "\n".join(_tables(report))


def render_places_markdown(report: PlacesReport, commit: str | None = None) -> str:
    """RESULTS.md's Places section."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        PLACES_HEADING,
        "",
        "Written by `make bench` (alone: `python -m bench.run --only places`; "
        "`python -m bench.places` prints the tables). How well `~\"Place\"` finds each "
        "place: real spellings and look-alikes from FA-KES and the seeds, each occurrence "
        "judged a mention of the place or not by `bench/data/places/CRITERIA.md`; the set "
        "and how it was drawn: `bench/data/places/SOURCE.txt`. Machine-independent: the "
        "numbers change only with the matcher or the labels.",
        "",
        f"- date: {when}",
        f"- code measured: {commit or code_version()}",
        "",
    ]
    return "\n".join(lines + list(_tables(report))) + "\n"


@dataclass(frozen=True)
class PlacesPart:
    """bench.run's Places part: the set `~` was tuned on, and the held-out fresh sample."""

    labels: PlacesReport
    fresh: PlacesReport | None = None


def measure_places_part(
    labels: Path = LABELS_FILE,
    fresh: Path | None = FRESH_FILE,
    fakes_file: Path = FAKES_FILE,
    seeds_dir: Path = SEEDS_DIR,
    analyzer: Analyzer | None = None,
) -> PlacesPart:
    """Both sets, with one analyser."""
    analyzer = analyzer or Analyzer()
    return PlacesPart(
        measure_places(labels, fakes_file, seeds_dir, analyzer),
        measure_places(fresh, fakes_file, seeds_dir, analyzer) if fresh else None)


def render_places_part_table(part: PlacesPart) -> str:
    fresh = "" if part.fresh is None else "\n\n" + render_fresh_markdown(part.fresh)
    return render_places_table(part.labels) + fresh


def render_places_part_markdown(part: PlacesPart, commit: str | None = None) -> str:
    fresh = "" if part.fresh is None else "\n" + render_fresh_markdown(part.fresh)
    return render_places_markdown(part.labels, commit) + fresh


def render_fresh_markdown(report: PlacesReport) -> str:
    """The held-out sample's subsection: the same tables as for the tuned-on set."""
    lines = [
        f"### The fresh held-out sample ({Path(report.labels_path).name})",
        "",
        "A second judge's sample, drawn afresh by `bench/places_draw.py` (SOURCE.txt's nets, "
        "every spot of labels.jsonl left out) and judged by CRITERIA.md unchanged, held out "
        "from the tuning of `~`'s per-place lists, which looked at labels.jsonl alone; how "
        "it was drawn and judged: `bench/data/places/FRESH.md`. First measured at git "
        "d8cc534 (precision 99%, recall 100%; `~\"Damascus\"` precision 78%, `~\"al-Bab\"` "
        "92%, `~\"Hama\"` recall 94%); the forms it found for those three places were then "
        "fixed, so for them it is no longer fully held out (FRESH.md, After the first "
        "measurement).",
        "",
        *_tables(report),
    ]
    return "\n".join(lines) + "\n"


def _tables(report: PlacesReport) -> Iterable[str]:
    overall = report.overall
    drawn = DRAWN.get(Path(report.labels_path).name, "see the set's SOURCE.txt")
    yield (f"{report.judgements} judged occurrences of {len(report.by_target)} places; "
           f"`~` matched {overall.matched}: {overall.right} mentions, {overall.wrong} not; "
           f"it missed {overall.missed} of {overall.mentions} mentions. Precision "
           f"{ratio(overall.precision)}, recall {ratio(overall.recall)}.")
    yield ""
    yield ("Precision = judged mentions among the occurrences `~\"Place\"` matches; recall = "
           f"matched among the judged mentions. Over the judged sample ({drawn}), not the "
           "whole corpus: a rare spelling weighs as much as a common one.")
    yield ""
    yield _below_target(report.by_target)
    yield ""
    yield from _rows(report.by_target)
    yield ""
    yield "Wrong matches by form (judged occurrences; the reason codes are CRITERIA.md's):"
    yield ""
    yield from _forms(report.by_target, lambda row: [
        f"{form} {n} ({reason})" for (form, reason), n in sorted(
            row.wrong_forms.items(), key=lambda item: (-item[1], item[0]))])
    yield ""
    yield "Misses by form (judged mentions `~` does not match):"
    yield ""
    yield from _forms(report.by_target, lambda row: [
        f"{form} {n}" for form, n in sorted(row.missed_forms.items(),
                                            key=lambda item: (-item[1], item[0]))])
    yield from _notices(report)


def _below_target(rows: dict[str, PlaceTally]) -> str:
    """The places under issue 18's target, precision or recall."""
    below = [
        f"`~\"{target}\"` {name} {ratio(value)}"
        for target, row in rows.items()
        for name, value in (("precision", row.precision), ("recall", row.recall))
        if value is not None and value < TARGET
    ]
    return (f"Places below {TARGET:.0%} (issue 18's target): {len(below)}"
            + (f": {', '.join(below)}." if below else "."))


def _rows(rows: dict[str, PlaceTally]) -> Iterable[str]:
    columns = [
        Column("place", lambda item: f"~\"{item[0]}\""),
        Column("judged", lambda item: item[1].judged),
        Column("mentions", lambda item: item[1].mentions),
        Column("matched", lambda item: item[1].matched),
        Column("right", lambda item: item[1].right),
        Column("wrong", lambda item: item[1].wrong),
        Column("missed", lambda item: item[1].missed),
        Column("precision", lambda item: ratio(item[1].precision)),
        Column("recall", lambda item: ratio(item[1].recall)),
    ]
    return markdown(columns, list(rows.items()))


def _forms(
    rows: dict[str, PlaceTally], listed: Callable[[PlaceTally], list[str]]
) -> Iterable[str]:
    lines = [f"- `~\"{target}\"`: {', '.join(items)}"
             for target, row in rows.items() if (items := listed(row))]
    return lines or ["- none"]


def _notices(report: PlacesReport) -> Iterable[str]:
    sections = [
        ("Judged articles not found (left out)",
         [" / ".join(key) for key in report.missing_articles]),
        (f"Lines of {Path(report.labels_path).name} skipped", report.errors),
    ]
    return notice_lines(sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.places", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=LABELS_FILE)
    parser.add_argument("--fakes", type=Path, default=FAKES_FILE, help="FA-KES CSV")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="seeds folder")
    parser.add_argument("--markdown", action="store_true",
                        help="print the section for bench/RESULTS.md instead of the tables")
    args = parser.parse_args(argv)
    try:
        report = measure_places(args.labels, args.fakes, args.seeds)
    except (OSError, WatcherError) as error:
        print(f"bench.places: {error}")
        return 1
    print(render_places_markdown(report) if args.markdown else render_places_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
