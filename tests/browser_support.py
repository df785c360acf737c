"""Real-browser journeys: a Streamlit server on a free port over a throwaway
database, and the system Chromium driven by Playwright.

Never downloads a browser: it uses Debian's Chromium at /usr/bin/chromium.
Without it (or without Playwright) the browser tests skip with the reason —
or fail, when REQUIRE_BROWSER=1 (CI installs Chromium and sets it).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chromium import (  # the server, the browser and the settle check, shared with the benchmark
    CHROMIUM as CHROMIUM,
    CHROMIUM_ARGS as CHROMIUM_ARGS,
    ROOT as ROOT,
    TIMEOUT_MS as TIMEOUT_MS,
    StreamlitServer as StreamlitServer,
    free_port as free_port,
    launch,
    missing_browser,
    sign_in as sign_in_at,
    wait_idle as wait_idle,
)

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
SHOTS = Path(__file__).parent / "artifacts" / "browser"


def browser_or_skip() -> None:
    reason = missing_browser()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"{reason}, and REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page_factory(browser, request) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """New pages (one per person, each its own session); a screenshot of each on failure."""
    pages = []

    def new_page():  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        pages.append(page)
        return page

    yield new_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, page in enumerate(pages):
        if failed:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{request.node.name}-{i}.png"), full_page=True)
        page.context.close()


# ------------------------------------------------------------- UI steps
def sign_in(page, server: StreamlitServer, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    sign_in_at(page, server.url, email, password)


def go(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name=name, exact=True).first.click()
    page.get_by_role("heading", name=name).first.wait_for()
    wait_idle(page)


def click(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=name, exact=True).first.click()
    wait_idle(page)


def select(page, label: str, option: str, *, keep_open: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Pick ``option`` (a substring of its text) in the selectbox or multiselect labelled ``label``.

    On a busy machine the list can close again while the page finishes a rerun
    (switching a tab reruns the page), so the box is reopened a few times
    before giving up. A multiselect stays open after a pick: ``keep_open``
    closes it with Escape."""
    choice = page.get_by_role("option").filter(has_text=option).first
    for attempt in range(5):
        wait_idle(page)
        page.get_by_label(label, exact=True).first.click()
        try:
            choice.wait_for(timeout=5_000)
            choice.click(timeout=5_000)
            break
        except Exception:  # playwright's TimeoutError: reopen and try again
            if attempt == 4:
                raise
            page.keyboard.press("Escape")
    if keep_open:
        page.keyboard.press("Escape")
    wait_idle(page)


def tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Open tab ``name`` and wait until it is the selected one and the rerun it starts is done."""
    handle = page.get_by_role("tab", name=name, exact=True).first
    handle.click()
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('[role=tab]')].some("
        "t => t.textContent.trim() === name && t.getAttribute('aria-selected') === 'true')", arg=name,
        timeout=TIMEOUT_MS)
    wait_idle(page)


def expand(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_text(title, exact=True).first.click()
    page.wait_for_timeout(300)


def see(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``text`` is visible (hidden tabs hold copies of some texts)."""
    page.get_by_text(text).filter(visible=True).first.wait_for()


def confirm(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Press ``name`` in the open confirmation dialog."""
    page.get_by_role("dialog").get_by_role("button", name=name, exact=True).click()
    wait_idle(page)


SCREENS = Path(__file__).parent / "artifacts" / "screens"


def screens(page, name: str) -> list[Path]:  # type: ignore[no-untyped-def]
    """Full-page screenshots at 1400 px and 390 px wide (a phone) into tests/artifacts/screens/
    (git-ignored), to look at; the page is put back to 1400 px afterwards."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in (1400, 390):
        page.set_viewport_size({"width": width, "height": 1000})
        wait_idle(page)
        path = SCREENS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size({"width": 1400, "height": 1000})
    wait_idle(page)
    return saved


# ------------------------------------------------------------- accessibility
#: axe-core's WCAG 2.1 A and AA rules (the issue's bar); best-practice rules are not asked for.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every axe-core violation (WCAG 2.1 A/AA) on the page as it is now, with its impact,
    rule id and the selectors of the offending nodes (so a failure says where to look)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    found = []
    for v in results.response["violations"]:
        found.append({"id": v["id"], "impact": v["impact"], "help": v["help"],
                      "nodes": [", ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                                for n in v["nodes"]][:5], "count": len(v["nodes"])})
    return found


def blocking(violations: list[dict[str, object]]) -> list[dict[str, object]]:
    """The violations of impact serious or critical (the ones the issue forbids)."""
    return [v for v in violations if v["impact"] in BLOCKING]
