"""The plan's vocabulary: scales, time units, and the planned objects (no database).

Times are whole microseconds since the Unix epoch (UTC) while planning; the
emitter turns them into the datetimes and stored text the product uses.
"""
from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from typing import Any

from governance.rules.charter import CharterTerms
from governance.vocabulary import ReadinessItem

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

DEFAULT_TERMS = CharterTerms()
WINDOW = DEFAULT_TERMS.evaluation_window_days * DAY
#: Charter version 2 (adopted half-way): steering quorum and feedback response time change.
CHARTER_V2 = {"quorum_steering": 0.4, "feedback_response_working_days": 8}
#: Deadlines proposers choose (days), within the charter's bounds (R16).
VOTE_DAYS = (5, 7, 7, 7, 10, 14)
#: Share of votes in which every eligible voter votes, so that they may close early (R16).
EARLY_CLOSE_SHARE = 0.15

#: Readiness items the team records (the owner's is recorded when the owner joins the team).
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
    # Ten ministries: a national programme (issue 16), generated on PostgreSQL through COPY.
    "nation": Scale("nation", panels=1_000, people=200_000, problems=10_000, pilots=20_000,
                    survey_responses=5_000_000, ballots=10_000_000, panel_size=350, steering=25),
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


def split_counts(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Whole counts per key summing to ``total``; every key at least 1 when total allows."""
    keys = list(shares)
    counts = {k: 1 if total >= len(keys) else 0 for k in keys}
    rest = total - sum(counts.values())
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
    """A planned vote (panel or outcome) and, once emitted, its runtime state.

    R16: the proposer picks ``days`` (the deadline); the vote closes before it
    only when every eligible voter has voted (``early``: a facilitator or
    steering closes it then), otherwise at its deadline, by the scheduled job.
    """

    def __init__(self, kind: str, t_open: int, *, days: int, early: bool, rng: random.Random) -> None:
        self.kind = kind
        self.t_open = t_open
        self.days = days
        self.deadline = t_open + days * DAY
        self.early = early
        # When the closing happens: a person soon after the last ballot, or the job's
        # next minute after the deadline (the vote's closed_at is then the deadline).
        self.t_close: int | None = (t_open + uniform(rng, 0.6 * days * DAY, 0.95 * days * DAY) if early
                                    else self.deadline + uniform(rng, SECOND, 59 * SECOND))
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
        self.amendment_changes: dict[str, Any] | None = None
        self.rt: Any = None         # runtime state (bench.generate.votes)

    @property
    def is_open_at_end(self) -> bool:
        return self.t_close is None

    @property
    def full_turnout(self) -> bool:
        """Every eligible voter votes (needed to close before the deadline)."""
        return self.early and not self.is_open_at_end


class RoundP:
    """A planned survey round: when it opens and closes, its verdict and who may answer."""

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
        self.pool = array("i")      # who may answer (rostered at opening, R7 and R15)
        self.min_n = DEFAULT_TERMS.min_survey_responses
        self.pilot: PilotP | None = None
        self.rt: Any = None

    @property
    def size(self) -> int:
        return len(self.pool)


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

    def votes(self) -> list[VoteP]:
        out = [v for ver in self.versions for v in (*ver.ratify_votes, *ver.lock_votes)]
        if self.amend_vote is not None:
            out.append(self.amend_vote)
        return out

    def last_event(self) -> int:
        times = [self.t_draft] + [v.t_close or v.t_open for v in self.votes()]
        times += [p.t_decision for p in self.pilots if p.t_decision is not None]
        return max(times)


@dataclass
class InviteP:
    """An invitation to a pilot's commissioning team (R15): accepted, declined, or never answered."""

    person: int
    answer: str                 # "accept" | "decline" | "never"
    t_answer: int | None = None


@dataclass
class RosterChangeP:
    """A change to the roster after real use began (R15); removals carry a reason."""

    t: int
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


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
        self.invites: list[InviteP] = []
        self.team_removal: tuple[int, int] | None = None   # (time, person) after real use
        self.metrics: list[tuple[Any, ...]] = []
        self.roster = array("i")          # the roster at registration
        self.roster_changes: list[RosterChangeP] = []
        self.stable_roster = array("i")   # never removed (raise feedback at any time)
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
        self.on_target = True
        self.compliance = False
        self.actions: list[tuple[int, str, tuple[Any, ...]]] = []
        self.rt: Any = None

    @property
    def core_team(self) -> list[int]:
        """Who is on the team from the first day to the last: the registrar and the owner."""
        return sorted({self.registrar, self.owner})

    def team_at(self, t: int) -> list[int]:
        """The team at ``t``: the registrar and everyone who accepted by then (and was not removed)."""
        team = {self.registrar}
        team |= {i.person for i in self.invites if i.answer == "accept" and i.t_answer is not None
                 and i.t_answer <= t}
        if self.team_removal is not None and self.team_removal[0] <= t:
            team.discard(self.team_removal[1])
        return sorted(team)

    def conflicted(self, t: int) -> set[int]:
        """R8/R15: never in the frontline group on this pilot — the team at real use, and now."""
        out = set(self.team_at(t))
        if self.t_real is not None:
            out |= set(self.team_at(self.t_real))
        return out
