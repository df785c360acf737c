"""Who is signed in, and lists of people for forms and the Admin page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Charter, Organisation, Panel, PanelMembership, Person, PersonRole, Programme,
)
from governance.rules.permissions import Action
from governance.identity.actors import load_actor, require
from governance.queries._base import Page, like, paginate, reader
from governance.vocabulary import Role


@dataclass(frozen=True)
class Me:
    id: int
    name: str
    email: str
    roles: frozenset[Role]
    panels: list[dict[str, Any]]


def whoami(uow: UnitOfWork, person_id: int) -> Me | None:
    """The signed-in person as the database knows them now (None if gone or inactive)."""
    with uow.reading() as s:
        person = s.get(Person, person_id) if isinstance(person_id, int) else None
        if person is None or not person.active:
            return None
        actor = load_actor(s, person_id)
        panels = [{"id": r.id, "name": r.name, "role": r.panel_role} for r in s.execute(
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
                   search: str = "", limit: int = 500) -> list[dict[str, Any]]:
    """Active people (optionally with a role) for pickers: id, name, email."""
    with uow.reading() as s:
        reader(s, actor_id)
        q = select(Person.id, Person.name, Person.email).where(Person.active.is_(True))
        if role:
            q = q.where(Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role)))
        if search.strip():
            q = q.where(func.lower(Person.name).like(like(search), escape="\\")
                        | func.lower(Person.email).like(like(search), escape="\\"))
        return [dict(r._mapping) for r in s.execute(q.order_by(Person.name).limit(limit))]


def people_page(uow: UnitOfWork, actor_id: int, *, search: str = "", role: str | None = None,
                page: int = 1, per_page: int = 25) -> Page[dict[str, Any]]:
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
        return Page([{**dict(r._mapping), "roles": roles[r.id]} for r in rows], total, page, per_page)


def panels(uow: UnitOfWork, actor_id: int) -> list[dict[str, Any]]:
    """Panels with their member counts and facilitators."""
    with uow.reading() as s:
        reader(s, actor_id)
        counts = dict(s.execute(select(PanelMembership.panel_id, func.count()).group_by(
            PanelMembership.panel_id)).all())
        facilitators: dict[int, list[str]] = {}
        for pid, name in s.execute(select(PanelMembership.panel_id, Person.name).join(Person).where(
                PanelMembership.panel_role == "facilitator").order_by(Person.name)):
            facilitators.setdefault(pid, []).append(name)
        return [{"id": p.id, "name": p.name, "area": p.area, "site": p.site,
                 "programme_id": p.programme_id, "members": counts.get(p.id, 0),
                 "facilitators": facilitators.get(p.id, [])}
                for p in s.scalars(select(Panel).order_by(Panel.name))]


def panel_members(uow: UnitOfWork, actor_id: int, panel_id: int) -> list[dict[str, Any]]:
    with uow.reading() as s:
        reader(s, actor_id)
        return [dict(r._mapping) for r in s.execute(
            select(Person.id, Person.name, Person.email, PanelMembership.panel_role)
            .join(PanelMembership).where(PanelMembership.panel_id == panel_id).order_by(Person.name))]


def programmes(uow: UnitOfWork, actor_id: int) -> list[dict[str, Any]]:
    with uow.reading() as s:
        reader(s, actor_id)
        return [{"id": p.id, "name": p.name, "description": p.description}
                for p in s.scalars(select(Programme).order_by(Programme.name))]


def charters(uow: UnitOfWork, actor_id: int) -> list[dict[str, Any]]:
    """Every charter version, newest first, with who adopted it and why."""
    with uow.reading() as s:
        reader(s, actor_id)
        rows = s.execute(select(Charter, Person.name).outerjoin(Person, Person.id == Charter.adopted_by)
                         .order_by(Charter.version.desc())).all()
        out = []
        for charter, name in rows:
            d = {c.key: getattr(charter, c.key) for c in Charter.__table__.columns}
            d["adopted_by_name"] = name or "—"
            out.append(d)
        return out
