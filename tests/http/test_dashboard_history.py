"""The dashboard's history in real headless Chromium: every screen width, the feed on load,
the timeline of a takeover, and the time control."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.http.browser import ARTIFACTS, WAIT_MS
from tests.http.server import Server

WIDTHS = [360, 900, 1500, 2560]
VIEWS = ["board", "timeline", "analytics"]


@dataclass(frozen=True)
class Takeover:
    """A task claimed by ``first``, taken over by force by ``second`` and released."""

    task: str
    first: str
    second: str
    before: int
    """The ledger position just before the takeover."""


@pytest.fixture(scope="module")
def history(server: Server) -> Takeover:
    """A busy ledger written through the API: long ids, claims, a forced takeover, a release."""
    with server.client() as client:
        for number in range(6):
            task = f"backlog-item-with-a-rather-long-identifier-{number}"
            client.post(
                "/api/tasks",
                json={"taskId": task, "title": "A title long enough to wrap " * 3, "roi": number},
            )
            if number % 2:
                client.post(f"/api/tasks/{task}/claim", json={"sessionId": f"agent-{number}"})
        return _takeover(client, "handed-over", "first-holder", "second-holder")


def _takeover(client: httpx.Client, task: str, first: str, second: str) -> Takeover:
    client.post("/api/tasks", json={"taskId": task, "title": "Handed over", "roi": 9})
    assert client.post(f"/api/tasks/{task}/claim", json={"sessionId": first}).status_code == 200
    before = client.get("/api/board").json()["position"]
    taken = client.post(
        f"/api/tasks/{task}/takeover",
        json={"sessionId": second, "force": True, "reason": "stuck on review", "forcedBy": "lead"},
    )
    assert taken.status_code == 200, taken.text
    client.post(f"/api/tasks/{task}/release", json={"sessionId": second, "reason": "completed"})
    return Takeover(task=task, first=first, second=second, before=before)


@pytest.fixture
def open_page(browser: Browser, server: Server) -> Iterator[Callable[[int, str], Page]]:
    """Opens the dashboard at a width and a view, once it follows the event stream."""
    opened: list[Page] = []

    def open_(width: int, view: str) -> Page:
        page = browser.new_page(viewport={"width": width, "height": 900})
        opened.append(page)
        page.goto(server.url(f"/#{view}"))
        expect(page.locator("#conn")).to_have_text("live", timeout=WAIT_MS)
        return page

    yield open_
    for page in opened:
        page.close()


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    width: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return width


@pytest.mark.parametrize("width", WIDTHS)
def test_no_horizontal_overflow(
    open_page: Callable[[int, str], Page], history: Takeover, width: int
) -> None:
    """At 360, 900, 1500 and 2560 px, no view is wider than the window; screenshots kept."""
    page = open_page(width, "board")
    expect(page.locator(f'tr[data-task="{history.task}"]')).to_be_visible(timeout=WAIT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    for view in VIEWS:
        page.locator(f'nav button[data-view="{view}"]').click()
        if view == "timeline":
            expect(page.locator("#tl-lanes li").first).to_be_visible(timeout=WAIT_MS)
        if view == "analytics":
            expect(page.locator("#at-payout a")).to_be_visible(timeout=WAIT_MS)
        assert _overflow(page) <= 0, f"{view} at {width} px"
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{view}-{width}.png"), full_page=True)


def test_feed_is_filled_on_load(open_page: Callable[[int, str], Page], history: Takeover) -> None:
    """Recent events are in the feed as soon as the page loads, before any new event."""
    page = open_page(1500, "board")
    takeover = page.locator('#feed li[data-type="task:taken-over"]')
    expect(takeover).to_contain_text(history.task, timeout=WAIT_MS)
    expect(takeover).to_contain_text("stuck on review")


def test_queue_shows_roi(open_page: Callable[[int, str], Page], history: Takeover) -> None:
    """Each task shows its ROI; open tasks come best ROI first, finished ones after."""
    page = open_page(1500, "board")
    row = page.locator(f'tr[data-task="{history.task}"]')
    expect(row.locator("td.roi")).to_have_text("9", timeout=WAIT_MS)
    expect(page.locator("#tasks tr").first.locator("td.roi")).to_have_text("5")


def _show_task_timeline(page: Page, task: str) -> None:
    page.locator("#tl-scope").select_option("task")
    page.locator("#tl-id").fill(task)
    page.locator("#tl-form button[type=submit]").click()


def test_takeover_appears_on_the_timeline(
    open_page: Callable[[int, str], Page], history: Takeover
) -> None:
    """A claim, a forced takeover and a release: both holders' lanes and the reason."""
    page = open_page(1500, "timeline")
    _show_task_timeline(page, history.task)
    expect(page.locator(f'#tl-lanes li[data-lane="{history.first}"]')).to_contain_text(
        "1 taken over", timeout=WAIT_MS
    )
    expect(page.locator(f'#tl-lanes li[data-lane="{history.second}"]')).to_contain_text(
        "1 completed"
    )
    mark = page.locator('#tl-marks li[data-outcome="taken_over"]')
    expect(mark).to_contain_text(f"{history.first} \u2192 {history.second}")
    expect(mark).to_contain_text("forced by lead: stuck on review")
    page.locator("#tl-canvas").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator('#tl-events li[data-type="taken_over"]')).to_be_visible(timeout=WAIT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-timeline-takeover.png"), full_page=True)


def test_time_control_before_the_takeover_shows_the_first_holder(
    open_page: Callable[[int, str], Page], history: Takeover
) -> None:
    """Moved to the position before the takeover, board and timeline show the first
    holder; Live returns to the present."""
    page = open_page(1500, "board")
    row = page.locator(f'tr[data-task="{history.task}"]')
    expect(row).to_have_attribute("data-holder", "", timeout=WAIT_MS)
    page.locator("#asof-range").fill(str(history.before))
    expect(page.locator("#conn")).to_have_text(f"as of {history.before}", timeout=WAIT_MS)
    expect(row).to_have_attribute("data-holder", history.first, timeout=WAIT_MS)
    expect(page.locator("#feed-title")).to_have_text(f"Feed up to position {history.before}")
    page.locator('nav button[data-view="timeline"]').click()
    _show_task_timeline(page, history.task)
    expect(page.locator(f'#tl-lanes li[data-lane="{history.first}"]')).to_contain_text(
        "1 held", timeout=WAIT_MS
    )
    expect(page.locator(f'#tl-lanes li[data-lane="{history.second}"]')).to_have_count(0)
    page.locator('nav button[data-view="board"]').click()
    page.locator("#live").click()
    expect(page.locator("#conn")).to_have_text("live", timeout=WAIT_MS)
    expect(row).to_have_attribute("data-holder", "", timeout=WAIT_MS)
