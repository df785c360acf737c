"""R6 evaluation window: the indispensability survey and the outcome vote open
only after the charter's window of real use; the refusal names the date.

Real use in these tests starts on Monday 2 March 2026 at 09:00 UTC, so the
default 30-day window ends on 1 April 2026 at 09:00 UTC.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from governance import services as sv
from governance.errors import RuleViolation
from governance.storage.models import Pilot, SurveyRound, Vote


def real_use_start(world, pilot) -> datetime:
    with world.db.uow().reading() as s:
        return s.get(Pilot, pilot).real_use_started_at


def test_the_survey_cannot_open_before_the_window_and_the_refusal_names_the_date(world):
    _, pilot = world.pilot_in_use()
    world.pass_window(days=29)
    with world.refuses(RuleViolation, match=r"cannot open before 01 April 2026 09:00 UTC") as info:
        sv.open_survey_round(world.uow, world.commissioner, pilot)
    assert info.value.rule == "R6"
    assert "30 days of real use since 02 March 2026" in str(info.value)


def test_the_outcome_vote_cannot_open_before_the_window_and_the_refusal_names_the_date(world):
    _, pilot = world.pilot_in_use()
    world.pass_window(days=10)
    with world.refuses(RuleViolation, match=r"The outcome vote for .* cannot open before 01 April 2026"):
        sv.open_outcome_vote(world.uow, world.steering, pilot)


def test_on_the_last_morning_of_the_window_it_is_still_refused_with_the_hour_it_opens(world):
    _, pilot = world.pilot_in_use()
    world.clock.set(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    with world.refuses(RuleViolation, match=r"01 April 2026 09:00 UTC"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)


def test_the_survey_and_the_vote_open_once_the_window_has_passed(world):
    _, pilot = world.pilot_in_use()
    world.clock.set(real_use_start(world, pilot) + timedelta(days=30))
    round_id = sv.open_survey_round(world.uow, world.commissioner, pilot)
    sv.close_survey_round(world.uow, world.commissioner, round_id)
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    with world.db.uow().reading() as s:
        assert s.get(SurveyRound, round_id).number == 1
        assert s.get(Vote, vote).status == "open"
        assert s.get(Pilot, pilot).state == "evaluating"


def test_nothing_is_evaluated_before_real_use_starts(world):
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    world.pass_window(days=90)
    with world.refuses(RuleViolation, match="has not entered real use yet"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)
    with world.refuses(RuleViolation, match="has not entered real use yet"):
        sv.open_outcome_vote(world.uow, world.steering, pilot)


def test_a_charter_with_a_shorter_window_opens_the_survey_sooner(world):
    sv.adopt_charter(world.uow, world.steering, reason="Short pilots for the clinic.",
                     evaluation_window_days=14)
    _, pilot = world.pilot_in_use()
    world.pass_window(days=13)
    with world.refuses(RuleViolation, match=r"before 16 March 2026 .*14 days of real use"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)
    world.pass_window(days=1)
    assert sv.open_survey_round(world.uow, world.commissioner, pilot)


def test_a_charter_with_a_longer_window_keeps_the_vote_closed_longer(world):
    sv.adopt_charter(world.uow, world.steering, reason="Seasonal work needs a longer look.",
                     evaluation_window_days=60)
    _, pilot = world.pilot_in_use()
    world.pass_window(days=31)
    with world.refuses(RuleViolation, match=r"before 01 May 2026"):
        sv.open_outcome_vote(world.uow, world.steering, pilot)
    with world.refuses(RuleViolation, match=r"before 01 May 2026"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)
    world.pass_window(days=30)
    assert sv.open_outcome_vote(world.uow, world.steering, pilot)
    with world.db.uow().reading() as s:
        assert s.scalar(select(func.count()).select_from(Vote).where(Vote.pilot_id == pilot)) == 1


@pytest.mark.parametrize("days_after_start", [0, 1, 29])
def test_every_day_inside_the_window_is_refused(world, days_after_start):
    _, pilot = world.pilot_in_use()
    world.pass_window(days=days_after_start)
    with world.refuses(RuleViolation, match="01 April 2026"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)
