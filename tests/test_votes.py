"""R8 binding votes, end to end through the services and a real database.

Eligible voters are fixed when a vote opens; a member of the pilot's
commissioning team votes as commissioning, never as frontline; ballots can be
changed until close (all kept, only the latest counted); a vote is closed by
a facilitator of its panel or by steering, or by the system at its deadline;
running tallies are readable before close by auditors only (query layer);
panel votes ratify, lock and amend only when they pass.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from governance import services as sv
from governance.errors import ConflictOfInterest, InvalidInput, NotFound, PermissionDenied, RuleViolation
from governance.rules.ballots import voter_token
from governance.storage.models import (
    Amendment,
    AuditEvent,
    Ballot,
    CriteriaLock,
    Criterion,
    Decision,
    Pilot,
    Problem,
    ProblemVersion,
    SecretBallot,
    Vote,
    VoteEligibility,
)
from governance.storage.repository import tally_of as compute_tally
from governance.vocabulary import PanelRole
from tests.world import VERY


@pytest.fixture
def votes_queries():
    """The Votes read model (query layer), where running tallies are guarded."""
    return pytest.importorskip("governance.queries.votes")


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def tally_of(world, vote_id):
    return read(world, lambda s: compute_tally(s, s.get(Vote, vote_id)))


def eligibility(world, vote_id) -> dict[int, str]:
    return dict(read(world, lambda s: s.execute(
        select(VoteEligibility.person_id, VoteEligibility.voting_group)
        .where(VoteEligibility.vote_id == vote_id)).all()))


def ballots_of(world, vote_id, person_id):
    return read(world, lambda s: s.scalars(select(Ballot).where(
        Ballot.vote_id == vote_id, Ballot.person_id == person_id).order_by(Ballot.id)).all())


def open_outcome_vote(world, *, team=(), **kw) -> tuple[int, int]:
    """(pilot, vote): a pilot past its window with a closed survey round and its outcome vote open."""
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    for member in team:
        world.join_team(pilot, member)
    sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)
    world.make_ready(pilot)
    sv.start_real_use(world.uow, world.commissioner, pilot)
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    return pilot, sv.open_outcome_vote(world.uow, world.steering, pilot, **kw)


@pytest.fixture
def outcome(world):
    return open_outcome_vote(world)


# ----------------------------------------------------------- the electorate
def test_the_electorate_is_the_panel_the_pilots_team_and_steering(world, outcome):
    _, vote = outcome
    groups = eligibility(world, vote)
    assert {p for p, g in groups.items() if g == "frontline"} == set(world.panel_voters)
    assert {p for p, g in groups.items() if g == "commissioning"} == {world.commissioner}
    assert {p for p, g in groups.items() if g == "steering"} == {world.steering}
    assert world.auditor not in groups and world.outsider not in groups


def test_someone_added_to_the_panel_after_the_vote_opened_cannot_vote(world, outcome):
    _, vote = outcome
    newcomer = world.person("Nina Newcomer", ["frontline"])
    sv.add_panel_member(world.uow, world.admin, world.panel, newcomer)
    with world.refuses(PermissionDenied, match="not among the eligible voters .*fixed when it opened"):
        sv.cast_ballot(world.uow, newcomer, vote, "iterate")
    assert newcomer not in eligibility(world, vote)


def test_someone_who_left_the_panel_after_the_vote_opened_keeps_their_vote(world, outcome):
    _, vote = outcome
    leaver = world.members[-1]
    sv.remove_panel_member(world.uow, world.admin, world.panel, leaver)
    sv.cast_ballot(world.uow, leaver, vote, "stop")
    assert tally_of(world, vote).groups["frontline"].counts == {"stop": 1}


@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_people_without_a_voting_role_cannot_vote(world, outcome, who):
    _, vote = outcome
    with world.refuses(PermissionDenied, match="may not cast a ballot"):
        sv.cast_ballot(world.uow, getattr(world, who), vote, "iterate")


def test_a_frontline_person_outside_the_panel_cannot_vote(world, outcome):
    _, vote = outcome
    with world.refuses(PermissionDenied, match="not among the eligible voters"):
        sv.cast_ballot(world.uow, world.outsider, vote, "iterate")


def test_a_voter_cannot_choose_another_group(world, outcome):
    _, vote = outcome
    with world.refuses(PermissionDenied, match="You vote in the steering group on this vote"):
        sv.cast_ballot(world.uow, world.steering, vote, "iterate", as_group="frontline")
    with world.refuses(PermissionDenied, match="You vote in the frontline group"):
        sv.cast_ballot(world.uow, world.members[0], vote, "iterate", as_group="steering")


# ----------------------------------------------------- conflict of interest
def test_a_panel_member_on_the_pilots_team_votes_as_commissioning_not_frontline(world):
    conflicted = world.members[0]
    _, vote = open_outcome_vote(world, team=[conflicted])
    groups = eligibility(world, vote)
    assert groups[conflicted] == "commissioning"
    assert sorted(p for p, g in groups.items() if g == "commissioning") == sorted(
        [world.commissioner, conflicted])
    with world.refuses(ConflictOfInterest, match="cannot vote in the frontline group on it \\(conflict of "
                                                 "interest, R8\\)") as info:
        sv.cast_ballot(world.uow, conflicted, vote, "iterate", as_group="frontline")
    assert info.value.rule == "R8"
    sv.cast_ballot(world.uow, conflicted, vote, "iterate")
    (ballot,) = ballots_of(world, vote, conflicted)
    assert ballot.voting_group == "commissioning"
    counted = tally_of(world, vote)
    assert counted.groups["commissioning"].counts == {"iterate": 1}
    assert counted.groups["frontline"].cast == 0


def test_a_frontline_voter_cannot_join_the_pilots_team_while_the_vote_is_open(world, outcome):
    """Otherwise they would vote as frontline on a pilot their own team commissioned: the team
    froze when real use started, long before any outcome vote (R15)."""
    pilot, vote = outcome
    member = world.members[0]
    with world.refuses(RuleViolation, match="froze when real use started"):
        sv.add_team_member(world.uow, world.commissioner, pilot, member)
    sv.cast_ballot(world.uow, member, vote, "iterate")
    world.close_at_deadline(vote, world.steering)
    # After the close the team is still frozen: it froze when real use started (R15).
    with world.refuses(RuleViolation, match="froze when real use started"):
        sv.add_team_member(world.uow, world.commissioner, pilot, member)


# ------------------------------------------------------------------ ballots
def test_a_changed_ballot_is_kept_and_only_the_latest_counts(world, outcome):
    """A frontline ballot is secret (R17): kept under the voter's token, a new receipt each time."""
    _, vote = outcome
    member = world.members[0]
    first = sv.cast_ballot(world.uow, member, vote, "iterate")
    world.clock.advance(hours=1)
    second = sv.cast_ballot(world.uow, member, vote, "stop")
    assert first.secret and second.secret and first.receipt != second.receipt
    token = voter_token(world.db.keys.ballot_key(), vote, member)
    rows = read(world, lambda s: s.execute(select(SecretBallot.receipt, SecretBallot.option,
                                                  SecretBallot.is_current)
                                           .where(SecretBallot.voter_token == token)).all())
    assert sorted(rows) == sorted([(first.receipt, "iterate", False), (second.receipt, "stop", True)])
    assert tally_of(world, vote).groups["frontline"].counts == {"stop": 1}
    events = read(world, lambda s: s.execute(select(AuditEvent.action, AuditEvent.actor_id).where(
        AuditEvent.entity_type == "vote", AuditEvent.entity_id == str(vote),
        AuditEvent.action.like("secret_ballot.%")).order_by(AuditEvent.seq)).all())
    # Taking part is on the record by name; the change is not (it would count a voter's changes).
    assert [tuple(e) for e in events] == [("secret_ballot.cast", member), ("secret_ballot.changed", None)]


def test_a_changed_open_ballot_is_kept_and_only_the_latest_counts(world):
    """Groups on the record by name keep each ballot, with its time, and the audit event names the option."""
    world.open_ballots()
    _, vote = open_outcome_vote(world)
    member = world.members[0]
    first = sv.cast_ballot(world.uow, member, vote, "iterate").ballot_id
    world.clock.advance(hours=1)
    second = sv.cast_ballot(world.uow, member, vote, "stop").ballot_id
    rows = ballots_of(world, vote, member)
    assert [(b.id, b.option, b.is_current) for b in rows] == [(first, "iterate", False),
                                                              (second, "stop", True)]
    assert rows[0].cast_at < rows[1].cast_at
    assert tally_of(world, vote).groups["frontline"].counts == {"stop": 1}
    actions = read(world, lambda s: s.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "ballot", AuditEvent.entity_id.in_([str(first), str(second)]))
        .order_by(AuditEvent.seq)).all())
    assert actions == ["ballot.cast", "ballot.changed"]


def test_casting_the_same_option_again_is_refused(world, outcome):
    _, vote = outcome
    sv.cast_ballot(world.uow, world.members[0], vote, "iterate")
    with world.refuses(InvalidInput, match="Your ballot is already 'Iterate'"):
        sv.cast_ballot(world.uow, world.members[0], vote, "iterate")


@pytest.mark.parametrize("option", ["approve", "maybe", ""])
def test_an_option_the_vote_does_not_offer_is_refused(world, outcome, option):
    _, vote = outcome
    with world.refuses(InvalidInput, match="is not an option of this vote"):
        sv.cast_ballot(world.uow, world.members[0], vote, option)


def test_an_unknown_vote_is_not_found(world, outcome):
    with world.refuses(NotFound, match="There is no vote #9999"):
        sv.cast_ballot(world.uow, world.members[0], 9999, "iterate")


# ------------------------------------------------------------------ opening
def test_only_a_facilitator_of_the_panel_or_steering_opens_an_outcome_vote(world):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    with world.refuses(PermissionDenied, match="may not open an outcome vote"):
        sv.open_outcome_vote(world.uow, world.commissioner, pilot)
    with world.refuses(PermissionDenied, match="may not open an outcome vote"):
        sv.open_outcome_vote(world.uow, world.members[0], pilot)
    other = world.person("Felix Elsewhere", ["frontline", "facilitator"])
    with world.refuses(PermissionDenied):
        sv.open_outcome_vote(world.uow, other, pilot)
    assert sv.open_outcome_vote(world.uow, world.facilitator, pilot)


def test_a_second_outcome_vote_on_the_same_pilot_is_refused(world, outcome):
    pilot, _ = outcome
    with world.refuses(RuleViolation, match="An outcome vote on .* is already open"):
        sv.open_outcome_vote(world.uow, world.steering, pilot)


# ------------------------------------------------------------------ closing
def cast_all(world, vote, frontline="iterate", commissioning="iterate", steering="iterate"):
    for voter in world.panel_voters:
        sv.cast_ballot(world.uow, voter, vote, frontline)
    sv.cast_ballot(world.uow, world.commissioner, vote, commissioning)
    sv.cast_ballot(world.uow, world.steering, vote, steering)


def other_panel_facilitator(world) -> int:
    felix = world.person("Felix Elsewhere", ["frontline", "facilitator"])
    panel = sv.create_panel(world.uow, world.admin, name="Hillside Depot Panel", area="Roads",
                            site="Hillside")
    sv.add_panel_member(world.uow, world.admin, panel, felix, PanelRole.FACILITATOR)
    return felix


def test_only_a_facilitator_of_the_votes_panel_or_steering_closes_it(world, outcome):
    _, vote = outcome
    cast_all(world, vote)
    felix = other_panel_facilitator(world)
    with world.refuses(PermissionDenied, match="Only steering or a facilitator of Riverside Clinic Panel"):
        sv.close_vote(world.uow, felix, vote, statement="The result stands.")
    for who in (world.members[0], world.commissioner, world.auditor, world.admin):
        with world.refuses(PermissionDenied, match="may not close a vote"):
            sv.close_vote(world.uow, who, vote, statement="The result stands.")
    decision = world.close_at_deadline(vote, world.facilitator)
    closed = read(world, lambda s: s.get(Vote, vote))
    assert closed.status == "closed" and closed.closed_by == world.facilitator and closed.outcome == "iterate"
    assert decision is not None


def test_steering_closes_a_vote_and_a_closed_vote_stays_closed(world, outcome):
    _, vote = outcome
    cast_all(world, vote, frontline="stop")
    world.close_at_deadline(vote, world.steering)
    with world.refuses(RuleViolation, match="already closed"):
        sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    with world.refuses(RuleViolation, match="ballots can no longer be cast or changed"):
        sv.cast_ballot(world.uow, world.members[0], vote, "iterate")
    with world.refuses(RuleViolation, match="ballots can no longer be cast or changed"):
        sv.cast_ballot(world.uow, world.outsider, vote, "iterate")


def test_after_the_deadline_ballots_are_refused_and_the_system_closes_the_vote(world, outcome):
    pilot, vote = outcome
    cast_all(world, vote, frontline="stop")
    # Before the deadline nothing is due, and nothing is written.
    before = world.fingerprint()
    assert sv.close_due_votes(world.uow) == []
    assert world.fingerprint() == before
    world.clock.advance(days=7, seconds=1)
    with world.refuses(RuleViolation, match="deadline passed"):
        sv.cast_ballot(world.uow, world.members[0], vote, "iterate")
    assert sv.close_due_votes(world.uow) == [vote]
    closed = read(world, lambda s: s.get(Vote, vote))
    assert closed.status == "closed" and closed.closed_by is None and closed.outcome == "stop"
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.closed")
                                           .order_by(AuditEvent.seq.desc()).limit(1)))
    assert event.actor_id is None and event.actor_name == "system"
    assert json.loads(event.payload)["after"]["at_deadline"] is True
    decision = read(world, lambda s: s.scalar(select(Decision).where(Decision.vote_id == vote)))
    assert decision.declared_by is None
    assert json.loads(decision.basis_json)["closed_by"] == {"person_id": None,
                                                           "name": "system (deadline passed)"}
    assert read(world, lambda s: s.get(Pilot, pilot).state) == "decided"
    assert sv.close_due_votes(world.uow) == []  # nothing left to close


# ----------------------------------------------------------- running tally
def test_the_running_tally_is_hidden_before_close_from_everyone(world, outcome, votes_queries):
    """R8: auditors and operators included."""
    _, vote = outcome
    cast_all(world, vote, frontline="stop")
    for who in (world.members[0], world.facilitator, world.commissioner, world.steering, world.admin,
                world.auditor):
        with world.refuses(PermissionDenied, match="Running tallies are hidden until the vote closes") \
                as info:
            votes_queries.running_tally(world.uow, who, vote)
        assert info.value.rule == "R8"
    detail = votes_queries.vote_detail(world.uow, world.members[0], vote)
    assert detail.result is None and not detail.running_visible


def test_after_close_everyone_with_a_role_reads_the_result(world, outcome, votes_queries):
    _, vote = outcome
    cast_all(world, vote, frontline="stop")
    world.close_at_deadline(vote, world.steering)
    stored = json.loads(read(world, lambda s: s.get(Vote, vote).result_json))
    counted = {k: v for k, v in stored.items() if k not in ("secret_ballots", "named_ballots")}  # published beside it
    for who in (world.members[0], world.commissioner, world.steering, world.auditor):
        assert votes_queries.running_tally(world.uow, who, vote).as_dict() == counted
    assert votes_queries.vote_detail(world.uow, world.members[0], vote).result == stored


def test_the_running_tally_of_an_unknown_vote_is_not_found(world, votes_queries):
    with pytest.raises(NotFound):
        votes_queries.running_tally(world.uow, world.auditor, 424242)


# -------------------------------------------------------------- panel votes
def problem_state(world, problem_id):
    return read(world, lambda s: s.get(Problem, problem_id).state)


def draft_with_criterion(world) -> int:
    problem = world.draft_problem()
    world.add_criterion(problem)
    return problem


def test_a_ratification_that_passes_ratifies_the_problem(world):
    problem = draft_with_criterion(world)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    world.pass_panel_vote(vote, approve=4)  # 4 of 7 approve
    assert problem_state(world, problem) == "ratified"
    version = read(world, lambda s: s.scalar(select(ProblemVersion).where(
        ProblemVersion.problem_id == problem)))
    assert version.ratified_by_vote_id == vote
    assert read(world, lambda s: s.get(Vote, vote).passed) is True


@pytest.mark.parametrize(("approve", "reject"), [(3, 4), (3, 3), (0, 7), (3, 0)],
                         ids=["rejected", "tie", "unanimous-reject", "no-quorum"])
def test_a_ratification_that_does_not_pass_changes_nothing(world, approve, reject):
    problem = draft_with_criterion(world)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    voters = world.panel_voters
    for pid in voters[:approve]:
        sv.cast_ballot(world.uow, pid, vote, "approve")
    for pid in voters[approve:approve + reject]:
        sv.cast_ballot(world.uow, pid, vote, "reject")
    world.close_at_deadline(vote, world.facilitator)
    assert problem_state(world, problem) == "draft"
    closed = read(world, lambda s: s.get(Vote, vote))
    assert closed.passed is False and closed.status == "closed"
    assert closed.quorum_met is (approve + reject >= 4)


def test_only_a_facilitator_of_the_owning_panel_proposes_a_panel_vote(world):
    problem = draft_with_criterion(world)
    with world.refuses(PermissionDenied, match="may not open a panel vote"):
        sv.propose_ratification(world.uow, world.members[0], problem)
    felix = other_panel_facilitator(world)
    with world.refuses(PermissionDenied):
        sv.propose_ratification(world.uow, felix, problem)


def test_only_the_panel_votes_on_its_problems(world):
    problem = draft_with_criterion(world)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    for who in (world.commissioner, world.steering, world.outsider):
        with world.refuses(PermissionDenied, match="not among the eligible voters"):
            sv.cast_ballot(world.uow, who, vote, "approve")
    with world.refuses(InvalidInput, match="not an option of this vote"):
        sv.cast_ballot(world.uow, world.members[0], vote, "adopt")


def test_a_second_ratification_vote_is_refused_while_one_is_open(world):
    problem = draft_with_criterion(world)
    sv.propose_ratification(world.uow, world.facilitator, problem)
    with world.refuses(RuleViolation, match="already open"):
        sv.propose_ratification(world.uow, world.facilitator, problem)


def test_a_lock_applies_only_when_its_vote_passes(world):
    problem = world.ratified_problem()
    failed = sv.propose_criteria_lock(world.uow, world.facilitator, problem)
    world.pass_panel_vote(failed, approve=2)
    assert read(world, lambda s: s.scalar(select(func.count()).select_from(CriteriaLock))) == 0
    passed = sv.propose_criteria_lock(world.uow, world.facilitator, problem)
    world.pass_panel_vote(passed)
    lock = read(world, lambda s: s.scalar(select(CriteriaLock)))
    assert lock.vote_id == passed and len(lock.criteria_sha256) == 64


def test_an_amendment_applies_only_when_its_vote_passes_and_keeps_the_original(world):
    problem = world.locked_problem()
    criterion = read(world, lambda s: s.scalar(select(Criterion.id).where(
        Criterion.name == "Minutes re-keying per week")))
    rejected = sv.propose_amendment(world.uow, world.members[0], criterion, target=45,
                                    reason="Clinics already reached 60 minutes; aim higher.")
    world.pass_panel_vote(rejected, approve=1)
    assert read(world, lambda s: s.get(Criterion, criterion).target) == 60
    first = read(world, lambda s: s.scalar(select(Amendment).order_by(Amendment.id)))
    assert first.status == "rejected"
    applied = sv.propose_amendment(world.uow, world.members[1], criterion, target=50,
                                   reason="A compromise the panel can stand behind.")
    world.pass_panel_vote(applied)
    assert read(world, lambda s: s.get(Criterion, criterion).target) == 50
    second = read(world, lambda s: s.scalar(select(Amendment).order_by(Amendment.id.desc())))
    assert second.status == "applied" and json.loads(second.before_json) == {"target": 60.0}
    assert second.after_real_use is False and len(second.resulting_sha256) == 64
    assert problem_state(world, problem) == "ratified"


def test_a_panel_vote_closed_at_its_deadline_still_applies_its_effect(world):
    problem = draft_with_criterion(world)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem, days=3)
    for pid in world.panel_voters[:5]:
        sv.cast_ballot(world.uow, pid, vote, "approve")
    world.clock.advance(days=3, seconds=1)
    assert sv.close_due_votes(world.uow) == [vote]
    assert problem_state(world, problem) == "ratified"
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(AuditEvent.action == "problem.ratified")))
    assert event.actor_name == "system"
