"""The whole plan, and how many ballots and answers each vote and round gets.

``allocate`` sets the counts per vote (per voting group) and per round so
that the totals hit the scale's targets exactly while every planned quorum,
verdict and early close (every eligible voter voted, R16) holds.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench.plan.details import DetailPlanner
from bench.plan.model import RoundP, VoteP

Bounds = list[tuple[str, int, int, int, float]]


class Planner(DetailPlanner):
    """Every time and fate of a generated organisation, decided before anything is written."""

    def plan(self) -> Planner:
        """Plan everything, in order; returns itself."""
        self.plan_people()
        self.plan_panels()
        self.plan_problems()
        self.plan_timelines()
        self.plan_details()
        self.validate()
        self.allocate()
        return self

    def all_votes(self) -> list[VoteP]:
        out = [v for pb in self.problems for v in pb.votes()]
        out += [v for p in self.pilots for v in p.votes]
        return out

    def all_rounds(self) -> list[RoundP]:
        return [r for p in self.pilots for r in p.rounds]

    def validate(self) -> None:
        """The plan keeps R1 (ratified problem at registration) and R3 (locked before real use)."""
        for p in self.pilots:
            pb = p.problem
            assert pb is not None
            ver = pb.version_at(p.t_reg)
            assert ver is not None and ver.number == p.version_no, \
                f"pilot {p.idx} registered on a problem that is not ratified then"
            if p.t_real is not None:
                locked = pb.versions[p.version_no - 1].t_locked
                assert locked is not None and locked < p.t_real, f"pilot {p.idx} in use before the lock"

    # ---------------------------------------------------------------- allocation
    def allocate(self) -> None:
        rng = self.rng
        votes = self.all_votes()
        for v in votes:
            if v.noise == 1.0:
                v.noise = rng.uniform(0.85, 1.15)
        self.stats["ballots"] = self._allocate(votes, self.scale.ballots, change_share=0.07,
                                               bounds=self._vote_bounds, setter=self._set_vote)
        self.stats["survey_responses"] = self._allocate(self.all_rounds(), self.scale.survey_responses,
                                                        change_share=0.05, bounds=self._round_bounds,
                                                        setter=self._set_round)

    @staticmethod
    def _vote_bounds(v: VoteP) -> Bounds:
        """(group, eligible, minimum, maximum, weight) per group."""
        out = []
        for g, e in v.groups.items():
            if e == 0:
                out.append((g, 0, 0, 0, 0.0))
                continue
            need = math.ceil(v.quorums[g] * e - 1e-9)
            if v.full_turnout:
                lo, hi = e, e
            elif v.is_open_at_end:
                lo, hi = 0, max(0, int(e * v.frac))
            elif not v.meets_quorum and g == "frontline":
                lo, hi = max(0, int(0.2 * e)), max(0, need - 1)
            else:
                lo, hi = need, e
            if g == "commissioning" and not v.is_open_at_end:
                lo = min(hi, max(lo, e - 1))
            out.append((g, e, lo, hi, v.noise * (v.frac if v.is_open_at_end else 1.0)))
        return out

    @staticmethod
    def _set_vote(v: VoteP, counts: dict[str, int]) -> None:
        v.counts = counts

    @staticmethod
    def _round_bounds(r: RoundP) -> Bounds:
        e = r.size
        if r.t_close is None:
            return [("all", e, 0, int(e * r.frac), r.noise * r.frac)]
        if r.verdict == "insufficient":
            return [("all", e, max(5, r.min_n - 14), r.min_n - 1, r.noise)]
        return [("all", e, min(e, r.min_n + 2), e, r.noise)]

    @staticmethod
    def _set_round(r: RoundP, counts: dict[str, int]) -> None:
        r.count = counts["all"]

    def _allocate(self, units: list[Any], target: int, *, change_share: float,
                  bounds: Callable[[Any], Bounds], setter: Callable[[Any, dict[str, int]], None]) -> dict[str, Any]:
        """Counts per unit and group (within bounds) near ``target × (1 − change_share)``,
        then changed answers/ballots to reach ``target`` exactly when capacity allows."""
        table = [(u, bounds(u)) for u in units]

        def total(f: float) -> int:
            return sum(min(hi, max(lo, round(e * f * w))) for _, b in table for _, e, lo, hi, w in b)

        first_target = target * (1 - change_share)
        low, high = 0.0, 2.0
        for _ in range(50):
            mid = (low + high) / 2
            if total(mid) < first_target:
                low = mid
            else:
                high = mid
        f = high
        first = 0
        for u, b in table:
            counts = {g: min(hi, max(lo, round(e * f * w))) for g, e, lo, hi, w in b}
            setter(u, counts)
            first += sum(counts.values())
        changes = max(0, min(first, target - first))
        left = self._spread_changes([u for u, _ in table], changes, first)
        return {"target": target, "first": first, "changes": changes - left, "total": first + changes - left,
                "turnout_factor": round(f, 4)}

    @staticmethod
    def _spread_changes(units: list[Any], changes: int, first: int) -> int:
        """Changes in proportion to each unit's count; returns how many could not be placed."""
        sizes = [sum(u.counts.values()) if isinstance(u, VoteP) else u.count for u in units]
        left = changes
        for u, size in zip(units, sizes, strict=True):
            u.changes = min(size, int(changes * size / first)) if first else 0
            left -= u.changes
        order = sorted(range(len(units)), key=lambda j: -sizes[j])
        i = 0
        while left > 0 and order:
            j = order[i % len(order)]
            if units[j].changes < sizes[j]:
                units[j].changes += 1
                left -= 1
            i += 1
            if i > 10 * len(order) + changes:
                break
        return left
