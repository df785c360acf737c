"""Audit events of the organisation: people, roles, programmes, panels, the charter, sign-in."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from governance.record.events.base import Event, event

DEMO_BUILT = "organisation.demo_built"


def organisation_initialised(*, person_id: int, name: str, email: str, roles: Sequence[str],
                             organisation: str | None = None, password: str | None = None) -> Event:
    """The organisation set up with its first administrator. ``password`` says how
    the administrator signs in ("one-time", "oidc", "set"): never the password."""
    extra: dict[str, Any] = {}
    if organisation is not None:
        extra["organisation"] = organisation
    if password is not None:
        extra["sign_in"] = password
    return event("organisation.initialised", ("person", person_id),
                 after={"id": person_id, "name": name, "email": email, "roles": list(roles)}, **extra)


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


def password_set(*, person_id: int, by_self: bool, temporary: bool = False,
                 sessions_revoked: int = 0) -> Event:
    """A password set or changed (never the password itself): by the person, or by an
    administrator as a temporary one; the sessions it ended."""
    return event("person.password_set", ("person", person_id),
                 after={"by_self": by_self, "temporary": temporary}, sessions_revoked=sessions_revoked)


def password_rehashed(*, person_id: int, scheme_before: str, scheme_after: str) -> Event:
    """A stored hash upgraded at sign-in (e.g. scrypt → Argon2id); the password did not change."""
    return event("person.password_rehashed", ("person", person_id), before={"scheme": scheme_before},
                 after={"scheme": scheme_after})


def person_reactivated(*, person_id: int, reason: str) -> Event:
    return event("person.reactivated", ("person", person_id), before={"active": False},
                 after={"active": True}, reason=reason)


def person_renamed(*, person_id: int, before: str, after: str) -> Event:
    return event("person.renamed", ("person", person_id), before={"name": before}, after={"name": after})


def person_deactivated(*, person_id: int, reason: str) -> Event:
    return event("person.deactivated", ("person", person_id), before={"active": True},
                 after={"active": False}, reason=reason)


def signed_in(*, person_id: int, method: str, session_id: int | None = None, address: str | None = None,
              must_change_password: bool = False) -> Event:
    """A successful sign-in: how, which session, a short hash of the client address."""
    extra: dict[str, Any] = {}
    if session_id is not None:
        extra.update(session_id=session_id, address=address, must_change_password=must_change_password)
    return event("person.signed_in", ("person", person_id), after={"method": method}, **extra)


def sign_in_failed(*, person_id: int | None, reason: str, failures: int, address: str | None) -> Event:
    """A failed password sign-in. ``person_id`` None: the email names nobody (the typed
    email is not recorded — people type passwords into the wrong box). ``reason``:
    "wrong_password", "unknown_account", "inactive" or "no_password"."""
    entity = ("person", person_id) if person_id is not None else ("sign_in", "unknown")
    return event("person.sign_in_failed", entity, after={"reason": reason, "failures": failures},
                 address=address)


def sign_in_throttled(*, person_id: int | None, scope: str, failures: int, wait_seconds: float,
                      address: str | None, refused_since_last: int) -> Event:
    """Attempts are being slowed down (``scope``: "account" or "address"). Recorded once
    per delay, not once per refused attempt, so hammering cannot flood the record."""
    entity = ("person", person_id) if person_id is not None else ("sign_in", "unknown")
    return event("person.sign_in_throttled", entity,
                 after={"scope": scope, "failures": failures, "wait_seconds": wait_seconds},
                 address=address, refused_since_last=refused_since_last)


def signed_out(*, person_id: int, session_id: int, reason: str) -> Event:
    """A session ended: "signed_out", "idle", "expired" or "password_changed"."""
    return event("person.signed_out", ("person", person_id), after={"session_id": session_id,
                                                                   "reason": reason})


def people_imported(*, filename: str, sha256: str, rows: int, created: int, updated: int,
                    memberships: int, panels_created: int) -> Event:
    """A file of people and panels imported (each change also has its own event)."""
    return event("people.imported", ("people_file", sha256[:16]),
                 after={"filename": filename, "sha256": sha256, "rows": rows, "created": created,
                        "updated": updated, "memberships": memberships, "panels_created": panels_created})


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
