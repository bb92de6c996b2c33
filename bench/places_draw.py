"""`python -m bench.places_draw`: candidates for a fresh judged sample of place spellings.

The places set (bench/data/places/labels.jsonl) was drawn by SOURCE.txt's two nets: the
current `~"Target"` matches (a) and a wider net of look-alikes and known alternate names
(b). The per-place lists behind `~` were tuned on that set, so its numbers are an upper
bound. This draws the same nets again over FA-KES and the seeds, for the same targets,
leaves out every spot labels.jsonl judged (for any target), and samples what is left:
per target, at most PER_FORM occurrences of each form, with random.Random(FRESH_SEED).
It prints one unjudged line per occurrence in labels.jsonl's format (`refers`, `reason`
and `note` empty) for a second judge, and nothing of whether `~` matched it.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import DATA_FILE as FAKES_FILE
from bench.corpus import fakes_published
from bench.places import (
    FIELDS,
    LABELS_FILE,
    SEEDS_DIR,
    Key,
    Occurrence,
    load_labels,
    matched_spots,
    place_matcher,
)
from watcher.model import Article
from watcher.sources.seeds import read_seed_file
from watcher.text.analysis import Analyzer
from watcher.text.variants import fold, is_article

FRESH_SEED = 2026
PER_FORM = 4  # occurrences drawn of each (target, form)
CONTEXT = 60  # characters either side in a line's `context`, as labels.jsonl has them
MAX_ALTERNATE_WORDS = 3

# Known other names and spellings of each target, written from the judge's knowledge
# before any judging (SOURCE.txt, net b); the examples SOURCE.txt lists are all here.
ALTERNATE_NAMES: dict[str, tuple[str, ...]] = {
    "Abu Kamal": ("Al-Bukamal", "Albukamal", "Bukamal", "Boukamal", "Albu Kamal",
                  "Abukamal", "Abu Kemal", "Al Boukamal"),
    "Afrin": ("Efrin", "Afreen", "Ifrin", "Afrine"),
    "Ain al-Arab": ("Kobani", "Kobane", "Ayn al-Arab", "Ein al-Arab", "Kobanî"),
    "Aleppo": ("Halab", "Haleb", "Halep", "Alep"),
    "Anadan": ("Anadaan", "Enadan", "Indan"),
    "Ashrafieh": ("Ashrafiyeh", "Ashrafiyah", "Ashrafiya", "Achrafieh", "Ashrafiye",
                  "Ashrafiyya"),
    "Atareb": ("Atarib", "Al-Atarib", "Atharib"),
    "Azaz": ("Aazaz", "A'zaz", "Izaz", "Azez"),
    "Bab al-Hadid": ("Bab al-Hadeed", "Bab Hadid"),
    "Bani Zaid": ("Bani Zeid", "Bani Zayd", "Beni Zaid", "Bani Zeyd"),
    "Bustan al-Qasr": ("Bustan al-Kasr", "Bostan al-Qasr", "Bustan Qasr"),
    "Dabiq": ("Dabeq", "Dabik"),
    "Damascus": ("Dimashq", "Damas", "Sham", "Damaskus", "Dimashk"),
    "Daraa": ("Deraa", "Dar'a", "Dara'a", "Deraah", "Derra"),
    "Daraya": ("Darayya", "Darayah", "Dariya", "Dareya", "Daria"),
    "Deir Hafer": ("Dayr Hafir", "Deir Hafir", "Dair Hafer"),
    "Deir ez-Zor": ("Deir Ezzor", "Dayr az-Zawr", "Deir el-Zour", "Deir al-Zour",
                    "Deir Ezzour", "Dair al-Zur", "Deirezzor", "Deir Ezour", "Der Ezzor"),
    "Douma": ("Duma", "Doumah", "Dooma"),
    "Duhok": ("Dohuk", "Dahuk", "Dihok", "Dahok"),
    "Erbil": ("Irbil", "Arbil", "Hawler", "Hewler", "Arbela"),
    "Hama": ("Hamah", "Hamat", "Hamath"),
    "Hamdaniyeh": ("Hamdaniya", "Hamadaniyah", "Hamdaniyah", "Hamdaniye", "Hamadaniyeh"),
    "Hanano": ("Hananu", "Masaken Hanano"),
    "Haritan": ("Huraytan", "Hreitan", "Hraytan", "Hritan"),
    "Hasakah": ("Hasaka", "Hasakeh", "Hassakeh", "Hasake", "Hasseke", "Haseke", "Hesice",
                "Hasiçe"),
    "Homs": ("Hims", "Hums", "Emesa"),
    "Idlib": ("Idleb", "Edlib", "Idlip", "Edleb"),
    "Jarablus": ("Jarabulus", "Jerablus", "Jarabalus", "Cerablus", "Jarabulos"),
    "Khan Touman": ("Khan Tuman", "Khan Toman"),
    "Kirkuk": ("Kerkuk", "Karkuk"),
    "Kobani": ("Kobane", "Ayn al-Arab", "Ain al-Arab", "Kobanî", "Ein al-Arab"),
    "Latakia": ("Lattakia", "Ladhiqiyah", "Latakiya", "Lattakiya", "Laodicea", "Latakieh"),
    "Makhmour": ("Makhmur", "Mexmur", "Makhmoor"),
    "Manbij": ("Menbij", "Mambij", "Minbij", "Manbej", "Mabug"),
    "Maskanah": ("Maskana", "Meskene", "Meskeneh", "Maskaneh"),
    "Mayadin": ("Mayadeen", "Meyadin", "Mayadine"),
    "Mosul": ("Mawsil", "Mossoul", "Musul"),
    "Palmyra": ("Tadmur", "Tadmor", "Tudmur"),
    "Qamishli": ("Qamishlo", "Kamishli", "Qameshli", "Qamishly", "Kamechliye", "Qamişlo"),
    "Quneitra": ("Qunaitra", "Kuneitra", "Qunaytirah", "Quneitrah"),
    "Raqqa": ("Raqa", "Raqqah", "Rakka", "Arraqqa", "Rakkah"),
    "Ras al-Ain": ("Ras al-Ayn", "Serekaniye", "Sere Kaniye", "Ras el-Ain", "Resulayn"),
    "Rashidin": ("Rashideen", "Rashedin", "Rashdeen"),
    "Safira": ("Safirah", "Sfeira", "Sfireh"),
    "Salah al-Din": ("Salaheddine", "Salahuddin", "Salah Eddin", "Salaheddin", "Saladin"),
    "Shaddadi": ("Shaddadeh", "Shadadi", "Shaddadah", "Shedadi"),
    "Sheikh Maqsoud": ("Sheikh Maqsood", "Sheikh Maksoud", "Sheikh Maqsud",
                       "Shaikh Maqsoud", "Sheikh Maghsoud"),
    "Sinjar": ("Shingal", "Shengal"),
    "Sukkari": ("Sukkary", "Sukari", "Sekkari"),
    "Sweida": ("Suwayda", "Suwaida", "Sweyda", "Soueida", "Swaida"),
    "Tabqa": ("Tabaqa", "Thawra", "Tabqah", "Thawrah"),
    "Tal Abyad": ("Tell Abyad", "Tel Abyad", "Gire Spi", "Tal Abiad", "Tell Abiad"),
    "Tal Afar": ("Tel Afar", "Tall Afar", "Talafar", "Telafer"),
    "Tal Brak": ("Tel Brak", "Tell Brak"),
    "Tal Rifaat": ("Tel Rifaat", "Tal Rifat", "Tell Rifaat", "Tal Refaat"),
    "Tal Tamr": ("Tal Tamer", "Tel Tamr", "Tell Tamer", "Tel Tamer", "Tell Tamr"),
    "al-Bab": ("Albab",),
    "al-Hol": ("al-Hawl", "Hol", "Hawl", "al-Hole"),
    "al-Shahba": ("Shahbaa", "al-Shahbaa"),
}  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_ARTICLE_BEFORE = re.compile(r"\b([^\W\d_]{2,3})([- ])$")
# The articles SOURCE.txt drops when fused (*Albab*) and counts before a space (*al Bab*).
_AL = ("al", "el")
_SHORT_TARGET = 5  # letters: edit distance 1 up to this, 2 above


@dataclass(frozen=True)
class Word:
    """A word of a text and where it stands."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    """One spot to judge for one target: `form` is the text at [start, end) of the field."""

    target: str
    corpus: str
    article: str
    field: str
    start: int
    end: int
    form: str

    @property
    def key(self) -> Key:
        return (self.corpus, self.article)


# -- the texts ----------------------------------------------------------------------------


def corpus_articles(fakes_file: Path = FAKES_FILE, seeds_dir: Path = SEEDS_DIR
                    ) -> dict[Key, Article]:
    """Every FA-KES article (the first row of a repeated unit id, as the set was drawn) and
    every seed article, by (corpus, id)."""
    articles: dict[Key, Article] = {}
    with fakes_file.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            articles.setdefault(("fakes", row["unit_id"]), Article(
                id=row["unit_id"], title=row["article_title"], body=row["article_content"],
                published=fakes_published(row["date"])))
    for path in sorted(seeds_dir.glob("*.txt")):
        for article in read_seed_file(path):
            articles.setdefault(("seeds", article.id), article)
    return articles


def words(text: str) -> list[Word]:
    """Letters with apostrophes inside; hyphens and everything else split words."""
    return [Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


# -- net b: look-alikes and alternate names -----------------------------------------------


def folded_name(name: str) -> str:
    """A name's words folded, articles dropped, joined by a space (`deir zor`)."""
    return " ".join(fold(w.text) for w in words(name) if not is_article(w.text))


def within_edits(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of a and b at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char != other)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def looks_like(spelling: str, target: str) -> bool:
    """SOURCE.txt's look-alike test on folded spellings: the target's first letter and
    within 1 edit (targets of at most 5 letters) or 2, also after dropping a fused al/el;
    or the target plus a final s (a possessive without its apostrophe)."""
    if spelling == target + "s":
        return True
    limit = 1 if len(target.replace(" ", "")) <= _SHORT_TARGET else 2
    spellings = [spelling] + [spelling[2:] for article in _AL
                              if spelling.startswith(article) and len(spelling) > 2]
    return any(s[:1] == target[:1] and within_edits(s, target, limit) for s in spellings)


class Net:
    """Net b for a list of targets: capitalised runs of as many words as the target has
    (articles skipped) that look like it, and runs of 1 to 3 words that are one of its
    alternate names (ALTERNATE_NAMES)."""

    def __init__(self, targets: Sequence[str]) -> None:
        self.folded = {target: folded_name(target) for target in targets}
        self.lengths = sorted({len(f.split()) for f in self.folded.values()}
                              | set(range(1, MAX_ALTERNATE_WORDS + 1)))
        # targets by word count and first letter: a run is only compared with those it can be
        self.by_start: dict[tuple[int, str], list[str]] = defaultdict(list)
        for target, name in self.folded.items():
            self.by_start[name.count(" ") + 1, name[:1]].append(target)
        self.alternates: dict[str, set[str]] = defaultdict(set)
        for target in targets:
            for name in ALTERNATE_NAMES.get(target, ()):
                self.alternates[folded_name(name)].add(target)

    def spans(self, text: str) -> dict[str, set[tuple[int, int]]]:
        """The spans each target's net finds in one field."""
        found: dict[str, set[tuple[int, int]]] = defaultdict(set)
        content = [w for w in words(text) if not is_article(w.text)]
        folded = [fold(w.text) for w in content]
        for length in self.lengths:
            for index in range(len(content) - length + 1):
                spelling = " ".join(folded[index:index + length])
                span = (content[index].start, content[index + length - 1].end)
                for target in self.alternates.get(spelling, ()):
                    found[target].add(span)
                if content[index].text[:1].isupper():
                    for target in self._looking_like(spelling, length):
                        found[target].add(span)
        return found

    def _looking_like(self, spelling: str, length: int) -> Iterator[str]:
        starts = {spelling[:1]} | {spelling[2:3] for article in _AL
                                   if spelling.startswith(article)}
        for start in starts:
            for target in self.by_start.get((length, start), ()):
                if looks_like(spelling, self.folded[target]):
                    yield target


# -- both nets, one candidate per spot ----------------------------------------------------


def with_article(text: str, start: int) -> int:
    """Where the form starts: an attached Arabic article in front (`al-`, `ar-`, or `al`
    and a space) is part of it."""
    before = _ARTICLE_BEFORE.search(text[max(0, start - 8):start])
    if before is None:
        return start
    word, separator = before.groups()
    attached = separator == "-" and is_article(word)
    spaced = separator == " " and fold(word) in _AL
    return start - len(before.group()) if attached or spaced else start


def merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans as one (the union of the nets' spans at a spot)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def candidates(
    targets: Sequence[str], articles: dict[Key, Article], analyzer: Analyzer
) -> list[Candidate]:
    """Every (target, spot) either net finds: `~"Target"`'s matched spans (a) and net b."""
    matched = matched_spots(place_matcher(targets, analyzer), targets, articles)
    net = Net(targets)
    found = []
    for key, article in articles.items():
        for name in FIELDS:
            text = getattr(article, name)
            spans = net.spans(text)
            for target in targets:
                spots = spans.get(target, set()) | {
                    (start, end) for field, start, end in matched.get((target, key), ())
                    if field == name}
                for start, end in merged(spots):
                    begin = with_article(text, start)
                    found.append(Candidate(target, *key, name, begin, end, text[begin:end]))
    return found


# -- holding out and drawing --------------------------------------------------------------


def held_out(found: Iterable[Candidate], judged: Iterable[Occurrence]) -> list[Candidate]:
    """The candidates no line of the first set overlaps, whatever target it judged."""
    spots: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for occurrence in judged:
        spots[occurrence.corpus, occurrence.article, occurrence.field].append(
            (occurrence.offset, occurrence.end))
    return [c for c in found
            if not any(start < c.end and c.start < end
                       for start, end in spots.get((c.corpus, c.article, c.field), ()))]


def draw(found: Iterable[Candidate], rng: random.Random, per_form: int = PER_FORM
         ) -> list[Candidate]:
    """Per target and form (case-sensitive), every occurrence when there are at most
    `per_form`, else `per_form` drawn by `rng`; targets and forms in sorted order, so one
    seed gives one sample."""
    by_form: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in found:
        by_form[candidate.target, candidate.form].append(candidate)
    sample = []
    for key in sorted(by_form):
        spots = sorted(by_form[key], key=_spot)
        drawn = rng.sample(spots, per_form) if len(spots) > per_form else spots
        sample += sorted(drawn, key=_spot)
    return sample


def _spot(candidate: Candidate) -> tuple[str, str, str, int]:
    return (candidate.corpus, candidate.article, candidate.field, candidate.start)


def context(text: str, start: int, end: int, width: int = CONTEXT) -> str:
    """About `width` characters either side, whitespace collapsed."""
    return " ".join(text[max(0, start - width):end + width].split())


def fresh_sample(
    labels: Path = LABELS_FILE,
    fakes_file: Path = FAKES_FILE,
    seeds_dir: Path = SEEDS_DIR,
    analyzer: Analyzer | None = None,
) -> tuple[list[Candidate], dict[Key, Article]]:
    """The drawn sample for the first set's targets, held out from its spots."""
    judged, _ = load_labels(labels)
    targets = sorted({o.target for o in judged})
    articles = corpus_articles(fakes_file, seeds_dir)
    found = held_out(candidates(targets, articles, analyzer or Analyzer()), judged)
    return draw(found, random.Random(FRESH_SEED)), articles


def unjudged_line(candidate: Candidate, article: Article) -> dict[str, object]:
    """labels.jsonl's format with the judgement left for the judge."""
    text = getattr(article, candidate.field)
    return {"target": candidate.target, "form": candidate.form, "corpus": candidate.corpus,
            "article": candidate.article, "field": candidate.field,
            "offset": candidate.start,
            "context": context(text, candidate.start, candidate.end),
            "refers": None, "reason": None, "note": ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.places_draw", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=LABELS_FILE,
                        help="the set to hold out from (its targets are drawn for)")
    parser.add_argument("--fakes", type=Path, default=FAKES_FILE, help="FA-KES CSV")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="seeds folder")
    args = parser.parse_args(argv)
    sample, articles = fresh_sample(args.labels, args.fakes, args.seeds)
    for candidate in sample:
        print(json.dumps(unjudged_line(candidate, articles[candidate.key]),
                         ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
