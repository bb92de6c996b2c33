"""`python -m bench.quality_draw`: the pairs of a held-out quality sample, for a judge.

Why: the rules are tuned looking at labels.jsonl and fresh.jsonl, so their figures flatter
the rules; a sample no tuning has looked at must be drawn the same way each time, blind to
what the rules hold back. This lists the FA-KES articles in no judged set (labels.jsonl and
every held-out sample, `--judged`) on which the current rules match any rule (held back or
not), shuffled with a fixed seed, taken in that order until they hold `--pairs` matched
pairs; then every matched pair on them and the recall candidates (pairs no rule matches
where a place pattern and an event pattern of the rule both occur: SOURCE.txt's patterns,
wider than any rule). It prints one JSON line per pair (corpus, article, rule, matched) and
never which matches are held back, nor why.

`--before REV` draws as the fresh sample was drawn: the rules and matcher of REV (exported
with `git archive`, run in a process of its own) match too; an article is eligible when
either rule set matches it, articles are taken until they hold `--pairs` pairs of REV, every
pair either matches is judged, and `matched` is whether REV matched the pair.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.quality import (
    FAKES_FILE,
    HELD_OUT,
    LABELS_FILE,
    RULES_DIR,
    SEEDS_DIR,
    Pair,
    current_matches,
    load_articles,
    load_labels,
)
from bench.revisions import export_revision
from watcher.engine.matcher import Matcher
from watcher.model import Article
from watcher.rules.load import load_rules
from watcher.text.analysis import Analyzer

# SOURCE.txt's candidate patterns (the first sample's), unchanged: case-insensitive,
# anywhere in title or body.
ALEPPO = (r"aleppo|halab|sheikh maq|ashrafi|shahba|bani ze?i?d|bab al-hadid|hanano|"
          r"salah al-?din|sukkari|bustan al-qasr|hamdaniy|deir hafe?r|maskan|manbij|"
          r"al-bab\b|azaz|a'zaz|afrin|tal rif|tel rif|jarablus|koban|ain al-arab|"
          r"atare?i?b|safira|khan touman|castello|haritan|anadan|rashidin|ramous")
KURDISH = r"sheikh maq|ashrafi|shahba|bani ze?i?d"
NORTHEAST = (r"qamish|hasak|ras al-a|amuda|d[ae]rbasi|malikiy|shaddad|tal tamr|tel tamr|"
             r"ta?e?l abyad|raqq|\braqa\b|tabqa|ain issa|deir e?z|deir al-z|deir el-z|"
             r"deir az|deir ez|al-hol|mayadin|bukamal|abu kamal|hajin")
IRAQ = (r"mosul|kirkuk|erbil|irbil|sinjar|duhok|dohuk|tal afar|makhmour|nineveh|ninawa|"
        r"tikrit|baiji|qayyar|sulaymani|hawija|bashiqa")
CLASH = (r"clash|fight|battle|skirmish|offensive|shell|exchange of fire|assault|attack|"
         r"advanc|repel|captur|ambush|rocket|mortar|gunfire|combat")
AIR = (r"drone|air ?strike|air raid|warplane|\bjets?\b|bomb|raid|strike|helicopter|barrel|"
       r"aircraft|air force|aerospace|sortie|planes")
SIEGE = r"siege|besieg|blockad|encircl|cut off|surround|trapped|starv|supply route"
EVACUATION = r"evacuat|corridor|safe passage|buses|leave the"
DISPLACEMENT = (r"displac|\bflee|\bfled|exodus|refugee|uproot|escap|camps?\b|homeless|"
                r"left their homes")
TALKS = r"negotiat|talks|mediat|agreement|\bdeal\b|dialogue|meeting"
KURDISH_ACTORS = r"\bsdf\b|syrian democratic|asayish|\bypg\b|\bpyd\b|autonomous administration|kurd"
GOVERNMENT = r"damascus|regime|government"
CEASEFIRE = r"ceasefire|cease-fire|truce|cessation|de-escalation|reconciliation|pause|\bhalt"
PEACE_PLACES = r"astana|sochi|geneva|vienna|lausanne"
PEACE_WORDS = r"talks|round|congress|negotiat|conference|meeting"

# rule -> the patterns that must all occur for a candidate (SOURCE.txt's rule -> patterns).
CANDIDATE_PATTERNS: dict[str, tuple[str, ...]] = {
    "aleppo-evacuation-order": (ALEPPO, EVACUATION),
    "evacuation-order-northeast": (NORTHEAST, EVACUATION),
    "displacement-syria": (f"{ALEPPO}|{NORTHEAST}|idlib", DISPLACEMENT),
    "aleppo-clashes": (ALEPPO, CLASH),
    "northeast-clashes": (NORTHEAST, CLASH),
    "drone-strikes-northeast": (NORTHEAST, AIR),
    "drone-strikes-aleppo": (ALEPPO, AIR),
    "iraq-north-strikes": (IRAQ, f"{CLASH}|{AIR}"),
    "aleppo-kurdish-siege": (KURDISH, SIEGE),
    "aleppo-siege": (ALEPPO, SIEGE),
    "northeast-siege": (NORTHEAST, SIEGE),
    "sdf-damascus-talks": (KURDISH_ACTORS, TALKS, GOVERNMENT),
    "syria-ceasefire": ("syria", CEASEFIRE),
    "syria-peace-process": (PEACE_PLACES, PEACE_WORDS),
}
SEED = 2027
TARGET_PAIRS = 150
ALL_CANDIDATES_BELOW = 10  # a rule with fewer candidates has all of them judged
CANDIDATES_PER_RULE = 5  # else this many, the first after shuffling
# Run under an exported revision (its own watcher package): every FA-KES row's matches.
MATCH_AT_REVISION = """
import csv, sys
from watcher.engine.matcher import Matcher
from watcher.model import Article
matcher = Matcher.from_path("rules")
with open(sys.argv[1], encoding="utf-8", errors="replace", newline="") as handle:
    for row in csv.DictReader(handle):
        text = Article(id=row["unit_id"], title=row["article_title"], body=row["article_content"])
        for match in matcher.match(text):
            print(row["unit_id"], match.rule_id, sep="\\t")
"""


@dataclass(frozen=True)
class Draw:
    """The sampled articles (in drawing order), their matched pairs and recall candidates."""

    articles: tuple[str, ...]
    matched: tuple[Pair, ...]
    candidates: tuple[Pair, ...]


# Every judged set: labels.jsonl and the held-out samples, none of whose articles is drawn
# again (a new sample is held out from all of them).
JUDGED = (LABELS_FILE, *(sample.path for sample in HELD_OUT))


def judged_articles(judged: Sequence[Path] = JUDGED) -> set[str]:
    """The FA-KES articles of the judged sets."""
    return {j.article for path in judged for j in load_labels(path)[0] if j.corpus == "fakes"}


def draw(
    rules: Path = RULES_DIR,
    judged: Sequence[Path] = JUDGED,
    target: int = TARGET_PAIRS,
    seed: int = SEED,
    before: set[Pair] | None = None,
    fakes: Path = FAKES_FILE,
) -> Draw:
    """The sample: articles outside `judged` that the rules (or `before`) match, by `seed`'s
    order, until they hold `target` pairs of `before` (of the rules when it is None)."""
    taken = judged_articles(judged)
    articles = load_articles(_fakes_ids(fakes), fakes, SEEDS_DIR)
    matcher = Matcher(load_rules(rules), Analyzer())
    alerted, held = current_matches(matcher, articles)
    current = alerted | set(held)  # held back or not: the judge must not know which
    counted = current if before is None else before
    matched = current | counted
    eligible = sorted({article for _, article, _ in matched} - taken)
    random.Random(seed).shuffle(eligible)
    chosen: list[str] = []
    pairs: list[Pair] = []
    for article in eligible:
        if sum(pair in counted for pair in pairs) >= target:
            break
        chosen.append(article)
        pairs += sorted(pair for pair in matched if pair[1] == article)
    texts = {article: articles["fakes", article] for article in chosen}
    return Draw(tuple(chosen), tuple(pairs), tuple(candidates(texts, set(pairs), seed)))


def matches_at(revision: str) -> set[Pair]:
    """The pairs the rules and matcher of `revision` match on FA-KES (an id matched when any
    of its rows is), run in a process of their own over the exported revision."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = export_revision(revision, Path(scratch))
        found = subprocess.run(
            [sys.executable, "-c", MATCH_AT_REVISION, str(FAKES_FILE)], cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
            check=True).stdout
    return {("fakes", *line.split("\t")) for line in found.splitlines()}


def candidates(texts: dict[str, list[Article]], matched: set[Pair], seed: int) -> list[Pair]:
    """Per rule, the unmatched pairs whose patterns all occur: all of them when fewer than
    ALL_CANDIDATES_BELOW, else the first CANDIDATES_PER_RULE after a shuffle seeded by rule."""
    chosen: list[Pair] = []
    for rule, patterns in CANDIDATE_PATTERNS.items():
        found = sorted(("fakes", article, rule) for article, versions in texts.items()
                       if ("fakes", article, rule) not in matched
                       and any(_all_occur(patterns, v) for v in versions))
        if len(found) >= ALL_CANDIDATES_BELOW:
            random.Random(f"{seed}:{rule}").shuffle(found)
            found = sorted(found[:CANDIDATES_PER_RULE])
        chosen += found
    return chosen


def _all_occur(patterns: Iterable[str], article: Article) -> bool:
    text = f"{article.title}\n{article.body}"
    return all(re.search(pattern, text, re.IGNORECASE) for pattern in patterns)


def _fakes_ids(path: Path) -> set[tuple[str, str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return {("fakes", row["unit_id"]) for row in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality_draw", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=Path, default=RULES_DIR, help="rules file or folder")
    parser.add_argument("--pairs", type=int, default=TARGET_PAIRS,
                        help="take articles until they hold this many matched pairs")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--judged", type=Path, nargs="+", default=list(JUDGED),
                        help="judged sets whose articles are not drawn again (default: "
                        "labels.jsonl and every held-out sample of bench.quality)")
    parser.add_argument("--before", metavar="REV",
                        help="also match with the rules of git revision REV; count its pairs")
    args = parser.parse_args(argv)
    before = None if args.before is None else matches_at(args.before)
    for line in judging_lines(draw(args.rules, args.judged, args.pairs, args.seed, before),
                              before):
        print(json.dumps(line))
    return 0


def judging_lines(sample: Draw, before: set[Pair] | None = None) -> list[dict[str, object]]:
    """One line per pair to judge; `matched` is whether `before` matched it (the rules when
    None), as a judged set's `matched` says what the rules it is counted against did."""
    matched = [(pair, before is None or pair in before) for pair in sample.matched]
    return [{"corpus": corpus, "article": article, "rule": rule, "matched": is_match}
            for (corpus, article, rule), is_match
            in matched + [(pair, False) for pair in sample.candidates]]


if __name__ == "__main__":
    raise SystemExit(main())
