"""Read models of the Problems page."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, func, select

from governance.storage.db import UnitOfWork
from governance.errors import NotFound
from governance.storage.models import (
    Amendment, Criterion, CriteriaLock, Panel, PanelMembership, Person, Pilot, Problem,
    ProblemComment, ProblemReopening, ProblemVersion, Vote,
)
from governance.queries._base import Page, like, paginate, reader
from governance.vocabulary import ProblemState


def _current_version_join():  # type: ignore[no-untyped-def]
    return and_(ProblemVersion.problem_id == Problem.id, ProblemVersion.version == Problem.current_version)


def problems_page(uow: UnitOfWork, actor_id: int, *, panel_id: int | None = None,
                  state: str | None = None, search: str = "", page: int = 1,
                  per_page: int = 20) -> Page[dict[str, Any]]:
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
        return Page([dict(r._mapping) for r in rows], total, page, per_page)


def problem_detail(uow: UnitOfWork, actor_id: int, problem_id: int) -> dict[str, Any]:
    """Everything the Problems page shows about one problem, and what the reader may do."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        problem = s.get(Problem, problem_id) if isinstance(problem_id, int) else None
        if problem is None:
            raise NotFound(f"There is no problem #{problem_id}.")
        panel = s.get(Panel, problem.panel_id)
        versions = s.scalars(select(ProblemVersion).where(ProblemVersion.problem_id == problem.id)
                             .order_by(ProblemVersion.version.desc())).all()
        current = next(v for v in versions if v.version == problem.current_version)
        lock = s.scalar(select(CriteriaLock).where(CriteriaLock.problem_version_id == current.id))
        locked_by = s.get(Person, lock.locked_by).name if lock and lock.locked_by else None
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
        editable = membership is not None and problem.state in (ProblemState.DRAFT, ProblemState.REOPENED)
        return {
            "id": problem.id, "state": problem.state, "panel": {"id": panel.id, "name": panel.name},
            "title": current.title, "statement": current.statement, "version": current.version,
            "versions": [{"version": v.version, "title": v.title, "statement": v.statement,
                          "created_at": v.created_at, "ratified_at": v.ratified_at} for v in versions],
            "lock": None if lock is None else {"locked_at": lock.locked_at, "locked_by": locked_by,
                                               "sha256": lock.criteria_sha256, "vote_id": lock.vote_id},
            "criteria": [{"id": c.id, "name": c.name, "definition": c.definition,
                          "measurement_method": c.measurement_method, "unit": c.unit,
                          "direction": c.direction, "target": c.target,
                          "minimum_evidence": c.minimum_evidence,
                          "is_indispensability": c.is_indispensability} for c in criteria],
            "amendments": [{"id": a.id, "criterion": crit, "proposed_by": name, "reason": a.reason,
                            "status": a.status, "before": json.loads(a.before_json),
                            "after": json.loads(a.after_json), "after_real_use": a.after_real_use,
                            "proposed_at": a.proposed_at, "decided_at": a.decided_at}
                           for a, name, crit in amendments],
            "comments": [dict(r._mapping) for r in comments],
            "votes": [{**dict(r._mapping), "version": version_of.get(r.problem_version_id)} for r in votes],
            "pilots": [dict(r._mapping) for r in pilots],
            "reopenings": [{"version": ver, "pilot": title, "reason": r.reason, "at": r.reopened_at}
                           for r, ver, title in reopenings],
            "my_panel_role": membership,
            "can_edit_text": editable,
            "can_edit_criteria": membership is not None and lock is None
                                 and problem.state != ProblemState.RETIRED,
        }


def ratified_problems(uow: UnitOfWork, actor_id: int) -> list[dict[str, Any]]:
    """Problems a pilot may be registered against (R1: ratified only)."""
    with uow.reading() as s:
        reader(s, actor_id)
        rows = s.execute(select(Problem.id, ProblemVersion.title, Panel.name.label("panel"))
                         .join(ProblemVersion, _current_version_join()).join(Panel)
                         .where(Problem.state == ProblemState.RATIFIED).order_by(ProblemVersion.title))
        return [dict(r._mapping) for r in rows]
