"""Personal one-time links (issue 15, item 2): a way in without a password, for one act.

A facilitator (whoever may run the survey round, or close the vote —
``rules.acts.may_issue_links``) issues one link per rostered or eligible person.
Each link carries a random 256-bit token; only its SHA-256 is stored. Opening
it lands on the light form for that act, already identified as its person;
using it performs the act through the act's own use case (``submit_survey_response``,
``cast_ballot``) in the same transaction that spends the link, so a refusal
leaves the link unspent and nothing written. Issue and use are audited.

A vote link casts a person's *first* ballot only: changing a ballot through a
link would write, by name and at that moment, that the person acted — exactly
what R17 keeps out of the record for a changed secret ballot. To change a
ballot, a person signs in.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, load_actor, require
from governance.identity.sessions import digest as token_digest
from governance.record.events import reach as events
from governance.rules import acts as _may
from governance.rules.links import link_expiry, link_refusal
from governance.rules.permissions import Action
from governance.services._base import get, is_on_team, log, need, panel_role, session_of
from governance.services.evaluation import submit_survey_response
from governance.services.votes import CastBallot, cast_ballot
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Person,
    PersonalLink,
    Pilot,
    Problem,
    RosterEntry,
    SurveyRound,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.vocabulary import VoteStatus

PATH = "/lite/link/"


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: the only moment its token exists outside the person's hands."""

    person_id: int
    name: str
    email: str
    path: str


def _issue(uow: UnitOfWork, actor: Actor, people: Sequence[Person], *, vote: Vote | None,
           rnd: SurveyRound | None) -> list[IssuedLink]:
    s = session_of(uow)
    now = uow.now()
    expires = link_expiry(now, vote.deadline if vote else None)
    column, act_id = (PersonalLink.vote_id, vote.id) if vote else (PersonalLink.round_id, need(rnd, "round").id)
    # A newer link replaces the person's older unused one for the same act.
    older = s.scalars(select(PersonalLink).where(column == act_id, PersonalLink.used_at.is_(None),
                                                 PersonalLink.revoked_at.is_(None))).all()
    for link in older:
        link.revoked_at = now
    issued = []
    for person in people:
        token = secrets.token_urlsafe(32)
        s.add(PersonalLink(person_id=person.id, vote_id=vote.id if vote else None,
                           round_id=None if vote else act_id, token_sha256=token_digest(token),
                           issued_by=actor.id, issued_at=now, expires_at=expires))
        issued.append(IssuedLink(person.id, person.name, person.email, PATH + token))
    s.flush()
    log(uow, actor, events.links_issued(act="vote" if vote else "survey_round", act_id=act_id,
                                        person_ids=[p.id for p in people], expires_at=expires,
                                        replaced=len(older)))
    return issued


@use_case
def issue_survey_links(uow: UnitOfWork, actor_id: int, round_id: int) -> list[IssuedLink]:
    """Personal links for every active rostered person of an open survey round's pilot."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RUN_SURVEY)
    rnd = get(s, SurveyRound, round_id, "survey round")
    pilot = need(s.get(Pilot, rnd.pilot_id), "pilot")
    problem = need(s.get(Problem, pilot.problem_id), "problem")
    if not _may.may_issue_links(actor.roles, for_vote=False, on_team=is_on_team(s, pilot.id, actor.id),
                                panel_role=panel_role(s, problem.panel_id, actor.id)):
        raise PermissionDenied(f"Only the commissioning team of '{pilot.title}' or a facilitator of its panel "
                               "may issue personal links for its survey.")
    if rnd.closed_at is not None:
        raise RuleViolation(f"Round {rnd.number} of the survey has closed; links to it would not work.", rule="R7")
    people = s.scalars(select(Person).join(RosterEntry, RosterEntry.person_id == Person.id)
                       .where(RosterEntry.pilot_id == pilot.id, Person.active.is_(True))
                       .order_by(Person.name)).all()
    if not people:
        raise InvalidInput(f"'{pilot.title}' has nobody on its roster to send links to; add its users first.")
    return _issue(uow, actor, people, vote=None, rnd=rnd)


@use_case
def issue_vote_links(uow: UnitOfWork, actor_id: int, vote_id: int) -> list[IssuedLink]:
    """Personal links for every active eligible person of an open vote who has not voted yet."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.CLOSE_VOTE)
    vote = get(s, Vote, vote_id, "vote")
    if not _may.may_issue_links(actor.roles, for_vote=True, on_team=False,
                                panel_role=panel_role(s, vote.panel_id, actor.id), vote_kind=vote.kind):
        raise PermissionDenied("Only those who close this vote (a facilitator of its panel; for an outcome "
                               "vote, steering too) may issue personal links for it.", rule="R2")
    if vote.status != VoteStatus.OPEN or vote.deadline <= uow.now():
        raise RuleViolation("This vote is no longer open; links to it would not work.", rule="R16")
    voted = select(VoteParticipation.person_id).where(VoteParticipation.vote_id == vote.id)
    people = s.scalars(select(Person).join(VoteEligibility, VoteEligibility.person_id == Person.id)
                       .where(VoteEligibility.vote_id == vote.id, Person.active.is_(True),
                              Person.id.not_in(voted)).order_by(Person.name)).all()
    if not people:
        raise InvalidInput("Everyone eligible has already voted (or none is active); there is nobody to send a "
                           "link to.")
    return _issue(uow, actor, people, vote=vote, rnd=None)


def _usable(uow: UnitOfWork, token: object, *, want_vote: bool) -> PersonalLink:
    s = session_of(uow)
    link = (s.scalar(select(PersonalLink).where(PersonalLink.token_sha256 == token_digest(token)))
            if isinstance(token, str) and 20 <= len(token) <= 100 and token.isascii() else None)
    if link is None:
        raise PermissionDenied("This personal link is not known here. Check that the whole link was copied, or "
                               "sign in on /lite/.")
    if (link.vote_id is not None) != want_vote:
        raise InvalidInput("This personal link is for a different act than this form; open the link itself "
                           "again.")
    if link.vote_id is not None:
        vote = need(s.get(Vote, link.vote_id), "vote")
        closed = vote.status != VoteStatus.OPEN
    else:
        closed = need(s.get(SurveyRound, link.round_id), "survey round").closed_at is not None
    why = link_refusal(now=uow.now(), expires_at=link.expires_at, used_at=link.used_at,
                       revoked_at=link.revoked_at, act_closed=closed)
    if why is not None:
        raise PermissionDenied(why)
    return link


def _spend(uow: UnitOfWork, link: PersonalLink) -> None:
    s = session_of(uow)
    link.used_at = uow.now()
    person = load_actor(s, link.person_id)
    act, act_id = ("vote", link.vote_id) if link.vote_id is not None else ("survey_round", link.round_id)
    assert act_id is not None
    log(uow, person, events.link_used(link_id=link.id, act=act, act_id=act_id, person_id=person.id))


@use_case
def answer_by_link(uow: UnitOfWork, token: str, *, answer: str, sus: Sequence[int] | None = None,
                   use_instead: str = "", main_benefit: str = "") -> int:
    """Answer a survey round through a personal link: ``submit_survey_response`` as the link's person,
    and the link is spent — both or neither."""
    link = _usable(uow, token, want_vote=False)
    assert link.round_id is not None  # a survey link (the table's one_act check)
    response = submit_survey_response(uow, link.person_id, link.round_id, answer=answer,
                                      sus=sus, use_instead=use_instead, main_benefit=main_benefit)
    _spend(uow, link)
    return response


@use_case
def vote_by_link(uow: UnitOfWork, token: str, option: str, reason: str | None = None) -> CastBallot:
    """Cast a first ballot through a personal link: ``cast_ballot`` as the link's person, and the
    link is spent — both or neither. Changing a ballot needs a sign-in (see the module's note).
    ``reason``: as ``cast_ballot`` takes it (open groups only, R17)."""
    s = session_of(uow)
    link = _usable(uow, token, want_vote=True)
    vote_id = link.vote_id
    assert vote_id is not None  # a vote link (checked by _usable)
    if s.get(VoteParticipation, (vote_id, link.person_id)) is not None:
        raise RuleViolation("You have already voted in this vote. To change your ballot, sign in on /lite/ "
                            "with your email and password; a personal link casts a first ballot only.", rule="R17")
    cast = cast_ballot(uow, link.person_id, vote_id, option, reason=reason)
    _spend(uow, link)
    return cast
