"""A real browser (Debian's chromium, driven by Playwright) against `journeyfolio up` on a
fresh database: every page opens, a scenario is created, run and compared with the plan.
A screenshot of each page is saved under the test's temporary folder (screenshots/).

Browsers are never downloaded: the test uses the system's chromium and fails (never skips)
when it is missing.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.frontend.support import Up, start_up

CHROMIUM = Path(os.environ.get("JOURNEYFOLIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTH = 1400
STEP_TIMEOUT_MS = 60_000
"""How long one step may wait for the page (Streamlit renders after the script has run)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    database = tmp_path_factory.mktemp("browser") / "journeyfolio.db"
    up = start_up(f"sqlite:///{database}")
    yield up
    assert up.stop() == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"chromium is missing at {CHROMIUM}: install it with `apt-get install chromium` "
            "(Debian), or point JOURNEYFOLIO_CHROMIUM at it. Browsers are not downloaded.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def snapshot(page: Page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to it."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": min(int(height) + 40, 12_000)})
    page.wait_for_timeout(400)  # let the charts take the new size
    page.screenshot(path=path)
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def open_page(page: Page, name: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def metric(page: Page, label: str) -> Locator:
    return page.get_by_test_id("stMetric").filter(has_text=label)


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Streamlit select box."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.slow
def test_a_new_user_walks_through_every_page(server: Up, browser: Browser, tmp_path: Path) -> None:
    started = time.monotonic()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    page.set_default_timeout(STEP_TIMEOUT_MS)
    expect.set_options(timeout=STEP_TIMEOUT_MS)

    # Portfolio: what the journeys are worth, what the silos cost, what pooling, then +10 %, buys.
    page.goto(server.app_url)
    expect(page.get_by_role("heading", name="Finanzhaus 2027")).to_be_visible()
    choose(page, "Portfolio", "Sonnenreisen 2027 (2027)")
    expect(page.get_by_role("heading", name="Sonnenreisen 2027")).to_be_visible()
    expect(metric(page, "Price of silos")).to_be_visible()
    expect(page.get_by_text("What would pooling, then 10 % more budget, buy?")).to_be_visible()
    expect(page.get_by_role("heading", name="Journey portfolio")).to_be_visible()
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
    snapshot(page, shots / "1-portfolio.png")

    open_page(page, "Journeys", "Journey map")
    expect(page.get_by_role("heading", name="Family books a beach holiday")).to_be_visible()
    expect(page.get_by_role("heading", name="Journey P&L")).to_be_visible()
    expect(page.get_by_role("button", name="Save changes")).to_be_visible()
    snapshot(page, shots / "2-journey.png")

    open_page(page, "Touchpoints", "Sharing matrix")
    expect(page.get_by_role("heading", name="Response curves")).to_be_visible()
    expect(page.get_by_text("serve more than one journey")).to_be_visible()
    snapshot(page, shots / "3-touchpoints.png")

    open_page(page, "Scenario planner", "Scenario planner")
    choose(page, "Scenario", "New scenario...")
    # Until Streamlit has rerun, the previous scenario's form is still on the page.
    expect(page.get_by_text("Change this scenario")).to_have_count(0)
    form = page.get_by_test_id("stExpander").filter(has_text="Create a scenario")
    form.get_by_label("Name", exact=True).fill("Pooled, plus ten percent")
    form.get_by_label("Total budget (EUR)", exact=True).fill("1980000")
    form.get_by_text("Pooled budget (ignore department caps)").click()
    form.get_by_role("button", name="Create scenario").click()
    expect(page.get_by_text("Created scenario “Pooled, plus ten percent”")).to_be_visible()
    page.get_by_role("button", name="Run this scenario").click()
    expect(page.get_by_text("Run finished: optimal")).to_be_visible()
    expect(metric(page, "Portfolio value")).to_be_visible()
    expect(page.get_by_role("button", name="Download XLSX")).to_be_visible()
    snapshot(page, shots / "4-scenario-planner.png")

    page.get_by_role("button", name="Compare with the plan").click()
    expect(page.get_by_role("heading", name="Compare scenarios")).to_be_visible()
    expect(page.get_by_role("heading", name="What changes against the first run")).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("As planned ·").first).to_be_visible()
    expect(main.get_by_text("Pooled, plus ten percent ·").first).to_be_visible()
    expect(metric(page, "Price of silos")).to_have_count(2)
    snapshot(page, shots / "5-compare.png")

    page.close()
    saved = sorted(p.name for p in shots.iterdir())
    assert saved == [
        "1-portfolio.png",
        "2-journey.png",
        "3-touchpoints.png",
        "4-scenario-planner.png",
        "5-compare.png",
    ]
    assert all((shots / name).stat().st_size > 20_000 for name in saved)
    print(f"\nbrowser walk: {time.monotonic() - started:.1f} s; screenshots in {shots}")
