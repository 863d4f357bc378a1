"""A real browser: Debian's chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


# Tests wait for a state the app reports (a selector, a text), never for a wall-clock budget: on a
# busy CI machine (or under `stress-ng --cpu 2`) the state comes late, not never. So the budget
# for any one wait is long, and a test that fails still fails (after two minutes, with the state
# it waited for in the message).
STATE_TIMEOUT_MS = 120_000
expect.set_options(timeout=STATE_TIMEOUT_MS)


def shots_dir() -> Path:
    """Where screenshots go: a temporary folder, unless FIELDCARDS_SHOTS names one (e.g.
    `FIELDCARDS_SHOTS=docs/screenshots` to refresh the docs). Tests never write tracked files."""
    chosen = os.environ.get("FIELDCARDS_SHOTS")
    path = Path(chosen).resolve() if chosen else Path(tempfile.gettempdir()) / "fieldcards-shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def patient(browser: Browser) -> Browser:
    """Every page and context made from this browser waits up to STATE_TIMEOUT_MS for a state."""
    new_page, new_context = browser.new_page, browser.new_context

    def page_with_budget(*args, **kwargs):  # type: ignore[no-untyped-def]
        page = new_page(*args, **kwargs)
        page.set_default_timeout(STATE_TIMEOUT_MS)
        return page

    def context_with_budget(*args, **kwargs):  # type: ignore[no-untyped-def]
        context = new_context(*args, **kwargs)
        context.set_default_timeout(STATE_TIMEOUT_MS)
        return context

    browser.new_page = page_with_budget  # type: ignore[method-assign]
    browser.new_context = context_with_budget  # type: ignore[method-assign]
    return browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield patient(browser)
        browser.close()
