"""Pilots: teams, rosters, commissioning metrics, readiness, measurements, usage."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, NAME, TITLE, Base, UtcDateTime, _in
from governance.vocabulary import (
    Direction,
    MeasurementSource,
    Outcome,
    PilotState,
    ReadinessItem,
)


# ------------------------------------------------------------------ pilots
class Pilot(Base):
    __tablename__ = "pilot"
    __table_args__ = (
        CheckConstraint(_in("state", PilotState), name="state_known"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', Outcome)}", name="outcome_known"),
        Index("ix_pilot_state", "state"),
        Index("ix_pilot_problem", "problem_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    problem_version_id: Mapped[int] = mapped_column(ForeignKey("problem_version.id"))
    title: Mapped[str] = mapped_column(String(TITLE), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    registered_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(20), default=PilotState.REGISTERED)
    ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    real_use_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    metrics_sha256: Mapped[str | None] = mapped_column(String(HASH))
    metrics_json: Mapped[str | None] = mapped_column(Text)
    evaluating_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))


class PilotTeamMember(Base):
    """The pilot's commissioning team (conflict of interest, R8, R15).

    A person joins by accepting an invitation; the team freezes when real use
    starts. A removal keeps the row (``removed_at``): whoever was on the team
    when real use started stays excluded from the frontline group of that pilot.
    """

    __tablename__ = "pilot_team_member"
    __table_args__ = (Index("ix_pilot_team_member_person", "person_id"),)

    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[int | None] = mapped_column(Integer)
    removed_reason: Mapped[str | None] = mapped_column(Text)


class TeamInvitation(Base):
    """R15: joining a commissioning team needs the person's own acceptance."""

    __tablename__ = "team_invitation"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'void')", name="status_known"),
        Index("uq_team_invitation_pending", "pilot_id", "person_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        Index("ix_team_invitation_person", "person_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    invited_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    invited_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RosterEntry(Base):
    """A frontline person who will really use the pilot."""

    __tablename__ = "roster_entry"
    __table_args__ = (Index("ix_roster_entry_person", "person_id"),)

    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    added_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RosterChange(Base):
    """R15: every addition to and removal from a roster, with its reason, kept for
    the evidence ("roster changed after real use: +a −r")."""

    __tablename__ = "roster_change"
    __table_args__ = (
        CheckConstraint("change IN ('added', 'removed')", name="change_known"),
        Index("ix_roster_change_pilot", "pilot_id", "after_real_use"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    change: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    after_real_use: Mapped[bool] = mapped_column(Boolean, default=False)


class CommissioningMetric(Base):
    __tablename__ = "commissioning_metric"
    __table_args__ = (
        UniqueConstraint("pilot_id", "name"),
        CheckConstraint(_in("direction", Direction), name="direction_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME))
    definition: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(20))
    target: Mapped[float] = mapped_column(Float)
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReadinessRecord(Base):
    __tablename__ = "readiness_record"
    __table_args__ = (CheckConstraint(_in("item", ReadinessItem), name="item_known"),)

    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(40), primary_key=True)
    detail: Mapped[str] = mapped_column(Text)
    on_date: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReadinessWaiver(Base):
    """R5: a recorded steering decision, with reason, to start before readiness."""

    __tablename__ = "readiness_waiver"

    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    waived_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    waived_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SourceFile(Base):
    """An imported file: what it was, its SHA-256 and who imported it."""

    __tablename__ = "source_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(HASH))
    byte_size: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Measurement(Base):
    __tablename__ = "measurement"
    __table_args__ = (
        CheckConstraint("(criterion_id IS NULL) <> (metric_id IS NULL)", name="one_subject"),
        CheckConstraint(_in("source", MeasurementSource), name="source_known"),
        Index("ix_measurement_metric_date", "metric_id", "observed_on"),
        Index("ix_measurement_criterion_date", "criterion_id", "observed_on"),
        Index("ix_measurement_pilot", "pilot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id"))
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("commissioning_metric.id"))
    value: Mapped[float] = mapped_column(Float)
    observed_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("source_file.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UsageWeek(Base):
    """Weekly active users against eligible users (real vs thin adoption)."""

    __tablename__ = "usage_week"
    __table_args__ = (
        UniqueConstraint("pilot_id", "week_start"),
        CheckConstraint("active_users >= 0 AND eligible_users >= 0 AND active_users <= eligible_users",
                        name="counts_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    week_start: Mapped[date] = mapped_column(Date)
    active_users: Mapped[int] = mapped_column(Integer)
    eligible_users: Mapped[int] = mapped_column(Integer)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
