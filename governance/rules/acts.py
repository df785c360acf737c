"""What the reader may do with one record: the permission table plus the contextual
facts the use cases check on top of it (panel membership R2, commissioning team,
vote eligibility). Pure functions over plain values.

Each one asks ``rules.permissions.allowed`` for the role part and then states the
same contextual condition the named use case enforces, so a page shows a button
exactly when the use case would accept the act (the use case still re-checks).
The use cases call the same functions where the condition is theirs (closing a
vote, casting a ballot), so a page and a use case cannot disagree.
"""
from __future__ import annotations

from governance.rules.electorate import still_in_group
from governance.rules.permissions import Action, allowed
from governance.vocabulary import PanelRole, ProblemState, Role, VoteKind, VoteStatus

# ------------------------------------------------------------------ problems
TEXT_EDITABLE = (ProblemState.DRAFT, ProblemState.REOPENED)


def may_edit_text(roles: frozenset[Role], panel_role: str | None, state: str) -> bool:
    """``revise_problem``: DRAFT_PROBLEM, a member of the owning panel, a draft or reopened problem."""
    return allowed(roles, Action.DRAFT_PROBLEM) and panel_role is not None and state in TEXT_EDITABLE


def may_edit_criteria(roles: frozenset[Role], panel_role: str | None, state: str, locked: bool) -> bool:
    """``add_criterion`` and friends: EDIT_CRITERIA, a member of the owning panel, not retired,
    criteria not locked yet (R2, R4)."""
    return (allowed(roles, Action.EDIT_CRITERIA) and panel_role is not None
            and state != ProblemState.RETIRED and not locked)


def may_propose_amendment(roles: frozenset[Role], panel_role: str | None, locked: bool) -> bool:
    """``propose_amendment``: PROPOSE_AMENDMENT, a member of the owning panel, locked criteria (R4)."""
    return allowed(roles, Action.PROPOSE_AMENDMENT) and panel_role is not None and locked


def may_open_panel_vote(roles: frozenset[Role], panel_role: str | None) -> bool:
    """``propose_ratification`` / ``propose_criteria_lock``: OPEN_PANEL_VOTE and a facilitator of
    the owning panel (R2)."""
    return allowed(roles, Action.OPEN_PANEL_VOTE) and panel_role == PanelRole.FACILITATOR


def may_retire(roles: frozenset[Role], panel_role: str | None, state: str) -> bool:
    """``retire_problem``: RETIRE_PROBLEM, a facilitator of the owning panel, not retired yet."""
    return (allowed(roles, Action.RETIRE_PROBLEM) and panel_role == PanelRole.FACILITATOR
            and state != ProblemState.RETIRED)


# -------------------------------------------------------------------- pilots
def may_manage_pilot(roles: frozenset[Role], on_team: bool) -> bool:
    """``add_metric``, ``record_readiness``, ``add_to_roster``, ``start_real_use``: MANAGE_PILOT
    and on the pilot's commissioning team."""
    return allowed(roles, Action.MANAGE_PILOT) and on_team


def may_amend_metric(roles: frozenset[Role], on_team: bool) -> bool:
    """``amend_metric``: AMEND_METRIC and on the pilot's commissioning team."""
    return allowed(roles, Action.AMEND_METRIC) and on_team


def may_import_usage(roles: frozenset[Role], on_team: bool) -> bool:
    """``import_usage``: IMPORT_USAGE and on the pilot's commissioning team."""
    return allowed(roles, Action.IMPORT_USAGE) and on_team


def may_record_measurement(roles: frozenset[Role], on_team: bool, panel_role: str | None) -> bool:
    """``record_measurement`` / ``import_measurements``: RECORD_MEASUREMENT, and on the
    commissioning team or a member of the owning panel."""
    return allowed(roles, Action.RECORD_MEASUREMENT) and (on_team or panel_role is not None)


def may_run_survey(roles: frozenset[Role], on_team: bool, panel_role: str | None) -> bool:
    """``open_survey_round`` / ``close_survey_round``: RUN_SURVEY, and on the commissioning
    team or a facilitator of the owning panel."""
    return allowed(roles, Action.RUN_SURVEY) and (on_team or panel_role == PanelRole.FACILITATOR)


def may_waive_readiness(roles: frozenset[Role]) -> bool:
    """``waive_readiness``: WAIVE_READINESS (a steering decision, R5)."""
    return allowed(roles, Action.WAIVE_READINESS)


def may_respond_to_feedback(roles: frozenset[Role], on_team: bool) -> bool:
    """``respond_to_feedback``: RESPOND_TO_FEEDBACK and on the pilot's commissioning team."""
    return allowed(roles, Action.RESPOND_TO_FEEDBACK) and on_team


def real_use_blockers(title: str, problem_title: str, *, criteria_locked: bool, ready: bool,
                      missing: list[str], rostered: int, metrics: int) -> list[tuple[str, str]]:
    """What stops ``start_real_use`` now, as (rule, what to do) in the order the use case
    checks it: locked criteria (R3), readiness (R5), a roster (R7), a declared metric (R3).
    Empty: real use may start. The use case refuses with the first; the Pilots page shows
    the button disabled with all of them."""
    found: list[tuple[str, str]] = []
    if not criteria_locked:
        found.append(("R3", f"'{title}' cannot enter real use: the success criteria of '{problem_title}' are "
                            "not locked yet. The panel must pre-register (lock) them by vote first, so nobody "
                            "can move the goalposts afterwards."))
    if not ready:
        found.append(("R5", f"'{title}' cannot enter real use: the readiness checklist is incomplete "
                            f"(missing: {', '.join(missing)}). Complete it, or ask steering to waive it with a "
                            "reason."))
    if not rostered:
        found.append(("R7", f"'{title}' has nobody on its user roster; add the frontline people who will "
                            "really use it first."))
    if not metrics:
        found.append(("R3", f"'{title}' declares no commissioning metrics; declare at least one so it can be "
                            "compared with the frontline's view."))
    return found


def round_close_notice(responses: int, minimum: int, *, override_allowed: bool) -> str | None:
    """What closing a survey round below the charter's minimum means (R7, R9, R10), said
    before the person confirms; None when the round has enough responses. ``close_survey_round``
    closes it either way (the responses are evidence too); this is what the round will count as."""
    if responses >= minimum:
        return None
    adopt = ("'adopt' is then open only through the charter's override, and flagged"
             if override_allowed else "'adopt' will not be open")
    answers = "1 response" if responses == 1 else f"{responses} responses"
    return (f"{answers} — below the charter's minimum of {minimum}. Closed now, this round counts as "
            f"\"insufficient evidence\", never as a score that passes: in the outcome vote {adopt}, and "
            "revisiting the problem is proposed. Keep it open for more answers, or close it and open "
            "another round later.")


# --------------------------------------------------------------------- votes
def may_cast(roles: frozenset[Role], status: str, my_group: str | None, on_team: bool = False) -> bool:
    """``cast_ballot``: CAST_BALLOT, an open vote, among its eligible voters (fixed at opening),
    and still belonging to one's group (R15)."""
    return (allowed(roles, Action.CAST_BALLOT) and status == VoteStatus.OPEN and my_group is not None
            and still_in_group(my_group, roles, on_team))


def closer_allowed(roles: frozenset[Role], kind: str, panel_role: str | None) -> bool:
    """Who closes a vote: a facilitator of its panel; for an outcome vote, steering too (R2, R16)."""
    if not allowed(roles, Action.CLOSE_VOTE):
        return False
    return panel_role == PanelRole.FACILITATOR or (kind == VoteKind.OUTCOME and Role.STEERING in roles)


def may_close(roles: frozenset[Role], status: str, panel_role: str | None, kind: str = VoteKind.OUTCOME,
              everyone_voted: bool = True, deadline_passed: bool = True) -> bool:
    """``close_vote``: an open vote, a closer who may (``closer_allowed``), and either its deadline
    has passed or every eligible voter has voted (R16)."""
    return (status == VoteStatus.OPEN and closer_allowed(roles, kind, panel_role)
            and (everyone_voted or deadline_passed))


# ---------------------------------------------------------------- oversight
def may_oversee_feedback(roles: frozenset[Role]) -> bool:
    """Who is shown feedback past its response date (R13): steering, who take the
    programme's decisions (as when waiving readiness), and auditors, who read the record.

    The permission table has no row of its own for this; until it does, it is the two
    rows that name exactly those roles."""
    return allowed(roles, Action.WAIVE_READINESS) or allowed(roles, Action.READ_AUDIT_RECORD)


# ----------------------------------------------------------- personal links
def may_issue_links(roles: frozenset[Role], *, for_vote: bool, on_team: bool, panel_role: str | None,
                    vote_kind: str = VoteKind.OUTCOME) -> bool:
    """Who issues personal one-time links (issue 15): for a survey round, whoever may run it
    (``may_run_survey``); for a vote, whoever closes it (``closer_allowed``)."""
    if for_vote:
        return closer_allowed(roles, vote_kind, panel_role)
    return may_run_survey(roles, on_team, panel_role)
