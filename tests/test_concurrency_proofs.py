"""Concurrency proofs for a multi-replica deployment (several Streamlit
processes on one database): secret ballots are never lost or doubled (one
current ballot per voter token, the tally equal to a recount of the public
list), and the audit chain stays one linear chain, on SQLite and on PostgreSQL.

The measured figures are written to tests/artifacts/concurrency-<engine>.json.
"""
from __future__ import annotations

import json
import multiprocessing
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from governance import services as sv
from governance.record.log import verify_chain
from governance.rules.ballots import voter_token
from governance.storage.db import Database, FixedClock
from governance.storage.models import AuditEvent, SecretBallot, Vote
from governance.storage.repository import secret_receipts, tally_of as compute_tally
from tests.test_vote_concurrency import read, run_threads

VOTERS = 50
BALLOTS_EACH = 4
WRITERS = 8
EVENTS_EACH = 25
ARTIFACTS = Path(__file__).parent / "artifacts"


def panel_vote(world) -> tuple[int, list[int], dict[int, list[str]]]:
    extra = world.rostered_users(VOTERS - len(world.panel_voters), prefix="Ward clerk")
    for person in extra:
        sv.add_panel_member(world.uow, world.admin, world.panel, person)
    problem = world.draft_problem()
    vote = sv.propose_ratification(world.uow, world.facilitator, problem, days=14)
    voters = [*world.panel_voters, *extra]
    assert len(voters) == VOTERS
    # Every ballot differs from the voter's previous one; a third end on reject.
    ends_reject, ends_approve = ["approve", "reject", "approve", "reject"], ["reject", "approve", "reject", "approve"]
    return vote, voters, {v: ends_reject if i % 3 == 0 else ends_approve for i, v in enumerate(voters)}


def secret_history(world, vote: int) -> list:
    return read(world, lambda s: s.execute(select(
        SecretBallot.voter_token, SecretBallot.option, SecretBallot.receipt, SecretBallot.is_current)
        .where(SecretBallot.vote_id == vote)).all())


def check_and_measure(world, vote: int, voters: list[int], plans: dict[int, list[str]], how: str) -> dict:
    """The panel votes in secret (R17): one current ballot per voter token, nothing lost, and the
    tally equal to a recount of the (receipt, option) list the vote would publish."""
    history = secret_history(world, vote)
    key = world.db.keys.ballot_key()
    token_of = {v: voter_token(key, vote, v) for v in voters}
    current = Counter(b.voter_token for b in history if b.is_current)
    submitted = sum(len(p) for p in plans.values())
    latest = {b.voter_token: b.option for b in history if b.is_current}
    tally = read(world, lambda s: compute_tally(s, s.get(Vote, vote)))
    published = read(world, lambda s: secret_receipts(s, vote))
    recounted = Counter(option for _, _, option in published)
    figures = {"how": how, "voters": len(voters), "ballots_submitted": submitted,
               "ballots_stored": len(history), "current_ballots": sum(current.values()),
               "counted": sum(tally.groups["frontline"].counts.values()),
               "tally": dict(tally.groups["frontline"].counts), "recount_of_published_list": dict(recounted)}
    assert figures["ballots_stored"] == submitted, "a ballot was lost or doubled"
    assert set(current) == set(token_of.values()) and set(current.values()) == {1}, "not one current ballot each"
    assert {v: latest[token_of[v]] for v in voters} == {v: p[-1] for v, p in plans.items()}
    assert len({r for r, _, _ in published}) == VOTERS, "every counted ballot has its own receipt"
    assert figures["counted"] == VOTERS and dict(tally.groups["frontline"].counts) == dict(recounted)
    assert dict(recounted) == {"approve": 33, "reject": 17}
    return figures


def record(world, name: str, figures: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"concurrency-{world.db.dialect}.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2, default=str))
    print(name, json.dumps(figures, default=str))


def chain_figures(world) -> dict:
    with world.db.uow().reading() as s:
        result = verify_chain(s)
        seqs = s.scalar(select(func.count(func.distinct(AuditEvent.seq))))
        top = s.scalar(select(func.max(AuditEvent.seq)))
    assert result.ok, result.summary
    assert seqs == top == result.events_checked, "the chain is not one linear sequence 1..N"
    return {"chain_events_verified": result.events_checked, "chain_ok": result.ok}


def test_fifty_voters_each_changing_their_ballot_four_times_in_threads(world):
    vote, voters, plans = panel_vote(world)

    def voter(person):
        def cast():
            for option in plans[person]:
                sv.cast_ballot(world.db.uow(), person, vote, option)
        return cast

    errors = run_threads([voter(v) for v in voters])
    assert errors == [], errors[:3]  # in particular, no "database is locked" reached anyone
    figures = check_and_measure(world, vote, voters, plans, "50 threads")
    record(world, "ballots_threads", figures | chain_figures(world))


def _cast_in_process(url: str, at: str, vote: int, plan: dict[int, list[str]]) -> list[str]:
    db = Database(url, clock=FixedClock(datetime.fromisoformat(at)))
    errors = []
    try:
        threads = []

        def voter(person: int) -> None:
            for option in plan[person]:
                try:
                    sv.cast_ballot(db.uow(), person, vote, option)
                except Exception as exc:  # noqa: BLE001 - reported to the parent
                    errors.append(f"{type(exc).__name__}: {exc}")

        for person in plan:
            threads.append(threading.Thread(target=voter, args=(person,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        db.dispose()
    return errors


def test_fifty_voters_in_separate_processes(world, db_url):
    """Four processes (as four Streamlit replicas would be), each with its own engine."""
    vote, voters, plans = panel_vote(world)
    at = world.clock.now().isoformat()
    shares = [{v: plans[v] for v in voters[i::4]} for i in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_cast_in_process, [(db_url, at, vote, share) for share in shares])
    errors = [e for r in results for e in r]
    assert errors == [], errors[:3]
    figures = check_and_measure(world, vote, voters, plans, "4 processes x 12-13 voters")
    record(world, "ballots_processes", figures | chain_figures(world))


def test_eight_writers_appending_audit_events_at_once_keep_one_linear_chain(world):
    problem = world.draft_problem()
    before = world.audit_count()
    authors = [world.person(f"Writer {i}", ["commissioning"]) for i in range(WRITERS)]
    start = world.audit_count()

    def writer(person):
        def write():
            for n in range(EVENTS_EACH):
                sv.comment_on_problem(world.db.uow(), person, problem, f"comment {n} by {person}")
        return write

    errors = run_threads([writer(p) for p in authors])
    assert errors == [], errors[:3]
    appended = world.audit_count() - start
    assert appended == WRITERS * EVENTS_EACH
    with world.db.uow().reading() as s:
        actors = Counter(s.scalars(select(AuditEvent.actor_id).where(AuditEvent.seq > start)))
    assert actors == {p: EVENTS_EACH for p in authors}
    record(world, "audit_writers", {"writers": WRITERS, "events_each": EVENTS_EACH, "appended": appended,
                                    "events_before": before} | chain_figures(world))
