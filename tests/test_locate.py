"""Every match located (issue 18, item 4): the gazetteer places its spans name, else those of
its article's title, each with coordinates and parents, in `watcher match` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import MatchFn
from watcher.cli.main import cli
from watcher.engine.core import Engine
from watcher.engine.locate import MAX_NAME_WORDS, MAX_PLACES, MAX_TITLE_CHARS, Locator
from watcher.model import Article, Match, Severity, Span
from watcher.places import Gazetteer, Place, load
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query
from watcher.text.analysis import Analyzer

SHEIKH_MAQSOUD = "watcher:aleppo-sheikh-maqsoud"
ALEPPO_PARENTS = ["Aleppo", "Mount Simeon District", "Aleppo Governorate", "Syria"]


def _places(match_query: MatchFn, query: str, body: str, title: str = "") -> list[str]:
    (found,) = match_query(query, body, title)
    return [place.id for place in found.places]


def test_a_span_naming_a_place_locates_the_match_with_coordinates_and_parents(
    match_query: MatchFn,
) -> None:
    (found,) = match_query("siege NEAR/5 \"Sheikh Maqsoud\"", "A siege on Sheikh Maqsoud began.")
    (place,) = found.places
    assert (place.id, place.name, place.kind) == (SHEIKH_MAQSOUD, "Sheikh Maqsoud",
                                                  "neighbourhood")
    assert place.latitude == pytest.approx(36.23, abs=0.05)
    assert place.longitude == pytest.approx(37.15, abs=0.05)
    assert [p.name for p in place.parents] == ALEPPO_PARENTS
    assert [p.kind for p in place.parents] == ["city", "district", "governorate", "country"]


def test_capitalised_words_that_are_no_place_name_none(match_query: MatchFn) -> None:
    places = _places(match_query, "siege NEAR/3 lifted", "Siege Lifted, Says Army.",
                     "Breaking News: Kurdish Forces Advance On Manbij")
    assert places == ["geonames:167357"]  # Manbij alone, from the title


def test_a_match_whose_spans_name_no_place_is_located_by_its_title(match_query: MatchFn) -> None:
    places = _places(match_query, "siege NEAR/3 lifted", "The siege was lifted.",
                     "Kurdish forces in Kobani and Manbij")
    assert places == ["geonames:172256", "geonames:167357"]  # Kobani, Manbij, in title order


def test_the_spans_places_come_before_the_titles(match_query: MatchFn) -> None:
    places = _places(match_query, "siege NEAR/5 Manbij", "The siege of Manbij.", "Kobani")
    assert places == ["geonames:167357"]


def test_a_possessive_and_a_place_inside_it_are_both_read_in_a_span(match_query: MatchFn) -> None:
    places = _places(match_query, "siege NEAR/5 \"Aleppo's Sheikh Maqsoud\"",
                     "The siege of Aleppo's Sheikh Maqsoud.")
    assert places == ["geonames:170063", SHEIKH_MAQSOUD]


def test_a_shared_name_is_the_place_in_the_area_of_the_articles_other_places(
    match_query: MatchFn,
) -> None:
    query = "shelling NEAR/5 Midan"
    assert _places(match_query, query, "Shelling hit Midan, near Sheikh Maqsoud.") == [
        "watcher:aleppo-midan"
    ]
    assert _places(match_query, query, "Shelling hit Midan.", "Damascus on edge") == [
        "watcher:damascus-midan"
    ]


def test_a_shared_name_prefers_the_region_then_the_most_populous(match_query: MatchFn) -> None:
    assert _places(match_query, "siege NEAR/5 Kobani", "The siege of Kobani.") == [
        "geonames:172256"  # not Mkoani in Tanzania, which GeoNames also calls Kobani
    ]
    assert _places(match_query, "siege NEAR/5 Aleppo", "The siege of Aleppo.") == [
        "geonames:170063"  # the city, not the governorate of the same bare name
    ]


def test_a_variant_spelling_that_names_no_place_is_the_rules_place(match_query: MatchFn) -> None:
    places = _places(match_query, "siege NEAR/5 ~\"Sheikh Maqsoud\"",
                     "The siege of Sheikh Maqsood went on.")
    assert places == [SHEIKH_MAQSOUD]


def _engine(analyzer: Analyzer, *queries: str) -> Engine:
    rules = [Rule(id=f"r{n}", title="test", query_text=q, query=parse_query(q))
             for n, q in enumerate(queries)]
    return Engine(Compiler(analyzer).compile(rules), analyzer)


def _located(engine: Engine, analyzer: Analyzer, article: Article) -> dict[str, list[str]]:
    return {m.rule_id: [p.id for p in m.places] for m in engine.match(analyzer.analyse(article))}


def test_an_engine_locates_an_article_as_if_it_were_its_first(analyzer: Analyzer) -> None:
    """What an engine keeps between articles (a name's places, by the name as written) never
    decides another's: MARI, an acronym, is Mari in Brazil; Mari is Māri‘ in Syria."""
    articles = [Article(id="upper", title="", body="Shelling near MARI resumed."),
                Article(id="lower", title="", body="Shelling near Mari resumed.")]
    query = "shelling NEAR/3 Mari"
    alone = {a.id: _located(_engine(analyzer, query), analyzer, a) for a in articles}
    assert alone == {"upper": {"r0": ["geonames:3395380"]}, "lower": {"r0": ["geonames:167245"]}}
    for order in (articles, articles[::-1]):
        engine = _engine(analyzer, query)
        assert {a.id: _located(engine, analyzer, a) for a in order} == alone


def test_matches_on_one_span_are_each_located_by_their_own_rule(analyzer: Analyzer) -> None:
    """An article's matches share their spans' places, but a `~Name` span is its rule's
    Name only for that rule: Aleppos is Aleppo for ~Aleppo, no place as written."""
    engine = _engine(analyzer, "siege NEAR/3 Aleppos", "siege NEAR/3 ~Aleppo")
    article = Article(id="a", title="Homs", body="The siege of Aleppos went on.")
    assert _located(engine, analyzer, article) == {
        "r0": ["geonames:169577"],  # the title's Homs: the span names no place as written
        "r1": ["geonames:170063"],  # Aleppo, the city
    }


def test_an_english_word_names_only_a_country(match_query: MatchFn) -> None:
    places = _places(match_query, "siege NEAR/3 lifted", "The siege was lifted.",
                     "Reading Human Rights Watch on Turkey")
    assert places == ["geonames:298795"]  # Turkey; not Reading (UK) nor Uman (Ukraine)


def test_a_person_or_organisation_named_like_a_place_abroad_is_no_place(
    match_query: MatchFn,
) -> None:
    query = "Hamas NEAR/5 strike"
    body = "Hamas said the strike killed 12."
    assert _places(match_query, query, body) == []  # not Hamm, Germany (alternate "Hamas")
    assert _places(match_query, query, body, "Shelling in Kobani") == ["geonames:172256"]


def test_the_levant_in_a_groups_name_is_no_place(match_query: MatchFn) -> None:
    """*Cham* (al-Sham, the Levant) is a GeoNames name of Damascus; in *Ahrar al-Cham* and
    the *Cham* TV network it is the Levant (FA-KES), like English *Sham*."""
    query = "Cham NEAR/5 leaders"
    body = "A meeting for leaders of Ahrar al-Cham was being held."
    assert _places(match_query, query, body) == []
    assert _places(match_query, query, body, "Raid near Damascus") == ["geonames:170654"]


@pytest.mark.parametrize("title", ["Omar says talks go on", "SANA: siege lifted"])
def test_a_lone_alternate_name_of_a_place_abroad_or_an_acronym_names_no_place(
    match_query: MatchFn, title: str
) -> None:
    # Not 'Omer in Israel (GeoNames' "Omar"), not Sanaa in Yemen ("SANA", the news agency).
    assert _places(match_query, "siege NEAR/3 lifted", "The siege was lifted.", title) == []


def test_a_lone_alternate_name_abroad_counts_beside_a_place_of_its_country(
    match_query: MatchFn,
) -> None:
    places = _places(match_query, "siege NEAR/3 lifted", "The siege was lifted.",
                     "Omar and Beersheba on alert")
    assert places[0] == "geonames:293982"  # 'Omer, beside Beersheba in Israel


class _CountingGazetteer:
    """The shipped gazetteer, counting the names looked up in it; past `budget` lookups it
    fails, so locating without a bound fails at once rather than running for minutes."""

    def __init__(self, budget: int) -> None:
        self._gazetteer = load()
        self.budget = budget
        self.lookups = 0

    def lookup(self, name: str) -> tuple[Place, ...]:
        self.lookups += 1
        assert self.lookups <= self.budget, "locating looked up more names than it may"
        return self._gazetteer.lookup(name)

    def parents(self, place: Place) -> tuple[Place, ...]:
        return self._gazetteer.parents(place)


# Each word of the title's prefix takes a character and a separator at least, and is tried
# as the start of runs of MAX_NAME_WORDS words at most; the span's words a few more.
LOOKUP_BUDGET = (MAX_TITLE_CHARS // 2 + 10) * MAX_NAME_WORDS


def _locate_with(analyzer: Analyzer, gazetteer: _CountingGazetteer, title: str) -> Match:
    """A match on a body naming no place (the span "siege"), located by `title`."""
    body = "The siege was lifted."
    match = Match("r", "a", "test", Severity.INFO, (Span(4, 9, "body"),), body)
    locator = Locator(analyzer.lexicon.is_english, lambda: gazetteer)  # type: ignore[arg-type,return-value]
    (found,) = locator.locate({"title": title, "body": body}, [(match, {})])
    return found


def _place_names(gazetteer: Gazetteer, count: int) -> list[str]:
    """`count` distinct one-word names of Syrian places, repeated as needed."""
    names = sorted({p.name for p in gazetteer if p.country == "SY" and p.name.isalpha()
                    and p.name[0].isupper() and len(gazetteer.lookup(p.name)) == 1})
    return [names[i % len(names)] for i in range(count)]


def test_a_title_of_100000_place_names_gives_at_most_the_cap_of_places(
    analyzer: Analyzer,
) -> None:
    gazetteer = _CountingGazetteer(LOOKUP_BUDGET)
    title = ", ".join(_place_names(load(), 100_000))
    found = _locate_with(analyzer, gazetteer, title)
    assert len(found.places) == MAX_PLACES
    assert all(place.id.startswith(("geonames:", "watcher:")) for place in found.places)


def test_a_title_of_capitalised_words_that_name_no_place_is_read_only_so_far(
    analyzer: Analyzer,
) -> None:
    gazetteer = _CountingGazetteer(LOOKUP_BUDGET)
    title = " ".join(f"Zqx{i}" for i in range(100_000))
    assert _locate_with(analyzer, gazetteer, title).places == ()
    assert 0 < gazetteer.lookups <= LOOKUP_BUDGET


@pytest.fixture()
def run_match(workdir: Path):
    rules = workdir / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: siege\n"
        "    title: Siege\n"
        "    query: siege NEAR/10 ~\"Sheikh Maqsoud\"\n"
    )
    articles = workdir / "a.jsonl"
    articles.write_text(json.dumps({
        "id": "x1", "title": "Kurdish forces withdraw",
        "text": "A siege on Sheikh Maqsoud began on Monday.",
    }) + "\n")

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["match", "--rules", str(rules), *args, str(articles)],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def test_match_jsonl_carries_each_place_with_coordinates_and_parents(run_match) -> None:
    (line,) = run_match("--format", "jsonl").splitlines()
    (place,) = json.loads(line)["places"]
    assert set(place) == {"id", "name", "kind", "latitude", "longitude", "parents"}
    assert place["id"] == SHEIKH_MAQSOUD and place["kind"] == "neighbourhood"
    assert isinstance(place["latitude"], float) and isinstance(place["longitude"], float)
    assert place["parents"][0] == {"id": "geonames:170063", "name": "Aleppo", "kind": "city"}
    assert [p["name"] for p in place["parents"]] == ALEPPO_PARENTS


def test_match_text_says_where_in_one_line(run_match) -> None:
    assert ("    places: Sheikh Maqsoud (Aleppo, Mount Simeon District, Aleppo Governorate, "
            "Syria)") in run_match().splitlines()


@pytest.fixture()
def stored(workdir: Path):
    """A store holding matches in Manbij, in Sheikh Maqsoud and in Damascus's Midan (replayed
    through the CLI), and the CLI on it."""
    rules = workdir / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: siege\n"
        "    title: Siege\n"
        "    query: siege NEAR/10 (Manbij OR \"Sheikh Maqsoud\" OR Midan)\n"
    )
    articles = workdir / "a.jsonl"
    articles.write_text("".join(json.dumps(article) + "\n" for article in [
        {"id": "manbij", "title": "North", "text": "The siege of Manbij went on."},
        {"id": "maqsoud", "title": "Aleppo", "text": "A siege on Sheikh Maqsoud began."},
        {"id": "midan", "title": "Damascus on edge", "text": "The siege of Midan began."},
    ]))

    def run(*args: str):
        return CliRunner().invoke(cli, ["--db", "sqlite:///w.db", *args], catch_exceptions=False)

    replayed = run("replay", "--rules", str(rules), "--no-notify", "--format", "jsonl",
                   str(articles))
    assert replayed.exit_code == 0, replayed.output
    printed = {m["article"]: m["places"][0]["id"] for m in map(json.loads,
                                                              replayed.stdout.splitlines())}
    assert printed == {"manbij": "geonames:167357", "maqsoud": SHEIKH_MAQSOUD,
                       "midan": "watcher:damascus-midan"}
    return run


def test_matches_place_lists_the_matches_in_a_place_and_in_every_place_inside_it(stored) -> None:
    def at(place: str) -> list[str]:
        result = stored("matches", "--format", "jsonl", "--place", place)
        assert result.exit_code == 0, result.output
        return sorted(json.loads(line)["article"] for line in result.stdout.splitlines())

    assert at("Aleppo Governorate") == ["manbij", "maqsoud"]
    assert at("Manbij District") == ["manbij"]
    assert at("geonames:170063") == ["maqsoud"]  # Aleppo city, by its id
    assert at("Syria") == ["manbij", "maqsoud", "midan"]
    assert at("Damascus Governorate") == ["midan"]
    assert at("Iraq") == []  # not Arak in Iran, which GeoNames also calls Iraq
    assert at("Aleppo") == ["maqsoud"]  # the city: the governorate only answers to its name
    assert at("Damascus") == ["midan"]  # the Syrian city, not the town in the United States


@pytest.mark.parametrize("name", ["Lebanon", "Jordan"])
def test_matches_place_takes_a_country_over_small_towns_abroad_as_place_terms_do(
    stored, name: str
) -> None:
    # Not a usage error for the towns of Lebanon in the United States, or Jordan in Hong Kong.
    result = stored("matches", "--format", "jsonl", "--place", name)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the stored matches are all in Syria


def test_matches_jsonl_reads_the_stored_places_back(stored) -> None:
    result = stored("matches", "--format", "jsonl", "--place", "Manbij")
    (line,) = result.stdout.splitlines()
    (place,) = json.loads(line)["places"]
    assert place["name"] == "Manbij" and place["kind"] == "town"
    assert place["latitude"] == pytest.approx(36.53, abs=0.05)
    assert [p["name"] for p in place["parents"]] == [
        "Manbij District", "Aleppo Governorate", "Syria"
    ]


@pytest.mark.parametrize(("name", "says"), [
    ("Midan", "'Midan' names 2 places: Midan (neighbourhood; Aleppo, Mount Simeon District, "
              "Aleppo Governorate, Syria) watcher:aleppo-midan; Midan (neighbourhood; "
              "Damascus, Damascus Governorate, Syria) watcher:damascus-midan; give the one "
              "you mean by its id (--place ID)"),
    ("Xanadu Springs", "no place named 'Xanadu Springs' in the gazetteer"),
])
def test_an_ambiguous_or_unknown_place_is_a_usage_error_naming_the_candidates(
    stored, name: str, says: str
) -> None:
    result = stored("matches", "--place", name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Error: Invalid value for --place: {says}\n" in result.stderr


def test_a_mention_names_a_place_as_its_name_its_peoples_or_its_possessive() -> None:
    """What context reads as "where, not what" (Locator.names_place): a place's name, its
    people's (plural too) and its stripped possessive; not a group named like a place's
    possessive (Hamas), not an event word, and nothing too long to be a name."""
    locator = Locator(Analyzer().lexicon.is_english)
    named = ["Aleppo", "Syrian", "Syrians", "Iraqi", "Iraqis", "Syrias", "Deir ez-Zor"]
    assert all(locator.names_place(text) for text in named)
    unnamed = ["Hamas", "Cham", "ceasefire", "Ceasefire", "strikes", "Aleppo " * 20]
    assert not any(locator.names_place(text) for text in unnamed)
