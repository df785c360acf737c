"""What the generator keeps in memory while a row can still change.

Each record holds the columns of one row as the use cases leave it (times as
µs integers) and writes itself once, in its final state, with ``row()``.
They also carry what the rules need later (a pilot's metrics and team, a
vote's current ballots…), so nothing is read back from the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bench.bulk import db_ts


@dataclass(slots=True)
class CriterionRT:
    id: int
    problem_version_id: int
    name: str
    definition: str
    measurement_method: str
    unit: str
    direction: str
    target: float
    minimum_evidence: int
    is_indispensability: bool
    created_by: int
    created_at: int

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "problem_version_id": self.problem_version_id, "name": self.name,
                "definition": self.definition, "measurement_method": self.measurement_method, "unit": self.unit,
                "direction": self.direction, "target": self.target, "minimum_evidence": self.minimum_evidence,
                "is_indispensability": self.is_indispensability, "created_by": self.created_by,
                "created_at": db_ts(self.created_at)}


@dataclass(slots=True)
class AmendmentRT:
    id: int
    criterion_id: int | None
    metric_id: int | None
    before_json: str
    after_json: str
    reason: str
    status: str
    proposed_by: int
    proposed_at: int
    decided_at: int | None = None
    after_real_use: bool = False
    resulting_sha256: str | None = None

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "criterion_id": self.criterion_id, "metric_id": self.metric_id,
                "before_json": self.before_json, "after_json": self.after_json, "reason": self.reason,
                "status": self.status, "proposed_by": self.proposed_by, "proposed_at": db_ts(self.proposed_at),
                "decided_at": db_ts(self.decided_at), "after_real_use": self.after_real_use,
                "resulting_sha256": self.resulting_sha256}


@dataclass(slots=True)
class LockRT:
    id: int
    sha256: str
    criteria_json: str
    locked_at: int


@dataclass(slots=True)
class VersionRT:
    id: int
    problem_id: int
    version: int
    title: str
    statement: str
    created_by: int
    created_at: int
    ratified_at: int | None = None
    ratified_by_vote_id: int | None = None
    criteria: list[CriterionRT] = field(default_factory=list)
    lock: LockRT | None = None
    reopening_id: int | None = None
    amendments: list[AmendmentRT] = field(default_factory=list)
    pilots: list[PilotRT] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "problem_id": self.problem_id, "version": self.version, "title": self.title,
                "statement": self.statement, "created_by": self.created_by, "created_at": db_ts(self.created_at),
                "ratified_at": db_ts(self.ratified_at), "ratified_by_vote_id": self.ratified_by_vote_id}

    def criteria_by_name(self) -> list[CriterionRT]:
        """``repository.criteria_of``: the version's criteria, by name."""
        return sorted(self.criteria, key=lambda c: c.name)

    def indispensability(self) -> CriterionRT:
        return next(c for c in self.criteria if c.is_indispensability)

    def real_use_began(self) -> bool:
        """``repository.real_use_began``: any pilot on this version in real use."""
        return any(p.real_use_started_at is not None for p in self.pilots)


@dataclass(slots=True)
class ProblemRT:
    id: int
    panel_id: int
    programme_id: int | None
    created_by: int
    created_at: int
    state: str = "draft"
    current_version: int = 1
    versions: dict[int, VersionRT] = field(default_factory=dict)

    @property
    def version(self) -> VersionRT:
        return self.versions[self.current_version]

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "panel_id": self.panel_id, "programme_id": self.programme_id, "state": self.state,
                "current_version": self.current_version, "created_by": self.created_by,
                "created_at": db_ts(self.created_at)}


@dataclass(slots=True)
class MetricRT:
    id: int
    pilot_id: int
    name: str
    definition: str
    unit: str
    direction: str
    target: float
    created_by: int
    created_at: int

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "pilot_id": self.pilot_id, "name": self.name, "definition": self.definition,
                "unit": self.unit, "direction": self.direction, "target": self.target,
                "created_by": self.created_by, "created_at": db_ts(self.created_at)}


@dataclass(slots=True)
class MemberRT:
    """One person's time on a pilot's commissioning team."""

    pilot_id: int
    person_id: int
    joined_at: int
    removed_at: int | None = None
    removed_by: int | None = None
    removed_reason: str | None = None

    def row(self) -> dict[str, Any]:
        return {"pilot_id": self.pilot_id, "person_id": self.person_id, "joined_at": db_ts(self.joined_at),
                "removed_at": db_ts(self.removed_at), "removed_by": self.removed_by,
                "removed_reason": self.removed_reason}


@dataclass(slots=True)
class InvitationRT:
    id: int
    pilot_id: int
    person_id: int
    invited_by: int
    invited_at: int
    status: str = "pending"
    responded_at: int | None = None

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "pilot_id": self.pilot_id, "person_id": self.person_id,
                "invited_by": self.invited_by, "invited_at": db_ts(self.invited_at), "status": self.status,
                "responded_at": db_ts(self.responded_at)}


@dataclass(slots=True)
class FeedbackRT:
    id: int
    pilot_id: int
    raised_by: int
    raised_at: int
    kind: str
    body: str
    due_on: date
    response: str | None = None
    responded_by: int | None = None
    responded_at: int | None = None

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "pilot_id": self.pilot_id, "raised_by": self.raised_by,
                "raised_at": db_ts(self.raised_at), "kind": self.kind, "body": self.body,
                "due_on": self.due_on.isoformat(), "response": self.response, "responded_by": self.responded_by,
                "responded_at": db_ts(self.responded_at)}


@dataclass(slots=True)
class PilotRT:
    id: int
    problem_id: int
    problem_version_id: int
    title: str
    description: str
    owner_id: int
    registered_by: int
    registered_at: int
    version: VersionRT
    state: str = "registered"
    ready_at: int | None = None
    real_use_started_at: int | None = None
    metrics_sha256: str | None = None
    metrics_json: str | None = None
    evaluating_since: int | None = None
    decided_at: int | None = None
    outcome: str | None = None
    metrics: list[MetricRT] = field(default_factory=list)
    team: dict[int, MemberRT] = field(default_factory=dict)
    invitations: dict[int, InvitationRT] = field(default_factory=dict)
    roster: dict[int, int] = field(default_factory=dict)  # person → added at
    roster_changes: list[dict[str, Any]] = field(default_factory=list)  # after real use (R15)
    items: set[str] = field(default_factory=set)
    waived: bool = False
    #: metric id → ((observed_on, measurement id), latest value as the basis shows it)
    latest_metric: dict[int, tuple[tuple[str, int], dict[str, Any]]] = field(default_factory=dict)
    usage: list[tuple[date, int, int]] = field(default_factory=list)
    amendments: list[AmendmentRT] = field(default_factory=list)
    decision: tuple[int, str] | None = None
    closed_rounds: list[Any] = field(default_factory=list)
    open_round: Any = None
    open_vote: Any = None
    feedback: dict[tuple[Any, ...], FeedbackRT] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "problem_id": self.problem_id, "problem_version_id": self.problem_version_id,
                "title": self.title, "description": self.description, "owner_id": self.owner_id,
                "registered_by": self.registered_by, "registered_at": db_ts(self.registered_at),
                "state": self.state, "ready_at": db_ts(self.ready_at),
                "real_use_started_at": db_ts(self.real_use_started_at), "metrics_sha256": self.metrics_sha256,
                "metrics_json": self.metrics_json, "evaluating_since": db_ts(self.evaluating_since),
                "decided_at": db_ts(self.decided_at), "outcome": self.outcome}

    def metrics_by_name(self) -> list[MetricRT]:
        """``repository.metrics_of``: the pilot's metrics, by name."""
        return sorted(self.metrics, key=lambda m: m.name)

    def current_team(self) -> list[int]:
        """``repository.team_of``: the team now."""
        return sorted(pid for pid, m in self.team.items() if m.removed_at is None)


@dataclass(slots=True)
class RoundRT:
    id: int
    pilot_id: int
    number: int
    opened_by: int
    opened_at: int
    closed_by: int | None = None
    closed_at: int | None = None
    answers: dict[str, int] = field(default_factory=dict)
    sus_total: float = 0.0
    sus_responses: int = 0
    #: person → (response id, answer, SUS score) of their current response
    current: dict[int, tuple[int, str, float | None]] = field(default_factory=dict)

    def row(self, answers: tuple[str, ...]) -> dict[str, Any]:
        return {"id": self.id, "pilot_id": self.pilot_id, "number": self.number, "opened_by": self.opened_by,
                "opened_at": db_ts(self.opened_at), "closed_by": self.closed_by, "closed_at": db_ts(self.closed_at),
                "responses": sum(self.answers.values()), **{a: self.answers.get(a, 0) for a in answers},
                "sus_total": self.sus_total, "sus_responses": self.sus_responses,
                "paper_responses": 0}  # the generated organisation answers online only


@dataclass(slots=True)
class VoteRT:
    id: int
    kind: str
    pilot_id: int | None
    problem_version_id: int
    amendment_id: int | None
    panel_id: int
    question: str
    charter_id: int
    proposed_outcome: str | None
    adopt_available: bool
    evidence_json: str | None
    opened_by: int
    opened_at: int
    deadline: int
    secret_groups: tuple[str, ...]
    status: str = "open"
    closed_by: int | None = None
    closed_at: int | None = None
    result_json: str | None = None
    quorum_met: bool | None = None
    passed: bool | None = None
    outcome: str | None = None
    eligible: dict[int, str] = field(default_factory=dict)  # person → group, fixed at opening
    options: tuple[str, ...] = ()  # ``services.votes.options_of`` the vote
    participants: set[int] = field(default_factory=set)
    #: person → (group, option, cast at, ballot id) of the current ballot of an open group
    named: dict[int, tuple[str, str, int, int]] = field(default_factory=dict)
    #: voter token → (id, group, option, receipt) of the current ballot of a secret group
    secret: dict[str, tuple[int, str, str, str]] = field(default_factory=dict)
    #: every secret ballot row (written shuffled when the vote closes, R17)
    secret_rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: ``vote.outcome_statement``: the closer's (generated) or the schedule's, set at close
    outcome_statement: str | None = None

    def release(self) -> None:
        """Once closed and declared, nothing reads who was eligible or voted what again: let it go
        (at ``nation`` these maps are 15 M eligibility and 10 M ballot entries, most of the memory)."""
        self.eligible, self.participants, self.named, self.secret = {}, set(), {}, {}

    def row(self, dump_groups: Any) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "pilot_id": self.pilot_id,
                "problem_version_id": self.problem_version_id, "amendment_id": self.amendment_id,
                "panel_id": self.panel_id, "question": self.question, "charter_id": self.charter_id,
                "proposed_outcome": self.proposed_outcome, "adopt_available": self.adopt_available,
                "evidence_json": self.evidence_json, "opened_by": self.opened_by, "opened_at": db_ts(self.opened_at),
                "deadline": db_ts(self.deadline), "status": self.status, "closed_by": self.closed_by,
                "closed_at": db_ts(self.closed_at), "result_json": self.result_json, "quorum_met": self.quorum_met,
                "passed": self.passed, "outcome": self.outcome, "secret_groups": dump_groups(self.secret_groups),
                "outcome_statement": self.outcome_statement}
