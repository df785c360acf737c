"""Binding votes (R8): opening them and casting ballots.

Panel votes ratify a problem, lock its criteria and amend a locked
criterion: only the owning panel votes. Outcome votes decide a pilot: the
frontline panel, the pilot's commissioning team and steering vote in their
groups, combined with the charter's weights (``governance.rules.voting``).
Eligible voters are fixed when a vote opens. Ballots can be changed until
the vote closes (every ballot is kept; only the latest counts). Closing and
declaring are ``governance.services.decisions``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.errors import ConflictOfInterest, InvalidInput, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.record.chain import canonical_json
from governance.record.events import problems as problem_events, votes as events
from governance.rules.ballots import (
    REASON_MAX,
    commitment,
    dump_groups,
    new_ballot_id,
    new_receipt,
    parse_groups,
    reason_refused_in_secret,
    voter_token,
)
from governance.rules.charter import terms_of
from governance.rules.deadlines import vote_deadline
from governance.rules.electorate import panel_electorate, pilot_electorate, still_in_group
from governance.rules.paper import ONLINE, double_refusal, holder_token
from governance.rules.permissions import Action
from governance.services._base import get, log, need, session_of
from governance.services.evaluation import open_vote_on, require_window
from governance.services.people import require_panel_member
from governance.services.problems import check_amendment, check_can_lock, check_can_ratify
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Amendment,
    Ballot,
    Charter,
    Criterion,
    Pilot,
    PilotTeamMember,
    Problem,
    ProblemVersion,
    SecretBallot,
    SurveyRound,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.storage.repository import (
    active_people,
    criteria_of,
    current_charter,
    panel_voters,
    paper_entered,
    pilot_evidence,
    steering_people,
    team_memberships,
)
from governance.validation import text
from governance.vocabulary import (
    AmendmentStatus,
    Outcome,
    PanelOption,
    PanelRole,
    PilotState,
    Role,
    VoteKind,
    VoteStatus,
    VotingGroup,
    label,
)


def _deadline(uow: UnitOfWork, charter: Charter, days: Any, deadline: Any) -> datetime:
    """R16: the proposer chooses the deadline, within the charter's bounds."""
    return vote_deadline(uow.now(), charter.vote_min_days, charter.vote_max_days, days=days, deadline=deadline)


def secret_groups_for(kind: str, charter: Charter) -> tuple[str, ...]:
    """R17: which groups vote in secret, fixed when the vote opens. Panel votes
    (only the frontline votes) follow the charter's frontline setting."""
    groups = terms_of(charter).secret_groups
    if kind != VoteKind.OUTCOME:
        return tuple(g for g in groups if g == VotingGroup.FRONTLINE)
    return groups


def _open_duplicate(s: Session, **subject: Any) -> Vote | None:
    q = select(Vote).where(Vote.status == VoteStatus.OPEN)
    for key, value in subject.items():
        q = q.where(getattr(Vote, key) == value)
    return s.scalar(q)


def _open(uow: UnitOfWork, actor: Actor, vote: Vote, eligible: dict[int, str]) -> int:
    s = session_of(uow)
    charter = need(s.get(Charter, vote.charter_id), "charter")
    groups = secret_groups_for(vote.kind, charter)
    vote.secret_groups = dump_groups(groups)
    s.add(vote)
    s.flush()
    s.add_all(VoteEligibility(vote_id=vote.id, person_id=pid, voting_group=g) for pid, g in eligible.items())
    s.flush()
    log(uow, actor, events.vote_opened(
        vote_id=vote.id, kind=vote.kind, pilot_id=vote.pilot_id, problem_version_id=vote.problem_version_id,
        amendment_id=vote.amendment_id, question=vote.question, deadline=vote.deadline,
        proposed_outcome=vote.proposed_outcome, adopt_available=vote.adopt_available,
        charter_id=vote.charter_id, eligible=dict(Counter(eligible.values())), secret_groups=groups))
    return vote.id


# ---------------------------------------------------------------- panel votes
def _open_panel_vote(uow: UnitOfWork, actor: Actor, kind: VoteKind, problem: Problem,
                     version: ProblemVersion, question: str, days: Any, deadline: Any,
                     amendment: Amendment | None = None) -> int:
    s = session_of(uow)
    voters = panel_voters(s, problem.panel_id)
    if not voters:
        raise RuleViolation("The panel has no active members to vote.", rule="R8")
    charter = current_charter(s)
    vote = Vote(kind=kind, problem_version_id=version.id, panel_id=problem.panel_id,
                amendment_id=amendment.id if amendment else None, question=question,
                charter_id=charter.id, opened_by=actor.id, opened_at=uow.now(),
                deadline=_deadline(uow, charter, days, deadline), status=VoteStatus.OPEN, adopt_available=False)
    return _open(uow, actor, vote, panel_electorate(voters))


def facilitator_of(s: Session, actor: Actor, panel_id: int | None, doing: str) -> None:
    """Panel acts (opening and closing its votes) are its own facilitators' (R2)."""
    role = require_panel_member(s, actor, panel_id or 0, doing)
    if role != PanelRole.FACILITATOR:
        raise PermissionDenied(f"Only a facilitator of the owning panel may {doing}; you are a member of it, "
                               "not its facilitator.", rule="R2")


@use_case
def propose_ratification(uow: UnitOfWork, actor_id: int, problem_id: int, *,
                         days: int | None = None, deadline: datetime | None = None) -> int:
    """Open the panel vote that ratifies a draft (or reopened) problem."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.OPEN_PANEL_VOTE)
    problem = get(s, Problem, problem_id, "problem")
    facilitator_of(s, actor, problem.panel_id, "open a vote on its problems")
    version = check_can_ratify(s, problem)
    if _open_duplicate(s, kind=VoteKind.RATIFY_PROBLEM, problem_version_id=version.id):
        raise RuleViolation("A vote to ratify this problem is already open.", rule="R2")
    return _open_panel_vote(uow, actor, VoteKind.RATIFY_PROBLEM, problem, version,
                            f"Ratify the problem '{version.title}' (version {version.version})?", days, deadline)


@use_case
def propose_criteria_lock(uow: UnitOfWork, actor_id: int, problem_id: int, *,
                          days: int | None = None, deadline: datetime | None = None) -> int:
    """Open the panel vote that locks (pre-registers) a problem's criteria (R3)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.OPEN_PANEL_VOTE)
    problem = get(s, Problem, problem_id, "problem")
    facilitator_of(s, actor, problem.panel_id, "open a vote on its problems")
    version = check_can_lock(s, problem)
    if _open_duplicate(s, kind=VoteKind.LOCK_CRITERIA, problem_version_id=version.id):
        raise RuleViolation("A vote to lock these criteria is already open.", rule="R3")
    n = len(criteria_of(s, version.id))
    return _open_panel_vote(uow, actor, VoteKind.LOCK_CRITERIA, problem, version,
                            f"Lock the {n} success criteria of '{version.title}'? After this, changes "
                            "need a reason and a panel vote.", days, deadline)


@use_case
def propose_amendment(uow: UnitOfWork, actor_id: int, criterion_id: int, *, reason: str,
                      days: int | None = None, deadline: datetime | None = None, **changes: Any) -> int:
    """Propose changing a locked criterion (R4); opens the panel vote. Returns the vote id."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.PROPOSE_AMENDMENT)
    criterion = get(s, Criterion, criterion_id, "criterion")
    version = need(s.get(ProblemVersion, criterion.problem_version_id), "problem version")
    problem = need(s.get(Problem, version.problem_id), "problem")
    require_panel_member(s, actor, problem.panel_id, "amend its criteria")
    _, cleaned, why = check_amendment(s, criterion, changes, reason)
    pending = s.scalar(select(Amendment).where(Amendment.criterion_id == criterion.id,
                                               Amendment.status == AmendmentStatus.PROPOSED))
    if pending is not None:
        raise RuleViolation(f"An amendment to '{criterion.name}' is already being voted on; wait for "
                            "that vote to close.", rule="R4")
    amendment = Amendment(criterion_id=criterion.id,
                          before_json=canonical_json({k: getattr(criterion, k) for k in cleaned}),
                          after_json=canonical_json(cleaned), reason=why,
                          status=AmendmentStatus.PROPOSED, proposed_by=actor.id, proposed_at=uow.now())
    s.add(amendment)
    s.flush()
    log(uow, actor, problem_events.amendment_proposed(amendment_id=amendment.id, criterion_id=criterion.id,
                                                      changes=cleaned, reason=why))
    summary = ", ".join(f"{k} → {v}" for k, v in cleaned.items())
    return _open_panel_vote(uow, actor, VoteKind.AMEND_CRITERION,
                            problem, version, f"Amend '{criterion.name}' ({summary})? Reason: {why}",
                            days, deadline, amendment)


# --------------------------------------------------------------- outcome vote
def electorate_of(s: Session, pilot: Pilot) -> dict[int, str]:
    """Who votes in which group on the pilot's outcome (``rules.electorate``): the
    conflict-of-interest exclusion uses the team as it stood at real use (R15)."""
    problem = need(s.get(Problem, pilot.problem_id), "problem")
    members = team_memberships(s, pilot.id)
    panel = panel_voters(s, problem.panel_id)
    steering = steering_people(s)
    active = active_people(s, [*panel, *steering, *(m.person_id for m in members)])
    return pilot_electorate(panel=panel, members=members, steering=steering,
                            real_use_started_at=pilot.real_use_started_at, active=active)


@use_case
def open_outcome_vote(uow: UnitOfWork, actor_id: int, pilot_id: int, *, days: int | None = None,
                      deadline: datetime | None = None) -> int:
    """Open the binding vote on a pilot's outcome (only after the evaluation window, R6).

    The evidence is fixed when the vote opens (the latest closed survey
    round). If the indispensability threshold was not met, "revisit the
    problem" is the proposed outcome (R10) and "adopt" is not available
    unless the charter allows an override (R9).
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.OPEN_OUTCOME_VOTE)
    pilot = get(s, Pilot, pilot_id, "pilot")
    problem = need(s.get(Problem, pilot.problem_id), "problem")
    if not actor.has(Role.STEERING):
        facilitator_of(s, actor, problem.panel_id, "open its pilots' outcome votes")
    if pilot.state == PilotState.DECIDED:
        raise RuleViolation(f"'{pilot.title}' is already decided ({label(pilot.outcome)}).", rule="R9")
    charter = current_charter(s)
    require_window(pilot, charter, uow.now(), "the outcome vote")
    if open_vote_on(s, pilot.id) is not None:
        raise RuleViolation(f"An outcome vote on '{pilot.title}' is already open.", rule="R8")
    if s.scalar(select(SurveyRound.id).where(SurveyRound.pilot_id == pilot.id,
                                             SurveyRound.closed_at.is_(None))):
        raise RuleViolation("A survey round is still open: close it first, so the vote decides on "
                            "fixed evidence.", rule="R6")
    evidence = pilot_evidence(s, pilot, charter, closed_only=True)
    passed = evidence.indispensability.passed
    electorate = electorate_of(s, pilot)
    if VotingGroup.FRONTLINE not in electorate.values():
        raise RuleViolation("The owning panel has no member outside the pilot's commissioning team, "
                            "so the frontline cannot vote. Add frontline members to the panel first.",
                            rule="R8")
    vote = Vote(kind=VoteKind.OUTCOME, pilot_id=pilot.id, problem_version_id=pilot.problem_version_id,
                panel_id=problem.panel_id,
                question=f"What should happen to '{pilot.title}': adopt, iterate, revisit the problem, "
                         "or stop?",
                charter_id=charter.id, opened_by=actor.id, opened_at=uow.now(),
                deadline=_deadline(uow, charter, days, deadline), status=VoteStatus.OPEN,
                proposed_outcome=None if passed else Outcome.REVISIT_PROBLEM,
                adopt_available=passed or charter.allow_adopt_override,
                evidence_json=canonical_json(evidence.as_dict()))
    if pilot.state == PilotState.IN_USE:
        pilot.state = PilotState.EVALUATING
        pilot.evaluating_since = uow.now()
    return _open(uow, actor, vote, electorate)


# -------------------------------------------------------------------- ballots
def options_of(kind: str, adopt_available: bool = True) -> tuple[str, ...]:
    """The options a vote of ``kind`` offers."""
    if kind != VoteKind.OUTCOME:
        return tuple(PanelOption)
    return tuple(o for o in Outcome if adopt_available or o != Outcome.ADOPT)


@dataclass(frozen=True)
class CastBallot:
    """What casting a ballot leaves the voter: for a secret ballot, the receipt to check it by."""

    vote_id: int
    secret: bool
    receipt: str | None
    ballot_id: int | None  # open ballots only: a secret ballot's row is not the voter's to know


def _check_ballot(s: Session, uow: UnitOfWork, actor: Actor, vote: Vote, option: str,
                  as_group: str | None) -> VoteEligibility:
    """Every rule a ballot must pass before anything is written (R8, R9, R15, R16)."""
    if vote.status != VoteStatus.OPEN:
        closed = f" on {vote.closed_at:%d %b %Y %H:%M} UTC" if vote.closed_at else ""
        raise RuleViolation(f"This vote closed{closed}; ballots can no longer be cast or changed.", rule="R8")
    if uow.now() >= vote.deadline:
        raise RuleViolation(f"This vote's deadline passed ({vote.deadline:%d %b %Y %H:%M} UTC); it is "
                            "being closed.", rule="R16")
    eligibility = s.get(VoteEligibility, (vote.id, actor.id))
    membership = s.get(PilotTeamMember, (vote.pilot_id, actor.id)) if vote.kind == VoteKind.OUTCOME else None
    on_team = membership is not None
    on_team_now = membership is not None and membership.removed_at is None
    if on_team and VotingGroup.FRONTLINE in (as_group, eligibility.voting_group if eligibility else None):
        where = ("Your ballot counts in the commissioning group."
                 if eligibility and eligibility.voting_group == VotingGroup.COMMISSIONING else "")
        raise ConflictOfInterest(
            f"{actor.name} is on the commissioning team of this pilot and cannot vote in the frontline "
            f"group on it (conflict of interest, R8). {where}".strip())
    if eligibility is None:
        raise PermissionDenied(f"{actor.name} is not among the eligible voters of this vote (they were "
                               "fixed when it opened).", rule="R8")
    if as_group is not None and as_group != eligibility.voting_group:
        raise PermissionDenied(f"You vote in the {label(eligibility.voting_group).lower()} group on this "
                               "vote, not another.", rule="R8")
    if not still_in_group(eligibility.voting_group, actor.roles, bool(vote.pilot_id) and on_team_now):
        why = ("is no longer on the pilot's commissioning team" if eligibility.voting_group == VotingGroup.COMMISSIONING
               else f"no longer holds the role of the {label(eligibility.voting_group).lower()} group")
        raise PermissionDenied(f"{actor.name} {why}, so cannot cast or change a ballot in it; a ballot cast "
                               "earlier stands and is counted.", rule="R15")
    allowed = options_of(vote.kind)
    if option not in allowed:
        raise InvalidInput(f"'{option}' is not an option of this vote; choose one of: "
                           f"{', '.join(label(o) for o in allowed)}.")
    if option == Outcome.ADOPT and not vote.adopt_available:
        raise RuleViolation("Adopt is not available on this vote: the pilot did not meet its "
                            "pre-registered indispensability threshold, and the charter allows no "
                            "override (R9). Revisiting the problem is the proposed outcome (R10).",
                            rule="R9")
    return eligibility


def _participate(s: Session, vote: Vote, actor: Actor) -> bool:
    """Record that the person took part (once); True the first time."""
    if s.get(VoteParticipation, (vote.id, actor.id)) is not None:
        return False
    s.add(VoteParticipation(vote_id=vote.id, person_id=actor.id))
    return True


SECRET_REASON_REFUSED = ("A secret ballot carries no reason: words of your own beside it could tell whose "
                         "ballot it is (R17). Remove the reason and cast your ballot again; nothing was recorded.")


@use_case
def cast_ballot(uow: UnitOfWork, actor_id: int, vote_id: int, option: str, *,
                as_group: str | None = None, reason: str | None = None) -> CastBallot:
    """Cast, or change, a ballot (with an optional short ``reason``). Only the latest counts;
    every ballot is kept.

    In a secret group (R17) the ballot is stored under the voter's token, the
    voter gets a receipt, and the audit event records participation and a
    commitment, not the option; a reason is refused there. On the record by
    name, the reason is kept beside the ballot; while the vote is open its
    event holds a commitment to it (a reason can name the option, and running
    tallies stay hidden, R8), and the closing event publishes it with the ballot.
    """
    s = session_of(uow)
    require(s, actor_id, Action.CAST_BALLOT)  # R14 first: nothing about the vote is told to whoever may not vote
    vote = get(s, Vote, vote_id, "vote")
    key = uow.keys.ballot_key()
    entered = (paper_entered(s, vote_id=vote.id, person_id=actor_id, holder=holder_token(key, vote.id, actor_id))
               or paper_entered(s, vote_id=vote.id, person_id=actor_id))
    why = double_refusal(done_online=False, entered_on_paper=entered, to=ONLINE)
    if why is not None:
        raise RuleViolation(why, rule="R8")
    return record_ballot(uow, actor_id, vote, option, as_group=as_group, reason=reason, channel=ONLINE)


def record_ballot(uow: UnitOfWork, actor_id: int, vote: Vote, option: str, *, as_group: str | None,
                  reason: str | None, channel: str, receipt: str | None = None) -> CastBallot:
    """Every rule a ballot passes and its recording, whichever way it came (``channel``: online, or
    paper when an attested batch is counted, with the sheet's code as the secret ballot's ``receipt``)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.CAST_BALLOT)
    eligibility = _check_ballot(s, uow, actor, vote, option, as_group)
    group = eligibility.voting_group
    if group in (parse_groups(vote.secret_groups) or ()):
        if reason_refused_in_secret(reason):
            raise RuleViolation(SECRET_REASON_REFUSED, rule="R17")
        return _cast_secret(uow, actor, vote, group, option, channel=channel, receipt=receipt)
    why = text(reason, "Reason", max_len=REASON_MAX, required=False) or None
    current = s.scalar(select(Ballot).where(Ballot.vote_id == vote.id, Ballot.person_id == actor.id,
                                            Ballot.is_current.is_(True)))
    if current is not None:
        if current.option == option and current.reason == why:
            raise InvalidInput(f"Your ballot is already '{label(option)}'"
                               + (" with this reason." if why else "."))
        current.is_current = False
        s.flush()
    _participate(s, vote, actor)
    ballot = Ballot(vote_id=vote.id, person_id=actor.id, voting_group=group, option=option, cast_at=uow.now(),
                    is_current=True, reason=why, channel=channel)
    s.add(ballot)
    s.flush()
    key = uow.keys.ballot_key()
    mark = commitment(key, vote.id, f"ballot-{ballot.id}", option)
    log(uow, actor, events.ballot_cast(
        ballot_id=ballot.id, vote_id=vote.id, group=group, commitment=mark,
        reason_commitment=commitment(key, vote.id, f"reason-{ballot.id}", why) if why else None,
        previous_id=current.id if current else None))
    return CastBallot(vote.id, False, None, ballot.id)


def _cast_secret(uow: UnitOfWork, actor: Actor, vote: Vote, group: str, option: str, *, channel: str,
                 receipt: str | None) -> CastBallot:
    s = session_of(uow)
    key = uow.keys.ballot_key()
    token = voter_token(key, vote.id, actor.id)
    current = s.scalar(select(SecretBallot).where(SecretBallot.vote_id == vote.id,
                                                  SecretBallot.voter_token == token,
                                                  SecretBallot.is_current.is_(True)))
    if current is not None:
        if current.option == option:
            raise InvalidInput(f"Your ballot is already '{label(option)}'; your receipt is {current.receipt}.")
        current.is_current = False
        s.flush()
    receipt = receipt or new_receipt()
    s.add(SecretBallot(id=new_ballot_id(), vote_id=vote.id, voter_token=token, voting_group=group,
                       option=option, receipt=receipt, is_current=True, channel=channel))
    first = _participate(s, vote, actor)
    s.flush()
    mark = commitment(key, vote.id, receipt, option)
    if first:
        log(uow, actor, events.secret_ballot_cast(vote_id=vote.id, group=group, commitment=mark))
    else:
        log(uow, None, events.secret_ballot_changed(vote_id=vote.id, group=group, commitment=mark))
    return CastBallot(vote.id, True, receipt, None)
