"""Building the demo: the whole builder, and the entry points the app and the CLI call."""
from __future__ import annotations

import time
from datetime import UTC, date, datetime, time as dtime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from governance import services as sv
from governance.demo.builder import DEFAULT_SCENARIO, ScenarioError, load_scenario
from governance.demo.pilot_steps import PilotSteps
from governance.demo.problem_steps import ProblemSteps
from governance.demo.setup_steps import SetupSteps
from governance.demo.summary import DemoSummary, people_count, summarise
from governance.errors import RuleViolation
from governance.storage.db import Database, FixedClock, default_database_url
from governance.storage.models import Vote
from governance.vocabulary import VoteStatus


class Builder(SetupSteps, ProblemSteps, PilotSteps):
    """Turns the scenario into timed steps and runs them through the use cases."""

    def run(self) -> None:
        """Plan every step, then run them in time order, moving the clock forward."""
        self.plan_setup()
        for spec in self.sc["problems"]:
            self.plan_problem(spec)
        for spec in self.sc["pilots"]:
            self.plan_pilot(spec)
        self.steps.sort()
        last_allowed = self.end - timedelta(minutes=1)
        for step in self.steps:
            start_of_day = self.moment(step.day)
            if start_of_day >= self.end:
                raise ScenarioError(f"{step.label}: day {step.day} is not before the end ({self.end})")
            if self.clock.now() < start_of_day:
                self.clock.set(start_of_day)
            elif self.clock.now() > start_of_day + timedelta(hours=15):
                raise ScenarioError(f"{step.label}: too many actions on day {step.day}")
            try:
                step.run()
            except ScenarioError:
                raise
            except Exception as exc:
                if step.seq == 1 and isinstance(exc, RuleViolation):
                    raise  # another process initialised the organisation first
                raise ScenarioError(f"{step.label}: {type(exc).__name__}: {exc}") from exc
            if self.clock.now() >= last_allowed:
                raise ScenarioError(f"{step.label}: the timeline ran past the end ({self.end})")
        self.act(sv.mark_demo, self.admin, people=self.cast)
        with self.db.uow().reading() as s:
            early = s.scalar(select(func.count()).select_from(Vote).where(
                Vote.status == VoteStatus.OPEN, Vote.deadline <= self.end))
        if early:
            raise ScenarioError(f"{early} open vote(s) have deadlines before the end of the scenario")


# ------------------------------------------------------------------ public
def scenario_start(end: datetime, weeks: int) -> date:
    """Day 0: a Monday, so that the scenario's last week (week ``weeks``) is the
    last full working week (Monday–Friday) before ``end``'s date."""
    last = end.date() - timedelta(days=1)
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    monday = last - timedelta(days=last.weekday())
    return monday - timedelta(weeks=weeks - (1 if last.weekday() == 4 else 0))


def build_demo(db_url: str | None = None, *, scenario: Path = DEFAULT_SCENARIO,
               end: datetime | None = None) -> DemoSummary:
    """Build the demo organisation in an empty database (migrated first) through the use cases."""
    began = time.perf_counter()
    end = (end or datetime.now(UTC))
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    sc = load_scenario(scenario)
    start = scenario_start(end, int(sc.get("weeks", 20)))
    clock = FixedClock(datetime.combine(start, dtime(7, 0), tzinfo=UTC))
    db = Database(db_url or default_database_url(), clock=clock)
    try:
        db.upgrade()
        if people_count(db):
            raise RuleViolation("The database already holds people; the demo is only built into an empty "
                                "database. Use `python -m governance.demo --rebuild` for a fresh one.")
        Builder(db, clock, sc, start, end).run()
        return summarise(db, end=end, started=start, seconds=time.perf_counter() - began)
    finally:
        db.dispose()


def ensure_demo(db: Database) -> bool:
    """Build the demo if the database has nobody in it (after migrations); True if it built.

    The demo is built through its own connection to ``db.url`` (with the demo's
    clock), so an in-memory SQLite database is refused.
    """
    if db.is_sqlite and make_url(db.url).database in (None, "", ":memory:"):
        raise ValueError("The demo cannot be built into an in-memory SQLite database; use a file.")
    db.upgrade()
    if people_count(db):
        return False
    try:
        build_demo(db.url)
    except RuleViolation:
        return False  # another process initialised it first
    return True


