"""Silences at send time, as users run them: `watcher silences add|list|expire`, then
`watcher replay` and `deliveries flush` sending to a real webhook receiver on 127.0.0.1, on
a clock the test moves; and the sender itself over a store, for places and tags."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from tests.store.builders import DAMASCUS_MIDAN, MANBIJ, NOW, new_article, new_match, new_story
from tests.support.helpers import ManualClock
from tests.support.webhook import WebhookServer
from watcher.cli.main import cli
from watcher.notify.channels import Channel
from watcher.notify.outbox import Destination, Outbox, RetryPolicy
from watcher.notify.render import Renderer
from watcher.notify.silencing import RuleTags
from watcher.store import Store
from watcher.store.audit import Audit
from watcher.store.silences import Silences

TAGGED_RULES = """
rules:
  - id: aleppo-mention
    title: Aleppo in the news
    query: ~Aleppo
    severity: low
    tags: [syria]
  - id: aleppo-blast
    title: Blasts in Aleppo
    query: (blast OR bomb) NEAR/10 ~Aleppo
    severity: critical
    tags: [syria, blasts]
  - id: aleppo-casualties
    title: Casualties in Aleppo
    query: (killed OR dead) NEAR/10 ~Aleppo
    severity: high
    tags: [syria]
"""


def configure(workdir: Path, hook: WebhookServer) -> None:
    (workdir / "rules.yaml").write_text(TAGGED_RULES, encoding="utf-8")
    (workdir / "watcher.yaml").write_text(
        f"rules: {workdir / 'rules.yaml'}\n"
        f"channels:\n  hook:\n    urls: ['{hook.url()}']\n    default: true\n",
        encoding="utf-8")


def watcher(clock: ManualClock, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, obj=clock.now)


STORIES = {
    "a1": ("Car bomb in Aleppo's old city",
           "A car bomb hit the old city of Aleppo this morning; nine people were killed in "
           "Aleppo, medics said."),
    "a2": ("Blast at a market in Aleppo",
           "Two days later a blast tore through a vegetable market in eastern Aleppo. "
           "Three traders are dead, the civil defence in Aleppo reported on Thursday."),
}


def article(workdir: Path, name: str) -> str:
    """An article all three rules match (one message listing them, when none is silenced);
    the two are different stories."""
    path = workdir / f"{name}.jsonl"
    title, text = STORIES[name]
    path.write_text(json.dumps({"id": name, "source": "wire", "title": title, "text": text}),
                    encoding="utf-8")
    return str(path)


def deliveries(clock: ManualClock, *args: str) -> list[dict]:
    result = watcher(clock, "deliveries", "--format", "jsonl", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def rules_listed(body: dict) -> list[str]:
    titles = ("Aleppo in the news", "Blasts in Aleppo", "Casualties in Aleppo")
    return [title for title in titles if title in body["message"]]


def test_a_silenced_rule_is_never_sent_and_its_other_rules_go_in_one_message(workdir, hook):
    clock = ManualClock()
    configure(workdir, hook)
    added = watcher(clock, "silences", "add", "--rule", "aleppo-blast", "--duration", "4h",
                    "--comment", "the offensive: covered by the desk", "--author", "ana")
    assert added.exit_code == 0, added.output
    assert added.stdout == "silence 1 active until 2026-03-01T16:00:00Z\n"

    first = watcher(clock, "-v", "replay", article(workdir, "a1"))
    assert first.exit_code == 0, first.output
    assert ("event=silenced channel=hook deliveries=1 silence=1 rules=aleppo-blast"
            in first.stderr)
    assert "alerts sent 2, retrying 0, dead 0, silenced 1; pending now 0" in first.stderr
    (body,) = hook.bodies
    assert body["title"].startswith("[HIGH] 2 rules: ")
    assert rules_listed(body) == ["Aleppo in the news", "Casualties in Aleppo"]
    (held,) = deliveries(clock, "--status", "silenced")
    assert (held["rule"], held["article"], held["silence"]) == ("aleppo-blast", "a1", 1)
    text = watcher(clock, "deliveries", "--status", "silenced").stdout
    assert " silenced hook rule=aleppo-blast article=a1 " in text and "by silence 1" in text

    clock.advance(4 * 3600)  # it has ended by itself: a new article's blast goes out
    assert "active" not in watcher(clock, "silences", "list").stdout
    second = watcher(clock, "replay", article(workdir, "a2"))
    assert second.exit_code == 0, second.output
    assert len(hook.bodies) == 2
    assert rules_listed(hook.bodies[1]) == [
        "Aleppo in the news", "Blasts in Aleppo", "Casualties in Aleppo"]
    flushed = watcher(clock, "deliveries", "flush")  # and the one it held back, never
    assert flushed.exit_code == 0, flushed.output
    assert len(hook.bodies) == 2
    statuses = {(d["article"], d["rule"]): d["status"] for d in deliveries(clock)}
    assert statuses[("a1", "aleppo-blast")] == "silenced"
    assert statuses[("a2", "aleppo-blast")] == "sent"


def test_a_tag_silence_holds_every_rule_with_that_tag_until_expired_early(workdir, hook):
    clock = ManualClock()
    configure(workdir, hook)
    watcher(clock, "silences", "add", "--tag", "syria", "--duration", "1d",
            "--comment", "one noisy day", "--author", "ana")
    first = watcher(clock, "replay", article(workdir, "a1"))
    assert first.exit_code == 0, first.output
    assert hook.bodies == []
    assert {d["status"] for d in deliveries(clock)} == {"silenced"}

    clock.advance(60)
    expired = watcher(clock, "silences", "expire", "1", "--author", "ada")
    assert expired.stdout == "silence 1 expired at 2026-03-01T12:01:00Z\n"
    listed = watcher(clock, "silences", "list", "--all", "--format", "jsonl").stdout
    (silence,) = [json.loads(line) for line in listed.splitlines()]
    assert (silence["status"], silence["expired_by"]) == ("expired", "ada")
    assert watcher(clock, "silences", "list").stdout == ""  # expired: only with --all
    assert watcher(clock, "replay", article(workdir, "a2")).exit_code == 0
    assert len(hook.bodies) == 1 and len(rules_listed(hook.bodies[0])) == 3


def test_a_silence_that_cannot_be_is_refused_in_one_line(workdir, hook):
    clock = ManualClock()
    configure(workdir, hook)
    for args, says in [
        (["--duration", "4h", "--comment", "why"],
         "a silence needs at least one matcher: rule, tag, source, place, story"),
        (["--rule", "r", "--duration", "4h", "--comment", "  "],
         "a silence needs a comment: say why it is silenced"),
        (["--rule", "r", "--comment", "why"],
         "give a silence a duration (4h) or an end time, one of them"),
        (["--rule", "r", "--duration", "soon", "--comment", "why"],
         "bad duration 'soon': must be a duration such as 90 (seconds), 30s, 10m, 1h, "
         "1h30m or 1d"),
        (["--rule", "r", "--until", "2026-03-01T11:00", "--comment", "why"],
         "that end is in the past: a silence must end after now"),
        (["--rule", "r", "--duration", "91d", "--comment", "why"],
         "a silence lasts at most 90 days"),
        (["--rule", "r", "--duration", "999999999999d", "--comment", "why"],
         "a silence lasts at most 90 days"),
        (["--place", "Xanadu Springs", "--duration", "4h", "--comment", "why"],
         "place: no place named 'Xanadu Springs' in the gazetteer"),
    ]:
        result = watcher(clock, "silences", "add", *args)
        assert (result.exit_code, result.stderr) == (1, f"watcher: {says}\n"), args
    assert watcher(clock, "silences", "expire", "7").stderr == "watcher: no silence 7\n"
    assert watcher(clock, "silences", "list", "--all").stdout == ""


def test_list_bounds_each_status_on_its_own_and_says_what_it_leaves_out(workdir, hook):
    clock = ManualClock()
    configure(workdir, hook)
    for rule in ("r1", "r2", "r3", "r4"):
        watcher(clock, "silences", "add", "--rule", rule, "--duration", "4h",
                "--comment", "noise", "--author", "ana")
    watcher(clock, "silences", "expire", "4", "--author", "ana")
    cut = watcher(clock, "silences", "list", "--all", "--limit", "2")
    assert [line.split()[:2] for line in cut.stdout.splitlines()] == [
        ["#1", "active"], ["#2", "active"], ["#4", "expired"]]
    assert cut.stderr == "1 more active not shown (--limit 2)\n"
    assert watcher(clock, "silences", "list", "--limit", "3").stderr == ""


# -- the sender over a store ---------------------------------------------------------------


def sender(store: Store, clock: ManualClock, hook: WebhookServer, **options) -> Outbox:
    channels = {"ops": Destination(Channel.from_urls("ops", [hook.url()]), options.pop(
        "digest", None))}
    return Outbox(store=store, destinations=channels, renderer=Renderer(), now=clock.now,
                  policy=RetryPolicy(5, 60, 600), rng=random.Random(7), **options)


def queue(store: Store, name: str, rule: str = "siege", **options) -> None:
    new = new_article(name, source=options.pop("source", "seeds"))
    store.ingest(new, [new_match(new, rule, **options)], new_story, NOW)


def test_a_governorate_silences_a_match_in_a_town_inside_it(tmp_path, hook):
    clock = ManualClock(NOW)
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        Silences(store).add({"place": "admin1:SY.09"}, ends_at=NOW + timedelta(hours=4),
                            comment="Aleppo front", author="ana", now=NOW)
        queue(store, "manbij", places=(MANBIJ,))
        queue(store, "damascus", places=(DAMASCUS_MIDAN,))
        queue(store, "nowhere")
        report = sender(store, clock, hook).send_due()
        assert (report.sent, report.silenced) == (2, 1)
        assert sorted(body["title"] for body in hook.bodies) == [
            "[HIGH] Rule siege: Title of damascus", "[HIGH] Rule siege: Title of nowhere"]
        (held,) = store.deliveries(status="silenced")
        assert (held.article_id, held.silence_id) == ("manbij", 1)


def test_a_story_silence_holds_that_story_only(tmp_path, hook):
    clock = ManualClock(NOW)
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        first, second = new_article("s1"), new_article("s2")
        story = store.ingest(first, [new_match(first)], new_story, NOW).story_id
        store.ingest(second, [new_match(second)], new_story, NOW)
        Silences(store).add({"story": story}, ends_at=NOW + timedelta(hours=1),
                            comment="handled", author="ana", now=NOW)
        assert sender(store, clock, hook).send_due().silenced == 1
        assert [d.article_id for d in store.deliveries(status="silenced")] == ["s1"]
        assert [body["title"] for body in hook.bodies] == ["[HIGH] Rule siege: Title of s2"]


def test_a_delivery_queued_before_the_silence_is_silenced_when_it_falls_due(tmp_path, hook):
    """Checked at send time: a digest alert waiting for its boundary when the silence
    begins is held back at the boundary; one due after the silence ended is sent."""
    clock = ManualClock(NOW)
    boundary = NOW + timedelta(hours=1)
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        queue(store, "early", channels=("ops",), due=boundary)
        Silences(store).add({"rule": "siege", "source": "seeds"},
                            ends_at=NOW + timedelta(hours=2), comment="noise", author="ana",
                            now=NOW)
        queue(store, "other-source", source="wire", due=boundary)
        outbox = sender(store, clock, hook, digest=3600)
        assert outbox.send_due().silenced == 0  # not due yet: nothing decided
        clock.advance(3600)
        report = outbox.send_due()
        assert (report.sent, report.silenced) == (1, 1)
        assert [d.article_id for d in store.deliveries(status="silenced")] == ["early"]
        queue(store, "late", channels=("ops",), due=NOW + timedelta(hours=3))
        clock.advance(2 * 3600)
        assert outbox.send_due().sent == 1
        assert [d.article_id for d in store.deliveries(status="silenced")] == ["early"]


def test_tag_silences_read_the_rules_tags_again_when_the_files_change(tmp_path, hook):
    rules = tmp_path / "rules.yaml"
    rule = "rules:\n  - id: siege\n    title: Sieges\n    query: siege\n    severity: high\n"
    rules.write_text(rule + "    tags: [sieges]\n", encoding="utf-8")
    clock = ManualClock(NOW)
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        Silences(store).add({"tag": "front"}, ends_at=NOW + timedelta(hours=4),
                            comment="noise", author="ana", now=NOW)
        outbox = sender(store, clock, hook, rule_tags=RuleTags(rules))
        queue(store, "a1")
        assert outbox.send_due().sent == 1
        rules.write_text(rule + "    tags: [sieges, front]\n", encoding="utf-8")
        queue(store, "a2")
        assert outbox.send_due().silenced == 1
        assert len(hook.bodies) == 1


def test_adding_and_expiring_a_silence_is_in_the_audit_log(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        silences = Silences(store)
        silence = silences.add({"rule": "siege", "tag": ""}, ends_at=NOW + timedelta(hours=4),
                               comment="noise", author="ana", now=NOW)
        silences.expire(silence.id, by="ada", now=NOW + timedelta(minutes=5))
        expire, create = Audit(store).entries()
    assert (create.actor, create.action, create.target) == ("ana", "silence.create", "silence:1")
    assert create.before is None and create.after["matchers"] == {"rule": "siege"}
    assert (expire.actor, expire.action) == ("ada", "silence.expire")
    assert (expire.before["ends_at"], expire.after["ends_at"]) == (
        "2026-11-24T16:00:00Z", "2026-11-24T12:05:00Z")
    assert expire.after["expired_by"] == "ada"
