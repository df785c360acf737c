"""Read models of the Pilots and Evaluate pages."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select

from governance.storage.db import UnitOfWork
from governance.errors import NotFound
from governance.rules.deadlines import window_opens_at
from governance.storage.repository import (
    criterion_status, current_charter, latest_usage, kept_counts, metric_status, pilot_evidence,
)
from governance.storage.models import (
    Amendment, Claim, CommissioningMetric, Criterion, Decision, FeedbackItem, Measurement, Panel, PanelMembership, Person, Pilot,
    PilotTeamMember, Problem, ProblemVersion, ReadinessRecord, ReadinessWaiver, RosterEntry,
    SourceFile, SurveyResponse, SurveyRound, UsageWeek, Vote,
)
from governance.queries._base import Page, like, paginate, reader
from governance.queries.audit import claim_rows
from governance.vocabulary import ReadinessItem


def pilots_page(uow: UnitOfWork, actor_id: int, *, state: str | None = None,
                states: tuple[str, ...] = (), mine: bool = False, search: str = "", page: int = 1,
                per_page: int = 20) -> Page[dict[str, Any]]:
    """Pilots with their problem, owner and state (or any of ``states``);
    ``mine``: pilots whose team I am on."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        owner = Person.__table__.alias("owner")
        q = (select(Pilot.id, Pilot.title, Pilot.state, Pilot.outcome, ProblemVersion.title.label("problem"),
                    owner.c.name.label("owner"), Pilot.registered_at, Pilot.real_use_started_at)
             .join(ProblemVersion, ProblemVersion.id == Pilot.problem_version_id)
             .join(owner, owner.c.id == Pilot.owner_id))
        if state:
            q = q.where(Pilot.state == state)
        if states:
            q = q.where(Pilot.state.in_(states))
        if mine:
            q = q.where(Pilot.id.in_(select(PilotTeamMember.pilot_id).where(
                PilotTeamMember.person_id == actor.id)))
        if search.strip():
            q = q.where(func.lower(Pilot.title).like(like(search), escape="\\"))
        rows, total, page = paginate(s, q.order_by(Pilot.id.desc()), page, per_page)
        return Page([dict(r._mapping) for r in rows], total, page, per_page)


def pilot_detail(uow: UnitOfWork, actor_id: int, pilot_id: int) -> dict[str, Any]:
    """Everything the Pilots page shows about one pilot."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        pilot = s.get(Pilot, pilot_id) if isinstance(pilot_id, int) else None
        if pilot is None:
            raise NotFound(f"There is no pilot #{pilot_id}.")
        charter = current_charter(s)
        version = s.get(ProblemVersion, pilot.problem_version_id)
        problem = s.get(Problem, pilot.problem_id)
        panel = s.get(Panel, problem.panel_id)
        team = sorted(s.scalars(select(PilotTeamMember.person_id).where(PilotTeamMember.pilot_id == pilot.id)))
        names = dict(s.execute(select(Person.id, Person.name).where(
            Person.id.in_({*team, pilot.owner_id}))).all())
        roster = s.execute(select(Person.id, Person.name).join(RosterEntry, RosterEntry.person_id == Person.id)
                           .where(RosterEntry.pilot_id == pilot.id).order_by(Person.name)).all()
        records = {r.item: r for r in s.scalars(select(ReadinessRecord).where(
            ReadinessRecord.pilot_id == pilot.id))}
        waiver = s.get(ReadinessWaiver, pilot.id)
        waiver_by = s.get(Person, waiver.waived_by).name if waiver else None
        rounds = s.scalars(select(SurveyRound).where(SurveyRound.pilot_id == pilot.id)
                           .order_by(SurveyRound.number)).all()
        usage = s.execute(select(UsageWeek.week_start, UsageWeek.active_users, UsageWeek.eligible_users,
                                 SourceFile.filename, SourceFile.sha256)
                          .join(SourceFile, SourceFile.id == UsageWeek.source_file_id)
                          .where(UsageWeek.pilot_id == pilot.id).order_by(UsageWeek.week_start)).all()
        metric_amendments = s.execute(
            select(Amendment, CommissioningMetric.name, Person.name.label("by"))
            .join(CommissioningMetric, CommissioningMetric.id == Amendment.metric_id)
            .join(Person, Person.id == Amendment.proposed_by)
            .where(CommissioningMetric.pilot_id == pilot.id).order_by(Amendment.id)).all()
        decision = s.scalar(select(Decision).where(Decision.pilot_id == pilot.id)
                            .order_by(Decision.id.desc()).limit(1))
        votes = s.execute(select(Vote.id, Vote.status, Vote.deadline, Vote.outcome, Vote.quorum_met)
                          .where(Vote.pilot_id == pilot.id).order_by(Vote.id.desc())).all()
        evidence = pilot_evidence(s, pilot, charter)
        opens = window_opens_at(pilot.real_use_started_at, charter.evaluation_window_days)
        return {
            "id": pilot.id, "title": pilot.title, "description": pilot.description, "state": pilot.state,
            "outcome": pilot.outcome, "registered_at": pilot.registered_at,
            "real_use_started_at": pilot.real_use_started_at, "metrics_sha256": pilot.metrics_sha256,
            "problem": {"id": problem.id, "title": version.title, "version": version.version,
                        "state": problem.state, "panel": panel.name, "panel_id": panel.id},
            "owner": {"id": pilot.owner_id, "name": names.get(pilot.owner_id, "—")},
            "team": [{"id": pid, "name": names.get(pid, "—")} for pid in team],
            "on_team": actor.id in team,
            "roster": [dict(r._mapping) for r in roster],
            "readiness": [{"item": item.value, "done": item in records,
                           "detail": records[item].detail if item in records else "",
                           "on_date": records[item].on_date if item in records else None}
                          for item in ReadinessItem],
            "waiver": None if waiver is None else {"reason": waiver.reason, "by": waiver_by,
                                                   "at": waiver.waived_at},
            "metrics": metric_status(s, pilot.id),
            "criteria": criterion_status(s, pilot),
            "metric_amendments": [{"metric": name, "by": by, "reason": a.reason, "before": a.before_json,
                                   "after": a.after_json, "at": a.decided_at,
                                   "after_real_use": a.after_real_use}
                                  for a, name, by in metric_amendments],
            "rounds": [{"id": r.id, "number": r.number, "opened_at": r.opened_at, "closed_at": r.closed_at,
                        **kept_counts(r)} for r in rounds],
            "evidence": evidence.as_dict(),
            "usage": [dict(r._mapping) for r in usage],
            "latest_usage": latest_usage(s, pilot.id),
            "window_opens_at": opens,
            "window_open": opens is not None and uow.now() >= opens,
            "charter": {"version": charter.version, "window_days": charter.evaluation_window_days,
                        "min_responses": charter.min_survey_responses},
            "votes": [dict(r._mapping) for r in votes],
            "decision": None if decision is None else {"id": decision.id, "outcome": decision.outcome,
                                                       "declared_at": decision.declared_at,
                                                       "adopt_override": decision.adopt_override},
        }


def measurements_page(uow: UnitOfWork, actor_id: int, pilot_id: int, *, page: int = 1,
                      per_page: int = 25) -> Page[dict[str, Any]]:
    """Recorded measurements of a pilot, newest first, with their source."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = (select(Measurement.id, func.coalesce(CommissioningMetric.name, Criterion.name).label("measure"),
                    Measurement.value, Measurement.observed_on, Measurement.source,
                    SourceFile.filename, SourceFile.sha256, Person.name.label("recorded_by"),
                    Measurement.recorded_at)
             .outerjoin(CommissioningMetric, CommissioningMetric.id == Measurement.metric_id)
             .outerjoin(Criterion, Criterion.id == Measurement.criterion_id)
             .outerjoin(SourceFile, SourceFile.id == Measurement.source_file_id)
             .join(Person, Person.id == Measurement.recorded_by)
             .where(Measurement.pilot_id == pilot_id))
        rows, total, page = paginate(s, q.order_by(Measurement.observed_on.desc(), Measurement.id.desc()),
                                     page, per_page)
        return Page([dict(r._mapping) for r in rows], total, page, per_page)


# ----------------------------------------------------------------- Evaluate
def my_surveys(uow: UnitOfWork, actor_id: int) -> list[dict[str, Any]]:
    """Open survey rounds of pilots I am rostered on, with my current answer if any."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        mine = (select(SurveyResponse.round_id, SurveyResponse.answer, SurveyResponse.submitted_at,
                       SurveyResponse.sus_score)
                .where(SurveyResponse.person_id == actor.id, SurveyResponse.is_current.is_(True)).subquery())
        rows = s.execute(
            select(SurveyRound.id.label("round_id"), SurveyRound.number, SurveyRound.opened_at,
                   Pilot.id.label("pilot_id"), Pilot.title, mine.c.answer, mine.c.submitted_at,
                   mine.c.sus_score)
            .join(Pilot, Pilot.id == SurveyRound.pilot_id)
            .join(RosterEntry, and_(RosterEntry.pilot_id == Pilot.id, RosterEntry.person_id == actor.id))
            .outerjoin(mine, mine.c.round_id == SurveyRound.id)
            .where(SurveyRound.closed_at.is_(None)).order_by(SurveyRound.opened_at))
        return [dict(r._mapping) for r in rows]


def my_rostered_pilots(uow: UnitOfWork, actor_id: int) -> list[dict[str, Any]]:
    """Pilots I may raise feedback on: rostered, or on my panel's problems."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        rostered = select(RosterEntry.pilot_id).where(RosterEntry.person_id == actor.id)
        panel_pilots = select(Pilot.id).join(Problem, Problem.id == Pilot.problem_id).where(
            Problem.panel_id.in_(select(PanelMembership.panel_id).where(
                PanelMembership.person_id == actor.id)))
        rows = s.execute(select(Pilot.id, Pilot.title, Pilot.state).where(
            Pilot.id.in_(rostered.union(panel_pilots))).order_by(Pilot.title))
        return [dict(r._mapping) for r in rows]


def feedback_page(uow: UnitOfWork, actor_id: int, *, pilot_id: int | None = None,
                  status: str | None = None, awaiting_me: bool = False, page: int = 1,
                  per_page: int = 20) -> Page[dict[str, Any]]:
    """Feedback items with due dates; status 'open', 'overdue' or 'answered'."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        today = uow.now().date()
        raiser = Person.__table__.alias("raiser")
        q = (select(FeedbackItem.id, Pilot.id.label("pilot_id"), Pilot.title.label("pilot"), FeedbackItem.kind,
                    FeedbackItem.body, raiser.c.name.label("raised_by"), FeedbackItem.raised_at,
                    FeedbackItem.due_on, FeedbackItem.response, FeedbackItem.responded_at)
             .join(Pilot, Pilot.id == FeedbackItem.pilot_id)
             .join(raiser, raiser.c.id == FeedbackItem.raised_by))
        if pilot_id:
            q = q.where(FeedbackItem.pilot_id == pilot_id)
        if status == "open":
            q = q.where(FeedbackItem.responded_at.is_(None))
        elif status == "overdue":
            q = q.where(FeedbackItem.responded_at.is_(None), FeedbackItem.due_on < today)
        elif status == "answered":
            q = q.where(FeedbackItem.responded_at.is_not(None))
        if awaiting_me:
            q = q.where(FeedbackItem.responded_at.is_(None), FeedbackItem.pilot_id.in_(
                select(PilotTeamMember.pilot_id).where(PilotTeamMember.person_id == actor.id)))
        rows, total, page = paginate(s, q.order_by(FeedbackItem.due_on, FeedbackItem.id), page, per_page)
        out = []
        for r in rows:
            d = dict(r._mapping)
            d["overdue"] = d["responded_at"] is None and d["due_on"] < today
            d["answered_late"] = d["responded_at"] is not None and d["responded_at"].date() > d["due_on"]
            out.append(d)
        return Page(out, total, page, per_page)


def claims_for_pilot(uow: UnitOfWork, actor_id: int, pilot_id: int) -> list[dict[str, Any]]:
    with uow.reading() as s:
        reader(s, actor_id)
        return claim_rows(s, select(Claim).where(Claim.pilot_id == pilot_id)
                          .order_by(Claim.made_at.desc(), Claim.id.desc()))
