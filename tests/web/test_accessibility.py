"""Every page of the workspace passes axe-core's WCAG 2 A and AA rules (labels, names,
contrast, landmarks, keyboard focus) in Chromium, at a desktop's and at a phone's width.

axe-core is injected by the test (tests/data/axe-core, SOURCE.txt); the page's own
Content-Security-Policy is bypassed for that alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.support.web import PASSWORD, Served

AXE = Path(__file__).resolve().parents[1] / "data" / "axe-core" / "axe.min.js"
PAGES = ["/signin", "/", "/map", "/audit", "/sources", "/silences", "/rules", "/workbench",
         "/users"]
WIDTHS = {"desktop": 1280, "phone": 360}
RUN_AXE = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}});
  return result.violations.map(
    v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target).join(", ")}`);
}"""


@pytest.fixture(params=list(WIDTHS))
def checked_page(
    request: pytest.FixtureRequest, browser: Browser, served: Served
) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True,
                                  viewport={"width": WIDTHS[request.param], "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(served.url + "/signin")
    page.get_by_label("Name").fill("ada")  # an admin sees every control there is
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(served.url + "/")
    yield page
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_the_page_has_no_wcag_a_or_aa_violations(checked_page: Page, served: Served,
                                                 path: str) -> None:
    checked_page.goto(served.url + path)
    checked_page.add_script_tag(path=AXE)
    assert checked_page.evaluate(RUN_AXE) == []
