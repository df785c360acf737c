"""Time in the rules: the evaluation window (R6), working days for feedback
(R13), and the bounds of a vote's deadline (R16). Pure."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from governance.errors import RuleViolation


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday–Friday) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def window_opens_at(real_use_started_at: datetime | None, window_days: int) -> datetime | None:
    """The moment the survey and the outcome vote may open (R6); None before real use."""
    if real_use_started_at is None:
        return None
    return real_use_started_at + timedelta(days=window_days)


def require_window(title: str, real_use_started_at: datetime | None, window_days: int, now: datetime,
                   what: str) -> None:
    """R6: nothing is evaluated before the charter's window of real use has passed."""
    if real_use_started_at is None:
        raise RuleViolation(f"'{title}' has not entered real use yet, so {what} cannot open.", rule="R6")
    opens = window_opens_at(real_use_started_at, window_days)
    assert opens is not None
    if now < opens:
        raise RuleViolation(
            f"{what[0].upper()}{what[1:]} for '{title}' cannot open before "
            f"{opens:%d %B %Y %H:%M} UTC ({window_days} days of real use since "
            f"{real_use_started_at:%d %B %Y}). Try again from then.", rule="R6")
