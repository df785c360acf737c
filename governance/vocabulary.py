"""The domain language (docs/domain.md) as enumerations, with plain-language labels."""
from __future__ import annotations

from enum import StrEnum
from fractions import Fraction


class Role(StrEnum):
    """Organisation-level roles. A person may hold several."""

    FRONTLINE = "frontline"
    FACILITATOR = "facilitator"
    COMMISSIONING = "commissioning"
    STEERING = "steering"
    AUDITOR = "auditor"
    ADMIN = "admin"


class PanelRole(StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"


class ProblemState(StrEnum):
    DRAFT = "draft"
    RATIFIED = "ratified"
    REOPENED = "reopened"
    RETIRED = "retired"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


#: Units a criterion or metric may be measured in (unit → label).
UNITS: dict[str, str] = {
    "percent": "percent",
    "share": "share (0–1)",
    "count": "count",
    "cases": "cases",
    "minutes": "minutes",
    "hours": "hours",
    "days": "days",
    "score": "score",
    "rating_1_5": "rating (1–5)",
    "currency": "currency (per case)",
    "per_week": "per week",
}


class PilotState(StrEnum):
    REGISTERED = "registered"
    READY = "ready"
    IN_USE = "in_use"
    EVALUATING = "evaluating"
    DECIDED = "decided"


class Outcome(StrEnum):
    """Options of a binding outcome vote (R8)."""

    ADOPT = "adopt"
    ITERATE = "iterate"
    REVISIT_PROBLEM = "revisit_problem"
    STOP = "stop"


class VoteKind(StrEnum):
    OUTCOME = "outcome"
    RATIFY_PROBLEM = "ratify_problem"
    LOCK_CRITERIA = "lock_criteria"
    AMEND_CRITERION = "amend_criterion"


PANEL_VOTE_KINDS = frozenset({VoteKind.RATIFY_PROBLEM, VoteKind.LOCK_CRITERIA, VoteKind.AMEND_CRITERION})


class PanelOption(StrEnum):
    """Options of a panel vote (ratify, lock, amend)."""

    APPROVE = "approve"
    REJECT = "reject"


class VotingGroup(StrEnum):
    FRONTLINE = "frontline"
    COMMISSIONING = "commissioning"
    STEERING = "steering"


class VoteStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SurveyAnswer(StrEnum):
    """The Sean Ellis question: "How would you feel if you could no longer use it?"."""

    VERY_DISAPPOINTED = "very_disappointed"
    SOMEWHAT_DISAPPOINTED = "somewhat_disappointed"
    NOT_DISAPPOINTED = "not_disappointed"
    NO_LONGER_USE = "no_longer_use"


class ReadinessItem(StrEnum):
    """The readiness checklist (R5)."""

    OWNER = "owner"
    TRAINING_PLAN = "training_plan"
    OLD_PROCESS_RETIREMENT = "old_process_retirement"
    ESCALATION_PATH = "escalation_path"
    LOW_CONNECTIVITY_TEST = "low_connectivity_test"


class FeedbackKind(StrEnum):
    WRONG_OUTPUT = "wrong_output"
    WORKAROUND = "workaround"
    WORKFLOW_CHANGE = "workflow_change"
    OTHER = "other"


class AmendmentStatus(StrEnum):
    PROPOSED = "proposed"
    APPLIED = "applied"
    REJECTED = "rejected"


class MeasurementSource(StrEnum):
    ENTERED = "entered"
    IMPORTED = "imported"


LABELS: dict[str, str] = {
    # roles
    "frontline": "Frontline", "facilitator": "Facilitator", "commissioning": "Commissioning",
    "steering": "Steering", "auditor": "Auditor", "admin": "Administrator", "member": "Member",
    # problem states
    "draft": "Draft", "ratified": "Ratified", "reopened": "Reopened", "retired": "Retired",
    # pilot states
    "registered": "Registered", "ready": "Ready", "in_use": "In real use",
    "evaluating": "Evaluating", "decided": "Decided",
    # outcomes and options
    "adopt": "Adopt", "iterate": "Iterate", "revisit_problem": "Revisit the problem", "stop": "Stop",
    "approve": "Approve", "reject": "Reject",
    # vote kinds
    "outcome": "Pilot outcome", "ratify_problem": "Ratify problem", "lock_criteria": "Lock criteria",
    "amend_criterion": "Amend a locked criterion",
    # survey
    "very_disappointed": "Very disappointed", "somewhat_disappointed": "Somewhat disappointed",
    "not_disappointed": "Not disappointed", "no_longer_use": "I no longer use it",
    # readiness
    "owner": "Named owner", "training_plan": "Role-specific training plan",
    "old_process_retirement": "Date the old process retires", "escalation_path": "Escalation path",
    "low_connectivity_test": "Tested at a low-connectivity site",
    # feedback
    "wrong_output": "Wrong output", "workaround": "Workaround", "workflow_change": "Suggested workflow change",
    "other": "Other",
    # directions
    "higher_is_better": "higher is better", "lower_is_better": "lower is better",
    "open": "Open", "closed": "Closed",
}


def label(value: str | None) -> str:
    """Plain-language label of a vocabulary value."""
    if value is None:
        return "—"
    return LABELS.get(str(value), UNITS.get(str(value), str(value).replace("_", " ")))


def percent(share: float | Fraction | None) -> str:
    """A share (0–1) as a person reads it, the one way every page and message writes one:
    ``percent(0.4) == "40 %"`` (None: "—"). Thresholds, quorums, weights, turnout and scores
    all go through here, so 0.4 never appears in one place and 40 % in another."""
    if share is None:
        return "—"
    return f"{round(float(share) * 100):d} %"
