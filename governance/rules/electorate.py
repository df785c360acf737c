"""Who votes in which group, and who answers which survey round (R7, R8, R15).

Pure: the caller passes who is on the panel, on the pilot's commissioning
team (and since when), and in steering.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from governance.vocabulary import VotingGroup


def outcome_electorate(*, panel: Iterable[int], team: Iterable[int], steering: Iterable[int]) -> dict[int, str]:
    """Person → voting group for a pilot's outcome vote.

    The owning panel's members vote as frontline, people with the steering
    role as steering, and the pilot's commissioning team as commissioning —
    never in the frontline group on its own pilot (conflict of interest).
    """
    electorate = {pid: VotingGroup.FRONTLINE.value for pid in panel}
    electorate.update({pid: VotingGroup.STEERING.value for pid in steering if pid not in electorate})
    electorate.update({pid: VotingGroup.COMMISSIONING.value for pid in team})
    return electorate


def panel_electorate(panel: Iterable[int]) -> dict[int, str]:
    """Person → group for a panel vote (ratify, lock, amend): the panel alone."""
    return {pid: VotingGroup.FRONTLINE.value for pid in panel}


@dataclass(frozen=True)
class TeamMembership:
    """One person's time on a pilot's commissioning team."""

    person_id: int
    joined_at: datetime | None
    removed_at: datetime | None


def current_team(members: Iterable[TeamMembership]) -> set[int]:
    """Who is on the team now."""
    return {m.person_id for m in members if m.removed_at is None}


def conflicted(members: Iterable[TeamMembership], real_use_started_at: datetime | None) -> set[int]:
    """Who may never vote in the frontline group on this pilot (R8, R15): the team
    as it stood when real use started — someone removed afterwards stays
    excluded — and anyone on the team now."""
    members = list(members)
    now_on = current_team(members)
    if real_use_started_at is None:
        return now_on
    at_start = {m.person_id for m in members
                if (m.joined_at is None or m.joined_at <= real_use_started_at)
                and (m.removed_at is None or m.removed_at > real_use_started_at)}
    return now_on | at_start


def pilot_electorate(*, panel: Iterable[int], members: Iterable[TeamMembership], steering: Iterable[int],
                     real_use_started_at: datetime | None, active: Iterable[int]) -> dict[int, str]:
    """Person → group for a pilot's outcome vote, with the conflict-of-interest
    exclusion taken from the team as it stood at real use (R15)."""
    members = list(members)
    alive = set(active)
    excluded = conflicted(members, real_use_started_at)
    electorate = outcome_electorate(panel=[p for p in panel if p not in excluded and p in alive],
                                    team=[p for p in current_team(members) if p in alive],
                                    steering=[p for p in steering if p in alive])
    return electorate


def answerable_from(added_at: datetime, real_use_started_at: datetime | None, window_days: int) -> datetime | None:
    """R15: the earliest moment a survey round may open for someone rostered at
    ``added_at`` to answer it (None: any round — they were on the roster when
    real use started)."""
    if real_use_started_at is None or added_at <= real_use_started_at:
        return None
    return added_at + timedelta(days=window_days)


def may_answer(added_at: datetime, real_use_started_at: datetime | None, window_days: int,
               round_opened_at: datetime) -> bool:
    """Whether a rostered person may answer a round that opened at ``round_opened_at`` (R7, R15)."""
    earliest = answerable_from(added_at, real_use_started_at, window_days)
    return earliest is None or round_opened_at >= earliest


GROUP_ROLES: dict[str, frozenset[str]] = {
    VotingGroup.FRONTLINE.value: frozenset({"frontline", "facilitator"}),
    VotingGroup.STEERING.value: frozenset({"steering"}),
}


def still_in_group(group: str, roles: Iterable[str], on_team: bool) -> bool:
    """R15: a voter casts or changes a ballot only while they still belong to their
    group: frontline and steering by holding its role, commissioning by still being
    on the pilot's team. (A ballot cast earlier stands either way.)"""
    if group == VotingGroup.COMMISSIONING.value:
        return on_team
    return bool(GROUP_ROLES.get(group, frozenset()) & {str(r) for r in roles})
