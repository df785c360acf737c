"""R12: claims are not decisions.

Anyone with a role (but auditors, who only read) may record a non-binding
statement about a pilot, citing the metrics it rests on. The claim is
checked when it is recorded, and the checks are stored with it: is each
cited metric known; was it pre-registered before real use; was it amended
after real use began; does the claim agree with the binding decision — or
was it made before any decision existed?
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.audit import canonical_json
from governance.db import UnitOfWork, use_case
from governance.errors import InvalidInput
from governance.models import (
    Amendment, Claim, CommissioningMetric, Criterion, Decision, Pilot,
)
from governance.permissions import Action, require
from governance.services._base import get, log, session_of
from governance.services.problems import lock_of
from governance.validation import NAME_MAX, TEXT_MAX, text
from governance.vocabulary import AmendmentStatus, Outcome, label

MAX_CITATIONS = 20


def check_citation(s: Session, pilot: Pilot, name: str) -> dict[str, Any]:
    """What an auditor needs to know about one cited metric."""
    metric = s.scalar(select(CommissioningMetric).where(
        CommissioningMetric.pilot_id == pilot.id, func.lower(CommissioningMetric.name) == name.lower()))
    started = pilot.real_use_started_at
    if metric is not None:
        amended = s.scalar(select(func.count()).select_from(Amendment).where(
            Amendment.metric_id == metric.id, Amendment.status == AmendmentStatus.APPLIED,
            Amendment.after_real_use.is_(True)))
        return {"cited": name, "kind": "commissioning metric", "id": metric.id, "known": True,
                "pre_registered": started is not None and metric.created_at <= started,
                "amended_after_real_use": bool(amended)}
    criterion = s.scalar(select(Criterion).where(
        Criterion.problem_version_id == pilot.problem_version_id,
        func.lower(Criterion.name) == name.lower()))
    if criterion is not None:
        lock = lock_of(s, criterion.problem_version_id)
        amended = s.scalar(select(func.count()).select_from(Amendment).where(
            Amendment.criterion_id == criterion.id, Amendment.status == AmendmentStatus.APPLIED,
            Amendment.after_real_use.is_(True)))
        return {"cited": name, "kind": "frontline criterion", "id": criterion.id, "known": True,
                "pre_registered": lock is not None and started is not None and lock.locked_at <= started,
                "amended_after_real_use": bool(amended)}
    return {"cited": name, "kind": "unknown", "id": None, "known": False, "pre_registered": False,
            "amended_after_real_use": False}


def decision_check(decision: Decision | None, asserts_success: bool) -> dict[str, Any]:
    """Whether the claim agrees with the binding decision (None before any decision)."""
    if decision is None:
        return {"decision_id": None, "decision_outcome": None, "before_decision": True,
                "contradicts_decision": None}
    success = decision.outcome == Outcome.ADOPT
    return {"decision_id": decision.id, "decision_outcome": decision.outcome, "before_decision": False,
            "contradicts_decision": success != asserts_success}


def flags(checks: dict[str, Any]) -> list[str]:
    """Plain-language warnings from a claim's checks."""
    out = []
    for c in checks["citations"]:
        if not c["known"]:
            out.append(f"'{c['cited']}' is not a metric or criterion of this pilot")
            continue
        if not c["pre_registered"]:
            out.append(f"'{c['cited']}' was not pre-registered before real use")
        if c["amended_after_real_use"]:
            out.append(f"'{c['cited']}' was amended after real use began")
    if checks["before_decision"]:
        out.append("made before any binding decision")
    elif checks["contradicts_decision"]:
        out.append(f"contradicts the binding decision ({label(checks['decision_outcome']).lower()})")
    return out


@use_case
def record_claim(uow: UnitOfWork, actor_id: int, pilot_id: int, *, statement: str,
                 cited_metrics: Iterable[str], asserts_success: bool = True) -> int:
    """Record a non-binding claim about a pilot, with the metrics it cites; returns its id."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RECORD_CLAIM)
    pilot = get(s, Pilot, pilot_id, "pilot")
    words = text(statement, "Claim", max_len=TEXT_MAX)
    if not isinstance(asserts_success, bool):
        raise InvalidInput("Say whether the claim asserts success (yes or no).")
    names: list[str] = []
    for raw in cited_metrics:
        name = text(raw, "Cited metric", max_len=NAME_MAX)
        if name.lower() not in (n.lower() for n in names):
            names.append(name)
    if not names:
        raise InvalidInput("Cite at least one metric or criterion the claim rests on.",
                           field="Cited metrics")
    if len(names) > MAX_CITATIONS:
        raise InvalidInput(f"Cite at most {MAX_CITATIONS} metrics.", field="Cited metrics")
    decision = s.scalar(select(Decision).where(Decision.pilot_id == pilot.id)
                        .order_by(Decision.id.desc()).limit(1))
    checks = {"citations": [check_citation(s, pilot, n) for n in names],
              **decision_check(decision, asserts_success)}
    checks["flags"] = flags(checks)
    claim = Claim(pilot_id=pilot.id, made_by=actor.id, made_at=uow.now(), statement=words,
                  asserts_success=asserts_success, citations_json=canonical_json(names),
                  checks_json=canonical_json(checks), decision_id=decision.id if decision else None)
    s.add(claim)
    s.flush()
    log(uow, actor, "claim.recorded", claim,
        after={"pilot_id": pilot.id, "statement": words, "asserts_success": asserts_success,
               "cited": names, "flags": checks["flags"]})
    return claim.id
