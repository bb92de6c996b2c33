"""The snippet mark format: what snippets.py writes, every renderer reads back exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from watcher.marks import escape, marked, pieces, plain

TEXT = st.text(alphabet=st.sampled_from("ab [ ]\\\n…"), max_size=12)


@given(st.lists(st.tuples(TEXT, st.booleans())))
def test_what_is_written_reads_back_as_the_same_text_and_marks(parts):
    parts = [(text, is_mark) for text, is_mark in parts if text or not is_mark]
    snippet = "".join(marked(text) if is_mark else escape(text) for text, is_mark in parts)
    expected: list[tuple[str, bool]] = []
    for text, is_mark in parts:  # plain runs side by side read as one
        if not is_mark and expected and not expected[-1][1]:
            expected[-1] = (expected[-1][0] + text, False)
        elif is_mark or text:
            expected.append((text, is_mark))
    assert pieces(snippet) == expected


def test_edge_cases_of_the_format():
    assert pieces("ends with \\") == [("ends with \\", False)]  # a lone backslash stays
    assert pieces("[a\\]b] c") == [("a]b", True), (" c", False)]
    assert pieces("[] and [") == [("[] and [", False)]  # no mark is empty or unclosed
    assert plain("\\[We\\] hold the [siege]") == "[We] hold the [siege]"


def test_snippets_stored_before_escaping_read_as_before_unless_they_hold_a_backslash():
    assert pieces("a [[b]] c [") == [("a [", False), ("b", True), ("] c [", False)]
    assert pieces("C:\\[siege]") == [("C:[siege]", False)]  # documented: now an escape


def test_a_long_snippet_full_of_escapes_reads_back_whole():
    body = "[x] " * 50_000
    assert pieces(escape(body) + marked("siege")) == [(body, False), ("siege", True)]
