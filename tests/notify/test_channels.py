"""Channels against real servers on loopback: mail through SMTP, webhooks over HTTP.

Every failure must come back as a NotifyError with a readable reason and no secret in it.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from apprise.plugins.discord import NotifyDiscord
from apprise.plugins.guilded import NotifyGuilded
from apprise.plugins.matrix import NotifyMatrix
from apprise.plugins.slack import NotifySlack
from apprise.plugins.telegram import NotifyTelegram
from apprise.plugins.zulip import NotifyZulip
from click.testing import CliRunner

from tests.support.helpers import returns_within
from tests.support.http_server import closed_port
from tests.support.smtp_server import SmtpServer
from tests.support.webhook import RecordingServer, StallingServer, WebhookServer
from watcher.cli.main import cli
from watcher.errors import ConfigError, NotifyError
from watcher.model import Alert, Severity
from watcher.notify.channels import (
    Channel,
    Target,
    _reason,
    inert_mentions,
    mask_url,
    redact,
    send,
)
from watcher.notify.message import Message, Payload
from watcher.notify.render import Renderer

PASSWORD = "S3cret-Passw0rd"
TOKEN = "T0kenAbCdEf123456"
HTML = Message(
    subject="Shelling reported near Kharkiv", body="<p><b>Kharkiv</b></p>", format="html"
)
TEXT = Message(subject="Strike in Gaza", body="Air strike reported in Gaza City.", format="text")


def mail_url(port: int, password: str = PASSWORD) -> str:
    """Plain SMTP with login on a custom port: `mailto://` without `mode=` means no TLS at all."""
    return f"mailto://alice:{password}@127.0.0.1:{port}?to=ops@example.org&from=watcher@example.org"


def target(url: str) -> Target:
    return Channel.from_urls("ops", [url]).targets[0]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer("alice", PASSWORD) as server:
        yield server


def test_mail_arrives_through_smtp_with_login_subject_and_html_body(smtp: SmtpServer) -> None:
    mail_target = target(mail_url(smtp.port))
    assert mail_target.format == "html"

    send(mail_target, HTML)

    [mail] = smtp.wait_for(1)
    assert mail.login == "alice"
    assert mail.subject == HTML.subject
    assert (mail.sender, mail.to) == ("watcher@example.org", "ops@example.org")
    assert mail.html is not None and "<b>Kharkiv</b>" in mail.html
    assert mail.text is not None and "Kharkiv" in mail.text


def test_smtp_outage_is_a_clear_notify_error_and_recovery_delivers(smtp: SmtpServer) -> None:
    mail_target = target(mail_url(smtp.port))
    smtp.stop()

    with pytest.raises(NotifyError, match="Connection refused") as refused:
        send(mail_target, HTML)
    assert "\n" not in str(refused.value) and PASSWORD not in str(refused.value)

    smtp.start()
    send(mail_target, HTML)
    assert len(smtp.wait_for(1)) == 1


def test_wrong_password_is_refused_without_repeating_it(smtp: SmtpServer) -> None:
    with pytest.raises(NotifyError, match="535") as refused:
        send(target(mail_url(smtp.port, password="Wr0ngPassword")), TEXT)
    assert "Wr0ngPassword" not in str(refused.value)
    assert smtp.messages == []


def test_webhook_gets_title_and_message(hook: WebhookServer) -> None:
    webhook = target(hook.url(f"/hooks/{TOKEN}"))
    assert webhook.format == "text"

    send(webhook, TEXT)

    [body] = hook.wait_for(1)
    assert body["title"] == TEXT.subject
    assert body["message"] == TEXT.body
    assert body["type"] == "info"
    assert hook.paths == [f"/hooks/{TOKEN}"]


def test_webhook_500_is_a_notify_error_then_200_delivers(hook: WebhookServer) -> None:
    webhook = target(hook.url(f"/hooks/{TOKEN}"))
    hook.answer(500)
    with pytest.raises(NotifyError, match="500") as failed:
        send(webhook, TEXT)
    assert TOKEN not in str(failed.value)

    hook.answer(200)
    send(webhook, TEXT)
    assert len(hook.wait_for(2)) == 2


@pytest.mark.parametrize("scheme", ["mailto", "json"])
def test_a_server_that_accepts_and_stalls_fails_the_send_at_notify_timeout(
    scheme: str, workdir: Path
) -> None:
    """`notify.timeout` ends the send, not apprise's own limits: the URL sets those to an
    hour (`cto`, `rto`), so a send that ignored the setting would hang until apprise's
    60 s per service. The test allows 30 s: thirty times the 1 s set, half the hang."""
    with StallingServer() as stall:
        url = mail_url(stall.port) if scheme == "mailto" else f"json://127.0.0.1:{stall.port}/x?"
        (workdir / "watcher.yaml").write_text(
            f"channels:\n  ops:\n    urls: ['{url}&cto=3600&rto=3600']\n"
            "notify:\n  timeout: 1s\n", encoding="utf-8")
        tested = returns_within(30, lambda: CliRunner().invoke(
            cli, ["notify", "test", "ops"], catch_exceptions=False), "`watcher notify test`")
        assert stall.connected == 1  # it reached the server, which never answered
    assert tested.exit_code == 1
    [line] = tested.stderr.splitlines()
    assert line.startswith(f"watcher: ops: not delivered: {scheme}://")
    # Whichever 1 s limit comes first, the socket's ("timed out") or apprise's for the
    # whole call ("did not finish within"), the reason says so.
    assert re.search("timed out|did not finish within", line), line
    assert PASSWORD not in line


def test_mask_url_and_target_never_show_password_or_token(hook: WebhookServer) -> None:
    mail = target(mail_url(2525))
    webhook = target(hook.url(f"/hooks/{TOKEN}"))

    for shown in (mask_url(mail_url(2525)), repr(mail), str(mail), repr(Channel("ops", (mail,)))):
        assert PASSWORD not in shown and "alice:****@127.0.0.1:2525" in shown
    for shown in (mask_url(hook.url(f"/hooks/{TOKEN}")), repr(webhook), str(webhook)):
        assert TOKEN not in shown and f"json://127.0.0.1:{hook.port}/hooks/****" in shown
    assert mask_url(f"bogus://alice:{PASSWORD}@host/x") == "bogus://****"
    assert mask_url("not a url") == "unknown://****"


def test_target_key_is_a_stable_fingerprint_of_the_url() -> None:
    first, again, other = (target(mail_url(port)) for port in (2525, 2525, 2526))
    assert first.key == again.key != other.key
    assert len(first.key) == 16 and PASSWORD not in first.key


def test_an_unknown_scheme_is_a_config_error_naming_only_the_scheme() -> None:
    urls = [mail_url(2525), f"bogus://alice:{PASSWORD}@host/{TOKEN}"]
    with pytest.raises(ConfigError) as bad:
        Channel.from_urls("ops", urls)
    assert str(bad.value) == (
        "channel ops: URL #2 is not a URL apprise can send to (scheme 'bogus'): "
        "Unparseable URL bogus://****"
    )


def test_a_rejected_url_with_short_tokens_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as bad:
        Channel.from_urls("ops", ["slack://S3cr/Tk"])
    assert "S3cr" not in str(bad.value) and "Tk" not in str(bad.value)
    assert str(bad.value).endswith("Could not load Slack URL: slack://****")


def test_header_values_are_masked_whatever_their_length() -> None:
    assert "k3y" not in mask_url("json://127.0.0.1:9/x?+X-Key=k3y")


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        (
            "login alice:pw123456 failed",
            "mailto://alice:pw123456@mx.example.org",
            "login alice:**** failed",
        ),
        (
            "sent to mailto://bob:hunter2@mx",
            "json://x.example.org/a",
            "sent to mailto://bob:****@mx",
        ),
        (f"POST /hooks/{TOKEN} 500", f"json://example.org/hooks/{TOKEN}", "POST /hooks/**** 500"),
        ("key=abcdef1234 and abc", "json://example.org/x?key=abcdef1234&n=abc", "key=**** and abc"),
        ("p%40ss%2Fword and p@ss/word", "mailto://u:p%40ss%2Fword@mx.example.org", "**** and ****"),
        (f"to {TOKEN[:8]}", f"discord://{TOKEN[:8]}/x", "to ****"),
        ("mx.example.org refused", "mailto://u:pass1234@mx.example.org", "mx.example.org refused"),
        ("short /x/abc kept", "json://example.org/x/abc", "short /x/abc kept"),
    ],
)
def test_redact(text: str, url: str, expected: str) -> None:
    assert redact(text, url) == expected


def test_no_log_line_or_output_carries_a_secret(
    smtp: SmtpServer,
    hook: WebhookServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mask_url(mail_url(smtp.port))  # channels sets apprise's logger up on first use
    caplog.set_level(logging.DEBUG)
    caplog.set_level(1, logger="apprise")  # TRACE too: where apprise writes URLs unmasked
    seen: list[str] = []
    everything = _ListHandler(seen)
    apprise_log = logging.getLogger("apprise")
    apprise_log.addHandler(everything)  # whatever apprise emits, at any level
    try:
        _send_and_fail_both_ways(smtp, hook)
    finally:
        apprise_log.removeHandler(everything)

    captured = capsys.readouterr()
    for output in (caplog.text, "\n".join(seen), captured.out, captured.err):
        assert PASSWORD not in output
        assert TOKEN not in output
    assert any("Sent Email" in line for line in seen)  # apprise did talk, and was heard


def _send_and_fail_both_ways(smtp: SmtpServer, hook: WebhookServer) -> None:
    mail, webhook = target(mail_url(smtp.port)), target(hook.url(f"/hooks/{TOKEN}"))
    send(mail, HTML)
    send(webhook, TEXT)
    hook.answer(500)
    smtp.stop()
    for failing in (mail, webhook):
        with pytest.raises(NotifyError):
            send(failing, TEXT)
    with pytest.raises(ConfigError):
        Channel.from_urls("ops", [f"bogus://alice:{PASSWORD}@host/{TOKEN}"])


def test_eight_threads_send_at_once_and_each_gets_its_own_outcome(smtp: SmtpServer) -> None:
    mail = target(mail_url(smtp.port))
    down = target(f"json://127.0.0.1:{closed_port()}/hooks/{TOKEN}")

    def attempt(index: int) -> str:
        message = Message(subject=f"alert {index}", body="body", format="text")
        try:
            send(mail if index % 2 else down, message, timeout=5.0)
        except NotifyError as error:
            return str(error)
        return "sent"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))

    assert outcomes[1::2] == ["sent"] * 4
    assert all("JSON" in outcome and "refused" in outcome for outcome in outcomes[::2])
    assert sorted(mail.subject for mail in smtp.wait_for(4)) == [f"alert {i}" for i in (1, 3, 5, 7)]


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(level=1)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_long_failure_reason_is_cut_between_words_and_keeps_its_cause():
    words = [f"part{n}" for n in range(200)]  # apprise's warning, then the cause at its end
    reason = _reason([(logging.WARNING, " ".join(words))])
    head, tail = reason.split(" … ")
    assert len(reason) <= 300
    assert head.split() == words[: len(head.split())]  # no word cut in two
    assert tail.split() == words[-len(tail.split()) :]


def test_mails_sent_at_once_each_carry_their_own_message_id_once(smtp: SmtpServer) -> None:
    """The identity reaches apprise's worker threads per send, never another send's; a
    send without one (the test message) keeps apprise's own Message-ID."""
    mail = target(mail_url(smtp.port))

    def attempt(index: int) -> None:
        message = Message(subject=f"alert {index}", body="body", format="text")
        send(mail, message, timeout=5.0, identity=f"watcher-delivery-{index}-feed" if index
             else None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(attempt, range(6)))

    ids = {mail.subject: mail.message_id for mail in smtp.wait_for(6)}
    assert {subject: ids[subject] for subject in ids if subject != "alert 0"} == {
        f"alert {i}": f"<watcher-delivery-{i}-feed@127.0.0.1>" for i in range(1, 6)}
    assert ids["alert 0"].startswith("<") and "watcher" not in ids["alert 0"]
    assert "," not in ids["alert 0"]


def test_a_webhook_url_naming_its_own_key_or_id_keeps_them(hook: WebhookServer) -> None:
    send(target(hook.url("/hook?+Idempotency-Key=mine&:id=theirs")), TEXT, identity="ours")
    send(target(hook.url()), TEXT, identity="ours")
    # written in another case, they are still the URL's own (header names know no case)
    send(target(hook.url("/hook?+idempotency-key=mine&:ID=theirs")), TEXT, identity="ours")
    first, second, third = hook.wait_for(3)
    assert (first["id"], hook.headers[0]["idempotency-key"]) == ("theirs", "mine")
    assert (second["id"], hook.headers[1]["idempotency-key"]) == ("ours", "ours")
    assert (third.get("ID"), hook.headers[2]["idempotency-key"]) == ("theirs", "mine")
    assert "id" not in third


# --- what each documented service receives -------------------------------------------------
#
# Each test renders a hostile alert for the target's format and sends it through apprise's
# own plugin to a RecordingServer on loopback; only the plugin's API base URL is pointed
# there (the https hosts are class attributes). The asserts read the bytes that arrived.

PHISH = "[click here](http://evil.example/phish)"
HOSTILE = Alert(
    delivery_id=1,
    rule_id="siege",
    rule_title="Siege",
    severity=Severity.HIGH,
    query="siege",
    article_title=f'{PHISH} @everyone <@123> <a href="http://evil.example/">x</a>',
    source="Wire @here <!channel>",
    url="https://example.org/a) [x](http://evil.example/2",
    published=datetime(2026, 1, 15, 14, 3, tzinfo=UTC),
    snippet=r"The [siege] \[click here\](http://evil.example/phish) <@&42> @room *b* <!channel>",
    other_outlets=(),
    matched_at=datetime(2026, 1, 15, 14, 3, tzinfo=UTC),
)
RENDERER = Renderer()
ZWSP = "\u200b"
MATRIX_ROUTES = {
    "/_matrix/client/v3/login": b'{"access_token": "abc", "user_id": "@w:localhost"}',
    "/_matrix/client/v3/join/": b'{"room_id": "!room:localhost"}',
    "/_matrix/client/v3/rooms/": b'{"event_id": "$1"}',
}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    """Discord, Guilded, Telegram, Slack and Zulip's API hosts, and a Matrix home server
    and a Mattermost server (their hosts are the URL's), on one loopback."""
    routes = {"/services/": b"ok", "/bot": b'{"ok": true, "result": {}}', **MATRIX_ROUTES}
    with RecordingServer(routes) as server:
        monkeypatch.setattr(NotifyDiscord, "notify_url", f"{server.base}/api/webhooks")
        monkeypatch.setattr(NotifyGuilded, "notify_url", f"{server.base}/guilded/webhooks")
        monkeypatch.setattr(NotifyZulip, "notify_url", f"{server.base}/api/v1/messages")
        monkeypatch.setattr(NotifyTelegram, "notify_url", f"{server.base}/bot")
        monkeypatch.setattr(NotifySlack, "webhook_url", f"{server.base}/services")
        monkeypatch.setattr(NotifyMatrix, "request_rate_per_sec", 0)  # its 0.5 s between calls
        yield server


def deliver(url: str, alert: Alert = HOSTILE) -> Target:
    chosen = target(url)
    send(chosen, RENDERER.render_alert(alert, chosen.format), timeout=5)
    return chosen


def test_discord_gets_escaped_markdown_and_no_live_link_or_mention(api: RecordingServer) -> None:
    assert deliver("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js").format == "markdown"

    [posted] = api.sent_to("/api/webhooks/4174216298/")
    content = posted.json()["content"]
    assert PHISH not in content and "](http://evil" not in content
    assert r"\[click here\]\(http://evil\.example/phish\)" in content  # shown, as text
    assert "@everyone" not in content and f"@{ZWSP}everyone" in content
    assert "<@123>" not in content and "@here" not in content and "<@&42>" not in content
    assert r"\<a href" in content and "\\\\" not in content  # escaped once, not twice
    # The one live link is the article's, its `)` and spaces encoded so it ends where it should
    assert content.count("](") == 1
    assert "](https://example.org/a%29%20[x]%28http://evil.example/2)" in content
    assert "**siege**" in content


def test_a_discord_url_forced_to_text_still_gets_markdown_escaped(api: RecordingServer) -> None:
    deliver("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js?format=text")

    content = api.sent_to("/api/webhooks/")[0].json()["content"]
    assert PHISH not in content and r"\[click here\]" in content
    assert "@everyone" not in content


def test_a_discord_alert_over_its_2000_characters_arrives_in_parts(api: RecordingServer) -> None:
    outlets = tuple(f"Outlet {n} " + "x" * 90 for n in range(5))
    long = replace(HOSTILE, article_title="Shelling " * 40, snippet="[siege] " + "goes on " * 300,
                   other_outlets=outlets)
    deliver("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", long)

    parts = [posted.json()["content"] for posted in api.sent_to("/api/webhooks/")]
    assert len(parts) > 1 and all(len(part) <= 2000 for part in parts)  # Discord's limit
    assert "**siege**" in "".join(parts) and "Rule query: siege" in parts[-1]


TRACKER = "![](http://tracker.example/pixel.gif)"
ZULIP_PINGS = "@**all** @**everyone** @**stream** @**topic** @*ops*"
MARKDOWN_CHAT = replace(HOSTILE, source=f"@here {ZULIP_PINGS} {TRACKER}")  # within SOURCE_MAX


def test_mattermost_gets_escaped_markdown_and_no_live_link_or_mention(
    api: RecordingServer,
) -> None:
    """Mattermost renders every post as Markdown, though apprise calls what it sends text."""
    chosen = deliver(f"mmost://127.0.0.1:{api.port}/yobjmukpaw3r3urc5h6i369yima", MARKDOWN_CHAT)
    assert chosen.format == "markdown"

    [posted] = api.sent_to("/hooks/yobjmukpaw3r3urc5h6i369yima")
    text = posted.json()["text"]
    subject_line = text.split("\r\n")[0]  # apprise puts the title on the first line
    assert subject_line.startswith(r"\[HIGH\] Siege: \[click here\]\(http://evil\.example")
    assert PHISH not in text and "](http://evil" not in text and "![](" not in text
    assert r"\!\[\]\(http://tracker\.example/pixel\.gif\)" in text  # shown, as text
    assert "@everyone" not in text and "@here" not in text and f"@{ZWSP}here" in text
    assert "**siege**" in text and text.count("](") == 1  # the article's own link


def test_zulip_gets_escaped_markdown_and_no_wildcard_mention(api: RecordingServer) -> None:
    """Zulip renders message content as Markdown; `@**all**` and `@*group*` ping."""
    chosen = deliver("zulip://watcher@example/abcdefghijklmnopqrstuvwxyz123456/alerts",
                     MARKDOWN_CHAT)
    assert chosen.format == "markdown"

    [posted] = api.sent_to("/api/v1/messages")
    form = {key: values[0] for key, values in parse_qs(posted.body.decode()).items()}
    content = form["content"]
    assert PHISH not in content and "](http://evil" not in content and "![](" not in content
    assert r"\[click here\]\(http://evil\.example/phish\)" in content
    for ping in ZULIP_PINGS.split():
        assert ping not in content and ping.replace("*", r"\*") not in content
    assert f"@{ZWSP}\\*\\*all\\*\\*" in content and f"@{ZWSP}\\*ops\\*" in content
    assert "**siege**" in content
    # The topic is plain text in Zulip: no escapes to show there
    assert form["topic"].startswith("[HIGH] Siege: [click here](http://evil.example")


def test_guilded_gets_escaped_markdown_as_discord_does(api: RecordingServer) -> None:
    assert deliver("guilded://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js").format == "markdown"

    raw = api.sent_to("/guilded/webhooks/4174216298/")[0].body.decode()
    assert PHISH not in raw and r"\\[click here\\]" in raw  # a backslash, in JSON
    assert "@everyone" not in raw and "<@123>" not in raw


@pytest.mark.parametrize(
    "url", ["revolt://bottoken1234/channel1234?format=text", "ryver://myorg/abcdefghijk1234"]
)
def test_other_chats_rendering_markdown_get_it_escaped(url: str) -> None:
    """Revolt's message content and Ryver's body are Markdown, title included, even where
    apprise sends them text."""
    assert target(url).format == "markdown"


def test_telegram_gets_html_with_the_subject_escaped_too(api: RecordingServer) -> None:
    assert deliver("tgram://123456789:abcdefghij_klmnop/12345/").format == "html"

    [posted] = api.sent_to("/bot123456789:abcdefghij_klmnop/sendMessage")
    message = posted.json()
    assert message["parse_mode"] == "HTML"
    subject_line = message["text"].split("\r\n")[0]
    assert subject_line.startswith("<b>[HIGH] Siege: [click here]")
    assert "<a" not in subject_line and "&lt;@" in subject_line
    text = message["text"]
    assert '<a href="http://evil' not in text and '&lt;a href="http://evil' in text
    assert message["text"].count("<a href=") == 1  # the article's own link
    assert "<b>siege</b>" in message["text"] and "@everyone" not in message["text"]


def test_slack_gets_mrkdwn_with_no_anchor_or_broadcast(api: RecordingServer) -> None:
    deliver("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#alerts")

    [posted] = api.sent_to("/services/T1JJ3T3L2/")
    raw = posted.body.decode()
    assert "<!channel>" not in raw and "<@" not in raw and "<http://evil" not in raw
    assert "|click here" not in raw and "<a href" not in raw
    assert "*siege*" in posted.json()["attachments"][0]["text"]


def test_matrix_gets_plain_text_without_a_room_ping(api: RecordingServer) -> None:
    deliver(f"matrix://watcher:pass@127.0.0.1:{api.port}/#alerts")

    [event] = api.sent_to("/_matrix/client/v3/rooms/")
    content = event.json()
    assert content["msgtype"] == "m.text" and "formatted_body" not in content
    assert "@room" not in content["body"] and f"@{ZWSP}room" in content["body"]
    assert "[siege]" in content["body"]


def test_ntfy_gets_plain_text_with_mentions_inert(api: RecordingServer) -> None:
    deliver(f"ntfy://127.0.0.1:{api.port}/alerts")

    [posted] = api.sent_to("/")
    message = posted.json()
    assert message["title"].startswith(f"[HIGH] Siege: {PHISH} @{ZWSP}everyone")
    assert "@everyone" not in message["message"] and "[siege]" in message["message"]


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_teams_gets_escaped_markdown_in_its_card_title_and_text(tmp_path: Path) -> None:
    with RecordingServer(tls=tmp_path) as teams:
        deliver(f"workflows://127.0.0.1:{teams.port}/flow/signature?verify=no")
        [posted] = teams.sent_to("/workflows/flow/triggers/manual/paths/invoke")

    blocks = posted.json()["attachments"][0]["content"]["body"]
    texts = {block["id"]: block["text"] for block in blocks if block["type"] == "TextBlock"}
    for text in texts.values():
        assert PHISH not in text and r"\[click here\]\(http://evil\.example/phish\)" in text
        assert "@everyone" not in text and re.search(r"(?<!\\)<a ", text) is None  # no live tag
    assert "**siege**" in texts["body"]


def test_a_json_webhook_gets_the_article_text_as_it_is(hook: WebhookServer) -> None:
    deliver(hook.url("/alerts"))

    [body] = hook.wait_for(1)
    assert body["title"].startswith(f"[HIGH] Siege: {PHISH} @everyone")
    assert "<@&42> @room" in body["message"]


def test_mail_gets_the_article_escaped_in_html_and_a_plain_subject(smtp: SmtpServer) -> None:
    deliver(mail_url(smtp.port))

    [mail] = smtp.wait_for(1)
    assert mail.subject.startswith(f"[HIGH] Siege: {PHISH} @everyone")
    assert mail.html is not None and '<a href="http://evil' not in mail.html
    assert "&lt;a href=" in mail.html and "<b>siege</b>" in mail.html


def test_inert_mentions_leave_mail_addresses_and_plain_at_signs_alone() -> None:
    assert inert_mentions("ops@example.org @ 5 pm") == "ops@example.org @ 5 pm"
    assert inert_mentions("@here <#99> <!here>") == f"@{ZWSP}here <#{ZWSP}99> <!{ZWSP}here>"
    assert inert_mentions("x@everyone http://@here") == f"x@{ZWSP}everyone http://@{ZWSP}here"
    assert inert_mentions(r"@**all** @*ops* @_**Ann** (@\*\*topic\*\*)") == (
        rf"@{ZWSP}**all** @{ZWSP}*ops* @{ZWSP}_**Ann** (@{ZWSP}\*\*topic\*\*)"
    )
    link = '<a href="https://medium.com/@author/post">'
    assert inert_mentions(f"{link} [a](https://medium.com/@author)") == (
        f"{link} [a](https://medium.com/@author)"  # a link keeps working
    )


# watcher's own JSON webhook (watcher://, watchers://): posted by watcher, not apprise


def watcher_url(port: int, path: str = f"/hooks/{TOKEN}") -> str:
    return f"watcher://bob:{PASSWORD}@127.0.0.1:{port}{path}?+Authorization=Bearer%20{TOKEN}"


DOCUMENT = Payload({"version": 1, "kind": "test", "id": "watcher-test-1", "channel": "ops",
                    "message": "hello"})


def test_a_watcher_webhook_gets_the_document_with_its_headers(hook: WebhookServer) -> None:
    url = f"watcher://127.0.0.1:{hook.port}/hooks/{TOKEN}?+Authorization=Bearer%20{TOKEN}"
    send(target(url), DOCUMENT, identity="watcher-test-1")
    (body,) = hook.wait_for(1)
    assert body == DOCUMENT.document
    headers = hook.headers[0]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["idempotency-key"] == "watcher-test-1"
    assert headers["content-type"] == "application/json"
    assert hook.paths == [f"/hooks/{TOKEN}"]
    send(target(f"watcher://bob:{PASSWORD}@127.0.0.1:{hook.port}/x"), DOCUMENT)
    login = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    assert hook.headers[1]["authorization"] == f"Basic {login}"  # the URL's user: basic auth


def test_a_watcher_webhook_never_shows_its_secrets(hook: WebhookServer) -> None:
    url = watcher_url(hook.port)
    webhook = target(url)
    for shown in (webhook.masked, repr(webhook), mask_url(url)):
        assert PASSWORD not in shown and TOKEN not in shown
        assert f"watcher://bob:****@127.0.0.1:{hook.port}/hooks/****" in shown
    hook.answer(500)
    with pytest.raises(NotifyError, match="the webhook answered 500") as failed:
        send(webhook, DOCUMENT)
    assert hook.headers[0]["authorization"] == f"Bearer {TOKEN}"  # its own, not the user's
    refused = target(watcher_url(closed_port()))
    with pytest.raises(NotifyError, match="Connection refused") as unreachable:
        send(refused, DOCUMENT)
    for problem in (failed.value, unreachable.value):
        assert PASSWORD not in str(problem) and TOKEN not in str(problem)


def test_a_watcher_webhook_that_stalls_times_out() -> None:
    with StallingServer() as stall, pytest.raises(NotifyError, match="Timeout"):
        send(target(f"watcher://127.0.0.1:{stall.port}/x"), DOCUMENT, timeout=1.0)


def test_a_watcher_url_without_a_host_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        Channel.from_urls("siem", [f"watchers://:{TOKEN}@/x"])
    assert str(error.value) == ("channel siem: URL #1 is not a URL a watcher webhook can post "
                                "to (scheme 'watchers', no host)")


def test_a_watcher_webhook_takes_a_document_and_apprise_a_message(hook: WebhookServer) -> None:
    with pytest.raises(TypeError):
        send(target(watcher_url(hook.port)), TEXT)
    with pytest.raises(TypeError):
        send(target(hook.url()), DOCUMENT)
    assert hook.bodies == []
