"""R11: the chain verified split across processes says exactly what one process says.

A long chain is verified by K worker processes at once (``record.range_worker``), each over a
contiguous range of sequence numbers from the hash stored at its boundary, the ranges joined by
the parent. Every tampering the tamper tests try — and tampering placed exactly on the range
boundaries, kept heads in every range and on the boundaries, resuming from a checkpoint — is
committed here (the workers read only what is committed), then verified both ways: the verdict,
the first bad event, what is wrong there and every count must be the same. Each case also checks
that the split really ran (its workers answered), so a silent fall-back cannot pass for it.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, text, update

from governance.record import log
from governance.record.chain import ChainVerification, canonical_json
from governance.storage.db import Database, FixedClock
from governance.storage.models import AuditChainHead, AuditEvent
from tests.conftest import START
from tests.test_audit_chain import event_at, event_hash, flip, shift_up_from
from tests.test_record_operators import as_operator, rehash_from
from tests.world import World

EVENTS, HEAD = AuditEvent.__table__, AuditChainHead.__table__
WORKERS = 3
K = 123  # an event in the middle of the chain


@pytest.fixture(scope="module")
def chain(database_factory: Any) -> Iterator[tuple[Database, str, list[dict[str, Any]], dict[str, Any]]]:
    """A record of a few hundred events, with its rows kept to put back after each tampering."""
    url = database_factory.url()
    clock = FixedClock(START)
    db = Database(url, clock=clock)
    world = World(db, clock)
    world.pilot_in_use()
    for i in range(220):
        world.person(f"Clerk {i:03d}", ["frontline"])
    with db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(EVENTS).order_by(EVENTS.c.seq)).mappings()]
        head = dict(conn.execute(select(HEAD)).mappings().one())
    yield db, url, rows, head
    db.dispose()
    database_factory.drop(url)


@pytest.fixture
def record(chain: tuple[Database, str, list[dict[str, Any]], dict[str, Any]]) -> Iterator[tuple[Database, str]]:
    """The chain, put back exactly as it was after the test (its tampering was committed)."""
    db, url, rows, head = chain
    yield db, url
    with as_operator(url) as conn:
        conn.execute(delete(EVENTS))
        conn.execute(delete(HEAD))
        conn.execute(insert(EVENTS), rows)
        conn.execute(insert(HEAD).values(head))


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many split verifications ran with every worker answering."""
    ran: list[int] = []
    original = log._run_workers

    def spy(requests: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        answers = original(requests)
        if answers is not None:
            ran.append(len(answers))
        return answers

    monkeypatch.setattr(log, "_run_workers", spy)
    return ran


def both_ways(db: Database, splits: list[int], **kw: Any) -> tuple[ChainVerification, ChainVerification]:
    """(one process, split across ``WORKERS``) over the same committed record."""
    with db.uow().reading() as s:
        one = log.verify_chain(s, workers=1, **kw)
    before = len(splits)
    with db.uow().reading() as s:
        split = log.verify_chain(s, workers=WORKERS, min_split=1, **kw)
    # A head row that disagrees with a kept head is refused before a single event is read.
    refused_up_front = one.problem == "head_mismatch" and one.events_checked == 0
    assert splits[before:] == ([] if refused_up_front else [WORKERS]), "the split verification did not run"
    return one, split


def last_seq(conn: Connection) -> int:
    return int(conn.execute(select(HEAD.c.seq)).scalar_one())


def boundaries(n: int) -> list[int]:
    """The inner range boundaries of a split of events 1..n into ``WORKERS`` ranges."""
    return [n * i // WORKERS for i in range(1, WORKERS)]


def forge(conn: Connection, *, correct_hash: bool) -> None:
    prev = event_at(conn, K - 1)
    shift_up_from(conn, K)
    forged = {"seq": K, "occurred_at": prev["occurred_at"] + timedelta(microseconds=1),
              "actor_id": prev["actor_id"], "actor_name": prev["actor_name"], "action": "decision.declared",
              "entity_type": "decision", "entity_id": "999",
              "payload": canonical_json({"before": None, "after": {"outcome": "adopt"}}), "prev_hash": prev["hash"]}
    forged["hash"] = event_hash(forged) if correct_hash else secrets.token_hex(32)
    conn.execute(insert(EVENTS).values(forged))


def append_after_head(conn: Connection) -> None:
    n = last_seq(conn)
    last = event_at(conn, n)
    forged = {"seq": n + 1, "occurred_at": last["occurred_at"] + timedelta(microseconds=1),
              "actor_id": last["actor_id"], "actor_name": last["actor_name"], "action": "decision.declared",
              "entity_type": "decision", "entity_id": "999",
              "payload": canonical_json({"before": None, "after": {"outcome": "adopt"}}), "prev_hash": last["hash"]}
    forged["hash"] = event_hash(forged)
    conn.execute(insert(EVENTS).values(forged))


def swap(conn: Connection, a: int, b: int) -> None:
    conn.execute(update(EVENTS).where(EVENTS.c.seq == a).values(seq=-1))
    conn.execute(update(EVENTS).where(EVENTS.c.seq == b).values(seq=a))
    conn.execute(update(EVENTS).where(EVENTS.c.seq == -1).values(seq=b))


def change(column: str, seq: int = K) -> Callable[[Connection], None]:
    def act(conn: Connection) -> None:
        ev = event_at(conn, seq)
        new = {"actor_name": "Mallory", "action": "person.deleted", "entity_type": "pilot",
               "entity_id": ev["entity_id"] + "0", "actor_id": (ev["actor_id"] or 0) + 1,
               "occurred_at": ev["occurred_at"] + timedelta(seconds=1),
               "payload": ev["payload"].replace('"', "'", 1), "hash": flip(ev["hash"]),
               "prev_hash": flip(ev["prev_hash"])}[column]
        conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values({column: new}))
    return act


def truncate_and_move_head(conn: Connection) -> None:
    n = last_seq(conn)
    conn.execute(delete(EVENTS).where(EVENTS.c.seq > n - 5))
    conn.execute(update(HEAD).values(seq=n - 5, hash=event_at(conn, n - 5)["hash"]))


def rewrite_from(seq: int) -> Callable[[Connection], None]:
    def act(conn: Connection) -> None:
        conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(actor_name="Mallory"))
        rehash_from(conn, seq)
    return act


TAMPERINGS: dict[str, Callable[[Connection], None]] = {
    "untouched": lambda conn: None,
    **{f"changed {column}": change(column) for column in
       ("actor_name", "action", "entity_type", "entity_id", "actor_id", "occurred_at", "payload", "hash",
        "prev_hash")},
    "deleted one": lambda conn: conn.execute(delete(EVENTS).where(EVENTS.c.seq == K)),
    "deleted a run": lambda conn: conn.execute(delete(EVENTS).where(EVENTS.c.seq.between(K, K + 9))),
    "deleted a run across a boundary": lambda conn: conn.execute(
        delete(EVENTS).where(EVENTS.c.seq.between(boundaries(last_seq(conn))[0] - 3,
                                                  boundaries(last_seq(conn))[0] + 3))),
    "swapped far": lambda conn: swap(conn, 100, 200),
    "swapped near": lambda conn: swap(conn, 150, 151),
    "swapped first and last ranges": lambda conn: swap(conn, 2, 260),
    "swapped across a boundary": lambda conn: swap(conn, boundaries(last_seq(conn))[1],
                                                   boundaries(last_seq(conn))[1] + 1),
    "forged, made-up hash": lambda conn: forge(conn, correct_hash=False),
    "forged, correct hash": lambda conn: forge(conn, correct_hash=True),
    "appended after the head": append_after_head,
    "truncated the tail": lambda conn: conn.execute(delete(EVENTS).where(EVENTS.c.seq > last_seq(conn) - 5)),
    "truncated, head moved back": truncate_and_move_head,
    "head row deleted": lambda conn: conn.execute(delete(HEAD)),
    "last hash flipped": lambda conn: change("hash", last_seq(conn))(conn),
    "rewritten from K, every hash recomputed": rewrite_from(K),
    "rewritten from the second event": rewrite_from(2),
}

SELF_CONSISTENT = {"truncated, head moved back", "rewritten from K, every hash recomputed",
                   "rewritten from the second event"}


def tampered(url: str, act: Callable[[Connection], None]) -> None:
    with as_operator(url) as conn:
        act(conn)


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_the_split_verification_finds_what_one_process_finds(
        record: tuple[Database, str], splits: list[int], name: str) -> None:
    db, url = record
    with db.engine.connect() as conn:
        n = last_seq(conn)
        kept = {s: event_at(conn, s)["hash"] for s in (5, boundaries(n)[0], boundaries(n)[1] + 1, n)}
    tampered(url, TAMPERINGS[name])
    for heads in (None, kept):
        one, split = both_ways(db, splits, kept_heads=heads)
        assert split == one
        if heads or name not in SELF_CONSISTENT:  # those fool the chain itself, not a head kept elsewhere
            assert one.ok == (name == "untouched"), one.summary


@pytest.mark.parametrize("offset", [-1, 0, 1])
@pytest.mark.parametrize("column", ["payload", "hash", "prev_hash"])
@pytest.mark.parametrize("which", [0, 1])
def test_tampering_on_a_range_boundary_is_found_at_the_same_event(
        record: tuple[Database, str], splits: list[int], which: int, column: str, offset: int) -> None:
    db, url = record
    with db.engine.connect() as conn:
        at = boundaries(last_seq(conn))[which] + offset
    tampered(url, change(column, at))
    one, split = both_ways(db, splits)
    assert split == one
    assert (one.broken_at, one.problem) == (at, "link_broken" if column == "prev_hash" else "content_changed")


@pytest.mark.parametrize("which", [0, 1])
def test_an_event_missing_at_a_range_boundary_is_the_same_gap(
        record: tuple[Database, str], splits: list[int], which: int) -> None:
    db, url = record
    with db.engine.connect() as conn:
        at = boundaries(last_seq(conn))[which]
    tampered(url, lambda conn: conn.execute(delete(EVENTS).where(EVENTS.c.seq == at)))
    one, split = both_ways(db, splits)
    assert split == one and (one.broken_at, one.problem) == (at, "gap")


def test_a_kept_head_that_disagrees_in_a_later_range_is_the_same_head_mismatch(
        record: tuple[Database, str], splits: list[int]) -> None:
    db, _ = record
    with db.engine.connect() as conn:
        n = last_seq(conn)
        bounds = boundaries(n)
        kept = {3: event_at(conn, 3)["hash"], bounds[0]: event_at(conn, bounds[0])["hash"],
                bounds[1] + 2: "f" * 64, n: event_at(conn, n)["hash"]}
    one, split = both_ways(db, splits, kept_heads=kept)
    assert split == one and (one.broken_at, one.problem) == (bounds[1] + 2, "head_mismatch")
    assert one.heads_checked == 2


def test_resuming_from_a_checkpoint_splits_only_what_follows_it(
        record: tuple[Database, str], splits: list[int]) -> None:
    db, url = record
    with db.engine.connect() as conn:
        start = (60, event_at(conn, 60)["hash"])
    one, split = both_ways(db, splits, start=start)
    assert split == one and one.ok and one.events_checked == one.head_seq - 60
    tampered(url, change("actor_name", 200))
    one, split = both_ways(db, splits, start=start, kept_heads={60: start[1]})
    assert split == one and (one.broken_at, one.problem, one.events_checked) == (200, "content_changed", 139)


def test_a_transaction_that_changed_the_record_is_verified_in_one_process_and_sees_its_change(
        record: tuple[Database, str], splits: list[int]) -> None:
    """The workers could not see an uncommitted change: verifying inside the transaction that made
    it must stay in that transaction (and find the change), not split and miss it."""
    db, url = record
    engine = Database(url).engine
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            if conn.dialect.name == "sqlite":
                conn.execute(text("DROP TRIGGER IF EXISTS audit_event_refuse_update"))
            else:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(update(EVENTS).where(EVENTS.c.seq == K).values(actor_name="Mallory"))
            from sqlalchemy.orm import Session

            with Session(bind=conn) as s:
                result = log.verify_chain(s, workers=WORKERS, min_split=1)
            trans.rollback()
    finally:
        engine.dispose()
    assert (result.broken_at, result.problem) == (K, "content_changed")
    assert splits == []


def test_a_worker_that_cannot_read_the_record_leaves_the_verification_to_one_process(
        record: tuple[Database, str], splits: list[int], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    db, url = record
    tampered(url, change("payload", K))
    real = log._split_source

    def unreadable(session: Any) -> dict[str, Any] | None:
        source = real(session)
        assert source is not None
        return {**source, "url": "/nonexistent/dir/record.db" if source["dialect"] == "sqlite"
                else "postgresql://nobody@127.0.0.1:1/none"}

    monkeypatch.setattr(log, "_split_source", unreadable)
    with db.uow().reading() as s:
        one = log.verify_chain(s, workers=1)
    with db.uow().reading() as s:
        split = log.verify_chain(s, workers=WORKERS, min_split=1)
    assert splits == [] and split == one and (one.broken_at, one.problem) == (K, "content_changed")
    assert "fell back to one process" in caplog.text


# ------------------------------------------------------------ the MACs (R18)
def macs_both_ways(db: Database, splits: list[int], after: int = 0) -> tuple[list[int], list[int]]:
    key = db.keys.record_mac_key()
    with db.uow().reading() as s:
        one = log.forged_events(s, key, after=after, workers=1)
    before = len(splits)
    with db.uow().reading() as s:
        split = log.forged_events(s, key, after=after, workers=WORKERS, min_split=1)
    assert splits[before:] == [WORKERS], "the split MAC check did not run"
    return one, split


def test_the_split_mac_check_finds_the_events_one_process_finds(
        record: tuple[Database, str], splits: list[int]) -> None:
    db, url = record
    one, split = macs_both_ways(db, splits)
    assert one == split == []
    with db.engine.connect() as conn:
        n = last_seq(conn)
        assert conn.execute(select(EVENTS.c.seq).where(EVENTS.c.mac.is_(None))).first() is None  # all MAC'd
        wrong = {50: flip(event_at(conn, 50)["mac"]), boundaries(n)[0]: flip(event_at(conn, boundaries(n)[0])["mac"]),
                 boundaries(n)[1] + 1: None, n: "0" * 64}
    assert n > boundaries(n)[1] + 1

    def forge_macs(conn: Connection) -> None:
        for seq, mac in wrong.items():
            conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(mac=mac))
        append_after_head(conn)  # appended around the application: no MAC at all

    tampered(url, forge_macs)
    one, split = macs_both_ways(db, splits)
    assert split == one == [*sorted(wrong), n + 1]
    one, split = macs_both_ways(db, splits, after=60)
    assert split == one == [s for s in [*sorted(wrong), n + 1] if s > 60]
