"""Read model of the Paper page: the rounds and panel votes I may print paper for, their batches,
what each batch holds so far, who may enter or attest it, and attested batches' certificates."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, false, func, or_, select, true
from sqlalchemy.orm import Session

from governance.queries._base import reader
from governance.rules import paper as rules
from governance.rules.permissions import Action, allowed
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    PanelMembership,
    PaperBatch,
    PaperCertificate,
    PaperSheet,
    Person,
    Pilot,
    Problem,
    SurveyRound,
    Vote,
)
from governance.vocabulary import PanelRole, Role, VoteKind, VoteStatus, label


@dataclass(frozen=True, slots=True)
class BatchView:
    """One printed batch: its counts so far, and what the reader may do with it."""

    id: int
    printed_at: datetime
    printed_by: str
    issued: int
    entered: int
    spoiled: int
    secret: bool
    attested_at: datetime | None
    attested_by: str | None
    may_enter: bool
    #: Why the reader may not attest it (None: they may), e.g. they entered some of its sheets.
    attest_refusal: str | None
    certificate: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PaperAct:
    """An open survey round or panel vote with its paper batches."""

    kind: str  # "survey_round" or "vote"
    id: int
    title: str
    survey: bool
    may_print: bool
    batches: list[BatchView]


def _names(s: Session, ids: set[int]) -> dict[int, str]:
    return dict(s.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()) if ids else {}


def _batches(s: Session, actor_id: int, roles: frozenset[Role], facilitator: bool,
             where: Any) -> list[BatchView]:
    entered = func.sum(case((PaperSheet.state == "entered", 1), else_=0))
    spoiled = func.sum(case((PaperSheet.state == "spoiled", 1), else_=0))
    rows = s.execute(select(PaperBatch, entered, spoiled).outerjoin(PaperSheet, PaperSheet.batch_id == PaperBatch.id)
                     .where(where).group_by(PaperBatch.id).order_by(PaperBatch.id.desc())).all()
    enterers: dict[int, set[int]] = {}
    for batch_id, person_id in s.execute(select(PaperSheet.batch_id, PaperSheet.entered_by).distinct().where(
            PaperSheet.batch_id.in_([b.id for b, _, _ in rows]), PaperSheet.entered_by.is_not(None))):
        if person_id is not None:
            enterers.setdefault(batch_id, set()).add(person_id)
    names = _names(s, {b.printed_by for b, _, _ in rows} | {b.attested_by for b, _, _ in rows if b.attested_by})
    views = []
    for batch, n_entered, n_spoiled in rows:
        cert = s.get(PaperCertificate, batch.id) if batch.attested_at else None
        why = rules.attest_refusal(actor_id=actor_id, roles=roles,
                                   panel_role=PanelRole.FACILITATOR if facilitator else None,
                                   entered_by=enterers.get(batch.id, set()))
        views.append(BatchView(
            id=batch.id, printed_at=batch.printed_at, printed_by=names.get(batch.printed_by, "?"),
            issued=batch.sheets_issued, entered=int(n_entered or 0), spoiled=int(n_spoiled or 0), secret=batch.secret,
            attested_at=batch.attested_at, attested_by=names.get(batch.attested_by or 0),
            may_enter=facilitator and batch.attested_at is None and allowed(roles, Action.ENTER_PAPER),
            attest_refusal=why if batch.attested_at is None else "It is already attested.",
            certificate=None if cert is None else {
                "issued": cert.issued, "returned": cert.returned, "entered": cert.entered, "spoiled": cert.spoiled,
                "mismatch": cert.mismatch, "scan_sha256": cert.scan_sha256, "scan_filename": cert.scan_filename,
                "entered_by": ", ".join(sorted(_names(s, set(json.loads(cert.entered_by_json))).values())),
                "attested_by": names.get(cert.attested_by, "?"), "attested_at": cert.attested_at}))
    return views


def paper_desk(uow: UnitOfWork, actor_id: int) -> list[PaperAct]:
    """The open survey rounds and panel votes of the panels I facilitate (where I print and enter), and,
    for steering, every open round or vote with a paper batch (where I attest)."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        if not (allowed(actor.roles, Action.ENTER_PAPER) or allowed(actor.roles, Action.ATTEST_PAPER)):
            return []
        mine = set(s.scalars(select(PanelMembership.panel_id).where(
            PanelMembership.person_id == actor.id, PanelMembership.panel_role == PanelRole.FACILITATOR)))
        # Steering attests any batch: it sees every open round or vote that has one.
        steering_ = true() if Role.STEERING in actor.roles else false()
        with_batches_r = select(PaperBatch.round_id).where(PaperBatch.round_id.is_not(None))
        with_batches_v = select(PaperBatch.vote_id).where(PaperBatch.vote_id.is_not(None))
        rounds = s.execute(select(SurveyRound.id, SurveyRound.number, Pilot.title, Problem.panel_id)
                           .join(Pilot, Pilot.id == SurveyRound.pilot_id).join(Problem, Problem.id == Pilot.problem_id)
                           .where(SurveyRound.closed_at.is_(None),
                                  or_(Problem.panel_id.in_(mine), SurveyRound.id.in_(with_batches_r) & steering_))
                           .order_by(SurveyRound.id.desc())).all()
        votes = s.execute(select(Vote.id, Vote.kind, Vote.question, Vote.panel_id)
                          .where(Vote.status == VoteStatus.OPEN, Vote.kind != VoteKind.OUTCOME,
                                 Vote.deadline > uow.now(),
                                 or_(Vote.panel_id.in_(mine), Vote.id.in_(with_batches_v) & steering_))
                          .order_by(Vote.id.desc())).all()
        acts = []
        for r in rounds:
            facilitator = r.panel_id in mine
            acts.append(PaperAct("survey_round", r.id, f"Survey: {r.title}, round {r.number}", True,
                                 facilitator and allowed(actor.roles, Action.ENTER_PAPER),
                                 _batches(s, actor.id, actor.roles, facilitator, PaperBatch.round_id == r.id)))
        for v in votes:
            facilitator = v.panel_id in mine
            acts.append(PaperAct("vote", v.id, f"Vote: {label(v.kind)} - {v.question}", False,
                                 facilitator and allowed(actor.roles, Action.ENTER_PAPER),
                                 _batches(s, actor.id, actor.roles, facilitator, PaperBatch.vote_id == v.id)))
        return acts
