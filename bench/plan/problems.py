"""Planning problems: drafting, criteria, ratification, locks, amendments, re-ratification, retirement."""
from __future__ import annotations

from bench import texts
from bench.plan.model import (
    DAY,
    EARLY_CLOSE_SHARE,
    HOUR,
    VOTE_DAYS,
    ProblemP,
    VersionP,
    VoteP,
    split_counts,
    uniform,
)
from bench.plan.people import PeoplePlanner
from governance.vocabulary import VotingGroup

#: Fates of problems (shares); every one occurs at least once.
FATES = {"normal": 0.89, "idle": 0.04, "rejected": 0.025, "lock_rejected": 0.025, "amended": 0.02}


class ProblemPlanner(PeoplePlanner):
    """Each problem's life: drafted, voted on by its panel, locked, amended, reopened, retired."""

    def plan_problems(self) -> None:
        s, rng = self.scale, self.rng
        span = (self.t_end - 12 * DAY) - (self.t0 + 3 * DAY)
        fates = split_counts(s.problems, FATES)
        fate_list = [f for f, c in fates.items() for _ in range(c)]
        rng.shuffle(fate_list)
        # Smoke: make sure the fates that need a full cycle are drafted early enough.
        order = sorted(range(s.problems), key=lambda i: fate_list[i] in ("normal", "idle"))
        for k, i in enumerate(order):
            fate = fate_list[i]
            pb = self._draft(i, early=fate not in ("normal", "idle") and k < 4, span=span)
            v1 = VersionP(1, pb.t_draft)
            pb.versions.append(v1)
            if fate != "idle":
                self._first_cycle(pb, v1, fate)
            self.problems.append(pb)
        self.problems.sort(key=lambda pb: pb.idx)
        self._drop_after_end()

    def _draft(self, i: int, *, early: bool, span: int) -> ProblemP:
        rng = self.rng
        pb = ProblemP(i)
        pb.panel = i % self.scale.panels
        pb.programme = self.panel_programme[pb.panel]
        pb.author = rng.choice(self.members[pb.panel])
        friction, statement = texts.FRICTIONS[i % len(texts.FRICTIONS)]
        pb.title = f"{friction} at {self.panel_site[pb.panel]} ({i + 1})"
        pb.statement = f"Every week {statement}. It happens across {self.panel_area[pb.panel].lower()} teams."
        u = rng.random() ** 1.4
        if early:
            u = min(u, 0.3)
        pb.t_draft = self.t0 + 3 * DAY + int(u * span)
        for j in rng.sample(range(len(texts.CRITERIA)), rng.randint(1, 3)):
            pb.criteria.append((pb.t_draft + uniform(rng, HOUR, 2.5 * DAY), texts.CRITERIA[j]))
        pb.criteria.sort()
        if rng.random() < 0.1 or (self.scale.name == "smoke" and i == 0):
            pb.threshold_update = pb.t_draft + uniform(rng, 2.6 * DAY, 2.9 * DAY)
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            who = rng.choice(self.commissioning + self.steering)
            pb.comments.append((pb.t_draft + uniform(rng, HOUR, 30 * DAY), who,
                                "Could the panel say how often this happens at night?"))
        return pb

    def _first_cycle(self, pb: ProblemP, v1: VersionP, fate: str) -> None:
        rng = self.rng
        t_open = pb.t_draft + uniform(rng, 3 * DAY, 10 * DAY)
        rat = self._panel_vote("ratify_problem", pb, 1, t_open, passes=fate != "rejected")
        v1.ratify_votes.append(rat)
        if fate == "rejected":
            if rat.t_close is not None and (rng.random() < 0.6 or self.scale.name == "smoke"):
                pb.t_retire = rat.t_close + uniform(rng, 10 * DAY, 40 * DAY)
                pb.retirer = rng.choice(self.facilitators_of[pb.panel])
        elif rat.t_close is not None:
            v1.t_ratified = rat.t_close
            self._plan_locks(pb, v1, rat.t_close, first_fails=fate == "lock_rejected")
            if fate == "amended" and v1.t_locked is not None:
                self._plan_amendment(pb, v1)

    def _panel_vote(self, kind: str, pb: ProblemP, version: int, t_open: int, *, passes: bool,
                    days: int | None = None) -> VoteP:
        """A panel vote: opened and (if it closes early) closed by a facilitator of the panel."""
        rng = self.rng
        v = VoteP(kind, t_open, days=days or rng.choice(VOTE_DAYS), early=rng.random() < EARLY_CLOSE_SHARE,
                  rng=rng)
        v.problem, v.version_no, v.passes = pb, version, passes
        v.opener = rng.choice(self.facilitators_of[pb.panel])
        v.closer = rng.choice(self.facilitators_of[pb.panel]) if v.early else None
        v.groups = {VotingGroup.FRONTLINE.value: len(self.members[pb.panel])}
        v.quorums = {VotingGroup.FRONTLINE.value: self.charter_at(t_open)["quorum_frontline"]}
        return v

    def _plan_locks(self, pb: ProblemP, ver: VersionP, t_after: int, *, first_fails: bool = False) -> None:
        rng = self.rng
        t_open = t_after + uniform(rng, 0.5 * DAY, 4 * DAY)
        if first_fails:
            bad = self._panel_vote("lock_criteria", pb, ver.number, t_open, passes=False)
            ver.lock_votes.append(bad)
            if bad.t_close is None:
                return
            t_open = bad.t_close + uniform(rng, 8 * DAY, 16 * DAY)
        lock = self._panel_vote("lock_criteria", pb, ver.number, t_open, passes=True)
        ver.lock_votes.append(lock)
        ver.t_locked = lock.t_close

    def _plan_amendment(self, pb: ProblemP, ver: VersionP) -> None:
        """An amendment of a locked criterion (R4): its target, sometimes its definition too.

        The vote lasts a week, so it is decided before any pilot on the version can be.
        """
        rng = self.rng
        assert ver.t_locked is not None
        t_open = ver.t_locked + uniform(rng, 15 * DAY, 22 * DAY)
        v = self._panel_vote("amend_criterion", pb, ver.number, t_open, passes=rng.random() < 0.8, days=7)
        pb.amend_vote = v
        pb.amend_proposer = rng.choice(self.members[pb.panel])
        pb.amend_criterion = rng.randrange(len(pb.criteria))
        spec = pb.criteria[pb.amend_criterion][1]
        target = round(spec[5] * rng.choice((0.8, 0.9, 1.1, 1.25)), 2)
        if spec[3] == "share":
            target = min(1.0, target)
        if spec[3] == "rating_1_5":
            target = min(5.0, max(1.0, target))
        v.amendment_changes = {"target": target}
        if rng.random() < 0.4 or self.scale.name == "smoke":
            v.amendment_changes["definition"] = spec[1].rstrip(".") + ", counted over the whole year."

    def _plan_reratifications(self) -> None:
        """Some reopened problems are redefined and ratified again (after every older pilot is decided)."""
        rng = self.rng
        for pb in self.problems:
            last = pb.versions[-1]
            if last.number == 1 or last.ratify_votes or rng.random() < 0.45:
                continue
            if any(p.t_decision is None for p in pb.pilots if p.t_real is not None or p.t_ready is not None):
                continue
            decisions = [p.t_decision for p in pb.pilots if p.t_decision is not None]
            t_open = max([last.t_created, *decisions]) + uniform(rng, 7 * DAY, 20 * DAY)
            if any(p.t_reg > last.t_created for p in pb.pilots):
                continue
            rat = self._panel_vote("ratify_problem", pb, last.number, t_open, passes=True)
            last.ratify_votes.append(rat)
            if rat.t_close is not None and rat.t_close < self.t_end:
                last.t_ratified = rat.t_close
                self._plan_locks(pb, last, rat.t_close)

    def _plan_retirements(self) -> None:
        rng = self.rng
        for pb in self.problems:
            if pb.t_retire is not None or not pb.pilots or any(p.t_decision is None for p in pb.pilots):
                continue
            if rng.random() > 0.12:
                continue
            t = pb.last_event() + uniform(rng, 5 * DAY, 25 * DAY)
            if t < self.t_end - DAY:
                pb.t_retire = t
                pb.retirer = rng.choice(self.facilitators_of[pb.panel])

    def _drop_after_end(self) -> None:
        """Votes that open after the end do not happen; those still open are open at the end."""
        end = self.t_end
        for pb in self.problems:
            for ver in pb.versions:
                ver.ratify_votes = [v for v in ver.ratify_votes if v.t_open < end]
                ver.lock_votes = [v for v in ver.lock_votes if v.t_open < end]
                for v in (*ver.ratify_votes, *ver.lock_votes):
                    self._truncate_vote(v)
                # A passed vote decides when it closes (possibly moved to its deadline).
                ratified = [v.t_close for v in ver.ratify_votes if v.passes and v.t_close is not None]
                locked = [v.t_close for v in ver.lock_votes if v.passes and v.t_close is not None]
                ver.t_ratified = ratified[-1] if ratified else None
                ver.t_locked = locked[-1] if locked else None
            if pb.amend_vote is not None:
                if pb.amend_vote.t_open >= end:
                    pb.amend_vote = None
                else:
                    self._truncate_vote(pb.amend_vote)
            if pb.t_retire is not None and pb.t_retire >= end:
                pb.t_retire = None
            pb.comments = [c for c in pb.comments if c[0] < end]

    def _truncate_vote(self, v: VoteP) -> None:
        """A vote whose closing would fall after the end is open at the end — unless its
        deadline passed before: then the scheduled job has closed it by then (R16)."""
        end = self.t_end
        if v.t_close is None or v.t_close < end:
            return
        if not v.early and v.deadline < end:
            v.t_close = v.deadline + (end - v.deadline) // 2
            return
        v.frac = max(0.0, min(1.0, (end - v.t_open) / (v.deadline - v.t_open)))
        v.t_close = None
        v.closer = None
        v.meets_quorum = False
