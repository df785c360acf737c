"""The organisation's time zone (a charter term): validating its name, and the one way a
moment is written for a person to read. Pure.

The record keeps every moment in UTC (R11); pages and the light path show it in the
organisation's zone, with the zone's abbreviation, so nobody has to convert. Exports
and the audit log stay in UTC and say so.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"
EXAMPLE = "Europe/London"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone called ``name``; UTC for a name that is not one (a stored zone was validated)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def time_zone_problem(value: object) -> str | None:
    """Why ``value`` is not an IANA time zone name (None: it is one)."""
    if not isinstance(value, str) or not value.strip():
        return f"Time zone must be a time zone name such as {EXAMPLE} or UTC."
    name = value.strip()
    if name not in _known():
        return (f"Time zone '{name[:40]}' is not a time zone name; use a name from the IANA time zone "
                f"database such as {EXAMPLE}, America/Jamaica or UTC.")
    return None


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    # ZoneInfo("../x") or a file name would be tried on disk: only listed names are accepted.
    return frozenset(available_timezones()) | {"UTC"}


def known_zones() -> list[str]:
    """Every zone name the charter accepts, sorted (for a picker)."""
    return sorted(_known())


def local(moment: datetime, zone_name: str) -> datetime:
    """``moment`` (aware; a naive one is taken as UTC, as the database returns it) in the zone."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(zone_name))


def local_date(moment: datetime, zone_name: str) -> date:
    """The calendar day ``moment`` falls on in the organisation's zone (working days count in it)."""
    return local(moment, zone_name).date()


def moment_text(moment: datetime | date | None, zone_name: str = DEFAULT_ZONE, *, sep: str = " ") -> str:
    """A moment as a person reads it: ``03 Dec 2026 09:04 GMT`` in the organisation's zone (a
    date alone: ``03 Dec 2026``; nothing: "—"). ``sep`` goes between the date and the time."""
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return moment.strftime("%d %b %Y")
    there = local(moment, zone_name)
    abbreviation = there.tzname() or zone_name
    return there.strftime(f"%d %b %Y{sep}%H:%M ") + abbreviation


def utc_text(moment: datetime | date | None) -> str:
    """A moment in UTC, labelled: how exports and the audit log write it."""
    return moment_text(moment, DEFAULT_ZONE)
