"""Read models of the Votes page. Running tallies stay hidden until a vote
closes — enforced here, in the query layer: only auditors may read them."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from governance.record.chain import sha256_hex
from governance.storage.db import UnitOfWork
from governance.errors import NotFound, PermissionDenied
from governance.storage.models import (
    Ballot, Decision, Person, Pilot, ProblemVersion, Vote, VoteEligibility,
)
from governance.rules.permissions import Action, allowed
from governance.queries._base import Page, paginate, reader
from governance.storage.repository import eligible_counts, tally_of
from governance.vocabulary import Outcome, PanelOption, VoteKind, VoteStatus


def _subject(vote_kind: str, pilot_title: str | None, problem_title: str | None) -> str:
    return pilot_title if vote_kind == VoteKind.OUTCOME else (problem_title or "—")


def votes_page(uow: UnitOfWork, actor_id: int, *, status: str = VoteStatus.OPEN, mine_only: bool = True,
               page: int = 1, per_page: int = 20) -> Page[dict[str, Any]]:
    """Votes (open or closed); ``mine_only``: the ones I am eligible for. Includes my current ballot."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        q = (select(Vote.id, Vote.kind, Vote.question, Vote.status, Vote.deadline, Vote.opened_at,
                    Vote.closed_at, Vote.outcome, Vote.passed, Vote.quorum_met,
                    Pilot.title.label("pilot"), ProblemVersion.title.label("problem"))
             .outerjoin(Pilot, Pilot.id == Vote.pilot_id)
             .outerjoin(ProblemVersion, ProblemVersion.id == Vote.problem_version_id)
             .where(Vote.status == status))
        if mine_only:
            q = q.where(Vote.id.in_(select(VoteEligibility.vote_id).where(VoteEligibility.person_id == actor.id)))
        order = Vote.deadline if status == VoteStatus.OPEN else Vote.closed_at.desc()
        rows, total, page = paginate(s, q.order_by(order, Vote.id.desc()), page, per_page)
        # My group and current ballot, for the shown votes only.
        ids = [r.id for r in rows]
        groups = dict(s.execute(select(VoteEligibility.vote_id, VoteEligibility.voting_group).where(
            VoteEligibility.vote_id.in_(ids), VoteEligibility.person_id == actor.id)).all())
        ballots = dict(s.execute(select(Ballot.vote_id, Ballot.option).where(
            Ballot.vote_id.in_(ids), Ballot.person_id == actor.id, Ballot.is_current.is_(True))).all())
        return Page([{**dict(r._mapping), "subject": _subject(r.kind, r.pilot, r.problem),
                      "my_group": groups.get(r.id), "my_ballot": ballots.get(r.id)} for r in rows],
                    total, page, per_page)


def vote_detail(uow: UnitOfWork, actor_id: int, vote_id: int) -> dict[str, Any]:
    """One vote: question, options, my eligibility and ballot history, turnout;
    the result only once closed (or to an auditor)."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        vote = s.get(Vote, vote_id) if isinstance(vote_id, int) else None
        if vote is None:
            raise NotFound(f"There is no vote #{vote_id}.")
        mine = s.get(VoteEligibility, (vote.id, actor.id))
        history = s.execute(select(Ballot.option, Ballot.cast_at, Ballot.is_current).where(
            Ballot.vote_id == vote.id, Ballot.person_id == actor.id).order_by(Ballot.id)).all()
        cast = s.scalar(select(func.count()).select_from(Ballot).where(
            Ballot.vote_id == vote.id, Ballot.is_current.is_(True))) or 0
        options = [o.value for o in (Outcome if vote.kind == VoteKind.OUTCOME else PanelOption)]
        if vote.kind == VoteKind.OUTCOME and not vote.adopt_available:
            options.remove(Outcome.ADOPT.value)
        pilot = s.get(Pilot, vote.pilot_id) if vote.pilot_id else None
        version = s.get(ProblemVersion, vote.problem_version_id) if vote.problem_version_id else None
        decision = s.scalar(select(Decision).where(Decision.vote_id == vote.id))
        closed = vote.status == VoteStatus.CLOSED
        can_see_running = allowed(actor.roles, Action.READ_RUNNING_TALLY)
        return {
            "id": vote.id, "kind": vote.kind, "question": vote.question, "status": vote.status,
            "deadline": vote.deadline, "opened_at": vote.opened_at, "closed_at": vote.closed_at,
            "pilot": {"id": pilot.id, "title": pilot.title} if pilot else None,
            "problem": {"id": version.problem_id, "title": version.title,
                        "version": version.version} if version else None,
            "options": options, "proposed_outcome": vote.proposed_outcome,
            "adopt_available": vote.adopt_available,
            "evidence": json.loads(vote.evidence_json) if vote.evidence_json else None,
            "my_group": mine.voting_group if mine else None,
            "my_history": [dict(r._mapping) for r in history],
            "eligible": eligible_counts(s, vote.id), "cast": cast,
            "result": json.loads(vote.result_json) if closed and vote.result_json else None,
            "running_visible": can_see_running and not closed,
            "passed": vote.passed, "outcome": vote.outcome, "quorum_met": vote.quorum_met,
            "decision_id": decision.id if decision else None,
            "closed_by": (s.get(Person, vote.closed_by).name if vote.closed_by
                          else ("system (deadline)" if closed else None)),
        }


def running_tally(uow: UnitOfWork, actor_id: int, vote_id: int) -> dict[str, Any]:
    """The tally so far. Before a vote closes only auditors may read it (R8)."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        vote = s.get(Vote, vote_id) if isinstance(vote_id, int) else None
        if vote is None:
            raise NotFound(f"There is no vote #{vote_id}.")
        if vote.status == VoteStatus.OPEN and not allowed(actor.roles, Action.READ_RUNNING_TALLY):
            raise PermissionDenied("Running tallies are hidden until the vote closes, so that nobody "
                                   "votes with the crowd (R8). The result appears here at close.",
                                   rule="R8")
        if vote.result_json:  # closed: the result as it was frozen and published
            return json.loads(vote.result_json)
        return tally_of(s, vote).as_dict()


def decisions_page(uow: UnitOfWork, actor_id: int, *, page: int = 1, per_page: int = 20
                   ) -> Page[dict[str, Any]]:
    """Binding decisions, newest first: who declared what, when, on which basis hash."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = (select(Decision.id, Decision.outcome, Decision.declared_at, Decision.adopt_override,
                    Decision.basis_sha256, Decision.vote_id, Pilot.id.label("pilot_id"),
                    Pilot.title.label("pilot"),
                    func.coalesce(Person.name, "system (deadline)").label("declared_by"))
             .join(Pilot, Pilot.id == Decision.pilot_id)
             .outerjoin(Person, Person.id == Decision.declared_by))
        rows, total, page = paginate(s, q.order_by(Decision.declared_at.desc(), Decision.id.desc()),
                                     page, per_page)
        return Page([dict(r._mapping) for r in rows], total, page, per_page)


def decision_detail(uow: UnitOfWork, actor_id: int, decision_id: int) -> dict[str, Any]:
    """A decision with its frozen basis (and whether the basis still matches its hash)."""
    with uow.reading() as s:
        reader(s, actor_id)
        decision = s.get(Decision, decision_id) if isinstance(decision_id, int) else None
        if decision is None:
            raise NotFound(f"There is no decision #{decision_id}.")
        return {"id": decision.id, "outcome": decision.outcome, "pilot_id": decision.pilot_id,
                "declared_at": decision.declared_at, "adopt_override": decision.adopt_override,
                "basis": json.loads(decision.basis_json), "basis_sha256": decision.basis_sha256,
                "basis_intact": sha256_hex(decision.basis_json) == decision.basis_sha256,
                "chain_head_seq": decision.chain_head_seq, "chain_head_hash": decision.chain_head_hash}


def due_vote_count(uow: UnitOfWork) -> int:
    """Open votes whose deadline has passed (a cheap check before closing them)."""
    with uow.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Vote).where(
            Vote.status == VoteStatus.OPEN, Vote.deadline <= uow.now())) or 0)
