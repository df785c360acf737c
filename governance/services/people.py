"""People, roles, programmes, panels and sign-in."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.identity.passwords import DEMO_PASSWORD, hash_password, require_acceptable
from governance.record.events import people as events
from governance.rules.permissions import Action, role_conflict
from governance.services._base import get, log, panel_role, person, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    AuditEvent,
    Panel,
    PanelMembership,
    Person,
    PersonRole,
    PilotTeamMember,
    Programme,
)
from governance.validation import NAME_MAX, TITLE_MAX, Problems, a_list, choice, email as email_address, text
from governance.vocabulary import PanelRole, Role, label


def _email(value: object) -> str:
    return email_address(value, "Email")


def _password(value: object) -> str:
    return require_acceptable(value)


def _roles(values: object) -> list[Role]:
    roles = sorted({choice(v, Role, "Role") for v in a_list(values, "Roles", max_items=20)})
    clash = role_conflict(roles)
    if clash:
        raise RuleViolation(clash, rule="R15")
    return roles


@use_case
def create_person(uow: UnitOfWork, actor_id: int, *, name: str, email: str,
                  roles: Iterable[str] = (), password: str | None = None) -> int:
    """Add a person with organisation roles (administrators only).

    A ``password`` given here is temporary: it works once, and must then be
    replaced by the person. Without one, the person signs in through the
    organisation's identity provider, or gets one later (Admin)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    # Every field is checked before refusing, so the form reports all its problems at once.
    found = Problems()
    checked_name = found.check("Name", text, name, "Name", max_len=NAME_MAX)
    checked_email = found.check("Email", _email, email)
    role_list = found.check("Roles", _roles, roles) or []
    checked_password = found.check("Temporary password", _password, password) if password is not None else None
    if checked_email and s.scalar(select(Person.id).where(Person.email == checked_email)):
        found.add("Email", f"Someone with the email {checked_email} already exists; search for them instead.")
    found.raise_any()
    assert checked_name is not None and checked_email is not None  # raise_any refused otherwise
    name, email = checked_name, checked_email
    pw_hash = hash_password(checked_password) if checked_password is not None else None
    new = Person(name=name, email=email, password_hash=pw_hash, password_temporary=pw_hash is not None,
                 active=True, created_at=uow.now())
    s.add(new)
    s.flush()
    for role in role_list:
        s.add(PersonRole(person_id=new.id, role=role))
    log(uow, actor, events.person_created(person_id=new.id, name=new.name, email=new.email, roles=role_list,
                                          password_set=pw_hash is not None))
    return new.id


def check_roles_change(s: Session, target: Person, old_roles: Sequence[str], new_roles: Sequence[str]) -> None:
    """Refuse removing the last active administrator's role (R14)."""
    if Role.ADMIN in old_roles and Role.ADMIN not in new_roles:
        admins = s.scalar(select(func.count()).select_from(PersonRole).join(Person).where(
            PersonRole.role == Role.ADMIN, Person.active.is_(True))) or 0
        if admins <= 1:
            raise RuleViolation("This is the last administrator; make someone else an "
                                "administrator before removing this role.", rule="R14")


@use_case
def set_roles(uow: UnitOfWork, actor_id: int, person_id: int, roles: Iterable[str]) -> None:
    """Replace a person's organisation roles (administrators only)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    target = person(s, person_id)
    new_roles = _roles(roles)
    old_roles = sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == target.id)))
    check_roles_change(s, target, old_roles, new_roles)
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
def set_password(uow: UnitOfWork, actor_id: int, person_id: int, new_password: str, *,
                 temporary: bool | None = None) -> None:
    """An administrator sets someone's password.

    It is ``temporary`` (the default): it works once, at the next sign-in, and the
    person must then choose their own. People change their own password with
    ``signin.change_own_password`` (which asks for the current one). Every
    session of the person ends (a password change signs them out everywhere)."""
    from governance.services.signin import revoke_sessions

    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    target = person(s, person_id)
    temp = True if temporary is None else temporary
    if not isinstance(temp, bool):
        raise InvalidInput("Say whether the password is temporary (yes or no).")
    target.password_hash = hash_password(_password(new_password))
    target.password_temporary = temp
    ended = revoke_sessions(uow, target.id, reason="password_changed")
    log(uow, actor, events.password_set(person_id=target.id, by_self=False, temporary=temp,
                                        sessions_revoked=ended))


@use_case
def deactivate_person(uow: UnitOfWork, actor_id: int, person_id: int, *, reason: str) -> None:
    """Stop a person from signing in or acting; their record (ballots, responses,
    events, memberships) stays exactly as it was."""
    from governance.services.signin import revoke_sessions

    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    target = person(s, person_id)
    why = text(reason, "Reason", max_len=1000)
    if target.id == actor.id:
        raise RuleViolation("You cannot deactivate yourself; ask another administrator.", rule="R14")
    roles = sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == target.id)))
    check_roles_change(s, target, roles, [r for r in roles if r != Role.ADMIN])
    target.active = False
    revoke_sessions(uow, target.id, reason="deactivated")
    log(uow, actor, events.person_deactivated(person_id=target.id, reason=why))


@use_case
def reactivate_person(uow: UnitOfWork, actor_id: int, person_id: int, *, reason: str) -> None:
    """Let a deactivated person sign in and act again (their history was kept)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    target = get(s, Person, person_id, "person")
    why = text(reason, "Reason", max_len=1000)
    if target.active:
        raise InvalidInput(f"{target.name} is active already.")
    target.active = True
    log(uow, actor, events.person_reactivated(person_id=target.id, reason=why))


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
    whom must already exist. Each of them is given the demo's published password
    (``DEMO_PASSWORD``, which no real account may use: the password policy refuses
    it); the event holds no password. The sign-in screen reads the cast back
    (``governance.demo.demo_people``) and every page shows the demo banner.
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    if s.scalar(select(AuditEvent.seq).where(AuditEvent.action == DEMO_ACTION).limit(1)):
        raise RuleViolation("This database is already marked as the demo organisation.")
    if not isinstance(people, list) or not people:
        raise InvalidInput("List at least one demo person.")
    cast = []
    accounts: list[Person] = []
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
        accounts.append(who)
    shared = hash_password(DEMO_PASSWORD)  # public anyway: one hash serves the whole cast
    for who in accounts:
        who.password_hash, who.password_temporary = shared, False
    log(uow, actor, events.demo_built(people=cast))
