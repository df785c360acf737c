"""No side doors (R15, R16): nobody with a stake in a pilot shapes who answers, who votes,
or when the vote ends. Each test is an attack a commissioning team or a steering member
with an interest in the result would try; each asserts the specific refusal and that
nothing was written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from governance import services as sv
from governance.errors import PermissionDenied, RuleViolation
from governance.rules.electorate import TeamMembership, pilot_electorate
from governance.rules.voting import tally_outcome
from governance.storage.models import RosterChange, TeamInvitation, Vote, VoteEligibility
from tests.test_record_operators import small_charter
from tests.world import NOT, VERY, World


def eligibility(world: World, vote: int) -> dict[int, str]:
    with world.db.uow().reading() as s:
        return dict(s.execute(select(VoteEligibility.person_id, VoteEligibility.voting_group)
                              .where(VoteEligibility.vote_id == vote)).all())


# ------------------------------------------------------------ roster stuffing
def test_roster_stuffing_during_an_open_round_is_refused(world: World) -> None:
    """1 of 6 real users answered 'very disappointed'; the team then tried to add 14 people who
    never used the tool so they could answer too."""
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    rnd = world.survey(pilot, [(world.members[0], VERY)] + [(m, NOT) for m in world.members[1:]], close=False)
    stuffing = world.rostered_users(14, prefix="Never used it")
    with world.refuses(RuleViolation, match="Round 1 of the survey .* is open: nobody can add anyone to the "
                                            "roster until it closes") as info:
        sv.add_to_roster(world.uow, world.commissioner, pilot, stuffing)
    assert info.value.rule == "R15"
    with world.refuses(RuleViolation, match="nobody can remove anyone from the roster until it closes"):
        sv.remove_from_roster(world.uow, world.commissioner, pilot, world.members[1],
                              reason="They said it was not for them.")
    sv.close_survey_round(world.uow, world.commissioner, rnd)


def test_someone_added_after_real_use_answers_only_after_their_own_window(world: World) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.clock.advance(days=2)
    late = world.rostered_users(1, prefix="Late joiner")[0]
    sv.add_to_roster(world.uow, world.commissioner, pilot, [late])
    world.clock.advance(days=29)  # the pilot's 30 days have passed, the newcomer's have not
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    with world.refuses(RuleViolation, match="answer only rounds that open from") as info:
        sv.submit_survey_response(world.uow, late, rnd, answer=VERY)
    assert info.value.rule == "R15"
    sv.submit_survey_response(world.uow, world.members[0], rnd, answer=VERY)


def test_a_removal_after_real_use_needs_a_reason_and_is_kept(world: World) -> None:
    _, pilot = world.pilot_in_use()
    with world.refuses(Exception, match="Reason for the removal is empty"):
        sv.remove_from_roster(world.uow, world.commissioner, pilot, world.members[0])
    sv.remove_from_roster(world.uow, world.commissioner, pilot, world.members[0],
                          reason="Moved to the night shift; no longer uses it.")
    with world.db.uow().reading() as s:
        change = s.scalar(select(RosterChange).where(RosterChange.change == "removed"))
        assert change.after_real_use and change.reason.startswith("Moved")


# --------------------------------------------------- conscripting voters
def test_nobody_is_put_on_a_team_without_accepting(world: World) -> None:
    """register_pilot accepted any team_ids: five panel members conscripted out of the frontline."""
    problem = world.locked_problem()
    pilot = sv.register_pilot(world.uow, world.commissioner, problem_id=problem, title="Conscription",
                              description="x", owner_id=world.commissioner, team_ids=world.members[:5],
                              metrics=[dict(name="Speed", definition="x", unit="minutes",
                                            direction="lower_is_better", target=3)])
    from governance.storage.repository import team_of

    with world.db.uow().reading() as s:
        assert team_of(s, pilot) == [world.commissioner]  # invited, not on it
        invitations = s.scalars(select(TeamInvitation).where(TeamInvitation.pilot_id == pilot)).all()
        assert {i.person_id for i in invitations} == set(world.members[:5])
        mine = next(i.id for i in invitations if i.person_id == world.members[0])
    with world.refuses(PermissionDenied, match="Only the person invited may accept"):
        sv.accept_team_invitation(world.uow, world.commissioner, mine)
    sv.decline_team_invitation(world.uow, world.members[0], mine)
    with world.refuses(RuleViolation, match="already declined"):
        sv.accept_team_invitation(world.uow, world.members[0], mine)


def test_the_team_freezes_at_real_use_and_a_removed_member_stays_out_of_the_frontline(world: World) -> None:
    small_charter(world)
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    world.join_team(pilot, world.members[0])
    pending = sv.add_team_member(world.uow, world.commissioner, pilot, world.members[1])
    sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)
    world.make_ready(pilot)
    sv.start_real_use(world.uow, world.commissioner, pilot)
    with world.refuses(RuleViolation, match="froze when real use started"):
        sv.accept_team_invitation(world.uow, world.members[1], pending)
    with world.refuses(RuleViolation, match="froze when real use started"):
        sv.add_team_member(world.uow, world.commissioner, pilot, world.members[2])
    sv.remove_team_member(world.uow, world.commissioner, pilot, world.members[0],
                          reason="Back to the ward full time after real use began.")
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    groups = eligibility(world, vote)
    assert world.members[0] not in groups  # on the team at real use: never frontline on this pilot
    assert groups[world.members[1]] == "frontline"  # never joined


def test_an_auditor_is_never_on_a_team_and_the_owner_is_commissioning(world: World) -> None:
    problem = world.locked_problem()
    with world.refuses(RuleViolation, match="is an auditor; an auditor is never on a pilot's team"):
        sv.register_pilot(world.uow, world.commissioner, problem_id=problem, title="Audited", description="x",
                          owner_id=world.commissioner, team_ids=[world.auditor])
    with world.refuses(RuleViolation, match="does not hold the commissioning role"):
        sv.register_pilot(world.uow, world.commissioner, problem_id=problem, title="Owned", description="x",
                          owner_id=world.members[0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["join", "leave"]), st.integers(0, 9), st.integers(-5, 30)),
                max_size=12))
def test_no_team_change_after_real_use_removes_a_panel_member_from_the_frontline(changes) -> None:
    """Property (R15): whatever joins and removals happen after real use, the electorate of the
    next outcome vote holds every panel member who was not on the team when real use started."""
    from datetime import UTC, datetime

    start = datetime(2026, 3, 2, tzinfo=UTC)
    panel = list(range(1, 11))
    at_start = {1, 2}
    members = {p: TeamMembership(p, start - timedelta(days=1), None) for p in at_start}
    for kind, who, day in changes:
        person, when = panel[who], start + timedelta(days=day)
        if when <= start:
            continue  # before real use the team may still change: not what the property is about
        if kind == "join":  # the service refuses this after real use; even if it happened…
            members.setdefault(person, TeamMembership(person, when, None))
        elif person in members and members[person].removed_at is None:
            members[person] = TeamMembership(person, members[person].joined_at, when)
    electorate = pilot_electorate(panel=panel, members=list(members.values()), steering=[99],
                                  real_use_started_at=start, active=[*panel, 99])
    frontline = {p for p, g in electorate.items() if g == "frontline"}
    joined_later = {p for p, m in members.items() if m.joined_at and m.joined_at > start and m.removed_at is None}
    assert set(panel) - at_start - joined_later <= frontline
    assert not frontline & at_start


# ------------------------------------------------------- picking the moment
def test_steering_cannot_close_an_outcome_vote_early_while_voters_are_missing(world: World) -> None:
    """A steering member closed a vote 6 days early with 4 of 10 not yet voted."""
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot, days=7)
    for voter in world.panel_voters[:3]:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    sv.cast_ballot(world.uow, world.steering, vote, "adopt")
    world.clock.advance(days=1)
    with world.refuses(RuleViolation, match=r"closes at its deadline, .* whoever is looking: it can close "
                                            r"earlier only when every eligible voter has voted, and 4 of 9 have "
                                            r"\(frontline 3 of 7, commissioning 0 of 1, steering 1 of 1\)") as info:
        sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    assert info.value.rule == "R16"


def test_a_facilitator_cannot_close_a_ratification_three_minutes_after_opening_it(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    sv.cast_ballot(world.uow, world.facilitator, vote, "approve")
    world.clock.advance(minutes=3)
    with world.refuses(RuleViolation, match="can close earlier only when every eligible voter has voted"):
        sv.close_vote(world.uow, world.facilitator, vote, statement="The result stands.")


def test_the_proposer_sets_the_deadline_within_the_charters_bounds(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    for days in (1, 2, 31):
        with world.refuses(Exception, match="stays open from 3 to 30 days"):
            sv.propose_ratification(world.uow, world.facilitator, problem, days=days)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem,
                                   deadline=world.clock.now() + timedelta(days=10))
    with world.db.uow().reading() as s:
        v = s.get(Vote, vote)
        assert timedelta(days=9, hours=23) < v.deadline - v.opened_at <= timedelta(days=10)


def test_everyone_voted_closes_early(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    world.pass_panel_vote(vote)  # every panel member votes, then the facilitator closes
    with world.db.uow().reading() as s:
        assert s.get(Vote, vote).status == "closed"


# ------------------------------------------------------ auditor and voter
def test_the_auditor_role_is_never_combined_with_a_voting_role(world: World) -> None:
    """An administrator granted a person frontline and auditor; they read the running tally and voted."""
    with world.refuses(RuleViolation, match="auditor role cannot be combined with Frontline") as info:
        sv.set_roles(world.uow, world.admin, world.members[0], ["frontline", "auditor"])
    assert info.value.rule == "R15"
    with world.refuses(RuleViolation, match="auditor role cannot be combined with Steering"):
        sv.create_person(world.uow, world.admin, name="Two Hats", email="two.hats@example.org",
                         roles=["steering", "auditor"])


def test_nobody_reads_a_running_tally_not_even_the_auditor(world: World) -> None:
    from governance.queries.votes import running_tally

    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    for who in (world.auditor, world.steering, world.admin, world.facilitator):
        with pytest.raises(PermissionDenied, match="Running tallies are hidden until the vote closes"):
            running_tally(world.uow, who, vote)


# ------------------------------------------------------ a revoked role
def test_a_revoked_steering_role_stops_new_ballots_but_an_earlier_ballot_stands(world: World) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    colleague = world.person("Sam Steering", ["steering"])
    sv.cast_ballot(world.uow, colleague, vote, "iterate") if colleague in eligibility(world, vote) else None
    late = world.person("Lee Steering", ["steering"])
    assert late not in eligibility(world, vote)  # fixed when it opened
    sv.cast_ballot(world.uow, world.steering, vote, "adopt")
    sv.set_roles(world.uow, world.admin, world.steering, ["frontline"])
    with world.refuses(PermissionDenied, match="no longer holds the role of the steering group, so cannot "
                                               "cast or change a ballot in it; a ballot cast earlier stands") as i:
        sv.cast_ballot(world.uow, world.steering, vote, "stop")
    assert i.value.rule == "R15"
    from governance.storage.repository import tally_of

    with world.db.uow().reading() as s:
        assert tally_of(s, s.get(Vote, vote)).groups["steering"].counts == {"adopt": 1}


# ------------------------------------------------ small inconsistencies
def test_a_plain_member_cannot_open_the_panels_outcome_vote(world: World) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    member_facilitator = world.person("Mia Member", ["frontline", "facilitator"])
    sv.add_panel_member(world.uow, world.admin, world.panel, member_facilitator)  # a member, not its facilitator
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    with world.refuses(PermissionDenied, match="Only a facilitator of the owning panel may open its pilots' "
                                               "outcome votes") as info:
        sv.open_outcome_vote(world.uow, member_facilitator, pilot)
    assert info.value.rule == "R2"


# ------------------------------------------------------ the tie-break note
@pytest.mark.parametrize("proposed,step", [(None, "caution order"), ("revisit_problem", "proposed outcome")])
def test_the_tally_names_the_step_that_really_broke_the_tie(proposed, step) -> None:
    """adopt, revisit and stop tie at 3/10 each, with frontline shares 2/5, 2/5 and 0: the
    frontline share only eliminates stop; the next step decides between adopt and revisit."""
    ballots = ([("frontline", "adopt")] * 2 + [("frontline", "revisit_problem")] * 2 + [("frontline", "iterate")]
               + [("commissioning", "stop")] * 4
               + [("steering", "stop")] + [("steering", "adopt")] * 2 + [("steering", "revisit_problem")] * 2)
    result = tally_outcome(ballots, eligible={"frontline": 5, "commissioning": 4, "steering": 5},
                           weights={"frontline": 0.5, "commissioning": 0.25, "steering": 0.25},
                           quorums={"frontline": 0.5, "commissioning": 0.5, "steering": 0.5},
                           frontline_veto=True, proposed=proposed)
    assert result.combined["adopt"] == result.combined["revisit_problem"] == result.combined["stop"]
    assert str(result.combined["stop"]) == "3/10"
    assert result.winner == "revisit_problem"
    assert result.tie_break == step
    assert f"broken by {step}" in result.notes[-1]
