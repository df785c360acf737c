"""Reminders by email (issue 15, item 4), sent by the scheduled job (``governance.jobs``).

What is due (``due_reminders``), read fresh at every run:

* a vote closing within 48 hours — to its eligible voters who have not voted;
* an open survey round — to the rostered people who may answer it and have not;
* feedback awaiting its owner's response — to the pilot's owner, once in the days
  before its due date and once after it;
* a digest of overdue feedback — to steering, at most once a day.

Never twice: a reminder sent is kept (``reminder_sent``, one row per person, kind
and thing) and never sent again; a failed one is retried by later runs up to
``MAX_ATTEMPTS``. Never to someone who already acted, or who turned reminders off
(``set_my_reminders``), or who is no longer active. Email is sent outside any
database transaction; each result is then recorded in its own.
"""
from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from governance.identity.actors import load_actor
from governance.mail import Mailer
from governance.record.events import reach as events
from governance.rules import acts as _may, reminders as rules
from governance.rules.electorate import may_answer
from governance.services._base import log, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import (
    FeedbackItem,
    Person,
    PersonRole,
    Pilot,
    PilotTeamMember,
    ReminderOptOut,
    ReminderSent,
    RosterEntry,
    SurveyResponse,
    SurveyRound,
    Vote,
    VoteEligibility,
    VoteParticipation,
)
from governance.storage.repository import current_charter, local_today, paper_people
from governance.vocabulary import Role, VoteStatus

MAX_ATTEMPTS = 3
DIGEST_ITEMS = 20


@dataclass(frozen=True)
class Reminder:
    """One message due to one person about one thing."""

    person_id: int
    email: str
    kind: str
    subject: str
    title: str
    body: str


@dataclass
class ReminderReport:
    """What one run sent, per kind; what failed; and why nothing was sent, if so."""

    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    skipped: str = ""


def _footer(base: str) -> str:
    where = f"{base}/lite/" if base else "the light version of the dashboard (/lite/)"
    return (f"\n\nOn a slow connection, use {where}.\nTo stop these reminders, sign in there (or open "
            "\"Your account\" in the dashboard) and turn reminders off.\n")


def due_reminders(uow: UnitOfWork, base_url: str = "") -> list[Reminder]:
    """Every reminder due now, to people who have not acted, not opted out and not been reminded.

    Long on purpose: one read transaction, the four kinds of reminder one after the other, each a
    loop over what is open now, sharing who may be reminded (``add``)."""
    with uow.reading() as s:
        now = uow.now()
        today = local_today(s, now)
        window = current_charter(s).evaluation_window_days
        off = set(s.scalars(select(ReminderOptOut.person_id)))
        done = {(r.person_id, r.kind, r.subject) for r in s.scalars(select(ReminderSent))
                if r.status == "sent" or r.attempts >= MAX_ATTEMPTS}
        people = {p.id: p for p in s.scalars(select(Person).where(Person.active.is_(True)))}
        held: dict[int, set[Role]] = {}
        for person_id, role in s.execute(select(PersonRole.person_id, PersonRole.role)):
            held.setdefault(person_id, set()).add(Role(role))

        def roles_of(person_id: int) -> frozenset[Role]:
            return frozenset(held.get(person_id, ()))
        due: list[Reminder] = []

        def add(person_id: int, kind: str, thing: int | date, title: str, text: str) -> None:
            subject = rules.subject_of(kind, thing)
            person = people.get(person_id)
            if person is None or person_id in off or (person_id, kind, subject) in done:
                return
            due.append(Reminder(person_id, person.email, kind, subject, title,
                                f"Hello {person.name},\n\n{text}{_footer(base_url)}"))

        for vote in s.scalars(select(Vote).where(Vote.status == VoteStatus.OPEN)):
            if not rules.vote_closing_soon(now, vote.deadline):
                continue
            voted = set(s.scalars(select(VoteParticipation.person_id).where(VoteParticipation.vote_id == vote.id)))
            team = set(s.scalars(select(PilotTeamMember.person_id).where(PilotTeamMember.pilot_id == vote.pilot_id))
                       ) if vote.pilot_id is not None else set()
            for person_id, group in s.execute(select(VoteEligibility.person_id, VoteEligibility.voting_group)
                                              .where(VoteEligibility.vote_id == vote.id)):
                # Only those who can still cast (the same rule as the Votes page): someone who has
                # left their group since the vote opened is not asked to do what they cannot.
                if person_id not in voted and _may.may_cast(roles_of(person_id), vote.status, group,
                                                            person_id in team):
                    link = f"{base_url}/lite/vote/{vote.id}" if base_url else "the Votes page"
                    add(person_id, rules.VOTE_CLOSING, vote.id, f"Vote closing soon: {vote.question[:120]}",
                        f"The binding vote \"{vote.question}\" closes on {vote.deadline:%d %b %Y at %H:%M} UTC "
                        f"and you have not voted yet. Vote at {link}.")
        for rnd, pilot in s.execute(select(SurveyRound, Pilot).join(Pilot, Pilot.id == SurveyRound.pilot_id)
                                    .where(SurveyRound.closed_at.is_(None))):
            answered = set(s.scalars(select(SurveyResponse.person_id).where(
                SurveyResponse.round_id == rnd.id, SurveyResponse.is_current.is_(True))))
            answered |= paper_people(s, round_id=rnd.id)  # their form is entered: nothing to remind
            for entry in s.scalars(select(RosterEntry).where(RosterEntry.pilot_id == pilot.id)):
                if entry.person_id in answered or not may_answer(entry.added_at, pilot.real_use_started_at,
                                                                 window, rnd.opened_at):
                    continue
                link = f"{base_url}/lite/survey/{rnd.id}" if base_url else "the Evaluate page"
                add(entry.person_id, rules.SURVEY_OPEN, rnd.id, f"Your view is asked: {pilot.title}",
                    f"Round {rnd.number} of the survey on {pilot.title} is open and you have not answered yet: "
                    f"would you miss it if it went away? It takes two minutes, at {link}.")
        overdue: list[str] = []
        for item, pilot in s.execute(select(FeedbackItem, Pilot).join(Pilot, Pilot.id == FeedbackItem.pilot_id)
                                     .where(FeedbackItem.responded_at.is_(None))
                                     .order_by(FeedbackItem.due_on, FeedbackItem.id)):
            kind = rules.feedback_reminder(today, item.due_on)
            if kind is None:
                continue
            when = "was due" if kind == rules.FEEDBACK_OVERDUE else "is due"
            add(pilot.owner_id, kind, item.id, f"Feedback awaiting your response: {pilot.title}",
                f"Feedback on {pilot.title} {when} a response by {item.due_on:%d %b %Y}:\n\n  {item.body[:500]}\n\n"
                "Respond on the Evaluate page (Feedback).")
            if kind == rules.FEEDBACK_OVERDUE:
                overdue.append(f"- {pilot.title}: due {item.due_on:%d %b %Y} — {item.body[:120]}")
        if overdue:
            listed = "\n".join(overdue[:DIGEST_ITEMS]) + (
                f"\n… and {len(overdue) - DIGEST_ITEMS} more." if len(overdue) > DIGEST_ITEMS else "")
            for person_id in s.scalars(select(PersonRole.person_id).where(PersonRole.role == Role.STEERING)):
                add(person_id, rules.STEERING_DIGEST, today, f"Overdue feedback: {len(overdue)} item(s)",
                    f"{len(overdue)} feedback item(s) are past their response date:\n\n{listed}")
        return due


@use_case
def _record(uow: UnitOfWork, reminder: Reminder, error: str | None) -> None:
    s = session_of(uow)
    row = s.scalar(select(ReminderSent).where(ReminderSent.person_id == reminder.person_id,
                                              ReminderSent.kind == reminder.kind,
                                              ReminderSent.subject == reminder.subject))
    status = "failed" if error else "sent"
    if row is None:
        s.add(ReminderSent(person_id=reminder.person_id, kind=reminder.kind, subject=reminder.subject,
                           status=status, attempts=1, last_error=error, sent_at=uow.now()))
    else:
        row.status, row.attempts, row.last_error, row.sent_at = status, row.attempts + 1, error, uow.now()


def send_reminders(uow: UnitOfWork, mailer: Mailer | None, base_url: str = "",
                   reminders: Iterable[Reminder] | None = None) -> ReminderReport:
    """Send every due reminder through ``mailer`` (an open ``Mailer``) and record each result."""
    report = ReminderReport()
    if mailer is None:
        report.skipped = "email is not configured (GOVERNANCE_SMTP_HOST)"
        return report
    for reminder in (due_reminders(uow, base_url) if reminders is None else reminders):
        try:
            mailer.send(reminder.email, reminder.title, reminder.body)
        except (smtplib.SMTPException, OSError) as exc:
            _record(uow, reminder, f"{type(exc).__name__}: {exc}"[:500])
            report.failed[reminder.kind] = report.failed.get(reminder.kind, 0) + 1
        else:
            _record(uow, reminder, None)
            report.sent[reminder.kind] = report.sent.get(reminder.kind, 0) + 1
    return report


@use_case
def set_my_reminders(uow: UnitOfWork, actor_id: int, *, off: bool) -> bool:
    """Turn one's own reminders off (or on again); True if that changed anything (then audited)."""
    s = session_of(uow)
    actor = load_actor(s, actor_id)
    row = s.get(ReminderOptOut, actor.id)
    if (row is not None) == off:
        return False
    if off:
        s.add(ReminderOptOut(person_id=actor.id, opted_out_at=uow.now()))
    else:
        s.delete(row)
    log(uow, actor, events.reminders_set(person_id=actor.id, off=off))
    return True
