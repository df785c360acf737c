"""The data model (SQLAlchemy 2.x declarative).

Tables are named after the domain language (docs/domain.md). Values that
must never change once written (audit events, criteria locks and locked
criteria, decisions, ballots of closed votes, responses of closed rounds,
checkpoints) are additionally guarded by database triggers, created in the
Alembic migrations (docs/record.md).

The tables are split by part of the domain (``people``, ``problems``, ``pilots``,
``evaluation``, ``record``); import them from here.
"""
from governance.storage.models.base import HASH, LONG_TEXT, NAME, NAMING_CONVENTION, TITLE, Base, UtcDateTime
from governance.storage.models.evaluation import (
    Ballot,
    Charter,
    Claim,
    Decision,
    FeedbackItem,
    SecretBallot,
    SurveyResponse,
    SurveyRound,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.storage.models.paper import CHANNELS, SHEET_STATES, PaperBatch, PaperCertificate, PaperSheet
from governance.storage.models.people import (
    KnownAddress,
    Organisation,
    Panel,
    PanelMembership,
    Person,
    PersonRole,
    Programme,
    SignInSession,
    SignInThrottle,
)
from governance.storage.models.pilots import (
    CommissioningMetric,
    Measurement,
    Pilot,
    PilotTeamMember,
    ReadinessRecord,
    ReadinessWaiver,
    RosterChange,
    RosterEntry,
    SourceFile,
    TeamInvitation,
    UsageWeek,
)
from governance.storage.models.problems import (
    Amendment,
    CriteriaLock,
    Criterion,
    Problem,
    ProblemComment,
    ProblemReopening,
    ProblemVersion,
)
from governance.storage.models.reach import PersonalLink, ReminderOptOut, ReminderSent
from governance.storage.models.record import AuditChainHead, AuditEvent, Checkpoint, CheckpointWitness, JobLease, JobRun

__all__ = [
    "Amendment",
    "AuditChainHead",
    "AuditEvent",
    "Ballot",
    "Base",
    "Charter",
    "Checkpoint",
    "CheckpointWitness",
    "Claim",
    "CommissioningMetric",
    "CriteriaLock",
    "Criterion",
    "Decision",
    "FeedbackItem",
    "HASH",
    "JobLease",
    "JobRun",
    "KnownAddress",
    "CHANNELS",
    "PaperBatch",
    "PaperCertificate",
    "PaperSheet",
    "PersonalLink",
    "SHEET_STATES",
    "ReminderOptOut",
    "ReminderSent",
    "LONG_TEXT",
    "Measurement",
    "NAME",
    "NAMING_CONVENTION",
    "Organisation",
    "Panel",
    "PanelMembership",
    "Person",
    "PersonRole",
    "Pilot",
    "PilotTeamMember",
    "Problem",
    "ProblemComment",
    "ProblemReopening",
    "ProblemVersion",
    "Programme",
    "ReadinessRecord",
    "ReadinessWaiver",
    "RosterChange",
    "RosterEntry",
    "SecretBallot",
    "SignInSession",
    "SignInThrottle",
    "SourceFile",
    "SurveyResponse",
    "SurveyRound",
    "TITLE",
    "TeamInvitation",
    "UsageWeek",
    "UtcDateTime",
    "Vote",
    "VoteEligibility",
    "VoteParticipation",
]
