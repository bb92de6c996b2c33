"""Alerts end to end, as users run them: `watcher replay`, `run --once`, `deliveries
[flush]` and `notify test` against a real SMTP server and a real webhook receiver on
127.0.0.1 (apprise does the sending)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from tests.support.alerting import PASSWORD, THREE_RULES
from tests.support.helpers import PATIENCE, ManualClock
from tests.support.http_server import Reply, ScriptedServer
from tests.support.processes import WatcherProcess, start_watcher, stop_watchers
from tests.support.smtp_server import SmtpServer
from tests.support.webhook import StallingServer, WebhookServer
from watcher.cli.interrupts import EXIT_INTERRUPTED, STOPPED_AT_ONCE
from watcher.cli.main import cli
from watcher.rules.load import load_rules

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
RULES = ROOT / "rules"
PAIRS = json.loads((ROOT / "tests" / "data" / "stories" / "pairs.json").read_text())
TOKEN = "T0kenInThePath9876"

BLAST_RULES = """
rules:
  - id: aleppo-blast
    title: Blasts in Aleppo
    query: (blast OR bomb OR explosion) NEAR/10 ~Aleppo
    severity: high
  - id: aleppo-mention
    title: Aleppo in the news
    query: ~Aleppo
    severity: low
"""


def mail_url(smtp: SmtpServer) -> str:
    return (f"mailto://alerts:{PASSWORD}@127.0.0.1:{smtp.port}"
            "?to=ops@example.org&from=watcher@example.org")


def configure(workdir: Path, channels: str, *, rules: Path = RULES, notify: str = "") -> None:
    (workdir / "watcher.yaml").write_text(
        f"rules: {rules}\nchannels:\n{channels}\n" + (f"notify:\n{notify}\n" if notify else ""),
        encoding="utf-8",
    )


def watcher(*args: str, stdin: str | None = None, clock: ManualClock | None = None) -> Result:
    """One command, run to its end: every send it made has been answered by then."""
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False,
                              obj=clock.now if clock else None)


def deliveries(*args: str) -> list[dict]:
    result = watcher("deliveries", "--format", "jsonl", "--limit", "1000", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def new_matches(result: Result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def blast_rules(workdir: Path, extra: str = "") -> Path:
    path = workdir / "rules.yaml"
    path.write_text(BLAST_RULES + extra, encoding="utf-8")
    return path


def same_story_input(workdir: Path) -> Path:
    """One story from two outlets (a real syndicated pair), one line each."""
    pair = next(p for p in PAIRS if p["kind"] == "same" and "Aleppo" in p["a"]["text"])
    lines = [
        {"id": f"{side}-1", "title": pair[side]["title"], "text": pair[side]["text"],
         "source": outlet}
        for side, outlet in (("a", "outlet-a"), ("b", "outlet-b"))
    ]
    path = workdir / "story.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_replaying_the_seeds_twice_mails_each_alert_once(workdir, smtp):
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true")
    first = watcher("replay", "--format", "jsonl", str(SEEDS))
    assert first.exit_code == 0, first.output
    alerts = new_matches(first)
    assert alerts, "the shipped rules match the seeds"
    rules_per_article = Counter(a["article"] for a in alerts)
    mails = smtp.wait_for(len(rules_per_article))  # one per article, listing its rules
    again = watcher("replay", "--format", "jsonl", str(SEEDS))
    assert again.exit_code == 0 and again.stdout == ""
    assert len(smtp.messages) == len(mails) == len(rules_per_article)
    grouped = [re.match(r"\[[A-Z]+\] (\d+) rules: ", mail.subject) for mail in mails]
    counts = sorted(int(found.group(1)) if found else 1 for found in grouped)
    assert counts == sorted(rules_per_article.values())
    assert all(mail.login == "alerts" and mail.html for mail in mails)
    sent = [(d["rule"], d["article"], d["status"]) for d in deliveries()]
    assert sorted(sent) == sorted((a["rule"], a["article"], "sent") for a in alerts)
    notified = json.loads(watcher("matches", "--format", "jsonl").stdout.splitlines()[0])
    assert notified["notified"] == ["ops"]


def test_a_story_from_two_outlets_alerts_once_and_names_the_other(workdir, hook):
    rules = blast_rules(workdir)
    configure(workdir, f"  hook:\n    urls: ['{hook.url()}']\n    default: true", rules=rules)
    result = watcher("replay", "--format", "jsonl", str(same_story_input(workdir)))
    assert result.exit_code == 0, result.output
    assert {m["article"] for m in new_matches(result)} == {"a-1"}
    bodies = hook.bodies  # the replay has ended: nothing more is on its way
    assert len(bodies) == 1  # two rules, one story: one message listing both
    assert bodies[0]["title"].startswith("[HIGH] 2 rules: ")
    assert all("outlet-b" in body["message"] for body in bodies)
    assert all("outlet-a" in body["message"] for body in bodies)  # its own source


def test_channels_get_the_severities_they_ask_for(workdir):
    with WebhookServer() as everything, WebhookServer() as pager:
        rules = blast_rules(workdir, """
  - id: pager-only
    title: Explosions for the pager
    query: explosion OR blast
    severity: medium
    notify: [pager]
""")
        configure(workdir, (
            f"  everything:\n    urls: ['{everything.url()}']\n    default: true\n"
            f"  pager:\n    urls: ['{pager.url()}']\n    default: true\n"
            "    min_severity: medium"), rules=rules)
        result = watcher("replay", "--format", "jsonl", str(same_story_input(workdir)))
        fired = {m["rule"] for m in new_matches(result)}
        assert fired == {"aleppo-blast", "aleppo-mention", "pager-only"}
        sent = {(d["channel"], d["rule"]) for d in deliveries()}
        assert sent == {
            ("everything", "aleppo-blast"), ("everything", "aleppo-mention"),
            ("pager", "aleppo-blast"), ("pager", "pager-only"),
        }
        # the replay has ended: one message per channel, listing the rules sent there
        assert len(everything.bodies) == 1 and len(pager.bodies) == 1
        assert everything.bodies[0]["title"].startswith("[HIGH] 2 rules: ")
        assert "Explosions for the pager" in pager.bodies[0]["message"]
        assert "Aleppo in the news" not in pager.bodies[0]["message"]


def test_mail_down_keeps_alerts_pending_and_flush_sends_each_once(workdir, smtp):
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true",
              notify="  timeout: 5s")
    smtp.stop()
    result = watcher("replay", "--format", "jsonl", str(SEEDS))
    alerts = new_matches(result)
    assert result.exit_code == 0
    assert f"pending now {len(alerts)}" in result.stderr
    pending = deliveries("--status", "pending")
    assert len(pending) == len(alerts)
    assert all(d["attempts"] == 1 and "refused" in d["last_error"] for d in pending)
    smtp.start()
    flushed = watcher("deliveries", "flush")
    assert flushed.exit_code == 0, flushed.output
    articles = len({a["article"] for a in alerts})  # one mail each, listing its rules
    assert len(smtp.wait_for(articles)) == articles
    assert watcher("deliveries", "flush").exit_code == 0
    assert len(smtp.messages) == articles  # the flush has ended: it sent nothing more
    assert {d["status"] for d in deliveries()} == {"sent"}


def test_pending_deliveries_of_a_channel_no_longer_configured_are_named_and_can_be_dropped(
    workdir, smtp
):
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true",
              notify="  timeout: 5s")
    smtp.stop()
    alerts = len(new_matches(watcher("replay", "--format", "jsonl", str(SEEDS))))
    smtp.start()
    configure(workdir, f"  desk:\n    urls: ['{mail_url(smtp)}']\n    default: true")
    flushed = watcher("deliveries", "flush")
    assert flushed.exit_code == 1
    assert (f"watcher: {alerts} pending for channels this configuration does not have: "
            f"ops ({alerts}); they wait for a watcher configured with them "
            "(`watcher deliveries drop CHANNEL` gives them up)") in flushed.stderr
    assert f"pending now {alerts}" in flushed.stderr
    assert smtp.messages == []
    dropped = watcher("deliveries", "drop", "ops")
    assert dropped.stdout == f"dropped {alerts} pending deliveries for ops (now dead)\n"
    assert watcher("deliveries", "flush").exit_code == 0  # nothing left that it cannot send
    dead = deliveries("--status", "dead")
    assert len(dead) == alerts
    assert {d["last_error"] for d in dead} == {"dropped by `watcher deliveries drop`"}
    assert smtp.messages == []


def test_a_replay_says_once_per_channel_what_was_not_delivered(workdir, smtp):
    """In a real process: no bare log line repeats each failure, and a channel that refuses
    every alert is one line with the count, not one line per alert."""
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true",
              notify="  timeout: 5s")
    smtp.stop()
    done = subprocess.run([sys.executable, "-m", "watcher", "replay", "--format", "jsonl",
                           str(SEEDS)],
                          cwd=workdir, capture_output=True, text=True, timeout=300)
    alerts = len(done.stdout.splitlines())
    assert done.returncode == 0 and alerts > 1, done.stderr
    failure, summary = [line for line in done.stderr.splitlines() if line.startswith("watcher:")]
    assert "event=" not in done.stderr  # the daemon's log lines are not repeated
    assert failure.startswith(f"watcher: not delivered ({alerts} alerts): ops: mailto://")
    assert summary == f"watcher: alerts sent 0, retrying {alerts}, dead 0; pending now {alerts}"


def test_a_failing_webhook_is_retried_with_backoff_then_dead(workdir, hook):
    """On the commands' clock, moved by hand: not due 1 s on, due once the delay is over."""
    clock = ManualClock()
    rules = blast_rules(workdir)
    configure(workdir, f"  hook:\n    urls: ['{hook.url()}']\n    default: true",
              rules=rules, notify="  max_attempts: 3\n  retry_delay: 2s\n  max_retry_delay: 4s")
    hook.answer(500)
    article = {"id": "x1", "title": "Bomb blast in Aleppo", "text": "A bomb hit Aleppo."}
    replayed = watcher("replay", "--rules", str(rules), "-", stdin=json.dumps(article) + "\n",
                       clock=clock)
    assert replayed.exit_code == 0
    assert len(hook.bodies) == 1  # both rules tried once, in one message
    after_first = deliveries()
    assert {(d["status"], d["attempts"]) for d in after_first} == {("pending", 1)}
    assert all("500" in d["last_error"] for d in after_first)
    clock.advance(0.9)
    assert watcher("run", "--once", clock=clock).exit_code == 0  # not due yet: nothing sent
    assert len(hook.bodies) == 1
    clock.advance(1.2)  # the first retry waits 1-2 s
    assert watcher("run", "--once", clock=clock).exit_code == 0
    assert len(hook.bodies) == 2
    assert {(d["status"], d["attempts"]) for d in deliveries()} == {("pending", 2)}
    flushed = watcher("deliveries", "flush", clock=clock)  # the third and last attempt
    assert flushed.exit_code == 1
    assert "500" in flushed.stderr
    dead = deliveries("--status", "dead")
    assert [(d["attempts"], "500" in d["last_error"]) for d in dead] == [(3, True)] * 2
    assert len(hook.bodies) == 3
    assert len({body["id"] for body in hook.bodies}) == 1  # the same message every time
    text = watcher("deliveries", "--status", "dead").stdout
    assert "last error:" in text and "gave up" in text




def test_three_rules_on_one_article_send_one_message_per_channel(workdir, smtp, hook):
    """One mail and one webhook POST, listing the three rules most severe first, the
    subject naming the highest severity and the count; a digest channel lists them as
    three alerts grouped by rule, as before (issue 17)."""
    rules = workdir / "three.yaml"
    rules.write_text(THREE_RULES, encoding="utf-8")
    configure(workdir, (
        f"  mail:\n    urls: ['{mail_url(smtp)}']\n    default: true\n"
        f"  hook:\n    urls: ['{hook.url('/now')}']\n    default: true\n"
        f"  daily:\n    urls: ['{hook.url('/daily')}']\n    default: true\n"
        "    digest: '0 8 * * *'"), rules=rules)
    article = {"id": "x1", "title": "Bomb blast in Aleppo",
               "text": "A bomb hit Aleppo on Monday; six people were killed in Aleppo."}
    replayed = watcher("replay", "--format", "jsonl", "-", stdin=json.dumps(article) + "\n")
    assert replayed.exit_code == 0, replayed.output
    assert len(new_matches(replayed)) == 3
    (mail,) = smtp.wait_for(1)
    (post,) = hook.wait_for(1)  # the replay has ended: nothing more is on its way
    assert mail.subject == post["title"] == "[CRITICAL] 3 rules: Bomb blast in Aleppo"
    for text in (mail.html, post["message"]):
        order = [text.index(title) for title in
                 ("Blasts in Aleppo", "Casualties in Aleppo", "Aleppo in the news")]
        assert order == sorted(order)
    assert watcher("deliveries", "flush").exit_code == 0  # the digest, held until 08:00
    assert hook.paths == ["/now", "/daily"]
    digest = hook.bodies[1]
    assert "3 alerts, 3 rules" in digest["title"]
    assert [d["status"] for d in deliveries()] == ["sent"] * 9
    assert len(smtp.messages) == 1


def documented_webhook_json() -> tuple[dict, dict]:
    """docs/alerts.md on watcher's own webhook: its example document and its JSON Schema."""
    text = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]
    (schema,) = [block for block in blocks if block.get("$id") == "urn:watcher:webhook:1"]
    (example,) = [block for block in blocks if block.get("kind") == "alert"]
    return example, schema


def test_the_documented_webhook_example_validates_against_the_documented_schema():
    example, schema = documented_webhook_json()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(example)
    with pytest.raises(jsonschema.ValidationError):  # the schema does check what it says
        jsonschema.Draft202012Validator(schema).validate({**example, "severity": "urgent"})
    (place,) = example["places"]
    for wrong in ({**place, "latitude": "36.2"}, {**place, "parents": ["Syria"]}):
        with pytest.raises(jsonschema.ValidationError):  # places are checked too (issue 18)
            jsonschema.Draft202012Validator(schema).validate({**example, "places": [wrong]})


def test_a_watcher_webhook_posts_json_that_validates_against_the_documented_schema(
    workdir, hook
):
    """One document for the article, its rules most severe first, with the id, spans and
    story a program needs; the same `id` as the Idempotency-Key; the test message too."""
    rules = workdir / "three.yaml"
    rules.write_text(THREE_RULES, encoding="utf-8")
    url = f"watcher://127.0.0.1:{hook.port}/watcher?+X-Token=T0k3nT0k3n"
    configure(workdir, f"  siem:\n    urls: ['{url}']\n    default: true", rules=rules)
    article = {"id": "x1", "title": "Bomb blast in Aleppo", "source": "outlet-a",
               "url": "https://example.org/x1",
               "text": "A bomb hit Aleppo on Monday; six people were killed in Aleppo."}
    replayed = watcher("replay", "--format", "jsonl", "-", stdin=json.dumps(article) + "\n")
    assert replayed.exit_code == 0, replayed.output
    matches = new_matches(replayed)
    assert watcher("notify", "test", "siem").exit_code == 0
    validator = jsonschema.Draft202012Validator(
        documented_webhook_json()[1], format_checker=jsonschema.FormatChecker())
    document, test = hook.bodies  # both commands have ended: nothing more is on its way
    for body in (document, test):
        validator.validate(body)
    assert [h["idempotency-key"] for h in hook.headers] == [document["id"], test["id"]]
    assert {h["x-token"] for h in hook.headers} == {"T0k3nT0k3n"}
    assert hook.paths == ["/watcher", "/watcher"]
    assert document["id"].startswith("watcher-alerts-") and test["kind"] == "test"
    assert document["severity"] == "critical"
    assert [r["id"] for r in document["rules"]] == [
        "aleppo-blast", "aleppo-casualties", "aleppo-mention"]
    assert document["article"] == {"id": "x1", "title": "Bomb blast in Aleppo",
                                   "url": "https://example.org/x1", "source": "outlet-a",
                                   "published": None}
    assert document["story"]["outlets"] == ["outlet-a"]
    assert isinstance(document["story"]["id"], int)
    spans = {tuple(span) for m in matches for span in m["spans"]}
    assert {tuple(span) for span in document["spans"]} == spans
    assert document["context"] == [] and all("held" not in r for r in document["rules"])
    (aleppo,) = document["places"]  # issue 18: where, with coordinates and parents
    assert (aleppo["id"], aleppo["name"], aleppo["kind"]) == ("geonames:170063", "Aleppo", "city")
    assert aleppo["latitude"] == pytest.approx(36.2, abs=0.1)
    assert aleppo["longitude"] == pytest.approx(37.16, abs=0.1)
    assert [p["name"] for p in aleppo["parents"]] == [
        "Mount Simeon District", "Aleppo Governorate", "Syria"]
    assert all(rule["places"] == [aleppo] for rule in document["rules"])


def test_a_digest_channel_cannot_have_a_watcher_webhook(workdir, hook):
    configure(workdir, f"  siem:\n    urls: ['watcher://127.0.0.1:{hook.port}/w']\n"
                       "    default: true\n    digest: 1h")
    result = watcher("deliveries", "flush")
    assert result.exit_code == 2
    assert ("channel siem: URL #1 is a watcher webhook, which takes one message per article, "
            "not a digest") in result.stderr


def test_a_digest_channel_gets_one_message_for_all_its_alerts(workdir, hook):
    configure(workdir, f"  daily:\n    urls: ['{hook.url()}']\n    default: true\n"
                       "    digest: '0 8 * * *'")
    alerts = new_matches(watcher("replay", "--format", "jsonl", str(SEEDS)))
    assert len(alerts) > 2
    assert hook.bodies == []  # the replay has ended without sending: held until 08:00 UTC
    assert watcher("deliveries", "flush").exit_code == 0
    (digest,) = hook.wait_for(1)
    assert f"{len(alerts)} alerts" in digest["title"]
    titles = {rule.id: rule.title for rule in load_rules(RULES).rules}
    for rule in {a["rule"] for a in alerts}:
        assert titles[rule] in digest["message"]  # grouped under the rule's title
    assert {d["status"] for d in deliveries()} == {"sent"}


def test_a_failed_digest_counts_every_alert_it_held(workdir, hook):
    configure(workdir, f"  daily:\n    urls: ['{hook.url()}']\n    default: true\n"
                       "    digest: '0 8 * * *'")
    alerts = new_matches(watcher("replay", "--format", "jsonl", str(SEEDS)))
    hook.answer(500)
    flushed = watcher("deliveries", "flush")
    assert flushed.exit_code == 1
    assert f"watcher: not delivered ({len(alerts)} alerts): daily: " in flushed.stderr
    assert f"retrying {len(alerts)}" in flushed.stderr


def test_cooldown_holds_back_a_second_story_of_the_same_rule(workdir, hook):
    rules = workdir / "rules.yaml"
    rules.write_text("""
rules:
  - id: aleppo-blast
    title: Blasts in Aleppo
    query: (blast OR bomb) NEAR/10 ~Aleppo
    cooldown: 1h
""", encoding="utf-8")
    configure(workdir, f"  hook:\n    urls: ['{hook.url()}']\n    default: true", rules=rules)
    stories = [
        {"id": "s1", "title": "Bomb blast in Aleppo", "text": "A car bomb went off in Aleppo."},
        {"id": "s2", "title": "Market", "text": "Residents of Aleppo reported a blast near "
                                                "the old souk, the second this week."},
    ]
    for story in stories:
        result = watcher("replay", "--format", "jsonl", "-", stdin=json.dumps(story) + "\n")
        assert [m["article"] for m in new_matches(result)] == [story["id"]]
    assert [d["article"] for d in deliveries()] == ["s1"]
    assert len(hook.wait_for(1)) == 1


def test_notify_test_reports_delivery_and_failure(workdir, smtp):
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']", notify="  timeout: 5s")
    ok = watcher("notify", "test", "ops")
    assert ok.exit_code == 0, ok.output
    assert "test" in smtp.wait_for(1)[0].subject.lower()
    smtp.stop()
    down = watcher("notify", "test", "ops")
    assert down.exit_code == 1
    assert "not delivered" in down.stderr
    unknown = watcher("notify", "test", "nope")
    assert unknown.exit_code == 1  # not delivered, as interfaces.md says
    assert "no channel 'nope' (channels: ops)" in unknown.stderr


def test_secrets_never_appear_in_output_or_logs(workdir, smtp, hook):
    secret_hook = hook.url(f"/hooks/{TOKEN}")
    configure(workdir, (f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true\n"
                        f"  chat:\n    urls: ['{secret_hook}']\n    default: true"),
              notify="  timeout: 5s\n  max_attempts: 2")
    smtp.stop()
    hook.answer(500)
    outputs = [watcher("replay", str(SEEDS)), watcher("deliveries"),
               watcher("deliveries", "--format", "jsonl"), watcher("notify", "test", "ops"),
               watcher("notify", "test", "chat"), watcher("deliveries", "flush")]
    smtp.start()
    hook.answer(200)
    outputs += [watcher("notify", "test", "ops"), watcher("notify", "test", "chat"),
                watcher("run", "--once")]
    captured = "\n".join(r.stdout + r.stderr for r in outputs)
    assert "refused" in captured and "500" in captured  # the errors are there...
    assert PASSWORD not in captured and TOKEN not in captured  # ...the secrets are not
    assert "****" in captured


def start_stalled_replay(workdir: Path, stalled: StallingServer) -> WatcherProcess:
    """`watcher replay` of the seeds to a mail server that never answers, once it holds
    its first claims (4 of them, under an hour's lease) and is stuck sending them (a
    sender connects only once its claims are written)."""
    wedged = f"mailto://alerts:{PASSWORD}@127.0.0.1:{stalled.port}" \
             "?to=ops@example.org&from=watcher@example.org"
    configure(workdir, f"  ops:\n    urls: ['{wedged}']\n    default: true",
              notify="  timeout: 60s\n  lease: 1h\n  concurrency: 1")
    replay = start_watcher("replay", str(SEEDS), cwd=workdir)
    try:
        stalled.wait_connected(1)
        assert _leased(workdir / "watcher.db", by=replay.pid) > 0
    except BaseException:
        replay.kill()
        replay.communicate()
        raise
    return replay


def test_a_sender_killed_mid_send_delivers_after_restart_once(workdir, smtp):
    """SIGKILL after the matches are stored and while their alerts are being sent: the
    next run sees the sender's process is gone and sends every alert at once, each once,
    without waiting out the hour's lease."""
    with StallingServer() as stalled:
        replay = start_stalled_replay(workdir, stalled)
        os.kill(replay.pid, signal.SIGKILL)
        replay.communicate()
    stored = _messages(workdir / "watcher.db")
    assert stored > 0 and smtp.messages == []
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true",
              notify="  lease: 1h")
    assert watcher("run", "--once").exit_code == 0
    assert len(smtp.wait_for(stored)) == stored
    assert watcher("run", "--once").exit_code == 0
    assert len(smtp.messages) == stored  # the second run has ended: it sent nothing more
    assert {d["status"] for d in deliveries()} == {"sent"}


@pytest.mark.parametrize("command", ["replay", "run"])
def test_ctrl_c_twice_stops_a_sender_stuck_on_a_silent_channel_and_loses_nothing(
    workdir, smtp, command
):
    """The first Ctrl-C waits for the sends in hand, which a silent server holds up to
    `notify.timeout` (60 s here); the second exits at once with 130 and one line. The
    alerts stay pending and the next run sends each once. `run` stuck the same way: its
    first Ctrl-C is its clean stop, which waits for the sends in hand too."""
    with StallingServer() as stalled:
        sender = start_stalled_replay(workdir, stalled)
        if command == "run":  # the replay dies; a daemon takes its claims and gets stuck
            os.kill(sender.pid, signal.SIGKILL)
            sender.communicate()
            earlier = stalled.connected
            sender = start_watcher("run", cwd=workdir)
            stalled.wait_connected(earlier + 1)  # sending, so it has claimed
            assert _leased(workdir / "watcher.db", by=sender.pid) > 0
        err = _interrupt_until_it_exits(sender)
    assert sender.returncode == EXIT_INTERRUPTED, err
    assert err.splitlines()[-1] == STOPPED_AT_ONCE
    stored = _messages(workdir / "watcher.db")
    assert stored > 0 and smtp.messages == []
    configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true")
    assert watcher("run", "--once").exit_code == 0
    assert len(smtp.messages) == stored  # the run has ended: nothing more is on its way
    assert {d["status"] for d in deliveries()} == {"sent"}


def _interrupt_until_it_exits(process: WatcherProcess) -> str:
    """Ctrl-C, and again every 2 s (a second signal may land before the first is handled,
    and then counts once), until the process exits, for up to PATIENCE; its stderr. The
    2 s only space the signals: the process's exit ends the wait, whenever it comes."""
    try:
        for _ in range(int(PATIENCE / 2)):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        process.kill()
        err = process.communicate()[1]
    return err


def test_flush_leaves_a_live_senders_deliveries_and_says_whose_until_it_dies(workdir, smtp):
    """A sender alive on this host keeps what it claimed: flush sends the rest and says in
    one line who holds how many until when. Once that sender is killed, flush sends them."""
    with StallingServer() as stalled:
        replay = start_stalled_replay(workdir, stalled)
        try:
            db = workdir / "watcher.db"
            held = _leased(db)
            stored = _count(db, "SELECT count(*) FROM deliveries")
            messages = _messages(db)
            not_held = _messages(db, "WHERE d.lease_owner IS NULL")
            until = _value(db, "SELECT max(lease_until) FROM deliveries")
            configure(workdir, f"  ops:\n    urls: ['{mail_url(smtp)}']\n    default: true")
            flushed = watcher("deliveries", "flush")
            assert flushed.exit_code == 1
            sent_meanwhile = len(smtp.messages)
        finally:
            os.kill(replay.pid, signal.SIGKILL)
            replay.communicate()
    assert 0 < held < stored
    assert sent_meanwhile == not_held  # not one of the live sender's
    [line] = [line for line in flushed.stderr.splitlines() if "held by" in line]
    assert line.startswith(f"watcher: {held} pending held by another sender's live lease: ")
    assert f" pid {replay.pid} ({held} until {until.replace(' ', 'T')[:19]}" in line  # UTC
    assert flushed.stderr.rstrip().endswith(f"pending now {held}")
    assert watcher("deliveries", "flush").exit_code == 0  # its pid is gone now
    assert len(smtp.wait_for(messages)) == messages
    assert {d["status"] for d in deliveries()} == {"sent"}


def test_a_kill_sends_again_only_the_alerts_in_flight_under_the_same_ids(workdir, hook):
    """SIGKILL while two sends are in progress (the webhook holds its replies to them) and
    three were answered: each answered send was recorded as it returned, so the next run
    sends again only the two in flight, with the `id` and `Idempotency-Key` they had, by
    which a receiver can drop them. (One message per article: the rules it matched.)"""
    configure(workdir, f"  hook:\n    urls: ['{hook.url()}']\n    default: true",
              notify="  timeout: 60s\n  concurrency: 2")
    db = workdir / "watcher.db"
    hook.hold(after=3)
    replay = start_watcher("--verbose", "replay", str(SEEDS), cwd=workdir)
    try:
        hook.wait_for(5)
        # `event=sent` is logged once a send is recorded: the three answered ones.
        replay.errors.wait_for("event=sent ", count=3)
        assert _messages(db, "WHERE d.status = 'sent'") == 3
    finally:
        os.kill(replay.pid, signal.SIGKILL)
        replay.communicate()
    in_flight = [body["id"] for body in hook.bodies[3:]]
    hook.release()
    stored = _messages(db)
    assert stored > 5
    assert watcher("run", "--once").exit_code == 0
    bodies = hook.bodies  # the run has ended: nothing more is on its way
    assert len(bodies) == stored + 2
    received = Counter(body["id"] for body in bodies)
    assert len(received) == stored
    assert sorted(i for i, times in received.items() if times > 1) == sorted(in_flight)
    assert max(received.values()) == 2
    assert all(h["idempotency-key"] == b["id"] for h, b in zip(hook.headers, bodies,
                                                                   strict=True))
    assert {d["status"] for d in deliveries()} == {"sent"}


def _count(db: Path, query: str) -> int:
    return int(_value(db, query))


def _messages(db: Path, where: str = "") -> int:
    """How many messages the deliveries (`where` picks, as `d`) make: one per article and
    channel."""
    return _count(db, "SELECT count(DISTINCT m.article_id || '/' || d.channel) FROM deliveries d"
                      f" JOIN matches m ON d.match_id = m.id {where}")


def _value(db: Path, query: str) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute(query).fetchone()[0]


def _leased(db: Path, *, by: int | None = None) -> int:
    """Deliveries under a claim (of process `by`, when given: an owner is host:pid@…)."""
    if not db.exists():
        return 0
    owner = "%" if by is None else f"%:{by}@%"
    try:
        return _count(db, f"SELECT count(*) FROM deliveries WHERE lease_owner LIKE '{owner}'")
    except sqlite3.OperationalError:  # the schema is still being created
        return 0


WIRE = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test wire</title><link>http://127.0.0.1/</link>
<item><guid isPermaLink="false">wire-1</guid><title>Siege tightens on Sheikh Maqsoud</title>
<link>http://127.0.0.1/a/1</link><description>Government forces imposed a siege on the
Sheikh Maqsoud district of Aleppo on Monday.</description></item>
</channel></rss>"""


def test_the_daemon_sends_on_its_own_timer_and_stops_cleanly(workdir, hook):
    with ScriptedServer() as feeds:
        feeds.route("/feed", Reply(200, WIRE))
        (workdir / "watcher.yaml").write_text(
            f"rules: {RULES}\nsources:\n  - name: wire\n    url: {feeds.url('/feed')}\n"
            "    every: 30s\n    first_poll: alert\n"
            f"channels:\n  hook:\n    urls: ['{hook.url()}']\n    default: true\n"
            "notify:\n  every: 1s\n", encoding="utf-8")
        daemon = start_watcher("run", cwd=workdir)
        try:
            # The one article's deliveries are stored together: one drain sends them all.
            drained = daemon.errors.wait_for("event=outbox_drained ")
            assert {d["status"] for d in deliveries()} == {"sent"}
        finally:
            [log] = stop_watchers([daemon])
    assert daemon.returncode == 0, log
    assert len(hook.bodies) == 1 and len(deliveries()) == 2  # two rules, one message
    assert f"sent={len(deliveries())} retrying=0 dead=0" in drained
    assert all("Sheikh Maqsoud" in body["message"] for body in hook.bodies)
