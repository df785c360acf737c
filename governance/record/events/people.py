"""Audit events of the organisation: people, roles, programmes, panels, the charter, sign-in."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from governance.record.events.base import Event, event

DEMO_BUILT = "organisation.demo_built"


def organisation_initialised(*, person_id: int, name: str, email: str, roles: Sequence[str],
                             organisation: str) -> Event:
    """The first event of every record: the organisation, and its first administrator."""
    return event("organisation.initialised", ("person", person_id),
                 after={"id": person_id, "name": name, "email": email, "roles": list(roles)},
                 organisation=organisation)


def charter_adopted(*, charter_id: int, version: int, terms: Mapping[str, Any], reason: str,
                    before_terms: Mapping[str, Any] | None = None) -> Event:
    """A charter version adopted: its terms, what changed from the one before (none for v1), why."""
    before = dict(before_terms) if before_terms is not None else None
    changed = {k: {"before": before[k], "after": v} for k, v in terms.items()
               if before is not None and before.get(k) != v}
    return event("charter.adopted", ("charter", charter_id), before=before, after=dict(terms),
                 version=version, changed=changed, reason=reason)


def person_created(*, person_id: int, name: str, email: str, roles: Sequence[str],
                   password_set: bool) -> Event:
    return event("person.created", ("person", person_id),
                 after={"id": person_id, "name": name, "email": email, "roles": list(roles),
                        "password_set": password_set})


def roles_changed(*, person_id: int, before: Sequence[str], after: Sequence[str]) -> Event:
    return event("person.roles_changed", ("person", person_id), before={"roles": list(before)},
                 after={"roles": list(after)})


def password_set(*, person_id: int, by_self: bool) -> Event:
    return event("person.password_set", ("person", person_id), after={"by_self": by_self})


def person_deactivated(*, person_id: int, reason: str) -> Event:
    return event("person.deactivated", ("person", person_id), before={"active": True},
                 after={"active": False}, reason=reason)


def signed_in(*, person_id: int, method: str) -> Event:
    return event("person.signed_in", ("person", person_id), after={"method": method})


def sign_in_failed(*, person_id: int, failed_sign_ins: int) -> Event:
    return event("person.sign_in_failed", ("person", person_id), after={"failed_sign_ins": failed_sign_ins})


def locked_out(*, person_id: int, locked_until: datetime) -> Event:
    return event("person.locked_out", ("person", person_id), after={"locked_until": locked_until})


def programme_created(*, programme_id: int, name: str, description: str, created_at: datetime) -> Event:
    return event("programme.created", ("programme", programme_id),
                 after={"id": programme_id, "name": name, "description": description,
                        "created_at": created_at})


def panel_created(*, panel_id: int, name: str, area: str, site: str, programme_id: int | None,
                  created_at: datetime) -> Event:
    return event("panel.created", ("panel", panel_id),
                 after={"id": panel_id, "name": name, "area": area, "site": site,
                        "programme_id": programme_id, "created_at": created_at})


def panel_member_added(*, panel_id: int, person_id: int, name: str, role: str) -> Event:
    return event("panel.member_added", ("panel", panel_id),
                 after={"person_id": person_id, "name": name, "role": role})


def panel_member_role_changed(*, panel_id: int, person_id: int, before: str, after: str) -> Event:
    return event("panel.member_role_changed", ("panel", panel_id),
                 before={"person_id": person_id, "role": before}, after={"person_id": person_id, "role": after})


def panel_member_removed(*, panel_id: int, person_id: int, role: str) -> Event:
    return event("panel.member_removed", ("panel", panel_id), before={"person_id": person_id, "role": role})


def demo_built(*, people: Sequence[Mapping[str, Any]]) -> Event:
    return event(DEMO_BUILT, ("organisation", "demo"), after={"people": [dict(p) for p in people]})
