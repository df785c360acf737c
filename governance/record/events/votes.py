"""Audit events of binding votes: opening, ballots, closing, declarations (R8, R9)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from governance.record.events.base import Event, event


def vote_opened(*, vote_id: int, kind: str, pilot_id: int | None, problem_version_id: int | None,
                amendment_id: int | None, question: str, deadline: datetime, proposed_outcome: str | None,
                adopt_available: bool, charter_id: int, eligible: Mapping[str, int]) -> Event:
    return event("vote.opened", ("vote", vote_id),
                 after={"kind": kind, "pilot_id": pilot_id, "problem_version_id": problem_version_id,
                        "amendment_id": amendment_id, "question": question, "deadline": deadline,
                        "proposed_outcome": proposed_outcome, "adopt_available": adopt_available,
                        "charter_id": charter_id, "eligible": dict(eligible)})


def ballot_cast(*, ballot_id: int, vote_id: int, group: str, option: str,
                previous_id: int | None = None, previous_option: str | None = None) -> Event:
    """A ballot on the record by name, or a change of it (only the latest counts)."""
    changed = previous_id is not None
    return event("ballot.changed" if changed else "ballot.cast", ("ballot", ballot_id),
                 before={"ballot_id": previous_id, "option": previous_option} if changed else None,
                 after={"vote_id": vote_id, "group": group, "option": option})


def vote_closed(*, vote_id: int, kind: str, winner: str | None, quorum_met: bool, at_deadline: bool,
                tally: Mapping[str, Any]) -> Event:
    return event("vote.closed", ("vote", vote_id),
                 after={"kind": kind, "winner": winner, "quorum_met": quorum_met, "at_deadline": at_deadline,
                        "tally": dict(tally)})


def decision_declared(*, decision_id: int, pilot_id: int, before_state: str, outcome: str, basis_sha256: str,
                      adopt_override: bool, vote_id: int) -> Event:
    """R9: the binding declaration, naming the hash of its frozen basis."""
    return event("decision.declared", ("decision", decision_id), before={"pilot_state": before_state},
                 after={"pilot_id": pilot_id, "outcome": outcome, "basis_sha256": basis_sha256,
                        "adopt_override": adopt_override, "vote_id": vote_id})
