"""Audit events of problems, their success criteria, locks and amendments (R2–R4, R10)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.record.events.base import Event, event


def problem_drafted(*, problem_id: int, panel_id: int, title: str, statement: str,
                    indispensability_threshold: float) -> Event:
    return event("problem.drafted", ("problem", problem_id),
                 after={"panel_id": panel_id, "title": title, "statement": statement, "version": 1,
                        "indispensability_threshold": indispensability_threshold})


def problem_revised(*, problem_id: int, version: int, before: Mapping[str, str], title: str,
                    statement: str) -> Event:
    return event("problem.revised", ("problem", problem_id), before=dict(before),
                 after={"title": title, "statement": statement}, version=version)


def criterion_added(*, criterion_id: int, problem_id: int, version: int, record: Mapping[str, Any]) -> Event:
    return event("criterion.added", ("criterion", criterion_id), after=dict(record), problem_id=problem_id,
                 version=version)


def criterion_updated(*, criterion_id: int, problem_id: int, before: Mapping[str, Any],
                      after: Mapping[str, Any]) -> Event:
    return event("criterion.updated", ("criterion", criterion_id), before=dict(before), after=dict(after),
                 problem_id=problem_id)


def criterion_removed(*, criterion_id: int, problem_id: int, before: Mapping[str, Any]) -> Event:
    return event("criterion.removed", ("criterion", criterion_id), before=dict(before), problem_id=problem_id)


def problem_commented(*, comment_id: int, problem_id: int, body: str) -> Event:
    return event("problem.commented", ("problem_comment", comment_id),
                 after={"problem_id": problem_id, "body": body})


def problem_retired(*, problem_id: int, before_state: str, reason: str) -> Event:
    return event("problem.retired", ("problem", problem_id), before={"state": before_state},
                 after={"state": "retired"}, reason=reason)


def problem_ratified(*, problem_id: int, before_state: str, version: int, vote_id: int) -> Event:
    return event("problem.ratified", ("problem", problem_id), before={"state": before_state},
                 after={"state": "ratified", "version": version}, vote_id=vote_id)


def criteria_locked(*, lock_id: int, problem_id: int, version: int, criteria_sha256: str,
                    vote_id: int) -> Event:
    return event("criteria.locked", ("criteria_lock", lock_id),
                 after={"problem_id": problem_id, "version": version, "criteria_sha256": criteria_sha256},
                 vote_id=vote_id)


def amendment_proposed(*, amendment_id: int, criterion_id: int, changes: Mapping[str, Any],
                       reason: str) -> Event:
    return event("amendment.proposed", ("amendment", amendment_id),
                 after={"criterion_id": criterion_id, "changes": dict(changes), "reason": reason})


def amendment_rejected(*, amendment_id: int, vote_id: int) -> Event:
    return event("amendment.rejected", ("amendment", amendment_id), after={"vote_id": vote_id})


def criterion_amended(*, criterion_id: int, before: Mapping[str, Any], after: Mapping[str, Any],
                      amendment_id: int, reason: str, vote_id: int, after_real_use: bool,
                      criteria_sha256: str) -> Event:
    """A passed amendment applied: the criterion as it was and is, and the new set's hash (R4)."""
    return event("criterion.amended", ("criterion", criterion_id), before=dict(before), after=dict(after),
                 amendment_id=amendment_id, reason=reason, vote_id=vote_id, after_real_use=after_real_use,
                 criteria_sha256=criteria_sha256)


def problem_reopened(*, problem_id: int, before_state: str, old_version: int, new_version: int,
                     pilot_id: int | None, reason: str) -> Event:
    """R10: a failed evaluation reopened the problem as a new version for the panel."""
    return event("problem.reopened", ("problem", problem_id),
                 before={"state": before_state, "version": old_version},
                 after={"state": "reopened", "version": new_version}, pilot_id=pilot_id, reason=reason)


def problem_reopen_linked(*, problem_id: int, version: int, pilot_id: int | None,
                          reopening_id: int | None) -> Event:
    return event("problem.reopen_linked", ("problem", problem_id),
                 after={"version": version, "pilot_id": pilot_id, "reopening_id": reopening_id})
