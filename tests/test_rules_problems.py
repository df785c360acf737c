"""R1–R5: problem first, authorship, pre-registration, amendments, readiness.

Each rule is shown twice: the forbidden path is refused with a specific
error that names the rule and tells the person what to do — and writes
nothing (``world.refuses``) — and the permitted path works.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.record.chain import sha256_hex
from governance.rules.prereg import canonical_criteria
from governance.storage.models import (
    Amendment,
    AuditEvent,
    CommissioningMetric,
    CriteriaLock,
    Criterion,
    Pilot,
    Problem,
    ProblemComment,
    ProblemVersion,
    ReadinessWaiver,
)
from governance.vocabulary import PilotState, ProblemState
from tests.world import World


# ------------------------------------------------------------------ helpers
def row(world: World, model, ident):  # type: ignore[no-untyped-def]
    with world.db.uow().reading() as s:
        obj = s.get(model, ident)
        s.expunge(obj)
        return obj


def own_criteria(world: World, problem_id: int) -> list[Criterion]:
    """The current version's criteria, the indispensability threshold last."""
    with world.db.uow().reading() as s:
        problem = s.get(Problem, problem_id)
        rows = s.scalars(select(Criterion).join(ProblemVersion).where(
            ProblemVersion.problem_id == problem.id,
            ProblemVersion.version == problem.current_version)
            .order_by(Criterion.is_indispensability, Criterion.id)).all()
        s.expunge_all()
        return list(rows)


def criterion_id(world: World, problem_id: int) -> int:
    """The panel's own (non-indispensability) criterion of a problem."""
    return own_criteria(world, problem_id)[0].id


def indispensability_id(world: World, problem_id: int) -> int:
    return own_criteria(world, problem_id)[-1].id


def last_event(world: World) -> AuditEvent:
    with world.db.uow().reading() as s:
        event = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        s.expunge(event)
        return event


def registered_pilot(world: World) -> tuple[int, int]:
    """(problem, pilot): criteria locked, pilot registered with a roster, not ready."""
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)
    return problem, pilot


# ======================================================== R1 problem first
class TestR1ProblemFirst:
    def test_a_pilot_cannot_be_registered_against_a_draft_problem(self, world: World) -> None:
        problem = world.draft_problem()
        with world.refuses(RuleViolation, match="'Re-keying referral letters': the problem is still "
                                                "a draft .* The panel must ratify it first") as info:
            world.register_pilot(problem)
        assert info.value.rule == "R1"

    def test_a_pilot_cannot_be_registered_against_a_retired_problem(self, world: World) -> None:
        problem = world.draft_problem()
        sv.retire_problem(world.uow, world.facilitator, problem,
                          reason="The second system was switched off.")
        with world.refuses(RuleViolation, match="the problem is retired") as info:
            world.register_pilot(problem)
        assert info.value.rule == "R1"

    def test_a_pilot_cannot_be_registered_against_a_reopened_problem(self, world: World) -> None:
        # A failed evaluation ends in "revisit the problem" (R10), which reopens it.
        problem, pilot = world.pilot_in_use()
        world.pass_window()
        vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
        for voter in [*world.panel_voters, world.commissioner, world.steering]:
            sv.cast_ballot(world.uow, voter, vote, "revisit_problem")
        world.close_at_deadline(vote, world.steering)
        assert row(world, Problem, problem).state == ProblemState.REOPENED

        with world.refuses(RuleViolation, match="the problem is reopened for the panel to redefine"):
            world.register_pilot(problem, title="Second attempt at letters")

    def test_a_pilot_can_be_registered_against_a_ratified_problem(self, world: World) -> None:
        problem = world.ratified_problem()
        pilot = world.register_pilot(problem)
        registered = row(world, Pilot, pilot)
        assert registered.state == PilotState.REGISTERED
        assert registered.problem_id == problem
        # Registered, and the registrar (here also the owner) joined its team by that act (R15).
        assert last_event(world).action == "pilot.team_member_added"

    def test_ratification_is_a_passed_panel_vote_not_a_single_person(self, world: World) -> None:
        problem = world.draft_problem()
        world.add_criterion(problem)
        vote = sv.propose_ratification(world.uow, world.facilitator, problem)
        world.pass_panel_vote(vote, approve=0)  # the panel rejects it
        assert row(world, Problem, problem).state == ProblemState.DRAFT
        with world.refuses(RuleViolation, match="still a draft"):
            world.register_pilot(problem)


# ============================================================ R2 authorship
class TestR2Authorship:
    def test_a_frontline_person_outside_the_panel_cannot_draft_a_problem(self, world: World) -> None:
        with world.refuses(PermissionDenied, match="Only members of Riverside Clinic Panel may draft "
                                                   "a problem") as info:
            sv.draft_problem(world.uow, world.outsider, panel_id=world.panel,
                             title="Printer queue", statement="The shared printer jams daily.")
        assert info.value.rule == "R2"

    def test_a_frontline_person_outside_the_panel_cannot_edit_its_problem(self, world: World) -> None:
        problem = world.draft_problem()
        with world.refuses(PermissionDenied, match="Only members of Riverside Clinic Panel may edit "
                                                   "this problem"):
            sv.revise_problem(world.uow, world.outsider, problem, title="Something else",
                              statement="Rewritten by someone outside the panel.")

    def test_a_frontline_person_outside_the_panel_cannot_write_criteria(self, world: World) -> None:
        problem = world.draft_problem()
        own = world.add_criterion(problem)
        with world.refuses(PermissionDenied, match="may write its success criteria"):
            sv.add_criterion(world.uow, world.outsider, problem, name="Letters lost",
                             definition="Letters never entered.", measurement_method="Weekly count.",
                             unit="count", direction="lower_is_better", target=0, minimum_evidence=4)
        with world.refuses(PermissionDenied, match="Only members of Riverside Clinic Panel"):
            sv.update_criterion(world.uow, world.outsider, own, target=30)
        with world.refuses(PermissionDenied, match="Only members of Riverside Clinic Panel"):
            sv.remove_criterion(world.uow, world.outsider, own)

    def test_a_member_of_another_panel_cannot_write_this_panels_problem(self, world: World) -> None:
        other_panel = sv.create_panel(world.uow, world.admin, name="Hillside Depot Panel")
        sv.add_panel_member(world.uow, world.admin, other_panel, world.outsider)
        problem = world.draft_problem()
        with world.refuses(PermissionDenied, match="Only members of Riverside Clinic Panel"):
            sv.revise_problem(world.uow, world.outsider, problem, title="Depot letters",
                              statement="Rewritten by another panel.")

    @pytest.mark.parametrize("who", ["commissioner", "steering"])
    def test_commissioning_and_steering_cannot_draft_or_edit_problems(self, world: World,
                                                                      who: str) -> None:
        actor = getattr(world, who)
        problem = world.draft_problem()
        own = world.add_criterion(problem)
        with world.refuses(PermissionDenied, match="may not write a problem"):
            sv.draft_problem(world.uow, actor, panel_id=world.panel, title="Our framing",
                             statement="Clerks are slow at re-keying.")
        with world.refuses(PermissionDenied, match="may not write a problem"):
            sv.revise_problem(world.uow, actor, problem, title="Our framing",
                              statement="Clerks are slow at re-keying.")
        with world.refuses(PermissionDenied, match="may not write success criteria"):
            sv.add_criterion(world.uow, actor, problem, name="Letters per hour",
                             definition="Throughput.", measurement_method="Tool logs.", unit="count",
                             direction="higher_is_better", target=20, minimum_evidence=4)
        with world.refuses(PermissionDenied, match="may not write success criteria"):
            sv.update_criterion(world.uow, actor, own, target=10)
        with world.refuses(PermissionDenied, match="may not write success criteria"):
            sv.remove_criterion(world.uow, actor, own)

    @pytest.mark.parametrize("who", ["commissioner", "steering"])
    def test_commissioning_and_steering_cannot_propose_amendments(self, world: World, who: str) -> None:
        problem = world.locked_problem()
        with world.refuses(PermissionDenied, match="may not propose an amendment"):
            sv.propose_amendment(world.uow, getattr(world, who), criterion_id(world, problem),
                                 reason="We would prefer a looser target.", target=90)

    @pytest.mark.parametrize("who", ["commissioner", "steering", "outsider", "facilitator"])
    def test_anyone_with_a_role_but_auditors_can_comment(self, world: World, who: str) -> None:
        problem = world.draft_problem()
        comment = sv.comment_on_problem(world.uow, getattr(world, who), problem,
                                        "Does this include faxed letters?")
        stored = row(world, ProblemComment, comment)
        assert (stored.problem_id, stored.person_id) == (problem, getattr(world, who))
        assert last_event(world).action == "problem.commented"

    def test_a_comment_does_not_change_the_problem(self, world: World) -> None:
        problem = world.draft_problem()
        sv.comment_on_problem(world.uow, world.commissioner, problem, "Please make it about speed.")
        with world.db.uow().reading() as s:
            version = s.scalars(select(ProblemVersion).where(ProblemVersion.problem_id == problem)).one()
            assert version.title == "Re-keying referral letters"
            assert version.created_by == world.members[0]

    def test_auditors_cannot_comment(self, world: World) -> None:
        problem = world.draft_problem()
        with world.refuses(PermissionDenied, match="Aude Auditor may not comment on a problem"):
            sv.comment_on_problem(world.uow, world.auditor, problem, "Noted for the audit.")

    def test_only_a_facilitator_of_the_owning_panel_opens_its_votes(self, world: World) -> None:
        problem = world.draft_problem()
        with world.refuses(PermissionDenied, match="may not open a panel vote"):
            sv.propose_ratification(world.uow, world.members[0], problem)
        other = world.person("Frank Otherfac", ["frontline", "facilitator"])
        with world.refuses(PermissionDenied, match="Only members of Riverside Clinic Panel"):
            sv.propose_ratification(world.uow, other, problem)

    def test_panel_members_write_their_panels_problems(self, world: World) -> None:
        problem = world.draft_problem()
        sv.revise_problem(world.uow, world.members[1], problem, title="Re-keying referral letters twice",
                          statement="Every Tuesday we re-key referral letters into two systems.")
        extra = world.add_criterion(problem, name="Letters lost")
        sv.update_criterion(world.uow, world.members[2], extra, target=30)
        sv.remove_criterion(world.uow, world.facilitator, extra)
        assert [c.name for c in own_criteria(world, problem)] == ["Indispensability"]


# ======================================================= R3 pre-registration
class TestR3PreRegistration:
    def test_real_use_is_refused_until_the_criteria_are_locked(self, world: World) -> None:
        problem = world.ratified_problem()
        pilot = world.register_pilot(problem)
        sv.add_to_roster(world.uow, world.commissioner, pilot, world.members)
        world.make_ready(pilot)
        assert row(world, Pilot, pilot).state == PilotState.READY
        with world.refuses(RuleViolation, match="cannot enter real use: the success criteria of "
                                                "'Re-keying referral letters' are not locked yet") as info:
            sv.start_real_use(world.uow, world.commissioner, pilot)
        assert info.value.rule == "R3"

    def test_locking_records_who_when_and_the_criteria_hash(self, world: World) -> None:
        problem = world.locked_problem()
        with world.db.uow().reading() as s:
            version = s.scalars(select(ProblemVersion).where(ProblemVersion.problem_id == problem)).one()
            lock = s.scalars(select(CriteriaLock).where(CriteriaLock.problem_version_id == version.id)).one()
            criteria = list(s.scalars(select(Criterion).where(Criterion.problem_version_id == version.id)))
            body, digest = canonical_criteria(version.problem_id, version.version, criteria)
            assert lock.vote_id is not None and lock.locked_by == world.facilitator
            assert lock.criteria_sha256 == digest == sha256_hex(lock.criteria_json)
            assert lock.criteria_json == body
            names = [c["name"] for c in json.loads(lock.criteria_json)["criteria"]]
            assert names == ["Indispensability", "Minutes re-keying per week"]
        event = last_event(world)
        assert event.action == "criteria.locked"
        assert json.loads(event.payload)["after"]["criteria_sha256"] == digest

    def test_real_use_locks_the_commissioning_metrics_and_records_their_hash(self, world: World) -> None:
        _, pilot = world.pilot_in_use()
        started = row(world, Pilot, pilot)
        assert started.state == PilotState.IN_USE
        assert started.metrics_sha256 == sha256_hex(started.metrics_json)
        assert {m["name"] for m in json.loads(started.metrics_json)["metrics"]} == {
            "Extraction accuracy", "Minutes saved per letter"}
        event = last_event(world)
        assert event.action == "pilot.real_use_started"
        assert json.loads(event.payload)["after"]["metrics_sha256"] == started.metrics_sha256

    def test_start_real_use_returns_the_metrics_hash(self, world: World) -> None:
        _problem, pilot = registered_pilot(world)
        world.make_ready(pilot)
        digest = sv.start_real_use(world.uow, world.commissioner, pilot)
        assert digest == row(world, Pilot, pilot).metrics_sha256

    def test_no_metric_can_be_added_after_real_use_began(self, world: World) -> None:
        _, pilot = world.pilot_in_use()
        with world.refuses(RuleViolation, match="its commissioning metrics are locked and you cannot "
                                                "add a metric. Amend a metric instead") as info:
            sv.add_metric(world.uow, world.commissioner, pilot, name="Cost per letter",
                          definition="Vendor cost per letter.", unit="currency",
                          direction="lower_is_better", target=0.3)
        assert info.value.rule == "R3"

    def test_no_metric_can_be_updated_after_real_use_began(self, world: World) -> None:
        _, pilot = world.pilot_in_use()
        with world.db.uow().reading() as s:
            metric = s.scalars(select(CommissioningMetric.id).where(
                CommissioningMetric.pilot_id == pilot)).first()
        with world.refuses(RuleViolation, match="metrics are locked and you cannot change a metric"):
            sv.update_metric(world.uow, world.commissioner, metric, target=80)

    def test_metrics_can_change_freely_before_real_use(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        metric = sv.add_metric(world.uow, world.commissioner, pilot, name="Cost per letter",
                               definition="Vendor cost per letter.", unit="currency",
                               direction="lower_is_better", target=0.3)
        sv.update_metric(world.uow, world.commissioner, metric, target=0.25)
        assert row(world, CommissioningMetric, metric).target == 0.25


# ============================================================ R4 amendments
class TestR4Amendments:
    def test_after_the_lock_a_criterion_cannot_be_added(self, world: World) -> None:
        problem = world.locked_problem()
        with world.refuses(RuleViolation, match=r"were locked on .* \(SHA-256 [0-9a-f]{12}…\)\. "
                                                "Changes now need an amendment with a reason and a "
                                                r"panel vote \(R4\)") as info:
            world.add_criterion(problem, name="Letters lost")
        assert info.value.rule == "R4"

    def test_after_the_lock_a_criterion_cannot_be_edited_directly(self, world: World) -> None:
        problem = world.locked_problem()
        with world.refuses(RuleViolation, match="Changes now need an amendment"):
            sv.update_criterion(world.uow, world.members[0], criterion_id(world, problem), target=30)
        with world.refuses(RuleViolation, match="Changes now need an amendment"):
            sv.update_criterion(world.uow, world.members[0], indispensability_id(world, problem),
                                target=0.5)

    def test_after_the_lock_a_criterion_cannot_be_removed(self, world: World) -> None:
        problem = world.locked_problem()
        with world.refuses(RuleViolation, match="Changes now need an amendment"):
            sv.remove_criterion(world.uow, world.members[0], criterion_id(world, problem))

    @pytest.mark.parametrize("reason", ["", "   ", "too short"])
    def test_an_amendment_needs_a_reason_of_ten_characters(self, world: World, reason: str) -> None:
        problem = world.locked_problem()
        with world.refuses(InvalidInput, match="Reason for the amendment is (empty|too short)"):
            sv.propose_amendment(world.uow, world.members[0], criterion_id(world, problem),
                                 reason=reason, target=45)

    def test_an_unlocked_criterion_is_edited_not_amended(self, world: World) -> None:
        problem = world.ratified_problem()
        with world.refuses(RuleViolation, match="not locked yet: edit it directly"):
            sv.propose_amendment(world.uow, world.members[0], criterion_id(world, problem),
                                 reason="The clinic moved to a four-day week.", target=45)

    def test_proposing_an_amendment_changes_nothing_until_the_vote_passes(self, world: World) -> None:
        problem = world.locked_problem()
        crit = criterion_id(world, problem)
        sv.propose_amendment(world.uow, world.members[0], crit,
                             reason="The clinic moved to a four-day week.", target=45)
        assert row(world, Criterion, crit).target == 60
        with world.refuses(RuleViolation, match="already being voted on"):
            sv.propose_amendment(world.uow, world.members[1], crit,
                                 reason="Another change while one is pending.", target=40)

    def test_a_passed_panel_vote_applies_the_amendment_and_keeps_the_original(self, world: World) -> None:
        problem = world.locked_problem()
        crit = criterion_id(world, problem)
        with world.db.uow().reading() as s:
            locked_hash = s.scalars(select(CriteriaLock.criteria_sha256)).one()
        vote = sv.propose_amendment(world.uow, world.members[0], crit,
                                    reason="The clinic moved to a four-day week.", target=45)
        world.pass_panel_vote(vote)

        assert row(world, Criterion, crit).target == 45
        with world.db.uow().reading() as s:
            amendment = s.scalars(select(Amendment).where(Amendment.criterion_id == crit)).one()
            assert amendment.status == "applied"
            assert json.loads(amendment.before_json) == {"target": 60}
            assert json.loads(amendment.after_json) == {"target": 45}
            assert amendment.reason == "The clinic moved to a four-day week."
            assert amendment.after_real_use is False
            assert amendment.resulting_sha256 != locked_hash
            # The pre-registered set itself is untouched: the lock keeps the original.
            lock = s.scalars(select(CriteriaLock)).one()
            assert lock.criteria_sha256 == locked_hash
            targets = {c["name"]: c["target"] for c in json.loads(lock.criteria_json)["criteria"]}
            assert targets["Minutes re-keying per week"] == 60
        event = last_event(world)
        assert event.action == "criterion.amended"
        payload = json.loads(event.payload)
        assert payload["before"]["target"] == 60 and payload["after"]["target"] == 45
        assert payload["after_real_use"] is False

    def test_a_rejected_panel_vote_leaves_the_criterion_unchanged(self, world: World) -> None:
        problem = world.locked_problem()
        crit = criterion_id(world, problem)
        vote = sv.propose_amendment(world.uow, world.members[0], crit,
                                    reason="The clinic moved to a four-day week.", target=45)
        world.pass_panel_vote(vote, approve=1)  # 1 of 7 approve: rejected
        assert row(world, Criterion, crit).target == 60
        with world.db.uow().reading() as s:
            amendment = s.scalars(select(Amendment).where(Amendment.criterion_id == crit)).one()
            assert amendment.status == "rejected"
        assert last_event(world).action == "amendment.rejected"

    def test_an_amendment_after_real_use_began_is_flagged(self, world: World) -> None:
        problem, _ = world.pilot_in_use()
        crit = criterion_id(world, problem)
        vote = sv.propose_amendment(world.uow, world.members[0], crit,
                                    reason="Timesheets turned out to be unreliable.", target=90)
        world.pass_panel_vote(vote)
        with world.db.uow().reading() as s:
            amendment = s.scalars(select(Amendment).where(Amendment.criterion_id == crit)).one()
            assert amendment.after_real_use is True
        assert json.loads(last_event(world).payload)["after_real_use"] is True

    def test_the_flag_reflects_when_the_amendment_took_effect(self, world: World) -> None:
        # Proposed before real use, passed after it began: the change applies
        # to a pilot already in use, so it is flagged.
        problem, pilot = registered_pilot(world)
        crit = criterion_id(world, problem)
        vote = sv.propose_amendment(world.uow, world.members[0], crit,
                                    reason="The clinic moved to a four-day week.", target=45)
        world.make_ready(pilot)
        sv.start_real_use(world.uow, world.commissioner, pilot)
        world.pass_panel_vote(vote)
        with world.db.uow().reading() as s:
            assert s.scalars(select(Amendment.after_real_use)).one() is True

    def test_a_metric_amendment_after_real_use_is_flagged_and_keeps_the_original(self,
                                                                                 world: World) -> None:
        _, pilot = world.pilot_in_use()
        at_real_use = row(world, Pilot, pilot).metrics_sha256
        with world.db.uow().reading() as s:
            metric = s.scalars(select(CommissioningMetric.id).where(
                CommissioningMetric.pilot_id == pilot, CommissioningMetric.name == "Extraction accuracy")).one()
        amendment_id = sv.amend_metric(world.uow, world.commissioner, metric,
                                       reason="The vendor redefined accuracy per field.", target=90)
        amendment = row(world, Amendment, amendment_id)
        assert amendment.after_real_use is True
        assert json.loads(amendment.before_json) == {"target": 95}
        assert json.loads(amendment.after_json) == {"target": 90}
        assert amendment.resulting_sha256 != at_real_use
        assert row(world, CommissioningMetric, metric).target == 90
        assert row(world, Pilot, pilot).metrics_sha256 == at_real_use  # the pre-registered hash stays
        event = last_event(world)
        assert event.action == "metric.amended"
        assert json.loads(event.payload)["after_real_use"] is True

    def test_a_metric_amendment_needs_a_reason(self, world: World) -> None:
        _, pilot = world.pilot_in_use()
        with world.db.uow().reading() as s:
            metric = s.scalars(select(CommissioningMetric.id).where(
                CommissioningMetric.pilot_id == pilot)).first()
        with world.refuses(InvalidInput, match="Reason for the amendment is too short"):
            sv.amend_metric(world.uow, world.commissioner, metric, reason="better", target=90)

    def test_an_unlocked_metric_is_edited_not_amended(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        with world.db.uow().reading() as s:
            metric = s.scalars(select(CommissioningMetric.id).where(
                CommissioningMetric.pilot_id == pilot)).first()
        with world.refuses(RuleViolation, match="not locked yet .* edit it directly"):
            sv.amend_metric(world.uow, world.commissioner, metric,
                            reason="The vendor redefined accuracy per field.", target=90)


# ============================================================= R5 readiness
class TestR5Readiness:
    def test_real_use_is_refused_while_the_checklist_is_incomplete(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        sv.record_readiness(world.uow, world.commissioner, pilot, "training_plan",
                            detail="Two 1-hour sessions per role.")
        with world.refuses(RuleViolation, match=r"readiness checklist is incomplete \(missing: "
                                                "Date the old process retires, Escalation path, Tested "
                                                r"at a low-connectivity site\)\. Complete it, or ask "
                                                "steering to waive it") as info:
            sv.start_real_use(world.uow, world.commissioner, pilot)
        assert info.value.rule == "R5"

    def test_the_refusal_lists_only_what_is_still_missing(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        for item in ("training_plan", "escalation_path", "low_connectivity_test"):
            sv.record_readiness(world.uow, world.commissioner, pilot, item, detail="Done and checked.")
        with world.refuses(RuleViolation, match=r"\(missing: Date the old process retires\)"):
            sv.start_real_use(world.uow, world.commissioner, pilot)

    def test_a_complete_checklist_allows_real_use(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        world.make_ready(pilot)
        sv.start_real_use(world.uow, world.commissioner, pilot)
        assert row(world, Pilot, pilot).state == PilotState.IN_USE

    def test_a_steering_waiver_with_a_reason_allows_real_use(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        sv.waive_readiness(world.uow, world.steering, pilot,
                           reason="Winter pressures: start now, train in week one.")
        waiver = row(world, ReadinessWaiver, pilot)
        assert waiver.waived_by == world.steering
        assert waiver.reason == "Winter pressures: start now, train in week one."
        sv.start_real_use(world.uow, world.commissioner, pilot)
        assert row(world, Pilot, pilot).state == PilotState.IN_USE
        assert json.loads(last_event(world).payload)["after"]["waived"] is True

    def test_the_waiver_records_what_was_missing(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        sv.waive_readiness(world.uow, world.steering, pilot,
                           reason="Winter pressures: start now, train in week one.")
        with world.db.uow().reading() as s:
            event = s.scalars(select(AuditEvent).where(
                AuditEvent.action == "pilot.readiness_waived")).one()
            assert len(json.loads(event.payload)["after"]["missing"]) == 4

    def test_commissioning_cannot_waive_readiness(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        with world.refuses(PermissionDenied, match="Carl Commissioner may not waive the readiness "
                                                   "checklist: that needs one of the roles Steering"):
            sv.waive_readiness(world.uow, world.commissioner, pilot,
                               reason="We are confident it will be fine.")

    @pytest.mark.parametrize("reason", ["", "because"])
    def test_a_waiver_needs_a_reason(self, world: World, reason: str) -> None:
        _, pilot = registered_pilot(world)
        with world.refuses(InvalidInput, match="Reason for the waiver is (empty|too short)"):
            sv.waive_readiness(world.uow, world.steering, pilot, reason=reason)

    def test_the_pilot_owner_is_part_of_the_checklist_from_registration(self, world: World) -> None:
        _, pilot = registered_pilot(world)
        with world.refuses(InvalidInput, match="named owner is recorded when the owner joins the pilot's team"):
            sv.record_readiness(world.uow, world.commissioner, pilot, "owner", detail="Carl.")

