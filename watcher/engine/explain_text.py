"""An explanation (watcher/engine/explain.py) as lines for people: the verdict, the query tree
clause by clause, then why a match is held back or left out.

One rendering for `watcher explain` (text) and the workspace's story page (each line's depth
and whether its clause holds, so the page can style them): they cannot tell different
stories. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from watcher.engine.explain import Explanation, Step, step_says
from watcher.model import Article

__all__ = ["ABSENT_NAMED", "Line", "explanation_lines", "head_line", "reason_lines", "verdict"]

# An OR's absent children named in one line, past which they are counted.
ABSENT_NAMED = 5


@dataclass(frozen=True)
class Line:
    """One line under the head: a clause of the tree (`holds` says whether it holds) or a
    note (`holds` None: held back, context, sources, disabled), indented `depth` steps.
    `excludes`: the clause is a NOT IN's right side, which works against the match where it
    holds (it leaves the left side out there)."""

    depth: int
    text: str
    holds: bool | None = None
    excludes: bool = False

    def plain(self) -> str:
        """As the command line prints it: `  [x] NEAR/10: …`; `[-]` for a NOT IN's right
        side that occurs."""
        mark = ""
        if self.holds is not None:
            mark = "[ ] " if not self.holds else "[-] " if self.excludes else "[x] "
        return f"{'  ' * self.depth}{mark}{self.text}"


def verdict(found: Explanation) -> str:
    """`matches`, `matches, held back` or `no match`."""
    if not found.matches:
        return "no match"
    return "matches, held back" if found.held else "matches"


def head_line(found: Explanation, article: Article, bold: Callable[[str], str] = str) -> str:
    """`RULE on ARTICLE (source): verdict`, the rule id passed through `bold`."""
    where = f" ({article.source})" if article.source else ""
    return f"{bold(found.rule_id)} on {found.article_id}{where}: {verdict(found)}"


def explanation_lines(
    found: Explanation, article: Article, bold: Callable[[str], str] = str
) -> list[str]:
    """The text output of `watcher explain`: the head line, then every line plain."""
    return [head_line(found, article, bold)] + [line.plain() for line in reason_lines(found,
                                                                                       article)]


def reason_lines(found: Explanation, article: Article) -> list[Line]:
    """The tree, then why a match is held back (its context labels with cue words) or left
    out (`sources:`, disabled), then its other context labels."""
    lines = _tree_lines(found.root, 1)
    if found.disabled:
        lines.append(Line(1, "disabled: the rule matches nothing"))
    if found.other_source:
        lines.append(Line(1, f"sources: the rule does not take articles from {article.source!r}"))
    cues = {c.label: ", ".join(f'"{cue}"' for cue in c.cues) for c in found.context}
    if found.held:
        lines.append(Line(1, "held back: " + "; ".join(
            f"{h} ({cues.get(h, '')})" for h in found.held)))
    others = [label for label in cues if label not in found.held]
    if others:
        lines.append(Line(1, "context: " + "; ".join(
            f"{label} ({cues[label]})" for label in others)))
    return lines


def _tree_lines(step: Step, depth: int) -> list[Line]:
    text = step.label
    if step.forms:
        text += ": " + ", ".join(step.forms)
    says = step_says(step)
    if says:
        text += ": " + says
    lines = [Line(depth, text, step.holds, step.excludes)]
    shown = step.children
    absent: list[Step] = []
    if step.kind == "or":  # a long word list: name the absent terms, not a line each
        absent = [c for c in shown if c.kind == "term" and not c.holds]
        shown = tuple(c for c in shown if c not in absent)
    for child in shown:
        lines += _tree_lines(child, depth + 1)
    if absent:
        named = ", ".join(c.label for c in absent[:ABSENT_NAMED])
        more = f" and {len(absent) - ABSENT_NAMED} more" if len(absent) > ABSENT_NAMED else ""
        lines.append(Line(depth + 1, f"absent: {named}{more}", False))
    return lines
