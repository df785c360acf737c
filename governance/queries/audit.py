"""Read models of the Audit page: the event log (filtered, paginated,
exportable), chain verification, declarations, claims and amendments."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC as _UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from governance.identity.actors import require
from governance.queries._base import MAX_PER_PAGE, Page, like, paginate, reader
from governance.record import chain, live, log
from governance.rules.claims import live_flags
from governance.rules.permissions import Action
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Amendment,
    AuditEvent,
    Claim,
    CommissioningMetric,
    Criterion,
    Decision,
    Person,
    Pilot,
    ProblemVersion,
)

EXPORT_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of the audit record as the event log shows it (payload as stored text)."""

    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor: str
    action: str
    entity_type: str
    entity_id: str
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Facets:
    """The distinct values the event-log filters offer."""

    actions: list[str]
    entity_types: list[str]


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """A claim with the checks stored when it was made and a live check against the decision now.

    ``checks`` is the stored checks document (a frozen record, kept as it was written)."""

    id: int
    pilot_id: int
    pilot: str | None
    made_by: str | None
    made_at: datetime
    statement: str
    asserts_success: bool
    cited: list[str]
    checks: dict[str, Any]
    flags_at_claim: list[str]
    flags_now: list[str]
    decision_outcome_now: str | None


@dataclass(frozen=True, slots=True)
class AmendmentRow:
    """An amendment of a frontline criterion or a commissioning metric (``before``/``after``: the
    changed terms, as stored)."""

    id: int
    subject: str
    kind: str
    status: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    applied_at: datetime | None
    before: dict[str, Any]
    after: dict[str, Any]
    after_real_use: bool


def _event_query(*, who: int | None = None, who_name: str | None = None, action: str | None = None,
                 entity_type: str | None = None, entity_id: str | None = None, date_from: date | None = None,
                 date_to: date | None = None) -> Select[Any]:
    q = select(AuditEvent)
    if who is not None:
        q = q.where(AuditEvent.actor_id == who)
    if who_name and who_name.strip():
        q = q.where(AuditEvent.actor_id.in_(select(Person.id).where(
            func.lower(Person.name).like(like(who_name), escape="\\"))))
    if action:
        q = q.where(AuditEvent.action == action)
    if entity_type:
        q = q.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        q = q.where(AuditEvent.entity_id == str(entity_id).strip())
    if date_from:
        q = q.where(AuditEvent.occurred_at >= datetime.combine(date_from, time.min).replace(tzinfo=_UTC))
    if date_to:
        q = q.where(AuditEvent.occurred_at < datetime.combine(date_to + timedelta(days=1), time.min)
                    .replace(tzinfo=_UTC))
    return q


def _event_row(e: AuditEvent) -> EventRow:
    return EventRow(seq=e.seq, occurred_at=e.occurred_at, actor_id=e.actor_id, actor=e.actor_name,
                    action=e.action, entity_type=e.entity_type, entity_id=e.entity_id, payload=e.payload,
                    prev_hash=e.prev_hash, hash=e.hash)


def events_page(uow: UnitOfWork, actor_id: int, *, page: int = 1, per_page: int = 50,
                **filters: Any) -> Page[EventRow]:
    """The audit record filtered by who / what / entity / date, newest first."""
    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
        if all(value is None or value == "" for value in filters.values()):
            return _recent_events(s, page, per_page)
        rows, total, page = paginate(s, _event_query(**filters).order_by(AuditEvent.seq.desc()), page,
                                     per_page)
        return Page([_event_row(r[0]) for r in rows], total, page, per_page)


def _recent_events(s: Session, page: int, per_page: int) -> Page[EventRow]:
    """The unfiltered record, newest first, a page as a range of sequence numbers: the events
    are numbered 1 to the head without gaps (R11; a verification says so when they are not), so
    the total is the head's number and no query counts millions of rows or skips past them with
    OFFSET — the page costs the same at the first event and the ten-millionth."""
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    total = log.chain_head(s)[0]
    page = min(max(1, int(page)), max(1, math.ceil(total / per_page)))
    top = total - (page - 1) * per_page
    rows = s.scalars(select(AuditEvent).where(AuditEvent.seq <= top).order_by(AuditEvent.seq.desc())
                     .limit(per_page))
    return Page([_event_row(e) for e in rows], total, page, per_page)


def export_events(uow: UnitOfWork, actor_id: int, **filters: Any) -> list[str]:
    """Events matching the filters in chain order, as exported: one JSON Lines line each
    (payload as an object), exactly what ``python -m governance.audit verify`` reads."""
    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
        events = s.scalars(_event_query(**filters).order_by(AuditEvent.seq).limit(EXPORT_LIMIT))
        return [chain.export_line(chain.EventRecord(
            e.seq, chain.format_time(e.occurred_at), e.actor_id, e.actor_name, e.action, e.entity_type,
            e.entity_id, e.payload, e.prev_hash, e.hash)) for e in events]


def distinct_values(session: Session, column: InstrumentedAttribute[str]) -> list[str]:
    """The distinct values of an indexed text column by walking its index (a "loose
    index scan"): one short lookup per value instead of reading every row — all of them in one
    recursive query, so a hundred values cost one round trip to the database, not a hundred."""
    walk = select(func.min(column).label("value")).cte("walk", recursive=True)
    step = select(select(func.min(column)).where(column > walk.c.value).scalar_subquery()) \
        .where(walk.c.value.is_not(None))
    walk = walk.union_all(step)
    return list(session.scalars(select(walk.c.value).where(walk.c.value.is_not(None)).order_by(walk.c.value)))


def facets(uow: UnitOfWork, actor_id: int) -> Facets:
    """Distinct actions and entity types, for the filters."""
    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
        return Facets(actions=distinct_values(s, AuditEvent.action),
                      entity_types=distinct_values(s, AuditEvent.entity_type))


def verify(uow: UnitOfWork, actor_id: int, *, incremental: bool = False) -> live.LiveVerification:
    """Verify the record now (R11, R18): the chain against every signed checkpoint, the events'
    MACs, the decisions, and every frozen row against its hash. ``incremental``: the chain and
    its MACs only from the newest checkpoint that verifies, so that its cost is the events since
    (at ``nation`` recomputing every frozen row alone takes about a minute); the frozen rows are
    the full verification's, and the scheduled job's on every run."""
    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
        return live.verify_live(s, uow.keys, incremental=incremental, integrity=not incremental)


def checkpoints(uow: UnitOfWork, actor_id: int, *, limit: int = 10) -> list[live.CheckpointRow]:
    """The newest signed checkpoints of the chain's head, with who witnessed them (R18)."""
    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
        return live.latest_checkpoints(s, limit)


def public_key_pem(uow: UnitOfWork, actor_id: int) -> str:
    """The public key that signs the checkpoints (PEM), for auditors to keep elsewhere."""
    from governance.identity.keys import public_key_pem as pem

    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
    return pem(uow.keys.public_key()).decode("ascii")


def auditor_pack(uow: UnitOfWork, actor_id: int) -> bytes:
    """The auditor pack (zip): chain, checkpoints, public key, decisions, and how to verify them."""
    with uow.reading() as s:
        require(s, actor_id, Action.READ_AUDIT_RECORD)
        return live.make_pack(s, uow.keys, uow.now())


def chain_head(uow: UnitOfWork) -> tuple[int, str]:
    """The current head (seq, hash): a cheap "data version" for caches."""
    with uow.reading() as s:
        return log.chain_head(s)


# ------------------------------------------------------------------ claims
def claim_rows(s: Session, query: Select[Any]) -> list[ClaimRow]:
    """Claims with their stored checks and a live check against the pilot's decision now."""
    claims = s.scalars(query).all()
    if not claims:
        return []
    names = dict(s.execute(select(Person.id, Person.name).where(
        Person.id.in_({c.made_by for c in claims}))).all())
    titles = dict(s.execute(select(Pilot.id, Pilot.title).where(
        Pilot.id.in_({c.pilot_id for c in claims}))).all())
    latest: dict[int, Decision] = {}
    for d in s.scalars(select(Decision).where(Decision.pilot_id.in_({c.pilot_id for c in claims}))
                       .order_by(Decision.id)):
        latest[d.pilot_id] = d
    out = []
    for c in claims:
        checks = json.loads(c.checks_json)
        decision = latest.get(c.pilot_id)
        flags_now, now = live_flags(checks, decision.id if decision else None,
                                    decision.outcome if decision else None, c.asserts_success)
        out.append(ClaimRow(id=c.id, pilot_id=c.pilot_id, pilot=titles.get(c.pilot_id),
                            made_by=names.get(c.made_by), made_at=c.made_at, statement=c.statement,
                            asserts_success=c.asserts_success, cited=json.loads(c.citations_json),
                            checks=checks, flags_at_claim=checks["flags"], flags_now=flags_now,
                            decision_outcome_now=now["decision_outcome"]))
    return out


NEWEST_CLAIMS_FIRST = (Claim.made_at.desc(), Claim.id.desc())


def claims_page(uow: UnitOfWork, actor_id: int, *, flagged_only: bool = False, page: int = 1,
                per_page: int = 20) -> Page[ClaimRow]:
    """Claims, newest first; ``flagged_only``: those with at least one flag."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = select(Claim.id)
        if flagged_only:
            # Checks are canonical JSON: no flags is exactly '"flags":[]'. A claim made
            # before its decision always carries that flag, so a later contradiction
            # cannot turn an unflagged claim into a flagged one.
            q = q.where(Claim.checks_json.not_like('%"flags":[]%'))
        rows, total, page = paginate(s, q.order_by(*NEWEST_CLAIMS_FIRST), page, per_page)
        shown = claim_rows(s, select(Claim).where(Claim.id.in_([r.id for r in rows]))
                           .order_by(*NEWEST_CLAIMS_FIRST))
        return Page(shown, total, page, per_page)


def amendments(uow: UnitOfWork, actor_id: int, *, after_real_use_only: bool = False) -> list[AmendmentRow]:
    """Applied and pending amendments of criteria and metrics — outcome-switching flags first."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = (select(Amendment, Person.name.label("by"), Criterion.name.label("criterion"),
                    CommissioningMetric.name.label("metric"), ProblemVersion.title.label("problem"),
                    Pilot.title.label("pilot"))
             .join(Person, Person.id == Amendment.proposed_by)
             .outerjoin(Criterion, Criterion.id == Amendment.criterion_id)
             .outerjoin(ProblemVersion, ProblemVersion.id == Criterion.problem_version_id)
             .outerjoin(CommissioningMetric, CommissioningMetric.id == Amendment.metric_id)
             .outerjoin(Pilot, Pilot.id == CommissioningMetric.pilot_id))
        if after_real_use_only:
            q = q.where(Amendment.after_real_use.is_(True))
        rows = s.execute(q.order_by(Amendment.after_real_use.desc(), Amendment.id.desc())).all()
        return [AmendmentRow(id=a.id, subject=f"criterion '{crit}' of {problem}" if crit else
                             f"metric '{metric}' of {pilot}",
                             kind="frontline criterion" if crit else "commissioning metric",
                             status=a.status, reason=a.reason, proposed_by=by, proposed_at=a.proposed_at,
                             applied_at=a.decided_at, before=json.loads(a.before_json),
                             after=json.loads(a.after_json), after_real_use=a.after_real_use)
                for a, by, crit, metric, problem, pilot in rows]
