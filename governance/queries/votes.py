"""Read models of the Votes page. Running tallies stay hidden from everyone until a
vote closes (R8), enforced here; turnout may show. A secret ballot (R17) is found
for its own voter only, by their voter token."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.errors import NotFound, PermissionDenied
from governance.queries._base import Page, paginate, present, reader
from governance.record.chain import sha256_hex
from governance.rules import acts as _may
from governance.rules.ballots import normalise_receipt, parse_groups, recount, voter_token
from governance.rules.charter import terms_of
from governance.rules.permissions import Action, allowed
from governance.rules.voting import Tally
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Ballot,
    Charter,
    Decision,
    PanelMembership,
    Person,
    Pilot,
    PilotTeamMember,
    ProblemVersion,
    SecretBallot,
    Vote,
    VoteEligibility,
)
from governance.storage.repository import (
    ballot_channels,
    eligible_counts,
    my_secret_ballots,
    participants,
    tally_of,
    turnout,
)
from governance.vocabulary import Outcome, PanelOption, VoteKind, VoteStatus


@dataclass(frozen=True, slots=True)
class VoteRow:
    """A vote as the lists show it, with my group and current ballot."""

    id: int
    kind: str
    question: str
    status: str
    deadline: datetime
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    passed: bool | None
    quorum_met: bool | None
    pilot: str | None
    problem: str | None
    subject: str | None
    my_group: str | None
    my_ballot: str | None


@dataclass(frozen=True, slots=True)
class VotePilot:
    id: int
    title: str


@dataclass(frozen=True, slots=True)
class VoteProblem:
    id: int
    title: str
    version: int


@dataclass(frozen=True, slots=True)
class MyBallot:
    """One ballot I cast on the vote (only the current one counts). A secret ballot carries
    its receipt instead of a time (R17): the rows keep no time, so that none links it to me."""

    option: str
    cast_at: datetime | None
    is_current: bool
    receipt: str | None = None
    #: My reason beside the ballot (open groups only; a secret ballot carries none, R17).
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Turnout:
    """One voting group's turnout: how many of its eligible voters have voted, and (groups
    on the record by name only) who has not yet."""

    group: str
    voted: int
    eligible: int
    secret: bool
    not_voted: list[str]


@dataclass(frozen=True, slots=True)
class VoteDetail:
    """One vote as the reader may see it, and what they may do with it.

    ``evidence`` (fixed when the vote opened) and ``result`` (the tally stored at close, in
    ``Tally.as_dict`` form) are stored documents, kept as they were written."""

    id: int
    kind: str
    question: str
    status: str
    deadline: datetime
    opened_at: datetime
    closed_at: datetime | None
    pilot: VotePilot | None
    problem: VoteProblem | None
    options: list[str]
    proposed_outcome: str | None
    adopt_available: bool
    evidence: dict[str, Any] | None
    my_group: str | None
    my_history: list[MyBallot]
    eligible: dict[str, int]
    cast: int
    result: dict[str, Any] | None
    running_visible: bool
    passed: bool | None
    outcome: str | None
    quorum_met: bool | None
    decision_id: int | None
    closed_by: str | None
    #: Cast or change a ballot (open, among the eligible voters, still in my group).
    may_cast: bool
    #: Close it now (R16: its deadline has passed, or everyone eligible has voted).
    may_close: bool
    #: Whether I am someone who closes this vote at all (the page then says when it can close).
    is_closer: bool = False
    #: R17: the groups voting in secret (None: a vote from before secret ballots, all on the record).
    secret_groups: tuple[str, ...] | None = ()
    turnout: list[Turnout] | None = None
    #: Why my ballot here is, or is not, secret — in plain words.
    ballot_privacy: str = ""
    #: What whoever closed it wrote about its outcome (the schedule's statement if nobody did).
    outcome_statement: str | None = None
    #: Ballots by channel ("online", "paper"): paper ballots count like online ones, and show.
    channels: dict[str, int] | None = None

    @property
    def my_ballot_is_secret(self) -> bool:
        return self.my_group is not None and self.my_group in (self.secret_groups or ())

    @property
    def my_receipt(self) -> str | None:
        return next((h.receipt for h in self.my_history if h.is_current), None)

    @property
    def everyone_voted(self) -> bool:
        return bool(self.turnout) and all(t.voted >= t.eligible for t in self.turnout or [])

    @property
    def eligible_total(self) -> int:
        return sum(self.eligible.values())

    @property
    def current_ballot(self) -> str | None:
        return next((h.option for h in self.my_history if h.is_current), None)


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A binding decision: who declared what, when, on which basis hash."""

    id: int
    outcome: str
    declared_at: datetime
    adopt_override: bool
    basis_sha256: str
    vote_id: int
    pilot_id: int
    pilot: str
    declared_by: str
    #: n online / n paper of the survey answers the decision rests on (None: frozen before paper existed).
    survey_channels: dict[str, int] | None = None


@dataclass(frozen=True, slots=True)
class DecisionDetail:
    """A decision with its frozen basis. ``basis`` is the stored basis document itself
    (a frozen record, exactly as hashed), not a read model."""

    id: int
    outcome: str
    pilot_id: int
    declared_at: datetime
    adopt_override: bool
    basis: dict[str, Any]
    basis_sha256: str
    basis_intact: bool
    chain_head_seq: int
    chain_head_hash: str
    #: The outcome statement of the vote that made the decision (frozen with the closed vote).
    outcome_statement: str | None = None


def _subject(vote_kind: str, pilot_title: str | None, problem_title: str | None) -> str | None:
    return pilot_title if vote_kind == VoteKind.OUTCOME else (problem_title or "—")


def votes_page(uow: UnitOfWork, actor_id: int, *, status: str = VoteStatus.OPEN, mine_only: bool = True,
               page: int = 1, per_page: int = 20) -> Page[VoteRow]:
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
        secret = my_secret_ballots(s, uow.keys.ballot_key() if ids else b"", actor.id, ids)
        ballots |= {vid: option for vid, (option, _receipt) in secret.items()}
        return Page([VoteRow(id=r.id, kind=r.kind, question=r.question, status=r.status, deadline=r.deadline,
                             opened_at=r.opened_at, closed_at=r.closed_at, outcome=r.outcome, passed=r.passed,
                             quorum_met=r.quorum_met, pilot=r.pilot, problem=r.problem,
                             subject=_subject(r.kind, r.pilot, r.problem), my_group=groups.get(r.id),
                             my_ballot=ballots.get(r.id)) for r in rows],
                    total, page, per_page)




def _my_history(s: Session, uow: UnitOfWork, vote: Vote, person_id: int, secret: bool) -> list[MyBallot]:
    if secret:
        token = voter_token(uow.keys.ballot_key(), vote.id, person_id)
        mine = s.execute(select(SecretBallot.option, SecretBallot.is_current, SecretBallot.receipt).where(
            SecretBallot.vote_id == vote.id, SecretBallot.voter_token == token)).all()
        # No time is kept: the earlier ones first, the current one last.
        return [MyBallot(option=r.option, cast_at=None, is_current=r.is_current, receipt=r.receipt)
                for r in sorted(mine, key=lambda r: r.is_current)]
    named = s.execute(select(Ballot.option, Ballot.cast_at, Ballot.is_current, Ballot.reason).where(
        Ballot.vote_id == vote.id, Ballot.person_id == person_id).order_by(Ballot.id)).all()
    return [MyBallot(option=r.option, cast_at=r.cast_at, is_current=r.is_current, reason=r.reason)
            for r in named]


def _turnout(s: Session, vote: Vote, secret_groups: tuple[str, ...]) -> list[Turnout]:
    counts = turnout(s, vote.id)
    voted = {p for p, _, _ in participants(s, vote.id)}
    missing: dict[str, list[str]] = {}
    for person_id, name, group in s.execute(
            select(VoteEligibility.person_id, Person.name, VoteEligibility.voting_group)
            .join(Person, Person.id == VoteEligibility.person_id)
            .where(VoteEligibility.vote_id == vote.id).order_by(Person.name)):
        if person_id not in voted and group not in secret_groups:
            missing.setdefault(group, []).append(name)
    return [Turnout(group=g, voted=v, eligible=n, secret=g in secret_groups, not_voted=missing.get(g, []))
            for g, (v, n) in counts.items() if n]


def _privacy(group: str | None, secret_groups: tuple[str, ...] | None) -> str:
    if group is None:
        return ""
    if secret_groups is None:
        return ("This vote opened before secret ballots existed: every ballot is on the record by name, "
                "with its option.")
    if group in secret_groups:
        return ("Your ballot is secret: nobody — not the pilot's team, steering, auditors or whoever runs the "
                "database — can see how you voted. You get a receipt; when the vote closes, every counted "
                "receipt is published with its option, so you can check yours was counted as you cast it. "
                "That you voted is public after the close.")
    return ("Your ballot is on the record by name: after the close everyone with a role sees how you voted "
            "(accountability runs toward the powerful).")


def vote_detail(uow: UnitOfWork, actor_id: int, vote_id: int) -> VoteDetail:
    """One vote: question, options, my eligibility and ballot history (with my receipt for a
    secret ballot), turnout per group; the result only once closed (R8)."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        vote = s.get(Vote, vote_id) if isinstance(vote_id, int) else None
        if vote is None:
            raise NotFound(f"There is no vote #{vote_id}.")
        mine = s.get(VoteEligibility, (vote.id, actor.id))
        my_group = mine.voting_group if mine else None
        secret_groups = parse_groups(vote.secret_groups)
        history = _my_history(s, uow, vote, actor.id, my_group in (secret_groups or ()))
        options = [o.value for o in (Outcome if vote.kind == VoteKind.OUTCOME else PanelOption)]
        if vote.kind == VoteKind.OUTCOME and not vote.adopt_available:
            options.remove(Outcome.ADOPT.value)
        pilot = s.get(Pilot, vote.pilot_id) if vote.pilot_id else None
        version = s.get(ProblemVersion, vote.problem_version_id) if vote.problem_version_id else None
        decision = s.scalar(select(Decision).where(Decision.vote_id == vote.id))
        closed = vote.status == VoteStatus.CLOSED
        panel_role = s.scalar(select(PanelMembership.panel_role).where(
            PanelMembership.panel_id == vote.panel_id, PanelMembership.person_id == actor.id)
        ) if vote.panel_id is not None else None
        turnouts = _turnout(s, vote, secret_groups or ())
        everyone = bool(turnouts) and all(t.voted >= t.eligible for t in turnouts)
        on_team = vote.pilot_id is not None and s.get(PilotTeamMember, (vote.pilot_id, actor.id)) is not None
        return VoteDetail(
            id=vote.id, kind=vote.kind, question=vote.question, status=vote.status,
            deadline=vote.deadline, opened_at=vote.opened_at, closed_at=vote.closed_at,
            pilot=VotePilot(id=pilot.id, title=pilot.title) if pilot else None,
            problem=VoteProblem(id=version.problem_id, title=version.title,
                                version=version.version) if version else None,
            options=options, proposed_outcome=vote.proposed_outcome,
            adopt_available=vote.adopt_available,
            evidence=json.loads(vote.evidence_json) if vote.evidence_json else None,
            my_group=my_group, my_history=history,
            eligible=eligible_counts(s, vote.id), cast=sum(t.voted for t in turnouts),
            result=json.loads(vote.result_json) if closed and vote.result_json else None,
            running_visible=False,
            passed=vote.passed, outcome=vote.outcome, quorum_met=vote.quorum_met,
            decision_id=decision.id if decision else None,
            closed_by=(present(s.get(Person, vote.closed_by), "person").name if vote.closed_by
                       else ("system (deadline)" if closed else None)),
            may_cast=_may.may_cast(actor.roles, vote.status, my_group, on_team),
            may_close=_may.may_close(actor.roles, vote.status, panel_role, vote.kind, everyone,
                                     uow.now() >= vote.deadline),
            is_closer=_may.closer_allowed(actor.roles, vote.kind, panel_role),
            secret_groups=secret_groups, turnout=turnouts, ballot_privacy=_privacy(my_group, secret_groups),
            outcome_statement=vote.outcome_statement if closed else None,
            channels=ballot_channels(s, vote.id),
        )


def running_tally(uow: UnitOfWork, actor_id: int, vote_id: int) -> Tally:
    """A vote's tally, once it has closed (``Tally.as_dict()`` is the form a closed vote stores,
    with the published list of its secret groups beside it). Before a vote closes nobody may
    read it, auditors and operators included (R8)."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        vote = s.get(Vote, vote_id) if isinstance(vote_id, int) else None
        if vote is None:
            raise NotFound(f"There is no vote #{vote_id}.")
        if vote.status == VoteStatus.OPEN and not allowed(actor.roles, Action.READ_RUNNING_TALLY):
            raise PermissionDenied("Running tallies are hidden until the vote closes, so that nobody "
                                   "votes with the crowd (R8). The result appears here at close.",
                                   rule="R8")
        return tally_of(s, vote)


def decisions_page(uow: UnitOfWork, actor_id: int, *, page: int = 1, per_page: int = 20
                   ) -> Page[DecisionRow]:
    """Binding decisions, newest first: who declared what, when, on which basis hash."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = (select(Decision.id, Decision.outcome, Decision.declared_at, Decision.adopt_override,
                    Decision.basis_sha256, Decision.vote_id, Decision.basis_json, Pilot.id.label("pilot_id"),
                    Pilot.title.label("pilot"),
                    func.coalesce(Person.name, "system (deadline)").label("declared_by"))
             .join(Pilot, Pilot.id == Decision.pilot_id)
             .outerjoin(Person, Person.id == Decision.declared_by))
        rows, total, page = paginate(s, q.order_by(Decision.declared_at.desc(), Decision.id.desc()),
                                     page, per_page)
        return Page([DecisionRow(id=r.id, outcome=r.outcome, declared_at=r.declared_at,
                                 adopt_override=r.adopt_override, basis_sha256=r.basis_sha256, vote_id=r.vote_id,
                                 pilot_id=r.pilot_id, pilot=r.pilot, declared_by=r.declared_by,
                                 survey_channels=json.loads(r.basis_json).get("survey_channels")) for r in rows],
                    total, page, per_page)


def decision_detail(uow: UnitOfWork, actor_id: int, decision_id: int) -> DecisionDetail:
    """A decision with its frozen basis (and whether the basis still matches its hash)."""
    with uow.reading() as s:
        reader(s, actor_id)
        decision = s.get(Decision, decision_id) if isinstance(decision_id, int) else None
        if decision is None:
            raise NotFound(f"There is no decision #{decision_id}.")
        return DecisionDetail(id=decision.id, outcome=decision.outcome, pilot_id=decision.pilot_id,
                              declared_at=decision.declared_at, adopt_override=decision.adopt_override,
                              basis=json.loads(decision.basis_json), basis_sha256=decision.basis_sha256,
                              basis_intact=sha256_hex(decision.basis_json) == decision.basis_sha256,
                              chain_head_seq=decision.chain_head_seq, chain_head_hash=decision.chain_head_hash,
                              outcome_statement=s.scalar(select(Vote.outcome_statement).where(
                                  Vote.id == decision.vote_id)))


def due_vote_count(uow: UnitOfWork) -> int:
    """Open votes whose deadline has passed (a cheap check before closing them)."""
    with uow.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Vote).where(
            Vote.status == VoteStatus.OPEN, Vote.deadline <= uow.now())) or 0)


@dataclass(frozen=True, slots=True)
class Recount:
    """A closed vote recounted from what it published (R17): its (receipt, option) list and its
    named ballots, under the charter it opened with."""

    vote_id: int
    matches: bool
    stored_winner: str | None
    recounted_winner: str | None
    counted: int
    detail: str


def recount_vote(uow: UnitOfWork, actor_id: int, vote_id: int) -> Recount:
    """Anyone with a role recounts a closed vote from its published lists and compares (R17)."""
    with uow.reading() as s:
        reader(s, actor_id)
        vote = s.get(Vote, vote_id) if isinstance(vote_id, int) else None
        if vote is None:
            raise NotFound(f"There is no vote #{vote_id}.")
        if vote.status != VoteStatus.CLOSED or not vote.result_json:
            raise PermissionDenied("A vote is recounted once it has closed and published its result.", rule="R8")
        stored = json.loads(vote.result_json)
        charter = s.get(Charter, vote.charter_id)
        secret = (stored.get("secret_ballots") or {}).get("receipts", [])
        named = stored.get("named_ballots", [])
        again = recount(kind=vote.kind, secret=secret, named=named,
                        eligible={g: v["eligible"] for g, v in stored["groups"].items()},
                        terms=terms_of(charter), adopt_available=vote.adopt_available,
                        proposed=vote.proposed_outcome).as_dict()
        same = again["combined_exact"] == stored["combined_exact"] and again["winner"] == stored["winner"]
        detail = ("The published lists recount to the stored result." if same else
                  "The published lists do NOT recount to the stored result: the record was altered.")
        return Recount(vote.id, same, stored["winner"], again["winner"], len(secret) + len(named), detail)


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    receipt: str
    found: bool
    option: str | None


def check_receipt(uow: UnitOfWork, actor_id: int, vote_id: int, receipt: str) -> ReceiptCheck:
    """Is this receipt among a closed vote's counted ballots, and with which option? (R17)"""
    with uow.reading() as s:
        reader(s, actor_id)
        vote = s.get(Vote, vote_id) if isinstance(vote_id, int) else None
        if vote is None:
            raise NotFound(f"There is no vote #{vote_id}.")
        wanted = normalise_receipt(receipt if isinstance(receipt, str) else "")
        if vote.status != VoteStatus.CLOSED or not vote.result_json:
            raise PermissionDenied("Receipts are published when the vote closes; check yours then.", rule="R17")
        listed = {e["receipt"]: e["option"]
                  for e in (json.loads(vote.result_json).get("secret_ballots") or {}).get("receipts", [])}
        return ReceiptCheck(wanted, wanted in listed, listed.get(wanted))
