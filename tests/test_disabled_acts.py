"""Only what can be done now is offered (issue 14, "Only offer what can be done"): an act
the rules would refuse is shown disabled with the reason and, where there is one, the date
it becomes possible — computed by the same rule the use case applies, so they agree."""
from __future__ import annotations

import pytest

from governance import services as sv
from governance.errors import RuleViolation
from governance.queries import pilots as pilots_q
from tests.apptest_support import choose, open_page, pages_db, shown_text
from tests.world import World

__all__ = ["pages_db"]
pytestmark = pytest.mark.usefixtures("pages_db")


def test_start_real_use_is_disabled_with_the_reason_the_use_case_would_give(world: World) -> None:
    pilot = world.register_pilot(world.locked_problem())
    world.make_ready(pilot)  # ready, but nobody on the roster yet
    d = pilots_q.pilot_detail(world.uow, world.commissioner, pilot)
    assert d.state == "ready" and len(d.start_blockers) == 1
    with pytest.raises(RuleViolation) as refused:
        sv.start_real_use(world.uow, world.commissioner, pilot)
    assert str(refused.value) == d.start_blockers[0]  # the page and the use case agree

    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    button = at.button(key="start-real-use")
    assert button.disabled and "nobody on its user roster" in button.help
    assert "Before real use can start:" in shown_text(at)

    sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)  # the reason goes away ...
    assert pilots_q.pilot_detail(world.uow, world.commissioner, pilot).start_blockers == []
    at = choose(open_page(world.commissioner, "pilots"), "pilot-chosen", pilot)
    assert not at.button(key="start-real-use").disabled  # ... and so does the disabling


def test_every_missing_step_is_listed_not_only_the_first(world: World) -> None:
    pilot = world.register_pilot(world.locked_problem())  # no readiness, no roster
    blockers = pilots_q.pilot_detail(world.uow, world.commissioner, pilot).start_blockers
    assert len(blockers) == 2, blockers  # in the order the use case checks them
    assert "readiness checklist is incomplete (missing: " in blockers[0]
    assert "nobody on its user roster" in blockers[1]


def test_the_outcome_vote_form_offers_only_pilots_past_their_evaluation_window(world: World) -> None:
    _, pilot = world.pilot_in_use()  # "Referral letter assistant", real use began today
    at = open_page(world.facilitator, "votes")
    assert not [b for b in at.selectbox if b.label == "Pilot" and b.form_id == "open-outcome" and b.options]
    row = next(r for r in pilots_q.pilots_page(world.uow, world.facilitator).rows if r.id == pilot)
    assert not row.window_open and row.window_opens_at is not None
    assert "Referral letter assistant — from " in shown_text(at)
    with pytest.raises(RuleViolation):
        sv.open_outcome_vote(world.uow, world.facilitator, pilot)

    world.pass_window()
    at = open_page(world.facilitator, "votes")
    [box] = [b for b in at.selectbox if b.label == "Pilot" and b.form_id == "open-outcome"]
    assert box.options == ["Referral letter assistant"]
