"""Read model of a personal one-time link: whose it is, for which act, and whether it still works."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from governance.identity.sessions import digest
from governance.rules.links import link_refusal
from governance.storage.db import UnitOfWork
from governance.storage.models import Person, PersonalLink, SurveyRound, Vote
from governance.vocabulary import VoteStatus

UNKNOWN = ("This personal link is not known here. Check that the whole link was copied, or sign in on /lite/.")


@dataclass(frozen=True, slots=True)
class LinkLanding:
    """What opening a personal link shows: the act for its person, or why it no longer works."""

    refusal: str | None
    person_id: int | None = None
    person_name: str = ""
    round_id: int | None = None
    vote_id: int | None = None


def personal_link(uow: UnitOfWork, token: object) -> LinkLanding:
    """The link with this token (no sign-in: the token is the identification)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100 or not token.isascii():
        return LinkLanding(UNKNOWN)
    with uow.reading() as s:
        link = s.scalar(select(PersonalLink).where(PersonalLink.token_sha256 == digest(token)))
        person = s.get(Person, link.person_id) if link else None
        if link is None or person is None or not person.active:
            return LinkLanding(UNKNOWN)
        if link.vote_id is not None:
            vote = s.get(Vote, link.vote_id)
            closed = vote is None or vote.status != VoteStatus.OPEN
        else:
            rnd = s.get(SurveyRound, link.round_id)
            closed = rnd is None or rnd.closed_at is not None
        why = link_refusal(now=uow.now(), expires_at=link.expires_at, used_at=link.used_at,
                           revoked_at=link.revoked_at, act_closed=closed)
        return LinkLanding(why, person.id, person.name, link.round_id, link.vote_id)
