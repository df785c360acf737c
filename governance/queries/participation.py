"""My participation: every vote I was eligible for, open and closed — whether I voted, my
ballot (groups on the record by name) or my receipt (secret groups, R17), my reason, and the
result once the vote closed. Only the reader's own: a secret ballot is found by their voter
token, which nobody else can make."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select

from governance.queries._base import Page, paginate, reader
from governance.rules.ballots import parse_groups
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Ballot,
    Pilot,
    ProblemVersion,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.storage.repository import my_secret_ballots
from governance.vocabulary import PanelOption, VoteKind, VoteStatus


@dataclass(frozen=True, slots=True)
class Participation:
    """One vote I was eligible for, as I took part in it."""

    vote_id: int
    kind: str
    subject: str
    status: str
    deadline: datetime
    closed_at: datetime | None
    group: str
    secret: bool
    voted: bool
    #: My current ballot's option (groups on the record by name only; never for a secret one).
    ballot: str | None
    reason: str | None
    #: My current receipt (secret groups only).
    receipt: str | None
    #: Once closed: the winning option (None: no binding result).
    result: str | None
    quorum_met: bool | None

    @property
    def is_open(self) -> bool:
        return self.status == VoteStatus.OPEN




def _result(kind: str, outcome: str | None, passed: bool | None) -> str | None:
    if kind == VoteKind.OUTCOME:
        return outcome
    return None if passed is None else (PanelOption.APPROVE if passed else PanelOption.REJECT)


def my_participation(uow: UnitOfWork, actor_id: int, *, page: int = 1, per_page: int = 20
                     ) -> Page[Participation]:
    """Every vote the reader was eligible for: open ones first (soonest deadline first), then
    closed ones (latest first). Counted and paged in SQL."""
    with uow.reading() as s:
        actor = reader(s, actor_id)
        q = (select(Vote.id, Vote.kind, Vote.status, Vote.deadline, Vote.closed_at, Vote.outcome, Vote.passed,
                    Vote.quorum_met, Vote.secret_groups, VoteEligibility.voting_group,
                    Pilot.title.label("pilot"), ProblemVersion.title.label("problem"),
                    VoteParticipation.person_id.label("took_part"))
             .join(VoteEligibility, (VoteEligibility.vote_id == Vote.id) & (VoteEligibility.person_id == actor.id))
             .outerjoin(VoteParticipation, (VoteParticipation.vote_id == Vote.id)
                        & (VoteParticipation.person_id == actor.id))
             .outerjoin(Pilot, Pilot.id == Vote.pilot_id)
             .outerjoin(ProblemVersion, ProblemVersion.id == Vote.problem_version_id)
             .order_by(case((Vote.status == VoteStatus.OPEN, 0), else_=1),
                       case((Vote.status == VoteStatus.OPEN, Vote.deadline)), Vote.closed_at.desc(), Vote.id.desc()))
        rows, total, page = paginate(s, q, page, per_page)
        ids = [r.id for r in rows]
        named = {r.vote_id: (r.option, r.reason) for r in s.execute(
            select(Ballot.vote_id, Ballot.option, Ballot.reason).where(
                Ballot.vote_id.in_(ids), Ballot.person_id == actor.id, Ballot.is_current.is_(True)))}
        secret_ids = [r.id for r in rows if r.voting_group in (parse_groups(r.secret_groups) or ())]
        mine = my_secret_ballots(s, uow.keys.ballot_key() if secret_ids else b"", actor.id, secret_ids)
        receipts = {vid: receipt for vid, (_option, receipt) in mine.items()}
        out = []
        for r in rows:
            secret = r.id in secret_ids
            option, reason = named.get(r.id, (None, None))
            closed = r.status == VoteStatus.CLOSED
            out.append(Participation(
                vote_id=r.id, kind=r.kind, subject=(r.pilot if r.kind == VoteKind.OUTCOME else r.problem) or "—",
                status=r.status, deadline=r.deadline, closed_at=r.closed_at, group=r.voting_group, secret=secret,
                voted=r.took_part is not None or option is not None, ballot=None if secret else option,
                reason=None if secret else reason, receipt=receipts.get(r.id) if secret else None,
                result=_result(r.kind, r.outcome, r.passed) if closed else None,
                quorum_met=r.quorum_met if closed else None))
        return Page(out, total, page, per_page)
