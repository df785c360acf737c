"""R11: the append-only, hash-chained audit record.

Every use case writes its event in the same transaction as its change; each
event's hash is SHA-256 over its canonical JSON including the previous hash;
the database refuses to rewrite history; and ``verify_chain`` /
``verify_export`` find any tampering at the right sequence number, saying
what is wrong there.

The tamper tests share one chain of a few hundred events. Each tampers
inside a transaction that is rolled back, with the guard triggers switched
off inside that transaction only (they are transactional DDL on both
engines), so the next test starts from the intact chain again.
"""
from __future__ import annotations

import itertools
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from governance import services as sv
from governance.errors import PermissionDenied
from governance.record.chain import (
    GENESIS_HASH,
    ChainVerification,
    canonical_event,
    canonical_json,
    export_record,
    format_time,
    sha256_hex,
    verify_export,
)
from governance.record.log import event_records, verify_chain
from governance.services import _base as services_base
from governance.storage.db import PROJECT_ROOT, Database, FixedClock
from governance.storage.models import AuditChainHead, AuditEvent, Person
from tests.conftest import START
from tests.world import World

EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__
EXTRA_PEOPLE = 250  # with the world and a pilot in use: ~300 events


# ------------------------------------------------------------ a long chain
@pytest.fixture(scope="module")
def chain(database_factory: Any) -> Iterator[Database]:
    """One database whose record holds a few hundred events (never changed for good)."""
    url = database_factory.url()
    clock = FixedClock(START)
    db = Database(url, clock=clock)
    world = World(db, clock)
    world.pilot_in_use()
    for i in range(EXTRA_PEOPLE):
        world.person(f"Clerk {i:03d}", ["frontline"])
    yield db
    db.dispose()
    database_factory.drop(url)


def _disable_guards(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for trigger in ("audit_event_refuse_update", "audit_event_refuse_delete",
                        "audit_chain_head_forward_only", "audit_chain_head_refuse_delete"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
    else:
        conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
        conn.exec_driver_sql("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")


def verify(conn: Connection, **kw: Any) -> ChainVerification:
    with Session(bind=conn) as session:
        return verify_chain(session, **kw)


@contextmanager
def tampering(db: Database) -> Iterator[Connection]:
    """A connection whose changes — and the switched-off triggers — are rolled back."""
    with db.engine.connect() as conn:
        trans = conn.begin()
        try:
            _disable_guards(conn)
            yield conn
        finally:
            trans.rollback()
    with db.engine.connect() as conn:
        assert verify(conn).ok, "the tampering leaked out of its transaction"


def head_of(db: Database) -> tuple[int, str]:
    with db.engine.connect() as conn:
        seq, digest = conn.execute(select(HEAD.c.seq, HEAD.c.hash)).one()
        return seq, digest


def event_at(conn: Connection, seq: int) -> dict[str, Any]:
    return dict(conn.execute(select(EVENTS).where(EVENTS.c.seq == seq)).mappings().one())


def event_hash(ev: dict[str, Any], **override: Any) -> str:
    ev = ev | override
    return sha256_hex(canonical_event(ev["seq"], format_time(ev["occurred_at"]), ev["actor_id"],
                                      ev["actor_name"], ev["action"], ev["entity_type"],
                                      ev["entity_id"], ev["payload"], ev["prev_hash"]))


def flip(hex_digest: str, at: int = 10) -> str:
    """The same hash with one hex digit changed."""
    swapped = "0" if hex_digest[at] != "0" else "1"
    return hex_digest[:at] + swapped + hex_digest[at + 1:]


def shift_up_from(conn: Connection, seq: int, by: int = 1) -> None:
    """Move events seq.. one place up (two steps, so the primary key never collides)."""
    conn.execute(update(EVENTS).where(EVENTS.c.seq >= seq).values(seq=EVENTS.c.seq + 1_000_000))
    conn.execute(update(EVENTS).where(EVENTS.c.seq >= 1_000_000)
                 .values(seq=EVENTS.c.seq - 1_000_000 + by))


def broken(result: ChainVerification) -> tuple[int | None, str | None]:
    assert not result.ok
    return result.broken_at, result.problem


# ====================================================== writing the record
class TestEveryUseCaseWritesItsEvent:
    def test_each_use_case_appends_its_event_with_actor_and_entity(self, world: World) -> None:
        cases = [
            ("person.created", "person", world.admin,
             lambda: world.person("Nina New", ["frontline"])),
            ("problem.drafted", "problem", world.members[0], lambda: world.draft_problem()),
        ]
        for action, entity_type, actor, run in cases:
            before = world.audit_count()
            entity_id = run()
            assert world.audit_count() == before + 1
            with world.db.uow().reading() as s:
                ev = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
                actor_name = s.get(Person, actor).name
                assert (ev.seq, ev.action, ev.entity_type, ev.entity_id) == (
                    before + 1, action, entity_type, str(entity_id))
                assert (ev.actor_id, ev.actor_name) == (actor, actor_name)
                assert ev.occurred_at.utcoffset() == timedelta(0)

    def test_a_run_of_use_cases_writes_one_event_each_in_order(self, world: World) -> None:
        start = world.audit_count()
        problem = world.draft_problem()
        world.add_criterion(problem)
        sv.comment_on_problem(world.uow, world.steering, problem, "Is this every Tuesday?")
        vote = sv.propose_ratification(world.uow, world.facilitator, problem)
        with world.db.uow().reading() as s:
            actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.seq > start)
                                     .order_by(AuditEvent.seq)))
        assert actions == ["problem.drafted", "criterion.added", "problem.commented", "vote.opened"]
        # A compound action (closing a passed vote ratifies the problem) writes both events.
        world.pass_panel_vote(vote)
        with world.db.uow().reading() as s:
            tail = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)))
        assert tail == ["problem.ratified", "vote.closed"]

    def test_a_refused_use_case_writes_no_event(self, world: World) -> None:
        before = world.audit_count()
        with world.refuses(PermissionDenied):
            sv.create_person(world.uow, world.auditor, name="Eve", email="eve@example.org")
        assert world.audit_count() == before

    def test_the_change_and_its_event_commit_or_roll_back_together(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        """If anything fails after the event is appended, neither the change nor the event stays."""
        real_record = services_base.append

        def record_then_fail(*args: Any, **kwargs: Any) -> Any:
            real_record(*args, **kwargs)  # the event row is written (flushed) ...
            raise RuntimeError("the process died before commit")  # ... then the transaction fails

        monkeypatch.setattr(services_base, "append", record_then_fail)
        with world.refuses(RuntimeError, match="died before commit"):
            world.person("Half Written", ["frontline"])
        monkeypatch.undo()
        with world.db.uow().reading() as s:
            assert s.scalar(select(Person.id).where(Person.name == "Half Written")) is None
            assert verify_chain(s).ok

    def test_the_chain_of_a_built_world_verifies(self, world: World) -> None:
        world.pilot_in_use()
        with world.db.uow().reading() as s:
            result = verify_chain(s)
            count = s.scalar(select(func.count()).select_from(AuditEvent))
        assert result.ok, result.summary
        assert result.events_checked == result.head_seq == count


# ==================================================== the canonical form
class TestCanonicalForm:
    def test_canonical_event_is_canonical_json_of_the_event(self, world: World) -> None:
        tricky = world.person('Zoë "Quotes" Ñandú \\ 🌱', ["frontline"])
        sv.add_panel_member(world.uow, world.admin, world.panel, tricky)
        sv.draft_problem(world.uow, tricky, panel_id=world.panel, title="Ünïcödé\u2028line — «letters»",
                         statement="Tabs\tand\nnewlines, \"quotes\", back\\slashes, 日本語, 1e400 as text.")
        with world.db.uow().reading() as s:
            events = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
            for ev in events:
                as_dict = {"seq": ev.seq, "occurred_at": format_time(ev.occurred_at),
                           "actor_id": ev.actor_id, "actor_name": ev.actor_name, "action": ev.action,
                           "entity_type": ev.entity_type, "entity_id": ev.entity_id,
                           "payload": json.loads(ev.payload), "prev_hash": ev.prev_hash}
                expected = canonical_json(as_dict).encode("utf-8")
                built = canonical_event(ev.seq, format_time(ev.occurred_at), ev.actor_id, ev.actor_name,
                                        ev.action, ev.entity_type, ev.entity_id, ev.payload, ev.prev_hash)
                assert built == expected, f"event #{ev.seq} differs"
                assert ev.hash == sha256_hex(expected)

    def test_canonical_json_sorts_keys_and_has_no_whitespace(self) -> None:
        assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == '{"a":{"c":"é","d":[1,2]},"b":1}'

    def test_canonical_json_refuses_non_finite_numbers(self) -> None:
        with pytest.raises(ValueError):
            canonical_json({"x": float("nan")})

    def test_the_first_event_links_to_the_genesis_hash_and_each_to_the_previous(self,
                                                                                world: World) -> None:
        with world.db.uow().reading() as s:
            rows = s.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
                             .order_by(AuditEvent.seq)).all()
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))


# ============================================ the database refuses rewrites
class TestTheDatabaseRefusesRewrites:
    @contextmanager
    def attempt(self, db: Database) -> Iterator[Connection]:
        with db.engine.connect() as conn:
            trans = conn.begin()
            try:
                yield conn
            finally:
                trans.rollback()

    def test_updating_an_audit_event_is_refused(self, chain: Database) -> None:
        with self.attempt(chain) as conn, pytest.raises(DBAPIError, match="audit_event is append-only: "
                                                                         "UPDATE refused"):
            conn.execute(update(EVENTS).where(EVENTS.c.seq == 5).values(actor_name="Mallory"))

    def test_deleting_an_audit_event_is_refused(self, chain: Database) -> None:
        with self.attempt(chain) as conn, pytest.raises(DBAPIError, match="audit_event is append-only: "
                                                                         "DELETE refused"):
            conn.execute(delete(EVENTS).where(EVENTS.c.seq == 5))

    def test_deleting_every_event_is_refused(self, chain: Database) -> None:
        with self.attempt(chain) as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(delete(EVENTS))

    def test_truncating_the_audit_table_is_refused_on_postgresql(self, chain: Database) -> None:
        if chain.dialect != "postgresql":
            pytest.skip("SQLite has no TRUNCATE (its DELETE is guarded)")
        with self.attempt(chain) as conn, pytest.raises(DBAPIError, match="append-only: TRUNCATE"):
            conn.exec_driver_sql("TRUNCATE audit_event")

    def test_the_chain_head_cannot_move_backward(self, chain: Database) -> None:
        with self.attempt(chain) as conn, pytest.raises(DBAPIError, match="only moves forward"):
            conn.execute(update(HEAD).values(seq=HEAD.c.seq - 1))

    def test_the_chain_head_cannot_be_deleted(self, chain: Database) -> None:
        with self.attempt(chain) as conn, pytest.raises(DBAPIError, match="(append-only|only moves "
                                                                         "forward)"):
            conn.execute(delete(HEAD))

    def test_a_rewrite_committed_outright_changes_nothing(self, chain: Database) -> None:
        # The operator's attack without a rollback to hide behind: each statement in its own
        # committing transaction. Every one must be refused, and the chain read back unchanged.
        with chain.engine.connect() as conn:
            before = conn.execute(select(EVENTS.c.actor_name, EVENTS.c.hash).where(EVENTS.c.seq == 5)).one()
            count = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        for attack in (update(EVENTS).where(EVENTS.c.seq == 5).values(actor_name="Mallory"),
                       delete(EVENTS).where(EVENTS.c.seq == 5),
                       update(HEAD).values(seq=HEAD.c.seq - 1)):
            with pytest.raises(DBAPIError, match="(append-only|only moves forward)"), \
                    chain.engine.begin() as conn:
                conn.execute(attack)
        with chain.engine.connect() as conn:
            result = verify(conn)
            assert result.ok, result.summary
            assert conn.execute(select(EVENTS.c.actor_name, EVENTS.c.hash)
                                .where(EVENTS.c.seq == 5)).one() == before
            assert conn.execute(select(func.count()).select_from(EVENTS)).scalar_one() == count


# ============================================================ tamper tests
class TestTamperingIsDetected:
    K = 123  # an event in the middle of the chain

    def test_the_untouched_chain_verifies(self, chain: Database) -> None:
        with chain.engine.connect() as conn:
            result = verify(conn)
        assert result.ok, result.summary
        assert result.events_checked == head_of(chain)[0] >= 250
        assert "verifies" in result.summary

    @pytest.mark.parametrize("column", ["actor_name", "action", "entity_type", "entity_id",
                                        "actor_id", "occurred_at", "payload"])
    def test_changing_one_field_of_one_event(self, chain: Database, column: str) -> None:
        with tampering(chain) as conn:
            ev = event_at(conn, self.K)
            new = {"actor_name": "Mallory", "action": "person.deleted", "entity_type": "pilot",
                   "entity_id": ev["entity_id"] + "0", "actor_id": (ev["actor_id"] or 0) + 1,
                   "occurred_at": ev["occurred_at"] + timedelta(seconds=1),
                   "payload": ev["payload"].replace('"', "'", 1)}[column]
            conn.execute(update(EVENTS).where(EVENTS.c.seq == self.K).values({column: new}))
            result = verify(conn)
        assert broken(result) == (self.K, "content_changed")
        assert f"event #{self.K}" in result.summary

    def test_deleting_one_event(self, chain: Database) -> None:
        with tampering(chain) as conn:
            conn.execute(delete(EVENTS).where(EVENTS.c.seq == self.K))
            result = verify(conn)
        assert broken(result) == (self.K, "gap")
        assert f"event #{self.K} is missing" in result.detail

    def test_deleting_a_run_of_events(self, chain: Database) -> None:
        with tampering(chain) as conn:
            conn.execute(delete(EVENTS).where(EVENTS.c.seq.between(self.K, self.K + 9)))
            result = verify(conn)
        assert broken(result) == (self.K, "gap")
        assert f"events #{self.K}–#{self.K + 9} are missing" in result.detail

    @pytest.mark.parametrize("a,b", [(100, 200), (150, 151), (2, 260)])
    def test_swapping_two_events(self, chain: Database, a: int, b: int) -> None:
        with tampering(chain) as conn:
            conn.execute(update(EVENTS).where(EVENTS.c.seq == a).values(seq=-1))
            conn.execute(update(EVENTS).where(EVENTS.c.seq == b).values(seq=a))
            conn.execute(update(EVENTS).where(EVENTS.c.seq == -1).values(seq=b))
            result = verify(conn)
        assert broken(result) == (a, "reordered")

    def _forge(self, conn: Connection, *, correct_hash: bool) -> dict[str, Any]:
        """Insert a forged event at K, moving the events from K one place up."""
        prev = event_at(conn, self.K - 1)
        shift_up_from(conn, self.K)
        forged = {"seq": self.K, "occurred_at": prev["occurred_at"] + timedelta(microseconds=1),
                  "actor_id": prev["actor_id"], "actor_name": prev["actor_name"],
                  "action": "decision.declared", "entity_type": "decision", "entity_id": "999",
                  "payload": canonical_json({"before": None, "after": {"outcome": "adopt"}}),
                  "prev_hash": prev["hash"]}
        forged["hash"] = event_hash(forged) if correct_hash else secrets.token_hex(32)
        conn.execute(insert(EVENTS).values(forged))
        return forged

    def test_inserting_a_forged_event_with_a_made_up_hash(self, chain: Database) -> None:
        with tampering(chain) as conn:
            self._forge(conn, correct_hash=False)
            result = verify(conn)
        assert broken(result) == (self.K, "content_changed")

    def test_inserting_a_forged_event_with_a_correctly_computed_hash(self, chain: Database) -> None:
        with tampering(chain) as conn:
            self._forge(conn, correct_hash=True)
            result = verify(conn)
        assert broken(result) == (self.K, "inserted")
        assert f"the event(s) from #{self.K} were inserted" in result.detail

    def test_appending_a_forged_event_after_the_head(self, chain: Database) -> None:
        """Someone with database access appends a well-formed event but cannot move
        the head row consistently without also being caught: the head disagrees."""
        n, _ = head_of(chain)
        with tampering(chain) as conn:
            last = event_at(conn, n)
            forged = {"seq": n + 1, "occurred_at": last["occurred_at"] + timedelta(microseconds=1),
                      "actor_id": last["actor_id"], "actor_name": last["actor_name"],
                      "action": "decision.declared", "entity_type": "decision", "entity_id": "999",
                      "payload": canonical_json({"before": None, "after": {"outcome": "adopt"}}),
                      "prev_hash": last["hash"]}
            forged["hash"] = event_hash(forged)
            conn.execute(insert(EVENTS).values(forged))
            result = verify(conn)
        assert broken(result) == (n + 1, "inserted")
        assert "after the recorded head" in result.detail

    def test_truncating_the_tail(self, chain: Database) -> None:
        n, _ = head_of(chain)
        with tampering(chain) as conn:
            conn.execute(delete(EVENTS).where(EVENTS.c.seq > n - 5))
            result = verify(conn)
        assert broken(result) == (n - 4, "truncated")
        assert f"head says #{n}" in result.detail

    def test_truncating_the_tail_and_moving_the_head_back(self, chain: Database) -> None:
        """Caught against a head recorded earlier (an export, a decision's basis)."""
        n, digest = head_of(chain)
        with tampering(chain) as conn:
            conn.execute(delete(EVENTS).where(EVENTS.c.seq > n - 5))
            last = event_at(conn, n - 5)
            conn.execute(update(HEAD).values(seq=n - 5, hash=last["hash"]))
            assert verify(conn).ok  # consistent with itself ...
            result = verify(conn, kept_heads=[(n, digest)])  # ... not with the recorded head
        assert broken(result) == (n - 4, "truncated")

    def test_deleting_the_head_row(self, chain: Database) -> None:
        with tampering(chain) as conn:
            conn.execute(delete(HEAD))
            result = verify(conn)
        assert result.problem == "truncated"
        assert "head record is missing" in result.detail

    @pytest.mark.parametrize("where", ["middle", "last"])
    def test_changing_one_byte_of_a_stored_hash(self, chain: Database, where: str) -> None:
        seq = self.K if where == "middle" else head_of(chain)[0]
        with tampering(chain) as conn:
            digest = event_at(conn, seq)["hash"]
            conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(hash=flip(digest)))
            result = verify(conn)
        assert broken(result) == (seq, "content_changed")

    def test_changing_one_byte_of_a_stored_previous_hash(self, chain: Database) -> None:
        with tampering(chain) as conn:
            digest = event_at(conn, self.K)["prev_hash"]
            conn.execute(update(EVENTS).where(EVENTS.c.seq == self.K).values(prev_hash=flip(digest)))
            result = verify(conn)
        assert broken(result) == (self.K, "link_broken")

    def test_rewriting_the_tail_consistently_is_caught_by_a_recorded_head(self, chain: Database) -> None:
        """Rehashing every later event (and the head) fools the chain itself, not a head kept elsewhere."""
        n, recorded = head_of(chain)
        with tampering(chain) as conn:
            prev_hash = event_at(conn, self.K - 1)["hash"]
            for seq in range(self.K, n + 1):
                ev = event_at(conn, seq)
                if seq == self.K:
                    ev["actor_name"] = "Mallory"
                ev["prev_hash"] = prev_hash
                prev_hash = event_hash(ev)
                conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(
                    actor_name=ev["actor_name"], prev_hash=ev["prev_hash"], hash=prev_hash))
            conn.execute(update(HEAD).values(hash=prev_hash))
            assert verify(conn).ok
            result = verify(conn, kept_heads=[(n, recorded)])
        assert broken(result) == (n, "head_mismatch")


# ============================================================== exports
def export_lines(db: Database) -> list[str]:
    with db.engine.connect() as conn, Session(bind=conn) as s:
        return [json.dumps(row, ensure_ascii=False) for row in map(export_record, event_records(s))]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governance.audit", "verify", str(path), *extra],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)


class TestOfflineExport:
    def test_an_export_verifies_offline(self, chain: Database) -> None:
        lines = export_lines(chain)
        n, digest = head_of(chain)
        result = verify_export(lines, kept_heads=[(n, digest)])
        assert result.ok, result.summary
        assert (result.events_checked, result.head_seq, result.head_hash) == (n, n, digest)

    def test_a_changed_line_in_the_export_is_found(self, chain: Database) -> None:
        lines = export_lines(chain)
        row = json.loads(lines[99])
        row["payload"]["after"] = {"tampered": True}
        lines[99] = json.dumps(row)
        assert broken(verify_export(lines)) == (100, "content_changed")

    def test_a_removed_line_in_the_export_is_found(self, chain: Database) -> None:
        lines = export_lines(chain)
        del lines[49]
        assert broken(verify_export(lines)) == (50, "gap")

    def test_swapped_lines_in_the_export_are_found(self, chain: Database) -> None:
        lines = export_lines(chain)
        lines[10], lines[20] = lines[20], lines[10]
        result = verify_export(lines)
        assert broken(result) == (11, "reordered")
        assert "moved out of order" in result.detail

    def test_a_cut_export_is_found_against_its_recorded_head(self, chain: Database) -> None:
        lines = export_lines(chain)
        n, digest = head_of(chain)
        assert verify_export(lines[:-3]).ok  # nothing inside the file says it was longer ...
        assert broken(verify_export(lines[:-3], kept_heads=[(n, digest)])) == (n - 2, "truncated")

    def test_the_command_line_verifier_exits_0_for_an_intact_export(self, chain: Database,
                                                                    tmp_path: Path) -> None:
        path = write(tmp_path / "audit.jsonl", export_lines(chain))
        n, digest = head_of(chain)
        done = cli(path, "--head", f"{n}:{digest}")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{n:,} events" in done.stdout and "verifies" in done.stdout

    def test_the_command_line_verifier_exits_1_for_a_tampered_export(self, chain: Database,
                                                                     tmp_path: Path) -> None:
        lines = export_lines(chain)
        row = json.loads(lines[122])
        row["actor_name"] = "Mallory"
        lines[122] = json.dumps(row)
        done = cli(write(tmp_path / "audit.jsonl", lines))
        assert done.returncode == 1, done.stdout + done.stderr
        assert "broken at event #123" in done.stdout

    def test_the_command_line_verifier_exits_1_for_a_cut_export(self, chain: Database,
                                                                tmp_path: Path) -> None:
        n, digest = head_of(chain)
        done = cli(write(tmp_path / "audit.jsonl", export_lines(chain)[:-1]), "--head", f"{n}:{digest}")
        assert done.returncode == 1
        assert f"broken at event #{n}" in done.stdout

    def test_the_command_line_verifier_explains_its_usage(self, tmp_path: Path) -> None:
        done = subprocess.run([sys.executable, "-m", "governance.audit"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2
        assert "usage: python -m governance.audit" in done.stderr
        assert all(c in done.stderr for c in ("verify", "verify-pack", "export", "pack", "keygen", "cosign"))

    def test_the_command_line_exports_the_whole_chain_and_verifies_it_against_its_head(
            self, chain: Database, tmp_path: Path) -> None:
        out = tmp_path / "chain.jsonl"
        exported = subprocess.run([sys.executable, "-m", "governance.audit", "export", str(out),
                                   "--database-url", chain.url], cwd=PROJECT_ROOT, capture_output=True,
                                  text=True, timeout=120, check=False)
        assert exported.returncode == 0, exported.stdout + exported.stderr
        n, digest = head_of(chain)
        assert f"--head {n}:{digest}" in exported.stdout
        assert len(out.read_text(encoding="utf-8").splitlines()) == n
        assert cli(out, "--head", f"{n}:{digest}").returncode == 0
