"""Closing votes, declarations (R9) and the design signal (R10).

Closing a panel vote applies its result (ratify, lock, amend). Closing an
outcome vote that met quorum declares the binding decision, with its basis
frozen (``governance.rules.basis``); a decision to revisit the problem
reopens it as a new version for the panel.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.errors import PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.record.chain import canonical_json, sha256_hex
from governance.record.events import problems as problem_events
from governance.record.events import votes as events
from governance.record.log import chain_head
from governance.rules.basis import BasisFacts, build_basis
from governance.rules.charter import terms_of
from governance.rules.permissions import Action
from governance.rules.voting import Tally
from governance.services._base import get, log, need, panel_role, session_of
from governance.services.problems import apply_amendment, apply_lock, apply_ratification, reopen_problem
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import Amendment, Charter, Decision, Panel, Pilot, Problem, ProblemVersion, Vote
from governance.storage.repository import (
    applied_amendments,
    criterion_status,
    eligible_counts,
    latest_usage,
    lock_of,
    metric_status,
    named_voters,
    tally_of,
)
from governance.vocabulary import AmendmentStatus, Outcome, PanelRole, PilotState, Role, VoteKind, VoteStatus


@use_case
def close_vote(uow: UnitOfWork, actor_id: int, vote_id: int) -> int | None:
    """Close a vote (a facilitator of its panel, or steering). For an outcome
    vote that met quorum, declares the decision; returns its id (else None)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.CLOSE_VOTE)
    vote = get(s, Vote, vote_id, "vote")
    if not actor.has(Role.STEERING) and panel_role(s, vote.panel_id, actor.id) != PanelRole.FACILITATOR:
        panel = s.get(Panel, vote.panel_id)
        raise PermissionDenied(f"Only steering or a facilitator of {panel.name if panel else 'its panel'} "
                               "may close this vote.", rule="R14")
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
    tally = tally_of(s, vote)
    result = tally.as_dict()
    vote.status = VoteStatus.CLOSED
    vote.closed_at = uow.now()
    vote.closed_by = actor.id if actor else None
    vote.result_json = canonical_json(result)
    vote.quorum_met = tally.quorum_met
    s.flush()
    log(uow, actor, events.vote_closed(vote_id=vote.id, kind=vote.kind, winner=tally.winner,
                                       quorum_met=tally.quorum_met, at_deadline=actor is None, tally=result))
    if vote.kind == VoteKind.OUTCOME:
        return _declare(uow, actor, vote, tally)
    _apply_panel_result(uow, actor, vote, tally)
    return None


def _apply_panel_result(uow: UnitOfWork, actor: Actor | None, vote: Vote, tally: Tally) -> None:
    s = session_of(uow)
    vote.passed = tally.passed
    version = need(s.get(ProblemVersion, vote.problem_version_id), "problem version")
    problem = need(s.get(Problem, version.problem_id), "problem")
    if vote.kind == VoteKind.AMEND_CRITERION:
        amendment = need(s.get(Amendment, vote.amendment_id), "amendment")
        if tally.passed:
            apply_amendment(uow, actor, amendment, vote)
        else:
            amendment.status = AmendmentStatus.REJECTED
            amendment.decided_at = uow.now()
            log(uow, actor, problem_events.amendment_rejected(amendment_id=amendment.id, vote_id=vote.id))
        return
    if not tally.passed:
        return
    if vote.kind == VoteKind.RATIFY_PROBLEM:
        apply_ratification(uow, actor, problem, vote)
    elif vote.kind == VoteKind.LOCK_CRITERIA:
        apply_lock(uow, actor, problem, vote)


def _declare(uow: UnitOfWork, actor: Actor | None, vote: Vote, tally: Tally) -> int | None:
    """R9: a closed outcome vote that met quorum becomes the binding decision."""
    s = session_of(uow)
    if tally.winner is None:
        vote.passed = False
        return None
    pilot = need(s.get(Pilot, vote.pilot_id), "pilot")
    charter = need(s.get(Charter, vote.charter_id), "charter")
    evidence = json.loads(vote.evidence_json) if vote.evidence_json else None
    passed = bool(evidence and evidence["indispensability"]["passed"])
    outcome = Outcome(tally.winner)
    override = outcome == Outcome.ADOPT and not passed
    if override and not charter.allow_adopt_override:
        raise RuleViolation("Adopt is refused: the indispensability threshold was not met and the "
                            "charter allows no override (R9).", rule="R9")
    basis = build_basis(_facts(s, actor, vote, pilot, charter, tally, evidence, override))
    body = canonical_json(basis)
    head_seq, head_hash = basis["audit_chain_head"]["seq"], basis["audit_chain_head"]["hash"]
    decision = Decision(vote_id=vote.id, pilot_id=pilot.id, outcome=outcome, basis_json=body,
                        basis_sha256=sha256_hex(body), adopt_override=override,
                        declared_by=actor.id if actor else None, declared_at=uow.now(),
                        chain_head_seq=head_seq, chain_head_hash=head_hash)
    s.add(decision)
    vote.passed = True
    vote.outcome = outcome
    before = pilot.state
    pilot.state, pilot.outcome, pilot.decided_at = PilotState.DECIDED, outcome, uow.now()
    s.flush()
    log(uow, actor, events.decision_declared(decision_id=decision.id, pilot_id=pilot.id, before_state=before,
                                             outcome=outcome, basis_sha256=decision.basis_sha256,
                                             adopt_override=override, vote_id=vote.id))
    if outcome == Outcome.REVISIT_PROBLEM:
        problem = need(s.get(Problem, pilot.problem_id), "problem")
        ind = evidence["indispensability"] if evidence else None
        reason = (f"Decision #{decision.id} on '{pilot.title}': revisit the problem"
                  + (f" — indispensability {ind['text']}." if ind else "."))
        reopen_problem(uow, actor, problem, pilot=pilot, reason=reason)
    return decision.id


def _facts(s: Session, actor: Actor | None, vote: Vote, pilot: Pilot, charter: Charter, tally: Tally,
           evidence: dict[str, object] | None, override: bool) -> BasisFacts:
    """Everything the decision rests on, loaded as plain values for ``rules.basis``."""
    version = need(s.get(ProblemVersion, pilot.problem_version_id), "problem version")
    lock = lock_of(s, version.id)
    return BasisFacts(
        pilot={"id": pilot.id, "title": pilot.title, "owner_id": pilot.owner_id,
               "real_use_started_at": pilot.real_use_started_at},
        problem={"id": pilot.problem_id, "version": version.version, "title": version.title},
        lock=None if lock is None else {"sha256": lock.criteria_sha256, "locked_at": lock.locked_at,
                                        "criteria_json": lock.criteria_json},
        metrics_sha256=pilot.metrics_sha256, metrics=metric_status(s, pilot.id),
        criteria=criterion_status(s, pilot), amendments=applied_amendments(s, pilot),
        evidence=evidence, adoption=latest_usage(s, pilot.id), tally=tally.as_dict(),
        voters=named_voters(s, vote.id), eligible=eligible_counts(s, vote.id),
        charter_version=charter.version, terms=terms_of(charter), adopt_override=override,
        proposed_outcome=vote.proposed_outcome,
        vote={"id": vote.id, "opened_at": vote.opened_at, "deadline": vote.deadline, "closed_at": vote.closed_at},
        closed_by=(actor.id, actor.name) if actor else None, chain_head=chain_head(s))
