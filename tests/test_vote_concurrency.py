"""Concurrency: many voters casting and changing ballots on one vote at once.

Each thread has its own unit of work, as each Streamlit session (or replica)
would. Afterwards every voter has exactly one current ballot — their latest —
and the tally equals a recomputation from the full ballot history. Runs on
SQLite (BEGIN IMMEDIATE) and PostgreSQL (advisory write lock) alike.
"""
from __future__ import annotations

import random
import threading
from collections import Counter

from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput
from governance.rules.voting import tally_outcome
from governance.storage.models import Ballot, Charter, Vote, VoteEligibility
from governance.storage.repository import tally_of as compute_tally

EXTRA_PANEL_MEMBERS = 30
CHANGES_PER_VOTER = 4
OPTIONS = ("iterate", "revisit_problem", "stop")  # no survey yet, so adopt is not available


def read(world, fn):
    with world.db.uow().reading() as s:
        out = fn(s)
        s.expunge_all()
    return out


def open_vote_with_many_voters(world) -> tuple[int, list[int]]:
    """An outcome vote on the record by name (open ballots: the history is per person)."""
    world.open_ballots()
    _, pilot = world.pilot_in_use()
    world.pass_window()
    for person in world.rostered_users(EXTRA_PANEL_MEMBERS, prefix="Ward clerk"):
        sv.add_panel_member(world.uow, world.admin, world.panel, person)
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot, days=14)
    voters = read(world, lambda s: s.scalars(select(VoteEligibility.person_id).where(
        VoteEligibility.vote_id == vote).order_by(VoteEligibility.person_id)).all())
    return vote, voters


def run_threads(targets) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            try:
                barrier.wait(timeout=30)
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a voter thread hung"
    return errors


def history_of(world, vote):
    return read(world, lambda s: s.execute(select(
        Ballot.id, Ballot.person_id, Ballot.voting_group, Ballot.option, Ballot.cast_at, Ballot.is_current)
        .where(Ballot.vote_id == vote)).all())


def recompute(world, vote, history):
    """The tally from the ballot history alone: each voter's latest ballot by (cast_at, id)."""
    latest = {}
    for b in sorted(history, key=lambda b: (b.cast_at, b.id)):
        latest[b.person_id] = b
    v = read(world, lambda s: s.get(Vote, vote))
    charter = read(world, lambda s: s.get(Charter, v.charter_id))
    eligible = Counter(read(world, lambda s: s.scalars(select(VoteEligibility.voting_group).where(
        VoteEligibility.vote_id == vote)).all()))
    groups = ("frontline", "commissioning", "steering")
    return latest, tally_outcome(
        [(b.voting_group, b.option) for b in latest.values()],
        eligible={g: eligible.get(g, 0) for g in groups},
        weights={g: getattr(charter, f"weight_{g}") for g in groups},
        quorums={g: getattr(charter, f"quorum_{g}") for g in groups},
        frontline_veto=charter.frontline_veto, adopt_available=v.adopt_available,
        proposed=v.proposed_outcome)


def test_many_voters_casting_and_changing_ballots_at_once(world):
    vote, voters = open_vote_with_many_voters(world)
    assert len(voters) >= 39  # 37 panel members, the commissioner, steering
    rng = random.Random(20260302)
    plans: dict[int, list[str]] = {}
    for voter in voters:
        plan = [rng.choice(OPTIONS)]
        while len(plan) < 1 + CHANGES_PER_VOTER:
            plan.append(rng.choice([o for o in OPTIONS if o != plan[-1]]))
        plans[voter] = plan

    def voter_thread(voter):
        def cast_all():
            for option in plans[voter]:
                sv.cast_ballot(world.db.uow(), voter, vote, option)
        return cast_all

    errors = run_threads([voter_thread(v) for v in voters])
    assert errors == []

    history = history_of(world, vote)
    assert len(history) == sum(len(p) for p in plans.values())
    current = Counter(b.person_id for b in history if b.is_current)
    assert set(current) == set(voters) and set(current.values()) == {1}
    latest, expected = recompute(world, vote, history)
    for voter, plan in plans.items():
        assert latest[voter].is_current and latest[voter].option == plan[-1]
    actual = read(world, lambda s: compute_tally(s, s.get(Vote, vote)))
    assert actual.as_dict() == expected.as_dict()
    assert actual.groups["frontline"].cast == len(voters) - 2


def test_one_voter_changing_their_ballot_from_many_sessions_at_once(world):
    vote, voters = open_vote_with_many_voters(world)
    voter = voters[0]
    sessions = 12

    def session(i):
        def cast():
            for option in (OPTIONS[i % 3], OPTIONS[(i + 1) % 3]):
                try:
                    sv.cast_ballot(world.db.uow(), voter, vote, option)
                except InvalidInput as exc:  # another session already chose it: a clear refusal
                    assert "already" in str(exc)
        return cast

    assert run_threads([session(i) for i in range(sessions)]) == []
    history = history_of(world, vote)
    assert [b.is_current for b in history].count(True) == 1
    latest, expected = recompute(world, vote, history)
    assert latest[voter].is_current
    assert read(world, lambda s: compute_tally(s, s.get(Vote, vote))).as_dict() == expected.as_dict()
