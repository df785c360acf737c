"""Who is acting: the person and the roles the database holds for them *now*.

Every use case and every read model starts here. Roles are read at call
time, never taken from the UI or a cache, so a revoked role stops working at
once; the permission table itself is ``governance.rules.permissions``.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.errors import PermissionDenied
from governance.rules.permissions import Action, allowed, refusal
from governance.storage.models import Person, PersonRole
from governance.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """The acting person: id, name and the roles held right now."""

    id: int
    name: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles


def roles_of(session: Session, person_id: int) -> frozenset[Role]:
    """The organisation roles a person holds, as the database says now."""
    rows = session.scalars(select(PersonRole.role).where(PersonRole.person_id == person_id))
    return frozenset(Role(r) for r in rows)


def load_actor(session: Session, actor_id: object) -> Actor:
    """The active person ``actor_id`` with their current roles, or ``PermissionDenied``."""
    # bool is an int subclass: True must not act as person #1.
    valid = isinstance(actor_id, int) and not isinstance(actor_id, bool)
    person = session.get(Person, actor_id) if valid else None
    if person is None or not person.active:
        raise PermissionDenied("You are not signed in as an active person; sign in again.")
    return Actor(person.id, person.name, roles_of(session, person.id))


def require(session: Session, actor_id: object, action: Action) -> Actor:
    """The actor, if the permission table lets one of their roles do ``action`` (R14)."""
    actor = load_actor(session, actor_id)
    if not allowed(actor.roles, action):
        raise PermissionDenied(refusal(actor.name, actor.roles, action))
    return actor
