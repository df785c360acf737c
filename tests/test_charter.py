"""The charter (R8): the organisation's decision rules, versioned, adopted by steering.

Invalid terms are refused with one message per field; a new version is an
audited decision; a vote is tallied under the charter it opened with.
"""
from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied
from governance.rules.charter import CharterTerms, terms_of, validate_charter
from governance.storage.models import AuditEvent, Charter, Decision, Vote
from tests.world import VERY

REASON = "Panels asked for a shorter evaluation window."


# ------------------------------------------------------------------ defaults
def test_defaults_are_the_ones_the_design_sets():
    terms = CharterTerms()
    assert (terms.weight_frontline, terms.weight_commissioning, terms.weight_steering) == (0.6, 0.2, 0.2)
    assert (terms.quorum_frontline, terms.quorum_commissioning, terms.quorum_steering) == (0.5, 0.5, 0.5)
    assert terms.frontline_veto is True
    assert terms.evaluation_window_days == 30
    assert terms.min_survey_responses == 30
    assert terms.indispensability_threshold == 0.40
    assert terms.allow_adopt_override is False
    assert terms.feedback_response_working_days == 10
    assert (terms.vote_min_days, terms.vote_max_days) == (3, 30)  # R16
    assert terms.secret_groups == ("frontline",)  # R17
    assert validate_charter() == terms


def test_the_organisation_starts_with_the_default_charter_as_version_1(world):
    with world.db.uow().reading() as s:
        charters = s.scalars(select(Charter)).all()
        assert [c.version for c in charters] == [1]
        assert terms_of(charters[0]) == CharterTerms()
        assert charters[0].secret_groups == '["frontline"]'  # stored as JSON text


# -------------------------------------------------------------- validation
def problems_of(**terms) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        validate_charter(**terms)
    assert str(info.value).startswith("The charter was not adopted:")
    return info.value.problems


@pytest.mark.parametrize(("terms", "key", "says"), [
    (dict(weight_frontline=0.5), "weights", "add up to 1"),
    (dict(weight_frontline=0.7, weight_commissioning=0.2, weight_steering=0.2), "weights", "1.1"),
    (dict(weight_frontline=1.2), "weight_frontline", "from 0 to 1"),
    (dict(weight_commissioning=-0.1), "weight_commissioning", "from 0 to 1"),
    (dict(weight_frontline=math.nan), "weight_frontline", "from 0 to 1"),
    (dict(weight_steering=math.inf), "weight_steering", "from 0 to 1"),
    (dict(weight_commissioning="0.2"), "weight_commissioning", "from 0 to 1"),
    (dict(weight_frontline=0.0, weight_commissioning=0.5, weight_steering=0.5), "weight_frontline",
     "above 0"),
    (dict(quorum_frontline=1.5), "quorum_frontline", "from 0 to 1"),
    (dict(quorum_steering=-0.1), "quorum_steering", "from 0 to 1"),
    (dict(quorum_commissioning=math.nan), "quorum_commissioning", "from 0 to 1"),
    (dict(min_survey_responses=4), "min_survey_responses", "from 5"),
    (dict(min_survey_responses=0), "min_survey_responses", "from 5"),
    (dict(min_survey_responses=12.5), "min_survey_responses", "whole number"),
    (dict(indispensability_threshold=0), "indispensability_threshold", "above 0 and at most 1"),
    (dict(indispensability_threshold=1.01), "indispensability_threshold", "above 0 and at most 1"),
    (dict(indispensability_threshold=math.nan), "indispensability_threshold", "above 0"),
    (dict(evaluation_window_days=0), "evaluation_window_days", "from 1 to 365"),
    (dict(evaluation_window_days=True), "evaluation_window_days", "whole number"),
    (dict(feedback_response_working_days=0), "feedback_response_working_days", "from 1 to 120"),
    (dict(frontline_veto="yes"), "frontline_veto", "yes or no"),
    (dict(allow_adopt_override=1), "allow_adopt_override", "yes or no"),
])
def test_an_invalid_term_is_refused_with_a_message_for_its_field(terms, key, says):
    problems = problems_of(**terms)
    assert list(problems) == [key]
    assert says in problems[key]


def test_every_bad_field_gets_its_own_message():
    problems = problems_of(weight_frontline=2, quorum_steering=3, min_survey_responses=1,
                           indispensability_threshold=0, evaluation_window_days=0,
                           feedback_response_working_days=500, frontline_veto=None)
    assert set(problems) == {"weight_frontline", "quorum_steering", "min_survey_responses",
                             "indispensability_threshold", "evaluation_window_days",
                             "feedback_response_working_days", "frontline_veto"}


def test_unknown_terms_are_refused_by_name():
    with pytest.raises(InvalidInput, match="Unknown charter terms: quorum_auditors"):
        validate_charter(quorum_auditors=0.5)


def test_valid_edge_values_are_accepted():
    terms = validate_charter(weight_frontline=1, weight_commissioning=0, weight_steering=0,
                             quorum_frontline=1, quorum_commissioning=0, min_survey_responses=5,
                             indispensability_threshold=1, evaluation_window_days=1,
                             feedback_response_working_days=1)
    assert terms.weight_frontline == 1.0 and terms.min_survey_responses == 5
    assert validate_charter(weight_frontline=0.5, weight_commissioning=0.3, weight_steering=0.2)


# ---------------------------------------------------------------- adoption
def test_steering_adopts_a_new_version_and_it_is_audited(world):
    version = sv.adopt_charter(world.uow, world.steering, reason=REASON, evaluation_window_days=21)
    assert version == 2
    with world.db.uow().reading() as s:
        charter = s.scalar(select(Charter).where(Charter.version == 2))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "charter.adopted")
                         .order_by(AuditEvent.seq.desc()).limit(1))
        s.expunge_all()
    assert charter.evaluation_window_days == 21
    # Terms not given keep their current values.
    assert charter.weight_frontline == 0.6 and charter.min_survey_responses == 30
    assert charter.adopted_by == world.steering and charter.reason == REASON
    payload = json.loads(event.payload)
    assert event.actor_id == world.steering and event.entity_id == str(charter.id)
    assert payload["version"] == 2 and payload["reason"] == REASON
    assert payload["changed"] == {"evaluation_window_days": {"before": 30, "after": 21}}


def test_versions_follow_one_another_and_older_versions_stay(world):
    assert sv.adopt_charter(world.uow, world.steering, reason=REASON, evaluation_window_days=21) == 2
    assert sv.adopt_charter(world.uow, world.steering, reason="Raise the bar for adoption.",
                            indispensability_threshold=0.5) == 3
    with world.db.uow().reading() as s:
        rows = {c.version: c for c in s.scalars(select(Charter))}
        s.expunge_all()
    assert sorted(rows) == [1, 2, 3]
    assert rows[1].evaluation_window_days == 30 and rows[1].indispensability_threshold == 0.4
    assert rows[3].evaluation_window_days == 21 and rows[3].indispensability_threshold == 0.5


@pytest.mark.parametrize("who", ["admin", "commissioner", "facilitator", "auditor"])
def test_only_steering_adopts_a_charter(world, who):
    with world.refuses(PermissionDenied, match="may not adopt a new charter version"):
        sv.adopt_charter(world.uow, getattr(world, who), reason=REASON, evaluation_window_days=21)


def test_an_invalid_charter_writes_nothing_and_lists_every_field(world):
    with world.refuses(InvalidInput, match="The charter was not adopted") as info:
        sv.adopt_charter(world.uow, world.steering, reason=REASON, weight_frontline=0.9,
                         min_survey_responses=3)
    assert set(info.value.problems) == {"weights", "min_survey_responses"}


def test_the_same_terms_again_are_refused(world):
    with world.refuses(InvalidInput, match="already in force"):
        sv.adopt_charter(world.uow, world.steering, reason=REASON, evaluation_window_days=30)


def test_a_charter_change_needs_a_reason(world):
    with world.refuses(InvalidInput, match="Reason for the change"):
        sv.adopt_charter(world.uow, world.steering, reason="because", evaluation_window_days=21)


def test_unknown_terms_are_refused_by_the_service_too(world):
    with world.refuses(InvalidInput, match="Unknown charter terms"):
        sv.adopt_charter(world.uow, world.steering, reason=REASON, auditor_weight=0.1)


# ------------------------------------------------ votes keep their charter
def test_a_vote_is_tallied_under_the_charter_it_opened_with(world):
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter in world.panel_voters:
        sv.cast_ballot(world.uow, voter, vote, "iterate")
    sv.cast_ballot(world.uow, world.commissioner, vote, "stop")
    sv.cast_ballot(world.uow, world.steering, vote, "stop")
    # Mid-vote, steering shifts weight away from the frontline: iterate 0.6 → 0.4, stop 0.4 → 0.6.
    assert sv.adopt_charter(world.uow, world.steering, reason="Rebalance the voting groups.",
                            weight_frontline=0.4, weight_commissioning=0.3, weight_steering=0.3) == 2
    decision_id = world.close_at_deadline(vote, world.steering)
    with world.db.uow().reading() as s:
        v = s.get(Vote, vote)
        decision = s.get(Decision, decision_id)
        opened_under = s.get(Charter, v.charter_id)
        s.expunge_all()
    assert opened_under.version == 1
    assert decision.outcome == "iterate"
    basis = json.loads(decision.basis_json)
    assert basis["charter"]["version"] == 1
    assert basis["charter"]["terms"]["weight_frontline"] == 0.6
    assert basis["tally"]["combined"]["iterate"] == pytest.approx(0.6)
