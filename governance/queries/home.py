"""Read models of the Home page: the pipeline, and what needs *me* now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select

from governance.rules import acts as _may
from governance.queries._base import reader
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Ballot,
    FeedbackItem,
    Pilot,
    PilotTeamMember,
    Problem,
    RosterEntry,
    SurveyResponse,
    SurveyRound,
    Vote,
    VoteEligibility,
)
from governance.vocabulary import PilotState, ProblemState, VoteStatus


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Problems and pilots counted by state (every state present, zero if none)."""

    problems: dict[str, int]
    pilots: dict[str, int]


@dataclass(frozen=True, slots=True)
class AgendaVote:
    id: int
    kind: str
    question: str
    deadline: datetime
    voted: bool


@dataclass(frozen=True, slots=True)
class AgendaSurvey:
    id: int
    number: int
    pilot_id: int
    title: str


@dataclass(frozen=True, slots=True)
class AgendaFeedback:
    id: int
    body: str
    due_on: date
    pilot: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class Agenda:
    """What needs the reader now, and whether they oversee overdue feedback (R13)."""

    votes: list[AgendaVote]
    surveys: list[AgendaSurvey]
    feedback: list[AgendaFeedback]
    may_oversee_feedback: bool


def pipeline(uow: UnitOfWork, actor_id: int) -> Pipeline:
    """Problems and pilots counted by state (two GROUP BYs)."""
    with uow.reading() as s:
        reader(s, actor_id)
        problems = dict(s.execute(select(Problem.state, func.count()).group_by(Problem.state)).all())
        pilots = dict(s.execute(select(Pilot.state, func.count()).group_by(Pilot.state)).all())
        return Pipeline(problems={st.value: int(problems.get(st.value, 0)) for st in ProblemState},
                        pilots={st.value: int(pilots.get(st.value, 0)) for st in PilotState})


def my_agenda(uow: UnitOfWork, actor_id: int, *, limit: int = 20) -> Agenda:
    """Votes open to me (and whether I voted), survey rounds awaiting my answer,
    and feedback awaiting my (team's) response, overdue first."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        now = uow.now()
        voted = select(Ballot.vote_id).where(Ballot.person_id == actor.id, Ballot.is_current.is_(True))
        votes = s.execute(
            select(Vote.id, Vote.kind, Vote.question, Vote.deadline, Vote.id.in_(voted).label("voted"))
            .join(VoteEligibility, and_(VoteEligibility.vote_id == Vote.id,
                                        VoteEligibility.person_id == actor.id))
            .where(Vote.status == VoteStatus.OPEN, Vote.deadline > now)
            .order_by(Vote.deadline).limit(limit)).all()
        answered = select(SurveyResponse.round_id).where(SurveyResponse.person_id == actor.id,
                                                         SurveyResponse.is_current.is_(True))
        surveys = s.execute(
            select(SurveyRound.id, SurveyRound.number, Pilot.id.label("pilot_id"), Pilot.title)
            .join(Pilot, Pilot.id == SurveyRound.pilot_id)
            .join(RosterEntry, and_(RosterEntry.pilot_id == Pilot.id, RosterEntry.person_id == actor.id))
            .where(SurveyRound.closed_at.is_(None), SurveyRound.id.not_in(answered))
            .order_by(SurveyRound.opened_at).limit(limit)).all()
        feedback = s.execute(
            select(FeedbackItem.id, FeedbackItem.body, FeedbackItem.due_on, Pilot.title.label("pilot"))
            .join(Pilot, Pilot.id == FeedbackItem.pilot_id)
            .join(PilotTeamMember, and_(PilotTeamMember.pilot_id == Pilot.id,
                                        PilotTeamMember.person_id == actor.id))
            .where(FeedbackItem.responded_at.is_(None))
            .order_by(FeedbackItem.due_on).limit(limit)).all()
        today = now.date()
        return Agenda(
            votes=[AgendaVote(id=r.id, kind=r.kind, question=r.question, deadline=r.deadline,
                              voted=bool(r.voted)) for r in votes],
            surveys=[AgendaSurvey(id=r.id, number=r.number, pilot_id=r.pilot_id, title=r.title)
                     for r in surveys],
            feedback=[AgendaFeedback(id=r.id, body=r.body, due_on=r.due_on, pilot=r.pilot,
                                     overdue=r.due_on < today) for r in feedback],
            may_oversee_feedback=_may.may_oversee_feedback(actor.roles),
        )
