"""Concurrent writers on one database: threads and separate processes at once.

Writers queue (``BEGIN IMMEDIATE`` with a busy timeout on SQLite, one
advisory lock on PostgreSQL) instead of failing with "database is locked";
no change is lost; and the audit record stays one linear, verifiable chain —
one head, sequence numbers 1..N without gaps or forks.
"""
from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from governance import services as sv
from governance.errors import InvalidInput
from governance.record.log import verify_chain
from governance.storage.db import Database
from governance.storage.models import AuditChainHead, AuditEvent, Person, Problem, ProblemComment
from tests.world import World

THREADS, PER_THREAD = 8, 10
PROCESSES, PER_PROCESS = 3, 12


def run_in_threads(n: int, work: Callable[[int], None], barrier: Any = None) -> list[str]:
    """Run ``work(i)`` in ``n`` threads released together; the errors they raised."""
    barrier = barrier or threading.Barrier(n)
    errors: list[str] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=120)
            work(i)
        except BaseException:  # noqa: BLE001 - report everything, including "database is locked"
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def writes(db: Database, admin: int, author: int, problem: int, tag: str, count: int) -> None:
    """``count`` use cases in turn: add a person, comment on the problem, draft a problem."""
    for i in range(count):
        kind = i % 3
        if kind == 0:
            sv.create_person(db.uow(), admin, name=f"{tag} person {i}", email=f"{tag}.{i}@example.org",
                             roles=["frontline"])
        elif kind == 1:
            sv.comment_on_problem(db.uow(), author, problem, f"{tag}: comment {i}")
        else:
            sv.draft_problem(db.uow(), author, panel_id=_panel_of(db, problem), title=f"{tag} problem {i}",
                             statement="A friction written down under load.")


def _panel_of(db: Database, problem: int) -> int:
    with db.uow().reading() as s:
        return s.get(Problem, problem).panel_id


def expected_counts(tags: list[str], count: int) -> dict[str, int]:
    kinds = [i % 3 for i in range(count)]
    per = {k: kinds.count(k) for k in (0, 1, 2)}
    return {"people": per[0] * len(tags), "comments": per[1] * len(tags), "problems": per[2] * len(tags),
            "events": count * len(tags)}


def snapshot(db: Database) -> dict[str, int]:
    with db.uow().reading() as s:
        return {
            "people": s.scalar(select(func.count()).select_from(Person)),
            "comments": s.scalar(select(func.count()).select_from(ProblemComment)),
            "problems": s.scalar(select(func.count()).select_from(Problem)),
            "events": s.scalar(select(func.count()).select_from(AuditEvent)),
        }


def assert_linear_chain(db: Database, events: int) -> None:
    with db.uow().reading() as s:
        seqs = list(s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        head_seq = s.get(AuditChainHead, 1).seq
        result = verify_chain(s)
        forks = s.scalar(select(func.count()).select_from(AuditEvent).group_by(AuditEvent.prev_hash)
                         .order_by(func.count().desc()).limit(1))
    assert seqs == list(range(1, events + 1)), "the sequence has gaps or duplicates"
    assert head_seq == events
    assert forks == 1, "two events share a previous hash: the chain forked"
    assert result.ok, result.summary
    assert result.events_checked == events


# ==================================================================== threads
def test_threads_writing_at_once_lose_nothing_and_keep_one_chain(world: World) -> None:
    problem = world.draft_problem()
    before = snapshot(world.db)
    tags = [f"t{i}" for i in range(THREADS)]

    errors = run_in_threads(THREADS, lambda i: writes(world.db, world.admin, world.members[i % 6], problem,
                                                      tags[i], PER_THREAD))

    assert errors == [], "\n".join(errors)
    after, added = snapshot(world.db), expected_counts(tags, PER_THREAD)
    assert {k: after[k] - before[k] for k in after} == added
    assert_linear_chain(world.db, after["events"])


def test_racing_for_the_same_name_one_wins_the_rest_get_the_friendly_refusal(world: World) -> None:
    outcomes: list[str] = []

    def race(i: int) -> None:
        try:
            sv.create_panel(world.db.uow(), world.admin, name="Hillside Depot Panel", site=f"desk {i}")
            outcomes.append("created")
        except InvalidInput as exc:
            assert "already exists" in str(exc)
            outcomes.append("refused")

    before = world.audit_count()
    assert run_in_threads(THREADS, race) == []
    assert sorted(outcomes) == ["created"] + ["refused"] * (THREADS - 1)
    assert world.audit_count() == before + 1
    assert_linear_chain(world.db, before + 1)


# ================================================================== processes
def _process_worker(url: str, admin: int, author: int, problem: int, tag: str, count: int,
                    barrier: Any, results: Any) -> None:
    """Runs in a spawned process, with its own engine on the same database."""
    db = Database(url)
    try:
        barrier.wait(timeout=120)
        writes(db, admin, author, problem, tag, count)
        results.put((tag, None))
    except BaseException:  # noqa: BLE001 - the parent asserts on it
        results.put((tag, traceback.format_exc()))
    finally:
        db.dispose()


def test_processes_and_threads_writing_at_once_lose_nothing_and_keep_one_chain(
        world: World, db_url: str) -> None:
    problem = world.draft_problem()
    before = snapshot(world.db)
    ctx = multiprocessing.get_context("spawn")
    parent_threads = 2
    barrier = ctx.Barrier(PROCESSES + parent_threads)
    results = ctx.Queue()
    tags = [f"p{i}" for i in range(PROCESSES)]
    processes = [ctx.Process(target=_process_worker,
                             args=(db_url, world.admin, world.members[i], problem, tags[i], PER_PROCESS,
                                   barrier, results))
                 for i in range(PROCESSES)]
    for p in processes:
        p.start()
    try:
        thread_tags = [f"main{i}" for i in range(parent_threads)]
        errors = run_in_threads(parent_threads, lambda i: writes(
            world.db, world.admin, world.members[5 - i], problem, thread_tags[i], PER_PROCESS),
            barrier=barrier)
        reported = dict(results.get(timeout=300) for _ in processes)
    finally:
        for p in processes:
            p.join(timeout=60)
            if p.is_alive():
                p.terminate()

    assert errors == [], "\n".join(errors)
    failures = {tag: err for tag, err in reported.items() if err}
    assert failures == {}, "\n".join(failures.values())
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    after, added = snapshot(world.db), expected_counts(tags + thread_tags, PER_PROCESS)
    assert {k: after[k] - before[k] for k in after} == added
    assert_linear_chain(world.db, after["events"])
