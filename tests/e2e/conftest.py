"""A real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response, expect, sync_playwright

from server.process import CHROMIUM, CHROMIUM_FLAGS


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


# --- Every page is watched ---------------------------------------------------------------------
# A test passes only if none of its pages reported a problem: a console error, an uncaught script
# error, a request that failed (no answer at all) or an answer of 500 or more. Where a test makes a
# request fail on purpose (it goes offline, or it checks that the server refuses something, which the
# browser logs as "Failed to load resource: … 403"), it says so first, with allow_problems(page,
# pattern, why): only that page (or context), only problems matching the pattern. Never a blanket ignore.


@dataclass
class _Watch:
    seen: dict[int, tuple[Page, list[str]]] = field(default_factory=dict)  # by id(page), in order of appearance
    allowed: list[tuple[Page | BrowserContext, re.Pattern[str]]] = field(default_factory=list)

    def on(self, page: Page) -> list[str]:
        return self.seen.setdefault(id(page), (page, []))[1]

    def saw(self, page: Page, text: str) -> None:
        if not any((target is page or target is page.context) and pattern.search(text) for target, pattern in self.allowed):
            self.on(page).append(f"{text} (on {page.url})")

    def unexplained(self) -> list[str]:
        return [text for _, texts in self.seen.values() for text in texts]


_watch = _Watch()


def watch(page: Page) -> list[str]:
    """The problems this page reported so far that no allow_problems explains: a live list, for a test
    that checks at a step (at its end every test checks all its pages anyway)."""
    return _watch.on(page)


def allow_problems(target: Page | BrowserContext, pattern: str, why: str) -> None:
    """Problems matching `pattern` (a regular expression searched in the problem's text, e.g.
    "requestfailed: GET .*/api/v1/sync net::ERR_INTERNET_DISCONNECTED") are expected on this page, or
    on every page of this context, from now to the end of the test. `why` is for the reader: say it."""
    assert why, "say why these problems are expected"
    _watch.allowed.append((target, re.compile(pattern)))


def allow_refused(target: Page | BrowserContext, status: int, path: str, why: str) -> None:
    """The server refuses calls to /api/v1/<path> (a regular expression) with `status` on purpose, and
    the browser logs each refusal as "Failed to load resource: … status of <status>"."""
    allow_problems(
        target,
        rf"^console error: Failed to load resource: the server responded with a status of {status} "
        rf"\([^)]*\) \[https?://[^/\]]+/api/v1/(?:{path})(?:[?#][^\]]*)?\]",
        why,
    )


def allow_signed_out(target: Page | BrowserContext) -> None:
    """A page opened without a session asks the API who is signed in: the answers are 401, and the
    page shows its sign-in form. Only refusals of API calls, only 401."""
    allow_refused(target, 401, r"[^\]]*", "signed out, the page's first calls are answered 401 and it shows the sign-in form")


def allow_offline(context: BrowserContext) -> None:
    """The test takes this device offline: what its pages fetch meanwhile (a sync, the day's
    updates, a module not cached yet) fails with ERR_INTERNET_DISCONNECTED, and the app waits.
    A service worker still installing then fails to fetch its script, and the browser says so; it
    installs on a later start."""
    allow_problems(context, r"net::ERR_INTERNET_DISCONNECTED", "the test takes the device offline")
    allow_problems(
        context,
        r"^console error: An unknown error occurred when fetching the script\.",
        "the test takes the device offline while the service worker may still be installing",
    )


def _console(page: Page, message: ConsoleMessage) -> None:
    if message.type == "error":
        where = message.location.get("url") or ""
        _watch.saw(page, f"console error: {message.text}" + (f" [{where}]" if where else ""))


def _failed(page: Page, request: Request) -> None:
    _watch.saw(page, f"requestfailed: {request.method} {request.url} {request.failure}")


def _answered(page: Page, response: Response) -> None:
    if response.status >= 500:
        _watch.saw(page, f"HTTP {response.status}: {response.request.method} {response.url}")


def watched(page: Page) -> Page:
    page.on("console", lambda message: _console(page, message))
    page.on("pageerror", lambda error: _watch.saw(page, f"pageerror: {error}"))
    page.on("requestfailed", lambda request: _failed(page, request))
    page.on("response", lambda response: _answered(page, response))
    return page


def watched_context(context: BrowserContext) -> BrowserContext:
    context.set_default_timeout(STATE_TIMEOUT_MS)
    for page in context.pages:  # a persistent context opens with a page
        watched(page)
    context.on("page", watched)
    return context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    global _watch
    _watch = _Watch()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    result = yield  # a test that failed already fails with its own message
    unexplained = _watch.unexplained()
    if unexplained:
        pytest.fail("the pages reported problems:\n  " + "\n  ".join(unexplained), pytrace=False)
    return result


def patient(browser: Browser) -> Browser:
    """Every page and context made from this browser waits up to STATE_TIMEOUT_MS for a state, and
    is watched for problems (above)."""
    new_page, new_context = browser.new_page, browser.new_context
    launch_persistent_context = browser.browser_type.launch_persistent_context

    def page_with_budget(*args, **kwargs):  # type: ignore[no-untyped-def]
        page = new_page(*args, **kwargs)
        page.set_default_timeout(STATE_TIMEOUT_MS)
        return watched(page)

    def context_with_budget(*args, **kwargs):  # type: ignore[no-untyped-def]
        return watched_context(new_context(*args, **kwargs))

    def persistent_context_with_budget(*args, **kwargs):  # type: ignore[no-untyped-def]
        return watched_context(launch_persistent_context(*args, **kwargs))

    browser.new_page = page_with_budget  # type: ignore[method-assign]
    browser.new_context = context_with_budget  # type: ignore[method-assign]
    browser.browser_type.launch_persistent_context = persistent_context_with_budget  # type: ignore[method-assign]
    return browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield patient(browser)
        browser.close()
