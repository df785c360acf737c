"""R7 indispensability survey: only rostered users answer, one current answer
per person per round (a revision replaces it until the round closes, both
kept), the SUS is answered whole or not at all, and the score is reported
with its Wilson interval and n — or as "insufficient evidence" below the
charter's minimum, which never passes and leaves "adopt" unavailable.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.rules.evidence import wilson_interval
from governance.storage.models import AuditEvent, Pilot, SurveyResponse, Vote
from governance.storage.repository import (
    current_charter,
    pilot_evidence as survey_evidence,
    recount_round,
    round_counts,
)
from tests.world import NOT, SOMEWHAT, VERY

GOOD_SUS = [5, 1, 4, 2, 5, 1, 4, 2, 5, 1]  # 4+4+3+3+4+4+3+3+4+4 = 36 → 90


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def evidence(world, pilot, **kw):
    return read(world, lambda s: survey_evidence(s, s.get(Pilot, pilot), current_charter(s), **kw))


def responses(world, round_id, person=None):
    q = select(SurveyResponse).where(SurveyResponse.round_id == round_id).order_by(SurveyResponse.id)
    if person is not None:
        q = q.where(SurveyResponse.person_id == person)
    return read(world, lambda s: s.scalars(q).all())


@pytest.fixture
def small_charter(world):
    """Minimum 5 responses, adopted before the problem is drafted (so its criterion carries it)."""
    sv.adopt_charter(world.uow, world.steering, reason="Small clinics: five answers are enough.",
                     min_survey_responses=5)


@pytest.fixture
def open_round(world):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    return pilot, sv.open_survey_round(world.uow, world.commissioner, pilot)


# --------------------------------------------------------------- who answers
def test_only_rostered_users_answer(world, open_round):
    _, round_id = open_round
    with world.refuses(RuleViolation, match="Only the rostered users .* Olga Outsider is not on its roster") \
            as info:
        sv.submit_survey_response(world.uow, world.outsider, round_id, answer=VERY)
    assert info.value.rule == "R7"


def test_a_panel_member_who_is_not_on_the_roster_does_not_answer(world):
    _, pilot = world.pilot_in_use(roster=world.members[:3])
    world.pass_window()
    round_id = sv.open_survey_round(world.uow, world.commissioner, pilot)
    with world.refuses(RuleViolation, match="not on its roster"):
        sv.submit_survey_response(world.uow, world.members[4], round_id, answer=VERY)


@pytest.mark.parametrize("who", ["commissioner", "steering", "auditor"])
def test_people_without_a_frontline_role_do_not_answer(world, open_round, who):
    _, round_id = open_round
    with world.refuses(PermissionDenied, match="may not answer the indispensability survey"):
        sv.submit_survey_response(world.uow, getattr(world, who), round_id, answer=VERY)


def test_an_unknown_answer_is_refused(world, open_round):
    _, round_id = open_round
    with world.refuses(InvalidInput, match="Answer 'meh' is not known"):
        sv.submit_survey_response(world.uow, world.members[0], round_id, answer="meh")


# -------------------------------------------------------- one current answer
def test_a_revision_replaces_the_answer_and_both_are_kept(world, open_round):
    pilot, round_id = open_round
    member = world.members[0]
    first = sv.submit_survey_response(world.uow, member, round_id, answer=VERY)
    second = sv.submit_survey_response(world.uow, member, round_id, answer=NOT,
                                       use_instead="The old spreadsheet.")
    rows = responses(world, round_id, member)
    assert [(r.id, r.answer, r.is_current) for r in rows] == [(first, VERY, False), (second, NOT, True)]
    assert rows[1].use_instead == "The old spreadsheet."
    counted = evidence(world, pilot)
    assert counted.indispensability.n == 1
    assert counted.answers[NOT] == 1 and counted.answers[VERY] == 0
    actions = read(world, lambda s: s.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "survey_response").order_by(AuditEvent.seq)).all())
    assert actions == ["survey.response_given", "survey.response_revised"]


def test_each_person_has_exactly_one_current_answer_per_round(world, open_round):
    _, round_id = open_round
    for member in world.members:
        for answer in (VERY, SOMEWHAT, NOT):
            sv.submit_survey_response(world.uow, member, round_id, answer=answer)
    rows = responses(world, round_id)
    assert len(rows) == 3 * len(world.members)
    current = [r.person_id for r in rows if r.is_current]
    assert sorted(current) == sorted(world.members)
    assert all(r.answer == NOT for r in rows if r.is_current)


def test_a_new_round_starts_empty(world, open_round):
    pilot, round_id = open_round
    sv.submit_survey_response(world.uow, world.members[0], round_id, answer=VERY)
    sv.close_survey_round(world.uow, world.commissioner, round_id)
    second = sv.open_survey_round(world.uow, world.commissioner, pilot)
    assert evidence(world, pilot).indispensability.n == 0
    sv.submit_survey_response(world.uow, world.members[0], second, answer=NOT)
    assert [r.is_current for r in responses(world, round_id)] == [True]  # round 1 is untouched


def test_a_closed_round_refuses_answers_and_changes(world, open_round):
    _, round_id = open_round
    sv.submit_survey_response(world.uow, world.members[0], round_id, answer=VERY)
    sv.close_survey_round(world.uow, world.commissioner, round_id)
    with world.refuses(RuleViolation, match="closed on .*can no longer be given or changed"):
        sv.submit_survey_response(world.uow, world.members[0], round_id, answer=NOT)
    with world.refuses(RuleViolation, match="closed on"):
        sv.submit_survey_response(world.uow, world.members[1], round_id, answer=VERY)


def test_a_round_closes_once(world, open_round):
    _, round_id = open_round
    sv.close_survey_round(world.uow, world.commissioner, round_id)
    with world.refuses(RuleViolation, match="already closed"):
        sv.close_survey_round(world.uow, world.commissioner, round_id)


def test_one_round_is_open_at_a_time(world, open_round):
    pilot, _ = open_round
    with world.refuses(RuleViolation, match="Round 1 of the survey is still open"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)


def test_only_the_pilots_team_or_the_panels_facilitator_runs_its_survey(world):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    other_commissioner = world.person("Cora Other", ["commissioning"])
    with world.refuses(PermissionDenied, match="Only the commissioning team .* or a facilitator"):
        sv.open_survey_round(world.uow, other_commissioner, pilot)
    with world.refuses(PermissionDenied, match="may not open or close a survey round"):
        sv.open_survey_round(world.uow, world.members[0], pilot)
    round_id = sv.open_survey_round(world.uow, world.facilitator, pilot)
    with world.refuses(PermissionDenied, match="Only the commissioning team"):
        sv.close_survey_round(world.uow, other_commissioner, round_id)
    sv.close_survey_round(world.uow, world.facilitator, round_id)


# ------------------------------------------------------------------- the SUS
def test_a_complete_sus_is_scored_and_kept_item_by_item(world, open_round):
    _, round_id = open_round
    sv.submit_survey_response(world.uow, world.members[0], round_id, answer=VERY, sus=GOOD_SUS,
                              main_benefit="No more re-keying on Tuesdays.")
    (row,) = responses(world, round_id)
    assert row.sus_score == 90.0
    assert [getattr(row, f"sus_{i}") for i in range(1, 11)] == GOOD_SUS
    assert row.main_benefit == "No more re-keying on Tuesdays."


def test_the_sus_may_be_skipped_altogether(world, open_round):
    _, round_id = open_round
    sv.submit_survey_response(world.uow, world.members[0], round_id, answer=SOMEWHAT)
    sv.submit_survey_response(world.uow, world.members[1], round_id, answer=SOMEWHAT, sus=[None] * 10)
    rows = responses(world, round_id)
    assert all(r.sus_score is None and r.sus_1 is None for r in rows)


@pytest.mark.parametrize("sus", [
    [5, 1, 4, 2, 5, None, 4, 2, 5, 1],   # one item skipped
    [5, 1, 4, 2, 5, 1, 4, 2, 5],         # nine items
    [5, 1, 4, 2, 5, 1, 4, 2, 5, 1, 3],   # eleven items
    [5, 1, 4, 2, 5, 1, 4, 2, 5, 0],      # off the scale
    [5, 1, 4, 2, 5, 1, 4, 2, 5, 6],
    [5, 1, 4, 2, 5, 1, 4, 2.5, 5, 1],    # not a whole number
])
def test_a_partial_or_invalid_sus_is_refused(world, open_round, sus):
    _, round_id = open_round
    with world.refuses(InvalidInput, match="Usability question.*Answer all ten from 1 to 5, or none") \
            as info:
        sv.submit_survey_response(world.uow, world.members[0], round_id, answer=VERY, sus=sus)
    assert info.value.field == "Usability"


def test_a_partly_answered_sus_names_every_item_left_out_with_the_main_answer_missing_too(world, open_round):
    _, round_id = open_round
    with world.refuses(InvalidInput) as info:
        sv.submit_survey_response(world.uow, world.members[0], round_id, answer=None,  # type: ignore[arg-type]
                                  sus=[5, None, 4, 2, 5, None, 4, 2, 5, None])
    assert set(info.value.problems) == {"Answer", "Usability"}
    assert info.value.problems["Usability"].startswith("Usability questions 2, 6 and 10 are not answered.")


# ------------------------------------------------------------------ the score
def test_score_interval_and_n_are_reported(world, small_charter):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    answers = [VERY, VERY, VERY, SOMEWHAT, NOT, NOT]
    round_id = sv.open_survey_round(world.uow, world.commissioner, pilot)
    for i, (member, answer) in enumerate(zip(world.members, answers, strict=True)):
        sus = GOOD_SUS if i < 2 else ([3] * 10 if i < 4 else None)  # 90, 90, 50, 50, —, —
        sv.submit_survey_response(world.uow, member, round_id, answer=answer, sus=sus)
    sv.close_survey_round(world.uow, world.commissioner, round_id)
    ev = evidence(world, pilot, closed_only=True)
    result = ev.indispensability
    assert (result.very_disappointed, result.n, result.minimum_n) == (3, 6, 5)
    assert result.score == 0.5
    assert (result.low, result.high) == wilson_interval(3, 6)
    assert result.status == "pass"
    assert result.text.startswith("50 % very disappointed (95 % CI 19 %–81 %, n=6)")
    assert ev.sus_mean == 70.0 and ev.sus_n == 4
    assert ev.round_closed and ev.round_number == 1


def test_a_fail_is_reported_with_its_interval_too(world, small_charter):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY if i < 2 else NOT) for i, m in enumerate(world.members)])
    result = evidence(world, pilot).indispensability
    assert result.status == "fail" and result.score == pytest.approx(1 / 3)
    assert (result.low, result.high) == wilson_interval(2, 6)


def test_below_the_charter_minimum_the_score_is_insufficient_never_a_passing_number(world):
    _, pilot = world.pilot_in_use()  # default charter: at least 30 responses
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])  # 6 of 6 very disappointed
    result = evidence(world, pilot).indispensability
    assert result.status == "insufficient" and not result.passed
    assert result.score is None and result.low is None and result.high is None
    assert result.text == "insufficient evidence (6 of 30 responses needed)"


def test_insufficient_evidence_makes_adopt_unavailable_on_the_outcome_vote(world):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote_id = sv.open_outcome_vote(world.uow, world.steering, pilot)
    vote = read(world, lambda s: s.get(Vote, vote_id))
    assert vote.adopt_available is False and vote.proposed_outcome == "revisit_problem"
    with world.refuses(RuleViolation, match="Adopt is not available on this vote"):
        sv.cast_ballot(world.uow, world.members[0], vote_id, "adopt")


def test_an_open_round_blocks_the_outcome_vote_and_an_open_vote_blocks_a_new_round(world, open_round):
    pilot, round_id = open_round
    with world.refuses(RuleViolation, match="A survey round is still open"):
        sv.open_outcome_vote(world.uow, world.steering, pilot)
    sv.close_survey_round(world.uow, world.commissioner, round_id)
    sv.open_outcome_vote(world.uow, world.steering, pilot)
    with world.refuses(RuleViolation, match="The outcome vote is open"):
        sv.open_survey_round(world.uow, world.commissioner, pilot)


def test_each_round_keeps_counts_equal_to_a_recount_of_its_current_responses(world):
    """The kept counts (read by Compare, Home and every decision basis) follow revisions."""
    users = world.rostered_users(6)
    _, pilot = world.pilot_in_use(roster=users)
    world.pass_window()
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    for i, person in enumerate(users):
        sus = [5, 1, 5, 1, 5, 1, 5, 1, 5, 1] if i % 2 else None
        sv.submit_survey_response(world.uow, person, rnd, answer="very_disappointed", sus=sus)
    sv.submit_survey_response(world.uow, users[0], rnd, answer="not_disappointed")  # a change of mind
    sv.submit_survey_response(world.uow, users[1], rnd, answer="no_longer_use",
                              sus=[3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
    with world.db.uow().reading() as s:
        kept, counted = round_counts(s, rnd), recount_round(s, rnd)
    assert kept == counted
    assert kept["n"] == 6 and kept["answers"]["very_disappointed"] == 4
    assert kept["sus_n"] == 3 and kept["sus_mean"] == (100 + 100 + 50) / 3
