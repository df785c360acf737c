"""Read models of the Pilots and Evaluate pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select

from governance.errors import NotFound
from governance.queries._base import Page, like, paginate, present, reader
from governance.queries.audit import ClaimRow, claim_rows
from governance.record.integrity import pilot_alterations
from governance.rules import acts as _may
from governance.rules.basis import roster_changes
from governance.rules.deadlines import window_opens_at
from governance.rules.evidence import SurveyEvidence
from governance.rules.permissions import Action, allowed
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Amendment,
    Claim,
    CommissioningMetric,
    Criterion,
    Decision,
    FeedbackItem,
    Measurement,
    Panel,
    PanelMembership,
    Person,
    Pilot,
    PilotTeamMember,
    Problem,
    ProblemVersion,
    ReadinessRecord,
    ReadinessWaiver,
    RosterEntry,
    SourceFile,
    SurveyResponse,
    SurveyRound,
    TeamInvitation,
    UsageWeek,
    Vote,
)
from governance.storage.repository import (
    criterion_status,
    current_charter,
    kept_counts,
    latest_usage,
    metric_status,
    pilot_evidence,
    roster_changes_after_real_use,
    team_of,
)
from governance.vocabulary import PanelRole, PilotState, ReadinessItem


@dataclass(frozen=True, slots=True)
class PilotRow:
    """A pilot as the list shows it."""

    id: int
    title: str
    state: str
    outcome: str | None
    problem: str
    owner: str
    registered_at: datetime
    real_use_started_at: datetime | None


@dataclass(frozen=True, slots=True)
class PilotProblem:
    """The problem (version) a pilot was registered against, and its panel."""

    id: int
    title: str
    version: int
    state: str
    panel: str
    panel_id: int


@dataclass(frozen=True, slots=True)
class PersonRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ReadinessRow:
    """One readiness item (R5): done or not, with its evidence."""

    item: str
    done: bool
    detail: str
    on_date: date | None


@dataclass(frozen=True, slots=True)
class Waiver:
    """A steering decision to waive the readiness checklist."""

    reason: str
    by: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class LatestValue:
    """The most recent measurement of a metric or criterion, with its source."""

    value: float
    observed_on: str
    source: str
    source_sha256: str | None
    source_file: str | None


@dataclass(frozen=True, slots=True)
class MetricStatus:
    """A commissioning metric with its target, latest value and whether it is on target."""

    id: int
    name: str
    unit: str
    direction: str
    target: float
    latest: LatestValue | None
    on_target: bool | None
    amended_after_real_use: bool


@dataclass(frozen=True, slots=True)
class CriterionStatus:
    """A frontline criterion with the pilot's latest value."""

    id: int
    name: str
    unit: str
    direction: str
    target: float
    minimum_evidence: int
    is_indispensability: bool
    latest: LatestValue | None
    on_target: bool | None
    amended_after_real_use: bool


@dataclass(frozen=True, slots=True)
class MetricAmendment:
    """An amendment of one of the pilot's metrics (``before``/``after``: the stored JSON text)."""

    metric: str
    by: str
    reason: str
    before: str
    after: str
    at: datetime | None
    after_real_use: bool


@dataclass(frozen=True, slots=True)
class SurveyRoundRow:
    """A survey round with the counts it keeps of its current responses. While it is open
    its answers stay hidden from everyone (R8); how many have answered shows to those
    who run it (``n`` is None for anyone else)."""

    id: int
    number: int
    opened_at: datetime
    closed_at: datetime | None
    n: int | None
    answers: dict[str, int]
    sus_mean: float | None
    sus_n: int


@dataclass(frozen=True, slots=True)
class RosterChanges:
    """R15: how the roster changed after real use began ("+a −r"), with each removal's reason."""

    added: int
    removed: int
    removals: list[str]

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def text(self) -> str:
        return f"roster changed after real use: +{self.added} −{self.removed}"


@dataclass(frozen=True, slots=True)
class UsageWeekRow:
    week_start: date
    active_users: int
    eligible_users: int
    filename: str
    sha256: str


@dataclass(frozen=True, slots=True)
class LatestUsage:
    """The most recent week of usage and its adoption share (None: nobody eligible)."""

    week_start: str
    active_users: int
    eligible_users: int
    adoption: float | None


@dataclass(frozen=True, slots=True)
class CharterSummary:
    version: int
    window_days: int
    min_responses: int


@dataclass(frozen=True, slots=True)
class PilotVoteRow:
    id: int
    status: str
    deadline: datetime
    outcome: str | None
    quorum_met: bool | None


@dataclass(frozen=True, slots=True)
class DecisionRef:
    id: int
    outcome: str
    declared_at: datetime
    adopt_override: bool


@dataclass(frozen=True, slots=True)
class PilotDetail:
    """Everything the Pilots page shows about one pilot, and what the reader may do with it."""

    id: int
    title: str
    description: str
    state: str
    outcome: str | None
    registered_at: datetime
    real_use_started_at: datetime | None
    metrics_sha256: str | None
    problem: PilotProblem
    owner: PersonRef
    team: list[PersonRef]
    on_team: bool
    roster: list[PersonRef]
    readiness: list[ReadinessRow]
    waiver: Waiver | None
    metrics: list[MetricStatus]
    criteria: list[CriterionStatus]
    metric_amendments: list[MetricAmendment]
    rounds: list[SurveyRoundRow]
    #: The evidence of the latest *closed* round (an open round's answers stay hidden, R8).
    evidence: SurveyEvidence
    usage: list[UsageWeekRow]
    latest_usage: LatestUsage | None
    window_opens_at: datetime | None
    window_open: bool
    charter: CharterSummary
    votes: list[PilotVoteRow]
    decision: DecisionRef | None
    #: Metrics, readiness, roster and the start of real use (on the commissioning team).
    may_manage: bool
    #: Amend a locked metric (on the commissioning team).
    may_amend_metric: bool
    #: Import weekly usage (on the commissioning team).
    may_import_usage: bool
    #: Record or import measurements (the commissioning team or the owning panel).
    may_record_measurement: bool
    #: Open and close survey rounds (the commissioning team or a facilitator of the owning panel).
    may_run_survey: bool
    #: Waive the readiness checklist (a steering decision).
    may_waive_readiness: bool
    #: Record a (non-binding) claim about the pilot.
    may_record_claim: bool
    #: People invited to the team who have not answered yet (R15).
    invited: list[PersonRef] = field(default_factory=list)
    roster_changes: RosterChanges | None = None
    #: R18: frozen evidence of this pilot that no longer matches the record ("record altered").
    alterations: list[str] = field(default_factory=list)

@dataclass(frozen=True, slots=True)
class MeasurementRow:
    """A recorded measurement with its source."""

    id: int
    measure: str | None
    value: float
    observed_on: date
    source: str
    filename: str | None
    sha256: str | None
    recorded_by: str
    recorded_at: datetime


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


def _latest(value: dict[str, Any] | None) -> LatestValue | None:
    if value is None:
        return None
    return LatestValue(value=value["value"], observed_on=value["observed_on"], source=value["source"],
                       source_sha256=value["source_sha256"], source_file=value["source_file"])


def _metric(m: dict[str, Any]) -> MetricStatus:
    return MetricStatus(id=m["id"], name=m["name"], unit=m["unit"], direction=m["direction"], target=m["target"],
                        latest=_latest(m["latest"]), on_target=m["on_target"],
                        amended_after_real_use=m["amended_after_real_use"])


def _criterion(c: dict[str, Any]) -> CriterionStatus:
    return CriterionStatus(id=c["id"], name=c["name"], unit=c["unit"], direction=c["direction"],
                           target=c["target"], minimum_evidence=c["minimum_evidence"],
                           is_indispensability=c["is_indispensability"], latest=_latest(c["latest"]),
                           on_target=c["on_target"], amended_after_real_use=c["amended_after_real_use"])


def _usage(u: dict[str, Any] | None) -> LatestUsage | None:
    if u is None:
        return None
    return LatestUsage(week_start=u["week_start"], active_users=u["active_users"],
                       eligible_users=u["eligible_users"], adoption=u["adoption"])


def pilots_page(uow: UnitOfWork, actor_id: int, *, state: str | None = None,
                states: tuple[str, ...] = (), mine: bool = False, search: str = "", page: int = 1,
                per_page: int = 20) -> Page[PilotRow]:
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
        return Page([PilotRow(id=r.id, title=r.title, state=r.state, outcome=r.outcome, problem=r.problem,
                              owner=r.owner, registered_at=r.registered_at,
                              real_use_started_at=r.real_use_started_at) for r in rows], total, page, per_page)


def pilot_detail(uow: UnitOfWork, actor_id: int, pilot_id: int) -> PilotDetail:
    """Everything the Pilots page shows about one pilot."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        pilot = s.get(Pilot, pilot_id) if isinstance(pilot_id, int) else None
        if pilot is None:
            raise NotFound(f"There is no pilot #{pilot_id}.")
        charter = current_charter(s)
        version = present(s.get(ProblemVersion, pilot.problem_version_id), "problem version")
        problem = present(s.get(Problem, pilot.problem_id), "problem")
        panel = present(s.get(Panel, problem.panel_id), "panel")
        team = team_of(s, pilot.id)
        invited = list(s.scalars(select(TeamInvitation.person_id).where(
            TeamInvitation.pilot_id == pilot.id, TeamInvitation.status == "pending")))
        names = dict(s.execute(select(Person.id, Person.name).where(
            Person.id.in_({*team, *invited, pilot.owner_id}))).all())
        roster = s.execute(select(Person.id, Person.name).join(RosterEntry, RosterEntry.person_id == Person.id)
                           .where(RosterEntry.pilot_id == pilot.id).order_by(Person.name)).all()
        records = {r.item: r for r in s.scalars(select(ReadinessRecord).where(
            ReadinessRecord.pilot_id == pilot.id))}
        waiver = s.get(ReadinessWaiver, pilot.id)
        waiver_by = present(s.get(Person, waiver.waived_by), "person").name if waiver else None
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
        evidence = pilot_evidence(s, pilot, charter, closed_only=True)
        changes = roster_changes(roster_changes_after_real_use(s, pilot.id))
        altered = [a.summary for a in pilot_alterations(s, pilot)]
        opens = window_opens_at(pilot.real_use_started_at, charter.evaluation_window_days)
        membership = s.scalar(select(PanelMembership.panel_role).where(
            PanelMembership.panel_id == panel.id, PanelMembership.person_id == actor.id))
        roles, on_team = actor.roles, actor.id in team
        return PilotDetail(
            id=pilot.id, title=pilot.title, description=pilot.description, state=pilot.state,
            outcome=pilot.outcome, registered_at=pilot.registered_at,
            real_use_started_at=pilot.real_use_started_at, metrics_sha256=pilot.metrics_sha256,
            problem=PilotProblem(id=problem.id, title=version.title, version=version.version,
                                 state=problem.state, panel=panel.name, panel_id=panel.id),
            owner=PersonRef(id=pilot.owner_id, name=names.get(pilot.owner_id, "—")),
            team=[PersonRef(id=pid, name=names.get(pid, "—")) for pid in team],
            on_team=on_team,
            roster=[PersonRef(id=r.id, name=r.name) for r in roster],
            readiness=[ReadinessRow(item=item.value, done=item in records,
                                    detail=records[item].detail if item in records else "",
                                    on_date=records[item].on_date if item in records else None)
                       for item in ReadinessItem],
            waiver=None if waiver is None else Waiver(reason=waiver.reason, by=waiver_by, at=waiver.waived_at),
            metrics=[_metric(m) for m in metric_status(s, pilot.id)],
            criteria=[_criterion(c) for c in criterion_status(s, pilot)],
            metric_amendments=[MetricAmendment(metric=name, by=by, reason=a.reason, before=a.before_json,
                                               after=a.after_json, at=a.decided_at, after_real_use=a.after_real_use)
                               for a, name, by in metric_amendments],
            rounds=[_round(r, _may.may_run_survey(roles, on_team, membership)) for r in rounds],
            evidence=evidence,
            usage=[UsageWeekRow(week_start=r.week_start, active_users=r.active_users,
                                eligible_users=r.eligible_users, filename=r.filename, sha256=r.sha256)
                   for r in usage],
            latest_usage=_usage(latest_usage(s, pilot.id)),
            window_opens_at=opens,
            window_open=opens is not None and uow.now() >= opens,
            charter=CharterSummary(version=charter.version, window_days=charter.evaluation_window_days,
                                   min_responses=charter.min_survey_responses),
            votes=[PilotVoteRow(id=r.id, status=r.status, deadline=r.deadline, outcome=r.outcome,
                                quorum_met=r.quorum_met) for r in votes],
            decision=None if decision is None else DecisionRef(id=decision.id, outcome=decision.outcome,
                                                               declared_at=decision.declared_at,
                                                               adopt_override=decision.adopt_override),
            may_manage=_may.may_manage_pilot(roles, on_team),
            may_amend_metric=_may.may_amend_metric(roles, on_team),
            may_import_usage=_may.may_import_usage(roles, on_team),
            may_record_measurement=_may.may_record_measurement(roles, on_team, membership),
            may_run_survey=_may.may_run_survey(roles, on_team, membership),
            may_waive_readiness=_may.may_waive_readiness(roles),
            may_record_claim=allowed(roles, Action.RECORD_CLAIM),
            invited=[PersonRef(id=pid, name=names.get(pid, "—")) for pid in invited],
            roster_changes=RosterChanges(changes["added"], changes["removed"],
                                         [r["reason"] or "" for r in changes["removals"]]),
            alterations=altered,
        )


def _round(r: SurveyRound, runs_it: bool) -> SurveyRoundRow:
    """A round as the reader may see it: while open, no answers; the count only for who runs it."""
    counts = kept_counts(r)
    if r.closed_at is not None:
        return SurveyRoundRow(id=r.id, number=r.number, opened_at=r.opened_at, closed_at=r.closed_at, **counts)
    return SurveyRoundRow(id=r.id, number=r.number, opened_at=r.opened_at, closed_at=None,
                          n=counts["n"] if runs_it else None, answers={}, sus_mean=None, sus_n=0)


def measurements_page(uow: UnitOfWork, actor_id: int, pilot_id: int, *, page: int = 1,
                      per_page: int = 25) -> Page[MeasurementRow]:
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
        return Page([MeasurementRow(id=r.id, measure=r.measure, value=r.value, observed_on=r.observed_on,
                                    source=r.source, filename=r.filename, sha256=r.sha256,
                                    recorded_by=r.recorded_by, recorded_at=r.recorded_at) for r in rows],
                    total, page, per_page)


# ----------------------------------------------------------------- Evaluate
def my_surveys(uow: UnitOfWork, actor_id: int) -> list[MySurvey]:
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
                  status: str | None = None, awaiting_me: bool = False, page: int = 1,
                  per_page: int = 20) -> Page[FeedbackRow]:
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
