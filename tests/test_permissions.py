"""R14 least privilege: one role × action table, deny by default, roles read at
call time, auditors read-only, and the contextual checks on top of the table
(the pilot's own commissioning team, the owning panel)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import PermissionDenied, RuleViolation
from governance.identity.actors import require
from governance.rules.permissions import DESCRIPTIONS, PERMISSIONS, Action, allowed
from governance.storage.db import Database, FixedClock
from governance.storage.models import AuditEvent, CommissioningMetric, Criterion, ProblemVersion
from governance.vocabulary import Role, label
from tests.conftest import START
from tests.world import World


# ------------------------------------------------------- a shared organisation
@dataclass
class Org:
    """A module-wide organisation. Tests on it only try refused actions (nothing is written)."""

    world: World
    only: dict[Role, int]  # a person holding exactly that one role
    problem: int  # locked, with a pilot in real use
    draft: int  # a draft problem with an open ratification vote
    criterion: int
    metric: int
    pilot: int
    vote: int
    round: int
    feedback: int
    no_roles: int
    inactive: int


@pytest.fixture(scope="module")
def org(database_factory: Any) -> Iterator[Org]:
    url = database_factory.url()
    clock = FixedClock(START)
    db = Database(url, clock=clock)
    w = World(db, clock)
    only = {Role.ADMIN: w.admin, Role.FRONTLINE: w.members[0], Role.COMMISSIONING: w.commissioner,
            Role.STEERING: w.steering, Role.AUDITOR: w.auditor,
            Role.FACILITATOR: w.person("Solo Facilitator", ["facilitator"])}
    problem, pilot = w.pilot_in_use()
    draft = w.draft_problem(title="Printer queue", statement="The shared printer jams every morning.")
    w.add_criterion(draft, name="Jams per week", unit="count")
    vote = sv.propose_ratification(w.uow, w.facilitator, draft)
    with db.uow().reading() as s:
        criterion = s.scalars(select(Criterion.id).join(ProblemVersion).where(
            ProblemVersion.problem_id == problem, Criterion.is_indispensability.is_(False))).one()
        metric = s.scalars(select(CommissioningMetric.id).where(
            CommissioningMetric.pilot_id == pilot)).first()
    w.pass_window()
    rnd = sv.open_survey_round(w.uow, w.commissioner, pilot)
    feedback = sv.raise_feedback(w.uow, w.members[1], pilot, kind="workaround",
                                 body="We still print the letter to check it.")
    no_roles = w.person("Nora Noroles", [])
    # Every role a person may hold together (the auditor role stands alone, R15).
    inactive = w.person("Ivan Inactive", [r.value for r in Role if r != Role.AUDITOR])
    sv.deactivate_person(w.uow, w.admin, inactive, reason="Left the organisation in March.")
    yield Org(w, only, problem, draft, criterion, metric, pilot, vote, rnd, feedback, no_roles, inactive)
    db.dispose()
    database_factory.drop(url)


def check(org: Org, person_id: Any, action: Action) -> None:
    with org.world.db.uow().reading() as s:
        require(s, person_id, action)


# ================================================= the role × action matrix
MATRIX = [(action, role) for action in Action for role in Role]


@pytest.mark.parametrize("action,role", MATRIX, ids=[f"{a.value}-{r.value}" for a, r in MATRIX])
def test_role_action_matrix(org: Org, action: Action, role: Role) -> None:
    """A person holding only ``role`` may do ``action`` exactly when the table says so."""
    person = org.only[role]
    if role in PERMISSIONS[action]:
        check(org, person, action)
    else:
        with pytest.raises(PermissionDenied, match=f"may not {DESCRIPTIONS[action]}: that needs one "
                                                   f"of the roles .*\\(you hold {label(role)}\\)"):
            check(org, person, action)


def test_the_table_has_a_row_for_every_action() -> None:
    assert set(PERMISSIONS) == set(Action) == set(DESCRIPTIONS)
    assert all(isinstance(roles, frozenset) for roles in PERMISSIONS.values())


def test_auditors_are_granted_only_reading_and_witnessing() -> None:
    granted = {a for a, roles in PERMISSIONS.items() if Role.AUDITOR in roles}
    assert granted == {Action.READ_AUDIT_RECORD, Action.WITNESS_CHECKPOINT}


def test_nobody_reads_a_running_tally() -> None:
    """R8: running tallies are hidden from everyone until close, auditors and operators included."""
    assert PERMISSIONS[Action.READ_RUNNING_TALLY] == frozenset()


def test_holding_several_roles_allows_the_union(org: Org) -> None:
    facilitator = org.world.facilitator  # frontline + facilitator
    for action in Action:
        expected = bool(PERMISSIONS[action] & {Role.FRONTLINE, Role.FACILITATOR})
        if expected:
            check(org, facilitator, action)
        else:
            with pytest.raises(PermissionDenied):
                check(org, facilitator, action)


# ============================================================ deny by default
@pytest.mark.parametrize("action", list(Action))
def test_a_person_with_no_role_may_do_nothing(org: Org, action: Action) -> None:
    with pytest.raises(PermissionDenied, match=r"\(you hold no role\)"):
        check(org, org.no_roles, action)


@pytest.mark.parametrize("action", list(Action))
def test_an_inactive_person_may_do_nothing_whatever_their_roles(org: Org, action: Action) -> None:
    with pytest.raises(PermissionDenied, match="not signed in as an active person"):
        check(org, org.inactive, action)


@pytest.mark.parametrize("actor", [999_999, 0, -1, None, "1", True, 1.0],
                         ids=["unknown", "zero", "negative", "none", "text", "bool", "float"])
def test_an_unknown_actor_may_do_nothing(org: Org, actor: Any) -> None:
    with pytest.raises(PermissionDenied, match="not signed in as an active person"):
        check(org, actor, Action.RECORD_CLAIM)


def test_an_action_missing_from_the_table_is_denied() -> None:
    assert not allowed(frozenset(Role), "approve_own_pilot")  # type: ignore[arg-type]
    assert not allowed(frozenset(), Action.RECORD_CLAIM)


def test_a_service_called_by_an_unknown_actor_writes_nothing(world: World) -> None:
    with world.refuses(PermissionDenied, match="not signed in as an active person"):
        sv.draft_problem(world.uow, 999_999, panel_id=world.panel, title="Ghost problem",
                         statement="Written by nobody.")


def test_a_deactivated_person_can_no_longer_act(world: World) -> None:
    problem = world.draft_problem()
    sv.deactivate_person(world.uow, world.admin, world.members[1], reason="Moved to another trust.")
    with world.refuses(PermissionDenied, match="not signed in as an active person"):
        sv.comment_on_problem(world.uow, world.members[1], problem, "Still here?")


# ================================================== roles read at call time
def test_a_revoked_role_stops_working_at_the_next_call(world: World) -> None:
    problem = world.ratified_problem()
    world.register_pilot(problem)
    sv.set_roles(world.uow, world.admin, world.commissioner, ["steering"])
    with world.refuses(PermissionDenied, match="Carl Commissioner may not register a pilot: .*you hold "
                                               r"Steering\)"):
        world.register_pilot(problem, title="Another assistant")


def test_a_granted_role_works_at_the_next_call(world: World) -> None:
    problem = world.ratified_problem()
    with world.refuses(PermissionDenied, match="Stella Steering may not register a pilot"):
        sv.register_pilot(world.uow, world.steering, problem_id=problem, title="Steering's pick",
                          description="Chosen by steering.", owner_id=world.steering)
    sv.set_roles(world.uow, world.admin, world.steering, ["steering", "commissioning"])
    sv.register_pilot(world.uow, world.steering, problem_id=problem, title="Steering's pick",
                      description="Chosen by steering.", owner_id=world.steering)


def test_a_facilitator_who_loses_the_role_cannot_open_panel_votes(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    sv.set_roles(world.uow, world.admin, world.facilitator, ["frontline"])
    with world.refuses(PermissionDenied, match="Fiona Facilitator may not open a panel vote"):
        sv.propose_ratification(world.uow, world.facilitator, problem)


def test_an_admin_who_revokes_their_own_admin_role_is_refused_as_the_last_admin(world: World) -> None:
    with world.refuses(RuleViolation, match="last administrator"):
        sv.set_roles(world.uow, world.admin, world.admin, ["steering"])


# ============================================================= auditors only read
CSV = b"measure,observed_on,value\nExtraction accuracy,2026-03-02,96\n"
USAGE = b"week_start,active_users,eligible_users\n2026-03-02,5,6\n"
PEOPLE = b"name,email,roles,panel,panel_role\nEve Example,eve@example.org,frontline,,\n"

#: Every state-changing service, called by the auditor with otherwise sensible arguments.
AUDITOR_ATTEMPTS: dict[str, Callable[[Org, int], Any]] = {
    "create_person": lambda o, a: sv.create_person(o.world.uow, a, name="Eve", email="eve@example.org"),
    "set_roles": lambda o, a: sv.set_roles(o.world.uow, a, a, ["admin"]),
    "set_password": lambda o, a: sv.set_password(o.world.uow, a, o.world.admin, "a new long password"),
    "deactivate_person": lambda o, a: sv.deactivate_person(o.world.uow, a, o.world.members[0],
                                                           reason="Auditors cannot do this."),
    "create_programme": lambda o, a: sv.create_programme(o.world.uow, a, name="Audit programme"),
    "create_panel": lambda o, a: sv.create_panel(o.world.uow, a, name="Audit panel"),
    "add_panel_member": lambda o, a: sv.add_panel_member(o.world.uow, a, o.world.panel, o.world.outsider),
    "remove_panel_member": lambda o, a: sv.remove_panel_member(o.world.uow, a, o.world.panel,
                                                               o.world.members[0]),
    "adopt_charter": lambda o, a: sv.adopt_charter(o.world.uow, a, reason="Shorter window, please.",
                                                   evaluation_window_days=14),
    "draft_problem": lambda o, a: sv.draft_problem(o.world.uow, a, panel_id=o.world.panel, title="Audit",
                                                   statement="Auditors cannot write problems."),
    "revise_problem": lambda o, a: sv.revise_problem(o.world.uow, a, o.draft, title="Audit",
                                                     statement="Auditors cannot write problems."),
    "add_criterion": lambda o, a: sv.add_criterion(
        o.world.uow, a, o.draft, name="Audit", definition="x", measurement_method="x", unit="count",
        direction="lower_is_better", target=1, minimum_evidence=1),
    "update_criterion": lambda o, a: sv.update_criterion(o.world.uow, a, o.criterion, target=1),
    "remove_criterion": lambda o, a: sv.remove_criterion(o.world.uow, a, o.criterion),
    "comment_on_problem": lambda o, a: sv.comment_on_problem(o.world.uow, a, o.problem, "Noted."),
    "retire_problem": lambda o, a: sv.retire_problem(o.world.uow, a, o.draft,
                                                     reason="Auditors cannot retire problems."),
    "propose_ratification": lambda o, a: sv.propose_ratification(o.world.uow, a, o.draft),
    "propose_criteria_lock": lambda o, a: sv.propose_criteria_lock(o.world.uow, a, o.draft),
    "propose_amendment": lambda o, a: sv.propose_amendment(
        o.world.uow, a, o.criterion, reason="Auditors cannot amend criteria.", target=1),
    "register_pilot": lambda o, a: sv.register_pilot(
        o.world.uow, a, problem_id=o.problem, title="Audit pilot", description="x", owner_id=a),
    "add_team_member": lambda o, a: sv.add_team_member(o.world.uow, a, o.pilot, a),
    "add_metric": lambda o, a: sv.add_metric(o.world.uow, a, o.pilot, name="Audit", definition="x",
                                             unit="count", direction="lower_is_better", target=1),
    "update_metric": lambda o, a: sv.update_metric(o.world.uow, a, o.metric, target=1),
    "amend_metric": lambda o, a: sv.amend_metric(o.world.uow, a, o.metric,
                                                 reason="Auditors cannot amend metrics.", target=1),
    "add_to_roster": lambda o, a: sv.add_to_roster(o.world.uow, a, o.pilot, [o.world.outsider]),
    "remove_from_roster": lambda o, a: sv.remove_from_roster(o.world.uow, a, o.pilot, o.world.members[0]),
    "record_readiness": lambda o, a: sv.record_readiness(o.world.uow, a, o.pilot, "training_plan",
                                                         detail="x"),
    "waive_readiness": lambda o, a: sv.waive_readiness(o.world.uow, a, o.pilot,
                                                       reason="Auditors cannot waive readiness."),
    "start_real_use": lambda o, a: sv.start_real_use(o.world.uow, a, o.pilot),
    "record_measurement": lambda o, a: sv.record_measurement(
        o.world.uow, a, o.pilot, value=96, observed_on="2026-03-02", metric_id=o.metric),
    "import_measurements": lambda o, a: sv.import_measurements(o.world.uow, a, o.pilot,
                                                               filename="m.csv", content=CSV),
    "import_usage": lambda o, a: sv.import_usage(o.world.uow, a, o.pilot, filename="u.csv",
                                                 content=USAGE),
    "open_survey_round": lambda o, a: sv.open_survey_round(o.world.uow, a, o.pilot),
    "close_survey_round": lambda o, a: sv.close_survey_round(o.world.uow, a, o.round),
    "submit_survey_response": lambda o, a: sv.submit_survey_response(o.world.uow, a, o.round,
                                                                     answer="very_disappointed"),
    "raise_feedback": lambda o, a: sv.raise_feedback(o.world.uow, a, o.pilot, kind="other", body="x"),
    "respond_to_feedback": lambda o, a: sv.respond_to_feedback(o.world.uow, a, o.feedback,
                                                               response="x"),
    "open_outcome_vote": lambda o, a: sv.open_outcome_vote(o.world.uow, a, o.pilot),
    "cast_ballot": lambda o, a: sv.cast_ballot(o.world.uow, a, o.vote, "approve"),
    "close_vote": lambda o, a: sv.close_vote(o.world.uow, a, o.vote, statement="The result stands."),
    "mark_demo": lambda o, a: sv.mark_demo(o.world.uow, a, people=[
        {"name": "Ada Admin", "email": "ada@example.org", "roles": ["admin"]}]),
    "record_claim": lambda o, a: sv.record_claim(o.world.uow, a, o.pilot, statement="It works.",
                                                 cited_metrics=["Extraction accuracy"]),
    "accept_team_invitation": lambda o, a: sv.accept_team_invitation(o.world.uow, a, 1),
    "decline_team_invitation": lambda o, a: sv.decline_team_invitation(o.world.uow, a, 1),
    "remove_team_member": lambda o, a: sv.remove_team_member(o.world.uow, a, o.pilot, o.world.commissioner,
                                                             reason="Auditors cannot change teams."),
    "reactivate_person": lambda o, a: sv.reactivate_person(o.world.uow, a, o.world.members[0],
                                                           reason="Auditors cannot do this."),
    "import_people": lambda o, a: sv.import_people(o.world.uow, a, filename="people.csv", content=PEOPLE),
    "preview_people_import": lambda o, a: sv.preview_people_import(o.world.uow, a, filename="people.csv",
                                                                   content=PEOPLE),
    "issue_survey_links": lambda o, a: sv.issue_survey_links(o.world.uow, a, o.round),
    "issue_vote_links": lambda o, a: sv.issue_vote_links(o.world.uow, a, o.vote),
    "print_paper_batch": lambda o, a: sv.print_paper_batch(o.world.uow, a, round_id=o.round),
    "enter_paper_sheet": lambda o, a: sv.enter_paper_sheet(o.world.uow, a, 1, code="AAAAA-AAAAA", spoiled=True),
    "attest_paper_batch": lambda o, a: sv.attest_paper_batch(o.world.uow, a, 1, returned=0, scan=b"x",
                                                             scan_filename="x.pdf"),
}

#: Services that act for no one in particular (or before anyone exists): sign-in, set-up and the
#: scheduled job's. (Changing one's own password needs only one's own session: tests/test_sign_in.py.)
NOT_ACTOR_SERVICES = {"initialise_organisation", "sign_in", "sign_in_by_email", "close_due_votes",
                      "close_due_vote", "checkpoint_if_due", "redeem_ticket", "sign_out", "change_own_password",
                      # A personal link's token identifies its person (tests/test_personal_links.py).
                      "answer_by_link", "vote_by_link"}
#: The one thing an auditor writes (R18): their cosignature of a checkpoint (tests/test_checkpoints.py).
AUDITOR_WRITES = {"witness_checkpoint"}


def test_every_state_changing_service_is_tried_as_the_auditor() -> None:
    assert set(AUDITOR_ATTEMPTS) == set(sv.__all__) - NOT_ACTOR_SERVICES - AUDITOR_WRITES


@pytest.mark.parametrize("service", sorted(AUDITOR_ATTEMPTS))
def test_auditors_can_change_nothing(org: Org, service: str) -> None:
    with org.world.refuses(PermissionDenied, match="Aude Auditor may not .*you hold Auditor"):
        AUDITOR_ATTEMPTS[service](org, org.world.auditor)


def test_an_auditor_may_read_the_audit_record(org: Org) -> None:
    check(org, org.world.auditor, Action.READ_AUDIT_RECORD)


# ================================================================ contextual
@pytest.fixture
def outsider_commissioner(world: World) -> int:
    return world.person("Cora Othercomm", ["commissioning"])


def test_a_commissioner_outside_the_pilot_team_cannot_manage_it(world: World,
                                                                 outsider_commissioner: int) -> None:
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    with world.db.uow().reading() as s:
        metric = s.scalars(select(CommissioningMetric.id).where(CommissioningMetric.pilot_id == pilot)).first()
    cora, uow = outsider_commissioner, world.uow
    attempts: list[tuple[str, Callable[[], Any]]] = [
        ("declare its metrics", lambda: sv.add_metric(uow, cora, pilot, name="Cost", definition="x",
                                                      unit="currency", direction="lower_is_better",
                                                      target=1)),
        ("change its metrics", lambda: sv.update_metric(uow, cora, metric, target=90)),
        ("change its roster", lambda: sv.add_to_roster(uow, cora, pilot, world.members)),
        ("record its readiness", lambda: sv.record_readiness(uow, cora, pilot, "training_plan",
                                                             detail="Two sessions.")),
        ("change its team", lambda: sv.add_team_member(uow, cora, pilot, cora)),
        ("start its real use", lambda: sv.start_real_use(uow, cora, pilot)),
    ]
    for doing, attempt in attempts:
        with world.refuses(PermissionDenied, match="Cora Othercomm is not on the commissioning team of "
                                                   f"'Referral letter assistant', so may not {doing}"):
            attempt()


def test_a_commissioner_outside_the_team_cannot_record_evidence_or_answer_feedback(
        world: World, outsider_commissioner: int) -> None:
    _, pilot = world.pilot_in_use()
    cora = outsider_commissioner
    with world.db.uow().reading() as s:
        metric = s.scalars(select(CommissioningMetric.id).where(CommissioningMetric.pilot_id == pilot)).first()
    with world.refuses(PermissionDenied, match="Only the commissioning team of 'Referral letter "
                                               "assistant' or the owning panel may record"):
        sv.record_measurement(world.uow, cora, pilot, value=96, observed_on=world.today(), metric_id=metric)
    with world.refuses(PermissionDenied, match="may not amend its metrics"):
        sv.amend_metric(world.uow, cora, metric, reason="We think 90 is fairer.", target=90)
    with world.refuses(PermissionDenied, match="may not import its usage"):
        sv.import_usage(world.uow, cora, pilot, filename="u.csv", content=USAGE)
    item = sv.raise_feedback(world.uow, world.members[0], pilot, kind="wrong_output",
                             body="It read the NHS number wrong.")
    with world.refuses(PermissionDenied, match="may not respond to its feedback"):
        sv.respond_to_feedback(world.uow, cora, item, response="Fixed in the next release.")
    world.pass_window()
    with world.refuses(PermissionDenied, match="Only the commissioning team .* may run its surveys"):
        sv.open_survey_round(world.uow, cora, pilot)


def test_joining_the_team_gives_the_right_to_manage_it(world: World, outsider_commissioner: int) -> None:
    problem = world.locked_problem()
    pilot = world.register_pilot(problem)
    metric = {"name": "Cost per letter", "definition": "Vendor cost.", "unit": "currency",
              "direction": "lower_is_better", "target": 0.3}
    with world.refuses(PermissionDenied):
        sv.add_metric(world.uow, outsider_commissioner, pilot, **metric)
    world.join_team(pilot, outsider_commissioner)
    sv.add_metric(world.uow, outsider_commissioner, pilot, **metric)
    with world.db.uow().reading() as s:
        names = s.scalars(select(CommissioningMetric.name).where(CommissioningMetric.pilot_id == pilot)).all()
        added_by = s.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "metric.added")
                             .order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert names.count("Cost per letter") == 1
    assert added_by == outsider_commissioner


def test_a_facilitator_of_another_panel_cannot_close_this_panels_vote(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    other = world.person("Frank Otherfac", ["frontline", "facilitator"])
    # A panel vote is the panel's own: only its facilitator closes it (R2), not steering either.
    with world.refuses(PermissionDenied, match="Only a facilitator of Riverside Clinic Panel may close this vote"):
        sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    with world.refuses(PermissionDenied, match="Only a facilitator of Riverside Clinic Panel may close this vote"):
        sv.close_vote(world.uow, other, vote, statement="The result stands.")


def test_only_the_owning_panel_votes_on_its_problems(world: World) -> None:
    problem = world.draft_problem()
    world.add_criterion(problem)
    vote = sv.propose_ratification(world.uow, world.facilitator, problem)
    with world.refuses(PermissionDenied, match="Olga Outsider is not among the eligible voters"):
        sv.cast_ballot(world.uow, world.outsider, vote, "approve")
    with world.refuses(PermissionDenied, match="not among the eligible voters"):
        sv.cast_ballot(world.uow, world.commissioner, vote, "approve")


def test_feedback_comes_from_the_roster_or_the_panel(world: World) -> None:
    _, pilot = world.pilot_in_use(roster=world.members[:2])
    stranger = world.person("Sam Stranger", ["frontline"])
    with world.refuses(PermissionDenied, match="you are neither"):
        sv.raise_feedback(world.uow, stranger, pilot, kind="other", body="I heard it is slow.")
