"""The `watcher` commands as users call them: output formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import spacy
import yaml
from click.testing import CliRunner

from watcher.cli.common import errors_exit
from watcher.cli.main import cli
from watcher.errors import ConfigError, RuleError, RuleSetError, StoreError

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SEEDS = ROOT / "seeds"


@pytest.fixture()
def run(workdir: Path):
    """The CLI in an empty working directory (no stray ./watcher.yaml)."""

    def invoke(*args: str, stdin: str | None = None, color: bool = False):
        return CliRunner().invoke(
            cli, list(args), input=stdin, catch_exceptions=False, color=color
        )

    return invoke


def _shipped_rule_count() -> int:
    return sum(len(yaml.safe_load(p.read_text()).get("rules") or []) for p in RULES.glob("*.yaml"))


def test_rules_check_counts_the_shipped_rules(run):
    result = run("rules", "check", str(RULES))
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{_shipped_rule_count()} rules OK"


def test_rules_check_reports_every_error_with_its_position(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n"
        "  - id: one\n"
        "    title: One\n"
        "    query: 'siege NEAR/3 (Aleppo'\n"
        "  - id: two\n"
        "    title: Two\n"
        "    query: '@nowhere'\n"
        "    severity: huge\n"
    )
    result = run("rules", "check", str(bad))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert all(re.match(rf"{re.escape(str(bad))}:\d+:\d+: ", line) for line in lines)
    assert lines[0].startswith(f"{bad}:4:26: ")  # quote at column 12, `(` 13 chars on
    assert "Traceback" not in result.output


def test_shipped_rule_examples_pass(run):
    result = run("rules", "test", str(RULES))
    assert result.exit_code == 0, result.output
    assert re.search(r"\b\d+ passed, 0 failed", result.stdout)


def test_rules_test_names_the_failing_rule_and_example(run, tmp_path):
    (tmp_path / "r.yaml").write_text(
        "rules:\n"
        "  - id: siege-rule\n"
        "    title: Siege\n"
        "    query: siege\n"
        "    tests:\n"
        "      match: ['a blockade only']\n"
        "      no_match: ['no such word']\n"
    )
    result = run("rules", "test", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"FAIL {tmp_path / 'r.yaml'}:6: siege-rule: should match but did not: 'a blockade only'",
        "1 passed, 1 failed",
    ]


def test_a_rule_file_leaving_a_phrase_out_with_not_in_loads_and_passes_its_examples(
    run, tmp_path
):
    (tmp_path / "r.yaml").write_text(
        "lists:\n"
        "  clash_words: [clash, fighting]\n"
        "  other_senses: ['\"fighting position\"']\n"
        "rules:\n"
        "  - id: raqqa-clashes\n"
        "    title: Clashes in Raqqa\n"
        "    query: '@clash_words NOT IN @other_senses NEAR/8 Raqqa'\n"
        "    tests:\n"
        "      match: ['Fighting went on in Raqqa.', 'Near Raqqa, jets hit fighting positions"
        " as clashes went on.']\n"
        "      no_match: ['Near Raqqa, jets destroyed six fighting positions.']\n"
    )
    assert run("rules", "check", str(tmp_path)).exit_code == 0
    result = run("rules", "test", str(tmp_path))
    assert (result.exit_code, result.stdout) == (0, "3 passed, 0 failed\n")


def test_match_jsonl_on_the_seeds(run):
    result = run("match", "--rules", str(RULES), "--format", "jsonl", str(SEEDS))
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines, "the shipped rules fire on the seeds"
    for found in lines:
        assert set(found) == {
            "rule", "article", "title", "severity", "spans", "snippet", "context", "held",
            "places",
        }
        for start, end, field in found["spans"]:
            assert field in ("title", "body") and start < end
    fired = {(m["rule"], m["title"]) for m in lines}
    evacuation = "Syrian military tells civilians to evacuate contested area east of Aleppo"
    assert any(r == "aleppo-evacuation-order" and t.startswith(evacuation) for r, t in fired)
    assert any(r == "aleppo-kurdish-siege" and "Qamishlo" in t for r, t in fired)


def test_spans_point_at_the_marked_words(run, tmp_path):
    articles = tmp_path / "a.jsonl"
    body = "Forces lifted the siege on the Sheikh Maqsoud neighbourhood."
    articles.write_text(json.dumps({"id": "x1", "title": "News", "text": body}) + "\n")
    result = run("match", "--rules", str(RULES), "--format", "jsonl", str(articles))
    found = next(json.loads(x) for x in result.stdout.splitlines() if '"aleppo-kurdish' in x)
    assert [body[s:e] for s, e, _ in found["spans"]] == ["siege", "Sheikh Maqsoud"]
    assert found["snippet"] == "Forces lifted the [siege] on the [Sheikh Maqsoud] neighbourhood."


def test_match_text_shows_rule_title_and_snippet(run):
    result = run("match", "--rules", str(RULES), str(SEEDS / "001_a458cd11a7b1be15.txt"))
    assert result.exit_code == 0
    assert "aleppo-kurdish-siege [high] 001_a458cd11a7b1be15#1 (seeds): Syrian Kurdish-led" in (
        result.stdout
    )
    assert "[siege]" in result.stdout


def test_match_text_highlights_only_the_matched_words(run, tmp_path):
    rules = tmp_path / "siege.yaml"
    rules.write_text("rules:\n  - id: siege\n    title: Siege\n    query: siege\n")
    article = tmp_path / "quote.jsonl"
    article.write_text(json.dumps(
        {"id": "q", "title": "Quote", "text": '"[We] will not lift the siege of Nubl," he said.'}
    ) + "\n")
    result = run("match", "--rules", str(rules), "--format", "text", str(article), color=True)
    assert result.exit_code == 0, result.output
    highlighted = click.style("siege", fg="yellow", bold=True)
    assert f'"[We] will not lift the [{highlighted}] of' in result.stdout


def test_unreadable_input_is_one_line_and_the_rest_is_matched(run, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "g", "title": "Siege of Aleppo", "text": "x"}) + "\n")
    result = run("match", "--rules", str(RULES), "--format", "jsonl",
                 str(tmp_path / "missing.jsonl"), str(tmp_path / "empty.txt"), str(good))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 2
    assert "missing.jsonl" in result.stderr and "empty.txt" in result.stderr
    assert [json.loads(x)["article"] for x in result.stdout.splitlines()] == ["g"]


def test_match_reads_json_lines_from_stdin(run):
    line = json.dumps({"id": "s", "title": "", "text": "A drone strike hit Qamishlo."})
    result = run("match", "--rules", str(RULES), "--format", "jsonl", "-", stdin=line + "\n")
    assert result.exit_code == 0
    assert {json.loads(x)["rule"] for x in result.stdout.splitlines()} == {
        "drone-strikes-northeast"
    }


def test_match_with_broken_rules_exits_2(run, tmp_path):
    (tmp_path / "r.yaml").write_text("rules:\n  - id: x\n")
    result = run("match", "--rules", str(tmp_path), str(SEEDS))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{tmp_path / 'r.yaml'}:2:")


def test_config_file_sets_the_rules_path_and_rejects_unknown_keys(run, tmp_path):
    (tmp_path / "watcher.yaml").write_text(f"rules: {RULES}\n")
    assert run("rules", "check").stdout.strip() == f"{_shipped_rule_count()} rules OK"
    (tmp_path / "watcher.yaml").write_text("rules: rules/\nrulez: 1\n")
    result = run("rules", "check")
    assert result.exit_code == 2
    assert "watcher.yaml:2:1: unknown key 'rulez'" in result.stderr


@pytest.mark.parametrize("command", ["test", "check"])
def test_a_pipeline_that_is_not_installed_is_one_clear_line(run, command):
    """`rules check` says so too: rules that pass it must load in `run` with the same
    configuration."""
    result = run("--pipeline", "en_core_web_sm", "rules", command, str(RULES))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("watcher: spaCy pipeline 'en_core_web_sm' is not installed "
                                    "(pip install it, or use blank:en)")


@pytest.mark.parametrize(
    ("pipeline", "says"),
    [
        ("blank:EN", "the only blank pipeline is blank:en"),
        ("blank:de", "the only blank pipeline is blank:en"),
        ("blank:en ", "the only blank pipeline is blank:en"),
        ("en", "is not installed"),
        ("empty-dir", "cannot be loaded: "),
        ("broken-config-dir", "cannot be loaded: "),
        ("german-dir", "is for language 'de', not 'en'"),
    ],
)
@pytest.mark.parametrize("command", ["rules check", "rules test", "match", "replay"])
def test_a_pipeline_name_that_cannot_work_is_one_line_and_exit_2(run, tmp_path, pipeline, says,
                                                                 command):
    """Every command that loads rules refuses the same names, in one line, before work."""
    if pipeline.endswith("-dir"):
        folder = tmp_path / pipeline
        if pipeline == "german-dir":  # a real pipeline folder, as `nlp.to_disk` writes it
            spacy.blank("de").to_disk(folder)
        else:
            folder.mkdir()
        if pipeline == "broken-config-dir":
            (folder / "config.cfg").write_text("[nlp\nlang = en\n")
        pipeline = str(folder)
    words = command.split()
    if command in ("match", "replay"):
        words += ["--rules", str(RULES), str(SEEDS / "001_a458cd11a7b1be15.txt")]
    else:
        words.append(str(RULES))
    result = run("--db", f"sqlite:///{tmp_path / 'w.db'}", "--pipeline", pipeline, *words)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"watcher: spaCy pipeline {pipeline!r}"), result.stderr
    assert says in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_rules_check_takes_a_pipeline_directory(run, tmp_path):
    pipeline = tmp_path / "my_pipeline"
    spacy.blank("en").to_disk(pipeline)
    result = run("--pipeline", str(pipeline), "rules", "check", str(RULES))
    assert result.exit_code == 0, result.stderr


def test_rules_test_runs_titled_examples_as_a_title(run, tmp_path):
    (tmp_path / "r.yaml").write_text(
        "rules:\n"
        "  - id: headline\n"
        "    title: Siege in the headline\n"
        "    query: title:(siege)\n"
        "    tests:\n"
        "      match: [{title: Siege of the town, body: Nothing else.}]\n"
        "      no_match: ['A siege in the body only.', {title: Calm, body: A siege.}]\n"
        "  - id: wrong\n"
        "    title: Wrong expectation\n"
        "    query: title:(siege)\n"
        "    tests:\n"
        "      match: [{title: Calm day, body: A siege.}]\n"
    )
    result = run("rules", "test", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"FAIL {tmp_path / 'r.yaml'}:12: wrong: should match but did not: "
        "title 'Calm day', body 'A siege.'",
        "3 passed, 1 failed",
    ]


def test_rules_test_runs_examples_of_source_limited_rules_and_skips_disabled(run, tmp_path):
    (tmp_path / "r.yaml").write_text(
        "rules:\n"
        "  - id: feed-only\n"
        "    title: Feed only\n"
        "    query: siege\n"
        "    sources: [asharq-*]\n"
        "    tests: {match: ['the siege'], no_match: ['calm']}\n"
        "  - id: off\n"
        "    title: Off\n"
        "    query: siege\n"
        "    enabled: false\n"
        "    tests: {match: ['nothing here']}\n"
    )
    result = run("rules", "test", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["2 passed, 0 failed, 1 not run (disabled: off)"]


def test_a_reader_that_closes_the_pipe_early_is_not_an_error(tmp_path):
    articles = tmp_path / "many.jsonl"
    line = {"title": "Siege of Aleppo", "text": "The siege of Aleppo goes on. " * 20}
    articles.write_text("".join(json.dumps({"id": f"a{i}", **line}) + "\n" for i in range(3000)))
    command = [sys.executable, "-m", "watcher", "match", "--rules", str(RULES),
               "--format", "jsonl", str(articles)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().startswith(b'{"rule"')
    process.stdout.close()  # like `| head -1`: the output is far past the pipe's buffer
    assert process.wait(timeout=300) == 0
    assert b"Traceback" not in process.stderr.read()


def test_match_answers_each_line_of_standard_input_as_it_arrives(tmp_path):
    """`tail -f feed.jsonl | watcher match --rules rules/ -`: no waiting for a batch."""
    import select

    line = json.dumps({"id": "s1", "title": "Siege of Sheikh Maqsoud",
                       "text": "Forces imposed a siege on Sheikh Maqsoud in Aleppo."})
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "match", "--rules", str(RULES), "--format", "jsonl",
         "-"], cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        process.stdin.write(line + "\n")
        process.stdin.flush()  # and keep standard input open
        ready, _, _ = select.select([process.stdout], [], [], 120)
        assert ready, "no answer while standard input stays open"
        assert json.loads(process.stdout.readline())["article"] == "s1"
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def test_rules_check_prints_warnings_on_stderr_and_still_passes(run, tmp_path):
    (tmp_path / "r.yaml").write_text(
        "lists:\n  x: ['siege OR blockade']\n"
        "rules:\n  - {id: r, title: r, query: '@x'}\n"
    )
    result = run("rules", "check", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "1 rules OK\n"
    assert result.stderr.startswith(f"{tmp_path / 'r.yaml'}:2:14: warning: 'OR' in the "
                                    "unquoted list entry 'siege OR blockade'")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConfigError("a.yaml:1:1: one\na.yaml:2:1: two"),
         "watcher: stopped: a.yaml:1:1: one\nwatcher: stopped: a.yaml:2:1: two\n"),
        (StoreError("database is locked"), "watcher: stopped: database is locked\n"),
        (RuleSetError([RuleError("a.yaml", 3, 5, "bad query")]), "a.yaml:3:5: bad query\n"),
    ],
)
def test_every_setup_error_is_status_2_with_one_line_per_problem(error, expected):
    """One place maps errors to exit status (cli_common.errors_exit): every command's
    configuration, rule and database errors end alike, a line per problem, status 2."""

    @click.command()
    def failing() -> None:
        with errors_exit("stopped: "):
            raise error

    result = CliRunner().invoke(failing)
    assert (result.exit_code, result.stderr) == (2, expected)


CW_RULES = (
    "rules:\n"
    "  - id: cw-held\n    title: Chemical weapons\n    query: chemical NEAR/1 weapons\n"
    "    exclude: [historical]\n"
    "  - id: cw-all\n    title: Chemical weapons, all\n    query: chemical NEAR/1 weapons\n"
)
RECALLED = {  # fakes:1914947530, of 5 April 2017
    "id": "cw-1", "title": "Talks", "published": "2017-04-05T00:00:00Z",
    "text": "Syria agreed to destroy its chemical weapons in 2013 under a deal brokered by "
            "Moscow and Washington.",
}


def test_match_shows_held_back_matches_only_with_held_and_context_cues(run, tmp_path):
    """Issue 17: a held-back match is printed only with --held; JSON lines carry `held` and
    `context` (labels with cue words), text shows the cue words."""
    rules = tmp_path / "cw.yaml"
    rules.write_text(CW_RULES)
    article = tmp_path / "a.jsonl"
    article.write_text(json.dumps(RECALLED) + "\n")
    plain = run("match", "--rules", str(rules), "--format", "jsonl", str(article))
    assert [json.loads(x)["rule"] for x in plain.stdout.splitlines()] == ["cw-all"]
    every = run("match", "--rules", str(rules), "--format", "jsonl", "--held", str(article))
    shown = {m["rule"]: m for m in map(json.loads, every.stdout.splitlines())}
    context = [{"label": "historical", "cues": ["2013"]}]
    assert (shown["cw-held"]["held"], shown["cw-held"]["context"]) == (["historical"], context)
    assert (shown["cw-all"]["held"], shown["cw-all"]["context"]) == ([], context)
    text = run("match", "--rules", str(rules), "--held", str(article)).stdout
    assert '    held back: historical ("2013")\n' in text
    assert '    context: historical ("2013")\n' in text


# What a command that needs none of them must not import (issue 20: start-up).
HEAVY_MODULES = ("spacy", "datasketch", "sqlalchemy", "apprise", "fastapi", "uvicorn")
# Runs `python -m watcher ARGS...` in a child, then prints the heavy modules it imported.
_IMPORTED = """
import json, runpy, sys
heavy, sys.argv = json.loads(sys.argv[1]), ["watcher", *sys.argv[2:]]
try:
    runpy.run_module("watcher", run_name="__main__")
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "imported": [m for m in heavy if m in sys.modules]}),
      file=sys.stderr)
"""


def _imported(cwd: Path, *args: str) -> tuple[object, list[str]]:
    """The exit status of `python -m watcher ARGS...` and the heavy modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED, json.dumps(HEAVY_MODULES), *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["imported"]


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("rules", "--help")])
def test_version_and_help_import_no_command(tmp_path, args):
    """`watcher --version` and the help pages start at once: no command's heavy imports."""
    assert _imported(tmp_path, *args) == (0, [])


def test_rules_check_imports_neither_spacy_nor_the_store(tmp_path):
    """Checking rules (blank:en) loads the rules alone: no spaCy, store, alerts or web."""
    assert _imported(tmp_path, "rules", "check", str(RULES)) == (0, [])


def _lazy_tables() -> list[tuple[click.Group, str, object]]:
    """(group, command name, table entry) for every command of a lazy table."""
    from watcher.cli.main import COMMANDS
    from watcher.cli.matching import RULES_COMMANDS, rules

    return [*((cli, n, e) for n, e in COMMANDS.items()),
            *((rules, n, e) for n, e in RULES_COMMANDS.items())]


@pytest.mark.parametrize("group, name, entry", _lazy_tables(), ids=lambda x: str(x)[:20])
def test_each_lazy_command_is_where_its_table_says_with_its_help_line(group, name, entry):
    """The table's help line is the command's own, as `--help` would shorten it."""
    command = group.get_command(click.Context(group), name)
    assert command is not None and command.name == name
    assert entry.help == command.get_short_help_str(limit=10_000)
    for limit in (30, 45, 60, 80):
        assert click.Command(name, help=entry.help).get_short_help_str(limit) == \
            command.get_short_help_str(limit)


@pytest.mark.parametrize("name", ["watcher", "rules"])
def test_help_lists_every_command_as_it_would_with_every_command_loaded(name):
    """`watcher --help` and `watcher rules --help` list every command with its one-line
    help from the table, the page the same as click's once every command is loaded."""
    group = cli if name == "watcher" else cli.get_command(click.Context(cli), name)
    unloaded = type(group)(
        name=group.name, help=group.help, params=group.params, lazy=group.lazy,
        context_settings=group.context_settings,
        commands={n: c for n, c in group.commands.items() if n not in group.lazy},
    )  # fmt: skip
    assert not set(unloaded.commands) & set(group.lazy)
    names = group.list_commands(click.Context(group))
    for command in names:
        group.get_command(click.Context(group), command)
    assert set(group.lazy) <= set(group.commands)
    lists = [
        CliRunner().invoke(g, ["--help"], prog_name=name).stdout.split("Commands:\n", 1)[1]
        for g in (unloaded, group)
    ]  # (the options above may differ: click keeps a group's help option once made)
    assert lists[0] == lists[1]
    assert [line.split()[0] for line in lists[0].splitlines()
            if not line.startswith("   ")] == names
