"""Columns that fit, and Evaluate on a phone (issues 14 and 15), in a real browser over the demo
organisation: at 1400 px no table on Compare or in a problem's criteria scrolls sideways (no key
column is cut off), a row click on Compare opens that pilot side by side, and Evaluate at 390 px
has nothing wider than the screen. Screenshots go to tests/artifacts/screens/ (git-ignored),
to look at: compare-1400.png, criteria-1400.png, evaluate-390.png."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from governance.demo import DEMO_PASSWORD, build_demo
from governance.queries import evaluate as evaluate_q, problems as problems_q
from governance.storage.db import Database
from governance.storage.models import Person
from tests.browser_support import SCREENS, StreamlitServer, browser, browser_or_skip, page_factory, wait_idle

pytestmark = pytest.mark.browser
__all__ = ["browser", "page_factory"]  # fixtures used below

#: Tables whose content is wider than their frame: the grid's scroller, measured in the page.
CUT_OFF_TABLES = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter(t => t.offsetParent !== null)
    .map(t => { const s = t.querySelector('.dvn-scroller');
                return s ? {wide: s.scrollWidth, shown: s.clientWidth,
                            header: t.innerText.slice(0, 60)} : null; })
    .filter(m => m && m.wide > m.shown + 2)"""


@dataclass
class Demo:
    server: StreamlitServer
    db: Database

    def email(self, name: str) -> str:
        with self.db.uow().reading() as s:
            return str(s.scalar(select(Person.email).where(Person.name == name)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    browser_or_skip()
    root = tmp_path_factory.mktemp("screens")
    url = f"sqlite:///{root / 'demo.db'}"
    build_demo(url)
    server = StreamlitServer(url, root / "streamlit.log")
    db = Database(url)
    try:
        yield Demo(server, db)
    finally:
        server.stop()
        db.dispose()
        assert not server.tracebacks(), "a traceback reached the server log:\n" + "\n".join(server.tracebacks())


def signed_in(page, demo: Demo, name: str, path: str):  # type: ignore[no-untyped-def]
    """Sign in as ``name``; once signed in (the "Sign out" button, then 3 s), open ``path``."""
    page.goto(demo.server.url)
    page.get_by_label("Email").fill(demo.email(name))
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    page.wait_for_timeout(3000)
    page.goto(demo.server.url + path)
    wait_idle(page)
    page.wait_for_timeout(1500)  # the grids draw after the script has run
    return page


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The whole page: Streamlit scrolls inside its main area, so the window is made as tall as
    that area for the screenshot (and put back after)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    size = page.viewport_size
    tall = page.evaluate("() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall + 400, size["height"]), 8000)})
    wait_idle(page)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    wait_idle(page)
    return path


def test_compare_fits_at_1400_and_a_row_opens_the_pilot_side_by_side(demo: Demo, page_factory) -> None:
    page = signed_in(page_factory(), demo, "Helen Achterberg", "/compare")
    page.get_by_role("heading", name="Quadrants").wait_for()
    # Open the first pilot by clicking its row (the selection box at the row's left edge).
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 18)
    wait_idle(page)
    page.get_by_text("Commissioning metrics against target").first.wait_for()
    assert "pilot=" in page.url
    page.wait_for_timeout(1500)
    cut = page.evaluate(CUT_OFF_TABLES)
    shot(page, "compare-1400")
    assert cut == []


def test_the_criteria_table_fits_at_1400(demo: Demo, page_factory) -> None:
    amara = _person_id(demo, "Amara Okafor")
    locked = [r for r in problems_q.problems_page(demo.db.uow(), amara, per_page=50).rows
              if r.locked_at and r.criteria]
    assert locked, "the demo has a problem with locked criteria"
    page = signed_in(page_factory(), demo, "Amara Okafor", f"/problems?problem={locked[0].id}")
    page.get_by_role("tab", name="Success criteria").first.wait_for()
    page.locator('[data-testid="stTable"]').first.wait_for()
    shot(page, "criteria-1400")
    assert page.evaluate(CUT_OFF_TABLES) == []


def test_evaluate_on_a_phone_has_nothing_off_screen(demo: Demo, page_factory) -> None:
    page = page_factory()
    page.set_viewport_size({"width": 390, "height": 844})
    signed_in(page, demo, _someone_with_a_survey_due(demo), "/evaluate")
    page.get_by_role("heading", name="Evaluate").wait_for()
    expander = page.get_by_text("Usability (optional — answer all ten or none)")
    if expander.count():
        expander.first.click()
        page.wait_for_timeout(500)
    shot(page, "evaluate-390")
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide} px wide on a 390 px screen"


def _someone_with_a_survey_due(demo: Demo) -> str:
    """A frontline person of the demo with an open survey round not answered yet (the phone's case)."""
    with demo.db.uow().reading() as s:
        people = list(s.execute(select(Person.id, Person.name).order_by(Person.id)))
    for person_id, name in people:
        if any(r.answer is None for r in evaluate_q.my_surveys(demo.db.uow(), person_id)):
            return str(name)
    raise AssertionError("the demo has nobody with a survey due")


def _person_id(demo: Demo, name: str) -> int:
    with demo.db.uow().reading() as s:
        return int(s.scalar(select(Person.id).where(Person.name == name)) or 0)
