"""Audit events of evaluation: survey rounds and responses, usage imports, feedback (R6, R7, R13)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from governance.record.events.base import Event, event


def round_opened(*, round_id: int, pilot_id: int, number: int, before_state: str, after_state: str) -> Event:
    return event("survey.round_opened", ("survey_round", round_id), before={"pilot_state": before_state},
                 after={"pilot_id": pilot_id, "number": number, "pilot_state": after_state})


def round_closed(*, round_id: int, pilot_id: int, number: int, responses_sha256: str,
                 counts: Mapping[str, int]) -> Event:
    """The round's answers are final: their digest and counts are recorded with its close."""
    return event("survey.round_closed", ("survey_round", round_id),
                 after={"pilot_id": pilot_id, "number": number, "responses_sha256": responses_sha256,
                        "counts": dict(counts)})


def response_given(*, response_id: int, round_id: int, previous_id: int | None = None) -> Event:
    """R7: an answer, or a revision that replaces the person's earlier one (both kept).

    The answer is not in the event: running survey counts stay hidden until the round closes
    (R8); the round's closing event records the digest and the counts of the answers."""
    revised = previous_id is not None
    return event("survey.response_revised" if revised else "survey.response_given",
                 ("survey_response", response_id),
                 before={"response_id": previous_id} if revised else None, after={"round_id": round_id})


def usage_imported(*, source_file_id: int, pilot_id: int, filename: str, sha256: str,
                   weeks: Sequence[date]) -> Event:
    return event("usage.imported", ("source_file", source_file_id),
                 after={"pilot_id": pilot_id, "filename": filename, "sha256": sha256, "weeks": list(weeks)})


def feedback_raised(*, item_id: int, pilot_id: int, kind: str, body: str, due_on: date) -> Event:
    return event("feedback.raised", ("feedback_item", item_id),
                 after={"pilot_id": pilot_id, "kind": kind, "body": body, "due_on": due_on})


def feedback_responded(*, item_id: int, response: str, late: bool, due_on: date) -> Event:
    return event("feedback.responded", ("feedback_item", item_id),
                 after={"response": response, "late": late, "due_on": due_on})
