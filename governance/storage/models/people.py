"""Organisation, people and their roles, sign-in, programmes and panels."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, NAME, TITLE, Base, UtcDateTime, _in
from governance.vocabulary import (
    PanelRole,
    Role,
)


# ------------------------------------------------------------ organisation
class Organisation(Base):
    """The organisation this database serves (one row, written by ``python -m governance init``)."""

    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(TITLE))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# ------------------------------------------------------------------ people
class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    #: Set by an administrator or ``init``: works once, then must be replaced.
    password_temporary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInSession(Base):
    """A signed-in browser (``governance.identity.sessions``): only hashes of its
    ticket and token are kept; it ends on sign-out, password change or idleness."""

    __tablename__ = "sign_in_session"
    __table_args__ = (Index("ix_sign_in_session_person", "person_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    method: Mapped[str] = mapped_column(String(40))
    ticket_sha256: Mapped[str | None] = mapped_column(String(HASH), unique=True)
    ticket_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The signing-in browser's XSRF token digest: only that browser redeems the ticket.
    ticket_binding: Mapped[str | None] = mapped_column(String(HASH))
    token_sha256: Mapped[str | None] = mapped_column(String(HASH))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class SignInThrottle(Base):
    """Failed sign-ins counted per typed account and per client address (hashed keys)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Attempts refused while a delay ran since the last recorded event (not each audited).
    refused: Mapped[int] = mapped_column(Integer, default=0)


class KnownAddress(Base):
    """An address a person signed in from successfully: their own failures elsewhere do not slow it."""

    __tablename__ = "known_address"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonRole(Base):
    __tablename__ = "person_role"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role_known"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Programme(Base):
    """The strategic frame leadership sets: where pilots may happen."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TITLE), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Panel(Base):
    __tablename__ = "panel"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TITLE), unique=True)
    area: Mapped[str] = mapped_column(String(TITLE), default="")
    site: Mapped[str] = mapped_column(String(TITLE), default="")
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PanelMembership(Base):
    __tablename__ = "panel_membership"
    __table_args__ = (
        CheckConstraint(_in("panel_role", PanelRole), name="panel_role_known"),
        Index("ix_panel_membership_person", "person_id"),
    )

    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    panel_role: Mapped[str] = mapped_column(String(20))
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
