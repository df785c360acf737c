"""What a demo database holds: the summary printed after a build (and by the CLI)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as dtime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from governance.identity.passwords import DEMO_PASSWORD
from governance.record.log import verify_chain
from governance.services.people import DEMO_ACTION
from governance.storage.db import Database, UnitOfWork
from governance.storage.models import (
    Amendment,
    AuditEvent,
    Claim,
    FeedbackItem,
    Panel,
    Person,
    Pilot,
    Problem,
    Vote,
)
from governance.vocabulary import VoteStatus


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



def _count(s: Session, query: Any) -> int:
    return int(s.scalar(query) or 0)


def people_count(db: Database) -> int:
    """How many people the database holds (the demo is only built where there are none)."""
    with db.uow().reading() as s:
        return _count(s, select(func.count()).select_from(Person))



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

        people = _count(s, select(func.count()).select_from(Person))
        first = s.scalar(select(func.min(AuditEvent.occurred_at)))
        last = s.scalar(select(func.max(AuditEvent.occurred_at)))
        flagged = sum(1 for checks in s.scalars(select(Claim.checks_json))
                      if json.loads(checks).get("flags"))
        overdue = _count(s, (select(func.count()).select_from(FeedbackItem).where(
            FeedbackItem.responded_at.is_(None), FeedbackItem.due_on < end.date())))
        chain = verify_chain(s)
        pilots = [{"title": t, "state": st, "outcome": o} for t, st, o in s.execute(
            select(Pilot.title, Pilot.state, Pilot.outcome).order_by(Pilot.id))]
        cast = demo_people(db.uow()) or []
        summary = DemoSummary(
            database=make_url(db.url).render_as_string(hide_password=True),
            started=datetime.combine(started, dtime(0), tzinfo=UTC) if started else (first or end),
            ended=last or end, seconds=seconds, people=people, sign_in_cast=len(cast),
            panels=_count(s, select(func.count()).select_from(Panel)),
            problems=grouped(Problem.state), pilots=grouped(Pilot.state),
            outcomes=grouped(Pilot.outcome, Pilot.outcome.is_not(None)),
            open_votes=_count(s, (select(func.count()).select_from(Vote).where(
                Vote.status == VoteStatus.OPEN))),
            overdue_feedback=overdue, flagged_claims=flagged,
            amendments_after_real_use=_count(s, (select(func.count()).select_from(Amendment).where(
                Amendment.after_real_use.is_(True)))),
            events=chain.events_checked if chain.ok else _count(
                s, select(func.count()).select_from(AuditEvent)),
            chain_ok=chain.ok, chain_summary=chain.summary, built=built, pilot_table=pilots)
    return summary


def demo_people(uow: UnitOfWork) -> list[dict[str, Any]] | None:
    """The demo's sign-in cast (name, email, roles, about), or None if this is not the demo."""
    with uow.reading() as s:
        payload = s.scalar(select(AuditEvent.payload).where(AuditEvent.action == DEMO_ACTION)
                           .order_by(AuditEvent.seq.desc()).limit(1))
    if payload is None:
        return None
    return list(json.loads(payload)["after"]["people"])
