"""Outcome statements: whoever closes a vote by hand writes what it decided (required, plain
text, length-limited); the scheduled close records a factual statement saying the schedule
closed it. The statement is frozen with the closed vote, recorded in its closing event, and
shown with the closed vote and with the decision it made."""
from __future__ import annotations

import json

from sqlalchemy import select

from governance import jobs, services as sv
from governance.errors import InvalidInput
from governance.queries import votes as votes_q
from governance.rules.statements import STATEMENT_MAX
from governance.storage.models import AuditEvent, Vote
from tests.apptest_support import choose, errors, frames, open_page, pages_db, shown_text, submit, unescaped
from tests.test_record_operators import small_charter
from tests.world import VERY, World

__all__ = ["pages_db"]  # the fixture, imported for pytest

STATEMENT = "Adopted by the panel: roll out to both clinics in April; the owner reports back in June."


def _everyone_voted(world: World, option: str = "adopt") -> int:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot, days=5)
    for voter in [*world.panel_voters, world.commissioner, world.steering]:
        sv.cast_ballot(world.uow, voter, vote, option)
    return vote


def _closing_event(world: World, vote: int) -> dict:
    with world.db.uow().reading() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "vote.closed",
                                                   AuditEvent.entity_id == str(vote))).one()
        return json.loads(event.payload)["after"]


def test_closing_by_hand_without_a_statement_is_refused_and_nothing_is_written(world: World) -> None:
    vote = _everyone_voted(world)
    for empty in ("", "   \n "):
        with world.refuses(InvalidInput, match="Outcome statement is empty"):
            sv.close_vote(world.uow, world.steering, vote, statement=empty)
    with world.refuses(InvalidInput, match="Outcome statement is too short"):
        sv.close_vote(world.uow, world.steering, vote, statement="Done.")
    with world.refuses(InvalidInput, match="Outcome statement is too long"):
        sv.close_vote(world.uow, world.steering, vote, statement="x" * (STATEMENT_MAX + 1))
    with world.refuses(InvalidInput, match="Outcome statement must be text"):
        sv.close_vote(world.uow, world.steering, vote, statement=["adopt"])  # type: ignore[arg-type]
    with world.db.uow().reading() as s:
        assert s.get(Vote, vote).status == "open"


def test_the_closers_statement_is_kept_with_the_vote_its_event_and_its_decision(world: World) -> None:
    vote = _everyone_voted(world)
    decision = sv.close_vote(world.uow, world.steering, vote, statement=f"  {STATEMENT}  ")
    assert decision is not None
    with world.db.uow().reading() as s:
        assert s.get(Vote, vote).outcome_statement == STATEMENT
    assert _closing_event(world, vote)["statement"] == STATEMENT
    assert votes_q.vote_detail(world.uow, world.members[0], vote).outcome_statement == STATEMENT
    assert votes_q.decision_detail(world.uow, world.members[0], decision).outcome_statement == STATEMENT


def test_the_scheduled_close_records_that_the_schedule_closed_it(world: World) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot, days=5)
    for voter in world.panel_voters[:2]:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    world.clock.advance(days=6)
    assert jobs.run(world.db).closed_votes == [vote]
    with world.db.uow().reading() as s:
        closed = s.get(Vote, vote)
        statement = closed.outcome_statement
        deadline = closed.deadline
    eligible = len(world.panel_voters) + 2
    assert statement == (f"Closed by the schedule at its deadline, {deadline:%d %b %Y %H:%M} UTC, not by a "
                         f"person: 2 of {eligible} eligible voters had voted and quorum was not met, so there "
                         "is no binding result.")
    assert _closing_event(world, vote)["statement"] == statement


def test_the_page_asks_for_the_statement_and_shows_it_with_the_closed_vote_and_decision(
        world: World, pages_db: object) -> None:
    vote = _everyone_voted(world)
    at = choose(open_page(world.steering, "votes"), "open-vote", vote)
    at = submit(at, f"close-form-{vote}", "Close this vote now")
    assert any("Write the outcome statement first" in e for e in errors(at))
    with world.db.uow().reading() as s:
        assert s.get(Vote, vote).status == "open"
    decision = sv.close_vote(world.uow, world.steering, vote, statement=STATEMENT)
    closed = choose(open_page(world.members[0], "votes"), "closed-vote", vote)
    assert "Outcome statement" in shown_text(closed) and STATEMENT in unescaped(shown_text(closed))
    shown = choose(open_page(world.members[0], "votes"), "decision", decision)
    assert STATEMENT in unescaped(shown_text(shown))
    assert any("Reason" in f.columns for f in frames(shown))  # beside the named ballots of the basis
