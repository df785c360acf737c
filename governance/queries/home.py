"""Read models of the Home page: the pipeline, and what needs *me* now."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, select

from governance.queries._base import reader
from governance.rules import acts as _may
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    FeedbackItem,
    JobRun,
    Person,
    Pilot,
    PilotTeamMember,
    Problem,
    RosterEntry,
    SurveyResponse,
    SurveyRound,
    TeamInvitation,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.storage.repository import local_today, rounds_entered_on_paper
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
class AgendaInvitation:
    """An invitation to join a pilot's commissioning team, for the invited person to answer (R15)."""

    id: int
    pilot: str
    invited_by: str
    invited_at: datetime


@dataclass(frozen=True, slots=True)
class Agenda:
    """What needs the reader now, and whether they oversee overdue feedback (R13)."""

    votes: list[AgendaVote]
    surveys: list[AgendaSurvey]
    feedback: list[AgendaFeedback]
    may_oversee_feedback: bool
    invitations: list[AgendaInvitation] = field(default_factory=list)
    #: R18: "record altered" alerts from the latest integrity check (steering and auditors).
    alterations: list[str] = field(default_factory=list)
    integrity_checked_at: datetime | None = None


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
        voted = select(VoteParticipation.vote_id).where(VoteParticipation.person_id == actor.id)
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
            .where(SurveyRound.closed_at.is_(None), SurveyRound.id.not_in(answered),
                   SurveyRound.id.not_in(rounds_entered_on_paper(actor.id)))
            .order_by(SurveyRound.opened_at).limit(limit)).all()
        feedback = s.execute(
            select(FeedbackItem.id, FeedbackItem.body, FeedbackItem.due_on, Pilot.title.label("pilot"))
            .join(Pilot, Pilot.id == FeedbackItem.pilot_id)
            .join(PilotTeamMember, and_(PilotTeamMember.pilot_id == Pilot.id,
                                        PilotTeamMember.person_id == actor.id))
            .where(FeedbackItem.responded_at.is_(None))
            .order_by(FeedbackItem.due_on).limit(limit)).all()
        today = local_today(s, now)
        inviter = Person.__table__.alias("inviter")
        invitations = s.execute(
            select(TeamInvitation.id, Pilot.title, inviter.c.name, TeamInvitation.invited_at)
            .join(Pilot, Pilot.id == TeamInvitation.pilot_id).join(inviter, inviter.c.id == TeamInvitation.invited_by)
            .where(TeamInvitation.person_id == actor.id, TeamInvitation.status == "pending")
            .order_by(TeamInvitation.invited_at).limit(limit)).all()
        oversees = _may.may_oversee_feedback(actor.roles)
        checked = s.scalar(select(JobRun).order_by(JobRun.id.desc()).limit(1)) if oversees else None
        alerts = list(json.loads(checked.summary).get("alterations", [])) if checked else []
        return Agenda(
            invitations=[AgendaInvitation(id=i, pilot=t, invited_by=n, invited_at=at) for i, t, n, at in invitations],
            alterations=alerts, integrity_checked_at=checked.finished_at if checked else None,
            votes=[AgendaVote(id=r.id, kind=r.kind, question=r.question, deadline=r.deadline,
                              voted=bool(r.voted)) for r in votes],
            surveys=[AgendaSurvey(id=r.id, number=r.number, pilot_id=r.pilot_id, title=r.title)
                     for r in surveys],
            feedback=[AgendaFeedback(id=r.id, body=r.body, due_on=r.due_on, pilot=r.pilot,
                                     overdue=r.due_on < today) for r in feedback],
            may_oversee_feedback=_may.may_oversee_feedback(actor.roles),
        )
