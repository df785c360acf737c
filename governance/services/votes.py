"""Binding votes (R8), declarations (R9) and the design signal (R10).

Panel votes ratify a problem, lock its criteria and amend a locked
criterion: only the owning panel votes. Outcome votes decide a pilot: the
frontline panel, the pilot's commissioning team and steering vote in their
groups, combined with the charter's weights (``governance.voting``).
Eligible voters are fixed when a vote opens. Ballots can be changed until
the vote closes (every ballot is kept; only the latest counts). Closing an
outcome vote that met quorum declares the decision, with its basis frozen.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance import audit
from governance.db import UnitOfWork, use_case
from governance.errors import ConflictOfInterest, InvalidInput, PermissionDenied, RuleViolation
from governance.evidence import (
    criterion_status, latest_usage, metric_status, survey_evidence,
)
from governance.models import (
    Amendment, Ballot, Charter, CommissioningMetric, Criterion, Decision, Panel, PanelMembership, Person, PersonRole, Pilot,
    PilotTeamMember, Problem, ProblemVersion, SurveyRound, Vote, VoteEligibility,
)
from governance.permissions import Action, Actor, require
from governance.services._base import current_charter, get, log, panel_role, session_of, snapshot
from governance.services.evaluation import open_vote_on, require_window
from governance.services.people import require_panel_member
from governance.services.problems import (
    apply_amendment, apply_lock, apply_ratification, check_amendment, check_can_lock,
    check_can_ratify, criteria_of, lock_of, reopen_problem,
)
from governance.validation import whole
from governance.voting import tally_outcome, tally_panel
from governance.vocabulary import (
    AmendmentStatus, Outcome, PanelOption, PanelRole, PilotState, Role, VoteKind,
    VoteStatus, VotingGroup, label,
)

DEFAULT_DAYS = 7


def _deadline(uow: UnitOfWork, days: Any) -> Any:
    return uow.now() + timedelta(days=whole(days, "Days the vote stays open", minimum=1, maximum=60))


def _open_duplicate(s: Session, **subject: Any) -> Vote | None:
    q = select(Vote).where(Vote.status == VoteStatus.OPEN)
    for key, value in subject.items():
        q = q.where(getattr(Vote, key) == value)
    return s.scalar(q)


def _panel_voters(s: Session, panel_id: int) -> list[int]:
    return list(s.scalars(select(PanelMembership.person_id).join(Person).where(
        PanelMembership.panel_id == panel_id, Person.active.is_(True)).order_by(PanelMembership.person_id)))


def _open(uow: UnitOfWork, actor: Actor, vote: Vote, eligible: dict[int, str]) -> int:
    s = session_of(uow)
    s.add(vote)
    s.flush()
    s.add_all(VoteEligibility(vote_id=vote.id, person_id=pid, voting_group=g) for pid, g in eligible.items())
    s.flush()
    log(uow, actor, "vote.opened", vote,
        after={**snapshot(vote, "kind", "pilot_id", "problem_version_id", "amendment_id", "question",
                          "deadline", "proposed_outcome", "adopt_available"),
               "charter_id": vote.charter_id,
               "eligible": dict(Counter(eligible.values()))})
    return vote.id


# ---------------------------------------------------------------- panel votes
def _open_panel_vote(uow: UnitOfWork, actor: Actor, kind: VoteKind, problem: Problem,
                     version: ProblemVersion, question: str, days: Any,
                     amendment: Amendment | None = None) -> int:
    s = session_of(uow)
    voters = _panel_voters(s, problem.panel_id)
    if not voters:
        raise RuleViolation("The panel has no active members to vote.")
    vote = Vote(kind=kind, problem_version_id=version.id, panel_id=problem.panel_id,
                amendment_id=amendment.id if amendment else None, question=question,
                charter_id=current_charter(s).id, opened_by=actor.id, opened_at=uow.now(),
                deadline=_deadline(uow, days), status=VoteStatus.OPEN, adopt_available=False)
    return _open(uow, actor, vote, {pid: VotingGroup.FRONTLINE for pid in voters})


def _facilitator_of(s: Session, actor: Actor, problem: Problem, doing: str) -> None:
    role = require_panel_member(s, actor, problem.panel_id, doing)
    if role != PanelRole.FACILITATOR:
        raise PermissionDenied(f"Only a facilitator of the owning panel may {doing}.", rule="R2")


@use_case
def propose_ratification(uow: UnitOfWork, actor_id: int, problem_id: int, *,
                         days: int = DEFAULT_DAYS) -> int:
    """Open the panel vote that ratifies a draft (or reopened) problem."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.OPEN_PANEL_VOTE)
    problem = get(s, Problem, problem_id, "problem")
    _facilitator_of(s, actor, problem, "open a vote on its problems")
    version = check_can_ratify(s, problem)
    if _open_duplicate(s, kind=VoteKind.RATIFY_PROBLEM, problem_version_id=version.id):
        raise RuleViolation("A vote to ratify this problem is already open.")
    return _open_panel_vote(uow, actor, VoteKind.RATIFY_PROBLEM, problem, version,
                            f"Ratify the problem '{version.title}' (version {version.version})?", days)


@use_case
def propose_criteria_lock(uow: UnitOfWork, actor_id: int, problem_id: int, *,
                          days: int = DEFAULT_DAYS) -> int:
    """Open the panel vote that locks (pre-registers) a problem's criteria (R3)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.OPEN_PANEL_VOTE)
    problem = get(s, Problem, problem_id, "problem")
    _facilitator_of(s, actor, problem, "open a vote on its problems")
    version = check_can_lock(s, problem)
    if _open_duplicate(s, kind=VoteKind.LOCK_CRITERIA, problem_version_id=version.id):
        raise RuleViolation("A vote to lock these criteria is already open.")
    n = len(criteria_of(s, version.id))
    return _open_panel_vote(uow, actor, VoteKind.LOCK_CRITERIA, problem, version,
                            f"Lock the {n} success criteria of '{version.title}'? After this, changes "
                            "need a reason and a panel vote.", days)


@use_case
def propose_amendment(uow: UnitOfWork, actor_id: int, criterion_id: int, *, reason: str,
                      days: int = DEFAULT_DAYS, **changes: Any) -> int:
    """Propose changing a locked criterion (R4); opens the panel vote. Returns the vote id."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.PROPOSE_AMENDMENT)
    criterion = get(s, Criterion, criterion_id, "criterion")
    version = s.get(ProblemVersion, criterion.problem_version_id)
    problem = s.get(Problem, version.problem_id)
    require_panel_member(s, actor, problem.panel_id, "amend its criteria")
    _, cleaned, why = check_amendment(s, criterion, changes, reason)
    pending = s.scalar(select(Amendment).where(Amendment.criterion_id == criterion.id,
                                               Amendment.status == AmendmentStatus.PROPOSED))
    if pending is not None:
        raise RuleViolation(f"An amendment to '{criterion.name}' is already being voted on; wait for "
                            "that vote to close.")
    amendment = Amendment(criterion_id=criterion.id,
                          before_json=audit.canonical_json({k: getattr(criterion, k) for k in cleaned}),
                          after_json=audit.canonical_json(cleaned), reason=why,
                          status=AmendmentStatus.PROPOSED, proposed_by=actor.id, proposed_at=uow.now())
    s.add(amendment)
    s.flush()
    log(uow, actor, "amendment.proposed", amendment,
        after={"criterion_id": criterion.id, "changes": cleaned, "reason": why})
    summary = ", ".join(f"{k} → {v}" for k, v in cleaned.items())
    return _open_panel_vote(uow, actor, VoteKind.AMEND_CRITERION,
                            problem, version, f"Amend '{criterion.name}' ({summary})? Reason: {why}",
                            days, amendment)


# --------------------------------------------------------------- outcome vote
def outcome_electorate(s: Session, pilot: Pilot) -> dict[int, str]:
    """Who votes in which group on a pilot's outcome.

    The commissioning team votes as commissioning — never in the frontline
    group on its own pilot (conflict of interest, R8). The owning panel's
    members vote as frontline; people with the steering role as steering.
    """
    problem = s.get(Problem, pilot.problem_id)
    active = select(Person.id).where(Person.active.is_(True))
    team = set(s.scalars(select(PilotTeamMember.person_id).where(
        PilotTeamMember.pilot_id == pilot.id, PilotTeamMember.person_id.in_(active))))
    panel = set(_panel_voters(s, problem.panel_id))
    steering = set(s.scalars(select(PersonRole.person_id).where(
        PersonRole.role == Role.STEERING, PersonRole.person_id.in_(active))))
    electorate = {pid: VotingGroup.STEERING for pid in steering}
    electorate.update({pid: VotingGroup.FRONTLINE for pid in panel})
    electorate.update({pid: VotingGroup.COMMISSIONING for pid in team})
    return electorate


@use_case
def open_outcome_vote(uow: UnitOfWork, actor_id: int, pilot_id: int, *, days: int = DEFAULT_DAYS) -> int:
    """Open the binding vote on a pilot's outcome (only after the evaluation window, R6).

    The evidence is fixed when the vote opens (the latest closed survey
    round). If the indispensability threshold was not met, "revisit the
    problem" is the proposed outcome (R10) and "adopt" is not available
    unless the charter allows an override (R9).
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.OPEN_OUTCOME_VOTE)
    pilot = get(s, Pilot, pilot_id, "pilot")
    problem = s.get(Problem, pilot.problem_id)
    if not actor.has(Role.STEERING):
        require_panel_member(s, actor, problem.panel_id, "open its pilots' outcome votes")
    if pilot.state == PilotState.DECIDED:
        raise RuleViolation(f"'{pilot.title}' is already decided ({label(pilot.outcome)}).", rule="R9")
    charter = current_charter(s)
    require_window(pilot, charter, uow.now(), "the outcome vote")
    if open_vote_on(s, pilot.id) is not None:
        raise RuleViolation(f"An outcome vote on '{pilot.title}' is already open.")
    if s.scalar(select(SurveyRound.id).where(SurveyRound.pilot_id == pilot.id,
                                             SurveyRound.closed_at.is_(None))):
        raise RuleViolation("A survey round is still open: close it first, so the vote decides on "
                            "fixed evidence.")
    evidence = survey_evidence(s, pilot, charter, closed_only=True)
    passed = evidence.indispensability.passed
    electorate = outcome_electorate(s, pilot)
    if VotingGroup.FRONTLINE not in electorate.values():
        raise RuleViolation("The owning panel has no member outside the pilot's commissioning team, "
                            "so the frontline cannot vote. Add frontline members to the panel first.",
                            rule="R8")
    vote = Vote(kind=VoteKind.OUTCOME, pilot_id=pilot.id, problem_version_id=pilot.problem_version_id,
                panel_id=problem.panel_id,
                question=f"What should happen to '{pilot.title}': adopt, iterate, revisit the problem, "
                         "or stop?",
                charter_id=charter.id, opened_by=actor.id, opened_at=uow.now(),
                deadline=_deadline(uow, days), status=VoteStatus.OPEN,
                proposed_outcome=None if passed else Outcome.REVISIT_PROBLEM,
                adopt_available=passed or charter.allow_adopt_override,
                evidence_json=audit.canonical_json(evidence.as_dict()))
    if pilot.state == PilotState.IN_USE:
        pilot.state = PilotState.EVALUATING
        pilot.evaluating_since = uow.now()
    return _open(uow, actor, vote, electorate)


# -------------------------------------------------------------------- ballots
def _options(vote: Vote) -> tuple[str, ...]:
    return tuple(Outcome) if vote.kind == VoteKind.OUTCOME else tuple(PanelOption)


@use_case
def cast_ballot(uow: UnitOfWork, actor_id: int, vote_id: int, option: str, *,
                as_group: str | None = None) -> int:
    """Cast, or change, a ballot. Only the latest counts; every ballot is kept."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.CAST_BALLOT)
    vote = get(s, Vote, vote_id, "vote")
    if vote.status != VoteStatus.OPEN:
        raise RuleViolation(f"This vote closed on {vote.closed_at:%d %b %Y %H:%M} UTC; ballots can no "
                            "longer be cast or changed.", rule="R8")
    if uow.now() >= vote.deadline:
        raise RuleViolation(f"This vote's deadline passed ({vote.deadline:%d %b %Y %H:%M} UTC); it is "
                            "being closed.", rule="R8")
    eligibility = s.get(VoteEligibility, (vote.id, actor.id))
    on_team = vote.kind == VoteKind.OUTCOME and s.get(PilotTeamMember, (vote.pilot_id, actor.id)) is not None
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
    allowed = _options(vote)
    if option not in allowed:
        raise InvalidInput(f"'{option}' is not an option of this vote; choose one of: "
                           f"{', '.join(label(o) for o in allowed)}.")
    if option == Outcome.ADOPT and not vote.adopt_available:
        raise RuleViolation("Adopt is not available on this vote: the pilot did not meet its "
                            "pre-registered indispensability threshold, and the charter allows no "
                            "override (R9). Revisiting the problem is the proposed outcome (R10).",
                            rule="R9")
    current = s.scalar(select(Ballot).where(Ballot.vote_id == vote.id, Ballot.person_id == actor.id,
                                            Ballot.is_current.is_(True)))
    if current is not None:
        if current.option == option:
            raise InvalidInput(f"Your ballot is already '{label(option)}'.")
        current.is_current = False
        s.flush()
    ballot = Ballot(vote_id=vote.id, person_id=actor.id, voting_group=eligibility.voting_group,
                    option=option, cast_at=uow.now(), is_current=True)
    s.add(ballot)
    s.flush()
    log(uow, actor, "ballot.changed" if current else "ballot.cast", ballot,
        before={"ballot_id": current.id, "option": current.option} if current else None,
        after={"vote_id": vote.id, "group": ballot.voting_group, "option": option})
    return ballot.id


def current_ballots(s: Session, vote_id: int) -> list[tuple[int, str, str, Any]]:
    """(person, group, option, cast_at) of each voter's latest ballot."""
    return [tuple(r) for r in s.execute(select(Ballot.person_id, Ballot.voting_group, Ballot.option,
                                               Ballot.cast_at)
                                        .where(Ballot.vote_id == vote_id, Ballot.is_current.is_(True))
                                        .order_by(Ballot.person_id))]


def eligible_counts(s: Session, vote_id: int) -> dict[str, int]:
    counts = Counter(s.scalars(select(VoteEligibility.voting_group).where(
        VoteEligibility.vote_id == vote_id)))
    return {g.value: counts.get(g.value, 0) for g in VotingGroup}


def compute_tally(s: Session, vote: Vote) -> Any:
    """The tally of a vote from its current ballots, under the charter it opened with."""
    charter = s.get(Charter, vote.charter_id)
    ballots = current_ballots(s, vote.id)
    eligible = eligible_counts(s, vote.id)
    if vote.kind == VoteKind.OUTCOME:
        return tally_outcome(
            ((g, o) for _, g, o, _ in ballots), eligible=eligible,
            weights={VotingGroup.FRONTLINE: charter.weight_frontline,
                     VotingGroup.COMMISSIONING: charter.weight_commissioning,
                     VotingGroup.STEERING: charter.weight_steering},
            quorums={VotingGroup.FRONTLINE: charter.quorum_frontline,
                     VotingGroup.COMMISSIONING: charter.quorum_commissioning,
                     VotingGroup.STEERING: charter.quorum_steering},
            frontline_veto=charter.frontline_veto, adopt_available=vote.adopt_available,
            proposed=vote.proposed_outcome)
    return tally_panel((o for _, _, o, _ in ballots), eligible=eligible[VotingGroup.FRONTLINE],
                       quorum=charter.quorum_frontline)


# -------------------------------------------------------------------- closing
@use_case
def close_vote(uow: UnitOfWork, actor_id: int, vote_id: int) -> int | None:
    """Close a vote (a facilitator of its panel, or steering). For an outcome
    vote that met quorum, declares the decision; returns its id (else None)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.CLOSE_VOTE)
    vote = get(s, Vote, vote_id, "vote")
    if not actor.has(Role.STEERING) and panel_role(s, vote.panel_id, actor.id) != PanelRole.FACILITATOR:
        panel = s.get(Panel, vote.panel_id)
        raise PermissionDenied(f"Only steering or a facilitator of {panel.name} may close this vote.")
    return _close(uow, actor, vote)


@use_case
def close_due_votes(uow: UnitOfWork) -> list[int]:
    """Close, as the system, every open vote whose deadline has passed."""
    s = session_of(uow)
    due = s.scalars(select(Vote).where(Vote.status == VoteStatus.OPEN, Vote.deadline <= uow.now())
                    .order_by(Vote.deadline, Vote.id)).all()
    for vote in due:
        _close(uow, None, vote)
    return [v.id for v in due]


def _close(uow: UnitOfWork, actor: Actor | None, vote: Vote) -> int | None:
    s = session_of(uow)
    if vote.status != VoteStatus.OPEN:
        raise RuleViolation("This vote is already closed.")
    tally = compute_tally(s, vote)
    result = tally.as_dict()
    vote.status = VoteStatus.CLOSED
    vote.closed_at = uow.now()
    vote.closed_by = actor.id if actor else None
    vote.result_json = audit.canonical_json(result)
    vote.quorum_met = tally.quorum_met
    s.flush()
    log(uow, actor, "vote.closed", vote,
        after={"kind": vote.kind, "winner": tally.winner, "quorum_met": tally.quorum_met,
               "at_deadline": actor is None, "tally": result})
    if vote.kind == VoteKind.OUTCOME:
        return _declare(uow, actor, vote, tally)
    _apply_panel_result(uow, actor, vote, tally)
    return None


def _apply_panel_result(uow: UnitOfWork, actor: Actor | None, vote: Vote, tally: Any) -> None:
    s = session_of(uow)
    vote.passed = tally.passed
    version = s.get(ProblemVersion, vote.problem_version_id)
    problem = s.get(Problem, version.problem_id)
    if vote.kind == VoteKind.AMEND_CRITERION:
        amendment = s.get(Amendment, vote.amendment_id)
        if tally.passed:
            apply_amendment(uow, actor, amendment, vote)
        else:
            amendment.status = AmendmentStatus.REJECTED
            amendment.decided_at = uow.now()
            log(uow, actor, "amendment.rejected", amendment, after={"vote_id": vote.id})
        return
    if not tally.passed:
        return
    if vote.kind == VoteKind.RATIFY_PROBLEM:
        apply_ratification(uow, actor, problem, vote)
    elif vote.kind == VoteKind.LOCK_CRITERIA:
        apply_lock(uow, actor, problem, vote)


def _declare(uow: UnitOfWork, actor: Actor | None, vote: Vote, tally: Any) -> int | None:
    """R9: a closed outcome vote that met quorum becomes the binding decision."""
    s = session_of(uow)
    if tally.winner is None:
        vote.passed = False
        return None
    pilot = s.get(Pilot, vote.pilot_id)
    charter = s.get(Charter, vote.charter_id)
    evidence = json.loads(vote.evidence_json) if vote.evidence_json else None
    passed = bool(evidence and evidence["indispensability"]["passed"])
    outcome = Outcome(tally.winner)
    override = outcome == Outcome.ADOPT and not passed
    if override and not charter.allow_adopt_override:
        raise RuleViolation("Adopt is refused: the indispensability threshold was not met and the "
                            "charter allows no override (R9).", rule="R9")
    basis = _basis(s, uow, actor, vote, pilot, charter, tally, evidence, override)
    body = audit.canonical_json(basis)
    head_seq, head_hash = basis["audit_chain_head"]["seq"], basis["audit_chain_head"]["hash"]
    decision = Decision(vote_id=vote.id, pilot_id=pilot.id, outcome=outcome, basis_json=body,
                        basis_sha256=audit.sha256_hex(body), adopt_override=override,
                        declared_by=actor.id if actor else None, declared_at=uow.now(),
                        chain_head_seq=head_seq, chain_head_hash=head_hash)
    s.add(decision)
    vote.passed = True
    vote.outcome = outcome
    before = pilot.state
    pilot.state, pilot.outcome, pilot.decided_at = PilotState.DECIDED, outcome, uow.now()
    s.flush()
    log(uow, actor, "decision.declared", decision,
        before={"pilot_state": before},
        after={"pilot_id": pilot.id, "outcome": outcome, "basis_sha256": decision.basis_sha256,
               "adopt_override": override, "vote_id": vote.id})
    if outcome == Outcome.REVISIT_PROBLEM:
        problem = s.get(Problem, pilot.problem_id)
        ind = evidence["indispensability"] if evidence else None
        reason = (f"Decision #{decision.id} on '{pilot.title}': revisit the problem"
                  + (f" — indispensability {ind['text']}." if ind else "."))
        reopen_problem(uow, actor, problem, pilot=pilot, reason=reason)
    return decision.id


def _basis(s: Session, uow: UnitOfWork, actor: Actor | None, vote: Vote, pilot: Pilot,
           charter: Charter, tally: Any, evidence: dict[str, Any] | None, override: bool
           ) -> dict[str, Any]:
    """Everything the decision rests on, frozen (R9)."""
    problem = s.get(Problem, pilot.problem_id)
    version = s.get(ProblemVersion, pilot.problem_version_id)
    lock = lock_of(s, version.id)
    metric_ids = select(CommissioningMetric.id).where(CommissioningMetric.pilot_id == pilot.id)
    amendments = s.execute(
        select(Amendment.id, Amendment.criterion_id, Amendment.metric_id, Amendment.before_json,
               Amendment.after_json, Amendment.reason, Amendment.after_real_use, Amendment.decided_at)
        .outerjoin(Criterion, Criterion.id == Amendment.criterion_id)
        .where(Amendment.status == AmendmentStatus.APPLIED,
               (Criterion.problem_version_id == version.id) | Amendment.metric_id.in_(metric_ids))
        .order_by(Amendment.id)).all()
    voters = s.execute(select(Ballot.person_id, Person.name, Ballot.voting_group, Ballot.option,
                              Ballot.cast_at).join(Person, Person.id == Ballot.person_id)
                       .where(Ballot.vote_id == vote.id, Ballot.is_current.is_(True))
                       .order_by(Ballot.voting_group, Person.name)).all()
    head_seq, head_hash = audit.chain_head(s)
    terms = {k: getattr(charter, k) for k in (
        "weight_frontline", "weight_commissioning", "weight_steering", "quorum_frontline",
        "quorum_commissioning", "quorum_steering", "frontline_veto", "evaluation_window_days",
        "min_survey_responses", "indispensability_threshold", "allow_adopt_override",
        "feedback_response_working_days")}
    return {
        "pilot": {"id": pilot.id, "title": pilot.title, "owner_id": pilot.owner_id,
                  "real_use_started_at": pilot.real_use_started_at},
        "problem": {"id": problem.id, "version": version.version, "title": version.title},
        "locked_criteria": {
            "sha256": lock.criteria_sha256 if lock else None,
            "locked_at": lock.locked_at if lock else None,
            "criteria": json.loads(lock.criteria_json)["criteria"] if lock else [],
        },
        "commissioning_metrics": {"sha256_at_real_use": pilot.metrics_sha256,
                                  "latest": metric_status(s, pilot.id)},
        "frontline_criteria_latest": criterion_status(s, pilot),
        "amendments": [{"id": a.id, "criterion_id": a.criterion_id, "metric_id": a.metric_id,
                        "before": json.loads(a.before_json), "after": json.loads(a.after_json),
                        "reason": a.reason, "after_real_use": a.after_real_use,
                        "applied_at": a.decided_at} for a in amendments],
        "indispensability": evidence["indispensability"] if evidence else None,
        "survey_round": evidence["round_number"] if evidence else None,
        "sus_mean": evidence["sus_mean"] if evidence else None,
        "sus_n": evidence["sus_n"] if evidence else 0,
        "adoption": latest_usage(s, pilot.id),
        "tally": tally.as_dict(),
        "voters": [{"person_id": v.person_id, "name": v.name, "group": v.voting_group,
                    "option": v.option, "cast_at": v.cast_at} for v in voters],
        "eligible": eligible_counts(s, vote.id),
        "charter": {"version": charter.version, "terms": terms},
        "adopt_override": override,
        "proposed_outcome": vote.proposed_outcome,
        "vote": {"id": vote.id, "opened_at": vote.opened_at, "deadline": vote.deadline,
                 "closed_at": vote.closed_at},
        "closed_by": {"person_id": actor.id, "name": actor.name} if actor else
                     {"person_id": None, "name": "system (deadline passed)"},
        "audit_chain_head": {"seq": head_seq, "hash": head_hash},
    }
