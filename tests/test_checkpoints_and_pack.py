"""R18: signed checkpoints, witnesses, the auditor pack; R16: the scheduled job closes votes at
their deadline; and a runtime role that cannot rewrite history."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from governance import jobs, services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.identity.keys import public_key_pem, write_signing_key
from governance.record import checkpoints as notes
from governance.record.live import make_pack, verify_live
from governance.record.pack import verify_pack
from governance.storage.db import PROJECT_ROOT
from governance.storage.models import Checkpoint, CheckpointWitness, Vote
from tests.test_record_operators import decide, small_charter
from tests.world import World


def pem(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def decided(world: World) -> tuple[int, int, int]:
    small_charter(world)
    return decide(world)


def latest_checkpoint(world: World) -> tuple[int, str]:
    with world.db.uow().reading() as s:
        c = s.scalar(select(Checkpoint).order_by(Checkpoint.id.desc()))
        return c.id, c.note


# ------------------------------------------------------------------ notes
def test_a_checkpoint_is_a_c2sp_signed_note_that_verifies_with_the_public_key(world: World, decided) -> None:
    _, note = latest_checkpoint(world)
    body = notes.verify(note, note.split("\n", 1)[0], world.db.keys.public_key())
    with world.db.uow().reading() as s:
        from governance.record.log import event_at

        assert event_at(s, body.size) == body.head_hash
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(notes.CheckpointError, match="no signature"):
        notes.verify(note, body.origin, other)
    forged = note.replace(f"\n{body.size}\n", f"\n{body.size + 1}\n")
    with pytest.raises(notes.CheckpointError, match="does not match"):
        notes.verify(forged, body.origin, world.db.keys.public_key())


# --------------------------------------------------------------- witnesses
def test_an_auditor_witnesses_a_checkpoint_with_their_own_key(world: World, decided) -> None:
    checkpoint, note = latest_checkpoint(world)
    key = Ed25519PrivateKey.generate()
    sv.witness_checkpoint(world.uow, world.auditor, checkpoint, witness_name="aude.audit", private_key_pem=pem(key))
    with world.db.uow().reading() as s:
        witness = s.scalar(select(CheckpointWitness))
        assert witness.person_id == world.auditor and witness.checkpoint_id == checkpoint
        notes.verify_cosignature(note, witness.cosignature, "aude.audit", key.public_key())
        result = verify_live(s, world.db.keys)
    assert result.ok, result.summary
    with world.refuses(RuleViolation, match="already witnessed"):
        sv.witness_checkpoint(world.uow, world.auditor, checkpoint, witness_name="aude.audit",
                              private_key_pem=pem(key))


def test_a_cosignature_made_offline_is_checked_before_it_is_recorded(world: World, decided,
                                                                     tmp_path: Path) -> None:
    checkpoint, note = latest_checkpoint(world)
    key = Ed25519PrivateKey.generate()
    (tmp_path / "note.txt").write_text(note, encoding="utf-8")
    (tmp_path / "me.pem").write_bytes(pem(key))
    done = subprocess.run([sys.executable, "-m", "governance.audit", "cosign", str(tmp_path / "note.txt"),
                           "--key", str(tmp_path / "me.pem"), "--name", "tomasz.audit"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    line = done.stdout.strip()
    with world.refuses(InvalidInput, match="does not check out"):
        sv.witness_checkpoint(world.uow, world.auditor, checkpoint, witness_name="tomasz.audit",
                              cosignature=line,
                              public_key_pem=public_key_pem(Ed25519PrivateKey.generate().public_key()))
    sv.witness_checkpoint(world.uow, world.auditor, checkpoint, witness_name="tomasz.audit", cosignature=line,
                          public_key_pem=public_key_pem(key.public_key()))


def test_only_an_auditor_witnesses(world: World, decided) -> None:
    checkpoint, _ = latest_checkpoint(world)
    for who in (world.steering, world.admin, world.commissioner):
        with world.refuses(PermissionDenied, match="may not cosign a checkpoint"):
            sv.witness_checkpoint(world.uow, who, checkpoint, witness_name="x",
                                  private_key_pem=pem(Ed25519PrivateKey.generate()))


# -------------------------------------------------------------------- pack
def _pack(world: World) -> bytes:
    with world.db.uow().reading() as s:
        return make_pack(s, world.db.keys, world.clock.now())


def _tampered(pack: bytes, name: str, change) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(pack)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(item, change(data) if item == name else data)
    out.seek(0)
    return out


def test_the_auditor_pack_verifies_and_each_tampered_part_is_refused(world: World, decided) -> None:
    checkpoint, _ = latest_checkpoint(world)
    sv.witness_checkpoint(world.uow, world.auditor, checkpoint, witness_name="aude.audit",
                          private_key_pem=pem(Ed25519PrivateKey.generate()))
    pack = _pack(world)
    good = verify_pack(io.BytesIO(pack))
    assert good.ok, good.summary
    assert good.checkpoints >= 1 and good.cosignatures == 1 and good.decisions == 1
    with zipfile.ZipFile(io.BytesIO(pack)) as z:
        assert "python -m governance.audit verify-pack" in z.read("README.txt").decode()

    def event(data: bytes) -> bytes:
        lines = data.decode().splitlines()
        row = json.loads(lines[9])
        row["actor_name"] = "Mallory"
        lines[9] = json.dumps(row)
        return ("\n".join(lines) + "\n").encode()

    def size(data: bytes) -> bytes:
        text_ = data.decode()
        first = text_.split("\n")
        first[1] = str(int(first[1]) - 1)
        return "\n".join(first).encode()

    def signature(data: bytes) -> bytes:
        text_ = data.decode()
        at = text_.index("\u2014 ") + 60
        return (text_[:at] + ("A" if text_[at] != "A" else "B") + text_[at + 1:]).encode()

    def basis(data: bytes) -> bytes:
        d = json.loads(data)
        d["basis"]["outcome_note"] = "adopted by acclaim"
        return (json.dumps(d) + "\n").encode()

    for name, change, says in (("chain.jsonl", event, "broken at event #10"),
                               ("checkpoints.txt", size, "signature of .* does not match"),
                               ("checkpoints.txt", signature, "does not match|not base64"),
                               ("decisions.jsonl", basis, "basis does not match its SHA-256")):
        result = verify_pack(_tampered(pack, name, change))
        assert not result.ok, name
        assert any(__import__("re").search(says, p) for p in result.problems), (name, result.problems)


def test_the_pack_commands_work_from_the_command_line(world: World, decided, tmp_path: Path) -> None:
    path = tmp_path / "pack.zip"
    path.write_bytes(_pack(world))
    done = subprocess.run([sys.executable, "-m", "governance.audit", "verify-pack", str(path)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The record verifies" in done.stdout and "signed checkpoint" in done.stdout


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    key = tmp_path / "signing.pem"
    write_signing_key(key)
    done = subprocess.run([sys.executable, "-m", "governance.audit", "keygen", str(key)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "never overwritten" in done.stdout


# ------------------------------------------------------------ the schedule
def test_the_job_closes_a_due_vote_at_its_deadline_whoever_is_looking(world: World) -> None:
    small_charter(world)
    _, pilot = world.pilot_in_use()
    world.pass_window()
    world.survey(pilot, [(m, "very_disappointed") for m in world.members])
    vote = sv.open_outcome_vote(world.uow, world.steering, pilot, days=5)
    for voter in world.panel_voters[:5]:
        sv.cast_ballot(world.uow, voter, vote, "adopt")
    assert jobs.run(world.db).closed_votes == []  # not due yet
    world.clock.advance(days=6)
    report = jobs.run(world.db)
    assert report.ran and report.closed_votes == [vote]
    with world.db.uow().reading() as s:
        closed = s.get(Vote, vote)
        assert closed.status == "closed" and closed.closed_by is None
        assert closed.closed_at == closed.deadline  # the deadline is its closing time
    again = jobs.run(world.db)
    assert again.ran and again.closed_votes == []  # idempotent


def test_one_runner_at_a_time(world: World) -> None:
    from governance.jobs import _take_lease

    assert _take_lease(world.uow, "replica-a") is None
    busy = jobs.run(world.db, holder="replica-b")
    assert not busy.ran and "replica-a" in busy.reason


def test_the_job_signs_a_checkpoint_at_least_daily(world: World) -> None:
    first = jobs.run(world.db).checkpoint
    assert first is not None
    world.person("Newcomer", ["frontline"])
    assert jobs.run(world.db).checkpoint is None  # made less than a day ago
    world.clock.advance(hours=25)
    assert jobs.run(world.db).checkpoint is not None


# ------------------------------------------------------ the runtime role
def test_the_runtime_role_cannot_rewrite_history(world: World, db_url: str) -> None:
    if world.db.dialect != "postgresql":
        pytest.skip("roles are PostgreSQL's; the SQLite default has its triggers and its file")
    engine = create_engine(db_url)
    try:
        for sql in ("ALTER TABLE audit_event DISABLE TRIGGER USER", "TRUNCATE audit_event",
                    "UPDATE audit_event SET actor_name = 'Mallory' WHERE seq = 1",
                    "DELETE FROM audit_event WHERE seq = 1", "SET session_replication_role = replica",
                    "CREATE TABLE mallory (id int)", "DROP TRIGGER audit_event_refuse_change ON audit_event"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="permission denied|must be owner"):
                conn.execute(text(sql))
    finally:
        engine.dispose()
