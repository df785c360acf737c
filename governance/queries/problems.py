"""Read models of the Problems page."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from governance.errors import NotFound
from governance.queries._base import Page, like, paginate, present, reader
from governance.rules import acts as _may
from governance.rules.permissions import Action, allowed
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Amendment,
    CriteriaLock,
    Criterion,
    Panel,
    PanelMembership,
    Person,
    Pilot,
    Problem,
    ProblemComment,
    ProblemReopening,
    ProblemVersion,
    Vote,
)
from governance.vocabulary import ProblemState


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """A problem (its current version) as the list shows it."""

    id: int
    title: str
    panel: str
    state: str
    version: int
    criteria: int
    locked_at: datetime | None
    pilots: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PanelRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ProblemVersionRow:
    version: int
    title: str
    statement: str
    created_at: datetime
    ratified_at: datetime | None


@dataclass(frozen=True, slots=True)
class CriteriaLockInfo:
    """The pre-registration of the current version's criteria (R3)."""

    locked_at: datetime
    locked_by: str | None
    sha256: str
    vote_id: int | None


@dataclass(frozen=True, slots=True)
class CriterionRow:
    id: int
    name: str
    definition: str
    measurement_method: str
    unit: str
    direction: str
    target: float
    minimum_evidence: int
    is_indispensability: bool


@dataclass(frozen=True, slots=True)
class CriterionAmendment:
    """An amendment of one of the current version's criteria (``before``/``after`` as stored)."""

    id: int
    criterion: str
    proposed_by: str
    reason: str
    status: str
    before: dict[str, Any]
    after: dict[str, Any]
    after_real_use: bool
    proposed_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class CommentRow:
    body: str
    created_at: datetime
    name: str


@dataclass(frozen=True, slots=True)
class PanelVoteRow:
    """A panel vote on one of the problem's versions."""

    id: int
    kind: str
    status: str
    question: str
    deadline: datetime
    passed: bool | None
    problem_version_id: int | None
    version: int | None


@dataclass(frozen=True, slots=True)
class ProblemPilot:
    id: int
    title: str
    state: str
    outcome: str | None
    problem_version_id: int


@dataclass(frozen=True, slots=True)
class Reopening:
    """A version reopened by a failed evaluation (R10)."""

    version: int
    pilot: str | None
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ProblemDetail:
    """Everything the Problems page shows about one problem, and what the reader may do with it."""

    id: int
    state: str
    panel: PanelRef
    title: str
    statement: str
    version: int
    versions: list[ProblemVersionRow]
    lock: CriteriaLockInfo | None
    criteria: list[CriterionRow]
    amendments: list[CriterionAmendment]
    comments: list[CommentRow]
    votes: list[PanelVoteRow]
    pilots: list[ProblemPilot]
    reopenings: list[Reopening]
    my_panel_role: str | None
    #: Revise the wording (a member of the owning panel; draft or reopened).
    may_edit_text: bool
    #: Add, change or remove criteria (a member of the owning panel; not locked, not retired).
    may_edit_criteria: bool
    #: Propose an amendment of a locked criterion (a member of the owning panel).
    may_propose_amendment: bool
    #: Open the ratification or lock vote (a facilitator of the owning panel).
    may_open_panel_vote: bool
    #: Retire the problem (a facilitator of the owning panel; not retired yet).
    may_retire: bool
    #: Comment on the problem.
    may_comment: bool


@dataclass(frozen=True, slots=True)
class RatifiedProblem:
    id: int
    title: str
    panel: str


def _current_version_join() -> ColumnElement[bool]:
    return and_(ProblemVersion.problem_id == Problem.id, ProblemVersion.version == Problem.current_version)


def problems_page(uow: UnitOfWork, actor_id: int, *, panel_id: int | None = None,
                  state: str | None = None, search: str = "", page: int = 1,
                  per_page: int = 20) -> Page[ProblemRow]:
    """Problems (current version) with their panel, state, lock and pilot counts."""
    with uow.reading() as s:
        reader(s, actor_id)
        criteria = (select(func.count()).select_from(Criterion)
                    .where(Criterion.problem_version_id == ProblemVersion.id).scalar_subquery())
        locked = (select(CriteriaLock.locked_at).where(CriteriaLock.problem_version_id == ProblemVersion.id)
                  .scalar_subquery())
        pilots = (select(func.count()).select_from(Pilot).where(Pilot.problem_id == Problem.id)
                  .scalar_subquery())
        q = (select(Problem.id, ProblemVersion.title, Panel.name.label("panel"), Problem.state,
                    Problem.current_version.label("version"), criteria.label("criteria"),
                    locked.label("locked_at"), pilots.label("pilots"), Problem.created_at)
             .join(ProblemVersion, _current_version_join()).join(Panel, Panel.id == Problem.panel_id))
        if panel_id:
            q = q.where(Problem.panel_id == panel_id)
        if state:
            q = q.where(Problem.state == state)
        if search.strip():
            q = q.where(func.lower(ProblemVersion.title).like(like(search), escape="\\"))
        rows, total, page = paginate(s, q.order_by(Problem.id.desc()), page, per_page)
        return Page([ProblemRow(id=r.id, title=r.title, panel=r.panel, state=r.state, version=r.version,
                                criteria=int(r.criteria or 0), locked_at=r.locked_at,
                                pilots=int(r.pilots or 0), created_at=r.created_at) for r in rows],
                    total, page, per_page)


def problem_detail(uow: UnitOfWork, actor_id: int, problem_id: int) -> ProblemDetail:
    """Everything the Problems page shows about one problem, and what the reader may do.

    Long on purpose: one read transaction assembling one frozen read model from single look-ups.
    """
    with uow.reading() as s:
        actor = reader(s, actor_id)
        problem = s.get(Problem, problem_id) if isinstance(problem_id, int) else None
        if problem is None:
            raise NotFound(f"There is no problem #{problem_id}.")
        panel = present(s.get(Panel, problem.panel_id), "panel")
        versions = s.scalars(select(ProblemVersion).where(ProblemVersion.problem_id == problem.id)
                             .order_by(ProblemVersion.version.desc())).all()
        current = next(v for v in versions if v.version == problem.current_version)
        lock = s.scalar(select(CriteriaLock).where(CriteriaLock.problem_version_id == current.id))
        locked_by = present(s.get(Person, lock.locked_by), "person").name if lock and lock.locked_by else None
        criteria = s.scalars(select(Criterion).where(Criterion.problem_version_id == current.id)
                             .order_by(Criterion.is_indispensability.desc(), Criterion.name)).all()
        amendments = s.execute(
            select(Amendment, Person.name, Criterion.name.label("criterion"))
            .join(Person, Person.id == Amendment.proposed_by)
            .join(Criterion, Criterion.id == Amendment.criterion_id)
            .where(Criterion.problem_version_id == current.id).order_by(Amendment.id)).all()
        comments = s.execute(select(ProblemComment.body, ProblemComment.created_at, Person.name)
                             .join(Person).where(ProblemComment.problem_id == problem.id)
                             .order_by(ProblemComment.created_at)).all()
        votes = s.execute(select(Vote.id, Vote.kind, Vote.status, Vote.question, Vote.deadline,
                                 Vote.passed, Vote.problem_version_id)
                          .where(Vote.problem_version_id.in_([v.id for v in versions]),
                                 Vote.pilot_id.is_(None)).order_by(Vote.id.desc())).all()
        pilots = s.execute(select(Pilot.id, Pilot.title, Pilot.state, Pilot.outcome,
                                  Pilot.problem_version_id)
                           .where(Pilot.problem_id == problem.id).order_by(Pilot.id)).all()
        reopenings = s.execute(select(ProblemReopening, ProblemVersion.version, Pilot.title)
                               .join(ProblemVersion, ProblemVersion.id == ProblemReopening.problem_version_id)
                               .outerjoin(Pilot, Pilot.id == ProblemReopening.pilot_id)
                               .where(ProblemVersion.problem_id == problem.id)).all()
        membership = s.scalar(select(PanelMembership.panel_role).where(
            PanelMembership.panel_id == panel.id, PanelMembership.person_id == actor.id))
        version_of = {v.id: v.version for v in versions}
        roles, locked = actor.roles, lock is not None
        return ProblemDetail(
            id=problem.id, state=problem.state, panel=PanelRef(id=panel.id, name=panel.name),
            title=current.title, statement=current.statement, version=current.version,
            versions=[ProblemVersionRow(version=v.version, title=v.title, statement=v.statement,
                                        created_at=v.created_at, ratified_at=v.ratified_at) for v in versions],
            lock=None if lock is None else CriteriaLockInfo(locked_at=lock.locked_at, locked_by=locked_by,
                                                            sha256=lock.criteria_sha256, vote_id=lock.vote_id),
            criteria=[CriterionRow(id=c.id, name=c.name, definition=c.definition,
                                   measurement_method=c.measurement_method, unit=c.unit, direction=c.direction,
                                   target=c.target, minimum_evidence=c.minimum_evidence,
                                   is_indispensability=c.is_indispensability) for c in criteria],
            amendments=[CriterionAmendment(id=a.id, criterion=crit, proposed_by=name, reason=a.reason,
                                           status=a.status, before=json.loads(a.before_json),
                                           after=json.loads(a.after_json), after_real_use=a.after_real_use,
                                           proposed_at=a.proposed_at, decided_at=a.decided_at)
                        for a, name, crit in amendments],
            comments=[CommentRow(body=r.body, created_at=r.created_at, name=r.name) for r in comments],
            votes=[PanelVoteRow(id=r.id, kind=r.kind, status=r.status, question=r.question, deadline=r.deadline,
                                passed=r.passed, problem_version_id=r.problem_version_id,
                                version=version_of.get(r.problem_version_id)) for r in votes],
            pilots=[ProblemPilot(id=r.id, title=r.title, state=r.state, outcome=r.outcome,
                                 problem_version_id=r.problem_version_id) for r in pilots],
            reopenings=[Reopening(version=ver, pilot=title, reason=r.reason, at=r.reopened_at)
                        for r, ver, title in reopenings],
            my_panel_role=membership,
            may_edit_text=_may.may_edit_text(roles, membership, problem.state),
            may_edit_criteria=_may.may_edit_criteria(roles, membership, problem.state, locked),
            may_propose_amendment=_may.may_propose_amendment(roles, membership, locked),
            may_open_panel_vote=_may.may_open_panel_vote(roles, membership),
            may_retire=_may.may_retire(roles, membership, problem.state),
            may_comment=allowed(roles, Action.COMMENT_ON_PROBLEM),
        )


def ratified_problems(uow: UnitOfWork, actor_id: int) -> list[RatifiedProblem]:
    """Problems a pilot may be registered against (R1: ratified only)."""
    with uow.reading() as s:
        reader(s, actor_id)
        rows = s.execute(select(Problem.id, ProblemVersion.title, Panel.name.label("panel"))
                         .join(ProblemVersion, _current_version_join()).join(Panel)
                         .where(Problem.state == ProblemState.RATIFIED).order_by(ProblemVersion.title))
        return [RatifiedProblem(id=r.id, title=r.title, panel=r.panel) for r in rows]
