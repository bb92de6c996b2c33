"""Property: the NEAR pair finders agree with checking every pair by the definition."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.evaluation import Plans
from watcher.proximity import any_pair, pairs
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


def close_enough(a, b, distance, ordered, unit_numbers) -> bool:
    """The NEAR definition, as tests/reference.py states it."""
    if ordered and not a[1] < b[0]:
        return False
    if unit_numbers is not None:
        return unit_numbers[min(a[0], b[0])] == unit_numbers[max(a[1], b[1])]
    return max(b[0] - a[1] - 1, a[0] - b[1] - 1, 0) <= distance


def as_run(hits: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    return [s for s, _ in hits], [e for _, e in hits]


@settings(max_examples=400, deadline=None)
@given(
    left=extents,
    right=extents,
    distance=st.integers(0, 4),
    ordered=st.booleans(),
    unit_numbers=st.none() | units,
)
def test_pairs_and_any_pair_agree_with_the_definition(left, right, distance, ordered, unit_numbers):
    expected = {
        (a, b) for a in left for b in right if close_enough(a, b, distance, ordered, unit_numbers)
    }
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
