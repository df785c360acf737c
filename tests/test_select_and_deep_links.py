"""Picking a record: a deep link (``?vote=…``, ``?problem=…``) opens it, choosing one puts
it in the address bar, and what was just created is opened (issue 14, "Select by
clicking"). Clicking a table row is driven in the browser journeys; here, the links."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from governance import services as sv
from governance.queries import problems as problems_q
from tests.apptest_support import PAGE_FILES, app, choose, ok, one, open_page, pages_db, submit, successes
from tests.world import World

__all__ = ["pages_db"]
pytestmark = pytest.mark.usefixtures("pages_db")


def linked(person: int, page: str, **params: str) -> AppTest:
    """Open ``page`` as ``person`` the way a shared link with ``params`` does."""
    at = ok(app(person).run())
    for name, value in params.items():
        at.query_params[name] = value
    return ok(at.switch_page(PAGE_FILES[page]).run())


def test_a_link_to_a_vote_opens_that_vote(world: World) -> None:
    problem = world.draft_problem(title="Tuesday re-keying")
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    at = linked(world.members[0], "votes", **{"open-vote": str(vote)})
    assert at.selectbox(key="open-vote").value == vote
    assert any("Ratify the problem" in m.value for m in at.markdown)
    assert one(at.radio, form=f"ballot-{vote}").value is None


def test_a_link_to_a_record_that_is_not_offered_opens_nothing(world: World) -> None:
    at = linked(world.members[0], "votes", **{"open-vote": "99999"})
    assert not [b for b in at.selectbox if b.key == "open-vote" and b.value is not None]
    world.draft_problem(title="Tuesday re-keying")
    at = linked(world.members[0], "problems", problem="not-a-number")
    assert at.selectbox(key="problem-chosen").value is None


def test_choosing_a_problem_puts_it_in_the_address_bar(world: World) -> None:
    problem = world.draft_problem(title="Tuesday re-keying")
    at = choose(open_page(world.members[0], "problems"), "problem-chosen", problem)
    assert at.query_params["problem"] == str(problem)


def test_a_saved_draft_is_opened_at_once(world: World) -> None:
    at = open_page(world.members[0], "problems")
    one(at.text_input, label="Title", form="draft-problem").input("Saturday no-shows")
    one(at.text_area, label="What happens, how often, and who it affects", form="draft-problem").input(
        "One Saturday appointment in five is missed.")
    at = submit(at, "draft-problem", "Save draft")
    assert any(s.startswith("Draft saved and opened below.") for s in successes(at))
    [row] = problems_q.problems_page(world.uow, world.members[0], search="Saturday no-shows").rows
    assert at.selectbox(key="problem-chosen").value == row.id
    assert at.query_params["problem"] == str(row.id)
