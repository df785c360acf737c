"""People, roles, programmes, panels and sign-in."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.record.events import people as events
from governance.rules.charter import CharterTerms
from governance.storage.db import UnitOfWork, use_case
from governance.errors import InvalidInput, PermissionDenied, RuleViolation, SignInFailed
from governance.storage.models import (
    AuditEvent, Charter, Panel, PanelMembership, Person, PersonRole, PilotTeamMember, Programme,
)
from governance.identity.passwords import DUMMY_HASH, MIN_LENGTH, check_password, hash_password
from governance.rules.permissions import Action, role_conflict
from governance.identity.actors import Actor, load_actor, require
from governance.services._base import get, log, panel_role, person, session_of
from governance.validation import NAME_MAX, TITLE_MAX, choice, text
from governance.vocabulary import PanelRole, Role, label

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)


def _email(value: object) -> str:
    email = text(value, "Email", max_len=254).lower()
    if not EMAIL.match(email):
        raise InvalidInput(f"'{email}' is not an email address; write it as name@example.org.",
                           field="Email")
    return email


def _password(value: object) -> str:
    if not isinstance(value, str) or len(value) < MIN_LENGTH:
        raise InvalidInput(f"The password must be at least {MIN_LENGTH} characters long.",
                           field="Password")
    if len(value) > 200:
        raise InvalidInput("The password must be at most 200 characters long.", field="Password")
    return value


def _roles(values: Iterable[object]) -> list[Role]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput("List the roles one by one.", field="Roles")
    roles = sorted({choice(v, Role, "Role") for v in values})
    clash = role_conflict(roles)
    if clash:
        raise RuleViolation(clash, rule="R15")
    return roles


@use_case
def initialise_organisation(uow: UnitOfWork, *, admin_name: str, admin_email: str,
                            admin_password: str, terms: CharterTerms | None = None,
                            organisation: str = "Organisation") -> int:
    """Create the first administrator and the default charter (version 1).

    Only allowed on an empty database; returns the administrator's id.
    """
    s = session_of(uow)
    if s.scalar(select(func.count()).select_from(Person)):
        raise RuleViolation("The organisation is already initialised; sign in as an administrator "
                            "to add people.")
    name = text(admin_name, "Name", max_len=NAME_MAX)
    admin = Person(name=name, email=_email(admin_email), password_hash=hash_password(
        _password(admin_password)), failed_sign_ins=0, active=True, created_at=uow.now())
    s.add(admin)
    s.flush()
    s.add(PersonRole(person_id=admin.id, role=Role.ADMIN))
    actor = Actor(admin.id, admin.name, frozenset({Role.ADMIN}))
    log(uow, actor, events.organisation_initialised(person_id=admin.id, name=admin.name, email=admin.email,
                                                     roles=[Role.ADMIN],
                                                     organisation=text(organisation, "Organisation name",
                                                                       max_len=TITLE_MAX)))
    terms = terms or CharterTerms()
    charter = Charter(version=1, **terms.row_values(), adopted_by=admin.id, adopted_at=uow.now(),
                      reason="Default charter adopted when the organisation was set up.")
    s.add(charter)
    s.flush()
    log(uow, actor, events.charter_adopted(charter_id=charter.id, version=1, terms=terms.as_dict(),
                                           reason=charter.reason))
    return admin.id


@use_case
def create_person(uow: UnitOfWork, actor_id: int, *, name: str, email: str,
                  roles: Iterable[str] = (), password: str | None = None) -> int:
    """Add a person with organisation roles (administrators only)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    name = text(name, "Name", max_len=NAME_MAX)
    email = _email(email)
    role_list = _roles(roles)
    pw_hash = hash_password(_password(password)) if password is not None else None
    if s.scalar(select(Person.id).where(Person.email == email)):
        raise InvalidInput(f"Someone with the email {email} already exists; search for them instead.",
                           field="Email")
    new = Person(name=name, email=email, password_hash=pw_hash, failed_sign_ins=0, active=True,
                 created_at=uow.now())
    s.add(new)
    s.flush()
    for role in role_list:
        s.add(PersonRole(person_id=new.id, role=role))
    log(uow, actor, events.person_created(person_id=new.id, name=new.name, email=new.email, roles=role_list,
                                          password_set=pw_hash is not None))
    return new.id


@use_case
def set_roles(uow: UnitOfWork, actor_id: int, person_id: int, roles: Iterable[str]) -> None:
    """Replace a person's organisation roles (administrators only)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    target = person(s, person_id)
    new_roles = _roles(roles)
    old_roles = sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == target.id)))
    if Role.ADMIN in old_roles and Role.ADMIN not in new_roles:
        admins = s.scalar(select(func.count()).select_from(PersonRole).join(Person).where(
            PersonRole.role == Role.ADMIN, Person.active.is_(True))) or 0
        if admins <= 1:
            raise RuleViolation("This is the last administrator; make someone else an "
                                "administrator before removing this role.", rule="R14")
    if old_roles == new_roles:
        return
    if Role.AUDITOR in new_roles and s.scalar(select(PilotTeamMember.pilot_id).where(
            PilotTeamMember.person_id == target.id, PilotTeamMember.removed_at.is_(None)).limit(1)):
        raise RuleViolation(f"{target.name} is on a pilot's commissioning team; an auditor is never on a team. "
                            "Take them off the team first.", rule="R15")
    for role in set(old_roles) - set(new_roles):
        s.delete(s.get(PersonRole, (target.id, role)))
    for role in set(new_roles) - set(old_roles):
        s.add(PersonRole(person_id=target.id, role=role))
    s.flush()
    log(uow, actor, events.roles_changed(person_id=target.id, before=old_roles, after=new_roles))


@use_case
def set_password(uow: UnitOfWork, actor_id: int, person_id: int, new_password: str) -> None:
    """Set a password: your own, or anyone's if you are an administrator."""
    s = session_of(uow)
    actor = load_actor(s, actor_id) if actor_id == person_id else require(
        s, actor_id, Action.MANAGE_PEOPLE)
    target = person(s, person_id)
    target.password_hash = hash_password(_password(new_password))
    target.failed_sign_ins = 0
    target.locked_until = None
    log(uow, actor, events.password_set(person_id=target.id, by_self=actor_id == person_id))


@use_case
def deactivate_person(uow: UnitOfWork, actor_id: int, person_id: int, *, reason: str) -> None:
    """Stop a person from signing in or acting; their record stays."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    target = person(s, person_id)
    why = text(reason, "Reason", max_len=1000)
    if target.id == actor.id:
        raise RuleViolation("You cannot deactivate yourself; ask another administrator.", rule="R14")
    target.active = False
    log(uow, actor, events.person_deactivated(person_id=target.id, reason=why))


# ---------------------------------------------------------------- sign-in
@use_case
def _attempt_sign_in(uow: UnitOfWork, email: str, password: str) -> tuple[int | None, str]:
    s = session_of(uow)
    address = (email or "").strip().lower() if isinstance(email, str) else ""
    who = s.scalar(select(Person).where(Person.email == address)) if address else None
    generic = "Wrong email or password. Check both and try again."
    if who is None or not who.active:
        check_password(password or "", DUMMY_HASH)
        return None, generic
    now = uow.now()
    if who.locked_until is not None and who.locked_until > now:
        minutes = max(1, int((who.locked_until - now).total_seconds() // 60) + 1)
        return None, (f"This account is locked after {MAX_FAILED_SIGN_INS} failed sign-ins; try again "
                      f"in {minutes} minute(s) or ask an administrator to reset the password.")
    actor = Actor(who.id, who.name, frozenset())
    if not check_password(password if isinstance(password, str) else "", who.password_hash):
        who.failed_sign_ins += 1
        if who.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            who.locked_until = now + LOCKOUT
            who.failed_sign_ins = 0
            log(uow, actor, events.locked_out(person_id=who.id, locked_until=who.locked_until))
            return None, (f"Too many failed sign-ins: the account is locked for "
                          f"{int(LOCKOUT.total_seconds() // 60)} minutes.")
        log(uow, actor, events.sign_in_failed(person_id=who.id, failed_sign_ins=who.failed_sign_ins))
        return None, generic
    who.failed_sign_ins = 0
    who.locked_until = None
    log(uow, actor, events.signed_in(person_id=who.id, method="password"))
    return who.id, ""


def sign_in(uow: UnitOfWork, email: str, password: str) -> int:
    """The person id for a correct email and password; ``SignInFailed`` otherwise.

    Failures are counted (and audited) even though the call raises; after
    ``MAX_FAILED_SIGN_INS`` the account is locked for ``LOCKOUT``.
    """
    person_id, message = _attempt_sign_in(uow, email, password)
    if person_id is None:
        raise SignInFailed(message)
    return person_id


@use_case
def sign_in_by_email(uow: UnitOfWork, email: str, *, provider: str) -> int:
    """Map an identity proven by an OpenID Connect provider to an active person."""
    s = session_of(uow)
    address = _email(email)
    who = s.scalar(select(Person).where(Person.email == address))
    if who is None or not who.active:
        raise SignInFailed(f"{address} is not a person in this organisation. Ask an "
                           "administrator to add you with this email.")
    log(uow, Actor(who.id, who.name, frozenset()), events.signed_in(person_id=who.id, method=f"oidc:{provider}"))
    return who.id


# ------------------------------------------------------- programmes, panels
@use_case
def create_programme(uow: UnitOfWork, actor_id: int, *, name: str, description: str = "") -> int:
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PANELS)
    name = text(name, "Programme name", max_len=TITLE_MAX)
    if s.scalar(select(Programme.id).where(func.lower(Programme.name) == name.lower())):
        raise InvalidInput(f"A programme called '{name}' already exists; choose another name.",
                           field="Programme name")
    programme = Programme(name=name, description=text(description, "Description", required=False),
                          created_at=uow.now())
    s.add(programme)
    s.flush()
    log(uow, actor, events.programme_created(programme_id=programme.id, name=programme.name,
                                             description=programme.description, created_at=programme.created_at))
    return programme.id


@use_case
def create_panel(uow: UnitOfWork, actor_id: int, *, name: str, area: str = "", site: str = "",
                 programme_id: int | None = None) -> int:
    """Create a frontline panel for an area/site."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PANELS)
    name = text(name, "Panel name", max_len=TITLE_MAX)
    if s.scalar(select(Panel.id).where(func.lower(Panel.name) == name.lower())):
        raise InvalidInput(f"A panel called '{name}' already exists; choose another name.",
                           field="Panel name")
    if programme_id is not None:
        get(s, Programme, programme_id, "programme")
    panel = Panel(name=name, area=text(area, "Area", max_len=TITLE_MAX, required=False),
                  site=text(site, "Site", max_len=TITLE_MAX, required=False),
                  programme_id=programme_id, created_at=uow.now())
    s.add(panel)
    s.flush()
    log(uow, actor, events.panel_created(panel_id=panel.id, name=panel.name, area=panel.area, site=panel.site,
                                         programme_id=panel.programme_id, created_at=panel.created_at))
    return panel.id


@use_case
def add_panel_member(uow: UnitOfWork, actor_id: int, panel_id: int, person_id: int,
                     panel_role: str = PanelRole.MEMBER) -> None:
    """Add a person to a panel as member or facilitator (or change their panel role)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PANELS)
    panel = get(s, Panel, panel_id, "panel")
    who = person(s, person_id)
    role = choice(panel_role, PanelRole, "Panel role")
    held = s.scalars(select(PersonRole.role).where(PersonRole.person_id == who.id)).all()
    if not ({Role.FRONTLINE, Role.FACILITATOR} & set(held)):
        raise RuleViolation(f"{who.name} does not hold a frontline or facilitator role; panels are "
                            "made of frontline people. Give them the role first.", rule="R2")
    if role == PanelRole.FACILITATOR and Role.FACILITATOR not in held:
        raise RuleViolation(f"{who.name} cannot facilitate a panel without the facilitator role; "
                            "give them the role first.", rule="R14")
    existing = s.get(PanelMembership, (panel.id, who.id))
    if existing is not None:
        if existing.panel_role == role:
            raise InvalidInput(f"{who.name} is already a {label(role).lower()} of {panel.name}.")
        before = existing.panel_role
        existing.panel_role = role
        log(uow, actor, events.panel_member_role_changed(panel_id=panel.id, person_id=who.id, before=before,
                                                         after=role))
        return
    s.add(PanelMembership(panel_id=panel.id, person_id=who.id, panel_role=role, joined_at=uow.now()))
    s.flush()
    log(uow, actor, events.panel_member_added(panel_id=panel.id, person_id=who.id, name=who.name, role=role))


@use_case
def remove_panel_member(uow: UnitOfWork, actor_id: int, panel_id: int, person_id: int) -> None:
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PANELS)
    panel = get(s, Panel, panel_id, "panel")
    membership = s.get(PanelMembership, (panel.id, person_id))
    if membership is None:
        raise InvalidInput("That person is not a member of this panel.")
    before = membership.panel_role
    s.delete(membership)
    s.flush()
    log(uow, actor, events.panel_member_removed(panel_id=panel.id, person_id=person_id, role=before))


def require_panel_member(session: Session, actor: Actor, panel_id: int, doing: str) -> PanelRole:
    """R2: only members of the owning panel write its problems and criteria."""
    role = panel_role(session, panel_id, actor.id)
    if role is None:
        panel = session.get(Panel, panel_id)
        raise PermissionDenied(
            f"Only members of {panel.name if panel else 'the owning panel'} may {doing} "
            "(R2: problems and criteria are written by the frontline panel that owns them). "
            "You can read it and add a comment.", rule="R2")
    return role


# ------------------------------------------------------------------- demo
DEMO_ACTION = events.DEMO_BUILT
DEMO_PERSON_KEYS = frozenset({"name", "email", "roles", "about"})


@use_case
def mark_demo(uow: UnitOfWork, actor_id: int, *, people: list[dict]) -> None:
    """Record that this database is the demo organisation (administrators only).

    ``people`` lists the demo's sign-in cast (email, optional ``about``; name and
    roles may be given but the event records what the database holds), each of
    whom must already exist; the event holds no password.
    The sign-in screen reads it back (``governance.demo.demo_people``).
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    if s.scalar(select(AuditEvent.seq).where(AuditEvent.action == DEMO_ACTION).limit(1)):
        raise RuleViolation("This database is already marked as the demo organisation.")
    if not isinstance(people, list) or not people:
        raise InvalidInput("List at least one demo person.")
    cast = []
    for entry in people:
        if not isinstance(entry, dict):
            raise InvalidInput("Each demo person is a record with name, email and roles.")
        unknown = set(entry) - DEMO_PERSON_KEYS
        if unknown:
            raise InvalidInput(f"Demo people carry only name, email, roles and about (not "
                               f"{', '.join(sorted(unknown))}); never a password.")
        email = _email(entry.get("email"))
        who = s.scalar(select(Person).where(Person.email == email))
        if who is None or not who.active:
            raise InvalidInput(f"{email} is not an active person; create them before marking the demo.")
        roles = sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == who.id)))
        cast.append({"person_id": who.id, "name": who.name, "email": email, "roles": roles,
                     "about": text(entry.get("about", ""), "About", max_len=TITLE_MAX, required=False)})
    log(uow, actor, events.demo_built(people=cast))
