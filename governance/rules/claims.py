"""R12: claims are not decisions. The checks a claim gets, as pure logic over
what the claim cites and what the record holds about it.

Is each cited metric known; was it pre-registered before real use (a
commissioning metric declared before real use began; a frontline criterion
locked before it); was it amended after real use began; does the claim
agree with the binding decision, or was it made before any decision?
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.vocabulary import Outcome, label


@dataclass(frozen=True)
class Citable:
    """A metric or criterion of the pilot a claim may cite, with what the checks need."""

    id: int
    name: str
    kind: str  # "commissioning metric" | "frontline criterion"
    #: When it became binding: a metric's declaration, a criterion's lock (None: never locked).
    fixed_at: datetime | None
    amended_after_real_use: bool


def check_citation(name: str, citable: Iterable[Citable], real_use_started_at: datetime | None
                   ) -> dict[str, Any]:
    """What an auditor needs to know about one cited metric (metrics win a name clash)."""
    ordered = sorted(citable, key=lambda c: c.kind != "commissioning metric")
    found = next((c for c in ordered if c.name.lower() == name.lower()), None)
    if found is None:
        return {"cited": name, "kind": "unknown", "id": None, "known": False, "pre_registered": False,
                "amended_after_real_use": False}
    pre = (found.fixed_at is not None and real_use_started_at is not None
           and found.fixed_at <= real_use_started_at)
    return {"cited": name, "kind": found.kind, "id": found.id, "known": True, "pre_registered": pre,
            "amended_after_real_use": found.amended_after_real_use}


def decision_check(decision_id: int | None, decision_outcome: str | None, asserts_success: bool
                   ) -> dict[str, Any]:
    """Whether the claim agrees with the binding decision (None before any decision)."""
    if decision_id is None:
        return {"decision_id": None, "decision_outcome": None, "before_decision": True,
                "contradicts_decision": None}
    success = decision_outcome == Outcome.ADOPT
    return {"decision_id": decision_id, "decision_outcome": decision_outcome, "before_decision": False,
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


def claim_checks(names: Sequence[str], citable: Sequence[Citable], real_use_started_at: datetime | None,
                 decision_id: int | None, decision_outcome: str | None, asserts_success: bool
                 ) -> dict[str, Any]:
    """Every check of a claim, with its flags, as stored beside it."""
    checks = {"citations": [check_citation(n, citable, real_use_started_at) for n in names],
              **decision_check(decision_id, decision_outcome, asserts_success)}
    checks["flags"] = flags(checks)
    return checks


def live_flags(checks: dict[str, Any], decision_id: int | None, decision_outcome: str | None,
               asserts_success: bool) -> tuple[list[str], dict[str, Any]]:
    """The stored flags, plus a contradiction by a decision that came after the claim."""
    now = decision_check(decision_id, decision_outcome, asserts_success)
    out = list(checks["flags"])
    if checks["before_decision"] and now["contradicts_decision"]:
        out.append(f"contradicted by the decision that followed ({label(now['decision_outcome']).lower()})")
    return out, now
