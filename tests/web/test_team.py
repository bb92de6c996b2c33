"""A team of three works the demo data (the seeds replayed with the shipped rules) through
the browser: the analyst triages a story from the inbox and silences its rule from the
story page, the viewer sees what the analyst did and can change nothing, the admin reads
the audit log. Each in a browser context of their own, as three people would be."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.support.web import PASSWORD, Served
from watcher.store.inbox import Inbox, StoryFilter

RULE = "aleppo-kurdish-siege"


def _person(browser: Browser, served: Served, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(served.url + "/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    return page


def test_a_team_of_three_works_the_demo_data(browser: Browser, seeded: Served) -> None:
    (story, *_) = Inbox(seeded.store).stories(StoryFilter(rules=(RULE,))).stories
    analyst = _person(browser, seeded, "ana")

    # The analyst narrows the inbox to the rule and opens the story.
    analyst.get_by_label("Rule", exact=True).select_option(RULE)
    expect(analyst).to_have_url(re.compile(rf"rule={RULE}"))
    analyst.get_by_role("link", name=story.title).click()
    expect(analyst.get_by_role("heading", name=story.title)).to_be_visible()
    expect(analyst.locator("mark").first).to_be_visible()  # the matched words

    # Acknowledges it, takes it, says why; then silences the rule for 4 hours.
    triage = analyst.locator(f"#triage-{story.id}")
    triage.get_by_role("button", name="Acknowledge").click()
    expect(triage.locator(".status")).to_have_text("acknowledged")
    triage.get_by_label("Assign to").select_option("ana")
    triage.get_by_role("button", name="Assign").click()
    expect(triage.locator(".assignee")).to_have_text("ana")
    triage.get_by_label("Comment").fill("Checked with our office in Aleppo.")
    triage.get_by_role("button", name="Add comment").click()
    expect(triage.get_by_text("Checked with our office in Aleppo.")).to_be_visible()
    analyst.get_by_label(f"Why silence rule {RULE}?").fill("Covered by the morning brief")
    analyst.get_by_role("button", name=f"Silence rule {RULE} for 4h").click()
    # back on the story, at the new silence: the answer to the form, not the page before it
    expect(analyst).to_have_url(re.compile(rf"/stories/{story.id}#silence-\d+$"))

    # The viewer sees all of it and has no button to change it.
    viewer = _person(browser, seeded, "vic")
    row = viewer.get_by_role("row").filter(has_text=story.title)
    expect(row).to_contain_text("acknowledged")
    expect(row).to_contain_text("assigned to ana")
    expect(viewer.get_by_role("button", name="Acknowledge")).to_have_count(0)
    viewer.goto(f"{seeded.url}/silences")
    expect(viewer.get_by_text("Covered by the morning brief")).to_be_visible()
    expect(viewer.get_by_role("button", name=re.compile("Expire"))).to_have_count(0)

    # The admin reads every action in the audit log, newest first, with who did it.
    admin = _person(browser, seeded, "ada")
    admin.goto(f"{seeded.url}/audit")
    log = admin.get_by_role("table").first
    for action in ("silence.create", "story.comment", "story.assign", "story.acknowledge"):
        expect(log).to_contain_text(action)
    expect(log.get_by_role("row").nth(1)).to_contain_text("ana")
