"""The dashboard in real headless Chromium: live updates without a reload.

Chromium comes from the system (``tests.http.browser``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.http.browser import ARTIFACTS, WAIT_MS
from tests.http.server import Server


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """The dashboard, loaded once and following the event stream."""
    opened = browser.new_page(viewport={"width": 1440, "height": 900})
    opened.goto(server.url("/"))
    expect(opened.locator("#conn")).to_have_text("live", timeout=WAIT_MS)
    yield opened
    opened.close()


def test_claim_appears_without_reload(
    page: Page, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """A task registered and claimed through the API shows its holder on the open page."""
    task = fresh("live")
    client.post("/api/tasks", json={"taskId": task, "title": "Shown live", "priority": "high"})
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": "agent-live"})
    claimed = page.locator(f'tr[data-task="{task}"]')
    expect(claimed).to_have_attribute("data-claim", "healthy", timeout=WAIT_MS)
    expect(claimed).to_have_attribute("data-holder", "agent-live")
    expect(claimed.locator(".mark")).to_have_text("[*]")
    expect(page.locator('.card[data-session="agent-live"] .task')).to_contain_text(task)


def test_release_clears_claim(
    page: Page, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """A release through the API clears the claim on the open page."""
    task = fresh("cleared")
    client.post("/api/tasks", json={"taskId": task, "title": "Released live"})
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": "agent-gone"})
    shown = page.locator(f'tr[data-task="{task}"]')
    expect(shown).to_have_attribute("data-claim", "healthy", timeout=WAIT_MS)
    client.post(f"/api/tasks/{task}/release", json={"sessionId": "agent-gone", "reason": "handoff"})
    expect(shown).to_have_attribute("data-claim", "none", timeout=WAIT_MS)
    expect(shown.locator(".mark")).to_have_text("--")


def test_expired_claim_is_marked(
    page: Page, client: httpx.Client, fresh: Callable[[str], str]
) -> None:
    """A claim past its expiry, not yet swept, is marked expired."""
    task = fresh("lapsed")
    client.post("/api/tasks", json={"taskId": task, "title": "Lapsed"})
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": "agent-late", "ttlMs": 1})
    shown = page.locator(f'tr[data-task="{task}"]')
    expect(shown).to_have_attribute("data-claim", "expired", timeout=WAIT_MS)
    expect(shown.locator(".mark")).to_have_text("[x]")


def test_feed_shows_events(page: Page, client: httpx.Client, fresh: Callable[[str], str]) -> None:
    """Events arrive in the live feed with seed 002's names; a screenshot is kept."""
    task = fresh("fed")
    client.post("/api/tasks", json={"taskId": task, "title": "In the feed"})
    client.post(f"/api/tasks/{task}/claim", json={"sessionId": "agent-feed"})
    expect(page.locator('#feed li[data-type="task:claimed"]').first).to_contain_text(
        task, timeout=WAIT_MS
    )
    expect(page.locator(f'tr[data-task="{task}"]')).to_have_attribute(
        "data-holder", "agent-feed", timeout=WAIT_MS
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
