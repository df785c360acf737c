"""The plan of a generated organisation: who exists, and when everything happens.

Planning decides every time and every fate up front (no database involved):
people, panels and memberships; each problem's drafting, ratification and
lock votes (and re-ratification after a reopening); each pilot's lifecycle
up to a chosen final stage (registered … decided with a chosen outcome); the
survey rounds and votes with their electorates. Then ``allocate`` sets how
many ballots and survey responses each vote and round gets so that the totals
hit the scale's targets while every planned quorum and verdict holds.

The emitter (``bench.generate``) replays the plan in time order, assigning ids
and writing rows and audit events exactly as the services would.
"""
from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass
from typing import Any

from bench import texts
from governance.rules.charter import CharterTerms
from governance.vocabulary import Outcome, ReadinessItem, VotingGroup

US = 1
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

DEFAULT_TERMS = CharterTerms()
WINDOW = DEFAULT_TERMS.evaluation_window_days * DAY
#: Charter version 2 (adopted half-way): steering quorum and feedback response time change.
CHARTER_V2 = {"quorum_steering": 0.4, "feedback_response_working_days": 8}

READINESS_ITEMS = tuple(i for i in ReadinessItem if i != ReadinessItem.OWNER)


@dataclass(frozen=True)
class Scale:
    name: str
    panels: int
    people: int
    problems: int
    pilots: int
    survey_responses: int
    ballots: int
    panel_size: int
    steering: int
    days: int = 730


SCALES: dict[str, Scale] = {
    "smoke": Scale("smoke", panels=3, people=170, problems=8, pilots=14, survey_responses=520, ballots=1_100,
                   panel_size=50, steering=4, days=420),
    "town": Scale("town", panels=10, people=2_000, problems=100, pilots=200, survey_responses=50_000,
                  ballots=100_000, panel_size=350, steering=8),
    "ministry": Scale("ministry", panels=100, people=20_000, problems=1_000, pilots=2_000,
                      survey_responses=500_000, ballots=1_000_000, panel_size=350, steering=25),
}

#: Final stages of pilots (shares of all pilots); every one occurs at least once.
STAGES: dict[str, float] = {
    "registered": 0.02, "stalled": 0.01, "ready": 0.025, "in_use": 0.05, "evaluating_round": 0.03,
    "evaluating_closed": 0.01, "evaluating_vote": 0.03,
    "adopt": 0.27, "iterate": 0.16, "revisit": 0.22, "stop": 0.11, "quorum_then_decided": 0.03,
    "insufficient": 0.025,
}
DECIDED_STAGES = ("adopt", "iterate", "revisit", "stop", "quorum_then_decided", "insufficient")

#: Well-known accounts (one per role) for page measurements; password below.
ROLE_ACCOUNTS = {
    "admin": "admin@bench.example", "facilitator": "facilitator@bench.example",
    "frontline": "frontline@bench.example", "commissioning": "commissioning@bench.example",
    "steering": "steering@bench.example", "auditor": "auditor@bench.example",
}
ACCOUNT_PASSWORD = "bench password 1"


def split_counts(total: int, shares: dict[str, float], rng: random.Random) -> dict[str, int]:
    """Whole counts per key summing to ``total``; every key at least 1 when total allows."""
    keys = list(shares)
    if total >= len(keys):
        counts = {k: 1 for k in keys}
        rest = total - len(keys)
    else:
        counts = {k: 0 for k in keys}
        rest = total
    weight = sum(shares.values())
    exact = {k: rest * shares[k] / weight for k in keys}
    for k in keys:
        counts[k] += int(exact[k])
    left = total - sum(counts.values())
    for k in sorted(keys, key=lambda k: exact[k] - int(exact[k]), reverse=True)[:left]:
        counts[k] += 1
    return counts


def uniform(rng: random.Random, low: float, high: float) -> int:
    return int(rng.uniform(low, high))


# ---------------------------------------------------------------------- plan objects
class VoteP:
    """A planned vote (panel or outcome) and, once emitted, its runtime state."""

    def __init__(self, kind: str, t_open: int, *, closer_system: bool, rng: random.Random) -> None:
        self.kind = kind
        self.t_open = t_open
        self.deadline = t_open + 7 * DAY
        if closer_system:
            self.t_close: int | None = self.deadline + uniform(rng, HOUR, 20 * HOUR)
        else:
            self.t_close = t_open + uniform(rng, 5 * DAY, 6.9 * DAY)
        self.closer_system = closer_system
        self.opener = 0
        self.closer: int | None = None
        self.problem: ProblemP | None = None
        self.version_no = 0
        self.pilot: PilotP | None = None
        self.passes = True          # panel votes: approve wins
        self.meets_quorum = True
        self.winner: str | None = None  # outcome votes: the planned winner
        self.groups: dict[str, int] = {}
        self.quorums: dict[str, float] = {}
        self.frac = 1.0             # share of the ballot window before the end of the timeline
        self.noise = 1.0
        self.counts: dict[str, int] = {}
        self.changes = 0
        self.amend_target: float | None = None
        # runtime
        self.id = 0
        self.plan: list[tuple[int, int, str, str, int, str]] | None = None
        self.current: dict[int, tuple[str, str, int]] = {}
        self.first_ids: dict[int, tuple[int, str]] = {}
        self.eligible: dict[str, int] = {}
        self.adopt_available = False
        self.proposed: str | None = None
        self.evidence: dict[str, Any] | None = None
        self.charter: Any = None
        self.amendment: Any = None

    @property
    def is_open_at_end(self) -> bool:
        return self.t_close is None


class RoundP:
    def __init__(self, number: int, t_open: int, t_close: int) -> None:
        self.number = number
        self.t_open = t_open
        self.t_close: int | None = t_close
        self.verdict = "fail"       # pass | fail | insufficient
        self.opener = 0
        self.closer = 0
        self.frac = 1.0
        self.noise = 1.0
        self.count = 0
        self.changes = 0
        self.size = 0
        self.min_n = DEFAULT_TERMS.min_survey_responses
        self.pilot: PilotP | None = None
        # runtime
        self.id = 0
        self.plan: list[tuple[int, int, str, int, str]] | None = None
        self.current: dict[int, str] = {}
        self.first_ids: dict[int, int] = {}
        self.answers: dict[str, int] = {}
        self.sus_sum = 0.0
        self.sus_n = 0
        self.closed = False


class VersionP:
    def __init__(self, number: int, t_created: int) -> None:
        self.number = number
        self.t_created = t_created
        self.ratify_votes: list[VoteP] = []
        self.lock_votes: list[VoteP] = []
        self.t_ratified: int | None = None
        self.t_locked: int | None = None
        self.t_reopened: int | None = None


class ProblemP:
    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.panel = 0
        self.programme: int | None = None
        self.author = 0
        self.title = ""
        self.statement = ""
        self.t_draft = 0
        self.criteria: list[tuple[int, tuple[Any, ...]]] = []
        self.threshold_update: int | None = None
        self.comments: list[tuple[int, int, str]] = []
        self.versions: list[VersionP] = []
        self.amend_vote: VoteP | None = None
        self.amend_proposer = 0
        self.amend_criterion = 0      # index into criteria
        self.t_retire: int | None = None
        self.retirer = 0
        self.pilots: list[PilotP] = []
        self.rt: Any = None           # runtime state (bench.generate)

    def version_at(self, t: int) -> VersionP | None:
        """The version ratified (and neither reopened nor retired) at ``t``, if any."""
        if self.t_retire is not None and t >= self.t_retire:
            return None
        for v in self.versions:
            if v.t_ratified is not None and v.t_ratified < t and (v.t_reopened is None or t < v.t_reopened):
                return v
        return None

    def current_version_at(self, t: int) -> VersionP:
        current = self.versions[0]
        for v in self.versions:
            if v.t_created <= t:
                current = v
        return current

    def votes(self) -> list[VoteP]:
        out = [v for ver in self.versions for v in (*ver.ratify_votes, *ver.lock_votes)]
        if self.amend_vote is not None:
            out.append(self.amend_vote)
        return out

    def last_event(self) -> int:
        times = [self.t_draft] + [v.t_close or v.t_open for v in self.votes()]
        times += [p.t_decision for p in self.pilots if p.t_decision is not None]
        return max(times)


class PilotP:
    def __init__(self, idx: int, stage: str) -> None:
        self.idx = idx
        self.stage = stage
        self.panel = 0
        self.problem: ProblemP | None = None
        self.version_no = 0
        self.title = ""
        self.description = ""
        self.registrar = 0
        self.owner = 0
        self.team: list[int] = []
        self.metrics: list[tuple[Any, ...]] = []
        self.roster = array("i")
        self.rel: dict[str, Any] = {}
        self.t_reg = 0
        self.t_roster: int | None = 0
        self.readiness: list[tuple[int, str]] = []
        self.waiver: tuple[int, int] | None = None
        self.t_ready: int | None = None
        self.t_real: int | None = None
        self.rounds: list[RoundP] = []
        self.votes: list[VoteP] = []
        self.t_decision: int | None = None
        self.outcome: str | None = None
        self.survey_verdicts: list[str] = []
        self.on_target = True
        self.compliance = False
        self.actions: list[tuple[int, str, tuple[Any, ...]]] = []
        self.rt: Any = None


# ------------------------------------------------------------------------- planner
class Planner:
    def __init__(self, scale: Scale, t_start: int, t_end: int, seed: int) -> None:
        self.scale = scale
        self.t0 = t_start
        self.t_end = t_end
        self.rng = random.Random(seed)
        self.seed = seed
        self.t_charter2 = t_start + (t_end - t_start) // 2
        self.problems: list[ProblemP] = []
        self.pilots: list[PilotP] = []
        self.stats: dict[str, Any] = {}

    # ----------------------------------------------------------------- people
    def plan_people(self) -> None:
        s, rng = self.scale, self.rng
        n = s.people
        auditors = max(2, n // 1000)
        steering = s.steering
        commissioning = max(8, round(n * 0.07))
        facilitators = 3 * s.panels
        leavers = max(1, n // 200)
        admins = 2
        frontline = n - admins - auditors - steering - commissioning - facilitators - leavers
        assert frontline > s.panels * 10, "too few people for this many panels"
        blocks = ([("admin",)] * admins + [("auditor",)] * auditors + [("steering",)] * steering
                  + [("commissioning",)] * commissioning + [("facilitator", "frontline")] * facilitators
                  + [("frontline",)] * frontline + [("frontline",)] * leavers)
        combos = len(texts.FIRST_NAMES) * len(texts.INITIALS) * len(texts.LAST_NAMES)
        picks = rng.sample(range(combos), n)
        self.names = [""]
        self.emails = [""]
        self.roles: list[tuple[str, ...]] = [()]
        nf, ni = len(texts.FIRST_NAMES), len(texts.INITIALS)
        for pid, (roles, pick) in enumerate(zip(blocks, picks, strict=True), start=1):
            first = texts.FIRST_NAMES[pick % nf]
            initial = texts.INITIALS[(pick // nf) % ni]
            last = texts.LAST_NAMES[pick // (nf * ni)]
            self.names.append(f"{first} {initial}. {last}")
            self.emails.append(f"{texts.ascii_slug(first)}.{texts.ascii_slug(last)}.{pid}@bench.example")
            self.roles.append(tuple(sorted(roles)))
        ids = list(range(1, n + 1))
        cut = [admins, auditors, steering, commissioning, facilitators, frontline, leavers]
        bounds = []
        start = 0
        for size in cut:
            bounds.append(ids[start:start + size])
            start += size
        (self.admins, self.auditors, self.steering, self.commissioning, self.facilitators,
         self.frontline, self.leavers) = bounds
        self.admin = self.admins[0]
        # Well-known accounts: the first person of each kind.
        self.accounts = {"admin": self.admin, "auditor": self.auditors[0], "steering": self.steering[0],
                         "commissioning": self.commissioning[0], "facilitator": self.facilitators[0],
                         "frontline": self.frontline[0]}
        for role, pid in self.accounts.items():
            self.emails[pid] = ROLE_ACCOUNTS[role]
        # Creation times: the initial import on day 0.
        step = max(1, (20 * HOUR) // n)
        self.t_person = [0] + [self.t0 + MINUTE + i * step for i in range(n)]
        self.leaver_times = sorted(self.t0 + uniform(rng, 30 * DAY, (s.days - 2) * DAY) for _ in self.leavers)

    # ----------------------------------------------------------------- panels
    def plan_panels(self) -> None:
        s, rng = self.scale, self.rng
        n_prog = min(len(texts.AREAS), max(1, s.panels // 10))
        self.programmes = [f"{texts.AREAS[i]} improvement programme" for i in range(n_prog)]
        self.panel_names = []
        self.panel_area = []
        self.panel_site = []
        self.panel_programme = []
        for p in range(s.panels):
            area = texts.AREAS[p % len(texts.AREAS)]
            site = texts.SITES[(p // len(texts.AREAS)) % len(texts.SITES)]
            wave = p // (len(texts.AREAS) * len(texts.SITES))
            name = f"{site} {area} Panel" + (f" {wave + 1}" if wave else "")
            self.panel_names.append(name)
            self.panel_area.append(area)
            self.panel_site.append(site)
            self.panel_programme.append(1 + p % n_prog)
        # Members: three facilitators and the home frontline staff of each panel, then guests
        # from other panels (people sit on their site panel and often a cross-site one).
        home: list[list[int]] = [[] for _ in range(s.panels)]
        for i, pid in enumerate(self.frontline):
            home[i % s.panels].append(pid)
        self.members: list[list[int]] = []
        self.facilitators_of: list[list[int]] = []
        for p in range(s.panels):
            facs = self.facilitators[3 * p:3 * p + 3]
            self.facilitators_of.append(facs)
            size = max(len(home[p]) + 3, int(s.panel_size * rng.uniform(0.85, 1.15)))
            guests_needed = size - len(home[p]) - 3
            others = [pid for q in range(s.panels) if q != p for pid in home[q]] if s.panels > 1 else []
            guests = rng.sample(others, min(len(others), max(0, guests_needed))) if others else []
            self.members.append(sorted(facs + home[p] + guests))
        self.member_sets = [frozenset(m) for m in self.members]
        step = max(1, (20 * HOUR) // max(1, sum(len(m) for m in self.members)))
        self.t_panels = self.t0 + 21 * HOUR
        self.t_memberships = self.t0 + DAY
        self.membership_step = step

    # --------------------------------------------------------------- problems
    def plan_problems(self) -> None:
        s, rng = self.scale, self.rng
        span = (self.t_end - 12 * DAY) - (self.t0 + 3 * DAY)
        fates = split_counts(s.problems, {"normal": 0.89, "idle": 0.04, "rejected": 0.025,
                                          "lock_rejected": 0.025, "amended": 0.02}, rng)
        fate_list = [f for f, c in fates.items() for _ in range(c)]
        rng.shuffle(fate_list)
        # Smoke: make sure the fates that need a full cycle are drafted early enough.
        order = sorted(range(s.problems), key=lambda i: fate_list[i] in ("normal", "idle"))
        for k, i in enumerate(order):
            fate = fate_list[i]
            pb = ProblemP(i)
            pb.panel = i % s.panels
            pb.programme = self.panel_programme[pb.panel]
            members = self.members[pb.panel]
            pb.author = rng.choice(members)
            friction, statement = texts.FRICTIONS[i % len(texts.FRICTIONS)]
            pb.title = f"{friction} at {self.panel_site[pb.panel]} ({i + 1})"
            pb.statement = f"Every week {statement}. It happens across {self.panel_area[pb.panel].lower()} teams."
            u = rng.random() ** 1.4
            if fate != "normal" and fate != "idle" and k < 4:
                u = min(u, 0.3)
            pb.t_draft = self.t0 + 3 * DAY + int(u * span)
            crit_idx = rng.sample(range(len(texts.CRITERIA)), rng.randint(1, 3))
            for j in crit_idx:
                pb.criteria.append((pb.t_draft + uniform(rng, HOUR, 2.5 * DAY), texts.CRITERIA[j]))
            pb.criteria.sort()
            if rng.random() < 0.1:
                pb.threshold_update = pb.t_draft + uniform(rng, 2.6 * DAY, 2.9 * DAY)
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                who = rng.choice(self.commissioning + self.steering)
                pb.comments.append((pb.t_draft + uniform(rng, HOUR, 30 * DAY), who,
                                    "Could the panel say how often this happens at night?"))
            v1 = VersionP(1, pb.t_draft)
            pb.versions.append(v1)
            if fate != "idle":
                t_open = pb.t_draft + uniform(rng, 3 * DAY, 10 * DAY)
                rat = self._panel_vote("ratify_problem", pb, 1, t_open, passes=fate != "rejected")
                v1.ratify_votes.append(rat)
                if fate == "rejected":
                    if rat.t_close is not None and rng.random() < 0.6:
                        pb.t_retire = rat.t_close + uniform(rng, 10 * DAY, 40 * DAY)
                        pb.retirer = rng.choice(self.facilitators_of[pb.panel])
                elif rat.t_close is not None:
                    v1.t_ratified = rat.t_close
                    self._plan_locks(pb, v1, rat.t_close, first_fails=fate == "lock_rejected")
                    if fate == "amended" and v1.t_locked is not None:
                        self._plan_amendment(pb, v1)
            self.problems.append(pb)
        self.problems.sort(key=lambda pb: pb.idx)
        self._drop_after_end()

    def _panel_vote(self, kind: str, pb: ProblemP, version: int, t_open: int, *, passes: bool) -> VoteP:
        rng = self.rng
        v = VoteP(kind, t_open, closer_system=rng.random() < 0.3, rng=rng)
        v.problem, v.version_no, v.passes = pb, version, passes
        v.opener = rng.choice(self.facilitators_of[pb.panel])
        v.closer = None if v.closer_system else rng.choice(self.facilitators_of[pb.panel])
        self._close_due(v)
        v.groups = {VotingGroup.FRONTLINE.value: len(self.members[pb.panel])}
        v.quorums = {VotingGroup.FRONTLINE.value: self.charter_at(t_open)["quorum_frontline"]}
        return v

    def _close_due(self, v: VoteP) -> None:
        """A vote whose deadline passed before the end was closed by the system by then
        (``close_due_votes`` runs on every page load), so none is left open past its deadline."""
        end = self.t_end
        if v.closer_system and v.t_close is not None and v.t_close >= end and v.deadline < end - 2 * MINUTE:
            v.t_close = v.deadline + max(MINUTE, (end - v.deadline) // 2)

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
        rng = self.rng
        assert ver.t_locked is not None
        t_open = ver.t_locked + uniform(rng, 15 * DAY, 22 * DAY)
        v = self._panel_vote("amend_criterion", pb, ver.number, t_open, passes=rng.random() < 0.8)
        v.closer_system = False
        v.t_close = t_open + uniform(rng, 5 * DAY, 6.5 * DAY)
        v.closer = rng.choice(self.facilitators_of[pb.panel])
        pb.amend_vote = v
        pb.amend_proposer = rng.choice(self.members[pb.panel])
        pb.amend_criterion = rng.randrange(len(pb.criteria))
        target = pb.criteria[pb.amend_criterion][1][5]
        v.amend_target = round(target * rng.choice((0.8, 0.9, 1.1, 1.25)), 2)
        if pb.criteria[pb.amend_criterion][1][3] == "share":
            v.amend_target = min(1.0, v.amend_target)
        if pb.criteria[pb.amend_criterion][1][3] == "rating_1_5":
            v.amend_target = min(5.0, max(1.0, v.amend_target))

    def charter_at(self, t: int) -> dict[str, Any]:
        terms = DEFAULT_TERMS.as_dict()
        if t >= self.t_charter2:
            terms.update(CHARTER_V2)
        return terms

    # ------------------------------------------------------------------ pilots
    def plan_pilots(self) -> None:
        s, rng = self.scale, self.rng
        stages = split_counts(s.pilots, STAGES, rng)
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
        mean = s.survey_responses / max(1.0, rounds) / (0.8 * 1.05)
        self.roster_mean = max(45.0, mean)
        for p in sorted(self.pilots, key=lambda p: p.rel["anchor"] - p.rel["anchor_offset"]):
            self._assign(p)
        self._plan_reratifications()
        self._plan_retirements()
        self._drop_after_end()
        for p in self.pilots:
            self._pilot_details(p)

    def _rounds_weight(self, p: PilotP) -> float:
        if p.stage in ("registered", "stalled", "ready", "in_use"):
            return 0.0
        if p.stage == "evaluating_round":
            return 0.5
        return float(len(p.rel["rounds"]))

    def _relative_timeline(self, p: PilotP) -> None:
        """Offsets from registration, and the anchor that puts the pilot in its final stage."""
        rng, r = self.rng, p.rel
        r["roster"] = uniform(rng, 2 * HOUR, 20 * HOUR)
        items = list(READINESS_ITEMS)
        rng.shuffle(items)
        r["waiver"] = None
        if p.stage == "stalled":
            k = rng.randint(1, 3)
            r["readiness"] = sorted((uniform(rng, DAY, 20 * DAY), it) for it in items[:k])
            r["ready"] = None
        elif rng.random() < 0.1:
            k = rng.randint(1, 2)
            r["readiness"] = sorted((uniform(rng, DAY, 5 * DAY), it) for it in items[:k])
            r["waiver"] = uniform(rng, 5.2 * DAY, 10 * DAY)
            r["ready"] = r["waiver"]
        else:
            r["readiness"] = sorted((uniform(rng, DAY, 14 * DAY), it) for it in items)
            r["ready"] = r["readiness"][-1][0]
        decided = p.stage in DECIDED_STAGES
        if r["ready"] is not None:
            r["real"] = r["ready"] + uniform(rng, DAY, 5 * DAY)
            r["after_lock"] = uniform(rng, HOUR, 2 * DAY)
            n_rounds = 2 if (decided or p.stage in ("evaluating_closed", "evaluating_vote")) \
                and rng.random() < 0.1 else 1
            rounds = []
            t = r["real"] + WINDOW + uniform(rng, 0.5 * DAY, 5 * DAY)
            for _ in range(n_rounds):
                close = t + uniform(rng, 10 * DAY, 14 * DAY)
                rounds.append((t, close))
                t = close + uniform(rng, DAY, 6 * DAY)
            r["rounds"] = rounds
            votes = []
            t = rounds[-1][1] + uniform(rng, 0.5 * DAY, 3 * DAY)
            for _ in range(2 if p.stage == "quorum_then_decided" else 1):
                system = rng.random() < 0.35
                close = t + 7 * DAY + uniform(rng, HOUR, 20 * HOUR) if system else \
                    t + uniform(rng, 5 * DAY, 6.9 * DAY)
                votes.append((t, close, system))
                t = close + uniform(rng, 2 * DAY, 7 * DAY)
            r["votes"] = votes
        # The anchor: the moment that must fall just before the end (or anywhere, when decided).
        end = self.t_end
        if p.stage == "registered":
            offset, anchor = 0, end - uniform(rng, 0.2 * DAY, 0.9 * DAY)
        elif p.stage == "stalled":
            offset, anchor = 0, self.t0 + uniform(rng, 40 * DAY, max(41, self.scale.days - 30) * DAY)
        elif p.stage == "ready":
            offset, anchor = r["ready"], end - uniform(rng, 0.1 * DAY, 0.9 * DAY)
        elif p.stage == "in_use":
            offset, anchor = r["real"], end - uniform(rng, 0.5 * DAY, 29 * DAY)
        elif p.stage == "evaluating_round":
            offset, anchor = r["rounds"][0][0], end - uniform(rng, 0.2 * DAY, 9.5 * DAY)
        elif p.stage == "evaluating_closed":
            offset, anchor = r["rounds"][-1][1], end - uniform(rng, 0.05 * DAY, 0.45 * DAY)
        elif p.stage == "evaluating_vote":
            offset, anchor = r["votes"][0][0], end - uniform(rng, 0.2 * DAY, 4.9 * DAY)
        else:
            offset = r["votes"][-1][1]
            low = max(self.t0 + 30 * DAY + offset, self.t0 + 110 * DAY)
            high = end - DAY
            anchor = uniform(rng, min(low, high - DAY), high)
        r["anchor"], r["anchor_offset"] = anchor, offset

    def _assign(self, p: PilotP) -> None:
        """Choose a ratified problem at registration time (R1) and fix absolute times."""
        t_reg = p.rel["anchor"] - p.rel["anchor_offset"]
        t_reg = max(t_reg, self.t0 + 20 * DAY)
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
        own = [pb for pb in self.problems if pb.panel == p.panel]
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
        r, end = p.rel, self.t_end
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
        for k, (o, c, system) in enumerate(r["votes"]):
            v = VoteP("outcome", t_reg + o + shift, closer_system=system, rng=self.rng)
            v.t_close = t_reg + c + shift
            self._close_due(v)
            v.pilot, v.problem, v.version_no = p, pb, p.version_no
            v.meets_quorum = not (p.stage == "quorum_then_decided" and k == 0)
            p.votes.append(v)
        last = p.votes[-1]
        if last.t_close is not None and last.t_close <= end:
            p.t_decision = last.t_close
            if p.stage in ("adopt", "iterate", "revisit", "stop"):
                p.outcome = p.stage if p.stage != "revisit" else Outcome.REVISIT_PROBLEM.value
            elif p.stage == "insufficient":
                p.outcome = Outcome.ITERATE.value
            else:
                p.outcome = self.rng.choice((Outcome.ADOPT.value, Outcome.ITERATE.value,
                                             Outcome.REVISIT_PROBLEM.value, Outcome.STOP.value))
            if p.outcome == Outcome.REVISIT_PROBLEM.value:
                self._plan_reopen(pb, p.t_decision)

    def _plan_reopen(self, pb: ProblemP, t: int) -> None:
        """A revisit decision reopens version 1 (the earliest such decision does; later ones
        only link to the reopening). Re-ratification is planned after every assignment."""
        v1 = pb.versions[0]
        if len(pb.versions) == 1:
            v1.t_reopened = t
            pb.versions.append(VersionP(2, t))
        elif t < pb.versions[1].t_created:
            v1.t_reopened = t
            pb.versions[1].t_created = t

    def _plan_reratifications(self) -> None:
        """Some reopened problems are redefined and ratified again (after every older pilot is decided)."""
        rng = self.rng
        for pb in self.problems:
            last = pb.versions[-1]
            if last.number == 1 or last.ratify_votes or rng.random() < 0.45:
                continue
            older = [p for p in pb.pilots]
            if any(p.t_decision is None for p in older if p.t_real is not None or p.t_ready is not None):
                continue
            decisions = [p.t_decision for p in older if p.t_decision is not None]
            t_open = max([last.t_created] + decisions) + uniform(rng, 7 * DAY, 20 * DAY)
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
            if pb.t_retire is not None or not pb.pilots:
                continue
            if any(p.t_decision is None for p in pb.pilots):
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
                if ver.t_ratified is not None and ver.t_ratified >= end:
                    ver.t_ratified = None
                if ver.t_locked is not None and ver.t_locked >= end:
                    ver.t_locked = None
            if pb.amend_vote is not None:
                if pb.amend_vote.t_open >= end:
                    pb.amend_vote = None
                else:
                    self._truncate_vote(pb.amend_vote)
            if pb.t_retire is not None and pb.t_retire >= end:
                pb.t_retire = None
            pb.comments = [c for c in pb.comments if c[0] < end]

    def _truncate_vote(self, v: VoteP) -> None:
        end = self.t_end
        if v.t_close is not None and v.t_close >= end:
            window = v.deadline - v.t_open
            v.frac = max(0.0, min(1.0, (end - v.t_open) / window))
            v.t_close = None
            v.meets_quorum = False

    # ------------------------------------------------------------- pilot details
    def _pilot_details(self, p: PilotP) -> None:
        rng, end = self.rng, self.t_end
        pb = p.problem
        assert pb is not None
        p.registrar = rng.choice(self.commissioning)
        p.owner = p.registrar if rng.random() < 0.5 else rng.choice(self.commissioning)
        team = {p.registrar, p.owner}
        for _ in range(rng.choice((0, 1, 1, 2))):
            team.add(rng.choice(self.commissioning))
        if rng.random() < 0.05:  # a frontline champion from the panel: votes as commissioning (R8)
            team.add(rng.choice(self.members[pb.panel]))
        p.team = sorted(team)
        tool = texts.TOOLS[p.idx % len(texts.TOOLS)]
        p.title = f"{tool} — {self.panel_site[pb.panel]} {self.panel_area[pb.panel]} #{p.idx + 1}"
        p.description = f"A candidate solution for '{pb.title}'."
        p.metrics = [texts.METRICS[j] for j in sorted(rng.sample(range(len(texts.METRICS)), rng.randint(2, 3)))]
        p.on_target = rng.random() < 0.6
        size = int(self.roster_mean * rng.uniform(0.6, 1.4))
        size = max(45, min(size, len(self.frontline) + len(self.facilitators) - 5))
        if p.stage == "insufficient":
            size = max(45, min(size, 60))
        own = [m for m in self.members[pb.panel] if m not in team]
        from_panel = rng.sample(own, min(len(own), int(size * 0.75)))
        chosen = set(from_panel)
        pool = self.frontline
        while len(chosen) < size:
            chosen.add(rng.choice(pool))
        p.roster = array("i", sorted(chosen))
        # Ends: nothing after the end of the timeline.
        if p.t_roster >= end:
            p.t_roster = None
        p.readiness = [(t, it) for t, it in p.readiness if t < end]
        if p.waiver is not None and p.waiver[0] >= end:
            p.waiver = None
        if p.t_ready is not None and p.t_ready >= end:
            p.t_ready = None
        if p.t_ready is None or (p.t_real is not None and p.t_real >= end):
            p.t_real = None
        if p.t_real is None:
            p.rounds, p.votes = [], []
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
        # Survey verdicts: what the outcome needs.
        outcome = p.outcome
        for k, rnd in enumerate(p.rounds):
            rnd.pilot = p
            rnd.size = len(p.roster)
            last = k == len(p.rounds) - 1
            if p.stage == "insufficient" and last:
                rnd.verdict = "insufficient"
            elif outcome == Outcome.ADOPT.value or (p.stage == "adopt"):
                rnd.verdict = "pass" if last else "fail"
            elif outcome in (Outcome.REVISIT_PROBLEM.value,) or p.stage == "revisit":
                rnd.verdict = "fail"
            elif outcome == Outcome.STOP.value or p.stage == "stop":
                rnd.verdict = "pass" if (last and rng.random() < 0.2) else "fail"
            else:
                rnd.verdict = rng.choice(("pass", "fail"))
            rnd.opener = rng.choice(p.team) if rng.random() < 0.7 else rng.choice(self.facilitators_of[pb.panel])
            rnd.closer = rnd.opener
            rnd.noise = rng.uniform(0.85, 1.15)
        p.compliance = bool(p.rounds) and p.rounds[-1].verdict == "fail" and rng.random() < 0.4
        eligible_f = len(self.member_sets[pb.panel] - set(p.team))
        for k, v in enumerate(p.votes):
            v.opener = rng.choice(self.steering) if rng.random() < 0.5 else rng.choice(self.facilitators_of[pb.panel])
            if not v.closer_system:
                v.closer = rng.choice(self.steering) if rng.random() < 0.5 else rng.choice(self.facilitators_of[pb.panel])
            else:
                v.closer = None
            v.groups = {"frontline": eligible_f, "commissioning": len(p.team), "steering": len(self.steering)}
            terms = self.charter_at(v.t_open)
            v.quorums = {g: terms[f"quorum_{g}"] for g in v.groups}
            v.noise = rng.uniform(0.85, 1.15)
            v.winner = outcome if k == len(p.votes) - 1 else None
        p.t_decision = p.t_decision if (p.votes and p.votes[-1].t_close is not None) else None
        if p.t_decision is None:
            p.outcome = None
        self._pilot_actions(p)

    def _pilot_actions(self, p: PilotP) -> None:
        """Usage imports, measurements, feedback, amendments and claims during real use."""
        rng, end = self.rng, self.t_end
        acts = p.actions
        if p.t_real is None:
            return
        stop = min(end, p.t_decision if p.t_decision is not None else end)
        # Usage: a log export every four weeks.
        t = p.t_real + 28 * DAY + uniform(rng, HOUR, 2 * DAY)
        n = 0
        while t < stop:
            acts.append((t, "usage", (n,)))
            n += 1
            t += 28 * DAY + uniform(rng, -DAY, DAY)
        if p.t_decision is not None and p.t_decision < end:
            acts.append((p.t_decision - uniform(rng, 2 * HOUR, 10 * HOUR), "usage", (n,)))
        # Measurements: entered every two weeks, a criteria file every four.
        t = p.t_real + uniform(rng, 5 * DAY, 9 * DAY)
        k = 0
        while t < stop:
            acts.append((t, "measure", (k,)))
            if k % 2 == 1:
                acts.append((t + uniform(rng, HOUR, 5 * HOUR), "measure_import", (k,)))
            k += 1
            t += 14 * DAY + uniform(rng, -DAY, DAY)
        # Feedback from rostered users; most answered, some late, some never (overdue).
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4, 5))):
            t_raise = uniform(rng, p.t_real + HOUR, stop)
            if t_raise >= stop:
                continue
            kind, body = rng.choice(texts.FEEDBACK)
            answered = rng.random() < 0.65
            t_resp = t_raise + uniform(rng, DAY, 22 * DAY) if answered else None
            if t_resp is not None and t_resp >= end:
                t_resp = None
            acts.append((t_raise, "feedback", (rng.choice(p.roster), kind, body, t_resp,
                                                rng.choice(p.team), rng.choice(texts.RESPONSES))))
        # A commissioning metric amended after real use began (R4).
        if rng.random() < 0.05 or (self.scale.name == "smoke" and p.stage == "adopt"):
            t = p.t_real + uniform(rng, 3 * DAY, 25 * DAY)
            if t < stop:
                acts.append((t, "amend_metric", (rng.randrange(len(p.metrics)), rng.choice(p.team))))
        # Claims of success (R12): before and after decisions.
        if rng.random() < 0.3 or (self.scale.name == "smoke" and p.stage in ("revisit", "adopt")):
            for _ in range(rng.choice((1, 1, 2))):
                t = uniform(rng, p.t_real + 10 * DAY, end)
                if t < end:
                    acts.append((t, "claim", (rng.choice(p.team), rng.random() < 0.9, rng.random() < 0.2)))
        acts.sort(key=lambda a: a[0])

    # ---------------------------------------------------------------- allocation
    def all_votes(self) -> list[VoteP]:
        out = [v for pb in self.problems for v in pb.votes()]
        out += [v for p in self.pilots for v in p.votes]
        return out

    def all_rounds(self) -> list[RoundP]:
        return [r for p in self.pilots for r in p.rounds]

    def allocate(self) -> None:
        rng = self.rng
        votes = self.all_votes()
        for v in votes:
            if v.noise == 1.0:
                v.noise = rng.uniform(0.85, 1.15)
        self.stats["ballots"] = self._allocate(
            votes, self.scale.ballots, change_share=0.07,
            bounds=self._vote_bounds, setter=self._set_vote)
        rounds = self.all_rounds()
        self.stats["survey_responses"] = self._allocate(
            rounds, self.scale.survey_responses, change_share=0.05,
            bounds=self._round_bounds, setter=self._set_round)

    @staticmethod
    def _vote_bounds(v: VoteP) -> list[tuple[str, int, int, int, float]]:
        """(group, eligible, minimum, maximum, weight) per group."""
        out = []
        for g, e in v.groups.items():
            if e == 0:
                out.append((g, 0, 0, 0, 0.0))
                continue
            need = math.ceil(v.quorums[g] * e - 1e-9)
            if v.is_open_at_end:
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
    def _round_bounds(r: RoundP) -> list[tuple[str, int, int, int, float]]:
        e = r.size
        if r.t_close is None:
            return [("all", e, 0, int(e * r.frac), r.noise * r.frac)]
        if r.verdict == "insufficient":
            return [("all", e, max(5, r.min_n - 14), r.min_n - 1, r.noise)]
        return [("all", e, min(e, r.min_n + 2), e, r.noise)]

    @staticmethod
    def _set_round(r: RoundP, counts: dict[str, int]) -> None:
        r.count = counts["all"]

    def _allocate(self, units: list[Any], target: int, *, change_share: float, bounds: Any,
                  setter: Any) -> dict[str, Any]:
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
        # Changes spread in proportion to each unit's count.
        sizes = [sum(c for c in (u.counts.values() if isinstance(u, VoteP) else [u.count])) for u, _ in table]
        left = changes
        for (u, _), size in zip(table, sizes, strict=True):
            k = min(size, int(changes * size / first)) if first else 0
            u.changes = k
            left -= k
        i = 0
        order = sorted(range(len(table)), key=lambda j: -sizes[j])
        while left > 0 and order:
            j = order[i % len(order)]
            u = table[j][0]
            if u.changes < sizes[j]:
                u.changes += 1
                left -= 1
            i += 1
            if i > 10 * len(order) + changes:
                break
        return {"target": target, "first": first, "changes": changes - left, "total": first + changes - left,
                "turnout_factor": round(f, 4)}

    # ---------------------------------------------------------------- validation
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
