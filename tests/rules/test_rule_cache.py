"""Reloading with a RuleCache (the daemon's reload): only the files whose text changed are
read again, and the rule set is always the one a fresh load of every file gives, lists
shared across files and duplicates across files included (watcher/rules/load.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from watcher.errors import RuleSetError
from watcher.rules.load import RuleCache, load_rules

LISTS = """
    lists:
      places: ['~Aleppo', '~Homs']
      siege_words: [siege, blockade]
"""
SIEGES = """
    rules:
      - id: siege
        title: Siege
        query: '@siege_words NEAR/10 @places'
        severity: high
"""
TALKS = """
    rules:
      - id: talks
        title: Talks
        query: 'truce NEAR/s @places'
"""
PLAIN = """
    rules:
      - id: shelling
        title: Shelling
        query: 'shelling NEAR/5 ~Idlib'
"""


def write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    for name, text in (("a-lists.yaml", LISTS), ("b-sieges.yaml", SIEGES),
                       ("c-talks.yaml", TALKS), ("d-plain.yaml", PLAIN)):
        write(tmp_path, name, text)
    return tmp_path


def messages(path: Path, cache: RuleCache | None = None) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load_rules(path, cache=cache)
    return [str(e) for e in caught.value.errors]


def test_a_reload_reads_only_the_changed_file_and_equals_a_fresh_load(rules):
    cache = RuleCache()
    first = load_rules(rules, cache=cache)
    assert len(cache.read_last) == 4
    write(rules, "c-talks.yaml", TALKS.replace("truce NEAR/s", "ceasefire NEAR/5"))
    reloaded = load_rules(rules, cache=cache)
    assert cache.read_last == [str(rules / "c-talks.yaml")]
    assert reloaded == load_rules(rules)
    assert reloaded != first


def test_a_changed_list_reaches_the_rules_of_the_other_files(rules):
    cache = RuleCache()
    load_rules(rules, cache=cache)
    write(rules, "a-lists.yaml", LISTS.replace("'~Homs'", "'~Homs', '~Hama'"))
    reloaded = load_rules(rules, cache=cache)
    assert cache.read_last == [str(rules / "a-lists.yaml")]
    assert reloaded == load_rules(rules)
    siege = {r.id: r for r in reloaded.rules}["siege"]
    assert "Hama" in repr(siege.query)


def test_unchanged_files_give_the_same_rule_set_without_reading_any(rules):
    cache = RuleCache()
    first = load_rules(rules, cache=cache)
    assert load_rules(rules, cache=cache) == first
    assert cache.read_last == []


def test_a_broken_file_on_reload_is_the_fresh_load_s_errors_and_then_loads_once_fixed(rules):
    cache = RuleCache()
    load_rules(rules, cache=cache)
    write(rules, "c-talks.yaml", TALKS.replace("truce NEAR/s @places", "truce NEAR/s @plces"))
    assert messages(rules, cache) == messages(rules) == [
        f"{rules / 'c-talks.yaml'}:4:26: unknown list '@plces' (did you mean '@places'?)"]
    assert messages(rules, cache) == messages(rules)  # nothing piles up in the kept files
    write(rules, "c-talks.yaml", TALKS)
    assert load_rules(rules, cache=cache) == load_rules(rules)


def test_a_duplicate_across_files_is_reported_on_every_reload_as_on_a_fresh_load(rules):
    cache = RuleCache()
    load_rules(rules, cache=cache)
    write(rules, "e-again.yaml", SIEGES.replace("title: Siege", "title: Siege again"))
    expected = [f"{rules / 'e-again.yaml'}:2:9: duplicate rule id 'siege' (first defined at "
                f"{rules / 'b-sieges.yaml'}:2:9)"]
    assert messages(rules, cache) == expected
    assert messages(rules, cache) == expected
    assert cache.read_last == []
    (rules / "e-again.yaml").unlink()
    (rules / "c-talks.yaml").unlink()  # a removed file's rules go with it
    assert load_rules(rules, cache=cache) == load_rules(rules)
    assert [r.id for r in load_rules(rules, cache=cache).rules] == ["siege", "shelling"]


def test_other_channels_read_the_files_again(rules):
    write(rules, "d-plain.yaml", PLAIN + "        notify: [ops]\n")
    cache = RuleCache()
    load_rules(rules, channels={"ops"}, cache=cache)
    with pytest.raises(RuleSetError) as caught:
        load_rules(rules, channels={"desk"}, cache=cache)
    assert [e.message for e in caught.value.errors] == [
        "unknown channel 'ops' (configured: desk)"]
