"""Helpers every use case shares: loading by id, recording the audit event,
membership and team checks."""
from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.errors import NotFound, PermissionDenied
from governance.identity.actors import Actor
from governance.record.events import Event
from governance.record.log import append
from governance.storage.db import UnitOfWork
from governance.storage.models import (
    Base,
    PanelMembership,
    Person,
    Pilot,
    PilotTeamMember,
    RosterEntry,
    SourceFile,
)
from governance.storage.repository import local_today
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


def need(row: M | None, what: str) -> M:
    """A row a foreign key promises (a missing one means the record was tampered with)."""
    if row is None:
        raise NotFound(f"The {what} this refers to is missing from the record; tell your administrator.")
    return row


def log(uow: UnitOfWork, actor: Actor | None, event: Event) -> None:
    """Append the audit event for this change, in the same transaction (R11)."""
    append(session_of(uow), actor, event, uow.now(), uow.keys.record_mac_key())


def panel_role(session: Session, panel_id: int | None, person_id: int) -> PanelRole | None:
    role = session.scalar(select(PanelMembership.panel_role).where(
        PanelMembership.panel_id == panel_id, PanelMembership.person_id == person_id))
    return PanelRole(role) if role else None


def is_on_team(session: Session, pilot_id: int, person_id: int) -> bool:
    """Whether the person is on the pilot's commissioning team now."""
    row = session.get(PilotTeamMember, (pilot_id, person_id))
    return row is not None and row.removed_at is None


def is_rostered(session: Session, pilot_id: int, person_id: int) -> bool:
    return session.get(RosterEntry, (pilot_id, person_id)) is not None


def require_team(session: Session, actor: Actor, pilot: Pilot, doing: str) -> None:
    """Only the pilot's own commissioning team manages it."""
    if not is_on_team(session, pilot.id, actor.id):
        raise PermissionDenied(
            f"{actor.name} is not on the commissioning team of '{pilot.title}', so may not {doing}. "
            "Ask the pilot's owner to add you to the team.", rule="R14")


def person(session: Session, person_id: Any, what: str = "person") -> Person:
    row = get(session, Person, person_id, what)
    if not row.active:
        raise NotFound(f"{row.name} is no longer active; choose someone else.")
    return row


def refuse_repeated_file(session: Session, pilot: Pilot, filename: str, sha256: str) -> None:
    """A file already imported for this pilot (same SHA-256) would double its rows: refuse it,
    naming the earlier import."""
    from governance.csvfiles import FileRejected

    earlier = session.scalars(select(SourceFile).where(SourceFile.pilot_id == pilot.id,
                                                       SourceFile.sha256 == sha256)
                              .order_by(SourceFile.id).limit(1)).first()
    if earlier is None:
        return
    who = session.get(Person, earlier.imported_by)
    raise FileRejected(filename, [(0, f"this exact file (SHA-256 {sha256[:12]}…) was already imported for "
                                      f"'{pilot.title}' as '{earlier.filename}' on "
                                      f"{earlier.imported_at:%d %b %Y %H:%M} UTC by "
                                      f"{who.name if who else 'someone'}; importing it again would count "
                                      "its rows twice")])


def today(uow: UnitOfWork) -> date:
    """Today in the organisation's time zone (a measurement's date, a due date are its days)."""
    return local_today(session_of(uow), uow.now())
