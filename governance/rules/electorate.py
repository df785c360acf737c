"""Who votes in which group (R8, R15). Pure: the caller passes who is on the
panel, on the pilot's commissioning team and in steering."""
from __future__ import annotations

from collections.abc import Iterable

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
