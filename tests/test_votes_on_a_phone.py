"""Votes, a decision and Home in a real browser at 1400 px and at 390 px (a phone): nothing
important runs off the screen — the page never scrolls sideways, turnout and "who has not voted"
are stacked per group, and my participation is a list of cards. The screenshots are kept under
tests/artifacts/screens/ (votes-1400.png, votes-390.png, decision-1400.png, home-390.png) to look at."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from governance import services as sv
from governance.storage.db import Database, FixedClock
from tests.browser_support import (
    SCREENS,
    StreamlitServer,
    browser,
    browser_or_skip,
    page_factory,
    sign_in,
    wait_idle,
)
from tests.world import VERY, World

pytestmark = pytest.mark.browser

__all__ = ["browser", "page_factory"]  # fixtures used below
PASSWORD = "phone journey 2026"
REASON = "The assistant drafts the letter; I only check it. It saves me an hour a clinic."
STATEMENT = ("Adopted for both clinics. The owner retires the paper form on 1 February and reports back to "
             "the panel in six weeks.")


@dataclass
class Votes:
    server: StreamlitServer
    live: Database
    world: World
    open_vote: int
    decision: int

    def email(self, person_id: int) -> str:
        from governance.storage.models import Person

        with self.live.uow().reading() as s:
            return s.get_one(Person, person_id).email


def _in_use(world: World, pilot: str, problem: str, statement: str) -> int:
    """A pilot of its own problem, in real use (``World.pilot_in_use`` with a title of its own)."""
    pilot_id = world.register_pilot(world.locked_problem(title=problem, statement=statement), title=pilot)
    sv.add_to_roster(world.uow, world.commissioner, pilot_id, world.members)
    world.make_ready(pilot_id)
    sv.start_real_use(world.uow, world.commissioner, pilot_id)
    return pilot_id


@pytest.fixture(scope="module")
def votes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Votes]:
    """A decided pilot (reasons, a statement) and an open outcome vote part-way through, set up
    so that its deadline lies ahead of the real clock the server runs on."""
    browser_or_skip()
    root = tmp_path_factory.mktemp("phone")
    url = f"sqlite:///{root / 'phone.db'}"
    past = Database(url, clock=FixedClock(datetime.now(UTC) - timedelta(days=45)))
    past.upgrade()
    world = World(past, past.clock)
    for person in (world.members[0], world.steering):
        sv.set_password(world.uow, world.admin, person, PASSWORD, temporary=False)
    sv.adopt_charter(world.uow, world.steering, reason="A small clinic panel: five responses suffice.",
                     min_survey_responses=5, time_zone="Europe/London")
    decided = _in_use(world, "Referral letter assistant", "Re-keyed referral letters",
                      "Every Tuesday we re-key referral letters into two systems.")
    pending = _in_use(world, "Home-visit notes by voice", "Home-visit notes after hours",
                      "Home-visit notes are typed up after hours, from paper.")
    world.pass_window()
    for pilot in (decided, pending):
        world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, decided, days=5)
    for voter in world.panel_voters:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    sv.cast_ballot(world.uow, world.commissioner, vote, "adopt", reason="On target for minutes saved.")
    sv.cast_ballot(world.uow, world.steering, vote, "adopt", reason=REASON)
    decision = sv.close_vote(world.uow, world.steering, vote, statement=STATEMENT)
    open_vote = sv.open_outcome_vote(world.uow, world.steering, pending, days=20)
    for voter in world.panel_voters[:3]:
        sv.cast_ballot(world.uow, voter, open_vote, "iterate")
    past.dispose()
    server = StreamlitServer(url, root / "streamlit.log")
    live = Database(url)
    try:
        assert decision is not None
        yield Votes(server, live, world, open_vote, decision)
    finally:
        server.stop()
        live.dispose()
        assert not server.tracebacks(), "a traceback reached the server log:\n" + "\n".join(server.tracebacks())


def _open(page, votes: Votes, person: int, path: str):  # type: ignore[no-untyped-def]
    """Sign in, wait for the signed-in page (its "Sign out" button) and a little more, then the deep link."""
    sign_in(page, votes.server, votes.email(person), PASSWORD)
    page.get_by_role("button", name="Sign out").first.wait_for()
    page.wait_for_timeout(3000)
    page.goto(f"{votes.server.url}{path}")
    page.get_by_role("heading").first.wait_for()
    wait_idle(page)
    page.wait_for_timeout(1500)


def _shot(page, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
    """The whole page at ``width``: Streamlit scrolls inside its own main area, so the window is
    made as tall as that area's content first (a full-page screenshot alone stops at the fold)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    wait_idle(page)
    tall = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], section')]"
                         ".map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": width, "height": min(int(tall) + 40, 12000)})
    wait_idle(page)
    page.wait_for_timeout(800)
    page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})


def _sideways(page) -> int:  # type: ignore[no-untyped-def]
    """How far the page itself scrolls sideways (0: everything fits the screen's width)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_votes_read_on_a_phone(votes: Votes, page_factory) -> None:  # type: ignore[no-untyped-def]
    member = votes.world.members[0]
    page = page_factory()
    _open(page, votes, member, f"/votes?open-vote={votes.open_vote}")
    page.get_by_text("Turnout", exact=True).first.wait_for()
    _shot(page, "votes", 1400)
    _shot(page, "votes", 390)
    assert _sideways(page) == 0
    # Who has not voted: counts for the secret frontline group, names for the groups on the record.
    page.get_by_text("Secret group: counts only", exact=False).first.wait_for()
    assert page.get_by_text("Not voted yet:", exact=False).first.is_visible()
    page.get_by_role("tab", name="My participation").click()
    wait_idle(page)
    page.locator("text=Home-visit notes by voice >> visible=true").first.wait_for()
    assert page.get_by_text("Your receipt:", exact=False).count() >= 1
    _shot(page, "votes-mine", 390)
    assert _sideways(page) == 0


def test_a_decision_shows_its_outcome_statement(votes: Votes, page_factory) -> None:  # type: ignore[no-untyped-def]
    page = page_factory()
    _open(page, votes, votes.world.steering, f"/votes?decision={votes.decision}")
    page.get_by_role("tab", name="Decisions").click()
    wait_idle(page)
    page.locator(f"text={STATEMENT[:40]} >> visible=true").first.wait_for()
    _shot(page, "decision", 1400)
    _shot(page, "decision", 390)
    assert _sideways(page) == 0


def test_home_reads_on_a_phone(votes: Votes, page_factory) -> None:  # type: ignore[no-untyped-def]
    page = page_factory()
    _open(page, votes, votes.world.members[0], "/")
    _shot(page, "home", 390)
    assert _sideways(page) == 0
