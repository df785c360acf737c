"""Audit events of pilots: registration, team, metrics, roster, readiness, real use,
measurements and claims (R1, R3, R5, R12)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from governance.record.events.base import Event, event


def pilot_registered(*, pilot_id: int, title: str, description: str, owner_id: int, problem_id: int,
                     problem_version: int, team: Sequence[int], metrics: Sequence[Mapping[str, Any]]) -> Event:
    return event("pilot.registered", ("pilot", pilot_id),
                 after={"title": title, "description": description, "owner_id": owner_id,
                        "problem_id": problem_id, "state": "registered", "problem_version": problem_version,
                        "team": sorted(team), "metrics": [dict(m) for m in metrics]})


def team_invited(*, invitation_id: int, pilot_id: int, person_id: int, name: str) -> Event:
    """R15: someone is asked to join the commissioning team; they are not on it until they accept."""
    return event("pilot.team_invited", ("team_invitation", invitation_id),
                 after={"pilot_id": pilot_id, "person_id": person_id, "name": name, "status": "pending"})


def team_invitation_answered(*, invitation_id: int, pilot_id: int, person_id: int, accepted: bool) -> Event:
    status = "accepted" if accepted else "declined"
    return event("pilot.team_invitation_answered", ("team_invitation", invitation_id),
                 before={"status": "pending"}, after={"pilot_id": pilot_id, "person_id": person_id,
                                                      "status": status})


def team_member_added(*, pilot_id: int, person_id: int, name: str) -> Event:
    """A person joined the team (by registering the pilot, or by accepting an invitation)."""
    return event("pilot.team_member_added", ("pilot", pilot_id), after={"person_id": person_id, "name": name})


def team_member_removed(*, pilot_id: int, person_id: int, reason: str, after_real_use: bool) -> Event:
    """Removed with a reason; whoever was on the team at real use stays out of its frontline group."""
    return event("pilot.team_member_removed", ("pilot", pilot_id), before={"person_id": person_id},
                 reason=reason, after_real_use=after_real_use)


def metric_added(*, metric_id: int, pilot_id: int, record: Mapping[str, Any]) -> Event:
    return event("metric.added", ("commissioning_metric", metric_id), after=dict(record), pilot_id=pilot_id)


def metric_updated(*, metric_id: int, pilot_id: int, before: Mapping[str, Any],
                   after: Mapping[str, Any]) -> Event:
    return event("metric.updated", ("commissioning_metric", metric_id), before=dict(before), after=dict(after),
                 pilot_id=pilot_id)


def metric_amended(*, metric_id: int, pilot_id: int, before: Mapping[str, Any], after: Mapping[str, Any],
                   reason: str, amendment_id: int, metrics_sha256: str) -> Event:
    """R4: a locked commissioning metric changed after real use began, with its reason."""
    return event("metric.amended", ("commissioning_metric", metric_id), before=dict(before), after=dict(after),
                 reason=reason, amendment_id=amendment_id, after_real_use=True, pilot_id=pilot_id,
                 metrics_sha256=metrics_sha256)


def roster_added(*, pilot_id: int, person_ids: Sequence[int], after_real_use: bool) -> Event:
    return event("pilot.roster_added", ("pilot", pilot_id), after={"person_ids": list(person_ids)},
                 after_real_use=after_real_use)


def roster_removed(*, pilot_id: int, person_id: int, reason: str | None, after_real_use: bool) -> Event:
    """R15: a removal after real use needs a reason, and shows beside the evidence."""
    return event("pilot.roster_removed", ("pilot", pilot_id), before={"person_id": person_id}, reason=reason,
                 after_real_use=after_real_use)


def readiness_recorded(*, pilot_id: int, item: str, detail: str, on_date: date | None,
                       before: Mapping[str, Any] | None) -> Event:
    return event("pilot.readiness_recorded", ("pilot", pilot_id),
                 before=dict(before) if before is not None else None,
                 after={"item": item, "detail": detail, "on_date": on_date})


def readiness_waived(*, pilot_id: int, reason: str, missing: Sequence[str]) -> Event:
    return event("pilot.readiness_waived", ("pilot", pilot_id), after={"reason": reason, "missing": list(missing)})


def pilot_ready(*, pilot_id: int, basis: str) -> Event:
    return event("pilot.ready", ("pilot", pilot_id), before={"state": "registered"}, after={"state": "ready"},
                 basis=basis)


def real_use_started(*, pilot_id: int, metrics_sha256: str, waived: bool, roster_size: int,
                     team: Sequence[int], voided_invitations: Sequence[int]) -> Event:
    """R3/R15: metrics lock, the team freezes (pending invitations lapse)."""
    return event("pilot.real_use_started", ("pilot", pilot_id), before={"state": "ready"},
                 after={"state": "in_use", "metrics_sha256": metrics_sha256, "waived": waived,
                        "roster_size": roster_size, "team": sorted(team)},
                 voided_invitations=sorted(voided_invitations))


def measurement_recorded(*, measurement_id: int, pilot_id: int, measure: str, value: float,
                         observed_on: date) -> Event:
    return event("measurement.recorded", ("measurement", measurement_id),
                 after={"pilot_id": pilot_id, "measure": measure, "value": value, "observed_on": observed_on,
                        "source": "entered"})


def measurements_imported(*, source_file_id: int, pilot_id: int, filename: str, sha256: str,
                          rows: int) -> Event:
    return event("measurements.imported", ("source_file", source_file_id),
                 after={"pilot_id": pilot_id, "filename": filename, "sha256": sha256, "rows": rows})


def claim_recorded(*, claim_id: int, pilot_id: int, statement: str, asserts_success: bool,
                   cited: Sequence[str], flags: Sequence[str]) -> Event:
    """R12: a non-binding claim, with what it cites and the flags its checks raised."""
    return event("claim.recorded", ("claim", claim_id),
                 after={"pilot_id": pilot_id, "statement": statement, "asserts_success": asserts_success,
                        "cited": list(cited), "flags": list(flags)})
