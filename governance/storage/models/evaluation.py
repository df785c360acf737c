"""The charter, survey rounds, votes and ballots, decisions, claims and feedback."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, Base, UtcDateTime, _in
from governance.vocabulary import (
    FeedbackKind,
    Outcome,
    PanelOption,
    SurveyAnswer,
    VoteKind,
    VoteStatus,
    VotingGroup,
)


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
    #: IANA zone in which pages show dates and times (exports and the audit log stay UTC).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default=text("'UTC'"))
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
    #: How many of the current responses came from attested paper forms (n online / n paper).
    paper_responses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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
    #: "online" or "paper" (entered from an attested paper form, issue 15).
    channel: Mapped[str] = mapped_column(String(10), default="online", server_default=text("'online'"))


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
    #: What whoever closed the vote wrote about its outcome (the scheduled close writes
    #: a factual one); NULL for votes closed before outcome statements existed.
    outcome_statement: Mapped[str | None] = mapped_column(Text)


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
    #: The voter's optional reason, shown beside the ballot (open groups only: R17).
    reason: Mapped[str | None] = mapped_column(Text)
    #: "online" or "paper" (entered from an attested ballot sheet, issue 15).
    channel: Mapped[str] = mapped_column(String(10), default="online", server_default=text("'online'"))


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
    #: "online" or "paper" (a paper sheet's code is its receipt, issue 15).
    channel: Mapped[str] = mapped_column(String(10), default="online", server_default=text("'online'"))


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
