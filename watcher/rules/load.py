"""Loading YAML rule files into one validated RuleSet; every problem as FILE:LINE:COLUMN.

Owns rule file discovery and checking every key, rule and list; reading one YAML file
with node positions, and its scalars, is `yamlfile`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from watcher.errors import RuleError, RuleSetError
from watcher.rules.ast import Example, Or, Query, Rule, RuleSet, RuleTests
from watcher.rules.gc_pause import collector_paused
from watcher.rules.grammar import operator_in_entry, parse_list_entry, parse_query
from watcher.rules.place_terms import expand_places
from watcher.rules.references import (
    ListExpander,
    ListRef,
    PlaceRef,
    flatten,
    replace_list_refs,
    unknown_list,
)
from watcher.rules.syntax import QuerySyntaxError
from watcher.rules.yamlfile import (
    Pairs,
    YamlFile,
    check_keys_unique,
    compose,
    is_null,
    line,
    mapping_pairs,
    read_cooldown,
    read_enabled,
    read_exclude,
    read_severity,
    read_string,
    read_strings,
    read_text,
    shadowed_pairs,
    string_items,
)

RULE_KEYS = (
    "id", "title", "query", "severity", "tags", "sources", "notify", "cooldown", "exclude",
    "enabled", "tests",
)  # fmt: skip
REQUIRED_KEYS = ("id", "title", "query")
TEST_KEYS = ("match", "no_match")
EXAMPLE_KEYS = ("title", "body")
TOP_KEYS = ("lists", "rules")
RULE_SUFFIXES = (".yaml", ".yml")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
LIST_NAME_PATTERN = re.compile(r"\w[\w-]*")  # exactly what `@name` accepts in a query

_Operand = Query | ListRef  # a list entry: a term, a place's terms, or an @list


def load_rules(
    path: str | Path, *, channels: Collection[str] | None = None,
    cache: RuleCache | None = None,
) -> RuleSet:
    """Every rule under `path` (a directory, recursively, or one file), or RuleSetError.

    All files are checked before anything is returned, so one bad file never leaves a
    half-loaded rule set; `channels` (when given) are the names `notify:` may use. With a
    `cache` (the daemon's reload keeps one), a file whose text is the same as when the cache
    last saw it is not read again: what it holds is kept, and only the checks across files
    (duplicate ids and list names, @lists) are made again, so the result is always that of
    reading every file afresh.
    """
    root = Path(path)
    if not root.exists():
        raise RuleSetError([RuleError(str(path), 1, 1, "no such file or directory")])
    files = rule_files(root)
    if not files:  # most likely a wrong path: say so rather than load nothing
        raise RuleSetError([RuleError(str(path), 1, 1, "no rule files (*.yaml, *.yml) here")])
    cache = RuleCache() if cache is None else cache
    cache.read_last = []
    with collector_paused():
        loading = _Loading(channels)
        for file_path in files:
            name = str(path) if root.is_file() else str(file_path)
            loading.merge(cache.read(name, file_path, channels))
        cache.forget_all_but({str(path) if root.is_file() else str(p) for p in files})
        return loading.finish()


class RuleCache:
    """Each rule file as read alone, by name, kept while its text stays the same: a reload
    reads (YAML, queries, places) only the files that changed. `read_last` names the files
    the last load read, for the daemon's log and the tests."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[str, frozenset[str] | None, _Loading]] = {}
        self.read_last: list[str] = []

    def read(self, name: str, path: Path, channels: Collection[str] | None) -> _Loading:
        """What the file holds, read alone (names not yet checked against other files)."""
        loading = _Loading(channels, alone=True)
        text = read_text(name, path, loading.errors)
        if text is None:
            return loading
        wanted = None if channels is None else frozenset(channels)
        kept = self._files.get(name)
        if kept is not None and kept[:2] == (text, wanted):
            return kept[2]
        loading.load_text(name, text)
        self._files[name] = (text, wanted, loading)
        self.read_last.append(name)
        return loading

    def forget_all_but(self, names: set[str]) -> None:
        """Drop the files no longer among the rule files (removed or renamed)."""
        for name in set(self._files) - names:
            del self._files[name]


QUERY_RULE_ID = "query"


def query_rule(
    text: str, lists: Mapping[str, tuple[Query, ...]], *, where: str = "--query"
) -> Rule:
    """A rule of one query given on the command line (`watcher explain --query`, `rules
    backtest --query`), its @lists those of the rule set; its id is `query`. Raises
    RuleSetError placing each problem in the query (`--query:1:COLUMN: message`)."""
    try:
        parsed = parse_query(text, strict=True)
    except QuerySyntaxError as exc:
        raise RuleSetError([RuleError(where, 1, exc.offset + 1, exc.message)]) from None
    errors: list[RuleError] = []

    def place_error(ref: PlaceRef, message: str) -> None:
        errors.append(RuleError(where, 1, ref.offset + 1, message))

    def resolve(ref: ListRef) -> Query:
        entries = lists.get(ref.name)
        if entries is None:
            errors.append(RuleError(where, 1, ref.offset + 1, unknown_list(ref.name, lists)))
            return ref  # type: ignore[return-value]  # reported: no rule is made
        if len(entries) == 1:
            return entries[0]
        return Or(tuple(dict.fromkeys(flatten(Or, list(entries)))))

    query = replace_list_refs(expand_places(parsed, place_error), resolve)
    if errors:
        raise RuleSetError(errors)
    return Rule(id=QUERY_RULE_ID, title=text, query_text=text, query=query)


def rule_files(root: Path) -> list[Path]:
    """The rule files under `root` (or `root` itself), hidden files and folders left out:
    a Kubernetes ConfigMap volume keeps a second copy of every file in `..<timestamp>/`,
    and editors leave `.#name.yaml` locks; loading those would duplicate every rule."""
    if root.is_file():
        return [root]
    return sorted(
        p for p in root.rglob("*")
        # A broken link is kept, to be reported: skipping it would drop its rules unsaid.
        if p.suffix in RULE_SUFFIXES and (p.is_file() or (p.is_symlink() and not p.exists()))
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


@dataclass(frozen=True)
class RuleFiles:
    """A fingerprint of the rule files (path, size, mtime), to notice any change: the one
    way the daemon, the sender's tag silences and the workspace know to read rules again."""

    stamp: tuple[tuple[str, int, int], ...]

    @classmethod
    def read(cls, path: str | Path) -> RuleFiles:
        """The rule files under `path` now (none when it does not exist: loading says why)."""
        root = Path(path)
        files = rule_files(root) if root.exists() else []
        stamp = []
        for file in files:
            try:
                info = file.stat()
            except OSError:
                continue  # removed between listing and stat: the next check sees it
            stamp.append((str(file), info.st_size, info.st_mtime_ns))
        return cls(tuple(stamp))


_Where = tuple[YamlFile, yaml.Node]  # where an @ref was written, to report it


@dataclass
class _Draft:
    """A query whose ListRefs wait for every list; `rule` is None if another key was bad."""

    rule: Rule | None
    query: Query
    file: YamlFile
    query_node: yaml.Node
    id_node: yaml.Node | None = None  # to drop the rule if another file has its id first


@dataclass
class _Loading:
    """What has been read so far: lists, rule drafts and every error. A file is read by one
    `alone` (its ids and list names only noted, in order), then merged into the rule set's,
    which checks them across files: a file read alone is kept by RuleCache unchanged."""

    channels: Collection[str] | None
    errors: list[RuleError] = field(default_factory=list)
    warnings: list[RuleError] = field(default_factory=list)
    lists: dict[str, list[tuple[_Where, _Operand]]] = field(default_factory=dict)
    drafts: list[_Draft] = field(default_factory=list)
    list_sites: dict[str, str] = field(default_factory=dict)  # name -> FILE:LINE:COLUMN
    id_sites: dict[str, str] = field(default_factory=dict)
    alone: bool = False
    names: list[tuple[str, YamlFile, yaml.Node]] = field(default_factory=list)  # when alone

    def merge(self, read: _Loading) -> None:
        """A file read alone: its errors, then its ids and list names checked in order
        against those of the files before (a duplicate's rule or list is dropped)."""
        self.errors.extend(read.errors)
        self.warnings.extend(read.warnings)
        dropped: set[int] = set()
        for what, file, node in read.names:
            sites = self.list_sites if what == "list" else self.id_sites
            if not self.is_first(sites, what, file, node):
                dropped.add(id(node))
            elif what == "list":
                self.lists[node.value] = read.lists[node.value]
        self.drafts.extend(
            replace(draft, rule=None) if draft.id_node is not None and id(draft.id_node) in dropped
            else draft
            for draft in read.drafts
        )

    def load_text(self, name: str, text: str) -> None:
        file = YamlFile(name, text, self.errors, self.warnings)
        root = compose(file)
        if root is None:
            return
        check_keys_unique(file, root)
        if not isinstance(root, yaml.MappingNode):
            file.error(root, "a rule file must be a mapping with 'lists' and/or 'rules'")
            return
        for key, (key_node, value) in mapping_pairs(root).items():
            if key == "lists":
                self.load_lists(file, value)
            elif key == "rules":
                self.load_rules(file, value)
            else:
                allowed = ", ".join(TOP_KEYS)
                file.error(key_node, f"unknown top-level key '{key}' (allowed: {allowed})")
        for key, value in shadowed_pairs(root):  # a repeated `rules:` or `lists:`
            # its problems are reported; its rules dropped
            hidden = _Loading(self.channels, errors=self.errors, warnings=self.warnings)
            if key == "lists":
                hidden.load_lists(file, value)
            elif key == "rules":
                hidden.load_rules(file, value)

    def load_lists(self, file: YamlFile, node: yaml.Node) -> None:
        if is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            file.error(node, "'lists' must be a mapping of list names to terms")
            return
        for name, value in shadowed_pairs(node):  # a list given twice: check both
            _list_entries(file, name, value)
        for name, (key_node, value) in mapping_pairs(node).items():
            entries = _list_entries(file, name, value)
            if not LIST_NAME_PATTERN.fullmatch(name):
                file.error(key_node, f"bad list name '{name}': use letters, digits, '_' and '-'")
            elif self.is_first(self.list_sites, "list", file, key_node):
                self.lists[name] = entries

    def load_rules(self, file: YamlFile, node: yaml.Node) -> None:
        if is_null(node):
            return
        if not isinstance(node, yaml.SequenceNode):
            file.error(node, "'rules' must be a sequence of rules")
            return
        for item in node.value:
            if isinstance(item, yaml.MappingNode):
                self.load_rule(file, item)
            else:
                file.error(item, "a rule must be a mapping with id, title, query, …")

    def load_rule(self, file: YamlFile, node: yaml.MappingNode) -> None:
        pairs = mapping_pairs(node)
        for key, (key_node, _) in pairs.items():
            if key not in RULE_KEYS:
                file.error(
                    key_node, f"unknown key '{key}' in rule (allowed: {', '.join(RULE_KEYS)})"
                )
        for key in REQUIRED_KEYS:
            if key not in pairs:
                file.error(node, f"rule has no '{key}' (required)")
        self.check_shadowed(file, node)
        options = self.read_options(file, pairs)
        rule_id = self.read_id(file, pairs["id"][1]) if "id" in pairs else None
        title = read_string(file, pairs["title"][1], "'title'") if "title" in pairs else None
        query = _read_query(file, pairs["query"][1]) if "query" in pairs else None
        if query is None:
            return
        text, tree = query
        rule = None
        if rule_id is not None and title is not None:
            rule = Rule(rule_id, title, text, tree, file=file.name, line=line(node), **options)
        id_node = pairs["id"][1] if rule_id is not None else None
        self.drafts.append(_Draft(rule, tree, file, pairs["query"][1], id_node))

    def check_shadowed(self, file: YamlFile, node: yaml.MappingNode) -> None:
        """A key given twice in one rule: the hidden value's own problems are reported too."""
        for key, value in shadowed_pairs(node):
            if key == "query":
                _read_query(file, value)
            elif key in ("id", "title"):
                read_string(file, value, f"'{key}'")
            elif key in _OPTIONAL_READERS and not is_null(value):
                _OPTIONAL_READERS[key][1](file, value)

    def read_id(self, file: YamlFile, node: yaml.Node) -> str | None:
        """The id, registered on first sight so a later duplicate names where the first is."""
        rule_id = read_string(file, node, "'id'")
        if rule_id is None:
            return None
        if not ID_PATTERN.fullmatch(rule_id):
            need = "lower-case letters, digits, '_' and '-', starting with a letter or digit"
            file.error(node, f"bad rule id '{rule_id}': use {need}")
            return None
        return rule_id if self.is_first(self.id_sites, "rule id", file, node) else None

    def is_first(self, sites: dict[str, str], what: str, file: YamlFile, node: yaml.Node) -> bool:
        """Registers a name; a second definition is an error naming where the first is.
        Alone, only notes it: the rule set's loading checks it when merging the file."""
        if self.alone:
            self.names.append((what, file, node))
            return True
        if node.value in sites:
            first = sites[node.value]
            self.errors.append(
                file.problem(node, f"duplicate {what} '{node.value}' (first defined at {first})"))
            return False
        sites[node.value] = file.where(node)
        return True

    def read_options(self, file: YamlFile, pairs: Pairs) -> dict[str, object]:
        """Rule keyword arguments for the optional keys present; null means the default."""
        options: dict[str, object] = {}
        for key, (attribute, reader) in _OPTIONAL_READERS.items():
            if key in pairs and not is_null(pairs[key][1]):
                options[attribute] = reader(file, pairs[key][1])
        if "notify" in pairs and self.channels is not None:
            self.check_channels(file, pairs["notify"][1])
        return options

    def check_channels(self, file: YamlFile, node: yaml.Node) -> None:
        """Only names; the shape of `notify` was checked with the other options."""
        channels = self.channels or ()
        configured = ", ".join(sorted(channels)) or "none"
        items = node.value if isinstance(node, yaml.SequenceNode) else []
        for item in items:
            if isinstance(item, yaml.ScalarNode) and item.value not in channels:
                file.error(item, f"unknown channel '{item.value}' (configured: {configured})")

    def finish(self) -> RuleSet:
        """Expand every @list (lists first, then rules); raise if anything failed."""
        def report_at_ref(where: _Where, ref: ListRef, message: str) -> None:
            file, node = where  # a file may be kept for the next load: not into its list
            self.errors.append(file.problem_inside(node, ref.offset, message))

        expander = ListExpander(self.lists, report_at_ref)
        lists = expander.expand_all()
        rules = []
        for draft in self.drafts:
            query = expander.expand(draft.query, (draft.file, draft.query_node))
            if draft.rule is not None:
                rules.append(replace(draft.rule, query=query))
        if self.errors:
            raise RuleSetError(self.errors)
        return RuleSet(tuple(rules), lists, tuple(self.warnings))


def _read_query(file: YamlFile, node: yaml.Node) -> tuple[str, Query] | None:
    """The query text and its tree (places expanded, ListRefs still in); errors point inside
    the query."""
    if not isinstance(node, yaml.ScalarNode):
        read_string(file, node, "'query'")
        return None
    text = "" if is_null(node) else node.value
    try:
        query = parse_query(text, strict=True)
    except QuerySyntaxError as exc:
        file.error_inside(node, exc.offset, exc.message)
        return None
    return text, _expand_places(file, node, query)


def _expand_places(file: YamlFile, node: yaml.Node, query: Query | PlaceRef) -> Query:
    """`place:` terms replaced by their names; a bad one reported where it is written."""
    return expand_places(
        query,
        lambda ref, message: file.error_inside(node, ref.offset, message),
        lambda ref, message: file.warn_inside(node, ref.offset, message),
    )


def _read_tests(file: YamlFile, node: yaml.Node) -> RuleTests:
    if not isinstance(node, yaml.MappingNode):
        file.error(node, "'tests' must be a mapping with 'match' and/or 'no_match'")
        return RuleTests()
    pairs = mapping_pairs(node)
    for key, (key_node, _) in pairs.items():
        if key not in TEST_KEYS:
            file.error(key_node, f"unknown key '{key}' in tests (allowed: match, no_match)")
    examples = {
        key: _read_examples(file, pairs[key][1], f"tests.{key}")
        for key in TEST_KEYS
        if key in pairs
    }
    return RuleTests(**examples)


def _read_examples(file: YamlFile, node: yaml.Node, key: str) -> tuple[Example, ...]:
    """Each entry a body text, or a mapping with `title` and/or `body`."""
    if is_null(node):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        file.error(node, f"'{key}' must be a list of texts (or of title/body mappings)")
        return ()
    found = []
    for item in node.value:
        if isinstance(item, yaml.MappingNode):
            example = _read_titled_example(file, item, key)
        else:
            text = read_string(file, item, f"an entry of '{key}'")
            example = None if text is None else Example(body=text, line=line(item))
        if example is not None:
            found.append(example)
    return tuple(found)


def _read_titled_example(file: YamlFile, node: yaml.MappingNode, key: str) -> Example | None:
    pairs = mapping_pairs(node)
    for name, (name_node, _) in pairs.items():
        if name not in EXAMPLE_KEYS:
            file.error(name_node, f"unknown key '{name}' in an entry of '{key}' (allowed: "
                                  "title, body)")
    texts = {
        name: "" if is_null(pairs[name][1]) else read_string(file, pairs[name][1], f"'{name}'")
        for name in EXAMPLE_KEYS
        if name in pairs
    }
    if any(text is None for text in texts.values()):
        return None  # reported by read_string
    if not any(texts.values()):
        file.error(node, f"an entry of '{key}' needs a title or a body")
        return None
    return Example(
        body=texts.get("body") or "", title=texts.get("title") or "", line=line(node)
    )


_OPTIONAL_READERS: dict[str, tuple[str, Callable[[YamlFile, yaml.Node], object]]] = {
    "severity": ("severity", read_severity),
    "tags": ("tags", lambda file, node: read_strings(file, node, "tags")),
    "sources": ("sources", lambda file, node: read_strings(file, node, "sources")),
    "notify": ("notify", lambda file, node: read_strings(file, node, "notify")),
    "cooldown": ("cooldown_seconds", read_cooldown),
    "exclude": ("exclude", read_exclude),
    "enabled": ("enabled", read_enabled),
    "tests": ("tests", _read_tests),
}


def _list_entries(file: YamlFile, name: str, node: yaml.Node) -> list[tuple[_Where, _Operand]]:
    """Each entry parsed as one operand; an unquoted entry with a space is a phrase."""
    if not isinstance(node, yaml.SequenceNode):
        file.error(node, f"list '{name}' must be a sequence of terms")
        return []
    if not node.value:
        file.error(node, f"list '{name}' is empty")
    entries = []
    for item, text in string_items(file, node, f"@{name}"):
        try:
            entry = parse_list_entry(text)
        except QuerySyntaxError as exc:
            file.error_inside(item, exc.offset, exc.message)
            continue
        expanded = entry if isinstance(entry, ListRef) else _expand_places(file, item, entry)
        entries.append(((file, item), expanded))
        operator = operator_in_entry(text)
        if operator is not None:
            offset, word = operator
            file.warn_inside(item, offset, f"'{word}' in the unquoted list entry {text!r} is a "
                             "word of a phrase, not an operator; give each alternative its "
                             "own entry (quote the entry if the phrase is meant)")
    return entries
