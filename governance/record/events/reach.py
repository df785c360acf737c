"""Audit events of reaching people: personal one-time links and reminder preferences (issue 15)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from governance.record.events.base import Event, event


def links_issued(*, act: str, act_id: int, person_ids: Sequence[int], expires_at: datetime,
                 replaced: int) -> Event:
    """Personal links issued for a survey round or a vote, one per person (their tokens are not recorded)."""
    return event("personal_link.issued", (act, act_id),
                 after={"person_ids": sorted(person_ids), "expires_at": expires_at, "replaced": replaced})


def link_used(*, link_id: int, act: str, act_id: int, person_id: int) -> Event:
    """A personal link was used for its one act (the act itself has its own event)."""
    return event("personal_link.used", ("personal_link", link_id),
                 after={"act": act, "act_id": act_id, "person_id": person_id})


def reminders_set(*, person_id: int, off: bool) -> Event:
    """Someone turned their own reminders off, or on again."""
    return event("person.reminders_set", ("person", person_id), before={"off": not off}, after={"off": off})
