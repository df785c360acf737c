"""Read models of the Evaluate page: my survey rounds, the pilots I may raise feedback on or run
a survey for, feedback with its due dates, and a pilot's claims."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select

from governance.queries._base import Page, paginate, reader
from governance.queries.audit import ClaimRow, claim_rows
from governance.rules import acts as _may
from governance.rules.permissions import Action, allowed
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Claim,
    FeedbackItem,
    PanelMembership,
    Person,
    Pilot,
    PilotTeamMember,
    Problem,
    RosterEntry,
    SurveyResponse,
    SurveyRound,
)
from governance.storage.repository import local_today, rounds_entered_on_paper
from governance.vocabulary import PanelRole, PilotState


@dataclass(frozen=True, slots=True)
class MySurvey:
    """An open survey round of a pilot I am rostered on, with my current answer if any."""

    round_id: int
    number: int
    opened_at: datetime
    pilot_id: int
    title: str
    answer: str | None
    submitted_at: datetime | None
    sus_score: float | None


@dataclass(frozen=True, slots=True)
class PilotChoice:
    """A pilot to pick in a form."""

    id: int
    title: str
    state: str


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """A feedback item with its due date and whether the reader may answer it."""

    id: int
    pilot_id: int
    pilot: str
    kind: str
    body: str
    raised_by: str
    raised_at: datetime
    due_on: date
    response: str | None
    responded_at: datetime | None
    overdue: bool
    answered_late: bool
    #: Respond to it (on the pilot's commissioning team).
    may_respond: bool


def my_surveys(uow: UnitOfWork, actor_id: int) -> list[MySurvey]:
    """Open survey rounds of pilots I am rostered on, with my current answer if any (not the
    rounds whose paper form of mine was entered: I answer those on paper)."""
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
            .where(SurveyRound.closed_at.is_(None), SurveyRound.id.not_in(rounds_entered_on_paper(actor.id)))
            .order_by(SurveyRound.opened_at))
        return [MySurvey(round_id=r.round_id, number=r.number, opened_at=r.opened_at, pilot_id=r.pilot_id,
                         title=r.title, answer=r.answer, submitted_at=r.submitted_at, sus_score=r.sus_score)
                for r in rows]


def my_rostered_pilots(uow: UnitOfWork, actor_id: int) -> list[PilotChoice]:
    """Pilots I may raise feedback on: rostered, or on my panel's problems."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        rostered = select(RosterEntry.pilot_id).where(RosterEntry.person_id == actor.id)
        panel_pilots = select(Pilot.id).join(Problem, Problem.id == Pilot.problem_id).where(
            Problem.panel_id.in_(select(PanelMembership.panel_id).where(
                PanelMembership.person_id == actor.id)))
        rows = s.execute(select(Pilot.id, Pilot.title, Pilot.state).where(
            Pilot.id.in_(rostered.union(panel_pilots))).order_by(Pilot.title))
        return [PilotChoice(id=r.id, title=r.title, state=r.state) for r in rows]


REAL_USE = (PilotState.IN_USE, PilotState.EVALUATING)


def my_survey_pilots(uow: UnitOfWork, actor_id: int, *, limit: int = 200) -> list[PilotChoice]:
    """Pilots in real use whose survey rounds I may run: on the commissioning team, or a
    facilitator of the owning panel (``PilotDetail.may_run_survey``), newest first."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        if not allowed(actor.roles, Action.RUN_SURVEY):
            return []
        on_team = select(PilotTeamMember.pilot_id).where(PilotTeamMember.person_id == actor.id)
        facilitated = select(PanelMembership.panel_id).where(
            PanelMembership.person_id == actor.id, PanelMembership.panel_role == PanelRole.FACILITATOR)
        rows = s.execute(select(Pilot.id, Pilot.title, Pilot.state).join(Problem, Problem.id == Pilot.problem_id)
                         .where(Pilot.state.in_(REAL_USE),
                                Pilot.id.in_(on_team) | Problem.panel_id.in_(facilitated))
                         .order_by(Pilot.id.desc()).limit(limit))
        return [PilotChoice(id=r.id, title=r.title, state=r.state) for r in rows]


def feedback_page(uow: UnitOfWork, actor_id: int, *, pilot_id: int | None = None,
                  status: str | None = None, awaiting_me: bool = False, mine: bool = False,
                  item_id: int | None = None, page: int = 1, per_page: int = 20) -> Page[FeedbackRow]:
    """Feedback items with due dates, newest first; status 'open', 'overdue' or 'answered'.
    ``mine``: only the items I raised or own (a pilot of my commissioning team, whose owner
    answers them); ``item_id``: only that item (a deep link to it)."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        today = local_today(s, uow.now())
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
        my_pilots = select(PilotTeamMember.pilot_id).where(PilotTeamMember.person_id == actor.id)
        if awaiting_me:
            q = q.where(FeedbackItem.responded_at.is_(None), FeedbackItem.pilot_id.in_(my_pilots))
        if mine:
            q = q.where(or_(FeedbackItem.raised_by == actor.id, FeedbackItem.pilot_id.in_(my_pilots)))
        if item_id is not None:
            q = q.where(FeedbackItem.id == item_id)
        rows, total, page = paginate(s, q.order_by(FeedbackItem.raised_at.desc(), FeedbackItem.id.desc()),
                                     page, per_page)
        my_teams = set(s.scalars(select(PilotTeamMember.pilot_id).where(
            PilotTeamMember.person_id == actor.id, PilotTeamMember.pilot_id.in_({r.pilot_id for r in rows}))))
        return Page([FeedbackRow(
            id=r.id, pilot_id=r.pilot_id, pilot=r.pilot, kind=r.kind, body=r.body, raised_by=r.raised_by,
            raised_at=r.raised_at, due_on=r.due_on, response=r.response, responded_at=r.responded_at,
            overdue=r.responded_at is None and r.due_on < today,
            answered_late=r.responded_at is not None and r.responded_at.date() > r.due_on,
            may_respond=_may.may_respond_to_feedback(actor.roles, r.pilot_id in my_teams)) for r in rows],
            total, page, per_page)


def claims_for_pilot(uow: UnitOfWork, actor_id: int, pilot_id: int) -> list[ClaimRow]:
    with uow.reading() as s:
        reader(s, actor_id)
        return claim_rows(s, select(Claim).where(Claim.pilot_id == pilot_id)
                          .order_by(Claim.made_at.desc(), Claim.id.desc()))


def my_feedback(uow: UnitOfWork, actor_id: int, *, limit: int = 20) -> list[FeedbackRow]:
    """The feedback items I raised, newest first, with the owner's response when there is one
    (the light path's "your feedback")."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        today = local_today(s, uow.now())
        rows = s.execute(
            select(FeedbackItem.id, Pilot.id.label("pilot_id"), Pilot.title.label("pilot"), FeedbackItem.kind,
                   FeedbackItem.body, FeedbackItem.raised_at, FeedbackItem.due_on, FeedbackItem.response,
                   FeedbackItem.responded_at)
            .join(Pilot, Pilot.id == FeedbackItem.pilot_id)
            .where(FeedbackItem.raised_by == actor.id)
            .order_by(FeedbackItem.raised_at.desc(), FeedbackItem.id.desc()).limit(limit)).all()
        return [FeedbackRow(
            id=r.id, pilot_id=r.pilot_id, pilot=r.pilot, kind=r.kind, body=r.body, raised_by=actor.name,
            raised_at=r.raised_at, due_on=r.due_on, response=r.response, responded_at=r.responded_at,
            overdue=r.responded_at is None and r.due_on < today,
            answered_late=r.responded_at is not None and r.responded_at.date() > r.due_on,
            may_respond=False) for r in rows]
