"""R8: running tallies and running survey answers are hidden from everyone until close,
auditors and operators included (turnout may show).

The check: for each role, every read model a non-participant can call returns exactly the
same answer before and after one voter changes their ballot in an open vote, and before
and after one rostered user changes their answer in an open survey round. The audit log
shows that an act happened (an event), never what was chosen.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from governance import services as sv
from governance.errors import GovernanceError
from governance.queries import (
    audit as audit_q,
    compare as compare_q,
    evaluate as evaluate_q,
    home as home_q,
    pilots as pilots_q,
    problems as problems_q,
    votes as votes_q,
)
from governance.storage.models import AuditEvent
from tests.test_record_operators import small_charter
from tests.world import NOT, SOMEWHAT, VERY, World


def _answers(world: World, person: int, vote: int, pilot: int) -> dict[str, Any]:
    """Every read model this person can call about the open vote and round, by name."""
    calls: dict[str, Callable[[], Any]] = {
        "vote_detail": lambda: votes_q.vote_detail(world.uow, person, vote),
        "votes_page": lambda: votes_q.votes_page(world.uow, person, mine_only=False),
        "running_tally": lambda: votes_q.running_tally(world.uow, person, vote),
        "decisions": lambda: votes_q.decisions_page(world.uow, person),
        "pilot_detail": lambda: pilots_q.pilot_detail(world.uow, person, pilot),
        "pilots_page": lambda: pilots_q.pilots_page(world.uow, person),
        "my_surveys": lambda: evaluate_q.my_surveys(world.uow, person),
        "feedback": lambda: evaluate_q.feedback_page(world.uow, person),
        "compare": lambda: compare_q.compare_pilots(world.uow, person),
        "agenda": lambda: home_q.my_agenda(world.uow, person),
        "pipeline": lambda: home_q.pipeline(world.uow, person),
        "problems": lambda: problems_q.problems_page(world.uow, person),
        "claims": lambda: audit_q.claims_page(world.uow, person),
    }
    out = {}
    for name, call in calls.items():
        try:
            out[name] = call()
        except GovernanceError as exc:  # a refusal is an answer too, and must not change either
            out[name] = ("refused", type(exc).__name__, str(exc))
    return out


def test_nothing_a_non_participant_reads_changes_when_a_ballot_or_an_answer_changes(world: World) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use(title="Referral letters")
    # A second pilot, in real use too, whose survey round will be open.
    users = world.rostered_users(5, prefix="Clinic user")
    problem_b = world.locked_problem(title="Appointment reminders", statement="Patients miss appointments.")
    other = world.register_pilot(problem_b, title="SMS reminders")
    sv.add_to_roster(world.uow, world.commissioner, other, users)
    world.make_ready(other)
    sv.start_real_use(world.uow, world.commissioner, other)
    colleague = world.person("Sam Steering", ["steering"])  # votes on the record by name
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter in world.panel_voters[:4]:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    sv.cast_ballot(world.uow, world.steering, vote, "iterate")
    sv.cast_ballot(world.uow, colleague, vote, "iterate")
    round_id = sv.open_survey_round(world.uow, world.commissioner, other)
    for user, answer in zip(users, [VERY, NOT, SOMEWHAT], strict=False):
        sv.submit_survey_response(world.uow, user, round_id, answer=answer)

    changer, answerer = world.members[0], users[1]
    viewers = {"frontline": world.members[5], "facilitator": world.facilitator, "commissioning": world.commissioner,
               "steering": world.steering, "auditor": world.auditor, "admin": world.admin}
    before = {role: (_answers(world, p, vote, pilot), _answers(world, p, vote, other)) for role, p in viewers.items()}
    seq = world.audit_count()
    sv.cast_ballot(world.uow, changer, vote, "stop")  # one secret ballot change in the open vote,
    sv.cast_ballot(world.uow, colleague, vote, "adopt")  # one named ballot change …
    sv.submit_survey_response(world.uow, answerer, round_id, answer=VERY)  # … one changed answer in the round
    for role, person in viewers.items():
        after = (_answers(world, person, vote, pilot), _answers(world, person, vote, other))
        for which in (0, 1):
            for name, answer in before[role][which].items():
                assert after[which][name] == answer, f"{role} sees {name} change while the vote/round is open"
    # The record shows that two acts happened, not what they were.
    with world.db.uow().reading() as s:
        new = s.execute(select(AuditEvent.action, AuditEvent.payload).where(AuditEvent.seq > seq)).all()
    assert {a for a, _ in new} == {"secret_ballot.changed", "ballot.changed", "survey.response_revised"}
    for _, payload in new:
        body = json.loads(payload)
        assert "option" not in json.dumps(body) and "answer" not in json.dumps(body)
