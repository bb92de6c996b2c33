"""The engine on every query form of rule-language.md, NEAR edges, scopes and results."""

from __future__ import annotations

import pytest

from watcher.engine.core import Engine
from watcher.marks import pieces
from watcher.model import Article
from watcher.rules.ast import Rule
from watcher.rules.compile import Compiler
from watcher.rules.grammar import parse_query


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # a word matches itself and its inflections, case-insensitively
        ("siege", "The Siege went on.", True),
        ("siege", "Two sieges ended.", True),
        ("besiege", "Troops besieged the town.", True),
        ("besiege", "Besieging forces withdrew.", True),
        ("kill", "Killed were three fighters.", True),
        ("kill", "The skill of the pilots.", False),
        # irregular forms with more than one lemma, and forms no lemma table lists
        ("leaf", "Leaves fell.", True),
        ("leave", "He leaves town.", True),
        ("die", "Many are dying.", True),
        ("Kurd", "Kurds rallied.", True),
        ("jihadist", "The jihadists withdrew.", True),
        ("Yazidi", "Yazidis returned to Sinjar.", True),
        ("Alawite", "Alawites fled the coast.", True),
        # ... never a form the tables give to another word, nor a name they list
        ("new", "The news came late.", False),
        ("hop", "They hoped for calm.", False),
        ("ban", "Fighting near Bani Walid.", False),
        ("US", "The USS Carney was hit.", False),
        # the rule's own word is never lemmatised
        ("wound", "Two were wounded and many wounds treated.", True),
        ("wound", "A strong wind blew.", False),
        ("building", "The buildings collapsed.", True),
        ("building", "They build a wall.", False),
        ("Wales", "He visited Wales.", True),
        ("Wales", "A wale on the hull.", False),
        # phrases: consecutive words; hyphens and apostrophes inside names ignored
        ('"Sheikh Maqsoud"', "the Sheikh Maqsoud district", True),
        ('"Sheikh Maqsoud"', "Sheikh and Maqsoud", False),
        ('"al-Hasaka"', "in al Hasaka province", True),
        ('"al-Hasaka"', "in Al-Hasaka province", True),
        ('"al-Hasaka"', "in al\u2010Hasaka (Unicode hyphen)", True),
        ('"al-Hasaka"', "in Al\u2011Hasaka (non-breaking hyphen)", True),
        ("Hasaka", "in al\u2011Hasaka", True),
        ("~Hasaka", "in Al\u2011Hasakah", True),
        # characters that do not show (soft hyphen, zero-width space) do not split words
        ("evacuation", "an evac\u00aduation order", True),
        ("evacuation", "an evacua\u200btion order", True),
        ('="Fourth Division"', "the Fourth Divi\u00adsion moved", True),
        ('"Sheikh Maq\u00adsoud"', "in Sheikh Maqsoud", True),  # a rule pasted from a web page
        ('"cut off"', "The town was cut off.", True),
        ('"cut off"', "They cuts off the road.", True),
        # exact surface form
        ("=Forces", "forces gathered", True),
        ("=Forces", "the force gathered", False),
        ("=force", "the forces gathered", False),
        ('="Fourth Division"', "the Fourth Division moved", True),
        ('="Fourth Division"', "the Fourth Divisions moved", False),
        # prefix
        ("evacuat*", "Evacuation began; they evacuated.", True),
        ("evacuat*", "They vacated the area.", False),
        # transliteration variants
        ("~Qamishli", "clashes in Qamishlo on Friday", True),
        ('~"Sheikh Maqsoud"', "the Shaykh Maqsud neighbourhood", True),
        ("~Homs", "they left their homes", False),
        # name elements that are everyday English: inside a name only
        ("~Tal", "They tell us nothing.", False),
        ("~Tel", "Tell them.", False),
        ("~Tal", "Shelling near Tel", True),
        ('~"Tal Abyad"', "fighting in Tell Abyad", True),
        ("~Hasaka", "he has left", False),
        # boolean
        ("siege Aleppo", "The siege of Aleppo.", True),
        ("siege Aleppo", "The siege of Homs.", False),
        ("siege AND Aleppo", "Aleppo under siege.", True),
        ("siege OR blockade", "A blockade began.", True),
        ("NOT ceasefire", "Fighting continued.", True),
        ("NOT ceasefire", "A ceasefire held.", False),
        ("siege AND NOT lifted", "The siege continues.", True),
        ("siege AND NOT lifted", "The siege was lifted.", False),
        # lower-case operators are ordinary words
        ("siege and Aleppo", "siege Aleppo", False),
        ("siege and Aleppo", "siege and Aleppo", True),
        ("war or peace", "war or peace", True),
        ("war or peace", "war and peace", False),
        ("near", "We were near.", True),
    ],
)
def test_query_forms(fires, query, text, expected):
    assert fires(query, text) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # NOT binds tighter than juxtaposition: (NOT a) AND b
        ("NOT siege Aleppo", "Aleppo calm.", True),
        ("NOT siege Aleppo", "Aleppo siege.", False),
        # AND binds tighter than OR: (siege Aleppo) OR Homs
        ("siege Aleppo OR Homs", "Homs only.", True),
        ("siege Aleppo OR Homs", "siege only.", False),
        ("siege (Aleppo OR Homs)", "Homs only.", False),
        # NEAR binds tighter than AND
        ("siege NEAR/1 Aleppo Homs", "siege of Aleppo, later Homs", True),
        ("siege NEAR/1 Aleppo Homs", "siege of Aleppo", False),
    ],
)
def test_precedence(fires, query, text, expected):
    assert fires(query, text) is expected


@pytest.mark.parametrize(
    ("gap", "n", "expected"),
    [(0, 0, True), (3, 3, True), (4, 3, False), (5, 5, True), (6, 5, False)],
)
def test_near_counts_words_between(fires, gap, n, expected):
    filler = " ".join(["x"] * gap)
    assert fires(f"siege NEAR/{n} Aleppo", f"siege {filler} Aleppo") is expected
    assert fires(f"siege NEAR/{n} Aleppo", f"Aleppo {filler} siege") is expected


def test_punctuation_never_counts_as_words(fires):
    assert fires("siege NEAR/1 Aleppo", "siege -- , of ... (Aleppo)")
    assert fires('"siege of Aleppo"', "siege, of: Aleppo")


def test_onear_needs_order(fires):
    assert fires("siege ONEAR/2 Aleppo", "siege of Aleppo")
    assert not fires("siege ONEAR/2 Aleppo", "Aleppo under siege")
    assert fires("siege NEAR/2 Aleppo", "Aleppo under siege")


def test_overlapping_operands_count_as_adjacent(fires):
    assert fires('"Sheikh Maqsoud" NEAR/0 Maqsoud', "the Sheikh Maqsoud district")
    assert not fires('"Sheikh Maqsoud" ONEAR/0 Maqsoud', "the Sheikh Maqsoud district")


def test_near_chain_uses_whole_left_span(fires):
    text = "siege a Aleppo b c Homs"
    assert fires("siege NEAR/1 Aleppo NEAR/2 Homs", text)
    assert not fires("siege NEAR/1 Aleppo NEAR/1 Homs", text)


def test_sentence_scope(fires):
    assert fires("siege NEAR/s Aleppo", "A long siege, many said, gripped the city of Aleppo.")
    assert not fires("siege NEAR/s Aleppo", "The siege ended. Aleppo was calm.")
    assert fires("siege NEAR/s Aleppo", "The siege was ordered by Col. Hassan in Aleppo.")


def test_paragraph_scope(fires):
    assert fires("siege NEAR/p Aleppo", "The siege ended. Aleppo was calm.")
    assert not fires("siege NEAR/p Aleppo", "The siege ended.\n\nAleppo was calm.")
    assert not fires("siege NEAR/p Aleppo", "The siege ended\nAleppo was calm.")


def test_near_never_crosses_fields(fires):
    assert not fires("siege NEAR/5 Aleppo", "Aleppo today", title="Siege")


def test_field_scope(fires):
    assert fires("title:(siege)", "nothing", title="Siege of Aleppo")
    assert not fires("title:(siege)", "the siege", title="Aleppo news")
    assert fires("body:(siege) title:(Aleppo)", "the siege", title="Aleppo news")
    assert not fires("body:(siege NEAR/3 Aleppo)", "Aleppo", title="siege")


def test_spans_are_the_occurrences_that_made_near_true(match_query):
    body = "Aleppo first. Later a siege hit Aleppo again."
    (found,) = match_query("siege NEAR/2 Aleppo", body)
    texts = [body[s.start : s.end] for s in found.spans]
    assert texts == ["siege", "Aleppo"]
    assert found.spans[1].start == body.rindex("Aleppo")
    assert all(s.field == "body" for s in found.spans)
    assert found.snippet == "Later a [siege] hit [Aleppo] again."


def test_phrase_span_covers_the_whole_phrase(match_query):
    body = "Forces lifted the siege on the Sheikh Maqsoud neighbourhood."
    (found,) = match_query('siege NEAR/5 "Sheikh Maqsoud"', body)
    assert [body[s.start : s.end] for s in found.spans] == ["siege", "Sheikh Maqsoud"]


def test_title_spans_are_offsets_into_the_title(match_query):
    (found,) = match_query("siege", "Nothing here.", title="Russia ends siege")
    (span,) = found.spans
    assert (span.start, span.end, span.field) == (12, 17, "title")
    assert found.snippet == "Russia ends [siege]"


def test_brackets_of_the_article_are_escaped_in_the_snippet_and_read_back_unmarked(match_query):
    body = '"[We] will hold the siege," a commander said [sic] \\ twice.'
    (found,) = match_query("siege", body)
    assert found.snippet == (
        '"\\[We\\] will hold the [siege]," a commander said \\[sic\\] \\\\ twice.'
    )
    assert [text for text, is_mark in pieces(found.snippet) if is_mark] == ["siege"]
    assert "".join(text for text, _ in pieces(found.snippet)) == body


def test_a_phrase_across_a_sentence_end_is_marked_and_its_long_sentence_cut(match_query):
    """Punctuation is no word, so "siege of Aleppo" matches across a full stop; the
    snippet marks the part of the phrase in the sentence it starts in, and still cuts
    that sentence when it is long (it kept all 20,000 characters, unmarked)."""
    body = "[x] " * 5_000 + "the siege. Of Aleppo nothing more."
    (found,) = match_query('"siege of Aleppo"', body)
    assert found.snippet.startswith("…\\[x\\] ")
    assert found.snippet.endswith(" the [siege.]")
    assert len(found.snippet) < 600


def test_long_article_and_long_line(match_query):
    body = ("word " * 200_000) + "siege of Aleppo " + ("x" * 100_000)
    (found,) = match_query("siege NEAR/1 Aleppo", body)
    assert body[found.spans[0].start : found.spans[0].end] == "siege"
    assert len(found.snippet) < 1000


def test_near_chains_over_a_long_line_full_of_hits(match_query):
    """100,000 characters without a full stop, every few words a hit: one sentence with
    millions of close pairs (proximity.PAIR_LIMIT). The chain still matches, and the
    highlights start at the first hits."""
    body = "siege of Aleppo as people fled the town and " * 2_500 + "nothing more"
    query = "(siege NEAR/s Aleppo) NEAR/p town"
    (found,) = match_query(query, body)
    words = [body[s.start : s.end] for s in found.spans[:3]]
    assert words == ["siege", "Aleppo", "town"]
    assert match_query("(siege ONEAR/s Aleppo) ONEAR/2 nothing", body) == []


def test_snippet_of_a_huge_sentence_stays_short(match_query):
    body = "siege " + "x " * 50_000 + "siege of Aleppo"
    (found,) = match_query("siege", body)
    assert len(found.spans) == 2
    assert found.snippet.startswith("[siege] x x")
    assert len(found.snippet) <= 500


def test_rule_sources_limit_a_rule_to_named_or_globbed_feeds(analyzer):
    rule = Rule(id="r", title="t", query_text="siege", query=parse_query("siege"),
                sources=("asharq-*", "seeds"))
    engine = Engine(Compiler(analyzer).compile([rule]), analyzer)

    def fires_from(source: str) -> bool:
        article = Article(id="a", title="", body="The siege.", source=source)
        return bool(engine.match(analyzer.analyse(article)))

    assert fires_from("asharq-syria")
    assert fires_from("seeds")
    assert not fires_from("other")
    assert not fires_from("")


def test_a_rule_of_not_alone_shows_the_articles_opening_unmarked(match_query):
    """No word made it hold, yet an alert should say what the article is about."""
    [found] = match_query("NOT siege", "Calm in Aleppo [today]. Markets opened.", title="Calm")
    assert (found.spans, found.snippet) == ((), "Calm in Aleppo \\[today\\].")
    [titled] = match_query("NOT siege", "", title="Calm day")
    assert titled.snippet == "Calm day"
    [long] = match_query("NOT siege", "word " * 200 + "end.")
    assert long.snippet == ("word " * 80).strip() + "…"


def test_a_hyphenated_prefix_is_whole_words_then_a_prefix(fires):
    assert fires("al-Has*", "Shelling in al-Hasakah") and fires("al-Has*", "Al Hasaka")
    assert not fires("al-Has*", "Alawite-Hassan") and not fires("al-Has*", "all Hasaka")
    assert fires("T-72*", "a T-72B tank") and not fires("T-72*", "a T-90 tank")


# --- NOT IN: a word left out where it is part of a phrase of another sense ---------------

FIGHT = 'fighting NOT IN "fighting position"'


@pytest.mark.parametrize(
    ("query", "title", "body", "expected"),
    [
        (FIGHT, "", "Fighting raged in Raqqa.", True),
        (FIGHT, "", "Jets destroyed six fighting positions.", False),
        (FIGHT, "", "Jets hit a fighting position in Homs; fighting went on.", True),
        # the phrase leaves out what it overlaps, even in part
        ('"six fighting" NOT IN "fighting position"', "", "They destroyed six fighting "
         "positions.", False),
        ('"six fighting" NOT IN "fighting position"', "", "six fighting men", True),
        # OR-groups on either side: any occurrence of the left, outside all of the right
        ('(fighting OR clash) NOT IN ("fighting position" OR "clash of civilisations")', "",
         "A clash of civilisations at fighting positions.", False),
        ('(fighting OR clash) NOT IN ("fighting position" OR "clash of civilisations")', "",
         "A clash of civilisations in Europe, then clashes.", True),
        # only the same field's occurrences leave one out
        (FIGHT, "Fighting in Raqqa", "Jets destroyed fighting positions.", True),
        (f"title:({FIGHT})", "Jets hit fighting positions", "Fighting in Raqqa.", False),
        (f"body:({FIGHT})", "Fighting in Raqqa", "Jets hit fighting positions.", False),
        (f"body:({FIGHT})", "Jets hit fighting positions", "Fighting in Raqqa.", True),
        # either side of NEAR/n, ONEAR/n, NEAR/s and NEAR/p: the kept occurrences only
        (f"{FIGHT} NEAR/3 Raqqa", "", "Jets destroyed fighting positions near Raqqa.", False),
        (f"{FIGHT} NEAR/3 Raqqa", "", "Fighting went on near Raqqa.", True),
        (f"Raqqa NEAR/3 {FIGHT}", "", "Near Raqqa, jets destroyed fighting positions.", False),
        (f"Raqqa ONEAR/3 {FIGHT}", "", "In Raqqa fighting went on.", True),
        (f"Raqqa ONEAR/3 {FIGHT}", "", "Raqqa: fighting positions hit.", False),
        (f"{FIGHT} NEAR/s Raqqa", "", "Jets hit fighting positions. Fighting near Raqqa.", True),
        (f"{FIGHT} NEAR/s Raqqa", "", "Fighting ended. Jets hit fighting positions in Raqqa.",
         False),
        (f"{FIGHT} NEAR/p Raqqa", "", "Fighting ended.\n\nJets hit fighting positions in "
         "Raqqa.", False),
        (f"{FIGHT} NEAR/p Raqqa", "", "Fighting ended. Raqqa is calm.", True),
        # AND, OR and NOT take it as any positional operand
        (f"{FIGHT} AND NOT Raqqa", "", "Fighting went on in Homs.", True),
        (f"NOT ({FIGHT})", "", "Jets destroyed fighting positions.", True),
        # an occurrence of B read across a sentence or paragraph break leaves nothing out;
        # across a comma it does (a comma ends no sentence)
        (FIGHT, "", "There was fighting. Positions were lost.", True),
        (FIGHT, "", "There was fighting\n\nPositions were lost.", True),
        (FIGHT, "", "They kept fighting, positions changing hands.", False),
    ],
)
def test_not_in_keeps_only_the_occurrences_outside_the_phrase(fires, query, title, body,
                                                              expected):
    assert fires(query, body, title=title) is expected


def test_the_spans_of_not_in_are_the_occurrences_it_keeps(match_query):
    body = ("Jets destroyed six fighting positions in Raqqa, the army said on Monday. "
            "Fighting went on in Raqqa.")
    (found,) = match_query(f"{FIGHT} NEAR/3 Raqqa", body)
    assert [(body[s.start:s.end], s.start) for s in found.spans] == [
        ("Fighting", body.index("Fighting")), ("Raqqa", body.rindex("Raqqa"))]
    assert found.snippet == "[Fighting] went on in [Raqqa]."
