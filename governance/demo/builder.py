"""The demo's timeline: timed steps, the clock, and the look-ups every step shares.

``BuilderBase`` holds what the scenario has created so far (people, panels,
problems, pilots, votes by scenario key) and the means to schedule a step on a
working day; the ``*_steps`` modules add one planner per scenario action.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from governance import services as sv
from governance.errors import RuleViolation
from governance.identity.passwords import DEMO_PASSWORD
from governance.storage.db import PROJECT_ROOT, Database, FixedClock, UnitOfWork
from governance.storage.models import (
    CommissioningMetric,
    Criterion,
    Pilot,
    Problem,
    ProblemVersion,
    TeamInvitation,
    Vote,
)

DEFAULT_SCENARIO = PROJECT_ROOT / "data" / "demo_scenario.json"
DAY_STARTS_AT = dtime(8, 0)
MINUTES_PER_ACTION = 2

#: A scenario event as read from the JSON file.
Event = dict[str, Any]


class ScenarioError(ValueError):
    """The scenario file is inconsistent (an author's mistake, not a user's)."""


def load_scenario(path: Path = DEFAULT_SCENARIO) -> dict[str, Any]:
    """The scenario file, parsed."""
    with open(path, encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def _ascii(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.-]", "", plain.lower().replace(" ", "."))


def email_for(name: str, domain: str) -> str:
    """The demo address of a person: ``first.last@domain`` in plain ASCII."""
    return f"{_ascii(name)}@{domain}"


@dataclass(order=True)
class _Step:
    day: int
    seq: int
    sub: int
    label: str = field(compare=False)
    run: Callable[[], Any] = field(compare=False)



class BuilderBase:
    """What the scenario has built so far, and how a step is scheduled and run."""

    def __init__(self, db: Database, clock: FixedClock, scenario: dict[str, Any], start: date,
                 end: datetime) -> None:
        self.db, self.clock, self.sc = db, clock, scenario
        self.start, self.end = start, end
        self.domain = scenario.get("email_domain", "demo.example")
        self.password = DEMO_PASSWORD
        self.people: dict[str, int] = {}
        self.cast: list[dict[str, Any]] = []
        self.staff: dict[str, list[int]] = {}
        self.programmes: dict[str, int] = {}
        self.panels: dict[str, int] = {}
        self.panel_members: dict[str, list[str]] = {}
        self.problems: dict[str, int] = {}
        self.pilots: dict[str, int] = {}
        self.roster: dict[str, list[tuple[int, str | None]]] = {}
        self.usage_weeks: Counter[str] = Counter()
        self.votes: dict[str, int] = {}
        self.rounds: dict[str, int] = {}
        self.plans: dict[str, list[list[tuple[int, str, int]]]] = {}
        self.steps: list[_Step] = []
        self._seq = 0
        self._names: Iterator[str] | None = None
        self._text_counts: Counter[str] = Counter()
        self.admin: int | None = None

    # ----------------------------------------------------------- basics
    @property
    def uow(self) -> UnitOfWork:
        return self.db.uow()

    def act(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One use case, a couple of minutes after the previous one."""
        self.clock.advance(minutes=MINUTES_PER_ACTION)
        return fn(self.uow, *args, **kwargs)

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def moment(self, day: int) -> datetime:
        return datetime.combine(self.date_of(day), DAY_STARTS_AT, tzinfo=UTC)

    def weekday_after(self, day: int, n: int) -> int:
        """The n-th weekday on or after ``day`` (n = 0 is ``day`` itself)."""
        current, left = day, n
        while left > 0:
            current += 1
            if self.date_of(current).weekday() < 5:
                left -= 1
        return current

    def pid(self, key: str) -> int:
        try:
            return self.people[key]
        except KeyError:
            raise ScenarioError(f"unknown person '{key}'") from None

    def add(self, day: int, label: str, run: Callable[[], Any], *, seq: int | None = None,
            sub: int = 0) -> None:
        if not isinstance(day, int) or day < 0:
            raise ScenarioError(f"{label}: day must be a whole number ≥ 0, not {day!r}")
        if self.date_of(day).weekday() >= 5:
            raise ScenarioError(f"{label}: day {day} ({self.date_of(day):%A}) is not a working day")
        if seq is None:
            self._seq += 1
            seq = self._seq
        self.steps.append(_Step(day, seq, sub, label, run))

    @staticmethod
    def _step(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """A step that runs ``fn(*args)`` when its time comes; each step keeps its own arguments."""
        return functools.partial(fn, *args)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------ setup
    def plan_ballots(self, event: Event, vote_key: str, seq: int, panel: str | None) -> None:
        """Ballots (``[person, option, weekdays after opening]``) and the optional close."""
        ballots = event.get("ballots", [])
        if ballots == "all_approve":
            if panel is None:
                raise ScenarioError(f"{vote_key}: 'all_approve' is for panel votes")
            ballots = [[p, "approve"] for p in self.panel_members[panel]]
        day = event["day"]
        close_day = event.get("close_day")
        for i, ballot in enumerate(ballots, start=1):
            who, option = ballot[0], ballot[1]
            when = self.weekday_after(day, ballot[2] if len(ballot) > 2 else 0)
            if close_day is not None and when > close_day:
                raise ScenarioError(f"{vote_key}: {who}'s ballot (day {when}) is after the close")
            self.add(when, f"{vote_key}: ballot {who}", self._ballot(vote_key, who, option), seq=seq, sub=i)
        if close_day is not None:
            closer = str(event.get("close_by", event["by"]))
            statement = str(event.get("statement", "Every eligible voter has voted; the result is as counted, "
                                                   "and the panel will be told of it at its next meeting."))

            def close_it() -> None:
                self.close(self.pid(closer), self.votes[vote_key], statement)
            self.add(close_day, f"{vote_key}: close", close_it, seq=seq, sub=len(ballots) + 1)

    def _ballot(self, vote_key: str, who: str, option: str) -> Callable[[], None]:
        def cast() -> None:
            self.act(sv.cast_ballot, self.pid(who), self.votes[vote_key], option)
        return cast

    def deadline(self, event: Event) -> dict[str, Any]:
        """R16: a vote with a close day has its deadline there (the opening day's start, if that is
        too soon for the charter); otherwise it stays open the given number of days."""
        close_day = event.get("close_day")
        if close_day is None:
            return {"days": event.get("days", 7)}
        earliest = self.clock.now() + timedelta(days=3, minutes=MINUTES_PER_ACTION + 5)
        return {"deadline": max(self.moment(close_day), earliest)}

    def close(self, closer: int, vote_id: int, statement: str) -> Any:
        """Close early when everyone has voted (by the closer, with their outcome ``statement``);
        otherwise the deadline closes it (R16), and the schedule records its own statement."""
        try:
            return self.act(sv.close_vote, closer, vote_id, statement=statement)
        except RuleViolation as exc:
            if exc.rule != "R16":
                raise
        with self.db.uow().reading() as s:
            deadline = s.get_one(Vote, vote_id).deadline
        if self.clock.now() < deadline:
            raise ScenarioError(f"vote #{vote_id} cannot close before its deadline ({deadline:%d %b %H:%M}) "
                                "unless everyone eligible has voted: move its close_day, or add ballots")
        return self.act(sv.close_due_vote, vote_id)

    def pending_invitations(self, pilot_id: int) -> list[tuple[int, int]]:
        with self.db.uow().reading() as s:
            return [(i.id, i.person_id) for i in s.scalars(select(TeamInvitation).where(
                TeamInvitation.pilot_id == pilot_id, TeamInvitation.status == "pending"))]

    # ------------------------------------------------------------ pilots
    # -------------------------------------------------------- look-ups
    def metric_id(self, pilot: int, name: str, *, missing_ok: bool = False) -> int | None:
        with self.db.uow().reading() as s:
            found = s.scalar(select(CommissioningMetric.id).where(
                CommissioningMetric.pilot_id == pilot, CommissioningMetric.name == name))
        if found is None and not missing_ok:
            raise ScenarioError(f"pilot #{pilot} has no metric '{name}'")
        return found

    def criterion_id(self, problem: int, name: str) -> int:
        """The named criterion of the problem's current version."""
        with self.db.uow().reading() as s:
            found = s.scalar(select(Criterion.id).join(
                ProblemVersion, ProblemVersion.id == Criterion.problem_version_id).join(
                Problem, (Problem.id == ProblemVersion.problem_id)
                & (Problem.current_version == ProblemVersion.version)).where(
                Problem.id == problem, Criterion.name == name))
        if found is None:
            raise ScenarioError(f"problem #{problem} has no criterion '{name}'")
        return found

    def pilot_criterion_id(self, pilot: int, name: str) -> int:
        with self.db.uow().reading() as s:
            version = s.get_one(Pilot, pilot).problem_version_id
            found = s.scalar(select(Criterion.id).where(Criterion.problem_version_id == version,
                                                        Criterion.name == name))
        if found is None:
            raise ScenarioError(f"pilot #{pilot} has no metric or criterion '{name}'")
        return found

