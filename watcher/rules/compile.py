"""Compile loaded rules into one term index: every word of every rule, keyed for lookup.

A rule's terms become sequences of atoms (word, exact, prefix, variant); each atom is
keyed so that one dictionary lookup per *word type* finds every atom the type satisfies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from watcher.places import name_key
from watcher.rules.ast import And, InField, Near, Not, NotIn, Or, Query, Rule, Term
from watcher.text.analysis import Analyzer, WordType
from watcher.text.known_names import NameCheck, known_names
from watcher.text.lexicon import Lexicon
from watcher.text.variants import (
    dropped_vowel_forms,
    fold,
    is_article,
    is_variant,
    loose_keys,
    variant_keys,
)

PREFIX_KEY_CHARS = 3


@dataclass(frozen=True)
class Atom:
    """One rule word as compared with one article word."""

    kind: str  # word | exact | prefix | variant | known
    # folded rule word (word, prefix), lower-cased (exact), rule spelling (variant), a word
    # of a place's known name, folded by name_key (known)
    text: str
    alone: bool = False  # a variant that is a whole one-word name (see is_variant)
    possessive: bool = False  # a variant that also matches with a stripped 's (Aleppos)
    known_place: bool = False  # a variant of a name the gazetteer knows (see is_variant)
    loose: bool = False  # also one vowel group more or fewer (see is_variant)
    dropped_vowel: bool = False  # also its spelling with a vowel letter left out (is_variant)


@dataclass(frozen=True)
class Sequence:
    """Consecutive atoms; variant names may have article words (al-, ez-) between them."""

    atoms: tuple[int, ...]
    skip_articles: bool


# Compiled query nodes mirror the AST but point at sequence ids.
@dataclass(frozen=True)
class CTerm:
    seq: int


@dataclass(frozen=True)
class CAnd:
    children: tuple[CNode, ...]


@dataclass(frozen=True)
class COr:
    children: tuple[CNode, ...]


@dataclass(frozen=True)
class CNot:
    child: CNode


@dataclass(frozen=True)
class CNear:
    left: CNode
    right: CNode
    scope: str
    distance: int
    ordered: bool


@dataclass(frozen=True)
class CNotIn:
    """`include NOT IN exclude` (ast.NotIn): both sides terms or ORs of them, so the engine
    reads each hit as one term occurrence; presearch needs `include` only."""

    include: CNode
    exclude: CNode


@dataclass(frozen=True)
class CField:
    field: str
    child: CNode


CNode = CTerm | CAnd | COr | CNot | CNear | CNotIn | CField


@dataclass(frozen=True)
class CompiledRule:
    """A rule, its compiled query, and the clauses of sequences it needs.

    `requires` (cheapest first, see Compiler.requirements): from each clause at least one
    sequence must occur for the query to be true. The index uses the first two; the engine
    checks the rest with set tests before evaluating. A rule with no clause (a top-level
    NOT) is evaluated on every article.
    """

    rule: Rule
    query: CNode
    requires: tuple[frozenset[int], ...] = ()


@dataclass
class RuleIndex:
    """Every atom and sequence of a rule set, with the lookups the engine needs."""

    lexicon: Lexicon
    atoms: list[Atom] = field(default_factory=list)
    sequences: list[Sequence] = field(default_factory=list)
    rules: list[CompiledRule] = field(default_factory=list)
    word_atoms: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    exact_atoms: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    prefix_atoms: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    variant_atoms: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    known_atoms: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Sequences of a place's other known names (`Ayn al-Arab`), occurring as the `~Name`
    # sequences they are listed under (`~Kobani`): alias -> those sequences.
    aliases: dict[int, list[int]] = field(default_factory=dict)
    # What occurrences of a `~Name` sequence naming a known place are checked against.
    name_checks: dict[int, NameCheck] = field(default_factory=dict)
    seqs_by_first_atom: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    rules_by_trigger: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    rules_by_pair: dict[int, dict[int, list[int]]] = field(default_factory=dict)
    always_rules: list[int] = field(default_factory=list)
    _atom_ids: dict[Atom, int] = field(default_factory=dict)
    _seq_ids: dict[Sequence, int] = field(default_factory=dict)

    def atoms_for(self, word: WordType) -> tuple[int, ...]:
        """Every atom a word type satisfies; called once per type and cached by the engine."""
        if not word.is_word:
            return ()
        found = list(self.word_atoms.get(word.folded, ()))
        found += self.exact_atoms.get(word.lower, ())
        for atom_id in self.prefix_atoms.get(word.folded[:PREFIX_KEY_CHARS], ()):
            if word.folded.startswith(self.atoms[atom_id].text):
                found.append(atom_id)
        found += self._variant_atoms_for(word)
        if self.known_atoms:
            found += self.known_atoms.get(name_key(word.lower), ())
        return tuple(sorted(set(found)))

    def _variant_atoms_for(self, word: WordType) -> list[int]:
        keys = variant_keys(word.lower)
        spellings = ["=" + word.folded]
        if word.folded.endswith("s"):  # a possessive with the apostrophe stripped: Aleppos
            keys |= variant_keys(word.lower[:-1])
            spellings.append("=" + word.folded[:-1])  # Kobnis: a vowel left out, then 's
        ids = {a for key in keys for a in self.variant_atoms.get(key, ())}
        ids.update(a for key in spellings for a in self.variant_atoms.get(key, ()))
        return [
            a
            for a in ids
            if is_variant(
                self.atoms[a].text,
                word.lower,
                is_english=self.lexicon.is_english,
                alone=self.atoms[a].alone,
                possessive=self.atoms[a].possessive,
                known_place=self.atoms[a].known_place,
                loose=self.atoms[a].loose,
                dropped_vowel=self.atoms[a].dropped_vowel,
            )
        ]

    # -- building -------------------------------------------------------------------

    def add_atom(self, atom: Atom) -> int:
        existing = self._atom_ids.get(atom)
        if existing is not None:
            return existing
        atom_id = len(self.atoms)
        self.atoms.append(atom)
        self._atom_ids[atom] = atom_id
        self._register_atom(atom, atom_id)
        return atom_id

    def _register_atom(self, atom: Atom, atom_id: int) -> None:
        if atom.kind == "word":
            for form in self.lexicon.forms_of(atom.text):
                self.word_atoms[fold(form)].append(atom_id)
        elif atom.kind == "exact":
            self.exact_atoms[atom.text].append(atom_id)
        elif atom.kind == "prefix":
            self.prefix_atoms[atom.text[:PREFIX_KEY_CHARS]].append(atom_id)
        elif atom.kind == "known":
            self.known_atoms[atom.text].append(atom_id)
        else:
            keys = variant_keys(atom.text) | {"=" + fold(atom.text)}
            if atom.loose:  # Damscus for Damascus (variants.py)
                keys |= loose_keys(atom.text)
            if atom.dropped_vowel:  # Kobni for Kobani (variants.py)
                keys |= {"=" + form for form in dropped_vowel_forms(atom.text)}
            for key in keys:
                self.variant_atoms[key].append(atom_id)

    def add_sequence(self, seq: Sequence) -> int:
        existing = self._seq_ids.get(seq)
        if existing is not None:
            return existing
        seq_id = len(self.sequences)
        self.sequences.append(seq)
        self._seq_ids[seq] = seq_id
        self.seqs_by_first_atom[seq.atoms[0]].append(seq_id)
        return seq_id

    def add_known_names(self, seq_id: int, names: tuple[tuple[str, ...], ...]) -> None:
        """Let a place's other known names (name_key words) occur as the `~Name` sequence."""
        for words in names:
            atoms = tuple(self.add_atom(Atom("known", word)) for word in words)
            alias = self.add_sequence(Sequence(atoms, skip_articles=True))
            listed = self.aliases.setdefault(alias, [])
            if seq_id not in listed:
                listed.append(seq_id)

    def add_rule(self, compiled: CompiledRule) -> None:
        """Index a rule by its two cheapest clauses: it becomes a candidate only when a
        sequence of each occurs, so the rules looked at follow the rules that can fire."""
        rule_no = len(self.rules)
        self.rules.append(compiled)
        clauses = compiled.requires
        if not clauses:
            self.always_rules.append(rule_no)
        elif len(clauses) == 1:
            for seq_id in clauses[0]:
                self.rules_by_trigger[seq_id].append(rule_no)
        else:
            for first in clauses[0]:
                by_second = self.rules_by_pair.setdefault(first, defaultdict(list))
                for second in clauses[1]:
                    by_second[second].append(rule_no)


class Compiler:
    """Turns rules into a RuleIndex, splitting terms with the analyser's tokenizer."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.index = RuleIndex(lexicon=analyzer.lexicon)
        self._costs: dict[int, float] = {}
        self._term_ids: dict[Term, int] = {}
        self._nodes: dict[CNode, CNode] = {}

    def compile(self, rules: list[Rule] | tuple[Rule, ...]) -> RuleIndex:
        for rule in rules:
            if rule.enabled:
                self.add(rule)
        return self.index

    def add(self, rule: Rule) -> None:
        query = self.node(rule.query)
        requires = tuple(sorted(set(self.requirements(query)), key=self._clause_cost))
        self.index.add_rule(CompiledRule(rule=rule, query=query, requires=requires))

    def node(self, query: Query) -> CNode:
        """The compiled node, shared with every identical subtree compiled before.

        Rules that use the same list get the same node object, so the engine can
        compute its hits once per article for all of them.
        """
        compiled = self._build(query)
        return self._nodes.setdefault(compiled, compiled)

    def _build(self, query: Query) -> CNode:
        match query:
            case Term():
                return CTerm(self.term(query))
            case And(children):
                return CAnd(tuple(self.node(c) for c in children))
            case Or(children):
                return COr(tuple(self.node(c) for c in children))
            case Not(child):
                return CNot(self.node(child))
            case Near(left, right, scope, distance, ordered):
                return CNear(self.node(left), self.node(right), scope, distance, ordered)
            case NotIn(include, exclude):
                return CNotIn(self.node(include), self.node(exclude))
            case InField(name, child):
                return CField(name, self.node(child))
        raise TypeError(f"not a query node: {query!r}")

    def term(self, term: Term) -> int:
        cached = self._term_ids.get(term)
        if cached is not None:  # lists repeat the same terms across many rules
            return cached
        seq_id = self._new_term(term)
        self._term_ids[term] = seq_id
        return seq_id

    def _new_term(self, term: Term) -> int:
        words = self.analyzer.words(term.text) or [term.text.lower()]
        skip_articles = term.kind == "variant"
        if skip_articles:
            # A leading or inner article (al-, ez-) is optional: drop it from the name.
            words = [w for w in words if not is_article(w)] or words
        alone = len(words) == 1
        kinds = [term.kind] * len(words)
        if term.kind == "prefix":  # al-Has*: the word al, then a word beginning with has
            kinds[:-1] = ["word"] * (len(words) - 1)
        lexicon = self.analyzer.lexicon
        known = None
        if term.kind == "variant":
            known = known_names(term.text, words, is_english=lexicon.is_english)
        last = len(words) - 1
        # A place the gazetteer knows: its name may end in a stripped possessive 's; one
        # the rule names itself (not a village of a `place:` area) meets one vowel group
        # more or fewer in a long skeleton, and, where the rule spells the place's own or
        # curated name, that spelling with one vowel letter left out (docs/variants.md).
        loose = known is not None and not term.in_area
        # `known is not None` again for mypy, which `loose` does not narrow
        dropped_vowel = loose and known is not None and known.own_spelling
        atoms = tuple(
            self.index.add_atom(atom_for(
                kind, w, alone, known is not None and n == last, known is not None, loose,
                dropped_vowel,
            ))
            for n, (kind, w) in enumerate(zip(kinds, words, strict=True))
        )
        seq_id = self.index.add_sequence(Sequence(atoms, skip_articles))
        if known is not None:
            self.index.add_known_names(seq_id, known.names)
            self.index.name_checks[seq_id] = known.check
        self._costs[seq_id] = min(word_cost(term.kind, w, term.text, lexicon) for w in words)
        return seq_id

    def requirements(self, node: CNode) -> tuple[frozenset[int], ...]:
        """Clauses the node needs: from each clause at least one sequence must occur.

        AND and NEAR need every child's clauses; OR needs one of its children, which
        is approximated by one clause joining each child's cheapest clause; NOT needs none.
        `A NOT IN B` needs A's: its hits are some of A's, whatever B leaves out.
        """
        match node:
            case CTerm(seq):
                return (frozenset({seq}),)
            case CAnd(children):
                return tuple(c for child in children for c in self.requirements(child))
            case CNear(left, right):
                return self.requirements(left) + self.requirements(right)
            case CField(_, child) | CNotIn(child, _):
                return self.requirements(child)
            case COr(children):
                cheapest = [self._cheapest(self.requirements(c)) for c in children]
                if any(c is None for c in cheapest):
                    return ()
                return (frozenset().union(*cheapest),)  # type: ignore[arg-type]
        return ()  # CNot

    def _cheapest(self, clauses: tuple[frozenset[int], ...]) -> frozenset[int] | None:
        return min(clauses, key=self._clause_cost) if clauses else None

    def _clause_cost(self, clause: frozenset[int]) -> tuple[float, tuple[int, ...]]:
        """How often a clause is expected to hold (ties broken by sequence ids, for
        a deterministic index)."""
        return sum(self._costs[s] for s in clause), tuple(sorted(clause))


def atom_for(
    kind: str, word: str, alone: bool = False, possessive: bool = False,
    known_place: bool = False, loose: bool = False, dropped_vowel: bool = False,
) -> Atom:
    if kind == "exact":
        return Atom("exact", word.lower())
    if kind == "variant":
        return Atom("variant", word.lower(), alone, possessive, known_place, loose,
                    dropped_vowel)
    if kind == "prefix":
        return Atom("prefix", fold(word))
    return Atom("word", fold(word))


def word_cost(kind: str, word: str, original: str, lexicon: Lexicon) -> float:
    """A guess of how often a word occurs, to index each rule by its rarest term.

    Stop words are common, short words more common than long ones, prefixes match many
    words, and a capitalised rule word is usually a name.
    """
    if lexicon.is_stop_word(word):
        return 1000.0
    cost = max(1.0, 20.0 - len(word))
    if kind == "prefix":
        cost *= 3
    if original[:1].isupper() or kind == "variant":
        cost /= 4
    return cost
