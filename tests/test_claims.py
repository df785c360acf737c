"""R12 claims are not decisions.

Anyone with a role but auditors may record a non-binding claim about a pilot,
citing the metrics it rests on. The checks are stored with the claim: a cited
metric is unknown; was not pre-registered before real use; was amended after
real use began; the claim contradicts the binding decision; the claim was made
before any decision.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from governance import services as sv
from governance.errors import InvalidInput, NotFound, PermissionDenied
from governance.queries.audit import claims_page
from governance.queries.evaluate import claims_for_pilot
from governance.storage.models import AuditEvent, Claim, CommissioningMetric, Criterion, Pilot
from tests.world import NOT, VERY

SUCCESS = "The assistant met its KPIs: accuracy and time saved are on target."


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def claim(world, pilot, cited, *, by=None, asserts_success=True, statement=SUCCESS) -> dict:
    """Record a claim; return its stored checks."""
    claim_id = sv.record_claim(world.uow, by or world.commissioner, pilot, statement=statement,
                               cited_metrics=cited, asserts_success=asserts_success)
    stored = read(world, lambda s: s.get(Claim, claim_id))
    return {"id": claim_id, **json.loads(stored.checks_json), "decision_id": stored.decision_id}


def metric_id(world, pilot, name):
    return read(world, lambda s: s.scalar(select(CommissioningMetric.id).where(
        CommissioningMetric.pilot_id == pilot, CommissioningMetric.name == name)))


def decide(world, pilot, outcome_votes: str) -> int:
    """Survey (insufficient under the default charter), vote, close: returns the decision id."""
    world.pass_window()
    world.survey(pilot, [(m, VERY if i < 2 else NOT) for i, m in enumerate(world.members)])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter in [*world.panel_voters, world.commissioner, world.steering]:
        sv.cast_ballot(world.uow, voter, vote, outcome_votes)
    return world.close_at_deadline(vote, world.steering)


@pytest.fixture
def pilot(world):
    _, pilot = world.pilot_in_use()
    return pilot


# ------------------------------------------------------------------- checks
def test_a_clean_claim_before_any_decision_is_flagged_only_as_premature(world, pilot):
    checks = claim(world, pilot, ["Extraction accuracy", "minutes saved per LETTER"])
    assert [c["known"] for c in checks["citations"]] == [True, True]
    assert [c["kind"] for c in checks["citations"]] == ["commissioning metric", "commissioning metric"]
    assert all(c["pre_registered"] and not c["amended_after_real_use"] for c in checks["citations"])
    assert checks["before_decision"] is True and checks["contradicts_decision"] is None
    assert checks["flags"] == ["made before any binding decision"]
    assert checks["decision_id"] is None


def test_an_unknown_metric_is_flagged(world, pilot):
    checks = claim(world, pilot, ["Extraction accuracy", "Patient happiness"])
    unknown = checks["citations"][1]
    assert unknown == {"cited": "Patient happiness", "kind": "unknown", "id": None, "known": False,
                       "pre_registered": False, "amended_after_real_use": False}
    assert "'Patient happiness' is not a metric or criterion of this pilot" in checks["flags"]


def test_a_frontline_criterion_can_be_cited_and_is_pre_registered_by_its_lock(world, pilot):
    checks = claim(world, pilot, ["Minutes re-keying per week", "Indispensability"])
    assert [c["kind"] for c in checks["citations"]] == ["frontline criterion"] * 2
    assert all(c["pre_registered"] for c in checks["citations"])


def test_a_metric_not_pre_registered_before_real_use_is_flagged(world):
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)  # metrics declared, but real use (and their lock) not begun
    checks = claim(world, pilot, ["Extraction accuracy"])
    assert checks["citations"][0]["known"] and not checks["citations"][0]["pre_registered"]
    assert "'Extraction accuracy' was not pre-registered before real use" in checks["flags"]


def test_a_metric_amended_after_real_use_began_is_flagged(world, pilot):
    sv.amend_metric(world.uow, world.commissioner, metric_id(world, pilot, "Minutes saved per letter"),
                    target=2, reason="Vendor says four minutes was never realistic.")
    checks = claim(world, pilot, ["Minutes saved per letter", "Extraction accuracy"])
    assert checks["citations"][0]["amended_after_real_use"] is True
    assert checks["citations"][1]["amended_after_real_use"] is False
    assert "'Minutes saved per letter' was amended after real use began" in checks["flags"]
    assert not any("Extraction accuracy" in f for f in checks["flags"])


def test_a_frontline_criterion_amended_after_real_use_began_is_flagged(world, pilot):
    criterion = read(world, lambda s: s.scalar(select(Criterion.id).where(
        Criterion.name == "Minutes re-keying per week")))
    vote = sv.propose_amendment(world.uow, world.members[0], criterion, target=90,
                                reason="Letters got longer after the new referral form.")
    world.pass_panel_vote(vote)
    checks = claim(world, pilot, ["Minutes re-keying per week"])
    assert "'Minutes re-keying per week' was amended after real use began" in checks["flags"]


def test_a_success_claim_contradicting_the_decision_is_flagged(world, pilot):
    decision = decide(world, pilot, "revisit_problem")
    checks = claim(world, pilot, ["Extraction accuracy"])
    assert checks["decision_id"] == decision
    assert checks["before_decision"] is False and checks["contradicts_decision"] is True
    assert checks["flags"] == ["contradicts the binding decision (revisit the problem)"]


def test_a_claim_agreeing_with_the_decision_is_not_flagged(world, pilot):
    decide(world, pilot, "stop")
    checks = claim(world, pilot, ["Extraction accuracy"], by=world.members[0], asserts_success=False,
                   statement="The assistant did not help us; the panel stopped it.")
    assert checks["contradicts_decision"] is False and checks["flags"] == []


def test_a_failure_claim_contradicts_an_adopt_decision(world):
    sv.adopt_charter(world.uow, world.steering, reason="Small clinic: five answers are enough.",
                     min_survey_responses=5)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter in [*world.panel_voters, world.commissioner, world.steering]:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    world.close_at_deadline(vote, world.steering)
    assert claim(world, pilot, ["Extraction accuracy"])["flags"] == []
    doubt = claim(world, pilot, ["Extraction accuracy"], by=world.steering, asserts_success=False,
                  statement="The assistant is not worth its licence.")
    assert doubt["flags"] == ["contradicts the binding decision (adopt)"]


# -------------------------------------------------------- claims are shown
def test_the_checks_are_shown_with_the_claim_and_a_later_decision_is_noticed(world, pilot):
    early = claim(world, pilot, ["Extraction accuracy"])
    decide(world, pilot, "revisit_problem")
    late = claim(world, pilot, ["Extraction accuracy"])
    rows = {r.id: r for r in claims_for_pilot(world.uow, world.auditor, pilot)}
    assert rows[early["id"]].flags_at_claim == ["made before any binding decision"]
    assert rows[early["id"]].flags_now == ["made before any binding decision",
            "contradicted by the decision that followed (revisit the problem)"]
    assert rows[late["id"]].flags_at_claim == ["contradicts the binding decision (revisit the problem)"]
    flagged = claims_page(world.uow, world.auditor, flagged_only=True)
    assert {r.id for r in flagged.rows} == {early["id"], late["id"]}


def test_a_claim_changes_nothing_about_the_pilot_and_is_audited(world, pilot):
    state_before = read(world, lambda s: s.get(Pilot, pilot).state)
    checks = claim(world, pilot, ["Extraction accuracy"])
    assert read(world, lambda s: s.get(Pilot, pilot).state) == state_before
    event = read(world, lambda s: s.scalar(select(AuditEvent).where(AuditEvent.action == "claim.recorded")))
    payload = json.loads(event.payload)["after"]
    assert event.actor_id == world.commissioner and event.entity_id == str(checks["id"])
    assert payload["flags"] == checks["flags"] and payload["cited"] == ["Extraction accuracy"]


def test_a_stored_claim_cannot_be_rewritten(world, pilot):
    claim(world, pilot, ["Patient happiness"])
    before = world.fingerprint()
    # The guard trigger refuses it (as the owner); the runtime role is not even granted it (R18).
    with pytest.raises(DBAPIError, match="append-only|permission denied"), world.db.engine.begin() as conn:
        conn.execute(text("UPDATE claim SET checks_json = '{\"flags\": []}'"))
    assert world.fingerprint() == before


# ------------------------------------------------------------------ refused
@pytest.mark.parametrize("who", ["commissioner", "steering", "facilitator", "admin"])
def test_anyone_with_a_role_may_record_a_claim(world, pilot, who):
    assert claim(world, pilot, ["Extraction accuracy"], by=getattr(world, who))["citations"]


def test_auditors_cannot_record_claims(world, pilot):
    with world.refuses(PermissionDenied, match="may not record a claim"):
        sv.record_claim(world.uow, world.auditor, pilot, statement=SUCCESS,
                        cited_metrics=["Extraction accuracy"])


@pytest.mark.parametrize(("kwargs", "says"), [
    (dict(cited_metrics=[]), "Cite at least one metric"),
    (dict(cited_metrics=["  "]), "Cited metric is empty"),
    (dict(cited_metrics=[f"Metric {i}" for i in range(21)]), "Cite at most 20 metrics"),
    (dict(statement="   "), "Claim is empty"),
    (dict(asserts_success="yes"), "asserts success"),
])
def test_a_malformed_claim_is_refused(world, pilot, kwargs, says):
    fields = dict(statement=SUCCESS, cited_metrics=["Extraction accuracy"]) | kwargs
    with world.refuses(InvalidInput, match=says):
        sv.record_claim(world.uow, world.commissioner, pilot, **fields)


def test_a_claim_about_an_unknown_pilot_is_refused(world):
    with world.refuses(NotFound, match="There is no pilot #777"):
        sv.record_claim(world.uow, world.commissioner, 777, statement=SUCCESS, cited_metrics=["x"])
    assert read(world, lambda s: s.scalar(select(func.count()).select_from(Claim))) == 0
