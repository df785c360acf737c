"""R12: claims are not decisions.

Anyone with a role (but auditors, who only read) may record a non-binding
statement about a pilot, citing the metrics it rests on. The claim is
checked when it is recorded (``governance.rules.claims``), and the checks
are stored with it.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from governance.errors import InvalidInput
from governance.identity.actors import require
from governance.record.chain import canonical_json
from governance.record.events import pilots as events
from governance.rules.claims import claim_checks
from governance.rules.permissions import Action
from governance.services._base import get, log, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import Claim, Decision, Pilot
from governance.storage.repository import citable
from governance.validation import NAME_MAX, TEXT_MAX, Problems, text

MAX_CITATIONS = 20


def _citations(cited_metrics: Iterable[str]) -> list[str]:
    """The cited metric names, each once (case aside), at least one and at most MAX_CITATIONS (R12)."""
    if isinstance(cited_metrics, str) or not isinstance(cited_metrics, Iterable):
        raise InvalidInput("List the metrics the claim cites, one by one.", field="Cited metrics")
    names: list[str] = []
    for raw in cited_metrics:
        name = text(raw, "Cited metric", max_len=NAME_MAX)
        if name.lower() not in (n.lower() for n in names):
            names.append(name)
    if not names:
        raise InvalidInput("Cite at least one metric or criterion the claim rests on: a claim is checked "
                           "against what it cites.", field="Cited metrics", rule="R12")
    if len(names) > MAX_CITATIONS:
        raise InvalidInput(f"Cite at most {MAX_CITATIONS} metrics.", field="Cited metrics")
    return names


@use_case
def record_claim(uow: UnitOfWork, actor_id: int, pilot_id: int, *, statement: str,
                 cited_metrics: Iterable[str], asserts_success: bool = True) -> int:
    """Record a non-binding claim about a pilot, with the metrics it cites; returns its id."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.RECORD_CLAIM)
    pilot = get(s, Pilot, pilot_id, "pilot")
    # Every field is checked before refusing, so the form reports all its problems at once.
    found = Problems()
    words = found.check("Claim", text, statement, "Claim", max_len=TEXT_MAX)
    if not isinstance(asserts_success, bool):
        found.add("Claims success", "Say whether the claim asserts success (yes or no).")
    names = found.check("Cited metrics", _citations, cited_metrics) or []
    found.raise_any()
    assert words is not None  # raise_any refused otherwise
    decision = s.scalar(select(Decision).where(Decision.pilot_id == pilot.id)
                        .order_by(Decision.id.desc()).limit(1))
    checks = claim_checks(names, citable(s, pilot), pilot.real_use_started_at,
                          decision.id if decision else None, decision.outcome if decision else None,
                          asserts_success)
    claim = Claim(pilot_id=pilot.id, made_by=actor.id, made_at=uow.now(), statement=words,
                  asserts_success=asserts_success, citations_json=canonical_json(names),
                  checks_json=canonical_json(checks), decision_id=decision.id if decision else None)
    s.add(claim)
    s.flush()
    log(uow, actor, events.claim_recorded(claim_id=claim.id, pilot_id=pilot.id, statement=words,
                                          asserts_success=asserts_success, cited=names, flags=checks["flags"]))
    return claim.id
