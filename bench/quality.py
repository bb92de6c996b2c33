"""`python -m bench.quality`: matching quality as an analyst judges it.

Reads the labelled set (bench/data/quality/labels.jsonl, judged by the criteria in
CRITERIA.md), runs the CURRENT rules over the judged articles and reports, per rule and per
place: alerts, wanted alerts, precision (wanted / judged alerts), recall (wanted alerts /
all pairs judged wanted, matched or not) and why the unwanted alerts are unwanted.

The judgements are the fixed point; the rules move. A pair the rules match now but nobody
judged is counted as *unjudged* and listed, so the next judge can add it: it is never
taken for right or wrong. Judgements whose article or rule is gone are reported and left
out of the numbers. A bad line in labels.jsonl is reported with its line number and skipped.

`--labels bench/data/quality/fresh.jsonl` measures the second judge's sample, drawn after the
tuning on labels.jsonl (a few cues were changed after it was first measured: SOURCE.txt), and
`--labels bench/data/quality/fresh3.jsonl` the third judge's, which later tuning looked at,
`--labels bench/data/quality/fresh4.jsonl` the fourth judge's, drawn as the fresh sample
was, and `--labels bench/data/quality/fresh5.jsonl` the fifth judge's, drawn the same way
from what was left, which no tuning looks at; bench.run's Quality part shows all five, and
each held-out sample's target.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from bench.corpus import DATA_FILE as CORPUS_FILE
from bench.corpus import fakes_published
from bench.labelled import notice_lines, ratio, read_judgements
from bench.measure import code_version
from bench.paths import DATA, ROOT, SHIPPED_RULES
from bench.tables import Column, markdown
from watcher.engine.matcher import Matcher
from watcher.errors import WatcherError
from watcher.model import CONTEXT_LABELS, Article, ContextLabelName
from watcher.rules.load import load_rules
from watcher.sources.seeds import read_seed_file
from watcher.text.analysis import Analyzer

LABELS_FILE = DATA / "quality" / "labels.jsonl"
# A second judge's sample, drawn after the tuning (SOURCE.txt, "the fresh sample"); every
# line's `matched` is what the rules of one commit did, so the set also measures those rules.
FRESH_FILE = DATA / "quality" / "fresh.jsonl"
# A third judge's sample of articles in neither set, drawn and judged before any number was
# computed on it (SOURCE.txt, "the third sample"); `matched` is the rules of 62a6fbe, held
# back or not.
THIRD_FILE = DATA / "quality" / "fresh3.jsonl"
# A fourth judge's sample of articles in none of the three, drawn as the fresh sample was
# (SOURCE.txt, "the fourth sample"); `matched` is the rules of fdcaee8, as in fresh.jsonl.
FOURTH_FILE = DATA / "quality" / "fresh4.jsonl"
# A fifth judge's sample of the articles left, drawn as the fourth was (SOURCE.txt, "the
# fifth sample"); `matched` is the rules of fdcaee8.
FIFTH_FILE = DATA / "quality" / "fresh5.jsonl"
BEFORE_FILE = DATA / "quality" / "before.md"  # the per-rule table before issue 17's tuning
# Issue 17's done-when: of the alerts when the set was judged, at least this share of the
# unwanted ones gone or held back, at most this share of the wanted ones lost.
TARGET_GONE, TARGET_LOST = 0.60, 0.03
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
    exclude: tuple[str, ...] = ()  # the context labels every rule held back (none: as written)
    held: HeldBack | None = None
    # The alerts the rules made when the set was judged (`matched`), by judgement: the
    # fixed "before" that issue 17's target counts against.
    judged_alerts: Counter[bool] = field(default_factory=Counter)
    no_longer_wanted: set[Pair] = field(default_factory=set)  # of no_longer_matched
    still_unwanted: list[tuple[Pair, str]] = field(default_factory=list)  # with its reason
    labels_name: str = LABELS_FILE.name


@dataclass
class HeldBack:
    """Matches held back by their context: the unwanted alerts gone (by reason), the
    wanted ones lost, and those nobody judged, each pair with the labels that held it."""

    unwanted: Counter[str] = field(default_factory=Counter)
    wanted: list[tuple[Pair, tuple[str, ...]]] = field(default_factory=list)
    unjudged: list[tuple[Pair, tuple[str, ...]]] = field(default_factory=list)
    unwanted_pairs: list[tuple[Pair, str, tuple[str, ...]]] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------


def load_labels(path: Path) -> tuple[list[Judgement], list[str]]:
    """The judgements, and one error line per line that could not be read (skipped)."""
    return read_judgements(path, _judgement, lambda j: j.pair, lambda j: str(j.pair))


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
                        body=row["article_content"], published=fakes_published(row["date"])))
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
) -> tuple[set[Pair], dict[Pair, tuple[str, ...]]]:
    """The pairs the rules alert on, and the pairs they match but hold back (watcher.yaml's
    context.exclude, a rule's exclude:) with the labels that held them; a pair is alerted
    when any of its article's versions is matched and not held back."""
    keys = [key for key, texts in articles.items() for _ in texts]
    flat = [text for texts in articles.values() for text in texts]
    matched: set[Pair] = set()
    held: dict[Pair, tuple[str, ...]] = {}
    for (corpus, article), matches in zip(keys, matcher.match_many(flat), strict=True):
        for match in matches:
            pair = (corpus, article, match.rule_id)
            if match.held:
                held.setdefault(pair, match.held)
            else:
                matched.add(pair)
    return matched, {pair: labels for pair, labels in held.items() if pair not in matched}


# -- counting -----------------------------------------------------------------------------


def measure_quality(
    labels: Path = LABELS_FILE,
    rules: Path = RULES_DIR,
    fakes_file: Path = FAKES_FILE,
    seeds_dir: Path = SEEDS_DIR,
    analyzer: Analyzer | None = None,
    exclude: Sequence[ContextLabelName] | None = None,
) -> QualityReport:
    """Run the rules at `rules` over the judged articles and count against the labels;
    with `exclude`, every rule holds back the matches whose context carries those labels
    (in place of its own `exclude:`), and held-back matches are no alerts."""
    judgements, errors = load_labels(labels)
    rule_set = load_rules(rules)
    if exclude is not None:
        every = tuple(exclude)
        rule_set = replace(rule_set, rules=tuple(replace(r, exclude=every) for r in rule_set.rules))
    matcher = Matcher(rule_set, analyzer or Analyzer())
    rule_ids = [rule.id for rule in matcher.rules.rules]
    articles = load_articles({(j.corpus, j.article) for j in judgements}, fakes_file, seeds_dir)
    matched, held = current_matches(matcher, articles)
    report = tally(judgements, matched, rule_ids, set(articles), str(rules), errors)
    report.exclude = tuple(exclude or ())
    report.held = held_back(judgements, held)
    report.labels_name = labels.name
    return report


def measure_as_judged(labels: Path = FRESH_FILE, rules: Path = RULES_DIR) -> QualityReport:
    """The set counted against its own `matched`: the alerts of the commit it was judged
    at, which no run can match with again. Only for a set whose every line was judged
    against that one commit (fresh.jsonl; not labels.jsonl, whose later lines were not)."""
    judgements, errors = load_labels(labels)
    rule_ids = [rule.id for rule in load_rules(rules).rules]
    report = tally(judgements, {j.pair for j in judgements if j.matched}, rule_ids,
                   {(j.corpus, j.article) for j in judgements}, str(labels), errors)
    report.labels_name = labels.name
    return report


def held_back(judgements: Sequence[Judgement], held: dict[Pair, tuple[str, ...]]) -> HeldBack:
    """What holding back cost and gained, by the judgements of the held pairs."""
    by_pair = {j.pair: j for j in judgements}
    result = HeldBack()
    for pair, labels in sorted(held.items()):
        judgement = by_pair.get(pair)
        if judgement is None:
            result.unjudged.append((pair, labels))
        elif judgement.wanted:
            result.wanted.append((pair, labels))
        else:
            reason = judgement.reason or "other"
            result.unwanted[reason] += 1
            result.unwanted_pairs.append((pair, reason, labels))
    return result


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
        no_longer_wanted={
            j.pair for j in usable if j.matched and j.wanted and j.pair not in matched},
        errors=list(errors),
        judged_alerts=Counter(j.wanted for j in usable if j.matched),
        still_unwanted=[(j.pair, j.reason or "other") for j in sorted(usable, key=_by_pair)
                        if j.matched and not j.wanted and j.pair in matched],
    )


def _by_pair(judgement: Judgement) -> Pair:
    return judgement.pair


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


@dataclass(frozen=True)
class HeldOut:
    """A sample held out from the tuning, and what its report says about it: its `matched`
    records one commit's rules, so each sample's "then" differs."""

    path: Path
    title: str  # its heading: "The fresh held-out sample"
    about: str  # who judged it, how it was drawn, what looked at it since
    judged_at: str  # what its `matched` is, for issue 17's target line
    then: str  # the heading of the table counted from its `matched`


FRESH_SAMPLE = HeldOut(
    FRESH_FILE, "The fresh held-out sample",
    "A second judge's sample of FA-KES articles outside labels.jsonl, judged by CRITERIA.md "
    "unchanged, drawn after the rules were tuned on labels.jsonl; the changes made after it "
    "was first measured (47% then), which looked at it, are listed in SOURCE.txt, so for them "
    "it is held out no longer (how it was drawn: SOURCE.txt, \"the fresh sample\"). Each "
    "line's `matched` is what the rules of fdcaee8 did, so the set also measures those rules "
    "(\"Then\" below).",
    "the rules of fdcaee8", "the alerts of fdcaee8 (each line's `matched`)")
THIRD_SAMPLE = HeldOut(
    THIRD_FILE, "The third held-out sample",
    "A third judge's sample of FA-KES articles in neither labels.jsonl nor fresh.jsonl, "
    "judged by CRITERIA.md unchanged and committed before any number was computed on it, "
    "blind to what the rules hold back; no tuning had looked at it (how it was drawn: "
    "SOURCE.txt, \"the third sample\"; `python -m bench.quality_draw`). Each line's "
    "`matched` is whether the rules of 62a6fbe match the pair, held back or not, so the "
    "target below counts what holding back (and any rule change since) gains and loses "
    "against those matches, not against the alerts of fdcaee8.",
    "the matches of 62a6fbe, held back or not",
    "the matches of 62a6fbe holding nothing back (each line's `matched`)")
FOURTH_SAMPLE = HeldOut(
    FOURTH_FILE, "The fourth held-out sample",
    "A fourth judge's sample of FA-KES articles in none of labels.jsonl, fresh.jsonl and "
    "fresh3.jsonl, drawn the fresh sample's way (articles the rules of fdcaee8 or of 62a6fbe "
    "match) when the third sample was being used for tuning, judged by CRITERIA.md unchanged "
    "and committed before any number was computed on it, blind to what the rules hold back; "
    "no tuning looks at it (how it was drawn: SOURCE.txt, \"the fourth sample\"; `python -m "
    "bench.quality_draw --before`). Each line's `matched` is what the rules of fdcaee8 did, "
    "as in fresh.jsonl, so the target below counts every change since fdcaee8.",
    FRESH_SAMPLE.judged_at, FRESH_SAMPLE.then)
FIFTH_SAMPLE = HeldOut(
    FIFTH_FILE, "The fifth held-out sample",
    "A fifth judge's sample: every FA-KES article in none of the four sets above that the "
    "rules of fdcaee8 or of b31bf27 match (90, the pool used up), drawn as the fourth was "
    "when the fourth was being used for tuning, judged by CRITERIA.md unchanged and committed "
    "before any number was computed on it, blind to what the rules hold back; no tuning looks "
    "at it (SOURCE.txt, \"the fifth sample\"). Each line's `matched` is what the rules of "
    "fdcaee8 did, so the target below counts every change since fdcaee8.",
    FRESH_SAMPLE.judged_at, FRESH_SAMPLE.then)
HELD_OUT = (FRESH_SAMPLE, THIRD_SAMPLE, FOURTH_SAMPLE, FIFTH_SAMPLE)


@dataclass(frozen=True)
class FreshSample:
    """A held-out sample under the rules measured, and under the matches of the commit it
    was judged at (its `matched`)."""

    now: QualityReport
    then: QualityReport
    sample: HeldOut = FRESH_SAMPLE


@dataclass(frozen=True)
class QualityPart:
    """bench.run's quality part: the rules as written (with their own `exclude:`), holding
    nothing back, and holding back by every context label; and the held-out samples."""

    written: QualityReport
    held: QualityReport
    unheld: QualityReport | None = None
    held_out: tuple[FreshSample, ...] = ()


def measure_quality_part(analyzer: Analyzer | None = None) -> QualityPart:
    return QualityPart(measure_quality(analyzer=analyzer),
                       measure_quality(analyzer=analyzer, exclude=CONTEXT_LABELS),
                       measure_quality(analyzer=analyzer, exclude=()),
                       tuple(measure_fresh(sample, analyzer=analyzer) for sample in HELD_OUT))


def measure_fresh(
    sample: HeldOut = FRESH_SAMPLE,
    rules: Path = RULES_DIR,
    fakes_file: Path = FAKES_FILE,
    analyzer: Analyzer | None = None,
) -> FreshSample:
    return FreshSample(measure_quality(sample.path, rules, fakes_file, SEEDS_DIR, analyzer),
                       measure_as_judged(sample.path, rules), sample)


def render_quality_part_table(part: QualityPart) -> str:
    held_out = "".join("\n\n" + render_fresh_markdown(fresh) for fresh in part.held_out)
    return render_quality_table(part.written) + held_out


def render_quality_part_markdown(part: QualityPart) -> str:
    held_out = "".join("\n" + render_fresh_markdown(fresh) for fresh in part.held_out)
    return (render_quality_markdown(part.written) + "\n" + render_target_markdown(part.written)
            + "\n" + render_held_markdown(part.unheld or part.written, part.held) + held_out)


def render_target_markdown(report: QualityReport, before: Path = BEFORE_FILE) -> str:
    """Issue 17's target against the alerts when the set was judged, and the per-rule table
    of then (kept in `before`, as no run can measure the old rules again)."""
    lines = [
        "### Against the alerts when the set was judged (issue 17's target)",
        "",
        *_target_lines(report, "the rules at the judged commit, SOURCE.txt"),
    ]
    if before.exists():
        lines += ["", before.read_text(encoding="utf-8").rstrip("\n")]
    return "\n".join(lines) + "\n"


def render_fresh_markdown(fresh: FreshSample) -> str:
    """A held-out sample: issue 17's target counted the same way as for labels.jsonl,
    then its tables now and at the commit it was judged at."""
    sample, name = fresh.sample, fresh.now.labels_name
    lines = [
        f"### {sample.title} ({name}, issue 17's target again)",
        "",
        sample.about,
        "",
        *_target_lines(fresh.now, f"{sample.judged_at}, {name}'s `matched`"),
        "",
        "#### Now: the rules measured above",
        "",
        *_tables(fresh.now),
        "",
        f"#### Then: {sample.then}",
        "",
        *_summary(fresh.then),
        "",
        *_rows("rule", fresh.then.by_rule),
    ]
    return "\n".join(lines) + "\n"


def _target_lines(report: QualityReport, judged_at: str) -> list[str]:
    """Of the alerts at the judged commit (`matched`): the unwanted gone or held back now,
    the wanted lost, against issue 17's target; and which."""
    judged_wanted, judged_unwanted = report.judged_alerts[True], report.judged_alerts[False]
    lost = sorted(report.no_longer_wanted)
    gone = len(report.no_longer_matched) - len(lost)
    gone_share = gone / judged_unwanted if judged_unwanted else 0.0
    lost_share = len(lost) / judged_wanted if judged_wanted else 0.0
    met = gone_share >= TARGET_GONE and lost_share <= TARGET_LOST
    return [
        f"Of the {judged_unwanted} alerts judged unwanted ({judged_at}), {gone} "
        f"({ratio(gone_share)}) are gone or held back now (target: at least "
        f"{TARGET_GONE:.0%}); of the {judged_wanted} judged wanted, {len(lost)} "
        f"({ratio(lost_share)}) are lost (target: at most {TARGET_LOST:.0%}). "
        f"Target {'met' if met else 'NOT met'}.",
        "",
        "Wanted alerts lost:",
        "",
        *(f"- {' / '.join(pair)}" for pair in lost),
        "",
        "Unwanted alerts still sent (judged reason):",
        "",
        *(f"- {' / '.join(pair)} ({reason})" for pair, reason in report.still_unwanted),
    ]


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


def render_held_markdown(before: QualityReport, after: QualityReport) -> str:
    """RESULTS.md's account of holding back by context (issue 17): the same set with every
    rule excluding `after.exclude`, against `before`: the rules holding nothing back."""
    held = after.held or HeldBack()
    labelled = sum(before.overall.reasons[label] for label in CONTEXT_LABELS)
    gone = sum(held.unwanted[label] for label in CONTEXT_LABELS)
    lost = len(held.wanted)
    wanted = before.overall.wanted_alerts
    lines = [
        f"### Held back by context (`exclude: [{', '.join(after.exclude)}]` on every rule)",
        "",
        "`python -m bench.quality --exclude " + ",".join(after.exclude) + "` runs the set with "
        "every rule holding back the matches whose context carries these labels, against "
        "the same rules holding nothing back (the rules as written hold back per their own "
        "`exclude:`, in the tables above; watcher/engine/context.py; FA-KES articles dated "
        "by the `date` column, seed articles by their `Published` line). A match is held "
        "back when every sentence that states its event (where one of its NEARs holds "
        "inside the sentence; else every sentence holding its words) carries an excluded "
        "label, so one plain report of the event keeps its alert: the lists below show "
        "which were held and why.",
        "",
        "| | holding nothing | held back | after |",
        "|---|---|---|---|",
        f"| unwanted alerts | {before.overall.unwanted_alerts} | {sum(held.unwanted.values())} "
        f"| {after.overall.unwanted_alerts} |",
        f"| of them judged {'/'.join(CONTEXT_LABELS)} | {labelled} | {gone} "
        f"({ratio(gone / labelled if labelled else None)}) | {labelled - gone} |",
        f"| wanted alerts | {wanted} | {lost} ({ratio(lost / wanted if wanted else None)}) "
        f"| {after.overall.wanted_alerts} |",
        f"| unjudged alerts | {before.overall.unjudged} | {len(held.unjudged)} "
        f"| {after.overall.unjudged} |",
        f"| precision | {ratio(before.overall.precision)} | | {ratio(after.overall.precision)} |",
        f"| recall | {ratio(before.overall.recall)} | | {ratio(after.overall.recall)} |",
        "",
        "Unwanted alerts held back:",
        "",
        *(f"- {' / '.join(pair)} (judged {reason}; held as {', '.join(labels)})"
          for pair, reason, labels in held.unwanted_pairs),
        "",
        "Wanted alerts lost:",
        "",
        *(f"- {' / '.join(pair)} (held as {', '.join(labels)})" for pair, labels in held.wanted),
    ]
    return "\n".join(lines) + "\n"


def _summary(report: QualityReport) -> Iterable[str]:
    overall = report.overall
    yield (f"{report.judgements} judgements; {overall.alerts} alerts on the judged articles "
           f"({overall.unjudged} unjudged); precision {ratio(overall.precision)}, recall "
           f"{ratio(overall.recall)} (over {overall.wanted_total} pairs judged wanted).")


def _tables(report: QualityReport) -> Iterable[str]:
    overall = report.overall
    yield from _summary(report)
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
        Column("precision", lambda item: ratio(item[1].precision)),
        Column("judged wanted", lambda item: item[1].wanted_total),
        Column("recall", lambda item: ratio(item[1].recall)),
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
        (f"Unjudged alerts (judge and add them to {report.labels_name})",
         [" / ".join(p) for p in report.unjudged]),
        ("Judged pairs the rules match now but did not when judged",
         [" / ".join(p) for p in report.now_matched]),
        ("Judged pairs the rules matched when judged but no longer match",
         [" / ".join(p) for p in report.no_longer_matched]),
        ("Judged articles not found (left out)", [" / ".join(a) for a in report.missing_articles]),
        ("Judged rules no longer in the rule set (left out)", report.missing_rules),
        ("Lines of labels.jsonl skipped", report.errors),
    ]
    return notice_lines(sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=Path, default=RULES_DIR, help="rules file or folder")
    parser.add_argument("--labels", type=Path, default=LABELS_FILE)
    parser.add_argument("--fakes", type=Path, default=FAKES_FILE, help="FA-KES CSV")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="seeds folder")
    parser.add_argument("--exclude", type=_labels, metavar="LABELS",
                        help="comma-separated context labels every rule holds back "
                             f"({','.join(CONTEXT_LABELS)}); shows what that gains and loses")
    args = parser.parse_args(argv)
    try:
        # With --exclude, the rules holding nothing back are the "before" of what it holds.
        report = measure_quality(args.labels, args.rules, args.fakes, args.seeds,
                                 exclude=None if args.exclude is None else ())
        held = None if args.exclude is None else measure_quality(
            args.labels, args.rules, args.fakes, args.seeds, exclude=args.exclude)
    except (OSError, WatcherError) as error:
        print(f"bench.quality: {error}")
        return 1
    print(render_quality_table(report if held is None else held))
    if held is not None:
        print()
        print(render_held_markdown(report, held))
    return 0


def _labels(text: str) -> tuple[ContextLabelName, ...]:
    labels = tuple(label.strip() for label in text.split(",") if label.strip())
    unknown = [label for label in labels if label not in CONTEXT_LABELS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown context label {unknown[0]!r} (known: {', '.join(CONTEXT_LABELS)})")
    return cast(tuple[ContextLabelName, ...], labels)


if __name__ == "__main__":
    raise SystemExit(main())
