"""`python -m bench.quality`: matching quality as an analyst judges it.

Reads the labelled set (bench/data/quality/labels.jsonl, judged by the criteria in
CRITERIA.md), runs the CURRENT rules over the judged articles and reports, per rule and per
place: alerts, wanted alerts, precision (wanted / judged alerts), recall (wanted alerts /
all pairs judged wanted, matched or not) and why the unwanted alerts are unwanted.

The judgements are the fixed point; the rules move. A pair the rules match now but nobody
judged is counted as *unjudged* and listed, so the next judge can add it: it is never
taken for right or wrong. Judgements whose article or rule is gone are reported and left
out of the numbers. A bad line in labels.jsonl is reported with its line number and skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import DATA_FILE as CORPUS_FILE
from bench.measure import code_version
from bench.paths import DATA, ROOT, SHIPPED_RULES
from bench.tables import Column, markdown
from watcher.engine.matcher import Matcher
from watcher.errors import WatcherError
from watcher.model import Article
from watcher.rules.load import load_rules
from watcher.sources.seeds import read_seed_file
from watcher.text.analysis import Analyzer

LABELS_FILE = DATA / "quality" / "labels.jsonl"
FAKES_FILE = CORPUS_FILE
SEEDS_DIR = ROOT / "seeds"
RULES_DIR = SHIPPED_RULES
QUALITY_HEADING = "## Quality"
CORPORA = ("fakes", "seeds")
REASONS = (
    "boilerplate", "other-sense", "negated", "hypothetical", "ended", "historical",
    "too-broad", "wrong-place", "other",
)

Pair = tuple[str, str, str]  # (corpus, article id, rule id)


@dataclass(frozen=True)
class Judgement:
    """One line of labels.jsonl: would the analyst want this article under this rule?"""

    corpus: str
    article: str
    rule: str
    matched: bool  # did the rules fire at the judged commit (informative only)
    wanted: bool
    reason: str | None
    places: tuple[str, ...]
    note: str
    line: int

    @property
    def pair(self) -> Pair:
        return (self.corpus, self.article, self.rule)

    @property
    def place(self) -> str:
        return self.places[0] if self.places else "(no place)"


@dataclass
class Tally:
    """Counts for one row of a table: a rule, a place, or everything."""

    alerts: int = 0  # pairs the current rules match, judged or not
    wanted_alerts: int = 0
    unwanted_alerts: int = 0
    unjudged: int = 0
    wanted_total: int = 0  # pairs judged wanted, matched now or not
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float | None:
        judged = self.wanted_alerts + self.unwanted_alerts
        return self.wanted_alerts / judged if judged else None

    @property
    def recall(self) -> float | None:
        return self.wanted_alerts / self.wanted_total if self.wanted_total else None


@dataclass
class QualityReport:
    """Everything `bench.quality` prints and RESULTS.md's Quality section shows."""

    rules_path: str
    judgements: int
    overall: Tally
    by_rule: dict[str, Tally]
    by_place: dict[str, Tally]
    unjudged: list[Pair]
    missing_articles: list[tuple[str, str]]
    missing_rules: list[str]
    now_matched: list[Pair]  # judged as not matched, matched now
    no_longer_matched: list[Pair]  # judged as matched, not matched now
    errors: list[str]


# -- reading ------------------------------------------------------------------------------


def load_labels(path: Path) -> tuple[list[Judgement], list[str]]:
    """The judgements, and one error line per line that could not be read (skipped)."""
    judgements: list[Judgement] = []
    errors: list[str] = []
    seen: dict[Pair, int] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            judgement = _judgement(json.loads(text), number)
        except (ValueError, TypeError, KeyError) as error:
            errors.append(f"{path}:{number}: {_describe(error)}")
            continue
        if judgement.pair in seen:
            errors.append(f"{path}:{number}: {judgement.pair} already judged on line "
                          f"{seen[judgement.pair]}; this line is skipped")
            continue
        seen[judgement.pair] = number
        judgements.append(judgement)
    return judgements, errors


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing key {error}"
    return str(error)


def _judgement(data: object, line: int) -> Judgement:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    corpus, wanted, reason = data["corpus"], data["wanted"], data.get("reason")
    if corpus not in CORPORA:
        raise ValueError(f"corpus {corpus!r} is not one of {', '.join(CORPORA)}")
    if not isinstance(wanted, bool) or not isinstance(data["matched"], bool):
        raise ValueError("'wanted' and 'matched' must be true or false")
    if wanted and reason is not None:
        raise ValueError("a wanted pair has no reason")
    if not wanted and reason not in REASONS:
        raise ValueError(f"reason {reason!r} is not one of {', '.join(REASONS)}")
    places = data.get("places", [])
    if not isinstance(places, list) or not all(isinstance(p, str) for p in places):
        raise ValueError("'places' must be a list of names")
    return Judgement(corpus=corpus, article=str(data["article"]), rule=str(data["rule"]),
                     matched=data["matched"], wanted=wanted, reason=reason,
                     places=tuple(places), note=str(data.get("note", "")), line=line)


def load_articles(
    wanted: Iterable[tuple[str, str]], fakes_file: Path, seeds_dir: Path
) -> dict[tuple[str, str], list[Article]]:
    """The judged articles by (corpus, id). FA-KES repeats a few unit ids, so an id may
    hold several articles; the pair matches when any of them does."""
    keys = set(wanted)
    found: dict[tuple[str, str], list[Article]] = defaultdict(list)
    if any(corpus == "fakes" for corpus, _ in keys):
        with fakes_file.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                if ("fakes", row["unit_id"]) in keys:
                    found["fakes", row["unit_id"]].append(Article(
                        id=row["unit_id"], title=row["article_title"],
                        body=row["article_content"]))
    for stem in sorted({article.split("#")[0] for corpus, article in keys if corpus == "seeds"}):
        path = seeds_dir / f"{stem}.txt"
        if not path.exists():
            continue
        for article in read_seed_file(path):
            if ("seeds", article.id) in keys:
                found["seeds", article.id].append(article)
    return dict(found)


def current_matches(
    matcher: Matcher, articles: dict[tuple[str, str], list[Article]]
) -> set[Pair]:
    keys = [key for key, texts in articles.items() for _ in texts]
    flat = [text for texts in articles.values() for text in texts]
    matched: set[Pair] = set()
    for (corpus, article), matches in zip(keys, matcher.match_many(flat), strict=True):
        matched.update((corpus, article, m.rule_id) for m in matches)
    return matched


# -- counting -----------------------------------------------------------------------------


def measure_quality(
    labels: Path = LABELS_FILE,
    rules: Path = RULES_DIR,
    fakes_file: Path = FAKES_FILE,
    seeds_dir: Path = SEEDS_DIR,
    analyzer: Analyzer | None = None,
) -> QualityReport:
    """Run the rules at `rules` over the judged articles and count against the labels."""
    judgements, errors = load_labels(labels)
    matcher = Matcher(load_rules(rules), analyzer or Analyzer())
    rule_ids = [rule.id for rule in matcher.rules.rules]
    articles = load_articles({(j.corpus, j.article) for j in judgements}, fakes_file, seeds_dir)
    matched = current_matches(matcher, articles)
    return tally(judgements, matched, rule_ids, set(articles), str(rules), errors)


def tally(
    judgements: Sequence[Judgement],
    matched: set[Pair],
    rule_ids: Sequence[str],
    present: set[tuple[str, str]],
    rules_path: str = "",
    errors: Sequence[str] = (),
) -> QualityReport:
    """The arithmetic alone: judgements against the pairs the current rules match."""
    known = set(rule_ids)
    usable = [j for j in judgements if (j.corpus, j.article) in present and j.rule in known]
    by_pair = {j.pair: j for j in usable}
    overall, by_rule = Tally(), {rule: Tally() for rule in rule_ids}
    by_place: dict[str, Tally] = defaultdict(Tally)
    for judgement in usable:
        is_match = judgement.pair in matched
        for row in (overall, by_rule[judgement.rule], by_place[judgement.place]):
            _count(row, judgement, is_match)
    unjudged = sorted(pair for pair in matched if pair not in by_pair)
    for _corpus, _article, rule in unjudged:
        for row in (overall, by_rule[rule], by_place["(unjudged)"]):
            row.alerts += 1
            row.unjudged += 1
    return QualityReport(
        rules_path=rules_path,
        judgements=len(judgements),
        overall=overall,
        by_rule=by_rule,
        by_place=dict(sorted(((place, row) for place, row in by_place.items() if _weight(row)),
                             key=lambda item: (-_weight(item[1]), item[0]))),
        unjudged=unjudged,
        missing_articles=sorted({(j.corpus, j.article) for j in judgements
                                 if (j.corpus, j.article) not in present}),
        missing_rules=sorted({j.rule for j in judgements if j.rule not in known}),
        now_matched=sorted(j.pair for j in usable if not j.matched and j.pair in matched),
        no_longer_matched=sorted(j.pair for j in usable if j.matched and j.pair not in matched),
        errors=list(errors),
    )


def _count(row: Tally, judgement: Judgement, is_match: bool) -> None:
    if judgement.wanted:
        row.wanted_total += 1
    if not is_match:
        return
    row.alerts += 1
    if judgement.wanted:
        row.wanted_alerts += 1
    else:
        row.unwanted_alerts += 1
        row.reasons[judgement.reason or "other"] += 1


def _weight(row: Tally) -> int:
    """Places with neither an alert nor a wanted pair (unwanted candidates) add no row."""
    return row.alerts + row.wanted_total


# -- rendering ----------------------------------------------------------------------------


def render_quality_table(report: QualityReport) -> str:
    """The tables for a terminal (Markdown tables read well there too)."""
    return "\n".join(_tables(report))


def render_quality_markdown(report: QualityReport, commit: str | None = None) -> str:
    """RESULTS.md's Quality section."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        QUALITY_HEADING,
        "",
        "Written by `make bench` (alone: `python -m bench.run --only quality`; "
        "`python -m bench.quality` prints the tables). Judged by an analyst's criteria "
        "(`bench/data/quality/CRITERIA.md`); the set and how it was drawn: "
        "`bench/data/quality/SOURCE.txt`. Machine-independent: the numbers change only "
        "with the rules, the matcher or the labels.",
        "",
        f"- date: {when}",
        f"- code and rules measured: {commit or code_version()}",
        "",
    ]
    return "\n".join(lines + list(_tables(report))) + "\n"


def _tables(report: QualityReport) -> Iterable[str]:
    overall = report.overall
    yield (f"{report.judgements} judgements; {overall.alerts} alerts on the judged articles "
           f"({overall.unjudged} unjudged); precision {_ratio(overall.precision)}, recall "
           f"{_ratio(overall.recall)} (over {overall.wanted_total} pairs judged wanted).")
    yield ""
    yield ("Precision = wanted alerts / judged alerts; recall = wanted alerts / pairs judged "
           "wanted (wanted alerts and the recall candidates the rules miss), over the judged "
           "sample, not the whole corpus (how it was drawn: SOURCE.txt).")
    yield ""
    yield from _rows("rule", report.by_rule)
    yield ""
    yield "Unwanted alerts by reason (codes in CRITERIA.md):"
    yield ""
    yield from _reason_rows(overall)
    yield ""
    yield "By place (the first place of each judgement):"
    yield ""
    yield from _rows("place", report.by_place)
    yield from _notices(report)


def _rows(label: str, rows: dict[str, Tally]) -> Iterable[str]:
    columns = [
        Column(label, lambda item: item[0]),
        Column("alerts", lambda item: item[1].alerts),
        Column("wanted", lambda item: item[1].wanted_alerts),
        Column("unwanted", lambda item: item[1].unwanted_alerts),
        Column("unjudged", lambda item: item[1].unjudged),
        Column("precision", lambda item: _ratio(item[1].precision)),
        Column("judged wanted", lambda item: item[1].wanted_total),
        Column("recall", lambda item: _ratio(item[1].recall)),
        Column("unwanted by reason", lambda item: ", ".join(
            f"{r} {n}" for r, n in item[1].reasons.most_common())),
    ]
    return markdown(columns, list(rows.items()))


def _reason_rows(row: Tally) -> Iterable[str]:
    columns = [
        Column("reason", lambda reason: reason),
        Column("alerts", lambda reason: row.reasons[reason]),
        Column("share of unwanted", lambda reason: row.reasons[reason] / row.unwanted_alerts,
               ".0%"),
    ]
    return markdown(columns, [reason for reason in REASONS if row.reasons[reason]])


def _notices(report: QualityReport) -> Iterable[str]:
    sections = [
        ("Unjudged alerts (judge and add them to labels.jsonl)",
         [" / ".join(p) for p in report.unjudged]),
        ("Judged pairs the rules match now but did not when judged",
         [" / ".join(p) for p in report.now_matched]),
        ("Judged pairs the rules matched when judged but no longer match",
         [" / ".join(p) for p in report.no_longer_matched]),
        ("Judged articles not found (left out)", [" / ".join(a) for a in report.missing_articles]),
        ("Judged rules no longer in the rule set (left out)", report.missing_rules),
        ("Lines of labels.jsonl skipped", report.errors),
    ]
    for title, items in sections:
        if items:
            yield ""
            yield f"{title}: {len(items)}"
            yield ""
            yield from (f"- {item}" for item in items)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=Path, default=RULES_DIR, help="rules file or folder")
    parser.add_argument("--labels", type=Path, default=LABELS_FILE)
    parser.add_argument("--fakes", type=Path, default=FAKES_FILE, help="FA-KES CSV")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="seeds folder")
    args = parser.parse_args(argv)
    try:
        report = measure_quality(args.labels, args.rules, args.fakes, args.seeds)
    except (OSError, WatcherError) as error:
        print(f"bench.quality: {error}")
        return 1
    print(render_quality_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
