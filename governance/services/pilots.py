"""Pilots: registration against a ratified problem, metrics, roster, readiness,
real use, and measurements.

R1 — a pilot can only be registered against a ratified problem.
R3 — real use starts only once the problem's criteria are locked; starting
real use locks the commissioning metrics.
R5 — real use starts only when the readiness checklist is complete or waived
by a recorded steering decision.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.csvfiles import FileRejected, parse_csv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.record.chain import canonical_json
from governance.record.events import pilots as events
from governance.rules.acts import real_use_blockers
from governance.rules.permissions import Action
from governance.rules.prereg import (
    METRIC_FIELDS,
    canonical_metrics,
    measured_value,
    metric_record,
    validate_metric,
)
from governance.services._base import (
    get,
    is_on_team,
    log,
    need,
    panel_role,
    person,
    refuse_repeated_file,
    require_team,
    session_of,
    today,
)
from governance.services.teams import check_team_candidate, invite, join_team, void_pending_invitations
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Amendment,
    CommissioningMetric,
    Criterion,
    Measurement,
    Pilot,
    Problem,
    ProblemVersion,
    ReadinessRecord,
    ReadinessWaiver,
    RosterEntry,
    SourceFile,
)
from governance.storage.repository import current_version, lock_of, metrics_of, readiness_status, team_of
from governance.validation import TEXT_MAX, TITLE_MAX, Problems, a_date, a_list, choice, ids as id_list, text
from governance.vocabulary import (
    AmendmentStatus,
    MeasurementSource,
    PilotState,
    ProblemState,
    ReadinessItem,
    label,
)

MEASUREMENT_COLUMNS = ("measure", "observed_on", "value")


def _pilot(s: Session, pilot_id: int) -> Pilot:
    return get(s, Pilot, pilot_id, "pilot")


def _refuse_duplicate_metric(s: Session, pilot_id: int, name: str, except_id: int | None = None) -> None:
    q = select(CommissioningMetric.id).where(CommissioningMetric.pilot_id == pilot_id,
                                             func.lower(CommissioningMetric.name) == name.lower())
    if except_id is not None:
        q = q.where(CommissioningMetric.id != except_id)
    if s.scalar(q):
        raise InvalidInput(f"This pilot already has a metric called '{name}'; choose another name.",
                           field="Metric name")


def _require_not_in_use(pilot: Pilot, doing: str) -> None:
    if pilot.real_use_started_at is not None:
        raise RuleViolation(
            f"'{pilot.title}' entered real use on {pilot.real_use_started_at:%d %b %Y}, so its "
            f"commissioning metrics are locked and you cannot {doing}. Amend a metric instead, with "
            "a reason; the amendment will be flagged as made after real use began (R4).", rule="R3")


# -------------------------------------------------------------- registration
@use_case
def register_pilot(uow: UnitOfWork, actor_id: int, *, problem_id: int, title: str,
                   description: str, owner_id: int, team_ids: Iterable[int] = (),
                   metrics: Iterable[dict[str, Any]] = ()) -> int:
    """Register a candidate solution against one ratified problem (R1)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.REGISTER_PILOT)
    problem = get(s, Problem, problem_id, "problem")
    version = current_version(s, problem)
    if problem.state != ProblemState.RATIFIED:
        state = {"draft": "still a draft", "reopened": "reopened for the panel to redefine",
                 "retired": "retired"}[problem.state]
        raise RuleViolation(
            f"Cannot register a pilot for '{version.title}': the problem is {state} — no pilot "
            "without a ratified problem. The panel must ratify it first (R1).", rule="R1")
    title = text(title, "Pilot title", max_len=TITLE_MAX)
    description = text(description, "Description", max_len=TEXT_MAX)
    if s.scalar(select(Pilot.id).where(func.lower(Pilot.title) == title.lower())):
        raise InvalidInput(f"A pilot called '{title}' already exists; choose a distinct title.",
                           field="Pilot title")
    owner = person(s, owner_id, "owner")
    invited = {person(s, member_id, "team member") for member_id in id_list(team_ids, "Team members")}
    invited |= {owner}
    cleaned_metrics = [validate_metric(m) for m in a_list(metrics, "Commissioning metrics", max_items=100)]
    names = [m["name"].lower() for m in cleaned_metrics]
    if len(names) != len(set(names)):
        raise InvalidInput("Two commissioning metrics have the same name; give each a distinct name.")
    now = uow.now()
    pilot = Pilot(problem_id=problem.id, problem_version_id=version.id, title=title,
                  description=description, owner_id=owner.id, registered_by=actor.id,
                  registered_at=now, state=PilotState.REGISTERED)
    s.add(pilot)
    s.flush()
    check_team_candidate(s, pilot, owner, owner=True)
    for m in cleaned_metrics:
        s.add(CommissioningMetric(pilot_id=pilot.id, created_by=actor.id, created_at=now, **m))
    s.flush()
    log(uow, actor, events.pilot_registered(pilot_id=pilot.id, title=title, description=description,
                                            owner_id=owner.id, problem_id=problem.id,
                                            problem_version=version.version, team=[actor.id],
                                            metrics=cleaned_metrics))
    # The registrar joins by their own act; everyone else (the owner too) is invited and joins by accepting (R15).
    join_team(uow, actor, pilot, person(s, actor.id))
    for who in sorted(invited - {person(s, actor.id)}, key=lambda p: p.id):
        invite(uow, actor, pilot, who)
    return pilot.id


# ------------------------------------------------------------------ metrics
@use_case
def add_metric(uow: UnitOfWork, actor_id: int, pilot_id: int, *, name: str, definition: str,
               unit: str, direction: str, target: float) -> int:
    """Declare a commissioning metric (before real use)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "declare its metrics")
    _require_not_in_use(pilot, "add a metric")
    fields = validate_metric(dict(name=name, definition=definition, unit=unit, direction=direction,
                                  target=target))
    _refuse_duplicate_metric(s, pilot.id, fields["name"])
    metric = CommissioningMetric(pilot_id=pilot.id, created_by=actor.id, created_at=uow.now(), **fields)
    s.add(metric)
    s.flush()
    log(uow, actor, events.metric_added(metric_id=metric.id, pilot_id=pilot.id, record=metric_record(metric)))
    return metric.id


@use_case
def update_metric(uow: UnitOfWork, actor_id: int, metric_id: int, **changes: Any) -> None:
    """Change a commissioning metric before real use (after, amend it)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    metric = get(s, CommissioningMetric, metric_id, "metric")
    pilot = _pilot(s, metric.pilot_id)
    require_team(s, actor, pilot, "change its metrics")
    _require_not_in_use(pilot, "change a metric")
    cleaned = _metric_changes(s, metric, changes)
    before = metric_record(metric)
    for k, v in cleaned.items():
        setattr(metric, k, v)
    log(uow, actor, events.metric_updated(metric_id=metric.id, pilot_id=pilot.id, before=before,
                                          after=metric_record(metric)))


def _metric_changes(s: Session, metric: CommissioningMetric, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(METRIC_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown metric fields: {', '.join(sorted(unknown))}.")
    if not changes:
        raise InvalidInput("Nothing to change: give at least one new value.")
    cleaned = validate_metric({**metric_record(metric), **changes})
    if "name" in changes:
        _refuse_duplicate_metric(s, metric.pilot_id, cleaned["name"], metric.id)
    result = {k: cleaned[k] for k in changes}
    if all(getattr(metric, k) == v for k, v in result.items()):
        raise InvalidInput("Those values are the ones already recorded; nothing to change.")
    return result


@use_case
def amend_metric(uow: UnitOfWork, actor_id: int, metric_id: int, *, reason: str,
                 **changes: Any) -> int:
    """R4: change a locked commissioning metric, with a reason; the original is kept
    and the amendment is flagged as made after real use began."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.AMEND_METRIC)
    metric = get(s, CommissioningMetric, metric_id, "metric")
    pilot = _pilot(s, metric.pilot_id)
    require_team(s, actor, pilot, "amend its metrics")
    if pilot.real_use_started_at is None:
        raise RuleViolation("This metric is not locked yet (the pilot has not entered real use): "
                            "edit it directly.", rule="R4")
    why = text(reason, "Reason for the amendment", max_len=TEXT_MAX, min_len=10)
    cleaned = _metric_changes(s, metric, changes)
    before = {k: getattr(metric, k) for k in cleaned}
    now = uow.now()
    # As for criteria: the amendment is on record (applied, no resulting hash yet) before the
    # locked metric changes, or the database refuses the change.
    amendment = Amendment(metric_id=metric.id, before_json=canonical_json(before),
                          after_json=canonical_json(cleaned), reason=why,
                          status=AmendmentStatus.APPLIED, proposed_by=actor.id, proposed_at=now,
                          decided_at=now, after_real_use=True)
    s.add(amendment)
    s.flush()
    for k, v in cleaned.items():
        setattr(metric, k, v)
    s.flush()
    _, digest = canonical_metrics(pilot.id, metrics_of(s, pilot.id))
    amendment.resulting_sha256 = digest
    s.flush()
    log(uow, actor, events.metric_amended(metric_id=metric.id, pilot_id=pilot.id, before=before, after=cleaned,
                                          reason=why, amendment_id=amendment.id, metrics_sha256=digest))
    return amendment.id


# ---------------------------------------------------------------- readiness
def _maybe_ready(uow: UnitOfWork, actor: Actor, pilot: Pilot, why: str) -> None:
    s = session_of(uow)
    items, waiver = readiness_status(s, pilot.id)
    if pilot.state == PilotState.REGISTERED and (waiver is not None or all(items.values())):
        pilot.state = PilotState.READY
        pilot.ready_at = uow.now()
        log(uow, actor, events.pilot_ready(pilot_id=pilot.id, basis=why))


@use_case
def record_readiness(uow: UnitOfWork, actor_id: int, pilot_id: int, item: str, *, detail: str,
                     on_date: date | str | None = None) -> None:
    """Tick a readiness item with its evidence (a date for the old process's retirement)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "record its readiness")
    which = choice(item, ReadinessItem, "Readiness item")
    if which == ReadinessItem.OWNER:
        raise InvalidInput("The named owner is recorded when the owner joins the pilot's team (by registering it, "
                           "or by accepting the invitation).")
    if pilot.real_use_started_at is not None:
        raise RuleViolation(f"'{pilot.title}' is already in real use; readiness is settled.", rule="R5")
    found = Problems()  # the evidence and the date are both checked before refusing
    checked = found.check("Evidence", text, detail, label(which), max_len=TEXT_MAX)
    when = found.check("Date", a_date, on_date, "Date", today=today(uow), past_years=5, future_years=5) \
        if on_date not in (None, "") else None
    if which == ReadinessItem.OLD_PROCESS_RETIREMENT and when is None and "Date" not in found.found:
        found.add("Date", "Give the date the old or manual process retires.")
    found.raise_any()
    detail = checked or ""
    existing = s.get(ReadinessRecord, (pilot.id, which))
    before = {"detail": existing.detail, "on_date": existing.on_date} if existing else None
    if existing is None:
        existing = ReadinessRecord(pilot_id=pilot.id, item=which, detail=detail, on_date=when,
                                   recorded_by=actor.id, recorded_at=uow.now())
        s.add(existing)
    else:
        existing.detail, existing.on_date = detail, when
        existing.recorded_by, existing.recorded_at = actor.id, uow.now()
    s.flush()
    log(uow, actor, events.readiness_recorded(pilot_id=pilot.id, item=which, detail=detail, on_date=when,
                                              before=before))
    _maybe_ready(uow, actor, pilot, "checklist complete")


@use_case
def waive_readiness(uow: UnitOfWork, actor_id: int, pilot_id: int, *, reason: str) -> None:
    """R5: a steering decision, with its reason, to start before the checklist is complete."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.WAIVE_READINESS)
    pilot = _pilot(s, pilot_id)
    if pilot.real_use_started_at is not None:
        raise RuleViolation(f"'{pilot.title}' is already in real use; there is nothing to waive.", rule="R5")
    if s.get(ReadinessWaiver, pilot.id) is not None:
        raise InvalidInput("Readiness for this pilot has already been waived.")
    why = text(reason, "Reason for the waiver", max_len=TEXT_MAX, min_len=10)
    items, _ = readiness_status(s, pilot.id)
    missing = [label(i) for i, r in items.items() if r is None]
    s.add(ReadinessWaiver(pilot_id=pilot.id, reason=why, waived_by=actor.id, waived_at=uow.now()))
    s.flush()
    log(uow, actor, events.readiness_waived(pilot_id=pilot.id, reason=why, missing=missing))
    _maybe_ready(uow, actor, pilot, "waived by steering")


@use_case
def start_real_use(uow: UnitOfWork, actor_id: int, pilot_id: int) -> str:
    """Real use begins: requires locked criteria (R3) and readiness (R5);
    locks the commissioning metrics. Returns the metrics' SHA-256."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "start its real use")
    if pilot.real_use_started_at is not None:
        raise RuleViolation(f"'{pilot.title}' has been in real use since "
                            f"{pilot.real_use_started_at:%d %b %Y}.", rule="R3")
    version = need(s.get(ProblemVersion, pilot.problem_version_id), "problem version")
    items, waiver = readiness_status(s, pilot.id)
    rostered = s.scalar(select(func.count()).select_from(RosterEntry).where(
        RosterEntry.pilot_id == pilot.id)) or 0
    metrics = metrics_of(s, pilot.id)
    # The same rule the Pilots page asks to show the button disabled with its reasons.
    blockers = real_use_blockers(pilot.title, version.title,
                                 criteria_locked=lock_of(s, pilot.problem_version_id) is not None,
                                 ready=pilot.state == PilotState.READY,
                                 missing=[label(i) for i, r in items.items() if r is None],
                                 rostered=rostered, metrics=len(metrics))
    if blockers:
        rule, message = blockers[0]
        raise RuleViolation(message, rule=rule)
    body, digest = canonical_metrics(pilot.id, metrics)
    pilot.real_use_started_at = uow.now()
    pilot.metrics_json, pilot.metrics_sha256 = body, digest
    pilot.state = PilotState.IN_USE
    voided = void_pending_invitations(s, pilot, uow.now())
    log(uow, actor, events.real_use_started(pilot_id=pilot.id, metrics_sha256=digest, waived=waiver is not None,
                                            roster_size=rostered, team=team_of(s, pilot.id),
                                            voided_invitations=voided))
    return digest


# ------------------------------------------------------------- measurements
def _measurement_subject(s: Session, pilot: Pilot, metric_id: int | None, criterion_id: int | None
                         ) -> CommissioningMetric | Criterion:
    if (metric_id is None) == (criterion_id is None):
        raise InvalidInput("Choose exactly one commissioning metric or one success criterion.")
    if metric_id is not None:
        metric = get(s, CommissioningMetric, metric_id, "metric")
        if metric.pilot_id != pilot.id:
            raise InvalidInput(f"Metric '{metric.name}' belongs to another pilot.")
        return metric
    criterion = get(s, Criterion, criterion_id, "criterion")
    if criterion.problem_version_id != pilot.problem_version_id:
        raise InvalidInput(f"Criterion '{criterion.name}' belongs to another problem.")
    if criterion.is_indispensability:
        raise InvalidInput("Indispensability is measured by the survey, not entered by hand.")
    return criterion


def _require_recorder(s: Session, actor: Actor, pilot: Pilot) -> None:
    problem = need(s.get(Problem, pilot.problem_id), "problem")
    if is_on_team(s, pilot.id, actor.id) or panel_role(s, problem.panel_id, actor.id):
        return
    raise PermissionDenied(f"Only the commissioning team of '{pilot.title}' or the owning panel may "
                           "record its measurements.")


def _measurement_date(pilot: Pilot, value: Any, today_: date) -> date:
    observed = a_date(value, "Observation date")
    if observed > today_:
        raise InvalidInput(f"The observation date {observed} is in the future; measurements record "
                           "what was observed.", field="Observation date")
    if observed < pilot.registered_at.date():
        raise InvalidInput(f"The observation date {observed} is before the pilot was registered "
                           f"({pilot.registered_at.date()}).", field="Observation date")
    return observed


@use_case
def record_measurement(uow: UnitOfWork, actor_id: int, pilot_id: int, *, value: float,
                       observed_on: date | str, metric_id: int | None = None,
                       criterion_id: int | None = None) -> int:
    """Enter one observed value of a metric or criterion."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RECORD_MEASUREMENT)
    pilot = _pilot(s, pilot_id)
    _require_recorder(s, actor, pilot)
    subject = _measurement_subject(s, pilot, metric_id, criterion_id)
    amount = measured_value(value, subject.unit)
    observed = _measurement_date(pilot, observed_on, today(uow))
    m = Measurement(pilot_id=pilot.id, metric_id=metric_id, criterion_id=criterion_id, value=amount,
                    observed_on=observed, source=MeasurementSource.ENTERED, recorded_by=actor.id,
                    recorded_at=uow.now())
    s.add(m)
    s.flush()
    log(uow, actor, events.measurement_recorded(measurement_id=m.id, pilot_id=pilot.id, measure=subject.name,
                                                value=amount, observed_on=observed))
    return m.id


@use_case
def import_measurements(uow: UnitOfWork, actor_id: int, pilot_id: int, *, filename: str,
                        content: bytes) -> int:
    """Import measurements from a CSV (``measure,observed_on,value``); all rows or none.

    ``measure`` names a commissioning metric or a criterion of the pilot.
    The file's SHA-256 and the importer are recorded as the source. Long on purpose: the row
    checks need the pilot's own metrics and criteria, loaded once for the whole file.
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.RECORD_MEASUREMENT)
    pilot = _pilot(s, pilot_id)
    _require_recorder(s, actor, pilot)
    by_name: dict[str, tuple[str, int, str]] = {}
    for m in metrics_of(s, pilot.id):
        by_name[m.name.lower()] = ("metric", m.id, m.unit)
    for c in s.scalars(select(Criterion).where(Criterion.problem_version_id == pilot.problem_version_id,
                                               Criterion.is_indispensability.is_(False))):
        by_name.setdefault(c.name.lower(), ("criterion", c.id, c.unit))
    now_day = today(uow)

    def parse(row: dict[str, str]) -> dict[str, Any]:
        subject = by_name.get(row["measure"].lower())
        if subject is None:
            raise ValueError(f"'{row['measure']}' is not a metric or criterion of this pilot")
        try:
            observed = _measurement_date(pilot, row["observed_on"], now_day)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        try:
            value = float(row["value"])
        except (ValueError, OverflowError):
            raise ValueError(f"value '{row['value'][:40]}' is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"value '{row['value'][:40]}' is not a finite number")
        try:
            value = measured_value(value, subject[2])
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return {"kind": subject[0], "id": subject[1], "observed_on": observed, "value": value}

    parsed = parse_csv(filename, content, MEASUREMENT_COLUMNS, parse)
    refuse_repeated_file(s, pilot, parsed.filename, parsed.sha256)
    seen: dict[tuple[str, int, date], int] = {}
    for row in parsed.rows:
        key = (row["kind"], row["id"], row["observed_on"])
        if key in seen:
            raise FileRejected(parsed.filename, [(row["_line"], f"repeats line {seen[key]} (same "
                                                                f"measure and date)")])
        seen[key] = row["_line"]
    source = SourceFile(pilot_id=pilot.id, kind="measurements", filename=parsed.filename,
                        sha256=parsed.sha256, byte_size=parsed.byte_size, row_count=len(parsed.rows),
                        imported_by=actor.id, imported_at=uow.now())
    s.add(source)
    s.flush()
    for row in parsed.rows:
        s.add(Measurement(pilot_id=pilot.id, metric_id=row["id"] if row["kind"] == "metric" else None,
                          criterion_id=row["id"] if row["kind"] == "criterion" else None,
                          value=row["value"], observed_on=row["observed_on"],
                          source=MeasurementSource.IMPORTED, source_file_id=source.id,
                          recorded_by=actor.id, recorded_at=uow.now()))
    s.flush()
    log(uow, actor, events.measurements_imported(source_file_id=source.id, pilot_id=pilot.id,
                                                 filename=parsed.filename, sha256=parsed.sha256,
                                                 rows=len(parsed.rows)))
    return len(parsed.rows)
