"""The read models' ``may_*`` fields agree with the use cases.

A page offers an act exactly when its read model says ``may_*``; these tests
hold those fields to the use case they mirror, person by person: where the
field says no, the use case refuses with ``PermissionDenied`` (and writes
nothing); where it says yes, the use case gets past every permission check
(the probe then fails on purpose at a later, non-permission check — an empty
text, a closed round, a lock already there — so nothing is written either).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from governance import services as sv
from governance.errors import GovernanceError, PermissionDenied, RuleViolation
from governance.queries import evaluate as evaluate_q, pilots as pilots_q, problems as problems_q, votes as votes_q
from governance.vocabulary import PanelRole
from tests.world import VERY, World


def everyone(world: World, *extra: int) -> dict[str, int]:
    return {"admin": world.admin, "facilitator": world.facilitator, "member": world.members[0],
            "commissioner": world.commissioner, "steering": world.steering, "auditor": world.auditor,
            "outsider": world.outsider, **{f"extra{i}": p for i, p in enumerate(extra)}}


def agrees(world: World, may: bool, use_case: Callable[..., object], person: int, *args: Any,
           **kwargs: Any) -> None:
    """``use_case`` run by ``person`` is refused, writing nothing; by a permission check
    exactly when ``may`` is False."""
    with world.refuses(GovernanceError) as info:
        use_case(world.uow, person, *args, **kwargs)
    assert isinstance(info.value, PermissionDenied) is (not may), info.value


@pytest.fixture
def others(world: World) -> tuple[int, int]:
    """A facilitator of another panel, and a commissioner on no team."""
    other_panel = sv.create_panel(world.uow, world.admin, name="Hillside Panel", area="Health", site="Hillside")
    facilitator = world.person("Hana Hillside", ["frontline", "facilitator"])
    sv.add_panel_member(world.uow, world.admin, other_panel, facilitator, PanelRole.FACILITATOR)
    return facilitator, world.person("Nico Nobody", ["commissioning"])


def test_problem_acts_are_offered_to_whom_the_use_cases_accept(world: World, others: tuple[int, int]) -> None:
    draft = world.draft_problem()
    world.add_criterion(draft)
    locked = world.locked_problem(title="Missed call-backs")
    people = everyone(world, *others)
    offered: dict[str, set[str]] = {}
    for who, person in people.items():
        d = problems_q.problem_detail(world.uow, person, draft)
        agrees(world, d.may_edit_text, sv.revise_problem, person, draft, title="", statement="")
        agrees(world, d.may_edit_criteria, sv.add_criterion, person, draft, name="", definition="",
               measurement_method="", unit="minutes", direction="lower_is_better", target=1, minimum_evidence=1)
        agrees(world, d.may_retire, sv.retire_problem, person, draft, reason="")
        agrees(world, d.may_comment, sv.comment_on_problem, person, draft, "")
        lk = problems_q.problem_detail(world.uow, person, locked)
        agrees(world, lk.may_open_panel_vote, sv.propose_criteria_lock, person, locked)
        agrees(world, lk.may_propose_amendment, sv.propose_amendment, person, lk.criteria[0].id, reason="",
               target=1)
        for name in ("may_edit_text", "may_edit_criteria", "may_retire", "may_comment"):
            if getattr(d, name):
                offered.setdefault(name, set()).add(who)
        for name in ("may_open_panel_vote", "may_propose_amendment"):
            if getattr(lk, name):
                offered.setdefault(name, set()).add(who)
    assert offered["may_edit_text"] == offered["may_edit_criteria"] == {"facilitator", "member"}
    assert offered["may_retire"] == offered["may_open_panel_vote"] == {"facilitator"}
    assert offered["may_propose_amendment"] == {"facilitator", "member"}
    assert offered["may_comment"] == {"facilitator", "member", "commissioner", "steering", "outsider",
                                      "extra0", "extra1"}


def test_pilot_acts_are_offered_to_whom_the_use_cases_accept(world: World, others: tuple[int, int]) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    closed_round = world.survey(pilot, [(m, VERY) for m in world.members])
    item = sv.raise_feedback(world.uow, world.members[0], pilot, kind="wrong_output", body="It misread a date.")
    people = everyone(world, *others)
    offered: dict[str, set[str]] = {}
    for who, person in people.items():
        d = pilots_q.pilot_detail(world.uow, person, pilot)
        # In real use a metric can no longer be added: past the permission checks, a rule refuses.
        agrees(world, d.may_manage, sv.add_metric, person, pilot, name="", definition="", unit="minutes",
               direction="higher_is_better", target=1)
        # No metric or criterion named: past the permission checks, the input is refused.
        agrees(world, d.may_record_measurement, sv.record_measurement, person, pilot, value=1,
               observed_on=world.today())
        agrees(world, d.may_run_survey, sv.close_survey_round, person, closed_round)  # already closed
        agrees(world, d.may_waive_readiness, sv.waive_readiness, person, pilot, reason="")  # in use already
        [row] = [r for r in evaluate_q.feedback_page(world.uow, person).rows if r.id == item]
        agrees(world, row.may_respond, sv.respond_to_feedback, person, item, response=" ")
        listed = pilot in {p.id for p in evaluate_q.my_survey_pilots(world.uow, person)}
        assert listed is d.may_run_survey, who
        for name in ("may_manage", "may_record_measurement", "may_run_survey", "may_waive_readiness"):
            if getattr(d, name):
                offered.setdefault(name, set()).add(who)
        if row.may_respond:
            offered.setdefault("may_respond", set()).add(who)
    assert offered["may_manage"] == offered["may_respond"] == {"commissioner"}
    assert offered["may_run_survey"] == {"commissioner", "facilitator"}
    assert offered["may_record_measurement"] == {"commissioner", "facilitator"}
    assert offered["may_waive_readiness"] == {"steering"}


def test_closing_a_vote_is_offered_to_whom_close_vote_accepts(world: World, others: tuple[int, int]) -> None:
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    people = everyone(world, *others)
    may_cast = {who for who, person in people.items() if votes_q.vote_detail(world.uow, person, vote).may_cast}
    assert may_cast == {"facilitator", "member", "commissioner", "steering"}
    # R16: with voters missing, nobody is offered "close now", and the use case refuses it.
    assert not any(votes_q.vote_detail(world.uow, person, vote).may_close for person in people.values())
    with world.refuses(RuleViolation, match="can close earlier only when every eligible voter has voted"):
        sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    world.clock.advance(days=8)  # past the deadline, a closer may close it (the job would too)
    may_close = {who for who, person in people.items() if votes_q.vote_detail(world.uow, person, vote).may_close}
    assert may_close == {"facilitator", "steering"}
    for who, person in people.items():
        if who not in may_close:
            with world.refuses(PermissionDenied):
                sv.close_vote(world.uow, person, vote, statement="The result stands.")
    sv.close_vote(world.uow, world.facilitator, vote, statement="The result stands.")
    closed = votes_q.vote_detail(world.uow, world.steering, vote)
    assert not closed.may_close and not closed.may_cast
