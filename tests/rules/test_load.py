"""Loading rule files: values, @list expansion, and every load error at its FILE:LINE:COLUMN.

Expected columns are counted by hand in comments: `len(text before the node) + 1`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.alias_bomb import alias_bomb
from watcher.errors import RuleSetError
from watcher.model import Severity
from watcher.rules.ast import And, Example, Near, Or, Rule, RuleTests, Term
from watcher.rules.load import load_rules

SPEC_EXAMPLE = """
    lists:
      kurdish_districts: ['"Sheikh Maqsoud"', '~Ashrafieh', '"al-Shahba"']
      siege_words: [siege, besiege, blockade, encircle*, '"cut off"']

    rules:
      - id: aleppo-kurdish-siege
        title: Siege of the Kurdish districts of Aleppo
        query: '@siege_words NEAR/15 @kurdish_districts'
        severity: high
        tags: [syria, aleppo]
        sources: [asharq-*, seeds]
        notify: [ops-email]
        cooldown: 6h
        enabled: true
        tests:
          match: ["Forces lifted the siege on the Sheikh Maqsoud neighbourhood."]
          no_match: ["Residents of Sheikh Maqsoud held a spring festival."]
"""


# watcher.yaml's words for a bad duration (tests/test_config.py), here for a cooldown
DURATION_HELP = "must be a duration such as 90 (seconds), 30s, 10m, 1h, 1h30m or 1d"
BAD_SEVERITY = "unknown severity 'urgent' (expected one of: info, low, medium, high, critical)"
NOT_ONE_OPERAND = (
    "a list entry must be one term, phrase, prefix (abc*), variant (~Name), place (place:Name) "
    "or @list"
)


def w(text: str) -> Term:
    return Term("word", text)


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(root: Path, **options: object) -> list[str]:
    """Every error of a failing load, as `FILE:LINE:COLUMN: message` relative to root."""
    with pytest.raises(RuleSetError) as caught:
        load_rules(root, **options)
    return [str(error).removeprefix(f"{root}/") for error in caught.value.errors]


def rule_file(query: str = "siege", extra: str = "") -> str:
    """One rule; `query` lands on line 4 after `    query: ` (column 12)."""
    return f"rules:\n  - id: r\n    title: t\n    query: {query}\n{extra}"


# --- what a good rule set loads into -------------------------------------------------


def test_spec_example_loads_every_field(tmp_path):
    path = write(tmp_path, "syria.yaml", SPEC_EXAMPLE)
    ruleset = load_rules(tmp_path, channels=["ops-email"])
    districts = Or((w("Sheikh Maqsoud"), Term("variant", "Ashrafieh"), w("al-Shahba")))
    siege = Or((w("siege"), w("besiege"), w("blockade"), Term("prefix", "encircle"), w("cut off")))
    assert ruleset.rules == (
        Rule(
            id="aleppo-kurdish-siege",
            title="Siege of the Kurdish districts of Aleppo",
            query_text="@siege_words NEAR/15 @kurdish_districts",
            query=Near(siege, districts, distance=15),
            severity=Severity.HIGH,
            tags=("syria", "aleppo"),
            sources=("asharq-*", "seeds"),
            notify=("ops-email",),
            cooldown_seconds=6 * 3600,
            enabled=True,
            tests=RuleTests(
                match=(Example("Forces lifted the siege on the Sheikh Maqsoud neighbourhood."),),
                no_match=(Example("Residents of Sheikh Maqsoud held a spring festival."),),
            ),
            file=str(path),
            line=6,
        ),
    )
    assert ruleset.lists == {"kurdish_districts": districts.children, "siege_words": siege.children}


def test_defaults(tmp_path):
    path = write(tmp_path, "a.yaml", rule_file())
    (rule,) = load_rules(tmp_path).rules
    assert rule == Rule(
        id="r", title="t", query_text="siege", query=w("siege"), file=str(path), line=2
    )
    assert (rule.severity, rule.cooldown_seconds, rule.enabled) == (Severity.MEDIUM, None, True)


def test_null_optional_keys_mean_the_default(tmp_path):
    write(tmp_path, "a.yaml", rule_file(extra="    tags:\n    severity:\n    tests:\n"))
    (rule,) = load_rules(tmp_path).rules
    assert (rule.tags, rule.severity, rule.tests) == ((), Severity.MEDIUM, RuleTests())


def test_numbers_stay_as_written(tmp_path):
    write(tmp_path, "a.yaml", 'rules:\n  - {id: "2024", title: 2024, query: 2024, tags: [1.50]}\n')
    (rule,) = load_rules(tmp_path).rules
    assert (rule.id, rule.title, rule.query, rule.tags) == ("2024", "2024", w("2024"), ("1.50",))


def test_files_load_recursively_sorted_and_lists_are_shared(tmp_path):
    write(tmp_path, "b/c.yml", "rules:\n  - {id: c, title: c, query: '@places'}\n")
    write(
        tmp_path,
        "a.yaml",
        "rules:\n  - {id: a1, title: a, query: x}\n  - {id: a2, title: a, query: y}\n",
    )
    write(tmp_path, "d.yaml", "lists:\n  places: [Aleppo, Homs]\n")
    write(tmp_path, "notes.txt", "not: [yaml")
    ruleset = load_rules(tmp_path)
    assert [rule.id for rule in ruleset.rules] == ["a1", "a2", "c"]
    assert ruleset.rules[2].query == Or((w("Aleppo"), w("Homs")))
    assert ruleset.rules[2].file == str(tmp_path / "b" / "c.yml")


def test_a_single_file_can_be_loaded(tmp_path):
    path = write(tmp_path, "one.yaml", rule_file())
    assert [rule.file for rule in load_rules(path).rules] == [str(path)]


def test_file_names_are_the_path_as_given(tmp_path, monkeypatch):
    write(tmp_path, "rules/a.yaml", rule_file(query="siege AND"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuleSetError) as caught:
        load_rules("rules")
    assert str(caught.value) == "rules/a.yaml:4:18: dangling operator 'AND': nothing after it"


def test_list_entries_are_operands_and_expand_in_place(tmp_path):
    lists = """
        lists:
          places: [Sheikh Maqsoud, ~Sheikh Maqsoud, =Fourth Division, '@more', evacuat*]
          more: [Ashrafieh, Homs]
          single: ['"al-Shahba"']
          alias: ['@single']
        rules:
          - {id: r, title: t, query: '@alias @places OR x'}
    """
    write(tmp_path, "a.yaml", lists)
    ruleset = load_rules(tmp_path)
    places = (
        w("Sheikh Maqsoud"),
        Term("variant", "Sheikh Maqsoud"),
        Term("exact", "Fourth Division"),
        Or((w("Ashrafieh"), w("Homs"))),
        Term("prefix", "evacuat"),
    )
    assert ruleset.lists == {
        "places": places,
        "more": (w("Ashrafieh"), w("Homs")),
        "single": (w("al-Shahba"),),
        "alias": (w("al-Shahba"),),
    }
    # one entry expands to itself, several to an Or; nested Ors are flattened
    flat_places = (*places[:3], w("Ashrafieh"), w("Homs"), places[4])
    assert ruleset.rules[0].query == Or((And((w("al-Shahba"), Or(flat_places))), w("x")))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("5m", 300), ("6h", 21600), ("2d", 172800), ("1h30m", 5400), ("90", 90)],
)
def test_cooldown_units(tmp_path, text, seconds):
    write(tmp_path, "a.yaml", rule_file(extra=f"    cooldown: {text}\n"))
    assert load_rules(tmp_path).rules[0].cooldown_seconds == seconds


@pytest.mark.parametrize(
    ("extra", "exclude"),
    [
        ("", None),  # watcher.yaml's context.exclude decides
        ("    exclude: [historical, negated]\n", ("historical", "negated")),
        ("    exclude: []\n", ()),  # holds nothing back, whatever the default
    ],
)
def test_exclude_names_context_labels(tmp_path, extra, exclude):
    write(tmp_path, "a.yaml", rule_file(extra=extra))
    assert load_rules(tmp_path).rules[0].exclude == exclude


def test_an_unknown_context_label_is_a_load_error(tmp_path):
    write(tmp_path, "a.yaml", rule_file(extra="    exclude: [historical, past]\n"))
    assert problems(tmp_path) == [
        "a.yaml:5:27: unknown context label 'past' in 'exclude' (known: historical, ended, "
        "negated, hypothetical, boilerplate)"
    ]


@pytest.mark.parametrize("name", ["info", "low", "medium", "high", "critical"])
def test_severities(tmp_path, name):
    write(tmp_path, "a.yaml", rule_file(extra=f"    severity: {name}\n"))
    assert str(load_rules(tmp_path).rules[0].severity) == name


def test_disabled_rules_load_but_are_not_enabled(tmp_path):
    write(tmp_path, "a.yaml", rule_file(extra="    enabled: false\n"))
    ruleset = load_rules(tmp_path)
    assert (len(ruleset.rules), ruleset.enabled()) == (1, ())


def test_channels_are_only_checked_when_known(tmp_path):
    write(tmp_path, "a.yaml", rule_file(extra="    notify: [pager]\n"))
    assert load_rules(tmp_path).rules[0].notify == ("pager",)
    assert load_rules(tmp_path, channels={"pager", "ops"}).rules[0].notify == ("pager",)


def test_a_configmap_volume_loads_each_rule_once(tmp_path):
    """Kubernetes mounts a ConfigMap as `..<stamp>/file` plus a `file` symlink to it."""
    stamp = tmp_path / "..2026_11_23_21_00_00.123"
    stamp.mkdir()
    write(stamp, "watch.yaml", rule_file())
    (tmp_path / "..data").symlink_to(stamp.name)
    (tmp_path / "watch.yaml").symlink_to("..data/watch.yaml")
    write(tmp_path, ".#watch.yaml", "editor lock: not YAML at all: [")
    assert [rule.id for rule in load_rules(tmp_path).rules] == ["r"]


def test_an_empty_directory_is_an_empty_rule_set(tmp_path):
    write(tmp_path, "empty.yaml", "# nothing yet\n")
    assert load_rules(tmp_path).rules == ()


# --- file-level errors --------------------------------------------------------------


def test_missing_path(tmp_path):
    assert problems(tmp_path / "nope") == [f"{tmp_path}/nope:1:1: no such file or directory"]


def test_a_broken_link_among_rule_files_is_a_load_error(tmp_path):
    """A rule file whose link points nowhere (a moved file, a half-synced folder) would
    otherwise drop its rules without a word."""
    write(tmp_path, "a.yaml", rule_file())
    (tmp_path / "b.yaml").symlink_to(tmp_path / "moved" / "b.yaml")
    assert problems(tmp_path) == [
        f"b.yaml:1:1: broken symbolic link: its target '{tmp_path}/moved/b.yaml' cannot be reached"
    ]


def test_non_utf8_file(tmp_path):
    (tmp_path / "bad.yaml").write_bytes(b"rules:\n  - id: \xff\n")
    # 7 bytes of `rules:\n` + 8 of `  - id: `
    assert problems(tmp_path) == ["bad.yaml:1:1: not UTF-8 text (byte 0xff at offset 15)"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('rules:\n  - id: r\n    title: "Siege\n    query: siege\n', "3:12"),  # the quote
        ("rules: [\n  {id: r, title: t, query: siege}\n", "1:8"),  # the '['
        ("rules:\n  - {id: r, title: t, query: siege\n", "2:5"),  # the '{'
    ],
)
def test_a_quote_or_bracket_never_closed_is_reported_where_it_opens(tmp_path, text, where):
    """PyYAML gives up at the end of the file; the mistake is where it opened."""
    (tmp_path / "a.yaml").write_text(text)
    [problem] = problems(tmp_path)
    assert problem.startswith(f"a.yaml:{where}: invalid YAML: "), problem


def test_yaml_syntax_error_at_its_mark(tmp_path):
    write(tmp_path, "a.yaml", "rules:\n  - id: r\n    title: t: u\n")
    # the second ':' follows `    title: t` (12 characters)
    assert problems(tmp_path) == ["a.yaml:3:13: invalid YAML: mapping values are not allowed here"]


def test_control_character(tmp_path):
    write(tmp_path, "a.yaml", "rules:\n  - id: a\x07\n")
    # `  - id: a` is 9 characters
    assert problems(tmp_path) == [
        "a.yaml:2:10: invalid YAML: character '\\x07' is not allowed",
    ]


def test_top_level_shape(tmp_path):
    write(tmp_path, "a.yaml", "- id: r\n")
    write(tmp_path, "b.yaml", "rule:\n  - id: r\n")
    write(tmp_path, "c.yaml", "rules: {id: r}\nlists: [a]\n")
    write(tmp_path, "d.yaml", "rules:\n  - just a string\n")
    assert problems(tmp_path) == [
        "a.yaml:1:1: a rule file must be a mapping with 'lists' and/or 'rules'",
        "b.yaml:1:1: unknown top-level key 'rule' (allowed: lists, rules)",
        "c.yaml:1:8: 'rules' must be a sequence of rules",
        "c.yaml:2:8: 'lists' must be a mapping of list names to terms",
        "d.yaml:2:5: a rule must be a mapping with id, title, query, …",
    ]


def test_duplicate_keys_anywhere(tmp_path):
    text = """
        lists:
          places: [Aleppo]
          places: [Homs]
        rules:
          - id: r
            title: t
            query: siege
            query: blockade
            tests:
              match: [a]
              match: [b]
    """
    write(tmp_path, "a.yaml", text)
    assert problems(tmp_path) == [
        "a.yaml:3:3: duplicate key 'places' (first given at line 2)",
        "a.yaml:8:5: duplicate key 'query' (first given at line 7)",
        "a.yaml:11:7: duplicate key 'match' (first given at line 10)",
    ]


def test_an_example_may_be_a_title_and_a_body(tmp_path):
    write(tmp_path, "a.yaml", """
        rules:
          - id: headline
            title: In the headline
            query: title:(siege)
            tests:
              match: [{title: Siege of the town}, {title: Siege, body: Long text.}]
              no_match: ["siege in the body only"]
        """)
    (rule,) = load_rules(tmp_path).rules
    assert rule.tests.match == (Example(body="", title="Siege of the town"),
                                Example(body="Long text.", title="Siege"))
    assert rule.tests.no_match == (Example("siege in the body only"),)


def test_a_titled_example_needs_known_keys_and_some_text(tmp_path):
    write(tmp_path, "a.yaml", """
        rules:
          - id: headline
            title: In the headline
            query: siege
            tests:
              match: [{headline: x}, {title: "", body: null}, {title: [a]}]
        """)
    assert problems(tmp_path) == [
        "a.yaml:6:15: an entry of 'tests.match' needs a title or a body",
        "a.yaml:6:16: unknown key 'headline' in an entry of 'tests.match' (allowed: title, body)",
        "a.yaml:6:38: 'title' is empty",
        "a.yaml:6:63: 'title' must be a string, not a list",
    ]


# --- rule errors ----------------------------------------------------------------------


def test_nesting_too_deep_is_a_load_error_not_a_traceback(tmp_path):
    query = "NOT " * 500 + "siege"
    write(tmp_path, "q.yaml", f"rules:\n  - id: a\n    title: A\n    query: '{query}'\n")
    write(tmp_path, "y.yaml", "[" * 5000 + "]" * 5000 + "\n")
    assert problems(tmp_path) == [
        "q.yaml:4:13: query is nested too deeply (more than 100 levels of brackets or operators)",
        "y.yaml:1:1: invalid YAML: nested too deeply",
    ]
    write(tmp_path, "q.yaml", f"rules:\n  - id: a\n    title: A\n    query: '{query[-200:]}'\n")
    (tmp_path / "y.yaml").unlink()
    assert [r.id for r in load_rules(tmp_path).rules] == ["a"]  # 50 levels are fine


def test_an_alias_bomb_is_one_line_at_the_alias_that_passes_the_bound(tmp_path):
    """The same bound as watcher.yaml's (watcher/rules/yaml_marks.py): one line, not a problem
    for each of the bomb's lists, and nothing later walks its 10**9 values."""
    text = "lists:\n" + alias_bomb(9, indent="  ") + rule_file("'@i'")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    assert problems(tmp_path) == [
        f"a.yaml:6:{2 + len('e: &e [') + 1 + 4 * 7}: invalid YAML: aliases expand to more than "
        "100,000 values (aliases of aliases?); write the values out or use fewer aliases"]


def test_a_repeated_key_hides_none_of_the_problems_of_its_first_value(tmp_path):
    write(tmp_path, "a.yaml", """
        lists:
          a: ['~', 'x*']
          a: [x]
        rules:
          - id: r1
            title: T
            query: 'siege AND (x'
            query: siege
        rules:
          - id: r2
            title: T
            query: siege
            severity: huge
        """)
    assert problems(tmp_path) == [
        "a.yaml:2:8: '~' must be directly followed by a word or a phrase",
        "a.yaml:2:13: prefix 'x*' is too short: put at least 3 characters before '*'",
        "a.yaml:3:3: duplicate key 'a' (first given at line 2)",
        "a.yaml:7:23: unbalanced parentheses: '(' is never closed",
        "a.yaml:8:5: duplicate key 'query' (first given at line 7)",
        "a.yaml:9:1: duplicate key 'rules' (first given at line 4)",
        "a.yaml:13:15: unknown severity 'huge' (expected one of: info, low, medium, high, "
        "critical)",
    ]


def test_unknown_keys(tmp_path):
    write(
        tmp_path, "a.yaml", rule_file(extra="    severty: high\n    tests:\n      matches: [x]\n")
    )
    allowed = (
        "id, title, query, severity, tags, sources, notify, cooldown, exclude, enabled, tests"
    )
    assert problems(tmp_path) == [
        f"a.yaml:5:5: unknown key 'severty' in rule (allowed: {allowed})",
        "a.yaml:7:7: unknown key 'matches' in tests (allowed: match, no_match)",
    ]


def test_required_keys(tmp_path):
    write(tmp_path, "a.yaml", "rules:\n  - title: t\n    query: siege\n  - id: r2\n")
    # a rule mapping starts at its first key, after `  - ` (column 5)
    assert problems(tmp_path) == [
        "a.yaml:2:5: rule has no 'id' (required)",
        "a.yaml:4:5: rule has no 'query' (required)",
        "a.yaml:4:5: rule has no 'title' (required)",
    ]


def test_empty_title(tmp_path):
    write(tmp_path, "a.yaml", "rules:\n  - id: r\n    title: ''\n    query: x\n")
    assert problems(tmp_path) == ["a.yaml:3:12: 'title' is empty"]  # `    title: ` is 11


@pytest.mark.parametrize("bad_id", ["Aleppo", "-siege", "siege.1", "_x"])
def test_bad_id(tmp_path, bad_id):
    write(tmp_path, "a.yaml", f"rules:\n  - id: {bad_id}\n    title: t\n    query: x\n")
    # the value follows `  - id: ` (8 characters)
    (problem,) = problems(tmp_path)
    assert problem.startswith(f"a.yaml:2:9: bad rule id '{bad_id}': use lower-case letters")


def test_duplicate_id_names_the_first(tmp_path):
    write(tmp_path, "a.yaml", rule_file())
    write(
        tmp_path, "b.yaml", "rules:\n  - id: other\n    title: t\n    query: x\n" + rule_file()[7:]
    )
    assert problems(tmp_path) == [
        f"b.yaml:5:9: duplicate rule id 'r' (first defined at {tmp_path}/a.yaml:2:9)",
    ]


def test_bad_values(tmp_path):
    extra = """\
    severity: urgent
    cooldown: 6 hours
    enabled: maybe
    tags: syria
    sources: [feed, {a: b}]
    notify: [ops-email, pager]
"""
    write(tmp_path, "a.yaml", rule_file(extra=extra))
    assert problems(tmp_path, channels=["ops-email"]) == [
        f"a.yaml:5:15: {BAD_SEVERITY}",  # `    severity: ` is 14
        f"a.yaml:6:15: 'cooldown' {DURATION_HELP} (got '6 hours')",
        "a.yaml:7:14: 'enabled' must be true or false",  # `    enabled: ` is 13
        "a.yaml:8:11: 'tags' must be a list of strings",  # `    tags: ` is 10
        "a.yaml:9:21: an entry of 'sources' must be a string, not a mapping",  # 13 + `[feed, ` 7
        "a.yaml:10:25: unknown channel 'pager' (configured: ops-email)",  # 12 + `[ops-email, ` 12
    ]


def test_an_explicit_boolean_tag_on_another_word_is_no_boolean(tmp_path):
    """`enabled: !!bool maybe` is tagged boolean but says neither: it was read as false,
    silently disabling the rule."""
    write(tmp_path, "a.yaml", rule_file(extra="    enabled: !!bool maybe\n"))
    assert problems(tmp_path) == ["a.yaml:5:14: 'enabled' must be true or false"]


def test_a_cooldown_is_read_as_watcher_yaml_reads_a_duration(tmp_path):
    """`cooldown: 1h30m` was refused while `every: 1h30m` was accepted: one syntax, one
    message for both files."""
    write(tmp_path, "a.yaml", rule_file(extra="    cooldown: 1h30m\n"))
    assert load_rules(tmp_path).rules[0].cooldown_seconds == 5400
    write(tmp_path, "a.yaml", rule_file(extra="    cooldown: 1.5h\n"))
    assert problems(tmp_path) == [f"a.yaml:5:15: 'cooldown' {DURATION_HELP} (got '1.5h')"]


# --- query errors: the query node's column plus the offset inside the query ------------


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("siege AND (Aleppo", 12 + 10),  # plain: the value starts at column 12
        ("'siege AND (Aleppo'", 12 + 1 + 10),  # one more for the opening quote
        ('"siege AND (Aleppo"', 12 + 1 + 10),
    ],
)
def test_query_error_column_inside_the_query(tmp_path, query, column):
    write(tmp_path, "a.yaml", rule_file(query))
    assert problems(tmp_path) == [
        f"a.yaml:4:{column}: unbalanced parentheses: '(' is never closed",
    ]


@pytest.mark.parametrize("style", [">", "|", ">-"])
def test_query_error_in_a_block_scalar_points_at_its_line(tmp_path, style):
    write(
        tmp_path, "a.yaml", rule_file(f"{style}  # long one\n      siege AND\n      (Aleppo OR\n")
    )
    # line 6 is `      (Aleppo OR`: the paren is at column 7
    assert problems(tmp_path) == ["a.yaml:6:7: unbalanced parentheses: '(' is never closed"]


def test_a_not_in_written_over_two_lines_is_named_on_one_line_in_an_error(tmp_path):
    """A literal block keeps the line break between NOT and IN: the message has none."""
    write(tmp_path, "a.yaml", rule_file("|\n      fighting NOT\n      IN\n"))
    assert problems(tmp_path) == ["a.yaml:5:16: dangling operator 'NOT IN': nothing after it"]
    write(tmp_path, "a.yaml", rule_file("|\n      fighting NOT\n      IN OR x\n"))
    assert problems(tmp_path) == [
        "a.yaml:6:10: 'OR' right after 'NOT IN': a term is missing between them"]


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("''", "4:13", "empty query"),
        ("", "4:11", "empty query"),  # `    query:` then nothing: just after the colon
        ("siege OR", "4:18", "dangling operator 'OR': nothing after it"),
        ("siege) Aleppo", "4:17", "unbalanced parentheses: ')' has no '('"),
        ("'\"Sheikh Maqsoud'", "4:13", "unterminated quote: this '\"' is never closed"),
        ("'ev* OR x'", "4:13", "prefix 'ev*' is too short: put at least 3 characters before '*'"),
        ("a NEAR/x b", "4:14", "bad NEAR distance 'x': use NEAR/n with a whole number n, "
         "NEAR/s (same sentence) or NEAR/p (same paragraph)"),
        ("'NOT ceasefire NEAR/5 Aleppo'", "4:13", "NOT inside a NEAR operand: "
         "NEAR operands may only be terms, lists or OR-groups of them"),
        ("(siege blockade) NEAR/5 Aleppo", "4:13", "AND inside a NEAR operand: "
         "NEAR operands may only be terms, lists or OR-groups of them"),
        ("'fight NOT IN (fighting AND position)'", "4:27", "AND inside a NOT IN operand: "
         "each side of NOT IN is a term, phrase, prefix, variant, place:, @list or a "
         "parenthesised OR of them"),
    ],
)  # fmt: skip
def test_query_errors(tmp_path, query, position, message):
    write(tmp_path, "a.yaml", rule_file(query))
    assert problems(tmp_path) == [f"a.yaml:{position}: {message}"]


CHAIN_TOO_LONG = (
    "more than 3 NEARs chained at {op}: the cost grows with every link; share an operand "
    "with AND instead: (A NEAR/5 B NEAR/5 C) AND (C NEAR/5 D NEAR/5 E)")


def test_a_chain_of_50_near_operands_is_a_load_error_at_its_fourth_near(tmp_path):
    """Each NEAR measuring from a NEAR passes on the stretches of the pairs it found, and
    they multiply link by link: 50 `the NEAR/100000` took seconds an article, 12
    `NEAR/50` minutes. The rule is refused, so a hot reload keeps the rules it had."""
    query = " NEAR/100000 ".join(["the"] * 50)
    write(tmp_path, "a.yaml", rule_file(f"'{query}'"))
    fourth = len("the NEAR/100000 " * 3 + "the ")
    assert problems(tmp_path) == [
        f"a.yaml:4:{13 + fourth}: {CHAIN_TOO_LONG.format(op='NEAR/100000')}"]


@pytest.mark.parametrize(
    ("query", "op"),
    [
        ("(a NEAR/1 b OR title:(c NEAR/2 d)) ONEAR/3 e NEAR/4 f NEAR/5 g", "NEAR/5"),
        ("a NEAR/1 (b NEAR/s (c NEAR/2 (d NEAR/p e)))", "NEAR/1"),  # the outermost chains all
    ],
)
def test_nears_chained_through_or_groups_fields_and_right_operands_count(tmp_path, query, op):
    write(tmp_path, "a.yaml", rule_file(f"'{query}'"))
    column = 13 + query.index(op)  # `    query: '` is 12 characters
    assert problems(tmp_path) == [f"a.yaml:4:{column}: {CHAIN_TOO_LONG.format(op=op)}"]


def test_three_chained_nears_and_chains_joined_by_and_load(tmp_path):
    write(tmp_path, "a.yaml", rule_file(
        "'(siege NEAR/5 Aleppo NEAR/s town ONEAR/3 army) AND (town NEAR/5 army) AND "
        "((a NEAR/1 b NEAR/2 c) NEAR/2 (c NEAR/3 d NEAR/4 e))'"))
    assert [rule.id for rule in load_rules(tmp_path).rules] == ["r"]


def test_unknown_lists(tmp_path):
    text = """
        lists:
          siege_words: [siege]
          places: [Aleppo, '@towns']
        rules:
          - id: r
            title: t
            query: '@siege_word NEAR/3 @places OR @villages'
    """
    write(tmp_path, "a.yaml", text)
    assert problems(tmp_path) == [
        "a.yaml:3:21: unknown list '@towns'",  # `  places: [Aleppo, ` is 19, then a quote
        "a.yaml:7:13: unknown list '@siege_word' (did you mean '@siege_words'?)",
        "a.yaml:7:43: unknown list '@villages'",  # 12 + quote + offset 30
    ]


def test_a_rule_with_a_bad_key_still_has_its_lists_checked(tmp_path):
    write(tmp_path, "a.yaml", "rules:\n  - id: r\n    query: '@nowhere'\n")
    assert problems(tmp_path) == [
        "a.yaml:2:5: rule has no 'title' (required)",
        "a.yaml:3:13: unknown list '@nowhere'",  # `    query: ` is 11, then a quote
    ]


def test_lists_that_repeat_lists_expand_to_each_term_once(tmp_path):
    """40 lines of lists, each naming the one before twice, once meant 2**40 terms and
    exhausted memory at load."""
    chain = "".join(f"  l{i}: ['@l{i - 1}', '@l{i - 1}', extra{i}]\n" for i in range(1, 40))
    write(tmp_path, "a.yaml", f"lists:\n  l0: [siege, blockade]\n{chain}"
          "rules:\n  - {id: r, title: t, query: '@l39 NEAR/3 Aleppo'}\n")
    (rule,) = load_rules(tmp_path).rules
    terms = (w("siege"), w("blockade"), *(w(f"extra{i}") for i in range(1, 40)))
    assert rule.query == Near(Or(terms), w("Aleppo"), "words", 3, False)


def test_list_cycles(tmp_path):
    write(tmp_path, "a.yaml", "lists:\n  a: ['@b']\n  b: [x, '@a']\n  c: ['@c']\n")
    assert problems(tmp_path) == [
        "a.yaml:3:11: list cycle: @a -> @b -> @a",  # `  b: [x, ` is 9, then a quote
        "a.yaml:4:8: list cycle: @c -> @c",  # `  c: [` is 6, then a quote
    ]


def test_bad_lists(tmp_path):
    text = """
        lists:
          empty: []
          two: ['"a" b']
          scalar: Aleppo
          bad name: [x]
          short: [Homs, ab*]
    """
    write(tmp_path, "a.yaml", text)
    assert problems(tmp_path) == [
        "a.yaml:2:10: list 'empty' is empty",
        f"a.yaml:3:10: {NOT_ONE_OPERAND}",
        "a.yaml:4:11: list 'scalar' must be a sequence of terms",
        "a.yaml:5:3: bad list name 'bad name': use letters, digits, '_' and '-'",
        "a.yaml:6:17: prefix 'ab*' is too short: put at least 3 characters before '*'",
    ]


def test_duplicate_list_across_files(tmp_path):
    write(tmp_path, "a.yaml", "lists:\n  places: [Aleppo]\n")
    write(tmp_path, "b.yaml", "lists:\n  other: [x]\n  places: [Homs]\n")
    assert problems(tmp_path) == [
        f"b.yaml:3:3: duplicate list 'places' (first defined at {tmp_path}/a.yaml:2:3)",
    ]


def test_every_problem_of_every_file_is_reported_together(tmp_path):
    write(tmp_path, "a.yaml", rule_file("siege AND", "    severity: urgent\n"))
    write(
        tmp_path,
        "sub/b.yml",
        "rules:\n  - id: b\n    title: t\n    query: '@nowhere'\n    tag: x\n",
    )
    write(tmp_path, "c.yaml", rule_file().replace("id: r", "id: c"))  # a good file: not loaded
    assert problems(tmp_path) == [
        "a.yaml:4:18: dangling operator 'AND': nothing after it",
        f"a.yaml:5:15: {BAD_SEVERITY}",
        "sub/b.yml:4:13: unknown list '@nowhere'",
        "sub/b.yml:5:5: unknown key 'tag' in rule (allowed: id, title, query, severity, tags, "
        "sources, notify, cooldown, exclude, enabled, tests)",
    ]


def test_query_error_column_counts_escapes_in_quoted_queries(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "rules:\n"
        "  - id: a\n"
        "    title: A\n"
        '    query: "\\"Sheikh Maqsoud\\" NEAR/x siege"\n'
        "  - id: b\n"
        "    title: B\n"
        "    query: 'it''s NEAR/x siege'\n"
        "  - id: c\n"
        "    title: C\n"
        '    query: "T\\u00fcrkiye \\x41ND NEAR/x siege"\n'
        "  - id: d\n"
        "    title: D\n"
        '    query: "\\"unclosed phrase"\n'
    )
    with pytest.raises(RuleSetError) as caught:
        load_rules(tmp_path / "r.yaml")
    # the N of NEAR/x: after two escaped quotes (column 32), after one doubled quote (19),
    # after a \u and a \x escape of six and four characters that stand for one each (33);
    # an unclosed phrase at its escaped quote (13), not at the YAML quote before it
    assert [(e.line, e.column) for e in caught.value.errors] == [
        (4, 32), (7, 19), (10, 33), (13, 13)
    ]


def test_a_directory_without_rule_files_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not rules")
    with pytest.raises(RuleSetError) as caught:
        load_rules(tmp_path)
    assert [str(e) for e in caught.value.errors] == [
        f"{tmp_path}:1:1: no rule files (*.yaml, *.yml) here"
    ]


def test_an_operator_in_an_unquoted_list_entry_loads_as_a_phrase_with_a_warning(tmp_path):
    """`siege OR blockade` as an entry reads as an OR, but the contract makes an unquoted
    entry with a space a phrase: the words siege, or, blockade in a row. It loads so, and
    the loader says where, since that is seldom what the author meant."""
    write(tmp_path, "a.yaml", """
        lists:
          x: ['siege OR blockade', Sheikh Maqsoud, '"war or peace"', '"war OR peace"']
          y: [siege NEAR/3 town, 'NOT siege']
        rules:
          - {id: r, title: r, query: '@x OR @y'}
        """)
    ruleset = load_rules(tmp_path)
    assert ruleset.lists["x"][0] == w("siege OR blockade")
    said = "give each alternative its own entry (quote the entry if the phrase is meant)"
    assert [str(warning).removeprefix(f"{tmp_path}/") for warning in ruleset.warnings] == [
        "a.yaml:2:14: warning: 'OR' in the unquoted list entry 'siege OR blockade' is a word "
        f"of a phrase, not an operator; {said}",
        "a.yaml:3:13: warning: 'NEAR/3' in the unquoted list entry 'siege NEAR/3 town' is a "
        f"word of a phrase, not an operator; {said}",
        "a.yaml:3:27: warning: 'NOT' in the unquoted list entry 'NOT siege' is a word of a "
        f"phrase, not an operator; {said}",
    ]
