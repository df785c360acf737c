"""The record as the database holds it, checked against what is kept outside it.

``verify_live`` is what the Audit page runs: the stored chain against every
signed checkpoint (their signatures checked with the public key, which lives
outside the database), decisions against their bases and chain heads, and
``integrity.check`` — live rows against their frozen hashes. ``incremental``
resumes from the newest checkpoint that verifies, so its cost is the events
since. ``make_pack`` builds the auditor pack.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.identity.keys import Keys, public_key_pem
from governance.record import checkpoints as notes, pack
from governance.record.chain import ChainVerification, export_line, format_time
from governance.record.integrity import Alteration, check
from governance.record.log import chain_head, event_records, forged_events, verify_chain
from governance.storage.models import Checkpoint, CheckpointWitness, Decision
from governance.storage.repository import organisation_name


def checkpoint_notes(session: Session) -> list[str]:
    """Every checkpoint as a signed note, with its witnesses' cosignature lines, oldest first."""
    lines: dict[int, list[str]] = {}
    for cid, line in session.execute(select(CheckpointWitness.checkpoint_id, CheckpointWitness.cosignature)
                                     .order_by(CheckpointWitness.id)):
        lines.setdefault(cid, []).append(line)
    out = []
    for c in session.scalars(select(Checkpoint).order_by(Checkpoint.id)):
        out.append(c.note + "".join(f"{line}\n" for line in lines.get(c.id, [])))
    return out


def witness_keys(session: Session) -> dict[str, str]:
    """Witness name → raw public key (base64), as recorded with their cosignatures."""
    return {name: key for name, key in session.execute(
        select(CheckpointWitness.witness_name, CheckpointWitness.public_key).distinct())}


def decision_records(session: Session) -> list[dict[str, Any]]:
    """Every decision with its frozen basis, as the pack carries them."""
    return [{"id": d.id, "vote_id": d.vote_id, "pilot_id": d.pilot_id, "outcome": d.outcome,
             "declared_at": format_time(d.declared_at), "basis_sha256": d.basis_sha256,
             "chain_head_seq": d.chain_head_seq, "chain_head_hash": d.chain_head_hash,
             "basis": json.loads(d.basis_json)}
            for d in session.scalars(select(Decision).order_by(Decision.id))]


@dataclass(frozen=True)
class LiveVerification:
    """The Audit page's verification: the chain, its checkpoints, the frozen records."""

    chain: ChainVerification
    checkpoints_verified: int
    checkpoints_total: int
    incremental_from: int | None
    alterations: list[Alteration] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Whether the frozen records were recomputed too (the full verification; not "since the checkpoint").
    integrity_checked: bool = True

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.alterations and not self.problems

    @property
    def summary(self) -> str:
        if self.ok:
            if self.incremental_from is not None:
                frozen = ("no record altered." if self.integrity_checked else
                          "the frozen records (locked criteria and metrics, decisions' bases, closed ballots "
                          "and answers) were not recomputed: the full verification and the scheduled job "
                          "check those.")
                return (f"{self.chain.summary} (verified from the newest signed checkpoint, at event "
                        f"#{self.incremental_from}, whose signature holds; a full verification checks all "
                        f"{self.checkpoints_total}); {frozen}")
            return (f"{self.chain.summary}; {self.checkpoints_verified} of {self.checkpoints_total} "
                    "signed checkpoints hold; no record altered.")
        parts = [] if self.chain.ok else [self.chain.summary]
        return " ".join(parts + self.problems + [a.summary for a in self.alterations])


def _newest_holding_checkpoint(session: Session, keys: Keys, problems: list[str],
                               batch: int = 20) -> tuple[dict[int, str], int]:
    """The newest checkpoint whose signature (and cosignatures) hold, newest first, as
    ``({seq: hash}, 1)`` — or ``({}, 0)`` when none does. Older ones need no checking to
    resume from it: the chain after it is verified against it."""
    witnesses = witness_keys(session)
    offset = 0
    while True:
        rows = session.execute(select(Checkpoint.id, Checkpoint.note).order_by(Checkpoint.id.desc())
                               .limit(batch).offset(offset)).all()
        if not rows:
            return {}, 0
        lines: dict[int, list[str]] = {}
        for cid, line in session.execute(select(CheckpointWitness.checkpoint_id, CheckpointWitness.cosignature)
                                         .where(CheckpointWitness.checkpoint_id.in_([r.id for r in rows]))
                                         .order_by(CheckpointWitness.id)):
            lines.setdefault(cid, []).append(line)
        for cid, note in rows:
            found: list[str] = []
            heads, verified, _ = pack.checkpoint_heads(
                [note + "".join(f"{line}\n" for line in lines.get(cid, []))], keys.public_key(), found, witnesses)
            problems.extend(found)
            if verified and not found:
                return heads, 1
        offset += batch


def verify_live(session: Session, keys: Keys, *, incremental: bool = False,
                integrity: bool = True) -> LiveVerification:
    """The stored record against every signed checkpoint, its decisions and its frozen rows.

    ``incremental`` resumes from the newest checkpoint that holds: only its signature is checked,
    and the chain after it, so the cost is the events since (a full verification checks all)."""
    problems: list[str] = []
    total = int(session.scalar(select(func.count()).select_from(Checkpoint)) or 0)
    start = None
    if incremental:
        heads, verified = _newest_holding_checkpoint(session, keys, problems)
        if heads:
            start = next(iter(heads.items()))
    else:
        heads, verified, _ = pack.checkpoint_heads(checkpoint_notes(session), keys.public_key(), problems,
                                                   witness_keys(session))
    chain = verify_chain(session, kept_heads=heads, start=start)
    forged = forged_events(session, keys.record_mac_key(), after=start[0] if start else 0)
    if forged:
        shown = ", ".join(f"#{s}" for s in forged[:5]) + (" …" if len(forged) > 5 else "")
        problems.append(f"{len(forged)} event(s) ({shown}) do not carry the application's MAC: they were "
                        "written into the record by someone without its key.")
    alterations = check(session) if integrity else []
    return LiveVerification(chain, verified, total, start[0] if start else None, alterations, problems,
                            integrity_checked=integrity)


def make_pack(session: Session, keys: Keys, now: datetime) -> bytes:
    """The auditor pack of this record (see ``governance.record.pack``)."""
    seq, head = chain_head(session)
    return pack.build(events=(export_line(ev) for ev in event_records(session)),
                      checkpoint_notes=checkpoint_notes(session), public_key_pem=public_key_pem(keys.public_key()),
                      witnesses=witness_keys(session), decisions=decision_records(session),
                      organisation=organisation_name(session), made=format_time(now), head=(seq, head), count=seq)


@dataclass(frozen=True)
class CheckpointRow:
    """A signed checkpoint as the Audit page lists it, with who witnessed it."""

    id: int
    seq: int
    head_hash: str
    reason: str
    made_at: datetime
    key_id: str
    note: str
    witnesses: list[str]


def latest_checkpoints(session: Session, limit: int = 10) -> list[CheckpointRow]:
    """The newest checkpoints with who witnessed them (for the Audit page)."""
    rows = session.scalars(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(limit)).all()
    witnessed: dict[int, list[str]] = {}
    for cid, name in session.execute(select(CheckpointWitness.checkpoint_id, CheckpointWitness.witness_name)
                                     .where(CheckpointWitness.checkpoint_id.in_([c.id for c in rows]))):
        witnessed.setdefault(cid, []).append(name)
    return [CheckpointRow(c.id, c.seq, c.head_hash, c.reason, c.made_at, c.key_id, c.note,
                          witnessed.get(c.id, [])) for c in rows]


__all__ = ["CheckpointRow", "LiveVerification", "checkpoint_notes", "decision_records", "latest_checkpoints",
           "make_pack", "notes", "verify_live", "witness_keys"]
