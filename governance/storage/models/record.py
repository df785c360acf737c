"""The audit record: events, chain head, checkpoints and witnesses; job leases and runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, NAME, Base, UtcDateTime


# ------------------------------------------------------------------- audit
class AuditEvent(Base):
    """R11: one entry of the append-only, hash-chained record."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_actor", "actor_id"),
        Index("ix_audit_event_action", "action"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(NAME))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    hash: Mapped[str] = mapped_column(String(HASH), unique=True)
    #: R18: HMAC of the hash under a key kept outside the database: an event appended by
    #: anyone but the application (who lacks the key) shows. Not part of the hashed event.
    mac: Mapped[str | None] = mapped_column(String(HASH))


class AuditChainHead(Base):
    """The chain's head (one row). Moves forward only (trigger-guarded), so a
    truncated tail is detectable; on PostgreSQL it is also the row writers lock."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(HASH))


class Checkpoint(Base):
    """R18: a signed note of the chain's head (C2SP signed-note "checkpoint" format)."""

    __tablename__ = "checkpoint"
    __table_args__ = (Index("ix_checkpoint_seq", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(HASH))
    origin: Mapped[str] = mapped_column(String(NAME))
    key_id: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(20))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CheckpointWitness(Base):
    """An auditor's cosignature of a checkpoint: they saw this head, and keep it."""

    __tablename__ = "checkpoint_witness"
    __table_args__ = (UniqueConstraint("checkpoint_id", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    witness_name: Mapped[str] = mapped_column(String(NAME))
    key_id: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[str] = mapped_column(String(100))
    cosignature: Mapped[str] = mapped_column(Text)
    witnessed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobLease(Base):
    """One runner at a time for each scheduled job (``python -m governance.jobs run``)."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobRun(Base):
    """What each run of the scheduled jobs did (shown on the Admin page)."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    holder: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="{}")
