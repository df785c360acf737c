"""The demo organisation (docs/demo.md): a living organisation on first run.

``build_demo`` replays ``data/demo_scenario.json`` through the use cases
(``governance.services``) only — it never writes a row itself — so the demo's
audit trail is genuine and verifies. A ``FixedClock`` starts twenty weeks
before ``end`` (default: now) and moves forward through the scenario's
timeline, so pilots have had their 30+ days of real use before surveys and
votes, everything happened before ``end``, and the votes left open have
deadlines after it.

    python -m governance.demo                 # build it if the database is empty
    python -m governance.demo --rebuild       # delete the SQLite file and build again
    python -m governance.demo --database-url postgresql+psycopg://…
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from governance import services as sv
from governance.errors import RuleViolation

# The one password every demo person signs in with (set by ``mark_demo`` for the
# cast; the password policy refuses it for any real account).
from governance.identity.passwords import DEMO_PASSWORD  # noqa: E402, I001
from governance.record.log import verify_chain
from governance.services.people import DEMO_ACTION
from governance.storage.db import PROJECT_ROOT, Database, FixedClock, UnitOfWork, default_database_url
from governance.storage.models import (
    Amendment,
    AuditEvent,
    Claim,
    CommissioningMetric,
    Criterion,
    FeedbackItem,
    Panel,
    Person,
    Pilot,
    Problem,
    ProblemVersion,
    TeamInvitation,
    Vote,
)
from governance.vocabulary import PanelRole, SurveyAnswer, VoteStatus

DEFAULT_SCENARIO = PROJECT_ROOT / "data" / "demo_scenario.json"
DAY_STARTS_AT = dtime(8, 0)
MINUTES_PER_ACTION = 2


class ScenarioError(ValueError):
    """The scenario file is inconsistent (an author's mistake, not a user's)."""


# ------------------------------------------------------------------ summary
@dataclass
class DemoSummary:
    database: str
    started: datetime
    ended: datetime
    seconds: float
    people: int
    sign_in_cast: int
    panels: int
    problems: dict[str, int]
    pilots: dict[str, int]
    outcomes: dict[str, int]
    open_votes: int
    overdue_feedback: int
    flagged_claims: int
    amendments_after_real_use: int
    events: int
    chain_ok: bool
    chain_summary: str
    password: str = DEMO_PASSWORD
    built: bool = True
    pilot_table: list[dict[str, Any]] = field(default_factory=list)

    def as_text(self) -> str:
        def counts(d: dict[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

        lines = [
            f"Demo organisation in {self.database}"
            + (f" (built in {self.seconds:.1f} s)" if self.built else " (already present)"),
            f"  timeline:        {self.started:%d %b %Y} → {self.ended:%d %b %Y %H:%M} UTC",
            f"  people:          {self.people} ({self.sign_in_cast} named people to sign in as)",
            f"  panels:          {self.panels}",
            f"  problems:        {counts(self.problems)}",
            f"  pilots:          {counts(self.pilots)}",
            f"  outcomes:        {counts(self.outcomes)}",
            f"  open votes:      {self.open_votes}",
            f"  overdue feedback: {self.overdue_feedback}",
            f"  flagged claims:  {self.flagged_claims}",
            f"  amendments after real use began: {self.amendments_after_real_use}",
            f"  audit events:    {self.events}",
            f"  chain verified:  {'yes' if self.chain_ok else 'NO'} — {self.chain_summary}",
            f"  demo password:   {self.password}  (every demo person)",
        ]
        if self.pilot_table:
            lines.append("  pilots:")
            for p in self.pilot_table:
                state = p["state"] + (f" → {p['outcome']}" if p["outcome"] else "")
                lines.append(f"    - {p['title']}: {state}")
        return "\n".join(lines)


# ---------------------------------------------------------------- scenario
def load_scenario(path: Path = DEFAULT_SCENARIO) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _ascii(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.-]", "", plain.lower().replace(" ", "."))


def email_for(name: str, domain: str) -> str:
    return f"{_ascii(name)}@{domain}"


@dataclass(order=True)
class _Step:
    day: int
    seq: int
    sub: int
    label: str = field(compare=False)
    run: Callable[[], Any] = field(compare=False)


class _Builder:
    """Turns the scenario into timed steps and runs them through the use cases."""

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

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------ setup
    def plan_setup(self) -> None:
        sc = self.sc
        admin = sc["admin"]

        def initialise() -> None:
            self.admin = self.act(sv.initialise_organisation, admin_name=admin["name"],
                                  admin_email=admin.get("email") or email_for(admin["name"], self.domain),
                                  organisation=sc.get("organisation", "Demo organisation"),
                                  country=sc.get("country", ""))
            self.people[admin["key"]] = self.admin
            self.cast.append({"name": admin["name"],
                              "email": admin.get("email") or email_for(admin["name"], self.domain),
                              "roles": ["admin"], "about": admin.get("about", "")})

        self.add(0, "initialise organisation", initialise)
        for spec in sc["people"]:
            self.add(0, f"person {spec['key']}", lambda spec=spec: self._create_cast(spec))
        for group in sc.get("staff", []):
            self.add(0, f"staff {group['key']}", lambda group=group: self._create_staff(group))
        for spec in sc.get("programmes", []):
            def programme(spec: dict[str, Any] = spec) -> None:
                self.programmes[spec["key"]] = self.act(sv.create_programme, self.admin, name=spec["name"],
                                                        description=spec.get("description", ""))
            self.add(0, f"programme {spec['key']}", programme)
        for spec in sc["panels"]:
            self.panel_members[spec["key"]] = [*spec.get("facilitators", []), *spec.get("members", [])]
            self.add(0, f"panel {spec['key']}", lambda spec=spec: self._create_panel(spec))

    def _create_cast(self, spec: dict[str, Any]) -> None:
        email = spec.get("email") or email_for(spec["name"], self.domain)
        self.people[spec["key"]] = self.act(sv.create_person, self.admin, name=spec["name"], email=email,
                                            roles=spec["roles"])
        self.cast.append({"name": spec["name"], "email": email, "roles": sorted(spec["roles"]),
                          "about": spec.get("about", "")})

    def _generated_names(self) -> Iterator[str]:
        names = self.sc["generated_names"]
        first, last = names["first"], names["last"]
        taken = {p["name"].lower() for p in self.sc["people"]} | {self.sc["admin"]["name"].lower()}
        i = 0
        while True:
            name = f"{first[i % len(first)]} {last[(i * 7 + (i // len(first)) * 3) % len(last)]}"
            i += 1
            if name.lower() not in taken:
                taken.add(name.lower())
                yield name

    def _create_staff(self, group: dict[str, Any]) -> None:
        if self._names is None:
            self._names = self._generated_names()
        ids = []
        for _ in range(int(group["generate"])):
            name = next(self._names)
            ids.append(self.act(sv.create_person, self.admin, name=name,
                                email=email_for(name, self.domain), roles=group.get("roles", ["frontline"])))
        self.staff[group["key"]] = ids

    def _create_panel(self, spec: dict[str, Any]) -> None:
        programme = self.programmes.get(spec["programme"]) if spec.get("programme") else None
        panel = self.act(sv.create_panel, self.admin, name=spec["name"], area=spec.get("area", ""),
                         site=spec.get("site", ""), programme_id=programme)
        self.panels[spec["key"]] = panel
        for key in spec.get("facilitators", []):
            self.act(sv.add_panel_member, self.admin, panel, self.pid(key), PanelRole.FACILITATOR)
        for key in spec.get("members", []):
            self.act(sv.add_panel_member, self.admin, panel, self.pid(key))

    # ---------------------------------------------------------- problems
    def plan_problem(self, spec: dict[str, Any]) -> None:
        key = spec["key"]
        for event in spec["events"]:
            seq, day, do = self.next_seq(), event["day"], event["do"]
            label = f"problem {key}: {do} (day {day})"
            if do == "draft":
                def draft(spec: dict[str, Any] = spec) -> None:
                    programme = self.programmes.get(spec.get("programme", ""))
                    self.problems[spec["key"]] = self.act(
                        sv.draft_problem, self.pid(spec["author"]), panel_id=self.panels[spec["panel"]],
                        title=spec["title"], statement=spec["statement"], programme_id=programme)
                self.add(day, label, draft, seq=seq)
            elif do == "criteria":
                def criteria(spec: dict[str, Any] = spec) -> None:
                    for c in spec["criteria"]:
                        fields = {k: v for k, v in c.items() if k != "by"}
                        self.act(sv.add_criterion, self.pid(c.get("by", spec["author"])),
                                 self.problems[spec["key"]], **fields)
                self.add(day, label, criteria, seq=seq)
            elif do == "comment":
                self.add(day, label, lambda e=event, k=key: self.act(
                    sv.comment_on_problem, self.pid(e["by"]), self.problems[k], e["text"]), seq=seq)
            elif do in ("ratify", "lock"):
                propose = sv.propose_ratification if do == "ratify" else sv.propose_criteria_lock
                vote_key = f"{key}:{do}:{seq}"
                self.add(day, label, lambda e=event, k=key, p=propose, v=vote_key: self.votes.__setitem__(
                    v, self.act(p, self.pid(e["by"]), self.problems[k], **self.deadline(e))), seq=seq)
                self.plan_ballots(event, vote_key, seq, spec["panel"])
            elif do == "amend":
                vote_key = f"{key}:amend:{seq}"

                def amend(e: dict[str, Any] = event, k: str = key, v: str = vote_key) -> None:
                    criterion = self.criterion_id(self.problems[k], e["criterion"])
                    self.votes[v] = self.act(sv.propose_amendment, self.pid(e["by"]), criterion,
                                             reason=e["reason"], **self.deadline(e), **e["changes"])
                self.add(day, label, amend, seq=seq)
                self.plan_ballots(event, vote_key, seq, spec["panel"])
            elif do == "revise":
                self.add(day, label, lambda e=event, k=key: self.act(
                    sv.revise_problem, self.pid(e["by"]), self.problems[k], title=e["title"],
                    statement=e["statement"]), seq=seq)
            elif do == "update_criterion":
                def update(e: dict[str, Any] = event, k: str = key) -> None:
                    criterion = self.criterion_id(self.problems[k], e["criterion"])
                    self.act(sv.update_criterion, self.pid(e["by"]), criterion, **e["changes"])
                self.add(day, label, update, seq=seq)
            elif do == "retire":
                self.add(day, label, lambda e=event, k=key: self.act(
                    sv.retire_problem, self.pid(e["by"]), self.problems[k], reason=e["reason"]), seq=seq)
            else:
                raise ScenarioError(f"{label}: unknown action '{do}'")

    def plan_ballots(self, event: dict[str, Any], vote_key: str, seq: int, panel: str | None) -> None:
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
            self.add(when, f"{vote_key}: ballot {who}", lambda w=who, o=option: self.act(
                sv.cast_ballot, self.pid(w), self.votes[vote_key], o), seq=seq, sub=i)
        if close_day is not None:
            closer = event.get("close_by", event["by"])
            self.add(close_day, f"{vote_key}: close", lambda: self.close(self.pid(closer), self.votes[vote_key]),
                     seq=seq, sub=len(ballots) + 1)

    def deadline(self, event: dict[str, Any]) -> dict[str, Any]:
        """R16: a vote with a close day has its deadline there (the opening day's start, if that is
        too soon for the charter); otherwise it stays open the given number of days."""
        close_day = event.get("close_day")
        if close_day is None:
            return {"days": event.get("days", 7)}
        earliest = self.clock.now() + timedelta(days=3, minutes=MINUTES_PER_ACTION + 5)
        return {"deadline": max(self.moment(close_day), earliest)}

    def close(self, closer: int, vote_id: int) -> Any:
        """Close early when everyone has voted (by the closer); otherwise the deadline closes it (R16)."""
        try:
            return self.act(sv.close_vote, closer, vote_id)
        except RuleViolation as exc:
            if exc.rule != "R16":
                raise
        with self.db.uow().reading() as s:
            deadline = s.get(Vote, vote_id).deadline
        if self.clock.now() < deadline:
            raise ScenarioError(f"vote #{vote_id} cannot close before its deadline ({deadline:%d %b %H:%M}) "
                                "unless everyone eligible has voted: move its close_day, or add ballots")
        return self.act(sv.close_due_vote, vote_id)

    def pending_invitations(self, pilot_id: int) -> list[tuple[int, int]]:
        with self.db.uow().reading() as s:
            return [(i.id, i.person_id) for i in s.scalars(select(TeamInvitation).where(
                TeamInvitation.pilot_id == pilot_id, TeamInvitation.status == "pending"))]

    # ------------------------------------------------------------ pilots
    def plan_pilot(self, spec: dict[str, Any]) -> None:
        key = spec["key"]
        team_lead = spec["registered_by"]
        for event in spec["events"]:
            seq, day, do = self.next_seq(), event["day"], event["do"]
            label = f"pilot {key}: {do} (day {day})"
            by = event.get("by", team_lead)
            if do == "register":
                def register(spec: dict[str, Any] = spec) -> None:
                    self.pilots[spec["key"]] = self.act(
                        sv.register_pilot, self.pid(spec["registered_by"]),
                        problem_id=self.problems[spec["problem"]], title=spec["title"],
                        description=spec["description"], owner_id=self.pid(spec["owner"]),
                        team_ids=[self.pid(k) for k in spec.get("team", [])], metrics=spec["metrics"])
                    self.roster[spec["key"]] = []
                    # Each invited person (the owner too) joins by accepting, as R15 requires.
                    for invitation, person_id in self.pending_invitations(self.pilots[spec["key"]]):
                        self.act(sv.accept_team_invitation, person_id, invitation)
                self.add(day, label, register, seq=seq)
            elif do == "roster":
                self.add(day, label, lambda e=event, k=key, b=by: self._roster(k, b, e), seq=seq)
            elif do == "readiness":
                def readiness(e: dict[str, Any] = event, k: str = key, b: str = by) -> None:
                    for item, detail in e["items"].items():
                        on = detail.get("on_day")
                        self.act(sv.record_readiness, self.pid(b), self.pilots[k], item,
                                 detail=detail["detail"], on_date=None if on is None else self.date_of(on))
                self.add(day, label, readiness, seq=seq)
            elif do == "waive":
                self.add(day, label, lambda e=event, k=key: self.act(
                    sv.waive_readiness, self.pid(e["by"]), self.pilots[k], reason=e["reason"]), seq=seq)
            elif do == "start":
                self.add(day, label, lambda k=key, b=by: self.act(
                    sv.start_real_use, self.pid(b), self.pilots[k]), seq=seq)
            elif do == "measure":
                self.add(day, label, lambda e=event, k=key, b=by: self._measure(k, b, e), seq=seq)
            elif do == "usage":
                self.add(day, label, lambda e=event, k=key, b=by: self._usage(k, b, e), seq=seq)
            elif do == "amend_metric":
                def amend_metric(e: dict[str, Any] = event, k: str = key, b: str = by) -> None:
                    metric = self.metric_id(self.pilots[k], e["metric"])
                    self.act(sv.amend_metric, self.pid(b), metric, reason=e["reason"], **e["changes"])
                self.add(day, label, amend_metric, seq=seq)
            elif do == "feedback":
                self._plan_feedback(key, event, seq, label)
            elif do == "survey":
                self._plan_survey(key, event, seq, label, by)
            elif do == "outcome_vote":
                vote_key = f"{key}:outcome:{seq}"
                self.add(day, label, lambda e=event, k=key, v=vote_key: self.votes.__setitem__(
                    v, self.act(sv.open_outcome_vote, self.pid(e["by"]), self.pilots[k], **self.deadline(e))),
                    seq=seq)
                self.plan_ballots(event, vote_key, seq, None)
            elif do == "claim":
                self.add(day, label, lambda e=event, k=key: self.act(
                    sv.record_claim, self.pid(e["by"]), self.pilots[k], statement=e["statement"],
                    cited_metrics=e["cites"], asserts_success=e.get("asserts_success", True)), seq=seq)
            else:
                raise ScenarioError(f"{label}: unknown action '{do}'")

    def _roster(self, key: str, by: str, event: dict[str, Any]) -> None:
        entries: list[tuple[int, str | None]] = [(self.pid(k), k) for k in event.get("people", [])]
        for part in event.get("staff", []):
            group = self.staff[part["group"]]
            entries += [(pid, None) for pid in group[part.get("from", 0):part.get("to", len(group))]]
        self.act(sv.add_to_roster, self.pid(by), self.pilots[key], [pid for pid, _ in entries])
        self.roster[key] += entries

    def _measure(self, key: str, by: str, event: dict[str, Any]) -> None:
        pilot = self.pilots[key]
        rows = event["rows"]
        if event.get("file"):
            body = "measure,observed_on,value\n" + "".join(
                f"{name},{self.date_of(day).isoformat()},{value}\n" for name, day, value in rows)
            self.act(sv.import_measurements, self.pid(by), pilot, filename=event["file"],
                     content=body.encode("utf-8"))
            return
        for name, day, value in rows:
            metric = self.metric_id(pilot, name, missing_ok=True)
            target = ({"metric_id": metric} if metric
                      else {"criterion_id": self.pilot_criterion_id(pilot, name)})
            self.act(sv.record_measurement, self.pid(by), pilot, value=value,
                     observed_on=self.date_of(day), **target)

    def _usage(self, key: str, by: str, event: dict[str, Any]) -> None:
        pilot = self.pilots[key]
        with self.db.uow().reading() as s:
            started = s.get(Pilot, pilot).real_use_started_at
        first_week = started.date() - timedelta(days=started.weekday())
        eligible = event.get("eligible", len(self.roster[key]))
        offset = self.usage_weeks[key]
        lines = ["week_start,active_users,eligible_users"]
        for i, active in enumerate(event["active"]):
            week = first_week + timedelta(weeks=offset + i)
            lines.append(f"{week.isoformat()},{active},{eligible}")
        self.act(sv.import_usage, self.pid(by), pilot, filename=event["file"],
                 content=("\n".join(lines) + "\n").encode("utf-8"))
        self.usage_weeks[key] += len(event["active"])

    def _plan_feedback(self, key: str, event: dict[str, Any], seq: int, label: str) -> None:
        item_key = f"{key}:feedback:{seq}"
        items: dict[str, int] = {}

        def raise_item() -> None:
            items[item_key] = self.act(sv.raise_feedback, self.pid(event["by"]), self.pilots[key],
                                       kind=event["kind"], body=event["text"])
        self.add(event["day"], label, raise_item, seq=seq)
        response = event.get("response")
        if response:
            if response["day"] <= event["day"]:
                raise ScenarioError(f"{label}: the response must come on a later day")
            self.add(response["day"], f"{label}: response", lambda: self.act(
                sv.respond_to_feedback, self.pid(response["by"]), items[item_key],
                response=response["text"]), seq=seq, sub=1)

    # ----------------------------------------------------------- surveys
    def _plan_survey(self, key: str, event: dict[str, Any], seq: int, label: str, by: str) -> None:
        over = int(event.get("over_days", 1))
        days = [self.weekday_after(event["day"], i) for i in range(over)]
        close_day = event.get("close_day")
        if close_day is not None and close_day <= days[-1]:
            raise ScenarioError(f"{label}: the round must close after the last response day")

        survey = f"{key}:survey:{seq}"

        def open_round() -> None:
            self.rounds[survey] = self.act(sv.open_survey_round, self.pid(by), self.pilots[key])
            self.plans[survey] = self._survey_plan(key, event, over)
        self.add(days[0], f"{label}: open", open_round, seq=seq, sub=0)
        for i, day in enumerate(days):
            self.add(day, f"{label}: responses {i + 1}/{over}",
                     lambda i=i: self._responses(survey, event, self.plans[survey][i]), seq=seq, sub=1 + i)
        if close_day is not None:
            self.add(close_day, f"{label}: close", lambda: self.act(
                sv.close_survey_round, self.pid(event.get("close_by", by)), self.rounds[survey]),
                seq=seq, sub=over + 1)

    def _survey_plan(self, key: str, event: dict[str, Any], over: int
                     ) -> list[list[tuple[int, str, int]]]:
        """Who answers what on which day: [(person, answer, index)] per day; revisions last."""
        answers: dict[str, int] = dict(event["answers"])
        for a in answers:
            SurveyAnswer(a)
        named: dict[str, str] = event.get("named", {})
        rng = random.Random(f"demo-survey-{key}")
        roster = self.roster[key]
        named_ids = {self.pid(k): a for k, a in named.items()}
        rostered = {pid for pid, _ in roster}
        for k, pid in zip(named, named_ids, strict=True):
            if pid not in rostered:
                raise ScenarioError(f"survey {key}: {k} is not on the roster")
        staff = [pid for pid, k in roster if k is None]
        others = [pid for pid, k in roster if k is not None and pid not in named_ids]
        rng.shuffle(staff)
        rng.shuffle(others)
        total = sum(answers.values())
        if total > len(roster):
            raise ScenarioError(f"survey {key}: {total} answers but only {len(roster)} on the roster")
        remaining = Counter(answers)
        remaining.subtract(Counter(named_ids.values()))
        if any(v < 0 for v in remaining.values()):
            raise ScenarioError(f"survey {key}: named answers exceed the answer counts")
        pool = [a for a, n in remaining.items() for _ in range(n)]
        rng.shuffle(pool)
        respondents = list(named_ids.items()) + list(zip((staff + others)[:len(pool)], pool, strict=True))
        rng.shuffle(respondents)
        ordered = [(pid, answer, i) for i, (pid, answer) in enumerate(respondents)]
        per_day = -(-len(ordered) // over)
        plan = [ordered[i * per_day:(i + 1) * per_day] for i in range(over)]
        # Revisions: someone first answers "from", then changes to their final "to".
        for rev in event.get("revisions", []):
            changers = [r for r in ordered if r[1] == rev["to"] and r[0] not in named_ids][:rev["count"]]
            changer_ids = {r[0] for r in changers}
            for day_plan in plan:
                for j, (pid, answer, i) in enumerate(day_plan):
                    if pid in changer_ids:
                        day_plan[j] = (pid, rev["from"], i)
            plan[-1].extend(changers)
        return plan

    def _responses(self, survey: str, spec: dict[str, Any], todays: list[tuple[int, str, int]]) -> None:
        defaults = self.sc.get("survey_defaults", {})
        sus_templates = spec.get("sus", defaults.get("sus", {}))
        every, skip = defaults.get("sus_every", 4), defaults.get("sus_skip", 3)
        texts = spec.get("texts", {})
        seen = self._text_counts
        for pid, answer, i in todays:
            templates = sus_templates.get(answer)
            sus = templates[i % len(templates)] if templates and i % every != skip else None
            pair = ("", "")
            options = texts.get(answer, [])
            n = seen[f"{survey}:{answer}"]
            if options and n < 2 * len(options):
                pair = tuple(options[n % len(options)])
            seen[f"{survey}:{answer}"] += 1
            self.act(sv.submit_survey_response, pid, self.rounds[survey], answer=answer, sus=sus,
                     use_instead=pair[0], main_benefit=pair[1])

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
            version = s.get(Pilot, pilot).problem_version_id
            found = s.scalar(select(Criterion.id).where(Criterion.problem_version_id == version,
                                                        Criterion.name == name))
        if found is None:
            raise ScenarioError(f"pilot #{pilot} has no metric or criterion '{name}'")
        return found

    # -------------------------------------------------------------- run
    def run(self) -> None:
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
        if _people_count(db):
            raise RuleViolation("The database already holds people; the demo is only built into an empty "
                                "database. Use `python -m governance.demo --rebuild` for a fresh one.")
        _Builder(db, clock, sc, start, end).run()
        return summarise(db, end=end, started=start, seconds=time.perf_counter() - began)
    finally:
        db.dispose()


def _people_count(db: Database) -> int:
    with db.uow().reading() as s:
        return int(s.scalar(select(func.count()).select_from(Person)) or 0)


def demo_people(uow: UnitOfWork) -> list[dict[str, Any]] | None:
    """The demo's sign-in cast (name, email, roles, about), or None if this is not the demo."""
    with uow.reading() as s:
        payload = s.scalar(select(AuditEvent.payload).where(AuditEvent.action == DEMO_ACTION)
                           .order_by(AuditEvent.seq.desc()).limit(1))
    if payload is None:
        return None
    return list(json.loads(payload)["after"]["people"])


def ensure_demo(db: Database) -> bool:
    """Build the demo if the database has nobody in it (after migrations); True if it built.

    The demo is built through its own connection to ``db.url`` (with the demo's
    clock), so an in-memory SQLite database is refused.
    """
    if db.is_sqlite and make_url(db.url).database in (None, "", ":memory:"):
        raise ValueError("The demo cannot be built into an in-memory SQLite database; use a file.")
    db.upgrade()
    if _people_count(db):
        return False
    try:
        build_demo(db.url)
    except RuleViolation:
        return False  # another process initialised it first
    return True


def summarise(db: Database, *, end: datetime | None = None, started: date | None = None,
              seconds: float = 0.0, built: bool = True) -> DemoSummary:
    """Counts of what the database holds, and whether its audit chain verifies."""
    with db.uow().reading() as s:
        end = end or datetime.now(UTC)

        def grouped(column: Any, *where: Any) -> dict[str, int]:
            q = select(column, func.count()).group_by(column).order_by(column)
            for w in where:
                q = q.where(w)
            return {str(k): int(v) for k, v in s.execute(q)}

        people = int(s.scalar(select(func.count()).select_from(Person)))
        first = s.scalar(select(func.min(AuditEvent.occurred_at)))
        last = s.scalar(select(func.max(AuditEvent.occurred_at)))
        flagged = sum(1 for checks in s.scalars(select(Claim.checks_json))
                      if json.loads(checks).get("flags"))
        overdue = int(s.scalar(select(func.count()).select_from(FeedbackItem).where(
            FeedbackItem.responded_at.is_(None), FeedbackItem.due_on < end.date())))
        chain = verify_chain(s)
        pilots = [{"title": t, "state": st, "outcome": o} for t, st, o in s.execute(
            select(Pilot.title, Pilot.state, Pilot.outcome).order_by(Pilot.id))]
        cast = demo_people(db.uow()) or []
        summary = DemoSummary(
            database=make_url(db.url).render_as_string(hide_password=True),
            started=datetime.combine(started, dtime(0), tzinfo=UTC) if started else (first or end),
            ended=last or end, seconds=seconds, people=people, sign_in_cast=len(cast),
            panels=int(s.scalar(select(func.count()).select_from(Panel))),
            problems=grouped(Problem.state), pilots=grouped(Pilot.state),
            outcomes=grouped(Pilot.outcome, Pilot.outcome.is_not(None)),
            open_votes=int(s.scalar(select(func.count()).select_from(Vote).where(
                Vote.status == VoteStatus.OPEN))),
            overdue_feedback=overdue, flagged_claims=flagged,
            amendments_after_real_use=int(s.scalar(select(func.count()).select_from(Amendment).where(
                Amendment.after_real_use.is_(True)))),
            events=chain.events_checked if chain.ok else int(
                s.scalar(select(func.count()).select_from(AuditEvent))),
            chain_ok=chain.ok, chain_summary=chain.summary, built=built, pilot_table=pilots)
    return summary


# --------------------------------------------------------------------- CLI
def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise SystemExit("An in-memory SQLite database cannot hold the demo between runs; "
                         "give a file URL such as sqlite:///data/demo.db.")
    return Path(parsed.database)


def _has_tables(db: Database) -> bool:
    return "person" in inspect(db.engine).get_table_names()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m governance.demo",
        description="Build the demo organisation (only into an empty database).")
    parser.add_argument("--rebuild", action="store_true",
                        help="SQLite: delete the database file (and its -wal/-shm) and build again. "
                             "Other databases: refused unless the database is empty.")
    parser.add_argument("--database-url", default=None,
                        help="database URL (default: DATABASE_URL, else data/demo.db)")
    args = parser.parse_args(argv)
    url = args.database_url or default_database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    path = _sqlite_file(url)
    if args.rebuild:
        if path is not None:
            for victim in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if victim.exists():
                    victim.unlink()
                    print(f"Deleted {victim}")
        else:
            probe = Database(url)
            try:
                occupied = _has_tables(probe) and _people_count(probe)
            finally:
                probe.dispose()
            if occupied:
                print(f"Refusing to rebuild {shown}: it already holds {occupied} people and this command "
                      "only deletes SQLite files. Drop and recreate the database yourself, then run "
                      "this command again.", file=sys.stderr)
                return 2
    probe = Database(url)
    try:
        probe.upgrade()
        existing = _people_count(probe)
        if existing:
            summary = summarise(probe, built=False)
            print(summary.as_text())
            print(f"\nThe database already holds {existing} people; nothing was built. Use --rebuild "
                  "to start again from the scenario.")
            return 0
    finally:
        probe.dispose()
    summary = build_demo(url)
    print(summary.as_text())
    if path is not None:
        print("\nIf the app is running, restart it so that it opens the new file.")
    return 0 if summary.chain_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
