"""Planning who is on each pilot and what happens during its real use.

The commissioning team (invitations answered by the invitees, R15), the
roster and its changes after real use (R15), who may answer each survey
round, each round's verdict, each outcome vote's electorate, and the acts of
real use: usage imports, measurements, feedback, metric amendments, claims.
"""
from __future__ import annotations

from array import array

from bench import texts
from bench.plan.model import (
    DAY,
    HOUR,
    WINDOW,
    InviteP,
    PilotP,
    RosterChangeP,
    uniform,
)
from bench.plan.pilots import PilotPlanner
from governance.vocabulary import Outcome


class DetailPlanner(PilotPlanner):
    """Teams, rosters, survey pools, electorates and the acts of real use."""

    def plan_details(self) -> None:
        for p in self.pilots:
            self._basics(p)
            self._team(p)
            self._roster(p)
            self._truncate(p)
            self._roster_changes(p)
            self._rounds(p)
            self._votes(p)
            self._pilot_actions(p)

    # ------------------------------------------------------------------ team
    def _basics(self, p: PilotP) -> None:
        rng = self.rng
        pb = p.problem
        assert pb is not None
        tool = texts.TOOLS[p.idx % len(texts.TOOLS)]
        p.title = f"{tool} — {self.panel_site[pb.panel]} {self.panel_area[pb.panel]} #{p.idx + 1}"
        p.description = f"A candidate solution for '{pb.title}'."
        p.metrics = [texts.METRICS[j] for j in sorted(rng.sample(range(len(texts.METRICS)), rng.randint(2, 3)))]
        p.on_target = rng.random() < 0.6

    def _team(self, p: PilotP) -> None:
        """R15: the registrar joins by registering; the owner and the others are invited and
        answer themselves — the owner early (the readiness "owner" item needs it), others
        accept, decline, or never answer (their invitation lapses at real use)."""
        rng = self.rng
        pb = p.problem
        assert pb is not None
        p.registrar = rng.choice(self.commissioning)
        p.owner = p.registrar if rng.random() < 0.5 else rng.choice(self.commissioning)
        others = {rng.choice(self.commissioning) for _ in range(rng.choice((0, 1, 1, 2)))}
        if rng.random() < 0.05 or (self.scale.name == "smoke" and p.idx % 5 == 0):
            others.add(rng.choice(self.members[pb.panel]))  # a frontline champion: votes as commissioning
        for person in sorted(({p.owner} | others) - {p.registrar}):
            if person == p.owner:
                p.invites.append(InviteP(person, "accept", p.t_reg + uniform(rng, HOUR, 20 * HOUR)))
                continue
            u = rng.random()
            answer = "accept" if u < 0.75 else "decline" if u < 0.88 else "never"
            t = p.t_reg + uniform(rng, HOUR, 1.5 * DAY) if answer != "never" else None
            p.invites.append(InviteP(person, answer, t))
        removable = [i.person for i in p.invites if i.answer == "accept" and i.person != p.owner]
        if p.t_real is not None and removable and (rng.random() < 0.03 or (self.scale.name == "smoke"
                                                                            and p.idx % 4 == 1)):
            p.team_removal = (p.t_real + uniform(rng, 2 * DAY, 20 * DAY), rng.choice(removable))

    def _roster(self, p: PilotP) -> None:
        rng = self.rng
        pb = p.problem
        assert pb is not None
        invited = {i.person for i in p.invites} | {p.registrar}
        size = int(self.roster_mean * rng.uniform(0.6, 1.4))
        size = max(45, min(size, len(self.frontline) + len(self.facilitators) - 5))
        if p.stage == "insufficient":
            size = max(45, min(size, 60))
        own = [m for m in self.members[pb.panel] if m not in invited]
        chosen = set(rng.sample(own, min(len(own), int(size * 0.75))))
        while len(chosen) < size:
            pick = rng.choice(self.frontline)
            if pick not in invited:
                chosen.add(pick)
        p.roster = array("i", sorted(chosen))

    def _truncate(self, p: PilotP) -> None:
        """Nothing happens after the end of the timeline."""
        end = self.t_end
        if p.t_roster is not None and p.t_roster >= end:
            p.t_roster = None
        for invite in p.invites:
            if invite.t_answer is not None and invite.t_answer >= end:
                invite.answer, invite.t_answer = "never", None
        p.readiness = [(t, it) for t, it in p.readiness if t < end]
        if p.waiver is not None and p.waiver[0] >= end:
            p.waiver = None
        if p.t_ready is not None and p.t_ready >= end:
            p.t_ready = None
        if p.t_ready is None or (p.t_real is not None and p.t_real >= end):
            p.t_real = None
        if p.t_real is None:
            p.rounds, p.votes, p.team_removal = [], [], None
        rounds = []
        for rnd in p.rounds:
            if rnd.t_open >= end:
                break
            if rnd.t_close is not None and rnd.t_close >= end:
                rnd.frac = max(0.0, min(1.0, (end - rnd.t_open) / (rnd.t_close - rnd.t_open)))
                rnd.t_close = None
            rounds.append(rnd)
        p.rounds = rounds
        if not p.rounds or p.rounds[-1].t_close is None:
            p.votes = []
        p.votes = [v for v in p.votes if v.t_open < end]
        for v in p.votes:
            self._truncate_vote(v)
        last = p.votes[-1] if p.votes else None
        p.t_decision = last.t_close if last is not None and last.t_close is not None else None
        if p.t_decision is None:
            p.outcome = None
        stop = min(end, p.t_decision if p.t_decision is not None else end)
        if p.team_removal is not None and p.team_removal[0] >= stop:
            p.team_removal = None

    # --------------------------------------------------------------- roster R15
    def _roster_changes(self, p: PilotP) -> None:
        """R15: some rosters change after real use began — before the first round opens
        (never while one is open), removals with a reason."""
        rng = self.rng
        removed: set[int] = set()
        if p.t_real is not None and (rng.random() < 0.12 or (self.scale.name == "smoke" and p.idx % 3 == 0)):
            limit = min(p.rounds[0].t_open if p.rounds else self.t_end, p.t_decision or self.t_end, self.t_end)
            t = p.t_real + uniform(rng, DAY, 25 * DAY)
            opens = [r.t_open for r in p.rounds]
            # Keep clear of the moment an addition becomes able to answer a round (R15).
            if t < limit - HOUR and all(abs(t + WINDOW - o) > HOUR for o in opens):
                on = set(p.roster)
                added = sorted({pick for pick in rng.sample(self.frontline, 3) if pick not in on
                                and pick not in {i.person for i in p.invites}})[:rng.randint(1, 3)]
                removed = set(rng.sample(list(p.roster), rng.randint(1, 2)))
                p.roster_changes.append(RosterChangeP(t, added, sorted(removed)))
        p.stable_roster = array("i", [pid for pid in p.roster if pid not in removed])

    def _roster_at(self, p: PilotP, t: int) -> list[int]:
        """Who may answer a round opening at ``t``: rostered then, and — if added after
        real use — for at least the evaluation window (R15)."""
        people = set(p.roster)
        for change in p.roster_changes:
            if change.t < t:
                people |= {pid for pid in change.added if change.t + WINDOW <= t}
                people -= set(change.removed)
        return sorted(people)

    # ------------------------------------------------------------- evaluation
    def _rounds(self, p: PilotP) -> None:
        rng = self.rng
        pb = p.problem
        assert pb is not None
        for k, rnd in enumerate(p.rounds):
            rnd.pilot = p
            rnd.pool = array("i", self._roster_at(p, rnd.t_open))
            last = k == len(p.rounds) - 1
            if p.stage == "insufficient" and last:
                rnd.verdict = "insufficient"
            elif p.outcome == Outcome.ADOPT.value or p.stage == "adopt":
                rnd.verdict = "pass" if last else "fail"
            elif p.outcome == Outcome.REVISIT_PROBLEM.value or p.stage == "revisit":
                rnd.verdict = "fail"
            elif p.outcome == Outcome.STOP.value or p.stage == "stop":
                rnd.verdict = "pass" if (last and rng.random() < 0.2) else "fail"
            else:
                rnd.verdict = rng.choice(("pass", "fail"))
            rnd.opener = rng.choice(p.core_team) if rng.random() < 0.7 else rng.choice(self.facilitators_of[pb.panel])
            rnd.closer = rnd.opener
            rnd.noise = rng.uniform(0.85, 1.15)
        p.compliance = bool(p.rounds) and p.rounds[-1].verdict == "fail" and rng.random() < 0.4

    def _votes(self, p: PilotP) -> None:
        """Each outcome vote's electorate as it will be fixed at opening (R8, R15)."""
        rng = self.rng
        pb = p.problem
        assert pb is not None
        for k, v in enumerate(p.votes):
            deciders = self.steering if rng.random() < 0.5 else self.facilitators_of[pb.panel]
            v.opener = rng.choice(deciders)
            if v.early and v.t_close is not None:
                v.closer = rng.choice(self.steering if rng.random() < 0.5 else self.facilitators_of[pb.panel])
            v.groups = {"frontline": len(self.member_sets[pb.panel] - p.conflicted(v.t_open)),
                        "commissioning": len(p.team_at(v.t_open)), "steering": len(self.steering)}
            terms = self.charter_at(v.t_open)
            v.quorums = {g: terms[f"quorum_{g}"] for g in v.groups}
            v.noise = rng.uniform(0.85, 1.15)
            v.winner = p.outcome if k == len(p.votes) - 1 else None

    # ------------------------------------------------------------- real use
    def _pilot_actions(self, p: PilotP) -> None:
        """Usage imports, measurements, feedback, amendments and claims during real use."""
        if p.t_real is None:
            return
        stop = min(self.t_end, p.t_decision if p.t_decision is not None else self.t_end)
        self._usage_and_measures(p, stop)
        self._feedback(p, stop)
        self._amendments_and_claims(p, stop)
        p.actions.sort(key=lambda a: a[0])

    def _usage_and_measures(self, p: PilotP, stop: int) -> None:
        rng, acts = self.rng, p.actions
        assert p.t_real is not None
        t = p.t_real + 28 * DAY + uniform(rng, HOUR, 2 * DAY)
        n = 0
        while t < stop:  # a log export every four weeks
            acts.append((t, "usage", (n,)))
            n += 1
            t += 28 * DAY + uniform(rng, -DAY, DAY)
        if p.t_decision is not None and p.t_decision < self.t_end:
            acts.append((p.t_decision - uniform(rng, 2 * HOUR, 10 * HOUR), "usage", (n,)))
        t = p.t_real + uniform(rng, 5 * DAY, 9 * DAY)
        k = 0
        while t < stop:  # entered every two weeks, a criteria file every four
            acts.append((t, "measure", (k,)))
            if k % 2 == 1:
                t_import = t + uniform(rng, HOUR, 5 * HOUR)
                if t_import < stop:  # never after the decision, nor after the end of the timeline
                    acts.append((t_import, "measure_import", (k,)))
            k += 1
            t += 14 * DAY + uniform(rng, -DAY, DAY)

    def _feedback(self, p: PilotP, stop: int) -> None:
        """From rostered users; most answered, some late, some never (overdue)."""
        rng = self.rng
        assert p.t_real is not None
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4, 5))):
            t_raise = uniform(rng, p.t_real + HOUR, stop)
            if t_raise >= stop:
                continue
            kind, body = rng.choice(texts.FEEDBACK)
            answered = rng.random() < 0.65
            t_resp = t_raise + uniform(rng, DAY, 22 * DAY) if answered else None
            if t_resp is not None and t_resp >= self.t_end:
                t_resp = None
            p.actions.append((t_raise, "feedback", (rng.choice(p.stable_roster), kind, body, t_resp,
                                                    rng.choice(p.core_team), rng.choice(texts.RESPONSES))))

    def _amendments_and_claims(self, p: PilotP, stop: int) -> None:
        rng = self.rng
        assert p.t_real is not None
        if rng.random() < 0.05 or (self.scale.name == "smoke" and p.stage == "adopt"):
            t = p.t_real + uniform(rng, 3 * DAY, 25 * DAY)
            if t < stop:  # a commissioning metric amended after real use began (R4)
                p.actions.append((t, "amend_metric", (rng.randrange(len(p.metrics)), rng.choice(p.core_team))))
        if rng.random() < 0.3 or (self.scale.name == "smoke" and p.stage in ("revisit", "adopt")):
            for _ in range(rng.choice((1, 1, 2))):  # claims of success (R12), before and after decisions
                t = uniform(rng, p.t_real + 10 * DAY, self.t_end)
                if t < self.t_end:
                    p.actions.append((t, "claim", (rng.choice(p.core_team), rng.random() < 0.9,
                                                   rng.random() < 0.2)))
