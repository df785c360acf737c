"""Time in the rules: the evaluation window (R6), working days for feedback
(R13), and the bounds of a vote's deadline (R16). Pure."""
from __future__ import annotations

import functools
from collections.abc import Container
from datetime import date, datetime, timedelta

from governance.errors import InvalidInput, RuleViolation


def add_working_days(start: date, days: int, holidays: Container[date] = frozenset()) -> date:
    """``days`` working days after ``start``: Monday–Friday, less ``holidays``
    (the public holidays of the organisation's country, ``public_holidays``)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            remaining -= 1
    return current


@functools.lru_cache(maxsize=64)
def _holidays(country: str, first_year: int, last_year: int) -> frozenset[date]:
    import holidays as holiday_tables

    table = holiday_tables.country_holidays(country, years=range(first_year, last_year + 1))
    return frozenset(table.keys())


def public_holidays(country: str, start: date, days: int = 0) -> frozenset[date]:
    """The public holidays of ``country`` (ISO 3166 alpha-2, e.g. "JM") from ``start``'s
    year through the years ``days`` working days can reach; empty for "" (no country)."""
    if not country:
        return frozenset()
    last = start + timedelta(days=2 * days + 30)
    return _holidays(country.upper(), start.year, last.year)


def working_days_after(start: date, days: int, country: str) -> date:
    """``days`` working days after ``start`` in ``country`` (weekends and its public holidays off)."""
    return add_working_days(start, days, public_holidays(country, start, days))


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


def vote_deadline(now: datetime, min_days: int, max_days: int, *, days: object = None,
                  deadline: object = None) -> datetime:
    """R16: the proposer sets the deadline, within the charter's bounds.

    Either ``days`` (whole days from now) or ``deadline`` (a moment); neither:
    a week, kept within the bounds. Refused with the bounds when outside them.
    """
    if days is not None and deadline is not None:
        raise InvalidInput("Give either the number of days the vote stays open or its deadline, not both.",
                           field="Deadline")
    if deadline is None:
        if days is None:
            days = max(min_days, min(7, max_days))
        if isinstance(days, bool) or not isinstance(days, int):
            raise InvalidInput(f"Days the vote stays open must be a whole number from {min_days} to {max_days}.",
                               field="Deadline")
        chosen = now + timedelta(days=days)
    else:
        if not isinstance(deadline, datetime) or deadline.tzinfo is None:
            raise InvalidInput("The deadline must be a date and time with its time zone.", field="Deadline")
        chosen = deadline
    earliest, latest = now + timedelta(days=min_days), now + timedelta(days=max_days)
    if not earliest <= chosen <= latest:
        raise InvalidInput(
            f"The charter says a vote stays open from {min_days} to {max_days} days; choose a deadline between "
            f"{earliest:%d %b %Y %H:%M} and {latest:%d %b %Y %H:%M} UTC.", field="Deadline")
    return chosen


def may_close_early(eligible: int, voted: int) -> bool:
    """R16: a vote closes before its deadline only when every eligible voter has voted."""
    return eligible > 0 and voted >= eligible
