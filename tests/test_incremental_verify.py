"""R11/R18: verification from the newest signed checkpoint, and the lean first pass.

Verifying the live chain incrementally reads only the events after the
newest checkpoint that holds, yet still catches tampering after it, and
refuses to resume from a checkpoint the record no longer agrees with. The
lean pass (``chain.verify_fast``) builds, from the stored bytes, exactly the
bytes ``canonical_event`` builds — and never accepts an event the careful
verifier would not.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from governance import services as sv
from governance.record import log
from governance.record.chain import (
    GENESIS_HASH,
    FastPass,
    canonical_event,
    verify_events,
    verify_fast,
)
from governance.record.live import verify_live
from governance.storage.models import AuditEvent, Checkpoint
from tests.test_record_operators import as_operator, decide, rehash_from, small_charter
from tests.world import World

EVENTS = AuditEvent.__table__
AFTER = 30  # events written after the newest checkpoint


# --------------------------------------------------------- the lean pass
def _chain(fields: list[tuple[str, str, str, str, str]]) -> list[tuple[Any, ...]]:
    """Events (actor name, action, entity type, entity id, payload) chained the careful way."""
    prev, rows = GENESIS_HASH, []
    for seq, (name, action, etype, eid, payload) in enumerate(fields, start=1):
        at = "2026-01-02T03:04:05.000006Z"
        actor = None if seq % 2 else seq
        digest = hashlib.sha256(canonical_event(seq, at, actor, name, action, etype, eid, payload, prev)).hexdigest()
        rows.append((seq, at, actor, name, action, etype, eid, payload, prev, digest))
        prev = digest
    return rows


def _as_bytes(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as the database hands them to the lean pass: text fields as UTF-8 bytes."""
    return [(r[0], r[1].encode(), r[2], *(v.encode() for v in r[3:])) for r in rows]


AWKWARD = [
    ("Plain Name", "person.created", "person", "1", '{"after":{"name":"Plain Name"}}'),
    ('Ana "the auditor"', "person.created", "person", "2", '{"x":"\\"quoted\\""}'),
    ("Back\\slash", "claim.made", "claim", "3", "{}"),
    ("Ωmega Žižek 日本", "person.created", "person", "4", '{"name":"Ωmega"}'),
    ("tab\there", "feedback.given", "feedback", "5", '{"a":[1,2.5,null,true]}'),
    ("line\nbreak", "x", "y", "6", "{}"),
]


def test_the_lean_pass_accepts_every_event_the_careful_verifier_accepts() -> None:
    rows = _chain(AWKWARD * 3)
    careful = verify_events(rows)
    fast = verify_fast([_as_bytes(rows)], {})
    assert careful.ok
    assert fast == FastPass(len(rows), 0, careful.head_seq, careful.head_hash, True)


def test_the_lean_pass_never_accepts_fields_spliced_into_a_valid_looking_event() -> None:
    # The naive text of an event whose actor name smuggles in another field: hashed as it would
    # read if nobody escaped it. The careful verifier says its content changed; the lean pass
    # must stop there too, not accept it.
    rows = _chain(AWKWARD[:2])
    seq, at, actor, _, action, etype, eid, payload, prev, _ = rows[1]
    name = 'Mallory","entity_id":"9'
    naive = (f'{{"action":"{action}","actor_id":{actor},"actor_name":"{name}","entity_id":"{eid}",'
             f'"entity_type":"{etype}","occurred_at":"{at}","payload":{payload},"prev_hash":"{prev}",'
             f'"seq":{seq}}}').encode()
    rows[1] = (seq, at, actor, name, action, etype, eid, payload, prev, hashlib.sha256(naive).hexdigest())
    assert verify_events(rows).problem == "content_changed"
    fast = verify_fast([_as_bytes(rows)], {})
    assert (fast.finished, fast.checked, fast.seq) == (False, 1, 1)


def test_the_lean_pass_stops_at_a_kept_head_that_disagrees() -> None:
    rows = _chain(AWKWARD * 2)
    fast = verify_fast([_as_bytes(rows)], {4: "f" * 64, 2: rows[1][-1]})
    assert (fast.finished, fast.seq, fast.heads_seen) == (False, 3, 1)


def test_the_lean_pass_hands_a_wrongly_typed_value_to_the_careful_verifier() -> None:
    rows = _as_bytes(_chain(AWKWARD[:3]))
    rows[2] = (*rows[2][:2], "3", *rows[2][3:])  # an actor id stored as text (SQLite keeps any)
    fast = verify_fast([rows], {})
    assert (fast.finished, fast.seq) == (False, 2)


# ------------------------------------------------ incremental, in the database
@pytest.fixture
def since_checkpoint(world: World) -> tuple[int, int]:
    """A decided pilot (its declaration signs a checkpoint), then ``AFTER`` events more:
    (checkpoint seq, head seq)."""
    small_charter(world)
    decide(world)
    with world.db.uow().reading() as s:
        checkpoint_seq = s.scalar(select(Checkpoint.seq).order_by(Checkpoint.id.desc()).limit(1))
    for i in range(AFTER):
        world.person(f"Later Clerk {i:02d}", ["frontline"])  # one event or more each
    with world.db.uow().reading() as s:
        head = log.chain_head(s)[0]
    assert checkpoint_seq is not None and head - checkpoint_seq >= AFTER
    return checkpoint_seq, head


def _incremental(world: World) -> Any:
    with world.db.uow().reading() as s:
        return verify_live(s, world.db.keys, incremental=True, integrity=False)


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many event rows the chain verification fetches (both its readers), counted."""
    counted = [0]
    fast_reader, careful_reader = log._event_bytes, log.event_records

    def fast(*args: Any, **kw: Any) -> Iterator[list[tuple[Any, ...]]]:
        for batch in fast_reader(*args, **kw):
            counted[0] += len(batch)
            yield batch

    def careful(*args: Any, **kw: Any) -> Iterator[tuple[Any, ...]]:
        for row in careful_reader(*args, **kw):
            counted[0] += 1
            yield row

    monkeypatch.setattr(log, "_event_bytes", fast)
    monkeypatch.setattr(log, "event_records", careful)
    yield counted


def test_incremental_verification_reads_only_the_events_after_the_checkpoint(
        world: World, since_checkpoint: tuple[int, int], rows_read: list[int]) -> None:
    checkpoint_seq, head = since_checkpoint
    result = _incremental(world)
    assert result.ok, result.summary
    assert result.incremental_from == checkpoint_seq
    assert result.chain.events_checked == head - checkpoint_seq
    assert rows_read[0] == head - checkpoint_seq  # not one row before the checkpoint
    rows_read[0] = 0
    with world.db.uow().reading() as s:
        full = verify_live(s, world.db.keys, integrity=False)
    assert full.ok and rows_read[0] == head


def test_incremental_verification_finds_tampering_after_the_checkpoint(
        world: World, since_checkpoint: tuple[int, int], owner_db_url: str) -> None:
    checkpoint_seq, head = since_checkpoint
    target = checkpoint_seq + AFTER // 2
    with as_operator(owner_db_url) as conn:
        payload = conn.execute(select(EVENTS.c.payload).where(EVENTS.c.seq == target)).scalar_one()
        changed = json.dumps({**json.loads(payload), "tampered": True}, sort_keys=True, separators=(",", ":"))
        conn.execute(update(EVENTS).where(EVENTS.c.seq == target).values(payload=changed))
    result = _incremental(world)
    assert not result.ok
    assert (result.chain.broken_at, result.chain.problem) == (target, "content_changed")
    assert result.chain.events_checked == target - checkpoint_seq - 1
    assert result.incremental_from == checkpoint_seq


def test_incremental_verification_finds_a_rewrite_after_the_checkpoint_with_every_hash_recomputed(
        world: World, since_checkpoint: tuple[int, int], owner_db_url: str) -> None:
    checkpoint_seq, head = since_checkpoint
    with as_operator(owner_db_url) as conn:
        _rewrite(conn, checkpoint_seq + 3)
    result = _incremental(world)
    # Self-consistent after the checkpoint, and the head row moved with it: only the MACs show.
    assert not result.ok and "MAC" in result.summary


def test_incremental_verification_refuses_a_checkpoint_the_record_no_longer_agrees_with(
        world: World, since_checkpoint: tuple[int, int], owner_db_url: str, rows_read: list[int]) -> None:
    checkpoint_seq, _ = since_checkpoint
    with as_operator(owner_db_url) as conn:
        _rewrite(conn, checkpoint_seq - 2)  # the history up to the checkpoint rewritten, hashes recomputed
    result = _incremental(world)
    assert not result.ok
    assert (result.chain.broken_at, result.chain.problem) == (checkpoint_seq, "head_mismatch")
    assert rows_read[0] == 0  # refused before reading on from it


def test_incremental_verification_does_not_resume_from_a_checkpoint_whose_signature_fails(
        world: World, since_checkpoint: tuple[int, int], owner_db_url: str) -> None:
    checkpoint_seq, _ = since_checkpoint
    with as_operator(owner_db_url) as conn:
        newest = conn.execute(select(Checkpoint.id, Checkpoint.note).order_by(Checkpoint.id.desc())
                              .limit(1)).one()
        lines = newest.note.split("\n")
        lines[1] = str(int(lines[1]) + 1)  # the size line changed: the signature no longer covers it
        conn.execute(update(Checkpoint).where(Checkpoint.id == newest.id).values(note="\n".join(lines)))
    result = _incremental(world)
    assert not result.ok and result.problems
    assert result.incremental_from != checkpoint_seq


def _rewrite(conn: Connection, seq: int) -> None:
    conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(actor_name="Mallory"))
    rehash_from(conn, seq)


def test_the_full_verification_through_both_passes_counts_as_the_careful_one_alone(world: World) -> None:
    sv.adopt_charter(world.uow, world.steering, reason="Counted twice, the same.", min_survey_responses=5)
    with world.db.uow().reading() as s:
        kept = {3: log.event_at(s, 3) or "", 7: log.event_at(s, 7) or ""}
        both = log.verify_chain(s, kept_heads=kept)
        careful = verify_events(log.event_records(s), kept_heads={**kept, **dict([log.chain_head(s)])})
    assert both.ok and both.heads_checked == 3
    assert both == careful


def test_the_audit_pages_verification_since_the_checkpoint_costs_the_events_since_and_says_what_it_left(
        world: World, since_checkpoint: tuple[int, int], rows_read: list[int], owner_db_url: str) -> None:
    """The Audit page's "Verify since the latest checkpoint" (``queries.audit.verify``) reads only the
    events since and does not recompute every frozen row (a minute at ``nation``); it says so, and
    the whole verification still finds an operator's edit of a closed vote's ballots."""
    from governance.queries import audit as audit_q
    from governance.storage.models import SecretBallot

    checkpoint_seq, head = since_checkpoint
    with as_operator(owner_db_url) as conn:  # an operator flips a closed vote's ballot
        conn.execute(update(SecretBallot.__table__).where(SecretBallot.__table__.c.id == select(
            SecretBallot.__table__.c.id).limit(1).scalar_subquery()).values(option="stop"))
    since = audit_q.verify(world.db.uow(), world.auditor, incremental=True)
    assert since.ok and since.incremental_from == checkpoint_seq and rows_read[0] == head - checkpoint_seq
    assert "were not recomputed" in since.summary and "no record altered" not in since.summary
    whole = audit_q.verify(world.db.uow(), world.auditor)
    assert not whole.ok and any("ballots" in a.summary for a in whole.alterations), whole.summary
