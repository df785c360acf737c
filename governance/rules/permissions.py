"""R14 least privilege: one table of role × action, deny by default.

Pure: the table, the questions asked of it, and which roles may be held
together (R15: an auditor must not vote on what they audit). Every use case names its
actor and calls ``identity.actors.require`` first, which reads the actor's
roles from the database at call time (never from the UI or a cache), so a
revoked role stops working at once for every *new* act. Contextual rules — panel
membership (R2), commissioning team, roster, vote eligibility — are checked
by the service on top of this table.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from governance.vocabulary import Role, label


class Action(StrEnum):
    MANAGE_PEOPLE = "manage_people"
    MANAGE_PANELS = "manage_panels"
    ADOPT_CHARTER = "adopt_charter"
    DRAFT_PROBLEM = "draft_problem"
    EDIT_CRITERIA = "edit_criteria"
    COMMENT_ON_PROBLEM = "comment_on_problem"
    OPEN_PANEL_VOTE = "open_panel_vote"
    PROPOSE_AMENDMENT = "propose_amendment"
    RETIRE_PROBLEM = "retire_problem"
    REGISTER_PILOT = "register_pilot"
    MANAGE_PILOT = "manage_pilot"
    AMEND_METRIC = "amend_metric"
    WAIVE_READINESS = "waive_readiness"
    RECORD_MEASUREMENT = "record_measurement"
    IMPORT_USAGE = "import_usage"
    RUN_SURVEY = "run_survey"
    RESPOND_TO_SURVEY = "respond_to_survey"
    OPEN_OUTCOME_VOTE = "open_outcome_vote"
    CAST_BALLOT = "cast_ballot"
    CLOSE_VOTE = "close_vote"
    RECORD_CLAIM = "record_claim"
    RAISE_FEEDBACK = "raise_feedback"
    RESPOND_TO_FEEDBACK = "respond_to_feedback"
    READ_RUNNING_TALLY = "read_running_tally"
    READ_AUDIT_RECORD = "read_audit_record"
    ANSWER_INVITATION = "answer_invitation"
    WITNESS_CHECKPOINT = "witness_checkpoint"
    ENTER_PAPER = "enter_paper"
    ATTEST_PAPER = "attest_paper"


F, FA, C, S, AU, AD = (Role.FRONTLINE, Role.FACILITATOR, Role.COMMISSIONING, Role.STEERING,
                       Role.AUDITOR, Role.ADMIN)

#: The permission table. Anything not listed is denied. Auditors only read.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_PEOPLE: frozenset({AD}),
    Action.MANAGE_PANELS: frozenset({AD}),
    Action.ADOPT_CHARTER: frozenset({S}),
    Action.DRAFT_PROBLEM: frozenset({F, FA}),
    Action.EDIT_CRITERIA: frozenset({F, FA}),
    Action.COMMENT_ON_PROBLEM: frozenset({F, FA, C, S}),
    Action.OPEN_PANEL_VOTE: frozenset({FA}),
    Action.PROPOSE_AMENDMENT: frozenset({F, FA}),
    Action.RETIRE_PROBLEM: frozenset({FA}),
    Action.REGISTER_PILOT: frozenset({C}),
    Action.MANAGE_PILOT: frozenset({C}),
    Action.AMEND_METRIC: frozenset({C}),
    Action.WAIVE_READINESS: frozenset({S}),
    Action.RECORD_MEASUREMENT: frozenset({C, FA}),
    Action.IMPORT_USAGE: frozenset({C}),
    Action.RUN_SURVEY: frozenset({FA, C}),
    Action.RESPOND_TO_SURVEY: frozenset({F, FA}),
    Action.OPEN_OUTCOME_VOTE: frozenset({FA, S}),
    Action.CAST_BALLOT: frozenset({F, FA, C, S}),
    Action.CLOSE_VOTE: frozenset({FA, S}),
    Action.RECORD_CLAIM: frozenset({F, FA, C, S, AD}),
    Action.RAISE_FEEDBACK: frozenset({F, FA}),
    Action.RESPOND_TO_FEEDBACK: frozenset({C}),
    # R8: running tallies are hidden from everyone until close, auditors and operators included.
    Action.READ_RUNNING_TALLY: frozenset(),
    # Open ballots appear in the record by name; auditors read it, and are never voters (R15).
    Action.READ_AUDIT_RECORD: frozenset({AU}),
    Action.ANSWER_INVITATION: frozenset({F, FA, C, S, AD}),
    # R18: the one thing an auditor writes: their cosignature of a checkpoint.
    Action.WITNESS_CHECKPOINT: frozenset({AU}),
    # Paper, attested: a facilitator prints and enters; a second person — steering or another
    # facilitator — attests (governance/rules/paper.py).
    Action.ENTER_PAPER: frozenset({FA}),
    Action.ATTEST_PAPER: frozenset({FA, S}),
}

DESCRIPTIONS: dict[Action, str] = {
    Action.MANAGE_PEOPLE: "manage people and their roles",
    Action.MANAGE_PANELS: "manage panels and programmes",
    Action.ADOPT_CHARTER: "adopt a new charter version",
    Action.DRAFT_PROBLEM: "write a problem",
    Action.EDIT_CRITERIA: "write success criteria",
    Action.COMMENT_ON_PROBLEM: "comment on a problem",
    Action.OPEN_PANEL_VOTE: "open a panel vote",
    Action.PROPOSE_AMENDMENT: "propose an amendment to a locked criterion",
    Action.RETIRE_PROBLEM: "retire a problem",
    Action.REGISTER_PILOT: "register a pilot",
    Action.MANAGE_PILOT: "manage a pilot",
    Action.AMEND_METRIC: "amend a locked commissioning metric",
    Action.WAIVE_READINESS: "waive the readiness checklist",
    Action.RECORD_MEASUREMENT: "record measurements",
    Action.IMPORT_USAGE: "import usage records",
    Action.RUN_SURVEY: "open or close a survey round",
    Action.RESPOND_TO_SURVEY: "answer the indispensability survey",
    Action.OPEN_OUTCOME_VOTE: "open an outcome vote",
    Action.CAST_BALLOT: "cast a ballot",
    Action.CLOSE_VOTE: "close a vote",
    Action.RECORD_CLAIM: "record a claim",
    Action.RAISE_FEEDBACK: "raise a feedback item",
    Action.RESPOND_TO_FEEDBACK: "respond to feedback",
    Action.READ_RUNNING_TALLY: "read a running tally before a vote closes",
    Action.READ_AUDIT_RECORD: "read the audit record",
    Action.ANSWER_INVITATION: "accept or decline an invitation to a commissioning team",
    Action.WITNESS_CHECKPOINT: "cosign a checkpoint of the audit record as its witness",
    Action.ENTER_PAPER: "print paper forms and ballot sheets and enter them",
    Action.ATTEST_PAPER: "attest a batch of paper forms or ballot sheets",
}

assert set(PERMISSIONS) == set(Action) == set(DESCRIPTIONS), "every action needs a row"


def allowed(roles: Iterable[Role], action: Action) -> bool:
    """Whether any of ``roles`` may perform ``action`` (the table alone)."""
    return bool(set(roles) & PERMISSIONS.get(action, frozenset()))


def refusal(name: str, roles: Iterable[Role], action: Action) -> str:
    """What a person who may not do ``action`` is told: what it needs, what they hold."""
    needed = ", ".join(sorted(label(r) for r in PERMISSIONS[action])) or "nobody"
    held = ", ".join(sorted(label(r) for r in roles)) or "no role"
    return (f"{name} may not {DESCRIPTIONS[action]}: that needs one of the roles {needed} (you hold "
            f"{held}). Ask an administrator if your role should change.")


# ------------------------------------------------------------------- pages
#: Which pages each role may open (the router shows only these; each page
#: re-checks on load; every action is re-checked again by its use case).
PAGE_ROLES: dict[str, frozenset[Role]] = {
    "home": frozenset(Role),
    "problems": frozenset({F, FA, C, S}),
    "pilots": frozenset({C, FA, S}),
    "evaluate": frozenset({F, FA, C}),
    "votes": frozenset({F, FA, C, S, AU}),
    "compare": frozenset({S, AU, C}),
    "audit": frozenset({AU}),
    "admin": frozenset({AD, S}),
    # Paper, attested: facilitators print and enter; steering (or another facilitator) attests.
    "paper": frozenset({FA, S}),
}


def may_open(roles: Iterable[Role], page: str) -> bool:
    """Whether a person holding ``roles`` may open ``page``."""
    return bool(set(roles) & PAGE_ROLES.get(page, frozenset()))


def pages_for(roles: Iterable[Role]) -> list[str]:
    """The pages a person holding ``roles`` may open, in menu order."""
    return [p for p in PAGE_ROLES if may_open(roles, p)]


#: R15: roles that vote in some group on some vote — none of them may be held with "auditor".
VOTING_ROLES: frozenset[Role] = frozenset({F, FA, C, S})


def role_conflict(roles: Iterable[Role | str]) -> str | None:
    """Why this combination of roles may not be held together, or None."""
    held = {Role(r) for r in roles}
    if AU in held and held & VOTING_ROLES:
        clash = ", ".join(sorted(label(r) for r in held & VOTING_ROLES))
        return (f"The auditor role cannot be combined with {clash}: an auditor must not vote on what they "
                "audit. Give this person either the auditor role or the voting roles.")
    return None
