"""Evidence about one pilot, aggregated in SQL: indispensability, SUS, adoption,
latest measurements. Shared by the use cases (a decision's frozen basis) and
the read models (pages), so both always report the same numbers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from governance.measures import Indispensability, indispensability, meets_target
from governance.models import (
    Amendment, Charter, CommissioningMetric, Criterion, Measurement, Pilot, SourceFile,
    SurveyResponse, SurveyRound, UsageWeek,
)
from governance.vocabulary import SurveyAnswer

SUS_COLUMNS = [getattr(SurveyResponse, f"sus_{i}") for i in range(1, 11)]


@dataclass(frozen=True)
class SurveyEvidence:
    round_id: int | None
    round_number: int | None
    round_closed: bool
    indispensability: Indispensability
    sus_mean: float | None
    sus_n: int
    answers: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "round_number": self.round_number,
                "round_closed": self.round_closed,
                "indispensability": self.indispensability.as_dict(),
                "sus_mean": self.sus_mean, "sus_n": self.sus_n, "answers": self.answers}


def threshold_for(session: Session, pilot: Pilot, charter: Charter) -> tuple[float, int]:
    """The pre-registered threshold of the pilot's problem version and the
    minimum number of responses (the larger of the criterion's and the charter's)."""
    row = session.execute(select(Criterion.target, Criterion.minimum_evidence).where(
        Criterion.problem_version_id == pilot.problem_version_id,
        Criterion.is_indispensability.is_(True))).first()
    if row is None:
        return charter.indispensability_threshold, charter.min_survey_responses
    return float(row.target), max(int(row.minimum_evidence), charter.min_survey_responses)


def latest_round(session: Session, pilot_id: int, *, closed_only: bool = False) -> SurveyRound | None:
    q = select(SurveyRound).where(SurveyRound.pilot_id == pilot_id)
    if closed_only:
        q = q.where(SurveyRound.closed_at.is_not(None))
    return session.scalar(q.order_by(SurveyRound.number.desc()).limit(1))


def round_counts(session: Session, round_id: int) -> dict[str, Any]:
    """Answer counts and SUS mean of the current responses of one round (its kept counts)."""
    rnd = session.get(SurveyRound, round_id)
    return _counts_of(rnd)


def _counts_of(rnd: SurveyRound) -> dict[str, Any]:
    return {"n": rnd.responses, "answers": {a.value: getattr(rnd, a.value) for a in SurveyAnswer},
            "sus_mean": (rnd.sus_total / rnd.sus_responses) if rnd.sus_responses else None,
            "sus_n": rnd.sus_responses}


def recount_round(session: Session, round_id: int) -> dict[str, Any]:
    """The same numbers counted from the responses themselves (to check the kept counts)."""
    answered = func.count(SurveyResponse.id)
    counts = [func.sum(case((SurveyResponse.answer == a.value, 1), else_=0)) for a in SurveyAnswer]
    row = session.execute(select(answered, *counts, func.avg(SurveyResponse.sus_score),
                                 func.count(SurveyResponse.sus_score)).where(
        SurveyResponse.round_id == round_id, SurveyResponse.is_current.is_(True))).one()
    n, *per_answer, sus_mean, sus_n = row
    return {"n": int(n or 0), "answers": {a.value: int(c or 0) for a, c in zip(SurveyAnswer, per_answer,
                                                                                 strict=True)},
            "sus_mean": float(sus_mean) if sus_mean is not None else None, "sus_n": int(sus_n or 0)}


def survey_evidence(session: Session, pilot: Pilot, charter: Charter, *,
                    closed_only: bool = False) -> SurveyEvidence:
    """Indispensability (score, Wilson interval, n, verdict) and SUS of the latest round."""
    threshold, minimum_n = threshold_for(session, pilot, charter)
    rnd = latest_round(session, pilot.id, closed_only=closed_only)
    if rnd is None:
        return SurveyEvidence(None, None, False, indispensability(0, 0, threshold, minimum_n), None, 0,
                              {a.value: 0 for a in SurveyAnswer})
    c = _counts_of(rnd)
    very = c["answers"][SurveyAnswer.VERY_DISAPPOINTED.value]
    return SurveyEvidence(rnd.id, rnd.number, rnd.closed_at is not None,
                          indispensability(very, c["n"], threshold, minimum_n),
                          c["sus_mean"], c["sus_n"], c["answers"])


def latest_usage(session: Session, pilot_id: int) -> dict[str, Any] | None:
    row = session.execute(select(UsageWeek.week_start, UsageWeek.active_users, UsageWeek.eligible_users)
                          .where(UsageWeek.pilot_id == pilot_id)
                          .order_by(UsageWeek.week_start.desc()).limit(1)).first()
    if row is None:
        return None
    share = row.active_users / row.eligible_users if row.eligible_users else None
    return {"week_start": row.week_start.isoformat(), "active_users": row.active_users,
            "eligible_users": row.eligible_users, "adoption": share}


def _latest_values(session: Session, column: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The most recent measurement of each id in ``ids`` (ties: the later record)."""
    if not ids:
        return {}
    ranked = select(
        column.label("subject"), Measurement.value, Measurement.observed_on, Measurement.source,
        SourceFile.sha256, SourceFile.filename,
        func.row_number().over(partition_by=column,
                               order_by=(Measurement.observed_on.desc(), Measurement.id.desc())
                               ).label("rank"),
    ).outerjoin(SourceFile, SourceFile.id == Measurement.source_file_id).where(column.in_(ids)).subquery()
    rows = session.execute(select(ranked).where(ranked.c.rank == 1))
    return {r.subject: {"value": r.value, "observed_on": r.observed_on.isoformat(), "source": r.source,
                        "source_sha256": r.sha256, "source_file": r.filename} for r in rows}


def metric_status(session: Session, pilot_id: int) -> list[dict[str, Any]]:
    """Each commissioning metric with its target, latest value and whether it is on target."""
    metrics = session.scalars(select(CommissioningMetric).where(
        CommissioningMetric.pilot_id == pilot_id).order_by(CommissioningMetric.name)).all()
    latest = _latest_values(session, Measurement.metric_id, [m.id for m in metrics])
    amended = _amended_ids(session, Amendment.metric_id, [m.id for m in metrics])
    out = []
    for m in metrics:
        value = latest.get(m.id)
        out.append({"id": m.id, "name": m.name, "unit": m.unit, "direction": m.direction,
                    "target": m.target, "latest": value,
                    "on_target": None if value is None else meets_target(value["value"], m.target,
                                                                          m.direction),
                    "amended_after_real_use": m.id in amended})
    return out


def criterion_status(session: Session, pilot: Pilot) -> list[dict[str, Any]]:
    """The problem version's frontline criteria with the pilot's latest values."""
    criteria = session.scalars(select(Criterion).where(
        Criterion.problem_version_id == pilot.problem_version_id).order_by(
        Criterion.is_indispensability.desc(), Criterion.name)).all()
    latest = _latest_values(session, Measurement.criterion_id, [c.id for c in criteria])
    amended = _amended_ids(session, Amendment.criterion_id, [c.id for c in criteria])
    out = []
    for c in criteria:
        value = latest.get(c.id)
        out.append({"id": c.id, "name": c.name, "unit": c.unit, "direction": c.direction,
                    "target": c.target, "minimum_evidence": c.minimum_evidence,
                    "is_indispensability": c.is_indispensability, "latest": value,
                    "on_target": None if value is None else meets_target(value["value"], c.target,
                                                                          c.direction),
                    "amended_after_real_use": c.id in amended})
    return out


def _amended_ids(session: Session, column: Any, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(column).where(
        and_(column.in_(ids), Amendment.after_real_use.is_(True), Amendment.status == "applied"))))


def attainment(metrics: list[dict[str, Any]]) -> float | None:
    """Share of commissioning metrics at or beyond target (None if none measured)."""
    measured = [m for m in metrics if m["on_target"] is not None]
    if not metrics or not measured:
        return None
    return sum(1 for m in metrics if m["on_target"]) / len(metrics)


def window_opens_at(pilot: Pilot, charter: Charter) -> datetime | None:
    """The moment the survey and the outcome vote may open (R6)."""
    if pilot.real_use_started_at is None:
        return None
    return pilot.real_use_started_at + timedelta(days=charter.evaluation_window_days)
