"""Reminders (issue 15, item 4): which thing deserves a reminder now. Pure.

Who has already acted, who turned reminders off and who was already reminded
are read by the service; these say only *when* a reminder is due, and name the
thing it is about (``subject``), which is what "never twice" is counted by.
Loomio's rule is kept: a reminder is about one thing, so a new survey round or
a new vote is a new thing, and nobody is reminded again of an old one.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

#: A vote is reminded of when it closes within this long.
VOTE_CLOSING_WITHIN = timedelta(hours=48)
#: Feedback is reminded of to its owner from this many days before its due date (and once after).
FEEDBACK_DUE_WITHIN_DAYS = 2

VOTE_CLOSING = "vote_closing"
SURVEY_OPEN = "survey_open"
FEEDBACK_DUE = "feedback_due"
FEEDBACK_OVERDUE = "feedback_overdue"
STEERING_DIGEST = "steering_digest"
KINDS = (VOTE_CLOSING, SURVEY_OPEN, FEEDBACK_DUE, FEEDBACK_OVERDUE, STEERING_DIGEST)


def vote_closing_soon(now: datetime, deadline: datetime) -> bool:
    """An open vote closes within ``VOTE_CLOSING_WITHIN`` (and has not yet reached its deadline)."""
    return now < deadline <= now + VOTE_CLOSING_WITHIN


def feedback_reminder(today: date, due_on: date) -> str | None:
    """Which reminder unanswered feedback deserves today: ``FEEDBACK_DUE`` in the days just before
    its due date, ``FEEDBACK_OVERDUE`` once it has passed, else None."""
    if due_on < today:
        return FEEDBACK_OVERDUE
    if (due_on - today).days <= FEEDBACK_DUE_WITHIN_DAYS:
        return FEEDBACK_DUE
    return None


def subject_of(kind: str, thing_id: int | date) -> str:
    """The thing a reminder is about: a vote, a round, a feedback item and which of its two
    reminders, or the day of a steering digest."""
    return f"{kind}:{thing_id}"
