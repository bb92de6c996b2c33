"""Context labels of mentions (watcher/engine/context.py) on real news sentences.

tests/data/context/sentences.yaml holds the sentences, each with its source note.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
import yaml

from watcher.engine.context import ContextReader
from watcher.engine.context_lexicon import ContextLexicon
from watcher.engine.context_triggers import DateRules, Triggers
from watcher.engine.context_triggers_load import load_triggers
from watcher.engine.evaluation import Evaluator
from watcher.engine.matcher import Matcher
from watcher.errors import ConfigError
from watcher.model import Article, ContextLabel
from watcher.rules.ast import Rule, RuleSet
from watcher.rules.compile import CNode
from watcher.rules.grammar import parse_query
from watcher.text import analysis
from watcher.text.analysis import Analyzer, FieldText, Tokens

SENTENCES = Path(__file__).parent / "data" / "context" / "sentences.yaml"
CASES = yaml.safe_load(SENTENCES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture(scope="module")
def triggers(analyzer: Analyzer) -> Triggers:
    return load_triggers(analyzer.words)


def labels_of(
    analyzer: Analyzer, triggers: Triggers, body: str, mentions: list[str],
    published: date | None, lexicon: ContextLexicon | None = None,
) -> dict[str, list[str]]:
    """Labels (with cue words) of the body's first occurrence of each mention word, read
    with `lexicon` (a new one of `triggers` by default)."""
    when = None if published is None else datetime(*published.timetuple()[:3], tzinfo=UTC)
    text = analyzer.analyse(Article(id="a", title="", body=body, published=when))
    words = [analyzer.types[t].folded for t in text.body.types.tolist()]
    terms = [(1, words.index(m), words.index(m)) for m in mentions]
    lexicon = lexicon or ContextLexicon(triggers, analyzer.types)
    found = ContextReader(lexicon, text).labels(terms)
    return {label.label: list(label.cues) for label in found}


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['source'].split()[0]}-{c['mention']}" for c in CASES]
)
def test_real_sentences(analyzer: Analyzer, triggers: Triggers, case: dict) -> None:
    found = labels_of(analyzer, triggers, case["text"], [case["mention"]], case["published"])
    assert found == case["labels"], case["source"]


def test_a_label_holds_only_when_every_sentence_with_a_mention_carries_it(
    analyzer: Analyzer, triggers: Triggers
) -> None:
    """One plain report of the event among recalled ones keeps the match unlabelled."""
    past = "Syria agreed to destroy its chemical weapons in 2013 under a deal."
    today = "A chemical attack killed dozens in Khan Sheikhoun on Tuesday."
    published = date(2017, 4, 5)
    both = labels_of(analyzer, triggers, f"{past} {today}", ["chemical", "attack"], published)
    assert both == {}
    recalled = labels_of(analyzer, triggers, past, ["chemical", "weapons"], published)
    assert recalled == {"historical": ["2013"]}


def test_dates_need_the_articles_publication_time(analyzer: Analyzer, triggers: Triggers) -> None:
    body = "On February 27 a ceasefire brokered by Russia and the United States took effect."
    assert labels_of(analyzer, triggers, body, ["ceasefire"], None) == {}


def test_a_month_that_is_also_a_word_is_a_month_only_beside_a_date(
    analyzer: Analyzer, triggers: Triggers
) -> None:
    published = date(2016, 10, 7)
    modal = "Russia may resume air strikes on Aleppo."
    assert labels_of(analyzer, triggers, modal, ["strikes"], published) == {
        "hypothetical": ["may", "resume"]
    }
    dated = "Russian air strikes hit Aleppo in May 2016."
    assert labels_of(analyzer, triggers, dated, ["strikes"], published) == {
        "historical": ["May 2016"]
    }


def test_one_lexicon_reads_article_after_article(analyzer: Analyzer, triggers: Triggers) -> None:
    """The engine's lexicon serves every article of a run and learns the words each one
    brings: a year, a month or a trigger first met in a later article is a cue there,
    whether an article of its year was read before or not, and with no date."""
    fresh = analyzer.renewed()  # its words are all new
    lexicon = ContextLexicon(triggers, fresh.types)
    in_2017 = date(2017, 4, 5)

    def labels(body: str, published: date | None) -> dict[str, list[str]]:
        return labels_of(fresh, triggers, body, ["shelled"], published, lexicon)

    assert labels("Rebels shelled the town.", in_2017) == {}
    assert labels("Rebels shelled the town in 2014.", in_2017) == {"historical": ["2014"]}
    assert labels("Rebels shelled the town in 2014.", None) == {}
    assert labels("Rebels shelled the village on 3 July.", date(2016, 9, 1)) == {
        "historical": ["3 July"]
    }
    assert labels("If rebels shelled the town, the army would answer.", None) == {
        "hypothetical": ["If"]
    }


def test_a_users_file_adds_triggers(analyzer: Analyzer, tmp_path: Path) -> None:
    extra = tmp_path / "context.yaml"
    extra.write_text("negated:\n  - direction: backward\n    scope: 3\n    phrases: [was foiled]\n")
    body = "A car bomb attack was foiled near the checkpoint."
    shipped = load_triggers(analyzer.words)
    extended = load_triggers(analyzer.words, extra)
    published = date(2017, 4, 5)
    assert labels_of(analyzer, shipped, body, ["attack"], published) == {}
    assert labels_of(analyzer, extended, body, ["attack"], published) == {
        "negated": ["was foiled"]
    }


def _users_file(tmp_path: Path, content: str) -> Path:
    extra = tmp_path / "context.yaml"
    extra.write_text(content)
    return extra


def test_a_users_ongoing_phrase_makes_a_past_date_a_start(
    analyzer: Analyzer, tmp_path: Path
) -> None:
    """`dates: ongoing:` in the user's file is added: an offensive launched in June may go
    on, as one that began in June does. A phrase given again keeps its longest reach."""
    extra = _users_file(tmp_path, (
        "dates:\n"
        "  ongoing:\n"
        "    - reach: 2\n"
        "      phrases: [launched]\n"
        "    - reach: 1\n"
        "      phrases: [since]\n"
    ))
    extended = load_triggers(analyzer.words, extra)
    launched = "The offensive launched in June 2016 pushed rebels out of the town."
    published = date(2017, 4, 5)
    assert labels_of(analyzer, load_triggers(analyzer.words), launched, ["offensive"],
                     published) == {"historical": ["June 2016"]}
    assert labels_of(analyzer, extended, launched, ["offensive"], published) == {}
    since = "Since the implementation in July 2015 the siege of Madaya tightened."
    assert labels_of(analyzer, extended, since, ["siege"], published) == {}


def test_a_users_file_makes_a_label_govern_the_next_word(
    analyzer: Analyzer, tmp_path: Path
) -> None:
    """With its own terminator "in", a modal's scope ends right after it ("may in the
    coming days storm"), unless the label governs the word after its cue, as a negation
    does ("did not in fact bomb")."""
    terminator = (
        "    - direction: terminate\n"
        "      phrases: [in]\n"
    )
    ends = _users_file(tmp_path, f"hypothetical:\n  groups:\n{terminator}")
    governs = tmp_path / "governs.yaml"
    governs.write_text(f"hypothetical:\n  governs_next_word: true\n  groups:\n{terminator}")
    body = "Government forces may in the coming days storm the town."
    published = date(2017, 4, 5)
    assert labels_of(analyzer, load_triggers(analyzer.words, ends), body, ["storm"],
                     published) == {}
    assert labels_of(analyzer, load_triggers(analyzer.words, governs), body, ["storm"],
                     published) == {"hypothetical": ["may"]}


def test_a_users_file_extends_the_whether_alternative(
    analyzer: Analyzer, tmp_path: Path
) -> None:
    """"whether Russian or Syrian commanders ..." asks who, and is no cue; a future word
    the user adds after the "or" keeps it one, as "will" does."""
    extra = _users_file(tmp_path, "alternatives:\n  future_words: [plan]\n")
    body = "It is unclear whether Russian or Syrian commanders plan strikes on Idlib."
    published = date(2017, 4, 5)
    assert labels_of(analyzer, load_triggers(analyzer.words), body, ["strikes"],
                     published) == {}
    assert labels_of(analyzer, load_triggers(analyzer.words, extra), body, ["strikes"],
                     published) == {"hypothetical": ["whether"]}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("negated:\n  - direction: sideways\n    phrases: [no]\n",
         "2:16: direction must be one of: forward, backward, both, pseudo, terminate, exempt"),
        ("negated:\n  - direction: forward\n    phrases: [no]\n",
         "2:5: a trigger group needs `scope` (words)"),
        ("negatd: []\n", "1:1: unknown key 'negatd' (known: terminators, clause_breaks, "
                         "dates, alternatives, historical, ended, negated, hypothetical)"),
        ("negated:\n  - direction: forward\n    scope: 99\n    phrases: [no]\n",
         "3:12: scope must be a whole number of words from 1 to 30"),
        ("clause_breaks: [ab]\n", "1:17: a clause break is one punctuation character"),
        ("negated: [no\n", "1:10: "),
        ("negated: 3\n", "1:10: expected a list of groups, or a mapping of `groups` and "
                         "`governs_next_word`"),
        ("negated:\n  governs: true\n",
         "2:3: unknown key 'governs' (known: governs_next_word, groups)"),
        ("hypothetical:\n  governs_next_word: often\n",
         "2:22: governs_next_word must be true or false"),
        ("negated:\n  governs_next_word: false\n",
         "2:22: governs_next_word of negated is on in the shipped file; a file only adds, so "
         "it cannot be turned off"),
        ("dates:\n  ongoing:\n    - reach: 0\n      phrases: [launched]\n",
         "3:14: reach must be a whole number of words from 1 to 30"),
        ("dates:\n  ongoing:\n    - phrases: [launched]\n",
         "3:7: an ongoing group needs `reach` and `phrases`"),
        ("dates:\n  present_perfect: has been\n", "2:20: expected a list"),
        ("dates:\n  recent: []\n", "2:3: unknown key 'recent' (known: ongoing, present_perfect)"),
        ("alternatives:\n  reach: two\n",
         "2:10: reach must be a whole number of words from 1 to 30"),
        ("alternatives:\n  future_reach: 31\n",
         "2:17: future_reach must be a whole number of words from 1 to 30"),
        ("alternatives:\n  clause_words: [did not]\n", "2:18: 'did not' is not one word"),
        ("alternatives:\n  future_words: [[soon]]\n", "2:18: expected a phrase (a string)"),
        ("alternatives:\n  leads: [asked]\n",
         "2:11: alternative lead 'asked' is no trigger phrase"),
        ("dates:\n  ongoing:\n    - reach: \u00b2\n      phrases: [launched]\n",
         "3:14: reach must be a whole number of words from 1 to 30"),
        ("alternatives:\n  reach: " + "9" * 5000 + "\n",
         "2:10: reach must be a whole number of words from 1 to 30"),
        ("alternatives:\n  reach: '3'\n",
         "2:10: reach must be a whole number of words from 1 to 30"),
        ("negated:\n  - direction: forward\n    scope: 0x3\n    phrases: [no]\n",
         "3:12: scope must be a whole number of words from 1 to 30"),
        ("dates:\n  ongoing:\n    - reach: 3\n      phrases: [launched]\n"
         "      phrases: [seized]\n",
         "5:7: duplicate key 'phrases' (first given at line 4)"),
        ("alternatives:\n  future_words: [plan]\n  future_words: [aim]\n",
         "3:3: duplicate key 'future_words' (first given at line 2)"),
        ("hypothetical:\n  governs_next_word: true\nhypothetical: []\n",
         "3:1: duplicate key 'hypothetical' (first given at line 1)"),
        ("hypothetical:\n  governs_next_word: !!bool maybe\n",
         "2:22: governs_next_word must be true or false"),
        ("terminators: ['--']\n", "1:15: phrase '--' has no word"),
    ],
)
def test_a_bad_users_file_is_one_line_with_its_place(
    analyzer: Analyzer, tmp_path: Path, content: str, error: str
) -> None:
    extra = tmp_path / "context.yaml"
    extra.write_text(content)
    with pytest.raises(ConfigError) as raised:
        load_triggers(analyzer.words, extra)
    assert str(raised.value).startswith(f"{extra}:{error}")
    assert "\n" not in str(raised.value)


def test_a_lower_reach_or_an_empty_list_in_a_users_file_changes_nothing(
    analyzer: Analyzer, triggers: Triggers, tmp_path: Path
) -> None:
    """A file only adds (context.yaml's header): restating less than the shipped file is
    accepted and does nothing, rather than an error."""
    extra = _users_file(tmp_path, (
        "hypothetical:\n  governs_next_word: false\n  groups: []\n"
        "dates:\n  ongoing:\n    - reach: 1\n      phrases: [since]\n  present_perfect: []\n"
        "alternatives:\n  leads: []\n  reach: 1\n  future_reach: 1\n  clause_words: []\n"
    ))
    assert load_triggers(analyzer.words, extra) == triggers


def test_the_date_rules_compute_their_search_bounds_from_their_lists() -> None:
    """The lengths and longest reach the date search is bounded by are found from the
    phrases, so no caller can give bounds that miss a phrase."""
    rules = DateRules(ongoing={("since",): 4, ("into", "force"): 2},
                      present_perfect=frozenset({("has", "been")}))
    assert (rules.ongoing_lengths, rules.ongoing_reach, rules.present_perfect_lengths) == (
        (1, 2), 4, (2,)
    )


def test_the_loaded_lists_cannot_be_changed_in_place(triggers: Triggers) -> None:
    """Every engine of a process shares the shipped triggers (shipped_triggers): one that
    changed a list in place would change the labels of all the others."""
    with pytest.raises(TypeError):
        triggers.phrases[("never", "again")] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        triggers.anchors["again"] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        triggers.stop_lengths["but"] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        triggers.dates.ongoing[("launched",)] = 2  # type: ignore[index]


# -- matches carry their labels (watcher/engine/core.py, matcher.py) ------------------


def _matcher(queries: dict[str, str], **options: object) -> Matcher:
    rules = RuleSet(tuple(
        Rule(id=rule_id, title=rule_id, query_text=query, query=parse_query(query))
        for rule_id, query in queries.items()
    ))
    return Matcher(rules, Analyzer(), **options)  # type: ignore[arg-type]


def test_a_match_carries_the_labels_of_its_words_with_their_cues() -> None:
    """fakes:1923848259 (2017-10-06) and fakes:1923848281 (2016-10-07), as in sentences.yaml."""
    matcher = _matcher({"siege": "siege NEAR/5 Deir", "strikes": "strikes NEAR/s Aleppo"})
    broken = Article(
        id="1923848259", title="Syrian troops push into Deir el-Zour",
        body="Syrian troops broke a nearly three-year siege on parts of Deir el-Zour last month "
             "and are fighting to liberate from IS remaining parts of the city.",
        published=datetime(2017, 10, 6, tzinfo=UTC),
    )
    [match] = matcher.match(broken)
    assert match.context == (
        ContextLabel("historical", ("last month",)), ContextLabel("ended", ("broke",))
    )
    plain = Article(
        id="x", title="", body="Air strikes hit Aleppo on Friday, residents said.",
        published=datetime(2016, 10, 7, tzinfo=UTC),
    )
    [match] = matcher.match(plain)
    assert match.context == ()


def test_a_place_named_again_keeps_no_recalled_event_unlabelled() -> None:
    """The sentences read are those where the rule's NEAR holds on its own: a later plain
    mention of the place (NEAR/p pairs it too) states no event and leaves the label."""
    matcher = _matcher({"truce": "truce NEAR/p Syria"})
    article = Article(
        id="1962495721", title="",
        body="On February 27 a truce brokered by Russia took effect in Syria. "
             "Syria's wheat harvest is the smallest in decades, the FAO said on Tuesday.",
        published=datetime(2016, 8, 3, tzinfo=UTC),
    )
    [match] = matcher.match(article)
    assert match.context == (ContextLabel("historical", ("February 27",)),)


def test_the_stating_sentences_are_looked_for_only_when_they_choose_among_several(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A match whose words lie in one sentence is labelled by that sentence whichever
    states the event, so its stating sentences (Evaluator.evidence) are not looked for;
    with its words in two sentences they choose which is read, and are."""
    looked: list[CNode] = []
    evidence = Evaluator.evidence

    def counted(evaluator: Evaluator, node: CNode, fields: tuple[int, ...] = (0, 1)):
        looked.append(node)
        return evidence(evaluator, node, fields)

    monkeypatch.setattr(Evaluator, "evidence", counted)
    matcher = _matcher({"truce": "truce NEAR/p Syria"})
    published = datetime(2016, 8, 3, tzinfo=UTC)
    one = Article(id="one", title="", published=published,
                  body="On February 27 a truce brokered by Russia took effect in Syria.")
    [match] = matcher.match(one)
    assert match.context == (ContextLabel("historical", ("February 27",)),)
    assert looked == []
    two = Article(id="two", title="", published=published,
                  body=f"{one.body} Syria's wheat harvest is the smallest in decades.")
    [match] = matcher.match(two)
    assert match.context == (ContextLabel("historical", ("February 27",)),)
    assert len(looked) == 1


def test_a_plain_term_beside_a_near_is_no_statement_of_the_event() -> None:
    """`(Geneva NEAR/s talks) Syria`: the Syria named elsewhere only places the article."""
    matcher = _matcher({"talks": "(Geneva NEAR/s talks) Syria"})
    article = Article(
        id="1924058036", title="",
        body="Several rounds of talks in Geneva have failed. "
             "Syria's foreign minister visited Moscow on Monday.",
        published=datetime(2017, 3, 1, tzinfo=UTC),
    )
    [match] = matcher.match(article)
    assert match.context == (ContextLabel("ended", ("have failed",)),)


def test_a_near_held_only_across_sentences_reads_the_sentences_saying_what_happened() -> None:
    """No sentence holds both sides, so the sentences read are those holding a word that
    names no place: one that only names the place (or its people: *Syrian*) says nothing
    of the event. fakes:1962495721 (2016-08-03), its sentences 2 and 6."""
    body = ("The Syrian army has killed 60 Daesh takfiri terrorists while defending the city "
            "of Deir ez-Zor. On February 27 a ceasefire brokered by Russia and the United "
            "States took effect in the country.")
    article = Article(id="1962495721", title="", body=body,
                      published=datetime(2016, 8, 3, tzinfo=UTC))
    matcher = _matcher({"syrian": "ceasefire NEAR/p Syrian",
                        "deir": 'ceasefire NEAR/p ~"Deir ez-Zor"',
                        "army": "ceasefire NEAR/p army"})
    syrian, deir, army = matcher.match(article)
    recalled = (ContextLabel("historical", ("February 27",)),)
    assert (syrian.context, deir.context) == (recalled, recalled)
    assert army.context == ()  # "army" is no place: its sentence tells of today


def test_a_near_of_places_alone_reads_every_sentence() -> None:
    """When every word of the match names a place, each sentence holding one is read."""
    matcher = _matcher({"two": "Aleppo NEAR/p Idlib"})
    article = Article(
        id="x", title="",
        body="Rebels took Aleppo in 2012. Idlib is quiet.",
        published=datetime(2016, 8, 3, tzinfo=UTC),
    )
    [match] = matcher.match(article)
    assert match.context == ()


def test_the_matcher_reads_the_users_triggers(tmp_path: Path) -> None:
    """`context.triggers` reaches the engine through Matcher.from_path, and survives the
    analyser's renewal."""
    extra = tmp_path / "context.yaml"
    extra.write_text("negated:\n  - direction: backward\n    scope: 3\n    phrases: [was foiled]\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: bombs\n    title: Car bombs\n    query: car NEAR/1 bomb\n")
    article = Article(id="a", title="", body="A car bomb attack was foiled near the checkpoint.")
    assert Matcher.from_path(rules).match(article)[0].context == ()
    matcher = Matcher.from_path(rules, context_triggers=extra)
    matcher.max_word_types = matcher._renew_at = 1  # renew before the next article
    [match] = matcher.match(article)
    assert match.context == (ContextLabel("negated", ("was foiled",)),)


def test_a_phrase_is_never_found_cut_at_the_sentences_end(
    analyzer: Analyzer, triggers: Triggers
) -> None:
    """"ended the" is a phrase: a sentence ending on "ended" holds the word "ended" alone."""
    assert labels_of(analyzer, triggers, "Two sieges ended.", ["sieges"], None) == {
        "ended": ["ended"]
    }


# -- held back: the rule's `exclude:`, else watcher.yaml's `context.exclude` -------------

RECALLED = Article(
    id="1914947530", title="",
    body="Syria agreed to destroy its chemical weapons in 2013 under a deal brokered by "
         "Moscow and Washington.",
    published=datetime(2017, 4, 5, tzinfo=UTC),
)


def _held(exclude: str, default: tuple = ()) -> tuple[str, ...]:
    rule = parse_query("chemical NEAR/1 weapons")
    options = {} if exclude == "default" else {"exclude": tuple(exclude.split())}
    rules = RuleSet((Rule(id="cw", title="cw", query_text="", query=rule, **options),))
    [match] = Matcher(rules, Analyzer(), exclude=default).match(RECALLED)
    assert match.context == (ContextLabel("historical", ("2013",)),)
    return match.held


def test_a_match_is_held_back_by_the_labels_its_rule_excludes() -> None:
    assert _held("historical negated") == ("historical",)
    assert _held("ended negated") == ()
    assert _held("default", default=("historical",)) == ("historical",)
    assert _held("", default=("historical",)) == ()  # `exclude: []` overrides the default
    assert _held("default") == ()


def test_sentences_each_carrying_an_excluded_label_hold_the_match_back() -> None:
    """fakes:1965495343 (2017-10-05): the blockade's end is recalled in one sentence, named
    in the page's tags in the other; no sentence states it plainly. Each label held is shown
    with its cues; a rule that excludes only one of them keeps the match (the tags sentence
    is plain to it), and its context lists only what both sentences carry (nothing)."""
    article = Article(
        id="1965495343", title="",
        body="On September 5 Syrian government troops supported by the Russian Aerospace "
             "Forces broke the blockade around Deir ez-Zor maintained by Daesh for several "
             "years. Tags blockade shelling Daesh Russian Aerospace Forces Deir ez-Zor Syria",
        published=datetime(2017, 10, 5, tzinfo=UTC),
    )
    query = parse_query("blockade NEAR/15 Deir")
    rules = RuleSet(tuple(
        Rule(id=rule_id, title=rule_id, query_text="", query=query, exclude=exclude)
        for rule_id, exclude in (("both", ("historical", "boilerplate")),
                                 ("one", ("historical",)))
    ))
    both, one = Matcher(rules, Analyzer()).match(article)
    assert both.held == ("historical", "boilerplate")
    assert both.context == (ContextLabel("historical", ("September 5",)),
                            ContextLabel("boilerplate", ("Tags",)))
    assert (one.held, one.context) == ((), ())


@pytest.mark.parametrize(("body", "mention", "labels"), [
    # A date that opens its sentence dates the clause whatever the tense.
    ("In March 2013, more than 100 people have been killed by airstrikes in Aleppo.",
     "airstrikes", {"historical": ["March 2013"]}),
    # "since ... began" keeps a date ongoing only right after the verb.
    ("The deadliest airstrike since the war began hit Aleppo in March 2013, killing 80.",
     "aleppo", {"historical": ["March 2013"]}),
    # In a Title Case headline a capitalised May is the modal.
    ("Warplanes May Strike Aleppo Again, Rebels Warn", "strike", {"hypothetical": ["May"]}),
    # A halt governs its own few words, not the report that follows.
    ("The UN demanded a halt to the bombing of Aleppo as airstrikes killed 20 people there.",
     "airstrikes", {}),
    ("Moscow said it was sticking to a moratorium on air strikes in the city.",
     "strikes", {"negated": ["moratorium on"]}),
])
def test_what_a_cue_does_not_reach(
    analyzer: Analyzer, triggers: Triggers, body: str, mention: str, labels: dict
) -> None:
    """Sentences a review wrote against the cues added for issue 17 (constructed, not
    FA-KES's), each once labelled wrongly."""
    assert labels_of(analyzer, triggers, body, [mention], date(2016, 8, 3)) == labels


@pytest.mark.parametrize(("body", "mention", "labels"), [
    # Whom a call is addressed to is asked to act: what they are to do has not happened.
    ("The Security Council called on Moscow to halt its air strikes on Aleppo.",
     "strikes", {"hypothetical": ["called on"]}),
    ("The opposition calls upon the sponsors of the truce to stop the bombing.",
     "truce", {"hypothetical": ["calls upon"]}),
    ("Turkey called on Monday for the ceasefire to be extended to Idlib.",
     "ceasefire", {"hypothetical": ["called on"]}),
    # A noun "call" is no call on someone.
    ("In a phone call on Saturday the ministers said the truce in Homs was holding.",
     "truce", {}),
    # A past time of this year dates the few words before it ...
    ("Violence rose after a fragile truce broke down earlier this year.",
     "truce", {"historical": ["earlier this year"], "ended": ["broke down"]}),
    ("Rebel fighters captured the airbase earlier this year.",
     "airbase", {"historical": ["earlier this year"]}),
    # ... not today's report it follows.
    ("Airstrikes on eastern Aleppo were the heaviest since a truce collapsed earlier this "
     "year, residents said.", "airstrikes", {}),
    # The date a truce came into force, or took effect, is its start: it may still hold.
    ("Militants have repeatedly violated the truce since it came into effect on February 27, "
     "the ministry said.", "truce", {}),
    ("Mortars hit Homs amid a nationwide ceasefire which came into force on July 10.",
     "ceasefire", {}),
    ("The truce in Daraa took effect on March 12 and has largely held.", "truce", {}),
    # So is the date a truce was agreed, brokered or signed: the agreement may still hold.
    ("Shelling of Homs on Sunday was the latest breach of the truce agreed in February.",
     "truce", {}),
    ("Jets struck Idlib despite a ceasefire that Moscow and Ankara brokered in May.",
     "ceasefire", {}),
    # A date further from the start's words still dates them.
    ("A truce that came into force after talks in February 2014 soon broke down.",
     "truce", {"historical": ["February 2014"]}),
    # What a modal says could be threatened or derailed is there now ...
    ("Losing the town would threaten the army's siege of Homs, analysts said.", "siege", {}),
    ("The bombing could derail the peace talks under way in Geneva.", "talks", {}),
    # ... while what the modal itself governs stays hypothetical.
    ("The army could besiege Homs again, a commander said.", "besiege",
     {"hypothetical": ["could"]}),
])
def test_calls_on_someone_and_times_earlier_this_year(
    analyzer: Analyzer, triggers: Triggers, body: str, mention: str, labels: dict
) -> None:
    """Cues added from the labelled samples (bench/data/quality/SOURCE.txt), each shown on
    sentences of its own, with the uses it must not reach."""
    assert labels_of(analyzer, triggers, body, [mention], date(2016, 8, 3)) == labels


@pytest.mark.parametrize(("body", "mention", "labels"), [
    # A `since` clause and the main clause it dates do not reach into each other ...
    ("Jets pounded Idlib since the truce collapsed.", "idlib", {}),
    # ... while a cue inside the clause still labels its own words.
    ("Fighting has raged since the truce collapsed.", "truce", {"ended": ["collapsed"]}),
    # A negation governs its own words, not the place they are in nor a relative clause.
    ("There were no doctors left in Aleppo, where thousands live under siege.", "aleppo", {}),
    ("The ministry did not say who shelled the town.", "shelled", {}),
    ("There was no shelling in Homs on Sunday.", "shelling", {"negated": ["no"]}),
    # ... while the words right after it are its own, whatever they are.
    ("Turkish guns did not in the end shell Manbij, officials said.", "shell",
     {"negated": ["did not"]}),
    ("Rebels have not in two weeks attacked the airbase.", "attacked",
     {"negated": ["have not"]}),
    # "whether" between two names asks who, not whether it happened ...
    ("Monitors could not tell whether Russian or Syrian jets bombed the market.", "bombed", {}),
    # ... while a choice of what to do, or between an event and another, stays hypothetical.
    ("The army is deciding whether to storm the town or wait.", "storm",
     {"hypothetical": ["whether"]}),
    ("It is unclear whether the truce holds or fails.", "truce", {"hypothetical": ["whether"]}),
    ("Nobody knows whether it holds or not.", "holds", {"hypothetical": ["whether"]}),
    # ... and so does an alternative of who or where an event still to come will strike.
    ("Nobody can say whether Turkish or Kurdish guns will shell Manbij tomorrow.", "shell",
     {"hypothetical": ["whether"]}),
    ("Residents wonder whether Homs or Hama falls to the army next.", "falls",
     {"hypothetical": ["whether"]}),
    ("Monitors asked whether Turkish or Kurdish guns shelled the village.", "shelled", {}),
    # A place called besieged is besieged now, whatever may reach it.
    ("A convoy may reach the besieged town of Madaya this week.", "besieged", {}),
    ("The army may besiege Madaya again.", "besiege", {"hypothetical": ["may"]}),
    # ... and the words after it are still in the cue's scope.
    ("If besieged districts fall to an assault, thousands will die.", "assault",
     {"hypothetical": ["If"]}),
    ("If besieged districts fall to an assault, thousands will die.", "besieged", {}),
])
def test_a_cue_reaches_no_other_clause(
    analyzer: Analyzer, triggers: Triggers, body: str, mention: str, labels: dict
) -> None:
    """Cues added from the fifth sample (bench/data/quality/SOURCE.txt): each cue stays in
    its own clause, shown on sentences of their own, with the uses it still reaches."""
    assert labels_of(analyzer, triggers, body, [mention], date(2016, 8, 3)) == labels


def test_a_cue_that_is_the_matchs_own_word_labels_nothing() -> None:
    """A rule that asks for calls and warnings to leave matches "urged ... to evacuate": the
    call is its event, not a modifier of it; a call of another word still labels."""
    matcher = _matcher({"evacuation": "evacuat* NEAR/s (urge OR call OR warn OR order)"})
    published = datetime(2016, 8, 3, tzinfo=UTC)
    for body in ("The army urged residents of Manbij to evacuate the city.",
                 "The army called on residents of Manbij to evacuate the city."):
        [match] = matcher.match(Article(id="x", title="", body=body, published=published))
        assert match.context == (), body
    asked = "Aid agencies could ask the army to order the evacuation of the wounded."
    [match] = matcher.match(Article(id="y", title="", body=asked, published=published))
    assert match.context == (ContextLabel("hypothetical", ("could",)),)


def test_the_items_a_bar_splits_off_a_related_list_are_furniture_too() -> None:
    """A bar ends a sentence, so a flattened link list after `Related` is a sentence per
    item: each item it splits off the list is the list's (cue: its lead word); an item after
    a bar that follows the story's own words, or a title's site name, is no furniture."""
    matcher = _matcher({"raqqa": "warplane NEAR/5 Raqqa"})
    published = datetime(2017, 11, 17, tzinfo=UTC)

    def context(title: str, body: str) -> tuple[ContextLabel, ...]:
        [match] = matcher.match(Article(id="x", title=title, body=body, published=published))
        return match.context

    listed = ("A car bomb killed 12 people at a checkpoint in Hasakah on Friday. Related News "
              "Oil prices fall again | The world cup draw | Warplanes pound Raqqa as Kurdish "
              "forces advance")
    assert context("", listed) == (ContextLabel("boilerplate", ("Related",)),)
    story = ("Related News Oil prices fall again The army said warplanes struck a bridge "
             "near Homs on Monday | Warplanes pound Raqqa as Kurdish forces advance")
    assert context("", story) == ()
    assert context("Warplanes pound Raqqa | Jordan Times", "Details follow.") == ()



def test_an_embedded_tweets_signature_is_furniture_up_to_its_date() -> None:
    """A flattened embedded tweet ends with its picture link and its signature (the
    account's name, handle and date): a byline, whose words carry `boilerplate` (cue: the
    link); the story's words after the signature's date do not."""
    matcher = _matcher({"refugees": "refugee NEAR/8 Tabqa"})
    published = datetime(2017, 5, 3, tzinfo=UTC)

    def context(body: str) -> tuple[ContextLabel, ...]:
        [match] = matcher.match(Article(id="x", title="", body=body, published=published))
        return match.context

    signed = ("Water is short in Tabqa tonight httpst.coXy12 pic.twitter.comAb12Cd Refugee "
              "Voices (RefugeeVoices) May 2 2017 The army said it opened a road.")
    assert context(signed) == (ContextLabel("boilerplate", ("pic.twitter.comAb12Cd",)),)
    story = ("pic.twitter.comAb12Cd Local Desk (localdesk) May 2 2017 Refugee families left "
             "Tabqa on foot on Tuesday.")
    assert context(story) == ()


def test_a_long_link_list_is_walked_back_once(
    analyzer: Analyzer, triggers: Triggers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every item a bar splits off a `Related` list is furniture of its lead; finding the
    lead from each item reads each item once, not once per item after it."""
    items = 200
    body = "Related News " + "Warplanes pound Raqqa | " * items
    text = analyzer.analyse(Article(id="a", title="", body=body))
    words = [analyzer.types[t].folded for t in text.body.types.tolist()]
    terms = [(1, at, at) for at, word in enumerate(words) if word == "raqqa"]
    read = [0]
    furniture_end = FieldText.furniture_end

    def counted(field: FieldText, lead: int, end: int) -> int:
        read[0] += 1
        return furniture_end(field, lead, end)

    monkeypatch.setattr(FieldText, "furniture_end", counted)
    reader = ContextReader(ContextLexicon(triggers, analyzer.types), text)
    assert reader.labels(terms) == (ContextLabel("boilerplate", ("Related",)),)
    assert read[0] <= 2 * items + 1  # each item: one step back over it, and its own end


def test_a_sentence_repeated_without_its_date_is_read_where_it_first_stood() -> None:
    """A flattened timeline repeats its entries without their dates (fakes:1923102872); the
    copy says no more than the dated entry. A sentence that says more is read on its own,
    and so is the story's sentence that a related headline repeated before it."""
    matcher = _matcher({"raids": "raids NEAR/s Tabqa"})
    entry = "Coalition jets carry out night raids on the dam near Tabqa town."
    timeline = f"March 2017 {entry} May 2017 Kurdish fighters enter the town of Tabqa."
    published = datetime(2018, 2, 1, tzinfo=UTC)
    [copied] = matcher.match(Article(id="a", title="", body=f"{timeline} {entry}",
                                     published=published))
    assert copied.context == (ContextLabel("historical", ("March 2017",)),)
    today = "Coalition jets carry out night raids on the dam near Tabqa town again on Sunday."
    [news] = matcher.match(Article(id="b", title="", body=f"{timeline} {today}",
                                   published=published))
    assert news.context == ()
    headline = "Coalition jets carry out night raids on the dam near Tabqa town."
    related = f"Related {headline} Officials confirmed it. {headline}"
    [own] = matcher.match(Article(id="c", title="", body=related, published=published))
    assert own.context == ()


def test_page_furniture_leads_are_those_the_analyser_found(
    analyzer: Analyzer, triggers: Triggers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The analyser finds the boilerplate lead words to start sentences at them; context
    reads those (FieldText.token_leads), never searching a field's tokens again, and
    labels as before: a field without a lead has no furniture, one with `Related` has."""
    lexicon = ContextLexicon(triggers, analyzer.types)
    plain = "Warplanes pounded Raqqa in 2014."
    listed = "Related News Warplanes pound Raqqa"
    texts = [analyzer.analyse(Article(id=body, title="", body=body,
                                      published=datetime(2017, 4, 5, tzinfo=UTC)))
             for body in (plain, listed)]
    searched: list[int] = []
    search = analysis.lead_positions

    def counted(tokens: Tokens, first: int = 0, end: int | None = None) -> np.ndarray:
        searched.append(first)
        return search(tokens, first, end)

    monkeypatch.setattr(analysis, "lead_positions", counted)
    found = []
    for text in texts:
        words = [analyzer.types[t].folded for t in text.body.types.tolist()]
        at = words.index("raqqa")
        found.append(ContextReader(lexicon, text).labels([(1, at, at)]))
    assert found == [(ContextLabel("historical", ("2014",)),),
                     (ContextLabel("boilerplate", ("Related",)),)]
    assert searched == []
