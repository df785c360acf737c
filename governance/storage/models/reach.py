"""Reaching people where they are (issue 15): personal one-time links, reminders by email and
who has turned reminders off."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, Base, UtcDateTime


class PersonalLink(Base):
    """A personal one-time link for one person and one act (a survey round or a vote).

    Only the SHA-256 of its token is kept. It expires at ``expires_at`` (a vote's deadline;
    for a survey round, which has no deadline, a fixed time after issue — and in any case
    when the round closes), works for one act (``used_at``), and ends when a newer link
    for the same person and act is issued (``revoked_at``)."""

    __tablename__ = "personal_link"
    __table_args__ = (
        CheckConstraint("(vote_id IS NULL) <> (round_id IS NULL)", name="one_act"),
        Index("ix_personal_link_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("survey_round.id"))
    token_sha256: Mapped[str] = mapped_column(String(HASH), unique=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReminderSent(Base):
    """One reminder to one person about one thing (``subject``, e.g. "vote:12"): never sent twice.

    A failed attempt is kept with its error and retried by later runs, at most
    ``attempts`` times in all (``governance.reminders.MAX_ATTEMPTS``)."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("person_id", "kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReminderOptOut(Base):
    """Someone who turned reminders off for themselves."""

    __tablename__ = "reminder_opt_out"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UtcDateTime)
