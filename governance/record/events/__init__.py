"""The audit events, one builder per action.

Every audit payload the product writes is built here, by one function per
action, from plain values. The use cases (``governance.services``) call these
builders and append the result in their transaction; the benchmark's
generator (``bench``) calls the very same builders for its bulk inserts, so
the two can never drift apart (``tests/test_payload_agreement.py`` compares
them action by action).

A payload is ``{"before": …, "after": …, **extra}``: what changed, as it was
and as it is, and whatever else an auditor needs to read the act.
"""
from __future__ import annotations

from governance.record.events import evaluation, paper, people, pilots, problems, reach, record, votes
from governance.record.events.base import Event, event

__all__ = ["Event", "evaluation", "event", "paper", "people", "pilots", "problems", "reach", "record", "votes"]
