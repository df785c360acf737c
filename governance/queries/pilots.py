"""Read models of the Pilots and Evaluate pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from governance.csvfiles import sample_usage_rows
from governance.errors import NotFound
from governance.queries._base import Page, like, paginate, present, reader
from governance.record.integrity import pilot_alterations
from governance.rules import acts as _may
from governance.rules.basis import roster_changes
from governance.rules.deadlines import window_opens_at
from governance.rules.evidence import SurveyEvidence
from governance.rules.permissions import Action, allowed
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Amendment,
    CommissioningMetric,
    Decision,
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
    lock_of,
    metric_status,
    metrics_of,
    pilot_evidence,
    readiness_status,
    roster_changes_after_real_use,
    team_of,
)
from governance.vocabulary import PilotState, ReadinessItem, label


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
    #: When the charter's evaluation window opens (R6: survey and outcome vote), once in real use.
    window_opens_at: datetime | None = None
    #: Whether that window has passed now.
    window_open: bool = False


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
    #: For who runs an open round: what closing it now would mean, when it is below the
    #: charter's minimum (``rules.acts.round_close_notice``); None otherwise.
    close_notice: str | None = None


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
    #: What stops real use from starting now (``rules.acts.real_use_blockers``); empty: it may start.
    start_blockers: list[str] = field(default_factory=list)
    #: A usage file that imports into this pilot as it stands (``csvfiles.sample_usage_csv``), for
    #: those who may import usage, once in real use.
    usage_sample: list[dict[str, Any]] | None = None

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
        window, now = current_charter(s).evaluation_window_days, uow.now()
        opens = [window_opens_at(r.real_use_started_at, window) for r in rows]
        return Page([PilotRow(id=r.id, title=r.title, state=r.state, outcome=r.outcome, problem=r.problem,
                              owner=r.owner, registered_at=r.registered_at,
                              real_use_started_at=r.real_use_started_at, window_opens_at=o,
                              window_open=o is not None and now >= o)
                     for r, o in zip(rows, opens, strict=True)], total, page, per_page)


def pilot_detail(uow: UnitOfWork, actor_id: int, pilot_id: int) -> PilotDetail:
    """Everything the Pilots page shows about one pilot.

    Long on purpose: one read transaction assembling one frozen read model; each part is a
    single look-up or rule call, and splitting them would only pass the session around.
    """
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
        blockers = [] if pilot.real_use_started_at is not None else [
            message for _, message in _may.real_use_blockers(
                pilot.title, version.title, criteria_locked=lock_of(s, pilot.problem_version_id) is not None,
                ready=pilot.state == PilotState.READY,
                missing=[label(i) for i, r in readiness_status(s, pilot.id)[0].items() if r is None],
                rostered=len(roster), metrics=len(metrics_of(s, pilot.id)))]
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
            rounds=[_round(r, _may.may_run_survey(roles, on_team, membership), charter.min_survey_responses,
                           charter.allow_adopt_override) for r in rounds],
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
            alterations=altered, start_blockers=blockers,
            usage_sample=None if pilot.real_use_started_at is None or not _may.may_import_usage(roles, on_team)
            else sample_usage_rows(pilot.real_use_started_at.date(), uow.now().date(), len(roster),
                                  {u.week_start for u in usage}),
        )


def _round(r: SurveyRound, runs_it: bool, minimum: int, override_allowed: bool) -> SurveyRoundRow:
    """A round as the reader may see it: while open, no answers; the count (and what closing
    now would mean) only for who runs it."""
    counts = kept_counts(r)
    if r.closed_at is not None:
        return SurveyRoundRow(id=r.id, number=r.number, opened_at=r.opened_at, closed_at=r.closed_at, **counts)
    return SurveyRoundRow(id=r.id, number=r.number, opened_at=r.opened_at, closed_at=None,
                          n=counts["n"] if runs_it else None, answers={}, sus_mean=None, sus_n=0,
                          close_notice=_may.round_close_notice(counts["n"], minimum, override_allowed=override_allowed)
                          if runs_it else None)

