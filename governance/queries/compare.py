"""The Compare read model (docs/measures.md): commissioning attainment beside frontline
indispensability for every pilot that reached real use, with quadrant,
divergence and compliance-adoption flags, and the trust ledger over time.

Everything is aggregated in SQL — a handful of grouped queries, whatever the
number of pilots — and combined per pilot here.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from governance.queries._base import reader
from governance.record.integrity import altered_pilots
from governance.rules.evidence import (
    COMMISSIONING_HIGH,
    HIGH_ADOPTION,
    QUADRANTS,
    compliance_adoption,
    divergent,
    indispensability,
    quadrant,
)
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Charter,
    CommissioningMetric,
    Criterion,
    Measurement,
    Pilot,
    RosterChange,
    SurveyRound,
    UsageWeek,
)

# The measures themselves (quadrants, thresholds, flags) are rules: one definition,
# in governance.rules.evidence; re-exported here for the Compare page.
__all__ = ["COMMISSIONING_HIGH", "HIGH_ADOPTION", "QUADRANTS", "LedgerHeadline", "LedgerMonth",
           "PilotComparison", "compare_pilots", "ledger_headline", "quadrant", "trust_ledger"]


@dataclass(frozen=True, slots=True)
class PilotComparison:
    pilot_id: int
    title: str
    state: str
    outcome: str | None
    metrics: int
    metrics_on_target: int
    metrics_measured: int
    attainment: float | None
    very_disappointed: int
    respondents: int
    indispensability: float | None
    low: float | None
    high: float | None
    threshold: float
    minimum_n: int
    status: str
    adoption: float | None
    adoption_week: str | None
    quadrant: str
    divergent: bool
    compliance_adoption: bool
    evaluated_at: datetime | None
    #: R15: people added to / removed from the roster after real use began.
    roster_added: int = 0
    roster_removed: int = 0
    #: R18: its locked criteria or metrics no longer match the record (a direct edit).
    record_altered: bool = False

    @property
    def roster_changed(self) -> str:
        if not (self.roster_added or self.roster_removed):
            return ""
        return f"roster changed after real use: +{self.roster_added} −{self.roster_removed}"

    @property
    def quadrant_label(self) -> str:
        return QUADRANTS[self.quadrant]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "quadrant_label": self.quadrant_label}


def _comparison_query() -> Any:
    """One statement: per pilot in or after real use, its indispensability
    threshold, commissioning attainment, latest survey round's counts and
    latest weekly adoption."""
    latest_value = select(
        Measurement.metric_id, Measurement.value,
        func.row_number().over(partition_by=Measurement.metric_id,
                               order_by=(Measurement.observed_on.desc(), Measurement.id.desc())).label("rn"),
    ).where(Measurement.metric_id.is_not(None)).cte("latest_value")
    on_target = case(
        (latest_value.c.value.is_(None), 0),
        (or_(and_(CommissioningMetric.direction == "higher_is_better",
                  latest_value.c.value >= CommissioningMetric.target),
             and_(CommissioningMetric.direction == "lower_is_better",
                  latest_value.c.value <= CommissioningMetric.target)), 1),
        else_=0)
    attainment = (select(CommissioningMetric.pilot_id, func.count(CommissioningMetric.id).label("metrics"),
                         func.sum(on_target).label("on_target"), func.count(latest_value.c.value).label("measured"))
                  .outerjoin(latest_value, and_(latest_value.c.metric_id == CommissioningMetric.id,
                                                latest_value.c.rn == 1))
                  .group_by(CommissioningMetric.pilot_id).cte("attainment"))
    # The latest *closed* round: an open round's answers stay hidden until it closes (R8).
    last_round = select(
        SurveyRound.pilot_id, SurveyRound.very_disappointed, SurveyRound.responses,
        SurveyRound.closed_at.label("at"),
        func.row_number().over(partition_by=SurveyRound.pilot_id, order_by=SurveyRound.number.desc()).label("rn"),
    ).where(SurveyRound.closed_at.is_not(None)).cte("last_round")
    last_week = select(
        UsageWeek.pilot_id, UsageWeek.week_start, UsageWeek.active_users, UsageWeek.eligible_users,
        func.row_number().over(partition_by=UsageWeek.pilot_id, order_by=UsageWeek.week_start.desc()).label("rn"),
    ).cte("last_week")
    # R15: roster changes after real use show beside the evidence.
    roster = (select(RosterChange.pilot_id,
                     func.sum(case((RosterChange.change == "added", 1), else_=0)).label("added"),
                     func.sum(case((RosterChange.change == "removed", 1), else_=0)).label("removed"))
              .where(RosterChange.after_real_use.is_(True)).group_by(RosterChange.pilot_id).cte("roster"))
    return (
        select(Pilot.id, Pilot.title, Pilot.state, Pilot.outcome, Criterion.target, Criterion.minimum_evidence,
               attainment.c.metrics, attainment.c.on_target, attainment.c.measured,
               last_round.c.very_disappointed, last_round.c.responses, last_round.c.at,
               last_week.c.week_start, last_week.c.active_users, last_week.c.eligible_users,
               roster.c.added, roster.c.removed)
        .outerjoin(Criterion, and_(Criterion.problem_version_id == Pilot.problem_version_id,
                                   Criterion.is_indispensability.is_(True)))
        .outerjoin(attainment, attainment.c.pilot_id == Pilot.id)
        .outerjoin(last_round, and_(last_round.c.pilot_id == Pilot.id, last_round.c.rn == 1))
        .outerjoin(last_week, and_(last_week.c.pilot_id == Pilot.id, last_week.c.rn == 1))
        .outerjoin(roster, roster.c.pilot_id == Pilot.id)
        .where(Pilot.real_use_started_at.is_not(None))
        .order_by(Pilot.real_use_started_at.desc(), Pilot.id.desc()))


COMPARISON = _comparison_query()  # built once; the statement never changes


def compare_pilots(uow: UnitOfWork, actor_id: int) -> list[PilotComparison]:
    """One comparison per pilot that reached real use, newest real use first."""
    with uow.reading() as s:
        reader(s, actor_id)
        charter = s.scalar(select(Charter).order_by(Charter.version.desc()).limit(1))
        min_n_charter = charter.min_survey_responses if charter else 30
        default_threshold = charter.indispensability_threshold if charter else 0.4
        rows = s.execute(COMPARISON).all()
        altered = altered_pilots(s, cached=True)
    out = []
    for (pid, title, state, outcome, target, min_evidence, n_metrics, on_target, measured, very, n, at,
         week, active, eligible, added, removed) in rows:
        threshold = float(target) if target is not None else default_threshold
        minimum_n = max(int(min_evidence or 0), min_n_charter)
        n_metrics, on_target, measured = int(n_metrics or 0), int(on_target or 0), int(measured or 0)
        share = (on_target / n_metrics) if n_metrics and measured else None
        ind = indispensability(int(very or 0), int(n or 0), threshold, minimum_n)
        adopt = (active / eligible) if eligible else None
        if isinstance(at, datetime) and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)  # coalesce() may come back without the column's type
        quad = quadrant(share, ind.status)
        out.append(PilotComparison(
            pid, title, state, outcome, n_metrics, on_target, measured, share, ind.very_disappointed, ind.n,
            ind.score, ind.low, ind.high, threshold, minimum_n, ind.status, adopt,
            week.isoformat() if week else None, quad, divergent(quad), compliance_adoption(adopt, ind.status),
            at if ind.status in ("pass", "fail") else None, int(added or 0), int(removed or 0), pid in altered))
    return out


@dataclass(frozen=True, slots=True)
class LedgerMonth:
    """One month of evaluations in the trust ledger, with the running totals."""

    month: str
    indispensable: int
    not_indispensable: int
    cumulative_indispensable: int
    cumulative_not_indispensable: int


@dataclass(frozen=True, slots=True)
class LedgerHeadline:
    """The trust ledger in five numbers."""

    reached_real_use: int
    evaluated: int
    indispensable: int
    not_indispensable: int
    awaiting_evidence: int


def trust_ledger(rows: list[PilotComparison]) -> list[LedgerMonth]:
    """Per month of evaluation: pilots found indispensable vs not, and the running totals."""
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: {"indispensable": 0, "not_indispensable": 0})
    for r in rows:
        if r.evaluated_at is None:
            continue
        month = r.evaluated_at.strftime("%Y-%m")
        by_month[month]["indispensable" if r.status == "pass" else "not_indispensable"] += 1
    out, yes, no = [], 0, 0
    for month in sorted(by_month):
        yes += by_month[month]["indispensable"]
        no += by_month[month]["not_indispensable"]
        out.append(LedgerMonth(month=month, indispensable=by_month[month]["indispensable"],
                               not_indispensable=by_month[month]["not_indispensable"],
                               cumulative_indispensable=yes, cumulative_not_indispensable=no))
    return out


def ledger_headline(rows: list[PilotComparison]) -> LedgerHeadline:
    evaluated = [r for r in rows if r.status in ("pass", "fail")]
    return LedgerHeadline(reached_real_use=len(rows), evaluated=len(evaluated),
                          indispensable=sum(1 for r in evaluated if r.status == "pass"),
                          not_indispensable=sum(1 for r in evaluated if r.status == "fail"),
                          awaiting_evidence=len(rows) - len(evaluated))
