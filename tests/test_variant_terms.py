"""Property: a rule's `~Name` terms found once per rule (locate.variant_terms) name each
term range of a match as walking the rule's query at every match did: a range two `~Name`
terms share keeps the Name of the one the walk meets last, and only the terms that occur
in the article are read."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_engine_property import boolean
from watcher.engine.locate import VariantTerms, variant_terms
from watcher.engine.positional import TermRange
from watcher.rules.ast import And, InField, Near, NotIn, Or, Query, Term
from watcher.rules.compile import CAnd, CField, CNear, CNode, CNotIn, Compiler, COr, CTerm

# Overlapping ranges, so that the Names of terms sharing one compete.
RANGES = st.sets(st.tuples(st.integers(0, 1), st.integers(0, 3), st.integers(3, 5)), max_size=4)


def walked_names(
    query: Query, compiled: CNode, ranges_of: Callable[[CNode], set[TermRange] | None]
) -> dict[TermRange, str]:
    """The reference: the walk every match made before the terms were found once."""
    found: dict[TermRange, str] = {}
    match query, compiled:
        case Term(kind="variant", text=name), _:
            for term_range in ranges_of(compiled) or ():
                found.setdefault(term_range, name)
        case (And(children), CAnd(compiled_children)) | (Or(children), COr(compiled_children)):
            for child, compiled_child in zip(children, compiled_children, strict=False):
                found.update(walked_names(child, compiled_child, ranges_of))
        case InField(_, child), CField(_, compiled_child):
            found.update(walked_names(child, compiled_child, ranges_of))
        case Near(left, right), CNear(compiled_left, compiled_right):
            found.update(walked_names(left, compiled_left, ranges_of))
            found.update(walked_names(right, compiled_right, ranges_of))
        case NotIn(include, _), CNotIn(compiled_include, _):  # what it leaves out is no span
            found.update(walked_names(include, compiled_include, ranges_of))
    return found


def _sequences(node: CNode) -> set[int]:
    match node:
        case CTerm(seq):
            return {seq}
        case CAnd(children) | COr(children):
            return set().union(*(_sequences(c) for c in children))
        case CNear(left, right) | CNotIn(left, right):
            return _sequences(left) | _sequences(right)
        case CField(_, child):
            return _sequences(child)
    return _sequences(node.child)  # CNot


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=boolean(2), data=st.data())
def test_the_names_of_terms_found_once_are_those_of_the_walk(analyzer, query, data) -> None:
    compiled = Compiler(analyzer).node(query)
    ranges = {seq: data.draw(st.none() | RANGES, label=f"ranges of {seq}")
              for seq in sorted(_sequences(compiled))}

    def ranges_of(node: CNode) -> set[TermRange] | None:
        return ranges[node.seq] if isinstance(node, CTerm) else None

    def occurring(seqs: frozenset[int]) -> set[int]:
        return {seq for seq in seqs if ranges[seq] is not None}

    found = variant_terms(query, compiled).names(occurring, ranges_of)
    assert found == walked_names(query, compiled, ranges_of)


def test_a_term_met_twice_names_a_shared_range_from_its_last_place(analyzer) -> None:
    """`Hasaka` and `al-Hasaka` are one sequence (the article word is optional), met before
    and after `Homs`: a range both sequences hold is named by the walk's last term."""
    query = Or((Term("variant", "Hasaka"), Term("variant", "Homs"),
                Term("variant", "al-Hasaka")))
    compiled = Compiler(analyzer).node(query)
    hasaka, homs, al_hasaka = compiled.children
    assert hasaka is al_hasaka and hasaka is not homs
    shared = {(1, 2, 3)}

    def ranges_of(node: CNode) -> set[TermRange] | None:
        return shared

    def occurring(seqs: frozenset[int]) -> set[int]:
        return set(seqs)

    found = variant_terms(query, compiled).names(occurring, ranges_of)
    assert found == walked_names(query, compiled, ranges_of) == {(1, 2, 3): "al-Hasaka"}


def test_a_name_compiled_to_no_single_term_is_read_in_its_place_of_the_walk(analyzer) -> None:
    """Every `~Name` compiles to one term today; one compiled otherwise (`others`) is read
    whether or not an index says it occurs, and still keeps its place in the walk: a range
    it shares with a later term takes the later one's Name, an earlier one's it overrides."""
    homs = Compiler(analyzer).node(Term("variant", "Homs"))
    assert isinstance(homs, CTerm)
    composite = COr((CTerm(homs.seq + 1), CTerm(homs.seq + 2)))  # stands for such a Name
    shared = {(1, 0, 3)}
    terms = VariantTerms({homs.seq: (1, "Homs", homs)}, frozenset({homs.seq}),
                         ((0, "Hims", composite), (2, "Himsi", composite)))

    def ranges_of(node: CNode) -> set[TermRange] | None:
        return shared

    assert terms.names(lambda seqs: set(seqs), ranges_of) == {(1, 0, 3): "Himsi"}
    assert terms.names(lambda seqs: set(), ranges_of) == {(1, 0, 3): "Himsi"}
    earlier = VariantTerms(terms.by_seq, terms.seqs, ((0, "Hims", composite),))
    assert earlier.names(lambda seqs: set(seqs), ranges_of) == {(1, 0, 3): "Homs"}
