"""R18: the record holds against its own operators.

Each test is an attack by whoever runs the database (often the commissioning
organisation's own IT): rewrite history and recompute every hash, forge an
append, edit a locked criterion or a closed ballot or a frozen basis, delete
a locked criterion of an earlier version. Each is refused by the database,
or caught by the signed checkpoints, the events' MACs or the integrity
check — and a declaration resting on altered evidence is refused.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import DBAPIError

from governance import services as sv
from governance.errors import RuleViolation
from governance.record.chain import canonical_event, canonical_json, export_line, format_time, sha256_hex
from governance.record.integrity import check
from governance.record.live import verify_live
from governance.record.log import event_records, verify_chain
from governance.storage.db import PROJECT_ROOT, Database
from governance.storage.models import (
    AuditChainHead,
    AuditEvent,
    Ballot,
    Checkpoint,
    Criterion,
    Decision,
    ProblemVersion,
    SecretBallot,
)
from tests.world import VERY, World

EVENTS, HEAD = AuditEvent.__table__, AuditChainHead.__table__


def small_charter(world: World) -> None:
    sv.adopt_charter(world.uow, world.steering, reason="A small panel: five answers are enough here.",
                     min_survey_responses=5)


def decide(world: World, outcome: str = "adopt", *, problem_kw: dict | None = None) -> tuple[int, int, int]:
    """(pilot, vote, decision): everyone eligible votes ``outcome``; the vote closes early."""
    _, pilot = world.pilot_in_use(**(problem_kw or {}))
    world.pass_window()
    world.survey(pilot, [(m, VERY) for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter in [*world.panel_voters, world.commissioner, world.steering]:
        sv.cast_ballot(world.uow, voter, vote, outcome)
    decision = sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    assert decision is not None
    return pilot, vote, decision


@pytest.fixture
def decided(world: World) -> tuple[int, int, int]:
    small_charter(world)
    return decide(world)


@contextmanager
def as_operator(owner_url: str, *, guards_off: bool = True) -> Iterator[Connection]:
    """A connection as the database's owner, with the guard triggers switched off, committed."""
    engine = Database(owner_url).engine
    try:
        with engine.connect() as conn:
            if guards_off:
                if conn.dialect.name == "sqlite":
                    triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
                    for name in triggers.scalars().all():
                        conn.execute(text(f"DROP TRIGGER {name}"))
                else:
                    conn.execute(text("SET session_replication_role = replica"))
            yield conn
            conn.commit()
    finally:
        engine.dispose()


def rehash_from(conn: Connection, seq: int) -> str:
    """Recompute every hash from ``seq`` on, and move the head: a self-consistent rewrite."""
    prev = conn.execute(select(EVENTS.c.hash).where(EVENTS.c.seq == seq - 1)).scalar_one()
    rows = conn.execute(select(EVENTS).where(EVENTS.c.seq >= seq).order_by(EVENTS.c.seq)).mappings().all()
    for ev in rows:
        digest = sha256_hex(canonical_event(ev["seq"], format_time(ev["occurred_at"]), ev["actor_id"],
                                            ev["actor_name"], ev["action"], ev["entity_type"], ev["entity_id"],
                                            ev["payload"], prev))
        conn.execute(update(EVENTS).where(EVENTS.c.seq == ev["seq"]).values(prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(update(HEAD).values(hash=prev))
    return prev


def live(world: World):
    with world.db.uow().reading() as s:
        return verify_live(s, world.db.keys)


# ----------------------------------------------------- kept heads, anywhere
def test_a_longer_export_with_a_rewritten_history_is_refused_against_a_head_kept_earlier(
        world: World, decided, tmp_path: Path) -> None:
    with world.db.uow().reading() as s:
        lines = [export_line(ev) for ev in event_records(s)]
    kept_seq = 32
    kept = json.loads(lines[kept_seq - 1])["hash"]
    # The operator rewrites event 5, recomputes every later hash, and the export grows on.
    rows = [json.loads(line) for line in lines]
    rows[4]["actor_name"] = "Mallory"
    prev = rows[3]["hash"]
    for row in rows[4:]:
        row["prev_hash"] = prev
        row["hash"] = prev = sha256_hex(canonical_event(row["seq"], row["occurred_at"], row["actor_id"],
                                                        row["actor_name"], row["action"], row["entity_type"],
                                                        row["entity_id"], canonical_json(row["payload"]),
                                                        row["prev_hash"]))
    path = tmp_path / "later.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "governance.audit", "verify", str(path), "--head",
                           f"{kept_seq}:{kept}"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout
    assert f"broken at event #{kept_seq}" in done.stdout and "rewritten" in done.stdout
    assert kept[:16] in done.stdout  # the first disagreement: which sequence, kept hash, found hash


# ----------------------------------------------------- inside the database
def test_a_full_rewrite_inside_the_database_is_caught_by_the_signed_checkpoint(
        world: World, decided, owner_db_url: str) -> None:
    with as_operator(owner_db_url) as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.seq == 5).values(actor_name="Mallory"))
        rehash_from(conn, 5)
    with world.db.uow().reading() as s:
        assert verify_chain(s).ok  # consistent with itself …
    result = live(world)  # … not with the checkpoint signed at the declaration
    assert not result.ok
    assert result.chain.problem == "head_mismatch"
    assert any("chain head it recorded" in a.detail for a in result.alterations)


def test_a_forged_append_that_moves_the_head_is_caught_by_the_missing_mac(
        world: World, decided, owner_db_url: str) -> None:
    with world.db.uow().reading() as s:
        seq, prev = s.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    with as_operator(owner_db_url) as conn:
        when = conn.execute(select(EVENTS.c.occurred_at).where(EVENTS.c.seq == seq)).scalar_one()
        payload = '{"after":{"note":"forged"},"before":null}'
        digest = sha256_hex(canonical_event(seq + 1, format_time(when), None, "system", "claim.recorded", "claim",
                                            "999", payload, prev))
        conn.execute(EVENTS.insert().values(seq=seq + 1, occurred_at=when, actor_id=None, actor_name="system",
                                            action="claim.recorded", entity_type="claim", entity_id="999",
                                            payload=payload, prev_hash=prev, hash=digest))
        conn.execute(update(HEAD).values(seq=seq + 1, hash=digest))
    result = live(world)
    assert not result.ok
    assert any("do not carry the application's MAC" in p and f"#{seq + 1}" in p for p in result.problems)


def test_a_locked_criterion_cannot_be_changed_by_a_plain_update(world: World, decided,
                                                                owner_db_url: str) -> None:
    with as_operator(owner_db_url, guards_off=False) as conn, pytest.raises(
            DBAPIError, match="change only by an approved amendment"):
        conn.execute(update(Criterion.__table__).where(Criterion.__table__.c.is_indispensability.is_(True))
                     .values(target=0.05))


def test_a_direct_edit_of_a_locked_threshold_is_noticed_and_refuses_the_declaration(
        world: World, owner_db_url: str) -> None:
    """The attack: one UPDATE turned a failed pilot (17 % vs 40 %) into a pass. Now the
    integrity check names it, and the outcome vote cannot be declared on it."""
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(world.members[0], VERY)] + [(m, "not_disappointed") for m in world.members[1:]])
    with as_operator(owner_db_url) as conn:
        conn.execute(update(Criterion.__table__).where(Criterion.__table__.c.is_indispensability.is_(True))
                     .values(target=0.05))
    with world.db.uow().reading() as s:
        found = check(s)
    assert any("criteria of problem" in a.entity and "outside an approved amendment" in a.detail for a in found)
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot)
    for voter in [*world.panel_voters, world.commissioner, world.steering]:
        sv.cast_ballot(world.uow, voter, vote, "iterate")
    with world.refuses(RuleViolation, match="record was altered outside the application") as info:
        sv.close_vote(world.uow, world.steering, vote, statement="The result stands.")
    assert info.value.rule == "R18"


def test_editing_a_closed_ballot_is_noticed(world: World, decided, owner_db_url: str) -> None:
    _, vote, _ = decided
    with as_operator(owner_db_url) as conn:
        conn.execute(update(SecretBallot.__table__).where(SecretBallot.__table__.c.vote_id == vote)
                     .values(option="stop"))
    with world.db.uow().reading() as s:
        found = check(s)
    assert [a.entity for a in found] == [f"ballots of vote #{vote}"]


def test_editing_an_open_groups_closed_ballot_is_noticed(world: World, decided, owner_db_url: str) -> None:
    _, vote, _ = decided
    with as_operator(owner_db_url) as conn:
        conn.execute(update(Ballot.__table__).where(Ballot.__table__.c.vote_id == vote).values(option="stop"))
    with world.db.uow().reading() as s:
        assert f"ballots of vote #{vote}" in [a.entity for a in check(s)]


def test_rewriting_a_basis_with_its_hash_is_noticed(world: World, decided, owner_db_url: str) -> None:
    _, _, decision = decided
    with world.db.uow().reading() as s:
        body = json.loads(s.get(Decision, decision).basis_json)
    body["indispensability"]["text"] = "80% very disappointed"
    forged = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with as_operator(owner_db_url) as conn:
        conn.execute(update(Decision.__table__).where(Decision.__table__.c.id == decision)
                     .values(basis_json=forged, basis_sha256=sha256_hex(forged)))
    with world.db.uow().reading() as s:
        found = check(s)
    assert any(a.entity == f"decision #{decision}" and "declaration's audit event" in a.detail for a in found)


def test_the_untouched_record_has_no_alteration(world: World, decided) -> None:
    result = live(world)
    assert result.ok, result.summary
    assert result.checkpoints_verified == result.checkpoints_total >= 1


# -------------------------------------------------- earlier locked versions
def test_a_locked_criterion_of_an_earlier_version_cannot_be_removed_or_changed(world: World) -> None:
    small_charter(world)
    pilot, _, _ = decide(world, "revisit_problem")  # reopens the problem as version 2
    with world.db.uow().reading() as s:
        v1 = s.scalar(select(ProblemVersion.id).where(ProblemVersion.version == 1))
        old = s.scalar(select(Criterion.id).where(Criterion.problem_version_id == v1,
                                                  Criterion.is_indispensability.is_(False)))
    for act in (lambda: sv.remove_criterion(world.uow, world.members[0], old),
                lambda: sv.update_criterion(world.uow, world.members[0], old, target=1)):
        with world.refuses(RuleViolation, match=r"\(version 1\) were locked on .*amendment") as info:
            act()
        assert info.value.rule == "R4"


# ------------------------------------------------------------ checkpoints
def test_every_declaration_signs_a_checkpoint_in_the_same_transaction(world: World, decided) -> None:
    _, _, decision = decided
    with world.db.uow().reading() as s:
        checkpoint = s.scalar(select(Checkpoint).order_by(Checkpoint.id.desc()))
        made = s.scalar(select(AuditEvent).where(AuditEvent.action == "checkpoint.made"))
        declared = s.scalar(select(AuditEvent.seq).where(AuditEvent.action == "decision.declared"))
        assert checkpoint.reason == "declaration" and checkpoint.seq >= declared  # it signs the declaration
        assert made.entity_id == str(checkpoint.id) and made.seq == checkpoint.seq + 1
        assert checkpoint.note.startswith("pilot-evaluation-governance/Organisation\n")
        assert "\n\n\u2014 " in checkpoint.note


def test_nothing_is_chained_onto_a_head_that_no_longer_matches_the_record(world: World,
                                                                           owner_db_url: str) -> None:
    """R11: after an out-of-band cut of the tail, the application refuses to write on top of it."""
    with world.db.uow().reading() as s:
        seq = s.scalar(select(AuditChainHead.seq))
    with as_operator(owner_db_url) as conn:
        conn.execute(EVENTS.delete().where(EVENTS.c.seq == seq))
    with world.refuses(RuleViolation, match="head no longer matches its last event") as info:
        world.person("After the cut", ["frontline"])
    assert info.value.rule == "R11"
