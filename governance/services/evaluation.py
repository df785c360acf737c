"""Evaluation after real use: the charter, survey rounds and responses, usage
imports and feedback.

R6 — survey rounds (and outcome votes) open only after the charter's window
of real use. R7 — only rostered users respond; one current response per
person per round. R13 — feedback gets the owner's response within the
charter's response time.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.csvfiles import FileRejected, parse_csv, parse_whole
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.identity.actors import Actor, require
from governance.record.chain import rows_digest
from governance.record.events import evaluation as events, people as people_events
from governance.rules import deadlines
from governance.rules.charter import terms_of, validate_charter
from governance.rules.electorate import answerable_from, may_answer
from governance.rules.evidence import sus_score, sus_unanswered
from governance.rules.paper import ONLINE, PAPER, double_refusal
from governance.rules.permissions import Action
from governance.rules.times import local_date
from governance.services._base import (
    get,
    is_on_team,
    is_rostered,
    log,
    need,
    panel_role,
    refuse_repeated_file,
    require_team,
    session_of,
    today,
)
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    Charter,
    FeedbackItem,
    Pilot,
    Problem,
    RosterEntry,
    SourceFile,
    SurveyResponse,
    SurveyRound,
    UsageWeek,
    Vote,
)
from governance.storage.repository import current_charter, current_responses, local_today, paper_entered
from governance.validation import TEXT_MAX, Problems, a_list, choice, text
from governance.vocabulary import (
    FeedbackKind,
    PanelRole,
    PilotState,
    SurveyAnswer,
    VoteKind,
    VoteStatus,
)

USAGE_COLUMNS = ("week_start", "active_users", "eligible_users")


# ------------------------------------------------------------------ charter
@use_case
def adopt_charter(uow: UnitOfWork, actor_id: int, *, reason: str, **terms: Any) -> int:
    """Steering adopts a new charter version (a versioned, audited decision).

    Terms not given keep their current values. Returns the new version number.
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.ADOPT_CHARTER)
    why = text(reason, "Reason for the change", max_len=TEXT_MAX, min_len=10)
    current = current_charter(s)
    current_terms = terms_of(current).as_dict()
    adopted = validate_charter(**{**current_terms, **terms})
    new_terms = adopted.as_dict()
    if new_terms == current_terms:
        raise InvalidInput("These terms are the ones already in force; change at least one.")
    charter = Charter(version=current.version + 1, **adopted.row_values(), adopted_by=actor.id,
                      adopted_at=uow.now(), reason=why)
    s.add(charter)
    s.flush()
    log(uow, actor, people_events.charter_adopted(charter_id=charter.id, version=charter.version,
                                                  terms=new_terms, reason=why, before_terms=current_terms))
    return charter.version


# ------------------------------------------------------------- survey rounds
def require_window(pilot: Pilot, charter: Charter, now: datetime, what: str) -> None:
    """R6: nothing is evaluated before the charter's window of real use has passed."""
    deadlines.require_window(pilot.title, pilot.real_use_started_at, charter.evaluation_window_days, now, what)


def _require_survey_runner(s: Any, actor: Actor, pilot: Pilot) -> None:
    problem = need(s.get(Problem, pilot.problem_id), "problem")
    if is_on_team(s, pilot.id, actor.id) or panel_role(s, problem.panel_id, actor.id) == PanelRole.FACILITATOR:
        return
    raise PermissionDenied(f"Only the commissioning team of '{pilot.title}' or a facilitator of its "
                           "panel may run its surveys.")


def open_vote_on(s: Session, pilot_id: int) -> Vote | None:
    return s.scalar(select(Vote).where(Vote.pilot_id == pilot_id, Vote.kind == VoteKind.OUTCOME,
                                       Vote.status == VoteStatus.OPEN))


@use_case
def open_survey_round(uow: UnitOfWork, actor_id: int, pilot_id: int) -> int:
    """Open an indispensability survey round (only after the evaluation window, R6)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RUN_SURVEY)
    pilot = get(s, Pilot, pilot_id, "pilot")
    _require_survey_runner(s, actor, pilot)
    if pilot.state == PilotState.DECIDED:
        raise RuleViolation(f"'{pilot.title}' is decided; no further survey rounds.", rule="R9")
    require_window(pilot, current_charter(s), uow.now(), "the indispensability survey")
    open_round = s.scalar(select(SurveyRound).where(SurveyRound.pilot_id == pilot.id,
                                                    SurveyRound.closed_at.is_(None)))
    if open_round is not None:
        raise RuleViolation(f"Round {open_round.number} of the survey is still open; close it first.", rule="R7")
    if open_vote_on(s, pilot.id) is not None:
        raise RuleViolation("The outcome vote is open: the evidence it decides on stays fixed until "
                            "it closes. Open a new round afterwards.", rule="R8")
    last = s.scalar(select(SurveyRound.number).where(SurveyRound.pilot_id == pilot.id)
                    .order_by(SurveyRound.number.desc()).limit(1)) or 0
    rnd = SurveyRound(pilot_id=pilot.id, number=last + 1, opened_by=actor.id, opened_at=uow.now())
    s.add(rnd)
    before = pilot.state
    if pilot.state == PilotState.IN_USE:
        pilot.state = PilotState.EVALUATING
        pilot.evaluating_since = uow.now()
    s.flush()
    log(uow, actor, events.round_opened(round_id=rnd.id, pilot_id=pilot.id, number=rnd.number,
                                        before_state=before, after_state=pilot.state))
    return rnd.id


@use_case
def close_survey_round(uow: UnitOfWork, actor_id: int, round_id: int) -> None:
    s = session_of(uow)
    actor = require(s, actor_id, Action.RUN_SURVEY)
    rnd = get(s, SurveyRound, round_id, "survey round")
    pilot = need(s.get(Pilot, rnd.pilot_id), "pilot")
    _require_survey_runner(s, actor, pilot)
    if rnd.closed_at is not None:
        raise RuleViolation(f"Round {rnd.number} is already closed.", rule="R7")
    digest = rows_digest(current_responses(s, rnd.id))
    counts = {a.value: getattr(rnd, a.value) for a in SurveyAnswer}
    rnd.closed_at, rnd.closed_by = uow.now(), actor.id
    log(uow, actor, events.round_closed(round_id=rnd.id, pilot_id=pilot.id, number=rnd.number,
                                        responses_sha256=digest, counts=counts))


def _sus(sus: Sequence[int] | None) -> tuple[list[int | None], float | None]:
    """The ten SUS answers as stored and their score; (ten blanks, None) when none is given.
    Partly answered is refused, naming every item left out (a score needs all ten)."""
    if sus is None:
        return [None] * 10, None
    given = a_list(sus, "Usability answers", max_items=100)
    if all(v is None for v in given):
        return [None] * 10, None
    missing = sus_unanswered(given) if len(given) <= 10 else []
    if missing:
        named = ", ".join(str(i) for i in missing[:-1]) + (" and " if len(missing) > 1 else "") + str(missing[-1])
        raise InvalidInput(f"Usability question{'s' if len(missing) > 1 else ''} {named} "
                           f"{'are' if len(missing) > 1 else 'is'} not answered. Answer all ten from 1 to 5, "
                           "or none.", field="Usability")
    try:
        return list(given), sus_score(list(given))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"Usability questions: {exc}. Answer all ten from 1 to 5, or none.",
                           field="Usability") from None


def _count(rnd: SurveyRound, answer: str, sus: float | None, sign: int, channel: str = ONLINE) -> None:
    """Keep the round's counts of current responses (read by every evidence view)."""
    rnd.responses += sign
    if channel == PAPER:
        rnd.paper_responses += sign
    setattr(rnd, answer, getattr(rnd, answer) + sign)
    if sus is not None:
        rnd.sus_total += sign * sus
        rnd.sus_responses += sign


@use_case
def submit_survey_response(uow: UnitOfWork, actor_id: int, round_id: int, *, answer: str,
                           sus: Sequence[int] | None = None, use_instead: str = "",
                           main_benefit: str = "") -> int:
    """A rostered user answers (or revises their answer to) the survey (R7).

    A revision replaces the earlier answer until the round closes; both are kept. Someone
    whose paper form was entered (``governance.services.paper``) answers on paper only.
    """
    s = session_of(uow)
    require(s, actor_id, Action.RESPOND_TO_SURVEY)  # R14 first, as before any other check
    rnd = get(s, SurveyRound, round_id, "survey round")
    why = double_refusal(done_online=False, to=ONLINE,
                         entered_on_paper=paper_entered(s, round_id=rnd.id, person_id=actor_id))
    if why is not None:
        raise RuleViolation(why, rule="R7")
    return record_response(uow, actor_id, rnd, channel=ONLINE, answer=answer, sus=sus, use_instead=use_instead,
                           main_benefit=main_benefit)


def record_response(uow: UnitOfWork, actor_id: int, rnd: SurveyRound, *, channel: str, answer: str,
                    sus: Sequence[int] | None, use_instead: str, main_benefit: str) -> int:
    """Every rule an answer passes and its recording, whichever way it came (``channel``: online, or
    paper when an attested batch is counted)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RESPOND_TO_SURVEY)
    pilot = need(s.get(Pilot, rnd.pilot_id), "pilot")
    entry = s.get(RosterEntry, (pilot.id, actor.id))
    if entry is None:
        raise RuleViolation(f"Only the rostered users of '{pilot.title}' answer its survey (R7); "
                            f"{actor.name} is not on its roster.", rule="R7")
    window = current_charter(s).evaluation_window_days
    if not may_answer(entry.added_at, pilot.real_use_started_at, window, rnd.opened_at):
        earliest = answerable_from(entry.added_at, pilot.real_use_started_at, window)
        raise RuleViolation(
            f"{actor.name} joined the roster of '{pilot.title}' on {entry.added_at:%d %b %Y}, after real use "
            f"began, so they answer only rounds that open from {earliest:%d %b %Y} ({window} days of real use "
            "of their own); this round opened earlier.", rule="R15")
    if rnd.closed_at is not None:
        raise RuleViolation(f"Round {rnd.number} of the survey closed on {rnd.closed_at:%d %b %Y}; "
                            "answers can no longer be given or changed.", rule="R7")
    # Every field is checked before refusing, so the form reports all its problems at once.
    found = Problems()
    if answer is None or answer == "":
        choice_ = None
        found.add("Answer", "Choose an answer to the main question first: how would you feel if you could "
                            "no longer use it?")
    else:
        choice_ = found.check("Answer", choice, answer, SurveyAnswer, "Answer")
    items, score = found.check("Usability", _sus, sus) or ([None] * 10, None)
    instead = found.check("What would you use instead?", text, use_instead, "What would you use instead?",
                          max_len=TEXT_MAX, required=False)
    benefit = found.check("Main benefit", text, main_benefit, "Main benefit", max_len=TEXT_MAX, required=False)
    found.raise_any()
    assert choice_ is not None  # raise_any refused otherwise
    previous = s.scalar(select(SurveyResponse).where(SurveyResponse.round_id == rnd.id,
                                                     SurveyResponse.person_id == actor.id,
                                                     SurveyResponse.is_current.is_(True)))
    if previous is not None:
        previous.is_current = False
        _count(rnd, previous.answer, previous.sus_score, -1, previous.channel)
        s.flush()
    _count(rnd, choice_, score, +1, channel)
    response = SurveyResponse(round_id=rnd.id, person_id=actor.id, answer=choice_, sus_score=score,
                              use_instead=instead, main_benefit=benefit, submitted_at=uow.now(),
                              is_current=True, channel=channel,
                              **{f"sus_{i}": v for i, v in enumerate(items, start=1)})
    s.add(response)
    s.flush()
    log(uow, actor, events.response_given(response_id=response.id, round_id=rnd.id,
                                          previous_id=previous.id if previous else None))
    return response.id


# -------------------------------------------------------------------- usage
@use_case
def import_usage(uow: UnitOfWork, actor_id: int, pilot_id: int, *, filename: str,
                 content: bytes) -> int:
    """Import weekly active vs eligible users from the tool's log export (CSV).

    Columns: ``week_start,active_users,eligible_users`` (week_start the
    Monday of the week, YYYY-MM-DD). The file is validated as a whole; nothing is written unless
    every row is valid. Returns the number of weeks imported. Long on purpose: the file's row
    checks and the checks against the pilot's real use belong to the one all-or-nothing import.
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.IMPORT_USAGE)
    pilot = get(s, Pilot, pilot_id, "pilot")
    require_team(s, actor, pilot, "import its usage")
    if pilot.real_use_started_at is None:
        raise RuleViolation(f"'{pilot.title}' has not entered real use; there is no usage to import yet.", rule="R6")
    first_week = pilot.real_use_started_at.date() - timedelta(days=pilot.real_use_started_at.weekday())
    now_day = today(uow)

    def parse(row: dict[str, str]) -> dict[str, Any]:
        try:
            week = date.fromisoformat(row["week_start"])
        except ValueError:
            raise ValueError(f"week_start '{row['week_start']}' is not a date written YYYY-MM-DD") from None
        if week.weekday() != 0:
            raise ValueError(f"week_start {week} is a {week:%A}; weeks start on a Monday "
                             f"(that week's Monday is {week - timedelta(days=week.weekday())})")
        if week > now_day:
            raise ValueError(f"week_start {week} is in the future")
        if week < first_week:
            raise ValueError(f"week_start {week} is before real use began ({first_week})")
        active = parse_whole(row["active_users"], "active_users")
        eligible = parse_whole(row["eligible_users"], "eligible_users")
        if active > eligible:
            raise ValueError(f"active_users {active} is more than eligible_users {eligible}")
        return {"week_start": week, "active_users": active, "eligible_users": eligible}

    parsed = parse_csv(filename, content, USAGE_COLUMNS, parse)
    refuse_repeated_file(s, pilot, parsed.filename, parsed.sha256)
    errors: list[tuple[int, str]] = []
    seen: dict[date, int] = {}
    for row in parsed.rows:
        if row["week_start"] in seen:
            errors.append((row["_line"], f"week {row['week_start']} repeats line {seen[row['week_start']]}"))
        seen.setdefault(row["week_start"], row["_line"])
    stored = set(s.scalars(select(UsageWeek.week_start).where(UsageWeek.pilot_id == pilot.id,
                                                              UsageWeek.week_start.in_(list(seen)))))
    for row in parsed.rows:
        if row["week_start"] in stored:
            errors.append((row["_line"], f"week {row['week_start']} was already imported"))
    if errors:
        raise FileRejected(parsed.filename, sorted(errors))
    source = SourceFile(pilot_id=pilot.id, kind="usage", filename=parsed.filename, sha256=parsed.sha256,
                        byte_size=parsed.byte_size, row_count=len(parsed.rows), imported_by=actor.id,
                        imported_at=uow.now())
    s.add(source)
    s.flush()
    s.add_all(UsageWeek(pilot_id=pilot.id, week_start=r["week_start"], active_users=r["active_users"],
                        eligible_users=r["eligible_users"], source_file_id=source.id)
              for r in parsed.rows)
    s.flush()
    log(uow, actor, events.usage_imported(source_file_id=source.id, pilot_id=pilot.id, filename=parsed.filename,
                                          sha256=parsed.sha256, weeks=[r["week_start"] for r in parsed.rows]))
    return len(parsed.rows)


# ----------------------------------------------------------------- feedback
@use_case
def raise_feedback(uow: UnitOfWork, actor_id: int, pilot_id: int, *, kind: str, body: str) -> int:
    """A frontline user flags something about a pilot; the owner must answer by the due date (R13)."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RAISE_FEEDBACK)
    pilot = get(s, Pilot, pilot_id, "pilot")
    problem = need(s.get(Problem, pilot.problem_id), "problem")
    if not (is_rostered(s, pilot.id, actor.id) or panel_role(s, problem.panel_id, actor.id)):
        raise PermissionDenied(f"Feedback on '{pilot.title}' comes from its rostered users and its "
                               "panel; you are neither.")
    which = choice(kind, FeedbackKind, "Kind of feedback")
    words = text(body, "Feedback", max_len=TEXT_MAX)
    charter = current_charter(s)
    raised = uow.now()
    # Working days are the organisation's calendar days: a Monday-morning item in Auckland is a Monday's.
    raised_on = local_date(raised, charter.time_zone)
    item = FeedbackItem(pilot_id=pilot.id, raised_by=actor.id, raised_at=raised, kind=which, body=words,
                        due_on=deadlines.working_days_after(raised_on, charter.feedback_response_working_days,
                                                            charter.country or ""))
    s.add(item)
    s.flush()
    log(uow, actor, events.feedback_raised(item_id=item.id, pilot_id=pilot.id, kind=which, body=words,
                                           due_on=item.due_on))
    return item.id


@use_case
def respond_to_feedback(uow: UnitOfWork, actor_id: int, item_id: int, *, response: str) -> None:
    """The pilot's owner (or team) answers a feedback item: "you said, we did"."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RESPOND_TO_FEEDBACK)
    item = get(s, FeedbackItem, item_id, "feedback item")
    pilot = need(s.get(Pilot, item.pilot_id), "pilot")
    require_team(s, actor, pilot, "respond to its feedback")
    if item.responded_at is not None:
        raise RuleViolation(f"This item was answered on {item.responded_at:%d %b %Y}; raise a new item "
                            "to continue the conversation.", rule="R13")
    words = text(response, "Response", max_len=TEXT_MAX)
    item.response, item.responded_by, item.responded_at = words, actor.id, uow.now()
    late = local_today(s, item.responded_at) > item.due_on
    log(uow, actor, events.feedback_responded(item_id=item.id, response=words, late=late, due_on=item.due_on))
