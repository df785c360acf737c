"""Who is on a pilot: its commissioning team and its user roster (R15).

Nobody with a stake shapes the electorate. Joining a commissioning team
needs the person's own acceptance (an invitation); the team freezes when
real use starts, and the conflict-of-interest exclusion from the frontline
group uses the team as it stood then. After real use starts the roster
cannot be bent: nobody is added or removed while a survey round is open, a
removal needs a reason, and a person added later answers only rounds that
open at least the evaluation window after their addition.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require, roles_of
from governance.record.events import pilots as events
from governance.rules.permissions import Action
from governance.services._base import get, log, person, require_team, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Person,
    Pilot,
    PilotTeamMember,
    ReadinessRecord,
    RosterChange,
    RosterEntry,
    SurveyRound,
    TeamInvitation,
)
from governance.validation import TEXT_MAX, an_id, ids as id_list, text
from governance.vocabulary import PilotState, ReadinessItem, Role

REASON_MIN = 10


def _pilot(s: Session, pilot_id: int) -> Pilot:
    return get(s, Pilot, pilot_id, "pilot")


def _frozen(pilot: Pilot, doing: str) -> None:
    if pilot.real_use_started_at is not None:
        raise RuleViolation(
            f"The commissioning team of '{pilot.title}' froze when real use started on "
            f"{pilot.real_use_started_at:%d %b %Y}: nobody can {doing} now. Removals stay possible, "
            "with a reason.", rule="R15")


def check_team_candidate(s: Session, pilot: Pilot, who: Person, *, owner: bool = False) -> None:
    """Whether ``who`` may be on this pilot's commissioning team (R15)."""
    roles = roles_of(s, who.id)
    if Role.AUDITOR in roles:
        raise RuleViolation(f"{who.name} is an auditor; an auditor is never on a pilot's team (they must not "
                            "audit what they commission).", rule="R15")
    if owner and Role.COMMISSIONING not in roles:
        raise RuleViolation(f"{who.name} does not hold the commissioning role; the owner accountable for the "
                            "last mile is a commissioning person.", rule="R15")


def join_team(uow: UnitOfWork, actor: Actor | None, pilot: Pilot, who: Person) -> None:
    """Put ``who`` on the team (they accepted, or they registered the pilot themselves)."""
    s = session_of(uow)
    row = s.get(PilotTeamMember, (pilot.id, who.id))
    if row is None:
        s.add(PilotTeamMember(pilot_id=pilot.id, person_id=who.id, joined_at=uow.now()))
    else:  # rejoining before real use
        row.joined_at, row.removed_at, row.removed_by, row.removed_reason = uow.now(), None, None, None
    if who.id == pilot.owner_id and s.get(ReadinessRecord, (pilot.id, ReadinessItem.OWNER)) is None:
        s.add(ReadinessRecord(pilot_id=pilot.id, item=ReadinessItem.OWNER,
                              detail=f"{who.name} is accountable for the last mile.",
                              recorded_by=who.id, recorded_at=uow.now()))
    s.flush()
    log(uow, actor, events.team_member_added(pilot_id=pilot.id, person_id=who.id, name=who.name))


def invite(uow: UnitOfWork, actor: Actor, pilot: Pilot, who: Person) -> int:
    """Invite ``who`` to the team; they are not on it until they accept."""
    s = session_of(uow)
    _frozen(pilot, "join it")
    check_team_candidate(s, pilot, who, owner=who.id == pilot.owner_id)
    on = s.get(PilotTeamMember, (pilot.id, who.id))
    if on is not None and on.removed_at is None:
        raise InvalidInput(f"{who.name} is already on the team.")
    if s.scalar(select(TeamInvitation.id).where(TeamInvitation.pilot_id == pilot.id,
                                                TeamInvitation.person_id == who.id,
                                                TeamInvitation.status == "pending")):
        raise InvalidInput(f"{who.name} has already been invited and has not answered yet.")
    invitation = TeamInvitation(pilot_id=pilot.id, person_id=who.id, invited_by=actor.id,
                                invited_at=uow.now(), status="pending")
    s.add(invitation)
    s.flush()
    log(uow, actor, events.team_invited(invitation_id=invitation.id, pilot_id=pilot.id, person_id=who.id,
                                        name=who.name))
    return invitation.id


@use_case
def add_team_member(uow: UnitOfWork, actor_id: int, pilot_id: int, person_id: int) -> int:
    """Invite someone to the pilot's commissioning team; returns the invitation id.

    They join (and then vote as commissioning) only when they accept (R15).
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "change its team")
    return invite(uow, actor, pilot, person(s, person_id))


def _answer(uow: UnitOfWork, actor_id: int, invitation_id: int, accept: bool) -> None:
    s = session_of(uow)
    actor = require(s, actor_id, Action.ANSWER_INVITATION)
    an_id(invitation_id, "The invitation id")
    invitation = get(s, TeamInvitation, invitation_id, "invitation")
    if invitation.person_id != actor.id:
        raise PermissionDenied("Only the person invited may accept or decline an invitation to a team.",
                               rule="R15")
    pilot = _pilot(s, invitation.pilot_id)
    if invitation.status == "void" and pilot.real_use_started_at is not None:
        raise RuleViolation(f"This invitation lapsed: the commissioning team of '{pilot.title}' froze when real "
                            f"use started on {pilot.real_use_started_at:%d %b %Y}.", rule="R15")
    if invitation.status != "pending":
        raise RuleViolation(f"This invitation was already {invitation.status}.", rule="R15")
    if accept:
        _frozen(pilot, "join it")
        check_team_candidate(s, pilot, person(s, actor.id), owner=actor.id == pilot.owner_id)
    invitation.status = "accepted" if accept else "declined"
    invitation.responded_at = uow.now()
    s.flush()
    log(uow, actor, events.team_invitation_answered(invitation_id=invitation.id, pilot_id=pilot.id,
                                                    person_id=actor.id, accepted=accept))
    if accept:
        join_team(uow, actor, pilot, person(s, actor.id))


@use_case
def accept_team_invitation(uow: UnitOfWork, actor_id: int, invitation_id: int) -> None:
    """The invited person joins the pilot's commissioning team (their own act, R15)."""
    _answer(uow, actor_id, invitation_id, True)


@use_case
def decline_team_invitation(uow: UnitOfWork, actor_id: int, invitation_id: int) -> None:
    """The invited person declines to join."""
    _answer(uow, actor_id, invitation_id, False)


@use_case
def remove_team_member(uow: UnitOfWork, actor_id: int, pilot_id: int, person_id: int, *, reason: str) -> None:
    """Take someone off the team, with a reason. Whoever was on it when real use
    started stays excluded from the pilot's frontline group."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "change its team")
    why = text(reason, "Reason for the removal", max_len=TEXT_MAX, min_len=REASON_MIN)
    row = s.get(PilotTeamMember, (pilot.id, an_id(person_id, "The person id")))
    if row is None or row.removed_at is not None:
        raise InvalidInput("That person is not on the team.")
    if person_id == pilot.owner_id:
        raise RuleViolation("The owner stays on the team: they are accountable for the last mile.", rule="R15")
    row.removed_at, row.removed_by, row.removed_reason = uow.now(), actor.id, why
    s.flush()
    log(uow, actor, events.team_member_removed(pilot_id=pilot.id, person_id=person_id, reason=why,
                                               after_real_use=pilot.real_use_started_at is not None))


def void_pending_invitations(s: Session, pilot: Pilot, when: datetime) -> list[int]:
    """Invitations nobody answered before real use lapse: the team is frozen."""
    pending = list(s.scalars(select(TeamInvitation).where(TeamInvitation.pilot_id == pilot.id,
                                                          TeamInvitation.status == "pending")))
    for invitation in pending:
        invitation.status, invitation.responded_at = "void", when
    return [i.id for i in pending]


# ------------------------------------------------------------------- roster
def _open_round(s: Session, pilot: Pilot) -> SurveyRound | None:
    return s.scalar(select(SurveyRound).where(SurveyRound.pilot_id == pilot.id, SurveyRound.closed_at.is_(None)))


def _roster_unbendable(s: Session, pilot: Pilot, doing: str) -> None:
    if pilot.state == PilotState.DECIDED:
        raise RuleViolation(f"'{pilot.title}' is decided; its roster is closed.", rule="R15")
    rnd = _open_round(s, pilot)
    if rnd is not None:
        raise RuleViolation(
            f"Round {rnd.number} of the survey of '{pilot.title}' is open: nobody can {doing} the roster "
            "until it closes, so the people answering cannot be changed mid-round. Try again once the "
            "round is closed.", rule="R15")


@use_case
def add_to_roster(uow: UnitOfWork, actor_id: int, pilot_id: int, person_ids: Iterable[int]) -> int:
    """Add the frontline people who will really use the pilot; returns how many were added.

    After real use started, someone added answers only rounds that open at
    least the evaluation window after their addition (R15).
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "change its roster")
    _roster_unbendable(s, pilot, "add anyone to")
    ids = sorted(set(id_list(person_ids, "People to add")))
    if not ids:
        raise InvalidInput("Choose at least one person to add to the roster.")
    added = []
    after = pilot.real_use_started_at is not None
    for pid in ids:
        who = person(s, pid, "person")
        if not roles_of(s, who.id) & {Role.FRONTLINE, Role.FACILITATOR}:
            raise RuleViolation(f"{who.name} is not a frontline person; the roster lists the "
                                "frontline people who will really use the tool.", rule="R7")
        if s.get(RosterEntry, (pilot.id, who.id)) is None:
            s.add(RosterEntry(pilot_id=pilot.id, person_id=who.id, added_by=actor.id, added_at=uow.now()))
            s.add(RosterChange(pilot_id=pilot.id, person_id=who.id, change="added", changed_by=actor.id,
                               changed_at=uow.now(), after_real_use=after))
            added.append(who.id)
    if not added:
        raise InvalidInput("Everyone chosen is already on the roster.")
    s.flush()
    log(uow, actor, events.roster_added(pilot_id=pilot.id, person_ids=added, after_real_use=after))
    return len(added)


@use_case
def remove_from_roster(uow: UnitOfWork, actor_id: int, pilot_id: int, person_id: int, *,
                       reason: str | None = None) -> None:
    """Take someone off the roster. After real use started this needs a reason,
    and the change shows beside the indispensability evidence (R15)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PILOT)
    pilot = _pilot(s, pilot_id)
    require_team(s, actor, pilot, "change its roster")
    after = pilot.real_use_started_at is not None
    _roster_unbendable(s, pilot, "remove anyone from")
    why = text(reason, "Reason for the removal", max_len=TEXT_MAX, min_len=REASON_MIN,
               required=after) or None
    entry = s.get(RosterEntry, (pilot.id, an_id(person_id, "The person id")))
    if entry is None:
        raise InvalidInput("That person is not on the roster.")
    s.delete(entry)
    s.add(RosterChange(pilot_id=pilot.id, person_id=person_id, change="removed", reason=why,
                       changed_by=actor.id, changed_at=uow.now(), after_real_use=after))
    s.flush()
    log(uow, actor, events.roster_removed(pilot_id=pilot.id, person_id=person_id, reason=why,
                                          after_real_use=after))
