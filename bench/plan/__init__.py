"""The plan of a generated organisation: who exists, and when everything happens.

Planning decides every time and every fate up front (no database involved):
people, panels and memberships (``people``); each problem's drafting,
ratification and lock votes, amendments and re-ratification (``problems``);
each pilot's lifecycle up to a chosen final stage (``pilots``); its team,
roster, survey pools, electorates and acts of real use (``details``). Then
``allocate`` sets how many ballots and survey responses each vote and round
gets so that the totals hit the scale's targets while every planned quorum,
verdict and early close holds.

The emitter (``bench.generate``) replays the plan in time order, calling the
product's rules and payload builders for everything it writes.
"""
from __future__ import annotations

from bench.plan.allocate import Planner
from bench.plan.model import (
    ACCOUNT_PASSWORD,
    CHARTER_V2,
    DAY,
    DECIDED_STAGES,
    DEFAULT_TERMS,
    HOUR,
    MINUTE,
    ROLE_ACCOUNTS,
    SCALES,
    SECOND,
    WINDOW,
    InviteP,
    PilotP,
    ProblemP,
    RosterChangeP,
    RoundP,
    Scale,
    VersionP,
    VoteP,
    uniform,
)

__all__ = [
    "ACCOUNT_PASSWORD", "CHARTER_V2", "DAY", "DECIDED_STAGES", "DEFAULT_TERMS", "HOUR", "MINUTE", "ROLE_ACCOUNTS",
    "SCALES", "SECOND", "WINDOW", "InviteP", "PilotP", "Planner", "ProblemP", "RosterChangeP", "RoundP", "Scale",
    "VersionP", "VoteP", "uniform",
]
