"""The data model (SQLAlchemy 2.x declarative).

Tables are named after the domain language (docs/domain.md). Values that
must never change once written (audit events, criteria locks and locked
criteria, decisions, ballots of closed votes, responses of closed rounds,
checkpoints) are additionally guarded by database triggers, created in the
Alembic migrations (docs/record.md).
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from governance.vocabulary import (
    AmendmentStatus,
    Direction,
    FeedbackKind,
    MeasurementSource,
    Outcome,
    PanelOption,
    PanelRole,
    PilotState,
    ProblemState,
    ReadinessItem,
    Role,
    SurveyAnswer,
    VoteKind,
    VoteStatus,
    VotingGroup,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable); always returned timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


TITLE = 200
NAME = 120
LONG_TEXT = 4000
HASH = 64


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


# ----------------------------------------------------------------- charter
class Charter(Base):
    """The organisation's decision rules (R8). Versioned; never edited in place."""

    __tablename__ = "charter"
    __table_args__ = (
        CheckConstraint("weight_frontline >= 0 AND weight_frontline <= 1 AND weight_commissioning >= 0 "
                        "AND weight_commissioning <= 1 AND weight_steering >= 0 AND weight_steering <= 1",
                        name="weights_in_range"),
        CheckConstraint("quorum_frontline >= 0 AND quorum_frontline <= 1 AND quorum_commissioning >= 0 "
                        "AND quorum_commissioning <= 1 AND quorum_steering >= 0 AND quorum_steering <= 1",
                        name="quorums_in_range"),
        CheckConstraint("min_survey_responses >= 5", name="min_responses_at_least_5"),
        CheckConstraint("indispensability_threshold > 0 AND indispensability_threshold <= 1",
                        name="threshold_in_range"),
        CheckConstraint("evaluation_window_days >= 1", name="window_positive"),
        CheckConstraint("feedback_response_working_days >= 1", name="response_time_positive"),
        CheckConstraint("vote_min_days >= 1 AND vote_max_days >= vote_min_days", name="vote_days_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    weight_frontline: Mapped[float] = mapped_column(Float)
    weight_commissioning: Mapped[float] = mapped_column(Float)
    weight_steering: Mapped[float] = mapped_column(Float)
    quorum_frontline: Mapped[float] = mapped_column(Float)
    quorum_commissioning: Mapped[float] = mapped_column(Float)
    quorum_steering: Mapped[float] = mapped_column(Float)
    frontline_veto: Mapped[bool] = mapped_column(Boolean)
    evaluation_window_days: Mapped[int] = mapped_column(Integer)
    min_survey_responses: Mapped[int] = mapped_column(Integer)
    indispensability_threshold: Mapped[float] = mapped_column(Float)
    allow_adopt_override: Mapped[bool] = mapped_column(Boolean)
    feedback_response_working_days: Mapped[int] = mapped_column(Integer)
    vote_min_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    vote_max_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    #: JSON list of the voting groups whose ballots are secret (R17).
    secret_groups: Mapped[str] = mapped_column(Text, default='["frontline"]', server_default='["frontline"]')
    #: ISO 3166 code whose public holidays are not working days ("" = Monday–Friday only).
    country: Mapped[str] = mapped_column(String(2), default="", server_default=text("''"))
    adopted_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    adopted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)


# ------------------------------------------------------------------ survey
class SurveyRound(Base):
    __tablename__ = "survey_round"
    __table_args__ = (UniqueConstraint("pilot_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    number: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Counts of the round's *current* responses, kept by the use case that
    # records a response (same transaction), so evidence reads one row instead
    # of counting thousands. Column names are the SurveyAnswer values.
    responses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    very_disappointed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    somewhat_disappointed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_disappointed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    no_longer_use: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sus_total: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    sus_responses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SurveyResponse(Base):
    """One answer of a rostered user; a revision replaces it (history kept)."""

    __tablename__ = "survey_response"
    __table_args__ = (
        CheckConstraint(_in("answer", SurveyAnswer), name="answer_known"),
        CheckConstraint(" AND ".join(f"(sus_{i} IS NULL OR sus_{i} BETWEEN 1 AND 5)" for i in range(1, 11)),
                        name="sus_items_in_range"),
        CheckConstraint("sus_score IS NULL OR (sus_score >= 0 AND sus_score <= 100)", name="sus_in_range"),
        Index("uq_survey_response_current", "round_id", "person_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_survey_response_round_current", "round_id", "is_current", "answer"),
        Index("ix_survey_response_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    answer: Mapped[str] = mapped_column(String(30))
    sus_1: Mapped[int | None] = mapped_column(SmallInteger)
    sus_2: Mapped[int | None] = mapped_column(SmallInteger)
    sus_3: Mapped[int | None] = mapped_column(SmallInteger)
    sus_4: Mapped[int | None] = mapped_column(SmallInteger)
    sus_5: Mapped[int | None] = mapped_column(SmallInteger)
    sus_6: Mapped[int | None] = mapped_column(SmallInteger)
    sus_7: Mapped[int | None] = mapped_column(SmallInteger)
    sus_8: Mapped[int | None] = mapped_column(SmallInteger)
    sus_9: Mapped[int | None] = mapped_column(SmallInteger)
    sus_10: Mapped[int | None] = mapped_column(SmallInteger)
    sus_score: Mapped[float | None] = mapped_column(Float)
    use_instead: Mapped[str] = mapped_column(Text, default="")
    main_benefit: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


# ------------------------------------------------------------------- votes
class Vote(Base):
    """A binding vote: a pilot outcome (R8) or a panel decision."""

    __tablename__ = "vote"
    __table_args__ = (
        CheckConstraint(_in("kind", VoteKind), name="kind_known"),
        CheckConstraint(_in("status", VoteStatus), name="status_known"),
        Index("ix_vote_status_deadline", "status", "deadline"),
        Index("ix_vote_pilot", "pilot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    pilot_id: Mapped[int | None] = mapped_column(ForeignKey("pilot.id"))
    problem_version_id: Mapped[int | None] = mapped_column(ForeignKey("problem_version.id"))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendment.id"))
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panel.id"))
    question: Mapped[str] = mapped_column(Text)
    charter_id: Mapped[int] = mapped_column(ForeignKey("charter.id"))
    proposed_outcome: Mapped[str | None] = mapped_column(String(20))
    adopt_available: Mapped[bool] = mapped_column(Boolean, default=True)
    evidence_json: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default=VoteStatus.OPEN)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result_json: Mapped[str | None] = mapped_column(Text)
    quorum_met: Mapped[bool | None] = mapped_column(Boolean)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(20))
    #: JSON list of the groups whose ballots are secret, fixed when the vote opened
    #: (R17); NULL for votes opened before secret ballots existed (all on the record).
    secret_groups: Mapped[str | None] = mapped_column(Text)


class VoteEligibility(Base):
    """Who may vote, in which group — fixed when the vote opens."""

    __tablename__ = "vote_eligibility"
    __table_args__ = (
        CheckConstraint(_in("voting_group", VotingGroup), name="group_known"),
        Index("ix_vote_eligibility_person", "person_id"),
    )

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    voting_group: Mapped[str] = mapped_column(String(20))


class Ballot(Base):
    """One ballot; a change adds a new current ballot and keeps the old one."""

    __tablename__ = "ballot"
    __table_args__ = (
        CheckConstraint(_in("voting_group", VotingGroup), name="group_known"),
        CheckConstraint(_in("option", [*Outcome, *PanelOption]), name="option_known"),
        Index("uq_ballot_current", "vote_id", "person_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_ballot_vote_current", "vote_id", "is_current", "voting_group", "option"),
        Index("ix_ballot_person", "person_id", "is_current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    voting_group: Mapped[str] = mapped_column(String(20))
    option: Mapped[str] = mapped_column(String(20))
    cast_at: Mapped[datetime] = mapped_column(UtcDateTime)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class SecretBallot(Base):
    """R17: a ballot of a secret group. It names no person: the voter token is an
    HMAC of (vote, person) under a key kept outside the database, so "one current
    ballot per voter" still holds (a unique index) while a reader of the database
    alone cannot tell whose ballot it is. Ids are random and rows carry no time."""

    __tablename__ = "secret_ballot"
    __table_args__ = (
        CheckConstraint(_in("voting_group", VotingGroup), name="group_known"),
        CheckConstraint(_in("option", [*Outcome, *PanelOption]), name="option_known"),
        Index("uq_secret_ballot_current", "vote_id", "voter_token", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_secret_ballot_vote_current", "vote_id", "is_current", "voting_group", "option"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"))
    voter_token: Mapped[str] = mapped_column(String(HASH))
    voting_group: Mapped[str] = mapped_column(String(20))
    option: Mapped[str] = mapped_column(String(20))
    receipt: Mapped[str] = mapped_column(String(16))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class VoteParticipation(Base):
    """Who took part in a vote (public after close), with no pointer to any ballot."""

    __tablename__ = "vote_participation"

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)


class Decision(Base):
    """R9: the binding declaration of a closed outcome vote, with its frozen basis."""

    __tablename__ = "decision"
    __table_args__ = (CheckConstraint(_in("outcome", Outcome), name="outcome_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), unique=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    basis_json: Mapped[str] = mapped_column(Text)
    basis_sha256: Mapped[str] = mapped_column(String(HASH))
    adopt_override: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    declared_at: Mapped[datetime] = mapped_column(UtcDateTime)
    chain_head_seq: Mapped[int] = mapped_column(Integer)
    chain_head_hash: Mapped[str] = mapped_column(String(HASH))


class Claim(Base):
    """R12: a non-binding statement of success, with what it cites and its checks."""

    __tablename__ = "claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    made_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)
    statement: Mapped[str] = mapped_column(Text)
    asserts_success: Mapped[bool] = mapped_column(Boolean)
    citations_json: Mapped[str] = mapped_column(Text)
    checks_json: Mapped[str] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))


class FeedbackItem(Base):
    """R13: something a frontline user flags, and the owner's answer."""

    __tablename__ = "feedback_item"
    __table_args__ = (
        CheckConstraint(_in("kind", FeedbackKind), name="kind_known"),
        Index("ix_feedback_item_open_due", "responded_at", "due_on"),
        Index("ix_feedback_item_pilot", "pilot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    raised_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    response: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


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
