"""R9: the frozen basis of a declaration — everything the binding decision rests on.

One builder, called by the use case that closes an outcome vote and by the
benchmark's generator, from plain values. The basis is stored as canonical
JSON with its SHA-256, and the decision's audit event names that hash.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.rules.charter import CharterTerms

SYSTEM_CLOSER = "system (deadline passed)"


@dataclass(frozen=True)
class BasisFacts:
    """What the record holds when the vote closes, as plain values."""

    pilot: Mapping[str, Any]  # id, title, owner_id, real_use_started_at
    problem: Mapping[str, Any]  # id, version, title
    lock: Mapping[str, Any] | None  # sha256, locked_at, criteria_json
    metrics_sha256: str | None
    metrics: Sequence[Mapping[str, Any]]  # rules.evidence.status_row of each commissioning metric
    criteria: Sequence[Mapping[str, Any]]  # the same for the frontline criteria
    amendments: Sequence[Mapping[str, Any]]  # applied: id, criterion_id, metric_id, before_json, after_json, …
    evidence: Mapping[str, Any] | None  # the SurveyEvidence the vote opened with
    adoption: Mapping[str, Any] | None
    tally: Mapping[str, Any]
    voters: Sequence[Mapping[str, Any]]  # open groups only: person_id, name, group, option, cast_at, reason
    #: R17: what the vote published for its secret groups (``rules.ballots.Published.as_dict``);
    #: None for a vote opened before secret ballots existed.
    secret: Mapping[str, Any] | None
    eligible: Mapping[str, int]
    charter_version: int
    terms: CharterTerms
    adopt_override: bool
    proposed_outcome: str | None
    vote: Mapping[str, Any]  # id, opened_at, deadline, closed_at
    closed_by: tuple[int, str] | None  # None: the system, at the deadline
    chain_head: tuple[int, str]
    #: R15: changes to the roster after real use began (added, removed, and the removals' reasons).
    roster_changes: Mapping[str, Any]
    ballots_sha256: str


def build_basis(f: BasisFacts) -> dict[str, Any]:
    """The basis of a declaration, as it is frozen (R9)."""
    evidence = f.evidence
    lock = f.lock
    return {
        "pilot": {k: f.pilot[k] for k in ("id", "title", "owner_id", "real_use_started_at")},
        "problem": {k: f.problem[k] for k in ("id", "version", "title")},
        "locked_criteria": {
            "sha256": lock["sha256"] if lock else None,
            "locked_at": lock["locked_at"] if lock else None,
            "criteria": json.loads(lock["criteria_json"])["criteria"] if lock else [],
        },
        "commissioning_metrics": {"sha256_at_real_use": f.metrics_sha256, "latest": [dict(m) for m in f.metrics]},
        "frontline_criteria_latest": [dict(c) for c in f.criteria],
        "amendments": [{"id": a["id"], "criterion_id": a["criterion_id"], "metric_id": a["metric_id"],
                        "before": json.loads(a["before_json"]), "after": json.loads(a["after_json"]),
                        "reason": a["reason"], "after_real_use": a["after_real_use"],
                        "applied_at": a["decided_at"]} for a in f.amendments],
        "indispensability": evidence["indispensability"] if evidence else None,
        "survey_round": evidence["round_number"] if evidence else None,
        "sus_mean": evidence["sus_mean"] if evidence else None,
        "sus_n": evidence["sus_n"] if evidence else 0,
        # n online / n paper (attested paper forms); None for evidence frozen before paper existed.
        "survey_channels": evidence.get("channels") if evidence else None,
        "adoption": dict(f.adoption) if f.adoption else None,
        "tally": dict(f.tally),
        "voters": sorted((dict(v) for v in f.voters), key=lambda v: (v["group"], v["name"], v["person_id"])),
        "secret_ballots": dict(f.secret) if f.secret is not None else None,
        "ballots_sha256": f.ballots_sha256,
        "roster_changes_after_real_use": dict(f.roster_changes),
        "eligible": dict(f.eligible),
        "charter": {"version": f.charter_version, "terms": f.terms.as_dict()},
        "adopt_override": f.adopt_override,
        "proposed_outcome": f.proposed_outcome,
        "vote": {k: f.vote[k] for k in ("id", "opened_at", "deadline", "closed_at")},
        "closed_by": ({"person_id": f.closed_by[0], "name": f.closed_by[1]} if f.closed_by
                      else {"person_id": None, "name": SYSTEM_CLOSER}),
        "audit_chain_head": {"seq": f.chain_head[0], "hash": f.chain_head[1]},
    }


def voter_entry(person_id: int, name: str, group: str, option: str, cast_at: datetime,
                reason: str | None = None) -> dict[str, Any]:
    """One voter of an open (named) group as the basis lists them, with their reason (if any)."""
    return {"person_id": person_id, "name": name, "group": group, "option": option, "cast_at": cast_at,
            "reason": reason}


def roster_changes(changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """R15: "roster changed after real use: +a −r", with each removal's reason."""
    removals = [{"person_id": c["person_id"], "reason": c["reason"], "at": c["changed_at"]}
                for c in changes if c["change"] == "removed"]
    return {"added": sum(1 for c in changes if c["change"] == "added"), "removed": len(removals),
            "removals": removals}
