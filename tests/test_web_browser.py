"""The web app against the lab, in a real browser: headless Chromium from Debian driven by
Playwright. A broken name shows its verdict, the fix and the graph; hostile strings from
DNS show as text and inject nothing; a check works with the keyboard alone. Screenshots
of result pages are kept in test-artifacts/."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import HOSTILE_LABEL, find_scenario
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.web.app import WebConfig, create_app
from web_support import CHROMIUM, CHROMIUM_ARGS, served

pytestmark = pytest.mark.lab

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def base_url(lab: LabProfile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = WebConfig(
        settings=lab_settings(lab, timeout=1.0, deadline=10.0),
        database=tmp_path_factory.mktemp("web") / "results.sqlite3",
        lab=True,
        rate_per_minute=600,
        rate_burst=100,
    )
    with served(create_app(config)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", record)
    yield opened
    context.close()
    assert not dialogs, f"a script ran: {dialogs}"


def test_broken_name_shows_verdict_fix_and_graph(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.fill("#name", "www.ds-bad-digest.lab")
    page.click("button[type=submit]")
    page.wait_for_url("**/results/**", timeout=20_000)
    verdict = page.locator(".verdict")
    assert "BOGUS" in verdict.inner_text()
    assert "does not match" in page.locator("#headline").inner_text()
    fix = page.locator("#fix")
    assert fix.is_visible()
    assert "registrar" in fix.inner_text()
    assert "ETA 7 min" in fix.inner_text()  # the path's ETA, from the lab's DS TTL
    assert fix.locator("li.step-wait").count() == 2  # the parent's publication, the DS TTL
    assert fix.locator("li.step-verify").count() == 1
    broken = page.locator("#chain svg g.edge.broken")
    assert broken.count() >= 1
    assert "DS_DIGEST_MISMATCH" in broken.first.text_content()  # type: ignore[operator]
    assert page.locator("#chain svg g.zone").count() == 3
    assert page.locator("#resolvers tbody tr").count() == 4  # the validating ones
    # The code depends on the resolvers' caches (a cached failure is EDE 6 or 9).
    assert "EDE " in page.locator("#resolvers").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "result-ds-bad-digest.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "result-ds-bad-digest-phone.png"), full_page=True)
    # Readable on a phone: nothing wider than the screen but the scrollable regions.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390


def test_the_link_shows_the_same_result_later(page: Page, base_url: str) -> None:
    page.goto(base_url + "/check?name=www.rrsig-expired.lab&type=A")
    permalink = page.locator("#permalink").input_value()
    first = page.locator(".verdict").inner_text()
    page.goto(permalink)
    assert page.locator(".verdict").inner_text() == first
    assert "RRSIG_EXPIRED" in page.locator("#cause").inner_text()


def test_hostile_strings_show_as_text(page: Page, base_url: str) -> None:
    scenario = find_scenario("hostile-strings")
    query = urllib.parse.urlencode({"name": scenario.query_name, "type": scenario.qtype})
    page.goto(f"{base_url}/check?{query}")
    assert "BOGUS" in page.locator(".verdict").inner_text()
    # Nothing from DNS became an element: the only script is ours, no img, b or i.
    scripts = page.evaluate("Array.from(document.scripts).map(s => s.src)")
    assert scripts == [base_url + "/static/app.js"]
    for tag in ("img", "b", "i", "iframe"):
        assert page.locator(tag).count() == 0, tag
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    text = page.locator("main").inner_text()
    assert HOSTILE_LABEL.replace("(", "\\(").replace(")", "\\)") in text
    assert "<img src=x onerror=alert(1)>" in page.locator("#cause").inner_text()
    assert "x" * 63 in text
    assert HOSTILE_LABEL.replace("(", "\\(")[:12] in page.locator("#chain svg").text_content()  # type: ignore[operator]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "result-hostile-strings.png"), full_page=True)


def test_a_check_with_the_keyboard_alone(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "name":
            break
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("www.rrsig-expired.lab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "type"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Check"
    page.keyboard.press("Enter")
    page.wait_for_url("**/results/**", timeout=20_000)
    assert "BOGUS" in page.locator(".verdict").inner_text()
    # The table of contents is reachable by keyboard and leads to the fix.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "#fix":
            break
    page.keyboard.press("Enter")
    assert page.url.endswith("#fix")
