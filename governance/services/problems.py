"""Problems and their success criteria: drafting, pre-registration, amendments.

R2 — only members of the owning panel write a problem and its criteria.
R3 — the criteria set is locked (pre-registered) before any pilot on the
problem enters real use. R4 — after the lock, a change is an amendment: a
reason, a passed panel vote, the original kept, and a flag when it came
after real use began. Ratifying, locking and amending are panel decisions:
they happen when a panel vote passes (``services.votes``), through the
``apply_*`` functions below.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.errors import InvalidInput, RuleViolation
from governance.identity.actors import Actor, require
from governance.record.events import problems as events
from governance.rules.permissions import Action
from governance.rules.prereg import (
    CRITERION_FIELDS,
    THRESHOLD_FIELDS,
    canonical_criteria,
    criterion_record,
    indispensability_spec,
    validate_criterion,
)
from governance.services._base import get, log, need, session_of
from governance.services.people import require_panel_member
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Amendment,
    CriteriaLock,
    Criterion,
    Panel,
    Pilot,
    Problem,
    ProblemComment,
    ProblemReopening,
    ProblemVersion,
    Programme,
    Vote,
)
from governance.storage.repository import (
    criteria_of,
    current_charter,
    current_version,
    lock_of,
    real_use_began,
)
from governance.validation import TEXT_MAX, TITLE_MAX, text
from governance.vocabulary import (
    AmendmentStatus,
    PanelRole,
    PilotState,
    ProblemState,
)


def _problem(session: Session, problem_id: int) -> Problem:
    return get(session, Problem, problem_id, "problem")


def _writable_version(session: Session, actor: Actor, problem: Problem, doing: str) -> ProblemVersion:
    """The current version, if the actor's panel may still write it directly."""
    require_panel_member(session, actor, problem.panel_id, doing)
    version = current_version(session, problem)
    if problem.state == ProblemState.RETIRED:
        raise RuleViolation(f"'{version.title}' is retired; draft a new problem instead.", rule="R2")
    return version


def _refuse_locked(session: Session, version: ProblemVersion) -> None:
    """R4: a criterion of a locked version — the current one or an earlier — changes only by amendment."""
    lock = lock_of(session, version.id)
    if lock is not None:
        raise RuleViolation(
            f"The criteria of '{version.title}' (version {version.version}) were locked on "
            f"{lock.locked_at:%d %b %Y} (SHA-256 {lock.criteria_sha256[:12]}…). Changes now need an amendment "
            "with a reason and a panel vote (R4).", rule="R4")


def _unlocked_criteria_version(session: Session, actor: Actor, problem: Problem) -> ProblemVersion:
    version = _writable_version(session, actor, problem, "write its success criteria")
    _refuse_locked(session, version)
    return version


# ------------------------------------------------------------------ drafting
@use_case
def draft_problem(uow: UnitOfWork, actor_id: int, *, panel_id: int, title: str, statement: str,
                  programme_id: int | None = None) -> int:
    """A panel member writes down a recurring friction in frontline work.

    The problem starts with the indispensability criterion at the charter's
    default threshold (docs/measures.md); the panel adds its own criteria next.
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.DRAFT_PROBLEM)
    panel = get(s, Panel, panel_id, "panel")
    require_panel_member(s, actor, panel.id, "draft a problem for it")
    title = text(title, "Title", max_len=TITLE_MAX)
    statement = text(statement, "Problem statement", max_len=TEXT_MAX)
    if programme_id is not None:
        get(s, Programme, programme_id, "programme")
    clash = s.scalar(select(ProblemVersion.problem_id).join(Problem).where(
        Problem.panel_id == panel.id, Problem.state != ProblemState.RETIRED,
        ProblemVersion.version == Problem.current_version,
        func.lower(ProblemVersion.title) == title.lower()))
    if clash:
        raise InvalidInput(f"{panel.name} already has a problem called '{title}' (#{clash}); "
                           "open it, or choose a different title.", field="Title")
    charter = current_charter(s)
    now = uow.now()
    problem = Problem(panel_id=panel.id, programme_id=programme_id, state=ProblemState.DRAFT,
                      current_version=1, created_by=actor.id, created_at=now)
    s.add(problem)
    s.flush()
    version = ProblemVersion(problem_id=problem.id, version=1, title=title, statement=statement,
                             created_by=actor.id, created_at=now)
    s.add(version)
    s.flush()
    threshold = Criterion(
        problem_version_id=version.id, is_indispensability=True, created_by=actor.id, created_at=now,
        **indispensability_spec(charter.evaluation_window_days, charter.indispensability_threshold,
                                charter.min_survey_responses))
    s.add(threshold)
    s.flush()
    log(uow, actor, events.problem_drafted(problem_id=problem.id, panel_id=panel.id, title=title,
                                           statement=statement, indispensability_threshold=threshold.target))
    return problem.id


@use_case
def revise_problem(uow: UnitOfWork, actor_id: int, problem_id: int, *, title: str,
                   statement: str) -> None:
    """Edit the wording of a draft (or reopened) problem."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.DRAFT_PROBLEM)
    problem = _problem(s, problem_id)
    version = _writable_version(s, actor, problem, "edit this problem")
    if problem.state not in (ProblemState.DRAFT, ProblemState.REOPENED):
        raise RuleViolation(f"'{version.title}' is {problem.state}: its wording is ratified. To change "
                            "it, a failed evaluation must reopen it as a new version.", rule="R10")
    new_title = text(title, "Title", max_len=TITLE_MAX)
    new_statement = text(statement, "Problem statement", max_len=TEXT_MAX)
    before = {"title": version.title, "statement": version.statement}
    version.title, version.statement = new_title, new_statement
    log(uow, actor, events.problem_revised(problem_id=problem.id, version=version.version, before=before,
                                           title=new_title, statement=new_statement))


@use_case
def add_criterion(uow: UnitOfWork, actor_id: int, problem_id: int, *, name: str, definition: str,
                  measurement_method: str, unit: str, direction: str, target: float,
                  minimum_evidence: int) -> int:
    """A panel member defines a success criterion (before the lock)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.EDIT_CRITERIA)
    problem = _problem(s, problem_id)
    version = _unlocked_criteria_version(s, actor, problem)
    fields = validate_criterion(dict(name=name, definition=definition,
                                     measurement_method=measurement_method, unit=unit,
                                     direction=direction, target=target,
                                     minimum_evidence=minimum_evidence))
    _refuse_duplicate_name(s, version.id, fields["name"])
    criterion = Criterion(problem_version_id=version.id, is_indispensability=False,
                          created_by=actor.id, created_at=uow.now(), **fields)
    s.add(criterion)
    s.flush()
    log(uow, actor, events.criterion_added(criterion_id=criterion.id, problem_id=problem.id,
                                           version=version.version, record=criterion_record(criterion)))
    return criterion.id


def _refuse_duplicate_name(s: Session, version_id: int, name: str, except_id: int | None = None) -> None:
    q = select(Criterion.id).where(Criterion.problem_version_id == version_id,
                                   func.lower(Criterion.name) == name.lower())
    if except_id is not None:
        q = q.where(Criterion.id != except_id)
    if s.scalar(q):
        raise InvalidInput(f"This problem already has a criterion called '{name}'; choose another name.",
                           field="Criterion name")


@use_case
def update_criterion(uow: UnitOfWork, actor_id: int, criterion_id: int, **changes: Any) -> None:
    """Change a criterion before the lock (the indispensability one: threshold and evidence only)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.EDIT_CRITERIA)
    criterion = get(s, Criterion, criterion_id, "criterion")
    version = need(s.get(ProblemVersion, criterion.problem_version_id), "problem version")
    problem = need(s.get(Problem, version.problem_id), "problem")
    _refuse_locked(s, version)
    if problem.current_version != version.version:
        raise RuleViolation("This criterion belongs to an earlier version of the problem; edit the "
                            "current version instead.", rule="R4")
    _unlocked_criteria_version(s, actor, problem)
    cleaned = _cleaned_changes(s, criterion, changes)
    before = criterion_record(criterion)
    for key, value in cleaned.items():
        setattr(criterion, key, value)
    log(uow, actor, events.criterion_updated(criterion_id=criterion.id, problem_id=problem.id, before=before,
                                             after=criterion_record(criterion)))


def _cleaned_changes(s: Session, criterion: Criterion, changes: dict[str, Any]) -> dict[str, Any]:
    allowed = THRESHOLD_FIELDS if criterion.is_indispensability else CRITERION_FIELDS
    unknown = set(changes) - set(allowed)
    if unknown:
        which = "the threshold and minimum evidence" if criterion.is_indispensability else \
            ", ".join(CRITERION_FIELDS)
        raise InvalidInput(f"Only {which} can be changed here (not {', '.join(sorted(unknown))}).")
    if not changes:
        raise InvalidInput("Nothing to change: give at least one new value.")
    merged = {**criterion_record(criterion), **changes}
    floor = current_charter(s).min_survey_responses if criterion.is_indispensability else 1
    cleaned = validate_criterion(merged, indispensability=criterion.is_indispensability,
                                 min_evidence_floor=floor)
    if "name" in changes:
        _refuse_duplicate_name(s, criterion.problem_version_id, cleaned["name"], criterion.id)
    result = {k: cleaned[k] for k in changes}
    if all(getattr(criterion, k) == v for k, v in result.items()):
        raise InvalidInput("Those values are the ones already recorded; nothing to change.")
    return result


@use_case
def remove_criterion(uow: UnitOfWork, actor_id: int, criterion_id: int) -> None:
    """Remove a criterion before the lock (never the indispensability threshold)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.EDIT_CRITERIA)
    criterion = get(s, Criterion, criterion_id, "criterion")
    version = need(s.get(ProblemVersion, criterion.problem_version_id), "problem version")
    problem = need(s.get(Problem, version.problem_id), "problem")
    _refuse_locked(s, version)
    if problem.current_version != version.version:
        raise RuleViolation("This criterion belongs to an earlier version of the problem; edit the "
                            "current version instead.", rule="R4")
    _unlocked_criteria_version(s, actor, problem)
    if criterion.is_indispensability:
        raise RuleViolation("The indispensability threshold is always part of the criteria; "
                            "you can change its value but not remove it.", rule="R7")
    before = criterion_record(criterion)
    s.delete(criterion)
    s.flush()
    log(uow, actor, events.criterion_removed(criterion_id=criterion_id, problem_id=problem.id, before=before))


@use_case
def comment_on_problem(uow: UnitOfWork, actor_id: int, problem_id: int, body: str) -> int:
    """Anyone but auditors may comment (R2: commissioning and steering comment, not edit)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.COMMENT_ON_PROBLEM)
    problem = _problem(s, problem_id)
    comment = ProblemComment(problem_id=problem.id, person_id=actor.id,
                             body=text(body, "Comment", max_len=TEXT_MAX), created_at=uow.now())
    s.add(comment)
    s.flush()
    log(uow, actor, events.problem_commented(comment_id=comment.id, problem_id=problem.id, body=comment.body))
    return comment.id


@use_case
def retire_problem(uow: UnitOfWork, actor_id: int, problem_id: int, *, reason: str) -> None:
    """A panel facilitator retires a problem that no longer matters."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RETIRE_PROBLEM)
    problem = _problem(s, problem_id)
    role = require_panel_member(s, actor, problem.panel_id, "retire its problems")
    if role != PanelRole.FACILITATOR:
        raise RuleViolation("Only a facilitator of the owning panel may retire a problem.", rule="R2")
    if problem.state == ProblemState.RETIRED:
        raise RuleViolation("This problem is already retired.", rule="R2")
    why = text(reason, "Reason", max_len=TEXT_MAX)
    running = s.scalar(select(func.count()).select_from(Pilot).where(
        Pilot.problem_id == problem.id, Pilot.state != PilotState.DECIDED))
    if running:
        raise RuleViolation(f"{running} pilot(s) on this problem are not decided yet; decide them "
                            "before retiring the problem.", rule="R1")
    before = problem.state
    problem.state = ProblemState.RETIRED
    log(uow, actor, events.problem_retired(problem_id=problem.id, before_state=before, reason=why))


# ----------------------------------------- effects of passed panel votes
def check_can_ratify(s: Session, problem: Problem) -> ProblemVersion:
    version = current_version(s, problem)
    if problem.state not in (ProblemState.DRAFT, ProblemState.REOPENED):
        raise RuleViolation(f"'{version.title}' is {problem.state}; only a draft or reopened problem "
                            "can be ratified.", rule="R2")
    return version


def apply_ratification(uow: UnitOfWork, actor: Actor | None, problem: Problem, vote: Vote) -> None:
    s = session_of(uow)
    version = check_can_ratify(s, problem)
    before = problem.state
    problem.state = ProblemState.RATIFIED
    version.ratified_at = uow.now()
    version.ratified_by_vote_id = vote.id
    log(uow, actor, events.problem_ratified(problem_id=problem.id, before_state=before, version=version.version,
                                            vote_id=vote.id))


def check_can_lock(s: Session, problem: Problem) -> ProblemVersion:
    version = current_version(s, problem)
    if problem.state != ProblemState.RATIFIED:
        raise RuleViolation(f"'{version.title}' is {problem.state}: the panel ratifies the problem "
                            "before locking its criteria.", rule="R3")
    lock = lock_of(s, version.id)
    if lock is not None:
        raise RuleViolation(f"The criteria of '{version.title}' are already locked "
                            f"(SHA-256 {lock.criteria_sha256[:12]}…).", rule="R3")
    return version


def apply_lock(uow: UnitOfWork, actor: Actor | None, problem: Problem, vote: Vote) -> CriteriaLock:
    """R3 pre-registration: freeze the criteria set with its SHA-256."""
    s = session_of(uow)
    version = check_can_lock(s, problem)
    body, digest = canonical_criteria(version.problem_id, version.version, criteria_of(s, version.id))
    lock = CriteriaLock(problem_version_id=version.id, locked_by=actor.id if actor else None,
                        locked_at=uow.now(), vote_id=vote.id, criteria_sha256=digest,
                        criteria_json=body)
    s.add(lock)
    s.flush()
    log(uow, actor, events.criteria_locked(lock_id=lock.id, problem_id=problem.id, version=version.version,
                                           criteria_sha256=digest, vote_id=vote.id))
    return lock


def check_amendment(s: Session, criterion: Criterion, changes: dict[str, Any], reason: str
                    ) -> tuple[ProblemVersion, dict[str, Any], str]:
    version = need(s.get(ProblemVersion, criterion.problem_version_id), "problem version")
    if lock_of(s, version.id) is None:
        raise RuleViolation("This criterion is not locked yet: edit it directly instead of "
                            "proposing an amendment.", rule="R4")
    why = text(reason, "Reason for the amendment", max_len=TEXT_MAX, min_len=10)
    return version, _cleaned_changes(s, criterion, changes), why


def apply_amendment(uow: UnitOfWork, actor: Actor | None, amendment: Amendment, vote: Vote) -> None:
    """R4: apply a passed amendment; the original stays in ``amendment.before_json``."""
    s = session_of(uow)
    criterion = need(s.get(Criterion, amendment.criterion_id), "criterion")
    version = need(s.get(ProblemVersion, criterion.problem_version_id), "problem version")
    after = json.loads(amendment.after_json)
    before = criterion_record(criterion)
    # The database admits a change to a locked criterion only as the amendment being
    # applied (status applied, no resulting hash yet): mark it first, then change.
    # Flag decided when the change takes effect, not when it was proposed.
    after_real_use = real_use_began(s, version.id)
    amendment.status, amendment.decided_at, amendment.after_real_use = (AmendmentStatus.APPLIED, uow.now(),
                                                                        after_real_use)
    s.flush()
    for key, value in after.items():
        setattr(criterion, key, value)
    s.flush()
    _, digest = canonical_criteria(version.problem_id, version.version, criteria_of(s, version.id))
    amendment.resulting_sha256 = digest
    log(uow, actor, events.criterion_amended(criterion_id=criterion.id, before=before,
                                             after=criterion_record(criterion), amendment_id=amendment.id,
                                             reason=amendment.reason, vote_id=vote.id,
                                             after_real_use=amendment.after_real_use, criteria_sha256=digest))


def reopen_problem(uow: UnitOfWork, actor: Actor | None, problem: Problem, *, pilot: Pilot | None,
                   reason: str) -> ProblemVersion:
    """R10: reopen as a new draft version (criteria copied, unlocked), linked to the pilot."""
    s = session_of(uow)
    old = current_version(s, problem)
    if problem.state == ProblemState.RETIRED:
        raise RuleViolation("A retired problem cannot be reopened.", rule="R10")
    if problem.state == ProblemState.REOPENED:
        # Another failed pilot already reopened it; link this one too.
        existing = s.scalar(select(ProblemReopening).where(ProblemReopening.problem_version_id == old.id))
        log(uow, actor, events.problem_reopen_linked(problem_id=problem.id, version=old.version,
                                                     pilot_id=pilot.id if pilot else None,
                                                     reopening_id=existing.id if existing else None))
        return old
    now = uow.now()
    new = ProblemVersion(problem_id=problem.id, version=old.version + 1, title=old.title,
                         statement=old.statement, created_by=actor.id if actor else old.created_by,
                         created_at=now)
    s.add(new)
    s.flush()
    for c in criteria_of(s, old.id):
        s.add(Criterion(problem_version_id=new.id, created_by=c.created_by, created_at=now,
                        is_indispensability=c.is_indispensability,
                        **{f: getattr(c, f) for f in CRITERION_FIELDS}))
    s.add(ProblemReopening(problem_version_id=new.id, pilot_id=pilot.id if pilot else None,
                           reason=reason, reopened_by=actor.id if actor else None, reopened_at=now))
    before = problem.state
    problem.state = ProblemState.REOPENED
    problem.current_version = new.version
    s.flush()
    log(uow, actor, events.problem_reopened(problem_id=problem.id, before_state=before, old_version=old.version,
                                            new_version=new.version, pilot_id=pilot.id if pilot else None,
                                            reason=reason))
    return new
