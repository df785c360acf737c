"""Closing votes, declarations (R9) and the design signal (R10).

Closing a panel vote applies its result (ratify, lock, amend). Closing an
outcome vote that met quorum declares the binding decision, with its basis
frozen (``governance.rules.basis``); a decision to revisit the problem
reopens it as a new version for the panel.
"""
from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from governance.errors import PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.record.chain import canonical_json, rows_digest, sha256_hex
from governance.record.events import problems as problem_events, votes as events
from governance.record.integrity import refuse_if_altered
from governance.record.log import chain_head
from governance.rules.acts import closer_allowed
from governance.rules.ballots import parse_groups, published
from governance.rules.basis import BasisFacts, build_basis, roster_changes
from governance.rules.charter import terms_of
from governance.rules.deadlines import may_close_early
from governance.rules.permissions import Action
from governance.rules.statements import STATEMENT_MAX, STATEMENT_MIN, scheduled_statement
from governance.rules.voting import Tally
from governance.services._base import get, log, need, panel_role, session_of
from governance.services.checkpoints import make_checkpoint
from governance.services.problems import apply_amendment, apply_lock, apply_ratification, reopen_problem
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Amendment,
    Charter,
    Decision,
    Panel,
    Pilot,
    Problem,
    ProblemVersion,
    SecretBallot,
    Vote,
)
from governance.storage.repository import (
    applied_amendments,
    criterion_status,
    current_ballots,
    eligible_counts,
    latest_usage,
    lock_of,
    metric_status,
    named_voters,
    participants,
    roster_changes_after_real_use,
    secret_receipts,
    tally_of,
    turnout,
)
from governance.validation import text
from governance.vocabulary import AmendmentStatus, Outcome, PilotState, VoteKind, VoteStatus, label


def _closer_may(s: Session, actor: Actor, vote: Vote) -> None:
    """Panel votes are closed by the panel's own facilitator; outcome votes also by steering (R2, R16)."""
    if not closer_allowed(actor.roles, vote.kind, panel_role(s, vote.panel_id, actor.id)):
        panel = s.get(Panel, vote.panel_id)
        who = "steering or a facilitator" if vote.kind == VoteKind.OUTCOME else "a facilitator"
        raise PermissionDenied(f"Only {who} of {panel.name if panel else 'its panel'} may close this vote.",
                               rule="R2")


def turnout_text(counts: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{label(g).lower()} {v} of {n}" for g, (v, n) in counts.items() if n)


@use_case
def close_vote(uow: UnitOfWork, actor_id: int, vote_id: int, *, statement: str) -> int | None:
    """Close a vote: before its deadline only when every eligible voter has voted (R16).

    Closed by a facilitator of its panel (or, for an outcome vote, steering), who writes
    the outcome ``statement`` (required, plain text) kept with the closed vote and its event.
    An outcome vote that met quorum declares the decision; returns its id (else None).
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.CLOSE_VOTE)
    vote = get(s, Vote, vote_id, "vote")
    _closer_may(s, actor, vote)
    if vote.status != VoteStatus.OPEN:
        raise RuleViolation("This vote is already closed.", rule="R16")
    words = text(statement, "Outcome statement", max_len=STATEMENT_MAX, min_len=STATEMENT_MIN)
    now = uow.now()
    if now < vote.deadline:
        counts = turnout(s, vote.id)
        voted, eligible = sum(v for v, _ in counts.values()), sum(n for _, n in counts.values())
        if not may_close_early(eligible, voted):
            raise RuleViolation(
                f"This vote closes at its deadline, {vote.deadline:%d %b %Y %H:%M} UTC, whoever is looking: "
                f"it can close earlier only when every eligible voter has voted, and {voted} of {eligible} have "
                f"({turnout_text(counts)}). Nobody picks the moment.", rule="R16")
    return close(uow, actor, vote, min(now, vote.deadline), words)


@use_case
def close_due_vote(uow: UnitOfWork, vote_id: int) -> int | None:
    """Close one vote whose deadline has passed, as the system, at its deadline (R16).

    Idempotent: a vote already closed (by another runner) is left as it is.
    """
    s = session_of(uow)
    vote = get(s, Vote, vote_id, "vote")
    if vote.status != VoteStatus.OPEN or vote.deadline > uow.now():
        return None
    return close(uow, None, vote, vote.deadline)


def due_votes(uow: UnitOfWork) -> list[int]:
    """Open votes whose deadline has passed, oldest deadline first."""
    with uow.reading() as s:
        return list(s.scalars(select(Vote.id).where(Vote.status == VoteStatus.OPEN, Vote.deadline <= uow.now())
                              .order_by(Vote.deadline, Vote.id)))


def close_due_votes(uow: UnitOfWork) -> list[int]:
    """Close every vote past its deadline, each in its own transaction; returns those closed.

    A vote that cannot be closed (e.g. its evidence was altered, R18) stays
    open and is reported by ``governance.jobs``; the others still close.
    """
    closed = []
    for vote_id in due_votes(uow):
        try:
            close_due_vote(uow, vote_id)
            closed.append(vote_id)
        except RuleViolation:
            continue
    return closed


def _shuffle_secret_rows(s: Session, vote: Vote) -> None:
    """R17: on PostgreSQL rows sit in insertion order; rewrite a vote's secret
    ballots in random order before it closes, so row order tells nothing of who
    voted when. (SQLite keeps rows in id order, and the ids are random.)"""
    if s.get_bind().dialect.name != "postgresql":
        return
    ids = list(s.scalars(select(SecretBallot.id).where(SecretBallot.vote_id == vote.id)))
    random.SystemRandom().shuffle(ids)
    for ballot_id in ids:
        s.execute(update(SecretBallot).where(SecretBallot.id == ballot_id).values(is_current=SecretBallot.is_current))


def close(uow: UnitOfWork, actor: Actor | None, vote: Vote, closed_at: datetime,
          statement: str | None = None) -> int | None:
    """Close an open vote at ``closed_at``: tally, publish, freeze; declare or apply its result.
    ``statement``: the closer's outcome statement; None when the schedule closes it, which
    records a factual one (``rules.statements.scheduled_statement``)."""
    s = session_of(uow)
    if vote.status != VoteStatus.OPEN:
        raise RuleViolation("This vote is already closed.", rule="R16")
    tally = tally_of(s, vote)
    result = tally.as_dict()
    secret_groups = parse_groups(vote.secret_groups)
    published_list = None
    if secret_groups is not None:
        published_list = published(secret_groups, secret_receipts(s, vote.id),
                                   participants(s, vote.id, secret_groups)).as_dict()
        result["secret_ballots"] = published_list
    digest = rows_digest(current_ballots(s, vote.id))
    named = [{k: v[k] for k in ("person_id", "name", "group", "option", "reason")} for v in named_voters(s, vote.id)]
    result["named_ballots"] = named
    _shuffle_secret_rows(s, vote)
    outcome = None
    if vote.kind == VoteKind.OUTCOME:
        vote.passed = tally.winner is not None
        outcome = Outcome(tally.winner) if tally.winner else None
        _refuse_unearned_adopt(s, vote, outcome)
    else:
        vote.passed = tally.passed
    # One write of the vote row: once it says "closed", the database freezes it.
    vote.outcome = outcome
    vote.closed_at, vote.closed_by = closed_at, actor.id if actor else None
    vote.result_json, vote.quorum_met = canonical_json(result), tally.quorum_met
    vote.outcome_statement = statement or scheduled_statement(vote.deadline, result)
    vote.status = VoteStatus.CLOSED
    s.flush()
    log(uow, actor, events.vote_closed(vote_id=vote.id, kind=vote.kind, winner=tally.winner,
                                       quorum_met=tally.quorum_met, at_deadline=actor is None, closed_at=closed_at,
                                       tally=tally.as_dict(), ballots_sha256=digest, published=published_list,
                                       named=named, statement=vote.outcome_statement))
    if vote.kind == VoteKind.OUTCOME:
        return _declare(uow, actor, vote, tally, published_list, digest) if outcome else None
    _apply_panel_result(uow, actor, vote, tally)
    return None


def _refuse_unearned_adopt(s: Session, vote: Vote, outcome: Outcome | None) -> None:
    """R9: "adopt" is refused when the indispensability threshold was not met (unless the charter allows it)."""
    evidence = json.loads(vote.evidence_json) if vote.evidence_json else None
    passed = bool(evidence and evidence["indispensability"]["passed"])
    charter = need(s.get(Charter, vote.charter_id), "charter")
    if outcome == Outcome.ADOPT and not passed and not charter.allow_adopt_override:
        raise RuleViolation("Adopt is refused: the indispensability threshold was not met and the "
                            "charter allows no override (R9).", rule="R9")


def _apply_panel_result(uow: UnitOfWork, actor: Actor | None, vote: Vote, tally: Tally) -> None:
    s = session_of(uow)
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


def _declare(uow: UnitOfWork, actor: Actor | None, vote: Vote, tally: Tally, secret: dict[str, Any] | None,
             digest: str) -> int:
    """R9: a closed outcome vote that met quorum becomes the binding decision, with
    its basis frozen and the chain's head signed in the same transaction (R18)."""
    s = session_of(uow)
    pilot = need(s.get(Pilot, vote.pilot_id), "pilot")
    charter = need(s.get(Charter, vote.charter_id), "charter")
    refuse_if_altered(s, pilot)
    evidence = json.loads(vote.evidence_json) if vote.evidence_json else None
    passed = bool(evidence and evidence["indispensability"]["passed"])
    assert tally.winner is not None  # a declaration follows only a result
    outcome = Outcome(tally.winner)
    override = outcome == Outcome.ADOPT and not passed
    basis = build_basis(_facts(s, actor, vote, pilot, charter, tally, evidence, override, secret, digest))
    body = canonical_json(basis)
    head_seq, head_hash = basis["audit_chain_head"]["seq"], basis["audit_chain_head"]["hash"]
    decision = Decision(vote_id=vote.id, pilot_id=pilot.id, outcome=outcome, basis_json=body,
                        basis_sha256=sha256_hex(body), adopt_override=override,
                        declared_by=actor.id if actor else None, declared_at=uow.now(),
                        chain_head_seq=head_seq, chain_head_hash=head_hash)
    s.add(decision)
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
    make_checkpoint(uow, "declaration")
    return decision.id


def _facts(s: Session, actor: Actor | None, vote: Vote, pilot: Pilot, charter: Charter, tally: Tally,
           evidence: dict[str, Any] | None, override: bool, secret: dict[str, Any] | None,
           digest: str) -> BasisFacts:
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
        voters=named_voters(s, vote.id), secret=secret, eligible=eligible_counts(s, vote.id),
        charter_version=charter.version, terms=terms_of(charter), adopt_override=override,
        proposed_outcome=vote.proposed_outcome,
        vote={"id": vote.id, "opened_at": vote.opened_at, "deadline": vote.deadline, "closed_at": vote.closed_at},
        closed_by=(actor.id, actor.name) if actor else None, chain_head=chain_head(s),
        roster_changes=roster_changes(roster_changes_after_real_use(s, pilot.id)), ballots_sha256=digest)
