"""Audit events of binding votes: opening, ballots, closing, declarations (R8, R9)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from governance.record.events.base import Event, event


def vote_opened(*, vote_id: int, kind: str, pilot_id: int | None, problem_version_id: int | None,
                amendment_id: int | None, question: str, deadline: datetime, proposed_outcome: str | None,
                adopt_available: bool, charter_id: int, eligible: Mapping[str, int],
                secret_groups: Sequence[str]) -> Event:
    return event("vote.opened", ("vote", vote_id),
                 after={"kind": kind, "pilot_id": pilot_id, "problem_version_id": problem_version_id,
                        "amendment_id": amendment_id, "question": question, "deadline": deadline,
                        "proposed_outcome": proposed_outcome, "adopt_available": adopt_available,
                        "charter_id": charter_id, "eligible": dict(eligible),
                        "secret_groups": sorted(secret_groups)})


def ballot_cast(*, ballot_id: int, vote_id: int, group: str, commitment: str,
                reason_commitment: str | None = None, previous_id: int | None = None) -> Event:
    """A ballot of a group on the record by name, or a change of it (only the latest counts).

    The option is not in the event while the vote is open (running tallies are hidden from
    everyone, auditors included, R8): a commitment stands for it, and the vote's closing
    event publishes every named ballot with its option. So for the voter's reason, which
    can name the option: a commitment now (None: no reason), the words at the close."""
    changed = previous_id is not None
    return event("ballot.changed" if changed else "ballot.cast", ("ballot", ballot_id),
                 before={"ballot_id": previous_id} if changed else None,
                 after={"vote_id": vote_id, "group": group, "commitment": commitment,
                        "reason_commitment": reason_commitment})


def secret_ballot_cast(*, vote_id: int, group: str, commitment: str) -> Event:
    """R17: the voter took part in a secret group; the event holds a commitment, not the option."""
    return event("secret_ballot.cast", ("vote", vote_id),
                 after={"vote_id": vote_id, "group": group, "commitment": commitment})


def secret_ballot_changed(*, vote_id: int, group: str, commitment: str) -> Event:
    """R17: some voter of a secret group changed their ballot. Recorded without the
    actor: naming them would tell how often each voter changed, a link to their ballot."""
    return event("secret_ballot.changed", ("vote", vote_id), anonymous="a secret voter",
                 after={"vote_id": vote_id, "group": group, "commitment": commitment})


def vote_closed(*, vote_id: int, kind: str, winner: str | None, quorum_met: bool, at_deadline: bool,
                closed_at: datetime, tally: Mapping[str, Any], ballots_sha256: str,
                published: Mapping[str, Any] | None, named: Sequence[Mapping[str, Any]], statement: str) -> Event:
    """The result, the digest of the counted ballots, the named ballots of the open groups
    (each with its voter's reason, if any), (secret groups) the public (receipt, option) list,
    and the outcome statement (the closer's, or the schedule's)."""
    return event("vote.closed", ("vote", vote_id),
                 after={"kind": kind, "winner": winner, "quorum_met": quorum_met, "at_deadline": at_deadline,
                        "closed_at": closed_at, "tally": dict(tally), "ballots_sha256": ballots_sha256,
                        "published": dict(published) if published is not None else None,
                        "named": [dict(v) for v in named], "statement": statement})


def decision_declared(*, decision_id: int, pilot_id: int, before_state: str, outcome: str, basis_sha256: str,
                      adopt_override: bool, vote_id: int) -> Event:
    """R9: the binding declaration, naming the hash of its frozen basis."""
    return event("decision.declared", ("decision", decision_id), before={"pilot_state": before_state},
                 after={"pilot_id": pilot_id, "outcome": outcome, "basis_sha256": basis_sha256,
                        "adopt_override": adopt_override, "vote_id": vote_id})
