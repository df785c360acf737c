"""R9 declarations and R10 design signal.

A pilot is decided only by a closed binding vote that met quorum. The
decision freezes its basis — locked criteria and their hash, latest
measurements, indispensability with interval and n, SUS mean, adoption,
tallies, voters, charter version, who closed it, the audit-chain head — and
the database refuses to change it. "Adopt" is refused when the threshold was
not met unless the charter allows an override, which is then flagged. A
"revisit the problem" decision reopens the problem as a new version linked to
the pilot.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from governance import services as sv
from governance.errors import RuleViolation
from governance.queries.votes import decision_detail
from governance.rules.evidence import wilson_interval
from governance.storage.models import (
    AuditEvent,
    CommissioningMetric,
    CriteriaLock,
    Criterion,
    Decision,
    Pilot,
    Problem,
    ProblemReopening,
    ProblemVersion,
    Vote,
)
from tests.world import NOT, VERY

GOOD_SUS = [5, 1, 4, 2, 5, 1, 4, 2, 5, 1]  # 90
OK_SUS = [4, 2, 4, 2, 4, 2, 4, 2, 4, 2]    # 75
USAGE = (b"week_start,active_users,eligible_users\n"
         b"2026-03-02,2,6\n2026-03-09,3,6\n2026-03-16,4,6\n2026-03-23,5,6\n")


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def adopt_small_charter(world, **terms):
    """Five responses suffice (adopted before the problem is drafted, so its criterion carries it)."""
    sv.adopt_charter(world.uow, world.steering, reason="Small clinic: five answers are enough.",
                     min_survey_responses=5, **terms)


def evaluated_pilot(world, very: int, *, sus=True) -> int:
    """A pilot past its window, with measurements, usage and a closed survey of its 6 rostered users."""
    _, pilot = world.pilot_in_use()
    metrics = dict(read(world, lambda s: s.execute(select(CommissioningMetric.name, CommissioningMetric.id)
                                                   .where(CommissioningMetric.pilot_id == pilot)).all()))
    criterion = read(world, lambda s: s.scalar(select(Criterion.id).where(
        Criterion.name == "Minutes re-keying per week")))
    world.pass_window()
    today = world.today()
    sv.record_measurement(world.uow, world.commissioner, pilot, metric_id=metrics["Extraction accuracy"],
                          value=93, observed_on=today - timedelta(days=14))
    sv.record_measurement(world.uow, world.commissioner, pilot, metric_id=metrics["Extraction accuracy"],
                          value=97, observed_on=today)
    sv.record_measurement(world.uow, world.commissioner, pilot, metric_id=metrics["Minutes saved per letter"],
                          value=4.5, observed_on=today)
    sv.record_measurement(world.uow, world.facilitator, pilot, criterion_id=criterion, value=45,
                          observed_on=today)
    sv.import_usage(world.uow, world.commissioner, pilot, filename="usage.csv", content=USAGE)
    rnd = sv.open_survey_round(world.uow, world.commissioner, pilot)
    for i, member in enumerate(world.members):
        sv.submit_survey_response(world.uow, member, rnd, answer=VERY if i < very else NOT,
                                  sus=(GOOD_SUS if i % 2 == 0 else OK_SUS) if sus else None)
    sv.close_survey_round(world.uow, world.commissioner, rnd)
    return pilot


def vote_on(world, pilot, *, frontline, commissioning, steering, close_by=None):
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter, option in zip(world.panel_voters, frontline, strict=False):
        sv.cast_ballot(world.uow, voter, vote, option)
    if commissioning:
        sv.cast_ballot(world.uow, world.commissioner, vote, commissioning)
    if steering:
        sv.cast_ballot(world.uow, world.steering, vote, steering)
    decision = world.close_at_deadline(vote, close_by or world.steering)
    return vote, decision


# ------------------------------------------------------------ frozen basis
@pytest.fixture
def adopted(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=4)  # 4 of 6: 67 % ≥ 40 %
    vote, decision = vote_on(world, pilot, frontline=["adopt"] * 5 + ["iterate"] * 2,
                             commissioning="adopt", steering="adopt")
    return pilot, vote, decision


def test_an_adopt_decision_is_declared_and_the_pilot_is_decided(world, adopted):
    pilot, vote, decision_id = adopted
    decision = read(world, lambda s: s.get(Decision, decision_id))
    assert decision.outcome == "adopt" and decision.adopt_override is False
    assert decision.vote_id == vote and decision.declared_by == world.steering
    p = read(world, lambda s: s.get(Pilot, pilot))
    assert (p.state, p.outcome) == ("decided", "adopt")


def test_the_basis_hash_is_the_sha256_of_the_stored_basis(world, adopted):
    _, _, decision_id = adopted
    decision = read(world, lambda s: s.get(Decision, decision_id))
    assert decision.basis_sha256 == hashlib.sha256(decision.basis_json.encode("utf-8")).hexdigest()
    detail = decision_detail(world.uow, world.auditor, decision_id)
    assert detail.basis_intact is True


def test_the_basis_holds_everything_the_decision_rests_on(world, adopted):
    pilot, vote, decision_id = adopted
    decision = read(world, lambda s: s.get(Decision, decision_id))
    basis = json.loads(decision.basis_json)
    lock = read(world, lambda s: s.scalar(select(CriteriaLock).join(
        Pilot, Pilot.problem_version_id == CriteriaLock.problem_version_id).where(Pilot.id == pilot)))
    # The locked criteria and their hash.
    assert basis["locked_criteria"]["sha256"] == lock.criteria_sha256
    assert {c["name"] for c in basis["locked_criteria"]["criteria"]} == {"Indispensability",
                                                                        "Minutes re-keying per week"}
    # The latest measurements (97, not the earlier 93), on target.
    metrics = {m["name"]: m for m in basis["commissioning_metrics"]["latest"]}
    assert metrics["Extraction accuracy"]["latest"]["value"] == 97
    assert metrics["Extraction accuracy"]["on_target"] is True
    assert metrics["Minutes saved per letter"]["latest"]["value"] == 4.5
    frontline = {c["name"]: c for c in basis["frontline_criteria_latest"]}
    assert frontline["Minutes re-keying per week"]["latest"]["value"] == 45
    assert basis["commissioning_metrics"]["sha256_at_real_use"] == read(
        world, lambda s: s.get(Pilot, pilot).metrics_sha256)
    # Indispensability with interval and n; SUS mean; adoption.
    ind = basis["indispensability"]
    assert (ind["very_disappointed"], ind["n"], ind["status"]) == (4, 6, "pass")
    assert (ind["low"], ind["high"]) == pytest.approx(wilson_interval(4, 6))
    assert basis["sus_mean"] == pytest.approx(82.5) and basis["sus_n"] == 6
    assert basis["adoption"] == {"week_start": "2026-03-23", "active_users": 5, "eligible_users": 6,
                                 "adoption": pytest.approx(5 / 6)}
    # Tallies per group and combined, and the voters.
    assert basis["tally"]["winner"] == "adopt"
    assert basis["tally"]["groups"]["frontline"]["counts"] == {"adopt": 5, "iterate": 2}
    assert basis["tally"]["combined"]["adopt"] == pytest.approx(0.6 * 5 / 7 + 0.4)
    # Open groups by name and option; the frontline's ballots are secret (R17): who took part,
    # and the (receipt, option) list, never a name beside an option.
    assert {(v["name"], v["group"], v["option"]) for v in basis["voters"]} == {
        ("Stella Steering", "steering", "adopt"), ("Carl Commissioner", "commissioning", "adopt")}
    secret = basis["secret_ballots"]
    assert secret["groups"] == ["frontline"] and len(secret["participants"]) == 7
    assert sorted(e["option"] for e in secret["receipts"]) == ["adopt"] * 5 + ["iterate"] * 2
    assert all(set(p) == {"person_id", "name", "group"} for p in secret["participants"])
    assert basis["eligible"] == {"frontline": 7, "commissioning": 1, "steering": 1}
    # The charter version, who closed it.
    assert basis["charter"]["version"] == 2
    assert basis["charter"]["terms"]["min_survey_responses"] == 5
    assert basis["closed_by"] == {"person_id": world.steering, "name": "Stella Steering"}
    assert basis["vote"]["id"] == vote


def test_the_basis_records_the_audit_chain_head_at_the_moment_of_closing(world, adopted):
    _, vote, decision_id = adopted
    decision = read(world, lambda s: s.get(Decision, decision_id))
    basis = json.loads(decision.basis_json)
    assert basis["audit_chain_head"] == {"seq": decision.chain_head_seq, "hash": decision.chain_head_hash}
    head = read(world, lambda s: s.get(AuditEvent, decision.chain_head_seq))
    nxt = read(world, lambda s: s.get(AuditEvent, decision.chain_head_seq + 1))
    assert head.hash == decision.chain_head_hash
    assert (head.action, head.entity_id) == ("vote.closed", str(vote))
    assert (nxt.action, nxt.entity_id) == ("decision.declared", str(decision_id))
    assert json.loads(nxt.payload)["after"]["basis_sha256"] == decision.basis_sha256


@pytest.mark.parametrize("statement", [
    "UPDATE decision SET outcome = 'stop'",
    "UPDATE decision SET basis_json = '{}', basis_sha256 = 'forged'",
    "DELETE FROM decision",
])
def test_the_database_refuses_to_change_or_delete_a_decision(world, adopted, statement):
    before = world.fingerprint()
    # The guard trigger refuses it (as the owner); the runtime role is not even granted it (R18).
    with pytest.raises(DBAPIError, match="append-only|permission denied"), world.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert world.fingerprint() == before


def test_a_decided_pilot_gets_no_second_vote(world, adopted):
    pilot, _, _ = adopted
    with world.refuses(RuleViolation, match="is already decided \\(Adopt\\)"):
        sv.open_outcome_vote(world.uow, world.steering, pilot)


# ------------------------------------------------------- adopt and threshold
def test_adopt_is_refused_when_the_threshold_was_not_met(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=2)  # 2 of 6: 33 % < 40 %
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    v = read(world, lambda s: s.get(Vote, vote))
    assert v.adopt_available is False and v.proposed_outcome == "revisit_problem"
    for who in (world.members[0], world.commissioner, world.steering):
        with world.refuses(RuleViolation, match="Adopt is not available on this vote: the pilot did not meet "
                                                "its pre-registered indispensability threshold") as info:
            sv.cast_ballot(world.uow, who, vote, "adopt")
        assert info.value.rule == "R9"


def test_with_an_override_charter_adopt_is_allowed_and_flagged(world):
    adopt_small_charter(world, allow_adopt_override=True)
    pilot = evaluated_pilot(world, very=2)
    vote, decision_id = vote_on(world, pilot, frontline=["adopt"] * 6 + ["revisit_problem"],
                                commissioning="adopt", steering="adopt")
    v = read(world, lambda s: s.get(Vote, vote))
    assert v.adopt_available is True and v.proposed_outcome == "revisit_problem"
    decision = read(world, lambda s: s.get(Decision, decision_id))
    assert decision.outcome == "adopt" and decision.adopt_override is True
    basis = json.loads(decision.basis_json)
    assert basis["adopt_override"] is True
    assert basis["indispensability"]["status"] == "fail"
    assert basis["charter"]["terms"]["allow_adopt_override"] is True
    assert read(world, lambda s: s.scalar(select(func.count()).select_from(ProblemReopening))) == 0


def test_the_frontline_veto_holds_end_to_end(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=5)
    _, decision_id = vote_on(world, pilot, frontline=["adopt"] * 3 + ["iterate"] * 4,
                             commissioning="adopt", steering="adopt")
    decision = read(world, lambda s: s.get(Decision, decision_id))
    basis = json.loads(decision.basis_json)
    assert basis["tally"]["ranking"][0] == "adopt" and basis["tally"]["vetoed"] is True
    assert decision.outcome == "iterate"
    assert read(world, lambda s: s.get(Pilot, pilot).outcome) == "iterate"


# ------------------------------------------------------------------- quorum
def test_without_quorum_there_is_no_decision_and_the_pilot_stays_evaluating(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=5)
    vote, decision = vote_on(world, pilot, frontline=["adopt"] * 3, commissioning="adopt", steering="adopt")
    assert decision is None
    v = read(world, lambda s: s.get(Vote, vote))
    assert v.status == "closed" and v.quorum_met is False and v.passed is False and v.outcome is None
    assert "Quorum not met: frontline (3 of 7, needs 50 %)" in json.loads(v.result_json)["notes"][0]
    assert read(world, lambda s: s.scalar(select(func.count()).select_from(Decision))) == 0
    p = read(world, lambda s: s.get(Pilot, pilot))
    assert (p.state, p.outcome) == ("evaluating", None)
    # The pilot can be voted on again.
    assert sv.open_outcome_vote(world.uow, world.steering, pilot)


def test_no_ballots_at_the_deadline_means_no_decision(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=5)
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    world.clock.advance(days=8)
    assert sv.close_due_votes(world.uow) == [vote]
    assert read(world, lambda s: s.scalar(select(func.count()).select_from(Decision))) == 0
    assert read(world, lambda s: s.get(Pilot, pilot).state) == "evaluating"


# --------------------------------------------------------------------- R10
def test_revisit_problem_reopens_the_problem_as_a_new_version_linked_to_the_pilot(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=1)
    _, decision_id = vote_on(world, pilot, frontline=["revisit_problem"] * 6 + ["iterate"],
                             commissioning="iterate", steering="revisit_problem")
    decision = read(world, lambda s: s.get(Decision, decision_id))
    assert decision.outcome == "revisit_problem"
    p = read(world, lambda s: s.get(Pilot, pilot))
    problem = read(world, lambda s: s.get(Problem, p.problem_id))
    assert (problem.state, problem.current_version) == ("reopened", 2)
    versions = read(world, lambda s: {v.version: v for v in s.scalars(select(ProblemVersion).where(
        ProblemVersion.problem_id == problem.id))})
    reopening = read(world, lambda s: s.scalar(select(ProblemReopening)))
    assert reopening.pilot_id == pilot and reopening.problem_version_id == versions[2].id
    assert f"Decision #{decision_id}" in reopening.reason and "17 % very disappointed" in reopening.reason
    # The criteria are copied to the new version, unlocked; the old version keeps its lock.
    criteria = read(world, lambda s: s.execute(select(Criterion.problem_version_id, Criterion.name,
                                                      Criterion.target)).all())
    old = {(n, t) for v, n, t in criteria if v == versions[1].id}
    new = {(n, t) for v, n, t in criteria if v == versions[2].id}
    assert new == old and len(new) == 2
    locks = read(world, lambda s: s.scalars(select(CriteriaLock.problem_version_id)).all())
    assert locks == [versions[1].id]
    assert p.problem_version_id == versions[1].id  # the pilot stays tied to what it was judged on
    # The panel can now edit the reopened problem's criteria directly.
    new_criterion = read(world, lambda s: s.scalar(select(Criterion.id).where(
        Criterion.problem_version_id == versions[2].id, Criterion.name == "Minutes re-keying per week")))
    sv.update_criterion(world.uow, world.members[0], new_criterion, target=30)


def test_a_failed_threshold_proposes_revisit_and_a_tie_goes_to_the_proposal(world):
    adopt_small_charter(world)
    pilot = evaluated_pilot(world, very=0)
    # Frontline 3 iterate, 3 revisit (1 abstains); commissioning iterate, steering revisit: a tie.
    _, decision_id = vote_on(world, pilot, frontline=["iterate"] * 3 + ["revisit_problem"] * 3,
                             commissioning="iterate", steering="revisit_problem")
    decision = read(world, lambda s: s.get(Decision, decision_id))
    basis = json.loads(decision.basis_json)
    assert basis["proposed_outcome"] == "revisit_problem"
    assert basis["tally"]["tie_break"] == "proposed outcome"
    assert decision.outcome == "revisit_problem"
    assert read(world, lambda s: s.scalar(select(func.count()).select_from(ProblemReopening))) == 1
