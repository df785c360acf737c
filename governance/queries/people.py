"""Who is signed in, and lists of people for forms and the Admin page."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from governance.identity.actors import load_actor, require
from governance.queries._base import Page, like, paginate, reader
from governance.rules.charter import CharterTerms, terms_of
from governance.rules.permissions import VOTING_ROLES, Action, role_conflict
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Charter,
    JobRun,
    Organisation,
    Panel,
    PanelMembership,
    Person,
    PersonRole,
    Programme,
    ReminderOptOut,
)
from governance.storage.repository import charter_terms
from governance.vocabulary import Role


@dataclass(frozen=True, slots=True)
class MyPanel:
    """A panel the signed-in person belongs to, and their role in it."""

    id: int
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Me:
    id: int
    name: str
    email: str
    roles: frozenset[Role]
    panels: list[MyPanel]


@dataclass(frozen=True, slots=True)
class PersonOption:
    """A person to pick in a form."""

    id: int
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A person as the Admin page lists them."""

    id: int
    name: str
    email: str
    active: bool
    #: Signs in with a password of their own (False: only through the identity provider, or none yet).
    has_password: bool
    #: The password works once: an administrator set it, and the person must replace it.
    password_temporary: bool
    roles: list[str]
    #: R15: why these roles may not be held together (an auditor with a voting role), or None.
    role_conflict: str | None = None


@dataclass(frozen=True, slots=True)
class JobRunRow:
    """One run of the scheduled jobs (``python -m governance.jobs run``) and what it did."""

    started_at: datetime
    finished_at: datetime | None
    holder: str
    closed_votes: int
    refused_votes: int
    checkpoint: int | None
    alterations: int
    #: Reminders sent and failed, by kind; why none were sent (e.g. email not configured).
    reminders_sent: dict[str, int] = field(default_factory=dict)
    reminders_failed: dict[str, int] = field(default_factory=dict)
    reminders_skipped: str = ""


@dataclass(frozen=True, slots=True)
class PanelSummary:
    id: int
    name: str
    area: str
    site: str
    programme_id: int | None
    members: int
    facilitators: list[str]


@dataclass(frozen=True, slots=True)
class PanelMember:
    id: int
    name: str
    email: str
    panel_role: str


@dataclass(frozen=True, slots=True)
class ProgrammeRow:
    id: int
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class CharterVersion:
    """One charter version: its terms, and who adopted it, when and why."""

    id: int
    version: int
    terms: CharterTerms
    adopted_by: int | None
    adopted_by_name: str
    adopted_at: datetime
    reason: str


def whoami(uow: UnitOfWork, person_id: int) -> Me | None:
    """The signed-in person as the database knows them now (None if gone or inactive)."""
    with uow.reading() as s:
        person = s.get(Person, person_id) if isinstance(person_id, int) else None
        if person is None or not person.active:
            return None
        actor = load_actor(s, person_id)
        panels = [MyPanel(id=r.id, name=r.name, role=r.panel_role) for r in s.execute(
            select(Panel.id, Panel.name, PanelMembership.panel_role).join(PanelMembership).where(
                PanelMembership.person_id == person_id).order_by(Panel.name))]
        return Me(person.id, person.name, person.email, actor.roles, panels)


def is_empty(uow: UnitOfWork) -> bool:
    """True before the organisation has been initialised."""
    with uow.reading() as s:
        return not s.scalar(select(func.count()).select_from(Person))


@dataclass(frozen=True)
class SetupState:
    """Where a database stands before anyone can sign in: "migrate" (the schema is missing
    or older than this code), "init" (migrated, no organisation yet), or "ready"."""

    step: str
    organisation: str | None = None

    @property
    def ready(self) -> bool:
        return self.step == "ready"


def setup_state(uow: UnitOfWork) -> SetupState:
    from governance.migrate import is_at_head

    try:
        migrated = is_at_head(uow.db.engine)
    except Exception:  # noqa: BLE001 - unreachable or unreadable: the page says what to check
        return SetupState("unreachable")
    if not migrated:
        return SetupState("migrate")
    with uow.reading() as s:
        org = s.get(Organisation, 1)
        if org is None and not s.scalar(select(func.count()).select_from(Person)):
            return SetupState("init")
        return SetupState("ready", org.name if org else None)


def people_options(uow: UnitOfWork, actor_id: int, *, role: str | None = None,
                   search: str = "", limit: int = 500) -> list[PersonOption]:
    """Active people (optionally with a role) for pickers: id, name, email."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = select(Person.id, Person.name, Person.email).where(Person.active.is_(True))
        if role:
            q = q.where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role)))
        if search.strip():
            q = q.where(func.lower(Person.name).like(like(search), escape="\\")
                        | func.lower(Person.email).like(like(search), escape="\\"))
        return [PersonOption(id=r.id, name=r.name, email=r.email)
                for r in s.execute(q.order_by(Person.name).limit(limit))]


def people_page(uow: UnitOfWork, actor_id: int, *, search: str = "", role: str | None = None,
                page: int = 1, per_page: int = 25) -> Page[PersonRow]:
    """People with their roles, filtered and paginated (Admin)."""
    with uow.reading() as s:
        require(s, actor_id, Action.MANAGE_PEOPLE)
        q = select(Person.id, Person.name, Person.email, Person.active,
                   Person.password_hash.is_not(None).label("has_password"), Person.password_temporary)
        if search.strip():
            q = q.where(func.lower(Person.name).like(like(search), escape="\\")
                        | func.lower(Person.email).like(like(search), escape="\\"))
        if role:
            q = q.where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role)))
        rows, total, page = paginate(s, q.order_by(Person.name, Person.id), page, per_page)
        ids = [r.id for r in rows]
        roles: dict[int, list[str]] = {i: [] for i in ids}
        for pid, r in s.execute(select(PersonRole.person_id, PersonRole.role).where(
                PersonRole.person_id.in_(ids)).order_by(PersonRole.role)):
            roles[pid].append(r)
        return Page([PersonRow(id=r.id, name=r.name, email=r.email, active=r.active,
                               has_password=bool(r.has_password),
                               password_temporary=bool(r.password_temporary), roles=roles[r.id],
                               role_conflict=role_conflict(roles[r.id])) for r in rows],
                    total, page, per_page)


def role_conflicts(uow: UnitOfWork, actor_id: int) -> list[PersonRow]:
    """R15: everyone holding the auditor role together with a voting role (held from before the rule)."""
    with uow.reading() as s:
        require(s, actor_id, Action.MANAGE_PEOPLE)
        auditors = select(PersonRole.person_id).where(PersonRole.role == Role.AUDITOR)
        voters = select(PersonRole.person_id).where(PersonRole.role.in_([r.value for r in VOTING_ROLES]))
        people = s.scalars(select(Person).where(Person.id.in_(auditors), Person.id.in_(voters))
                           .order_by(Person.name)).all()
        out = []
        for p in people:
            held = sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == p.id)))
            out.append(PersonRow(id=p.id, name=p.name, email=p.email, active=p.active,
                                 has_password=p.password_hash is not None,
                                 password_temporary=bool(p.password_temporary), roles=held,
                                 role_conflict=role_conflict(held)))
        return out


def job_runs(uow: UnitOfWork, actor_id: int, *, limit: int = 10) -> list[JobRunRow]:
    """When the scheduled job last ran and what it did (Admin)."""
    with uow.reading() as s:
        require(s, actor_id, Action.MANAGE_PEOPLE)
        out = []
        for r in s.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)):
            summary = json.loads(r.summary)
            reminders = summary.get("reminders") or {}
            out.append(JobRunRow(r.started_at, r.finished_at, r.holder, len(summary.get("closed_votes", [])),
                                 len(summary.get("refused_votes", {})), summary.get("checkpoint"),
                                 len(summary.get("alterations", [])),
                                 {str(k): int(v) for k, v in (reminders.get("sent") or {}).items()},
                                 {str(k): int(v) for k, v in (reminders.get("failed") or {}).items()},
                                 str(reminders.get("skipped") or "")))
        return out


def panels(uow: UnitOfWork, actor_id: int) -> list[PanelSummary]:
    """Panels with their member counts and facilitators."""
    with uow.reading() as s:
        reader(s, actor_id)
        counts = dict(s.execute(select(PanelMembership.panel_id, func.count()).group_by(
            PanelMembership.panel_id)).all())
        facilitators: dict[int, list[str]] = {}
        for pid, name in s.execute(select(PanelMembership.panel_id, Person.name).join(Person).where(
                PanelMembership.panel_role == "facilitator").order_by(Person.name)):
            facilitators.setdefault(pid, []).append(name)
        return [PanelSummary(id=p.id, name=p.name, area=p.area, site=p.site, programme_id=p.programme_id,
                             members=int(counts.get(p.id, 0)), facilitators=facilitators.get(p.id, []))
                for p in s.scalars(select(Panel).order_by(Panel.name))]


def panel_members(uow: UnitOfWork, actor_id: int, panel_id: int) -> list[PanelMember]:
    with uow.reading() as s:
        reader(s, actor_id)
        return [PanelMember(id=r.id, name=r.name, email=r.email, panel_role=r.panel_role) for r in s.execute(
            select(Person.id, Person.name, Person.email, PanelMembership.panel_role)
            .join(PanelMembership).where(PanelMembership.panel_id == panel_id).order_by(Person.name))]


def programmes(uow: UnitOfWork, actor_id: int) -> list[ProgrammeRow]:
    with uow.reading() as s:
        reader(s, actor_id)
        return [ProgrammeRow(id=p.id, name=p.name, description=p.description)
                for p in s.scalars(select(Programme).order_by(Programme.name))]


def charters(uow: UnitOfWork, actor_id: int) -> list[CharterVersion]:
    """Every charter version, newest first, with who adopted it and why."""
    with uow.reading() as s:
        reader(s, actor_id)
        rows = s.execute(select(Charter, Person.name).outerjoin(Person, Person.id == Charter.adopted_by)
                         .order_by(Charter.version.desc())).all()
        return [CharterVersion(id=charter.id, version=charter.version, terms=terms_of(charter),
                               adopted_by=charter.adopted_by, adopted_by_name=name or "—",
                               adopted_at=charter.adopted_at, reason=charter.reason)
                for charter, name in rows]


def charter_in_force(uow: UnitOfWork, actor_id: int) -> CharterTerms:
    """The terms of the charter in force (for forms that must stay within them)."""
    with uow.reading() as s:
        reader(s, actor_id)
        return charter_terms(s)[1]


def reminders_off(uow: UnitOfWork, person_id: int) -> bool:
    """Whether this person turned their reminders off (their own setting; any active person reads it)."""
    with uow.reading() as s:
        load_actor(s, person_id)
        return s.get(ReminderOptOut, person_id) is not None
