"""Helpers every use case shares: loading by id, auditing, membership checks."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance import audit
from governance.db import UnitOfWork
from governance.errors import NotFound, PermissionDenied
from governance.models import (
    Base, Charter, PanelMembership, Person, Pilot, PilotTeamMember, RosterEntry,
)
from governance.permissions import Actor
from governance.validation import an_id
from governance.vocabulary import PanelRole

M = TypeVar("M", bound=Base)


def session_of(uow: UnitOfWork) -> Session:
    assert uow.session is not None, "use cases run inside @use_case"
    return uow.session


def get(session: Session, model: type[M], ident: Any, what: str) -> M:
    """The row with this id, or a NotFound naming what was looked for."""
    an_id(ident, f"The {what} id")
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"There is no {what} #{ident}; it may have been removed or the link is "
                       "out of date. Reload the page and choose again.")
    return row


def log(uow: UnitOfWork, actor: Actor | None, action: str, entity: Base | tuple[str, Any], *,
        before: Any = None, after: Any = None, **extra: Any) -> None:
    """Append the audit event for this change (same transaction)."""
    if isinstance(entity, tuple):
        entity_type, entity_id = entity
    else:
        entity_type, entity_id = entity.__tablename__, getattr(entity, "id")
    audit.record(session_of(uow), actor=actor.person if actor else None, action=action,
                 entity_type=entity_type, entity_id=entity_id, occurred_at=uow.now(),
                 before=before, after=after, **extra)


def snapshot(row: Base, *fields: str) -> dict[str, Any]:
    """Selected column values of a row, for an audit payload."""
    names = fields or tuple(c.key for c in row.__table__.columns)
    return {name: audit.jsonable(getattr(row, name)) for name in names}


def panel_role(session: Session, panel_id: int, person_id: int) -> PanelRole | None:
    role = session.scalar(select(PanelMembership.panel_role).where(
        PanelMembership.panel_id == panel_id, PanelMembership.person_id == person_id))
    return PanelRole(role) if role else None


def is_on_team(session: Session, pilot_id: int, person_id: int) -> bool:
    return session.get(PilotTeamMember, (pilot_id, person_id)) is not None


def is_rostered(session: Session, pilot_id: int, person_id: int) -> bool:
    return session.get(RosterEntry, (pilot_id, person_id)) is not None


def require_team(session: Session, actor: Actor, pilot: Pilot, doing: str) -> None:
    """Only the pilot's own commissioning team manages it."""
    if not is_on_team(session, pilot.id, actor.id):
        raise PermissionDenied(
            f"{actor.name} is not on the commissioning team of '{pilot.title}', so may not {doing}. "
            "Ask the pilot's owner to add you to the team.")


def current_charter(session: Session) -> Charter:
    charter = session.scalar(select(Charter).order_by(Charter.version.desc()).limit(1))
    if charter is None:
        raise NotFound("No charter has been adopted yet; an administrator must initialise the "
                       "organisation first.")
    return charter


def person(session: Session, person_id: Any, what: str = "person") -> Person:
    row = get(session, Person, person_id, what)
    if not row.active:
        raise NotFound(f"{row.name} is no longer active; choose someone else.")
    return row


def today(uow: UnitOfWork) -> date:
    return uow.now().date()


def iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()
