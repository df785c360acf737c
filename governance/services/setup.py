"""First set-up: the organisation, charter version 1 and the first administrator."""
from __future__ import annotations

from sqlalchemy import func, select

from governance.errors import RuleViolation
from governance.identity.actors import Actor
from governance.identity.passwords import hash_password, require_acceptable
from governance.record.events import people as events
from governance.rules.charter import CharterTerms, validate_charter
from governance.services._base import log, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import Charter, Organisation, Person, PersonRole
from governance.validation import NAME_MAX, TITLE_MAX, email as email_address, text
from governance.vocabulary import Role

#: How the first administrator signs in, as the audit record says it.
SIGN_IN_ONE_TIME, SIGN_IN_OIDC, SIGN_IN_PASSWORD = "one-time password", "identity provider", "password"
FIRST_CHARTER_REASON = "Default charter adopted when the organisation was set up."


@use_case
def initialise_organisation(uow: UnitOfWork, *, admin_name: str, admin_email: str,
                            admin_password: str | None = None, temporary: bool = False,
                            organisation: str = "Organisation", country: str | None = None,
                            terms: CharterTerms | None = None) -> int:
    """Create the organisation, its first administrator and charter version 1.

    Only on a database that holds no organisation and nobody yet; returns the
    administrator's id. ``admin_password`` None: the administrator signs in
    through the organisation's identity provider. ``temporary``: the password
    works once and must then be replaced (what ``python -m governance init``
    prints). ``country`` names whose public holidays are not working days."""
    s = session_of(uow)
    if s.get(Organisation, 1) is not None or s.scalar(select(func.count()).select_from(Person)):
        existing = s.get(Organisation, 1)
        named = f" ('{existing.name}')" if existing else ""
        raise RuleViolation(f"This database already holds an organisation{named}; it is set up only once. "
                            "Sign in as an administrator to add people, or point DATABASE_URL at an empty "
                            "database.")
    org_name = text(organisation, "Organisation name", max_len=TITLE_MAX)
    name = text(admin_name, "Name", max_len=NAME_MAX)
    address = email_address(admin_email, "Administrator's email")
    base = terms or CharterTerms()
    chosen = validate_charter(**{**base.as_dict(), **({"country": country} if country is not None else {})})
    pw_hash = hash_password(require_acceptable(admin_password)) if admin_password is not None else None
    now = uow.now()
    s.add(Organisation(id=1, name=org_name, created_at=now))
    admin = Person(name=name, email=address, password_hash=pw_hash,
                   password_temporary=bool(temporary and pw_hash), active=True, created_at=now)
    s.add(admin)
    s.flush()
    s.add(PersonRole(person_id=admin.id, role=Role.ADMIN))
    actor = Actor(admin.id, admin.name, frozenset({Role.ADMIN}))
    how = SIGN_IN_OIDC if pw_hash is None else SIGN_IN_ONE_TIME if temporary else SIGN_IN_PASSWORD
    log(uow, actor, events.organisation_initialised(person_id=admin.id, name=admin.name, email=admin.email,
                                                     roles=[Role.ADMIN], organisation=org_name, password=how))
    charter = Charter(version=1, **chosen.row_values(), adopted_by=admin.id, adopted_at=now,
                      reason=FIRST_CHARTER_REASON)
    s.add(charter)
    s.flush()
    log(uow, actor, events.charter_adopted(charter_id=charter.id, version=1, terms=chosen.as_dict(),
                                           reason=charter.reason))
    return admin.id
