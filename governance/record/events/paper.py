"""Audit events of paper, attested (issue 15): a batch printed, a sheet entered or spoiled,
a batch attested with its closure certificate.

A secret sheet's events name no person and hold no option (R17): the option reaches the
record only through the secret ballot written when the batch is attested."""
from __future__ import annotations

from typing import Any

from governance.record.events.base import Event, event


def batch_printed(*, batch_id: int, act: str, act_id: int, sheets: int, secret: bool,
                  person_ids: list[int] | None) -> Event:
    """Paper sheets printed for a round or vote: how many, and for whom (not for a secret vote)."""
    return event("paper_batch.printed", ("paper_batch", batch_id),
                 after={"act": act, "act_id": act_id, "sheets": sheets, "secret": secret,
                        "person_ids": None if secret else sorted(person_ids or [])})


def sheet_entered(*, batch_id: int, sheet_id: int, state: str, person_id: int | None,
                  answers: dict[str, Any] | None) -> Event:
    """A sheet entered (with what the paper said: not for a secret sheet) or marked spoiled."""
    return event("paper_sheet.entered", ("paper_sheet", sheet_id),
                 after={"batch_id": batch_id, "state": state, "person_id": person_id, "answers": answers})


def batch_attested(*, batch_id: int, certificate: dict[str, Any]) -> Event:
    """The batch attested by a second person: its closure certificate, and from now on its entries count."""
    return event("paper_batch.attested", ("paper_batch", batch_id), after=certificate)
