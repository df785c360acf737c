"""Problems, their versions, criteria, criteria locks and amendments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, NAME, TITLE, Base, UtcDateTime, _in
from governance.vocabulary import (
    AmendmentStatus,
    Direction,
    ProblemState,
)


# ---------------------------------------------------------------- problems
class Problem(Base):
    """A recurring friction in frontline work, owned by a panel. Versioned."""

    __tablename__ = "problem"
    __table_args__ = (
        CheckConstraint(_in("state", ProblemState), name="state_known"),
        Index("ix_problem_panel_state", "panel_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    state: Mapped[str] = mapped_column(String(20), default=ProblemState.DRAFT)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProblemVersion(Base):
    __tablename__ = "problem_version"
    __table_args__ = (
        UniqueConstraint("problem_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(TITLE))
    statement: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ratified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ratified_by_vote_id: Mapped[int | None] = mapped_column(Integer)


class ProblemReopening(Base):
    """R10: a failed evaluation reopened the problem as a new version."""

    __tablename__ = "problem_reopening"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_version_id: Mapped[int] = mapped_column(ForeignKey("problem_version.id"), unique=True)
    pilot_id: Mapped[int | None] = mapped_column(ForeignKey("pilot.id"))
    reason: Mapped[str] = mapped_column(Text)
    reopened_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    reopened_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProblemComment(Base):
    """R2: commissioning and steering read and comment; they do not edit."""

    __tablename__ = "problem_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Criterion(Base):
    """A frontline success criterion of one problem version."""

    __tablename__ = "criterion"
    __table_args__ = (
        UniqueConstraint("problem_version_id", "name"),
        CheckConstraint(_in("direction", Direction), name="direction_known"),
        CheckConstraint("minimum_evidence >= 1", name="minimum_evidence_positive"),
        CheckConstraint("NOT is_indispensability OR (target > 0 AND target <= 1)",
                        name="threshold_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_version_id: Mapped[int] = mapped_column(ForeignKey("problem_version.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME))
    definition: Mapped[str] = mapped_column(Text)
    measurement_method: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(20))
    target: Mapped[float] = mapped_column(Float)
    minimum_evidence: Mapped[int] = mapped_column(Integer)
    is_indispensability: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CriteriaLock(Base):
    """R3 pre-registration: the frozen criteria set of a problem version."""

    __tablename__ = "criteria_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_version_id: Mapped[int] = mapped_column(ForeignKey("problem_version.id"), unique=True)
    locked_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    locked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    criteria_sha256: Mapped[str] = mapped_column(String(HASH))
    criteria_json: Mapped[str] = mapped_column(Text)


class Amendment(Base):
    """R4: a change to a locked criterion or metric; the original stays visible."""

    __tablename__ = "amendment"
    __table_args__ = (
        CheckConstraint(_in("status", AmendmentStatus), name="status_known"),
        CheckConstraint("(criterion_id IS NULL) <> (metric_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id"), index=True)
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("commissioning_metric.id"), index=True)
    before_json: Mapped[str] = mapped_column(Text)
    after_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    proposed_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    after_real_use: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Hash of the criteria set (or metric set) once this amendment applied.
    resulting_sha256: Mapped[str | None] = mapped_column(String(HASH))
