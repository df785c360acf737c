"""Outcome statements: what whoever closes a vote writes about its outcome, and the factual
statement the scheduled close records when nobody closed it by hand (R16). Pure."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from governance.vocabulary import label

#: A paragraph or two for the record, not a report (the basis holds the evidence).
STATEMENT_MAX = 2000
STATEMENT_MIN = 10


def scheduled_statement(deadline: datetime, result: Mapping[str, Any]) -> str:
    """The statement of a vote the scheduled job closed at its deadline: who closed it (the
    schedule), when (UTC, as the record keeps time), turnout, and the result in words."""
    groups = result.get("groups", {}).values()
    cast = sum(int(g.get("cast", 0)) for g in groups)
    eligible = sum(int(g.get("eligible", 0)) for g in result.get("groups", {}).values())
    winner = result.get("winner")
    if winner:
        outcome = f"the result is {label(winner).lower()}"
    elif not result.get("quorum_met"):
        outcome = "quorum was not met, so there is no binding result"
    else:
        outcome = "there is no binding result"
    return (f"Closed by the schedule at its deadline, {deadline:%d %b %Y %H:%M} UTC, not by a person: "
            f"{cast} of {eligible} eligible voters had voted and {outcome}.")
