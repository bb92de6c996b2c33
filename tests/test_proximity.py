"""Property: the NEAR pair finders agree with checking every pair by the definition."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from watcher.engine.evaluation import Plans
from watcher.engine.proximity import any_pair, chain_pairs, pairs, units_with_pair, used_hits
from watcher.rules.compile import CNear, COr, CTerm

FIELD_WORDS = 30

extents = st.lists(
    st.tuples(st.integers(0, FIELD_WORDS - 3), st.integers(0, 2)).map(
        lambda t: (t[0], t[0] + t[1])
    ),
    max_size=6,
).map(lambda xs: sorted(set(xs)))
single_words = st.lists(st.integers(0, FIELD_WORDS - 1), max_size=6, unique=True).map(sorted)
units = st.lists(st.integers(0, 2), min_size=FIELD_WORDS, max_size=FIELD_WORDS).map(
    lambda steps: [sum(steps[: i + 1]) for i in range(FIELD_WORDS)]
)

# One NEAR's hits and settings, as the pair finders take them.
NEAR_ARGUMENTS = dict(
    left=extents,
    right=extents,
    distance=st.integers(0, 4),
    ordered=st.booleans(),
    unit_numbers=st.none() | units,
)


def close_enough(a, b, distance, ordered, unit_numbers) -> bool:
    """The NEAR definition, as tests/reference.py states it."""
    if ordered and not a[1] < b[0]:
        return False
    if unit_numbers is not None:
        return unit_numbers[min(a[0], b[0])] == unit_numbers[max(a[1], b[1])]
    return max(b[0] - a[1] - 1, a[0] - b[1] - 1, 0) <= distance


def close_pairs(left, right, distance, ordered, unit_numbers) -> set:
    """Every pair, checked by the definition."""
    return {
        (a, b) for a in left for b in right if close_enough(a, b, distance, ordered, unit_numbers)
    }


def as_run(hits: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    return [s for s, _ in hits], [e for _, e in hits]


@settings(max_examples=400, deadline=None)
@given(**NEAR_ARGUMENTS)
def test_pairs_and_any_pair_agree_with_the_definition(left, right, distance, ordered, unit_numbers):
    expected = close_pairs(left, right, distance, ordered, unit_numbers)
    assert set(pairs(left, right, distance, ordered, unit_numbers)) == expected
    found = any_pair(as_run(left), as_run(right), distance, ordered, unit_numbers)
    assert found == bool(expected)


@settings(max_examples=200, deadline=None)
@given(left=single_words, right=single_words, distance=st.integers(0, 4), ordered=st.booleans())
def test_single_word_runs_take_the_shortcut_and_agree(left, right, distance, ordered):
    """A single-word run has its ends list *be* its starts list (see proximity.Run)."""
    expected = any(
        close_enough((a, a), (b, b), distance, ordered, None) for a in left for b in right
    )
    assert any_pair((left, left), (right, right), distance, ordered, None) == expected


def test_every_distinct_node_gets_its_own_plan_slot():
    """Children are planned while their parent is built: slots must still not collide."""
    plans = Plans()
    near = CNear(COr((CTerm(1), CTerm(2))), CTerm(3), "words", 2, False)
    outer = CNear(near, CTerm(4), "sentence", 0, False)
    nodes = [outer, near, near.left, CTerm(1), CTerm(2), CTerm(3), CTerm(4)]
    slots = [plans.of(n).slot for n in nodes]  # type: ignore[attr-defined]
    assert len(set(slots)) == len(slots)
    assert plans.of(near) is plans.of(near)


def joined(a, b):
    return (min(a[0], b[0]), max(a[1], b[1]))


@settings(max_examples=400, deadline=None)
@given(**NEAR_ARGUMENTS)
def test_used_hits_are_the_hits_of_some_close_pair(left, right, distance, ordered, unit_numbers):
    close = close_pairs(left, right, distance, ordered, unit_numbers)
    used_left, used_right = used_hits(left, right, distance, ordered, unit_numbers)
    assert used_left == {a for a, _ in close}
    assert used_right == {b for _, b in close}


@settings(max_examples=600, deadline=None)
@given(
    **NEAR_ARGUMENTS,
    outer_hits=extents,
    outer_distance=st.integers(0, 4),
    outer_ordered=st.booleans(),
    outer_units=st.none() | units,
)
# The shortest joined range decides "same sentence": (8, 10) is inside the second one.
@example([(0, 0), (8, 8)], [(10, 10)], 10, False, None, [(12, 12)], 0, False, [0] * 6 + [1] * 24)
# The longest decides a word distance: (0, 10) overlaps word 2.
@example([(0, 0), (8, 8)], [(10, 10)], 0, False, [0] * 30, [(2, 2)], 0, False, None)
# ONEAR before a chain looks at its first word: only (2, 5) starts right after word 1.
@example([(0, 0), (2, 2), (4, 4)], [(5, 5)], 0, False, [0] * 30, [(1, 1)], 0, True, None)
def test_representative_pairs_decide_the_next_near_of_the_chain_as_all_pairs_do(
    left, right, distance, ordered, unit_numbers, outer_hits, outer_distance, outer_ordered,
    outer_units,
):
    """Past PAIR_LIMIT a chain passes on fewer joined ranges: `(A NEAR B) NEAR C` and
    `C NEAR (A NEAR B)` must still hold exactly when they hold over every pair."""
    close = close_pairs(left, right, distance, ordered, unit_numbers)
    kept = chain_pairs(left, right, distance, ordered, unit_numbers, limit=0)
    assert set(kept) <= close
    assert len(kept) <= 8 * (len(left) + len(right))

    def chain_holds(pairs_passed_on, chain_first: bool) -> bool:
        return any(
            close_enough(*((j, c) if chain_first else (c, j)), outer_distance, outer_ordered,
                         outer_units)
            for j in (joined(a, b) for a, b in pairs_passed_on)
            for c in outer_hits
        )

    assert chain_holds(kept, chain_first=True) == chain_holds(close, chain_first=True)
    assert chain_holds(kept, chain_first=False) == chain_holds(close, chain_first=False)


@settings(max_examples=600, deadline=None)
@given(**NEAR_ARGUMENTS, sentences=units, scope_is_sentence=st.booleans())
# Under NEAR/s, ONEAR: (4, 4) ends after (3, 3) starts, (0, 1) before it, in sentence 0.
@example([(0, 1), (4, 4)], [(3, 3)], 0, True, None, [0] * 30, True)
def test_the_sentences_holding_a_close_pair_are_those_of_the_joined_pairs(
    left, right, distance, ordered, unit_numbers, sentences, scope_is_sentence
):
    """What Evaluator.evidence reads per NEAR: the sentences that wholly hold some close
    pair's joined range, as when every pair was joined and looked at."""
    if scope_is_sentence:  # NEAR/s: the rule's units are the sentences themselves
        unit_numbers = sentences
    close = close_pairs(left, right, distance, ordered, unit_numbers)
    expected = {sentences[first] for first, last in (joined(a, b) for a, b in close)
                if sentences[first] == sentences[last]}
    assert units_with_pair(left, right, distance, ordered, unit_numbers, sentences) == expected


@given(**NEAR_ARGUMENTS)
def test_chain_pairs_under_the_limit_are_every_close_pair(
    left, right, distance, ordered, unit_numbers
):
    expected = close_pairs(left, right, distance, ordered, unit_numbers)
    assert set(chain_pairs(left, right, distance, ordered, unit_numbers)) == expected


def test_a_long_sentence_full_of_hits_passes_on_linearly_many_pairs():
    """6,000 hits in one sentence make 9 million close pairs; a chain keeps a few per hit
    (a 1 MB text without a full stop took minutes when every pair was listed)."""
    left = [(i, i) for i in range(0, 12_000, 4)]
    right = [(i, i) for i in range(2, 12_000, 4)]
    one_sentence = [0] * 12_000
    for ordered in (False, True):
        kept = chain_pairs(left, right, 0, ordered, one_sentence)
        assert len(list(pairs(left, right, 0, ordered, one_sentence))) > 4_000_000
        assert 0 < len(kept) <= 8 * (len(left) + len(right))
        used_left, used_right = used_hits(left, right, 0, ordered, one_sentence)
        assert used_left == set(left)
        assert used_right == set(right)


def test_a_link_of_a_chain_passes_on_pairs_in_proportion_to_its_hits_not_its_pairs():
    """What a chain of two NEARs (the most a rule may chain) costs rests on this: 16
    million close pairs in one sentence, at most eight passed on per hit."""
    left = [(p, p) for p in range(0, 8000, 2)]
    right = [(p, p) for p in range(1, 8000, 2)]
    one_sentence = [0] * 8000
    for distance, unit_numbers in ((100_000, None), (0, one_sentence)):
        for ordered in (False, True):
            kept = chain_pairs(left, right, distance, ordered, unit_numbers)
            assert 0 < len(kept) <= 8 * (len(left) + len(right))
