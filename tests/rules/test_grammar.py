"""The query language: every form of rule-language.md, precedence, and each syntax error."""

from __future__ import annotations

import pytest

from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Term
from watcher.rules.grammar import operator_in_entry, parse_list_entry, parse_query
from watcher.rules.references import ListRef
from watcher.rules.syntax import QuerySyntaxError


def w(text: str) -> Term:
    return Term("word", text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("siege", w("siege")),
        ("al-Hasaka", w("al-Hasaka")),
        ("U.S.", w("U.S.")),
        ("O'Brien", w("O'Brien")),
        ("Qamişlo", w("Qamişlo")),
        ("Türkiye", w("Türkiye")),
        ("2024", w("2024")),
        ('"Sheikh Maqsoud"', w("Sheikh Maqsoud")),
        ('"  cut   off "', w("cut off")),
        ("=Forces", Term("exact", "Forces")),
        ('="Fourth Division"', Term("exact", "Fourth Division")),
        ("evacuat*", Term("prefix", "evacuat")),
        ("~Qamishli", Term("variant", "Qamishli")),
        ('~"Sheikh Maqsoud"', Term("variant", "Sheikh Maqsoud")),
        ("@siege_words", ListRef("siege_words", 0)),
        ("title:(siege)", InField("title", w("siege"))),
        ("body:( siege OR blockade )", InField("body", Or((w("siege"), w("blockade"))))),
        ("title:siege", InField("title", w("siege"))),
        ('title:"cut off"', InField("title", w("cut off"))),
        ("(siege)", w("siege")),
    ],
)
def test_operand_forms(query, expected):
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a b", And((w("a"), w("b")))),
        ("a AND b", And((w("a"), w("b")))),
        ("a OR b", Or((w("a"), w("b")))),
        ("NOT a", Not(w("a"))),
        ("a AND NOT b", And((w("a"), Not(w("b"))))),
        ("a NEAR/5 b", Near(w("a"), w("b"), distance=5)),
        ("a NEAR/0 b", Near(w("a"), w("b"), distance=0)),
        ("a ONEAR/2 b", Near(w("a"), w("b"), distance=2, ordered=True)),
        ("a NEAR/s b", Near(w("a"), w("b"), scope="sentence")),
        ("a NEAR/p b", Near(w("a"), w("b"), scope="paragraph")),
        ("a ONEAR/s b", Near(w("a"), w("b"), scope="sentence", ordered=True)),
        (
            "@siege_words NEAR/15 @kurdish_districts",
            Near(ListRef("siege_words", 0), ListRef("kurdish_districts", 21), distance=15),
        ),
    ],
)
def test_operators(query, expected):
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # AND (and juxtaposition) binds tighter than OR
        ("a b OR c", Or((And((w("a"), w("b"))), w("c")))),
        ("a OR b c", Or((w("a"), And((w("b"), w("c")))))),
        ("a AND b OR c", Or((And((w("a"), w("b"))), w("c")))),
        # NOT binds tightest
        ("NOT a b", And((Not(w("a")), w("b")))),
        ("NOT a OR b", Or((Not(w("a")), w("b")))),
        ("a NOT b", And((w("a"), Not(w("b"))))),
        ("NOT a NEAR/3 b", Near(Not(w("a")), w("b"), distance=3)),
        # NEAR binds tighter than AND
        ("a NEAR/3 b c", And((Near(w("a"), w("b"), distance=3), w("c")))),
        ("c a NEAR/3 b", And((w("c"), Near(w("a"), w("b"), distance=3)))),
        ("a NEAR/3 b OR c", Or((Near(w("a"), w("b"), distance=3), w("c")))),
        # NEAR chains to the left
        (
            "a NEAR/5 b NEAR/5 c",
            Near(Near(w("a"), w("b"), distance=5), w("c"), distance=5),
        ),
        (
            "a NEAR/1 b ONEAR/s c",
            Near(Near(w("a"), w("b"), distance=1), w("c"), scope="sentence", ordered=True),
        ),
        ("a NEAR/5 (b NEAR/5 c)", Near(w("a"), Near(w("b"), w("c"), distance=5), distance=5)),
        # parentheses group
        ("a (b OR c)", And((w("a"), Or((w("b"), w("c")))))),
        ("(a OR b) NEAR/2 c", Near(Or((w("a"), w("b"))), w("c"), distance=2)),
        ("title:(a b) c", And((InField("title", And((w("a"), w("b")))), w("c")))),
    ],
)
def test_precedence(query, expected):
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a AND (b AND c) d", And((w("a"), w("b"), w("c"), w("d")))),
        ("(a OR b) OR (c OR d)", Or((w("a"), w("b"), w("c"), w("d")))),
        ("a b c", And((w("a"), w("b"), w("c")))),
        ("(a OR b) (c OR d)", And((Or((w("a"), w("b"))), Or((w("c"), w("d")))))),
    ],
)
def test_nested_and_or_are_flattened(query, expected):
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("war and peace", And((w("war"), w("and"), w("peace")))),
        ("war or peace", And((w("war"), w("or"), w("peace")))),
        ("not near", And((w("not"), w("near")))),
        ("Near Not", And((w("Near"), w("Not")))),
        ("ANDROID ORIENT NOTE NEARBY", And((w("ANDROID"), w("ORIENT"), w("NOTE"), w("NEARBY")))),
    ],
)
def test_only_upper_case_operators_are_operators(query, expected):
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "offset", "message"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("siege AND (Aleppo", 10, "unbalanced parentheses: '(' is never closed"),
        ("((a) OR (b)", 0, "unbalanced parentheses: '(' is never closed"),
        ("a (b (c) d", 2, "unbalanced parentheses: '(' is never closed"),  # (c) is closed
        ("siege) Aleppo", 5, "unbalanced parentheses: ')' has no '('"),
        ("()", 0, "empty parentheses"),
        ("siege AND", 6, "dangling operator 'AND': nothing after it"),
        ("siege OR", 6, "dangling operator 'OR': nothing after it"),
        ("siege NOT", 6, "dangling operator 'NOT': nothing after it"),
        ("siege NEAR/3", 6, "dangling operator 'NEAR/3': nothing after it"),
        ("siege AND OR b", 10, "'OR' right after 'AND': a term is missing between them"),
        ("(siege AND) b", 7, "dangling operator 'AND': nothing after it"),
        ("OR siege", 0, "dangling operator 'OR': nothing before it"),
        ("(AND siege)", 1, "dangling operator 'AND': nothing before it"),
        ("NEAR/3 siege", 0, "dangling operator 'NEAR/3': nothing before it"),
        ("title:", 0, "'title:' must be followed by a term or ( … )"),
        ('siege "Sheikh Maqsoud', 6, "unterminated quote: this '\"' is never closed"),
        ('siege ="Fourth Division', 7, "unterminated quote: this '\"' is never closed"),
        ('~"Sheikh', 1, "unterminated quote: this '\"' is never closed"),
        ('""', 0, "empty phrase: no word between the quotes"),
        ("a NEAR/x b", 2, "bad NEAR distance 'x'"),
        ("a NEAR/ b", 2, "bad NEAR distance ''"),
        ("a NEAR/-1 b", 2, "bad NEAR distance '-1'"),
        ("a NEAR/2.5 b", 2, "bad NEAR distance '2.5'"),
        ("a ONEAR/w b", 2, "bad ONEAR distance 'w'"),
        ("a NEAR b", 2, "NEAR needs a distance: NEAR/n, NEAR/s or NEAR/p"),
        ("a ONEAR b", 2, "ONEAR needs a distance: ONEAR/n, ONEAR/s or ONEAR/p"),
        ("ev*", 0, "prefix 'ev*' is too short: put at least 3 characters before '*'"),
        ("siege a*", 6, "prefix 'a*' is too short"),
        ("siege *", 6, "'*' must directly follow a word, as in evacuat*"),
        ("siege OR OR Aleppo", 9, "'OR' right after 'OR': a term is missing between them"),
        ("title:(siege) NEAR/3 body:(Aleppo)", 14, "NEAR/3 between title:( … ) and body:( … ) "
                                                   "never holds"),
        ("(title:(a) OR title:(b)) ONEAR/s body:(c)", 25, "ONEAR/s between title:( … ) and"),
        ("siege NEAR/3 AND x", 13, "'AND' right after 'NEAR/3': a term is missing"),
        ("al-Ha*", 0, "prefix 'al-Ha*' is too short: put at least 3 characters before '*' "
                      "in its last word ('Ha')"),
        ("siege evacuat*ed", 13, "'*' ends a prefix: nothing may follow it in the word "
                                 "('evacuat*ed')"),
        ('sie*"ge"', 3, "'*' ends a prefix: nothing may follow it"),
        ("sie*~ge", 3, "'*' ends a prefix: nothing may follow it"),
        ("= Forces", 0, "'=' must be directly followed by a word or a phrase"),
        ("~ Qamishli", 0, "'~' must be directly followed by a word or a phrase"),
        ("@ list", 0, "'@' must be directly followed by a list name"),
        ("Title:(a)", 5, "':' may only follow title or body"),
        ("siege -ceasefire", 6, "unexpected '-' (to exclude a term, use NOT)"),
        ("siege, Aleppo", 5, "unexpected character ','"),
    ],
)
def test_syntax_errors(query, offset, message):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.offset == offset
    assert caught.value.message.startswith(message)
    assert isinstance(caught.value, ValueError)


def test_near_distance_error_names_the_forms():
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("a NEAR/x b")
    assert "NEAR/n" in caught.value.message
    assert "NEAR/s" in caught.value.message
    assert "NEAR/p" in caught.value.message


@pytest.mark.parametrize(
    ("query", "offset", "message"),
    [
        ("NOT a NEAR/3 b", 0, "NOT inside a NEAR operand"),
        ("a NEAR/3 NOT b", 9, "NOT inside a NEAR operand"),
        ("(a b) NEAR/3 c", 1, "AND inside a NEAR operand"),
        ("c NEAR/3 (a AND b)", 10, "AND inside a NEAR operand"),
        ("a NEAR/3 (b OR NOT c)", 15, "NOT inside a NEAR operand"),
        ("(Homs NOT Hama) NEAR/3 siege", 6, "NOT inside a NEAR operand"),  # not the AND
        ("title:(a b) NEAR/3 c", 7, "AND inside a NEAR operand"),
        ("(a b) NEAR/3 (NOT c)", 1, "AND inside a NEAR operand"),
    ],
)
def test_strict_rejects_and_not_inside_near(query, offset, message):
    parse_query(query)  # the tree exists; only the loader's strict parse refuses it
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query, strict=True)
    assert (caught.value.offset, caught.value.message[: len(message)]) == (offset, message)


@pytest.mark.parametrize(
    "query",
    [
        "(a OR @b) NEAR/3 title:(c OR ~d)",
        "(a NEAR/1 b) NEAR/3 c",
        "a NEAR/3 b c",
        "NOT (a NEAR/3 b)",
        "=a ONEAR/0 evacuat*",
    ],
)
def test_strict_accepts_what_near_can_measure(query):
    assert parse_query(query, strict=True) == parse_query(query)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("siege", w("siege")),
        ("Sheikh Maqsoud", w("Sheikh Maqsoud")),
        ("  Sheikh   Maqsoud ", w("Sheikh Maqsoud")),
        ("~Sheikh Maqsoud", Term("variant", "Sheikh Maqsoud")),
        ("=Fourth Division", Term("exact", "Fourth Division")),
        ('"cut off"', w("cut off")),
        ("encircle*", Term("prefix", "encircle")),
        ("~Ashrafieh", Term("variant", "Ashrafieh")),
        ("@other", ListRef("other", 0)),
        ("siege and Aleppo", w("siege and Aleppo")),  # a phrase: lower-case is no operator
        ("siege AND Aleppo", w("siege AND Aleppo")),  # a phrase too, as the contract says
    ],
)
def test_list_entries(entry, expected):
    assert parse_list_entry(entry) == expected


@pytest.mark.parametrize(
    ("entry", "offset", "message"),
    [
        ('"siege" Aleppo', 0, "a list entry must be one term"),
        ("@a @b", 0, "a list entry must be one term"),
        ("ab*", 0, "prefix 'ab*' is too short"),
        ("", 0, "empty query"),
        ("siege,", 5, "unexpected character ','"),
    ],
)
def test_bad_list_entries(entry, offset, message):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_list_entry(entry)
    assert (caught.value.offset, caught.value.message[: len(message)]) == (offset, message)


@pytest.mark.parametrize(
    ("query", "offset"), [('"siege*"', 6), ('="cut off*"', 9), ('~"Sheikh Maq*"', 12)]
)
def test_a_star_inside_a_phrase_is_an_error_not_silently_dropped(query, offset):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.offset == offset
    assert "not allowed in a phrase" in caught.value.message


@pytest.mark.parametrize("query", ["T-72*", "F-16*", "COVID-19*", "Su-24*", "al-Has*"])
def test_a_hyphenated_prefix_counts_its_last_part_as_spacy_splits_it(query):
    """spaCy splits `al-Hasaka` at the hyphen but keeps `T-72` whole: `T-72*` is one word's
    prefix, not a `72` too short."""
    assert parse_query(query) == Term("prefix", query[:-1])


@pytest.mark.parametrize(
    ("entry", "found"),
    [
        ("siege AND Aleppo", (6, "AND")),
        ("=Forces ONEAR/2 x", (8, "ONEAR/2")),
        ("siege and Aleppo", None),  # lower-case: no operator
        ('"war OR peace"', None),  # quoted: the phrase is meant
        ("siege", None),
    ],
)
def test_an_operator_word_in_an_unquoted_list_entry_is_found_for_a_warning(entry, found):
    """The contract reads `siege AND Aleppo` as a phrase; the loader warns that it is one."""
    assert operator_in_entry(entry) == found


# --- NOT IN: the occurrences of A outside every occurrence of B -------------------------


def not_in(include, exclude):
    return NotIn(include, exclude)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('fight NOT IN "fighting position"', not_in(w("fight"), w("fighting position"))),
        ("refugee NOT IN (\"Palestinian refugee\" OR =UNRWA)",
         not_in(w("refugee"), Or((w("Palestinian refugee"), Term("exact", "UNRWA"))))),
        ("(clash OR fight*) NOT IN ~Hama", not_in(Or((w("clash"), Term("prefix", "fight"))),
                                                  Term("variant", "Hama"))),
        ("@a NOT IN @b", not_in(ListRef("a", 0), ListRef("b", 10))),
        ("fight NOT\n  IN b", not_in(w("fight"), w("b"))),  # any white space between
        # tighter than NEAR, on either side, and than AND and OR
        ("@a NOT IN @b NEAR/10 @c",
         Near(not_in(ListRef("a", 0), ListRef("b", 10)), ListRef("c", 21), distance=10)),
        ("x NEAR/s a NOT IN b", Near(w("x"), not_in(w("a"), w("b")), scope="sentence")),
        ("x a NOT IN b OR c", Or((And((w("x"), not_in(w("a"), w("b")))), w("c")))),
        ("title:(a NOT IN b) c", And((InField("title", not_in(w("a"), w("b"))), w("c")))),
        ("NOT (a NOT IN b)", Not(not_in(w("a"), w("b")))),
        # IN is an operator only right after NOT; `NOT in`, `NOT INDIA` are as they were
        ("a NOT in b", And((w("a"), Not(w("in")), w("b")))),
        ("a NOT INDIA", And((w("a"), Not(w("INDIA"))))),
        ("a NOT IN-x", And((w("a"), Not(w("IN-x"))))),
        ("IN a", And((w("IN"), w("a")))),
    ],
)
def test_not_in_parses_and_binds_tighter_than_near(query, expected):
    assert parse_query(query, strict=True) == expected


NOT_IN_SIDES = ("inside a NOT IN operand: each side of NOT IN is a term, phrase, prefix, "
                "variant, place:, @list or a parenthesised OR of them")


@pytest.mark.parametrize(
    ("query", "offset", "message"),
    [
        ("(a NEAR/3 b) NOT IN c", 1, f"NEAR/3 {NOT_IN_SIDES}"),
        ("a NOT IN (b c)", 10, f"AND {NOT_IN_SIDES}"),
        ("a NOT IN (b OR c AND d)", 15, f"AND {NOT_IN_SIDES}"),
        ("NOT a NOT IN b", 0, f"NOT {NOT_IN_SIDES}"),
        ("a NOT IN NOT b", 9, f"NOT {NOT_IN_SIDES}"),
        ("title:a NOT IN b", 0, f"title: {NOT_IN_SIDES}"),
        ("a NOT IN (b OR (c NEAR/2 d))", 16, f"NEAR/2 {NOT_IN_SIDES}"),
        ("a NOT IN b NOT IN c", 11, "NOT IN after NOT IN: to leave out several forms, "
                                    "write A NOT IN (B OR C)"),
        ("a NOT IN", 2, "dangling operator 'NOT IN': nothing after it"),
        ("NOT IN b", 0, "dangling operator 'NOT IN': nothing before it"),
    ],
)
def test_not_in_takes_terms_and_or_groups_of_them_on_each_side(query, offset, message):
    for strict in (False, True):
        with pytest.raises(QuerySyntaxError) as caught:
            parse_query(query, strict=strict)
        assert (caught.value.offset, caught.value.message) == (offset, message)


NEAR_SIDES = "inside a NEAR operand: NEAR operands may only be terms, lists or OR-groups of them"


@pytest.mark.parametrize(
    ("query", "offset", "message"),
    [
        ("(a AND b) NEAR/5 c d NOT IN (e AND f)", 1, f"AND {NEAR_SIDES}"),
        ("d NOT IN (e AND f) (a AND b) NEAR/5 c", 10, f"AND {NOT_IN_SIDES}"),
        ("(NOT a) NEAR/5 c d NOT IN b NOT IN e", 1, f"NOT {NEAR_SIDES}"),
    ],
)
def test_the_leftmost_of_a_near_and_a_not_in_operand_error_is_reported(query, offset, message):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query, strict=True)
    assert (caught.value.offset, caught.value.message) == (offset, message)
