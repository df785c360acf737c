"""Planning pilots' timelines: each pilot's final stage, then when each step happens.

A pilot's steps are first planned relative to its registration, with an
anchor that puts its final stage at the right distance from the end of the
timeline; then it is assigned a problem version ratified when it registers
(R1) and locked before its real use (R3), which fixes the absolute times.
"""
from __future__ import annotations

from bench.plan.model import (
    DAY,
    DECIDED_STAGES,
    EARLY_CLOSE_SHARE,
    HOUR,
    READINESS_ITEMS,
    SECOND,
    STAGES,
    VOTE_DAYS,
    WINDOW,
    PilotP,
    ProblemP,
    RoundP,
    VersionP,
    VoteP,
    split_counts,
    uniform,
)
from bench.plan.problems import ProblemPlanner
from governance.vocabulary import Outcome


class PilotPlanner(ProblemPlanner):
    """When each pilot registers, gets ready, enters real use, is evaluated and decided."""

    def plan_timelines(self) -> None:
        s, rng = self.scale, self.rng
        stages = split_counts(s.pilots, STAGES)
        stage_list = [st for st, c in stages.items() for _ in range(c)]
        rng.shuffle(stage_list)
        for i, stage in enumerate(stage_list):
            p = PilotP(i, stage)
            p.panel = rng.randrange(s.panels)
            self._relative_timeline(p)
            self.pilots.append(p)
        self.stats["stages_planned"] = stages
        # Roster sizes: enough respondents for the survey target.
        rounds = sum(self._rounds_weight(p) for p in self.pilots)
        self.roster_mean = max(45.0, s.survey_responses / max(1.0, rounds) / (0.8 * 1.05))
        for p in sorted(self.pilots, key=lambda p: p.rel["anchor"] - p.rel["anchor_offset"]):
            self._assign(p)
        self._plan_reratifications()
        self._plan_retirements()
        self._drop_after_end()

    @staticmethod
    def _rounds_weight(p: PilotP) -> float:
        if p.stage in ("registered", "stalled", "ready", "in_use"):
            return 0.0
        if p.stage == "evaluating_round":
            return 0.5
        return float(len(p.rel["rounds"]))

    def _relative_timeline(self, p: PilotP) -> None:
        """Offsets from registration, and the anchor that puts the pilot in its final stage."""
        rng, r = self.rng, p.rel
        r["roster"] = uniform(rng, 2 * HOUR, 20 * HOUR)
        self._relative_readiness(p)
        if r["ready"] is not None:
            r["real"] = r["ready"] + uniform(rng, DAY, 5 * DAY)
            r["after_lock"] = uniform(rng, HOUR, 2 * DAY)
            decided = p.stage in DECIDED_STAGES
            two = (decided or p.stage in ("evaluating_closed", "evaluating_vote")) and rng.random() < 0.1
            rounds = []
            t = r["real"] + WINDOW + uniform(rng, 0.5 * DAY, 5 * DAY)
            for _ in range(2 if two else 1):
                close = t + uniform(rng, 10 * DAY, 14 * DAY)
                rounds.append((t, close))
                t = close + uniform(rng, DAY, 6 * DAY)
            r["rounds"] = rounds
            r["votes"] = self._relative_votes(p, rounds[-1][1] + uniform(rng, 0.5 * DAY, 3 * DAY))
        r["anchor"], r["anchor_offset"] = self._anchor(p)

    def _relative_readiness(self, p: PilotP) -> None:
        rng, r = self.rng, p.rel
        items = list(READINESS_ITEMS)
        rng.shuffle(items)
        r["waiver"] = None
        if p.stage == "stalled":
            r["readiness"] = sorted((uniform(rng, DAY, 20 * DAY), it) for it in items[:rng.randint(1, 3)])
            r["ready"] = None
        elif rng.random() < 0.1:
            r["readiness"] = sorted((uniform(rng, DAY, 5 * DAY), it) for it in items[:rng.randint(1, 2)])
            r["waiver"] = uniform(rng, 5.2 * DAY, 10 * DAY)
            r["ready"] = r["waiver"]
        else:
            r["readiness"] = sorted((uniform(rng, DAY, 14 * DAY), it) for it in items)
            r["ready"] = r["readiness"][-1][0]

    def _relative_votes(self, p: PilotP, t: int) -> list[tuple[int, int, bool, int]]:
        """(open, days, early, close) offsets of the outcome vote(s): a vote that misses quorum
        first, for some; the vote of an evaluating pilot stays open past the end."""
        rng = self.rng
        votes = []
        for k in range(2 if p.stage == "quorum_then_decided" else 1):
            days = rng.choice(VOTE_DAYS)
            early = (rng.random() < EARLY_CLOSE_SHARE and p.stage != "evaluating_vote"
                     and not (p.stage == "quorum_then_decided" and k == 0))
            close = (t + uniform(rng, 0.6 * days * DAY, 0.95 * days * DAY) if early
                     else t + days * DAY + uniform(rng, SECOND, 59 * SECOND))
            votes.append((t, days, early, close))
            t = close + uniform(rng, 2 * DAY, 7 * DAY)
        return votes

    def _anchor(self, p: PilotP) -> tuple[int, int]:
        """(anchor, offset): the moment at ``offset`` after registration falls at ``anchor``."""
        rng, r, end = self.rng, p.rel, self.t_end
        if p.stage == "registered":
            return end - uniform(rng, 0.2 * DAY, 0.9 * DAY), 0
        if p.stage == "stalled":
            return self.t0 + uniform(rng, 40 * DAY, max(41, self.scale.days - 30) * DAY), 0
        if p.stage == "ready":
            return end - uniform(rng, 0.1 * DAY, 0.9 * DAY), r["ready"]
        if p.stage == "in_use":
            return end - uniform(rng, 0.5 * DAY, 29 * DAY), r["real"]
        if p.stage == "evaluating_round":
            return end - uniform(rng, 0.2 * DAY, 9.5 * DAY), r["rounds"][0][0]
        if p.stage == "evaluating_closed":
            return end - uniform(rng, 0.05 * DAY, 0.45 * DAY), r["rounds"][-1][1]
        if p.stage == "evaluating_vote":
            return end - uniform(rng, 0.2 * DAY, 4.9 * DAY), r["votes"][0][0]
        offset = r["votes"][-1][3]
        low = max(self.t0 + 30 * DAY + offset, self.t0 + 110 * DAY)
        high = end - DAY
        return uniform(rng, min(low, high - DAY), high), offset

    def _assign(self, p: PilotP) -> None:
        """Choose a ratified problem at registration time (R1) and fix absolute times."""
        t_reg = max(p.rel["anchor"] - p.rel["anchor_offset"], self.t0 + 20 * DAY)
        for _attempt in range(400):
            choice = self._candidate(p, t_reg)
            if choice is not None:
                break
            t_reg += 2 * DAY
        else:
            raise RuntimeError("no ratified problem for a pilot; the timeline is too short")
        pb, ver = choice
        p.problem, p.version_no = pb, ver.number
        pb.pilots.append(p)
        self._absolute_timeline(p, t_reg, ver.t_locked)

    def _candidate(self, p: PilotP, t_reg: int) -> tuple[ProblemP, VersionP] | None:
        rng = self.rng
        real = t_reg + p.rel.get("real", 0)
        # The panel's own problems, looked up (not filtered from every problem per pilot: at
        # nation scale that scan was most of the planning time). Same order, same choices.
        by_panel = getattr(self, "_problems_by_panel", None)
        if by_panel is None or by_panel[0] != len(self.problems):
            grouped: dict[int, list[ProblemP]] = {}
            for pb in self.problems:
                grouped.setdefault(pb.panel, []).append(pb)
            by_panel = self._problems_by_panel = (len(self.problems), grouped)
        own = by_panel[1].get(p.panel, [])
        for pool in (own, self.problems):
            found = [(pb, v) for pb in pool if (v := pb.version_at(t_reg)) is not None]
            if not found:
                continue
            locked = [(pb, v) for pb, v in found if v.t_locked is not None and v.t_locked < real]
            options = locked or found
            weights = [1.0 / (1 + len(pb.pilots)) ** 2 for pb, _ in options]
            return rng.choices(options, weights)[0]
        return None

    def _absolute_timeline(self, p: PilotP, t_reg: int, t_lock: int | None) -> None:
        r = p.rel
        p.t_reg = t_reg
        p.t_roster = t_reg + r["roster"]
        p.readiness = [(t_reg + dt, item) for dt, item in r["readiness"]]
        p.waiver = (t_reg + r["waiver"], self.rng.choice(self.steering)) if r["waiver"] is not None else None
        if r["ready"] is None:
            return
        p.t_ready = t_reg + r["ready"]
        if t_lock is None:
            return
        planned = t_reg + r["real"]
        real = max(planned, t_lock + r["after_lock"])
        shift = real - planned
        p.t_real = real
        for number, (o, c) in enumerate(r["rounds"], start=1):
            p.rounds.append(RoundP(number, t_reg + o + shift, t_reg + c + shift))
        pb = p.problem
        assert pb is not None
        for k, (o, days, early, c) in enumerate(r["votes"]):
            v = VoteP("outcome", t_reg + o + shift, days=days, early=early, rng=self.rng)
            v.t_close = t_reg + c + shift
            v.pilot, v.problem, v.version_no = p, pb, p.version_no
            v.meets_quorum = not (p.stage == "quorum_then_decided" and k == 0)
            p.votes.append(v)
        last = p.votes[-1]
        if last.t_close is not None and last.t_close <= self.t_end:
            p.t_decision = last.t_close
            p.outcome = self._outcome(p)
            if p.outcome == Outcome.REVISIT_PROBLEM.value:
                self._plan_reopen(pb, p.t_decision)

    def _outcome(self, p: PilotP) -> str:
        if p.stage in ("adopt", "iterate", "stop"):
            return p.stage
        if p.stage == "revisit":
            return Outcome.REVISIT_PROBLEM.value
        if p.stage == "insufficient":
            return Outcome.ITERATE.value
        return self.rng.choice((Outcome.ADOPT.value, Outcome.ITERATE.value, Outcome.REVISIT_PROBLEM.value,
                                Outcome.STOP.value))

    @staticmethod
    def _plan_reopen(pb: ProblemP, t: int) -> None:
        """A revisit decision reopens version 1 (the earliest such decision does; later ones
        only link to the reopening). Re-ratification is planned after every assignment."""
        v1 = pb.versions[0]
        if len(pb.versions) == 1:
            v1.t_reopened = t
            pb.versions.append(VersionP(2, t))
        elif t < pb.versions[1].t_created:
            v1.t_reopened = t
            pb.versions[1].t_created = t
