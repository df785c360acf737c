"""The demo organisation (docs/demo.md).

It is built only through the use cases, so its audit chain must verify; it
must hold every lifecycle state and each of the stories the pages show
(brilliant from altitude, genuinely indispensable, amendments after real
use, overdue feedback, open votes).
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from governance import demo, services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.record.log import verify_chain
from governance.rules.evidence import attainment
from governance.storage.db import Database
from governance.storage.models import (
    Amendment,
    Ballot,
    Claim,
    Decision,
    FeedbackItem,
    Person,
    Pilot,
    Problem,
    ProblemReopening,
    SurveyRound,
    UsageWeek,
    Vote,
    VoteParticipation,
)
from governance.storage.repository import (
    current_charter,
    latest_usage,
    metric_status,
    pilot_evidence as survey_evidence,
)
from governance.vocabulary import PilotState, ProblemState, VoteKind, VoteStatus

END = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a Friday noon
BRILLIANT = "Automated SMS appointment reminders"
INDISPENSABLE = "Referral Letter Assistant"
COMPLIANCE = "Permit status chatbot"


@pytest.fixture(scope="module")
def built(database_factory) -> Iterator[tuple[str, demo.DemoSummary]]:  # type: ignore[no-untyped-def]
    """One demo database for the module (built like the ``db_url`` fixture's databases)."""
    url = database_factory.url()
    began = time.perf_counter()
    summary = demo.build_demo(url, end=END)
    summary.seconds = time.perf_counter() - began
    print(f"\ndemo built in {summary.seconds:.1f} s on {Database(url).dialect}")
    yield url, summary
    database_factory.drop(url)


@pytest.fixture
def session(built):  # type: ignore[no-untyped-def]
    db = Database(built[0])
    with db.uow().reading() as s:
        yield s
    db.dispose()


def pilot(s, title: str) -> Pilot:  # type: ignore[no-untyped-def]
    return s.scalars(select(Pilot).where(Pilot.title == title)).one()


def test_chain_verifies_and_summary_says_so(built, session) -> None:  # type: ignore[no-untyped-def]
    _, summary = built
    result = verify_chain(session)
    assert result.ok, result.summary
    assert result.events_checked == summary.events > 500
    assert summary.chain_ok
    assert "pilot-demo-2026" in summary.as_text()


def test_the_build_reports_its_time(built) -> None:  # type: ignore[no-untyped-def]
    """How long it takes is measured and reported (bench, closing notes), not asserted here."""
    _, summary = built
    assert summary.seconds > 0 and f"built in {summary.seconds:.1f} s" in summary.as_text()


def test_everything_happened_before_the_end(session) -> None:  # type: ignore[no-untyped-def]
    from governance.storage.models import AuditEvent

    first, last = session.execute(select(func.min(AuditEvent.occurred_at),
                                         func.max(AuditEvent.occurred_at))).one()
    assert last < END
    assert (END - first).days >= 19 * 7  # about twenty weeks of history


def test_every_lifecycle_state(session) -> None:  # type: ignore[no-untyped-def]
    pilot_states = set(session.scalars(select(Pilot.state)))
    assert pilot_states == {s.value for s in PilotState}
    outcomes = set(session.scalars(select(Pilot.outcome).where(Pilot.outcome.is_not(None))))
    assert outcomes == {"adopt", "iterate", "revisit_problem", "stop"}
    problem_states = set(session.scalars(select(Problem.state)))
    assert problem_states == {s.value for s in ProblemState}
    # a ratified problem whose criteria are not locked yet, with a registered pilot on it
    registered = session.scalars(select(Pilot).where(Pilot.state == PilotState.REGISTERED)).one()
    from governance.services.problems import lock_of

    assert lock_of(session, registered.problem_version_id) is None


def test_brilliant_from_altitude(session) -> None:  # type: ignore[no-untyped-def]
    p = pilot(session, BRILLIANT)
    assert p.state == PilotState.DECIDED and p.outcome == "revisit_problem"
    charter = current_charter(session)
    evidence = survey_evidence(session, p, charter, closed_only=True)
    assert (evidence.indispensability.very_disappointed, evidence.indispensability.n) == (12, 40)
    assert evidence.indispensability.status == "fail"
    assert attainment(metric_status(session, p.id)) == 1.0  # every commissioning metric on target
    decision = session.scalars(select(Decision).where(Decision.pilot_id == p.id)).one()
    assert decision.outcome != "adopt"
    # R10: the problem was reopened as a new version linked to the failed pilot
    problem = session.get(Problem, p.problem_id)
    assert problem.state == ProblemState.REOPENED and problem.current_version == 2
    assert session.scalar(select(ProblemReopening.pilot_id)) == p.id
    # a commissioning claim of success, flagged as contradicting the binding decision
    claims = session.scalars(select(Claim).where(Claim.pilot_id == p.id, Claim.asserts_success.is_(True))
                             ).all()
    flags = [f for c in claims for f in json.loads(c.checks_json)["flags"]]
    assert "contradicts the binding decision (revisit the problem)" in flags
    assert "made before any binding decision" in flags


def test_genuinely_indispensable_and_adopted(session) -> None:  # type: ignore[no-untyped-def]
    p = pilot(session, INDISPENSABLE)
    assert p.outcome == "adopt"
    ind = survey_evidence(session, p, current_charter(session), closed_only=True).indispensability
    assert (ind.very_disappointed, ind.n, ind.status) == (26, 38, "pass")
    decision = session.scalars(select(Decision).where(Decision.pilot_id == p.id)).one()
    basis = json.loads(decision.basis_json)
    assert basis["tally"]["winner"] == "adopt" and not decision.adopt_override
    # a ballot was changed before the close: both kept, only the latest counts
    changed = session.scalar(select(func.count()).select_from(Ballot).where(
        Ballot.vote_id == decision.vote_id, Ballot.is_current.is_(False)))
    assert changed == 1


def test_compliance_adoption(session) -> None:  # type: ignore[no-untyped-def]
    p = pilot(session, COMPLIANCE)
    usage = latest_usage(session, p.id)
    ind = survey_evidence(session, p, current_charter(session), closed_only=True).indispensability
    assert usage["adoption"] >= 0.9 and ind.score is not None and ind.score < 0.2
    assert p.outcome == "stop"
    # its problem was retired once the pilot was decided
    assert session.get(Problem, p.problem_id).state == ProblemState.RETIRED


def test_weekly_usage_rises_over_eight_weeks(session) -> None:  # type: ignore[no-untyped-def]
    p = pilot(session, INDISPENSABLE)
    weeks = session.scalars(select(UsageWeek.active_users).where(UsageWeek.pilot_id == p.id)
                            .order_by(UsageWeek.week_start)).all()
    assert len(weeks) == 8 and weeks == sorted(weeks) and weeks[-1] > 2 * weeks[0]


def test_amendments_after_real_use(session) -> None:  # type: ignore[no-untyped-def]
    amendments = session.scalars(select(Amendment).where(Amendment.after_real_use.is_(True))).all()
    assert {("metric" if a.metric_id else "criterion") for a in amendments} == {"metric", "criterion"}
    criterion_amendment = next(a for a in amendments if a.criterion_id)
    vote = session.scalars(select(Vote).where(Vote.amendment_id == criterion_amendment.id)).one()
    assert vote.kind == VoteKind.AMEND_CRITERION and vote.passed  # by panel vote
    flagged = [json.loads(c.checks_json)["flags"] for c in session.scalars(select(Claim))]
    assert any("was amended after real use began" in f for fs in flagged for f in fs)


def test_feedback_open_overdue_and_answered(session) -> None:  # type: ignore[no-untyped-def]
    overdue = session.scalar(select(func.count()).select_from(FeedbackItem).where(
        FeedbackItem.responded_at.is_(None), FeedbackItem.due_on < END.date()))
    not_yet_due = session.scalar(select(func.count()).select_from(FeedbackItem).where(
        FeedbackItem.responded_at.is_(None), FeedbackItem.due_on >= END.date()))
    answered = session.scalar(select(func.count()).select_from(FeedbackItem).where(
        FeedbackItem.responded_at.is_not(None)))
    assert overdue >= 2 and not_yet_due >= 1 and answered >= 5


def test_open_votes_stay_open_after_the_end(session) -> None:  # type: ignore[no-untyped-def]
    open_votes = session.scalars(select(Vote).where(Vote.status == VoteStatus.OPEN)).all()
    kinds = {v.kind for v in open_votes}
    assert VoteKind.OUTCOME in kinds and VoteKind.RATIFY_PROBLEM in kinds
    for v in open_votes:
        assert v.deadline > END
        took_part = session.scalar(select(func.count()).select_from(VoteParticipation).where(
            VoteParticipation.vote_id == v.id))
        assert took_part > 0  # some ballots cast (secret or named), others still to come
    outcome = next(v for v in open_votes if v.kind == VoteKind.OUTCOME)
    assert session.get(Pilot, outcome.pilot_id).state == PilotState.EVALUATING
    # and a survey round still open, for a rostered person to answer
    assert session.scalar(select(func.count()).select_from(SurveyRound).where(
        SurveyRound.closed_at.is_(None))) == 1


def test_demo_people_and_shared_password(built) -> None:  # type: ignore[no-untyped-def]
    db = Database(built[0])
    try:
        people = demo.demo_people(db.uow())
        assert people is not None and 25 <= len(people) <= 35
        roles = {r for p in people for r in p["roles"]}
        assert roles == {"frontline", "facilitator", "commissioning", "steering", "auditor", "admin"}
        assert all(p["email"].endswith("@demo.example") and "password" not in p for p in people)
        facilitator = next(p for p in people if "facilitator" in p["roles"])
        assert sv.sign_in(db.uow(), facilitator["email"], demo.DEMO_PASSWORD).person_id == facilitator["person_id"]
    finally:
        db.dispose()


def test_ensure_demo_is_a_no_op_on_a_non_empty_database(built) -> None:  # type: ignore[no-untyped-def]
    db = Database(built[0])
    try:
        with db.uow().reading() as s:
            before = s.scalar(select(func.count()).select_from(Person))
        assert demo.ensure_demo(db) is False
        with db.uow().reading() as s:
            assert s.scalar(select(func.count()).select_from(Person)) == before
        with pytest.raises(RuleViolation, match="already holds people"):
            demo.build_demo(built[0], end=END)
    finally:
        db.dispose()


def test_cli_does_not_rebuild_over_an_existing_database(built, capsys  # type: ignore[no-untyped-def]
                                                         ) -> None:
    url = built[0]
    assert demo.main(["--database-url", url]) == 0
    assert "nothing was built" in capsys.readouterr().out
    if not url.startswith("sqlite"):
        assert demo.main(["--rebuild", "--database-url", url]) == 2
        assert "Refusing to rebuild" in capsys.readouterr().err


def test_ensure_demo_builds_into_an_empty_database(db_url: str) -> None:
    """First run: the real clock (end = now); every event lies in the past."""
    db = Database(db_url)
    try:
        assert demo.demo_people(db.uow()) is None
        assert demo.ensure_demo(db) is True
        assert demo.demo_people(db.uow())
        with db.uow().reading() as s:
            assert verify_chain(s).ok
            assert all(v.deadline > datetime.now(UTC) for v in s.scalars(
                select(Vote).where(Vote.status == VoteStatus.OPEN)))
        assert demo.ensure_demo(db) is False
    finally:
        db.dispose()


# ------------------------------------------------------ the mark_demo use case
def test_mark_demo_is_for_administrators_only(world) -> None:  # type: ignore[no-untyped-def]
    cast = [{"name": "Ada Admin", "email": "ada@example.org", "roles": ["admin"]}]
    with world.refuses(PermissionDenied):
        sv.mark_demo(world.uow, world.steering, people=cast)
    with world.refuses(InvalidInput, match="never a password"):
        sv.mark_demo(world.uow, world.admin, people=[{**cast[0], "password": "pilot-demo-2026"}])
    with world.refuses(InvalidInput, match="not an active person"):
        sv.mark_demo(world.uow, world.admin, people=[{**cast[0], "email": "nobody@example.org"}])
    assert demo.demo_people(world.uow) is None
    sv.mark_demo(world.uow, world.admin, people=cast)
    assert demo.demo_people(world.uow) == [{"person_id": world.admin, "name": "Ada Admin",
                                            "email": "ada@example.org", "roles": ["admin"], "about": ""}]
    with world.refuses(RuleViolation, match="already marked"):
        sv.mark_demo(world.uow, world.admin, people=cast)
